/*
 * desk.c - the desktop protocol's frame codec (see desk.h): length-prefixed
 * JSON heads with an optional bulk body, read with a deadline and parsed
 * with named bounds.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/net.h"
#include "tunnel/desk.h"

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int desk_write(int fd, const cJSON *head, const void *body, size_t len)
{
	unsigned char hdr[4];
	char *text = NULL;
	size_t hl;
	int is_sock = 1;
	int rc;

	if (len > DESK_BODY_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	text = cJSON_PrintUnformatted(head);
	if (text == NULL) {
		return ZT_ERR_NOMEM;
	}
	hl = strlen(text);
	if (hl < 1 || hl > DESK_HEAD_MAX) {
		rc = ZT_ERR_TOO_LARGE;
		goto out;
	}
	put_u32(hdr, (uint32_t)hl);
	if ((rc = net_send_all(fd, hdr, 4, &is_sock)) != 0) {
		goto out;
	}
	if ((rc = net_send_all(fd, text, hl, &is_sock)) != 0) {
		goto out;
	}
	put_u32(hdr, (uint32_t)len);
	if ((rc = net_send_all(fd, hdr, 4, &is_sock)) != 0) {
		goto out;
	}
	if (len > 0) {
		rc = net_send_all(fd, body, len, &is_sock);
	}
out:
	/* The head may have carried a password (a connect request). */
	crypto_wipe(text, strlen(text));
	free(text);
	return rc;
}

/* The head's bytes as a JSON object, or ZT_ERR_PROTOCOL. */
static int parse_head(const unsigned char *p, size_t n, cJSON **out)
{
	cJSON *v = NULL;
	int rc = json_parse(p, n, DESK_HEAD_MAX, JSON_DEFAULT_DEPTH, &v);

	if (rc == ZT_ERR_NOMEM) {
		return rc;
	}
	if (rc != 0 || !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return ZT_ERR_PROTOCOL;
	}
	*out = v;
	return 0;
}

int desk_parse(const void *buf, size_t len, struct desk_frame *f, size_t *used)
{
	const unsigned char *p = buf;
	uint32_t hl, bl;
	int rc;

	memset(f, 0, sizeof(*f));
	*used = 0;
	if (len < 4) {
		return ZT_ERR_TRUNCATED;
	}
	hl = get_u32(p);
	if (hl < 1 || hl > DESK_HEAD_MAX) {
		return ZT_ERR_PROTOCOL;
	}
	if (len - 4 < (size_t)hl + 4) {
		return ZT_ERR_TRUNCATED;
	}
	bl = get_u32(p + 4 + hl);
	if (bl > DESK_BODY_MAX) {
		return ZT_ERR_PROTOCOL;
	}
	if (len - 8 - hl < bl) {
		return ZT_ERR_TRUNCATED;
	}
	if ((rc = parse_head(p + 4, hl, &f->head)) != 0) {
		return rc;
	}
	if (bl > 0) {
		f->body = malloc(bl);
		if (f->body == NULL) {
			desk_frame_clear(f);
			return ZT_ERR_NOMEM;
		}
		memcpy(f->body, p + 8 + hl, bl);
		f->body_len = bl;
	}
	*used = 8 + (size_t)hl + bl;
	return 0;
}

/* Reads exactly n bytes before the deadline (net_mono_ms time, or -1).
 * *got counts the bytes read so far, for telling a clean EOF. */
static int read_full(int fd, void *p, size_t n, int64_t deadline, size_t *got)
{
	unsigned char *b = p;
	size_t off = 0;

	while (off < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1, pr;
		ssize_t r;

		if (deadline >= 0) {
			int64_t left = deadline - net_mono_ms();

			/* Past the deadline, bytes already there still count. */
			wait = left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
		}
		pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr < 0) {
			return ZT_ERR_IO;
		}
		if (pr == 0) {
			return ZT_ERR_TIMEOUT;
		}
		r = read(fd, b + off, n - off);
		if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
			continue;
		}
		if (r < 0) {
			return ZT_ERR_IO;
		}
		if (r == 0) {
			return *got == 0 ? ZT_ERR_OFFLINE : ZT_ERR_TRUNCATED;
		}
		off += (size_t)r;
		*got += (size_t)r;
	}
	return 0;
}

int desk_read(int fd, int timeout_ms, struct desk_frame *f)
{
	unsigned char hdr[4];
	unsigned char *head = NULL;
	int64_t deadline = timeout_ms < 0 ? -1 : net_mono_ms() + timeout_ms;
	size_t got = 0;
	uint32_t hl = 0, bl;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = read_full(fd, hdr, 4, deadline, &got)) != 0) {
		goto out;
	}
	hl = get_u32(hdr);
	if (hl < 1 || hl > DESK_HEAD_MAX) {
		rc = ZT_ERR_PROTOCOL;
		goto out;
	}
	head = malloc(hl);
	if (head == NULL) {
		rc = ZT_ERR_NOMEM;
		goto out;
	}
	if ((rc = read_full(fd, head, hl, deadline, &got)) != 0) {
		goto out;
	}
	if ((rc = read_full(fd, hdr, 4, deadline, &got)) != 0) {
		goto out;
	}
	bl = get_u32(hdr);
	if (bl > DESK_BODY_MAX) {
		rc = ZT_ERR_PROTOCOL;
		goto out;
	}
	if ((rc = parse_head(head, hl, &f->head)) != 0) {
		goto out;
	}
	if (bl > 0) {
		f->body = malloc(bl);
		if (f->body == NULL) {
			rc = ZT_ERR_NOMEM;
			goto out;
		}
		f->body_len = bl;
		rc = read_full(fd, f->body, bl, deadline, &got);
	}
out:
	if (head != NULL) {
		crypto_wipe(head, hl);
		free(head);
	}
	if (rc != 0) {
		desk_frame_clear(f);
	}
	return rc;
}

int desk_nla_hash_valid(const char *s)
{
	if (s == NULL || strlen(s) != DESK_NLA_HASH_LEN ||
	    strspn(s, "0123456789abcdefABCDEF") != DESK_NLA_HASH_LEN) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

cJSON *desk_failure(const char *code, const char *fmt, ...)
{
	cJSON *a = cJSON_CreateObject();
	char msg[DESK_MESSAGE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a == NULL || !cJSON_AddFalseToObject(a, "ok") ||
	    !cJSON_AddStringToObject(a, "code", code) ||
	    !cJSON_AddStringToObject(a, "message", msg)) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

void desk_frame_clear(struct desk_frame *f)
{
	if (f == NULL) {
		return;
	}
	cJSON_Delete(f->head);
	if (f->body != NULL) {
		crypto_wipe(f->body, f->body_len);
		free(f->body);
	}
	memset(f, 0, sizeof(*f));
}
