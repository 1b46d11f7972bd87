/*
 * cli_out_test.c - text from the broker made safe to print: control bytes
 * cleaned, and labels shown only as labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_out.h"
#include "tunnel/tun.h"

static void test_clean(void **state)
{
	char out[8];

	(void)state;
	assert_string_equal(cli_clean("a\x1b[2Jb", 0, out, sizeof(out)), "a?[2Jb");
	assert_string_equal(cli_clean("a\nb", 1, out, sizeof(out)), "a\nb");
	assert_string_equal(cli_clean("a\nb", 0, out, sizeof(out)), "a?b");
	assert_string_equal(cli_clean("0123456789", 0, out, sizeof(out)), "0123456");
}

/* An answer's labels as people read them; what labels cannot hold (an
 * escape sequence, a non-string) is not printed. */
static void test_labels(void **state)
{
	static const struct {
		const char *entry, *shown;
	} cases[] = {
		{ "{\"labels\":{\"env\":\"prod\",\"team\":\"web\"}}", "env=prod,team=web" },
		{ "{\"labels\":{}}", "" },
		{ "{\"name\":\"web1\"}", "" },
		{ "{\"labels\":{\"env\":\"\\u001b[2J\"}}", "?" },
		{ "{\"labels\":{\"env\":1}}", "?" },
		{ "{\"labels\":[\"env=prod\"]}", "?" },
	};
	char out[TUN_LABELS_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *e = cJSON_Parse(cases[i].entry);

		assert_non_null(e);
		assert_string_equal(cli_labels(e, out, sizeof(out)), cases[i].shown);
		cJSON_Delete(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests_name("cli_out", tests, NULL, NULL);
}
