/*
 * sse.c - libFuzzer target for the Server-Sent Events parser behind
 * `ztctl mcp` (cli/cli_sse.h).
 *
 * The first byte picks how the rest is cut into pieces, so splits at odd
 * places (inside a CRLF, a field name, a byte order mark) are exercised.
 * Every event handed over must respect the limit, and the same bytes fed in
 * one piece must give the same events.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_sse.h"

#define MAX_EVENT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	size_t events;
	uint64_t sum; /* of lengths and bytes, to compare two runs */
};

static int count(void *arg, const struct cli_sse_event *ev)
{
	struct tally *t = arg;
	size_t i;

	if (ev->data_len == 0 || ev->data_len > MAX_EVENT || ev->type == NULL || ev->id == NULL ||
	    strlen(ev->id) > CLI_SSE_FIELD_MAX || strlen(ev->type) > CLI_SSE_FIELD_MAX) {
		abort();
	}
	t->events++;
	t->sum += ev->data_len;
	for (i = 0; i < ev->data_len; i++) {
		t->sum = t->sum * 31 + ev->data[i];
	}
	return 0;
}

/* Parses p[0..n) as an event stream, in pieces of step bytes (0: whole). */
static int parse(const uint8_t *p, size_t n, size_t step, struct tally *t)
{
	struct cli_sse *s = cli_sse_new(MAX_EVENT);
	size_t off, k;
	int r = 0;

	if (s == NULL) {
		return -1;
	}
	memset(t, 0, sizeof(*t));
	for (off = 0; off < n && r == 0; off += k) {
		k = step == 0 || step > n - off ? n - off : step;
		r = cli_sse_feed(s, p + off, k, count, t);
	}
	if (cli_sse_retry_ms(s) < -1 || cli_sse_retry_ms(s) > 999999999 ||
	    strlen(cli_sse_last_id(s)) > CLI_SSE_FIELD_MAX) {
		abort();
	}
	cli_sse_reset(s);
	cli_sse_free(s);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole, pieces;
	size_t step;
	int r1, r2;

	if (size == 0) {
		return 0;
	}
	step = (size_t)(data[0] & 0x0f) + 1;
	data++;
	size--;
	r1 = parse(data, size, 0, &whole);
	r2 = parse(data, size, step, &pieces);
	/* Where the bytes are cut must not change what is parsed. */
	if (r1 != r2 || whole.events != pieces.events || whole.sum != pieces.sum) {
		abort();
	}
	return 0;
}
