/*
 * fuzz/jsonrpc.c - libFuzzer harness for mcp_decode() (mcp/mcp_jsonrpc.c).
 *
 * Decodes the input as one JSON-RPC message and checks the contract both
 * ways: a decoded message has the fields its kind promises (a request an
 * id and a method, a notification a method and no id, a response exactly
 * one of result and error); a refusal leaves nothing owned behind and
 * comes with an error response that is itself valid JSON with one of the
 * codes decoding may give. Whatever id was read must print back into an
 * error response that parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* json must parse as a JSON-RPC error response; returns its code. */
static int error_code(const char *json)
{
	const cJSON *e = NULL, *c = NULL;
	cJSON *v = NULL;
	int code;

	/* An error may carry data as deep as a message, one level down. */
	check(json_parse(json, strlen(json), 2 * MCP_MSG_MAX, MCP_JSON_DEPTH + 4, &v) == 0);
	e = cJSON_GetObjectItemCaseSensitive(v, "error");
	c = cJSON_GetObjectItemCaseSensitive(e, "code");
	check(cJSON_IsNumber(c));
	check(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
	check(cJSON_GetObjectItemCaseSensitive(v, "id") != NULL);
	code = c->valueint;
	cJSON_Delete(v);
	return code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcp_msg m;
	char *err = NULL, *again = NULL;
	int r, code;

	r = mcp_decode(data, size, &m, &err);
	if (r != 0) {
		check(m.root == NULL && m.id == NULL && m.method == NULL);
		if (err != NULL) {
			code = error_code(err);
			check(code == MCP_ERR_PARSE || code == MCP_ERR_INVALID_REQUEST ||
			    code == MCP_ERR_INVALID_PARAMS);
		} else {
			check(r == ZT_ERR_NOMEM);
		}
		free(err);
		return 0;
	}
	check(err == NULL && m.root != NULL);
	switch (m.kind) {
	case MCP_REQUEST:
		check(m.id != NULL && m.method != NULL && m.method[0] != '\0');
		check(strncmp(m.method, "notifications/", 14) != 0);
		check(cJSON_IsString(m.id) || cJSON_IsNumber(m.id));
		check(m.params == NULL || cJSON_IsObject(m.params));
		check(m.result == NULL && m.error == NULL);
		break;
	case MCP_NOTIFICATION:
		check(m.id == NULL && m.method != NULL);
		check(m.params == NULL || cJSON_IsObject(m.params));
		break;
	case MCP_RESPONSE:
		check(m.method == NULL);
		check((m.result == NULL) != (m.error == NULL));
		check(m.id != NULL || m.error != NULL);
		break;
	default:
		check(0);
	}
	again = mcp_error_json(m.id, MCP_ERR_INTERNAL, "x", m.params);
	if (again != NULL) {
		check(error_code(again) == MCP_ERR_INTERNAL);
		free(again);
	}
	mcp_msg_clear(&m);
	check(m.root == NULL);
	return 0;
}
