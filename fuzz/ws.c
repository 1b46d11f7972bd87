/*
 * fuzz/ws.c - libFuzzer harness for common/ws's frame reader.
 *
 * Input: the first byte picks the end (bit 0: a server's reader, frames
 * masked) and seeds the chunking; the rest is the byte stream. It is
 * buffered as a connection would buffer it and read frame by frame, in
 * chunks whose sizes come from a small generator. Every message or
 * control frame the reader gives must encode again and read back the
 * same on a fresh reader; a text message must be UTF-8; a refused reader
 * must owe a close code and stay refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/ws.h"

#define MSG_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* ev, written as one frame by the other end and read back. */
static void round_trip(int masked, const struct ws_event *ev)
{
	static const uint8_t key[4] = { 1, 2, 3, 4 };
	static const enum ws_opcode ops[] = { 0, WS_OP_TEXT, WS_OP_BINARY, WS_OP_PING, WS_OP_PONG,
	    WS_OP_CLOSE };
	uint8_t close[WS_CONTROL_MAX];
	struct ws_reader *r = ws_reader_new(masked, MSG_MAX);
	struct buf *b = buf_new(MSG_MAX + WS_HEAD_MAX);
	const void *p = ev->data;
	size_t n = ev->len, used = 0;
	struct ws_event back;

	check(r != NULL && b != NULL);
	if (ev->kind == WS_CLOSE) {
		if (ev->close_code == WS_CLOSE_NO_STATUS) {
			n = 0;
		} else {
			char reason[WS_CONTROL_MAX + 1];

			memcpy(reason, ev->data, ev->len);
			reason[ev->len] = '\0';
			n = ws_close_payload(close, ev->close_code, reason);
			/* A reason with a NUL is cut there: compare up to it. */
			check(n <= 2 + ev->len);
		}
		p = close;
	}
	check(ws_frame_put(b, 1, ops[ev->kind], p, n, masked ? key : NULL) == 0);
	check(ws_read(r, buf_ptr(b), buf_len(b), &used, &back) == 0);
	check(used == buf_len(b) && back.kind == ev->kind);
	if (ev->kind == WS_CLOSE) {
		check(back.close_code == ev->close_code);
	} else {
		check(back.len == ev->len && (ev->len == 0 || memcmp(back.data, ev->data, ev->len) == 0));
	}
	buf_free(b);
	ws_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_reader *r;
	struct buf *in;
	struct ws_event ev;
	uint32_t x;
	size_t off = 1, chunk, used;
	int masked, rc;

	if (size < 1) {
		return 0;
	}
	masked = data[0] & 1;
	x = 0x9e3779b9u ^ data[0];
	r = ws_reader_new(masked, MSG_MAX);
	in = buf_new(size);
	check(r != NULL && in != NULL);
	while (off < size) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		chunk = (x & 0x100) ? 1 + (x % 7) : 1 + (x % 4096);
		chunk = chunk < size - off ? chunk : size - off;
		check(buf_put(in, data + off, chunk) == 0);
		off += chunk;
		for (;;) {
			rc = ws_read(r, buf_ptr(in), buf_len(in), &used, &ev);
			if (rc != 0) {
				uint16_t code = ws_reader_close_code(r);

				check(rc == ZT_ERR_PROTOCOL || rc == ZT_ERR_TOO_LARGE);
				check(code == WS_CLOSE_PROTOCOL || code == WS_CLOSE_BAD_DATA ||
				    code == WS_CLOSE_TOO_BIG);
				check(ws_read(r, buf_ptr(in), buf_len(in), &used, &ev) != 0 && used == 0);
				goto out;
			}
			if (used == 0) {
				break;
			}
			check(used <= buf_len(in));
			check(buf_consume(in, used) == 0);
			if (ev.kind == WS_TEXT) {
				for (size_t i = 0, k; i < ev.len; i += k) {
					check((k = json_utf8_seq(ev.data + i, ev.len - i)) > 0);
				}
			}
			if (ev.kind != WS_NONE) {
				check(ev.kind != WS_PING && ev.kind != WS_PONG ? 1 : ev.len <= WS_CONTROL_MAX);
				round_trip(masked, &ev);
			}
		}
	}
out:
	buf_free(in);
	ws_reader_free(r);
	return 0;
}
