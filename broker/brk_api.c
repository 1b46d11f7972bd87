/*
 * brk_api.c - routing, body parsing and bearer authentication for /v1/.
 *
 * Every refusal is a JSON error with a stable code (docs/api.md). Bodies
 * are parsed only after the route, method, media type and size are known to
 * be acceptable, and only through json_parse's bounds.
 */
#include "broker/brk_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "broker/brk.h"
#include "broker/brk_apiadmin.h"
#include "broker/brk_approvals.h"
#include "broker/brk_auditapi.h"
#include "broker/brk_auditlog.h"
#include "broker/brk_httphdr.h"
#include "broker/brk_watch.h"
#include "broker/brk_websession.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

/* PUBLIC: a JSON body, no token; AUTH: a bearer token; AUTH_BODY: a bearer
 * token and a JSON body; INFO: neither; ADMIN: an administrator's bearer
 * token and, for POST, a JSON body. Where a bearer token is asked for, a
 * web session cookie with its CSRF header does too (brk_websession.h). */
enum route_kind { ROUTE_PUBLIC, ROUTE_AUTH, ROUTE_AUTH_BODY, ROUTE_INFO, ROUTE_ADMIN };

struct route {
	const char *method;
	const char *path;          /* the path, or with `under` what it starts with */
	enum route_kind kind;
	void (*pub)(struct brk *, const struct brk_req *, const cJSON *, struct brk_resp *);
	void (*auth)(struct brk *, const struct brk_req *, const struct brk_identity *,
	    struct brk_resp *);
	void (*info)(struct brk *, struct brk_resp *);
	const struct brk_apiadmin_op *admin;
	/* Its success may end access that runs now (a token revoked, an agent
	 * locked, or changed so that the running registry must notice): the
	 * housekeeping looks at once (brk_watch.h). The others leave it to its
	 * next round: each kick has every revocation chore re-read the store. */
	int kicks;
	void (*auth_body)(struct brk *, const struct brk_req *, const struct brk_identity *,
	    const cJSON *, struct brk_resp *);
	/* The route serves every path below path (which ends in '/'): the
	 * handler reads the rest (an id) itself. */
	int under;
	/* A web session cookie is taken here without its CSRF header (the
	 * route tells the page its token; brk_websession.h). */
	int csrf_exempt;
};

enum { NO_KICK, KICK };
enum { EXACT, UNDER };

/* RFC 9728 protected resource metadata for the MCP endpoint: where a
 * client learns that /mcp takes bearer tokens in the header. */
static void resource_metadata(struct brk *b, struct brk_resp *resp)
{
	char url[sizeof(b->base_url) + 8];

	snprintf(url, sizeof(url), "%s/mcp", b->base_url);
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "resource", url);
	cJSON_AddItemToObject(resp->json, "bearer_methods_supported",
	    cJSON_CreateStringArray((const char *const[]){ "header" }, 1));
	cJSON_AddStringToObject(resp->json, "resource_name", "zt broker MCP endpoint");
	cJSON_AddItemToObject(resp->json, "authorization_servers", cJSON_CreateArray());
}

static const struct route routes[] = {
	{ "POST", "/v1/enroll", ROUTE_PUBLIC, .pub = brk_auth_enroll },
	{ "POST", "/v1/login", ROUTE_PUBLIC, .pub = brk_auth_login },
	{ "POST", "/v1/web/login", ROUTE_PUBLIC, .pub = brk_websession_login },
	{ "GET", "/v1/web/session", ROUTE_AUTH, .auth = brk_websession_get, .csrf_exempt = 1 },
	{ "POST", "/v1/web/logout", ROUTE_AUTH, .auth = brk_websession_logout, .kicks = KICK },
	{ "GET", "/v1/whoami", ROUTE_AUTH, .auth = brk_auth_whoami },
	{ "POST", "/v1/logout", ROUTE_AUTH, .auth = brk_auth_logout, .kicks = KICK },
	{ "GET", "/v1/hosts", ROUTE_AUTH, .auth = brk_hosts_api },
	{ "GET", "/v1/approvals", ROUTE_AUTH, .auth = brk_approvals_ls },
	{ "GET", "/v1/recordings", ROUTE_AUTH, .auth = brk_auditapi_recordings_ls },
	{ "GET", "/v1/recordings/", ROUTE_AUTH, .auth = brk_auditapi_recording_get,
	    .under = UNDER },
	{ "GET", "/v1/audit", ROUTE_AUTH, .auth = brk_auditlog_ls },
	{ "GET", "/v1/audit/verify", ROUTE_AUTH, .auth = brk_auditlog_verify },
	{ "GET", "/v1/audit/export", ROUTE_AUTH, .auth = brk_auditlog_export },
	{ "POST", "/v1/approvals/approve", ROUTE_AUTH_BODY, .auth_body = brk_approvals_approve },
	{ "POST", "/v1/approvals/deny", ROUTE_AUTH_BODY, .auth_body = brk_approvals_deny },
	{ "POST", "/v1/tokens", ROUTE_ADMIN, .admin = &brk_apiadmin_token_add },
	{ "GET", "/v1/tokens", ROUTE_ADMIN, .admin = &brk_apiadmin_token_ls },
	{ "POST", "/v1/tokens/rm", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_token_rm, .kicks = KICK },
	{ "POST", "/v1/roles", ROUTE_ADMIN, .admin = &brk_apiadmin_role_apply },
	{ "GET", "/v1/roles", ROUTE_ADMIN, .admin = &brk_apiadmin_role_ls },
	{ "POST", "/v1/roles/rm", ROUTE_ADMIN, .admin = &brk_apiadmin_role_rm },
	{ "POST", "/v1/policy/test", ROUTE_ADMIN, .admin = &brk_apiadmin_policy_test },
	{ "GET", "/v1/agents", ROUTE_ADMIN, .admin = &brk_apiadmin_agent_ls },
	{ "POST", "/v1/agents/approve", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_agent_approve, .kicks = KICK },
	{ "POST", "/v1/agents/lock", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_agent_lock, .kicks = KICK },
	{ "POST", "/v1/agents/unlock", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_agent_unlock, .kicks = KICK },
	{ "GET", "/v1/roles/", ROUTE_ADMIN, .admin = &brk_apiadmin_role_get, .under = UNDER },
	{ "GET", "/v1/users", ROUTE_ADMIN, .admin = &brk_apiadmin_user_ls },
	{ "POST", "/v1/users", ROUTE_ADMIN, .admin = &brk_apiadmin_user_add },
	{ "POST", "/v1/users/invite", ROUTE_ADMIN, .admin = &brk_apiadmin_user_invite },
	{ "POST", "/v1/users/reset", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_user_reset, .kicks = KICK },
	{ "POST", "/v1/users/lock", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_user_lock, .kicks = KICK },
	{ "POST", "/v1/users/unlock", ROUTE_ADMIN, .admin = &brk_apiadmin_user_unlock },
	{ "POST", "/v1/users/rm", ROUTE_ADMIN, .admin = &brk_apiadmin_user_rm, .kicks = KICK },
	{ "GET", "/v1/bots", ROUTE_ADMIN, .admin = &brk_apiadmin_bot_ls },
	{ "POST", "/v1/bots", ROUTE_ADMIN, .admin = &brk_apiadmin_bot_add },
	{ "POST", "/v1/bots/token", ROUTE_ADMIN,
	    .admin = &brk_apiadmin_bot_token, .kicks = KICK },
	{ "POST", "/v1/bots/rm", ROUTE_ADMIN, .admin = &brk_apiadmin_bot_rm, .kicks = KICK },
	{ "GET", "/.well-known/oauth-protected-resource/mcp", ROUTE_INFO,
	    .info = resource_metadata },
};

int64_t brk_now(void)
{
	return (int64_t)time(NULL);
}

int64_t brk_now_ms(void)
{
	return dur_now_ms();
}

void brk_resp_clear(struct brk_resp *resp)
{
	/* Responses carry session and join tokens. */
	json_delete_wiped(resp->json);
	free(resp->body);
	if (resp->file_type != NULL) {
		close(resp->file_fd);
	}
	crypto_wipe(resp->set_cookie, sizeof(resp->set_cookie));
	memset(resp, 0, sizeof(*resp));
}

void brk_resp_error(struct brk_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	cJSON *root, *err;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* What it replaces may hold a token or an invite. */
	json_delete_wiped(resp->json);
	resp->json = NULL;
	/* An error replaces a body made in memory (an export) too. */
	free(resp->body);
	resp->body = NULL;
	resp->body_type = NULL;
	resp->body_len = 0;
	resp->status = status;
	root = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(root, "error");
	if (err != NULL) {
		cJSON_AddStringToObject(err, "code", code);
		cJSON_AddStringToObject(err, "message", msg);
	}
	resp->json = root;
}

void brk_resp_unrecorded(struct brk_resp *resp)
{
	resp->retry_after = 0;
	resp->www_authenticate = 0;
	brk_resp_error(resp, 500, "internal", "internal error: audit log unavailable");
}

cJSON *brk_roles_json(const char *roles)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = roles;

	while (arr != NULL && p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char role[STORE_ROLES_MAX + 1];

		if (n > 0 && n < sizeof(role)) {
			memcpy(role, p, n);
			role[n] = '\0';
			cJSON_AddItemToArray(arr, cJSON_CreateString(role));
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	return arr;
}

/* Parses the body of a public or admin POST route: 0 with *out set, or an
 * error response already filled. */
static int parse_body(const struct brk_req *req, struct brk_resp *resp, cJSON **out)
{
	int r;

	if (!brk_hdr_media_type_is(req->content_type, "application/json")) {
		brk_resp_error(resp, 415, "unsupported_media_type",
		    "request body must be application/json");
		return ZT_ERR_INVALID;
	}
	if (req->body_len > BRK_BODY_MAX) {
		brk_resp_error(resp, 413, "body_too_large", "request body over %d bytes",
		    BRK_BODY_MAX);
		return ZT_ERR_TOO_LARGE;
	}
	r = json_parse(req->body != NULL ? req->body : (const uint8_t *)"", req->body_len,
	    BRK_BODY_MAX, JSON_DEFAULT_DEPTH, out);
	if (r != 0) {
		brk_resp_error(resp, 400, "invalid_request", "malformed JSON body: %s",
		    zt_strerror(r));
		return r;
	}
	if (!cJSON_IsObject(*out)) {
		json_delete_wiped(*out);
		*out = NULL;
		brk_resp_error(resp, 400, "invalid_request", "request body must be a JSON object");
		return ZT_ERR_TYPE;
	}
	return 0;
}

/* An admin route: the caller must be an administrator, checked before the
 * body is parsed, and the call is audited whatever its outcome. */
static void admin_route(struct brk *b, const struct brk_apiadmin_op *op,
    const struct brk_req *req, const struct brk_identity *who, struct brk_resp *resp)
{
	cJSON *body = NULL, *details = NULL;

	if (brk_apiadmin_authorize(b, who, resp) == 0 &&
	    (strcmp(req->method, "GET") == 0 || parse_body(req, resp, &body) == 0)) {
		op->run(b, req, who, body, resp, &details);
	}
	if (brk_apiadmin_audit(b, req, who, op->event, details, resp) != 0) {
		brk_resp_unrecorded(resp);
	}
	cJSON_Delete(details);
	json_delete_wiped(body);
}

/* path is rt's, or (an `under` route) below it: at least one byte more. */
static int path_matches(const struct route *rt, const char *path)
{
	size_t n = strlen(rt->path);

	return rt->under ? strncmp(rt->path, path, n) == 0 && path[n] != '\0' :
	    strcmp(rt->path, path) == 0;
}

void brk_api_handle(struct brk *b, const struct brk_req *req, struct brk_resp *resp)
{
	const struct route *rt = NULL;
	int path_known = 0;
	cJSON *body = NULL;
	struct brk_identity who;

	memset(resp, 0, sizeof(*resp));
	memset(&who, 0, sizeof(who));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_matches(&routes[i], req->path)) {
			continue;
		}
		path_known = 1;
		if (strcmp(routes[i].method, req->method) == 0) {
			rt = &routes[i];
		}
	}
	if (rt == NULL) {
		if (path_known) {
			brk_resp_error(resp, 405, "method_not_allowed", "method %s not allowed here",
			    req->method);
		} else {
			brk_resp_error(resp, 404, "not_found", "no such endpoint");
		}
		return;
	}
	if (rt->kind == ROUTE_INFO) {
		rt->info(b, resp);
		return;
	}
	if (rt->kind == ROUTE_PUBLIC) {
		if (parse_body(req, resp, &body) != 0) {
			return;
		}
		rt->pub(b, req, body, resp);
		json_delete_wiped(body);
		return;
	}
	if (req->body_len > BRK_BODY_MAX) {
		brk_resp_error(resp, 413, "body_too_large", "request body over %d bytes",
		    BRK_BODY_MAX);
		return;
	}
	/* The cookie only when no Authorization header is sent, and then
	 * under its CSRF and Origin rule. */
	if (brk_websession_request(b, req, rt->csrf_exempt ? 0 : BRK_WEBSESSION_CSRF, &who,
	    resp) != 0) {
		return;
	}
	snprintf(resp->actor, sizeof(resp->actor), "%s", who.actor);
	if (rt->kind == ROUTE_ADMIN) {
		admin_route(b, rt->admin, req, &who, resp);
	} else if (rt->kind == ROUTE_AUTH_BODY) {
		if (parse_body(req, resp, &body) == 0) {
			rt->auth_body(b, req, &who, body, resp);
		}
		json_delete_wiped(body);
	} else {
		rt->auth(b, req, &who, resp);
	}
	/* A logout or an admin verb that ends access reaches what runs now at
	 * once (brk_watch.h). */
	if (rt->kicks && resp->status < 300) {
		brk_watch_kick(b->watch);
	}
}
