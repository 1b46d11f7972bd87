/*
 * cli_sse_test.c - the chunked transfer decoder and the Server-Sent Events
 * parser behind `ztctl mcp` (cli/cli_sse.h): input split at every point,
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

/* ---- chunked ---- */

#define CHUNK_MAX 64 /* what the tests' decoders allow */
#define TRAILERS 8

/* Decodes in[0..n) fed in pieces cut at cut1 and cut2 with an output
 * buffer of outsz bytes; the decoded body goes to out (NUL-terminated).
 * Returns the decoder's first error, or 0 with *done set. */
static int dechunk(const char *in, size_t n, size_t cut1, size_t cut2, size_t outsz,
    char *out, size_t outmax, int *done, size_t *rest)
{
	struct cli_chunked *d = cli_chunked_new(CHUNK_MAX, TRAILERS);
	size_t cuts[3] = { cut1, cut2, n }, pos = 0, o = 0, used, got, k;
	uint8_t tmp[64];
	int r = 0;

	assert_non_null(d);
	assert_true(outsz <= sizeof(tmp));
	*rest = 0;
	for (k = 0; k < 3 && r == 0; k++) {
		while (pos < cuts[k]) {
			r = cli_chunked_decode(d, (const uint8_t *)in + pos, cuts[k] - pos, &used,
			    tmp, outsz, &got);
			assert_true(o + got < outmax);
			memcpy(out + o, tmp, got);
			o += got;
			pos += used;
			if (r != 0) {
				break;
			}
			if (cli_chunked_done(d)) {
				*rest += cuts[k] - pos;
				pos = cuts[k];
				break;
			}
			assert_true(used > 0 || got > 0);
		}
	}
	out[o] = '\0';
	*done = cli_chunked_done(d);
	cli_chunked_free(d);
	return r;
}

static const char chunked_body[] =
    "5\r\nhello\r\n"
    "6;name=value\r\n world\r\n"
    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\n"
    "X-Trailer: yes\r\n"
    "\r\n";
static const char chunked_plain[] = "hello worldabcdefghijklmnopqrstuvwxyz";

static void test_chunked_whole(void **state)
{
	char out[256];
	size_t rest;
	int done;

	(void)state;
	assert_int_equal(dechunk(chunked_body, strlen(chunked_body), 0, 0, 64, out, sizeof(out),
	    &done, &rest), 0);
	assert_true(done);
	assert_int_equal(rest, 0);
	assert_string_equal(out, chunked_plain);
}

static void test_chunked_every_split(void **state)
{
	size_t n = strlen(chunked_body), a, b, outsz, rest;
	char out[256];
	int done;

	(void)state;
	for (outsz = 1; outsz <= 7; outsz += 3) {
		for (a = 0; a <= n; a++) {
			for (b = a; b <= n; b++) {
				assert_int_equal(dechunk(chunked_body, n, a, b, outsz, out,
				    sizeof(out), &done, &rest), 0);
				assert_true(done);
				assert_string_equal(out, chunked_plain);
			}
		}
	}
}

static void test_chunked_incomplete_and_trailing(void **state)
{
	static const char more[] = "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
	size_t n = strlen(chunked_body), rest;
	char out[256];
	int done;

	(void)state;
	/* Every proper prefix decodes without error and without ending. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(dechunk(chunked_body, i, 0, 0, 64, out, sizeof(out), &done, &rest),
		    0);
		assert_false(done);
	}
	/* Bytes after the body are left unconsumed for the caller to refuse. */
	assert_int_equal(dechunk(more, strlen(more), 0, 0, 64, out, sizeof(out), &done, &rest), 0);
	assert_true(done);
	assert_string_equal(out, "abc");
	assert_int_equal(rest, strlen("HTTP/1.1 200 OK\r\n"));
}

static void test_chunked_refused(void **state)
{
	static const struct {
		const char *in;
		int err;
	} bad[] = {
		{"5\nhello\r\n0\r\n\r\n", ZT_ERR_PROTOCOL},          /* bare LF */
		{"5\r\nhello\n0\r\n\r\n", ZT_ERR_PROTOCOL},
		{"5\r\nhelloX\r\n", ZT_ERR_PROTOCOL},                /* data longer than size */
		{"\r\n", ZT_ERR_PROTOCOL},                           /* no digits */
		{";x\r\n", ZT_ERR_PROTOCOL},
		{"-1\r\n", ZT_ERR_PROTOCOL},
		{"0x5\r\n", ZT_ERR_PROTOCOL},
		{"5 \x01\r\n", ZT_ERR_PROTOCOL},                     /* a control byte */
		{"123456789\r\n", ZT_ERR_TOO_LARGE},                 /* 9 hex digits */
		{"41\r\n", ZT_ERR_TOO_LARGE},                        /* over CHUNK_MAX */
		{"00000041", ZT_ERR_TOO_LARGE},
		{"0\r\nNo-Colon\r\n\r\n", ZT_ERR_PROTOCOL},          /* trailer without ':' */
		{"0\r\n: empty name\r\n\r\n", ZT_ERR_PROTOCOL},
		{"0\r\nA: b\r\n folded\r\n\r\n", ZT_ERR_PROTOCOL},   /* obsolete folding */
		{"0\r\nA: b\x7f\r\n\r\n", ZT_ERR_PROTOCOL},
		{"0\r\n\rX", ZT_ERR_PROTOCOL},
	};
	char out[256];
	size_t i, rest;
	int done;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dechunk(bad[i].in, strlen(bad[i].in), 0, 0, 64, out, sizeof(out),
		    &done, &rest), bad[i].err);
	}
}

static void test_chunked_limits(void **state)
{
	size_t n = 8 + CLI_CHUNK_LINE_MAX + CLI_CHUNK_TRAILER_MAX + 16, i, rest, len;
	char *in = malloc(n), out[64], big[CHUNK_MAX + 1];
	int done;

	(void)state;
	assert_non_null(in);
	/* A chunk of exactly CHUNK_MAX bytes. */
	len = (size_t)snprintf(in, n, "%x\r\n", CHUNK_MAX);
	memset(in + len, 'c', CHUNK_MAX);
	len += CHUNK_MAX;
	len += (size_t)snprintf(in + len, n - len, "\r\n0\r\n\r\n");
	assert_int_equal(dechunk(in, len, 0, 0, 64, big, sizeof(big), &done, &rest), 0);
	assert_true(done);
	assert_int_equal(strlen(big), CHUNK_MAX);
	/* A size line with endless extensions. */
	memset(in, 'x', n);
	memcpy(in, "5;", 2);
	in[CLI_CHUNK_LINE_MAX + 8] = '\0';
	assert_int_equal(dechunk(in, strlen(in), 0, 0, 64, out, sizeof(out), &done, &rest),
	    ZT_ERR_TOO_LARGE);
	/* Too many trailer lines. */
	len = (size_t)snprintf(in, n, "0\r\n");
	for (i = 0; i <= TRAILERS; i++) {
		len += (size_t)snprintf(in + len, n - len, "T: v\r\n");
	}
	assert_int_equal(dechunk(in, len, 0, 0, 64, out, sizeof(out), &done, &rest),
	    ZT_ERR_TOO_LARGE);
	/* One trailer line longer than the whole trailer section may be. */
	memset(in, 'v', n);
	memcpy(in, "0\r\nT: ", 6);
	assert_int_equal(dechunk(in, n, 0, 0, 64, out, sizeof(out), &done, &rest),
	    ZT_ERR_TOO_LARGE);
	free(in);
}

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

/* An MCP response stream as the broker sends it, chunked, then decoded and
 * parsed with the bytes arriving in two pieces cut at every point. */
static void test_sse_over_chunked(void **state)
{
	static const char wire[] =
	    "1b\r\nid: 1_0\nretry: 500\ndata: \n\n\r\n"
	    "C\r\n: keepalive\n\r\n"
	    "25\r\nid: 1_1\ndata: {\"method\":\"progress\"}\n\n\r\n"
	    "1e\r\nid: 1_2\ndata: {\"id\":1,\"result\"\r\n"
	    "6;x=y\r\n:{}}\n\n\r\n"
	    "0\r\n\r\n";
	size_t n = strlen(wire), cut, pos, used, got, k;
	struct cli_chunked *d;
	struct cli_sse *p;
	uint8_t out[16];
	struct seen s;

	(void)state;
	for (cut = 0; cut <= n; cut++) {
		d = cli_chunked_new(UINT32_MAX, TRAILERS);
		p = cli_sse_new(0);
		assert_non_null(d);
		assert_non_null(p);
		memset(&s, 0, sizeof(s));
		for (k = 0, pos = 0; k < 2; k++) {
			size_t end = k == 0 ? cut : n;

			while (pos < end && !cli_chunked_done(d)) {
				assert_int_equal(cli_chunked_decode(d, (const uint8_t *)wire + pos,
				    end - pos, &used, out, sizeof(out), &got), 0);
				pos += used;
				assert_int_equal(cli_sse_feed(p, out, got, on_event, &s), 0);
			}
		}
		assert_true(cli_chunked_done(d));
		assert_int_equal(s.n, 2);
		assert_string_equal(s.data[0], "{\"method\":\"progress\"}");
		assert_string_equal(s.data[1], "{\"id\":1,\"result\":{}}");
		assert_string_equal(s.id[1], "1_2");
		assert_int_equal(cli_sse_retry_ms(p), 500);
		cli_sse_free(p);
		cli_chunked_free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_whole),
		cmocka_unit_test(test_chunked_every_split),
		cmocka_unit_test(test_chunked_incomplete_and_trailing),
		cmocka_unit_test(test_chunked_refused),
		cmocka_unit_test(test_chunked_limits),
		cmocka_unit_test(test_sse_fields),
		cmocka_unit_test(test_sse_multiline_data),
		cmocka_unit_test(test_sse_line_endings),
		cmocka_unit_test(test_sse_comments),
		cmocka_unit_test(test_sse_retry),
		cmocka_unit_test(test_sse_priming),
		cmocka_unit_test(test_sse_oversized),
		cmocka_unit_test(test_sse_bom_reset_and_errors),
		cmocka_unit_test(test_sse_over_chunked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
