/*
 * brk_limit_test.c - failure counting: the step (take before the work,
 * then fail, give back or clear), blocking, windows, and tables that keep
 * one purpose each, never evict a running block, reuse lapsed counts
 * first, and never forget an unknown name's live count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "broker/brk_limit.h"
#include "broker/brk_quota.h"
#include "common/err.h"

static const struct brk_limit_rule rule5 = { 5, 900, 900 };

/* A failed attempt: taken, then failed. Returns FAIL's value. */
static int fail_once(struct brk_limit *l, const char *key, int64_t now)
{
	int64_t retry = 0;

	assert_int_equal(brk_limit_apply(l, key, BRK_LIMIT_TAKE, now, &retry), 0);
	return brk_limit_apply(l, key, BRK_LIMIT_FAIL, now, NULL);
}

/* One failed attempt of each of n keys, prefix then two numbers, at now;
 * an attempt refused (a block, the overflow's) is not made. */
static void flood(struct brk_limit *l, const char *prefix, int n, int64_t now)
{
	char key[32];
	int64_t retry = 0;

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s%d.%d", prefix, i / 256, i % 256);
		if (brk_limit_apply(l, key, BRK_LIMIT_TAKE, now, &retry) == 0) {
			brk_limit_apply(l, key, BRK_LIMIT_FAIL, now, NULL);
		}
	}
}

/* A user name's failures at now: as many as pass, then the one that
 * blocks it. */
static void name_blocks_at_its_limit(struct brk_limit *l, const char *name, int64_t now)
{
	for (int i = 0; i < BRK_LOGIN_MAX_USER - 1; i++) {
		assert_int_equal(fail_once(l, name, now), 0);
	}
	assert_int_equal(fail_once(l, name, now), 1);
}

/* 4 failures of the user name "nobody" at 100, then 5,000 keys of prefix
 * failing once each in every table of flooded at 101, within the name's
 * window: the name's 5th failure still blocks it, and its next attempt
 * is refused. */
static void name_outlives_flood(struct brk_limits *ls, struct brk_limit *const *flooded,
    size_t n, const char *prefix)
{
	int64_t retry = 0;

	for (int i = 0; i < BRK_LOGIN_MAX_USER - 1; i++) {
		assert_int_equal(fail_once(ls->login_name, "nobody", 100), 0);
	}
	for (size_t k = 0; k < n; k++) {
		flood(flooded[k], prefix, 5000, 101);
	}
	assert_int_equal(fail_once(ls->login_name, "nobody", 102), 1);
	assert_int_equal(brk_limit_apply(ls->login_name, "nobody", BRK_LIMIT_TAKE, 103, &retry),
	    ZT_ERR_RATE_LIMITED);
}

static void test_blocks_after_max_failures(void **state)
{
	struct brk_limit *l = brk_limit_new(&rule5, BRK_LIMIT_EVICT);
	int64_t retry = 0;

	(void)state;
	assert_non_null(l);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fail_once(l, "bob", 1000 + i), 0);
	}
	assert_int_equal(fail_once(l, "bob", 1010), 1);
	assert_int_equal(brk_limit_apply(l, "bob", BRK_LIMIT_TAKE, 1011, &retry),
	    ZT_ERR_RATE_LIMITED);
	assert_int_equal(retry, 899);
	/* Another key is unaffected; the block ends on time. */
	assert_int_equal(brk_limit_apply(l, "alice", BRK_LIMIT_TAKE, 1011, &retry), 0);
	assert_int_equal(brk_limit_apply(l, "bob", BRK_LIMIT_TAKE, 1910, &retry), 0);
	brk_limit_free(l);
}

/* Attempts are counted when they start: a sixth one while five are in
 * flight is refused before any of them finished. */
static void test_take_counts_before_the_work(void **state)
{
	struct store_fail_count c = { 0, 0, 0 };
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_TAKE, 100, &retry), 0);
	}
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_TAKE, 100, &retry),
	    ZT_ERR_RATE_LIMITED);
	assert_int_equal(retry, 900);
	/* One attempt was not made after all: its place is free again. */
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_GIVE, 100, NULL), 0);
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_TAKE, 100, &retry), 0);
	/* The first failure of a full count starts the block, once. */
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_FAIL, 101, NULL), 1);
	assert_int_equal(c.blocked_until, 1001);
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_FAIL, 101, NULL), 0);
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_TAKE, 101, &retry),
	    ZT_ERR_RATE_LIMITED);
	assert_int_equal(retry, 900);
	/* A give-back never goes below zero. */
	c.failures = 0;
	assert_int_equal(brk_limit_count(&c, &rule5, BRK_LIMIT_GIVE, 101, NULL), 0);
	assert_int_equal(c.failures, 0);
}

static void test_window_resets(void **state)
{
	struct brk_limit *l = brk_limit_new(&rule5, BRK_LIMIT_EVICT);

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fail_once(l, "1.2.3.4", 1000), 0);
	}
	/* The fifth failure comes after the window: counting starts again. */
	assert_int_equal(fail_once(l, "1.2.3.4", 2000), 0);
	brk_limit_free(l);
}

static void test_clear_keeps_running_block(void **state)
{
	static const struct brk_limit_rule rule3 = { 3, 900, 60 };
	struct brk_limit *l = brk_limit_new(&rule3, BRK_LIMIT_EVICT);
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		fail_once(l, "c", 100);
	}
	assert_int_equal(brk_limit_apply(l, "c", BRK_LIMIT_CLEAR, 100, NULL), 0);
	assert_int_equal(brk_limit_apply(l, "c", BRK_LIMIT_TAKE, 101, &retry),
	    ZT_ERR_RATE_LIMITED);
	fail_once(l, "d", 100);
	fail_once(l, "d", 100);
	assert_int_equal(brk_limit_apply(l, "d", BRK_LIMIT_CLEAR, 100, NULL), 0);
	assert_int_equal(fail_once(l, "d", 100), 0);
	/* Ops other than TAKE on an unknown key change nothing. */
	assert_int_equal(brk_limit_apply(l, "e", BRK_LIMIT_FAIL, 100, NULL), 0);
	assert_int_equal(brk_limit_apply(l, "e", BRK_LIMIT_GIVE, 100, NULL), 0);
	brk_limit_free(l);
}

static void test_table_full_never_evicts_blocks(void **state)
{
	static const struct brk_limit_rule rule1 = { 1, 900, 100000 };
	struct brk_limit *l = brk_limit_new(&rule1, BRK_LIMIT_EVICT);
	char key[32];
	int64_t retry = 0;

	(void)state;
	fail_once(l, "victim-block", 100);
	for (int i = 0; i < BRK_LIMIT_SLOTS * 2; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		brk_limit_apply(l, key, BRK_LIMIT_TAKE, 100 + i, &retry);
	}
	assert_int_equal(brk_limit_apply(l, "victim-block", BRK_LIMIT_TAKE, 9000, &retry),
	    ZT_ERR_RATE_LIMITED);
	brk_limit_free(l);
}

/* A full table takes the slot of a count that lapsed before any live one:
 * 4 failures of a key, then as many keys as the table holds, each given
 * back (nothing counted), and a new key does not push the first out. */
static void test_full_table_reuses_lapsed_counts(void **state)
{
	struct brk_limit *l = brk_limit_new(&rule5, BRK_LIMIT_EVICT);
	char key[32];
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fail_once(l, "victim", 100), 0);
	}
	for (int i = 0; i < BRK_LIMIT_SLOTS; i++) {
		snprintf(key, sizeof(key), "10.2.%d.%d", i / 256, i % 256);
		assert_int_equal(brk_limit_apply(l, key, BRK_LIMIT_TAKE, 200, &retry), 0);
		assert_int_equal(brk_limit_apply(l, key, BRK_LIMIT_GIVE, 200, NULL), 0);
	}
	assert_int_equal(brk_limit_apply(l, "newcomer", BRK_LIMIT_TAKE, 201, &retry), 0);
	assert_int_equal(fail_once(l, "victim", 202), 1);
	brk_limit_free(l);
}

/* An unknown name's live count is never pushed out, as a real name's is
 * not (it lives in the user's row): 4 failures of a name, then 5,000
 * other names failing once each within the window, and its 5th failure
 * still blocks it. The names past the table's room share one counter,
 * which blocks them sooner, never later; once their window is over their
 * counts lapse and a new name counts on its own again. */
static void test_names_are_never_forgotten(void **state)
{
	struct brk_limits ls;
	int64_t retry = 0;

	(void)state;
	assert_int_equal(brk_limits_init(&ls), 0);
	name_outlives_flood(&ls, &ls.login_name, 1, "name");
	/* No room for a new name's own count: the shared one, which the flood
	 * blocked. */
	assert_int_equal(brk_limit_apply(ls.login_name, "newcomer", BRK_LIMIT_TAKE, 104, &retry),
	    ZT_ERR_RATE_LIMITED);
	/* A window later the flood's counts have lapsed. */
	name_blocks_at_its_limit(ls.login_name, "newcomer", 101 + BRK_LOGIN_WINDOW_S);
	brk_limits_fini(&ls);
}

/* Each purpose has its table: 4 failures of a user name, then failures
 * and bad tokens from 5,000 addresses (more than a table holds), all
 * within the name's window; the name's 5th failure still blocks it, and
 * a new name still counts on its own (4 failures pass, the 5th blocks).
 * One table shared by the purposes fails either way: one that reuses slots
 * pushes the name out, one that never forgets a live count has no room
 * left for the new name but the overflow the addresses blocked. */
static void test_purposes_do_not_evict_each_other(void **state)
{
	struct brk_limits ls;

	(void)state;
	assert_int_equal(brk_limits_init(&ls), 0);
	name_outlives_flood(&ls, (struct brk_limit *const[]){ ls.token_addr, ls.login_addr }, 2,
	    "10.1.");
	name_blocks_at_its_limit(ls.login_name, "somebody", 104);
	/* One quota bounds the password checks of all callers together. */
	for (int i = 0; i < BRK_PW_CHECKS_MAX; i++) {
		assert_int_equal(brk_quota_take(ls.pw_checks, "scrypt"), 0);
	}
	assert_int_equal(brk_quota_take(ls.pw_checks, "scrypt"), ZT_ERR_RATE_LIMITED);
	for (int i = 0; i < BRK_PW_CHECKS_MAX; i++) {
		brk_quota_give(ls.pw_checks, "scrypt");
	}
	brk_limits_fini(&ls);
	brk_limits_fini(&ls);
}

static void test_bad_rules(void **state)
{
	static const struct brk_limit_rule zero = { 0, 900, 900 };

	(void)state;
	assert_null(brk_limit_new(&zero, BRK_LIMIT_EVICT));
	assert_null(brk_limit_new(NULL, BRK_LIMIT_EVICT));
	brk_limit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_after_max_failures),
		cmocka_unit_test(test_take_counts_before_the_work),
		cmocka_unit_test(test_window_resets),
		cmocka_unit_test(test_clear_keeps_running_block),
		cmocka_unit_test(test_table_full_never_evicts_blocks),
		cmocka_unit_test(test_full_table_reuses_lapsed_counts),
		cmocka_unit_test(test_names_are_never_forgotten),
		cmocka_unit_test(test_purposes_do_not_evict_each_other),
		cmocka_unit_test(test_bad_rules),
	};

	return cmocka_run_group_tests_name("brk_limit", tests, NULL, NULL);
}
