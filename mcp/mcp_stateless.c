/*
 * mcp_stateless.c - the stateless era of MCP (revision 2026-07-28) beside
 * the session era: telling a request's era, the checks a stateless request
 * passes before it runs, its one-request session, server/discover, what
 * every stateless result carries (resultType, the caching hints), and
 * multi round-trip requests (inputResponses in, input_required out, the
 * sealed requestState of mcp_state.h between them).
 *
 * A stateless request has no session to remember anything: its version,
 * the client's capabilities and its log level come with it in
 * params._meta, and whatever a handler wants back in the next round goes
 * to the client sealed (HMAC, bound to the identity and the request,
 * expiring) and comes back verified, or not at all.
 */
#include "mcp/mcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp_int.h"
#include "mcp/mcp_state.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_LOG "io.modelcontextprotocol/logLevel"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"
/* Nesting of a tool's required capabilities we compare ({"extensions":
 * {"io.modelcontextprotocol/tasks": {}}} is two). */
#define REQUIRES_DEPTH 4

int mcp_msg_stateless(const struct mcp_msg *m, const char *header_version)
{
	const cJSON *meta = NULL;

	if (header_version != NULL && strcmp(header_version, MCP_PROTOCOL_STATELESS) == 0) {
		return 1;
	}
	if (m == NULL || m->params == NULL || json_get_obj(m->params, "_meta", &meta) != 0) {
		return 0;
	}
	return cJSON_GetObjectItemCaseSensitive(meta, META_VERSION) != NULL;
}

static int refuse(const struct mcp_msg *m, int code, int status, cJSON *data, char **error_json,
    int *http_status, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* 1 for the tasks extension's methods. */
static int task_method(const char *method)
{
	return strcmp(method, "tasks/get") == 0 || strcmp(method, "tasks/update") == 0 ||
	    strcmp(method, "tasks/cancel") == 0;
}

/* The methods whose Mcp-Name header names something, and the param it
 * must equal; NULL for the others. */
static const char *name_param(const char *method)
{
	if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0) {
		return "name";
	}
	if (strcmp(method, "resources/read") == 0) {
		return "uri";
	}
	return task_method(method) ? "taskId" : NULL;
}

/* 1 if client capabilities caps declare the tasks extension. */
static int declares_tasks(const cJSON *caps)
{
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(caps, "extensions");

	return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ext, MCP_TASKS_EXTENSION));
}

/* -32021 naming the tasks extension: for a tasks method, or a tool that
 * runs only as a task, from a request that does not declare it. */
static int refuse_no_tasks(const struct mcp_msg *m, const char *what, char **error_json,
    int *http_status)
{
	cJSON *data = cJSON_CreateObject(), *rc = NULL, *ext = NULL;

	if (data == NULL || (rc = cJSON_AddObjectToObject(data, "requiredCapabilities")) == NULL ||
	    (ext = cJSON_AddObjectToObject(rc, "extensions")) == NULL ||
	    cJSON_AddObjectToObject(ext, MCP_TASKS_EXTENSION) == NULL) {
		cJSON_Delete(data);
		return ZT_ERR_NOMEM;
	}
	return refuse(m, MCP_ERR_MISSING_CAPABILITY, 400, data, error_json, http_status,
	    "%s needs the client capability extensions[\"" MCP_TASKS_EXTENSION "\"] in this "
	    "request's _meta", what);
}

const char *mcp_header_value(const char *h, size_t *len)
{
	size_t n;

	while (*h == ' ' || *h == '\t') {
		h++;
	}
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t')) {
		n--;
	}
	*len = n;
	return h;
}

/* 1 if header value h (mcp_header_value()) is exactly v. */
static int header_is(const char *h, const char *v)
{
	size_t n;

	h = mcp_header_value(h, &n);
	return strlen(v) == n && memcmp(h, v, n) == 0;
}

/* 1 if every capability in need is declared in have, as objects, to the
 * depth need names them. */
static int caps_cover(const cJSON *have, const cJSON *need, int depth)
{
	const cJSON *k, *h;

	if (depth > REQUIRES_DEPTH) {
		return 0;
	}
	cJSON_ArrayForEach(k, need) {
		h = cJSON_GetObjectItemCaseSensitive(have, k->string);
		if (!cJSON_IsObject(h) || (cJSON_IsObject(k) && !caps_cover(h, k, depth + 1))) {
			return 0;
		}
	}
	return 1;
}

/* The supported versions, newest first, as a new array (NULL on ENOMEM). */
static cJSON *versions_json(void)
{
	cJSON *a = cJSON_CreateArray(), *v = NULL;
	size_t i;

	if (a == NULL || (v = cJSON_CreateString(MCP_PROTOCOL_STATELESS)) == NULL ||
	    !cJSON_AddItemToArray(a, v)) {
		goto nomem;
	}
	for (i = 0; i < mcp_session_nversions; i++) {
		if ((v = cJSON_CreateString(mcp_session_versions[i])) == NULL ||
		    !cJSON_AddItemToArray(a, v)) {
			goto nomem;
		}
	}
	return a;
nomem:
	cJSON_Delete(v);
	cJSON_Delete(a);
	return NULL;
}

/* Sets the check's refusal: code, its HTTP status, message; data taken. */
static int refuse(const struct mcp_msg *m, int code, int status, cJSON *data, char **error_json,
    int *http_status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mcp_text_cut(msg, sizeof(msg), w);
	*error_json = mcp_error_json(m->id, code, msg, data);
	*http_status = status;
	cJSON_Delete(data);
	return *error_json != NULL ? ZT_ERR_INVALID : ZT_ERR_NOMEM;
}

/* 1 if header value h carries the text v: literally, or as
 * "=?base64?<standard padded base64 of v>?=" (SEP-2243). */
static int param_carries(const char *h, const char *v)
{
	static const char pre[] = "=?base64?", post[] = "?=";
	size_t n = 0, np = sizeof(pre) - 1, nq = sizeof(post) - 1, dlen = 0;
	uint8_t *dec = NULL;
	int ok;

	h = mcp_header_value(h, &n);
	if (n >= np + nq && memcmp(h, pre, np) == 0 && memcmp(h + n - nq, post, nq) == 0) {
		if (crypto_b64_decode(h + np, n - np - nq, &dec, &dlen) != 0) {
			return 0;
		}
		ok = dlen == strlen(v) && memcmp(dec, v, dlen) == 0;
		free(dec);
		return ok;
	}
	return strlen(v) == n && memcmp(h, v, n) == 0;
}

/* -32020 unless every argument that t's input schema marks "x-mcp-header"
 * is carried by its Mcp-Param-<Name> header. */
static int check_params(const struct mcp_srv_tool *t, const struct mcp_msg *m,
    const struct mcp_headers *h, char **error_json, int *http_status)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(t->input_schema, "properties");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(m->params, "arguments"), *p, *x, *a;
	const char *hv = NULL;
	char hname[MCP_NAME_MAX + 16], num[32];
	const char *want = NULL;

	cJSON_ArrayForEach(p, props) {
		x = cJSON_GetObjectItemCaseSensitive(p, "x-mcp-header");
		a = cJSON_GetObjectItemCaseSensitive(args, p->string);
		if (!cJSON_IsString(x) || a == NULL) {
			continue;
		}
		if (cJSON_IsString(a)) {
			want = a->valuestring;
		} else if (cJSON_IsBool(a)) {
			want = cJSON_IsTrue(a) ? "true" : "false";
		} else if (cJSON_IsNumber(a)) {
			/* The shortest spelling that reads back as the same
			 * number: 0.1, not 0.10000000000000001. */
			snprintf(num, sizeof(num), "%.15g", a->valuedouble);
			if (strtod(num, NULL) != a->valuedouble) {
				snprintf(num, sizeof(num), "%.17g", a->valuedouble);
			}
			want = num;
		} else {
			continue;
		}
		snprintf(hname, sizeof(hname), "Mcp-Param-%s", x->valuestring);
		hv = h->param != NULL ? h->param(h->param_arg, hname) : NULL;
		if (hv == NULL || !param_carries(hv, want)) {
			return refuse(m, MCP_ERR_HEADER_MISMATCH, 400, NULL, error_json, http_status,
			    "the %.64s header must carry arguments.%.64s", hname, p->string);
		}
	}
	return 0;
}

/* For a tools/call: the Mcp-Param headers (-32020), then -32021 when the
 * tool requires a capability caps lacks. */
static int check_tool(struct mcp_server *srv, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_headers *h, const cJSON *caps,
    char **error_json, int *http_status)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(m->params, "name");
	const struct mcp_srv_tool *t = NULL;
	cJSON *data = NULL;
	int r;

	if (strcmp(m->method, "tools/call") != 0 || !cJSON_IsString(name)) {
		return 0;
	}
	t = mcp_server_tool(srv, name->valuestring);
	/* A tool the caller may not see is the method's to refuse, as if it
	 * did not exist: its schema and requirements are not told. */
	if (t == NULL || !mcp_tool_visible(t, who)) {
		return 0;
	}
	if ((r = check_params(t, m, h, error_json, http_status)) != 0) {
		return r;
	}
	if (t->task_support == MCP_TASK_REQUIRED && !declares_tasks(caps)) {
		return refuse_no_tasks(m, t->name, error_json, http_status);
	}
	if (t->requires == NULL || caps_cover(caps, t->requires, 0)) {
		return 0;
	}
	if ((data = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(data, "requiredCapabilities", cJSON_Duplicate(t->requires, 1));
	return refuse(m, MCP_ERR_MISSING_CAPABILITY, 400, data, error_json, http_status,
	    "tool %s needs client capabilities this request's _meta does not declare "
	    "(see data.requiredCapabilities)", t->name);
}

int mcp_stateless_check(struct mcp_server *srv, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_headers *h, char **error_json, int *http_status)
{
	static const struct mcp_headers none;
	const cJSON *meta = NULL, *ver = NULL, *caps = NULL, *nm = NULL;
	const char *param = NULL;
	cJSON *data = NULL;

	*error_json = NULL;
	*http_status = 200;
	if (srv == NULL || m == NULL || m->kind != MCP_REQUEST || m->method == NULL) {
		return 0;
	}
	if (h == NULL) {
		h = &none;
	}
	if (m->params == NULL || json_get_obj(m->params, "_meta", &meta) != 0) {
		return refuse(m, MCP_ERR_INVALID_PARAMS, 400, NULL, error_json, http_status,
		    "params._meta is required: protocol revision " MCP_PROTOCOL_STATELESS " carries "
		    META_VERSION " and " META_CAPS " in every request (older revisions: "
		    "initialize first, then send its Mcp-Session-Id header)");
	}
	ver = cJSON_GetObjectItemCaseSensitive(meta, META_VERSION);
	if (!cJSON_IsString(ver) || strlen(ver->valuestring) > MCP_VERSION_MAX) {
		return refuse(m, MCP_ERR_INVALID_PARAMS, 400, NULL, error_json, http_status,
		    "params._meta[\"" META_VERSION "\"] is required (a string)");
	}
	caps = cJSON_GetObjectItemCaseSensitive(meta, META_CAPS);
	if (!cJSON_IsObject(caps)) {
		return refuse(m, MCP_ERR_INVALID_PARAMS, 400, NULL, error_json, http_status,
		    "params._meta[\"" META_CAPS "\"] is required (an object)");
	}
	if (h->version == NULL || !header_is(h->version, ver->valuestring)) {
		return refuse(m, MCP_ERR_HEADER_MISMATCH, 400, NULL, error_json, http_status,
		    "the MCP-Protocol-Version header must equal params._meta[\"" META_VERSION
		    "\"] (%s)", ver->valuestring);
	}
	if (strcmp(ver->valuestring, MCP_PROTOCOL_STATELESS) != 0) {
		if ((data = cJSON_CreateObject()) == NULL) {
			return ZT_ERR_NOMEM;
		}
		cJSON_AddItemToObject(data, "supported", versions_json());
		cJSON_AddStringToObject(data, "requested", ver->valuestring);
		return refuse(m, MCP_ERR_UNSUPPORTED_VERSION, 400, data, error_json, http_status,
		    "Unsupported protocol version %s: without a session this server speaks "
		    MCP_PROTOCOL_STATELESS "; the older versions need initialize",
		    ver->valuestring);
	}
	if (!mcp_method_offered(srv, m->method, 1)) {
		return refuse(m, MCP_ERR_METHOD_NOT_FOUND, 404, NULL, error_json, http_status,
		    "Method not found: %s%s", m->method, mcp_method_offered(srv, m->method, 0) ?
		    " (not in protocol revision " MCP_PROTOCOL_STATELESS ")" : "");
	}
	if (h->method == NULL || !header_is(h->method, m->method)) {
		return refuse(m, MCP_ERR_HEADER_MISMATCH, 400, NULL, error_json, http_status,
		    "the Mcp-Method header must equal the request's method (%s)", m->method);
	}
	param = name_param(m->method);
	nm = param != NULL ? cJSON_GetObjectItemCaseSensitive(m->params, param) : NULL;
	if (cJSON_IsString(nm) && (h->name == NULL || !header_is(h->name, nm->valuestring))) {
		return refuse(m, MCP_ERR_HEADER_MISMATCH, 400, NULL, error_json, http_status,
		    "the Mcp-Name header must equal params.%s", param);
	}
	if (task_method(m->method) && !declares_tasks(caps)) {
		return refuse_no_tasks(m, m->method, error_json, http_status);
	}
	return check_tool(srv, who, m, h, caps, error_json, http_status);
}

struct mcp_session *mcp_session_stateless(struct mcp_server *srv,
    const struct mcp_identity *who, const struct mcp_msg *m)
{
	const cJSON *meta = NULL, *caps = NULL, *lvl = NULL;
	struct mcp_session *s = NULL;
	cJSON *copy = NULL;
	int level = MCP_LOG_OFF;

	if (m != NULL && m->params != NULL && json_get_obj(m->params, "_meta", &meta) == 0) {
		caps = cJSON_GetObjectItemCaseSensitive(meta, META_CAPS);
		lvl = cJSON_GetObjectItemCaseSensitive(meta, META_LOG);
		if (cJSON_IsString(lvl) && mcp_log_level_parse(lvl->valuestring) >= 0) {
			level = mcp_log_level_parse(lvl->valuestring);
		}
	}
	copy = cJSON_IsObject(caps) ? cJSON_Duplicate(caps, 1) : cJSON_CreateObject();
	if (copy == NULL || (s = mcp_session_new(srv, who)) == NULL) {
		cJSON_Delete(copy);
		return NULL;
	}
	/* Not shared yet: no lock needed. */
	s->stateless = 1;
	snprintf(s->version, sizeof(s->version), "%s", MCP_PROTOCOL_STATELESS);
	s->initialized = 1;
	s->client_caps = copy;
	s->log_level = level;
	return s;
}

/* ---- a call's rounds ---- */

/* 1 for the methods that may answer input_required. */
static int multi_round(const char *method)
{
	return strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0 ||
	    strcmp(method, "resources/read") == 0;
}

int mcp_inputs_check(const cJSON *in, struct mcp_rpc_error *e)
{
	const cJSON *k;

	if (!cJSON_IsObject(in)) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
		    "params.inputResponses must be an object");
	}
	cJSON_ArrayForEach(k, in) {
		if (!cJSON_IsObject(k)) {
			return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
			    "params.inputResponses.%.64s must be an object", k->string);
		}
	}
	return 0;
}

int mcp_stateless_prepare(struct mcp_call *call, const cJSON *params, struct mcp_rpc_error *e)
{
	struct mcp_server *srv = call->s->srv;
	const cJSON *in = NULL, *st = NULL, *nm = NULL, *args = NULL;
	int r;

	if (!multi_round(call->method)) {
		return 0;
	}
	in = params != NULL ? cJSON_GetObjectItemCaseSensitive(params, "inputResponses") : NULL;
	if (in != NULL) {
		if ((r = mcp_inputs_check(in, e)) != 0) {
			return r;
		}
		if ((call->inputs = cJSON_Duplicate(in, 1)) == NULL) {
			return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
		}
	}
	nm = cJSON_GetObjectItemCaseSensitive(params, name_param(call->method));
	args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	if (mcp_state_request_hash(call->method, cJSON_IsString(nm) ? nm->valuestring : "",
	    cJSON_IsObject(args) ? args : NULL, call->req_hash) != 0) {
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "cannot hash the request");
	}
	st = params != NULL ? cJSON_GetObjectItemCaseSensitive(params, "requestState") : NULL;
	if (st == NULL) {
		return 0;
	}
	if (!cJSON_IsString(st)) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
		    "params.requestState must be a string");
	}
	r = mcp_state_open(srv->state_key, &call->who, call->req_hash, (int64_t)time(NULL),
	    st->valuestring, &call->state);
	if (r == ZT_ERR_NOMEM) {
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	if (r != 0) {
		log_info("mcp: %s %s from %s:%s refused: requestState %s", call->method,
		    call->id_text, call->who.kind, call->who.name, mcp_state_why(r));
		if (srv->refused_state != NULL) {
			srv->refused_state(call, mcp_state_why(r), srv->refused_state_arg);
		}
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
		    "params.requestState refused: %s; send the request again without it",
		    mcp_state_why(r));
	}
	return 0;
}

/* 1 for the results a client may cache (SEP-2549). */
static int cacheable(const char *method)
{
	static const char *const m[] = { "tools/list", "prompts/list", "resources/list",
	    "resources/templates/list", "resources/read", "server/discover" };
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (strcmp(method, m[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

int mcp_stateless_finish(const struct mcp_call *call, cJSON *result)
{
	const struct mcp_server *srv = call->s->srv;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(result, "resultType");

	if (t == NULL) {
		if (cJSON_AddStringToObject(result, "resultType", "complete") == NULL) {
			return ZT_ERR_NOMEM;
		}
	} else if (!cJSON_IsString(t) || strcmp(t->valuestring, "complete") != 0) {
		return 0;
	}
	if (cacheable(call->method) &&
	    (cJSON_AddNumberToObject(result, "ttlMs", (double)srv->cache_ttl_ms) == NULL ||
	    cJSON_AddStringToObject(result, "cacheScope",
	    srv->cache_public ? "public" : "private") == NULL)) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int mcp_stateless_discover(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	const struct mcp_server *srv = c->s->srv;
	cJSON *res = cJSON_CreateObject(), *meta = NULL, *info = NULL, *v = NULL;

	(void)params;
	if (res == NULL || (v = versions_json()) == NULL) {
		goto nomem;
	}
	cJSON_AddItemToObject(res, "supportedVersions", v);
	if ((v = mcp_server_capabilities(srv, 1)) == NULL) {
		goto nomem;
	}
	cJSON_AddItemToObject(res, "capabilities", v);
	if ((srv->instructions != NULL &&
	    cJSON_AddStringToObject(res, "instructions", srv->instructions) == NULL) ||
	    (meta = cJSON_AddObjectToObject(res, "_meta")) == NULL ||
	    (info = cJSON_AddObjectToObject(meta, META_SERVER_INFO)) == NULL ||
	    cJSON_AddStringToObject(info, "name", srv->name) == NULL ||
	    cJSON_AddStringToObject(info, "version", srv->version) == NULL) {
		goto nomem;
	}
	*result = res;
	return 0;
nomem:
	cJSON_Delete(res);
	return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
}

/* ---- subscriptions/listen ---- */

/* How long a listen stream's call sleeps between looks at its end. */
#define LISTEN_NAP_MS 60000

/* Grants what filter asks that this server honours: toolsListChanged,
 * and resourceSubscriptions (their uris on s). The granted filter, or
 * NULL on ENOMEM / a -32602 in e. */
static cJSON *listen_grant(struct mcp_call *c, const cJSON *filter, struct mcp_rpc_error *e)
{
	struct mcp_session *s = c->s;
	const cJSON *uris = cJSON_GetObjectItemCaseSensitive(filter, "resourceSubscriptions"), *u;
	cJSON *granted = cJSON_CreateObject(), *list = NULL;
	char *copy = NULL, **grown = NULL;

	if (granted == NULL) {
		mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(filter, "toolsListChanged")) &&
	    s->srv->ntools > 0) {
		cJSON_AddBoolToObject(granted, "toolsListChanged", 1);
		s->listen_tools = 1;
	}
	if (uris == NULL || s->srv->nproviders == 0) {
		return granted;
	}
	if (!cJSON_IsArray(uris) || (list = cJSON_AddArrayToObject(granted, "resourceSubscriptions"))
	    == NULL) {
		cJSON_Delete(granted);
		mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
		    "params.notifications.resourceSubscriptions must be an array of uris");
		return NULL;
	}
	cJSON_ArrayForEach(u, uris) {
		if (!cJSON_IsString(u) || strlen(u->valuestring) > MCP_URI_MAX ||
		    s->nsubs >= MCP_SUBS_MAX) {
			continue;
		}
		if ((copy = strdup(u->valuestring)) == NULL ||
		    (grown = realloc(s->subs, (s->nsubs + 1) * sizeof(*grown))) == NULL) {
			free(copy);
			break;
		}
		s->subs = grown;
		s->subs[s->nsubs++] = copy;
		cJSON_AddItemToArray(list, cJSON_CreateString(u->valuestring));
	}
	return granted;
}

int mcp_stateless_listen(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_session *s = c->s;
	const cJSON *filter = cJSON_GetObjectItemCaseSensitive(params, "notifications");
	cJSON *ack = NULL, *granted = NULL, *meta = NULL;
	int r;

	(void)result;
	if (!cJSON_IsObject(filter)) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL,
		    "params.notifications must be an object (the notifications to receive)");
	}
	/* The session is this request's alone: set up before it is shared
	 * (nothing reaches it before listen_id and its stream are set). */
	pthread_mutex_lock(&s->lock);
	granted = listen_grant(c, filter, e);
	if (granted != NULL && (s->listen_id = mcp_id_dup(c->id)) == NULL) {
		cJSON_Delete(granted);
		granted = NULL;
		mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	pthread_mutex_unlock(&s->lock);
	if (granted == NULL) {
		return ZT_ERR_INVALID;
	}
	/* The acknowledgement first, then anything else on the stream. */
	if ((ack = cJSON_CreateObject()) == NULL ||
	    (meta = cJSON_AddObjectToObject(ack, "_meta")) == NULL) {
		cJSON_Delete(ack);
		cJSON_Delete(granted);
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	cJSON_AddItemToObject(ack, "notifications", granted);
	cJSON_AddItemToObject(meta, "io.modelcontextprotocol/subscriptionId", mcp_id_dup(c->id));
	if ((r = mcp_call_notify(c, "notifications/subscriptions/acknowledged", ack)) != 0) {
		return ZT_ERR_CANCELLED;
	}
	mcp_session_set_stream(s, &c->sink);
	/* Until the client goes away (the transport closes the session) or
	 * the server stops: either way no response follows. */
	while ((r = mcp_call_sleep(c, LISTEN_NAP_MS)) == 0) {
		/* still listening */
	}
	mcp_session_set_stream(s, NULL);
	return ZT_ERR_CANCELLED;
}

/* ---- inside a handler ---- */

int mcp_call_stateless(const struct mcp_call *call)
{
	return call != NULL && call->s->stateless;
}

int mcp_call_task(const struct mcp_call *call)
{
	return call != NULL && call->task;
}

const cJSON *mcp_call_input(const struct mcp_call *call, const char *key)
{
	if (call == NULL || key == NULL || call->inputs == NULL) {
		return NULL;
	}
	return cJSON_GetObjectItemCaseSensitive(call->inputs, key);
}

const cJSON *mcp_call_state(const struct mcp_call *call)
{
	return call != NULL ? call->state : NULL;
}

int mcp_result_input_required(struct mcp_call *call, cJSON *requests, cJSON *state,
    cJSON **result)
{
	const struct mcp_server *srv = NULL;
	cJSON *res = NULL;
	char *sealed = NULL;
	int r = ZT_ERR_NOMEM;

	*result = NULL;
	if (call == NULL || !call->s->stateless || !multi_round(call->method) ||
	    (requests == NULL && state == NULL)) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	srv = call->s->srv;
	if ((res = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(res, "resultType", "input_required") == NULL) {
		goto out;
	}
	if (requests != NULL) {
		cJSON_AddItemToObject(res, "inputRequests", requests);
		requests = NULL;
	}
	if (state != NULL && call->task) {
		/* A task keeps its state: no requestState goes to the client. */
		cJSON_Delete(call->next_state);
		call->next_state = state;
		state = NULL;
	} else if (state != NULL) {
		if ((r = mcp_state_seal(srv->state_key, &call->who, call->req_hash,
		    (int64_t)time(NULL), srv->state_ttl, state, &sealed)) != 0) {
			goto out;
		}
		if (cJSON_AddStringToObject(res, "requestState", sealed) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
	}
	*result = res;
	res = NULL;
	r = 0;
out:
	free(sealed);
	cJSON_Delete(res);
	cJSON_Delete(requests);
	cJSON_Delete(state);
	return r;
}

const char *mcp_input_elicit(const cJSON *resp, const cJSON **content)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(resp, "action");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(resp, "content");

	if (content != NULL) {
		*content = NULL;
	}
	if (!cJSON_IsObject(resp) || !cJSON_IsString(a) ||
	    (strcmp(a->valuestring, "accept") != 0 && strcmp(a->valuestring, "decline") != 0 &&
	    strcmp(a->valuestring, "cancel") != 0) || (c != NULL && !cJSON_IsObject(c))) {
		return NULL;
	}
	if (content != NULL) {
		*content = c;
	}
	return a->valuestring;
}
