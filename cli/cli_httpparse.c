/*
 * cli_httpparse.c - the strict HTTP/1.x response parser behind ztctl's
 * broker client (cli_http_parse_response in cli/cli_http.h).
 *
 * The parser is stateless; the caller feeds it everything received so far
 * and it says "complete", "need more" or "malformed". Anything it does not
 * expect from the broker (1xx, obsolete folding, odd framing) is refused
 * rather than guessed at, so a confused or hostile peer gets no leeway.
 * Its head parser also serves the streaming reader (cli_stream.c, through
 * cli_http_parse_head), and chunked bodies go through the streaming decoder
 * of cli_sse.c, so each part of a response is read by one piece of code
 * however it arrives.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "cli/cli_sse.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"

struct head {
	int status;
	int http11;
	enum cli_http_framing framing;
	size_t length;     /* CLI_HTTP_BODY_LENGTH */
	size_t length_max; /* a larger Content-Length is refused */
	int have_length;
	int have_te;
	size_t nheaders;
};

/* Finds the CRLF ending the line at p[off..n) within limit bytes of off.
 * *eol is the index of the CR. 0, ZT_ERR_TRUNCATED (no CRLF yet),
 * ZT_ERR_TOO_LARGE (no CRLF within limit) or ZT_ERR_PROTOCOL (bare CR/LF). */
static int find_eol(const uint8_t *p, size_t n, size_t off, size_t limit, size_t *eol)
{
	size_t i;

	for (i = off; i < n; i++) {
		if (i - off >= limit) {
			return ZT_ERR_TOO_LARGE;
		}
		if (p[i] == '\n') {
			return ZT_ERR_PROTOCOL;
		}
		if (p[i] == '\r') {
			if (i + 1 >= n) {
				return ZT_ERR_TRUNCATED;
			}
			if (p[i + 1] != '\n') {
				return ZT_ERR_PROTOCOL;
			}
			*eol = i;
			return 0;
		}
	}
	return n - off >= limit ? ZT_ERR_TOO_LARGE : ZT_ERR_TRUNCATED;
}

/* RFC 9110 tchar. */
static int is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		return 1;
	}
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value and reason phrase bytes: HTAB, SP, VCHAR, obs-text. */
static int is_vbyte(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int parse_status_line(const uint8_t *p, size_t len, struct head *h)
{
	size_t i;

	/* "HTTP/1.x NNN" then nothing or " reason". */
	if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11])) {
		return ZT_ERR_PROTOCOL;
	}
	h->http11 = p[7] == '1';
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (h->status < 200 || h->status > 599) {
		return ZT_ERR_PROTOCOL;
	}
	if (len > 12 && p[12] != ' ') {
		return ZT_ERR_PROTOCOL;
	}
	for (i = 13; i < len; i++) {
		if (!is_vbyte(p[i])) {
			return ZT_ERR_PROTOCOL;
		}
	}
	return 0;
}

static int name_is(const uint8_t *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && strncasecmp((const char *)name, want, nlen) == 0;
}

/* Splits one field line p[0..len) into name and trimmed value. */
static int split_field(const uint8_t *p, size_t len, size_t *nlen, const uint8_t **val,
    size_t *vlen)
{
	size_t i = 0, a, b;

	/* A leading space or tab would be obsolete line folding (refused), and
	 * every name byte must be a token character. */
	while (i < len && p[i] != ':') {
		if (!is_tchar(p[i])) {
			return ZT_ERR_PROTOCOL;
		}
		i++;
	}
	if (i == 0 || i == len) {
		return ZT_ERR_PROTOCOL;
	}
	*nlen = i;
	for (a = i + 1; a < len; a++) {
		if (!is_vbyte(p[a])) {
			return ZT_ERR_PROTOCOL;
		}
	}
	a = i + 1;
	b = len;
	while (a < b && (p[a] == ' ' || p[a] == '\t')) {
		a++;
	}
	while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) {
		b--;
	}
	*val = p + a;
	*vlen = b - a;
	return 0;
}

static int parse_length(const uint8_t *v, size_t vlen, size_t max, size_t *out)
{
	size_t i, len = 0;

	if (vlen == 0) {
		return ZT_ERR_PROTOCOL;
	}
	for (i = 0; i < vlen; i++) {
		if (!is_digit(v[i])) {
			return ZT_ERR_PROTOCOL;
		}
		len = len * 10 + (size_t)(v[i] - '0');
		if (len > max) {
			return ZT_ERR_TOO_LARGE;
		}
	}
	*out = len;
	return 0;
}

static int header_field(const uint8_t *p, size_t len, struct head *h)
{
	const uint8_t *v;
	size_t nlen, vlen;
	int r;

	if (++h->nheaders > CLI_HTTP_HEADER_COUNT_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = split_field(p, len, &nlen, &v, &vlen)) != 0) {
		return r;
	}
	if (name_is(p, nlen, "content-length")) {
		/* A repeated Content-Length is a request-smuggling smell: refuse. */
		if (h->have_length) {
			return ZT_ERR_PROTOCOL;
		}
		h->have_length = 1;
		return parse_length(v, vlen, h->length_max, &h->length);
	}
	if (name_is(p, nlen, "transfer-encoding")) {
		if (h->have_te || !h->http11 || vlen != 7 ||
		    strncasecmp((const char *)v, "chunked", 7) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		h->have_te = 1;
	}
	return 0;
}

/* Parses the status line and headers; *off is set past the blank line. */
static int parse_head(const uint8_t *p, size_t n, size_t length_max, struct head *h,
    size_t *off)
{
	size_t pos = 0, eol;
	int r;

	memset(h, 0, sizeof(*h));
	h->length_max = length_max;
	if ((r = find_eol(p, n, 0, CLI_HTTP_HEADERS_MAX, &eol)) != 0) {
		return r;
	}
	if ((r = parse_status_line(p, eol, h)) != 0) {
		return r;
	}
	pos = eol + 2;
	for (;;) {
		if (pos >= CLI_HTTP_HEADERS_MAX) {
			return ZT_ERR_TOO_LARGE;
		}
		if ((r = find_eol(p, n, pos, CLI_HTTP_HEADERS_MAX - pos, &eol)) != 0) {
			return r;
		}
		if (eol == pos) {
			pos += 2;
			break;
		}
		if ((r = header_field(p + pos, eol - pos, h)) != 0) {
			return r;
		}
		pos = eol + 2;
	}
	if (h->have_te && h->have_length) {
		return ZT_ERR_PROTOCOL;
	}
	if (h->status == 204 || h->status == 304) {
		h->framing = CLI_HTTP_BODY_NONE;
	} else if (h->have_te) {
		h->framing = CLI_HTTP_BODY_CHUNKED;
	} else if (h->have_length) {
		h->framing = CLI_HTTP_BODY_LENGTH;
	} else {
		h->framing = CLI_HTTP_BODY_EOF;
	}
	*off = pos;
	return 0;
}

/* A chunked body, decoded by the same decoder that reads a streamed one
 * (cli_sse.c): chunks bounded by the response limit, trailer fields by
 * what the header count left. */
static int parse_chunked(const uint8_t *p, size_t n, size_t pos, struct head *h,
    struct buf *body)
{
	struct cli_chunked *d;
	uint8_t out[4096];
	size_t used, got;
	int r = 0;

	if ((d = cli_chunked_new(CLI_HTTP_RESP_MAX, CLI_HTTP_HEADER_COUNT_MAX - h->nheaders)) ==
	    NULL) {
		return ZT_ERR_NOMEM;
	}
	while (r == 0 && pos < n && !cli_chunked_done(d)) {
		r = cli_chunked_decode(d, p + pos, n - pos, &used, out, sizeof(out), &got);
		pos += used;
		if (r == 0 && got > 0) {
			r = buf_put(body, out, got);
		}
	}
	if (r == 0 && !cli_chunked_done(d)) {
		r = ZT_ERR_TRUNCATED;
	} else if (r == 0 && pos != n) {
		r = ZT_ERR_TRAILING;
	}
	cli_chunked_free(d);
	crypto_wipe(out, sizeof(out));
	return r;
}

/* buf_put of nothing is skipped: the buffer may not have memory yet. */
static int put_body(struct buf *body, const uint8_t *p, size_t n)
{
	return n == 0 ? 0 : buf_put(body, p, n);
}

int cli_http_parse_response(const uint8_t *p, size_t n, int eof, int *status, struct buf *body)
{
	struct head h;
	size_t pos = 0;
	int r;

	if (body == NULL || status == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	buf_reset(body);
	if (n == 0) {
		r = ZT_ERR_TRUNCATED;
		goto out;
	}
	if ((r = parse_head(p, n, CLI_HTTP_RESP_MAX, &h, &pos)) != 0) {
		goto out;
	}
	switch (h.framing) {
	case CLI_HTTP_BODY_NONE:
		r = pos == n ? 0 : ZT_ERR_TRAILING;
		break;
	case CLI_HTTP_BODY_LENGTH:
		if (n - pos < h.length) {
			r = ZT_ERR_TRUNCATED;
		} else if (n - pos > h.length) {
			r = ZT_ERR_TRAILING;
		} else {
			r = put_body(body, p + pos, h.length);
		}
		break;
	case CLI_HTTP_BODY_CHUNKED:
		r = parse_chunked(p, n, pos, &h, body);
		break;
	case CLI_HTTP_BODY_EOF:
		r = eof ? put_body(body, p + pos, n - pos) : ZT_ERR_TRUNCATED;
		break;
	}
	if (r == 0) {
		*status = h.status;
	}
out:
	if (r != 0) {
		buf_reset(body);
	}
	return r;
}

int cli_http_parse_head(const uint8_t *p, size_t n, size_t length_max, struct cli_http_head *out)
{
	struct head h;
	size_t pos = 0;
	int r;

	if (out == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	if (n == 0) {
		return ZT_ERR_TRUNCATED;
	}
	if ((r = parse_head(p, n, length_max, &h, &pos)) != 0) {
		return r;
	}
	out->status = h.status;
	out->framing = h.framing;
	out->length = h.length;
	out->head_len = pos;
	return 0;
}

int cli_http_head_value(const uint8_t *p, size_t head_len, const char *name, const uint8_t **v,
    size_t *vlen)
{
	size_t pos, eol, nlen;

	*v = NULL;
	*vlen = 0;
	/* The head was checked by cli_http_parse_head(): every line is well
	 * formed and ends in CRLF within its limits. */
	if (p == NULL || name == NULL ||
	    find_eol(p, head_len, 0, CLI_HTTP_HEADERS_MAX, &eol) != 0) {
		return ZT_ERR_INVALID;
	}
	for (pos = eol + 2; pos < head_len; pos = eol + 2) {
		if (find_eol(p, head_len, pos, CLI_HTTP_HEADERS_MAX, &eol) != 0) {
			return ZT_ERR_INVALID;
		}
		if (eol == pos) {
			break;
		}
		if (split_field(p + pos, eol - pos, &nlen, v, vlen) != 0) {
			return ZT_ERR_INVALID;
		}
		if (name_is(p + pos, nlen, name)) {
			return 0;
		}
	}
	*v = NULL;
	*vlen = 0;
	return ZT_ERR_NOT_FOUND;
}
