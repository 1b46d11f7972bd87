/*
 * totp.h - RFC 4226 HOTP and RFC 6238 TOTP, base32 (RFC 4648) and the
 * otpauth:// enrolment URI.
 *
 * zt's second factor is TOTP with SHA-1, 6 digits and a 30 s step; a code is
 * accepted for the current step or one step either side, and only when its
 * step is later than the last step accepted for that user, so that each code
 * works once. Time is always passed in, so tests use fixed clocks.
 */
#ifndef ZT_TOTP_H
#define ZT_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN 20 /* bytes of a new secret (160 bits, RFC 4226) */
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define TOTP_SKEW_STEPS 1
#define TOTP_B32_MAX 64    /* base32 of a secret, with NUL */
#define TOTP_URI_MAX 512

/* Time step counter for unix time t (t / 30). */
int64_t totp_step(int64_t unix_time);
/* HOTP value for counter with the given HMAC md ("SHA1", "SHA256",
 * "SHA512") and digits (6..9): 0 or ZT_ERR_INVALID. */
int totp_hotp(const char *md, const uint8_t *key, size_t keylen, uint64_t counter, int digits,
    uint32_t *code);
/* Checks a 6-digit SHA-1 code given as text (exactly 6 ASCII digits, else
 * ZT_ERR_INVALID) at unix time now. Compares in constant time.
 * Steps <= last_step are refused: ZT_ERR_REPLAY if the code matches one of
 * them, ZT_ERR_AUTH if it matches nothing. On success *matched_step is the
 * accepted step, to be stored as the new last_step. */
int totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t now,
    int64_t last_step, int64_t *matched_step);

/* Unpadded upper-case base32. 0 or ZT_ERR_TOO_LARGE. */
int totp_base32_encode(const uint8_t *p, size_t n, char *out, size_t outsz);
/* Decodes base32, ignoring case, spaces and '=' padding. 0, ZT_ERR_INVALID
 * or ZT_ERR_TOO_LARGE. */
int totp_base32_decode(const char *s, uint8_t *out, size_t outsz, size_t *outlen);
/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&
 * digits=6&period=30, with issuer and account percent-encoded. */
int totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t keylen,
    char *out, size_t outsz);

#endif
