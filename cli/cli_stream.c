/*
 * cli_stream.c - an HTTP/1.1 exchange with the broker over a pinned TLS
 * connection, its response body read piece by piece as it arrives.
 *
 * The request goes out in one write from a bounded buffer that is wiped
 * afterwards (it holds the bearer token). The response head is read into a
 * fixed window until cli_http_parse_head() accepts it, then kept for header
 * look-ups; whatever followed it in the window is the start of the body.
 * The body is taken through its framing: a byte count, the chunked decoder
 * of cli_sse.c, or the end of the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "cli/cli_sse.h"
#include "cli/cli_stream.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/tls.h"

#define WINDOW (CLI_HTTP_HEADERS_MAX + 16384) /* the head, and then body reads */
#define LENGTH_MAX ((size_t)1 << 30)          /* a Content-Length we would read at all */
#define CHUNK_MAX ((uint64_t)1 << 30)         /* and a chunk's size */

struct cli_stream {
	struct tls_conn *c;
	struct cli_http_head head;
	uint8_t *head_bytes;       /* head.head_len bytes */
	struct cli_chunked *dec;   /* CLI_HTTP_BODY_CHUNKED */
	size_t left;               /* CLI_HTTP_BODY_LENGTH: bytes still to come */
	int ended;                 /* the body was read to its end */
	size_t off, len;           /* unread received bytes: window[off..len) */
	uint8_t window[WINDOW];
};

static int is_token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *s)
{
	if (s == NULL || *s == '\0') {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (!is_token_char(*s)) {
			return 0;
		}
	}
	return 1;
}

/* Visible bytes only (no space): a path or a token cannot split the line. */
static int is_visible(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* A header value: visible bytes, spaces and tabs; never CR or LF. */
static int is_field_value(const char *s)
{
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static int req_valid(const struct cli_stream_req *req)
{
	size_t i;

	if (req == NULL || !is_token(req->method) || req->path == NULL || req->path[0] != '/' ||
	    !is_visible(req->path) || (req->bearer != NULL && (req->bearer[0] == '\0' ||
	    !is_visible(req->bearer))) || req->nheaders > CLI_STREAM_HEADERS_MAX ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->body == NULL && req->body_len > 0) || req->body_len > CLI_STREAM_BODY_MAX) {
		return 0;
	}
	for (i = 0; i < req->nheaders; i++) {
		if (!is_token(req->headers[i].name) || req->headers[i].value == NULL ||
		    !is_field_value(req->headers[i].value)) {
			return 0;
		}
	}
	return 1;
}

static int build_request(struct buf *b, const char *host, const char *port,
    const struct cli_stream_req *req)
{
	int v6 = strchr(host, ':') != NULL, r;
	size_t i;

	if ((r = buf_putf(b, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: ztctl\r\n",
	    req->method, req->path, v6 ? "[" : "", host, v6 ? "]" : "", port)) != 0) {
		return r;
	}
	for (i = 0; i < req->nheaders; i++) {
		if ((r = buf_putf(b, "%s: %s\r\n", req->headers[i].name,
		    req->headers[i].value)) != 0) {
			return r;
		}
	}
	if (req->bearer != NULL &&
	    (r = buf_putf(b, "Authorization: Bearer %s\r\n", req->bearer)) != 0) {
		return r;
	}
	if (req->body != NULL &&
	    (r = buf_putf(b, "Content-Length: %zu\r\n", req->body_len)) != 0) {
		return r;
	}
	if ((r = buf_putf(b, "Connection: close\r\n\r\n")) != 0) {
		return r;
	}
	return req->body_len > 0 ? buf_put(b, req->body, req->body_len) : 0;
}

static void connect_error(int r, const char *url, const char *host, const char *pin,
    char *errbuf, size_t errsz)
{
	switch (r) {
	case ZT_ERR_PIN:
		snprintf(errbuf, errsz, "the broker at %s presented a certificate that does not "
		    "chain to the pinned CA %s (wrong --ca-pin, or not the real broker)", url, pin);
		break;
	case ZT_ERR_TLS:
		snprintf(errbuf, errsz, "TLS handshake with %s failed (is it a zt broker, and does "
		    "its certificate name %s? ZT_LOG_LEVEL=debug says more)", url, host);
		break;
	case ZT_ERR_TIMEOUT:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: timed out", url);
		break;
	default:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: %s", url, zt_strerror(r));
		break;
	}
}

/* Reads into the window until the head is complete. */
static int read_head(struct cli_stream *s, char *errbuf, size_t errsz)
{
	ssize_t got;
	int r;

	for (;;) {
		r = cli_http_parse_head(s->window, s->len, LENGTH_MAX, &s->head);
		if (r == 0) {
			break;
		}
		if (r != ZT_ERR_TRUNCATED || s->len == sizeof(s->window)) {
			snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
			    zt_strerror(r));
			return r == ZT_ERR_TOO_LARGE ? r : ZT_ERR_PROTOCOL;
		}
		got = tls_read(s->c, s->window + s->len, sizeof(s->window) - s->len);
		if (got == 0 || got == ZT_ERR_TRUNCATED) {
			snprintf(errbuf, errsz, "the broker closed the connection %s",
			    s->len == 0 ? "without answering" : "mid-response");
			return ZT_ERR_PROTOCOL;
		}
		if (got < 0) {
			snprintf(errbuf, errsz, "reading the broker's response failed: %s",
			    zt_strerror((int)got));
			return (int)got;
		}
		s->len += (size_t)got;
	}
	if ((s->head_bytes = malloc(s->head.head_len)) == NULL) {
		snprintf(errbuf, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	memcpy(s->head_bytes, s->window, s->head.head_len);
	s->off = s->head.head_len;
	switch (s->head.framing) {
	case CLI_HTTP_BODY_NONE:
		s->ended = 1;
		break;
	case CLI_HTTP_BODY_LENGTH:
		s->left = s->head.length;
		s->ended = s->left == 0;
		break;
	case CLI_HTTP_BODY_CHUNKED:
		if ((s->dec = cli_chunked_new(CHUNK_MAX, CLI_HTTP_HEADER_COUNT_MAX)) == NULL) {
			snprintf(errbuf, errsz, "out of memory");
			return ZT_ERR_NOMEM;
		}
		break;
	case CLI_HTTP_BODY_EOF:
		break;
	}
	if (s->ended && s->off < s->len) {
		snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
		    zt_strerror(ZT_ERR_TRAILING));
		return ZT_ERR_PROTOCOL;
	}
	return 0;
}

int cli_stream_open(const char *url, const char *pin, const struct cli_stream_req *req,
    int timeout_ms, struct cli_stream **out, char *errbuf, size_t errsz)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];
	struct cli_stream *s = NULL;
	struct buf *b = NULL;
	int r;

	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = cli_http_parse_url(url, host, sizeof(host), port, sizeof(port))) != 0) {
		snprintf(errbuf, errsz, "invalid broker URL (want https://HOST[:PORT])");
		goto out;
	}
	if (pin == NULL || tls_pin_valid(pin) != 0) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz,
		    "invalid CA pin (want sha256: and 64 lower-case hex digits)");
		goto out;
	}
	if (!req_valid(req) || timeout_ms <= 0) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz,
		    "invalid request (bad method, path, token, header or body)");
		goto out;
	}
	if ((b = buf_new(CLI_STREAM_HEAD_MAX + req->body_len)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	if ((r = build_request(b, host, port, req)) != 0) {
		snprintf(errbuf, errsz, "cannot build the request: %s", zt_strerror(r));
		goto out;
	}
	if ((r = tls_connect_pinned(host, port, pin, timeout_ms, &s->c)) != 0) {
		connect_error(r, url, host, pin, errbuf, errsz);
		goto out;
	}
	if ((r = tls_write_all(s->c, buf_ptr(b), buf_len(b))) != 0) {
		snprintf(errbuf, errsz, "sending the request to %s failed", url);
		goto out;
	}
	if ((r = read_head(s, errbuf, errsz)) != 0) {
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	buf_free(b); /* wipes the token and the body */
	cli_stream_close(s);
	return r;
}

int cli_stream_status(const struct cli_stream *s)
{
	return s->head.status;
}

int cli_stream_header(const struct cli_stream *s, const char *name, char *out, size_t outsz)
{
	const uint8_t *v;
	size_t vlen;
	int r;

	if (outsz == 0) {
		return ZT_ERR_TOO_LARGE;
	}
	out[0] = '\0';
	if ((r = cli_http_head_value(s->head_bytes, s->head.head_len, name, &v, &vlen)) != 0) {
		return r;
	}
	if (vlen >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

int cli_stream_is_type(const struct cli_stream *s, const char *mt)
{
	char v[256];
	size_t n = strlen(mt);

	if (cli_stream_header(s, "Content-Type", v, sizeof(v)) != 0 ||
	    strncasecmp(v, mt, n) != 0) {
		return 0;
	}
	return v[n] == '\0' || v[n] == ';' || v[n] == ' ' || v[n] == '\t';
}

/* Refills the empty window from the connection: 0, or 0 with *eof set when
 * the peer closed cleanly, or a negative ZT_ERR_* from tls_read(). */
static int refill(struct cli_stream *s, int *eof)
{
	ssize_t got = tls_read(s->c, s->window, sizeof(s->window));

	*eof = 0;
	s->off = 0;
	s->len = 0;
	if (got == 0) {
		*eof = 1;
		return 0;
	}
	if (got < 0) {
		return (int)got;
	}
	s->len = (size_t)got;
	return 0;
}

ssize_t cli_stream_read(struct cli_stream *s, void *p, size_t n)
{
	size_t used, got;
	int r, eof;

	if (s == NULL || (p == NULL && n > 0)) {
		return ZT_ERR_INVALID;
	}
	while (!s->ended && n > 0) {
		if (s->off == s->len) {
			r = refill(s, &eof);
			if (r == ZT_ERR_TRUNCATED || (r == 0 && eof)) {
				/* Only a body read to the end of the connection may end
				 * here, and only with a clean close. */
				if (s->head.framing == CLI_HTTP_BODY_EOF && r == 0) {
					s->ended = 1;
					return 0;
				}
				return ZT_ERR_TRUNCATED;
			}
			if (r != 0) {
				return r;
			}
			continue;
		}
		switch (s->head.framing) {
		case CLI_HTTP_BODY_LENGTH:
			got = s->len - s->off;
			got = got < n ? got : n;
			got = got < s->left ? got : s->left;
			memcpy(p, s->window + s->off, got);
			s->off += got;
			s->left -= got;
			s->ended = s->left == 0;
			break;
		case CLI_HTTP_BODY_CHUNKED:
			r = cli_chunked_decode(s->dec, s->window + s->off, s->len - s->off, &used,
			    p, n, &got);
			s->off += used;
			if (r != 0) {
				return r;
			}
			s->ended = cli_chunked_done(s->dec);
			break;
		default: /* CLI_HTTP_BODY_EOF */
			got = s->len - s->off;
			got = got < n ? got : n;
			memcpy(p, s->window + s->off, got);
			s->off += got;
			break;
		}
		if (s->ended && s->off < s->len) {
			return ZT_ERR_TRAILING;
		}
		if (got > 0) {
			return (ssize_t)got;
		}
	}
	return 0;
}

/* A sentence for a failed body read, and the error to return for it. */
static int read_error(int r, char *errbuf, size_t errsz)
{
	switch (r) {
	case ZT_ERR_TRUNCATED:
		snprintf(errbuf, errsz, "the broker closed the connection mid-response");
		return ZT_ERR_PROTOCOL;
	case ZT_ERR_PROTOCOL:
	case ZT_ERR_TRAILING:
	case ZT_ERR_TOO_LARGE:
		snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
		    zt_strerror(r));
		return r == ZT_ERR_TOO_LARGE ? r : ZT_ERR_PROTOCOL;
	default:
		snprintf(errbuf, errsz, "reading the broker's response failed: %s",
		    zt_strerror(r));
		return r;
	}
}

int cli_stream_read_all(struct cli_stream *s, struct buf *body, char *errbuf, size_t errsz)
{
	uint8_t chunk[16384];
	ssize_t got;
	int r;

	for (;;) {
		got = cli_stream_read(s, chunk, sizeof(chunk));
		if (got == 0) {
			r = 0;
			break;
		}
		if (got < 0) {
			r = read_error((int)got, errbuf, errsz);
			break;
		}
		if ((r = buf_put(body, chunk, (size_t)got)) != 0) {
			snprintf(errbuf, errsz, "the broker's response is larger than %zu bytes",
			    buf_max(body));
			break;
		}
	}
	crypto_wipe(chunk, sizeof(chunk));
	return r;
}

void cli_stream_close(struct cli_stream *s)
{
	if (s == NULL) {
		return;
	}
	tls_close(s->c);
	cli_chunked_free(s->dec);
	if (s->head_bytes != NULL) {
		crypto_wipe(s->head_bytes, s->head.head_len);
		free(s->head_bytes);
	}
	crypto_wipe(s->window, sizeof(s->window));
	free(s);
}
