/*
 * brk_identity.c - credentials to struct brk_identity (brk_identity.h).
 */
#include "broker/brk_identity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/net.h"

void brk_identity_key(const char *kind, const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%s", kind, name);
}

const char *brk_identity_kind(const struct brk_identity *who)
{
	return who->kind == STORE_BOT ? "bot" : "user";
}

const char *brk_identity_refusal(int err)
{
	switch (err) {
	case ZT_ERR_EXPIRED: return "token expired";
	case ZT_ERR_REVOKED: return "token revoked";
	case ZT_ERR_LOCKED: return "identity locked";
	case ZT_ERR_NOT_FOUND: return "identity removed or token deleted";
	default: return zt_strerror(err);
	}
}

/* The one place an identity is made: from the session row its credential
 * names, and the address the request came from. */
static void from_session(const struct store_session *s, const char *source,
    struct brk_identity *who)
{
	memset(who, 0, sizeof(*who));
	who->kind = s->kind;
	who->id = s->principal_id;
	snprintf(who->name, sizeof(who->name), "%s", s->name);
	snprintf(who->roles, sizeof(who->roles), "%s", s->roles);
	who->mfa_verified_at = s->mfa_verified_at;
	snprintf(who->source, sizeof(who->source), "%s", source != NULL ? source : "");
	snprintf(who->token_hash, sizeof(who->token_hash), "%s", s->token_hash);
	who->created_at = s->created_at;
	who->expires_at = s->expires_at;
	brk_identity_key(brk_identity_kind(who), who->name, who->actor, sizeof(who->actor));
}

int brk_identity_load(struct brk *b, const char *token_hash, const char *source,
    struct brk_identity *who)
{
	struct store_session s;
	char src[BRK_SOURCE_MAX];
	int r;

	/* source may point into *who. */
	snprintf(src, sizeof(src), "%s", source != NULL ? source : "");
	memset(&s, 0, sizeof(s));
	if ((r = store_session_get(b->store, token_hash, b->now(), &s)) != 0) {
		return r;
	}
	from_session(&s, src, who);
	return 0;
}

/* t if it has the shape of a token, else NULL. */
static const char *bearer_token_text(const char *t)
{
	if (*t == '\0' || strlen(t) >= CRYPTO_TOKEN_MAX) {
		return NULL;
	}
	for (const char *c = t; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) {
			return NULL;
		}
	}
	return t;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *bearer_token(const char *h)
{
	const char *t;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		return NULL;
	}
	t = h + 7;
	while (*t == ' ') {
		t++;
	}
	return bearer_token_text(t);
}

/* The identity of a token (NULL: not one), or a refusal in resp. */
static int from_token(struct brk *b, const struct brk_req *req, const char *token,
    struct brk_identity *who, struct brk_resp *resp)
{
	struct store_session s;
	char hash[CRYPTO_SHA256_HEX_LEN + 1], tok[16], addr[NET_ADDR_KEY_MAX];
	const char *code, *msg;
	cJSON *details = NULL;
	int64_t now, retry = 0;
	int r;

	if (token == NULL) {
		r = ZT_ERR_NOT_FOUND;
		hash[0] = '\0';
	} else {
		crypto_token_hash(token, hash);
		memset(&s, 0, sizeof(s));
		r = store_session_get(b->store, hash, b->now(), &s);
	}
	if (r == 0) {
		from_session(&s, req->source, who);
		return 0;
	}
	switch (r) {
	case ZT_ERR_EXPIRED:
		code = "token_expired";
		msg = "token expired: run ztctl login again";
		break;
	case ZT_ERR_REVOKED:
		code = "token_revoked";
		msg = "token revoked: run ztctl login again";
		break;
	case ZT_ERR_LOCKED:
		code = "account_locked";
		msg = "account locked by an administrator";
		break;
	case ZT_ERR_NOT_FOUND:
		code = "invalid_token";
		msg = "invalid token";
		break;
	default:
		brk_resp_error(resp, 500, "internal", "internal error");
		return r;
	}
	/* Bad tokens cost the client nothing: they are audited once per kind,
	 * address and period (aud_agg), and an address sending them fast gets
	 * a quiet period of 429s. Its valid tokens passed above. */
	now = b->now();
	net_addr_key(req->source, addr, sizeof(addr));
	if (brk_limit_apply(b->limits.token_addr, addr, BRK_LIMIT_TAKE, now, &retry) != 0) {
		brk_resp_error(resp, 429, "rate_limited", "too many bad tokens from this address; "
		    "try again in %lld s", (long long)retry);
		resp->retry_after = retry;
		if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "auth.token", .actor = "anonymous", .source = req->source,
		    .outcome = "failure", .reason = "rate_limited",
		    .aggregate = AUD_AGGREGATE }) != 0) {
			brk_resp_unrecorded(resp);
		}
		return ZT_ERR_RATE_LIMITED;
	}
	brk_resp_error(resp, r == ZT_ERR_LOCKED ? 423 : 401, code, "%s", msg);
	resp->www_authenticate = r != ZT_ERR_LOCKED;
	/* A short prefix of the token's hash lets the security team correlate
	 * refusals without the log holding anything that authenticates. */
	snprintf(tok, sizeof(tok), "%.12s", hash);
	details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "path", req->path);
	if (hash[0] != '\0') {
		cJSON_AddStringToObject(details, "token_sha256_prefix", tok);
	}
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "auth.token", .actor = "anonymous", .source = req->source,
	    .outcome = "failure", .reason = code, .details = details,
	    .aggregate = AUD_AGGREGATE }) != 0) {
		brk_resp_unrecorded(resp);
	}
	cJSON_Delete(details);
	if (brk_limit_apply(b->limits.token_addr, addr, BRK_LIMIT_FAIL, now, NULL) == 1 &&
	    (details = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(details, "scope", "address");
		cJSON_AddNumberToObject(details, "failures", BRK_TOKEN_FAIL_MAX_ADDR);
		cJSON_AddNumberToObject(details, "window_s", BRK_TOKEN_FAIL_WINDOW_S);
		cJSON_AddNumberToObject(details, "quiet_s", BRK_TOKEN_FAIL_QUIET_S);
		if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "auth.token", .actor = "anonymous", .source = req->source,
		    .outcome = "blocked", .details = details }) != 0) {
			brk_resp_unrecorded(resp);
		}
		cJSON_Delete(details);
	}
	return r;
}


int brk_identity_authenticate(struct brk *b, const struct brk_req *req,
    struct brk_identity *who, struct brk_resp *resp)
{
	if (req->authorization == NULL) {
		brk_resp_error(resp, 401, "missing_token",
		    "authentication required: send Authorization: Bearer <token> "
		    "(run ztctl login)");
		resp->www_authenticate = 1;
		return ZT_ERR_AUTH;
	}
	return from_token(b, req, bearer_token(req->authorization), who, resp);
}

int brk_identity_from_cookie(struct brk *b, const struct brk_req *req, const char *cookie,
    struct brk_identity *who, struct brk_resp *resp)
{
	if (cookie == NULL) {
		return ZT_ERR_AUTH;
	}
	return from_token(b, req, bearer_token_text(cookie), who, resp);
}
