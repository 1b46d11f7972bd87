/*
 * brk_recordings_test.c - the broker's recordings (broker/brk_recordings.c)
 * on a real store and directory: start makes the 0700 directory, a 0600
 * file with its header and a running row; finish ends the row and puts the
 * binding in the outcome, which aud_verify then checks against the file;
 * bad metadata leaves nothing behind; who may read one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_identity.h"
#include "broker/brk_policy.h"
#include "broker/brk_recordings.h"
#include "broker/brk_roles.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[TU_DIR_MAX];
	char db[TU_PATH_MAX];
	char rec_dir[TU_PATH_MAX];
	struct brk b;
};

static int64_t fixed_now(void)
{
	return 1764900000;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256], warn[256], name[STORE_NAME_MAX + 1];
	const char *doc = "kind: role\nname: aud\noptions: {auditor: true}\n";

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-rec"), 0);
	snprintf(f->db, sizeof(f->db), "%s/zt.db", f->dir);
	snprintf(f->rec_dir, sizeof(f->rec_dir), "%s/recordings", f->dir);
	assert_int_equal(store_open(f->db, &f->b.store), 0);
	assert_int_equal(brk_roles_new(f->b.store, &f->b.roles), 0);
	assert_int_equal(brk_policy_apply(f->b.store, doc, strlen(doc), "r.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), 1), 0);
	f->b.recordings_dir = f->rec_dir;
	f->b.now = fixed_now;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_roles_free(f->b.roles);
	store_free(f->b.store);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static const struct brk_rec_meta META = { .actor = "user:alice", .host = "web1",
	.login = "ubuntu", .tool = "ssh_shell", .call_id = "c1", .cols = 100, .rows = 30,
	.term = "xterm" };

static void test_start_finish(void **state)
{
	struct fx *f = *state;
	char id[BRK_REC_ID_LEN + 1], path[TU_PATH_MAX + 64], *line;
	struct store_recording row;
	struct aud_verify_result res;
	struct aud_rec *rec = NULL;
	const cJSON *binding;
	cJSON *outcome = cJSON_CreateObject();
	struct stat sb;

	assert_int_equal(brk_recordings_start(&f->b, &META, &rec, id), 0);
	assert_non_null(rec);
	assert_true(aud_rec_id_valid(id));
	assert_int_equal(stat(f->rec_dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/%s.cast", f->rec_dir, id);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_recording_get(f->b.store, id, &row), 0);
	assert_int_equal(row.ended_at, 0);
	assert_int_equal(row.started_at, fixed_now());
	assert_int_equal(row.cols, 100);
	assert_string_equal(row.call_id, "c1");

	assert_int_equal(aud_rec_output(rec, 10, "hi\r\n", 4), 0);
	assert_int_equal(brk_recordings_finish(&f->b, id, rec, 3, outcome), 0);
	assert_non_null(binding = cJSON_GetObjectItemCaseSensitive(outcome, "recording"));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(binding, "id")),
	    id);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(binding, "bytes")),
	    sb.st_size);
	assert_int_equal(store_recording_get(f->b.store, id, &row), 0);
	assert_int_equal(row.ended_at, fixed_now());
	assert_int_equal(row.bytes, sb.st_size);
	assert_int_equal(row.exit_status, 3);
	assert_string_equal(row.sha256, cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(binding, "sha256")));
	line = tu_first_line(path);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"title\":\"alice@web1 as ubuntu\""));
	free(line);

	assert_int_equal(aud_append(f->b.store, 1, "tool.ssh_shell.result", "user:alice", "local",
	    "success", outcome), 0);
	assert_int_equal(aud_verify(f->b.store, f->rec_dir, &res), 0);
	assert_int_equal(truncate(path, sb.st_size - 1), 0);
	assert_int_equal(aud_verify(f->b.store, f->rec_dir, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 1);
	cJSON_Delete(outcome);
}

/* A recording left running (a broker killed mid-session) is bound as it
 * is at the next start; one ended already is left alone; a missing file is
 * said so and binds nothing. */
static void test_recover(void **state)
{
	struct fx *f = *state;
	char left[BRK_REC_ID_LEN + 1], gone[BRK_REC_ID_LEN + 1], done[BRK_REC_ID_LEN + 1];
	char path[TU_PATH_MAX + 64];
	struct store_recording row;
	struct aud_verify_result res;
	struct aud_rec *a = NULL, *b = NULL, *c = NULL;
	struct stat sb;

	assert_int_equal(brk_recordings_start(&f->b, &META, &a, left), 0);
	assert_int_equal(aud_rec_output(a, 5, "partial", 7), 0);
	aud_rec_close(a, NULL, NULL);           /* as far as a killed run wrote it */
	assert_int_equal(brk_recordings_start(&f->b, &META, &b, gone), 0);
	aud_rec_close(b, NULL, NULL);
	snprintf(path, sizeof(path), "%s/%s.cast", f->rec_dir, gone);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(brk_recordings_start(&f->b, &META, &c, done), 0);
	assert_int_equal(brk_recordings_finish(&f->b, done, c, 0, NULL), 0);

	assert_int_equal(brk_recordings_recover(f->b.store, f->rec_dir, fixed_now() + 5), 0);
	snprintf(path, sizeof(path), "%s/%s.cast", f->rec_dir, left);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(store_recording_get(f->b.store, left, &row), 0);
	assert_int_equal(row.ended_at, fixed_now() + 5);
	assert_int_equal(row.bytes, sb.st_size);
	assert_int_equal(row.exit_status, -1);
	assert_int_equal(strlen(row.sha256), 64);
	assert_int_equal(store_recording_get(f->b.store, gone, &row), 0);
	assert_int_equal(row.ended_at, fixed_now() + 5);
	assert_string_equal(row.sha256, "");
	assert_int_equal(store_recording_get(f->b.store, done, &row), 0);
	assert_int_equal(row.ended_at, fixed_now());
	/* Bound: verify holds the file to what it was. */
	assert_int_equal(aud_verify(f->b.store, f->rec_dir, &res), 0);
	assert_int_equal(res.checked, 2);
	assert_int_equal(truncate(path, sb.st_size - 1), 0);
	assert_int_equal(aud_verify(f->b.store, f->rec_dir, &res), ZT_ERR_TAMPERED);
	/* Nothing is left to recover. */
	assert_int_equal(brk_recordings_recover(f->b.store, f->rec_dir, fixed_now() + 9), 0);
	assert_int_equal(store_recording_get(f->b.store, left, &row), 0);
	assert_int_equal(row.ended_at, fixed_now() + 5);
}

static void test_bad_meta_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct brk_rec_meta m = META;
	char id[BRK_REC_ID_LEN + 1];
	struct aud_rec *rec = NULL;
	cJSON *outcome = cJSON_CreateObject();

	m.cols = 0;
	assert_int_equal(brk_recordings_start(&f->b, &m, &rec, id), ZT_ERR_INVALID);
	assert_null(rec);
	assert_string_equal(id, "");
	m = META;
	m.term = "bad\x01term";
	assert_int_equal(brk_recordings_start(&f->b, &m, &rec, id), ZT_ERR_INVALID);
	assert_null(rec);
	f->b.recordings_dir = NULL;
	assert_int_equal(brk_recordings_start(&f->b, &META, &rec, id), ZT_ERR_INVALID);
	assert_int_equal(brk_recordings_finish(&f->b, "nothex", NULL, 0, outcome),
	    ZT_ERR_INVALID);
	assert_null(cJSON_GetObjectItemCaseSensitive(outcome, "recording"));
	assert_int_equal(store_recording_list(f->b.store, NULL, NULL, NULL), 0);
	cJSON_Delete(outcome);
}

static void test_may_read(void **state)
{
	struct fx *f = *state;
	struct store_recording r;
	struct brk_identity who;
	int err = 1;

	memset(&r, 0, sizeof(r));
	snprintf(r.actor, sizeof(r.actor), "user:alice");
	memset(&who, 0, sizeof(who));
	who.kind = STORE_USER;
	snprintf(who.actor, sizeof(who.actor), "user:alice");
	assert_int_equal(brk_recordings_may_read(&f->b, &who, &r, &err), 1);
	snprintf(who.actor, sizeof(who.actor), "user:bob");
	snprintf(who.roles, sizeof(who.roles), "ops");
	assert_int_equal(brk_recordings_may_read(&f->b, &who, &r, &err), 0);
	assert_int_equal(err, 0);
	snprintf(who.roles, sizeof(who.roles), "ops,aud");
	assert_int_equal(brk_recordings_may_read(&f->b, &who, &r, NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_finish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_meta_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_may_read, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
