/*
 * fixtures26.c - the fixtures the conformance suite calls in protocol
 * revision 2026-07-28 only: multi round-trip tools and a prompt
 * (input_required results, SEP-2322), a tool that needs a client
 * capability (-32021), and the logging and no-requests-on-the-stream
 * probes of server-stateless. What each one must do:
 * tests/conformance/SCENARIOS.md, "Protocol revision 2026-07-28".
 *
 * Each multi round-trip fixture asks with mcp_result_input_required() and
 * reads the answers with mcp_call_input() and the sealed state of the
 * previous round with mcp_call_state(); the engine verifies that state, so
 * a fixture only ever sees its own. In a session-era call (no round trips)
 * they answer a tool error saying so.
 */
#include "tests/conformance/fixtures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define EMPTY_SCHEMA "{\"type\":\"object\",\"properties\":{}}"

/* The input requests the fixtures send, by key. */
#define ASK_NAME "{\"method\":\"elicitation/create\",\"params\":{\"message\":" \
	"\"What is your name?\",\"requestedSchema\":{\"type\":\"object\",\"properties\":" \
	"{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}}}"
#define ASK_CAPITAL "{\"method\":\"sampling/createMessage\",\"params\":{\"messages\":" \
	"[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":" \
	"\"What is the capital of France?\"}}],\"maxTokens\":100}}"
#define ASK_GREETING "{\"method\":\"sampling/createMessage\",\"params\":{\"messages\":" \
	"[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Generate a greeting\"}}]," \
	"\"maxTokens\":50}}"
#define ASK_ROOTS "{\"method\":\"roots/list\",\"params\":{}}"
#define ASK_CONFIRM "{\"method\":\"elicitation/create\",\"params\":{\"message\":" \
	"\"Please confirm\",\"requestedSchema\":{\"type\":\"object\",\"properties\":" \
	"{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}}}"
#define ASK_STEP1 "{\"method\":\"elicitation/create\",\"params\":{\"message\":" \
	"\"Step 1: What is your name?\",\"requestedSchema\":{\"type\":\"object\",\"properties\":" \
	"{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}}}"
#define ASK_STEP2 "{\"method\":\"elicitation/create\",\"params\":{\"message\":" \
	"\"Step 2: What is your favorite color?\",\"requestedSchema\":{\"type\":\"object\"," \
	"\"properties\":{\"color\":{\"type\":\"string\"}},\"required\":[\"color\"]}}}"
#define ASK_CONTEXT "{\"method\":\"elicitation/create\",\"params\":{\"message\":" \
	"\"What context should the prompt use?\",\"requestedSchema\":{\"type\":\"object\"," \
	"\"properties\":{\"context\":{\"type\":\"string\"}},\"required\":[\"context\"]}}}"

/* ---- helpers ---- */


/* Asks: inputRequests from pairs of key and request JSON text (ending with
 * NULL), and state (taken, may be NULL). */
static int ask(struct mcp_call *call, cJSON **result, cJSON *state, ...)
{
	cJSON *reqs = cJSON_CreateObject(), *one = NULL;
	const char *key, *json;
	va_list ap;

	va_start(ap, state);
	while (reqs != NULL && (key = va_arg(ap, const char *)) != NULL) {
		json = va_arg(ap, const char *);
		if ((one = cJSON_Parse(json)) == NULL) {
			cJSON_Delete(reqs);
			reqs = NULL;
			break;
		}
		cJSON_AddItemToObject(reqs, key, one);
	}
	va_end(ap);
	if (reqs == NULL) {
		cJSON_Delete(state);
		return ZT_ERR_NOMEM;
	}
	return mcp_result_input_required(call, reqs, state, result);
}

/* The string field of an accepted elicitation answer to key, or NULL. */
static const char *elicited(const struct mcp_call *call, const char *key, const char *field)
{
	const cJSON *content = NULL, *v = NULL;
	const char *action = mcp_input_elicit(mcp_call_input(call, key), &content);

	if (action == NULL || strcmp(action, "accept") != 0) {
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(content, field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The text a sampling answer to key carries, or NULL. */
static const char *sampled(const struct mcp_call *call, const char *key)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(mcp_call_input(call, key), "content");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "text");

	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* The first root's uri of a roots/list answer to key, or NULL. */
static const char *first_root(const struct mcp_call *call, const char *key)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(mcp_call_input(call, key), "roots");
	const cJSON *u = cJSON_IsArray(r) ? cJSON_GetObjectItemCaseSensitive(r->child, "uri") : NULL;

	return cJSON_IsString(u) ? u->valuestring : NULL;
}

/* A state {"step": step} (owned), or NULL. */
static cJSON *step_state(const char *step)
{
	cJSON *s = cJSON_CreateObject();

	if (s != NULL && cJSON_AddStringToObject(s, "step", step) == NULL) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

/* 1 if the verified state of the previous round is {"step": step}. */
static int at_step(const struct mcp_call *call, const char *step)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(mcp_call_state(call), "step");

	return cJSON_IsString(v) && strcmp(v->valuestring, step) == 0;
}

/* A session-era call cannot take a second round. */
static int need_stateless(struct mcp_call *call, cJSON **result)
{
	if (mcp_call_stateless(call)) {
		return 0;
	}
	*result = mcp_result_error("this tool asks for input with an input_required result, "
	    "which needs protocol revision 2026-07-28");
	return *result != NULL ? 1 : ZT_ERR_NOMEM;
}

/* ---- the multi round-trip tools ---- */

static int t_elicitation(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *name = elicited(call, "user_name", "name");
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (name != NULL) {
		return fixture_text(result, "Hello, %s!", name);
	}
	return ask(call, result, NULL, "user_name", ASK_NAME, NULL);
}

static int t_sampling(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *said = sampled(call, "capital_question");
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (said != NULL) {
		return fixture_text(result, "The model said: %s", said);
	}
	return ask(call, result, NULL, "capital_question", ASK_CAPITAL, NULL);
}

static int t_roots(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *root = first_root(call, "client_roots");
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (root != NULL) {
		return fixture_text(result, "The client's first root: %s", root);
	}
	return ask(call, result, NULL, "client_roots", ASK_ROOTS, NULL);
}

/* Completes only with the state it sealed in the first round. */
static int t_request_state(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const cJSON *content = NULL;
	const char *action = mcp_input_elicit(mcp_call_input(call, "confirm"), &content);
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (action != NULL && at_step(call, "confirm")) {
		return fixture_text(result, "state-ok: confirmation %s", action);
	}
	return ask(call, result, step_state("confirm"), "confirm", ASK_CONFIRM, NULL);
}

static int t_multiple(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *name = elicited(call, "user_name", "name");
	const char *greeting = sampled(call, "greeting"), *root = first_root(call, "client_roots");
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (name != NULL && greeting != NULL && root != NULL && at_step(call, "all")) {
		return fixture_text(result, "%s, %s (root %s)", greeting, name, root);
	}
	return ask(call, result, step_state("all"), "user_name", ASK_NAME, "greeting",
	    ASK_GREETING, "client_roots", ASK_ROOTS, NULL);
}

/* Three rounds: the name, then the colour, then the answer; the state
 * carries the round and the name. */
static int t_multi_round(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const cJSON *st = mcp_call_state(call), *nm = cJSON_GetObjectItemCaseSensitive(st, "name");
	const char *name = elicited(call, "step1", "name"), *color = elicited(call, "step2", "color");
	cJSON *next = NULL;
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (at_step(call, "2") && cJSON_IsString(nm) && color != NULL) {
		return fixture_text(result, "%s likes %s", nm->valuestring, color);
	}
	if (at_step(call, "1") && name != NULL) {
		if ((next = step_state("2")) == NULL || cJSON_AddStringToObject(next, "name", name) ==
		    NULL) {
			cJSON_Delete(next);
			return ZT_ERR_NOMEM;
		}
		return ask(call, result, next, "step2", ASK_STEP2, NULL);
	}
	return ask(call, result, step_state("1"), "step1", ASK_STEP1, NULL);
}

/* Asks only for what this request's client capabilities declare. */
static int t_capabilities(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	int r;

	(void)args;
	(void)arg;
	if ((r = need_stateless(call, result)) != 0) {
		return r < 0 ? r : 0;
	}
	if (sampled(call, "capital_question") != NULL || elicited(call, "user_name", "name") !=
	    NULL || first_root(call, "client_roots") != NULL) {
		return fixture_text(result, "Answered with what the client declared");
	}
	if (mcp_call_client_supports(call, "sampling")) {
		return ask(call, result, NULL, "capital_question", ASK_CAPITAL, NULL);
	}
	if (mcp_call_client_supports(call, "elicitation")) {
		return ask(call, result, NULL, "user_name", ASK_NAME, NULL);
	}
	if (mcp_call_client_supports(call, "roots")) {
		return ask(call, result, NULL, "client_roots", ASK_ROOTS, NULL);
	}
	*result = mcp_result_error("the client declares no capability to ask with");
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* Needs sampling (declared in .requires: the engine refuses the call with
 * -32021 when the request's _meta lacks it). */
static int t_missing_capability(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	(void)args;
	(void)arg;
	if (mcp_call_stateless(call) && sampled(call, "capital_question") == NULL) {
		return ask(call, result, NULL, "capital_question", ASK_CAPITAL, NULL);
	}
	return fixture_text(result, "sampling is declared");
}

/* Asks by input_required, never by a request on the response stream. */
static int t_streaming_elicitation(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	const char *name = elicited(call, "user_name", "name");

	(void)args;
	(void)arg;
	if (!mcp_call_stateless(call) || name != NULL) {
		return fixture_text(result, "Hello, %s!", name != NULL ? name : "stranger");
	}
	return ask(call, result, NULL, "user_name", ASK_NAME, NULL);
}

/* Logs one message, which the engine sends only when the request's _meta
 * asked for a log level. */
static int t_logging(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	int r;

	(void)args;
	(void)arg;
	if ((r = mcp_call_log(call, "info", "test_logging_tool",
	    cJSON_CreateString("a log message"))) != 0) {
		return r;
	}
	return fixture_text(result, "Logged one message at level info");
}

/* Takes its region in an Mcp-Param-Region header too (SEP-2243); the
 * engine checks that the header carries the argument. */
static int t_custom_header(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const cJSON *region = cJSON_GetObjectItemCaseSensitive(args, "region");

	(void)call;
	(void)arg;
	return fixture_text(result, "Region: %s", cJSON_IsString(region) ? region->valuestring : "");
}

/* Says the tool list changed (arg: the server), as a role change does in
 * zt: subscriptions/listen streams that asked are told. */
static int t_trigger_tool_change(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	(void)call;
	(void)args;
	mcp_server_tools_changed(arg);
	return fixture_text(result, "notifications/tools/list_changed sent");
}

static const struct mcp_tool tools26[] = {
	{ .name = "test_input_required_result_elicitation",
	  .description = "Asks the user's name with an input_required result",
	  .input_schema = EMPTY_SCHEMA, .handler = t_elicitation },
	{ .name = "test_input_required_result_sampling",
	  .description = "Asks the client's model with an input_required result",
	  .input_schema = EMPTY_SCHEMA, .handler = t_sampling },
	{ .name = "test_input_required_result_list_roots",
	  .description = "Asks the client's roots with an input_required result",
	  .input_schema = EMPTY_SCHEMA, .handler = t_roots },
	{ .name = "test_input_required_result_request_state",
	  .description = "Completes only with the requestState it sealed",
	  .input_schema = EMPTY_SCHEMA, .handler = t_request_state },
	{ .name = "test_input_required_result_multiple_inputs",
	  .description = "Asks for three inputs in one round",
	  .input_schema = EMPTY_SCHEMA, .handler = t_multiple },
	{ .name = "test_input_required_result_multi_round",
	  .description = "Asks in two rounds, carrying the first answer in its state",
	  .input_schema = EMPTY_SCHEMA, .handler = t_multi_round },
	{ .name = "test_input_required_result_tampered_state",
	  .description = "Seals its state; a changed state is refused",
	  .input_schema = EMPTY_SCHEMA, .handler = t_request_state },
	{ .name = "test_input_required_result_capabilities",
	  .description = "Asks only with the capabilities the request declares",
	  .input_schema = EMPTY_SCHEMA, .handler = t_capabilities },
	{ .name = "test_missing_capability",
	  .description = "Needs the client's sampling capability",
	  .input_schema = EMPTY_SCHEMA, .requires = "{\"sampling\":{}}",
	  .handler = t_missing_capability },
	{ .name = "test_streaming_elicitation",
	  .description = "Asks the user's name without a request on the response stream",
	  .input_schema = EMPTY_SCHEMA, .handler = t_streaming_elicitation },
	{ .name = "test_custom_header",
	  .description = "Takes its region argument in an Mcp-Param-Region header as well",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
	  "\"string\",\"x-mcp-header\":\"Region\"}},\"required\":[\"region\"]}",
	  .handler = t_custom_header },
	{ .name = "test_logging_tool",
	  .description = "Logs one message, sent only when the request asked for a log level",
	  .input_schema = EMPTY_SCHEMA, .handler = t_logging },
};

/* ---- the multi round-trip prompt ---- */

static int p_input_required(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *context = elicited(call, "user_context", "context");
	cJSON *res = NULL, *msgs = NULL, *m = NULL, *c = NULL;
	char buf[512];

	(void)args;
	(void)arg;
	if (context == NULL && mcp_call_stateless(call)) {
		return ask(call, result, NULL, "user_context", ASK_CONTEXT, NULL);
	}
	snprintf(buf, sizeof(buf), "Answer with this context: %s",
	    context != NULL ? context : "(none)");
	if ((res = cJSON_CreateObject()) == NULL ||
	    (msgs = cJSON_AddArrayToObject(res, "messages")) == NULL ||
	    (m = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(msgs, m) ||
	    cJSON_AddStringToObject(m, "role", "user") == NULL ||
	    (c = cJSON_AddObjectToObject(m, "content")) == NULL ||
	    cJSON_AddStringToObject(c, "type", "text") == NULL ||
	    cJSON_AddStringToObject(c, "text", buf) == NULL) {
		cJSON_Delete(res);
		return ZT_ERR_NOMEM;
	}
	*result = res;
	return 0;
}

static const struct mcp_prompt prompt26 = {
	.name = "test_input_required_result_prompt", .title = "Prompt With Input",
	.description = "Asks the user for context with an input_required result",
	.get = p_input_required,
};

int fixtures26_register(struct mcp_server *srv)
{
	size_t i;
	int r;

	struct mcp_tool trigger = { .name = "test_trigger_tool_change",
	    .description = "Tells listeners that the tool list changed",
	    .input_schema = EMPTY_SCHEMA, .handler = t_trigger_tool_change, .arg = srv };

	for (i = 0; i < sizeof(tools26) / sizeof(tools26[0]); i++) {
		if ((r = mcp_server_add_tool(srv, &tools26[i])) != 0) {
			return r;
		}
	}
	if ((r = mcp_server_add_tool(srv, &trigger)) != 0) {
		return r;
	}
	if ((r = mcp_server_add_prompt(srv, &prompt26)) != 0) {
		return r;
	}
	return fixtures_tasks_register(srv);
}
