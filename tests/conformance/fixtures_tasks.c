/*
 * fixtures_tasks.c - the tools the conformance suite's tasks-extension
 * scenarios call (io.modelcontextprotocol/tasks, SEP-2663), by name:
 * greet (never a task), slow_compute (a task when the client declares the
 * extension), failing_job and test_tool_with_task (tasks only),
 * protocol_error_job (a task that fails), confirm_delete and multi_input
 * (tasks that wait for input). The engine (mcp/mcp_tasks.c) makes the
 * tasks; a fixture is an ordinary handler that sleeps, answers, or asks.
 */
#include "tests/conformance/fixtures.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

#define SLOW_MAX_S 600
#define FAILING_JOB_MS 1000
#define CONFIRM_SCHEMA "{\"type\":\"object\",\"properties\":{\"confirm\":{\"type\":\"boolean\"}}," \
	"\"required\":[\"confirm\"]}"
#define NAME_SCHEMA "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}," \
	"\"required\":[\"name\"]}"


/* An elicitation/create input request in form mode (owned), or NULL. */
static cJSON *form(const char *message, const char *schema)
{
	cJSON *q = cJSON_CreateObject(), *p = NULL;

	if (q == NULL || cJSON_AddStringToObject(q, "method", "elicitation/create") == NULL ||
	    (p = cJSON_AddObjectToObject(q, "params")) == NULL ||
	    cJSON_AddStringToObject(p, "mode", "form") == NULL ||
	    cJSON_AddStringToObject(p, "message", message) == NULL) {
		cJSON_Delete(q);
		return NULL;
	}
	cJSON_AddItemToObject(p, "requestedSchema", cJSON_Parse(schema));
	return q;
}

/* 1 if the answer to key is an accepted elicitation. */
static int accepted(const struct mcp_call *call, const char *key)
{
	const char *a = mcp_input_elicit(mcp_call_input(call, key), NULL);

	return a != NULL && strcmp(a, "accept") == 0;
}

static const char *str_arg(const cJSON *args, const char *name, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static int t_greet(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)arg;
	return fixture_text(result, "Hello, %s!", str_arg(args, "name", "World"));
}

/* Sleeps `seconds` (a cancellation ends it at once). */
static int t_slow(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(args, "seconds");
	int s = cJSON_IsNumber(sec) && sec->valuedouble > 0 ? (int)sec->valuedouble : 0;
	int r;

	(void)arg;
	if (s > SLOW_MAX_S) {
		s = SLOW_MAX_S;
	}
	if (s > 0 && (r = mcp_call_sleep(call, s * 1000)) != 0) {
		return r;
	}
	return fixture_text(result, "%s done after %ds", str_arg(args, "label", "slow_compute"), s);
}

static int t_failing(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	int r;

	(void)args;
	(void)arg;
	if ((r = mcp_call_sleep(call, FAILING_JOB_MS)) != 0) {
		return r;
	}
	*result = mcp_result_error("failing_job failed, as it always does");
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* A failure of the handler itself: the task ends failed, with an error. */
static int t_protocol_error(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	(void)call;
	(void)args;
	(void)result;
	(void)arg;
	return ZT_ERR_INTERNAL;
}

static int t_confirm_delete(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	const char *file = str_arg(args, "filename", "the file");
	char msg[300];
	cJSON *reqs = NULL;

	(void)arg;
	if (accepted(call, "confirm")) {
		return fixture_text(result, "Deleted %s", file);
	}
	snprintf(msg, sizeof(msg), "Confirm deletion of %s?", file);
	if ((reqs = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(reqs, "confirm", form(msg, CONFIRM_SCHEMA));
	return mcp_result_input_required(call, reqs, NULL, result);
}

/* Two questions at once; completes once both are answered. */
static int t_multi_input(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *reqs = NULL;

	(void)args;
	(void)arg;
	if (accepted(call, "first") && accepted(call, "second")) {
		return fixture_text(result, "Both answers received");
	}
	if ((reqs = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(reqs, "first", form("First: your name?", NAME_SCHEMA));
	cJSON_AddItemToObject(reqs, "second", form("Second: confirm?", CONFIRM_SCHEMA));
	return mcp_result_input_required(call, reqs, NULL, result);
}

/* The name in the answer to user_name (content.name, or content.user_name). */
static const char *answered_name(const struct mcp_call *call)
{
	const cJSON *content = NULL, *v = NULL;
	const char *a = mcp_input_elicit(mcp_call_input(call, "user_name"), &content);

	if (a == NULL || strcmp(a, "accept") != 0) {
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(content, "name");
	if (!cJSON_IsString(v)) {
		v = cJSON_GetObjectItemCaseSensitive(content, "user_name");
	}
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Asks the user's name in the request itself, before the task. */
static int t_with_task_first(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	cJSON *reqs = NULL;

	(void)args;
	(void)arg;
	*result = NULL;
	if (answered_name(call) != NULL) {
		return 0;
	}
	if ((reqs = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(reqs, "user_name", form("What is your name?", NAME_SCHEMA));
	return mcp_result_input_required(call, reqs, NULL, result);
}

static int t_with_task(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *name = answered_name(call);

	(void)args;
	(void)arg;
	return fixture_text(result, "Hello, %s, from a task!", name != NULL ? name : "stranger");
}

#define OBJ "{\"type\":\"object\",\"properties\":{}}"

static const struct mcp_tool tools[] = {
	{ .name = "greet", .description = "Greets by name; never a task",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}",
	  .handler = t_greet },
	{ .name = "slow_compute", .description = "Sleeps `seconds`; a task when the client "
	  "declares the tasks extension",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":\"integer\"},"
	  "\"label\":{\"type\":\"string\"}}}",
	  .task_support = MCP_TASK_OPTIONAL, .handler = t_slow },
	{ .name = "failing_job", .description = "A task that ends with a tool error",
	  .input_schema = OBJ, .task_support = MCP_TASK_REQUIRED, .handler = t_failing },
	{ .name = "protocol_error_job", .description = "A task whose handler fails",
	  .input_schema = OBJ, .task_support = MCP_TASK_OPTIONAL, .handler = t_protocol_error },
	{ .name = "confirm_delete", .description = "A task that asks for a confirmation",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"filename\":{\"type\":"
	  "\"string\"}}}",
	  .task_support = MCP_TASK_OPTIONAL, .handler = t_confirm_delete },
	{ .name = "multi_input", .description = "A task that asks two questions at once",
	  .input_schema = OBJ, .task_support = MCP_TASK_OPTIONAL, .handler = t_multi_input },
	{ .name = "test_tool_with_task", .description = "Asks a name in the request, then "
	  "greets from a task", .input_schema = OBJ, .task_support = MCP_TASK_REQUIRED,
	  .before_task = t_with_task_first, .handler = t_with_task },
};

int fixtures_tasks_register(struct mcp_server *srv)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if ((r = mcp_server_add_tool(srv, &tools[i])) != 0) {
			return r;
		}
	}
	return 0;
}
