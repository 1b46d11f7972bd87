/*
 * brk_console_test.c - which embedded file a console path names: "/" is
 * index.html, /assets/NAME an exact name of the table, nothing else (no
 * path is built from the URL); every file has its Content-Type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_console.h"

static void test_find(void **state)
{
	static const char *const none[] = {
		"/assets/", "/assets/nope.js", "/assets/../Makefile", "/assets//js/app.js",
		"/assets/index.html", "/index.html", "", "/assetsjs/app.js", "/assets/js/app.js/",
		"/assets/JS/APP.JS",
	};
	const struct brk_console_asset *a;

	(void)state;
	assert_non_null(a = brk_console_find("/"));
	assert_string_equal(a->name, "index.html");
	assert_string_equal(a->type, "text/html; charset=utf-8");
	assert_non_null(a = brk_console_find("/assets/js/app.js"));
	assert_string_equal(a->type, "text/javascript; charset=utf-8");
	assert_non_null(a = brk_console_find("/assets/console.css"));
	assert_string_equal(a->type, "text/css; charset=utf-8");
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_null(brk_console_find(none[i]));
	}
	assert_true(brk_console_path("/"));
	assert_true(brk_console_path("/assets/x"));
	assert_false(brk_console_path("/v1/hosts"));
	assert_false(brk_console_path("/approvex"));
}

/* /approve/ID: exactly 32 lower-case hex digits, nothing after. */
static void test_approval(void **state)
{
	static const char *const none[] = {
		"/approve/", "/approve/xyz", "/approve/0123456789abcdef0123456789abcde",
		"/approve/0123456789abcdef0123456789abcdef/login",
		"/approve/0123456789abcdef0123456789abcdef0", "/approve/0123456789ABCDEF0123456789abcdef",
		"/approve0123456789abcdef0123456789abcdef", "/v1/approve/0123456789abcdef0123456789abcdef",
	};
	char id[33];

	(void)state;
	assert_int_equal(brk_console_approval("/approve/0123456789abcdef0123456789abcdef", id), 0);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_true(brk_console_path("/approve/x"));
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_not_equal(brk_console_approval(none[i], id), 0);
	}
}

static void test_table(void **state)
{
	size_t n = 0;

	(void)state;
	for (const struct brk_console_asset *a = brk_console_assets; a->name != NULL; a++, n++) {
		assert_non_null(a->type);
		assert_true(a->len > 0);
		/* The page carries no inline script or style (CSP 'self' only). */
		if (strcmp(a->name, "index.html") == 0) {
			assert_null(memmem(a->data, a->len, "<style", 6));
			assert_null(memmem(a->data, a->len, " style=", 7));
		}
	}
	assert_true(n >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_approval),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
