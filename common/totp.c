/*
 * totp.c - RFC 4226 HOTP, RFC 6238 TOTP, RFC 4648 base32 and the otpauth://
 * URI that authenticator apps scan.
 *
 * Verification always computes every candidate step in the window and
 * compares the formatted codes in constant time, so how long a check takes
 * says nothing about which step (if any) matched. The caller keeps the last
 * accepted step per user and passes it back in; that is what makes a code
 * single-use.
 */
#include "common/totp.h"

#include <stdio.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"

static const char b32_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int64_t totp_step(int64_t unix_time)
{
	/* Floor division, so times before 1970 still map to distinct steps. */
	if (unix_time < 0) {
		return -((-(unix_time + 1)) / TOTP_STEP_S) - 1;
	}
	return unix_time / TOTP_STEP_S;
}

int totp_hotp(const char *md, const uint8_t *key, size_t keylen, uint64_t counter, int digits,
    uint32_t *code)
{
	static const uint32_t modulus[] = { 1000000, 10000000, 100000000, 1000000000 };
	uint8_t msg[8], mac[64];
	size_t maclen = 0;
	uint32_t bin;
	unsigned off;
	int i, r;

	if (code == NULL || digits < 6 || digits > 9 || (key == NULL && keylen != 0)) {
		return ZT_ERR_INVALID;
	}
	for (i = 0; i < 8; i++) {
		msg[i] = (uint8_t)(counter >> (56 - 8 * i));
	}
	if ((r = crypto_hmac(md, key, keylen, msg, sizeof(msg), mac, &maclen)) != 0) {
		goto out;
	}
	if (maclen < 20) {
		r = ZT_ERR_INTERNAL;
		goto out;
	}
	/* RFC 4226 section 5.3: dynamic truncation. */
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	    ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	*code = bin % modulus[digits - 6];
	r = 0;
out:
	crypto_wipe(mac, sizeof(mac));
	return r;
}

int totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t now,
    int64_t last_step, int64_t *matched_step)
{
	char want[TOTP_DIGITS + 1];
	int64_t step, cur, found = 0;
	uint32_t v = 0;
	int i, r, ok = 0, replay = 0, eq;

	if (key == NULL || code == NULL) {
		return ZT_ERR_INVALID;
	}
	for (i = 0; i < TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9') {
			return ZT_ERR_INVALID;
		}
	}
	if (code[TOTP_DIGITS] != '\0') {
		return ZT_ERR_INVALID;
	}
	cur = totp_step(now);
	for (step = cur - TOTP_SKEW_STEPS; step <= cur + TOTP_SKEW_STEPS; step++) {
		if (step < 0) {
			continue;
		}
		if ((r = totp_hotp("SHA1", key, keylen, (uint64_t)step, TOTP_DIGITS, &v)) != 0) {
			goto out;
		}
		snprintf(want, sizeof(want), "%0*u", TOTP_DIGITS, (unsigned)v);
		eq = crypto_ct_equal(want, code, TOTP_DIGITS);
		if (eq && step <= last_step) {
			replay = 1;
		} else if (eq && !ok) {
			ok = 1;
			found = step;
		}
	}
	if (ok) {
		if (matched_step != NULL) {
			*matched_step = found;
		}
		r = 0;
	} else {
		r = replay ? ZT_ERR_REPLAY : ZT_ERR_AUTH;
	}
out:
	crypto_wipe(want, sizeof(want));
	crypto_wipe(&v, sizeof(v));
	return r;
}

int totp_base32_encode(const uint8_t *p, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	int bits = 0;

	if (out == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	if (n > (SIZE_MAX - 8) / 8) {
		return ZT_ERR_TOO_LARGE;
	}
	need = (n * 8 + 4) / 5;
	if (outsz < need + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alpha[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0) {
		out[o++] = b32_alpha[(acc << (5 - bits)) & 31];
	}
	out[o] = '\0';
	return 0;
}

static int b32_val(unsigned char c)
{
	if (c >= 'a' && c <= 'z') {
		c = (unsigned char)(c - 'a' + 'A');
	}
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= '2' && c <= '7') {
		return c - '2' + 26;
	}
	return -1;
}

int totp_base32_decode(const char *s, uint8_t *out, size_t outsz, size_t *outlen)
{
	size_t o = 0, nsym = 0;
	uint32_t acc = 0;
	int bits = 0, v, r = ZT_ERR_INVALID;

	if (s == NULL || outlen == NULL || (out == NULL && outsz != 0)) {
		return ZT_ERR_INVALID;
	}
	*outlen = 0;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '=') {
			continue;
		}
		if ((v = b32_val((unsigned char)*s)) < 0) {
			goto out;
		}
		nsym++;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outsz) {
				r = ZT_ERR_TOO_LARGE;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
			acc &= (1u << bits) - 1;
		}
	}
	/* 1, 3 or 6 symbols in the last group cannot come from whole bytes. */
	if (nsym % 8 == 1 || nsym % 8 == 3 || nsym % 8 == 6) {
		goto out;
	}
	*outlen = o;
	r = 0;
out:
	if (r != 0 && out != NULL) {
		crypto_wipe(out, o);
	}
	return r;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) at
 * out[*o], leaving room for a NUL; 0 or ZT_ERR_TOO_LARGE. */
static int uri_put_enc(char *out, size_t outsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			if (outsz - *o < 2) {
				return ZT_ERR_TOO_LARGE;
			}
			out[(*o)++] = (char)c;
		} else {
			if (outsz - *o < 4) {
				return ZT_ERR_TOO_LARGE;
			}
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 0x0f];
		}
	}
	return 0;
}

/* Appends s verbatim at out[*o], leaving room for a NUL. */
static int uri_put(char *out, size_t outsz, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (outsz - *o < n + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

int totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t keylen,
    char *out, size_t outsz)
{
	char secret[TOTP_B32_MAX];
	size_t o = 0;
	int r;

	if (issuer == NULL || account == NULL || key == NULL || out == NULL || outsz == 0) {
		return ZT_ERR_INVALID;
	}
	if ((r = totp_base32_encode(key, keylen, secret, sizeof(secret))) != 0) {
		goto out;
	}
	if ((r = uri_put(out, outsz, &o, "otpauth://totp/")) != 0 ||
	    (r = uri_put_enc(out, outsz, &o, issuer)) != 0 ||
	    (r = uri_put(out, outsz, &o, ":")) != 0 ||
	    (r = uri_put_enc(out, outsz, &o, account)) != 0 ||
	    (r = uri_put(out, outsz, &o, "?secret=")) != 0 ||
	    (r = uri_put(out, outsz, &o, secret)) != 0 ||
	    (r = uri_put(out, outsz, &o, "&issuer=")) != 0 ||
	    (r = uri_put_enc(out, outsz, &o, issuer)) != 0 ||
	    (r = uri_put(out, outsz, &o, "&algorithm=SHA1&digits=6&period=30")) != 0) {
		goto out;
	}
	out[o] = '\0';
	r = 0;
out:
	if (r != 0) {
		crypto_wipe(out, outsz);
	}
	crypto_wipe(secret, sizeof(secret));
	return r;
}
