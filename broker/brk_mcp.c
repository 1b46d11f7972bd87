/*
 * brk_mcp.c - the broker's MCP server and its glue to the broker: bearer
 * tokens become MCP identities, transport events become audit events.
 */
#include "broker/brk_mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_gate.h"
#include "broker/brk_hosts.h"
#include "broker/brk_policy.h"
#include "broker/brk_mcphttp.h"
#include "broker/brk_watch.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "common/version.h"
#include "mcp/mcp.h"
#include "policy/pol_eval.h"

#define MAX_HOSTS 20
/* Sessions' tokens are checked at least this often (expiry). */
#define BRK_MCP_REVOKE_CHECK_MS 10000
#define DIAG_MAX_STEPS 100
#define DIAG_MAX_INTERVAL_MS 2000
#define DIAG_ELICIT_TIMEOUT_MS 300000
#define DIAG_RECONNECT_RETRY_MS 300
#define DIAG_OUTPUT_MAX (8 * 1024 * 1024) /* bytes of a diag_output answer */

struct brk_mcp {
	struct brk *b;
	struct mcp_server *srv;
	struct brk_tools *tools;   /* what srv's tool entries point to */
	struct brk_mcphttp *http;
	int64_t checked_ms;        /* the last check of the sessions' tokens */
	int recheck;               /* the last check was not complete: again */
	int64_t roles_gen;         /* the role generation listeners last heard of */
	const char *hosts[MAX_HOSTS + 4];
	char metadata_url[512];
};

/* ---- tools ---- */

static int tool_diag_progress(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	int64_t steps, interval;
	char text[64];
	int r;

	(void)arg;
	if (json_get_int_opt(args, "steps", 1, DIAG_MAX_STEPS, 5, &steps) != 0 ||
	    json_get_int_opt(args, "interval_ms", 0, DIAG_MAX_INTERVAL_MS, 100, &interval) != 0) {
		*result = mcp_result_error("steps must be 1..%d and interval_ms 0..%d",
		    DIAG_MAX_STEPS, DIAG_MAX_INTERVAL_MS);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	for (int64_t i = 1; i <= steps; i++) {
		if ((r = mcp_call_sleep(call, (int)interval)) != 0) {
			log_info("diag_progress: cancelled after %lld of %lld steps", (long long)(i - 1),
			    (long long)steps);
			return r; /* cancelled: no response */
		}
		snprintf(text, sizeof(text), "step %lld of %lld", (long long)i, (long long)steps);
		mcp_call_progress(call, (double)i, (double)steps, text);
	}
	*result = mcp_result_new(0);
	snprintf(text, sizeof(text), "completed %lld steps", (long long)steps);
	mcp_result_add_text(*result, text);
	cJSON_AddItemToObject(*result, "structuredContent",
	    cJSON_CreateObject());
	cJSON_AddNumberToObject(cJSON_GetObjectItem(*result, "structuredContent"), "steps",
	    (double)steps);
	return 0;
}

static int tool_diag_elicit(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	const char *question = NULL;
	cJSON *params, *schema, *props, *answer = NULL;
	const cJSON *content, *action;
	char *text;
	int r;

	(void)arg;
	if (json_get_str_opt(args, "question", 512, 0, "Type anything to confirm the round trip",
	    &question) != 0) {
		*result = mcp_result_error("question must be a string of at most 512 bytes");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (!mcp_call_client_supports(call, "elicitation")) {
		*result = mcp_result_error("this client does not support elicitation");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "message", question);
	schema = cJSON_AddObjectToObject(params, "requestedSchema");
	cJSON_AddStringToObject(schema, "type", "object");
	props = cJSON_AddObjectToObject(schema, "properties");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "answer"), "type", "string");
	cJSON_AddItemToObject(schema, "required", cJSON_CreateStringArray(
	    (const char *const[]){ "answer" }, 1));
	r = mcp_call_request(call, "elicitation/create", params, DIAG_ELICIT_TIMEOUT_MS, &answer);
	if (r == ZT_ERR_CANCELLED) {
		cJSON_Delete(answer);
		return r;
	}
	if (r != 0) {
		cJSON_Delete(answer);
		*result = mcp_result_error("elicitation failed: %s", zt_strerror(r));
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	action = cJSON_GetObjectItemCaseSensitive(answer, "action");
	content = cJSON_GetObjectItemCaseSensitive(answer, "content");
	*result = mcp_result_new(0);
	text = cJSON_PrintUnformatted(answer);
	mcp_result_add_text(*result, text != NULL ? text : "{}");
	free(text);
	cJSON_AddItemToObject(*result, "structuredContent", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItem(*result, "structuredContent"), "action",
	    cJSON_IsString(action) ? action->valuestring : "");
	if (cJSON_IsObject(content)) {
		cJSON_AddItemToObject(cJSON_GetObjectItem(*result, "structuredContent"), "content",
		    cJSON_Duplicate(content, 1));
	}
	cJSON_Delete(answer);
	return 0;
}

static int tool_diag_reconnect(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	int r;

	(void)args;
	(void)arg;
	/* Ends the connection now; the answer waits for the client to resume. */
	mcp_call_close_stream(call, DIAG_RECONNECT_RETRY_MS);
	if ((r = mcp_call_sleep(call, 2 * DIAG_RECONNECT_RETRY_MS)) != 0) {
		return r;
	}
	*result = mcp_result_new(0);
	if (*result == NULL) {
		return ZT_ERR_NOMEM;
	}
	mcp_result_add_text(*result, "the client resumed the stream and got this answer");
	return 0;
}

static int tool_diag_output(struct mcp_call *call, const cJSON *args, cJSON **result,
    void *arg)
{
	const cJSON *reconnect = cJSON_GetObjectItemCaseSensitive(args, "reconnect");
	int64_t bytes = 0;
	char *text;
	int r;

	(void)arg;
	if (json_get_int(args, "bytes", 0, DIAG_OUTPUT_MAX, &bytes) != 0 ||
	    (reconnect != NULL && !cJSON_IsBool(reconnect))) {
		*result = mcp_result_error("bytes must be 0..%d and reconnect a boolean",
		    DIAG_OUTPUT_MAX);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (cJSON_IsTrue(reconnect)) {
		/* As diag_reconnect: the answer waits for the client to resume. */
		mcp_call_close_stream(call, DIAG_RECONNECT_RETRY_MS);
		if ((r = mcp_call_sleep(call, 2 * DIAG_RECONNECT_RETRY_MS)) != 0) {
			return r;
		}
	}
	if ((text = malloc((size_t)bytes + 1)) == NULL ||
	    (*result = mcp_result_new(0)) == NULL) {
		free(text);
		return ZT_ERR_NOMEM;
	}
	memset(text, 'x', (size_t)bytes);
	text[bytes] = '\0';
	r = mcp_result_add_text(*result, text);
	free(text);
	return r;
}

static int hosts_list(struct mcp_call *call, cJSON *resources, void *arg)
{
	struct brk_mcp *m = arg;
	cJSON *hosts = NULL, *h;
	char uri[128];
	int r;

	r = brk_hosts_visible(m->b, mcp_call_identity(call)->roles, NULL, &hosts, NULL);
	if (r == ZT_ERR_DENIED) {
		return 0; /* no inventory for this caller: no hosts */
	}
	if (r != 0) {
		return r;
	}
	cJSON_ArrayForEach(h, hosts) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(h, "name"));
		cJSON *res = cJSON_CreateObject();

		snprintf(uri, sizeof(uri), "%s%s", BRK_HOST_URI, name);
		cJSON_AddStringToObject(res, "uri", uri);
		cJSON_AddStringToObject(res, "name", name);
		cJSON_AddStringToObject(res, "description", "A host reached through its zt agent");
		cJSON_AddStringToObject(res, "mimeType", "application/json");
		cJSON_AddItemToArray(resources, res);
	}
	cJSON_Delete(hosts);
	return 0;
}

static int hosts_read(struct mcp_call *call, const char *uri, cJSON *contents, void *arg)
{
	struct brk_mcp *m = arg;
	cJSON *hosts = NULL, *c;
	char *text;
	int r;

	if (strncmp(uri, BRK_HOST_URI, strlen(BRK_HOST_URI)) != 0) {
		return ZT_ERR_NOT_FOUND;
	}
	r = brk_hosts_visible(m->b, mcp_call_identity(call)->roles, uri + strlen(BRK_HOST_URI),
	    &hosts, NULL);
	if (r != 0 && r != ZT_ERR_DENIED) {
		return r;
	}
	if (r == ZT_ERR_DENIED || cJSON_GetArraySize(hosts) != 1) {
		cJSON_Delete(hosts);
		return ZT_ERR_NOT_FOUND; /* unknown, or not this caller's to see */
	}
	text = cJSON_PrintUnformatted(cJSON_GetArrayItem(hosts, 0));
	cJSON_Delete(hosts);
	if (text == NULL || (c = cJSON_CreateObject()) == NULL) {
		free(text);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(c, "uri", uri);
	cJSON_AddStringToObject(c, "mimeType", "application/json");
	cJSON_AddStringToObject(c, "text", text);
	free(text);
	cJSON_AddItemToArray(contents, c);
	return 0;
}

static const struct mcp_tool diag_tools[] = {
	{
		.name = "diag_progress",
		.description = "Diagnostics: sends a progress notification every interval_ms for "
		    "steps steps, then returns; stops early when cancelled.",
		.input_schema = "{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"integer\","
		    "\"minimum\":1,\"maximum\":100},\"interval_ms\":{\"type\":\"integer\","
		    "\"minimum\":0,\"maximum\":2000}}}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.handler = tool_diag_progress,
	},
	{
		.name = "diag_elicit",
		.description = "Diagnostics: asks the user a question through elicitation and "
		    "returns the answer.",
		.input_schema = "{\"type\":\"object\",\"properties\":{\"question\":"
		    "{\"type\":\"string\",\"maxLength\":512}}}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.handler = tool_diag_elicit,
	},
	{
		.name = "diag_reconnect",
		.description = "Diagnostics: closes the response stream before answering, so the "
		    "client must resume it with Last-Event-ID (SSE polling).",
		.input_schema = "{\"type\":\"object\",\"properties\":{}}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.handler = tool_diag_reconnect,
	},
	{
		.name = "diag_output",
		.description = "Diagnostics: answers with a text of `bytes` bytes; with reconnect, "
		    "closes the response stream first, so the client must resume it.",
		.input_schema = "{\"type\":\"object\",\"properties\":{\"bytes\":{\"type\":\"integer\","
		    "\"minimum\":0,\"maximum\":8388608},\"reconnect\":{\"type\":\"boolean\"}},"
		    "\"required\":[\"bytes\"]}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.handler = tool_diag_output,
	},
};

/* ---- glue ---- */

static int authenticate(void *arg, const char *authorization, const char *source,
    struct mcp_identity *who, struct brk_resp *resp)
{
	struct brk_mcp *m = arg;
	struct brk_identity id;
	struct brk_req req;
	int r;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/mcp";
	req.source = source;
	req.authorization = authorization;
	if ((r = brk_identity_authenticate(m->b, &req, &id, resp)) != 0) {
		return r;
	}
	memset(who, 0, sizeof(*who));
	snprintf(who->kind, sizeof(who->kind), "%s", brk_identity_kind(&id));
	snprintf(who->name, sizeof(who->name), "%s", id.name);
	snprintf(who->roles, sizeof(who->roles), "%s", id.roles);
	/* Sessions are bound to the token's hash: it names the token without
	 * being one. */
	snprintf(who->credential, sizeof(who->credential), "%s", id.token_hash);
	return 0;
}

int brk_mcp_identity(struct brk *b, const struct mcp_call *call, struct brk_identity *who)
{
	const struct mcp_identity *mi = mcp_call_identity(call);

	return brk_identity_load(b, mi->credential, mi->source, who);
}

/* Whether the token a session is bound to still authenticates its owner:
 * the same check as every request's (store_session_get), for the sessions
 * the store changed under. */
static int token_valid(void *arg, const struct mcp_identity *who, const char **why)
{
	struct brk_mcp *m = arg;
	struct store_session s;
	struct store_user u;
	int r;

	memset(&s, 0, sizeof(s));
	r = store_session_get(m->b->store, who->credential, m->b->now(), &s);
	switch (r) {
	case 0:
		return 0;
	case ZT_ERR_REVOKED:
		/* A lock revokes the user's tokens: say which it was. */
		memset(&u, 0, sizeof(u));
		*why = strcmp(who->kind, "user") == 0 &&
		    store_user_get(m->b->store, who->name, &u) == 0 && u.locked ?
		    "identity locked" : brk_identity_refusal(r);
		store_user_wipe(&u);
		break;
	case ZT_ERR_EXPIRED:
	case ZT_ERR_LOCKED:
	case ZT_ERR_NOT_FOUND:
		*why = brk_identity_refusal(r);
		break;
	default:
		/* The store could not say: keep the session, check again at the
		 * next round. */
		log_error("mcp: cannot check a session's token: %s", zt_strerror(r));
		m->recheck = 1;
		return 0;
	}
	return r;
}

/*
 * tools/call of a tool the caller's roles never allow, or of none. A tool
 * that exists is refused like any denied call: audited as tool.NAME, denied,
 * with the rule, and answered with an error result naming it (or, when the
 * event cannot be written, saying so). A name that is no tool is audited
 * as tool.unknown and answered "Unknown tool".
 */
static cJSON *refused_tool(struct mcp_call *call, const char *name, int exists, void *arg)
{
	const struct mcp_identity *who = mcp_call_identity(call);
	struct brk_mcp *m = arg;
	struct pol_request req;
	struct pol_decision d;
	char type[64], actor[BRK_IDENTITY_KEY_MAX];
	cJSON *det = cJSON_CreateObject();
	int r = ZT_ERR_NOMEM;

	memset(&req, 0, sizeof(req));
	req.tool = name;
	if (exists) {
		/* Decided as the tool alone (no host, no login): the rule that
		 * hid it. */
		(void)brk_policy_decide(m->b->roles, who->roles, &req, &d, NULL);
	}
	snprintf(type, sizeof(type), "tool.%s", exists ? name : "unknown");
	brk_identity_key(who->kind, who->name, actor, sizeof(actor));
	/* A call is never on record only in part. */
	if (det != NULL && cJSON_AddStringToObject(det, "tool", name) != NULL &&
	    cJSON_AddStringToObject(det, "request_id", mcp_call_id(call)) != NULL &&
	    (!exists || cJSON_AddStringToObject(det, "rule", d.rule) != NULL)) {
		r = aud_record(m->b->store, m->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = type, .actor = actor, .source = who->source, .outcome = "denied",
		    .reason = exists ? d.rule : "no such tool", .details = det });
	}
	cJSON_Delete(det);
	if (!exists) {
		return NULL;
	}
	return r != 0 ? mcp_result_error(BRK_GATE_UNRECORDED) : mcp_result_error("%s", d.rule);
}

/*
 * A multi round-trip request (2026-07-28) whose requestState does not
 * hold: forged or changed, expired, sealed for another identity or for
 * another request. Nothing ran; the attempt is recorded as a refused
 * mcp.call with the reason, and the client gets -32602.
 */
static void refused_state(struct mcp_call *call, const char *why, void *arg)
{
	const struct mcp_identity *who = mcp_call_identity(call);
	struct brk_mcp *m = arg;
	char actor[BRK_IDENTITY_KEY_MAX], reason[128];
	cJSON *det = cJSON_CreateObject();

	brk_identity_key(who->kind, who->name, actor, sizeof(actor));
	snprintf(reason, sizeof(reason), "requestState refused: %s", why);
	if (det != NULL && cJSON_AddStringToObject(det, "method", mcp_call_method(call)) != NULL &&
	    cJSON_AddStringToObject(det, "request_id", mcp_call_id(call)) != NULL) {
		(void)aud_record(m->b->store, m->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "mcp.call", .actor = actor, .source = who->source,
		    .outcome = "failure", .reason = reason, .details = det });
	}
	cJSON_Delete(det);
}

/* Housekeeping, once a second: keepalives of SSE streams, idle sessions;
 * listeners told when the roles changed (the tools they may see); and the
 * sessions and tasks whose token no longer authenticates are ended, at
 * once when the store changed (a lock, a removal, a logout: revocation
 * takes effect on what already runs), and every BRK_MCP_REVOKE_CHECK_MS
 * anyway (expiry needs no write). A check that could not be made in full
 * (no memory, the store could not answer) is made again at the next
 * round. */
static void chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct brk_mcp *m = arg;

	int64_t gen = brk_policy_generation(b->roles);

	brk_mcphttp_tick(m->http, net_mono_ms());
	if (gen != m->roles_gen) {
		/* Roles changed: the tools some callers may see did too. */
		m->roles_gen = gen;
		mcp_server_tools_changed(m->srv);
	}
	if (rd->store_changed || m->recheck ||
	    rd->now_ms - m->checked_ms >= BRK_MCP_REVOKE_CHECK_MS) {
		m->checked_ms = rd->now_ms;
		m->recheck = 0;
		if (brk_mcphttp_revoke(m->http, token_valid, m, NULL) != 0 ||
		    mcp_server_tasks_revoke(m->srv, token_valid, m, NULL) != 0) {
			m->recheck = 1;
		}
	}
}

/* Only identities whose roles name a stored role document get a session:
 * with none, every tool but whoami would be refused, and the session
 * would only take a place in the table. */
static int admit(void *arg, const struct mcp_identity *who, char *why, size_t whysz)
{
	struct brk_mcp *m = arg;
	struct brk_policy_set set;
	int r;

	if ((r = brk_policy_load(m->b->roles, who->roles, &set)) != 0) {
		snprintf(why, whysz, "the roles of %s:%s cannot be read (%s)", who->kind, who->name,
		    zt_strerror(r));
		return r;
	}
	if (set.n > 0) {
		r = 0;
	} else if (who->roles[0] == '\0') {
		snprintf(why, whysz, "%s:%s has no role, so it could call no tool; an administrator "
		    "must give it a role before it opens MCP sessions", who->kind, who->name);
		r = ZT_ERR_DENIED;
	} else {
		snprintf(why, whysz, "%s:%s has no usable role: no role document named %s is stored, "
		    "so it could call no tool; an administrator must apply the role first",
		    who->kind, who->name, set.missing);
		r = ZT_ERR_DENIED;
	}
	brk_policy_release(&set);
	return r;
}

int brk_mcp_new(struct brk *b, const struct brk_mcp_config *mc, struct brk_mcp **out)
{
	const char *const *hosts = mc->hosts;
	struct brk_mcphttp_config cfg;
	struct brk_mcp *m = calloc(1, sizeof(*m));
	size_t n = 0;
	int r = ZT_ERR_NOMEM;

	*out = NULL;
	if (m == NULL) {
		return ZT_ERR_NOMEM;
	}
	m->b = b;
	m->roles_gen = brk_policy_generation(b->roles);
	m->hosts[n++] = "localhost";
	m->hosts[n++] = "127.0.0.1";
	m->hosts[n++] = "[::1]";
	for (size_t i = 0; hosts != NULL && hosts[i] != NULL && i < MAX_HOSTS; i++) {
		m->hosts[n++] = hosts[i];
	}
	m->hosts[n] = NULL;
	snprintf(m->metadata_url, sizeof(m->metadata_url),
	    "%s/.well-known/oauth-protected-resource/mcp", b->base_url);
	m->srv = mcp_server_new("zt", ZT_VERSION,
	    "zt gates every tool call on identity, role policy and MFA, and audits it.");
	if (m->srv == NULL) {
		goto fail;
	}
	if ((m->tools = brk_tools_new(b)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto fail;
	}
	if ((r = brk_tools_register(m->tools, m->srv)) != 0) {
		goto fail;
	}
	mcp_server_set_refused_tool(m->srv, refused_tool, m);
	mcp_server_set_refused_state(m->srv, refused_state, m);
	mcp_server_set_state_ttl(m->srv, (int)(mc->state_ttl_s > 0 ? mc->state_ttl_s :
	    BRK_MCP_STATE_TTL_S));
	/* Tool lists are the caller's own; a client may keep one a minute
	 * (the gate decides every call anyway). */
	mcp_server_set_cache(m->srv, 60000, 0);
	{
		struct mcp_resource_provider hp = { hosts_list, NULL, hosts_read, m };

		if ((r = mcp_server_add_resources(m->srv, &hp)) != 0) {
			goto fail;
		}
	}
	for (size_t i = 0; mc->diagnostic_tools && i < sizeof(diag_tools) / sizeof(diag_tools[0]);
	    i++) {
		if ((r = mcp_server_add_tool(m->srv, &diag_tools[i])) != 0) {
			goto fail;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.srv = m->srv;
	cfg.authenticate = authenticate;
	cfg.auth_arg = m;
	cfg.allowed_hosts = m->hosts;
	cfg.allowed_origins = mc->origins;
	cfg.sessions_per_identity = mc->sessions_per_identity;
	cfg.calls_per_identity = mc->calls_per_identity;
	cfg.work = b->work;
	cfg.retained_session_max = mc->retained_session_max;
	cfg.retained_identity_max = mc->retained_identity_max;
	cfg.retained_max = mc->retained_max;
	cfg.admit = admit;
	cfg.admit_arg = m;
	cfg.resource_metadata_url = m->metadata_url;
	cfg.audit_store = b->store;
	cfg.audit_agg = b->agg;
	m->http = brk_mcphttp_new(&cfg);
	if (m->http == NULL || (b->watch != NULL && brk_watch_add(b->watch, chore, m) != 0)) {
		r = ZT_ERR_NOMEM;
		goto fail;
	}
	*out = m;
	return 0;
fail:
	brk_mcp_free(m);
	return r;
}

struct brk_mcphttp *brk_mcp_http(struct brk_mcp *m)
{
	return m->http;
}

void brk_mcp_shutdown(struct brk_mcp *m)
{
	if (m != NULL) {
		brk_mcphttp_shutdown(m->http);
		/* Task rounds use the broker (agents, the store): they end
		 * while it still stands. */
		mcp_server_tasks_stop(m->srv);
	}
}

void brk_mcp_free(struct brk_mcp *m)
{
	if (m == NULL) {
		return;
	}
	brk_mcphttp_free(m->http);
	mcp_server_free(m->srv);
	brk_tools_free(m->tools);
	free(m);
}
