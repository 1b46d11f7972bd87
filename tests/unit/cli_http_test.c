/*
 * cli_http_test.c - ztctl's broker URL parsing and strict HTTP response
 * parsing (cli/cli_http.h), without a network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_http.h"
#include "common/buf.h"
#include "common/err.h"

static int url(const char *u, char *host, char *port)
{
	return cli_http_parse_url(u, host, CLI_HTTP_HOST_MAX + 1, port, CLI_HTTP_PORT_MAX);
}

static void test_url_good(void **state)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];

	(void)state;
	assert_int_equal(url("https://broker.example.com", host, port), 0);
	assert_string_equal(host, "broker.example.com");
	assert_string_equal(port, "8443");
	assert_int_equal(url("https://127.0.0.1:9443/", host, port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "9443");
	assert_int_equal(url("https://[::1]:1", host, port), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "1");
	assert_int_equal(url("https://[2001:db8::7]", host, port), 0);
	assert_string_equal(host, "2001:db8::7");
	assert_string_equal(port, "8443");
	assert_int_equal(url("https://localhost:65535", host, port), 0);
	assert_string_equal(port, "65535");
}

static void test_url_refused(void **state)
{
	static const char *const bad[] = {
		"http://broker:8443",          /* plain HTTP */
		"ftp://broker",
		"broker:8443",                 /* no scheme */
		"https://",                    /* no host */
		"https://:8443",
		"https://user@broker",         /* userinfo */
		"https://user:pw@broker:8443",
		"https://broker:0",            /* bad ports */
		"https://broker:65536",
		"https://broker:99999",
		"https://broker:",
		"https://broker:08443",
		"https://broker:-1",
		"https://broker:+443",
		"https://broker:84a3",
		"https://broker:123456",
		"https://broker/v1",           /* paths, queries, fragments */
		"https://broker?x=1",
		"https://broker#frag",
		"https://bro ker",
		"https://broker\r\nHost: evil",
		"https://[::1",                /* IPv6 must be bracketed and valid */
		"https://[::1]x",
		"https://[zz::1]:8443",
		"https://[]",
		"https://::1:8443",
		"https://bro_ker",
		"",
	};
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (url(bad[i], host, port) == 0) {
			fail_msg("accepted bad URL \"%s\"", bad[i]);
		}
		assert_string_equal(host, "");
	}
	assert_int_not_equal(url(NULL, host, port), 0);
}

static void test_url_long_host(void **state)
{
	char u[600], host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];

	(void)state;
	memcpy(u, "https://", 8);
	memset(u + 8, 'a', 300);
	u[308] = '\0';
	assert_int_equal(url(u, host, port), ZT_ERR_TOO_LARGE);
}

/* Parses a whole response given as a C string. */
static int parse(const char *resp, int eof, int *status, struct buf *body)
{
	return cli_http_parse_response((const uint8_t *)resp, strlen(resp), eof, status, body);
}

static void assert_body(const struct buf *b, const char *want)
{
	assert_int_equal(buf_len(b), strlen(want));
	assert_memory_equal(buf_ptr(b), want, strlen(want));
}

/* Every proper prefix of a framed response r needs more bytes, whether or not
 * the connection then closed, and leaves the body empty. */
static void assert_prefixes_truncated(const char *r, struct buf *b)
{
	int status = 0, eof;
	size_t i;

	for (i = 0; i < strlen(r); i++) {
		for (eof = 0; eof <= 1; eof++) {
			assert_int_equal(cli_http_parse_response((const uint8_t *)r, i, eof, &status,
			    b), ZT_ERR_TRUNCATED);
			assert_int_equal(buf_len(b), 0);
		}
	}
}

static void test_content_length(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n{\"a\": true}";
	struct buf *b = buf_new(CLI_HTTP_RESP_MAX);
	int status = 0;

	(void)state;
	assert_non_null(b);
	assert_int_equal(parse(r, 0, &status, b), 0);
	assert_int_equal(status, 200);
	assert_body(b, "{\"a\": true}");
	assert_prefixes_truncated(r, b);
	/* Bytes after the declared length are refused. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}x", 1, &status, b),
	    ZT_ERR_TRAILING);
	assert_int_equal(parse("HTTP/1.0 401 Unauthorized\r\ncontent-length:2\r\n\r\n{}", 0,
	    &status, b), 0);
	assert_int_equal(status, 401);
	/* Duplicate, signed, listed or huge lengths. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
	    0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", 0, &status, b),
	    ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}", 0, &status, b),
	    ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    0, &status, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n{}", 0, &status, b), ZT_ERR_PROTOCOL);
	buf_free(b);
}

static void test_chunked(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\n{\"a\"\r\nA;name=value\r\n: [1, 2]}\n\r\n0\r\nX-Trailer: yes\r\n\r\n";
	struct buf *b = buf_new(CLI_HTTP_RESP_MAX);
	int status = 0;

	(void)state;
	assert_non_null(b);
	assert_int_equal(parse(r, 0, &status, b), 0);
	assert_int_equal(status, 200);
	assert_body(b, "{\"a\": [1, 2]}\n");
	assert_prefixes_truncated(r, b);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
	    0, &status, b), 0);
	assert_int_equal(buf_len(b), 0);
	/* Missing CRLF after data, bad size, oversized size, other codings. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{}xx0\r\n\r\n", 0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "z\r\n", 0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "-1\r\n", 0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "FFFFFFFFF\r\n", 0, &status, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "200000\r\n", 0, &status, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	    "0\r\n\r\n", 0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 0, &status, b), ZT_ERR_PROTOCOL);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\nextra", 0, &status, b), ZT_ERR_TRAILING);
	buf_free(b);
}

static void test_chunked_body_bound(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n";
	struct buf *b = buf_new(8);
	int status = 0;

	(void)state;
	assert_non_null(b);
	assert_int_equal(parse(r, 0, &status, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), 0);
	buf_free(b);
}

static void test_eof_delimited(void **state)
{
	const char *r = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n\r\n{}";
	struct buf *b = buf_new(CLI_HTTP_RESP_MAX);
	int status = 0;

	(void)state;
	assert_non_null(b);
	/* Without a clean close the body may go on. */
	assert_int_equal(parse(r, 0, &status, b), ZT_ERR_TRUNCATED);
	assert_int_equal(parse(r, 1, &status, b), 0);
	assert_int_equal(status, 502);
	assert_body(b, "{}");
	/* 204 has no body whatever follows. */
	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", 0, &status, b), 0);
	assert_int_equal(status, 204);
	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\nx", 1, &status, b),
	    ZT_ERR_TRAILING);
	buf_free(b);
}

static void test_bad_status_line(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\n\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: novalue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n",
	};
	struct buf *b = buf_new(CLI_HTTP_RESP_MAX);
	int status = 0;
	size_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], 1, &status, b) != ZT_ERR_PROTOCOL) {
			fail_msg("did not refuse response %zu", i);
		}
	}
	/* A reason phrase may be empty or absent. */
	assert_int_equal(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, &status, b), 0);
	assert_int_equal(parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 0, &status, b), 0);
	buf_free(b);
}

static void test_oversized_headers(void **state)
{
	struct buf *b = buf_new(CLI_HTTP_RESP_MAX), *r = buf_new(CLI_HTTP_RESP_MAX);
	int status = 0, i;

	(void)state;
	assert_non_null(b);
	assert_non_null(r);
	/* One huge header line. */
	assert_int_equal(buf_putf(r, "HTTP/1.1 200 OK\r\nX-Big: "), 0);
	for (i = 0; i < CLI_HTTP_HEADERS_MAX; i++) {
		assert_int_equal(buf_put_u8(r, 'a'), 0);
	}
	assert_int_equal(cli_http_parse_response(buf_ptr(r), buf_len(r), 0, &status, b),
	    ZT_ERR_TOO_LARGE);
	/* Too many small headers. */
	buf_reset(r);
	assert_int_equal(buf_putf(r, "HTTP/1.1 200 OK\r\n"), 0);
	for (i = 0; i <= CLI_HTTP_HEADER_COUNT_MAX; i++) {
		assert_int_equal(buf_putf(r, "X-H%d: v\r\n", i), 0);
	}
	assert_int_equal(buf_putf(r, "Content-Length: 0\r\n\r\n"), 0);
	assert_int_equal(cli_http_parse_response(buf_ptr(r), buf_len(r), 0, &status, b),
	    ZT_ERR_TOO_LARGE);
	/* Exactly the limit is fine. */
	buf_reset(r);
	assert_int_equal(buf_putf(r, "HTTP/1.1 200 OK\r\n"), 0);
	for (i = 0; i < CLI_HTTP_HEADER_COUNT_MAX - 1; i++) {
		assert_int_equal(buf_putf(r, "X-H%d: v\r\n", i), 0);
	}
	assert_int_equal(buf_putf(r, "Content-Length: 0\r\n\r\n"), 0);
	assert_int_equal(cli_http_parse_response(buf_ptr(r), buf_len(r), 0, &status, b), 0);
	/* Too many trailers. */
	buf_reset(r);
	assert_int_equal(buf_putf(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"),
	    0);
	for (i = 0; i < CLI_HTTP_HEADER_COUNT_MAX; i++) {
		assert_int_equal(buf_putf(r, "T%d: v\r\n", i), 0);
	}
	assert_int_equal(buf_putf(r, "\r\n"), 0);
	assert_int_equal(cli_http_parse_response(buf_ptr(r), buf_len(r), 0, &status, b),
	    ZT_ERR_TOO_LARGE);
	buf_free(r);
	buf_free(b);
}

static void test_error_object(void **state)
{
	const char *code, *msg;
	cJSON *j = cJSON_Parse("{\"error\":{\"code\":\"invalid_otp\",\"message\":\"wrong code\"}}");

	(void)state;
	assert_non_null(j);
	cli_http_error(j, &code, &msg);
	assert_string_equal(code, "invalid_otp");
	assert_string_equal(msg, "wrong code");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"error\":\"flat\"}");
	cli_http_error(j, &code, &msg);
	assert_null(code);
	assert_null(msg);
	cJSON_Delete(j);
	cli_http_error(NULL, &code, &msg);
	assert_null(code);
}

static void test_request_refuses_before_connecting(void **state)
{
	char err[256];
	cJSON *resp = NULL;
	int status = -1;
	const char *pin = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

	(void)state;
	assert_int_equal(cli_http_request("http://127.0.0.1:1", pin, "GET", "/v1/whoami", NULL,
	    NULL, &status, &resp, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "URL"));
	assert_int_equal(cli_http_request("https://127.0.0.1:1", "sha256:ABC", "GET", "/v1/whoami",
	    NULL, NULL, &status, &resp, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "pin"));
	/* A token that could inject a header is refused, and not echoed. */
	assert_int_equal(cli_http_request("https://127.0.0.1:1", pin, "GET", "/v1/whoami",
	    "zts_secret\r\nX-Evil: 1", NULL, &status, &resp, err, sizeof(err)), ZT_ERR_INVALID);
	assert_null(strstr(err, "zts_secret"));
	assert_null(resp);
	/* Nothing listens on port 1: a network error, and the token is not named. */
	assert_int_equal(cli_http_request("https://127.0.0.1:1", pin, "GET", "/v1/whoami",
	    "zts_secret", NULL, &status, &resp, err, sizeof(err)), ZT_ERR_NET);
	assert_null(strstr(err, "zts_secret"));
	assert_non_null(strstr(err, "127.0.0.1:1"));
}

static int head(const char *r, struct cli_http_head *h)
{
	return cli_http_parse_head((const uint8_t *)r, strlen(r), 1024, h);
}

/* The head alone, for a reader that streams the body (cli/cli_stream.c). */
static void test_parse_head(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Mcp-Session-Id:  abc-123 \r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nid: 1_0";
	struct cli_http_head h;
	const uint8_t *v;
	size_t vlen, i, head_len = strlen(r) - strlen("1a\r\nid: 1_0");

	(void)state;
	assert_int_equal(cli_http_parse_head((const uint8_t *)r, strlen(r), 1024, &h), 0);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.framing, CLI_HTTP_BODY_CHUNKED);
	assert_int_equal(h.head_len, head_len);
	for (i = 0; i < head_len; i++) {
		assert_int_equal(cli_http_parse_head((const uint8_t *)r, i, 1024, &h),
		    ZT_ERR_TRUNCATED);
	}
	/* Header look-ups: case-insensitive names, trimmed values. */
	assert_int_equal(cli_http_head_value((const uint8_t *)r, head_len, "mcp-session-id", &v,
	    &vlen), 0);
	assert_int_equal(vlen, 7);
	assert_memory_equal(v, "abc-123", 7);
	assert_int_equal(cli_http_head_value((const uint8_t *)r, head_len, "Content-Type", &v,
	    &vlen), 0);
	assert_memory_equal(v, "text/event-stream", vlen);
	assert_int_equal(cli_http_head_value((const uint8_t *)r, head_len, "Content", &v, &vlen),
	    ZT_ERR_NOT_FOUND);
	assert_null(v);
	/* The body is not searched for headers. */
	assert_int_equal(cli_http_head_value((const uint8_t *)r, head_len, "id", &v, &vlen),
	    ZT_ERR_NOT_FOUND);
	/* Framings and the length bound the caller sets. */
	assert_int_equal(head("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", &h), 0);
	assert_int_equal(h.framing, CLI_HTTP_BODY_LENGTH);
	assert_int_equal(h.length, 0);
	assert_int_equal(head("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n", &h),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(head("HTTP/1.1 204 No Content\r\n\r\n", &h), 0);
	assert_int_equal(h.framing, CLI_HTTP_BODY_NONE);
	assert_int_equal(head("HTTP/1.1 200 OK\r\n\r\nrest", &h), 0);
	assert_int_equal(h.framing, CLI_HTTP_BODY_EOF);
	assert_int_equal(h.head_len, 19);
	assert_int_equal(head("HTTP/1.1 200 OK\nX: y\r\n\r\n", &h), ZT_ERR_PROTOCOL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_long_host),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_body_bound),
		cmocka_unit_test(test_eof_delimited),
		cmocka_unit_test(test_bad_status_line),
		cmocka_unit_test(test_oversized_headers),
		cmocka_unit_test(test_error_object),
		cmocka_unit_test(test_request_refuses_before_connecting),
		cmocka_unit_test(test_parse_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
