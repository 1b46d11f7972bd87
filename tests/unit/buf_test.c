/*
 * buf_test.c - unit tests for common/buf: limits, all-or-nothing reads and
 * writes, byte order, C-string checks and nested strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"

static void test_put_past_max_leaves_unchanged(void **state)
{
	struct buf *b = buf_new(8);
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_max(b), 8);
	assert_int_equal(buf_put(b, "abcdef", 6), 0);
	assert_int_equal(buf_put(b, "xyz", 3), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), 6);
	assert_memory_equal(buf_ptr(b), "abcdef", 6);
	assert_int_equal(buf_put_u32(b, 1), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_put_string(b, "a", 1), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_putf(b, "%d", 123), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), 6);
	assert_int_equal(buf_put(b, "gh", 2), 0);
	assert_int_equal(buf_len(b), 8);
	assert_int_equal(buf_put_u8(b, 0), ZT_ERR_TOO_LARGE);
	assert_memory_equal(buf_ptr(b), "abcdefgh", 8);
	/* Consuming frees room under the limit again. */
	assert_int_equal(buf_consume(b, 3), 0);
	assert_int_equal(buf_put(b, "ijk", 3), 0);
	assert_memory_equal(buf_ptr(b), "defghijk", 8);
	buf_free(b);
}

static void test_growth(void **state)
{
	struct buf *b = buf_new(100000);
	uint8_t chunk[1000];
	size_t i;
	(void)state;

	assert_non_null(b);
	for (i = 0; i < 100; i++) {
		memset(chunk, (int)i, sizeof(chunk));
		assert_int_equal(buf_put(b, chunk, sizeof(chunk)), 0);
	}
	assert_int_equal(buf_len(b), 100000);
	assert_int_equal(buf_put_u8(b, 1), ZT_ERR_TOO_LARGE);
	for (i = 0; i < 100; i++) {
		assert_int_equal(buf_get_bytes(b, chunk, sizeof(chunk)), 0);
		assert_int_equal(chunk[0], (uint8_t)i);
		assert_int_equal(chunk[999], (uint8_t)i);
	}
	assert_int_equal(buf_get_end(b), 0);
	buf_free(b);
}

static void test_truncated_reads_consume_nothing(void **state)
{
	static const uint8_t in[] = { 0x00, 0x00, 0x00, 0x05, 'a', 'b' };
	struct buf *b = buf_from(in, sizeof(in));
	const uint8_t *p = NULL;
	uint64_t v64 = 0;
	uint8_t out[8];
	char *s = NULL;
	struct buf *nb = NULL;
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_get_u64(b, &v64), ZT_ERR_TRUNCATED);
	assert_int_equal(buf_get_bytes(b, out, 7), ZT_ERR_TRUNCATED);
	assert_int_equal(buf_consume(b, 7), ZT_ERR_TRUNCATED);
	assert_int_equal(buf_get_string_peek(b, &p, NULL), ZT_ERR_TRUNCATED);
	assert_int_equal(buf_get_cstring(b, 100, &s, NULL), ZT_ERR_TRUNCATED);
	assert_null(s);
	assert_int_equal(buf_get_stringb(b, &nb), ZT_ERR_TRUNCATED);
	assert_null(nb);
	assert_int_equal(buf_len(b), sizeof(in));
	assert_int_equal(buf_get_end(b), ZT_ERR_TRAILING);
	assert_int_equal(buf_get_bytes(b, out, 6), 0);
	assert_int_equal(buf_get_end(b), 0);
	assert_int_equal(buf_get_u8(b, out), ZT_ERR_TRUNCATED);
	buf_free(b);
}

static void test_big_endian(void **state)
{
	static const uint8_t want[] = { 0x7f, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44,
		0x55, 0x66, 0x77, 0x88 };
	struct buf *b = buf_new(64);
	uint8_t v8 = 0;
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_put_u8(b, 0x7f), 0);
	assert_int_equal(buf_put_u32(b, 0x01020304u), 0);
	assert_int_equal(buf_put_u64(b, 0x1122334455667788ull), 0);
	assert_int_equal(buf_len(b), sizeof(want));
	assert_memory_equal(buf_ptr(b), want, sizeof(want));
	assert_int_equal(buf_get_u8(b, &v8), 0);
	assert_int_equal(buf_get_u32(b, &v32), 0);
	assert_int_equal(buf_get_u64(b, &v64), 0);
	assert_int_equal(v8, 0x7f);
	assert_int_equal(v32, 0x01020304u);
	assert_true(v64 == 0x1122334455667788ull);
	assert_int_equal(buf_get_end(b), 0);
	buf_free(b);
}

static void test_cstring(void **state)
{
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	static const uint8_t ok[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0xff };
	struct buf *b = NULL;
	char *s = NULL;
	size_t len = 0;
	(void)state;

	b = buf_from(nul, sizeof(nul));
	assert_non_null(b);
	assert_int_equal(buf_get_cstring(b, 100, &s, &len), ZT_ERR_EMBEDDED_NUL);
	assert_null(s);
	assert_int_equal(buf_len(b), sizeof(nul));
	buf_free(b);

	b = buf_from(ok, sizeof(ok));
	assert_non_null(b);
	assert_int_equal(buf_get_cstring(b, 4, &s, &len), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), sizeof(ok));
	assert_int_equal(buf_get_cstring(b, 5, &s, &len), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	free(s);
	/* One byte left over. */
	assert_int_equal(buf_get_end(b), ZT_ERR_TRAILING);
	buf_free(b);
}

static void test_string_round_trip(void **state)
{
	struct buf *b = buf_new(1024);
	const uint8_t *p = NULL;
	size_t n = 0;
	char *s = NULL;
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_put_cstring(b, "ssh-ed25519"), 0);
	assert_int_equal(buf_put_string(b, "\0\1\2", 3), 0);
	assert_int_equal(buf_put_string(b, NULL, 0), 0);
	assert_int_equal(buf_putf(b, "%s=%d", "x", 42), 0);
	assert_int_equal(buf_get_cstring(b, 64, &s, NULL), 0);
	assert_string_equal(s, "ssh-ed25519");
	free(s);
	assert_int_equal(buf_get_string_peek(b, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "\0\1\2", 3);
	assert_int_equal(buf_get_string_peek(b, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(buf_dup_cstring(b, &s), 0);
	assert_string_equal(s, "x=42");
	free(s);
	assert_int_equal(buf_consume(b, 4), 0);
	assert_int_equal(buf_get_end(b), 0);
	buf_reset(b);
	assert_int_equal(buf_len(b), 0);
	buf_free(b);
}

static void test_dup_cstring_refuses_nul(void **state)
{
	struct buf *b = buf_from("ab\0c", 4);
	char *s = NULL;
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_dup_cstring(b, &s), ZT_ERR_EMBEDDED_NUL);
	assert_null(s);
	buf_free(b);
}

static void test_readonly_refuses_puts(void **state)
{
	struct buf *b = buf_from("abc", 3);
	(void)state;

	assert_non_null(b);
	assert_int_equal(buf_put(b, "d", 1), ZT_ERR_INVALID);
	assert_int_equal(buf_put_u8(b, 1), ZT_ERR_INVALID);
	assert_int_equal(buf_put_u32(b, 1), ZT_ERR_INVALID);
	assert_int_equal(buf_put_u64(b, 1), ZT_ERR_INVALID);
	assert_int_equal(buf_put_cstring(b, "x"), ZT_ERR_INVALID);
	assert_int_equal(buf_putf(b, "x"), ZT_ERR_INVALID);
	assert_int_equal(buf_len(b), 3);
	assert_memory_equal(buf_ptr(b), "abc", 3);
	buf_free(b);
}

static void test_nested_stringb(void **state)
{
	struct buf *outer = buf_new(256), *inner = NULL, *in2 = NULL;
	struct buf *rd = NULL, *nb = NULL, *nb2 = NULL;
	uint32_t v = 0;
	char *s = NULL;
	(void)state;

	assert_non_null(outer);
	inner = buf_new(64);
	in2 = buf_new(64);
	assert_non_null(inner);
	assert_non_null(in2);
	assert_int_equal(buf_put_cstring(in2, "deep"), 0);
	assert_int_equal(buf_put_u32(inner, 77), 0);
	assert_int_equal(buf_put_string(inner, buf_ptr(in2), buf_len(in2)), 0);
	assert_int_equal(buf_put_string(outer, buf_ptr(inner), buf_len(inner)), 0);
	assert_int_equal(buf_put_u8(outer, 9), 0);

	rd = buf_from(buf_ptr(outer), buf_len(outer));
	assert_non_null(rd);
	assert_int_equal(buf_get_stringb(rd, &nb), 0);
	assert_int_equal(buf_len(nb), buf_len(inner));
	assert_int_equal(buf_put_u8(nb, 1), ZT_ERR_INVALID);
	assert_int_equal(buf_get_u32(nb, &v), 0);
	assert_int_equal(v, 77);
	assert_int_equal(buf_get_stringb(nb, &nb2), 0);
	assert_int_equal(buf_get_cstring(nb2, 16, &s, NULL), 0);
	assert_string_equal(s, "deep");
	free(s);
	assert_int_equal(buf_get_end(nb2), 0);
	assert_int_equal(buf_get_end(nb), 0);
	/* The outer buffer still has its trailing byte. */
	assert_int_equal(buf_get_end(rd), ZT_ERR_TRAILING);
	buf_free(nb2);
	buf_free(nb);
	buf_free(rd);
	buf_free(in2);
	buf_free(inner);
	buf_free(outer);
}

static void test_free_null(void **state)
{
	(void)state;
	buf_free(NULL);
	assert_int_equal(buf_len(NULL), 0);
	assert_int_equal(buf_put(NULL, "a", 1), ZT_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_past_max_leaves_unchanged),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_truncated_reads_consume_nothing),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_cstring),
		cmocka_unit_test(test_string_round_trip),
		cmocka_unit_test(test_dup_cstring_refuses_nul),
		cmocka_unit_test(test_readonly_refuses_puts),
		cmocka_unit_test(test_nested_stringb),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
