/*
 * buf.c - the bounded byte buffer every untrusted byte goes through.
 *
 * A buffer is a window [off, size) of unread bytes inside an allocation of
 * alloc bytes that never grows past max. Readers advance off; writers append
 * at size, first sliding the unread bytes to the front when that avoids a
 * reallocation. Growth doubles (capped at max) and never uses realloc(), so
 * the old copy of a secret can be wiped before it is freed. Every function
 * checks all its bounds before touching the buffer, which is what gives the
 * "unchanged on error" guarantee of buf.h.
 *
 * A read-only buffer (buf_from) borrows the caller's bytes: it has no
 * allocation of its own and every put on it fails.
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"

#define BUF_INITIAL_ALLOC 256

struct buf {
	uint8_t *d;        /* owned storage; NULL for read-only buffers */
	const uint8_t *cd; /* what readers see: d, or the borrowed bytes */
	size_t off;        /* first unread byte */
	size_t size;       /* one past the last stored byte */
	size_t alloc;      /* bytes allocated at d */
	size_t max;        /* hard limit on stored (unread) bytes */
	int readonly;
};

/* Returned by buf_ptr() for a buffer with no storage, so that callers never
 * get NULL (and never do arithmetic on it). */
static const uint8_t buf_empty[1];

struct buf *buf_new(size_t max)
{
	struct buf *b = NULL;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		return NULL;
	}
	b->max = max;
	b->cd = buf_empty;
	return b;
}

struct buf *buf_from(const void *p, size_t n)
{
	struct buf *b = NULL;

	if (p == NULL && n != 0) {
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		return NULL;
	}
	b->cd = (p != NULL) ? p : buf_empty;
	b->size = n;
	b->max = n;
	b->readonly = 1;
	return b;
}

void buf_free(struct buf *b)
{
	if (b == NULL) {
		return;
	}
	if (b->d != NULL) {
		crypto_free_secret(b->d, b->alloc);
	}
	crypto_wipe(b, sizeof(*b));
	free(b);
}

const uint8_t *buf_ptr(const struct buf *b)
{
	if (b == NULL) {
		return buf_empty;
	}
	return b->cd + b->off;
}

size_t buf_len(const struct buf *b)
{
	if (b == NULL) {
		return 0;
	}
	return b->size - b->off;
}

size_t buf_max(const struct buf *b)
{
	if (b == NULL) {
		return 0;
	}
	return b->max;
}

void buf_reset(struct buf *b)
{
	if (b == NULL) {
		return;
	}
	if (b->readonly) {
		/* Not our memory to wipe: just forget it. */
		b->cd = buf_empty;
		b->off = b->size = b->max = 0;
		return;
	}
	if (b->d != NULL) {
		crypto_wipe(b->d, b->alloc);
	}
	b->off = b->size = 0;
}

/*
 * Makes room for n more bytes at the end and returns where they go, or sets
 * *r to an error and returns NULL with the buffer unchanged.
 */
static uint8_t *buf_reserve(struct buf *b, size_t n, int *r)
{
	size_t used, need, nalloc;
	uint8_t *nd = NULL;

	if (b == NULL || b->readonly) {
		*r = ZT_ERR_INVALID;
		return NULL;
	}
	used = b->size - b->off;
	if (n > b->max || used > b->max - n) {
		*r = ZT_ERR_TOO_LARGE;
		return NULL;
	}
	need = used + n;
	if (b->size + n <= b->alloc) {
		return b->d + b->size;
	}
	if (need <= b->alloc) {
		/* Enough room once the consumed prefix is dropped. */
		memmove(b->d, b->d + b->off, used);
		crypto_wipe(b->d + used, b->alloc - used);
		b->off = 0;
		b->size = used;
		return b->d + b->size;
	}
	nalloc = b->alloc != 0 ? b->alloc : BUF_INITIAL_ALLOC;
	while (nalloc < need) {
		nalloc = (nalloc > b->max / 2) ? b->max : nalloc * 2;
	}
	if (nalloc > b->max) {
		nalloc = b->max;
	}
	if ((nd = malloc(nalloc)) == NULL) {
		*r = ZT_ERR_NOMEM;
		return NULL;
	}
	if (used != 0) {
		memcpy(nd, b->d + b->off, used);
	}
	if (b->d != NULL) {
		crypto_free_secret(b->d, b->alloc);
	}
	b->d = nd;
	b->cd = nd;
	b->alloc = nalloc;
	b->off = 0;
	b->size = used;
	return b->d + b->size;
}

int buf_put(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst = NULL;
	int r = 0;

	if (p == NULL && n != 0) {
		return ZT_ERR_INVALID;
	}
	if (n == 0) {
		/* Nothing to place; an empty buffer may not even have storage. */
		return b == NULL || b->readonly ? ZT_ERR_INVALID : 0;
	}
	if ((dst = buf_reserve(b, n, &r)) == NULL) {
		return r;
	}
	if (n != 0) {
		memcpy(dst, p, n);
	}
	b->size += n;
	return 0;
}

int buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t d[4];

	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
	return buf_put(b, d, sizeof(d));
}

int buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t d[8];
	int i;

	for (i = 0; i < 8; i++) {
		d[i] = (uint8_t)(v >> (56 - 8 * i));
	}
	return buf_put(b, d, sizeof(d));
}

int buf_put_string(struct buf *b, const void *p, size_t n)
{
	uint8_t *dst = NULL;
	int r = 0;

	if ((p == NULL && n != 0) || n > UINT32_MAX) {
		return ZT_ERR_INVALID;
	}
	/* Reserve both parts at once so a failure leaves nothing half-written. */
	if (n > SIZE_MAX - 4) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((dst = buf_reserve(b, 4 + n, &r)) == NULL) {
		return r;
	}
	dst[0] = (uint8_t)(n >> 24);
	dst[1] = (uint8_t)(n >> 16);
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	if (n != 0) {
		memcpy(dst + 4, p, n);
	}
	b->size += 4 + n;
	return 0;
}

int buf_put_cstring(struct buf *b, const char *s)
{
	if (s == NULL) {
		return ZT_ERR_INVALID;
	}
	return buf_put_string(b, s, strlen(s));
}

int buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *tmp = NULL;
	int n, r = ZT_ERR_INTERNAL;

	if (b == NULL || fmt == NULL || b->readonly) {
		return ZT_ERR_INVALID;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return ZT_ERR_INVALID;
	}
	if ((size_t)n > b->max || b->size - b->off > b->max - (size_t)n) {
		return ZT_ERR_TOO_LARGE;
	}
	/* Format into a scratch copy: vsnprintf wants room for a NUL that the
	 * buffer itself may not have under its limit. */
	if ((tmp = malloc((size_t)n + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	va_start(ap, fmt);
	if (vsnprintf(tmp, (size_t)n + 1, fmt, ap) != n) {
		va_end(ap);
		goto out;
	}
	va_end(ap);
	r = buf_put(b, tmp, (size_t)n);
out:
	crypto_free_secret(tmp, (size_t)n + 1);
	return r;
}

/* Peeks n bytes at the front; 0 or ZT_ERR_TRUNCATED. Consumes nothing. */
static int buf_peek(const struct buf *b, size_t n, const uint8_t **p)
{
	if (b == NULL) {
		return ZT_ERR_INVALID;
	}
	if (n > b->size - b->off) {
		return ZT_ERR_TRUNCATED;
	}
	*p = b->cd + b->off;
	return 0;
}

static uint32_t buf_load_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	    (uint32_t)p[3];
}

int buf_get_u8(struct buf *b, uint8_t *v)
{
	const uint8_t *p = NULL;
	int r;

	if ((r = buf_peek(b, 1, &p)) != 0) {
		return r;
	}
	if (v != NULL) {
		*v = p[0];
	}
	b->off += 1;
	return 0;
}

int buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *p = NULL;
	int r;

	if ((r = buf_peek(b, 4, &p)) != 0) {
		return r;
	}
	if (v != NULL) {
		*v = buf_load_u32(p);
	}
	b->off += 4;
	return 0;
}

int buf_get_u64(struct buf *b, uint64_t *v)
{
	const uint8_t *p = NULL;
	int r;

	if ((r = buf_peek(b, 8, &p)) != 0) {
		return r;
	}
	if (v != NULL) {
		*v = ((uint64_t)buf_load_u32(p) << 32) | buf_load_u32(p + 4);
	}
	b->off += 8;
	return 0;
}

int buf_get_bytes(struct buf *b, void *out, size_t n)
{
	const uint8_t *p = NULL;
	int r;

	if (out == NULL && n != 0) {
		return ZT_ERR_INVALID;
	}
	if ((r = buf_peek(b, n, &p)) != 0) {
		return r;
	}
	if (n != 0) {
		memcpy(out, p, n);
	}
	b->off += n;
	return 0;
}

int buf_consume(struct buf *b, size_t n)
{
	const uint8_t *p = NULL;
	int r;

	if ((r = buf_peek(b, n, &p)) != 0) {
		return r;
	}
	b->off += n;
	return 0;
}

/*
 * Parses an SSH string at the front without consuming it: *p and *n are its
 * bytes, *total the bytes it takes including the length prefix. A declared
 * length over maxlen is ZT_ERR_TOO_LARGE even when the bytes are not there.
 */
static int buf_peek_string(const struct buf *b, size_t maxlen, const uint8_t **p, size_t *n,
    size_t *total)
{
	const uint8_t *h = NULL;
	uint32_t len;
	int r;

	if ((r = buf_peek(b, 4, &h)) != 0) {
		return r;
	}
	len = buf_load_u32(h);
	if (len > maxlen) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = buf_peek(b, 4 + (size_t)len, &h)) != 0) {
		return r;
	}
	*p = h + 4;
	*n = len;
	*total = 4 + (size_t)len;
	return 0;
}

int buf_get_string_peek(struct buf *b, const uint8_t **p, size_t *n)
{
	const uint8_t *sp = NULL;
	size_t sn = 0, total = 0;
	int r;

	if ((r = buf_peek_string(b, SIZE_MAX, &sp, &sn, &total)) != 0) {
		return r;
	}
	if (p != NULL) {
		*p = sp;
	}
	if (n != NULL) {
		*n = sn;
	}
	b->off += total;
	return 0;
}

/* An owned NUL-terminated copy of p[0..n); refuses embedded NULs. */
static int buf_strdup_checked(const uint8_t *p, size_t n, char **out)
{
	char *s = NULL;

	if (n != 0 && memchr(p, '\0', n) != NULL) {
		return ZT_ERR_EMBEDDED_NUL;
	}
	if (n == SIZE_MAX || (s = malloc(n + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (n != 0) {
		memcpy(s, p, n);
	}
	s[n] = '\0';
	*out = s;
	return 0;
}

int buf_get_cstring(struct buf *b, size_t maxlen, char **out, size_t *len)
{
	const uint8_t *sp = NULL;
	size_t sn = 0, total = 0;
	char *s = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = buf_peek_string(b, maxlen, &sp, &sn, &total)) != 0) {
		return r;
	}
	if ((r = buf_strdup_checked(sp, sn, &s)) != 0) {
		return r;
	}
	b->off += total;
	*out = s;
	if (len != NULL) {
		*len = sn;
	}
	return 0;
}

int buf_get_stringb(struct buf *b, struct buf **out)
{
	const uint8_t *sp = NULL;
	size_t sn = 0, total = 0;
	struct buf *nb = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = buf_peek_string(b, SIZE_MAX, &sp, &sn, &total)) != 0) {
		return r;
	}
	if ((nb = buf_from(sp, sn)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	b->off += total;
	*out = nb;
	return 0;
}

int buf_get_end(const struct buf *b)
{
	if (b == NULL) {
		return ZT_ERR_INVALID;
	}
	return b->size == b->off ? 0 : ZT_ERR_TRAILING;
}

int buf_dup_cstring(const struct buf *b, char **out)
{
	if (b == NULL || out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	return buf_strdup_checked(b->cd + b->off, b->size - b->off, out);
}
