/*
 * brk_httphdr_test.c - the header parsers the MCP transport and the API
 * act on: origins compared by scheme, host and port; media types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_httphdr.h"
#include "common/err.h"

static void test_origin_parts(void **state)
{
	struct brk_origin o;

	(void)state;
	assert_int_equal(brk_hdr_origin("https://Zt.Example.com:8443", &o), 0);
	assert_string_equal(o.scheme, "https");
	assert_string_equal(o.host, "zt.example.com");
	assert_int_equal(o.port, 8443);
	assert_int_equal(brk_hdr_origin("HTTP://localhost", &o), 0);
	assert_string_equal(o.scheme, "http");
	assert_int_equal(o.port, 80);
	assert_int_equal(brk_hdr_origin("https://[::1]:9", &o), 0);
	assert_string_equal(o.host, "[::1]");
	assert_int_equal(o.port, 9);
	assert_int_equal(brk_hdr_origin("https://[::1]", &o), 0);
	assert_int_equal(o.port, 443);
	/* Not origins: other schemes, paths, userinfo, bad ports. */
	static const char *const bad[] = {
		"ftp://a.example", "https://a.example/", "https://u@a.example",
		"https://a.example:", "https://a.example:0", "https://a.example:65536",
		"https://a.example:80:81", "https://a.example:+8", "https://a.example:123456",
		"https://", "a.example", "null", "https://[::1", "https://[::1]x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(brk_hdr_origin(bad[i], &o), ZT_ERR_INVALID);
	}
	assert_int_equal(brk_hdr_origin(NULL, &o), ZT_ERR_INVALID);
}

static void test_same_origin(void **state)
{
	(void)state;
	assert_true(brk_hdr_same_origin("https://localhost:8443", "https://LOCALHOST:8443"));
	assert_true(brk_hdr_same_origin("https://app.example.com", "https://app.example.com:443"));
	assert_true(brk_hdr_same_origin("http://a.example:80", "HTTP://a.example"));
	/* Scheme, host and port each count. */
	assert_false(brk_hdr_same_origin("https://localhost:8443", "http://localhost:8443"));
	assert_false(brk_hdr_same_origin("https://localhost:8443", "https://localhost:31337"));
	assert_false(brk_hdr_same_origin("https://localhost:8443", "https://127.0.0.1:8443"));
	assert_false(brk_hdr_same_origin("https://app.example.com",
	    "https://app.example.com.evil.example"));
	assert_false(brk_hdr_same_origin("https://app.example.com", "null"));
}

static void test_media_type(void **state)
{
	(void)state;
	assert_true(brk_hdr_media_type_is("application/json", "application/json"));
	assert_true(brk_hdr_media_type_is("Application/JSON", "application/json"));
	assert_true(brk_hdr_media_type_is("application/json; charset=utf-8", "application/json"));
	assert_true(brk_hdr_media_type_is("application/json ;charset=utf-8", "application/json"));
	assert_false(brk_hdr_media_type_is("application/jsonx", "application/json"));
	assert_false(brk_hdr_media_type_is("application/json x", "application/json"));
	assert_false(brk_hdr_media_type_is("application/json-seq", "application/json"));
	assert_false(brk_hdr_media_type_is("text/plain", "application/json"));
	assert_false(brk_hdr_media_type_is("", "application/json"));
	assert_false(brk_hdr_media_type_is(NULL, "application/json"));
}

static void test_content_length(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(brk_hdr_content_length("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(brk_hdr_content_length("33554432", &v), 0);
	assert_int_equal(v, 33554432);
	assert_int_equal(brk_hdr_content_length("9999999999999999999", &v), 0);
	assert_true(v == 9999999999999999999ULL);
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1e3",
	    "12345678901234567890" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(brk_hdr_content_length(bad[i], &v), ZT_ERR_INVALID);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_parts),
		cmocka_unit_test(test_same_origin),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_content_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
