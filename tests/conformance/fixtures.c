/*
 * fixtures.c - the fixtures of the MCP conformance suite, registered on an
 * mcp_server for the test-only conformance server (tests/conformance/).
 *
 * The official suite (@modelcontextprotocol/conformance) calls tools,
 * resources, prompts and completions by fixed names and checks their
 * content; SCENARIOS.md lists what each scenario sends and expects. The
 * fixtures use only the public engine API (mcp/mcp.h), so every scenario
 * exercises the real engine and the real Streamable HTTP transport.
 */
#include "tests/conformance/fixtures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* A 1x1 red PNG and a 4-sample silent 8 kHz 16-bit mono WAV. */
#define PNG_B64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3" \
	"A0FDAAAAAElFTkSuQmCC"
#define WAV_B64 "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQgAAAAAAAAAAAAAAA=="

#define CLIENT_REQUEST_TIMEOUT_MS 30000
#define RECONNECT_RETRY_MS 500
#define TEMPLATE_PREFIX "test://template/"
#define TEMPLATE_SUFFIX "/data"
#define TEMPLATE_ID_MAX 64
#define COMPLETION_MAX 16

#define EMPTY_SCHEMA "{\"type\":\"object\",\"properties\":{}}"

/* ---- helpers ---- */

/* Appends item (taken, may be NULL) to result's "content" array. */
static int add_content(cJSON *result, cJSON *item)
{
	cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");

	if (item == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!cJSON_IsArray(content) || !cJSON_AddItemToArray(content, item)) {
		cJSON_Delete(item);
		return ZT_ERR_INTERNAL;
	}
	return 0;
}

/* {"type":"resource","resource":{"uri":..,"mimeType":..,"text":..}} (owned). */
static cJSON *embedded_text(const char *uri, const char *mime, const char *text)
{
	cJSON *item = cJSON_CreateObject(), *res = NULL;

	if (item == NULL || cJSON_AddStringToObject(item, "type", "resource") == NULL ||
	    (res = cJSON_AddObjectToObject(item, "resource")) == NULL ||
	    cJSON_AddStringToObject(res, "uri", uri) == NULL ||
	    cJSON_AddStringToObject(res, "mimeType", mime) == NULL ||
	    cJSON_AddStringToObject(res, "text", text) == NULL) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

int fixture_text(cJSON **result, const char *fmt, ...)
{
	cJSON *res = NULL;
	char *text = NULL;
	va_list ap;
	int r = ZT_ERR_NOMEM;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		text = NULL;
	}
	va_end(ap);
	if (text == NULL || (res = mcp_result_new(0)) == NULL) {
		goto out;
	}
	if ((r = mcp_result_add_text(res, text)) != 0) {
		goto out;
	}
	*result = res;
	res = NULL;
	r = 0;
out:
	cJSON_Delete(res);
	free(text);
	return r;
}

/* Hands res to *result when r is 0 (a NULL res meaning out of memory),
 * else frees it; returns 0 or the error. */
static int finish(cJSON **result, cJSON *res, int r)
{
	if (r == 0 && res == NULL) {
		r = ZT_ERR_NOMEM;
	}
	if (r != 0) {
		cJSON_Delete(res);
		return r;
	}
	*result = res;
	return 0;
}

/* A tool error result (isError) from a message. */
static int error_result(cJSON **result, const char *what, int err)
{
	*result = mcp_result_error("%s: %s", what, zt_strerror(err));
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

static const char *str_arg(const cJSON *args, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- tools: content types ---- */

static int tool_simple_text(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	return fixture_text(result, "This is a simple text response for testing.");
}

struct media {
	const char *type, *base64, *mime;
};

static struct media png_image = { "image", PNG_B64, "image/png" };
static struct media wav_audio = { "audio", WAV_B64, "audio/wav" };

/* Returns the struct media given as the tool's arg. */
static int tool_media(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const struct media *m = arg;
	cJSON *res = mcp_result_new(0);

	(void)call;
	(void)args;
	return finish(result, res, res == NULL ? ZT_ERR_NOMEM :
	    mcp_result_add_media(res, m->type, m->base64, m->mime));
}


static int tool_embedded_resource(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	cJSON *res = mcp_result_new(0);

	(void)call;
	(void)args;
	(void)arg;
	return finish(result, res, res == NULL ? ZT_ERR_NOMEM : add_content(res,
	    embedded_text("test://embedded-resource", "text/plain",
	    "This is an embedded resource content.")));
}

static int tool_mixed(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *res = mcp_result_new(0);
	int r = ZT_ERR_NOMEM;

	(void)call;
	(void)args;
	(void)arg;
	if (res != NULL && (r = mcp_result_add_text(res, "Multiple content types test:")) == 0 &&
	    (r = mcp_result_add_media(res, "image", PNG_B64, "image/png")) == 0) {
		r = add_content(res, embedded_text("test://mixed-content-resource",
		    "application/json", "{\"test\":\"data\",\"value\":123}"));
	}
	return finish(result, res, r);
}

static int tool_error(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)call;
	(void)args;
	(void)arg;
	*result = mcp_result_error("This tool intentionally returns an error for testing");
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

static int tool_schema_2020_12(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	char *json = cJSON_PrintUnformatted(args);
	int r;

	(void)call;
	(void)arg;
	if (json == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = fixture_text(result, "JSON Schema 2020-12 tool called with: %s", json);
	free(json);
	return r;
}

/* ---- tools: notifications during a call ---- */

static int tool_logging(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	static const char *const steps[] = {
		"Tool execution started", "Tool processing data", "Tool execution completed",
	};
	cJSON *data;
	size_t i;
	int r;

	(void)args;
	(void)arg;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (i > 0 && (r = mcp_call_sleep(call, 50)) != 0) {
			return r;
		}
		if ((data = cJSON_CreateString(steps[i])) == NULL) {
			return ZT_ERR_NOMEM;
		}
		(void)mcp_call_log(call, "info", "conformance-fixtures", data);
	}
	return fixture_text(result, "Tool with logging executed successfully");
}

static int tool_progress(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	int step, r;

	(void)args;
	(void)arg;
	for (step = 0; step <= 100; step += 50) {
		if (step > 0 && (r = mcp_call_sleep(call, 50)) != 0) {
			return r;
		}
		(void)mcp_call_progress(call, step, 100, NULL);
	}
	return fixture_text(result, "Tool with progress executed successfully");
}

/* Closes the call's SSE connection before answering, so that the client
 * must resume with Last-Event-ID to get the result (SEP-1699). */
static int tool_reconnection(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	int r;

	(void)args;
	(void)arg;
	mcp_call_close_stream(call, RECONNECT_RETRY_MS);
	if ((r = mcp_call_sleep(call, 100)) != 0) {
		return r;
	}
	return fixture_text(result, "Reconnection test completed successfully. If you received "
	    "this, the client properly reconnected after stream closure.");
}

/* ---- tools: requests to the client ---- */

/* The text of a sampling result's content (an object or an array of
 * blocks), or NULL. */
static const char *sampled_text(const cJSON *answer)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(answer, "content");

	if (cJSON_IsArray(content)) {
		content = cJSON_GetArrayItem(content, 0);
	}
	return str_arg(content, "text");
}

static int tool_sampling(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *prompt = str_arg(args, "prompt"), *text;
	cJSON *params = NULL, *msg, *content, *messages, *answer = NULL;
	int r = ZT_ERR_NOMEM;

	(void)arg;
	if (prompt == NULL) {
		*result = mcp_result_error("argument 'prompt' (string) is required");
		r = *result != NULL ? 0 : ZT_ERR_NOMEM;
		goto out;
	}
	if (!mcp_call_client_supports(call, "sampling")) {
		*result = mcp_result_error("the client does not support sampling");
		r = *result != NULL ? 0 : ZT_ERR_NOMEM;
		goto out;
	}
	if ((params = cJSON_CreateObject()) == NULL ||
	    (messages = cJSON_AddArrayToObject(params, "messages")) == NULL ||
	    (msg = cJSON_CreateObject()) == NULL) {
		goto out;
	}
	cJSON_AddItemToArray(messages, msg);
	if (cJSON_AddStringToObject(msg, "role", "user") == NULL ||
	    (content = cJSON_AddObjectToObject(msg, "content")) == NULL ||
	    cJSON_AddStringToObject(content, "type", "text") == NULL ||
	    cJSON_AddStringToObject(content, "text", prompt) == NULL ||
	    cJSON_AddNumberToObject(params, "maxTokens", 100) == NULL) {
		goto out;
	}
	r = mcp_call_request(call, "sampling/createMessage", params, CLIENT_REQUEST_TIMEOUT_MS,
	    &answer);
	params = NULL;
	if (r == ZT_ERR_CANCELLED) {
		goto out;
	}
	if (r != 0) {
		r = error_result(result, "sampling failed", r);
		goto out;
	}
	text = sampled_text(answer);
	r = fixture_text(result, "LLM response: %s", text != NULL ? text : "(no text)");
out:
	cJSON_Delete(params);
	cJSON_Delete(answer);
	return r;
}

/* Sends elicitation/create with message and the requestedSchema given as
 * JSON text; answers "<label>: action=..., content=...". */
static int elicit(struct mcp_call *call, const char *message, const char *schema_json,
    const char *label, cJSON **result)
{
	cJSON *params = NULL, *schema = NULL, *answer = NULL;
	const cJSON *content;
	const char *action;
	char *content_json = NULL;
	int r = ZT_ERR_NOMEM;

	if (!mcp_call_client_supports(call, "elicitation")) {
		*result = mcp_result_error("the client does not support elicitation");
		r = *result != NULL ? 0 : ZT_ERR_NOMEM;
		goto out;
	}
	if ((schema = cJSON_Parse(schema_json)) == NULL) {
		r = ZT_ERR_INTERNAL;
		goto out;
	}
	if ((params = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(params, "mode", "form") == NULL ||
	    cJSON_AddStringToObject(params, "message", message) == NULL ||
	    !cJSON_AddItemToObject(params, "requestedSchema", schema)) {
		goto out;
	}
	schema = NULL;
	r = mcp_call_request(call, "elicitation/create", params, CLIENT_REQUEST_TIMEOUT_MS,
	    &answer);
	params = NULL;
	if (r == ZT_ERR_CANCELLED) {
		goto out;
	}
	if (r != 0) {
		r = error_result(result, "elicitation failed", r);
		goto out;
	}
	action = str_arg(answer, "action");
	content = cJSON_GetObjectItemCaseSensitive(answer, "content");
	if (content != NULL && (content_json = cJSON_PrintUnformatted(content)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	r = fixture_text(result, "%s: action=%s, content=%s", label,
	    action != NULL ? action : "(none)", content_json != NULL ? content_json : "{}");
out:
	cJSON_Delete(schema);
	cJSON_Delete(params);
	cJSON_Delete(answer);
	free(content_json);
	return r;
}

static int tool_elicitation(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *message = str_arg(args, "message");

	(void)arg;
	if (message == NULL) {
		*result = mcp_result_error("argument 'message' (string) is required");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	return elicit(call, message,
	    "{\"type\":\"object\",\"properties\":{"
	    "\"username\":{\"type\":\"string\",\"description\":\"User's response\"},"
	    "\"email\":{\"type\":\"string\",\"description\":\"User's email address\"}},"
	    "\"required\":[\"username\",\"email\"]}",
	    "User response", result);
}

static int tool_sep1034(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)args;
	(void)arg;
	return elicit(call, "Please review and update the form fields with defaults",
	    "{\"type\":\"object\",\"properties\":{"
	    "\"name\":{\"type\":\"string\",\"description\":\"User name\","
	    "\"default\":\"John Doe\"},"
	    "\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},"
	    "\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},"
	    "\"status\":{\"type\":\"string\",\"description\":\"User status\","
	    "\"enum\":[\"active\",\"inactive\",\"pending\"],\"default\":\"active\"},"
	    "\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\","
	    "\"default\":true}},"
	    "\"required\":[]}",
	    "Elicitation completed", result);
}

static int tool_sep1330(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	(void)args;
	(void)arg;
	return elicit(call, "Please select options from the enum fields",
	    "{\"type\":\"object\",\"properties\":{"
	    "\"untitledSingle\":{\"type\":\"string\",\"description\":\"Select one option\","
	    "\"enum\":[\"option1\",\"option2\",\"option3\"]},"
	    "\"titledSingle\":{\"type\":\"string\",\"description\":\"Select one titled option\","
	    "\"oneOf\":[{\"const\":\"value1\",\"title\":\"First Option\"},"
	    "{\"const\":\"value2\",\"title\":\"Second Option\"},"
	    "{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
	    "\"legacyEnum\":{\"type\":\"string\",\"description\":\"Select one (legacy titles)\","
	    "\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
	    "\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]},"
	    "\"untitledMulti\":{\"type\":\"array\",\"description\":\"Select several options\","
	    "\"minItems\":1,\"maxItems\":3,"
	    "\"items\":{\"type\":\"string\",\"enum\":[\"option1\",\"option2\",\"option3\"]}},"
	    "\"titledMulti\":{\"type\":\"array\",\"description\":\"Select several titled options\","
	    "\"minItems\":1,\"maxItems\":3,"
	    "\"items\":{\"anyOf\":[{\"const\":\"value1\",\"title\":\"First Choice\"},"
	    "{\"const\":\"value2\",\"title\":\"Second Choice\"},"
	    "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},"
	    "\"required\":[]}",
	    "Elicitation completed", result);
}

static const struct mcp_tool tools[] = {
	{ .name = "test_simple_text", .description = "Returns simple text content",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_simple_text },
	{ .name = "test_image_content", .description = "Returns an image (1x1 PNG)",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_media, .arg = &png_image },
	{ .name = "test_audio_content", .description = "Returns audio (a short WAV)",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_media, .arg = &wav_audio },
	{ .name = "test_embedded_resource", .description = "Returns an embedded resource",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_embedded_resource },
	{ .name = "test_multiple_content_types",
	  .description = "Returns text, image and resource content",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_mixed },
	{ .name = "test_tool_with_logging", .description = "Sends three log messages while running",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_logging },
	{ .name = "test_error_handling", .description = "Always fails with a tool error",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_error },
	{ .name = "test_tool_with_progress", .description = "Reports progress 0, 50, 100 of 100",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_progress },
	{ .name = "test_sampling", .description = "Asks the client's LLM (sampling/createMessage)",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":\"string\","
	  "\"description\":\"The prompt to send to the LLM\"}},\"required\":[\"prompt\"]}",
	  .handler = tool_sampling },
	{ .name = "test_elicitation", .description = "Asks the user for input (elicitation/create)",
	  .input_schema = "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\","
	  "\"description\":\"The message to show the user\"}},\"required\":[\"message\"]}",
	  .handler = tool_elicitation },
	{ .name = "test_elicitation_sep1034_defaults",
	  .description = "Elicitation with defaults for every primitive type (SEP-1034)",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_sep1034 },
	{ .name = "test_elicitation_sep1330_enums",
	  .description = "Elicitation with the five enum schema variants (SEP-1330)",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_sep1330 },
	{ .name = "test_reconnection",
	  .description = "Closes the SSE stream mid-call; the result comes after the client "
	  "resumes (SEP-1699)",
	  .input_schema = EMPTY_SCHEMA, .handler = tool_reconnection },
	{ .name = "json_schema_2020_12_tool",
	  .description = "Tool with JSON Schema 2020-12 features",
	  .input_schema = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
	  "\"type\":\"object\",\"$defs\":{\"address\":{\"$anchor\":\"addressDef\","
	  "\"type\":\"object\",\"properties\":{"
	  "\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
	  "\"properties\":{\"name\":{\"type\":\"string\"},"
	  "\"address\":{\"$ref\":\"#/$defs/address\"},"
	  "\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\",\"email\"]},"
	  "\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
	  "\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},{\"required\":[\"email\"]}]}],"
	  "\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},"
	  "\"required\":[\"contactMethod\"]},"
	  "\"then\":{\"required\":[\"phone\"]},\"else\":{\"required\":[\"email\"]},"
	  "\"additionalProperties\":false}",
	  .handler = tool_schema_2020_12 },
};

/* ---- resources ---- */

struct fixture_resource {
	const char *uri, *name, *title, *description, *mime;
	const char *text;   /* or */
	const char *blob;   /* base64 */
};

static const struct fixture_resource resources[] = {
	{ "test://static-text", "static-text", "Static Text Resource",
	  "A static text resource for testing", "text/plain",
	  "This is the content of the static text resource.", NULL },
	{ "test://static-binary", "static-binary", "Static Binary Resource",
	  "A static binary resource (a PNG image) for testing", "image/png", NULL, PNG_B64 },
	{ "test://watched-resource", "watched-resource", "Watched Resource",
	  "A resource clients may subscribe to", "text/plain", "Watched resource content", NULL },
};

static int res_list(struct mcp_call *call, cJSON *out, void *arg)
{
	const struct fixture_resource *f;
	cJSON *item;
	size_t i;

	(void)call;
	(void)arg;
	for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		f = &resources[i];
		if ((item = cJSON_CreateObject()) == NULL) {
			return ZT_ERR_NOMEM;
		}
		cJSON_AddItemToArray(out, item);
		if (cJSON_AddStringToObject(item, "uri", f->uri) == NULL ||
		    cJSON_AddStringToObject(item, "name", f->name) == NULL ||
		    cJSON_AddStringToObject(item, "title", f->title) == NULL ||
		    cJSON_AddStringToObject(item, "description", f->description) == NULL ||
		    cJSON_AddStringToObject(item, "mimeType", f->mime) == NULL) {
			return ZT_ERR_NOMEM;
		}
	}
	return 0;
}

static int res_templates(struct mcp_call *call, cJSON *out, void *arg)
{
	cJSON *item = cJSON_CreateObject();

	(void)call;
	(void)arg;
	if (item == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToArray(out, item);
	if (cJSON_AddStringToObject(item, "uriTemplate",
	    TEMPLATE_PREFIX "{id}" TEMPLATE_SUFFIX) == NULL ||
	    cJSON_AddStringToObject(item, "name", "template") == NULL ||
	    cJSON_AddStringToObject(item, "title", "Resource Template") == NULL ||
	    cJSON_AddStringToObject(item, "description",
	    "A resource template with parameter substitution") == NULL ||
	    cJSON_AddStringToObject(item, "mimeType", "application/json") == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Copies the {id} of a test://template/{id}/data URI into id: 0, or
 * ZT_ERR_NOT_FOUND when uri is no such URI or the id is empty, too long or
 * holds anything but letters, digits, '-' and '_'. */
static int template_id(const char *uri, char id[TEMPLATE_ID_MAX + 1])
{
	size_t plen = strlen(TEMPLATE_PREFIX), slen = strlen(TEMPLATE_SUFFIX), n, i;
	size_t len = strlen(uri);

	if (len <= plen + slen || strncmp(uri, TEMPLATE_PREFIX, plen) != 0 ||
	    strcmp(uri + len - slen, TEMPLATE_SUFFIX) != 0) {
		return ZT_ERR_NOT_FOUND;
	}
	n = len - plen - slen;
	if (n > TEMPLATE_ID_MAX) {
		return ZT_ERR_NOT_FOUND;
	}
	for (i = 0; i < n; i++) {
		char c = uri[plen + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')) {
			return ZT_ERR_NOT_FOUND;
		}
	}
	memcpy(id, uri + plen, n);
	id[n] = '\0';
	return 0;
}

/* Appends {uri, mimeType, text|blob} to contents. */
static int add_contents(cJSON *contents, const char *uri, const char *mime, const char *key,
    const char *value)
{
	cJSON *item = cJSON_CreateObject();

	if (item == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToArray(contents, item);
	if (cJSON_AddStringToObject(item, "uri", uri) == NULL ||
	    cJSON_AddStringToObject(item, "mimeType", mime) == NULL ||
	    cJSON_AddStringToObject(item, key, value) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static int res_read(struct mcp_call *call, const char *uri, cJSON *contents, void *arg)
{
	const struct fixture_resource *f;
	char id[TEMPLATE_ID_MAX + 1];
	cJSON *data = NULL;
	char *text = NULL, *desc = NULL;
	size_t i;
	int r;

	(void)call;
	(void)arg;
	for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		f = &resources[i];
		if (strcmp(uri, f->uri) == 0) {
			return add_contents(contents, f->uri, f->mime,
			    f->text != NULL ? "text" : "blob", f->text != NULL ? f->text : f->blob);
		}
	}
	if ((r = template_id(uri, id)) != 0) {
		return r;
	}
	r = ZT_ERR_NOMEM;
	if (asprintf(&desc, "Data for ID: %s", id) < 0) {
		desc = NULL;
		goto out;
	}
	if ((data = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(data, "id", id) == NULL ||
	    cJSON_AddTrueToObject(data, "templateTest") == NULL ||
	    cJSON_AddStringToObject(data, "data", desc) == NULL ||
	    (text = cJSON_PrintUnformatted(data)) == NULL) {
		goto out;
	}
	r = add_contents(contents, uri, "application/json", "text", text);
out:
	cJSON_Delete(data);
	free(text);
	free(desc);
	return r;
}

static const struct mcp_resource_provider provider = {
	.list = res_list, .templates = res_templates, .read = res_read,
};

/* ---- prompts ---- */

/* Appends {"role":"user","content":content} (content taken, may be NULL)
 * to result's "messages". */
static int add_message(cJSON *result, cJSON *content)
{
	cJSON *messages = cJSON_GetObjectItemCaseSensitive(result, "messages"), *msg;

	if (content == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((msg = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(content);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToArray(messages, msg);
	if (cJSON_AddStringToObject(msg, "role", "user") == NULL) {
		cJSON_Delete(content);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(msg, "content", content);
	return 0;
}

static cJSON *text_block(const char *text)
{
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || cJSON_AddStringToObject(c, "type", "text") == NULL ||
	    cJSON_AddStringToObject(c, "text", text) == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static cJSON *image_block(void)
{
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || cJSON_AddStringToObject(c, "type", "image") == NULL ||
	    cJSON_AddStringToObject(c, "data", PNG_B64) == NULL ||
	    cJSON_AddStringToObject(c, "mimeType", "image/png") == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* {"messages": []} (owned). */
static cJSON *prompt_result_new(void)
{
	cJSON *res = cJSON_CreateObject();

	if (res == NULL || cJSON_AddArrayToObject(res, "messages") == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

static int prompt_simple(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *res = prompt_result_new();

	(void)call;
	(void)args;
	(void)arg;
	return finish(result, res, res == NULL ? ZT_ERR_NOMEM :
	    add_message(res, text_block("This is a simple prompt for testing.")));
}

static int prompt_with_args(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *a1 = str_arg(args, "arg1"), *a2 = str_arg(args, "arg2");
	cJSON *res = NULL;
	char *text = NULL;
	int r;

	(void)call;
	(void)arg;
	if (a1 == NULL || a2 == NULL) {
		return ZT_ERR_INVALID;
	}
	if (asprintf(&text, "Prompt with arguments: arg1='%s', arg2='%s'", a1, a2) < 0) {
		return ZT_ERR_NOMEM;
	}
	res = prompt_result_new();
	r = finish(result, res, res == NULL ? ZT_ERR_NOMEM : add_message(res, text_block(text)));
	free(text);
	return r;
}

static int prompt_embedded(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const char *uri = str_arg(args, "resourceUri");
	cJSON *res;
	int r = ZT_ERR_NOMEM;

	(void)call;
	(void)arg;
	if (uri == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((res = prompt_result_new()) != NULL && (r = add_message(res, embedded_text(uri,
	    "text/plain", "Embedded resource content for testing."))) == 0) {
		r = add_message(res, text_block("Please process the embedded resource above."));
	}
	return finish(result, res, r);
}

static int prompt_image(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	cJSON *res = prompt_result_new();
	int r = ZT_ERR_NOMEM;

	(void)call;
	(void)args;
	(void)arg;
	if (res != NULL && (r = add_message(res, image_block())) == 0) {
		r = add_message(res, text_block("Please analyze the image above."));
	}
	return finish(result, res, r);
}

static const struct mcp_prompt prompts[] = {
	{ .name = "test_simple_prompt", .title = "Simple Test Prompt",
	  .description = "A simple prompt without arguments", .get = prompt_simple },
	{ .name = "test_prompt_with_arguments", .title = "Prompt With Arguments",
	  .description = "A prompt with required arguments",
	  .arguments = "[{\"name\":\"arg1\",\"description\":\"First test argument\","
	  "\"required\":true},{\"name\":\"arg2\",\"description\":\"Second test argument\","
	  "\"required\":true}]",
	  .get = prompt_with_args },
	{ .name = "test_prompt_with_embedded_resource", .title = "Prompt With Embedded Resource",
	  .description = "A prompt that includes an embedded resource",
	  .arguments = "[{\"name\":\"resourceUri\",\"description\":\"URI of the resource to "
	  "embed\",\"required\":true}]",
	  .get = prompt_embedded },
	{ .name = "test_prompt_with_image", .title = "Prompt With Image",
	  .description = "A prompt that includes image content", .get = prompt_image },
};

/* ---- completion ---- */

struct completion_source {
	const char *ref_type, *ref_name, *argument;
	const char *values[6];
};

static const struct completion_source completions[] = {
	{ "ref/prompt", "test_prompt_with_arguments", "arg1",
	  { "test", "testValue1", "testing", "paris", "park", NULL } },
	{ "ref/prompt", "test_prompt_with_arguments", "arg2",
	  { "testValue2", "world", "wonder", NULL } },
	{ "ref/resource", TEMPLATE_PREFIX "{id}" TEMPLATE_SUFFIX, "id",
	  { "1", "12", "123", "42", NULL } },
};

/* Offers the values of the matching source that start with what the user
 * typed; an unknown reference gets no values. */
static int complete(struct mcp_call *call, const cJSON *ref, const cJSON *argument,
    const cJSON *context, cJSON **completion, void *arg)
{
	const char *type = str_arg(ref, "type"), *name = str_arg(argument, "name");
	const char *typed = str_arg(argument, "value"), *target;
	const struct completion_source *src = NULL;
	cJSON *res = NULL, *values;
	size_t i, n = 0;
	int r = ZT_ERR_NOMEM;

	(void)call;
	(void)context;
	(void)arg;
	target = str_arg(ref, type != NULL && strcmp(type, "ref/resource") == 0 ? "uri" : "name");
	for (i = 0; i < sizeof(completions) / sizeof(completions[0]); i++) {
		if (type != NULL && target != NULL && name != NULL &&
		    strcmp(type, completions[i].ref_type) == 0 &&
		    strcmp(target, completions[i].ref_name) == 0 &&
		    strcmp(name, completions[i].argument) == 0) {
			src = &completions[i];
		}
	}
	if ((res = cJSON_CreateObject()) == NULL ||
	    (values = cJSON_AddArrayToObject(res, "values")) == NULL) {
		goto out;
	}
	for (i = 0; src != NULL && i < COMPLETION_MAX && src->values[i] != NULL; i++) {
		if (typed != NULL && strncmp(src->values[i], typed, strlen(typed)) != 0) {
			continue;
		}
		if (!cJSON_AddItemToArray(values, cJSON_CreateString(src->values[i]))) {
			goto out;
		}
		n++;
	}
	if (cJSON_AddNumberToObject(res, "total", (double)n) == NULL ||
	    cJSON_AddFalseToObject(res, "hasMore") == NULL) {
		goto out;
	}
	*completion = res;
	res = NULL;
	r = 0;
out:
	cJSON_Delete(res);
	return r;
}

/* ---- registration ---- */

int fixtures_register(struct mcp_server *srv)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if ((r = mcp_server_add_tool(srv, &tools[i])) != 0) {
			return r;
		}
	}
	if ((r = mcp_server_add_resources(srv, &provider)) != 0) {
		return r;
	}
	for (i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		if ((r = mcp_server_add_prompt(srv, &prompts[i])) != 0) {
			return r;
		}
	}
	mcp_server_set_completion(srv, complete, NULL);
	return fixtures26_register(srv);
}
