/*
 * buf.h - the bounded byte buffer every untrusted byte goes through.
 *
 * Modeled on OpenSSH's sshbuf. A buffer has a hard maximum size fixed at
 * creation: a put that would pass it fails with ZT_ERR_TOO_LARGE and leaves
 * the buffer unchanged. Readers consume from the front; a read that would run
 * past the end fails with ZT_ERR_TRUNCATED and consumes nothing. Integers are
 * big-endian (network order, as in SSH wire formats). String getters refuse
 * embedded NULs where a C string is wanted; buf_get_end() refuses trailing
 * bytes. buf_free() wipes the contents, so a buffer may hold secrets.
 *
 * Not thread-safe: one buffer belongs to one thread at a time.
 */
#ifndef ZT_BUF_H
#define ZT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* A new empty buffer that may grow to at most max bytes; NULL on ENOMEM. */
struct buf *buf_new(size_t max);
/* A read-only buffer over p[0..n) (not copied; p must outlive it). Puts on it
 * fail with ZT_ERR_INVALID. NULL on ENOMEM. */
struct buf *buf_from(const void *p, size_t n);
/* Wipes and frees; NULL is a no-op. */
void buf_free(struct buf *b);

/* Unread bytes: borrowed pointer valid until the next put/reset. */
const uint8_t *buf_ptr(const struct buf *b);
size_t buf_len(const struct buf *b);
size_t buf_max(const struct buf *b);
/* Drops all contents (wiped). */
void buf_reset(struct buf *b);

/* Writers: 0, ZT_ERR_TOO_LARGE, ZT_ERR_NOMEM or ZT_ERR_INVALID (read-only). */
int buf_put(struct buf *b, const void *p, size_t n);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
/* SSH "string": u32 length then the bytes. */
int buf_put_string(struct buf *b, const void *p, size_t n);
int buf_put_cstring(struct buf *b, const char *s);
/* printf-style append (no terminating NUL stored). */
int buf_putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Readers: 0, ZT_ERR_TRUNCATED (too few bytes), ZT_ERR_TOO_LARGE or
 * ZT_ERR_EMBEDDED_NUL. Nothing is consumed on error. */
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
/* Copies exactly n bytes into out. */
int buf_get_bytes(struct buf *b, void *out, size_t n);
int buf_consume(struct buf *b, size_t n);
/* SSH "string" as a borrowed pointer into the buffer, valid until the next
 * put/reset/free. */
int buf_get_string_peek(struct buf *b, const uint8_t **p, size_t *n);
/* SSH "string" as an owned, NUL-terminated copy (caller frees). Refuses
 * embedded NULs (ZT_ERR_EMBEDDED_NUL) and lengths over maxlen
 * (ZT_ERR_TOO_LARGE). len may be NULL. */
int buf_get_cstring(struct buf *b, size_t maxlen, char **out, size_t *len);
/* Nested SSH "string" parsed as its own read-only buffer over the same
 * memory (caller frees the returned buf; no copy). */
int buf_get_stringb(struct buf *b, struct buf **out);
/* 0 when everything was read, else ZT_ERR_TRAILING. */
int buf_get_end(const struct buf *b);

/* Owned, NUL-terminated copy of the unread bytes; refuses embedded NULs. */
int buf_dup_cstring(const struct buf *b, char **out);

#endif
