/*
 * dur_test.c - durations as people type them, and back; times in
 * milliseconds as the audit and the tasks of MCP write them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dur.h"
#include "common/err.h"

static void test_format_reads_back(void **state)
{
	static const struct {
		int64_t s;
		const char *text;
	} cases[] = {
		{ 0, "0s" }, { 45, "45s" }, { 60, "1m" }, { 5400, "90m" }, { 28800, "8h" },
		{ 604800, "7d" }, { 86401, "86401s" },
	};
	char out[32];
	int64_t back = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dur_format(cases[i].s, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].text);
		assert_int_equal(dur_parse(out, 0, INT64_MAX, &back), 0);
		assert_int_equal(back, cases[i].s);
	}
	assert_int_equal(dur_format(-1, out, sizeof(out)), ZT_ERR_INVALID);
	assert_int_equal(dur_format(28800, out, 2), ZT_ERR_INVALID);
}

static void test_time_ms(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(dur_format_time_ms(1795532645123, out, sizeof(out)), 0);
	assert_string_equal(out, "2026-11-24T15:04:05.123Z");
	assert_int_equal(dur_format_time_ms(1795532645007, out, sizeof(out)), 0);
	assert_string_equal(out, "2026-11-24T15:04:05.007Z");
	/* Before 1970 the fraction still counts up from the second before. */
	assert_int_equal(dur_format_time_ms(-1, out, sizeof(out)), 0);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	assert_int_equal(dur_format_time_ms(0, out, 24), ZT_ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_reads_back),
		cmocka_unit_test(test_time_ms),
	};

	return cmocka_run_group_tests_name("dur", tests, NULL, NULL);
}
