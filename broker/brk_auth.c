/*
 * brk_auth.c - enrolment, login, whoami and logout.
 *
 * Enrolment turns a one-time invite into a password and a confirmed TOTP
 * authenticator; login needs both and mints an opaque session token that is
 * stored only as its hash. Every outcome, success or failure, is written to
 * the audit log before the response leaves (aud_record; a request whose
 * event cannot be written is answered 500); what unauthenticated clients
 * can repeat without limit (refusals during a lockout, unknown invites,
 * busy answers) is aggregated (audit/aud_agg.h), and best effort. A login
 * is counted against its user and its source address before the password
 * is checked (brk_limit.h), and only BRK_PW_CHECKS_MAX password checks run
 * at once.
 */
#include <stdio.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_policy.h"
#include "broker/brk_quota.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "common/totp.h"

#define PASSWORD_MIN 12

/* Fills resp with a 400 naming the field, for a getter's error r. */
static void field_error(struct brk_resp *resp, const char *field, int r)
{
	const char *why = r == ZT_ERR_NOT_FOUND ? "is required" :
	    r == ZT_ERR_TYPE ? "must be a string" :
	    r == ZT_ERR_TOO_LARGE ? "is too long" : "is invalid";

	brk_resp_error(resp, 400, "invalid_request", "field \"%s\" %s", field, why);
}

/* The key of the one quota all password checks share. */
#define PW_CHECK_KEY "scrypt"

/* Takes a place among the password checks running at once (each costs
 * ~100 ms of CPU and 32 MiB): 0, or a 503 in resp, answered at once so
 * that a flood queues nothing, saying what was refused and audited as
 * event. */
static int pw_check_begin(struct brk *b, const struct brk_req *req, const char *what,
    const char *event, struct brk_resp *resp)
{
	if (brk_quota_take(b->limits.pw_checks, PW_CHECK_KEY) == 0) {
		return 0;
	}
	brk_resp_error(resp, 503, "busy", "%s refused: too many password checks at once; try "
	    "again in %d s", what, BRK_PW_BUSY_RETRY_S);
	resp->retry_after = BRK_PW_BUSY_RETRY_S;
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){ .type = event,
	    .actor = "anonymous", .source = req->source, .outcome = "failure", .reason = "busy",
	    .aggregate = AUD_AGGREGATE }) != 0) {
		brk_resp_unrecorded(resp);
	}
	return ZT_ERR_RATE_LIMITED;
}

static void pw_check_end(struct brk *b)
{
	brk_quota_give(b->limits.pw_checks, PW_CHECK_KEY);
}

/* An invite of an enrolled account (one issued before zt retired such
 * invites) must not replace its password and TOTP: only an administrator's
 * reset does. */
static void already_enrolled(struct brk *b, const struct brk_req *req, const char *actor,
    struct brk_resp *resp)
{
	brk_resp_error(resp, 409, "already_enrolled", "enrolment refused: the account is "
	    "already enrolled; an administrator can reset it (ztbroker admin users reset)");
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "user.enroll", .actor = actor, .source = req->source, .outcome = "failure",
	    .reason = "already enrolled" }) != 0) {
		brk_resp_unrecorded(resp);
	}
}

static void enroll_password(struct brk *b, const struct brk_req *req,
    struct store_user *u, const char *password, struct brk_resp *resp)
{
	char pwhash[CRYPTO_PWHASH_MAX], b32[TOTP_B32_MAX], uri[TOTP_URI_MAX], actor[BRK_IDENTITY_KEY_MAX];
	uint8_t secret[TOTP_SECRET_LEN];
	size_t plen = strlen(password);
	int r;

	if (plen < PASSWORD_MIN || plen > CRYPTO_PASSWORD_MAX) {
		brk_resp_error(resp, 400, "invalid_request",
		    "password must be %d to %d bytes long", PASSWORD_MIN, CRYPTO_PASSWORD_MAX);
		return;
	}
	brk_identity_key("user", u->name, actor, sizeof(actor));
	if (u->totp_active) {
		already_enrolled(b, req, actor, resp);
		return;
	}
	if (pw_check_begin(b, req, "enrolment", "user.enroll", resp) != 0) {
		return;
	}
	r = crypto_password_hash(password, pwhash, sizeof(pwhash));
	pw_check_end(b);
	if (r != 0 ||
	    (r = crypto_random(secret, sizeof(secret))) != 0 ||
	    (r = totp_base32_encode(secret, sizeof(secret), b32, sizeof(b32))) != 0 ||
	    (r = totp_uri("zt", u->name, secret, sizeof(secret), uri, sizeof(uri))) != 0 ||
	    (r = store_user_set_credentials(b->store, u->id, pwhash, secret, sizeof(secret))) != 0) {
		if (r == ZT_ERR_EXISTS) {
			already_enrolled(b, req, actor, resp);
			goto out;
		}
		log_error("enrolment of %s failed: %s", u->name, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "user", u->name);
	cJSON_AddStringToObject(resp->json, "totp_secret", b32);
	cJSON_AddStringToObject(resp->json, "otpauth_uri", uri);
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "user.enroll.password", .actor = actor, .source = req->source,
	    .outcome = "success" }) != 0) {
		brk_resp_unrecorded(resp);
	}
out:
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(b32, sizeof(b32));
	crypto_wipe(uri, sizeof(uri));
	crypto_wipe(pwhash, sizeof(pwhash));
}

static void enroll_confirm(struct brk *b, const struct brk_req *req, struct store_user *u,
    const char *invite_hash, const char *otp, struct brk_resp *resp)
{
	char actor[BRK_IDENTITY_KEY_MAX];
	int64_t step = 0;
	int r;

	brk_identity_key("user", u->name, actor, sizeof(actor));
	if (u->totp_active) {
		already_enrolled(b, req, actor, resp);
		return;
	}
	if (u->totp_len == 0) {
		brk_resp_error(resp, 409, "enroll_order",
		    "enrolment not started: send the invite with a new password first");
		return;
	}
	r = totp_verify(u->totp_secret, u->totp_len, otp, b->now(), u->totp_last_step, &step);
	if (r == ZT_ERR_INVALID) {
		brk_resp_error(resp, 400, "invalid_request", "field \"otp\" must be 6 digits");
		return;
	}
	if (r != 0) {
		brk_resp_error(resp, 401, r == ZT_ERR_REPLAY ? "otp_replayed" : "invalid_otp",
		    r == ZT_ERR_REPLAY ? "enrolment failed: this code was already used" :
		    "enrolment failed: wrong one-time code (check the authenticator's clock)");
		if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "user.enroll", .actor = actor, .source = req->source,
		    .outcome = "failure", .reason = r == ZT_ERR_REPLAY ? "otp replayed" :
		    "wrong otp" }) != 0) {
			brk_resp_unrecorded(resp);
		}
		return;
	}
	/* One transaction uses the invite up and activates the very secret
	 * the code was checked against. */
	r = store_user_enroll(b->store, invite_hash, b->now(), u->id, u->totp_secret, u->totp_len,
	    step);
	if (r == ZT_ERR_EXISTS) {
		already_enrolled(b, req, actor, resp);
		return;
	}
	if (r == ZT_ERR_NOT_FOUND || r == ZT_ERR_EXPIRED) {
		brk_resp_error(resp, 401, r == ZT_ERR_EXPIRED ? "invite_expired" : "invalid_invite",
		    "enrolment failed: the invite %s", r == ZT_ERR_EXPIRED ? "expired" :
		    "was used or replaced meanwhile");
		return;
	}
	if (r == ZT_ERR_AUTH) {
		brk_resp_error(resp, 409, "enroll_order", "enrolment failed: the password was "
		    "set again meanwhile; confirm the authenticator of the last step 1");
		return;
	}
	if (r != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "user", u->name);
	cJSON_AddBoolToObject(resp->json, "enrolled", 1);
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "user.enroll", .actor = actor, .source = req->source,
	    .outcome = "success" }) != 0) {
		brk_resp_unrecorded(resp);
	}
}

void brk_auth_enroll(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp)
{
	static const char *const keys[] = { "invite", "password", "otp", NULL };
	const char *invite = NULL, *password = NULL, *otp = NULL, *bad = NULL;
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct store_user u;
	int64_t user_id = 0;
	int r, rp, ro;

	memset(&u, 0, sizeof(u));
	if (json_only_keys(body, keys, &bad) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "unknown field \"%s\"", bad);
		return;
	}
	if ((r = json_get_str(body, "invite", CRYPTO_TOKEN_MAX, 0, &invite)) != 0) {
		field_error(resp, "invite", r);
		return;
	}
	rp = json_get_str(body, "password", CRYPTO_PASSWORD_MAX, 0, &password);
	ro = json_get_str(body, "otp", 16, 0, &otp);
	if ((rp != 0 && rp != ZT_ERR_NOT_FOUND) || (ro != 0 && ro != ZT_ERR_NOT_FOUND)) {
		field_error(resp, rp != 0 && rp != ZT_ERR_NOT_FOUND ? "password" : "otp",
		    rp != 0 && rp != ZT_ERR_NOT_FOUND ? rp : ro);
		return;
	}
	if ((password == NULL) == (otp == NULL)) {
		brk_resp_error(resp, 400, "invalid_request",
		    "send either \"password\" (step 1) or \"otp\" (step 2) with the invite");
		return;
	}
	crypto_token_hash(invite, hash);
	r = store_invite_get(b->store, hash, b->now(), &user_id);
	if (r == 0) {
		r = store_user_get_id(b->store, user_id, &u);
	}
	if (r == ZT_ERR_NOT_FOUND || r == ZT_ERR_EXPIRED) {
		brk_resp_error(resp, 401, r == ZT_ERR_EXPIRED ? "invite_expired" : "invalid_invite",
		    r == ZT_ERR_EXPIRED ?
		    "enrolment failed: the invite expired; ask an administrator for a new one" :
		    "enrolment failed: unknown or already used invite");
		/* Anyone can send these, as fast as they like. */
		if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "user.enroll", .actor = "anonymous", .source = req->source,
		    .outcome = "failure", .reason = r == ZT_ERR_EXPIRED ? "invite expired" :
		    "invalid invite", .aggregate = AUD_AGGREGATE }) != 0) {
			brk_resp_unrecorded(resp);
		}
		goto out;
	}
	if (r != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	if (password != NULL) {
		enroll_password(b, req, &u, password, resp);
	} else {
		enroll_confirm(b, req, &u, hash, otp, resp);
	}
out:
	store_user_wipe(&u);
}

/* One login attempt and the counters it is charged to: the source
 * address's, and the user name's (a known user's row in the store, else
 * the table of unknown names, so both lock out alike). */
struct attempt {
	struct brk *b;
	const struct brk_req *req;
	const char *event;           /* its audit event: "user.login", "mfa.stepup" */
	const char *user;
	const struct store_user *u;  /* NULL: no such user */
	int64_t now;
	char addr[NET_ADDR_KEY_MAX]; /* the source address's key (net_addr_key) */
};

struct count_arg {
	enum brk_limit_op op;
	int64_t now;
	int64_t retry;
};

static int count_row(struct store_fail_count *c, void *arg)
{
	struct count_arg *ca = arg;

	return brk_limit_count(c, &brk_limit_login_user, ca->op, ca->now, &ca->retry);
}

/* Applies op to the user name's counter (brk_limit_count's returns, or a
 * store error). */
static int count_user(const struct attempt *a, enum brk_limit_op op, int64_t *retry)
{
	struct count_arg ca = { op, a->now, 0 };
	int r;

	if (a->u == NULL) {
		return brk_limit_apply(a->b->limits.login_name, a->user, op, a->now, retry);
	}
	r = store_user_login_update(a->b->store, a->u->id, count_row, &ca);
	if (retry != NULL) {
		*retry = ca.retry;
	}
	return r;
}

/* Counts the attempt against the address and the user name before the
 * password is checked, each in one step with its check, so that attempts
 * at once cannot all pass: 0, or a 429 (or 500) in resp. */
static int attempt_take(const struct attempt *a, struct brk_resp *resp)
{
	int64_t retry = 0;
	int r;

	r = brk_limit_apply(a->b->limits.login_addr, a->addr, BRK_LIMIT_TAKE, a->now,
	    &retry);
	if (r == 0 && (r = count_user(a, BRK_LIMIT_TAKE, &retry)) != 0) {
		brk_limit_apply(a->b->limits.login_addr, a->addr, BRK_LIMIT_GIVE, a->now, NULL);
	}
	if (r == ZT_ERR_RATE_LIMITED) {
		cJSON *d = cJSON_CreateObject();

		brk_resp_error(resp, 429, "rate_limited",
		    "login refused: too many failed attempts; try again in %lld s", (long long)retry);
		resp->retry_after = retry;
		/* Refusals during a block cost the client nothing and go on for
		 * as long as it likes: one event per address and period. */
		cJSON_AddStringToObject(d, "user", a->user);
		if (aud_record(a->b->store, a->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = a->event, .actor = "anonymous", .source = a->req->source,
		    .outcome = "failure", .reason = "rate limited", .details = d,
		    .aggregate = AUD_AGGREGATE }) != 0) {
			brk_resp_unrecorded(resp);
		}
		cJSON_Delete(d);
	} else if (r != 0) {
		log_error("cannot count a login of %s: %s", a->user, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
	}
	return r;
}

/* Audits the block that a failure started. */
static void audit_lockout(const struct attempt *a, const char *scope, int failures,
    struct brk_resp *resp)
{
	char actor[BRK_IDENTITY_KEY_MAX];
	cJSON *d = cJSON_CreateObject();

	brk_identity_key("user", a->user, actor, sizeof(actor));
	cJSON_AddStringToObject(d, "scope", scope);
	if (strcmp(scope, "user") == 0) {
		cJSON_AddStringToObject(d, "user", a->user);
	}
	cJSON_AddNumberToObject(d, "blocked_s", BRK_LOGIN_BLOCK_S);
	cJSON_AddNumberToObject(d, "failures", failures);
	if (aud_record(a->b->store, a->b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "user.lockout", .actor = a->u != NULL && strcmp(scope, "user") == 0 ? actor :
	    "anonymous", .source = a->req->source, .outcome = "blocked", .details = d }) != 0) {
		brk_resp_unrecorded(resp);
	}
	cJSON_Delete(d);
}

enum outcome { ATTEMPT_FAILED, ATTEMPT_NOT_MADE, ATTEMPT_SUCCEEDED };

/* Settles the counts attempt_take() made: a failure keeps them (and may
 * start a block, audited), an attempt not made gives them back, a success
 * clears the user's and gives the address's back. */
static void attempt_settle(const struct attempt *a, enum outcome how, struct brk_resp *resp)
{
	struct brk_limit *addr = a->b->limits.login_addr;
	int r;

	switch (how) {
	case ATTEMPT_FAILED:
		if ((r = count_user(a, BRK_LIMIT_FAIL, NULL)) == 1) {
			audit_lockout(a, "user", BRK_LOGIN_MAX_USER, resp);
		} else if (r < 0) {
			log_error("cannot count a failed login of %s: %s", a->user, zt_strerror(r));
		}
		if (brk_limit_apply(addr, a->addr, BRK_LIMIT_FAIL, a->now, NULL) == 1) {
			audit_lockout(a, "address", BRK_LOGIN_MAX_ADDR, resp);
		}
		break;
	case ATTEMPT_NOT_MADE:
	case ATTEMPT_SUCCEEDED:
		r = count_user(a, how == ATTEMPT_SUCCEEDED ? BRK_LIMIT_CLEAR : BRK_LIMIT_GIVE, NULL);
		if (r < 0) {
			log_error("cannot settle a login of %s: %s", a->user, zt_strerror(r));
		}
		brk_limit_apply(addr, a->addr, BRK_LIMIT_GIVE, a->now, NULL);
		break;
	}
}

/* Audits a failed login and settles its counts. An unknown user's name is
 * only a claim: it goes into the details, not the actor. */
static void login_failed(const struct attempt *a, const char *reason, struct brk_resp *resp)
{
	char actor[BRK_IDENTITY_KEY_MAX];
	cJSON *d = a->u != NULL ? NULL : cJSON_CreateObject();

	brk_identity_key("user", a->user, actor, sizeof(actor));
	cJSON_AddStringToObject(d, "user", a->user);
	if (aud_record(a->b->store, a->b->agg, brk_now_ms(), &(struct aud_event){
	    .type = a->event, .actor = a->u != NULL ? actor : "anonymous",
	    .source = a->req->source, .outcome = "failure", .reason = reason,
	    .details = d }) != 0) {
		brk_resp_unrecorded(resp);
	}
	cJSON_Delete(d);
	attempt_settle(a, ATTEMPT_FAILED, resp);
}

/* The one-time code of an attempt whose user is known and past its
 * password (if any): single use (a code's step is consumed, so two
 * requests racing with one code cannot both pass) and counted like a
 * password. 0; else the failure is in resp, audited, and counted. what
 * starts the messages ("login", "step-up"). */
static int otp_check(const struct attempt *a, const char *otp, const char *what,
    struct brk_resp *resp)
{
	int64_t step = 0;
	int r;

	if (!a->u->totp_active) {
		brk_resp_error(resp, 403, "not_enrolled",
		    "%s refused: enrolment is not finished (confirm the authenticator first)", what);
		login_failed(a, "not enrolled", resp);
		return ZT_ERR_DENIED;
	}
	r = totp_verify(a->u->totp_secret, a->u->totp_len, otp, a->now, a->u->totp_last_step,
	    &step);
	if (r == 0) {
		r = store_user_consume_step(a->b->store, a->u->id, step);
	}
	if (r == ZT_ERR_REPLAY) {
		brk_resp_error(resp, 401, "otp_replayed", "%s failed: this one-time code was "
		    "already used; wait for the next one", what);
		login_failed(a, "otp replayed", resp);
		return r;
	}
	if (r != 0) {
		brk_resp_error(resp, 401, "invalid_otp", "%s failed: wrong one-time code (check "
		    "the authenticator's clock)", what);
		login_failed(a, "wrong otp", resp);
		return r;
	}
	attempt_settle(a, ATTEMPT_SUCCEEDED, resp);
	return 0;
}

int brk_auth_stepup(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    const char *otp, const char *event, struct brk_resp *resp)
{
	struct store_user u;
	struct attempt a;
	int r;

	memset(&u, 0, sizeof(u));
	if (who->kind != STORE_USER) {
		brk_resp_error(resp, 403, "forbidden", "bots have no second factor");
		return ZT_ERR_DENIED;
	}
	if ((r = store_user_get(b->store, who->name, &u)) != 0) {
		brk_resp_error(resp, r == ZT_ERR_NOT_FOUND ? 401 : 500, r == ZT_ERR_NOT_FOUND ?
		    "invalid_token" : "internal", r == ZT_ERR_NOT_FOUND ? "no such user" :
		    "internal error");
		goto out;
	}
	a = (struct attempt){ b, req, event, who->name, &u, b->now(), "" };
	net_addr_key(req->source, a.addr, sizeof(a.addr));
	if ((r = attempt_take(&a, resp)) != 0) {
		goto out;
	}
	if (u.locked) {
		brk_resp_error(resp, 423, "account_locked", "account locked by an administrator");
		login_failed(&a, "account locked", resp);
		r = ZT_ERR_LOCKED;
		goto out;
	}
	r = otp_check(&a, otp, "step-up", resp);
out:
	store_user_wipe(&u);
	return r;
}

/* Mints a session for u and fills the response. */
static void login_success(struct brk *b, const struct brk_req *req, const struct store_user *u,
    struct brk_resp *resp)
{
	char token[CRYPTO_TOKEN_MAX], actor[BRK_IDENTITY_KEY_MAX], pfx[13], by[STORE_NAME_MAX + 1];
	struct store_session s;
	int64_t now = b->now(), ttl = 0;
	cJSON *d;
	int r;

	memset(&s, 0, sizeof(s));
	/* The roles bound the session: the smallest max_session_ttl. */
	if ((r = brk_policy_session_ttl(b->roles, u->roles, b->session_ttl, &ttl, by,
	    sizeof(by))) != 0) {
		log_error("cannot read the roles of %s: %s", u->name, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	if (crypto_token_new("zts_", token, sizeof(token)) != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	crypto_token_hash(token, s.token_hash);
	s.kind = STORE_USER;
	s.principal_id = u->id;
	s.created_at = now;
	s.expires_at = now + ttl;
	s.mfa_verified_at = now;
	snprintf(s.source, sizeof(s.source), "%s", req->source);
	if (store_session_add(b->store, &s) != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "token", token);
	cJSON_AddStringToObject(resp->json, "user", u->name);
	cJSON_AddItemToObject(resp->json, "roles", brk_roles_json(u->roles));
	cJSON_AddNumberToObject(resp->json, "expires_at", (double)s.expires_at);
	brk_identity_key("user", u->name, actor, sizeof(actor));
	/* The hash prefix names the session in later events; it cannot be
	 * turned back into the token. */
	snprintf(pfx, sizeof(pfx), "%.12s", s.token_hash);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "expires_at", (double)s.expires_at);
	cJSON_AddStringToObject(d, "session", pfx);
	if (by[0] != '\0') {
		cJSON_AddStringToObject(d, "ttl_capped_by", by);
	}
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "user.login", .actor = actor, .source = req->source, .outcome = "success",
	    .details = d }) != 0) {
		brk_resp_unrecorded(resp);
	}
	cJSON_Delete(d);
out:
	crypto_wipe(token, sizeof(token));
}

void brk_auth_login(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp)
{
	static const char *const keys[] = { "user", "password", "otp", NULL };
	const char *user = NULL, *password = NULL, *otp = NULL, *bad = NULL;
	int64_t now = b->now();
	struct store_user u;
	struct attempt a;
	int r, known;

	memset(&u, 0, sizeof(u));
	if (json_only_keys(body, keys, &bad) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "unknown field \"%s\"", bad);
		return;
	}
	if ((r = json_get_str(body, "user", STORE_NAME_MAX, 0, &user)) != 0) {
		field_error(resp, "user", r);
		return;
	}
	if ((r = json_get_str(body, "password", CRYPTO_PASSWORD_MAX, 0, &password)) != 0) {
		field_error(resp, "password", r);
		return;
	}
	if ((r = json_get_str(body, "otp", 16, 0, &otp)) != 0) {
		field_error(resp, "otp", r);
		return;
	}
	r = store_user_get(b->store, user, &u);
	if (r != 0 && r != ZT_ERR_NOT_FOUND) {
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	known = r == 0;
	a = (struct attempt){ b, req, "user.login", user, known ? &u : NULL, now, "" };
	net_addr_key(req->source, a.addr, sizeof(a.addr));
	if (attempt_take(&a, resp) != 0) {
		goto out;
	}
	/* A locked account gets one answer whatever the password (checking
	 * it first made 423 say the password was right). The account holder
	 * needs to know it is locked, and the answer tells nothing else: the
	 * name's existence, which only a locked account gives away, and a
	 * locked account lets nobody in. No scrypt runs; unknown names and
	 * unlocked accounts still cost one each, alike. */
	if (known && u.locked) {
		brk_resp_error(resp, 423, "account_locked",
		    "login refused: the account is locked by an administrator");
		login_failed(&a, "account locked", resp);
		goto out;
	}
	if (pw_check_begin(b, req, "login", "user.login", resp) != 0) {
		attempt_settle(&a, ATTEMPT_NOT_MADE, resp);
		goto out;
	}
	/* Unknown users and users who never set a password cost one scrypt too. */
	r = crypto_password_verify(password, known && u.pw_hash[0] != '\0' ? u.pw_hash :
	    b->dummy_hash);
	pw_check_end(b);
	if (!known || u.pw_hash[0] == '\0' || r != 0) {
		brk_resp_error(resp, 401, "invalid_credentials",
		    "login failed: wrong user name or password");
		login_failed(&a, known ? "wrong password" : "unknown user", resp);
		goto out;
	}
	if (otp_check(&a, otp, "login", resp) != 0) {
		goto out;
	}
	attempt_settle(&a, ATTEMPT_SUCCEEDED, resp);
	login_success(b, req, &u, resp);
out:
	store_user_wipe(&u);
}

void brk_auth_whoami(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp)
{
	(void)b;
	(void)req;
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "kind", brk_identity_kind(who));
	cJSON_AddStringToObject(resp->json, "name", who->name);
	cJSON_AddItemToObject(resp->json, "roles", brk_roles_json(who->roles));
	cJSON_AddNumberToObject(resp->json, "created_at", (double)who->created_at);
	cJSON_AddNumberToObject(resp->json, "expires_at", (double)who->expires_at);
	cJSON_AddNumberToObject(resp->json, "mfa_verified_at", (double)who->mfa_verified_at);
}

void brk_auth_logout(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp)
{
	int r;

	r = store_session_revoke(b->store, who->token_hash, b->now());
	if (r != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddBoolToObject(resp->json, "revoked", 1);
	if (aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "session.logout", .actor = who->actor, .source = req->source,
	    .outcome = "success" }) != 0) {
		brk_resp_unrecorded(resp);
	}
}
