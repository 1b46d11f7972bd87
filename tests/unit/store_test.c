/*
 * store_test.c - unit tests for store/: migrations, file mode,
 * users and bots sharing one name space, credentials and TOTP replay,
 * invites, sessions (the documented order of checks, revocation, locking,
 * cascades, pruning), the append-only audit table, join tokens, roles and
 * the agent registry (a name bound to one key, across reopening).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
	struct store *st;
};

/* The schema version the current code migrates to. */
#define STORE_TEST_VERSION 10

/* SQL that takes a file of version 5 back to version 4's tables, for the
 * tests that migrate an older file (v5 only added columns to users); v6's
 * is UNDO_V6 below, v7's UNDO_V7, v8's UNDO_V8, v9's UNDO_V9, v10's UNDO_V10. */
#define UNDO_V10 "DROP TABLE recordings; "
#define UNDO_V9 UNDO_V10 "ALTER TABLE agents ADD COLUMN ssh_target TEXT NOT NULL DEFAULT ''; " \
	"ALTER TABLE agents ADD COLUMN ssh_host_key TEXT NOT NULL DEFAULT ''; " \
	"ALTER TABLE agents ADD COLUMN pending_target TEXT NOT NULL DEFAULT ''; " \
	"ALTER TABLE agents ADD COLUMN pending_host_key TEXT NOT NULL DEFAULT ''; " \
	"UPDATE agents SET ssh_target = json_extract(resources, '$[0].address'), " \
	"ssh_host_key = json_extract(resources, '$[0].host_key') WHERE resources != '[]'; " \
	"CREATE INDEX agents_host_key ON agents(ssh_host_key); " \
	"ALTER TABLE agents DROP COLUMN resources; " \
	"ALTER TABLE agents DROP COLUMN pending_resources; "
#define UNDO_V8 UNDO_V9 "DROP TABLE approvals; "
#define UNDO_V7 UNDO_V8 "DROP TRIGGER roles_gen_insert; DROP TRIGGER roles_gen_update; " \
	"DROP TRIGGER roles_gen_delete; DROP TABLE role_generation; "
#define UNDO_V5 "ALTER TABLE users DROP COLUMN login_failures; " \
	"ALTER TABLE users DROP COLUMN login_window_start; " \
	"ALTER TABLE users DROP COLUMN login_blocked_until; "

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "store-test"), 0);
	snprintf(f->path, sizeof(f->path), "%s/zt.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_free(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* A hash of a token as the store keeps it: 64 hex digits from one char. */
static const char *th(char c)
{
	static char buf[8][STORE_HASH_HEX];
	static int i;
	char *h = buf[i++ % 8];

	memset(h, c, 64);
	h[64] = '\0';
	return h;
}

static void test_migrations(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;
	struct store_user u;

	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_user_add(f->st, "alice", "admin", 1000, &id), 0);
	/* Reopening must not re-run migration 1 (its CREATE TABLEs would fail)
	 * and must keep the data. */
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.id, id);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
}

/* A version 1 file (v2 only added join_tokens, so dropping it and setting
 * the version back gives exactly the v1 schema) migrates to 2 and keeps
 * its rows. */
static void test_migrate_v1_to_v2(void **state)
{
	struct fixture *f = *state;
	struct store_user u;
	int64_t id = 0;
	char err[256];

	assert_int_equal(store_user_add(f->st, "alice", "admin", 1000, &id), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), id, 5000), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, UNDO_V7 "DROP TABLE join_tokens; DROP TABLE roles; "
	    "DROP TABLE agents; DROP TABLE agent_joins; " UNDO_V5 "PRAGMA user_version = 1",
	    err, sizeof(err)), SQLITE_OK);
	assert_int_equal(tu_sql(f->path, "SELECT * FROM join_tokens", err, sizeof(err)),
	    SQLITE_ERROR);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.id, id);
	assert_int_equal(store_invite_get(f->st, th('a'), 10, &id), 0);
	assert_int_equal(store_join_token_add(f->st, th('e'), 10, 100, 1, "admin:root", NULL), 0);
	assert_int_equal(store_join_token_use(f->st, th('e'), 20, NULL, NULL), 0);
}

static void test_newer_version_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st = (struct store *)&st;
	char sql[64];

	store_free(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_TEST_VERSION + 1);
	assert_int_equal(tu_sql(f->path, sql, NULL, 0), SQLITE_OK);
	assert_int_equal(store_open(f->path, &st), ZT_ERR_INVALID);
	assert_null(st);
	/* Nothing was changed by the refused open. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_TEST_VERSION);
	assert_int_equal(tu_sql(f->path, sql, NULL, 0), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;

	assert_int_equal(store_open(f->dir, &st), ZT_ERR_IO);
	assert_null(st);
	assert_int_equal(store_open("/nonexistent-dir-zt/zt.db", &st), ZT_ERR_IO);
	assert_int_equal(store_open(NULL, &st), ZT_ERR_INVALID);
	store_free(NULL);
}

static void test_file_mode(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char path[TU_PATH_MAX], p[TU_PATH_MAX + 8];
	struct stat sb;
	mode_t old;

	/* With an open umask SQLite alone would create 0644 files. */
	old = umask(0);
	snprintf(path, sizeof(path), "%s/mode.db", f->dir);
	assert_int_equal(store_open(path, &st), 0);
	umask(old);
	assert_int_equal(store_user_add(st, "alice", "", 1, NULL), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s-wal", path);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s-shm", path);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_free(st);
}

static void test_names(void **state)
{
	char n64[65], n65[66];

	(void)state;
	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	assert_true(store_name_valid("alice"));
	assert_true(store_name_valid("a"));
	assert_true(store_name_valid("0ps.bot_1-x"));
	assert_true(store_name_valid(n64));
	assert_false(store_name_valid(n65));
	assert_false(store_name_valid(""));
	assert_false(store_name_valid(NULL));
	assert_false(store_name_valid("Alice"));
	assert_false(store_name_valid("-x"));
	assert_false(store_name_valid(".x"));
	assert_false(store_name_valid("_x"));
	assert_false(store_name_valid("a b"));
	assert_false(store_name_valid("a/b"));
	assert_false(store_name_valid("al\xc3\xa9"));
}

static int collect_users(const struct store_user *u, void *arg)
{
	char *out = arg;

	assert_int_equal(u->totp_len, 0);
	assert_string_equal(u->pw_hash, "");
	strcat(out, u->name);
	strcat(out, ",");
	return 0;
}

static int collect_bots(const struct store_bot *b, void *arg)
{
	strcat(arg, b->name);
	strcat(arg, ",");
	return 0;
}

static int stop_at_second(const struct store_user *u, void *arg)
{
	int *n = arg;

	(void)u;
	return ++*n == 2 ? 42 : 0;
}

static void test_users_and_bots(void **state)
{
	struct fixture *f = *state;
	struct store_user u;
	struct store_bot b;
	char list[256] = "", roles[STORE_ROLES_MAX + 2];
	int64_t id = 0, id2 = 0, bid = 0;
	int n = 0;

	assert_int_equal(store_user_add(f->st, "alice", "admin,ops", 1000, &id), 0);
	assert_true(id > 0);
	assert_int_equal(store_user_add(f->st, "alice", "x", 1000, NULL), ZT_ERR_EXISTS);
	assert_int_equal(store_bot_add(f->st, "alice", "x", 1000, NULL), ZT_ERR_EXISTS);
	assert_int_equal(store_bot_add(f->st, "ci", "deploy", 1001, &bid), 0);
	assert_true(bid > 0);
	assert_int_equal(store_user_add(f->st, "ci", "x", 1000, NULL), ZT_ERR_EXISTS);
	assert_int_equal(store_bot_add(f->st, "ci", "x", 1000, NULL), ZT_ERR_EXISTS);
	assert_int_equal(store_user_add(f->st, "Bad", "x", 1000, NULL), ZT_ERR_INVALID);
	assert_int_equal(store_bot_add(f->st, "", "x", 1000, NULL), ZT_ERR_INVALID);
	assert_int_equal(store_user_add(f->st, "bob", NULL, 1000, NULL), ZT_ERR_INVALID);
	memset(roles, 'r', sizeof(roles) - 1);
	roles[sizeof(roles) - 1] = '\0';
	assert_int_equal(store_user_add(f->st, "bob", roles, 1000, NULL), ZT_ERR_INVALID);

	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.id, id);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.roles, "admin,ops");
	assert_string_equal(u.pw_hash, "");
	assert_int_equal(u.totp_len, 0);
	assert_int_equal(u.totp_active, 0);
	assert_int_equal(u.totp_last_step, -1);
	assert_int_equal(u.locked, 0);
	assert_int_equal(u.created_at, 1000);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_string_equal(u.name, "alice");
	assert_int_equal(store_user_get(f->st, "nobody", &u), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_get(f->st, "NOT VALID", &u), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_get_id(f->st, 9999, &u), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_get(f->st, "ci", &u), ZT_ERR_NOT_FOUND);

	assert_int_equal(store_bot_get(f->st, "ci", &b), 0);
	assert_int_equal(b.id, bid);
	assert_string_equal(b.roles, "deploy");
	assert_int_equal(b.created_at, 1001);
	assert_int_equal(store_bot_get(f->st, "alice", &b), ZT_ERR_NOT_FOUND);

	assert_int_equal(store_user_add(f->st, "bob", "", 1000, &id2), 0);
	assert_int_equal(store_user_add(f->st, "aaron", "", 1000, NULL), 0);
	assert_int_equal(store_user_each(f->st, collect_users, list), 0);
	assert_string_equal(list, "aaron,alice,bob,");
	assert_int_equal(store_user_each(f->st, stop_at_second, &n), 42);
	assert_int_equal(n, 2);
	list[0] = '\0';
	assert_int_equal(store_bot_add(f->st, "a-bot", "", 1000, NULL), 0);
	assert_int_equal(store_bot_each(f->st, collect_bots, list), 0);
	assert_string_equal(list, "a-bot,ci,");

	assert_int_equal(store_bot_rm(f->st, "ci"), 0);
	assert_int_equal(store_bot_rm(f->st, "ci"), ZT_ERR_NOT_FOUND);
	/* The name is free again, for a user too. */
	assert_int_equal(store_user_add(f->st, "ci", "", 1000, NULL), 0);
}

struct count {
	int n;
	char last[STORE_NAME_MAX + 1];
	struct store *st;
};

static int count_user(const struct store_user *u, void *arg)
{
	struct count *c = arg;
	struct store_user again;

	/* Names come in order across pages, and the store may be called from
	 * the callback. */
	assert_true(strcmp(c->last, u->name) < 0);
	snprintf(c->last, sizeof(c->last), "%s", u->name);
	assert_int_equal(store_user_get(c->st, u->name, &again), 0);
	c->n++;
	return 0;
}

static void test_user_each_pages(void **state)
{
	struct fixture *f = *state;
	struct count c;
	char name[16];

	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "u%03d", i);
		assert_int_equal(store_user_add(f->st, name, "", 1, NULL), 0);
	}
	memset(&c, 0, sizeof(c));
	c.st = f->st;
	assert_int_equal(store_user_each(f->st, count_user, &c), 0);
	assert_int_equal(c.n, 150);
	assert_string_equal(c.last, "u149");
}

struct hash_count {
	int n;
	char last[STORE_HASH_HEX];
};

static int count_join(const struct store_join_token *t, void *arg)
{
	struct hash_count *c = arg;

	assert_true(strcmp(t->token_hash, c->last) > 0); /* in order, each once */
	memcpy(c->last, t->token_hash, sizeof(c->last));
	c->n++;
	return 0;
}

/* Join tokens page by their hash, a key as long as a name is. */
static void test_join_tokens_page_by_hash(void **state)
{
	struct fixture *f = *state;
	struct hash_count c;
	char h[STORE_HASH_HEX];

	for (int i = 0; i < 150; i++) {
		memcpy(h, th('f'), sizeof(h));
		snprintf(h + 61, 4, "%03d", i);
		assert_int_equal(store_join_token_add(f->st, h, 1, 100, 1, "admin:root", NULL), 0);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_join_token_each(f->st, count_join, &c), 0);
	assert_int_equal(c.n, 150);
	assert_string_equal(c.last + 61, "149");
}

static void test_credentials(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[20] = "12345678901234567890";
	uint8_t big[STORE_TOTP_MAX + 1] = { 0 };
	char pw[200];
	struct store_user u;
	int64_t id = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	assert_int_equal(store_user_set_credentials(f->st, id, "$scrypt$ln=15,r=8,p=1$s$k",
	    secret, sizeof(secret)), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_string_equal(u.pw_hash, "$scrypt$ln=15,r=8,p=1$s$k");
	assert_int_equal(u.totp_len, sizeof(secret));
	assert_memory_equal(u.totp_secret, secret, sizeof(secret));
	assert_int_equal(u.totp_active, 0);
	assert_int_equal(u.totp_last_step, -1);
	store_user_wipe(&u);
	assert_int_equal(u.totp_len, 0);
	assert_string_equal(u.pw_hash, "");
	for (size_t i = 0; i < sizeof(u.totp_secret); i++) {
		assert_int_equal(u.totp_secret[i], 0);
	}
	store_user_wipe(NULL);

	assert_int_equal(store_user_set_credentials(f->st, id, "h", big, sizeof(big)),
	    ZT_ERR_TOO_LARGE);
	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	assert_int_equal(store_user_set_credentials(f->st, id, pw, secret, sizeof(secret)),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(store_user_set_credentials(f->st, 9999, "h", secret, sizeof(secret)),
	    ZT_ERR_NOT_FOUND);

	assert_int_equal(store_invite_add(f->st, th('a'), id, 1000), 0);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, 9999, secret, sizeof(secret), 100),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, secret, sizeof(secret), 100), 0);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_int_equal(u.totp_active, 1);
	assert_int_equal(u.totp_last_step, 100);
	store_user_wipe(&u);

	/* The confirming code's step, and older ones, are spent. */
	assert_int_equal(store_user_consume_step(f->st, id, 100), ZT_ERR_REPLAY);
	assert_int_equal(store_user_consume_step(f->st, id, 99), ZT_ERR_REPLAY);
	assert_int_equal(store_user_consume_step(f->st, id, 101), 0);
	assert_int_equal(store_user_consume_step(f->st, id, 101), ZT_ERR_REPLAY);
	assert_int_equal(store_user_consume_step(f->st, id, 103), 0);
	assert_int_equal(store_user_consume_step(f->st, id, 102), ZT_ERR_REPLAY);
	assert_int_equal(store_user_consume_step(f->st, 9999, 500), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_int_equal(u.totp_last_step, 103);
	store_user_wipe(&u);

	/* An enrolled account's credentials change only through a reset,
	 * which also resets the TOTP state. */
	assert_int_equal(store_user_set_credentials(f->st, id, "h2", secret, 10), ZT_ERR_EXISTS);
	assert_int_equal(store_user_reset(f->st, "alice", 20, th('b'), 1000, NULL), 0);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_int_equal(u.totp_active, 0);
	assert_int_equal(u.totp_len, 0);
	assert_string_equal(u.pw_hash, "");
	store_user_wipe(&u);
	assert_int_equal(store_user_set_credentials(f->st, id, "h2", secret, 10), 0);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_int_equal(u.totp_active, 0);
	assert_int_equal(u.totp_last_step, -1);
	assert_int_equal(u.totp_len, 10);
	store_user_wipe(&u);
}

/* A counting step for store_user_login_update: adds *arg failures and
 * returns the new count, or with *arg < 0 returns it untouched. */
static int add_failures(struct store_fail_count *c, void *arg)
{
	int64_t n = *(int64_t *)arg;

	if (n < 0) {
		c->failures = 99;
		return (int)n;
	}
	c->failures += n;
	c->blocked_until = c->failures >= 5 ? 1000 : 0;
	return (int)c->failures;
}

static void *add_one(void *arg)
{
	int64_t one = 1;

	assert_true(store_user_login_update(arg, 1, add_failures, &one) > 0);
	return NULL;
}

/* A user's failed-login counter lives in the row: updates at once are
 * each counted, a refusing step writes nothing, unlock and reset clear it,
 * and it survives reopening the file. */
static void test_login_count(void **state)
{
	struct fixture *f = *state;
	struct store_user u;
	pthread_t t[8];
	int64_t id = 0, n;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	assert_int_equal(id, 1);
	n = 1;
	assert_int_equal(store_user_login_update(f->st, 999, add_failures, &n), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_login_update(f->st, id, NULL, &n), ZT_ERR_INVALID);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, add_one, f->st), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
	}
	n = -15;
	assert_int_equal(store_user_login_update(f->st, id, add_failures, &n), -15);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.login.failures, 8);
	assert_int_equal(u.login.blocked_until, 1000);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.login.failures, 8);
	/* Locking keeps the count; unlocking clears it and its block. */
	assert_int_equal(store_user_set_locked(f->st, "alice", 1, 10), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.login.blocked_until, 1000);
	assert_int_equal(store_user_set_locked(f->st, "alice", 0, 10), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.login.failures, 0);
	assert_int_equal(u.login.blocked_until, 0);
	n = 6;
	assert_int_equal(store_user_login_update(f->st, id, add_failures, &n), 6);
	assert_int_equal(store_user_reset(f->st, "alice", 10, th('e'), 1000, NULL), 0);
	assert_int_equal(store_user_get(f->st, "alice", &u), 0);
	assert_int_equal(u.login.failures, 0);
	assert_int_equal(u.login.blocked_until, 0);
}

/* One call of the operation under test, from one of the racing threads. */
struct race {
	struct store *st;
	int64_t id;
	int (*op)(struct store *st, int64_t id);
	int rc;
};

static void *race_run(void *arg)
{
	struct race *r = arg;

	r->rc = r->op(r->st, r->id);
	return NULL;
}

/* Runs op(st, id) from 8 threads at once: exactly one may win, the other
 * seven must see a replay. */
static void race_one_wins(struct store *st, int64_t id, int (*op)(struct store *, int64_t))
{
	struct race r[8];
	pthread_t t[8];
	int ok = 0, replay = 0;

	for (int i = 0; i < 8; i++) {
		r[i].st = st;
		r[i].id = id;
		r[i].op = op;
		r[i].rc = 1;
		assert_int_equal(pthread_create(&t[i], NULL, race_run, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].rc == 0;
		replay += r[i].rc == ZT_ERR_REPLAY;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(replay, 7);
}

static int consume_step_5000(struct store *st, int64_t id)
{
	return store_user_consume_step(st, id, 5000);
}

static void test_consume_race(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	race_one_wins(f->st, id, consume_step_5000);
}

static void test_invites(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0, uid = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), id, 1000), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), id, 1000), ZT_ERR_EXISTS);
	assert_int_equal(store_invite_add(f->st, th('b'), 9999, 1000), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_add(f->st, "abc", id, 1000), ZT_ERR_INVALID);
	assert_int_equal(store_invite_add(f->st, th('A'), id, 1000), ZT_ERR_INVALID);

	assert_int_equal(store_invite_get(f->st, th('a'), 999, &uid), 0);
	assert_int_equal(uid, id);
	assert_int_equal(store_invite_get(f->st, th('a'), 1000, &uid), ZT_ERR_EXPIRED);
	assert_int_equal(uid, 0);
	assert_int_equal(store_invite_get(f->st, th('c'), 1, &uid), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, "zz", 1, &uid), ZT_ERR_NOT_FOUND);

	/* A newer invite retires it; retired beats expired: both say the
	 * invite is gone, not "expired". */
	assert_int_equal(store_invite_add(f->st, th('b'), id, 1000), 0);
	assert_int_equal(store_invite_get(f->st, th('a'), 1, &uid), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, th('a'), 5000, &uid), ZT_ERR_NOT_FOUND);
}

static void add_session(struct store *st, const char *hash, enum store_principal kind,
    int64_t id, int64_t expires_at, int expect)
{
	struct store_session s;

	memset(&s, 0, sizeof(s));
	snprintf(s.token_hash, sizeof(s.token_hash), "%s", hash);
	s.kind = kind;
	s.principal_id = id;
	s.created_at = 100;
	s.expires_at = expires_at;
	s.mfa_verified_at = kind == STORE_USER ? 150 : 0;
	snprintf(s.source, sizeof(s.source), "192.0.2.7");
	assert_int_equal(store_session_add(st, &s), expect);
}

/* Enrolment's second step activates only the secret the code was checked
 * against, once, with a usable invite of that user; a refusal changes
 * nothing. */
static void test_enroll(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[20] = "12345678901234567890", other[20] = "abcdefghijabcdefghij";
	struct store_user u;
	int64_t id = 0, bob = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	assert_int_equal(store_user_add(f->st, "bob", "", 1, &bob), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), id, 1000), 0);
	assert_int_equal(store_invite_add(f->st, th('b'), bob, 1000), 0);
	assert_int_equal(store_user_set_credentials(f->st, id, "h", secret, sizeof(secret)), 0);
	/* A step 1 run again meanwhile replaced the secret. */
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, other, sizeof(other), 5),
	    ZT_ERR_AUTH);
	assert_int_equal(store_user_enroll(f->st, th('b'), 10, id, secret, sizeof(secret), 5),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_enroll(f->st, th('a'), 1000, id, secret, sizeof(secret), 5),
	    ZT_ERR_EXPIRED);
	assert_int_equal(store_user_enroll(f->st, th('c'), 10, id, secret, sizeof(secret), 5),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, secret, 0, 5), ZT_ERR_INVALID);
	assert_int_equal(store_user_get_id(f->st, id, &u), 0);
	assert_int_equal(u.totp_active, 0);
	store_user_wipe(&u);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, secret, sizeof(secret), 5), 0);
	/* The invite is used up; an enrolled user takes no new invite. */
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, secret, sizeof(secret), 6),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_add(f->st, th('d'), id, 1000), ZT_ERR_EXISTS);
	assert_int_equal(store_invite_get(f->st, th('d'), 10, &bob), ZT_ERR_NOT_FOUND);
}

/* The takeover this prevents: invite A, then invite B, the user enrols
 * with B; A must not work, before or after. A reset revokes the user's
 * sessions and retires every invite but its own. */
static void test_invite_retires_and_reset(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[20] = "12345678901234567890";
	struct store_session s;
	int64_t id = 0, got = 0;
	int revoked = -1;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &id), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), id, 1000), 0);
	assert_int_equal(store_invite_add(f->st, th('b'), id, 1000), 0);
	assert_int_equal(store_invite_get(f->st, th('a'), 10, &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, th('b'), 10, &got), 0);
	assert_int_equal(store_user_set_credentials(f->st, id, "h", secret, sizeof(secret)), 0);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, id, secret, sizeof(secret), 5),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_enroll(f->st, th('b'), 10, id, secret, sizeof(secret), 5), 0);
	add_session(f->st, th('1'), STORE_USER, id, 1000, 0);
	add_session(f->st, th('2'), STORE_USER, id, 1000, 0);

	assert_int_equal(store_user_reset(f->st, "nobody", 20, th('c'), 1000, NULL),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_reset(f->st, "alice", 20, "xyz", 1000, NULL), ZT_ERR_INVALID);
	/* A taken hash rolls the whole reset back. */
	assert_int_equal(store_user_reset(f->st, "alice", 20, th('b'), 1000, NULL), ZT_ERR_EXISTS);
	assert_int_equal(store_session_get(f->st, th('1'), 30, &s), 0);
	assert_int_equal(store_user_reset(f->st, "alice", 20, th('c'), 1000, &revoked), 0);
	assert_int_equal(revoked, 2);
	assert_int_equal(store_session_get(f->st, th('1'), 30, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('2'), 30, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_invite_get(f->st, th('c'), 30, &got), 0);
	assert_int_equal(got, id);
	/* A new invite before the user enrolled again retires the reset's. */
	assert_int_equal(store_invite_add(f->st, th('d'), id, 1000), 0);
	assert_int_equal(store_invite_get(f->st, th('c'), 30, &got), ZT_ERR_NOT_FOUND);
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	int64_t uid = 0, bid = 0;

	assert_int_equal(store_user_add(f->st, "alice", "ops", 1, &uid), 0);
	assert_int_equal(store_bot_add(f->st, "ci", "deploy", 1, &bid), 0);
	add_session(f->st, th('1'), STORE_USER, uid, 1000, 0);
	add_session(f->st, th('2'), STORE_BOT, bid, 1000, 0);
	add_session(f->st, th('1'), STORE_USER, uid, 1000, ZT_ERR_EXISTS);
	add_session(f->st, th('3'), STORE_USER, 9999, 1000, ZT_ERR_NOT_FOUND);
	add_session(f->st, th('3'), STORE_BOT, 9999, 1000, ZT_ERR_NOT_FOUND);
	add_session(f->st, th('3'), (enum store_principal)3, uid, 1000, ZT_ERR_INVALID);
	add_session(f->st, "nothex", STORE_USER, uid, 1000, ZT_ERR_INVALID);

	assert_int_equal(store_session_get(f->st, th('1'), 500, &s), 0);
	assert_string_equal(s.token_hash, th('1'));
	assert_int_equal(s.kind, STORE_USER);
	assert_int_equal(s.principal_id, uid);
	assert_string_equal(s.name, "alice");
	assert_string_equal(s.roles, "ops");
	assert_int_equal(s.created_at, 100);
	assert_int_equal(s.expires_at, 1000);
	assert_int_equal(s.mfa_verified_at, 150);
	assert_string_equal(s.source, "192.0.2.7");
	assert_int_equal(store_session_get(f->st, th('2'), 500, &s), 0);
	assert_int_equal(s.kind, STORE_BOT);
	assert_int_equal(s.principal_id, bid);
	assert_string_equal(s.name, "ci");
	assert_string_equal(s.roles, "deploy");
	assert_int_equal(s.mfa_verified_at, 0);

	/* Unknown, then revoked, then expired, then locked. */
	assert_int_equal(store_session_get(f->st, th('9'), 500, &s), ZT_ERR_NOT_FOUND);
	assert_string_equal(s.name, "");
	assert_int_equal(store_session_get(f->st, "short", 500, &s), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, th('1'), 1000, &s), ZT_ERR_EXPIRED);
	assert_string_equal(s.name, "");
	assert_int_equal(store_session_revoke(f->st, th('1'), 600), 0);
	assert_int_equal(store_session_revoke(f->st, th('1'), 600), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_revoke(f->st, th('9'), 600), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, th('1'), 500, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('1'), 5000, &s), ZT_ERR_REVOKED);
	/* A revocation at time 0 still counts. */
	assert_int_equal(store_session_revoke(f->st, th('2'), 0), 0);
	assert_int_equal(store_session_get(f->st, th('2'), 500, &s), ZT_ERR_REVOKED);

	assert_int_equal(store_user_set_locked(f->st, "alice", 1, 700), 0);
	add_session(f->st, th('4'), STORE_USER, uid, 1000, 0);
	assert_int_equal(store_session_get(f->st, th('4'), 500, &s), ZT_ERR_LOCKED);
	assert_string_equal(s.name, "");
	assert_int_equal(store_session_get(f->st, th('4'), 1000, &s), ZT_ERR_EXPIRED);
	assert_int_equal(store_user_set_locked(f->st, "alice", 0, 800), 0);
	assert_int_equal(store_session_get(f->st, th('4'), 500, &s), 0);
	assert_int_equal(store_user_set_locked(f->st, "nobody", 1, 800), ZT_ERR_NOT_FOUND);

	/* A web session's expiry slides while it lives, never once it ended. */
	add_session(f->st, th('5'), STORE_USER, uid, 1000, 0);
	assert_int_equal(store_session_set_expiry(f->st, th('5'), 900, 1500), 0);
	assert_int_equal(store_session_get(f->st, th('5'), 1200, &s), 0);
	assert_int_equal(s.expires_at, 1500);
	assert_int_equal(store_session_set_expiry(f->st, th('5'), 1500, 2000), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_set_expiry(f->st, th('1'), 500, 2000), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_set_expiry(f->st, "short", 500, 2000), ZT_ERR_NOT_FOUND);
}

static void test_revoke_all_and_lock(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	struct store_user u;
	int64_t uid = 0, uid2 = 0, bid = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &uid), 0);
	assert_int_equal(store_user_add(f->st, "bob", "", 1, &uid2), 0);
	assert_int_equal(store_bot_add(f->st, "ci", "", 1, &bid), 0);
	add_session(f->st, th('1'), STORE_USER, uid, 1000, 0);
	add_session(f->st, th('2'), STORE_USER, uid, 1000, 0);
	add_session(f->st, th('3'), STORE_USER, uid, 1000, 0);
	add_session(f->st, th('4'), STORE_USER, uid, 200, 0);      /* expired at 500 */
	add_session(f->st, th('5'), STORE_USER, uid2, 1000, 0);
	add_session(f->st, th('6'), STORE_BOT, bid, 1000, 0);
	add_session(f->st, th('7'), STORE_BOT, bid, 1000, 0);
	assert_int_equal(store_session_revoke(f->st, th('3'), 400), 0);

	assert_int_equal(store_session_revoke_all(f->st, STORE_USER, uid, 500), 2);
	assert_int_equal(store_session_revoke_all(f->st, STORE_USER, uid, 500), 0);
	assert_int_equal(store_session_get(f->st, th('1'), 500, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('2'), 500, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('5'), 500, &s), 0);
	assert_int_equal(store_session_get(f->st, th('6'), 500, &s), 0);
	assert_int_equal(store_session_revoke_all(f->st, STORE_BOT, bid, 500), 2);
	assert_int_equal(store_session_get(f->st, th('7'), 500, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_revoke_all(f->st, (enum store_principal)0, uid, 500),
	    ZT_ERR_INVALID);

	/* Locking bob revokes his session at once, in the same call. */
	add_session(f->st, th('8'), STORE_USER, uid2, 1000, 0);
	assert_int_equal(store_user_set_locked(f->st, "bob", 1, 600), 0);
	assert_int_equal(store_user_get(f->st, "bob", &u), 0);
	assert_int_equal(u.locked, 1);
	assert_int_equal(store_session_get(f->st, th('5'), 600, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('8'), 600, &s), ZT_ERR_REVOKED);
	/* Unlocking does not bring revoked sessions back. */
	assert_int_equal(store_user_set_locked(f->st, "bob", 0, 700), 0);
	assert_int_equal(store_session_get(f->st, th('8'), 700, &s), ZT_ERR_REVOKED);
}

static int collect_session(const struct store_session *s, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	/* The first digit of each hash (th() repeats one digit). */
	seen[n] = s->token_hash[0];
	seen[n + 1] = '\0';
	return 0;
}

/* A bot's tokens: rotation revokes the others in the same transaction,
 * one is revoked by a prefix of its hash, and the live ones are listed. */
static void test_session_rotate_revoke_list(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	char seen[16] = "", prefix[16];
	int64_t bid = 0, other = 0, uid = 0;

	assert_int_equal(store_bot_add(f->st, "ci", "", 1, &bid), 0);
	assert_int_equal(store_bot_add(f->st, "cd", "", 1, &other), 0);
	assert_int_equal(store_user_add(f->st, "alice", "", 1, &uid), 0);
	add_session(f->st, th('1'), STORE_BOT, bid, 1000, 0);
	add_session(f->st, th('2'), STORE_BOT, bid, 1000, 0);
	add_session(f->st, th('3'), STORE_BOT, bid, 150, 0);  /* expired at 200 */
	add_session(f->st, th('4'), STORE_BOT, other, 1000, 0);
	add_session(f->st, th('5'), STORE_USER, uid, 1000, 0);
	assert_int_equal(store_session_each(f->st, STORE_BOT, bid, 200, collect_session, seen), 0);
	assert_string_equal(seen, "12");

	memset(&s, 0, sizeof(s));
	snprintf(s.token_hash, sizeof(s.token_hash), "%s", th('6'));
	s.kind = STORE_BOT;
	s.principal_id = bid;
	s.created_at = 200;
	s.expires_at = 1000;
	assert_int_equal(store_session_replace(f->st, &s), 2);
	assert_int_equal(store_session_get(f->st, th('1'), 300, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('2'), 300, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_get(f->st, th('6'), 300, &s), 0);
	assert_int_equal(store_session_get(f->st, th('4'), 300, &s), 0);
	assert_int_equal(store_session_get(f->st, th('5'), 300, &s), 0);
	/* A failed rotation (the hash is taken) revokes nothing. */
	add_session(f->st, th('7'), STORE_BOT, bid, 1000, 0);
	snprintf(s.token_hash, sizeof(s.token_hash), "%s", th('4'));
	s.kind = STORE_BOT;
	s.principal_id = bid;
	s.created_at = 300;
	s.expires_at = 1000;
	assert_int_equal(store_session_replace(f->st, &s), ZT_ERR_EXISTS);
	assert_int_equal(store_session_get(f->st, th('7'), 300, &s), 0);
	seen[0] = '\0';
	assert_int_equal(store_session_each(f->st, STORE_BOT, bid, 300, collect_session, seen), 0);
	assert_string_equal(seen, "67");

	/* Revocation by prefix: only this bot's live tokens count. */
	snprintf(prefix, sizeof(prefix), "%.12s", th('7'));
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, "7777", 300),
	    ZT_ERR_INVALID);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, "77777777777G", 300),
	    ZT_ERR_INVALID);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, other, prefix, 300),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, prefix, 300), 0);
	assert_int_equal(store_session_get(f->st, th('7'), 300, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, prefix, 300),
	    ZT_ERR_NOT_FOUND);
	snprintf(prefix, sizeof(prefix), "%.12s", th('1'));
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, prefix, 300),
	    ZT_ERR_NOT_FOUND);
	/* Two live tokens under one prefix: ambiguous, nothing revoked. */
	add_session(f->st, "aaaaaaaaaaaaaaaa000000000000000000000000000000000000000000000000",
	    STORE_BOT, bid, 1000, 0);
	add_session(f->st, "aaaaaaaaaaaaaaaa111111111111111111111111111111111111111111111111",
	    STORE_BOT, bid, 1000, 0);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, "aaaaaaaaaaaaaaaa",
	    300), ZT_ERR_EXISTS);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, "aaaaaaaaaaaaaaaa0",
	    300), 0);
	assert_int_equal(store_session_revoke_prefix(f->st, STORE_BOT, bid, "aaaaaaaaaaaaaaaa",
	    300), 0);
	assert_int_equal(store_session_each(f->st, (enum store_principal)0, bid, 300,
	    collect_session, seen), ZT_ERR_INVALID);
}

static void test_rm_cascades(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	int64_t uid = 0, uid2 = 0, bid = 0, got = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &uid), 0);
	assert_int_equal(store_user_add(f->st, "bob", "", 1, &uid2), 0);
	assert_int_equal(store_bot_add(f->st, "ci", "", 1, &bid), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), uid, 1000), 0);
	assert_int_equal(store_invite_add(f->st, th('b'), uid2, 1000), 0);
	add_session(f->st, th('1'), STORE_USER, uid, 1000, 0);
	add_session(f->st, th('2'), STORE_USER, uid2, 1000, 0);
	add_session(f->st, th('3'), STORE_BOT, bid, 1000, 0);

	assert_int_equal(store_user_rm(f->st, "alice"), 0);
	assert_int_equal(store_user_rm(f->st, "alice"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_rm(f->st, "Not Valid"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, th('1'), 500, &s), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, th('a'), 500, &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, th('2'), 500, &s), 0);
	assert_int_equal(store_invite_get(f->st, th('b'), 500, &got), 0);

	assert_int_equal(store_bot_rm(f->st, "ci"), 0);
	assert_int_equal(store_session_get(f->st, th('3'), 500, &s), ZT_ERR_NOT_FOUND);
}

static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	int64_t uid = 0;

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &uid), 0);
	add_session(f->st, th('1'), STORE_USER, uid, 100, 0);
	add_session(f->st, th('2'), STORE_USER, uid, 200, 0);
	add_session(f->st, th('3'), STORE_USER, uid, 300, 0);
	assert_int_equal(store_session_revoke(f->st, th('2'), 150), 0);

	/* Expired before 250 - 100 = 150: only the first. */
	assert_int_equal(store_session_prune(f->st, 250, 100), 1);
	assert_int_equal(store_session_get(f->st, th('1'), 50, &s), ZT_ERR_NOT_FOUND);
	/* Within the grace period a revoked token is still told apart. */
	assert_int_equal(store_session_get(f->st, th('2'), 250, &s), ZT_ERR_REVOKED);
	assert_int_equal(store_session_prune(f->st, 250, 100), 0);
	assert_int_equal(store_session_prune(f->st, 1000, 0), 2);
	assert_int_equal(store_session_get(f->st, th('2'), 250, &s), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_session_prune(f->st, 1000, -1), ZT_ERR_INVALID);
}

static int fake_hash(struct store_audit_row *row, void *arg)
{
	int *calls = arg;

	(*calls)++;
	snprintf(row->hash, sizeof(row->hash), "%064lld", (long long)row->seq);
	return 0;
}

static int fail_hash(struct store_audit_row *row, void *arg)
{
	(void)row;
	(void)arg;
	return ZT_ERR_CRYPTO;
}

struct audit_seen {
	int n;
	int64_t seqs[200];
	struct store *st;
};

static int see_row(const struct store_audit_row *row, void *arg)
{
	struct audit_seen *a = arg;
	struct store_user u;

	assert_true(a->n < 200);
	a->seqs[a->n++] = row->seq;
	assert_string_equal(row->type, "t");
	assert_string_equal(row->details, "{}");
	/* Calling the store from the callback must not deadlock. */
	if (a->st != NULL) {
		assert_int_equal(store_user_get(a->st, "nobody", &u), ZT_ERR_NOT_FOUND);
	}
	return 0;
}

static void audit_row_init(struct store_audit_row *row, int64_t time_ms)
{
	memset(row, 0, sizeof(*row));
	row->time_ms = time_ms;
	row->type = "t";
	row->actor = "admin:cli";
	row->source = "local";
	row->outcome = "success";
	row->details = "{}";
}

static void test_audit_rows(void **state)
{
	struct fixture *f = *state;
	struct store_audit_row row;
	struct audit_seen seen;
	char want[STORE_HASH_HEX];
	int calls = 0;

	for (int i = 0; i < 150; i++) {
		audit_row_init(&row, 1000 + i);
		assert_int_equal(store_audit_append(f->st, &row, fake_hash, &calls), 0);
		assert_int_equal(row.seq, i + 1);
		if (i == 0) {
			memset(want, '0', 64);
		} else {
			snprintf(want, sizeof(want), "%064d", i);
		}
		want[64] = '\0';
		assert_string_equal(row.prev_hash, want);
	}
	assert_int_equal(calls, 150);

	/* A failing hash function leaves nothing behind. */
	assert_int_equal(store_audit_append(f->st, &row, fail_hash, NULL), ZT_ERR_CRYPTO);

	memset(&seen, 0, sizeof(seen));
	seen.st = f->st;
	assert_int_equal(store_audit_each(f->st, 0, 0, see_row, &seen), 0);
	assert_int_equal(seen.n, 150);
	for (int i = 0; i < 150; i++) {
		assert_int_equal(seen.seqs[i], i + 1);
	}
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_each(f->st, 100, 0, see_row, &seen), 0);
	assert_int_equal(seen.n, 50);
	assert_int_equal(seen.seqs[0], 101);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_each(f->st, 0, 1140, see_row, &seen), 0);
	assert_int_equal(seen.n, 10);
	assert_int_equal(seen.seqs[0], 141);
}

static void test_audit_append_only(void **state)
{
	struct fixture *f = *state;
	struct store_audit_row row;
	char err[256];
	int calls = 0;

	audit_row_init(&row, 1);
	assert_int_equal(store_audit_append(f->st, &row, fake_hash, &calls), 0);
	assert_int_equal(store_audit_append(f->st, &row, fake_hash, &calls), 0);

	assert_int_not_equal(tu_sql(f->path, "UPDATE audit SET details = '{\"x\":1}' "
	    "WHERE seq = 1", err, sizeof(err)), SQLITE_OK);
	assert_non_null(strstr(err, "audit log is append-only"));
	assert_int_not_equal(tu_sql(f->path, "DELETE FROM audit WHERE seq = 2", err,
	    sizeof(err)), SQLITE_OK);
	assert_non_null(strstr(err, "audit log is append-only"));
	assert_int_not_equal(tu_sql(f->path, "DELETE FROM audit", err, sizeof(err)),
	    SQLITE_OK);
	assert_non_null(strstr(err, "audit log is append-only"));
	/* Appends still work and both rows are intact. */
	assert_int_equal(store_audit_append(f->st, &row, fake_hash, &calls), 0);
	assert_int_equal(row.seq, 3);
}

static void test_join_token_expiry_and_uses(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_join_token_add(f->st, th('1'), 100, 200, 1, "admin:root", NULL), 0);
	assert_int_equal(store_join_token_add(f->st, th('1'), 100, 200, 1, "admin:root", NULL),
	    ZT_ERR_EXISTS);
	assert_int_equal(store_join_token_add(f->st, "abc", 100, 200, 1, "a", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('A'), 100, 200, 1, "a", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('2'), 100, 200, 0, "a", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('2'), 100, 100, 1, "a", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('2'), 100, 200, 1, "", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('2'), 100, 200, 1, NULL, NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_join_token_add(f->st, th('2'), 100, 200, STORE_JOIN_USES_MAX + 1,
	    "a", NULL), ZT_ERR_INVALID);

	/* Expiry: at expires_at the token no longer works, and a refused use
	 * does not consume anything. */
	assert_int_equal(store_join_token_use(f->st, th('1'), 200, NULL, NULL), ZT_ERR_EXPIRED);
	assert_int_equal(store_join_token_use(f->st, th('1'), 5000, NULL, NULL), ZT_ERR_EXPIRED);
	/* Single use, then a replay. */
	assert_int_equal(store_join_token_use(f->st, th('1'), 199, NULL, NULL), 0);
	assert_int_equal(store_join_token_use(f->st, th('1'), 199, NULL, NULL), ZT_ERR_REPLAY);
	/* Used up beats expired. */
	assert_int_equal(store_join_token_use(f->st, th('1'), 300, NULL, NULL), ZT_ERR_REPLAY);
	/* Unknown and malformed. */
	assert_int_equal(store_join_token_use(f->st, th('9'), 150, NULL, NULL), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_join_token_use(f->st, "zz", 150, NULL, NULL), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_join_token_use(f->st, NULL, 150, NULL, NULL), ZT_ERR_NOT_FOUND);

	/* Multi-use: exactly three joins. */
	assert_int_equal(store_join_token_add(f->st, th('3'), 100, 200, 3, "admin:root", NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_join_token_use(f->st, th('3'), 150, NULL, NULL), 0);
	}
	assert_int_equal(store_join_token_use(f->st, th('3'), 150, NULL, NULL), ZT_ERR_REPLAY);
}

/* A token bound to a name joins that name only, without spending a use on
 * another; the labels it grants come back with the use. */
static void test_join_token_claims(void **state)
{
	struct fixture *f = *state;
	struct store_join_claims c, got;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "web1");
	snprintf(c.labels, sizeof(c.labels), "{\"env\":\"prod\"}");
	assert_int_equal(store_join_token_add(f->st, th('4'), 100, 200, 1, "a", &c), 0);
	assert_int_equal(store_join_token_use(f->st, th('4'), 150, "web2", &got), ZT_ERR_DENIED);
	assert_int_equal(store_join_token_use(f->st, th('4'), 150, NULL, &got), ZT_ERR_DENIED);
	assert_int_equal(store_join_token_use(f->st, th('4'), 150, "web1", &got), 0);
	assert_string_equal(got.name, "web1");
	assert_string_equal(got.labels, "{\"env\":\"prod\"}");
	/* Used up beats the wrong name. */
	assert_int_equal(store_join_token_use(f->st, th('4'), 150, "web2", &got), ZT_ERR_REPLAY);
	assert_string_equal(got.labels, "");

	/* Labels without a name: any name joins, and gets them. */
	memset(&c, 0, sizeof(c));
	snprintf(c.labels, sizeof(c.labels), "{\"team\":\"web\"}");
	assert_int_equal(store_join_token_add(f->st, th('5'), 100, 200, 2, "a", &c), 0);
	assert_int_equal(store_join_token_use(f->st, th('5'), 150, "db1", &got), 0);
	assert_string_equal(got.name, "");
	assert_string_equal(got.labels, "{\"team\":\"web\"}");

	snprintf(c.name, sizeof(c.name), "Not A Name");
	assert_int_equal(store_join_token_add(f->st, th('6'), 100, 200, 1, "a", &c),
	    ZT_ERR_INVALID);
}

struct join_list {
	int n;
	char hashes[4][STORE_HASH_HEX];
	int64_t uses[4];
	char by[4][STORE_JOIN_BY_MAX + 1];
};

static int collect_join(const struct store_join_token *t, void *arg)
{
	struct join_list *l = arg;

	assert_true(l->n < 4);
	memcpy(l->hashes[l->n], t->token_hash, STORE_HASH_HEX);
	l->uses[l->n] = t->uses_left;
	memcpy(l->by[l->n], t->created_by, sizeof(l->by[0]));
	l->n++;
	return 0;
}

static int stop_join(const struct store_join_token *t, void *arg)
{
	(void)t;
	(void)arg;
	return 42;
}

static void test_join_token_list_and_rm(void **state)
{
	struct fixture *f = *state;
	struct join_list l;
	char h1[STORE_HASH_HEX], h2[STORE_HASH_HEX], long_by[STORE_JOIN_BY_MAX + 2];

	/* Two hashes that share their first 12 digits, and a third. */
	memcpy(h1, th('b'), STORE_HASH_HEX);
	memcpy(h2, th('b'), STORE_HASH_HEX);
	h2[63] = 'c';
	assert_int_equal(store_join_token_add(f->st, h1, 1, 100, 2, "admin:alice", NULL), 0);
	assert_int_equal(store_join_token_add(f->st, h2, 1, 100, 1, "admin:bob", NULL), 0);
	assert_int_equal(store_join_token_add(f->st, th('d'), 1, 100, 5, "user:carol", NULL), 0);
	memset(long_by, 'x', sizeof(long_by) - 1);
	long_by[sizeof(long_by) - 1] = '\0';
	assert_int_equal(store_join_token_add(f->st, th('e'), 1, 100, 5, long_by, NULL),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(store_join_token_use(f->st, h1, 2, NULL, NULL), 0);

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_join_token_each(f->st, collect_join, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.hashes[0], h1);
	assert_int_equal(l.uses[0], 1);
	assert_string_equal(l.by[0], "admin:alice");
	assert_string_equal(l.hashes[1], h2);
	assert_string_equal(l.hashes[2], th('d'));
	assert_int_equal(l.uses[2], 5);
	assert_string_equal(l.by[2], "user:carol");
	assert_int_equal(store_join_token_each(f->st, stop_join, NULL), 42);
	assert_int_equal(store_join_token_each(f->st, NULL, NULL), ZT_ERR_INVALID);

	/* Prefixes: too short, not hex, upper case, too long. */
	assert_int_equal(store_join_token_rm(f->st, "bbbbbbbbbbb"), ZT_ERR_INVALID);
	assert_int_equal(store_join_token_rm(f->st, "bbbbbbbbbbbg"), ZT_ERR_INVALID);
	assert_int_equal(store_join_token_rm(f->st, "BBBBBBBBBBBB"), ZT_ERR_INVALID);
	assert_int_equal(store_join_token_rm(f->st, NULL), ZT_ERR_INVALID);
	/* A prefix that names two tokens removes neither. */
	assert_int_equal(store_join_token_rm(f->st, "bbbbbbbbbbbb"), ZT_ERR_EXISTS);
	assert_int_equal(store_join_token_rm(f->st, "ffffffffffff"), ZT_ERR_NOT_FOUND);
	/* A unique 12-digit prefix, and a full hash. */
	assert_int_equal(store_join_token_rm(f->st, "dddddddddddd"), 0);
	assert_int_equal(store_join_token_rm(f->st, "dddddddddddd"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_join_token_use(f->st, th('d'), 2, NULL, NULL), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_join_token_rm(f->st, h2), 0);
	assert_int_equal(store_join_token_use(f->st, h2, 2, NULL, NULL), ZT_ERR_NOT_FOUND);
	/* Now the shared prefix is unique. */
	assert_int_equal(store_join_token_rm(f->st, "bbbbbbbbbbbb"), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_join_token_each(f->st, collect_join, &l), 0);
	assert_int_equal(l.n, 0);
}

static int use_join_token_7(struct store *st, int64_t id)
{
	(void)id;
	return store_join_token_use(st, th('7'), 150, NULL, NULL);
}

static void test_join_token_race(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_join_token_add(f->st, th('7'), 100, 200, 1, "admin:root", NULL), 0);
	race_one_wins(f->st, 0, use_join_token_7);
}

/* Two connections to one file (two broker processes): the conditional
 * UPDATE still lets exactly one use through. */
static void test_join_token_two_connections(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;

	assert_int_equal(store_open(f->path, &other), 0);
	assert_int_equal(store_join_token_add(f->st, th('8'), 100, 200, 1, "admin:root", NULL), 0);
	assert_int_equal(store_join_token_use(other, th('8'), 150, NULL, NULL), 0);
	assert_int_equal(store_join_token_use(f->st, th('8'), 150, NULL, NULL), ZT_ERR_REPLAY);
	store_free(other);
}

static int count_role(const struct store_role_ref *ref, void *arg)
{
	(void)ref;
	(*(int *)arg)++;
	return 0;
}

static void test_roles(void **state)
{
	struct fixture *f = *state;
	char *doc = NULL;
	int n = 0;

	assert_int_equal(store_role_get(f->st, "ops", &doc), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_role_put(f->st, "ops", "{\"v\":1}", 100), 0);
	assert_int_equal(store_role_put(f->st, "ops", "{\"v\":2}", 200), 0);
	assert_int_equal(store_role_put(f->st, "dev", "{}", 200), 0);
	assert_int_equal(store_role_put(f->st, "Bad Name", "{}", 200), ZT_ERR_INVALID);
	assert_int_equal(store_role_get(f->st, "ops", &doc), 0);
	assert_string_equal(doc, "{\"v\":2}");
	free(doc);
	assert_int_equal(store_role_each(f->st, count_role, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_role_rm(f->st, "ops"), 0);
	assert_int_equal(store_role_rm(f->st, "ops"), ZT_ERR_NOT_FOUND);
}

/* Every change of a role raises the generation, whichever process makes
 * it; reads, refused changes and other tables leave it alone. */

/* A held call's life: each change of state happens once, from pending
 * only, and an approval is used once. */
static void approval(struct store_approval *a, char c, const char *hash, int mfa, int appr)
{
	memset(a, 0, sizeof(*a));
	memset(a->id, c, STORE_APPROVAL_ID_LEN);
	snprintf(a->call_id, sizeof(a->call_id), "0123456789abcdef");
	snprintf(a->actor, sizeof(a->actor), "user:alice");
	snprintf(a->token_hash, sizeof(a->token_hash), "%s", th('9'));
	snprintf(a->tool, sizeof(a->tool), "ssh_exec");
	snprintf(a->host, sizeof(a->host), "web1");
	snprintf(a->login, sizeof(a->login), "ubuntu");
	a->command = "uptime";
	a->args = "{\"command\":\"uptime\"}";
	snprintf(a->request_sha256, sizeof(a->request_sha256), "%s", hash);
	a->generation = 3;
	snprintf(a->rule, sizeof(a->rule), "allow: role ops allows tool ssh_exec");
	a->need_mfa = mfa;
	a->need_approval = appr;
	snprintf(a->approvers, sizeof(a->approvers), "oncall");
	a->grant_max = 600;
	a->created_at = 1000;
	a->expires_at = 1600;
}

static int count_pending(const struct store_approval *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static void test_approvals(void **state)
{
	struct fixture *f = *state;
	struct store_approval a, got;
	char id[STORE_APPROVAL_ID_LEN + 1];
	int n = 0;

	/* Both requirements: a step-up alone or an approval alone is not enough. */
	approval(&a, 'a', th('1'), 2, 1);
	assert_int_equal(store_approval_add(f->st, &a), 0);
	assert_int_equal(store_approval_add(f->st, &a), ZT_ERR_EXISTS);
	assert_int_equal(store_approval_get(f->st, a.id, &got), 0);
	assert_string_equal(got.state, "pending");
	assert_string_equal(got.command, "uptime");
	assert_string_equal(got.call_id, "0123456789abcdef");
	assert_int_equal(got.generation, 3);
	store_approval_clear(&got);
	assert_int_equal(store_approval_approve(f->st, a.id, "user:bob", 1100, 1700), 0);
	assert_int_equal(store_approval_approve(f->st, a.id, "user:carol", 1101, 0),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_get(f->st, a.id, &got), 0);
	assert_string_equal(got.state, "pending");
	assert_string_equal(got.approved_by, "user:bob");
	store_approval_clear(&got);
	assert_int_equal(store_approval_use(f->st, a.id), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_stepup(f->st, a.id, 1200), 0);
	assert_int_equal(store_approval_stepup(f->st, a.id, 1201), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_get(f->st, a.id, &got), 0);
	assert_string_equal(got.state, "approved");
	store_approval_clear(&got);
	assert_int_equal(store_approval_use(f->st, a.id), 0);
	assert_int_equal(store_approval_use(f->st, a.id), ZT_ERR_NOT_FOUND);
	/* Its grant covers the same hash at the same generation until 1700. */
	assert_int_equal(store_approval_grant(f->st, th('1'), 3, 1699, id), 0);
	assert_string_equal(id, a.id);
	assert_int_equal(store_approval_grant(f->st, th('1'), 3, 1700, id), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_grant(f->st, th('1'), 4, 1300, id), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_grant(f->st, th('2'), 3, 1300, id), ZT_ERR_NOT_FOUND);

	/* MFA only: a step-up approves; approving is not a thing for it. */
	approval(&a, 'b', th('3'), 2, 0);
	assert_int_equal(store_approval_add(f->st, &a), 0);
	assert_int_equal(store_approval_approve(f->st, a.id, "user:bob", 1100, 0),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_stepup(f->st, a.id, 1100), 0);
	assert_int_equal(store_approval_get(f->st, a.id, &got), 0);
	assert_string_equal(got.state, "approved");
	store_approval_clear(&got);

	/* Denied, expired, withdrawn: final; nothing after; too late is too late. */
	approval(&a, 'c', th('4'), 0, 1);
	assert_int_equal(store_approval_add(f->st, &a), 0);
	approval(&a, 'd', th('5'), 0, 1);
	assert_int_equal(store_approval_add(f->st, &a), 0);
	assert_int_equal(store_approval_approve(f->st, a.id, "user:bob", 1600, 0),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_each_pending(f->st, 1100, count_pending, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_approval_each_pending(f->st, 1600, count_pending, &n), 0);
	assert_int_equal(n, 0);
	/* Ended: answered or used at 1100 (a, b); past their time too at 1600. */
	assert_int_equal(store_approval_each_ended(f->st, 1100, 0, count_pending, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_approval_each_ended(f->st, 1600, 0, count_pending, &n), 0);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(store_approval_each_ended(f->st, 1600, 1001, count_pending, &n), 0);
	assert_int_equal(n, 0);
	memset(id, 'c', STORE_APPROVAL_ID_LEN);
	id[STORE_APPROVAL_ID_LEN] = '\0';
	assert_int_equal(store_approval_end(f->st, id, "denied", "user:bob", "no", 1100), 0);
	assert_int_equal(store_approval_end(f->st, id, "expired", "", "", 1100),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_approve(f->st, id, "user:bob", 1100, 0),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_approval_end(f->st, id, "approved", "", "", 1100),
	    ZT_ERR_INVALID);
	assert_int_equal(store_approval_get(f->st, id, &got), 0);
	assert_string_equal(got.state, "denied");
	assert_string_equal(got.answered_by, "user:bob");
	assert_string_equal(got.reason, "no");
	store_approval_clear(&got);
	assert_int_equal(store_approval_get(f->st, "../etc", &got), ZT_ERR_NOT_FOUND);
}

static void test_role_generation(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	int64_t g0 = -1, g = -1;
	char *doc = NULL;

	assert_int_equal(store_role_generation(f->st, &g0), 0);
	assert_int_equal(store_role_put(f->st, "ops", "{\"v\":1}", 100), 0);
	assert_int_equal(store_role_generation(f->st, &g), 0);
	assert_true(g > g0);
	g0 = g;
	assert_int_equal(store_role_put(f->st, "ops", "{\"v\":2}", 200), 0);
	assert_int_equal(store_role_generation(f->st, &g), 0);
	assert_true(g > g0);
	g0 = g;
	assert_int_equal(store_role_get(f->st, "ops", &doc), 0);
	free(doc);
	assert_int_equal(store_role_put(f->st, "Bad Name", "{}", 300), ZT_ERR_INVALID);
	assert_int_equal(store_role_rm(f->st, "ghost"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_user_add(f->st, "alice", "ops", 300, NULL), 0);
	assert_int_equal(store_role_generation(f->st, &g), 0);
	assert_true(g == g0);
	/* Another process: ztbroker admin while the broker serves. */
	assert_int_equal(store_open(f->path, &other), 0);
	assert_int_equal(store_role_rm(other, "ops"), 0);
	store_free(other);
	assert_int_equal(store_role_generation(f->st, &g), 0);
	assert_true(g > g0);
}

/* An agent row as a broker binds it: pin "sha256:" and 64 times c, a host
 * key of its own (the store does not parse keys). */
static void agent_row(struct store_agent *ag, const char *name, char c, const char *labels)
{
	memset(ag, 0, sizeof(*ag));
	snprintf(ag->name, sizeof(ag->name), "%s", name);
	/* Not th(): its static buffers are not for the racing threads. */
	memcpy(ag->key_pin, "sha256:", 7);
	memset(ag->key_pin + 7, c, 64);
	snprintf(ag->claims.labels, sizeof(ag->claims.labels), "%s", labels);
	snprintf(ag->claims.resources, sizeof(ag->claims.resources), "[{\"name\":\"%s\","
	    "\"kind\":\"ssh\",\"address\":\"127.0.0.1:22\",\"host_key\":\"ssh-ed25519 %s-%c\"}]",
	    name, name, c);
}

/* One ssh resource as the claims' list (the store reads name and host_key
 * only). */
static void one_resource(struct store_agent_claims *c, const char *name, const char *address,
    const char *key)
{
	snprintf(c->resources, sizeof(c->resources), "[{\"name\":\"%s\",\"kind\":\"ssh\","
	    "\"address\":\"%s\",\"host_key\":\"%s\"}]", name, address, key);
}

/* The agent of another than except whose claims clash with resources, or
 * "" (store_agent_resource_owner). */
static const char *owner_of(struct store *st, const char *resources, const char *except,
    int *by_name)
{
	static char owner[STORE_NAME_MAX + 1];
	char res[STORE_NAME_MAX + 1];
	int dummy;

	if (store_agent_resource_owner(st, resources, except, owner, res,
	    by_name != NULL ? by_name : &dummy) != 0) {
		owner[0] = '\0';
	}
	return owner;
}

static int bind(struct store *st, const struct store_agent *ag, int64_t now)
{
	return store_agent_bind(st, ag->name, ag->key_pin, &ag->claims, now, NULL);
}

static void test_agents_bind(void **state)
{
	struct fixture *f = *state;
	struct store_agent ag, got, ret;
	char pin_a[STORE_AGENT_PIN_LEN + 1];
	int by_name = -1;

	agent_row(&ag, "web1", 'a', "{\"env\":\"prod\"}");
	snprintf(pin_a, sizeof(pin_a), "%s", ag.key_pin);
	assert_int_equal(store_agent_get(f->st, "web1", &got), ZT_ERR_NOT_FOUND);
	/* The row comes back from the statement that made it. */
	assert_int_equal(store_agent_bind(f->st, ag.name, ag.key_pin, &ag.claims, 100, &ret), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_memory_equal(&ret, &got, sizeof(got));
	assert_string_equal(got.name, "web1");
	assert_string_equal(got.key_pin, pin_a);
	assert_string_equal(got.claims.labels, "{\"env\":\"prod\"}");
	assert_string_equal(got.claims.resources, "[{\"name\":\"web1\",\"kind\":\"ssh\","
	    "\"address\":\"127.0.0.1:22\",\"host_key\":\"ssh-ed25519 web1-a\"}]");
	assert_int_equal(got.pending_at, 0);
	assert_string_equal(got.pending.labels, "");
	assert_int_equal(got.bound_at, 100);
	assert_int_equal(got.last_seen, 100);

	/* Bound: binding again changes nothing, whatever the key. */
	snprintf(ag.claims.labels, sizeof(ag.claims.labels), "{}");
	assert_int_equal(bind(f->st, &ag, 200), ZT_ERR_EXISTS);
	agent_row(&ag, "web1", 'b', "{\"env\":\"evil\"}");
	memset(&ret, 'x', sizeof(ret));
	assert_int_equal(store_agent_bind(f->st, ag.name, ag.key_pin, &ag.claims, 300, &ret),
	    ZT_ERR_EXISTS);
	assert_int_equal(ret.name[0], 'x'); /* untouched */
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_string_equal(got.key_pin, pin_a);
	assert_string_equal(got.claims.labels, "{\"env\":\"prod\"}");
	assert_int_equal(got.last_seen, 100);

	/* A host key is approved for one agent: another is refused. */
	agent_row(&ag, "web2", 'b', "{}");
	one_resource(&ag.claims, "web2", "127.0.0.1:22", "ssh-ed25519 web1-a");
	assert_int_equal(bind(f->st, &ag, 300), ZT_ERR_EXISTS);
	assert_int_equal(store_agent_get(f->st, "web2", &got), ZT_ERR_NOT_FOUND);
	assert_string_equal(owner_of(f->st, ag.claims.resources, "web2", &by_name), "web1");
	assert_int_equal(by_name, 0);
	assert_string_equal(owner_of(f->st, ag.claims.resources, "web1", NULL), "");
	/* So is a resource name: another agent's resource, or another agent. */
	one_resource(&ag.claims, "web1", "127.0.0.1:22", "ssh-ed25519 web2-b");
	assert_int_equal(bind(f->st, &ag, 300), ZT_ERR_EXISTS);
	assert_string_equal(owner_of(f->st, ag.claims.resources, "web2", &by_name), "web1");
	assert_int_equal(by_name, 1);
	/* And an agent named like another agent's resource. */
	agent_row(&ag, "db", 'c', "{}");
	snprintf(ag.claims.resources, sizeof(ag.claims.resources), "[{\"name\":\"db-1\","
	    "\"kind\":\"ssh\",\"address\":\"h:22\",\"host_key\":\"ssh-ed25519 db-1\"},"
	    "{\"name\":\"db-2\",\"kind\":\"ssh\",\"address\":\"h:23\","
	    "\"host_key\":\"ssh-ed25519 db-2\"}]");
	assert_int_equal(bind(f->st, &ag, 300), 0);
	agent_row(&ag, "db-2", 'd', "{}");
	assert_int_equal(bind(f->st, &ag, 300), ZT_ERR_EXISTS);
	assert_string_equal(owner_of(f->st, ag.claims.resources, "db-2", &by_name), "db");
	assert_int_equal(by_name, 1);
	assert_int_equal(store_agent_rm(f->st, "db"), 0);

	/* last_seen at disconnection, only for the bound key. */
	assert_int_equal(store_agent_seen(f->st, "web1", pin_a, 400, &ret), 0);
	assert_int_equal(ret.last_seen, 400);
	assert_string_equal(ret.claims.labels, "{\"env\":\"prod\"}");
	assert_int_equal(store_agent_seen(f->st, "web1", ag.key_pin, 500, NULL), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_seen(f->st, "nobody", pin_a, 500, NULL), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_seen(f->st, "web1", "sha256:zz", 500, NULL),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(got.last_seen, 400);

	/* Bad input. */
	agent_row(&ag, "Web 1", 'a', "{}");
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_INVALID);
	agent_row(&ag, "web2", 'A', "{}");
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_INVALID);
	agent_row(&ag, "web2", 'a', "{}");
	memcpy(ag.key_pin, "sha1:", 5);
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_INVALID);
	agent_row(&ag, "web2", 'a', "");
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_INVALID);
	agent_row(&ag, "web2", 'a', "{}");
	memset(ag.claims.resources, 'x', sizeof(ag.claims.resources));
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_INVALID);
	snprintf(ag.claims.resources, sizeof(ag.claims.resources), "[");
	assert_int_equal(bind(f->st, &ag, 1), ZT_ERR_EXISTS); /* not JSON: nothing bound */
	assert_int_equal(store_agent_bind(f->st, "web2", pin_a, NULL, 1, NULL), ZT_ERR_INVALID);
	assert_int_equal(store_agent_get(f->st, "web2", &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_get(f->st, "Not Valid", &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_get(f->st, "web1", NULL), ZT_ERR_INVALID);
}

/* Claims that differ wait as pending, with the time they first did; the
 * approval moves them to the approved ones, unless their host key is
 * another name's. */
static void test_agents_pending_and_approve(void **state)
{
	struct fixture *f = *state;
	struct store_agent web1, db1, got, before, ret;
	struct store_agent_claims c;

	agent_row(&web1, "web1", 'a', "{\"env\":\"dev\"}");
	agent_row(&db1, "db1", 'b', "{\"env\":\"prod\"}");
	assert_int_equal(bind(f->st, &web1, 100), 0);
	assert_int_equal(bind(f->st, &db1, 100), 0);
	assert_int_equal(store_agent_approve(f->st, "web1", NULL), ZT_ERR_INVALID);
	assert_int_equal(store_agent_approve(f->st, "nobody", NULL), ZT_ERR_NOT_FOUND);

	c = web1.claims;
	snprintf(c.labels, sizeof(c.labels), "{\"env\":\"prod\"}");
	assert_int_equal(store_agent_pend(f->st, "web1", web1.key_pin, &c, 200, NULL), 0);
	assert_int_equal(store_agent_pend(f->st, "web1", db1.key_pin, &c, 200, NULL),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_pend(f->st, "web1", web1.key_pin, &c, 300, &ret), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_memory_equal(&ret, &got, sizeof(got));
	assert_int_equal(got.pending_at, 200);
	assert_int_equal(got.last_seen, 300);
	assert_string_equal(got.pending.labels, "{\"env\":\"prod\"}");
	assert_string_equal(got.claims.labels, "{\"env\":\"dev\"}");

	/* Another change restarts the clock; the same claims again keep it. */
	one_resource(&c, "web1", "127.0.0.1:22", "ssh-ed25519 db1-b");
	assert_int_equal(store_agent_pend(f->st, "web1", web1.key_pin, &c, 400, NULL), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(got.pending_at, 400);
	/* db1's host key: not approvable for web1, and nothing changes. */
	assert_int_equal(store_agent_approve(f->st, "web1", &before), ZT_ERR_EXISTS);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_string_equal(got.claims.resources, web1.claims.resources);
	assert_int_equal(got.pending_at, 400);

	/* Cleared when the agent is back to its approved claims. */
	assert_int_equal(store_agent_pend(f->st, "web1", web1.key_pin, NULL, 500, NULL), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(got.pending_at, 0);
	assert_string_equal(got.pending.resources, "");
	assert_int_equal(store_agent_approve(f->st, "web1", NULL), ZT_ERR_INVALID);

	one_resource(&c, "web1", "10.0.0.1:22", "ssh-ed25519 web1-new");
	assert_int_equal(store_agent_pend(f->st, "web1", web1.key_pin, &c, 600, NULL), 0);
	assert_int_equal(store_agent_approve(f->st, "web1", &before), 0);
	assert_string_equal(before.claims.labels, "{\"env\":\"dev\"}");
	assert_string_equal(before.pending.resources, c.resources);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_string_equal(got.claims.labels, "{\"env\":\"prod\"}");
	assert_string_equal(got.claims.resources, c.resources);
	assert_int_equal(got.pending_at, 0);
	/* Its old key is free for another agent now. */
	one_resource(&c, "probe", "h:22", "ssh-ed25519 web1-a");
	assert_string_equal(owner_of(f->st, c.resources, "x", NULL), "");

	/* Locked and unlocked by name; the claims stay as they are. */
	assert_int_equal(store_agent_set_locked(f->st, "web1", 1), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(got.locked, 1);
	assert_non_null(strstr(got.claims.resources, "10.0.0.1:22"));
	assert_int_equal(store_agent_set_locked(f->st, "web1", 0), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(got.locked, 0);
	assert_int_equal(store_agent_set_locked(f->st, "nobody", 1), ZT_ERR_NOT_FOUND);

	/* A later join's labels replace the approved ones. */
	assert_int_equal(store_agent_set_labels(f->st, "web1", web1.key_pin, "{\"a\":\"b\"}",
	    &ret), 0);
	assert_int_equal(store_agent_set_labels(f->st, "web1", db1.key_pin, "{}", NULL),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_set_labels(f->st, "web1", web1.key_pin, "", NULL),
	    ZT_ERR_INVALID);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_string_equal(got.claims.labels, "{\"a\":\"b\"}");
	assert_memory_equal(&ret, &got, sizeof(got));
}

/* A join's labels, and whether its token named the agent, wait for the
 * next hello of its key, once. */
static void test_agent_joins(void **state)
{
	struct fixture *f = *state;
	char labels[STORE_AGENT_LABELS_MAX + 1];
	const char *pin = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	int named = -1;

	assert_int_equal(store_agent_join_get(f->st, "web1", pin, labels, sizeof(labels), &named),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(named, 0);
	assert_int_equal(store_agent_join_put(f->st, "web1", pin, "{\"env\":\"a\"}", 1, 100),
	    0);
	assert_int_equal(store_agent_join_get(f->st, "web1", pin, labels, sizeof(labels), &named),
	    0);
	assert_int_equal(named, 1);
	/* A later join of the same key replaces it, named or not. */
	assert_int_equal(store_agent_join_put(f->st, "web1", pin, "{\"env\":\"b\"}", 0, 110),
	    0);
	assert_int_equal(store_agent_join_get(f->st, "web1", pin, labels, sizeof(labels), &named),
	    0);
	assert_string_equal(labels, "{\"env\":\"b\"}");
	assert_int_equal(named, 0);
	assert_int_equal(store_agent_join_get(f->st, "web2", pin, labels, sizeof(labels), &named),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_join_rm(f->st, "web1", pin), 0);
	assert_int_equal(store_agent_join_rm(f->st, "web1", pin), ZT_ERR_NOT_FOUND);
	/* One that never said hello is forgotten after a while. */
	assert_int_equal(store_agent_join_put(f->st, "web1", pin, "{}", 0, 100), 0);
	assert_int_equal(store_agent_join_put(f->st, "web2", pin, "{}", 0,
	    100 + STORE_AGENT_JOIN_KEEP_S + 1), 0);
	assert_int_equal(store_agent_join_get(f->st, "web1", pin, labels, sizeof(labels), &named),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_join_put(f->st, "web1", "sha256:x", "{}", 0, 1),
	    ZT_ERR_INVALID);
}

static void test_agents_survive_reopen_and_rm(void **state)
{
	struct fixture *f = *state;
	struct store_agent ag, got;
	char big[STORE_AGENT_LABELS_MAX + 1];

	/* The largest labels text fits, and comes back whole. */
	memset(big, 'l', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	agent_row(&ag, "db1", 'c', big);
	assert_int_equal(bind(f->st, &ag, 100), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_agent_get(f->st, "db1", &got), 0);
	assert_string_equal(got.claims.labels, big);
	assert_int_equal(got.bound_at, 100);
	/* The binding outlived the connection: another key is still refused. */
	agent_row(&ag, "db1", 'd', "{}");
	assert_int_equal(bind(f->st, &ag, 200), ZT_ERR_EXISTS);

	/* Removing frees the name for the new key. */
	assert_int_equal(store_agent_rm(f->st, "db1"), 0);
	assert_int_equal(store_agent_rm(f->st, "db1"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_rm(f->st, "Not Valid"), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_get(f->st, "db1", &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(bind(f->st, &ag, 300), 0);
	assert_int_equal(store_agent_get(f->st, "db1", &got), 0);
	assert_int_equal(got.key_pin[7], 'd');
	assert_int_equal(got.bound_at, 300);
}

struct agent_list {
	int n;
	char last[STORE_NAME_MAX + 1];
};

static int collect_agent(const struct store_agent *ag, void *arg)
{
	struct agent_list *l = arg;

	assert_true(strcmp(l->last, ag->name) < 0);
	snprintf(l->last, sizeof(l->last), "%s", ag->name);
	assert_string_equal(ag->claims.labels, "{}");
	l->n++;
	return 0;
}

static int stop_agent(const struct store_agent *ag, void *arg)
{
	(void)ag;
	return ++*(int *)arg == 3 ? 42 : 0;
}

static void test_agents_each(void **state)
{
	struct fixture *f = *state;
	struct store_agent ag;
	struct agent_list l;
	char name[16];
	int n = 0;

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_agent_each(f->st, collect_agent, &l), 0);
	assert_int_equal(l.n, 0);
	/* More than a page, added out of order. */
	for (int i = 149; i >= 0; i--) {
		snprintf(name, sizeof(name), "h%03d", i);
		agent_row(&ag, name, 'e', "{}");
		assert_int_equal(bind(f->st, &ag, i), 0);
	}
	assert_int_equal(store_agent_each(f->st, collect_agent, &l), 0);
	assert_int_equal(l.n, 150);
	assert_string_equal(l.last, "h149");
	assert_int_equal(store_agent_each(f->st, stop_agent, &n), 42);
	assert_int_equal(n, 3);
	assert_int_equal(store_agent_each(f->st, NULL, NULL), ZT_ERR_INVALID);
}

/* Two brokers on one file, and eight connections racing for a new name
 * with eight keys: exactly one key is bound. */
struct bind_race {
	struct store *st;
	char c;
	int rc;
};

static void *bind_race_run(void *arg)
{
	struct bind_race *b = arg;
	struct store_agent ag;

	agent_row(&ag, "race", b->c, "{}");
	b->rc = bind(b->st, &ag, 1);
	return NULL;
}

static void test_agents_race(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct store_agent ag, got;
	struct bind_race b[8];
	pthread_t t[8];
	int ok = 0, exists = 0, winner = -1;

	assert_int_equal(store_open(f->path, &other), 0);
	agent_row(&ag, "web1", '1', "{}");
	assert_int_equal(bind(f->st, &ag, 1), 0);
	agent_row(&ag, "web1", '2', "{}");
	assert_int_equal(bind(other, &ag, 2), ZT_ERR_EXISTS);

	for (int i = 0; i < 8; i++) {
		b[i].st = i % 2 == 0 ? f->st : other;
		b[i].c = "13579bdf"[i];
		b[i].rc = 1;
		assert_int_equal(pthread_create(&t[i], NULL, bind_race_run, &b[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		if (b[i].rc == 0) {
			ok++;
			winner = i;
		}
		exists += b[i].rc == ZT_ERR_EXISTS;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(exists, 7);
	assert_int_equal(store_agent_get(other, "race", &got), 0);
	assert_int_equal(got.key_pin[7], b[winner].c);
	store_free(other);
}

/* SQL that takes a current file back to version 5's tables. */
#define UNDO_V6 "DROP TABLE agent_joins; DROP INDEX agents_host_key; " \
	"ALTER TABLE agents DROP COLUMN pending_labels; " \
	"ALTER TABLE agents DROP COLUMN pending_target; " \
	"ALTER TABLE agents DROP COLUMN pending_host_key; " \
	"ALTER TABLE agents DROP COLUMN pending_at; ALTER TABLE agents DROP COLUMN locked; " \
	"ALTER TABLE join_tokens DROP COLUMN name; ALTER TABLE join_tokens DROP COLUMN labels; "

/* A version 3 file (v4 only added agents) migrates and keeps its rows; the
 * new table works at once. */
static void test_migrate_v3_to_v4(void **state)
{
	struct fixture *f = *state;
	struct store_agent ag, got;
	char *doc = NULL;
	char err[256];

	assert_int_equal(store_role_put(f->st, "ops", "{\"v\":1}", 100), 0);
	assert_int_equal(store_join_token_add(f->st, th('e'), 10, 100, 1, "admin:root", NULL), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, UNDO_V7 UNDO_V6 UNDO_V5
	    "DROP TABLE agents; PRAGMA user_version = 3",
	    err, sizeof(err)), SQLITE_OK);
	assert_int_equal(tu_sql(f->path, "SELECT * FROM agents", err, sizeof(err)),
	    SQLITE_ERROR);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_role_get(f->st, "ops", &doc), 0);
	assert_string_equal(doc, "{\"v\":1}");
	free(doc);
	assert_int_equal(store_join_token_use(f->st, th('e'), 20, NULL, NULL), 0);
	agent_row(&ag, "web1", 'a', "{}");
	assert_int_equal(bind(f->st, &ag, 100), 0);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_int_equal(tu_sql(f->path, "SELECT name, key_pin, labels, resources, "
	    "bound_at, last_seen FROM agents", err, sizeof(err)), SQLITE_OK);
}

/* Version 5 retires the invites that older versions left usable: every
 * invite of an enrolled user, and all but the newest of anyone else. */
static void test_migrate_v4_to_v5(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[20] = "12345678901234567890";
	int64_t alice = 0, bob = 0, got = 0;
	char sql[2048], err[256];

	assert_int_equal(store_user_add(f->st, "alice", "", 1, &alice), 0);
	assert_int_equal(store_user_add(f->st, "bob", "", 1, &bob), 0);
	assert_int_equal(store_invite_add(f->st, th('a'), alice, 1000), 0);
	assert_int_equal(store_user_set_credentials(f->st, alice, "h", secret, sizeof(secret)), 0);
	assert_int_equal(store_user_enroll(f->st, th('a'), 10, alice, secret, sizeof(secret), 5),
	    0);
	store_free(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql), "INSERT INTO invites(token_hash, user_id, expires_at) VALUES "
	    "('%s', %lld, 1000), ('%s', %lld, 1000), ('%s', %lld, 1000); " UNDO_V7 UNDO_V6 UNDO_V5
	    "PRAGMA user_version = 4",
	    th('b'), (long long)alice, th('c'), (long long)bob, th('d'), (long long)bob);
	assert_int_equal(tu_sql(f->path, sql, err, sizeof(err)), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_invite_get(f->st, th('b'), 10, &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, th('c'), 10, &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_invite_get(f->st, th('d'), 10, &got), 0);
	assert_int_equal(got, bob);
}

/* A version 5 file: its agents keep their claims as the approved ones,
 * nothing pending; its tokens grant nothing beyond a join. */
static void test_migrate_v5_to_v6(void **state)
{
	struct fixture *f = *state;
	struct store_join_claims c;
	struct store_agent ag, got;
	char err[256];

	agent_row(&ag, "web1", 'a', "{\"env\":\"prod\"}");
	assert_int_equal(bind(f->st, &ag, 100), 0);
	assert_int_equal(store_join_token_add(f->st, th('e'), 10, 100, 1, "admin:root", NULL), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, UNDO_V7 UNDO_V6 "PRAGMA user_version = 5", err, sizeof(err)),
	    SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	assert_string_equal(got.claims.labels, "{\"env\":\"prod\"}");
	assert_string_equal(got.claims.resources, ag.claims.resources);
	assert_int_equal(got.pending_at, 0);
	assert_int_equal(got.locked, 0);
	assert_int_equal(store_join_token_use(f->st, th('e'), 20, "web2", &c), 0);
	assert_string_equal(c.labels, "");
	assert_int_equal(store_agent_join_put(f->st, "web1", ag.key_pin, "{}", 1, 100), 0);
}

/* A version 8 file: an agent's SSH target and host key, approved and
 * pending, become a list of one resource named after it. */
static void test_migrate_v8_to_v9(void **state)
{
	struct fixture *f = *state;
	struct store_agent ag, got;
	char err[256];

	agent_row(&ag, "web1", 'a', "{\"env\":\"prod\"}");
	assert_int_equal(bind(f->st, &ag, 100), 0);
	agent_row(&ag, "db1", 'b', "{}");
	assert_int_equal(bind(f->st, &ag, 100), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, UNDO_V9 "UPDATE agents SET pending_target = '10.0.0.9:22', "
	    "pending_host_key = 'ssh-ed25519 new', pending_labels = '{}', pending_at = 5 "
	    "WHERE name = 'db1'; PRAGMA user_version = 8", err, sizeof(err)), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), STORE_TEST_VERSION);
	assert_int_equal(store_agent_get(f->st, "web1", &got), 0);
	agent_row(&ag, "web1", 'a', "{\"env\":\"prod\"}");
	assert_string_equal(got.claims.resources, ag.claims.resources);
	assert_string_equal(got.pending.resources, "");
	assert_int_equal(store_agent_get(f->st, "db1", &got), 0);
	assert_string_equal(got.pending.resources, "[{\"name\":\"db1\",\"kind\":\"ssh\","
	    "\"address\":\"10.0.0.9:22\",\"host_key\":\"ssh-ed25519 new\"}]");
	assert_int_equal(got.pending_at, 5);
	/* The old columns are gone. */
	assert_int_equal(tu_sql(f->path, "SELECT ssh_target FROM agents", err, sizeof(err)),
	    SQLITE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_to_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_users_and_bots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_each_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consume_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enroll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_retires_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_all_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_rotate_revoke_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_token_expiry_and_uses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_token_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_token_list_and_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_token_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_token_two_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_pending_and_approve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_joins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_tokens_page_by_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_survive_reopen_and_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3_to_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v4_to_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v5_to_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v8_to_v9, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
