/*
 * cli_sse_test.c - the Server-Sent Events parser behind `ztctl mcp`
 * (cli/cli_sse.h): input split at every point,
 * every field, every line ending, comments, priming events, and the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cli_sse.h"
#include "common/err.h"

/* ---- SSE ---- */

#define EV_MAX 16

struct seen {
	size_t n;
	char type[EV_MAX][64];
	char data[EV_MAX][256];
	size_t len[EV_MAX];
	char id[EV_MAX][64];
	int fail_at; /* return an error for this event number (1-based) */
};

static int on_event(void *arg, const struct cli_sse_event *ev)
{
	struct seen *s = arg;

	assert_true(s->n < EV_MAX);
	assert_true(ev->data_len > 0 && ev->data_len < sizeof(s->data[0]));
	snprintf(s->type[s->n], sizeof(s->type[0]), "%s", ev->type);
	memcpy(s->data[s->n], ev->data, ev->data_len);
	s->data[s->n][ev->data_len] = '\0';
	s->len[s->n] = ev->data_len;
	snprintf(s->id[s->n], sizeof(s->id[0]), "%s", ev->id);
	s->n++;
	return s->fail_at != 0 && (size_t)s->fail_at == s->n ? ZT_ERR_CANCELLED : 0;
}

/* Parses text in one piece with a fresh parser; the parser is returned for
 * inspection when out is not NULL. */
static int sse(const char *text, size_t n, struct seen *seen, size_t max, struct cli_sse **out)
{
	struct cli_sse *p = cli_sse_new(max);
	int r;

	assert_non_null(p);
	memset(seen, 0, sizeof(*seen));
	r = cli_sse_feed(p, (const uint8_t *)text, n, on_event, seen);
	if (out != NULL) {
		*out = p;
	} else {
		cli_sse_free(p);
	}
	return r;
}

static void test_sse_fields(void **state)
{
	static const char text[] =
	    "event: update\nid: 7\ndata: {\"a\":1}\n\n"
	    "data:no space\n\n"
	    "data:  two spaces\n\n"
	    "unknown: field\nid\ndata: after empty id\n\n"
	    "id: x\0y\ndata: nul id ignored\n\n";
	struct cli_sse *p = NULL;
	struct seen s;

	(void)state;
	assert_int_equal(sse(text, sizeof(text) - 1, &s, 0, &p), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.type[0], "update");
	assert_string_equal(s.id[0], "7");
	assert_string_equal(s.data[0], "{\"a\":1}");
	/* The event type resets after each event; the id does not. */
	assert_string_equal(s.type[1], "message");
	assert_string_equal(s.id[1], "7");
	assert_string_equal(s.data[1], "no space");
	assert_string_equal(s.data[2], " two spaces");
	assert_string_equal(s.id[3], "");
	assert_string_equal(s.data[3], "after empty id");
	assert_string_equal(s.id[4], "");
	assert_string_equal(s.data[4], "nul id ignored");
	assert_string_equal(cli_sse_last_id(p), "");
	assert_int_equal(cli_sse_retry_ms(p), -1);
	cli_sse_free(p);
}

static void test_sse_multiline_data(void **state)
{
	static const char text[] = "data: a\ndata:b\ndata\ndata: c\n\n";
	struct seen s;

	(void)state;
	assert_int_equal(sse(text, strlen(text), &s, 0, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.data[0], "a\nb\n\nc");
	assert_int_equal(s.len[0], 6);
}

static void test_sse_line_endings(void **state)
{
	static const char *const texts[] = {
		"id: 1\ndata: x\ndata: y\n\n",
		"id: 1\r\ndata: x\r\ndata: y\r\n\r\n",
		"id: 1\rdata: x\rdata: y\r\r",
		"id: 1\r\ndata: x\rdata: y\n\r\n",
	};
	const uint8_t *q;
	struct cli_sse *p;
	struct seen s;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(sse(texts[i], strlen(texts[i]), &s, 0, NULL), 0);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.data[0], "x\ny");
		assert_string_equal(s.id[0], "1");
		/* Split at every point, a CRLF split in two is still one line end. */
		n = strlen(texts[i]);
		for (j = 0; j <= n; j++) {
			p = cli_sse_new(0);
			assert_non_null(p);
			memset(&s, 0, sizeof(s));
			q = (const uint8_t *)texts[i];
			assert_int_equal(cli_sse_feed(p, q, j, on_event, &s), 0);
			assert_int_equal(cli_sse_feed(p, q + j, n - j, on_event, &s), 0);
			assert_int_equal(s.n, 1);
			assert_string_equal(s.data[0], "x\ny");
			cli_sse_free(p);
		}
	}
}

static void test_sse_comments(void **state)
{
	static const char text[] = ": keepalive\n\n:\n:data: not data\ndata: real\n: mid\n\n";
	struct seen s;

	(void)state;
	assert_int_equal(sse(text, strlen(text), &s, 0, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.data[0], "real");
}

static void test_sse_retry(void **state)
{
	struct cli_sse *p = NULL;
	struct seen s;

	(void)state;
	assert_int_equal(sse("retry: 2500\n\n", 13, &s, 0, &p), 0);
	assert_int_equal(cli_sse_retry_ms(p), 2500);
	/* Not all digits, or empty: ignored. */
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"retry: 25x\nretry:\nretry: -1\n", 28,
	    on_event, &s), 0);
	assert_int_equal(cli_sse_retry_ms(p), 2500);
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"retry: 99999999999999\n", 22, on_event,
	    &s), 0);
	assert_int_equal(cli_sse_retry_ms(p), 999999999);
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"retry:0\n", 8, on_event, &s), 0);
	assert_int_equal(cli_sse_retry_ms(p), 0);
	assert_int_equal(s.n, 0);
	cli_sse_free(p);
}

static void test_sse_priming(void **state)
{
	static const char text[] =
	    "id: 3_0\nretry: 1000\ndata: \n\n"
	    "id: 3_1\ndata: {\"jsonrpc\":\"2.0\"}\n\n"
	    "id: 3_2\n\n";
	struct cli_sse *p = NULL;
	struct seen s;

	(void)state;
	/* The priming event is not handed over, but its id and retry count. */
	assert_int_equal(sse(text, 29, &s, 0, &p), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(cli_sse_last_id(p), "3_0");
	assert_int_equal(cli_sse_retry_ms(p), 1000);
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)text + 29, sizeof(text) - 1 - 29,
	    on_event, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.id[0], "3_1");
	/* An event with no data at all still moves the last id. */
	assert_string_equal(cli_sse_last_id(p), "3_2");
	cli_sse_free(p);
}

static void test_sse_oversized(void **state)
{
	char big[2048];
	struct cli_sse *p = NULL;
	struct seen s;

	(void)state;
	/* Exactly the limit passes; one more byte, in one line or over two, does not. */
	assert_int_equal(sse("data: 0123456789abcdef\n\n", 24, &s, 16, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(sse("data: 0123456789abcdefg\n\n", 25, &s, 16, NULL), ZT_ERR_TOO_LARGE);
	assert_int_equal(sse("data: 01234567\ndata: 89abcdef\n\n", 31, &s, 16, NULL),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(s.n, 0);
	/* A long comment or unknown field: bounded by the line limit. */
	memset(big, 'x', sizeof(big));
	big[0] = ':';
	assert_int_equal(sse(big, 16 + CLI_SSE_LINE_OVERHEAD, &s, 16, NULL), 0);
	assert_int_equal(sse(big, 16 + CLI_SSE_LINE_OVERHEAD + 1, &s, 16, NULL),
	    ZT_ERR_TOO_LARGE);
	/* An id or event value past CLI_SSE_FIELD_MAX. */
	memcpy(big, "id: ", 4);
	assert_int_equal(sse(big, 4 + CLI_SSE_FIELD_MAX + 1, &s, 0, NULL), ZT_ERR_TOO_LARGE);
	memcpy(big, "event:", 6);
	assert_int_equal(sse(big, 6 + CLI_SSE_FIELD_MAX, &s, 0, &p), 0);
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"y", 1, on_event, &s), ZT_ERR_TOO_LARGE);
	cli_sse_free(p);
}

static void test_sse_bom_reset_and_errors(void **state)
{
	static const char bom[] = "\xef\xbb\xbf" "data: a\n\n";
	struct cli_sse *p;
	struct seen s;
	size_t i;

	(void)state;
	/* A byte order mark fed byte by byte is skipped. */
	p = cli_sse_new(0);
	assert_non_null(p);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(bom) - 1; i++) {
		assert_int_equal(cli_sse_feed(p, (const uint8_t *)bom + i, 1, on_event, &s), 0);
	}
	assert_int_equal(s.n, 1);
	assert_string_equal(s.data[0], "a");
	cli_sse_free(p);
	/* Half a BOM is text: here it spoils the field name. */
	assert_int_equal(sse("\xef\xbb" "data: a\n\ndata: b\n\n", 20, &s, 0, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.data[0], "b");
	/* A reset drops the unfinished event and its id, keeping the last id. */
	assert_int_equal(sse("id: 1\ndata: a\n\nid: 2\ndata: half", 31, &s, 0, &p), 0);
	cli_sse_reset(p);
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"data: b\n\n", 9, on_event, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.data[1], "b");
	assert_string_equal(s.id[1], "1");
	cli_sse_free(p);
	/* The callback's error stops the parse and is returned. */
	p = cli_sse_new(0);
	assert_non_null(p);
	memset(&s, 0, sizeof(s));
	s.fail_at = 1;
	assert_int_equal(cli_sse_feed(p, (const uint8_t *)"data: 1\n\ndata: 2\n\n", 18, on_event,
	    &s), ZT_ERR_CANCELLED);
	assert_int_equal(s.n, 1);
	cli_sse_free(p);
}

/* An MCP response stream as the broker sends it, parsed with the bytes
 * arriving in two pieces cut at every point. */
static void test_sse_mcp_stream(void **state)
{
	static const char body[] =
	    "id: 1_0\nretry: 500\ndata: \n\n"
	    ": keepalive\n"
	    "id: 1_1\ndata: {\"method\":\"progress\"}\n\n"
	    "id: 1_2\ndata: {\"id\":1,\"result\":{}}\n\n";
	size_t n = strlen(body), cut;
	struct cli_sse *p;
	struct seen s;

	(void)state;
	for (cut = 0; cut <= n; cut++) {
		p = cli_sse_new(0);
		assert_non_null(p);
		memset(&s, 0, sizeof(s));
		assert_int_equal(cli_sse_feed(p, (const uint8_t *)body, cut, on_event, &s), 0);
		assert_int_equal(cli_sse_feed(p, (const uint8_t *)body + cut, n - cut, on_event,
		    &s), 0);
		assert_int_equal(s.n, 2);
		assert_string_equal(s.data[0], "{\"method\":\"progress\"}");
		assert_string_equal(s.data[1], "{\"id\":1,\"result\":{}}");
		assert_string_equal(s.id[1], "1_2");
		assert_int_equal(cli_sse_retry_ms(p), 500);
		cli_sse_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_fields),
		cmocka_unit_test(test_sse_multiline_data),
		cmocka_unit_test(test_sse_line_endings),
		cmocka_unit_test(test_sse_comments),
		cmocka_unit_test(test_sse_retry),
		cmocka_unit_test(test_sse_priming),
		cmocka_unit_test(test_sse_oversized),
		cmocka_unit_test(test_sse_bom_reset_and_errors),
		cmocka_unit_test(test_sse_mcp_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
