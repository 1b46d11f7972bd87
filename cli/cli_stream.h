/*
 * cli_stream.h - one HTTP/1.1 exchange with the broker whose response body
 * is read as it arrives, for responses that stay open (MCP's SSE streams)
 * as much as for plain JSON ones (cli_http_request() is built on it).
 *
 * libcurl carries the exchange (cli_stream.c) over TLS that trusts only
 * the pinned broker CA (common/tls.h): opening a stream sends the request
 * and waits for the response's status line and headers; the body is then
 * read, already de-chunked, in pieces, each read waiting at most the
 * stream's timeout. Connections are kept alive: an exchange that ended
 * cleanly leaves its connection for the next one with the same broker and
 * pin, from any thread. HTTPS_PROXY and NO_PROXY are honoured as libcurl
 * does. The bearer token is wiped after use and never appears in an error
 * message; received bytes are wiped on close. curl_global_init() must have
 * run before the first stream is opened (ztctl's main does it). A stream
 * belongs to one thread at a time.
 */
#ifndef ZT_CLI_STREAM_H
#define ZT_CLI_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct cli_stream;

#define CLI_STREAM_BODY_MAX (4 * 1024 * 1024) /* bytes of a request body */
#define CLI_STREAM_HEAD_MAX 8192              /* bytes of a request's head */
#define CLI_STREAM_HEADERS_MAX 16             /* extra request headers */

struct cli_stream_header {
	const char *name;  /* a token */
	const char *value; /* visible bytes, spaces and tabs */
};

struct cli_stream_req {
	const char *method;                      /* a token: "GET", "POST", ... */
	const char *path;                        /* "/" then visible bytes */
	const char *bearer;                      /* "Authorization: Bearer"; NULL for none */
	const struct cli_stream_header *headers; /* nheaders more headers */
	size_t nheaders;
	const void *body;                        /* NULL: no body, no Content-Length */
	size_t body_len;
	/* Instead of body, a body of upload_len bytes pulled from upload() as
	 * libcurl sends it, for bodies too large to hold in memory (a PUT of a
	 * file): it fills p with up to n bytes and returns their count, 0 at
	 * the end, or a negative ZT_ERR_* to abort the exchange. NULL: none. */
	ssize_t (*upload)(void *arg, void *p, size_t n);
	void *upload_arg;
	int64_t upload_len;
};

/*
 * Connects to the broker at url ("https://HOST[:PORT]", cli_http_parse_url)
 * trusting only the CA with the given pin, sends req, and reads the
 * response's head. timeout_ms bounds the connection and handshake, each
 * write and each read (the head's included); while an upload body is
 * being sent, the wait for the head starts again after each piece of it.
 *
 * 0 with *out set (caller closes), whatever the status; otherwise a negative
 * ZT_ERR_* with one sentence for people in errbuf: ZT_ERR_INVALID (a bad
 * URL, pin, method, path, token or header; checked before connecting),
 * ZT_ERR_TOO_LARGE (a head past CLI_HTTP_HEADERS_MAX bytes or
 * CLI_HTTP_HEADER_COUNT_MAX lines), ZT_ERR_PIN (the broker's CA does not
 * match the pin), ZT_ERR_TLS, ZT_ERR_NET or ZT_ERR_TIMEOUT (cannot reach
 * the broker, directly or through the proxy), ZT_ERR_PROTOCOL (no or a
 * malformed response), ZT_ERR_NOMEM, ZT_ERR_IO, or upload()'s error.
 */
int cli_stream_open(const char *url, const char *pin, const struct cli_stream_req *req,
    int timeout_ms, struct cli_stream **out, char *errbuf, size_t errsz);

int cli_stream_status(const struct cli_stream *s);
/* From now on each read waits at most timeout_ms (> 0) for bytes. */
void cli_stream_set_timeout(struct cli_stream *s, int timeout_ms);
/* A copy of the first response header called name (case-insensitive),
 * trimmed and NUL-terminated, into out. 0, ZT_ERR_NOT_FOUND or
 * ZT_ERR_TOO_LARGE (out is then an empty string). */
int cli_stream_header(const struct cli_stream *s, const char *name, char *out, size_t outsz);
/* 1 if the response's Content-Type is the media type mt (case-insensitive,
 * parameters such as "; charset=utf-8" ignored), else 0. */
int cli_stream_is_type(const struct cli_stream *s, const char *mt);

/*
 * Reads up to n bytes of the decoded body into p: the count, 0 at the end of
 * the body, or a negative ZT_ERR_*: ZT_ERR_TIMEOUT when nothing arrived
 * within the timeout (nothing is lost: the call may be repeated, which is
 * how a reader of a long-lived stream waits), ZT_ERR_TRUNCATED when the
 * connection ended before the body did, ZT_ERR_PROTOCOL for a malformed
 * body, ZT_ERR_TOO_LARGE (trailers past the head's bounds), ZT_ERR_NOMEM
 * or ZT_ERR_IO.
 */
ssize_t cli_stream_read(struct cli_stream *s, void *p, size_t n);

/* Reads the rest of the body into body, whose maximum bounds it
 * (ZT_ERR_TOO_LARGE beyond); a timeout is an error here. 0 or a negative
 * ZT_ERR_* with one sentence for people in errbuf. */
int cli_stream_read_all(struct cli_stream *s, struct buf *body, char *errbuf, size_t errsz);

/* Ends the exchange and wipes what was received; NULL is a no-op. A
 * connection whose exchange did not end cleanly is closed; otherwise it is
 * kept for the next exchange. */
void cli_stream_close(struct cli_stream *s);

/* Closes the connections kept for reuse; for the end of the process, once
 * no stream is open (ztctl's main calls it before curl_global_cleanup). */
void cli_stream_cleanup(void);

#endif
