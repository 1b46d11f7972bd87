/*
 * crypto_test.c - unit tests for common/crypto: known-answer digests and
 * MACs, encoders against RFC 4648 vectors, scrypt password hashes (round
 * trip, wrong password, strict parsing of stored hashes) and tokens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/err.h"

static void test_sha256_abc(void **state)
{
	uint8_t d[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	(void)state;

	crypto_sha256("abc", 3, d);
	assert_int_equal(crypto_hex(d, sizeof(d), hex, sizeof(hex)), 0);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* In pieces, the same digest; an empty input is SHA-256 of nothing; end
 * without a hex only frees. */
static void test_sha256_pieces(void **state)
{
	struct crypto_sha256_ctx c;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	(void)state;

	assert_int_equal(crypto_sha256_begin(&c), 0);
	crypto_sha256_update(&c, "a", 1);
	crypto_sha256_update(&c, "", 0);
	crypto_sha256_update(&c, "bc", 2);
	crypto_sha256_end(&c, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_null(c.md);
	assert_int_equal(crypto_sha256_begin(&c), 0);
	crypto_sha256_end(&c, hex);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(crypto_sha256_begin(&c), 0);
	crypto_sha256_update(&c, "x", 1);
	crypto_sha256_end(&c, NULL);
	assert_null(c.md);
}

static void test_hmac_rfc4231_case2(void **state)
{
	static const char key[] = "Jefe", msg[] = "what do ya want for nothing?";
	uint8_t mac[64];
	char hex[129];
	size_t n = 0;
	(void)state;

	assert_int_equal(crypto_hmac("SHA256", key, 4, msg, strlen(msg), mac, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(crypto_hex(mac, n, hex, sizeof(hex)), 0);
	assert_string_equal(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_int_equal(crypto_hmac("SHA512", key, 4, msg, strlen(msg), mac, &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(crypto_hex(mac, n, hex, sizeof(hex)), 0);
	assert_string_equal(hex,
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
	assert_int_equal(crypto_hmac("MD5", key, 4, msg, strlen(msg), mac, &n), ZT_ERR_INVALID);
	assert_int_equal(crypto_hmac("sha256", key, 4, msg, strlen(msg), mac, &n),
	    ZT_ERR_INVALID);
}

static void test_ct_equal_and_random(void **state)
{
	uint8_t a[32], b[32];
	(void)state;

	assert_true(crypto_ct_equal("abc", "abc", 3));
	assert_false(crypto_ct_equal("abc", "abd", 3));
	assert_true(crypto_ct_equal("x", "y", 0));
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_false(crypto_ct_equal(a, b, sizeof(a)));
	crypto_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	crypto_free_secret(NULL, 5);
	crypto_free_str(NULL);
}

static void test_hex(void **state)
{
	char out[8];
	(void)state;

	assert_int_equal(crypto_hex("\x00\xff\x10", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "00ff10");
	assert_int_equal(crypto_hex("abcd", 4, out, 8), ZT_ERR_TOO_LARGE);
	assert_int_equal(crypto_hex("abc", 3, out, 7), 0);
	assert_int_equal(crypto_hex(NULL, 0, out, 1), 0);
	assert_string_equal(out, "");
}

static void test_sha256_hex_valid(void **state)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 2];
	uint8_t d[CRYPTO_SHA256_LEN];
	(void)state;

	crypto_sha256("x", 1, d);
	assert_int_equal(crypto_hex(d, sizeof(d), hex, sizeof(hex)), 0);
	assert_true(crypto_sha256_hex_valid(hex));
	hex[10] = 'A';
	assert_false(crypto_sha256_hex_valid(hex));
	hex[10] = 'g';
	assert_false(crypto_sha256_hex_valid(hex));
	hex[10] = '0';
	hex[64] = '0';
	hex[65] = '\0';
	assert_false(crypto_sha256_hex_valid(hex));          /* 65 digits */
	hex[63] = '\0';
	assert_false(crypto_sha256_hex_valid(hex));          /* 63 digits */
	assert_false(crypto_sha256_hex_valid(""));
	assert_false(crypto_sha256_hex_valid(NULL));
}

static void test_b64_rfc4648(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };
	static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
		"Zm9vYmFy" };
	char out[16];
	char *s = NULL;
	uint8_t *d = NULL;
	size_t i, n = 0;
	(void)state;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		s = crypto_b64_dup(plain[i], strlen(plain[i]));
		assert_non_null(s);
		assert_string_equal(s, enc[i]);
		assert_int_equal(crypto_b64_decode(s, strlen(s), &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
		free(s);
		assert_int_equal(crypto_b64url(plain[i], strlen(plain[i]), out, sizeof(out)), 0);
		assert_string_equal(out, url[i]);
	}
	/* base64url uses - and _ where base64 uses + and /. */
	assert_int_equal(crypto_b64url("\xfb\xff\xbf", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "-_-_");
	s = crypto_b64_dup("\xfb\xff\xbf", 3);
	assert_string_equal(s, "+/+/");
	free(s);
	/* "Zm9vYmFy" and its NUL need 9 bytes. */
	assert_int_equal(crypto_b64url("foobar", 6, out, 9), 0);
	assert_int_equal(crypto_b64url("foobar", 6, out, 8), ZT_ERR_TOO_LARGE);
}

static void test_b64_decode_strict(void **state)
{
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "====", "Zm9v\n", "Zm 9",
		"Zh==", "Zm9=", "=Zm9", "Zm=v", "Zm9v-_==", "Zm9vYg=a" };
	uint8_t *d = NULL;
	size_t i, n = 0;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(crypto_b64_decode(bad[i], strlen(bad[i]), &d, &n), ZT_ERR_INVALID);
		assert_null(d);
	}
	/* Only slen bytes are read. */
	assert_int_equal(crypto_b64_decode("Zm9vJUNK", 4, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "foo", 3);
	free(d);
}

/* base64url decodes what crypto_b64url wrote, and nothing else: no
 * padding, no standard alphabet, no lone last character, no set unused
 * bits (each byte string has one encoding). */
static void test_b64url_decode(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar",
		"\xfb\xff\xbf", "\x00\xff" };
	static const char *const bad[] = { "Zg=", "Zg==", "Z", "Zm9vY", "Zh", "Zm9", "Zm9v+/",
		"+/+/", "Zm 9", "Zm9v\n", "=Zm9", "Zm=v", "Zm9v." };
	char enc[32];
	uint8_t *d = NULL;
	size_t i, n = 0;
	(void)state;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		size_t len = i == sizeof(plain) / sizeof(plain[0]) - 1 ? 2 : strlen(plain[i]);

		assert_int_equal(crypto_b64url(plain[i], len, enc, sizeof(enc)), 0);
		assert_int_equal(crypto_b64url_decode(enc, strlen(enc), &d, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
	assert_int_equal(crypto_b64url_decode("-_-_", 4, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "\xfb\xff\xbf", 3);
	free(d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (crypto_b64url_decode(bad[i], strlen(bad[i]), &d, &n) != ZT_ERR_INVALID) {
			fail_msg("%s decoded", bad[i]);
		}
		assert_null(d);
	}
	/* Only slen bytes are read. */
	assert_int_equal(crypto_b64url_decode("Zm9v!!", 4, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "foo", 3);
	free(d);
	assert_int_equal(crypto_b64url_decode("Zm9v", 4, NULL, &n), ZT_ERR_INVALID);
}

static void test_password_round_trip(void **state)
{
	char h1[CRYPTO_PWHASH_MAX], h2[CRYPTO_PWHASH_MAX];
	(void)state;

	assert_int_equal(crypto_password_hash("correct horse", h1, sizeof(h1)), 0);
	assert_int_equal(strncmp(h1, "$scrypt$ln=15,r=8,p=1$", 22), 0);
	assert_int_equal(crypto_password_verify("correct horse", h1), 0);
	assert_int_equal(crypto_password_verify("correct horsE", h1), ZT_ERR_AUTH);
	assert_int_equal(crypto_password_verify("", h1), ZT_ERR_AUTH);
	/* Same password, fresh salt, different encoding. */
	assert_int_equal(crypto_password_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(crypto_password_hash("x", h2, 40), ZT_ERR_TOO_LARGE);
}

static void test_password_too_long(void **state)
{
	char *pw = malloc(CRYPTO_PASSWORD_MAX + 2);
	char h[CRYPTO_PWHASH_MAX];
	(void)state;

	assert_non_null(pw);
	memset(pw, 'a', CRYPTO_PASSWORD_MAX + 1);
	pw[CRYPTO_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(crypto_password_hash(pw, h, sizeof(h)), ZT_ERR_TOO_LARGE);
	free(pw);
}

/* Builds an encoding with chosen parameters the way an older or foreign
 * writer would, to check the parser accepts every in-bounds setting. */
static void make_hash(const char *pw, unsigned ln, unsigned r, unsigned p, char *out,
    size_t outsz)
{
	uint8_t salt[16], key[32];
	char *s64 = NULL, *k64 = NULL;

	memset(salt, 0x5a, sizeof(salt));
	assert_int_equal(EVP_PBE_scrypt(pw, strlen(pw), salt, sizeof(salt), 1ULL << ln, r, p,
	    64ULL << 20, key, sizeof(key)), 1);
	s64 = crypto_b64_dup(salt, sizeof(salt));
	k64 = crypto_b64_dup(key, sizeof(key));
	assert_non_null(s64);
	assert_non_null(k64);
	snprintf(out, outsz, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", ln, r, p, s64, k64);
	free(s64);
	free(k64);
}

static void test_password_other_params(void **state)
{
	char h[CRYPTO_PWHASH_MAX];
	(void)state;

	make_hash("pw", 10, 1, 1, h, sizeof(h));
	assert_int_equal(crypto_password_verify("pw", h), 0);
	assert_int_equal(crypto_password_verify("pW", h), ZT_ERR_AUTH);
	make_hash("pw", 11, 2, 4, h, sizeof(h));
	assert_int_equal(crypto_password_verify("pw", h), 0);
}

static void test_password_malformed(void **state)
{
	/* Valid salt (16 bytes) and key (32 bytes) in base64. */
#define SALT "AAAAAAAAAAAAAAAAAAAAAA=="
#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	static const char *const bad[] = {
		"",
		"$scrypt$",
		"$scrypt$ln=15,r=8,p=1$" SALT,
		"$scrypt$ln=15,r=8,p=1$" SALT "$",
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY "$",
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY "x",
		"$scrypt$ln=15,r=8,p=1$" SALT "$" KEY "\n",
		"$scrypt$ln=15,r=8,p=1$" SALT "$AAAA",
		"$scrypt$ln=15,r=8,p=1$AAAA$" KEY,
		"$scrypt$ln=15,r=8,p=1$" SALT "!$" KEY,
		"$scrypt$ln=15,r=8,p=1$$" KEY,
		"$Scrypt$ln=15,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,p=1,r=8$" SALT "$" KEY,
		"$scrypt$ln=015,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=+15,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=15 ,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=9,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=21,r=8,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=0,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=17,p=1$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=0$" SALT "$" KEY,
		"$scrypt$ln=15,r=8,p=5$" SALT "$" KEY,
		"$scrypt$ln=4294967311,r=8,p=1$" SALT "$" KEY,
		/* In bounds one by one, but together over the memory cap. */
		"$scrypt$ln=20,r=16,p=4$" SALT "$" KEY,
		"$argon2id$v=19$m=65536,t=3,p=4$" SALT "$" KEY,
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (crypto_password_verify("pw", bad[i]) != ZT_ERR_INVALID) {
			fail_msg("accepted or misreported: %s", bad[i]);
		}
	}
	assert_int_equal(crypto_password_verify(NULL, bad[0]), ZT_ERR_INVALID);
	assert_int_equal(crypto_password_verify("pw", NULL), ZT_ERR_INVALID);
	/* Well-formed but wrong: authentication failure, not a format error. */
	assert_int_equal(crypto_password_verify("pw", "$scrypt$ln=10,r=1,p=1$" SALT "$" KEY),
	    ZT_ERR_AUTH);
#undef SALT
#undef KEY
}

static void test_token(void **state)
{
	char t1[CRYPTO_TOKEN_MAX], t2[CRYPTO_TOKEN_MAX];
	char h[CRYPTO_SHA256_HEX_LEN + 1];
	size_t i;
	(void)state;

	assert_int_equal(crypto_token_new("zts_", t1, sizeof(t1)), 0);
	assert_int_equal(crypto_token_new("zts_", t2, sizeof(t2)), 0);
	assert_int_equal(strlen(t1), 4 + 43);
	assert_int_equal(strncmp(t1, "zts_", 4), 0);
	for (i = 4; t1[i] != '\0'; i++) {
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", t1[i]));
	}
	assert_string_not_equal(t1, t2);
	assert_int_equal(crypto_token_new("zts_", t2, 4 + 43), ZT_ERR_TOO_LARGE);
	assert_int_equal(crypto_token_new("zts_", t2, 4 + 44), 0);

	crypto_token_hash("abc", h);
	assert_string_equal(h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* The hash covers the whole token string, prefix included. */
	crypto_token_hash("zts_abc", h);
	assert_string_equal(h,
	    "a96b438ddbc20f00451745ec5c8f4b6fd16595caed8541dd0a647784b7cc2f52");
	crypto_token_hash(t1, h);
	assert_int_equal(strlen(h), CRYPTO_SHA256_HEX_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_abc),
		cmocka_unit_test(test_sha256_pieces),
		cmocka_unit_test(test_hmac_rfc4231_case2),
		cmocka_unit_test(test_ct_equal_and_random),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_sha256_hex_valid),
		cmocka_unit_test(test_b64_rfc4648),
		cmocka_unit_test(test_b64_decode_strict),
		cmocka_unit_test(test_b64url_decode),
		cmocka_unit_test(test_password_round_trip),
		cmocka_unit_test(test_password_too_long),
		cmocka_unit_test(test_password_other_params),
		cmocka_unit_test(test_password_malformed),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
