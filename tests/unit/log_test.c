/*
 * log_test.c - unit tests for common/log: one call is one line whatever its
 * arguments hold (newlines, terminal escapes, C1 controls, bytes that are
 * not UTF-8 are written escaped), and over-long lines are cut visibly.
 * stderr is captured through a pipe while a test logs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"

/* Enough for every line a test writes; a pipe holds 64 KiB unread. */
#define CAPTURE_MAX (4 * LOG_LINE_MAX)

struct capture {
	int pipe[2];
	int saved;
};

static void capture_start(struct capture *c)
{
	assert_int_equal(pipe(c->pipe), 0);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(c->pipe[1], STDERR_FILENO) >= 0);
	close(c->pipe[1]);
}

/* Restores stderr and returns what was written, NUL-terminated, in out. */
static size_t capture_end(struct capture *c, char *out, size_t outsz)
{
	size_t n = 0;
	ssize_t r;

	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	while (n + 1 < outsz && (r = read(c->pipe[0], out + n, outsz - 1 - n)) > 0) {
		n += (size_t)r;
	}
	close(c->pipe[0]);
	out[n] = '\0';
	return n;
}

/* The message part of a captured line (after "file:line: "). */
static const char *message(const char *line)
{
	const char *p = strstr(line, "log_test.c:");

	assert_non_null(p);
	p = strstr(p, ": ");
	assert_non_null(p);
	return p + 2;
}

/* Exactly one line: no byte below 0x20 or DEL but the final newline. */
static void assert_one_line(const char *s, size_t n)
{
	assert_true(n > 0);
	assert_int_equal(s[n - 1], '\n');
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			fail_msg("control byte 0x%02x at %zu in %s", c, i, s);
		}
	}
}

static void test_forged_lines_and_escapes(void **state)
{
	struct capture c;
	char out[CAPTURE_MAX];
	size_t n;

	(void)state;
	capture_start(&c);
	log_info("%s %s %d from %s", "GET", "/v1/x\nforged\x1b[31m", 404, "127.0.0.1");
	n = capture_end(&c, out, sizeof(out));
	assert_one_line(out, n);
	assert_string_equal(message(out), "GET /v1/x\\nforged\\x1b[31m 404 from 127.0.0.1\n");
}

static void test_every_kind_of_byte(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\r\nb\tc", "a\\r\\nb\\tc" },
		{ "nul-free C0 \x01\x1f and DEL \x7f", "nul-free C0 \\x01\\x1f and DEL \\x7f" },
		/* U+009B is CSI to terminals that obey C1 controls. */
		{ "C1 \xc2\x9b" "31m, U+00A0 \xc2\xa0", "C1 \\xc2\\x9b31m, U+00A0 \xc2\xa0" },
		{ "UTF-8 stays: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
		  "UTF-8 stays: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		{ "not UTF-8: \xff \xc3( \xed\xa0\x80 \xc0\xaf",
		  "not UTF-8: \\xff \\xc3( \\xed\\xa0\\x80 \\xc0\\xaf" },
		{ "a cut sequence \xe2\x82", "a cut sequence \\xe2\\x82" },
		{ "backslashes \\n stay", "backslashes \\n stay" },
		{ "one trailing newline goes\n", "one trailing newline goes" },
		{ "two\n\n", "two\\n" },
	};
	struct capture c;
	char out[CAPTURE_MAX], want[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capture_start(&c);
		log_warn("%s", cases[i].in);
		n = capture_end(&c, out, sizeof(out));
		assert_one_line(out, n);
		snprintf(want, sizeof(want), "%s\n", cases[i].out);
		assert_string_equal(message(out), want);
	}
}

static void test_long_lines_are_cut_visibly(void **state)
{
	static char big[3 * LOG_MSG_MAX];
	struct capture c;
	char out[CAPTURE_MAX];
	const char *m;
	size_t n;

	(void)state;
	/* Longer than a message: cut, and says so. */
	memset(big, 'a', sizeof(big) - 1);
	capture_start(&c);
	log_error("%s", big);
	n = capture_end(&c, out, sizeof(out));
	assert_one_line(out, n);
	assert_true(n <= LOG_LINE_MAX);
	m = message(out);
	assert_int_equal(strlen(m), LOG_MSG_MAX - 1 + 3 + 1);
	assert_string_equal(out + n - 4, "...\n");

	/* Escaping makes the line too long: cut between two escapes, never in
	 * one, and still a single line of at most LOG_LINE_MAX bytes. */
	memset(big, 0x01, LOG_MSG_MAX - 1);
	big[LOG_MSG_MAX - 1] = '\0';
	capture_start(&c);
	log_error("%s", big);
	n = capture_end(&c, out, sizeof(out));
	assert_one_line(out, n);
	assert_true(n <= LOG_LINE_MAX);
	assert_string_equal(out + n - 8, "\\x01...\n");
	m = message(out);
	assert_int_equal((strlen(m) - 4) % 4, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forged_lines_and_escapes),
		cmocka_unit_test(test_every_kind_of_byte),
		cmocka_unit_test(test_long_lines_are_cut_visibly),
	};

	log_init("zt-test", ZT_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
