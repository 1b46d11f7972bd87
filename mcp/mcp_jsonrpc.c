/*
 * mcp_jsonrpc.c - JSON-RPC 2.0 framing for MCP: decoding one untrusted
 * message into a request, notification or response, and printing the
 * messages the engine sends.
 *
 * The bytes go through json_parse() (size, depth, UTF-8, duplicate keys),
 * then the shape is checked strictly, because everything after this
 * trusts it: "jsonrpc" is exactly "2.0"; an id is a string of at most
 * MCP_ID_MAX bytes or an integer exact in a double (never null, a
 * fraction or a boolean); a method is a non-empty string; a message with a
 * method carries no result or error, and a notifications/... method
 * carries no id (MCP: notifications never have one); a response carries
 * exactly one of result and error, an error being {code: integer,
 * message: string}; an error response may have a null id (a peer's
 * answer to something it could not parse). Batches (top-level arrays) are
 * gone from MCP since 2025-06-18 and are refused with -32600.
 *
 * params must be an object when present. An array is valid JSON-RPC
 * (by-position parameters) but never valid MCP, so it is -32602 invalid
 * params; anything else (null, a string, a number) is not valid JSON-RPC
 * at all and is -32600.
 *
 * Return codes of mcp_decode: ZT_ERR_INVALID for bytes that are not JSON
 * (-32700), ZT_ERR_TOO_LARGE for a message over MCP_MSG_MAX or nested
 * deeper than MCP_JSON_DEPTH (-32600), ZT_ERR_PROTOCOL for JSON that is not
 * one valid message (-32600 or -32602), ZT_ERR_NOMEM.
 */
#include "mcp/mcp.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp_int.h"

int mcp_id_valid(const cJSON *v)
{
	double d;

	if (v == NULL) {
		return 0;
	}
	if (cJSON_IsString(v)) {
		return v->valuestring != NULL && strlen(v->valuestring) <= MCP_ID_MAX;
	}
	if (!cJSON_IsNumber(v)) {
		return 0;
	}
	d = v->valuedouble;
	return isfinite(d) && d >= -(double)MCP_INT_EXACT_MAX && d <= (double)MCP_INT_EXACT_MAX &&
	    (double)(int64_t)d == d;
}

cJSON *mcp_id_dup(const cJSON *id)
{
	char num[32];
	double d;

	if (id == NULL || cJSON_IsNull(id)) {
		return cJSON_CreateNull();
	}
	if (cJSON_IsNumber(id)) {
		d = id->valuedouble;
		/* cJSON would print 1e+15 for 10^15; an id must come back as
		 * the client wrote it, so integers are printed by hand. */
		if (isfinite(d) && d >= -(double)MCP_INT_EXACT_MAX &&
		    d <= (double)MCP_INT_EXACT_MAX && (double)(int64_t)d == d) {
			snprintf(num, sizeof(num), "%" PRId64, (int64_t)d);
			return cJSON_CreateRaw(num);
		}
		return cJSON_CreateNumber(d);
	}
	return cJSON_Duplicate(id, 1);
}

/* The canonical text of a numeric id, whether a cJSON number or the raw
 * text mcp_id_dup() keeps integers as; 0 or ZT_ERR_INVALID. */
static int id_number_text(const cJSON *v, char out[32])
{
	if (cJSON_IsRaw(v) && v->valuestring != NULL && strlen(v->valuestring) < 32) {
		snprintf(out, 32, "%s", v->valuestring);
		return 0;
	}
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    (double)(int64_t)v->valuedouble == v->valuedouble) {
		snprintf(out, 32, "%" PRId64, (int64_t)v->valuedouble);
		return 0;
	}
	return ZT_ERR_INVALID;
}

int mcp_id_equal(const cJSON *a, const cJSON *b)
{
	char ta[32], tb[32];

	if (a == NULL || b == NULL) {
		return 0;
	}
	if (cJSON_IsString(a) && cJSON_IsString(b)) {
		return strcmp(a->valuestring, b->valuestring) == 0;
	}
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		return a->valuedouble == b->valuedouble;
	}
	/* Integer ids are kept as raw text by mcp_id_dup(). */
	return id_number_text(a, ta) == 0 && id_number_text(b, tb) == 0 && strcmp(ta, tb) == 0;
}

/* A new {"jsonrpc":"2.0"} with "id" copied when id_present. */
static cJSON *rpc_envelope(const cJSON *id, int id_present)
{
	cJSON *o = NULL, *idc = NULL;

	if ((o = cJSON_CreateObject()) == NULL) {
		return NULL;
	}
	if (cJSON_AddStringToObject(o, "jsonrpc", "2.0") == NULL) {
		goto fail;
	}
	if (id_present) {
		if ((idc = mcp_id_dup(id)) == NULL) {
			goto fail;
		}
		cJSON_AddItemToObject(o, "id", idc);
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* Prints and frees o. */
static char *rpc_print(cJSON *o)
{
	char *s = NULL;

	if (o != NULL) {
		s = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
	}
	return s;
}

char *mcp_error_json(const cJSON *id, int code, const char *message, const cJSON *data)
{
	cJSON *o = NULL, *err = NULL, *d = NULL;

	if ((o = rpc_envelope(id, 1)) == NULL) {
		return NULL;
	}
	if ((err = cJSON_AddObjectToObject(o, "error")) == NULL ||
	    cJSON_AddNumberToObject(err, "code", code) == NULL ||
	    cJSON_AddStringToObject(err, "message", message != NULL ? message : "") == NULL) {
		goto fail;
	}
	if (data != NULL) {
		if ((d = cJSON_Duplicate(data, 1)) == NULL) {
			goto fail;
		}
		cJSON_AddItemToObject(err, "data", d);
	}
	return rpc_print(o);
fail:
	cJSON_Delete(o);
	return NULL;
}

char *mcp_notification_json(const char *method, cJSON *params)
{
	cJSON *o = NULL;

	if (method == NULL || (o = rpc_envelope(NULL, 0)) == NULL) {
		cJSON_Delete(params);
		return NULL;
	}
	if (cJSON_AddStringToObject(o, "method", method) == NULL) {
		cJSON_Delete(params);
		cJSON_Delete(o);
		return NULL;
	}
	if (params != NULL) {
		cJSON_AddItemToObject(o, "params", params);
	}
	return rpc_print(o);
}

char *mcp_response_json(const cJSON *id, cJSON *result)
{
	cJSON *o = NULL;

	if (result == NULL || (o = rpc_envelope(id, 1)) == NULL) {
		cJSON_Delete(result);
		return NULL;
	}
	cJSON_AddItemToObject(o, "result", result);
	return rpc_print(o);
}

char *mcp_request_json(int64_t id, const char *method, cJSON *params)
{
	cJSON *o = NULL, *idv = NULL;
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, id);
	if ((idv = cJSON_CreateRaw(num)) == NULL) {
		cJSON_Delete(params);
		return NULL;
	}
	if ((o = rpc_envelope(NULL, 0)) == NULL) {
		cJSON_Delete(idv);
		cJSON_Delete(params);
		return NULL;
	}
	cJSON_AddItemToObject(o, "id", idv);
	if (cJSON_AddStringToObject(o, "method", method) == NULL) {
		cJSON_Delete(params);
		cJSON_Delete(o);
		return NULL;
	}
	if (params != NULL) {
		cJSON_AddItemToObject(o, "params", params);
	}
	return rpc_print(o);
}

void mcp_msg_clear(struct mcp_msg *m)
{
	if (m == NULL) {
		return;
	}
	cJSON_Delete(m->root);
	memset(m, 0, sizeof(*m));
}

/* 1 if error is {code: integer, message: string, ...}. */
static int rpc_error_valid(const cJSON *error)
{
	const cJSON *code = NULL, *msg = NULL;

	if (!cJSON_IsObject(error)) {
		return 0;
	}
	code = cJSON_GetObjectItemCaseSensitive(error, "code");
	msg = cJSON_GetObjectItemCaseSensitive(error, "message");
	return code != NULL && cJSON_IsNumber(code) && mcp_id_valid(code) &&
	    cJSON_IsString(msg);
}

/* The shape checks of mcp_decode over a parsed object. 0, or sets *code
 * and *why and returns ZT_ERR_PROTOCOL. */
static int rpc_check(cJSON *root, struct mcp_msg *out, int *code, const char **why)
{
	const cJSON *jv = NULL, *id = NULL, *method = NULL, *params = NULL;
	const cJSON *result = NULL, *error = NULL;
	int has_id;

	*code = MCP_ERR_INVALID_REQUEST;
	jv = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	params = cJSON_GetObjectItemCaseSensitive(root, "params");
	result = cJSON_GetObjectItemCaseSensitive(root, "result");
	error = cJSON_GetObjectItemCaseSensitive(root, "error");
	has_id = id != NULL;

	if (!cJSON_IsString(jv) || strcmp(jv->valuestring, "2.0") != 0) {
		*why = "jsonrpc must be \"2.0\"";
		return ZT_ERR_PROTOCOL;
	}
	if (method != NULL) {
		if (!cJSON_IsString(method) || method->valuestring[0] == '\0') {
			*why = "method must be a non-empty string";
			return ZT_ERR_PROTOCOL;
		}
		if (strlen(method->valuestring) > MCP_METHOD_MAX) {
			*why = "method name too long";
			return ZT_ERR_PROTOCOL;
		}
		if (result != NULL || error != NULL) {
			*why = "a request must not carry result or error";
			return ZT_ERR_PROTOCOL;
		}
		if (has_id && !mcp_id_valid(id)) {
			*why = "id must be a string or an integer";
			return ZT_ERR_PROTOCOL;
		}
		if (has_id && strncmp(method->valuestring, "notifications/", 14) == 0) {
			*why = "a notification must not carry an id";
			return ZT_ERR_PROTOCOL;
		}
		if (params != NULL && !cJSON_IsObject(params)) {
			if (cJSON_IsArray(params)) {
				*code = MCP_ERR_INVALID_PARAMS;
			}
			*why = "params must be an object";
			return ZT_ERR_PROTOCOL;
		}
		out->kind = has_id ? MCP_REQUEST : MCP_NOTIFICATION;
		out->id = has_id ? id : NULL;
		out->method = method->valuestring;
		out->params = params;
		return 0;
	}
	if (!has_id) {
		*why = "a message needs a method or an id";
		return ZT_ERR_PROTOCOL;
	}
	if ((result != NULL) == (error != NULL)) {
		*why = "a response must carry exactly one of result and error";
		return ZT_ERR_PROTOCOL;
	}
	if (error != NULL && !rpc_error_valid(error)) {
		*why = "error must be an object with an integer code and a string message";
		return ZT_ERR_PROTOCOL;
	}
	if (!mcp_id_valid(id) && !(error != NULL && cJSON_IsNull(id))) {
		*why = "id must be a string or an integer";
		return ZT_ERR_PROTOCOL;
	}
	out->kind = MCP_RESPONSE;
	out->id = cJSON_IsNull(id) ? NULL : id;
	out->result = result;
	out->error = error;
	return 0;
}

int mcp_decode(const void *p, size_t n, struct mcp_msg *out, char **error_json)
{
	cJSON *root = NULL;
	const cJSON *id = NULL;
	const char *why = NULL;
	int r, code = MCP_ERR_INVALID_REQUEST;

	if (out == NULL || error_json == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	*error_json = NULL;
	if (n > MCP_MSG_MAX) {
		why = "message too large";
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	r = json_parse(p, n, MCP_MSG_MAX, MCP_JSON_DEPTH, &root);
	if (r == ZT_ERR_TOO_LARGE) {
		why = "message nested too deeply";
		goto out;
	}
	if (r == ZT_ERR_NOMEM) {
		goto out;
	}
	if (r != 0) {
		code = MCP_ERR_PARSE;
		why = "Parse error";
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (cJSON_IsArray(root)) {
		why = "batches are not supported";
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		why = "a message must be a JSON object";
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!mcp_id_valid(id)) {
		id = NULL;
	}
	if ((r = rpc_check(root, out, &code, &why)) != 0) {
		goto out;
	}
	out->root = root;
	root = NULL;
	r = 0;
out:
	if (r != 0) {
		memset(out, 0, sizeof(*out));
		if (why != NULL) {
			*error_json = mcp_error_json(id, code, why, NULL);
		}
	}
	cJSON_Delete(root);
	return r;
}
