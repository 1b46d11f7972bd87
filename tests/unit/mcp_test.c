/*
 * mcp_test.c - unit tests for the MCP engine (mcp/): JSON-RPC decoding
 * and its refusals, version negotiation, the lifecycle rules, paging and
 * visibility of tools, tool errors, progress and logging, a server-to-client
 * request answered from another thread, cancellation and session close
 * waking a sleeping call, resources, prompts and completion.
 *
 * Sessions are driven through an in-memory sink that records every message
 * the engine sends; a second thread plays the client where a test needs one
 * while the first is blocked in mcp_session_dispatch().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"

#define SINK_MAX 64

/* ---- the collecting sink ---- */

struct sink_buf {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *msgs[SINK_MAX];
	size_t n;
	int closes;
};

static int sink_send(void *arg, const char *json)
{
	struct sink_buf *b = arg;

	pthread_mutex_lock(&b->mu);
	if (b->n < SINK_MAX) {
		b->msgs[b->n++] = strdup(json);
	}
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return 0;
}

static void sink_close(void *arg, int retry_ms)
{
	struct sink_buf *b = arg;

	(void)retry_ms;
	pthread_mutex_lock(&b->mu);
	b->closes++;
	pthread_mutex_unlock(&b->mu);
}

static void sink_init(struct sink_buf *b, struct mcp_sink *sink)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	sink->send = sink_send;
	sink->close_stream = sink_close;
	sink->arg = b;
}

static void sink_reset(struct sink_buf *b)
{
	size_t i;

	pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->n; i++) {
		free(b->msgs[i]);
		b->msgs[i] = NULL;
	}
	b->n = 0;
	pthread_mutex_unlock(&b->mu);
}

static void sink_fini(struct sink_buf *b)
{
	sink_reset(b);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
}

static cJSON *parse_json(const char *s)
{
	cJSON *v = NULL;

	assert_non_null(s);
	assert_int_equal(json_parse(s, strlen(s), MCP_MSG_MAX, MCP_JSON_DEPTH, &v), 0);
	return v;
}

/* Message i of b, parsed (caller frees). */
static cJSON *sink_msg(struct sink_buf *b, size_t i)
{
	cJSON *v = NULL;

	pthread_mutex_lock(&b->mu);
	assert_true(i < b->n);
	v = parse_json(b->msgs[i]);
	pthread_mutex_unlock(&b->mu);
	return v;
}

static size_t sink_count(struct sink_buf *b)
{
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->n;
	pthread_mutex_unlock(&b->mu);
	return n;
}

/* Waits up to 5 s for a message with method; returns it parsed or NULL. */
static cJSON *sink_wait_method(struct sink_buf *b, const char *method)
{
	struct timespec until;
	cJSON *v = NULL, *m = NULL;
	size_t i = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		for (; i < b->n; i++) {
			v = cJSON_Parse(b->msgs[i]);
			m = cJSON_GetObjectItemCaseSensitive(v, "method");
			if (cJSON_IsString(m) && strcmp(m->valuestring, method) == 0) {
				pthread_mutex_unlock(&b->mu);
				return v;
			}
			cJSON_Delete(v);
		}
		if (pthread_cond_timedwait(&b->cv, &b->mu, &until) != 0) {
			break;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* ---- the server under test ---- */

static const struct mcp_identity anon = { "anonymous", "", "", "", "" };
static const struct mcp_identity admin = { "user", "alice", "admin,ops", "192.0.2.1", "" };

/* What the sleeper tool saw, for the cancellation tests. */
static pthread_mutex_t sleep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cv = PTHREAD_COND_INITIALIZER;
static int sleep_started, sleep_result;

static int tool_echo(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *msg = NULL;

	(void)call;
	(void)arg;
	if (json_get_str(args, "msg", 100, 1, &msg) != 0) {
		*result = mcp_result_error("msg is required");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	*result = mcp_result_new(0);
	return mcp_result_add_text(*result, msg);
}

static int tool_fail(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	*result = mcp_result_error("boom %d", 42);
	return 0;
}

static int tool_crash(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	*result = NULL;
	return ZT_ERR_IO;
}

static int tool_progress(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)args;
	(void)arg;
	assert_int_equal(mcp_call_progress(call, 0, 100, NULL), 0);
	assert_int_equal(mcp_call_progress(call, 50, 100, "half"), 0);
	assert_int_equal(mcp_call_progress(call, 100, -1, NULL), 0);
	assert_int_equal(mcp_call_log(call, "debug", "t", cJSON_CreateString("d")), 0);
	assert_int_equal(mcp_call_log(call, "info", "t", cJSON_CreateString("i")), 0);
	assert_int_equal(mcp_call_log(call, "error", NULL, cJSON_CreateString("e")), 0);
	assert_int_equal(mcp_call_log(call, "loud", NULL, cJSON_CreateString("x")),
	    ZT_ERR_INVALID);
	*result = mcp_result_new(0);
	return mcp_result_add_text(*result, "done");
}

static int tool_ask(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *p = NULL, *answer = NULL;
	const cJSON *action = NULL;
	int64_t timeout = 5000;
	char text[128];
	int r;

	(void)arg;
	json_get_int(args, "timeout", 1, 60000, &timeout);
	if (!mcp_call_client_supports(call, "elicitation.form")) {
		*result = mcp_result_error("client cannot elicit");
		return 0;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "message", "Your name?");
	cJSON_AddItemToObject(p, "requestedSchema", cJSON_Parse(
	    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}"));
	r = mcp_call_request(call, "elicitation/create", p, (int)timeout, &answer);
	if (r == 0) {
		action = cJSON_GetObjectItemCaseSensitive(answer, "action");
		snprintf(text, sizeof(text), "action=%s",
		    cJSON_IsString(action) ? action->valuestring : "?");
	} else {
		snprintf(text, sizeof(text), "failed: %s", zt_strerror(r));
	}
	cJSON_Delete(answer);
	*result = mcp_result_new(r != 0);
	return mcp_result_add_text(*result, text);
}

static int tool_sleeper(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	int r;

	(void)args;
	(void)arg;
	assert_false(mcp_call_cancelled(call));
	pthread_mutex_lock(&sleep_mu);
	sleep_started = 1;
	pthread_cond_broadcast(&sleep_cv);
	pthread_mutex_unlock(&sleep_mu);
	r = mcp_call_sleep(call, 10000);
	pthread_mutex_lock(&sleep_mu);
	sleep_result = r;
	pthread_mutex_unlock(&sleep_mu);
	if (r != 0) {
		assert_true(mcp_call_cancelled(call));
		return r;
	}
	*result = mcp_result_new(0);
	return 0;
}

static int tool_reconnect(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)args;
	(void)arg;
	mcp_call_close_stream(call, 100);
	*result = mcp_result_new(0);
	return mcp_result_add_text(*result, mcp_call_id(call));
}

static int only_admin(const struct mcp_identity *who, void *arg)
{
	(void)arg;
	return strcmp(who->kind, "user") == 0 && strstr(who->roles, "admin") != NULL;
}

static int res_list(struct mcp_call *call, cJSON *resources, void *arg)
{
	cJSON *r = NULL;

	(void)call;
	(void)arg;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "uri", "test://a");
	cJSON_AddStringToObject(r, "name", "a");
	cJSON_AddItemToArray(resources, r);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "uri", "test://b");
	cJSON_AddStringToObject(r, "name", "b");
	cJSON_AddItemToArray(resources, r);
	return 0;
}

static int res_templates(struct mcp_call *call, cJSON *templates, void *arg)
{
	cJSON *t = NULL;

	(void)call;
	(void)arg;
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "uriTemplate", "test://t/{id}");
	cJSON_AddStringToObject(t, "name", "t");
	cJSON_AddItemToArray(templates, t);
	return 0;
}

static int res_read(struct mcp_call *call, const char *uri, cJSON *contents, void *arg)
{
	cJSON *c = NULL;

	(void)call;
	(void)arg;
	if (strcmp(uri, "test://a") != 0) {
		return ZT_ERR_NOT_FOUND;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "uri", uri);
	cJSON_AddStringToObject(c, "mimeType", "text/plain");
	cJSON_AddStringToObject(c, "text", "hello a");
	cJSON_AddItemToArray(contents, c);
	return 0;
}

static int prompt_greet(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *name = NULL;
	char text[128];

	(void)call;
	(void)arg;
	if (json_get_str(args, "name", 64, 0, &name) != 0) {
		return ZT_ERR_INVALID;
	}
	snprintf(text, sizeof(text), "Hello, %s", name);
	*result = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":"
	    "{\"type\":\"text\",\"text\":\"\"}}]}");
	cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(*result, "messages"), 0), "content"),
	    "text"), text);
	return 0;
}

static int complete(struct mcp_call *call, const cJSON *ref, const cJSON *argument,
    const cJSON *context, cJSON **completion, void *arg)
{
	static const char *const words[] = { "paris", "park", "party", "zebra" };
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(argument, "value");
	cJSON *values = NULL;
	size_t i;
	int k;

	(void)call;
	(void)ref;
	(void)context;
	(void)arg;
	*completion = cJSON_CreateObject();
	values = cJSON_AddArrayToObject(*completion, "values");
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strncmp(words[i], value->valuestring, strlen(value->valuestring)) == 0) {
			cJSON_AddItemToArray(values, cJSON_CreateString(words[i]));
		}
	}
	/* "many" asks for more than one answer may hold. */
	if (strcmp(value->valuestring, "many") == 0) {
		for (k = 0; k < 150; k++) {
			cJSON_AddItemToArray(values, cJSON_CreateString("x"));
		}
	}
	return 0;
}

static const char *const SCHEMA = "{\"type\":\"object\"}";

static struct mcp_server *server_new(void)
{
	static const char *const names[] = { "a_echo", "b_fail", "c_crash", "d_progress" };
	int (*handlers[])(struct mcp_call *, const cJSON *, cJSON **, void *) = {
		tool_echo, tool_fail, tool_crash, tool_progress
	};
	struct mcp_server *srv = NULL;
	struct mcp_tool t;
	struct mcp_resource_provider rp;
	struct mcp_prompt p;
	size_t i;

	srv = mcp_server_new("zt-test", "0.1", "be nice");
	assert_non_null(srv);
	for (i = 0; i < 4; i++) {
		memset(&t, 0, sizeof(t));
		t.name = names[i];
		t.description = "a test tool";
		t.input_schema = SCHEMA;
		t.handler = handlers[i];
		assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	}
	memset(&t, 0, sizeof(t));
	t.name = "e_secret";
	t.title = "Secret";
	t.description = "admins only";
	t.input_schema = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	    "\"type\":\"object\",\"$defs\":{\"x\":{}},\"additionalProperties\":false}";
	t.output_schema = SCHEMA;
	t.annotations = "{\"readOnlyHint\":true}";
	t.visible = only_admin;
	t.handler = tool_echo;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	t.visible = NULL;
	t.title = NULL;
	t.output_schema = NULL;
	t.annotations = NULL;
	t.input_schema = SCHEMA;
	t.name = "f_ask";
	t.handler = tool_ask;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	t.name = "g_sleeper";
	t.handler = tool_sleeper;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	t.name = "h_reconnect";
	t.handler = tool_reconnect;
	assert_int_equal(mcp_server_add_tool(srv, &t), 0);
	/* Registration refusals. */
	assert_int_equal(mcp_server_add_tool(srv, &t), ZT_ERR_EXISTS);
	t.name = "bad_schema";
	t.input_schema = "{\"type\":";
	assert_int_equal(mcp_server_add_tool(srv, &t), ZT_ERR_INVALID);
	t.input_schema = "[]";
	assert_int_equal(mcp_server_add_tool(srv, &t), ZT_ERR_INVALID);

	memset(&rp, 0, sizeof(rp));
	rp.list = res_list;
	rp.templates = res_templates;
	rp.read = res_read;
	assert_int_equal(mcp_server_add_resources(srv, &rp), 0);

	memset(&p, 0, sizeof(p));
	p.name = "greet";
	p.description = "greets";
	p.arguments = "[{\"name\":\"name\",\"required\":true}]";
	p.get = prompt_greet;
	assert_int_equal(mcp_server_add_prompt(srv, &p), 0);
	assert_int_equal(mcp_server_add_prompt(srv, &p), ZT_ERR_EXISTS);
	p.name = "bad";
	p.arguments = "{}";
	assert_int_equal(mcp_server_add_prompt(srv, &p), ZT_ERR_INVALID);
	mcp_server_set_completion(srv, complete, NULL);
	return srv;
}

/* ---- driving a session ---- */

struct fix {
	struct mcp_server *srv;
	struct mcp_session *s;
	struct sink_buf buf;
	struct mcp_sink sink;
};

/* Decodes json and dispatches it as who through f's sink. */
static int dispatch_as(struct fix *f, const struct mcp_identity *who, const char *json)
{
	struct mcp_msg m;
	char *err = NULL;
	int r;

	r = mcp_decode(json, strlen(json), &m, &err);
	if (r != 0) {
		fail_msg("decode(%s) = %d: %s", json, r, err != NULL ? err : "");
	}
	r = mcp_session_dispatch(f->s, who, &m, &f->sink);
	mcp_msg_clear(&m);
	return r;
}

/* Sends a request and returns the last message sent (its response). */
static cJSON *rpc_as(struct fix *f, const struct mcp_identity *who, const char *json)
{
	sink_reset(&f->buf);
	assert_int_equal(dispatch_as(f, who, json), 0);
	assert_true(sink_count(&f->buf) >= 1);
	return sink_msg(&f->buf, sink_count(&f->buf) - 1);
}

static cJSON *rpc(struct fix *f, const char *json)
{
	return rpc_as(f, &anon, json);
}

static int err_code(const cJSON *resp)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp, "error");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");

	return cJSON_IsNumber(c) ? c->valueint : 0;
}

static const char *err_message(const cJSON *resp)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

	return cJSON_IsString(m) ? m->valuestring : "";
}

static const cJSON *res_of(const cJSON *resp)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(resp, "result");

	if (r == NULL) {
		fail_msg("no result: error %d %s", err_code(resp), err_message(resp));
	}
	return r;
}

static void expect_error(struct fix *f, const char *json, int code)
{
	cJSON *r = rpc(f, json);

	if (err_code(r) != code) {
		fail_msg("%s: got error %d (%s), want %d", json, err_code(r), err_message(r), code);
	}
	cJSON_Delete(r);
}

static const char *INIT = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"elicitation\":{}},"
    "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	cJSON *r = NULL;

	assert_non_null(f);
	f->srv = server_new();
	f->s = mcp_session_new(f->srv, &anon);
	assert_non_null(f->s);
	sink_init(&f->buf, &f->sink);
	r = rpc(f, INIT);
	res_of(r);
	cJSON_Delete(r);
	assert_int_equal(dispatch_as(f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"), 0);
	assert_true(mcp_session_initialized(f->s));
	sink_reset(&f->buf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	mcp_session_close(f->s);
	mcp_session_unref(f->s);
	mcp_server_free(f->srv);
	sink_fini(&f->buf);
	free(f);
	return 0;
}

/* ---- decoding ---- */

static void decode_fails(const char *json, int code, const char *id_json)
{
	struct mcp_msg m;
	char *err = NULL, *idp = NULL;
	cJSON *e = NULL;

	if (mcp_decode(json, strlen(json), &m, &err) == 0) {
		fail_msg("decode(%s) succeeded", json);
	}
	assert_null(m.root);
	assert_non_null(err);
	e = parse_json(err);
	if (err_code(e) != code) {
		fail_msg("decode(%s): code %d, want %d", json, err_code(e), code);
	}
	idp = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "id"));
	assert_string_equal(idp, id_json);
	free(idp);
	cJSON_Delete(e);
	free(err);
}

static void test_decode_errors(void **state)
{
	(void)state;
	decode_fails("{\"jsonrpc\":\"2.0\",", MCP_ERR_PARSE, "null");
	decode_fails("not json", MCP_ERR_PARSE, "null");
	decode_fails("{} {}", MCP_ERR_PARSE, "null");
	decode_fails("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("[]", MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("\"ping\"", MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"notifications/initialized\"}",
	    MCP_ERR_INVALID_REQUEST, "6");
	decode_fails("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", MCP_ERR_INVALID_REQUEST,
	    "1");
	decode_fails("{\"id\":1,\"method\":\"ping\"}", MCP_ERR_INVALID_REQUEST, "1");
	decode_fails("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", MCP_ERR_INVALID_REQUEST,
	    "1");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":1e300,\"method\":\"ping\"}",
	    MCP_ERR_INVALID_REQUEST, "null");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", MCP_ERR_INVALID_REQUEST, "1");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", MCP_ERR_INVALID_REQUEST,
	    "1");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\",\"params\":[1]}",
	    MCP_ERR_INVALID_PARAMS, "\"x\"");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":\"p\"}",
	    MCP_ERR_INVALID_REQUEST, "2");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"result\":{}}",
	    MCP_ERR_INVALID_REQUEST, "2");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{},\"error\":{\"code\":1,"
	    "\"message\":\"m\"}}", MCP_ERR_INVALID_REQUEST, "3");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":3}", MCP_ERR_INVALID_REQUEST, "3");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
	    MCP_ERR_INVALID_REQUEST, "3");
	decode_fails("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", MCP_ERR_INVALID_REQUEST,
	    "null");
	decode_fails("{\"jsonrpc\":\"2.0\"}", MCP_ERR_INVALID_REQUEST, "null");
}

static void test_decode_ok(void **state)
{
	struct mcp_msg m;
	char *err = NULL, *s = NULL;
	const char *j;
	(void)state;

	j = "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/list\",\"params\":{}}";
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	assert_null(err);
	assert_int_equal(m.kind, MCP_REQUEST);
	assert_string_equal(m.method, "tools/list");
	assert_string_equal(m.id->valuestring, "a");
	assert_non_null(m.params);
	mcp_msg_clear(&m);
	assert_null(m.root);

	j = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\"}";
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	assert_int_equal(m.kind, MCP_NOTIFICATION);
	assert_null(m.id);
	assert_null(m.params);
	mcp_msg_clear(&m);

	j = "{\"jsonrpc\":\"2.0\",\"id\":-5,\"error\":{\"code\":-1,\"message\":\"no\"}}";
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	assert_int_equal(m.kind, MCP_RESPONSE);
	assert_non_null(m.error);
	assert_null(m.result);
	mcp_msg_clear(&m);

	j = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}";
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	assert_int_equal(m.kind, MCP_RESPONSE);
	assert_null(m.id);
	mcp_msg_clear(&m);

	/* A large integer id comes back exactly, not as 1e+15. */
	j = "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"method\":\"x\"}";
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	s = mcp_error_json(m.id, MCP_ERR_METHOD_NOT_FOUND, "nope", NULL);
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"error\":"
	    "{\"code\":-32601,\"message\":\"nope\"}}");
	free(s);
	mcp_msg_clear(&m);

	s = mcp_notification_json("notifications/x", NULL);
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}");
	free(s);
	mcp_msg_clear(NULL);
}

/* ---- lifecycle ---- */

static void test_initialize_versions(void **state)
{
	static const char *const offered[] = { "2025-11-25", "2025-06-18", "2025-03-26",
		"1999-01-01" };
	static const char *const want[] = { "2025-11-25", "2025-06-18", "2025-03-26",
		MCP_PROTOCOL_LATEST };
	struct fix f;
	char json[512];
	cJSON *r = NULL;
	const cJSON *res = NULL, *caps = NULL;
	size_t i;
	(void)state;

	memset(&f, 0, sizeof(f));
	f.srv = server_new();
	sink_init(&f.buf, &f.sink);
	for (i = 0; i < 4; i++) {
		f.s = mcp_session_new(f.srv, &anon);
		assert_null(mcp_session_protocol_version(f.s));
		snprintf(json, sizeof(json),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		    "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},"
		    "\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}", offered[i]);
		r = rpc(&f, json);
		res = res_of(r);
		assert_string_equal(cJSON_GetObjectItem(res, "protocolVersion")->valuestring,
		    want[i]);
		assert_string_equal(mcp_session_protocol_version(f.s), want[i]);
		caps = cJSON_GetObjectItem(res, "capabilities");
		/* The tool list changes when roles do (mcp_server_tools_changed). */
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "tools"),
		    "listChanged")));
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(caps,
		    "resources"), "subscribe")));
		assert_non_null(cJSON_GetObjectItem(caps, "prompts"));
		assert_non_null(cJSON_GetObjectItem(caps, "logging"));
		assert_non_null(cJSON_GetObjectItem(caps, "completions"));
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "serverInfo"),
		    "name")->valuestring, "zt-test");
		assert_string_equal(cJSON_GetObjectItem(res, "instructions")->valuestring,
		    "be nice");
		cJSON_Delete(r);
		assert_false(mcp_session_initialized(f.s));
		/* A second initialize on the same session is refused. */
		expect_error(&f, json, MCP_ERR_INVALID_REQUEST);
		mcp_session_unref(f.s);
	}
	/* protocolVersion is required. */
	f.s = mcp_session_new(f.srv, &anon);
	expect_error(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}",
	    MCP_ERR_INVALID_PARAMS);
	mcp_session_unref(f.s);
	mcp_server_free(f.srv);
	sink_fini(&f.buf);
}

static void test_capabilities_follow_registry(void **state)
{
	struct fix f;
	cJSON *r = NULL;
	const cJSON *caps = NULL;
	(void)state;

	memset(&f, 0, sizeof(f));
	f.srv = mcp_server_new("empty", "1", NULL);
	f.s = mcp_session_new(f.srv, NULL);
	assert_string_equal(mcp_session_owner(f.s)->kind, "anonymous");
	sink_init(&f.buf, &f.sink);
	r = rpc(&f, INIT);
	caps = cJSON_GetObjectItem(res_of(r), "capabilities");
	assert_null(cJSON_GetObjectItem(caps, "tools"));
	assert_null(cJSON_GetObjectItem(caps, "resources"));
	assert_null(cJSON_GetObjectItem(caps, "prompts"));
	assert_non_null(cJSON_GetObjectItem(caps, "logging"));
	assert_null(cJSON_GetObjectItem(res_of(r), "instructions"));
	cJSON_Delete(r);
	expect_error(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
	    MCP_ERR_METHOD_NOT_FOUND);
	/* Without a completion hook the answer is an empty list. */
	r = rpc(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"completion/complete\",\"params\":"
	    "{\"ref\":{\"type\":\"ref/resource\",\"uri\":\"x://y\"},"
	    "\"argument\":{\"name\":\"a\",\"value\":\"b\"}}}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(res_of(r),
	    "completion"), "values")), 0);
	cJSON_Delete(r);
	mcp_session_unref(f.s);
	mcp_server_free(f.srv);
	sink_fini(&f.buf);
}

static void test_before_initialize(void **state)
{
	struct fix f;
	cJSON *r = NULL;
	(void)state;

	memset(&f, 0, sizeof(f));
	f.srv = server_new();
	f.s = mcp_session_new(f.srv, &anon);
	sink_init(&f.buf, &f.sink);
	r = rpc(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	assert_int_equal(err_code(r), MCP_ERR_INVALID_REQUEST);
	assert_non_null(strstr(err_message(r), "initialize"));
	assert_int_equal(cJSON_GetObjectItem(r, "id")->valueint, 1);
	cJSON_Delete(r);
	r = rpc(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	assert_int_equal(cJSON_GetArraySize(res_of(r)), 0);
	cJSON_Delete(r);
	/* initialized before initialize does nothing. */
	assert_int_equal(dispatch_as(&f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"), 0);
	assert_false(mcp_session_initialized(f.s));
	mcp_session_unref(f.s);
	mcp_server_free(f.srv);
	sink_fini(&f.buf);
}

static void test_ping_and_unknown(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL;

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	assert_true(cJSON_IsObject(res_of(r)));
	assert_int_equal(cJSON_GetArraySize(res_of(r)), 0);
	assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "p");
	cJSON_Delete(r);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such\"}",
	    MCP_ERR_METHOD_NOT_FOUND);
	/* Integer ids come back as written, not as 1e+15. */
	sink_reset(&f->buf);
	assert_int_equal(dispatch_as(f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"method\":\"ping\"}"), 0);
	assert_int_equal(sink_count(&f->buf), 1);
	assert_string_equal(f->buf.msgs[0],
	    "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"result\":{}}");
	/* Unknown notifications and stray responses are ignored quietly. */
	sink_reset(&f->buf);
	assert_int_equal(dispatch_as(f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}"), 0);
	assert_int_equal(dispatch_as(f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}"), 0);
	assert_int_equal(dispatch_as(f, &anon,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":12345}}"), 0);
	assert_int_equal(sink_count(&f->buf), 0);
}

/* ---- tools ---- */

/* Collects the tool names of all pages as a comma-separated list. */
static void list_all_tools(struct fix *f, const struct mcp_identity *who, char *out,
    size_t outsz, int *pages)
{
	char json[256];
	cJSON *r = NULL;
	const cJSON *t = NULL, *next = NULL;
	char cursor[128] = "";

	out[0] = '\0';
	*pages = 0;
	for (;;) {
		if (cursor[0] == '\0') {
			snprintf(json, sizeof(json),
			    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
		} else {
			snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			    "\"tools/list\",\"params\":{\"cursor\":\"%s\"}}", cursor);
		}
		r = rpc_as(f, who, json);
		(*pages)++;
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(res_of(r), "tools")) <= 2);
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(res_of(r), "tools")) {
			assert_non_null(cJSON_GetObjectItem(t, "inputSchema"));
			assert_non_null(cJSON_GetObjectItem(t, "description"));
			if (out[0] != '\0') {
				strncat(out, ",", outsz - strlen(out) - 1);
			}
			strncat(out, cJSON_GetObjectItem(t, "name")->valuestring,
			    outsz - strlen(out) - 1);
		}
		next = cJSON_GetObjectItem(res_of(r), "nextCursor");
		if (next == NULL) {
			cJSON_Delete(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", next->valuestring);
		cJSON_Delete(r);
	}
}

static void test_tools_list_pages(void **state)
{
	struct fix *f = *state;
	char names[512];
	int pages;
	cJSON *r = NULL;
	const cJSON *secret = NULL, *schema = NULL;

	mcp_server_set_page_size(f->srv, 2);
	list_all_tools(f, &anon, names, sizeof(names), &pages);
	assert_string_equal(names, "a_echo,b_fail,c_crash,d_progress,f_ask,g_sleeper,h_reconnect");
	assert_int_equal(pages, 4);
	list_all_tools(f, &admin, names, sizeof(names), &pages);
	assert_string_equal(names,
	    "a_echo,b_fail,c_crash,d_progress,e_secret,f_ask,g_sleeper,h_reconnect");
	assert_int_equal(pages, 4);

	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":\"garbage!\"}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":\"bm9wZQ\"}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{\"cursor\":7}}", MCP_ERR_INVALID_PARAMS);

	/* Schemas and annotations pass through verbatim (JSON Schema 2020-12). */
	mcp_server_set_page_size(f->srv, 0);
	r = rpc_as(f, &admin, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	assert_null(cJSON_GetObjectItem(res_of(r), "nextCursor"));
	secret = cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r), "tools"), 4);
	assert_string_equal(cJSON_GetObjectItem(secret, "name")->valuestring, "e_secret");
	assert_string_equal(cJSON_GetObjectItem(secret, "title")->valuestring, "Secret");
	schema = cJSON_GetObjectItem(secret, "inputSchema");
	assert_non_null(cJSON_GetObjectItem(schema, "$schema"));
	assert_non_null(cJSON_GetObjectItem(schema, "$defs"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(schema, "additionalProperties")));
	assert_non_null(cJSON_GetObjectItem(secret, "outputSchema"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(secret, "annotations"),
	    "readOnlyHint")));
	cJSON_Delete(r);
}

/* What the refused-tool hook saw, and what it answers (NULL: nothing). */
struct refused_seen {
	int calls;
	int exists;
	char name[64];
	const char *answer;
};

static cJSON *record_refused(struct mcp_call *call, const char *name, int exists, void *arg)
{
	struct refused_seen *u = arg;

	assert_non_null(mcp_call_identity(call));
	u->calls++;
	u->exists = exists;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return u->answer != NULL ? mcp_result_error("%s", u->answer) : NULL;
}

static void test_tools_call(void **state)
{
	struct fix *f = *state;
	struct refused_seen seen = { 0, -1, "", "deny: no role allows it" };
	cJSON *r = NULL;
	const cJSON *res = NULL;

	mcp_server_set_refused_tool(f->srv, record_refused, &seen);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"a_echo\",\"arguments\":{\"msg\":\"hi\"}}}");
	res = res_of(r);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(res, "isError")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res,
	    "content"), 0), "text")->valuestring, "hi");
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"nope\",\"arguments\":{}}}");
	assert_int_equal(err_code(r), MCP_ERR_INVALID_PARAMS);
	assert_string_equal(err_message(r), "Unknown tool: nope");
	cJSON_Delete(r);
	/* Told, but its answer is not used for a tool that does not exist. */
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.exists, 0);
	assert_string_equal(seen.name, "nope");
	/* An invisible tool gets the hook's answer... */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"e_secret\",\"arguments\":{\"msg\":\"x\"}}}");
	res = res_of(r);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(res, "isError")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res,
	    "content"), 0), "text")->valuestring, "deny: no role allows it");
	cJSON_Delete(r);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.exists, 1);
	assert_string_equal(seen.name, "e_secret");
	/* ...or, without one, is unknown. */
	seen.answer = NULL;
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"e_secret\",\"arguments\":{\"msg\":\"x\"}}}");
	assert_string_equal(err_message(r), "Unknown tool: e_secret");
	cJSON_Delete(r);
	assert_int_equal(seen.calls, 3);
	r = rpc_as(f, &admin, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"e_secret\",\"arguments\":{\"msg\":\"x\"}}}");
	res_of(r);
	cJSON_Delete(r);
	/* Calls that reach a tool do not call the hook. */
	assert_int_equal(seen.calls, 3);
	mcp_server_set_refused_tool(f->srv, NULL, NULL);

	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"a_echo\",\"arguments\":[1]}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}",
	    MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\"}",
	    MCP_ERR_INVALID_PARAMS);

	/* A tool's own failure is a result with isError, passed through. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"b_fail\"}}");
	res = res_of(r);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(res, "isError")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res,
	    "content"), 0), "text")->valuestring, "boom 42");
	cJSON_Delete(r);
	/* Absent arguments reach the handler as {}: echo reports msg missing. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"a_echo\"}}");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(res_of(r), "isError")));
	cJSON_Delete(r);
	/* A handler's error code is -32603. */
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"c_crash\"}}", MCP_ERR_INTERNAL);

	/* close_stream reaches the sink; the call's id is its JSON text. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"h_reconnect\"}}");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r),
	    "content"), 0), "text")->valuestring, "\"q\"");
	assert_int_equal(f->buf.closes, 1);
	cJSON_Delete(r);
}

/* Counts messages of b with method. */
static int count_method(struct sink_buf *b, const char *method)
{
	cJSON *v = NULL;
	size_t i, n = sink_count(b);
	int k = 0;

	for (i = 0; i < n; i++) {
		v = sink_msg(b, i);
		if (cJSON_IsString(cJSON_GetObjectItem(v, "method")) &&
		    strcmp(cJSON_GetObjectItem(v, "method")->valuestring, method) == 0) {
			k++;
		}
		cJSON_Delete(v);
	}
	return k;
}

static void test_progress(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL, *m = NULL;
	const cJSON *p = NULL;

	/* Without a token: no progress, only the response (and logs). */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"d_progress\"}}");
	res_of(r);
	cJSON_Delete(r);
	assert_int_equal(count_method(&f->buf, "notifications/progress"), 0);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"d_progress\",\"_meta\":{\"progressToken\":\"tok-1\"}}}");
	res_of(r);
	cJSON_Delete(r);
	assert_int_equal(count_method(&f->buf, "notifications/progress"), 3);
	m = sink_msg(&f->buf, 1);
	p = cJSON_GetObjectItem(m, "params");
	assert_string_equal(cJSON_GetObjectItem(p, "progressToken")->valuestring, "tok-1");
	assert_int_equal(cJSON_GetObjectItem(p, "progress")->valueint, 50);
	assert_int_equal(cJSON_GetObjectItem(p, "total")->valueint, 100);
	assert_string_equal(cJSON_GetObjectItem(p, "message")->valuestring, "half");
	cJSON_Delete(m);
	m = sink_msg(&f->buf, 2);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "total"));
	cJSON_Delete(m);

	/* A numeric token is echoed as a number. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"d_progress\",\"_meta\":{\"progressToken\":77}}}");
	cJSON_Delete(r);
	m = sink_msg(&f->buf, 0);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "progressToken")));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "progressToken")->valueint, 77);
	cJSON_Delete(m);
}

static void test_log_levels(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL, *m = NULL;
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"d_progress\"}}";

	/* Default "info": info and error pass, debug does not. */
	cJSON_Delete(rpc(f, call));
	assert_int_equal(count_method(&f->buf, "notifications/message"), 2);
	m = sink_msg(&f->buf, 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "level")->valuestring, "info");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "logger")->valuestring, "t");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "data")->valuestring, "i");
	cJSON_Delete(m);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\","
	    "\"params\":{\"level\":\"debug\"}}");
	assert_int_equal(cJSON_GetArraySize(res_of(r)), 0);
	cJSON_Delete(r);
	cJSON_Delete(rpc(f, call));
	assert_int_equal(count_method(&f->buf, "notifications/message"), 3);

	cJSON_Delete(rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\","
	    "\"params\":{\"level\":\"error\"}}"));
	cJSON_Delete(rpc(f, call));
	assert_int_equal(count_method(&f->buf, "notifications/message"), 1);

	cJSON_Delete(rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"logging/setLevel\","
	    "\"params\":{\"level\":\"emergency\"}}"));
	cJSON_Delete(rpc(f, call));
	assert_int_equal(count_method(&f->buf, "notifications/message"), 0);

	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"logging/setLevel\","
	    "\"params\":{\"level\":\"loud\"}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"logging/setLevel\"}",
	    MCP_ERR_INVALID_PARAMS);
}

/* ---- a second client thread ---- */

struct client {
	struct fix *f;
	pthread_t th;
	const char *answer;      /* "result", "error" or "none" */
	const char *cancel_with; /* a notifications/cancelled to send, or NULL */
	int close_session;
	const char *dup_request; /* a request with an id in flight, or NULL */
	cJSON *dup_response;
	int ok;
};

/* Answers the engine's elicitation/create request as the client. */
static void *client_answer(void *arg)
{
	struct client *c = arg;
	cJSON *req = NULL;
	char *idp = NULL, json[512];

	req = sink_wait_method(&c->f->buf, "elicitation/create");
	if (req == NULL) {
		return NULL;
	}
	if (strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "params"),
	    "message")->valuestring, "Your name?") != 0) {
		cJSON_Delete(req);
		return NULL;
	}
	idp = cJSON_PrintUnformatted(cJSON_GetObjectItem(req, "id"));
	if (strcmp(c->answer, "result") == 0) {
		snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":"
		    "{\"action\":\"accept\",\"content\":{\"name\":\"Bob\"}}}", idp);
	} else {
		snprintf(json, sizeof(json), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":"
		    "{\"code\":-1,\"message\":\"nope\"}}", idp);
	}
	/* An answer to an id never sent is ignored. */
	if (dispatch_as(c->f, &anon, "{\"jsonrpc\":\"2.0\",\"id\":424242,\"result\":{}}") == 0 &&
	    dispatch_as(c->f, &anon, json) == 0) {
		c->ok = 1;
	}
	free(idp);
	cJSON_Delete(req);
	return NULL;
}

static void elicit(struct fix *f, const char *answer, const char *want_text)
{
	struct client c;
	cJSON *r = NULL;
	const cJSON *res = NULL;

	memset(&c, 0, sizeof(c));
	c.f = f;
	c.answer = answer;
	sink_reset(&f->buf);
	assert_int_equal(pthread_create(&c.th, NULL, client_answer, &c), 0);
	assert_int_equal(dispatch_as(f, &anon, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"f_ask\"}}"), 0);
	pthread_join(c.th, NULL);
	assert_true(c.ok);
	r = sink_msg(&f->buf, sink_count(&f->buf) - 1);
	res = res_of(r);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res,
	    "content"), 0), "text")->valuestring, want_text);
	cJSON_Delete(r);
}

static void test_elicitation(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL, *m = NULL;

	elicit(f, "result", "action=accept");
	elicit(f, "error", "failed: protocol error");

	/* Nobody answers: the wait times out and the request is cancelled. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"f_ask\",\"arguments\":{\"timeout\":50}}}");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r),
	    "content"), 0), "text")->valuestring, "failed: timed out");
	cJSON_Delete(r);
	m = sink_wait_method(&f->buf, "notifications/cancelled");
	assert_non_null(m);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "requestId")));
	cJSON_Delete(m);
}

static void test_elicitation_unsupported(void **state)
{
	struct fix f;
	cJSON *r = NULL;
	(void)state;

	memset(&f, 0, sizeof(f));
	f.srv = server_new();
	f.s = mcp_session_new(f.srv, &anon);
	sink_init(&f.buf, &f.sink);
	cJSON_Delete(rpc(&f, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"sampling\":{}}}}"));
	r = rpc(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"f_ask\"}}");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(res_of(r), "isError")));
	cJSON_Delete(r);
	mcp_session_unref(f.s);
	mcp_server_free(f.srv);
	sink_fini(&f.buf);
}

/* Waits for the sleeper tool to start, then cancels it or closes the
 * session. */
static void *client_cancel(void *arg)
{
	struct client *c = arg;
	struct mcp_sink other;
	struct sink_buf obuf;
	struct mcp_msg m;
	char *err = NULL;

	pthread_mutex_lock(&sleep_mu);
	while (!sleep_started) {
		pthread_cond_wait(&sleep_cv, &sleep_mu);
	}
	pthread_mutex_unlock(&sleep_mu);
	if (c->dup_request != NULL) {
		sink_init(&obuf, &other);
		if (mcp_decode(c->dup_request, strlen(c->dup_request), &m, &err) == 0) {
			mcp_session_dispatch(c->f->s, &anon, &m, &other);
			mcp_msg_clear(&m);
			if (obuf.n == 1) {
				c->dup_response = cJSON_Parse(obuf.msgs[0]);
			}
		}
		sink_fini(&obuf);
	}
	if (c->close_session) {
		mcp_session_close(c->f->s);
		c->ok = 1;
	} else if (dispatch_as(c->f, &anon, c->cancel_with) == 0) {
		c->ok = 1;
	}
	return NULL;
}

static void run_sleeper(struct fix *f, struct client *c, const char *request)
{
	time_t t0 = time(NULL);

	pthread_mutex_lock(&sleep_mu);
	sleep_started = 0;
	sleep_result = 1;
	pthread_mutex_unlock(&sleep_mu);
	sink_reset(&f->buf);
	c->f = f;
	assert_int_equal(pthread_create(&c->th, NULL, client_cancel, c), 0);
	assert_int_equal(dispatch_as(f, &anon, request), 0);
	pthread_join(c->th, NULL);
	assert_true(c->ok);
	assert_true(time(NULL) - t0 < 5);
	pthread_mutex_lock(&sleep_mu);
	assert_int_equal(sleep_result, ZT_ERR_CANCELLED);
	pthread_mutex_unlock(&sleep_mu);
	/* A cancelled request gets no response at all. */
	assert_int_equal(sink_count(&f->buf), 0);
}

static void test_cancel(void **state)
{
	struct fix *f = *state;
	struct client c;
	cJSON *r = NULL;

	memset(&c, 0, sizeof(c));
	c.cancel_with = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":\"slow-1\",\"reason\":\"user\"}}";
	c.dup_request = "{\"jsonrpc\":\"2.0\",\"id\":\"slow-1\",\"method\":\"ping\"}";
	run_sleeper(f, &c, "{\"jsonrpc\":\"2.0\",\"id\":\"slow-1\",\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"g_sleeper\"}}");
	/* The same id, while in flight, was refused. */
	assert_non_null(c.dup_response);
	assert_int_equal(err_code(c.dup_response), MCP_ERR_INVALID_REQUEST);
	cJSON_Delete(c.dup_response);

	/* A numeric id matches a numeric requestId. */
	memset(&c, 0, sizeof(c));
	c.cancel_with = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":41}}";
	run_sleeper(f, &c, "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"g_sleeper\"}}");

	/* The session goes on afterwards. */
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\"}");
	res_of(r);
	cJSON_Delete(r);
}

static void test_session_close(void **state)
{
	struct fix *f = *state;
	struct client c;
	struct mcp_msg m;
	char *err = NULL;
	const char *j = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";

	memset(&c, 0, sizeof(c));
	c.close_session = 1;
	run_sleeper(f, &c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"g_sleeper\"}}");
	assert_int_equal(mcp_decode(j, strlen(j), &m, &err), 0);
	assert_int_equal(mcp_session_dispatch(f->s, &anon, &m, &f->sink), ZT_ERR_INVALID);
	mcp_msg_clear(&m);
	assert_int_equal(sink_count(&f->buf), 0);
}

/* ---- resources, prompts, completion ---- */

static void test_resources(void **state)
{
	struct fix *f = *state;
	struct sink_buf sbuf;
	struct mcp_sink stream;
	cJSON *r = NULL, *m = NULL;
	const cJSON *res = NULL, *data = NULL;

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res_of(r), "resources")), 2);
	cJSON_Delete(r);
	mcp_server_set_page_size(f->srv, 1);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res_of(r), "resources")), 1);
	assert_non_null(cJSON_GetObjectItem(res_of(r), "nextCursor"));
	cJSON_Delete(r);
	mcp_server_set_page_size(f->srv, 100);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/templates/list\"}");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r),
	    "resourceTemplates"), 0), "uriTemplate")->valuestring, "test://t/{id}");
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\","
	    "\"params\":{\"uri\":\"test://a\"}}");
	res = cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r), "contents"), 0);
	assert_string_equal(cJSON_GetObjectItem(res, "text")->valuestring, "hello a");
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\","
	    "\"params\":{\"uri\":\"test://zzz\"}}");
	assert_int_equal(err_code(r), MCP_ERR_RESOURCE_NOT_FOUND);
	data = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "data");
	assert_string_equal(cJSON_GetObjectItem(data, "uri")->valuestring, "test://zzz");
	cJSON_Delete(r);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/read\"}",
	    MCP_ERR_INVALID_PARAMS);

	/* Subscriptions: updates go to the standalone stream until
	 * unsubscribed. */
	sink_init(&sbuf, &stream);
	mcp_session_set_stream(f->s, &stream);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/subscribe\","
	    "\"params\":{\"uri\":\"test://a\"}}");
	assert_int_equal(cJSON_GetArraySize(res_of(r)), 0);
	cJSON_Delete(r);
	mcp_server_resource_updated(f->srv, "test://b");
	assert_int_equal(sink_count(&sbuf), 0);
	mcp_server_resource_updated(f->srv, "test://a");
	assert_int_equal(sink_count(&sbuf), 1);
	m = sink_msg(&sbuf, 0);
	assert_string_equal(cJSON_GetObjectItem(m, "method")->valuestring,
	    "notifications/resources/updated");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"),
	    "uri")->valuestring, "test://a");
	cJSON_Delete(m);
	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/unsubscribe\","
	    "\"params\":{\"uri\":\"test://a\"}}");
	res_of(r);
	cJSON_Delete(r);
	mcp_server_resource_updated(f->srv, "test://a");
	assert_int_equal(sink_count(&sbuf), 1);
	mcp_session_set_stream(f->s, NULL);
	sink_fini(&sbuf);
}

static void test_prompts(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL;
	const cJSON *p = NULL;

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}");
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r), "prompts"), 0);
	assert_string_equal(cJSON_GetObjectItem(p, "name")->valuestring, "greet");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(p, "arguments")));
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"greet\",\"arguments\":{\"name\":\"Ann\"}}}");
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(res_of(r), "messages"), 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "content"),
	    "text")->valuestring, "Hello, Ann");
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"missing\"}}");
	assert_int_equal(err_code(r), MCP_ERR_INVALID_PARAMS);
	assert_string_equal(err_message(r), "Unknown prompt: missing");
	cJSON_Delete(r);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"greet\"}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"greet\",\"arguments\":{\"name\":5}}}", MCP_ERR_INVALID_PARAMS);
	/* The prompt itself refusing an argument is -32602 too. */
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"prompts/get\","
	    "\"params\":{\"name\":\"greet\",\"arguments\":{\"name\":\"\"}}}",
	    MCP_ERR_INVALID_PARAMS);
}

static void test_completion(void **state)
{
	struct fix *f = *state;
	cJSON *r = NULL;
	const cJSON *comp = NULL;

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"completion/complete\",\"params\":"
	    "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"greet\"},"
	    "\"argument\":{\"name\":\"name\",\"value\":\"par\"}}}");
	comp = cJSON_GetObjectItem(res_of(r), "completion");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(comp, "values")), 3);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(comp, "values"),
	    1)->valuestring, "park");
	cJSON_Delete(r);

	r = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"completion/complete\",\"params\":"
	    "{\"ref\":{\"type\":\"ref/resource\",\"uri\":\"test://t/{id}\"},"
	    "\"argument\":{\"name\":\"id\",\"value\":\"many\"},\"context\":{\"arguments\":{}}}}");
	comp = cJSON_GetObjectItem(res_of(r), "completion");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(comp, "values")), 100);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(comp, "hasMore")));
	cJSON_Delete(r);

	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"completion/complete\","
	    "\"params\":"
	    "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"nope\"},"
	    "\"argument\":{\"name\":\"a\",\"value\":\"b\"}}}", MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"completion/complete\","
	    "\"params\":"
	    "{\"ref\":{\"type\":\"ref/other\"},\"argument\":{\"name\":\"a\",\"value\":\"b\"}}}",
	    MCP_ERR_INVALID_PARAMS);
	expect_error(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"completion/complete\","
	    "\"params\":"
	    "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"greet\"}}}", MCP_ERR_INVALID_PARAMS);
}

static void test_result_helpers(void **state)
{
	char big[5000];
	cJSON *r = NULL;
	const cJSON *b = NULL;
	(void)state;

	r = mcp_result_new(0);
	assert_int_equal(mcp_result_add_media(r, "image", "aGk=", "image/png"), 0);
	assert_int_equal(mcp_result_add_media(r, "audio", "aGk=", "audio/wav"), 0);
	assert_int_equal(mcp_result_add_media(r, "video", "aGk=", "video/mp4"), ZT_ERR_INVALID);
	assert_int_equal(mcp_result_add_text(r, NULL), ZT_ERR_INVALID);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "content"), 1);
	assert_string_equal(cJSON_GetObjectItem(b, "type")->valuestring, "audio");
	assert_string_equal(cJSON_GetObjectItem(b, "mimeType")->valuestring, "audio/wav");
	assert_string_equal(cJSON_GetObjectItem(b, "data")->valuestring, "aGk=");
	cJSON_Delete(r);

	/* A long error text is cut at a character boundary ("é" is 2 bytes). */
	memset(big, 'x', sizeof(big));
	big[4094] = '\xc3';
	big[4095] = '\xa9';
	big[sizeof(big) - 1] = '\0';
	r = mcp_result_error("%s", big);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "content"), 0);
	assert_int_equal(strlen(cJSON_GetObjectItem(b, "text")->valuestring), 4094);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "isError")));
	cJSON_Delete(r);
	assert_int_equal(mcp_protocol_supported("2025-03-26"), 1);
	assert_int_equal(mcp_protocol_supported("2024-11-05"), 0);
	assert_int_equal(mcp_protocol_supported(NULL), 0);
	mcp_server_free(NULL);
	mcp_session_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_ok),
		cmocka_unit_test(test_initialize_versions),
		cmocka_unit_test(test_capabilities_follow_registry),
		cmocka_unit_test(test_before_initialize),
		cmocka_unit_test_setup_teardown(test_ping_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tools_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tools_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elicitation, setup, teardown),
		cmocka_unit_test(test_elicitation_unsupported),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completion, setup, teardown),
		cmocka_unit_test(test_result_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
