/*
 * cli_http.h - ztctl's HTTPS client for the broker's JSON API.
 *
 * One request per connection (Connection: close) over a TLS connection that
 * trusts only the pinned broker CA (common/tls.h). Responses are bounded
 * (CLI_HTTP_RESP_MAX), parsed by a strict HTTP/1.1 response parser that is
 * fuzzed on its own, and their bodies parsed with the bounded JSON parser.
 * The bearer token is never written to an error message or a log line.
 */
#ifndef ZT_CLI_HTTP_H
#define ZT_CLI_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct buf;

#define CLI_HTTP_DEFAULT_PORT "8443"
#define CLI_HTTP_RESP_MAX (1024 * 1024) /* bytes of a whole response */
#define CLI_HTTP_HEADERS_MAX 16384      /* bytes of the status line and headers */
#define CLI_HTTP_HEADER_COUNT_MAX 64    /* header (and trailer) lines */
#define CLI_HTTP_TIMEOUT_MS 15000       /* connect+handshake, and each read/write */
#define CLI_HTTP_HOST_MAX 255
#define CLI_HTTP_PORT_MAX 6             /* "65535" + NUL */

/* Parses a broker URL strictly: "https://" HOST [":" PORT] ["/"], where HOST is
 * a DNS name, an IPv4 address or an IPv6 address in brackets, and PORT is
 * 1..65535 (default 8443). Refuses other schemes (http://), userinfo, paths,
 * queries and fragments. Writes the host without brackets. 0 or
 * ZT_ERR_INVALID (ZT_ERR_TOO_LARGE when host does not fit). */
int cli_http_parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz);

/*
 * Parses an HTTP/1.x response received so far, p[0..n). eof says whether the
 * peer closed the connection cleanly after those bytes.
 *
 * Strict: CRLF line endings, "HTTP/1.0" or "HTTP/1.1", a 3-digit status in
 * 200..599 (interim 1xx responses are refused), header names that are tokens,
 * no obsolete line folding, no control bytes in values, at most
 * CLI_HTTP_HEADER_COUNT_MAX headers in at most CLI_HTTP_HEADERS_MAX bytes.
 * The body is framed by "Transfer-Encoding: chunked", by Content-Length, or
 * by the end of the connection; both framings at once, another transfer
 * coding or conflicting lengths are refused. 204 and 304 have no body.
 *
 * body is a caller-made buffer whose maximum bounds the decoded body
 * (ZT_ERR_TOO_LARGE beyond); it is emptied first. Returns 0 when the response
 * is complete: *status is set and body holds the decoded (de-chunked) body.
 * Bytes after a framed response are refused (ZT_ERR_TRAILING). ZT_ERR_TRUNCATED means more bytes are needed (at
 * eof: the response was cut short); ZT_ERR_PROTOCOL a malformed response;
 * ZT_ERR_TOO_LARGE a limit exceeded. On error body is left empty.
 * The parser is stateless: call it again with all the bytes received so far.
 */
int cli_http_parse_response(const uint8_t *p, size_t n, int eof, int *status, struct buf *body);

/* How a response's body is delimited. */
enum cli_http_framing {
	CLI_HTTP_BODY_EOF,     /* by the end of the connection */
	CLI_HTTP_BODY_LENGTH,  /* Content-Length */
	CLI_HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	CLI_HTTP_BODY_NONE,    /* 204, 304 */
};

struct cli_http_head {
	int status;
	enum cli_http_framing framing;
	size_t length;   /* Content-Length, for CLI_HTTP_BODY_LENGTH */
	size_t head_len; /* bytes of the status line, headers and blank line */
};

/*
 * Parses the status line and headers at the start of p[0..n), with the same
 * rules as cli_http_parse_response(), for a reader that takes the body as it
 * streams in (cli_stream.h). A Content-Length above length_max is refused.
 * 0 with *out filled once the blank line ending the head arrived (bytes from
 * out->head_len on are the body's), ZT_ERR_TRUNCATED when it has not yet,
 * ZT_ERR_PROTOCOL or ZT_ERR_TOO_LARGE.
 */
int cli_http_parse_head(const uint8_t *p, size_t n, size_t length_max, struct cli_http_head *out);
/* The value of the first header called name (case-insensitive) in a head
 * that cli_http_parse_head() accepted, p[0..head_len): *v borrowed from p,
 * trimmed, *vlen bytes, not NUL-terminated. 0 or ZT_ERR_NOT_FOUND. */
int cli_http_head_value(const uint8_t *p, size_t head_len, const char *name, const uint8_t **v,
    size_t *vlen);

/*
 * Sends one request to the broker at url (see cli_http_parse_url), trusting
 * only the CA with the given pin. method is "GET" or "POST"; path starts with
 * "/". bearer (may be NULL) is sent as "Authorization: Bearer ..."; json_body
 * (may be NULL) as the request body.
 *
 * Returns 0 when a complete HTTP response arrived, whatever its status: *status
 * is set and *resp holds the parsed JSON body (NULL when the body was empty;
 * caller frees with cJSON_Delete). Otherwise a negative ZT_ERR_* with one
 * sentence for people in errbuf (ZT_ERR_PIN when the broker's CA does not
 * match the pin, ZT_ERR_NET/ZT_ERR_TIMEOUT when it cannot be reached,
 * ZT_ERR_PROTOCOL for a malformed or non-JSON response).
 */
int cli_http_request(const char *url, const char *pin, const char *method, const char *path,
    const char *bearer, const char *json_body, int *status, cJSON **resp, char *errbuf,
    size_t errsz);

/* The broker's error object {"error": {"code", "message"}} in resp, if any:
 * borrowed strings, or NULL (both may be NULL). */
void cli_http_error(const cJSON *resp, const char **code, const char **message);

#endif
