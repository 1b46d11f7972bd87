/*
 * fuzz/buf.c - libFuzzer harness for common/buf.
 *
 * The input is both the data and the program: a read-only buffer over it
 * yields an opcode byte, then the getter that opcode names runs on what
 * follows. Nested strings are driven the same way, a few levels deep. Every
 * getter result is also written into a small writable buffer so the
 * writers' limits are hit too. The harness checks buf.h's promises itself
 * (a failed read consumes nothing, a failed write changes nothing) and
 * aborts when one is broken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SINK_MAX 96
#define MAX_NEST 4

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* Appends p[0..n) to the sink as an SSH string; a refusal must leave it as
 * it was, and only a size refusal is expected. */
static void sink_put(struct buf *sink, const void *p, size_t n)
{
	size_t before = buf_len(sink);
	int r = buf_put_string(sink, p, n);

	if (r != 0) {
		check(r == ZT_ERR_TOO_LARGE);
		check(buf_len(sink) == before);
		buf_reset(sink);
		check(buf_len(sink) == 0);
		return;
	}
	check(buf_len(sink) == before + 4 + n);
	check(memcmp(buf_ptr(sink) + before + 4, p, n) == 0 || n == 0);
}

static void drive(struct buf *b, struct buf *sink, int nest)
{
	uint8_t op = 0, n8 = 0, tmp[256];
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	const uint8_t *p = NULL;
	size_t n = 0, before, len = 0;
	char *s = NULL;
	struct buf *sub = NULL;
	int r;

	while (buf_get_u8(b, &op) == 0) {
		before = buf_len(b);
		switch (op % 11) {
		case 0:
			r = buf_get_u8(b, &n8);
			check(r == 0 ? buf_len(b) == before - 1 : r == ZT_ERR_TRUNCATED);
			break;
		case 1:
			r = buf_get_u32(b, &v32);
			check(r == 0 ? buf_len(b) == before - 4 : r == ZT_ERR_TRUNCATED);
			if (r == 0) {
				check(buf_put_u32(sink, v32) == 0 || buf_len(sink) + 4 > SINK_MAX);
			}
			break;
		case 2:
			r = buf_get_u64(b, &v64);
			check(r == 0 ? buf_len(b) == before - 8 : r == ZT_ERR_TRUNCATED);
			if (r == 0) {
				check(buf_put_u64(sink, v64) == 0 || buf_len(sink) + 8 > SINK_MAX);
			}
			break;
		case 3:
			if (buf_get_u8(b, &n8) != 0) {
				return;
			}
			before = buf_len(b);
			r = buf_get_bytes(b, tmp, n8);
			check(r == 0 ? buf_len(b) == before - n8 : r == ZT_ERR_TRUNCATED);
			if (r == 0) {
				sink_put(sink, tmp, n8);
			}
			break;
		case 4:
			if (buf_get_u8(b, &n8) != 0) {
				return;
			}
			before = buf_len(b);
			r = buf_consume(b, n8);
			check(r == 0 ? buf_len(b) == before - n8 : r == ZT_ERR_TRUNCATED);
			break;
		case 5:
			r = buf_get_string_peek(b, &p, &n);
			check(r == 0 ? buf_len(b) == before - 4 - n : r == ZT_ERR_TRUNCATED);
			if (r == 0) {
				sink_put(sink, p, n);
			}
			break;
		case 6:
			if (buf_get_u8(b, &n8) != 0) {
				return;
			}
			before = buf_len(b);
			r = buf_get_cstring(b, n8, &s, &len);
			if (r == 0) {
				check(s != NULL && strlen(s) == len && len <= n8);
				check(buf_len(b) == before - 4 - len);
				sink_put(sink, s, len);
				check(buf_putf(sink, "%s", s) == 0 ||
				    buf_len(sink) + len > SINK_MAX);
				free(s);
				s = NULL;
			} else {
				check(s == NULL && buf_len(b) == before);
				check(r == ZT_ERR_TRUNCATED || r == ZT_ERR_TOO_LARGE ||
				    r == ZT_ERR_EMBEDDED_NUL);
			}
			break;
		case 7:
			r = buf_get_stringb(b, &sub);
			if (r == 0) {
				check(buf_len(b) == before - 4 - buf_len(sub));
				check(buf_put_u8(sub, 0) == ZT_ERR_INVALID);
				if (nest < MAX_NEST) {
					drive(sub, sink, nest + 1);
				}
				buf_free(sub);
				sub = NULL;
			} else {
				check(sub == NULL && buf_len(b) == before);
			}
			break;
		case 8:
			r = buf_dup_cstring(b, &s);
			if (r == 0) {
				check(strlen(s) == buf_len(b));
				free(s);
				s = NULL;
			} else {
				check(r == ZT_ERR_EMBEDDED_NUL && s == NULL);
			}
			check(buf_len(b) == before);
			break;
		case 9:
			r = buf_get_end(b);
			check(r == (before == 0 ? 0 : ZT_ERR_TRAILING));
			break;
		default:
			/* Read back what the sink holds, as strings. */
			while (buf_get_string_peek(sink, &p, &n) == 0) {
			}
			break;
		}
	}
	check(buf_len(b) == 0 && buf_get_end(b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *b = buf_from(data, size);
	struct buf *sink = buf_new(SINK_MAX);

	if (b != NULL && sink != NULL) {
		drive(b, sink, 0);
	}
	buf_free(sink);
	buf_free(b);
	return 0;
}
