/*
 * cli_http_test.c - ztctl's broker URL parsing, the broker's error object,
 * and the requests refused before (or failing at) connecting
 * (cli/cli_http.h); no broker is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "cli/cli_http.h"
#include "cli/cli_stream.h"
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

/* libcurl is set up once, as ztctl's main does. */
static int group_setup(void **state)
{
	(void)state;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	cli_stream_cleanup();
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_long_host),
		cmocka_unit_test(test_error_object),
		cmocka_unit_test(test_request_refuses_before_connecting),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
