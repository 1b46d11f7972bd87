/*
 * cli_http.c - ztctl's HTTPS requests to the broker's JSON API.
 *
 * Each call opens a pinned TLS connection (common/tls.c), writes one
 * HTTP/1.1 request with "Connection: close", reads the response into a
 * bounded buffer until the strict parser (cli_httpparse.c) says it is
 * complete, and parses the body with the bounded JSON parser. Error messages
 * name the broker and what went wrong, never the bearer token; the request
 * text, which holds the token and maybe a password, is wiped after use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/tls.h"

#define REQ_HEAD_MAX 4096          /* bytes of the request line and headers */
#define REQ_BODY_MAX (64 * 1024)   /* the broker refuses larger bodies */
#define READ_CHUNK 16384

static int is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.';
}

/* Port digits p[0..len): 1..65535, no sign, no leading zero. */
static int parse_port(const char *p, size_t len, char *port, size_t portsz)
{
	size_t i;
	long v = 0;

	if (len == 0 || len > 5 || p[0] == '0') {
		return ZT_ERR_INVALID;
	}
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return ZT_ERR_INVALID;
		}
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > 65535 || len + 1 > portsz) {
		return ZT_ERR_INVALID;
	}
	memcpy(port, p, len);
	port[len] = '\0';
	return 0;
}

int cli_http_parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *a, *end, *h, *hend, *pp = NULL;
	unsigned char addr[sizeof(struct in6_addr)];
	size_t i, hlen;
	int r = ZT_ERR_INVALID;

	if (url == NULL || host == NULL || port == NULL || hostsz == 0 || portsz == 0) {
		goto out;
	}
	host[0] = '\0';
	port[0] = '\0';
	if (strncasecmp(url, "https://", 8) != 0) {
		goto out;
	}
	a = url + 8;
	/* The authority ends at "/" which must then end the URL; "?", "#" and
	 * "@" (userinfo) are refused wherever they are. */
	end = a + strcspn(a, "/");
	if (*end == '/' && end[1] != '\0') {
		goto out;
	}
	if (strpbrk(a, "?#@ \t\r\n\\") != NULL) {
		goto out;
	}
	if (*a == '[') {
		h = a + 1;
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL) {
			goto out;
		}
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				goto out;
			}
			pp = hend + 2;
		}
		hlen = (size_t)(hend - h);
		if (hlen == 0 || hlen >= sizeof("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")) {
			goto out;
		}
	} else {
		h = a;
		hend = memchr(a, ':', (size_t)(end - a));
		if (hend == NULL) {
			hend = end;
		} else {
			pp = hend + 1;
		}
		hlen = (size_t)(hend - h);
		if (hlen == 0) {
			goto out;
		}
		for (i = 0; i < hlen; i++) {
			if (!is_host_char(h[i])) {
				goto out;
			}
		}
	}
	if (hlen > CLI_HTTP_HOST_MAX || hlen + 1 > hostsz) {
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (*a == '[' && inet_pton(AF_INET6, host, addr) != 1) {
		goto out;
	}
	if (pp != NULL) {
		if ((r = parse_port(pp, (size_t)(end - pp), port, portsz)) != 0) {
			goto out;
		}
	} else {
		if (sizeof(CLI_HTTP_DEFAULT_PORT) > portsz) {
			goto out;
		}
		memcpy(port, CLI_HTTP_DEFAULT_PORT, sizeof(CLI_HTTP_DEFAULT_PORT));
	}
	r = 0;
out:
	if (r != 0 && host != NULL && hostsz > 0) {
		host[0] = '\0';
	}
	return r;
}

void cli_http_error(const cJSON *resp, const char **code, const char **message)
{
	const cJSON *e = NULL;

	*code = NULL;
	*message = NULL;
	if (resp == NULL || json_get_obj(resp, "error", &e) != 0) {
		return;
	}
	if (json_get_str(e, "code", 128, 0, code) != 0) {
		*code = NULL;
	}
	if (json_get_str(e, "message", 1024, 0, message) != 0) {
		*message = NULL;
	}
}

/* A header value we put on the wire must not be able to start a new header. */
static int safe_header_value(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static int build_request(struct buf *req, const char *host, const char *port, int is_v6,
    const char *method, const char *path, const char *bearer, const char *json_body)
{
	size_t blen = json_body != NULL ? strlen(json_body) : 0;
	int r;

	if ((r = buf_putf(req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n", method, path,
	    is_v6 ? "[" : "", host, is_v6 ? "]" : "", port)) != 0 ||
	    (r = buf_putf(req, "User-Agent: ztctl\r\nAccept: application/json\r\n")) != 0 ||
	    (r = buf_putf(req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
	    blen)) != 0) {
		return r;
	}
	if (bearer != NULL && (r = buf_putf(req, "Authorization: Bearer %s\r\n", bearer)) != 0) {
		return r;
	}
	if ((r = buf_putf(req, "Connection: close\r\n\r\n")) != 0) {
		return r;
	}
	return blen > 0 ? buf_put(req, json_body, blen) : 0;
}

/* Reads until the parser has a complete response or the peer closes. */
static int read_response(struct tls_conn *c, int *status, struct buf *body, char *errbuf,
    size_t errsz)
{
	struct buf *in = NULL;
	uint8_t chunk[READ_CHUNK];
	ssize_t got;
	int r, eof = 0;

	if ((in = buf_new(CLI_HTTP_RESP_MAX)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	for (;;) {
		got = tls_read(c, chunk, sizeof(chunk));
		if (got == 0) {
			eof = 1;
		} else if (got == ZT_ERR_TRUNCATED) {
			/* Closed without close_notify: fine for a response whose
			 * length is known, not for one read to the end. */
			eof = 0;
		} else if (got < 0) {
			r = (int)got;
			snprintf(errbuf, errsz, "reading the broker's response failed: %s",
			    zt_strerror(r));
			goto out;
		} else if ((r = buf_put(in, chunk, (size_t)got)) != 0) {
			snprintf(errbuf, errsz, "the broker's response is larger than %d bytes",
			    CLI_HTTP_RESP_MAX);
			goto out;
		}
		r = cli_http_parse_response(buf_ptr(in), buf_len(in), eof, status, body);
		if (r == 0) {
			break;
		}
		if (r != ZT_ERR_TRUNCATED || got <= 0) {
			if (r == ZT_ERR_TRUNCATED) {
				snprintf(errbuf, errsz, "the broker closed the connection mid-response");
			} else {
				snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
				    zt_strerror(r));
			}
			r = r == ZT_ERR_TOO_LARGE ? r : ZT_ERR_PROTOCOL;
			goto out;
		}
	}
	r = 0;
out:
	crypto_wipe(chunk, sizeof(chunk));
	buf_free(in);
	return r;
}

int cli_http_request(const char *url, const char *pin, const char *method, const char *path,
    const char *bearer, const char *json_body, int *status, cJSON **resp, char *errbuf,
    size_t errsz)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];
	struct tls_conn *c = NULL;
	struct buf *req = NULL, *body = NULL;
	int r;

	*resp = NULL;
	*status = 0;
	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	if ((r = cli_http_parse_url(url, host, sizeof(host), port, sizeof(port))) != 0) {
		snprintf(errbuf, errsz, "invalid broker URL (want https://HOST[:PORT])");
		goto out;
	}
	if (tls_pin_valid(pin) != 0) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz, "invalid CA pin (want sha256: and 64 lower-case hex digits)");
		goto out;
	}
	if (method == NULL || path == NULL || path[0] != '/' || !safe_header_value(method) ||
	    !safe_header_value(path) || (bearer != NULL && !safe_header_value(bearer)) ||
	    (json_body != NULL && strlen(json_body) > REQ_BODY_MAX)) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz, "invalid request (bad method, path, token or body)");
		goto out;
	}
	if ((req = buf_new(REQ_HEAD_MAX + REQ_BODY_MAX)) == NULL ||
	    (body = buf_new(CLI_HTTP_RESP_MAX)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	if ((r = build_request(req, host, port, strchr(host, ':') != NULL, method, path, bearer,
	    json_body)) != 0) {
		snprintf(errbuf, errsz, "cannot build the request: %s", zt_strerror(r));
		goto out;
	}
	if ((r = tls_connect_pinned(host, port, pin, CLI_HTTP_TIMEOUT_MS, &c)) != 0) {
		switch (r) {
		case ZT_ERR_PIN:
			snprintf(errbuf, errsz, "the broker at %s presented a certificate that does "
			    "not chain to the pinned CA %s (wrong --ca-pin, or not the real broker)",
			    url, pin);
			break;
		case ZT_ERR_TLS:
			snprintf(errbuf, errsz, "TLS handshake with %s failed (is it a zt broker, and "
			    "does its certificate name %s? ZT_LOG_LEVEL=debug says more)", url, host);
			break;
		case ZT_ERR_TIMEOUT:
			snprintf(errbuf, errsz, "cannot reach the broker at %s: timed out", url);
			break;
		default:
			snprintf(errbuf, errsz, "cannot reach the broker at %s: %s", url,
			    zt_strerror(r));
			break;
		}
		goto out;
	}
	if ((r = tls_write_all(c, buf_ptr(req), buf_len(req))) != 0) {
		snprintf(errbuf, errsz, "sending the request to %s failed", url);
		goto out;
	}
	if ((r = read_response(c, status, body, errbuf, errsz)) != 0) {
		goto out;
	}
	if (buf_len(body) > 0 && (r = json_parse(buf_ptr(body), buf_len(body), CLI_HTTP_RESP_MAX,
	    JSON_DEFAULT_DEPTH, resp)) != 0) {
		*resp = NULL;
		snprintf(errbuf, errsz, "the broker answered HTTP %d with a body that is not JSON",
		    *status);
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	r = 0;
out:
	tls_close(c);
	buf_free(req); /* wipes the token and any password in the body */
	buf_free(body);
	return r;
}
