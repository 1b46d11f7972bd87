/*
 * store_recordings_test.c - unit tests for the recordings rows
 * (store/store_recordings.c) on a real SQLite file: add, get, end once,
 * the bounds of ids and fields, and lists filtered by host and actor,
 * newest first, limited; and a migration from schema 9 that adds the
 * table without touching what was there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "store-rec-test"), 0);
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

/* A row: id of 32 copies of c, started at `at`. */
static void rec(struct store_recording *r, char c, const char *actor, const char *host,
    int64_t at)
{
	memset(r, 0, sizeof(*r));
	memset(r->id, c, STORE_REC_ID_LEN);
	snprintf(r->actor, sizeof(r->actor), "%s", actor);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->login, sizeof(r->login), "ubuntu");
	snprintf(r->tool, sizeof(r->tool), "ssh_shell");
	snprintf(r->call_id, sizeof(r->call_id), "call-%c", c);
	r->started_at = at;
	r->cols = 80;
	r->rows = 24;
}

static void test_add_get_end(void **state)
{
	struct fixture *f = *state;
	struct store_recording r, got;
	char sha[STORE_HASH_HEX];

	rec(&r, 'a', "user:alice", "web1", 1000);
	r.ended_at = 5;          /* ignored: a new row runs */
	r.exit_status = 3;
	assert_int_equal(store_recording_add(f->st, &r), 0);
	assert_int_equal(store_recording_add(f->st, &r), ZT_ERR_EXISTS);
	assert_int_equal(store_recording_get(f->st, r.id, &got), 0);
	assert_string_equal(got.actor, "user:alice");
	assert_string_equal(got.host, "web1");
	assert_string_equal(got.login, "ubuntu");
	assert_string_equal(got.tool, "ssh_shell");
	assert_string_equal(got.call_id, "call-a");
	assert_int_equal(got.started_at, 1000);
	assert_int_equal(got.ended_at, 0);
	assert_int_equal(got.bytes, 0);
	assert_string_equal(got.sha256, "");
	assert_int_equal(got.exit_status, -1);
	assert_int_equal(got.cols, 80);
	assert_int_equal(got.rows, 24);

	memset(sha, 'f', 64);
	sha[64] = '\0';
	assert_int_equal(store_recording_end(f->st, r.id, 1060, 4242, "nothex", 0), ZT_ERR_INVALID);
	assert_int_equal(store_recording_end(f->st, r.id, 1060, 4242, sha, 0), 0);
	/* Ended once: the size and hash its event binds stay. */
	assert_int_equal(store_recording_end(f->st, r.id, 1070, 1, "", 1), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_recording_get(f->st, r.id, &got), 0);
	assert_int_equal(got.ended_at, 1060);
	assert_int_equal(got.bytes, 4242);
	assert_string_equal(got.sha256, sha);
	assert_int_equal(got.exit_status, 0);
}

static void test_bad_ids_and_fields(void **state)
{
	struct fixture *f = *state;
	struct store_recording r, got;

	rec(&r, 'b', "user:bob", "web1", 1);
	r.id[0] = 'B'; /* upper case is not an id */
	assert_int_equal(store_recording_add(f->st, &r), ZT_ERR_INVALID);
	assert_int_equal(store_recording_get(f->st, r.id, &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_recording_get(f->st, "../../etc/passwd", &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_recording_get(f->st, "", &got), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_recording_end(f->st, "abc", 1, 1, "", 0), ZT_ERR_NOT_FOUND);
	rec(&r, 'c', "user:bob", "web1", 1);
	assert_int_equal(store_recording_end(f->st, r.id, 1, 1, "", 0), ZT_ERR_NOT_FOUND);
	/* An unterminated field is refused, not truncated. */
	memset(r.host, 'h', sizeof(r.host));
	assert_int_equal(store_recording_add(f->st, &r), ZT_ERR_INVALID);
}

struct seen {
	size_t n;
	char ids[8][STORE_REC_ID_LEN + 1];
};

static int collect(const struct store_recording *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	memcpy(s->ids[s->n++], r->id, sizeof(s->ids[0]));
	return 0;
}

static int stop_at_first(const struct store_recording *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 7;
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct store_recording r;
	struct seen s;
	int calls = 0;

	rec(&r, '1', "user:alice", "web1", 100);
	assert_int_equal(store_recording_add(f->st, &r), 0);
	rec(&r, '2', "user:bob", "web1", 300);
	assert_int_equal(store_recording_add(f->st, &r), 0);
	rec(&r, '3', "user:alice", "db1", 200);
	assert_int_equal(store_recording_add(f->st, &r), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, NULL, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0][0], '2'); /* newest first */
	assert_int_equal(s.ids[1][0], '3');
	assert_int_equal(s.ids[2][0], '1');

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .actor = "user:alice" }, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0][0], '3');
	assert_int_equal(s.ids[1][0], '1');

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .host = "web1", .actor = "user:alice" }, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0][0], '1');

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .host = "web1", .limit = 1 }, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0][0], '2');

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .host = "nowhere" }, collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* Only the running ones: recording 2 ended. */
	rec(&r, '2', "user:bob", "web1", 300);
	assert_int_equal(store_recording_end(f->st, r.id, 400, 10, "", 0), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .running = 1 }, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0][0], '3');
	assert_int_equal(s.ids[1][0], '1');

	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .limit = STORE_REC_LIST_MAX + 1 }, collect, &s), ZT_ERR_INVALID);
	assert_int_equal(store_recording_list(f->st, &(struct store_recording_filter){
	    .limit = -1 }, collect, &s), ZT_ERR_INVALID);
	assert_int_equal(store_recording_list(f->st, NULL, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
}

/* A file of schema 9 (no recordings table) gets it at open. */
static void test_migrate_v9(void **state)
{
	struct fixture *f = *state;
	struct store_recording r, got;
	char err[256];

	assert_int_equal(store_user_add(f->st, "alice", "ops", 1, NULL), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, "DROP TABLE recordings; PRAGMA user_version = 9", err,
	    sizeof(err)), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_int_equal(store_schema_version(f->st), 10);
	rec(&r, 'd', "user:alice", "web1", 5);
	assert_int_equal(store_recording_add(f->st, &r), 0);
	assert_int_equal(store_recording_get(f->st, r.id, &got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_get_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v9, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
