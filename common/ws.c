/*
 * ws.c - the WebSocket frame codec (ws.h).
 */
#include "common/ws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"

struct ws_reader {
	int masked;                     /* the frames read must be masked */
	size_t msg_max;
	struct buf *msg;                /* the message being joined */
	enum ws_opcode msg_op;          /* its opcode; WS_OP_CONT while none */
	int done;                       /* msg was handed out: reset at the next read */
	uint8_t ctrl[WS_CONTROL_MAX];   /* the last control frame's payload */
	uint16_t refused;               /* the close code owed; 0 while none */
};

/* ---- writing ---- */

size_t ws_frame_head(uint8_t out[WS_HEAD_MAX], int fin, enum ws_opcode op, uint64_t n,
    const uint8_t *mask)
{
	size_t k = 2;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	out[1] = mask != NULL ? 0x80 : 0;
	if (n < 126) {
		out[1] |= (uint8_t)n;
	} else if (n <= 0xffff) {
		out[1] |= 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		k = 4;
	} else {
		out[1] |= 127;
		for (int i = 0; i < 8; i++) {
			out[2 + i] = (uint8_t)(n >> (56 - 8 * i));
		}
		k = 10;
	}
	if (mask != NULL) {
		memcpy(out + k, mask, 4);
		k += 4;
	}
	return k;
}

void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++) {
		p[i] ^= key[(offset + i) & 3];
	}
}

int ws_frame_put(struct buf *out, int fin, enum ws_opcode op, const void *p, size_t n,
    const uint8_t *mask)
{
	uint8_t head[WS_HEAD_MAX], tmp[4096];
	size_t hl = ws_frame_head(head, fin, op, n, mask), k;
	int r;

	if (n > buf_max(out) || buf_len(out) + hl > buf_max(out) - n) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = buf_put(out, head, hl)) != 0) {
		return r;
	}
	for (size_t done = 0; done < n; done += k) {
		k = n - done < sizeof(tmp) ? n - done : sizeof(tmp);
		memcpy(tmp, (const uint8_t *)p + done, k);
		if (mask != NULL) {
			ws_mask(tmp, k, mask, done);
		}
		if ((r = buf_put(out, tmp, k)) != 0) {
			return r;
		}
	}
	return 0;
}

/* 1 if p[0..n) is UTF-8 (NUL allowed, as WebSocket text allows it). */
static int utf8(const uint8_t *p, size_t n)
{
	size_t k;

	for (size_t i = 0; i < n; i += k) {
		if ((k = json_utf8_seq(p + i, n - i)) == 0) {
			return 0;
		}
	}
	return 1;
}

/* ---- the handshake ---- */

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int ws_client_key(char key[WS_KEY_LEN + 1])
{
	uint8_t raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		return ZT_ERR_CRYPTO;
	}
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	return 0;
}

int ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1])
{
	uint8_t raw[18], digest[20];
	char text[WS_KEY_LEN + sizeof(WS_GUID)];
	unsigned int dlen = 0;

	/* 24 characters ending in "==" decode to exactly 16 bytes (18 with
	 * the padding's two zeros). */
	if (key == NULL || strlen(key) != WS_KEY_LEN || strcmp(key + 22, "==") != 0 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key, WS_KEY_LEN) != 18) {
		return ZT_ERR_INVALID;
	}
	memcpy(text, key, WS_KEY_LEN);
	memcpy(text + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID));
	if (EVP_Digest(text, strlen(text), digest, &dlen, EVP_sha1(), NULL) != 1 || dlen != 20) {
		return ZT_ERR_CRYPTO;
	}
	EVP_EncodeBlock((unsigned char *)accept, digest, sizeof(digest));
	return 0;
}

/* The value of a header line's field (after "Name:"), trimmed: *v and *vn. */
static void trim_value(const char *s, size_t n, const char **v, size_t *vn)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
		n--;
	}
	*v = s;
	*vn = n;
}

/* One header line of an answer into out: 0 or ZT_ERR_INVALID. */
static int answer_header(const char *line, size_t n, struct ws_answer *out)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t name_len, vn;

	if (colon == NULL || colon == line) {
		return ZT_ERR_INVALID;
	}
	name_len = (size_t)(colon - line);
	trim_value(colon + 1, n - name_len - 1, &v, &vn);
	if (name_len == 20 && strncasecmp(line, "Sec-WebSocket-Accept", 20) == 0) {
		if (vn != WS_ACCEPT_LEN) {
			return ZT_ERR_INVALID;
		}
		memcpy(out->accept, v, vn);
		out->accept[vn] = '\0';
	} else if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (vn == 0 || vn > 18) {
			return ZT_ERR_INVALID;
		}
		out->content_length = 0;
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9') {
				return ZT_ERR_INVALID;
			}
			out->content_length = out->content_length * 10 + (uint64_t)(v[i] - '0');
		}
	}
	return 0;
}

int ws_parse_answer(const char *p, size_t n, struct ws_answer *out)
{
	const char *end = p + n, *line = p, *eol;
	int first = 1;

	memset(out, 0, sizeof(*out));
	if (n > WS_ANSWER_MAX || memchr(p, '\0', n) != NULL) {
		return ZT_ERR_INVALID;
	}
	for (; line < end; line = eol + 2) {
		size_t len;

		if ((eol = memmem(line, (size_t)(end - line), "\r\n", 2)) == NULL) {
			return ZT_ERR_INVALID;
		}
		len = (size_t)(eol - line);
		if (len == 0) {
			return first ? ZT_ERR_INVALID : 0;     /* the blank line: the end */
		}
		if (first) {
			if (len < 12 || memcmp(line, "HTTP/1.1 ", 9) != 0 || line[9] < '1' ||
			    line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
			    line[11] > '9' || (len > 12 && line[12] != ' ')) {
				return ZT_ERR_INVALID;
			}
			out->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
			first = 0;
		} else if (answer_header(line, len, out) != 0) {
			return ZT_ERR_INVALID;
		}
	}
	return ZT_ERR_INVALID;                          /* no blank line */
}

size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code, const char *reason)
{
	size_t n = 2, k;

	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	for (const char *q = reason != NULL ? reason : ""; *q != '\0'; q += k) {
		k = json_utf8_seq(q, strlen(q));
		if (k == 0 || n + k > WS_CONTROL_MAX) {
			break;
		}
		memcpy(out + n, q, k);
		n += k;
	}
	return n;
}

/* ---- reading ---- */

struct ws_reader *ws_reader_new(int masked, size_t msg_max)
{
	struct ws_reader *r;

	if (msg_max == 0 || (r = calloc(1, sizeof(*r))) == NULL) {
		return NULL;
	}
	if ((r->msg = buf_new(msg_max)) == NULL) {
		free(r);
		return NULL;
	}
	r->masked = masked != 0;
	r->msg_max = msg_max;
	return r;
}

void ws_reader_free(struct ws_reader *r)
{
	if (r != NULL) {
		buf_free(r->msg);
		free(r);
	}
}

uint16_t ws_reader_close_code(const struct ws_reader *r)
{
	return r->refused;
}

static int refuse(struct ws_reader *r, uint16_t code)
{
	r->refused = code;
	return code == WS_CLOSE_TOO_BIG ? ZT_ERR_TOO_LARGE : ZT_ERR_PROTOCOL;
}

/* A close code a peer may send (RFC 6455 7.4; 1012-1014 as IANA added). */
static int close_code_ok(uint16_t c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/* A control frame's payload p[0..n) (unmasked into r->ctrl) as ev. */
static int control(struct ws_reader *r, enum ws_opcode op, const uint8_t *p, size_t n,
    const uint8_t *key, struct ws_event *ev)
{
	memcpy(r->ctrl, p, n);
	if (key != NULL) {
		ws_mask(r->ctrl, n, key, 0);
	}
	ev->data = r->ctrl;
	ev->len = n;
	if (op == WS_OP_PING || op == WS_OP_PONG) {
		ev->kind = op == WS_OP_PING ? WS_PING : WS_PONG;
		return 0;
	}
	ev->kind = WS_CLOSE;
	ev->close_code = WS_CLOSE_NO_STATUS;
	if (n == 0) {
		return 0;
	}
	if (n == 1) {
		return refuse(r, WS_CLOSE_PROTOCOL);
	}
	ev->close_code = (uint16_t)(r->ctrl[0] << 8 | r->ctrl[1]);
	if (!close_code_ok(ev->close_code)) {
		return refuse(r, WS_CLOSE_PROTOCOL);
	}
	if (!utf8(r->ctrl + 2, n - 2)) {
		return refuse(r, WS_CLOSE_BAD_DATA);
	}
	ev->data = r->ctrl + 2;
	ev->len = n - 2;
	return 0;
}

/* A data frame's payload p[0..n) joined to the message. */
static int data(struct ws_reader *r, int fin, const uint8_t *p, size_t n, const uint8_t *key,
    struct ws_event *ev)
{
	uint8_t tmp[4096];
	size_t k;
	int rc;

	for (size_t done = 0; done < n; done += k) {
		k = n - done < sizeof(tmp) ? n - done : sizeof(tmp);
		memcpy(tmp, p + done, k);
		if (key != NULL) {
			ws_mask(tmp, k, key, done);
		}
		if ((rc = buf_put(r->msg, tmp, k)) != 0) {
			return rc == ZT_ERR_TOO_LARGE ? refuse(r, WS_CLOSE_TOO_BIG) : rc;
		}
	}
	if (!fin) {
		return 0;                   /* more fragments to come */
	}
	if (r->msg_op == WS_OP_TEXT && !utf8(buf_ptr(r->msg), buf_len(r->msg))) {
		return refuse(r, WS_CLOSE_BAD_DATA);
	}
	ev->kind = r->msg_op == WS_OP_TEXT ? WS_TEXT : WS_BINARY;
	ev->data = buf_ptr(r->msg);
	ev->len = buf_len(r->msg);
	r->done = 1;
	return 0;
}

int ws_read(struct ws_reader *r, const uint8_t *p, size_t n, size_t *used,
    struct ws_event *ev)
{
	const uint8_t *key = NULL;
	uint64_t len;
	size_t hl = 2;
	int fin, op, ctl;

	*used = 0;
	memset(ev, 0, sizeof(*ev));
	if (r->refused != 0) {
		return ZT_ERR_PROTOCOL;
	}
	if (r->done) {
		buf_reset(r->msg);
		r->msg_op = WS_OP_CONT;
		r->done = 0;
	}
	if (n < 2) {
		return 0;
	}
	fin = (p[0] & 0x80) != 0;
	op = p[0] & 0x0f;
	ctl = op >= 0x8;
	if ((p[0] & 0x70) != 0 || !(op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG)) ||
	    ((p[1] & 0x80) != 0) != r->masked) {
		return refuse(r, WS_CLOSE_PROTOCOL);
	}
	len = p[1] & 0x7f;
	if (len == 126) {
		if (n < 4) {
			return 0;
		}
		len = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
		if (len < 126) {
			return refuse(r, WS_CLOSE_PROTOCOL);   /* not its shortest form */
		}
	} else if (len == 127) {
		if (n < 10) {
			return 0;
		}
		len = 0;
		for (int i = 0; i < 8; i++) {
			len = len << 8 | p[2 + i];
		}
		hl = 10;
		if (len >> 63 != 0 || len <= 0xffff) {
			return refuse(r, WS_CLOSE_PROTOCOL);
		}
	}
	if (ctl && (!fin || len > WS_CONTROL_MAX)) {
		return refuse(r, WS_CLOSE_PROTOCOL);
	}
	if (!ctl) {
		if ((op == WS_OP_CONT) != (r->msg_op != WS_OP_CONT)) {
			return refuse(r, WS_CLOSE_PROTOCOL);   /* no message to go on, or one open */
		}
		if (len > r->msg_max - buf_len(r->msg)) {
			return refuse(r, WS_CLOSE_TOO_BIG);
		}
	}
	if (r->masked) {
		if (n < hl + 4) {
			return 0;
		}
		key = p + hl;
		hl += 4;
	}
	if (n - hl < len) {
		return 0;
	}
	*used = hl + (size_t)len;
	if (ctl) {
		return control(r, (enum ws_opcode)op, p + hl, (size_t)len, key, ev);
	}
	if (op != WS_OP_CONT) {
		r->msg_op = (enum ws_opcode)op;
	}
	return data(r, fin, p + hl, (size_t)len, key, ev);
}
