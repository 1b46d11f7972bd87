/*
 * brk_websession.c - the console's cookie session (brk_websession.h). The
 * login is /v1/login's own code (brk_auth_login); what is added here
 * is only how its token travels (a cookie, never the body), how long it
 * idles, and the CSRF and Origin checks that make a cookie safe to take
 * as an API credential.
 */
#include "broker/brk_websession.h"

#include <stdio.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_httphdr.h"
#include "broker/brk_policy.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

#define CSRF_WHAT "console"
#define COOKIE_ATTRS "Path=/; HttpOnly; Secure; SameSite=Strict"

/* The session's CSRF token: HMAC-SHA256 under b->web_key of
 * "console:TOKEN_HASH", hex, into out (BRK_CSRF_HEX + 1 bytes; "" on
 * failure). */
static void csrf_of(const struct brk *b, const char *token_hash, char *out)
{
	uint8_t mac[64];
	char msg[STORE_HASH_HEX + 32];
	size_t n = 0;

	snprintf(msg, sizeof(msg), "%s:%s", CSRF_WHAT, token_hash);
	if (crypto_hmac("SHA256", b->web_key, sizeof(b->web_key), msg, strlen(msg), mac,
	    &n) != 0 || crypto_hex(mac, CRYPTO_SHA256_LEN, out, BRK_CSRF_HEX + 1) != 0) {
		out[0] = '\0';
	}
	crypto_wipe(mac, sizeof(mac));
}

/* 1 if got is the CSRF token of token_hash, compared in constant time. */
static int csrf_ok(const struct brk *b, const char *token_hash, const char *got)
{
	char want[BRK_CSRF_HEX + 1];

	if (got == NULL || strlen(got) != BRK_CSRF_HEX) {
		return 0;
	}
	csrf_of(b, token_hash, want);
	return want[0] != '\0' && crypto_ct_equal(got, want, BRK_CSRF_HEX);
}

/* A refusal of the cookie's rule: 403 in resp, audited once per reason,
 * address and period (a page elsewhere can send these without limit). */
static int refuse(struct brk *b, const struct brk_req *req, const char *actor,
    const char *code, const char *msg, struct brk_resp *resp)
{
	brk_resp_error(resp, 403, code, "%s", msg);
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "auth.web", .actor = actor, .source = req->source, .outcome = "failure",
	    .reason = code, .aggregate = AUD_AGGREGATE }) != 0) {
		brk_resp_unrecorded(resp);
	}
	return ZT_ERR_DENIED;
}

/* The expiry a use at now gives a session: idle from now, never past the
 * limit its roles set from its start. 0 or brk_policy_session_ttl's error. */
static int expiry_at(struct brk *b, const char *roles, int64_t created_at, int64_t now,
    int64_t *until)
{
	char by[STORE_NAME_MAX + 1];
	int64_t ttl = 0;
	int r;

	if ((r = brk_policy_session_ttl(b->roles, roles, b->session_ttl, &ttl, by,
	    sizeof(by))) != 0) {
		return r;
	}
	*until = now + BRK_WEBSESSION_IDLE;
	if (*until > created_at + ttl) {
		*until = created_at + ttl;
	}
	return 0;
}

void brk_websession_slide(struct brk *b, struct brk_identity *who)
{
	int64_t now = b->now(), until = 0;
	int r;

	if (expiry_at(b, who->roles, who->created_at, now, &until) != 0 ||
	    until < who->expires_at + BRK_WEBSESSION_SLIDE) {
		return;
	}
	if ((r = store_session_set_expiry(b->store, who->token_hash, now, until)) == 0) {
		who->expires_at = until;
	} else if (r != ZT_ERR_NOT_FOUND) {
		log_warn("cannot slide a web session's expiry: %s", zt_strerror(r));
	}
}

int brk_websession_authenticate(struct brk *b, const struct brk_req *req, int flags,
    struct brk_identity *who, struct brk_resp *resp)
{
	int r;

	if (req->origin == NULL && (flags & BRK_WEBSESSION_ORIGIN)) {
		return refuse(b, req, "anonymous", "forbidden_origin", "a WebSocket opened with "
		    "the web session must come from the broker's own pages (Origin)", resp);
	}
	if (req->origin != NULL && !brk_hdr_same_origin(req->origin, b->base_url)) {
		return refuse(b, req, "anonymous", "forbidden_origin", "cross-origin request "
		    "refused: the web session is only taken from the broker's own pages", resp);
	}
	if ((r = brk_identity_from_cookie(b, req, req->cookie_web, who, resp)) != 0) {
		return r;
	}
	if (who->kind != STORE_USER) {
		brk_resp_error(resp, 401, "invalid_token", "invalid token");
		return ZT_ERR_AUTH;
	}
	if ((flags & BRK_WEBSESSION_CSRF) && !csrf_ok(b, who->token_hash, req->csrf)) {
		return refuse(b, req, who->actor, req->csrf == NULL ? "csrf_required" :
		    "csrf_mismatch", req->csrf == NULL ? "the web session needs its CSRF token "
		    "in the " BRK_WEBSESSION_CSRF_HEADER " header" : "wrong CSRF token: reload "
		    "the page", resp);
	}
	brk_websession_slide(b, who);
	return 0;
}

int brk_websession_request(struct brk *b, const struct brk_req *req, int flags,
    struct brk_identity *who, struct brk_resp *resp)
{
	if (req->authorization == NULL && req->cookie_web != NULL) {
		return brk_websession_authenticate(b, req, flags, who, resp);
	}
	return brk_identity_authenticate(b, req, who, resp);
}

/* {user, roles, admin, auditor, csrf, expires_at, idle_timeout_s} of a
 * session: the page shows what the rights allow (the API decides). */
static void session_json(struct brk *b, const char *user, const char *roles,
    const char *token_hash, int64_t expires_at, struct brk_resp *resp)
{
	char csrf[BRK_CSRF_HEX + 1];
	int admin = 0, auditor = 0;

	csrf_of(b, token_hash, csrf);
	if (brk_policy_rights(b->roles, roles, &admin, &auditor) != 0) {
		csrf[0] = '\0';  /* no page for a session whose rights cannot be read */
	}
	json_delete_wiped(resp->json);
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "user", user);
	cJSON_AddItemToObject(resp->json, "roles", brk_roles_json(roles));
	cJSON_AddBoolToObject(resp->json, "admin", admin);
	cJSON_AddBoolToObject(resp->json, "auditor", auditor);
	cJSON_AddStringToObject(resp->json, "csrf", csrf);
	cJSON_AddNumberToObject(resp->json, "expires_at", (double)expires_at);
	cJSON_AddNumberToObject(resp->json, "idle_timeout_s", BRK_WEBSESSION_IDLE);
	if (csrf[0] == '\0') {
		brk_resp_error(resp, 500, "internal", "internal error");
	}
}

void brk_websession_login(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1], token[CRYPTO_TOKEN_MAX] = "";
	const char *t;
	struct brk_identity who;
	int64_t until = 0;

	brk_auth_login(b, req, body, resp);
	t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp->json, "token"));
	if (resp->status != 200 || t == NULL) {
		return;
	}
	snprintf(token, sizeof(token), "%s", t);
	crypto_token_hash(token, hash);
	/* The session idles from now on: its stored expiry is the idle one. */
	if (brk_identity_load(b, hash, req->source, &who) != 0 ||
	    expiry_at(b, who.roles, who.created_at, b->now(), &until) != 0 ||
	    (until < who.expires_at && store_session_set_expiry(b->store, hash, b->now(),
	    until) != 0)) {
		(void)store_session_revoke(b->store, hash, b->now());
		json_delete_wiped(resp->json);
		resp->json = NULL;
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	session_json(b, who.name, who.roles, hash, until < who.expires_at ? until :
	    who.expires_at, resp);
	if (resp->status != 200) {
		/* No answer, no session: the cookie goes only with a page. */
		(void)store_session_revoke(b->store, hash, b->now());
		goto out;
	}
	snprintf(resp->set_cookie, sizeof(resp->set_cookie), "%s=%s; " COOKIE_ATTRS,
	    BRK_WEBSESSION_COOKIE, token);
out:
	crypto_wipe(token, sizeof(token));
}

void brk_websession_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	(void)req;
	session_json(b, who->name, who->roles, who->token_hash, who->expires_at, resp);
}

void brk_websession_logout(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	brk_auth_logout(b, req, who, resp);
	snprintf(resp->set_cookie, sizeof(resp->set_cookie), "%s=; Max-Age=0; "
	    COOKIE_ATTRS, BRK_WEBSESSION_COOKIE);
}
