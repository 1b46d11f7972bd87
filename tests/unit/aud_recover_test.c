/*
 * aud_recover_test.c - unit tests for audit/aud_recover.c on a real store:
 * which calls count as open (decided, no outcome), that only events after
 * the given seq are read, what the broker.recover and "interrupted" events
 * hold, that a second run closes nothing twice, and that the chain still
 * verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit/aud_log.h"
#include "audit/aud_recover.h"
#include "common/err.h"
#include "common/store.h"
#include "tests/unit/testutil.h"

#define T0 1700000000000LL

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "aud-recover-test"), 0);
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

/* Appends one event of a call (call_id may be NULL: no call). */
static void event(struct store *st, const char *type, const char *outcome, const char *call_id)
{
	cJSON *d = cJSON_CreateObject();

	assert_non_null(d);
	if (call_id != NULL) {
		cJSON_AddStringToObject(d, "tool", "ssh_exec");
		cJSON_AddStringToObject(d, "call_id", call_id);
		cJSON_AddStringToObject(d, "host", "web1");
		cJSON_AddStringToObject(d, "command", "sleep 30");
		cJSON_AddStringToObject(d, "command_sha256", "c0ffee");
		cJSON_AddStringToObject(d, "rule", "allow: role ops allows tool ssh_exec");
	}
	assert_int_equal(aud_append(st, T0, type, "bot:ci", "192.0.2.7", outcome, d), 0);
	cJSON_Delete(d);
}

/* The events after seq, as parsed JSON objects {seq, type, actor, source,
 * outcome, details} in an array. */
static int collect(const struct store_audit_row *row, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	assert_non_null(o);
	cJSON_AddNumberToObject(o, "seq", (double)row->seq);
	cJSON_AddStringToObject(o, "type", row->type);
	cJSON_AddStringToObject(o, "actor", row->actor);
	cJSON_AddStringToObject(o, "source", row->source);
	cJSON_AddStringToObject(o, "outcome", row->outcome);
	cJSON_AddItemToObject(o, "details", cJSON_Parse(row->details));
	cJSON_AddItemToArray(arg, o);
	return 0;
}

static cJSON *events_after(struct store *st, int64_t seq)
{
	cJSON *arr = cJSON_CreateArray();

	assert_int_equal(store_audit_each(st, seq, INT64_MIN, collect, arr), 0);
	return arr;
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void test_closes_open_calls_only(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	struct aud_verify_result vr;
	cJSON *ev, *rec, *out, *d;
	int64_t head;

	/* Before the run that stopped: an open call it must not touch. */
	event(f->st, "tool.ssh_exec", "allowed", "old0");
	event(f->st, "broker.start", "success", NULL);                 /* seq 2 */
	/* The run: */
	event(f->st, "tool.ssh_exec", "allowed", "open1");             /* 3: never ends */
	event(f->st, "tool.ssh_exec", "allowed", "done2");             /* 4 */
	event(f->st, "tool.ssh_exec.result", "success", "done2");
	event(f->st, "tool.ssh_exec", "allowed", "fail3");             /* 6 */
	event(f->st, "tool.ssh_exec", "failure", "fail3");             /* host offline */
	event(f->st, "tool.ssh_exec", "denied", "deny4");              /* never allowed */
	event(f->st, "user.login", "success", NULL);
	event(f->st, "tool.ssh_exec", "allowed", "open5");             /* 10: never ends */

	assert_int_equal(aud_recover(f->st, T0 + 5, 2, "test stop", &res), 0);
	assert_int_equal(res.scanned, 8);
	assert_int_equal(res.closed, 2);
	assert_int_equal(res.unchecked, 0);

	ev = events_after(f->st, 10);
	assert_int_equal(cJSON_GetArraySize(ev), 3);
	rec = cJSON_GetArrayItem(ev, 0);
	assert_string_equal(str(rec, "type"), "broker.recover");
	assert_string_equal(str(rec, "actor"), "system");
	d = cJSON_GetObjectItemCaseSensitive(rec, "details");
	assert_string_equal(str(d, "reason"), "test stop");
	assert_int_equal((int64_t)num(d, "after_seq"), 2);
	assert_int_equal((int64_t)num(d, "events_scanned"), 8);
	assert_int_equal((int64_t)num(d, "open_calls"), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "call_ids"), 0)), "open1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "call_ids"), 1)), "open5");

	for (int i = 0; i < 2; i++) {
		out = cJSON_GetArrayItem(ev, 1 + i);
		d = cJSON_GetObjectItemCaseSensitive(out, "details");
		assert_string_equal(str(out, "type"), "tool.ssh_exec.result");
		assert_string_equal(str(out, "outcome"), "interrupted");
		assert_string_equal(str(out, "actor"), "bot:ci");
		assert_string_equal(str(out, "source"), "192.0.2.7");
		assert_string_equal(str(d, "call_id"), i == 0 ? "open1" : "open5");
		assert_string_equal(str(d, "status"), "interrupted");
		assert_int_equal((int64_t)num(d, "allowed_seq"), i == 0 ? 3 : 10);
		assert_string_equal(str(d, "host"), "web1");
		assert_string_equal(str(d, "command_sha256"), "c0ffee");
		assert_null(cJSON_GetObjectItemCaseSensitive(d, "command"));
		assert_non_null(strstr(str(d, "reason"), "stopped before"));
	}
	cJSON_Delete(ev);

	/* Again over the same events: the outcomes above close those calls. */
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 13);
	assert_int_equal(aud_recover(f->st, T0 + 6, 2, "again", &res), 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(res.scanned, 11);
	ev = events_after(f->st, head);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "type"), "broker.recover");
	cJSON_Delete(ev);

	assert_int_equal(aud_verify(f->st, &vr), 0);
	assert_int_equal(vr.checked, 14);
}

static void test_empty_and_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	int64_t head = -1;

	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 0);
	assert_int_equal(aud_recover(f->st, T0, 0, "nothing ran", &res), 0);
	assert_int_equal(res.scanned, 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 1);
	assert_int_equal(aud_recover(NULL, T0, 0, "x", NULL), ZT_ERR_INVALID);
	assert_int_equal(aud_recover(f->st, T0, 0, NULL, NULL), ZT_ERR_INVALID);
}

/* More decisions open at once than are tracked: counted, never a crash,
 * and those that are tracked are still closed. */
static void test_too_many_open(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	char id[32];

	for (int i = 0; i < AUD_RECOVER_CALLS_MAX + 3; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		event(f->st, "tool.ssh_exec", "allowed", id);
	}
	assert_int_equal(aud_recover(f->st, T0, 0, "many", &res), 0);
	assert_int_equal(res.closed, AUD_RECOVER_CALLS_MAX);
	assert_int_equal(res.unchecked, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_closes_open_calls_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_open, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
