/*
 * proc_test.c - unit test for common/proc: after proc_harden() the process
 * is not dumpable and its core file size limit, soft and hard, is 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "common/proc.h"

static void test_harden(void **state)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	(void)state;
	/* Start from the opposite, as a shell with ulimit -c unlimited would. */
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_CORE, &rl), 0);

	assert_int_equal(proc_harden(), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	/* Calling it again is harmless. */
	assert_int_equal(proc_harden(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_harden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
