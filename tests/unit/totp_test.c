/*
 * totp_test.c - unit tests for common/totp: the RFC 6238 Appendix B and
 * RFC 4226 Appendix D vectors, the verification window and replay rule,
 * base32 against RFC 4648 vectors, and the otpauth:// URI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/totp.h"

static const uint8_t key20[] = "12345678901234567890";
static const uint8_t key32[] = "12345678901234567890123456789012";
static const uint8_t key64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

static void test_rfc6238_vectors(void **state)
{
	static const struct {
		int64_t t;
		uint32_t sha1, sha256, sha512;
	} v[] = {
		{ 59, 94287082, 46119246, 90693936 },
		{ 1111111109, 7081804, 68084774, 25091201 },
		{ 1111111111, 14050471, 67062674, 99943326 },
		{ 1234567890, 89005924, 91819424, 93441116 },
		{ 2000000000, 69279037, 90698825, 38618901 },
		{ 20000000000LL, 65353130, 77737706, 47863826 },
	};
	uint32_t code = 0;
	uint64_t step;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		step = (uint64_t)totp_step(v[i].t);
		assert_int_equal(totp_hotp("SHA1", key20, 20, step, 8, &code), 0);
		assert_int_equal(code, v[i].sha1);
		assert_int_equal(totp_hotp("SHA256", key32, 32, step, 8, &code), 0);
		assert_int_equal(code, v[i].sha256);
		assert_int_equal(totp_hotp("SHA512", key64, 64, step, 8, &code), 0);
		assert_int_equal(code, v[i].sha512);
	}
}

static void test_rfc4226_vectors(void **state)
{
	static const uint32_t want[] = { 755224, 287082, 359152, 969429, 338314, 254676, 287922,
		162583, 399871, 520489 };
	uint32_t code = 0;
	uint64_t c;
	(void)state;

	for (c = 0; c < 10; c++) {
		assert_int_equal(totp_hotp("SHA1", key20, 20, c, 6, &code), 0);
		assert_int_equal(code, want[c]);
	}
}

static void test_hotp_bad_args(void **state)
{
	uint32_t code = 0;
	(void)state;

	assert_int_equal(totp_hotp("SHA1", key20, 20, 0, 5, &code), ZT_ERR_INVALID);
	assert_int_equal(totp_hotp("SHA1", key20, 20, 0, 10, &code), ZT_ERR_INVALID);
	assert_int_equal(totp_hotp("MD5", key20, 20, 0, 6, &code), ZT_ERR_INVALID);
	assert_int_equal(totp_hotp("SHA1", key20, 20, 0, 9, &code), 0);
	assert_true(code < 1000000000u);
}

static void test_step(void **state)
{
	(void)state;
	assert_int_equal(totp_step(0), 0);
	assert_int_equal(totp_step(29), 0);
	assert_int_equal(totp_step(30), 1);
	assert_int_equal(totp_step(59), 1);
	assert_int_equal(totp_step(-1), -1);
	assert_int_equal(totp_step(-30), -1);
	assert_int_equal(totp_step(-31), -2);
}

/* The 6-digit SHA-1 code for a step, as text. */
static void code_at(int64_t step, char out[TOTP_DIGITS + 1])
{
	uint32_t v = 0;

	assert_int_equal(totp_hotp("SHA1", key20, 20, (uint64_t)step, TOTP_DIGITS, &v), 0);
	snprintf(out, TOTP_DIGITS + 1, "%06u", (unsigned)v);
}

static void test_verify_window(void **state)
{
	const int64_t now = 1111111111;
	const int64_t s = totp_step(now);
	char c[TOTP_DIGITS + 1];
	int64_t m = 0, d;
	(void)state;

	for (d = -1; d <= 1; d++) {
		code_at(s + d, c);
		m = 0;
		assert_int_equal(totp_verify(key20, 20, c, now, 0, &m), 0);
		assert_int_equal(m, s + d);
	}
	code_at(s + 2, c);
	assert_int_equal(totp_verify(key20, 20, c, now, 0, &m), ZT_ERR_AUTH);
	code_at(s - 2, c);
	assert_int_equal(totp_verify(key20, 20, c, now, 0, &m), ZT_ERR_AUTH);
	/* Same code, but the clock has moved on by two steps. */
	code_at(s, c);
	assert_int_equal(totp_verify(key20, 20, c, now + 2 * TOTP_STEP_S, 0, &m), ZT_ERR_AUTH);
}

static void test_verify_replay(void **state)
{
	const int64_t now = 1234567890;
	const int64_t s = totp_step(now);
	char c[TOTP_DIGITS + 1];
	int64_t m = 0;
	(void)state;

	code_at(s, c);
	assert_int_equal(totp_verify(key20, 20, c, now, 0, &m), 0);
	assert_int_equal(m, s);
	/* The same code again, within the same step. */
	assert_int_equal(totp_verify(key20, 20, c, now, m, &m), ZT_ERR_REPLAY);
	/* An older step's code once a newer one was used. */
	code_at(s - 1, c);
	assert_int_equal(totp_verify(key20, 20, c, now, s, &m), ZT_ERR_REPLAY);
	/* The next step's code is still fresh. */
	code_at(s + 1, c);
	assert_int_equal(totp_verify(key20, 20, c, now, s, &m), 0);
	assert_int_equal(m, s + 1);
	/* Once last_step is past the whole window, every right code is a replay. */
	assert_int_equal(totp_verify(key20, 20, c, now, s + 5, &m), ZT_ERR_REPLAY);
}

static void test_verify_malformed(void **state)
{
	static const char *const bad[] = { "", "12345", "1234567", "12345a", " 12345", "123456 ",
		"+12345", "-12345", "12 456", "１２３４５６", "12345\n" };
	char c[TOTP_DIGITS + 1];
	size_t i;
	int64_t m = 0;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(totp_verify(key20, 20, bad[i], 59, 0, &m), ZT_ERR_INVALID);
	}
	assert_int_equal(totp_verify(key20, 20, NULL, 59, 0, &m), ZT_ERR_INVALID);
	/* A right code with one character too many is still malformed. */
	code_at(totp_step(59), c);
	assert_int_equal(totp_verify(key20, 20, c, 59, 0, &m), 0);
	{
		char longer[TOTP_DIGITS + 2];

		snprintf(longer, sizeof(longer), "%s0", c);
		assert_int_equal(totp_verify(key20, 20, longer, 59, 0, &m), ZT_ERR_INVALID);
	}
}

static void test_base32(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB",
		"MZXW6YTBOI" };
	char out[TOTP_B32_MAX];
	uint8_t d[32];
	size_t i, n = 0;
	(void)state;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(totp_base32_encode((const uint8_t *)plain[i], strlen(plain[i]),
		    out, sizeof(out)), 0);
		assert_string_equal(out, enc[i]);
		assert_int_equal(totp_base32_decode(out, d, sizeof(d), &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
	}
	assert_int_equal(totp_base32_decode("mzxw 6ytb oi======", d, sizeof(d), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(d, "foobar", 6);
	assert_int_equal(totp_base32_encode(key20, 20, out, sizeof(out)), 0);
	assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	/* Digits 0, 1, 8, 9 are not in the alphabet; 1, 3 or 6 trailing
	 * symbols cannot encode whole bytes. */
	assert_int_equal(totp_base32_decode("MZXW0", d, sizeof(d), &n), ZT_ERR_INVALID);
	assert_int_equal(totp_base32_decode("MZXW8", d, sizeof(d), &n), ZT_ERR_INVALID);
	assert_int_equal(totp_base32_decode("M", d, sizeof(d), &n), ZT_ERR_INVALID);
	assert_int_equal(totp_base32_decode("MZX", d, sizeof(d), &n), ZT_ERR_INVALID);
	assert_int_equal(totp_base32_decode("MZXW6YTBO", d, sizeof(d), &n), ZT_ERR_INVALID);
	assert_int_equal(totp_base32_decode("MZXW6YTBOI", d, 5, &n), ZT_ERR_TOO_LARGE);
	assert_int_equal(totp_base32_encode((const uint8_t *)"foobar", 6, out, 10),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(totp_base32_encode((const uint8_t *)"foobar", 6, out, 11), 0);
}

static void test_uri(void **state)
{
	char out[TOTP_URI_MAX];
	(void)state;

	assert_int_equal(totp_uri("zt corp", "alice@example.com", key20, 20, out, sizeof(out)), 0);
	assert_string_equal(out, "otpauth://totp/zt%20corp:alice%40example.com"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=zt%20corp"
	    "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_uri("a:b&c", "x/y?z=1~._-", key20, 20, out, sizeof(out)), 0);
	assert_string_equal(out, "otpauth://totp/a%3Ab%26c:x%2Fy%3Fz%3D1~._-"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a%3Ab%26c"
	    "&algorithm=SHA1&digits=6&period=30");
	assert_int_equal(totp_uri("\xc3\xa9", "b", key20, 20, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "totp/%C3%A9:b?"));
	assert_int_equal(totp_uri("zt", "alice", key20, 20, out, 60), ZT_ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_rfc4226_vectors),
		cmocka_unit_test(test_hotp_bad_args),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_verify_replay),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
