/*
 * cli_http.c - ztctl's HTTPS requests to the broker's JSON API.
 *
 * Each call is one exchange of cli_stream.c (libcurl over TLS pinned to the
 * broker's CA, on a kept-alive connection) whose body is read into a
 * bounded buffer and parsed with the bounded JSON parser. Error messages
 * name the broker and what went wrong, never the bearer token.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "cli/cli_stream.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"

#define REQ_BODY_MAX (64 * 1024)   /* the broker refuses larger bodies */

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

int cli_http_request(const char *url, const char *pin, const char *method, const char *path,
    const char *bearer, const char *json_body, int *status, cJSON **resp, char *errbuf,
    size_t errsz)
{
	static const struct cli_stream_header headers[] = {
		{"Accept", "application/json"},
		{"Content-Type", "application/json"},
	};
	struct cli_stream_req req = {
		.method = method, .path = path, .bearer = bearer, .headers = headers,
		.nheaders = sizeof(headers) / sizeof(headers[0]),
		.body = json_body != NULL ? json_body : "",
		.body_len = json_body != NULL ? strlen(json_body) : 0,
	};
	struct cli_stream *s = NULL;
	struct buf *body = NULL;
	int r;

	*resp = NULL;
	*status = 0;
	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	if (req.body_len > REQ_BODY_MAX) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz, "invalid request (bad method, path, token or body)");
		goto out;
	}
	if ((body = buf_new(CLI_HTTP_RESP_MAX)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	if ((r = cli_stream_open(url, pin, &req, CLI_HTTP_TIMEOUT_MS, &s, errbuf, errsz)) != 0 ||
	    (r = cli_stream_read_all(s, body, errbuf, errsz)) != 0) {
		goto out;
	}
	*status = cli_stream_status(s);
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
	if (r != 0) {
		*status = 0;
	}
	cli_stream_close(s);
	buf_free(body); /* the response may hold a token */
	return r;
}
