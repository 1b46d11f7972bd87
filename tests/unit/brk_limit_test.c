/*
 * brk_limit_test.c - failed-login counting and blocking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "broker/brk_limit.h"
#include "common/err.h"

static void test_blocks_after_max_failures(void **state)
{
	struct brk_limit *l = brk_limit_new();
	int64_t retry = 0;

	(void)state;
	assert_non_null(l);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(brk_limit_fail(l, "u:bob", 5, 900, 900, 1000 + i), 0);
		assert_int_equal(brk_limit_check(l, "u:bob", 1000 + i, &retry), 0);
	}
	assert_int_equal(brk_limit_fail(l, "u:bob", 5, 900, 900, 1010), 1);
	assert_int_equal(brk_limit_check(l, "u:bob", 1011, &retry), ZT_ERR_RATE_LIMITED);
	assert_int_equal(retry, 899);
	/* Another key is unaffected; the block ends on time. */
	assert_int_equal(brk_limit_check(l, "u:alice", 1011, &retry), 0);
	assert_int_equal(brk_limit_check(l, "u:bob", 1910, &retry), 0);
	brk_limit_free(l);
}

static void test_window_resets(void **state)
{
	struct brk_limit *l = brk_limit_new();
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		brk_limit_fail(l, "a:1.2.3.4", 5, 900, 900, 1000);
	}
	/* The fifth failure comes after the window: counting starts again. */
	assert_int_equal(brk_limit_fail(l, "a:1.2.3.4", 5, 900, 900, 2000), 0);
	assert_int_equal(brk_limit_check(l, "a:1.2.3.4", 2000, &retry), 0);
	brk_limit_free(l);
}

static void test_clear_keeps_running_block(void **state)
{
	struct brk_limit *l = brk_limit_new();
	int64_t retry = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		brk_limit_fail(l, "u:c", 3, 900, 60, 100);
	}
	brk_limit_clear(l, "u:c");
	assert_int_equal(brk_limit_check(l, "u:c", 101, &retry), ZT_ERR_RATE_LIMITED);
	brk_limit_fail(l, "u:d", 3, 900, 60, 100);
	brk_limit_fail(l, "u:d", 3, 900, 60, 100);
	brk_limit_clear(l, "u:d");
	assert_int_equal(brk_limit_fail(l, "u:d", 3, 900, 60, 100), 0);
	brk_limit_free(l);
}

static void test_table_full_never_evicts_blocks(void **state)
{
	struct brk_limit *l = brk_limit_new();
	char key[32];
	int64_t retry = 0;

	(void)state;
	brk_limit_fail(l, "u:victim-block", 1, 900, 100000, 100);
	for (int i = 0; i < BRK_LIMIT_SLOTS * 2; i++) {
		snprintf(key, sizeof(key), "a:10.0.%d.%d", i / 256, i % 256);
		brk_limit_fail(l, key, 5, 900, 900, 100 + i);
	}
	assert_int_equal(brk_limit_check(l, "u:victim-block", 9000, &retry), ZT_ERR_RATE_LIMITED);
	brk_limit_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_after_max_failures),
		cmocka_unit_test(test_window_resets),
		cmocka_unit_test(test_clear_keeps_running_block),
		cmocka_unit_test(test_table_full_never_evicts_blocks),
	};

	return cmocka_run_group_tests_name("brk_limit", tests, NULL, NULL);
}
