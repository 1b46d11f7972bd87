/*
 * brk_quota_test.c - per-key and total bounds, giving back, forgetting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_quota.h"
#include "common/err.h"

static void test_per_key_bound(void **state)
{
	struct brk_quota *q = brk_quota_new(3, 100);

	(void)state;
	assert_non_null(q);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(brk_quota_take(q, "a:192.0.2.1"), 0);
	}
	assert_int_equal(brk_quota_take(q, "a:192.0.2.1"), ZT_ERR_RATE_LIMITED);
	/* Another key has its own share. */
	assert_int_equal(brk_quota_take(q, "a:192.0.2.2"), 0);
	assert_int_equal(brk_quota_held(q, "a:192.0.2.1"), 3);
	assert_int_equal(brk_quota_total(q), 4);
	/* A unit given back can be taken again. */
	brk_quota_give(q, "a:192.0.2.1");
	assert_int_equal(brk_quota_take(q, "a:192.0.2.1"), 0);
	brk_quota_free(q);
	/* A key at its share when the total is reached too is told it is at
	 * its share: that is what it can act on. */
	q = brk_quota_new(2, 2);
	assert_non_null(q);
	assert_int_equal(brk_quota_take(q, "k"), 0);
	assert_int_equal(brk_quota_take(q, "k"), 0);
	assert_int_equal(brk_quota_take(q, "k"), ZT_ERR_RATE_LIMITED);
	assert_int_equal(brk_quota_take(q, "other"), ZT_ERR_BUSY);
	brk_quota_free(q);
}

static void test_total_bound(void **state)
{
	struct brk_quota *q = brk_quota_new(2, 5);
	char key[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(brk_quota_take(q, key), 0);
	}
	/* Many keys cannot take more than the total either; a key below its
	 * share learns that the total is to blame, not itself. */
	assert_int_equal(brk_quota_take(q, "k9"), ZT_ERR_BUSY);
	assert_int_equal(brk_quota_take(q, "k0"), ZT_ERR_BUSY);
	assert_int_equal(brk_quota_held(q, "k9"), 0);
	brk_quota_give(q, "k3");
	assert_int_equal(brk_quota_held(q, "k3"), 0);
	assert_int_equal(brk_quota_take(q, "k9"), 0);
	brk_quota_free(q);
}

static void test_keys_forgotten_and_bad_keys(void **state)
{
	struct brk_quota *q = brk_quota_new(1, 1);
	char big[BRK_QUOTA_KEY_MAX + 2];

	(void)state;
	/* With a total of one, thousands of keys in turn all fit: a key that
	 * holds nothing takes no room. */
	for (int i = 0; i < 5000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "i:%d", i);
		assert_int_equal(brk_quota_take(q, key), 0);
		brk_quota_give(q, key);
	}
	assert_int_equal(brk_quota_total(q), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(brk_quota_take(q, big), ZT_ERR_INVALID);
	assert_int_equal(brk_quota_take(q, ""), ZT_ERR_INVALID);
	assert_int_equal(brk_quota_total(q), 0);
	/* Giving back what was never taken changes nothing. */
	brk_quota_give(q, "never");
	assert_int_equal(brk_quota_total(q), 0);
	assert_null(brk_quota_new(0, 1));
	assert_null(brk_quota_new(2, 1));
	brk_quota_free(q);
	brk_quota_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_key_bound),
		cmocka_unit_test(test_total_bound),
		cmocka_unit_test(test_keys_forgotten_and_bad_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
