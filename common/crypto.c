/*
 * crypto.c - small cryptographic helpers over OpenSSL 3.
 *
 * Everything here is a thin, bounds-checked wrapper: randomness, SHA-256 and
 * HMAC come from OpenSSL, as do constant-time comparison and wiping. The
 * encoders (hex, base64, base64url) are written out because OpenSSL's EVP
 * base64 API inserts newlines and is lenient when decoding, and zt wants
 * exact, strict forms. Password hashes are scrypt in a self-describing
 * "$scrypt$ln=..,r=..,p=..$salt$key" string; verification parses that string
 * strictly and refuses parameters that would let a stored value make the
 * broker spend unbounded memory or time.
 */
#include "common/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/err.h"

/* Hashing parameters for new passwords (2^15 * 8 * 128 = 32 MiB). */
#define PW_LN 15
#define PW_R 8
#define PW_P 1
#define PW_SALT_LEN 16
#define PW_KEY_LEN 32
/* Bounds a stored hash must fall in to be verified at all. */
#define PW_LN_MIN 10
#define PW_LN_MAX 20
#define PW_R_MIN 1
#define PW_R_MAX 16
#define PW_P_MIN 1
#define PW_P_MAX 4
/* scrypt's working memory is never allowed past this, whatever the hash says. */
#define PW_MAXMEM (64ULL * 1024 * 1024)

#define TOKEN_RAW_LEN 32

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_random(void *out, size_t n)
{
	uint8_t *p = out;
	size_t chunk;

	if (out == NULL && n != 0) {
		return ZT_ERR_INVALID;
	}
	/* RAND_bytes takes an int; feed it in pieces. */
	while (n > 0) {
		chunk = n > INT_MAX ? INT_MAX : n;
		if (RAND_bytes(p, (int)chunk) != 1) {
			return ZT_ERR_CRYPTO;
		}
		p += chunk;
		n -= chunk;
	}
	return 0;
}

void crypto_sha256(const void *p, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (p == NULL) {
		p = "";
		n = 0;
	}
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != CRYPTO_SHA256_LEN) {
		/* Cannot happen with a working libcrypto; never leave stale bytes
		 * that could pass for a digest of something else. */
		crypto_random(out, CRYPTO_SHA256_LEN);
	}
}

static const EVP_MD *crypto_md_by_name(const char *md)
{
	if (md == NULL) {
		return NULL;
	}
	if (strcmp(md, "SHA1") == 0) {
		return EVP_sha1();
	}
	if (strcmp(md, "SHA256") == 0) {
		return EVP_sha256();
	}
	if (strcmp(md, "SHA512") == 0) {
		return EVP_sha512();
	}
	return NULL;
}

int crypto_sha256_begin(struct crypto_sha256_ctx *c)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	c->md = m;
	if (m == NULL || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		c->md = NULL;
		return ZT_ERR_NOMEM;
	}
	return 0;
}

void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *p, size_t n)
{
	if (c->md != NULL && n > 0 && EVP_DigestUpdate(c->md, p, n) != 1) {
		EVP_MD_CTX_free(c->md);      /* end then says nothing */
		c->md = NULL;
	}
}

void crypto_sha256_end(struct crypto_sha256_ctx *c, char *hex)
{
	uint8_t d[CRYPTO_SHA256_LEN];
	unsigned int len = 0;

	if (hex != NULL) {
		if (c->md != NULL && EVP_DigestFinal_ex(c->md, d, &len) == 1 &&
		    len == CRYPTO_SHA256_LEN) {
			crypto_hex(d, sizeof(d), hex, CRYPTO_SHA256_HEX_LEN + 1);
		} else {
			hex[0] = '\0';         /* never a digest of something else */
		}
	}
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

int crypto_hmac(const char *md, const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[64], size_t *outlen)
{
	static const uint8_t empty[1];
	const EVP_MD *evp = NULL;
	unsigned int len = 0;

	if ((evp = crypto_md_by_name(md)) == NULL || out == NULL || keylen > INT_MAX ||
	    (key == NULL && keylen != 0) || (msg == NULL && msglen != 0)) {
		return ZT_ERR_INVALID;
	}
	if (HMAC(evp, key != NULL ? key : empty, (int)keylen, msg != NULL ? msg : empty, msglen,
	    out, &len) == NULL || len > 64) {
		return ZT_ERR_CRYPTO;
	}
	if (outlen != NULL) {
		*outlen = len;
	}
	return 0;
}

int crypto_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0) {
		return 1;
	}
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p != NULL && n != 0) {
		OPENSSL_cleanse(p, n);
	}
}

void crypto_free_secret(void *p, size_t n)
{
	if (p == NULL) {
		return;
	}
	crypto_wipe(p, n);
	free(p);
}

void crypto_free_str(char *s)
{
	if (s == NULL) {
		return;
	}
	crypto_wipe(s, strlen(s));
	free(s);
}

int crypto_hex(const void *p, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *s = p;
	size_t i;

	if (out == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	if (n > (SIZE_MAX - 1) / 2 || outsz < 2 * n + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}

int crypto_hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

int crypto_sha256_hex_valid(const char *s)
{
	/* Stops at a NUL before the end: it is no hex digit. */
	return s != NULL && crypto_hex_lower(s, CRYPTO_SHA256_HEX_LEN) &&
	    s[CRYPTO_SHA256_HEX_LEN] == '\0';
}

/* Characters needed for base64 of n bytes (without the NUL), or SIZE_MAX
 * when that would overflow. */
static size_t b64_enc_len(size_t n, int pad)
{
	size_t full = n / 3, rest = n % 3;

	if (full > (SIZE_MAX - 5) / 4) {
		return SIZE_MAX;
	}
	if (rest == 0) {
		return full * 4;
	}
	return full * 4 + (pad ? 4 : rest + 1);
}

/* The one base64 encoder: alphabet and padding differ between users. The
 * caller has checked that out holds b64_enc_len(n, pad) + 1 bytes. */
static void b64_encode(const uint8_t *p, size_t n, const char *alpha, int pad, char *out)
{
	size_t i = 0, o = 0;
	uint32_t v;

	for (; i + 3 <= n; i += 3) {
		v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (pad) {
			out[o++] = '=';
		}
	}
	out[o] = '\0';
}

int crypto_b64url(const void *p, size_t n, char *out, size_t outsz)
{
	size_t need;

	if (out == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	need = b64_enc_len(n, 0);
	if (need == SIZE_MAX || outsz < need + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	b64_encode(p, n, b64_url, 0, out);
	return 0;
}

char *crypto_b64_dup(const void *p, size_t n)
{
	size_t need;
	char *s = NULL;

	if (p == NULL && n != 0) {
		return NULL;
	}
	need = b64_enc_len(n, 1);
	if (need == SIZE_MAX || (s = malloc(need + 1)) == NULL) {
		return NULL;
	}
	b64_encode(p, n, b64_std, 1, s);
	return s;
}

/* Value of character c in alpha (b64_std or b64_url), or -1. */
static int b64_val(unsigned char c, const char *alpha)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == (unsigned char)alpha[62]) {
		return 62;
	}
	if (c == (unsigned char)alpha[63]) {
		return 63;
	}
	return -1;
}

/*
 * The one strict decoder: no whitespace; with pad, the length a multiple of
 * 4 and '=' only as the last one or two characters; without, no '=' at all
 * and never a lone last character; and the unused low bits of the last
 * symbol zero, so that each byte string has exactly one accepted encoding.
 */
static int b64_decode(const char *s, size_t slen, const char *alpha, int pad, uint8_t **out,
    size_t *outlen)
{
	uint8_t *d = NULL;
	size_t i, o = 0, n = slen, dlen = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	int c, r = ZT_ERR_INVALID;

	if (out == NULL || outlen == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	*outlen = 0;
	if ((s == NULL && slen != 0) || (pad && slen % 4 != 0)) {
		return ZT_ERR_INVALID;
	}
	if (pad && n >= 1 && s[n - 1] == '=') {
		n--;
		if (n >= 1 && s[n - 1] == '=') {
			n--;
		}
	}
	if (n % 4 == 1) {
		return ZT_ERR_INVALID;
	}
	dlen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	if ((d = malloc(dlen + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((c = b64_val((unsigned char)s[i], alpha)) < 0) {
			goto out;
		}
		acc = (acc << 6) | (uint32_t)c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (uint8_t)(acc >> bits);
		}
		acc &= (1u << bits) - 1;  /* the bits not yet in a byte */
	}
	if (acc != 0 || o != dlen) {
		goto out;
	}
	*out = d;
	*outlen = dlen;
	d = NULL;
	r = 0;
out:
	crypto_free_secret(d, dlen + 1);
	return r;
}

int crypto_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen)
{
	return b64_decode(s, slen, b64_std, 1, out, outlen);
}

int crypto_b64url_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen)
{
	return b64_decode(s, slen, b64_url, 0, out, outlen);
}

/* Runs scrypt with n = 2^ln after checking its memory need against the cap. */
static int pw_derive(const char *password, const uint8_t *salt, size_t saltlen, unsigned ln,
    unsigned r, unsigned p, uint8_t *key, size_t keylen)
{
	uint64_t n = 1ULL << ln;
	uint64_t mem = 128ULL * r * (n + 2) + 128ULL * r * p;

	if (mem > PW_MAXMEM) {
		return ZT_ERR_INVALID;
	}
	if (EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p, PW_MAXMEM, key,
	    keylen) != 1) {
		return ZT_ERR_CRYPTO;
	}
	return 0;
}

int crypto_password_hash(const char *password, char *out, size_t outsz)
{
	uint8_t salt[PW_SALT_LEN], key[PW_KEY_LEN];
	char *salt64 = NULL, *key64 = NULL;
	int n, r;

	if (password == NULL || out == NULL) {
		return ZT_ERR_INVALID;
	}
	if (strlen(password) > CRYPTO_PASSWORD_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = crypto_random(salt, sizeof(salt))) != 0) {
		goto out;
	}
	if ((r = pw_derive(password, salt, sizeof(salt), PW_LN, PW_R, PW_P, key,
	    sizeof(key))) != 0) {
		goto out;
	}
	salt64 = crypto_b64_dup(salt, sizeof(salt));
	key64 = crypto_b64_dup(key, sizeof(key));
	if (salt64 == NULL || key64 == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	n = snprintf(out, outsz, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", PW_LN, PW_R, PW_P, salt64,
	    key64);
	if (n < 0 || (size_t)n >= outsz) {
		crypto_wipe(out, outsz);
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	r = 0;
out:
	crypto_wipe(key, sizeof(key));
	crypto_free_str(key64);
	free(salt64);
	return r;
}

/*
 * Parses a small decimal number at *s with no sign and no leading zero,
 * advancing *s; 0 or ZT_ERR_INVALID.
 */
static int pw_parse_uint(const char **s, unsigned *v)
{
	const char *p = *s;
	unsigned x = 0;
	int digits = 0;

	if (*p == '0') {
		return ZT_ERR_INVALID;
	}
	while (*p >= '0' && *p <= '9') {
		if (++digits > 3) {
			return ZT_ERR_INVALID;
		}
		x = x * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (digits == 0) {
		return ZT_ERR_INVALID;
	}
	*v = x;
	*s = p;
	return 0;
}

/* Consumes the literal lit at *s; 0 or ZT_ERR_INVALID. */
static int pw_expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0) {
		return ZT_ERR_INVALID;
	}
	*s += n;
	return 0;
}

/* Decodes the base64 field up to the next '$' (or the end) into exactly
 * want bytes at out, advancing *s; 0, ZT_ERR_INVALID or ZT_ERR_NOMEM. */
static int pw_field(const char **s, uint8_t *out, size_t want)
{
	const char *end = strchr(*s, '$');
	size_t flen = end != NULL ? (size_t)(end - *s) : strlen(*s);
	uint8_t *d = NULL;
	size_t dlen = 0;
	int r;

	if ((r = crypto_b64_decode(*s, flen, &d, &dlen)) != 0) {
		return r;
	}
	if (dlen != want) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	memcpy(out, d, want);
	*s += flen;
	r = 0;
out:
	crypto_free_secret(d, dlen);
	return r;
}

int crypto_password_verify(const char *password, const char *encoded)
{
	uint8_t salt[PW_SALT_LEN], want[PW_KEY_LEN], got[PW_KEY_LEN];
	const char *s = encoded;
	unsigned ln = 0, r = 0, p = 0;
	int ret = ZT_ERR_INVALID;

	if (password == NULL || encoded == NULL) {
		return ZT_ERR_INVALID;
	}
	if (pw_expect(&s, "$scrypt$ln=") != 0 || pw_parse_uint(&s, &ln) != 0 ||
	    pw_expect(&s, ",r=") != 0 || pw_parse_uint(&s, &r) != 0 ||
	    pw_expect(&s, ",p=") != 0 || pw_parse_uint(&s, &p) != 0 ||
	    pw_expect(&s, "$") != 0) {
		goto out;
	}
	if (ln < PW_LN_MIN || ln > PW_LN_MAX || r < PW_R_MIN || r > PW_R_MAX ||
	    p < PW_P_MIN || p > PW_P_MAX) {
		goto out;
	}
	if ((ret = pw_field(&s, salt, sizeof(salt))) != 0 ||
	    (ret = pw_expect(&s, "$")) != 0 ||
	    (ret = pw_field(&s, want, sizeof(want))) != 0) {
		goto out;
	}
	if (*s != '\0') {
		ret = ZT_ERR_INVALID;
		goto out;
	}
	if (strlen(password) > CRYPTO_PASSWORD_MAX) {
		/* Could never have been hashed, so cannot match. */
		ret = ZT_ERR_AUTH;
		goto out;
	}
	if ((ret = pw_derive(password, salt, sizeof(salt), ln, r, p, got, sizeof(got))) != 0) {
		goto out;
	}
	ret = crypto_ct_equal(got, want, sizeof(got)) ? 0 : ZT_ERR_AUTH;
out:
	crypto_wipe(got, sizeof(got));
	crypto_wipe(want, sizeof(want));
	return ret;
}

int crypto_token_new(const char *prefix, char *out, size_t outsz)
{
	uint8_t raw[TOKEN_RAW_LEN];
	size_t plen;
	int r;

	if (prefix == NULL || out == NULL) {
		return ZT_ERR_INVALID;
	}
	plen = strlen(prefix);
	if (plen >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = crypto_random(raw, sizeof(raw))) != 0) {
		goto out;
	}
	memcpy(out, prefix, plen);
	if ((r = crypto_b64url(raw, sizeof(raw), out + plen, outsz - plen)) != 0) {
		crypto_wipe(out, outsz);
		goto out;
	}
	r = 0;
out:
	crypto_wipe(raw, sizeof(raw));
	return r;
}

void crypto_token_hash(const char *token, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	uint8_t d[CRYPTO_SHA256_LEN];

	if (token == NULL) {
		token = "";
	}
	crypto_sha256(token, strlen(token), d);
	crypto_hex(d, sizeof(d), out, CRYPTO_SHA256_HEX_LEN + 1);
}
