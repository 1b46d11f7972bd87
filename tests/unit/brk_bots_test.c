/*
 * brk_bots_test.c - bot tokens on a real store: the roles' max_session_ttl
 * shortens a token, rotation revokes the earlier ones, one is revoked by
 * its id, the live ones are listed; the audit details name a token by id,
 * never by token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_bots.h"
#include "broker/brk_policy.h"
#include "broker/brk_roles.h"
#include "common/crypto.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

#define NOW 1800000000

struct fx {
	char dir[TU_DIR_MAX];
	struct store *st;
	struct brk_roles *rc;
};

static int setup(void **state)
{
	static const char ops[] = "kind: role\nname: ops\noptions: {max_session_ttl: 1h}\n";
	struct fx *f = calloc(1, sizeof(*f));
	char db[TU_PATH_MAX], err[256], warn[512], name[STORE_NAME_MAX + 1];

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-bots"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->st), 0);
	assert_int_equal(brk_roles_new(f->st, &f->rc), 0);
	assert_int_equal(brk_policy_apply(f->st, ops, strlen(ops), "ops.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), NOW), 0);
	assert_int_equal(store_bot_add(f->st, "ci", "ops,ghost", NOW, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_roles_free(f->rc);
	store_free(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Mints a token for ci valid ttl seconds (rotating); returns its session
 * row. */
static void mint_rotate(struct fx *f, int64_t ttl, int rotate, struct brk_bot_minted *m,
    struct store_session *s)
{
	char err[256], hash[CRYPTO_SHA256_HEX_LEN + 1], *text;
	cJSON *d = NULL;

	assert_int_equal(brk_bots_token(f->st, f->rc, "ci", NOW, ttl, rotate, m, &d, err, sizeof(err)),
	    0);
	crypto_token_hash(m->token, hash);
	assert_int_equal(strncmp(hash, m->id, BRK_BOT_ID_LEN), 0);
	assert_int_equal(store_session_get(f->st, hash, NOW, s), 0);
	text = cJSON_PrintUnformatted(d);
	assert_null(strstr(text, m->token));
	assert_non_null(strstr(text, m->id));
	free(text);
	assert_true(cJSON_HasObjectItem(d, "revoked") == (rotate != 0));
	cJSON_Delete(d);
}

static void mint(struct fx *f, int64_t ttl, struct brk_bot_minted *m,
    struct store_session *s)
{
	mint_rotate(f, ttl, 0, m, s);
}

static void test_ttl_capped_by_roles(void **state)
{
	struct fx *f = *state;
	struct brk_bot_minted m;
	struct store_session s;
	char err[256];
	cJSON *d = NULL;

	mint(f, 7 * 86400, &m, &s);
	assert_int_equal(m.ttl, 3600);
	assert_int_equal(m.expires_at, NOW + 3600);
	assert_int_equal(s.expires_at, NOW + 3600);
	assert_string_equal(m.capped_by, "ops");
	mint(f, 1800, &m, &s);
	assert_int_equal(m.ttl, 1800);
	assert_int_equal(s.expires_at, NOW + 1800);
	assert_string_equal(m.capped_by, "");

	assert_int_equal(brk_bots_token(f->st, f->rc, "ci", NOW, 0, 0, &m, &d, err, sizeof(err)),
	    ZT_ERR_INVALID);
	assert_int_equal(brk_bots_token(f->st, f->rc, "ci", NOW, BRK_BOT_TTL_MAX + 1, 0, &m, &d, err,
	    sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(brk_bots_token(f->st, f->rc, "nobody", NOW, 60, 0, &m, &d, err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	assert_string_equal(err, "no bot nobody");
	assert_null(d);
	crypto_wipe(&m, sizeof(m));
}

static int count_token(const struct store_session *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

/* Rotation: the new token works and, in the same step, every earlier one
 * is revoked; then one token is revoked by its id. */
static void test_rotate_and_revoke(void **state)
{
	struct fx *f = *state;
	struct brk_bot_minted a, b, c;
	struct store_session s;
	char err[256], hash[CRYPTO_SHA256_HEX_LEN + 1];
	cJSON *d = NULL;
	int n = 0;

	mint(f, 600, &a, &s);
	mint(f, 600, &b, &s);
	assert_int_equal(brk_bots_tokens(f->st, "ci", NOW, count_token, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	mint_rotate(f, 600, 1, &c, &s);
	assert_int_equal(c.revoked, 2);
	crypto_token_hash(a.token, hash);
	assert_int_equal(store_session_get(f->st, hash, NOW, &s), ZT_ERR_REVOKED);
	crypto_token_hash(b.token, hash);
	assert_int_equal(store_session_get(f->st, hash, NOW, &s), ZT_ERR_REVOKED);
	n = 0;
	assert_int_equal(brk_bots_tokens(f->st, "ci", NOW, count_token, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);

	assert_int_equal(brk_bots_revoke(f->st, "ci", "12345", NOW, &d, err, sizeof(err)),
	    ZT_ERR_INVALID);
	assert_int_equal(brk_bots_revoke(f->st, "ci", a.id, NOW, &d, err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_bots_revoke(f->st, "nobody", c.id, NOW, &d, err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	assert_null(d);
	assert_int_equal(brk_bots_revoke(f->st, "ci", c.id, NOW, &d, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "session")), c.id);
	cJSON_Delete(d);
	crypto_token_hash(c.token, hash);
	assert_int_equal(store_session_get(f->st, hash, NOW, &s), ZT_ERR_REVOKED);
	n = 0;
	assert_int_equal(brk_bots_tokens(f->st, "ci", NOW, count_token, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(brk_bots_tokens(f->st, "nobody", NOW, count_token, &n, err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	crypto_wipe(&a, sizeof(a));
	crypto_wipe(&b, sizeof(b));
	crypto_wipe(&c, sizeof(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ttl_capped_by_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_revoke, setup, teardown),
	};

	return cmocka_run_group_tests_name("brk_bots", tests, NULL, NULL);
}
