/*
 * mcp_methods.c - the MCP request methods: initialize and ping, tools,
 * resources, prompts, logging/setLevel and completion/complete.
 *
 * Each method checks its params and names the offending field in a
 * -32602, runs the registered callbacks and builds the result. Lists are
 * paged with an opaque cursor: base64url of "o:<offset>", the offset into
 * the list as this caller sees it (a tool hidden from the caller takes no
 * place). A cursor that does not decode is -32602; a well-formed one past
 * the end gives an empty page. Methods of a feature the server offers
 * nothing for (no tools, no prompts, no resource providers) are -32601,
 * matching the capabilities initialize declared; logging and completions
 * are always declared.
 */
#include "mcp/mcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp_int.h"

#define MCP_CURSOR_PREFIX "o:"

int mcp_fail(struct mcp_rpc_error *e, int code, cJSON *data, const char *fmt, ...)
{
	va_list ap;
	int w;

	e->code = code;
	va_start(ap, fmt);
	w = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	mcp_text_cut(e->message, sizeof(e->message), w);
	cJSON_Delete(e->data);
	e->data = data;
	return ZT_ERR_INVALID;
}

/* Maps a callback's failure to a JSON-RPC error (or passes cancellation
 * through). what names the thing that failed. */
static int fail_from(struct mcp_rpc_error *e, int r, const char *what)
{
	if (r == ZT_ERR_CANCELLED) {
		return r;
	}
	if (r == ZT_ERR_NOMEM) {
		mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
		return r;
	}
	mcp_fail(e, MCP_ERR_INTERNAL, NULL, "%s failed: %s", what, zt_strerror(r));
	return r < 0 ? r : ZT_ERR_INTERNAL;
}

/* A string param; required or not. Absent and not required: *out NULL. */
static int param_str(const cJSON *params, const char *key, size_t max, int required,
    const char **out, struct mcp_rpc_error *e)
{
	int r;

	*out = NULL;
	r = params != NULL ? json_get_str(params, key, max, 1, out) : ZT_ERR_NOT_FOUND;
	if (r == 0) {
		return 0;
	}
	if (r == ZT_ERR_NOT_FOUND) {
		if (!required) {
			return 0;
		}
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "missing params.%s", key);
	}
	if (r == ZT_ERR_TOO_LARGE) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "params.%s is too long", key);
	}
	return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "params.%s must be a string", key);
}

/* An object param; absent: *out NULL (0), or -32602 when required. */
static int param_obj(const cJSON *params, const char *key, int required, const cJSON **out,
    struct mcp_rpc_error *e)
{
	int r;

	*out = NULL;
	r = params != NULL ? json_get_obj(params, key, out) : ZT_ERR_NOT_FOUND;
	if (r == 0) {
		return 0;
	}
	if (r == ZT_ERR_NOT_FOUND && !required) {
		return 0;
	}
	if (r == ZT_ERR_NOT_FOUND) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "missing params.%s", key);
	}
	return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "params.%s must be an object", key);
}

/* The session's version is 2025-03-26, which has no titles nor output
 * schemas. */
static int is_2025_03(const struct mcp_call *c)
{
	const char *v = mcp_session_protocol_version(c->s);

	return v != NULL && strcmp(v, "2025-03-26") == 0;
}

/* ---- pagination ---- */

static int cursor_encode(size_t offset, char *out, size_t outsz)
{
	char plain[32];

	snprintf(plain, sizeof(plain), MCP_CURSOR_PREFIX "%zu", offset);
	return crypto_b64url(plain, strlen(plain), out, outsz);
}

/* Decodes a cursor to an offset: 0 or ZT_ERR_INVALID. */
static int cursor_decode(const char *cursor, size_t *offset)
{
	char std[MCP_CURSOR_MAX + 4];
	uint8_t *dec = NULL;
	size_t n, i, declen = 0, v = 0, plen = strlen(MCP_CURSOR_PREFIX);
	int r = ZT_ERR_INVALID;

	n = strlen(cursor);
	if (n == 0 || n > MCP_CURSOR_MAX) {
		return ZT_ERR_INVALID;
	}
	/* base64url to padded standard base64 for crypto_b64_decode(). */
	for (i = 0; i < n; i++) {
		char ch = cursor[i];

		if (ch == '-') {
			ch = '+';
		} else if (ch == '_') {
			ch = '/';
		} else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9'))) {
			return ZT_ERR_INVALID;
		}
		std[i] = ch;
	}
	while (n % 4 != 0) {
		std[n++] = '=';
	}
	std[n] = '\0';
	if (crypto_b64_decode(std, n, &dec, &declen) != 0) {
		return ZT_ERR_INVALID;
	}
	if (declen <= plen || declen > plen + 9 || memcmp(dec, MCP_CURSOR_PREFIX, plen) != 0) {
		goto out;
	}
	for (i = plen; i < declen; i++) {
		if (dec[i] < '0' || dec[i] > '9') {
			goto out;
		}
		v = v * 10 + (size_t)(dec[i] - '0');
	}
	*offset = v;
	r = 0;
out:
	free(dec);
	return r;
}

/*
 * Makes the result {key: page of all, nextCursor?} from all (an array,
 * taken), with the page chosen by params.cursor.
 */
static int paginate(const struct mcp_call *c, const cJSON *params, cJSON *all, const char *key,
    cJSON **result, struct mcp_rpc_error *e)
{
	const char *cursor = NULL;
	cJSON *res = NULL, *page = NULL, *item = NULL, *next = NULL;
	char enc[MCP_CURSOR_MAX + 1];
	size_t offset = 0, i, psize = c->s->srv->page_size;
	int r;

	if ((r = param_str(params, "cursor", MCP_CURSOR_MAX * 4, 0, &cursor, e)) != 0) {
		goto out;
	}
	if (cursor != NULL && cursor_decode(cursor, &offset) != 0) {
		r = mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "invalid cursor");
		goto out;
	}
	if ((res = cJSON_CreateObject()) == NULL ||
	    (page = cJSON_AddArrayToObject(res, key)) == NULL) {
		r = fail_from(e, ZT_ERR_NOMEM, key);
		goto out;
	}
	item = all->child;
	for (i = 0; item != NULL && i < offset; i++) {
		item = item->next;
	}
	for (i = 0; item != NULL && i < psize; i++) {
		next = item->next;
		cJSON_AddItemToArray(page, cJSON_DetachItemViaPointer(all, item));
		item = next;
	}
	if (item != NULL) {
		if (cursor_encode(offset + psize, enc, sizeof(enc)) != 0 ||
		    cJSON_AddStringToObject(res, "nextCursor", enc) == NULL) {
			r = fail_from(e, ZT_ERR_NOMEM, key);
			goto out;
		}
	}
	*result = res;
	res = NULL;
	r = 0;
out:
	cJSON_Delete(res);
	cJSON_Delete(all);
	return r;
}

/* ---- lifecycle ---- */

cJSON *mcp_server_capabilities(const struct mcp_server *srv, int stateless)
{
	cJSON *sc = cJSON_CreateObject(), *o = NULL;

	if (sc == NULL) {
		return NULL;
	}
	/* The tool list changes when roles do (mcp_server_tools_changed);
	 * resources are subscribed to (2026-07-28: on subscriptions/listen),
	 * their list and the prompts never change. */
	if (srv->ntools > 0) {
		if ((o = cJSON_AddObjectToObject(sc, "tools")) == NULL ||
		    cJSON_AddBoolToObject(o, "listChanged", 1) == NULL) {
			goto nomem;
		}
	}
	if (srv->nproviders > 0) {
		if ((o = cJSON_AddObjectToObject(sc, "resources")) == NULL ||
		    cJSON_AddBoolToObject(o, "subscribe", 1) == NULL ||
		    (!stateless && cJSON_AddBoolToObject(o, "listChanged", 0) == NULL)) {
			goto nomem;
		}
	}
	if (srv->nprompts > 0) {
		if ((o = cJSON_AddObjectToObject(sc, "prompts")) == NULL ||
		    (!stateless && cJSON_AddBoolToObject(o, "listChanged", 0) == NULL)) {
			goto nomem;
		}
	}
	if (cJSON_AddObjectToObject(sc, "logging") == NULL ||
	    cJSON_AddObjectToObject(sc, "completions") == NULL) {
		goto nomem;
	}
	for (size_t i = 0; stateless && i < srv->ntools; i++) {
		if (srv->tools[i].task_support != MCP_TASK_NONE) {
			if ((o = cJSON_AddObjectToObject(sc, "extensions")) == NULL ||
			    cJSON_AddObjectToObject(o, MCP_TASKS_EXTENSION) == NULL) {
				goto nomem;
			}
			break;
		}
	}
	return sc;
nomem:
	cJSON_Delete(sc);
	return NULL;
}

static int m_initialize(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_server *srv = c->s->srv;
	const char *want = NULL, *ver = NULL;
	const cJSON *caps = NULL;
	cJSON *capc = NULL, *res = NULL, *sc = NULL, *info = NULL;
	int r;

	if ((r = param_str(params, "protocolVersion", MCP_VERSION_MAX, 1, &want, e)) != 0 ||
	    (r = param_obj(params, "capabilities", 0, &caps, e)) != 0) {
		return r;
	}
	/* A version we speak is echoed; otherwise we offer our latest and the
	 * client decides whether to go on. */
	ver = mcp_protocol_supported(want) ? want : MCP_PROTOCOL_LATEST;
	capc = caps != NULL ? cJSON_Duplicate(caps, 1) : cJSON_CreateObject();
	if (capc == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "initialize");
	}
	pthread_mutex_lock(&c->s->lock);
	if (c->s->version[0] != '\0') {
		pthread_mutex_unlock(&c->s->lock);
		cJSON_Delete(capc);
		return mcp_fail(e, MCP_ERR_INVALID_REQUEST, NULL, "session already initialized");
	}
	snprintf(c->s->version, sizeof(c->s->version), "%s", ver);
	c->s->client_caps = capc;
	pthread_mutex_unlock(&c->s->lock);

	if ((res = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(res, "protocolVersion", ver) == NULL ||
	    (sc = mcp_server_capabilities(srv, 0)) == NULL) {
		goto nomem;
	}
	cJSON_AddItemToObject(res, "capabilities", sc);
	if ((info = cJSON_AddObjectToObject(res, "serverInfo")) == NULL ||
	    cJSON_AddStringToObject(info, "name", srv->name) == NULL ||
	    cJSON_AddStringToObject(info, "version", srv->version) == NULL) {
		goto nomem;
	}
	if (srv->instructions != NULL &&
	    cJSON_AddStringToObject(res, "instructions", srv->instructions) == NULL) {
		goto nomem;
	}
	*result = res;
	return 0;
nomem:
	cJSON_Delete(res);
	return fail_from(e, ZT_ERR_NOMEM, "initialize");
}

static int m_ping(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	(void)c;
	(void)params;
	if ((*result = cJSON_CreateObject()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "ping");
	}
	return 0;
}

/* ---- tools ---- */

/* 1 if a handler's result asks for input (2026-07-28). */
static int input_required(const cJSON *res)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "resultType");

	return cJSON_IsString(t) && strcmp(t->valuestring, "input_required") == 0;
}

/* Adds a copy of v (may be NULL: nothing) under key; 0 or ZT_ERR_NOMEM. */
static int add_copy(cJSON *o, const char *key, const cJSON *v)
{
	cJSON *d = NULL;

	if (v == NULL) {
		return 0;
	}
	if ((d = cJSON_Duplicate(v, 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(o, key, d);
	return 0;
}

/* Adds string s (may be NULL: nothing) under key; 0 or ZT_ERR_NOMEM. */
static int add_str(cJSON *o, const char *key, const char *s)
{
	if (s == NULL) {
		return 0;
	}
	return cJSON_AddStringToObject(o, key, s) != NULL ? 0 : ZT_ERR_NOMEM;
}

static int m_tools_list(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	const struct mcp_srv_tool *t = NULL;
	cJSON *all = NULL, *o = NULL, *x = NULL;
	int old = is_2025_03(c);
	size_t i;

	if ((all = cJSON_CreateArray()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "tools/list");
	}
	for (i = 0; i < srv->ntools; i++) {
		t = &srv->tools[i];
		if (!mcp_tool_visible(t, &c->who)) {
			continue;
		}
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(all, o)) {
			cJSON_Delete(o);
			goto nomem;
		}
		if (add_str(o, "name", t->name) != 0 ||
		    (!old && add_str(o, "title", t->title) != 0) ||
		    add_str(o, "description", t->description) != 0 ||
		    add_copy(o, "inputSchema", t->input_schema) != 0 ||
		    (!old && add_copy(o, "outputSchema", t->output_schema) != 0) ||
		    add_copy(o, "annotations", t->annotations) != 0) {
			goto nomem;
		}
		if (c->s->stateless && t->task_support != MCP_TASK_NONE &&
		    ((x = cJSON_AddObjectToObject(o, "execution")) == NULL ||
		    cJSON_AddStringToObject(x, "taskSupport",
		    t->task_support == MCP_TASK_REQUIRED ? "required" : "optional") == NULL)) {
			goto nomem;
		}
	}
	return paginate(c, params, all, "tools", result, e);
nomem:
	cJSON_Delete(all);
	return fail_from(e, ZT_ERR_NOMEM, "tools/list");
}

static int m_tools_call(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	const struct mcp_srv_tool *t = NULL;
	const cJSON *args = NULL;
	cJSON *empty = NULL, *res = NULL;
	const char *name = NULL;
	char what[MCP_NAME_MAX + 8];
	int r;

	r = params != NULL ? json_get_str(params, "name", MCP_NAME_MAX, 1, &name) :
	    ZT_ERR_NOT_FOUND;
	if (r == ZT_ERR_TOO_LARGE) {
		/* No tool has a name that long. */
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "Unknown tool");
	}
	if ((r = param_str(params, "name", MCP_NAME_MAX, 1, &name, e)) != 0) {
		return r;
	}
	t = mcp_server_tool(srv, name);
	/* A tool the caller may not see is refused: with the policy's answer
	 * when the hook gives one, else as if it did not exist. */
	if (t == NULL || !mcp_tool_visible(t, &c->who)) {
		res = srv->refused_tool != NULL ?
		    srv->refused_tool(c, name, t != NULL, srv->refused_tool_arg) : NULL;
		if (t != NULL && cJSON_IsObject(res)) {
			*result = res;
			return 0;
		}
		cJSON_Delete(res);
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "Unknown tool: %s", name);
	}
	if ((r = param_obj(params, "arguments", 0, &args, e)) != 0) {
		return r;
	}
	if (args == NULL) {
		if ((empty = cJSON_CreateObject()) == NULL) {
			return fail_from(e, ZT_ERR_NOMEM, "tools/call");
		}
		args = empty;
	}
	if (mcp_tasks_wanted(c, t)) {
		r = t->before_task != NULL ? t->before_task(c, args, &res, t->arg) : 0;
		if (r == 0 && res == NULL) {
			r = mcp_tasks_create(c, t, args, result, e);
			cJSON_Delete(empty);
			return r;
		}
	} else {
		r = t->handler(c, args, &res, t->arg);
	}
	cJSON_Delete(empty);
	if (r != 0) {
		cJSON_Delete(res);
		snprintf(what, sizeof(what), "tool %s", t->name);
		return fail_from(e, r, what);
	}
	if (!cJSON_IsObject(res)) {
		cJSON_Delete(res);
		log_error("mcp: tool %s returned no result object", t->name);
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "tool %s returned no result", t->name);
	}
	/* content is required in CallToolResult (not when it asks for input). */
	if (!input_required(res) && cJSON_GetObjectItemCaseSensitive(res, "content") == NULL &&
	    cJSON_AddArrayToObject(res, "content") == NULL) {
		cJSON_Delete(res);
		return fail_from(e, ZT_ERR_NOMEM, "tools/call");
	}
	*result = res;
	return 0;
}

/* ---- resources ---- */

static int m_resources_list(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	cJSON *all = NULL;
	size_t i;
	int r;

	if ((all = cJSON_CreateArray()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "resources/list");
	}
	for (i = 0; i < srv->nproviders; i++) {
		if ((r = srv->providers[i].list(c, all, srv->providers[i].arg)) != 0) {
			cJSON_Delete(all);
			return fail_from(e, r, "resources/list");
		}
	}
	return paginate(c, params, all, "resources", result, e);
}

static int m_resources_templates(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	cJSON *all = NULL;
	size_t i;
	int r;

	if ((all = cJSON_CreateArray()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "resources/templates/list");
	}
	for (i = 0; i < srv->nproviders; i++) {
		if (srv->providers[i].templates == NULL) {
			continue;
		}
		if ((r = srv->providers[i].templates(c, all, srv->providers[i].arg)) != 0) {
			cJSON_Delete(all);
			return fail_from(e, r, "resources/templates/list");
		}
	}
	return paginate(c, params, all, "resourceTemplates", result, e);
}

static int m_resources_read(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	const char *uri = NULL;
	cJSON *res = NULL, *contents = NULL, *data = NULL;
	size_t i;
	int r;

	if ((r = param_str(params, "uri", MCP_URI_MAX, 1, &uri, e)) != 0) {
		return r;
	}
	if ((res = cJSON_CreateObject()) == NULL ||
	    (contents = cJSON_AddArrayToObject(res, "contents")) == NULL) {
		cJSON_Delete(res);
		return fail_from(e, ZT_ERR_NOMEM, "resources/read");
	}
	for (i = 0; i < srv->nproviders; i++) {
		r = srv->providers[i].read(c, uri, contents, srv->providers[i].arg);
		if (r == 0) {
			*result = res;
			return 0;
		}
		if (r != ZT_ERR_NOT_FOUND) {
			cJSON_Delete(res);
			return fail_from(e, r, "resources/read");
		}
	}
	cJSON_Delete(res);
	if ((data = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(data, "uri", uri);
	}
	/* SEP-2164: the stateless era says -32602, with the uri. */
	return mcp_fail(e, c->s->stateless ? MCP_ERR_INVALID_PARAMS : MCP_ERR_RESOURCE_NOT_FOUND,
	    data, "Resource not found");
}

static int m_resources_subscribe(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_session *s = c->s;
	const char *uri = NULL;
	char *copy = NULL, **grown = NULL;
	size_t i;
	int r, sub = strcmp(c->method, "resources/subscribe") == 0;

	if ((r = param_str(params, "uri", MCP_URI_MAX, 1, &uri, e)) != 0) {
		return r;
	}
	if ((*result = cJSON_CreateObject()) == NULL || (sub && (copy = strdup(uri)) == NULL)) {
		cJSON_Delete(*result);
		*result = NULL;
		return fail_from(e, ZT_ERR_NOMEM, c->method);
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nsubs; i++) {
		if (strcmp(s->subs[i], uri) == 0) {
			break;
		}
	}
	if (!sub) {
		if (i < s->nsubs) {
			free(s->subs[i]);
			s->subs[i] = s->subs[--s->nsubs];
		}
	} else if (i == s->nsubs) {
		if (s->nsubs >= MCP_SUBS_MAX) {
			r = mcp_fail(e, MCP_ERR_INVALID_REQUEST, NULL,
			    "too many subscriptions (limit %d)", MCP_SUBS_MAX);
		} else if ((grown = realloc(s->subs, (s->nsubs + 1) * sizeof(*grown))) == NULL) {
			r = fail_from(e, ZT_ERR_NOMEM, c->method);
		} else {
			s->subs = grown;
			s->subs[s->nsubs++] = copy;
			copy = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(copy);
	if (r != 0) {
		cJSON_Delete(*result);
		*result = NULL;
	}
	return r;
}

/* ---- prompts ---- */

static const struct mcp_srv_prompt *prompt_find(const struct mcp_server *srv, const char *name)
{
	size_t i;

	for (i = 0; i < srv->nprompts; i++) {
		if (strcmp(srv->prompts[i].name, name) == 0) {
			return &srv->prompts[i];
		}
	}
	return NULL;
}

static int m_prompts_list(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	const struct mcp_srv_prompt *p = NULL;
	cJSON *all = NULL, *o = NULL;
	int old = is_2025_03(c);
	size_t i;

	if ((all = cJSON_CreateArray()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "prompts/list");
	}
	for (i = 0; i < srv->nprompts; i++) {
		p = &srv->prompts[i];
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(all, o)) {
			cJSON_Delete(o);
			goto nomem;
		}
		if (add_str(o, "name", p->name) != 0 ||
		    (!old && add_str(o, "title", p->title) != 0) ||
		    add_str(o, "description", p->description) != 0 ||
		    add_copy(o, "arguments", p->arguments) != 0) {
			goto nomem;
		}
	}
	return paginate(c, params, all, "prompts", result, e);
nomem:
	cJSON_Delete(all);
	return fail_from(e, ZT_ERR_NOMEM, "prompts/list");
}

static int m_prompts_get(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_srv_prompt *p = NULL;
	const cJSON *args = NULL, *a = NULL, *nm = NULL;
	cJSON *empty = NULL, *res = NULL;
	const char *name = NULL;
	char what[MCP_NAME_MAX + 8];
	int r;

	if ((r = param_str(params, "name", MCP_NAME_MAX, 1, &name, e)) != 0) {
		return r;
	}
	if ((p = prompt_find(c->s->srv, name)) == NULL) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "Unknown prompt: %s", name);
	}
	if ((r = param_obj(params, "arguments", 0, &args, e)) != 0) {
		return r;
	}
	for (a = args != NULL ? args->child : NULL; a != NULL; a = a->next) {
		if (!cJSON_IsString(a)) {
			return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
			    "prompt argument %s must be a string", a->string);
		}
	}
	/* Required arguments are checked here so no prompt can forget to. */
	for (a = p->arguments != NULL ? p->arguments->child : NULL; a != NULL; a = a->next) {
		nm = cJSON_GetObjectItemCaseSensitive(a, "name");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "required")) &&
		    cJSON_IsString(nm) && (args == NULL ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, nm->valuestring)))) {
			return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
			    "missing required argument: %s", nm->valuestring);
		}
	}
	if (args == NULL) {
		if ((empty = cJSON_CreateObject()) == NULL) {
			return fail_from(e, ZT_ERR_NOMEM, "prompts/get");
		}
		args = empty;
	}
	r = p->get(c, args, &res, p->arg);
	cJSON_Delete(empty);
	if (r == ZT_ERR_INVALID) {
		cJSON_Delete(res);
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "invalid arguments for prompt %s",
		    p->name);
	}
	if (r != 0) {
		cJSON_Delete(res);
		snprintf(what, sizeof(what), "prompt %s", p->name);
		return fail_from(e, r, what);
	}
	if (!cJSON_IsObject(res)) {
		cJSON_Delete(res);
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "prompt %s returned no result", p->name);
	}
	*result = res;
	return 0;
}

/* ---- logging and completion ---- */

static int m_logging_set_level(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const char *level = NULL;
	int r, lvl;

	if ((r = param_str(params, "level", 32, 1, &level, e)) != 0) {
		return r;
	}
	if ((lvl = mcp_log_level_parse(level)) < 0) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "invalid log level: %s", level);
	}
	if ((*result = cJSON_CreateObject()) == NULL) {
		return fail_from(e, ZT_ERR_NOMEM, "logging/setLevel");
	}
	pthread_mutex_lock(&c->s->lock);
	c->s->log_level = lvl;
	pthread_mutex_unlock(&c->s->lock);
	return 0;
}

/* Checks completion/complete's ref and argument. */
static int completion_params(const struct mcp_call *c, const cJSON *ref, const cJSON *arg,
    struct mcp_rpc_error *e)
{
	const char *type = NULL, *s = NULL;
	int r;

	if ((r = param_str(ref, "type", 32, 1, &type, e)) != 0) {
		return r;
	}
	if (strcmp(type, "ref/prompt") == 0) {
		if ((r = param_str(ref, "name", MCP_NAME_MAX, 1, &s, e)) != 0) {
			return r;
		}
		if (prompt_find(c->s->srv, s) == NULL) {
			return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "Unknown prompt: %s", s);
		}
	} else if (strcmp(type, "ref/resource") == 0) {
		if ((r = param_str(ref, "uri", MCP_URI_MAX, 1, &s, e)) != 0) {
			return r;
		}
	} else {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "invalid ref type: %s", type);
	}
	if ((r = param_str(arg, "name", MCP_NAME_MAX, 1, &s, e)) != 0 ||
	    (r = param_str(arg, "value", MCP_URI_MAX, 1, &s, e)) != 0) {
		return r;
	}
	return 0;
}

static int m_completion(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	const cJSON *ref = NULL, *arg = NULL, *ctx = NULL;
	cJSON *res = NULL, *comp = NULL, *values = NULL, *v = NULL;
	int r, n;

	if ((r = param_obj(params, "ref", 1, &ref, e)) != 0 ||
	    (r = param_obj(params, "argument", 1, &arg, e)) != 0 ||
	    (r = param_obj(params, "context", 0, &ctx, e)) != 0 ||
	    (r = completion_params(c, ref, arg, e)) != 0) {
		return r;
	}
	if (srv->complete != NULL) {
		r = srv->complete(c, ref, arg, ctx, &comp, srv->complete_arg);
		if (r == ZT_ERR_INVALID) {
			cJSON_Delete(comp);
			return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
			    "invalid completion request");
		}
		if (r != 0) {
			cJSON_Delete(comp);
			return fail_from(e, r, "completion");
		}
	} else if ((comp = cJSON_CreateObject()) == NULL ||
	    cJSON_AddArrayToObject(comp, "values") == NULL ||
	    cJSON_AddBoolToObject(comp, "hasMore", 0) == NULL) {
		cJSON_Delete(comp);
		return fail_from(e, ZT_ERR_NOMEM, "completion");
	}
	values = cJSON_GetObjectItemCaseSensitive(comp, "values");
	if (!cJSON_IsObject(comp) || !cJSON_IsArray(values)) {
		cJSON_Delete(comp);
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "completion returned no values");
	}
	/* The spec caps one answer at 100 values; the rest is "more". */
	if ((n = cJSON_GetArraySize(values)) > MCP_COMPLETION_MAX) {
		while (n-- > MCP_COMPLETION_MAX) {
			cJSON_DeleteItemFromArray(values, MCP_COMPLETION_MAX);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(comp, "hasMore");
		if ((v = cJSON_AddBoolToObject(comp, "hasMore", 1)) == NULL) {
			cJSON_Delete(comp);
			return fail_from(e, ZT_ERR_NOMEM, "completion");
		}
	}
	if ((res = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(comp);
		return fail_from(e, ZT_ERR_NOMEM, "completion");
	}
	cJSON_AddItemToObject(res, "completion", comp);
	*result = res;
	return 0;
}

/* ---- the table ---- */

enum mcp_feature { MCP_F_NONE, MCP_F_TOOLS, MCP_F_RESOURCES, MCP_F_PROMPTS };
/* The eras a method belongs to: 2026-07-28 removed the handshake, ping,
 * logging/setLevel and resources/(un)subscribe, and added server/discover;
 * the tasks extension's methods are of the stateless era. */
enum { ERA_SESSION = 1, ERA_STATELESS = 2, ERA_BOTH = 3 };

static const struct {
	const char *name;
	enum mcp_feature feature;
	int eras;
	int (*fn)(struct mcp_call *, const cJSON *, cJSON **, struct mcp_rpc_error *);
} mcp_methods[] = {
	{ "initialize", MCP_F_NONE, ERA_SESSION, m_initialize },
	{ "ping", MCP_F_NONE, ERA_SESSION, m_ping },
	{ "server/discover", MCP_F_NONE, ERA_STATELESS, mcp_stateless_discover },
	{ "subscriptions/listen", MCP_F_NONE, ERA_STATELESS, mcp_stateless_listen },
	{ "tools/list", MCP_F_TOOLS, ERA_BOTH, m_tools_list },
	{ "tools/call", MCP_F_TOOLS, ERA_BOTH, m_tools_call },
	{ "resources/list", MCP_F_RESOURCES, ERA_BOTH, m_resources_list },
	{ "resources/templates/list", MCP_F_RESOURCES, ERA_BOTH, m_resources_templates },
	{ "resources/read", MCP_F_RESOURCES, ERA_BOTH, m_resources_read },
	{ "resources/subscribe", MCP_F_RESOURCES, ERA_SESSION, m_resources_subscribe },
	{ "resources/unsubscribe", MCP_F_RESOURCES, ERA_SESSION, m_resources_subscribe },
	{ "prompts/list", MCP_F_PROMPTS, ERA_BOTH, m_prompts_list },
	{ "prompts/get", MCP_F_PROMPTS, ERA_BOTH, m_prompts_get },
	{ "logging/setLevel", MCP_F_NONE, ERA_SESSION, m_logging_set_level },
	{ "completion/complete", MCP_F_NONE, ERA_BOTH, m_completion },
	{ "tasks/get", MCP_F_TOOLS, ERA_STATELESS, mcp_tasks_get },
	{ "tasks/update", MCP_F_TOOLS, ERA_STATELESS, mcp_tasks_update },
	{ "tasks/cancel", MCP_F_TOOLS, ERA_STATELESS, mcp_tasks_cancel },
};

/* The table's index of method in the era, if the server offers its
 * feature; -1 if none. */
static int method_find(const struct mcp_server *srv, const char *method, int stateless)
{
	size_t i;
	int offered;

	for (i = 0; i < sizeof(mcp_methods) / sizeof(mcp_methods[0]); i++) {
		if (strcmp(method, mcp_methods[i].name) != 0) {
			continue;
		}
		if (!(mcp_methods[i].eras & (stateless ? ERA_STATELESS : ERA_SESSION))) {
			return -1;
		}
		switch (mcp_methods[i].feature) {
		case MCP_F_TOOLS:
			offered = srv->ntools > 0;
			break;
		case MCP_F_RESOURCES:
			offered = srv->nproviders > 0;
			break;
		case MCP_F_PROMPTS:
			offered = srv->nprompts > 0;
			break;
		default:
			offered = 1;
			break;
		}
		return offered ? (int)i : -1;
	}
	return -1;
}

int mcp_method_offered(const struct mcp_server *srv, const char *method, int stateless)
{
	return method_find(srv, method, stateless) >= 0;
}

int mcp_method_run(struct mcp_call *call, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	int i = method_find(call->s->srv, call->method, call->s->stateless);

	*result = NULL;
	if (i < 0) {
		return mcp_fail(e, MCP_ERR_METHOD_NOT_FOUND, NULL, "Method not found: %s",
		    call->method);
	}
	return mcp_methods[i].fn(call, params, result, e);
}
