/*
 * mcp_stateless_test.c - unit tests for the stateless era of the MCP
 * engine (mcp/mcp_stateless.c): the checks of a 2026-07-28 request in the
 * revision's order, each with its code and HTTP status; what its results
 * carry; a multi round-trip call with its sealed requestState, and every
 * way a state fails (changed, another identity's) reaching the refusal
 * hook; and tools/list_changed reaching a session of the old era.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "mcp/mcp.h"

#define META "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"
#define SCHEMA "{\"type\":\"object\"}"

static const struct mcp_identity alice = { "user", "alice", "ops", "127.0.0.1", "" };
static const struct mcp_identity bob = { "user", "bob", "ops", "127.0.0.1", "" };

/* The last message a sink got (owned). */
static int keep_last(void *arg, const char *json)
{
	cJSON **last = arg;

	cJSON_Delete(*last);
	*last = cJSON_Parse(json);
	return *last != NULL ? 0 : ZT_ERR_NOMEM;
}

static int tool_ask(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *reqs = NULL;

	(void)args;
	(void)arg;
	if (mcp_call_input(call, "k") != NULL && mcp_call_state(call) != NULL) {
		*result = mcp_result_new(0);
		return mcp_result_add_text(*result, "answered");
	}
	reqs = cJSON_Parse("{\"k\":{\"method\":\"roots/list\",\"params\":{}}}");
	return mcp_result_input_required(call, reqs, cJSON_Parse("{\"round\":1}"), result);
}

static int tool_plain(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	*result = mcp_result_new(0);
	return mcp_result_add_text(*result, "plain");
}

static int refusals;
static char last_why[64];

static void refused_state(struct mcp_call *call, const char *why, void *arg)
{
	(void)call;
	(void)arg;
	refusals++;
	snprintf(last_why, sizeof(last_why), "%s", why);
}

static struct mcp_server *server(void)
{
	struct mcp_server *srv = mcp_server_new("t", "1", NULL);
	struct mcp_tool t;

	assert_non_null(srv);
	memset(&t, 0, sizeof(t));
	t.description = "d";
	t.input_schema = SCHEMA;
	t.name = "ask";
	t.handler = tool_ask;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	t.name = "needs_sampling";
	t.requires = "{\"sampling\":{}}";
	t.handler = tool_plain;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	mcp_server_set_refused_state(srv, refused_state, NULL);
	return srv;
}

/* mcp_stateless_check() of json with headers (version, method, name):
 * the JSON-RPC error code (0: passed) and *status. */
static int check(struct mcp_server *srv, const char *json, const char *version,
    const char *method, const char *name, int *status)
{
	struct mcp_headers h = { version, method, name, NULL, NULL };
	struct mcp_msg m;
	char *err = NULL, *derr = NULL;
	cJSON *e = NULL;
	int r, code = 0;

	assert_int_equal(mcp_decode(json, strlen(json), &m, &derr), 0);
	r = mcp_stateless_check(srv, &alice, &m, &h, &err, status);
	if (r != 0) {
		assert_non_null(err);
		e = cJSON_Parse(err);
		code = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "error"), "code")->valueint;
		/* Every refusal names the request it refuses. */
		assert_true(cJSON_IsNumber(cJSON_GetObjectItem(e, "id")));
		cJSON_Delete(e);
		free(err);
	}
	mcp_msg_clear(&m);
	return code;
}

static void test_checks_in_order(void **state)
{
	struct mcp_server *srv = server();
	int st = 0;

	(void)state;
	/* No _meta: -32602 and 400, whatever the headers say. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\","
	    "\"params\":{}}", "2026-07-28", "server/discover", NULL, &st), -32602);
	assert_int_equal(st, 400);
	/* The header must say the _meta's version. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\","
	    "\"params\":{" META "}}", "2025-11-25", "server/discover", NULL, &st), -32020);
	assert_int_equal(st, 400);
	/* An unknown version, said both ways. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"server/discover\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"v9\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}", "v9", "server/discover", NULL,
	    &st), -32022);
	assert_int_equal(st, 400);
	/* A method of the old era only: 404. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\","
	    "\"params\":{" META "}}", "2026-07-28", "ping", NULL, &st), -32601);
	assert_int_equal(st, 404);
	/* Mcp-Method and Mcp-Name must say what the body says. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\"," META "}}", "2026-07-28", "tools/list", "ask", &st),
	    -32020);
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\"," META "}}", "2026-07-28", "tools/call", "needs_sampling",
	    &st), -32020);
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\"," META "}}", "2026-07-28", "tools/call", NULL, &st),
	    -32020);
	/* Optional whitespace around a header value is not part of it. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\"," META "}}", "2026-07-28", "tools/call", " \task ", &st),
	    0);
	/* A tool's required capability. */
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"needs_sampling\"," META "}}", "2026-07-28", "tools/call",
	    "needs_sampling", &st), -32021);
	assert_int_equal(st, 400);
	assert_int_equal(check(srv, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"needs_sampling\",\"_meta\":{\"io.modelcontextprotocol/"
	    "protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":"
	    "{\"sampling\":{}}}}}", "2026-07-28", "tools/call", "needs_sampling", &st), 0);
	mcp_server_free(srv);
}

/* Runs json as a stateless request of who; the response (owned). */
static cJSON *run(struct mcp_server *srv, const struct mcp_identity *who, const char *json)
{
	cJSON *last = NULL;
	struct mcp_sink sink = { keep_last, NULL, &last };
	struct mcp_session *s = NULL;
	struct mcp_msg m;
	char *err = NULL;

	assert_int_equal(mcp_decode(json, strlen(json), &m, &err), 0);
	s = mcp_session_stateless(srv, who, &m);
	assert_non_null(s);
	assert_int_equal(mcp_session_dispatch(s, who, &m, &sink), 0);
	mcp_session_unref(s);
	mcp_msg_clear(&m);
	assert_non_null(last);
	return last;
}

static void test_results_carry_their_hints(void **state)
{
	struct mcp_server *srv = server();
	cJSON *r = NULL, *res = NULL;

	(void)state;
	mcp_server_set_cache(srv, 60000, 0);
	r = run(srv, &alice, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{" META "}}");
	res = cJSON_GetObjectItem(r, "result");
	assert_string_equal(cJSON_GetObjectItem(res, "resultType")->valuestring, "complete");
	assert_int_equal(cJSON_GetObjectItem(res, "ttlMs")->valueint, 60000);
	assert_string_equal(cJSON_GetObjectItem(res, "cacheScope")->valuestring, "private");
	cJSON_Delete(r);
	r = run(srv, &alice, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\","
	    "\"params\":{" META "}}");
	res = cJSON_GetObjectItem(r, "result");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "supportedVersions"), 0)
	    ->valuestring, "2026-07-28");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(res,
	    "_meta"), "io.modelcontextprotocol/serverInfo"), "name")->valuestring, "t");
	assert_non_null(cJSON_GetObjectItem(res, "ttlMs"));
	cJSON_Delete(r);
	mcp_server_free(srv);
}

static void test_rounds_and_their_state(void **state)
{
	struct mcp_server *srv = server();
	cJSON *r = NULL, *res = NULL;
	char json[4096], *st = NULL;

	(void)state;
	refusals = 0;
	r = run(srv, &alice, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"arguments\":{\"a\":1}," META "}}");
	res = cJSON_GetObjectItem(r, "result");
	assert_string_equal(cJSON_GetObjectItem(res, "resultType")->valuestring, "input_required");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "inputRequests"), "k"));
	st = strdup(cJSON_GetObjectItem(res, "requestState")->valuestring);
	cJSON_Delete(r);
	/* The answer with the state: the call completes. */
	snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"arguments\":{\"a\":1},\"inputResponses\":{\"k\":"
	    "{\"roots\":[]}},\"requestState\":\"%s\"," META "}}", st);
	r = run(srv, &alice, json);
	res = cJSON_GetObjectItem(r, "result");
	assert_string_equal(cJSON_GetObjectItem(res, "resultType")->valuestring, "complete");
	cJSON_Delete(r);
	assert_int_equal(refusals, 0);
	/* Changed, another identity's, another request's: -32602, each to the hook. */
	snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"arguments\":{\"a\":1},\"inputResponses\":{\"k\":"
	    "{\"roots\":[]}},\"requestState\":\"%s-TAMPERED\"," META "}}", st);
	r = run(srv, &alice, json);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code")->valueint,
	    -32602);
	cJSON_Delete(r);
	assert_int_equal(refusals, 1);
	assert_string_equal(last_why, "forged or malformed");
	snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"arguments\":{\"a\":1},\"inputResponses\":{\"k\":"
	    "{\"roots\":[]}},\"requestState\":\"%s\"," META "}}", st);
	r = run(srv, &bob, json);
	assert_non_null(cJSON_GetObjectItem(r, "error"));
	cJSON_Delete(r);
	assert_int_equal(refusals, 2);
	assert_string_equal(last_why, "issued to another identity");
	snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"arguments\":{\"a\":2},\"inputResponses\":{\"k\":"
	    "{\"roots\":[]}},\"requestState\":\"%s\"," META "}}", st);
	r = run(srv, &alice, json);
	assert_non_null(cJSON_GetObjectItem(r, "error"));
	cJSON_Delete(r);
	assert_int_equal(refusals, 3);
	assert_string_equal(last_why, "issued for another request");
	/* inputResponses that are not answers: refused before the tool. */
	r = run(srv, &alice, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"inputResponses\":{\"k\":12}," META "}}");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code")->valueint,
	    -32602);
	cJSON_Delete(r);
	free(st);
	mcp_server_free(srv);
}

static void test_tools_changed_reaches_old_sessions(void **state)
{
	struct mcp_server *srv = server();
	cJSON *last = NULL, *stream_last = NULL;
	struct mcp_sink sink = { keep_last, NULL, &last };
	struct mcp_sink stream = { keep_last, NULL, &stream_last };
	struct mcp_session *s = mcp_session_new(srv, &alice);
	const char *init = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"t\",\"version\":\"1\"}}}";
	const char *inited = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
	struct mcp_msg m;
	char *err = NULL;

	(void)state;
	assert_int_equal(mcp_decode(init, strlen(init), &m, &err), 0);
	assert_int_equal(mcp_session_dispatch(s, &alice, &m, &sink), 0);
	mcp_msg_clear(&m);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(last, "result"), "capabilities"), "tools"), "listChanged")));
	mcp_session_set_stream(s, &stream);
	mcp_server_tools_changed(srv);
	assert_null(stream_last); /* not initialized yet */
	assert_int_equal(mcp_decode(inited, strlen(inited), &m, &err), 0);
	assert_int_equal(mcp_session_dispatch(s, &alice, &m, NULL), 0);
	mcp_msg_clear(&m);
	mcp_server_tools_changed(srv);
	assert_non_null(stream_last);
	assert_string_equal(cJSON_GetObjectItem(stream_last, "method")->valuestring,
	    "notifications/tools/list_changed");
	mcp_session_set_stream(s, NULL);
	mcp_session_close(s);
	mcp_session_unref(s);
	cJSON_Delete(last);
	cJSON_Delete(stream_last);
	mcp_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_in_order),
		cmocka_unit_test(test_results_carry_their_hints),
		cmocka_unit_test(test_rounds_and_their_state),
		cmocka_unit_test(test_tools_changed_reaches_old_sessions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
