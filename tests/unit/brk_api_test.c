/*
 * brk_api_test.c - the /v1 API without sockets: routing, bounds, and the
 * enrolment/login/whoami/logout flow on a real SQLite store with a fixed
 * clock, so TOTP steps are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit/aud_agg.h"
#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_policy.h"
#include "broker/brk_quota.h"
#include "broker/brk_watch.h"
#include "broker/brk_roles.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/totp.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

static int64_t fake_now = 1800000000;
static int64_t clock_fn(void)
{
	return fake_now;
}

struct fx {
	char dir[TU_DIR_MAX];
	struct brk b;
	char invite[CRYPTO_TOKEN_MAX];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char db[TU_PATH_MAX], hash[CRYPTO_SHA256_HEX_LEN + 1];
	int64_t id = 0;

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-api"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->b.store), 0);
	assert_int_equal(brk_roles_new(f->b.store, &f->b.roles), 0);
	assert_int_equal(brk_limits_init(&f->b.limits), 0);
	f->b.agg = aud_agg_new(BRK_AUDIT_AGG_PERIOD_MS);
	f->b.now = clock_fn;
	f->b.session_ttl = 3600;
	assert_int_equal(crypto_password_hash("dummy", f->b.dummy_hash, sizeof(f->b.dummy_hash)), 0);
	assert_int_equal(store_user_add(f->b.store, "alice", "ops,dev", fake_now, &id), 0);
	assert_int_equal(crypto_token_new("zti_", f->invite, sizeof(f->invite)), 0);
	crypto_token_hash(f->invite, hash);
	assert_int_equal(store_invite_add(f->b.store, hash, id, fake_now + 3600), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_roles_free(f->b.roles);
	store_free(f->b.store);
	brk_limits_fini(&f->b.limits);
	aud_agg_free(f->b.agg);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Calls the API from source; returns the status and leaves the response
 * in *resp. */
static int call_from(struct fx *f, const char *source, const char *method, const char *path,
    const char *body, const char *auth, struct brk_resp *resp)
{
	struct brk_req req = {
		.method = method, .path = path, .source = source, .authorization = auth,
		.content_type = body != NULL ? "application/json" : NULL,
		.body = (const uint8_t *)body, .body_len = body != NULL ? strlen(body) : 0,
	};

	brk_api_handle(&f->b, &req, resp);
	return resp->status;
}

static int call(struct fx *f, const char *method, const char *path, const char *body,
    const char *auth, struct brk_resp *resp)
{
	return call_from(f, "192.0.2.1", method, path, body, auth, resp);
}

/* Counts the audit events of one type whose details carry "reason":
 * reason (any when NULL). */
struct audit_count {
	const char *type;
	const char *reason;
	int n;
	int repeats;  /* summed over aggregated summaries */
};

static int count_event(const struct store_audit_row *row, void *arg)
{
	struct audit_count *c = arg;
	cJSON *d = NULL;
	const char *reason;
	double rep;

	if (strcmp(row->type, c->type) != 0) {
		return 0;
	}
	d = cJSON_Parse(row->details);
	reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "reason"));
	rep = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "repeats"));
	if (c->reason == NULL || (reason != NULL && strcmp(reason, c->reason) == 0)) {
		c->n++;
		c->repeats += rep > 0 ? (int)rep : 0;
	}
	cJSON_Delete(d);
	return 0;
}

static int events(struct fx *f, const char *type, const char *reason)
{
	struct audit_count c = { type, reason, 0, 0 };

	assert_int_equal(store_audit_each(f->b.store, 0, 0, count_event, &c), 0);
	return c.n;
}

/* The repeats that the summaries of these events counted. */
static int repeats(struct fx *f, const char *type, const char *reason)
{
	struct audit_count c = { type, reason, 0, 0 };

	assert_int_equal(store_audit_each(f->b.store, 0, 0, count_event, &c), 0);
	return c.repeats;
}

#define WRONG_LOGIN "{\"user\":\"alice\",\"password\":\"wrong password\",\"otp\":\"000000\"}"

static const char *err_code(const struct brk_resp *resp)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->json, "error");

	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
}

static void code_at(const uint8_t *secret, int64_t step, char out[7])
{
	uint32_t c = 0;

	assert_int_equal(totp_hotp("SHA1", secret, TOTP_SECRET_LEN, (uint64_t)step, 6, &c), 0);
	snprintf(out, 7, "%06u", c);
}

/* Enrols alice with the code of the current step; returns the secret. */
static void enrol(struct fx *f, uint8_t secret[TOTP_SECRET_LEN])
{
	struct brk_resp resp;
	char body[512], code[7];
	size_t n = 0;

	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"password\":\"long enough pw\"}",
	    f->invite);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 200);
	assert_int_equal(totp_base32_decode(cJSON_GetStringValue(cJSON_GetObjectItem(resp.json,
	    "totp_secret")), secret, TOTP_SECRET_LEN, &n), 0);
	assert_int_equal(n, TOTP_SECRET_LEN);
	brk_resp_clear(&resp);
	code_at(secret, totp_step(fake_now), code);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"otp\":\"%s\"}", f->invite, code);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 200);
	brk_resp_clear(&resp);
}

/* Logs enrolled alice in with the code of the step after the current one
 * (enrolment used the current one): 200, the answer left in *resp. */
static void login_next_step(struct fx *f, const uint8_t secret[TOTP_SECRET_LEN],
    struct brk_resp *resp)
{
	char body[512], code[7];

	code_at(secret, totp_step(fake_now) + 1, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"long enough pw\","
	    "\"otp\":\"%s\"}", code);
	assert_int_equal(call(f, "POST", "/v1/login", body, NULL, resp), 200);
}

static void test_routing_and_bounds(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	struct brk_req req = { .method = "POST", .path = "/v1/login", .source = "192.0.2.1",
		.content_type = "text/plain", .body = (const uint8_t *)"x", .body_len = 1 };

	assert_int_equal(call(f, "GET", "/nope", NULL, NULL, &resp), 404);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "DELETE", "/v1/login", NULL, NULL, &resp), 405);
	brk_resp_clear(&resp);
	brk_api_handle(&f->b, &req, &resp);
	assert_int_equal(resp.status, 415);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "POST", "/v1/login", "{\"user\":", NULL, &resp), 400);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "POST", "/v1/login", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]"
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", NULL, &resp), 400);
	brk_resp_clear(&resp);
	req.content_type = "application/json";
	req.body_len = BRK_BODY_MAX + 1;
	brk_api_handle(&f->b, &req, &resp);
	assert_int_equal(resp.status, 413);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "missing_token");
	assert_true(resp.www_authenticate);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, "Bearer zts_!!", &resp), 401);
	assert_string_equal(err_code(&resp), "invalid_token");
	brk_resp_clear(&resp);
}

static void test_enrol_login_logout(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	uint8_t secret[TOTP_SECRET_LEN];
	char body[512], code[7], auth[128];
	int64_t s = totp_step(fake_now);

	enrol(f, secret);
	/* The enrolment code was the current step: login needs the next. */
	code_at(secret, s, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"long enough pw\","
	    "\"otp\":\"%s\"}", code);
	assert_int_equal(call(f, "POST", "/v1/login", body, NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "otp_replayed");
	brk_resp_clear(&resp);
	code_at(secret, s + 2, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"long enough pw\","
	    "\"otp\":\"%s\"}", code);
	assert_int_equal(call(f, "POST", "/v1/login", body, NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "invalid_otp");
	brk_resp_clear(&resp);
	code_at(secret, s + 1, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"long enough pw\","
	    "\"otp\":\"%s\"}", code);
	assert_int_equal(call(f, "POST", "/v1/login", body, NULL, &resp), 200);
	snprintf(auth, sizeof(auth), "Bearer %s",
	    cJSON_GetStringValue(cJSON_GetObjectItem(resp.json, "token")));
	assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(resp.json,
	    "expires_at")), fake_now + 3600);
	brk_resp_clear(&resp);

	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 200);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(resp.json, "name")), "alice");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(resp.json, "roles")), 2);
	brk_resp_clear(&resp);

	fake_now += 3601;
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 401);
	assert_string_equal(err_code(&resp), "token_expired");
	brk_resp_clear(&resp);
	fake_now -= 3601;

	assert_int_equal(call(f, "POST", "/v1/logout", NULL, auth, &resp), 200);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 401);
	assert_string_equal(err_code(&resp), "token_revoked");
	brk_resp_clear(&resp);
}

static void test_enrol_refusals(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	char body[512];

	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"otp\":\"123456\"}", f->invite);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 409);
	brk_resp_clear(&resp);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"password\":\"short\"}", f->invite);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 400);
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "POST", "/v1/enroll",
	    "{\"invite\":\"zti_unknown\",\"password\":\"long enough pw\"}", NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "invalid_invite");
	brk_resp_clear(&resp);
	fake_now += 3601;
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"password\":\"long enough pw\"}",
	    f->invite);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "invite_expired");
	brk_resp_clear(&resp);
	fake_now -= 3601;
}

/* Logs alice in with password pw and the code of step s: the status. */
static int login_at(struct fx *f, const char *pw, const uint8_t *secret, int64_t s)
{
	struct brk_resp resp;
	char body[512], code[7];
	int status;

	code_at(secret, s, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"%s\",\"otp\":\"%s\"}",
	    pw, code);
	status = call(f, "POST", "/v1/login", body, NULL, &resp);
	brk_resp_clear(&resp);
	return status;
}

/* The takeover: `users add` printed invite A, `users invite` printed B,
 * alice enrolled with B. Whoever holds A must not reset her password. */
static void test_old_invite_cannot_take_over(void **state)
{
	struct fx *f = *state;
	char old[CRYPTO_TOKEN_MAX], hash[CRYPTO_SHA256_HEX_LEN + 1], body[512], db[TU_PATH_MAX];
	uint8_t secret[TOTP_SECRET_LEN];
	struct brk_resp resp;
	struct store_user u;

	memcpy(old, f->invite, sizeof(old));
	assert_int_equal(store_user_get(f->b.store, "alice", &u), 0);
	assert_int_equal(crypto_token_new("zti_", f->invite, sizeof(f->invite)), 0);
	crypto_token_hash(f->invite, hash);
	assert_int_equal(store_invite_add(f->b.store, hash, u.id, fake_now + 3600), 0);
	enrol(f, secret);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"password\":\"attacker password\"}",
	    old);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 401);
	assert_string_equal(err_code(&resp), "invalid_invite");
	brk_resp_clear(&resp);
	assert_int_equal(login_at(f, "attacker password", secret, totp_step(fake_now) + 1), 401);
	assert_int_equal(login_at(f, "long enough pw", secret, totp_step(fake_now) + 1), 200);

	/* An invite of an enrolled account left over from an older zt (the
	 * store no longer issues one) cannot re-enrol it either. */
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(tu_sql(db, "UPDATE invites SET used = 0", NULL, 0), 0);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 409);
	assert_string_equal(err_code(&resp), "already_enrolled");
	brk_resp_clear(&resp);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"otp\":\"123456\"}", old);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 409);
	assert_string_equal(err_code(&resp), "already_enrolled");
	brk_resp_clear(&resp);
	fake_now += 60;
	assert_int_equal(login_at(f, "long enough pw", secret, totp_step(fake_now)), 200);
	fake_now -= 60;
	store_user_wipe(&u);
}

static void test_lockout(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	struct aud_verify_result res;

	for (int i = 0; i < BRK_LOGIN_MAX_USER; i++) {
		assert_int_equal(call(f, "POST", "/v1/login", "{\"user\":\"alice\",\"password\":"
		    "\"wrong password\",\"otp\":\"000000\"}", NULL, &resp), 401);
		brk_resp_clear(&resp);
	}
	assert_int_equal(call(f, "POST", "/v1/login", "{\"user\":\"alice\",\"password\":"
	    "\"long enough pw\",\"otp\":\"000000\"}", NULL, &resp), 429);
	assert_true(resp.retry_after > 0);
	brk_resp_clear(&resp);
	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->b.store, NULL, &res), 0);
	/* 5 failures, 1 lockout, 1 refusal while blocked. */
	assert_int_equal(res.checked, 7);
}

/* The count of a known user's failures is kept in the user's row: 4
 * failures, then a restart and 5,000 bad tokens from as many addresses,
 * and the fifth failure locks alice (a shared table of 4,096 slots in
 * memory lost it to either). */
static void test_lockout_survives_restart_and_traffic(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	char db[TU_PATH_MAX], src[32];

	for (int i = 0; i < BRK_LOGIN_MAX_USER - 1; i++) {
		assert_int_equal(call(f, "POST", "/v1/login", WRONG_LOGIN, NULL, &resp), 401);
		brk_resp_clear(&resp);
	}
	/* A restart: a new store connection and new in-memory limiters. */
	brk_roles_free(f->b.roles);
	store_free(f->b.store);
	brk_limits_fini(&f->b.limits);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->b.store), 0);
	assert_int_equal(brk_roles_new(f->b.store, &f->b.roles), 0);
	assert_int_equal(brk_limits_init(&f->b.limits), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(src, sizeof(src), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		assert_int_equal(call_from(f, src, "GET", "/v1/whoami", NULL, "Bearer ztb_nope",
		    &resp), 401);
		brk_resp_clear(&resp);
	}
	assert_int_equal(events(f, "user.lockout", NULL), 0);
	assert_int_equal(call_from(f, "192.0.2.99", "POST", "/v1/login", WRONG_LOGIN, NULL, &resp),
	    401);
	brk_resp_clear(&resp);
	assert_int_equal(events(f, "user.lockout", NULL), 1);
	assert_int_equal(call_from(f, "192.0.2.98", "POST", "/v1/login", WRONG_LOGIN, NULL, &resp),
	    429);
	brk_resp_clear(&resp);
}

/* Per-address counters count an IPv6 client by its /64: addresses of one
 * /64 share them (bad tokens and failed logins alike), another /64 has its
 * own. Without that a client walks its /64 past every address limit. */
static void test_ipv6_counts_by_64(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	char src[64], body[128];

	for (int i = 1; i <= BRK_TOKEN_FAIL_MAX_ADDR; i++) {
		snprintf(src, sizeof(src), "2001:db8:1:2::%x", i);
		assert_int_equal(call_from(f, src, "GET", "/v1/whoami", NULL, "Bearer ztb_nope",
		    &resp), 401);
		brk_resp_clear(&resp);
	}
	assert_int_equal(call_from(f, "2001:db8:1:2:ffff::1", "GET", "/v1/whoami", NULL,
	    "Bearer ztb_nope", &resp), 429);
	brk_resp_clear(&resp);
	assert_int_equal(call_from(f, "2001:db8:1:3::1", "GET", "/v1/whoami", NULL,
	    "Bearer ztb_nope", &resp), 401);
	brk_resp_clear(&resp);

	/* Failed logins, each for another (unknown) name so that only the
	 * address's count can stop them. */
	for (int i = 1; i <= BRK_LOGIN_MAX_ADDR; i++) {
		snprintf(src, sizeof(src), "2001:db8:5:6::%x", i);
		snprintf(body, sizeof(body), "{\"user\":\"nobody%d\",\"password\":\"wrong "
		    "password\",\"otp\":\"000000\"}", i);
		assert_int_equal(call_from(f, src, "POST", "/v1/login", body, NULL, &resp), 401);
		brk_resp_clear(&resp);
	}
	assert_int_equal(call_from(f, "2001:db8:5:6:abcd::9", "POST", "/v1/login",
	    "{\"user\":\"nobody99\",\"password\":\"wrong password\",\"otp\":\"000000\"}",
	    NULL, &resp), 429);
	brk_resp_clear(&resp);
}

struct racer {
	struct fx *f;
	int status;
};

static void *race_login(void *arg)
{
	struct racer *r = arg;
	struct brk_resp resp;

	r->status = call(r->f, "POST", "/v1/login", WRONG_LOGIN, NULL, &resp);
	brk_resp_clear(&resp);
	return NULL;
}

/* 30 wrong logins for one user at once: each is counted before its
 * password check, so at most BRK_LOGIN_MAX_USER reach it; the others get
 * 429, or 503 while BRK_PW_CHECKS_MAX checks run. */
static void test_concurrent_guesses_are_counted_first(void **state)
{
	struct fx *f = *state;
	struct racer r[30];
	pthread_t t[30];
	int checked = 0;

	for (int i = 0; i < 30; i++) {
		r[i].f = f;
		r[i].status = 0;
		assert_int_equal(pthread_create(&t[i], NULL, race_login, &r[i]), 0);
	}
	for (int i = 0; i < 30; i++) {
		pthread_join(t[i], NULL);
		assert_true(r[i].status == 401 || r[i].status == 429 || r[i].status == 503);
		checked += r[i].status == 401;
	}
	assert_true(checked >= 1 && checked <= BRK_LOGIN_MAX_USER);
	assert_int_equal(events(f, "user.login", "wrong password"), checked);
}

/* Refusals during a lockout and enrolments with unknown invites are
 * audited once per kind, address and period, then summarised; the wrong
 * passwords before the lockout stay one event each. */
static void test_unauthenticated_refusals_aggregated(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;

	for (int i = 0; i < BRK_LOGIN_MAX_USER + 20; i++) {
		assert_int_equal(call(f, "POST", "/v1/login", WRONG_LOGIN, NULL, &resp),
		    i < BRK_LOGIN_MAX_USER ? 401 : 429);
		brk_resp_clear(&resp);
		assert_int_equal(call(f, "POST", "/v1/enroll",
		    "{\"invite\":\"zti_unknown\",\"password\":\"long enough pw\"}", NULL, &resp), 401);
		brk_resp_clear(&resp);
	}
	assert_int_equal(events(f, "user.login", "wrong password"), BRK_LOGIN_MAX_USER);
	assert_int_equal(events(f, "user.login", "rate limited"), 1);
	assert_int_equal(events(f, "user.enroll", "invalid invite"), 1);
	assert_int_equal(aud_agg_flush(f->b.agg, f->b.store, brk_now_ms(), 1), 0);
	assert_int_equal(events(f, "user.login", "rate limited"), 2);
	assert_int_equal(repeats(f, "user.login", "rate limited"), 19);
	assert_int_equal(events(f, "user.enroll", "invalid invite"), 2);
	assert_int_equal(repeats(f, "user.enroll", "invalid invite"), BRK_LOGIN_MAX_USER + 19);
}

/* With every password check place taken, a login and an enrolment step
 * are answered 503 at once, each audited under its own event. */
static void test_password_checks_busy(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	char body[512];

	for (int i = 0; i < BRK_PW_CHECKS_MAX; i++) {
		assert_int_equal(brk_quota_take(f->b.limits.pw_checks, "scrypt"), 0);
	}
	assert_int_equal(call(f, "POST", "/v1/login", WRONG_LOGIN, NULL, &resp), 503);
	assert_string_equal(err_code(&resp), "busy");
	brk_resp_clear(&resp);
	snprintf(body, sizeof(body), "{\"invite\":\"%s\",\"password\":\"long enough pw\"}",
	    f->invite);
	assert_int_equal(call(f, "POST", "/v1/enroll", body, NULL, &resp), 503);
	brk_resp_clear(&resp);
	assert_int_equal(events(f, "user.login", "busy"), 1);
	assert_int_equal(events(f, "user.enroll", "busy"), 1);
	for (int i = 0; i < BRK_PW_CHECKS_MAX; i++) {
		brk_quota_give(f->b.limits.pw_checks, "scrypt");
	}
}

/* A session lasts at most the smallest max_session_ttl of the roles, and
 * the broker's --session-ttl; login and whoami say when it ends. */
static void test_session_ttl_from_roles(void **state)
{
	static const char ops[] = "kind: role\nname: ops\noptions: {max_session_ttl: 10m}\n";
	static const char dev[] = "kind: role\nname: dev\noptions: {max_session_ttl: 30m}\n";
	struct fx *f = *state;
	char err[256], warn[512], name[STORE_NAME_MAX + 1], auth[128];
	uint8_t secret[TOTP_SECRET_LEN];
	struct brk_resp resp;

	assert_int_equal(brk_policy_apply(f->b.store, ops, strlen(ops), "ops.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), fake_now), 0);
	assert_int_equal(brk_policy_apply(f->b.store, dev, strlen(dev), "dev.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), fake_now), 0);
	enrol(f, secret);
	login_next_step(f, secret, &resp);
	assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(resp.json,
	    "expires_at")), fake_now + 600);
	snprintf(auth, sizeof(auth), "Bearer %s",
	    cJSON_GetStringValue(cJSON_GetObjectItem(resp.json, "token")));
	brk_resp_clear(&resp);
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 200);
	assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(resp.json,
	    "expires_at")), fake_now + 600);
	brk_resp_clear(&resp);
	fake_now += 600;
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 401);
	assert_string_equal(err_code(&resp), "token_expired");
	brk_resp_clear(&resp);
	fake_now -= 600;
}

/* The housekeeping's rounds, and how many of them were told the store
 * changed. */
struct rounds {
	pthread_mutex_t mu;
	int n, changed;
};

static void count_round(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct rounds *r = arg;

	(void)b;
	pthread_mutex_lock(&r->mu);
	r->n++;
	r->changed += rd->store_changed;
	pthread_mutex_unlock(&r->mu);
}

/* How many rounds were told of a change, once two more rounds ran: the
 * first may have begun before the caller's last request. */
static int changes_two_rounds_on(struct rounds *r)
{
	int n0, n, changed;

	pthread_mutex_lock(&r->mu);
	n0 = r->n;
	pthread_mutex_unlock(&r->mu);
	do {
		usleep(20000);
		pthread_mutex_lock(&r->mu);
		n = r->n;
		changed = r->changed;
		pthread_mutex_unlock(&r->mu);
	} while (n < n0 + 2);
	return changed;
}

/* Only what may end access that runs now kicks the housekeeping: each
 * kick has the revocation chores re-read the store. */
static void test_only_revocations_kick(void **state)
{
	static const char ops[] = "kind: role\nname: ops\noptions: {admin: true}\n";
	struct fx *f = *state;
	char err[256], warn[512], name[STORE_NAME_MAX + 1], body[512], auth[128];
	uint8_t secret[TOTP_SECRET_LEN];
	struct rounds r;
	struct brk_resp resp;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	assert_int_equal(brk_policy_apply(f->b.store, ops, strlen(ops), "ops.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), fake_now), 0);
	enrol(f, secret);
	login_next_step(f, secret, &resp);
	snprintf(auth, sizeof(auth), "Bearer %s",
	    cJSON_GetStringValue(cJSON_GetObjectItem(resp.json, "token")));
	brk_resp_clear(&resp);
	assert_non_null(f->b.watch = brk_watch_new(&f->b));
	assert_int_equal(brk_watch_add(f->b.watch, count_round, &r), 0);
	assert_int_equal(brk_watch_start(f->b.watch), 0);

	/* Successful POSTs that end no access: a policy question, a role
	 * written. No round hears of a change. */
	assert_int_equal(call(f, "POST", "/v1/policy/test",
	    "{\"user\":\"alice\",\"tool\":\"whoami\"}", auth, &resp), 200);
	brk_resp_clear(&resp);
	snprintf(body, sizeof(body), "{\"yaml\":\"kind: role\\nname: dev\\n\"}");
	assert_int_equal(call(f, "POST", "/v1/roles", body, auth, &resp), 200);
	brk_resp_clear(&resp);
	assert_int_equal(changes_two_rounds_on(&r), 0);
	/* A logout revokes a token: the housekeeping hears of it. */
	assert_int_equal(call(f, "POST", "/v1/logout", NULL, auth, &resp), 200);
	brk_resp_clear(&resp);
	assert_int_equal(changes_two_rounds_on(&r), 1);

	brk_watch_free(f->b.watch);
	f->b.watch = NULL;
	pthread_mutex_destroy(&r.mu);
}

/* A locked account answers the same to the right and a wrong password. */
static void test_locked_answer_ignores_password(void **state)
{
	struct fx *f = *state;
	uint8_t secret[TOTP_SECRET_LEN];
	struct brk_resp right, wrong;
	char body[512], code[7];

	enrol(f, secret);
	assert_int_equal(store_user_set_locked(f->b.store, "alice", 1, fake_now), 0);
	code_at(secret, totp_step(fake_now) + 1, code);
	snprintf(body, sizeof(body), "{\"user\":\"alice\",\"password\":\"long enough pw\","
	    "\"otp\":\"%s\"}", code);
	assert_int_equal(call(f, "POST", "/v1/login", body, NULL, &right), 423);
	assert_int_equal(call(f, "POST", "/v1/login", WRONG_LOGIN, NULL, &wrong), 423);
	assert_string_equal(err_code(&right), "account_locked");
	assert_true(cJSON_Compare(right.json, wrong.json, 1));
	brk_resp_clear(&right);
	brk_resp_clear(&wrong);
}

/* Bad tokens from one address: each is refused until the limit, then 429
 * for the quiet period. The audit log gets one event per kind (the first
 * bad token, the first 429), the start of the quiet period, and at the
 * flush one summary per kind counting the rest; a valid token from that
 * address still passes. */
static void test_bad_token_quiet(void **state)
{
	struct fx *f = *state;
	struct brk_resp resp;
	struct aud_verify_result res;
	struct store_session s;
	char tok[CRYPTO_TOKEN_MAX], auth[CRYPTO_TOKEN_MAX + 16];

	for (int i = 0; i < BRK_TOKEN_FAIL_MAX_ADDR; i++) {
		assert_int_equal(call(f, "GET", "/v1/whoami", NULL, "Bearer ztb_nope", &resp), 401);
		assert_string_equal(err_code(&resp), "invalid_token");
		brk_resp_clear(&resp);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(call(f, "GET", "/v1/whoami", NULL, "Bearer ztb_nope", &resp), 429);
		assert_string_equal(err_code(&resp), "rate_limited");
		assert_true(resp.retry_after > 0 && resp.retry_after <= BRK_TOKEN_FAIL_QUIET_S);
		brk_resp_clear(&resp);
	}
	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->b.store, NULL, &res), 0);
	assert_int_equal(res.checked, 3);
	assert_int_equal(aud_agg_flush(f->b.agg, f->b.store, brk_now_ms(), 1), 0);
	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->b.store, NULL, &res), 0);
	assert_int_equal(res.checked, 5);

	memset(&s, 0, sizeof(s));
	assert_int_equal(crypto_token_new("ztb_", tok, sizeof(tok)), 0);
	crypto_token_hash(tok, s.token_hash);
	s.kind = STORE_USER;
	s.principal_id = 1;
	s.created_at = fake_now;
	s.expires_at = fake_now + 3600;
	s.mfa_verified_at = fake_now;
	assert_int_equal(store_session_add(f->b.store, &s), 0);
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	assert_int_equal(call(f, "GET", "/v1/whoami", NULL, auth, &resp), 200);
	brk_resp_clear(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routing_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrol_login_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrol_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_invite_cannot_take_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_answer_ignores_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_checks_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_ttl_from_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_revocations_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unauthenticated_refusals_aggregated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lockout_survives_restart_and_traffic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_guesses_are_counted_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_token_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_counts_by_64, setup, teardown),
	};

	return cmocka_run_group_tests_name("brk_api", tests, NULL, NULL);
}
