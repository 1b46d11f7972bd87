/*
 * crypto.h - small cryptographic helpers over OpenSSL 3.
 *
 * CSPRNG, SHA-256, HMAC, constant-time comparison, secret wiping, hex and
 * base64url encoding, scrypt password hashing and opaque bearer tokens.
 * All functions are thread-safe. Secrets passed in are never logged.
 */
#ifndef ZT_CRYPTO_H
#define ZT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64

/* Fills out with n bytes from OpenSSL's CSPRNG; 0 or ZT_ERR_CRYPTO. */
int crypto_random(void *out, size_t n);
void crypto_sha256(const void *p, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);
/* SHA-256 of bytes that come in pieces: begin (0 or ZT_ERR_NOMEM), update
 * with each piece, then end, which writes the digest in hex and frees (end
 * without a hex, NULL, only frees). */
struct crypto_sha256_ctx {
	void *md;
};
int crypto_sha256_begin(struct crypto_sha256_ctx *c);
void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *p, size_t n);
void crypto_sha256_end(struct crypto_sha256_ctx *c, char *hex);
/* HMAC with md "SHA1", "SHA256" or "SHA512"; out must hold 64 bytes.
 * 0, ZT_ERR_INVALID (unknown md) or ZT_ERR_CRYPTO. */
int crypto_hmac(const char *md, const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[64], size_t *outlen);
/* 1 if a[0..n) equals b[0..n), else 0; time independent of the contents. */
int crypto_ct_equal(const void *a, const void *b, size_t n);
/* Overwrites n bytes in a way the compiler may not elide. */
void crypto_wipe(void *p, size_t n);
/* Wipes n bytes, then frees; NULL is a no-op. */
void crypto_free_secret(void *p, size_t n);
/* Wipes strlen(s) bytes, then frees; NULL is a no-op. */
void crypto_free_str(char *s);

/* Lower-case hex of p[0..n) into out (needs 2n+1); 0 or ZT_ERR_TOO_LARGE. */
int crypto_hex(const void *p, size_t n, char *out, size_t outsz);
/* 1 if s[0..n) are lower-case hex digits (as crypto_hex writes them). */
int crypto_hex_lower(const char *s, size_t n);
/* 1 if s is a SHA-256 as crypto_hex writes it (64 lower-case hex digits,
 * then the NUL), else 0; NULL is not. */
int crypto_sha256_hex_valid(const char *s);
/* Unpadded base64url (RFC 4648 section 5); 0 or ZT_ERR_TOO_LARGE. */
int crypto_b64url(const void *p, size_t n, char *out, size_t outsz);
/* Standard padded base64 as a new string (caller frees); NULL on ENOMEM. */
char *crypto_b64_dup(const void *p, size_t n);
/* Decodes standard padded base64; *out is owned by the caller.
 * 0, ZT_ERR_INVALID or ZT_ERR_NOMEM. */
int crypto_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen);
/* Decodes unpadded base64url (crypto_b64url's form: no '=', no lone last
 * character); *out is owned by the caller. Both decoders are strict: each
 * byte string has exactly one encoding they accept (the unused bits of the
 * last character must be zero). 0, ZT_ERR_INVALID or ZT_ERR_NOMEM. */
int crypto_b64url_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen);

/* scrypt password hashing (N=2^15, r=8, p=1, 16-byte salt, 32-byte key),
 * encoded as "$scrypt$ln=15,r=8,p=1$<b64 salt>$<b64 key>" into out
 * (CRYPTO_PWHASH_MAX bytes is enough). Passwords longer than
 * CRYPTO_PASSWORD_MAX are refused with ZT_ERR_TOO_LARGE. */
#define CRYPTO_PWHASH_MAX 160
#define CRYPTO_PASSWORD_MAX 1024
int crypto_password_hash(const char *password, char *out, size_t outsz);
/* 0 if password matches encoded, ZT_ERR_AUTH if not, ZT_ERR_INVALID if
 * encoded is not a hash this function wrote (with parameters in bounds). */
int crypto_password_verify(const char *password, const char *encoded);

/* A new bearer token: prefix followed by base64url of 32 random bytes
 * (e.g. "zts_..."), into out (CRYPTO_TOKEN_MAX bytes is enough). */
#define CRYPTO_TOKEN_MAX 80
int crypto_token_new(const char *prefix, char *out, size_t outsz);
/* The form a token is stored in: hex SHA-256 of the token's bytes. */
void crypto_token_hash(const char *token, char out[CRYPTO_SHA256_HEX_LEN + 1]);

#endif
