/*
 * fuzz/mcp_session.c - libFuzzer harness for the MCP engine's dispatch
 * (mcp/mcp_session.c, mcp_methods.c, mcp_call.c).
 *
 * Each input gets a fresh session on a server with a few trivial tools, a
 * resource provider, a prompt and a completion hook, so that every method
 * is reachable. A fixed initialize goes first; then the input is split on
 * '\n' into at most 8 messages, each decoded and dispatched through a sink
 * that checks that everything the engine sends is valid JSON and that
 * every request got exactly one response (none when decoding refused it).
 * Each message is also tried as a request of the stateless era
 * (2026-07-28, mcp_stateless.c): its headers taken from its own body, the
 * checks, then a one-request session; a refusal must be JSON with the
 * request's id. subscriptions/listen is left out (it waits for its client
 * to go away).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MSGS 8

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

struct counts {
	int responses;
	int total;
};

static int sink_send(void *arg, const char *json)
{
	struct counts *c = arg;
	cJSON *v = NULL;

	check(json_parse(json, strlen(json), 2 * MCP_MSG_MAX, MCP_JSON_DEPTH + 8, &v) == 0);
	if (cJSON_GetObjectItemCaseSensitive(v, "method") == NULL) {
		check(cJSON_GetObjectItemCaseSensitive(v, "result") != NULL ||
		    cJSON_GetObjectItemCaseSensitive(v, "error") != NULL);
		c->responses++;
	}
	c->total++;
	cJSON_Delete(v);
	return 0;
}

static void sink_close(void *arg, int retry_ms)
{
	(void)arg;
	(void)retry_ms;
}

static int tool_echo(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	char *s = NULL;
	int r;

	(void)call;
	(void)arg;
	if ((s = cJSON_PrintUnformatted(args)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	*result = mcp_result_new(0);
	r = mcp_result_add_text(*result, s);
	free(s);
	return r;
}

static int tool_busy(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *answer = NULL;
	int r;

	(void)arg;
	mcp_call_progress(call, 1, 2, "half");
	mcp_call_log(call, "warning", "fuzz", cJSON_Duplicate(args, 1));
	mcp_call_log(call, "debug", NULL, NULL);
	if (mcp_call_sleep(call, 0) != 0 || mcp_call_cancelled(call)) {
		return ZT_ERR_CANCELLED;
	}
	/* Nobody answers in this single thread: a 1 ms timeout. */
	if (mcp_call_client_supports(call, "elicitation.form")) {
		r = mcp_call_request(call, "elicitation/create", cJSON_CreateObject(), 1, &answer);
		cJSON_Delete(answer);
		check(r == ZT_ERR_TIMEOUT);
	}
	mcp_call_close_stream(call, 10);
	*result = mcp_result_error("call %s done", mcp_call_id(call));
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* Asks for "k" with a sealed state, and answers once "k" came back. */
static int tool_ask(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)args;
	(void)arg;
	if (mcp_call_input(call, "k") != NULL && mcp_call_state(call) != NULL) {
		*result = mcp_result_error("answered");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	return mcp_result_input_required(call, cJSON_Parse("{\"k\":{\"method\":\"roots/list\"}}"),
	    cJSON_Parse("{\"n\":1}"), result);
}

static int tool_fail(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	*result = NULL;
	return ZT_ERR_IO;
}

static int hidden(const struct mcp_identity *who, void *arg)
{
	(void)who;
	(void)arg;
	return 0;
}

static int res_list(struct mcp_call *call, cJSON *resources, void *arg)
{
	cJSON *r = cJSON_CreateObject();

	(void)call;
	(void)arg;
	cJSON_AddStringToObject(r, "uri", "fuzz://a");
	cJSON_AddStringToObject(r, "name", "a");
	cJSON_AddItemToArray(resources, r);
	return 0;
}

static int res_templates(struct mcp_call *call, cJSON *templates, void *arg)
{
	cJSON *t = cJSON_CreateObject();

	(void)call;
	(void)arg;
	cJSON_AddStringToObject(t, "uriTemplate", "fuzz://t/{x}");
	cJSON_AddStringToObject(t, "name", "t");
	cJSON_AddItemToArray(templates, t);
	return 0;
}

static int res_read(struct mcp_call *call, const char *uri, cJSON *contents, void *arg)
{
	cJSON *c = NULL;

	(void)call;
	(void)arg;
	if (strncmp(uri, "fuzz://", 7) != 0) {
		return ZT_ERR_NOT_FOUND;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "uri", uri);
	cJSON_AddStringToObject(c, "text", "x");
	cJSON_AddItemToArray(contents, c);
	return 0;
}

static int prompt_get(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)arg;
	if (cJSON_GetObjectItemCaseSensitive(args, "bad") != NULL) {
		return ZT_ERR_INVALID;
	}
	*result = cJSON_Parse("{\"messages\":[]}");
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

static int complete(struct mcp_call *call, const cJSON *ref, const cJSON *argument,
    const cJSON *context, cJSON **completion, void *arg)
{
	cJSON *values = NULL;
	int i;

	(void)call;
	(void)ref;
	(void)context;
	(void)arg;
	*completion = cJSON_CreateObject();
	values = cJSON_AddArrayToObject(*completion, "values");
	for (i = 0; i < 3; i++) {
		cJSON_AddItemToArray(values, cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(argument, "value"), 1));
	}
	return 0;
}

static struct mcp_server *server(void)
{
	static struct mcp_server *srv;
	struct mcp_tool t;
	struct mcp_resource_provider rp;
	struct mcp_prompt p;

	if (srv != NULL) {
		return srv;
	}
	srv = mcp_server_new("fuzz", "1", "fuzzing");
	check(srv != NULL);
	mcp_server_set_page_size(srv, 2);
	memset(&t, 0, sizeof(t));
	t.description = "d";
	t.input_schema = "{\"type\":\"object\"}";
	t.name = "echo";
	t.handler = tool_echo;
	check(mcp_server_add_tool(srv, &t) == 0);
	t.name = "busy";
	t.handler = tool_busy;
	t.title = "Busy";
	t.output_schema = "{\"type\":\"object\"}";
	t.annotations = "{\"readOnlyHint\":true}";
	check(mcp_server_add_tool(srv, &t) == 0);
	t.name = "fail";
	t.handler = tool_fail;
	check(mcp_server_add_tool(srv, &t) == 0);
	t.name = "ask";
	t.handler = tool_ask;
	t.requires = "{\"roots\":{}}";
	t.input_schema = "{\"type\":\"object\",\"properties\":{\"r\":{\"type\":\"string\","
	    "\"x-mcp-header\":\"R\"}}}";
	check(mcp_server_add_tool(srv, &t) == 0);
	t.requires = NULL;
	t.input_schema = "{\"type\":\"object\"}";
	t.name = "hidden";
	t.handler = tool_fail;
	t.visible = hidden;
	check(mcp_server_add_tool(srv, &t) == 0);
	memset(&rp, 0, sizeof(rp));
	rp.list = res_list;
	rp.templates = res_templates;
	rp.read = res_read;
	check(mcp_server_add_resources(srv, &rp) == 0);
	memset(&p, 0, sizeof(p));
	p.name = "greet";
	p.description = "d";
	p.arguments = "[{\"name\":\"who\",\"required\":true}]";
	p.get = prompt_get;
	check(mcp_server_add_prompt(srv, &p) == 0);
	mcp_server_set_completion(srv, complete, NULL);
	return srv;
}

static const char INIT[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"elicitation\":{}},"
    "\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}";

/* Decodes and dispatches one message; checks the response count. */
static void feed(struct mcp_session *s, const struct mcp_identity *who, const uint8_t *p,
    size_t n)
{
	struct counts c = { 0, 0 };
	struct mcp_sink sink = { sink_send, sink_close, &c };
	struct mcp_msg m;
	char *err = NULL;

	if (mcp_decode(p, n, &m, &err) != 0) {
		free(err);
		return;
	}
	check(mcp_session_dispatch(s, who, &m, &sink) == 0);
	/* Single-threaded, nothing is ever cancelled mid-call: every request
	 * gets exactly one response and nothing else does. */
	check(c.responses == (m.kind == MCP_REQUEST ? 1 : 0));
	mcp_msg_clear(&m);
}

/* The Mcp-Param-R header: the body's arguments.r, so both ways are tried. */
static const char *param_header(void *arg, const char *name)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(arg, "arguments");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(a, "r");

	return strcmp(name, "Mcp-Param-R") == 0 && cJSON_IsString(r) ? r->valuestring : NULL;
}

/* The message p[0..n) as a stateless request: checked, then dispatched on
 * a session of its own. */
static void feed_stateless(const struct mcp_identity *who, const uint8_t *p, size_t n)
{
	struct counts c = { 0, 0 };
	struct mcp_sink sink = { sink_send, sink_close, &c };
	struct mcp_headers h = { NULL, NULL, NULL, param_header, NULL };
	const cJSON *meta = NULL, *v = NULL, *nm = NULL;
	struct mcp_session *s = NULL;
	struct mcp_msg m;
	char *err = NULL;
	int status = 0;
	cJSON *e = NULL;

	if (mcp_decode(p, n, &m, &err) != 0) {
		free(err);
		return;
	}
	if (m.kind != MCP_REQUEST || strcmp(m.method, "subscriptions/listen") == 0) {
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(m.params, "_meta");
	v = cJSON_GetObjectItemCaseSensitive(meta, "io.modelcontextprotocol/protocolVersion");
	h.version = cJSON_IsString(v) ? v->valuestring : NULL;
	h.method = m.method;
	nm = cJSON_GetObjectItemCaseSensitive(m.params, "name");
	if (!cJSON_IsString(nm)) {
		nm = cJSON_GetObjectItemCaseSensitive(m.params, "uri");
	}
	h.name = cJSON_IsString(nm) ? nm->valuestring : NULL;
	h.param_arg = (void *)m.params;
	if (mcp_stateless_check(server(), who, &m, &h, &err, &status) != 0) {
		check(err != NULL && status >= 400 && status < 500);
		check(json_parse(err, strlen(err), 2 * MCP_MSG_MAX, MCP_JSON_DEPTH + 8, &e) == 0);
		check(cJSON_GetObjectItemCaseSensitive(e, "error") != NULL);
		cJSON_Delete(e);
		free(err);
		goto out;
	}
	s = mcp_session_stateless(server(), who, &m);
	check(s != NULL);
	check(mcp_session_dispatch(s, who, &m, &sink) == 0);
	check(c.responses == 1);
	mcp_session_close(s);
	mcp_session_unref(s);
out:
	mcp_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mcp_identity who = { "user", "fuzz", "a,b", "192.0.2.1" };
	struct mcp_session *s = NULL;
	const uint8_t *p = data, *nl = NULL, *end = data + size;
	int i;

	s = mcp_session_new(server(), &who);
	check(s != NULL);
	feed(s, &who, (const uint8_t *)INIT, sizeof(INIT) - 1);
	for (i = 0; i < FUZZ_MSGS && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || i == FUZZ_MSGS - 1) {
			nl = end;
		}
		feed(s, &who, p, (size_t)(nl - p));
		feed_stateless(&who, p, (size_t)(nl - p));
		p = nl + 1;
	}
	mcp_server_resource_updated(server(), "fuzz://a");
	mcp_session_close(s);
	mcp_session_unref(s);
	return 0;
}
