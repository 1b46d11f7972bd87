/*
 * ws_test.c - unit tests for common/ws: the examples of RFC 6455 section
 * 5.7 both ways, fragments with a control frame between them, every
 * length form, close payloads, and each refusal with its close code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ws.h"

static const uint8_t KEY[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Reads all of p[0..n) as one frame: asserts it was used whole. */
static int read_one(struct ws_reader *r, const uint8_t *p, size_t n, struct ws_event *ev)
{
	size_t used = 0;
	int rc = ws_read(r, p, n, &used, ev);

	if (rc == 0) {
		assert_int_equal(used, n);
	}
	return rc;
}

/* RFC 6455 5.7: a single-frame unmasked text message "Hello", and the
 * masked one a client sends. */
static void test_rfc_hello(void **state)
{
	static const uint8_t plain[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,
	    0x51, 0x58 };
	struct ws_reader *client = ws_reader_new(0, 1024), *server = ws_reader_new(1, 1024);
	struct buf *out = buf_new(64);
	struct ws_event ev;
	(void)state;

	assert_int_equal(read_one(client, plain, sizeof(plain), &ev), 0);
	assert_int_equal(ev.kind, WS_TEXT);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "Hello", 5);
	assert_int_equal(read_one(server, masked, sizeof(masked), &ev), 0);
	assert_int_equal(ev.kind, WS_TEXT);
	assert_memory_equal(ev.data, "Hello", 5);
	/* And written the same way. */
	assert_int_equal(ws_frame_put(out, 1, WS_OP_TEXT, "Hello", 5, NULL), 0);
	assert_int_equal(buf_len(out), sizeof(plain));
	assert_memory_equal(buf_ptr(out), plain, sizeof(plain));
	buf_reset(out);
	assert_int_equal(ws_frame_put(out, 1, WS_OP_TEXT, "Hello", 5, KEY), 0);
	assert_memory_equal(buf_ptr(out), masked, sizeof(masked));
	/* The wrong end's framing is refused: a server reads only masked
	 * frames, a client only unmasked ones. */
	assert_int_equal(read_one(server, plain, sizeof(plain), &ev), ZT_ERR_PROTOCOL);
	assert_int_equal(ws_reader_close_code(server), WS_CLOSE_PROTOCOL);
	assert_int_equal(read_one(client, masked, sizeof(masked), &ev), ZT_ERR_PROTOCOL);
	/* Refused once, refused for good. */
	assert_int_equal(read_one(client, plain, sizeof(plain), &ev), ZT_ERR_PROTOCOL);
	ws_reader_free(client);
	ws_reader_free(server);
	buf_free(out);
}

/* RFC 6455 5.7: a fragmented "Hel" + "lo", with a ping between the
 * fragments (5.4), then the pong answering "Hello". */
static void test_rfc_fragments_and_ping(void **state)
{
	static const uint8_t f1[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
	static const uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t f2[] = { 0x80, 0x02, 0x6c, 0x6f };
	static const uint8_t pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,
	    0x51, 0x58 };
	struct ws_reader *r = ws_reader_new(0, 1024), *s = ws_reader_new(1, 1024);
	struct ws_event ev;
	(void)state;

	assert_int_equal(read_one(r, f1, sizeof(f1), &ev), 0);
	assert_int_equal(ev.kind, WS_NONE);
	assert_int_equal(read_one(r, ping, sizeof(ping), &ev), 0);
	assert_int_equal(ev.kind, WS_PING);
	assert_memory_equal(ev.data, "Hello", 5);
	assert_int_equal(read_one(r, f2, sizeof(f2), &ev), 0);
	assert_int_equal(ev.kind, WS_TEXT);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "Hello", 5);
	assert_int_equal(read_one(s, pong, sizeof(pong), &ev), 0);
	assert_int_equal(ev.kind, WS_PONG);
	assert_memory_equal(ev.data, "Hello", 5);
	/* A continuation with no message open, and a new message inside one. */
	assert_int_equal(read_one(r, f2, sizeof(f2), &ev), ZT_ERR_PROTOCOL);
	ws_reader_free(r);
	r = ws_reader_new(0, 1024);
	assert_int_equal(read_one(r, f1, sizeof(f1), &ev), 0);
	assert_int_equal(read_one(r, f1, sizeof(f1), &ev), ZT_ERR_PROTOCOL);
	assert_int_equal(ws_reader_close_code(r), WS_CLOSE_PROTOCOL);
	ws_reader_free(r);
	ws_reader_free(s);
}

/* RFC 6455 5.7: binary messages of 256 bytes (16-bit length) and 64 KiB
 * (64-bit length), heads as the RFC shows; fed a byte at a time. */
static void test_rfc_lengths_bytewise(void **state)
{
	static const size_t sizes[] = { 0, 125, 126, 256, 65535, 65536 };
	struct buf *out = buf_new(70000);
	struct ws_reader *r = ws_reader_new(1, 65536);
	uint8_t *payload = malloc(65536);
	struct ws_event ev;
	size_t used, at, i;
	(void)state;

	for (i = 0; i < 65536; i++) {
		payload[i] = (uint8_t)(i * 7);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		buf_reset(out);
		assert_int_equal(ws_frame_put(out, 1, WS_OP_BINARY, payload, sizes[i], KEY), 0);
		if (sizes[i] == 256) {
			assert_memory_equal(buf_ptr(out), "\x82\xfe\x01\x00", 4);
		} else if (sizes[i] == 65536) {
			assert_memory_equal(buf_ptr(out), "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10);
		}
		/* Nothing until the last byte. */
		for (at = 1; at < buf_len(out); at++) {
			assert_int_equal(ws_read(r, buf_ptr(out), at, &used, &ev), 0);
			assert_int_equal(used, 0);
		}
		assert_int_equal(read_one(r, buf_ptr(out), buf_len(out), &ev), 0);
		assert_int_equal(ev.kind, WS_BINARY);
		assert_int_equal(ev.len, sizes[i]);
		if (sizes[i] > 0) {
			assert_memory_equal(ev.data, payload, sizes[i]);
		}
	}
	/* One byte past msg_max is refused from the head alone: 1009. */
	buf_reset(out);
	assert_int_equal(ws_frame_put(out, 1, WS_OP_BINARY, payload, 65536, KEY), 0);
	ws_reader_free(r);
	r = ws_reader_new(1, 65535);
	assert_int_equal(ws_read(r, buf_ptr(out), 14, &used, &ev), ZT_ERR_TOO_LARGE);
	assert_int_equal(ws_reader_close_code(r), WS_CLOSE_TOO_BIG);
	ws_reader_free(r);
	free(payload);
	buf_free(out);
}

static void test_close(void **state)
{
	uint8_t p[WS_CONTROL_MAX], frame[WS_HEAD_MAX + WS_CONTROL_MAX];
	char reason[200];
	struct ws_reader *r = ws_reader_new(0, 64);
	struct ws_event ev;
	size_t n, hl;
	(void)state;

	n = ws_close_payload(p, WS_CLOSE_NORMAL, "bye");
	assert_int_equal(n, 5);
	assert_memory_equal(p, "\x03\xe8" "bye", 5);
	hl = ws_frame_head(frame, 1, WS_OP_CLOSE, n, NULL);
	memcpy(frame + hl, p, n);
	assert_int_equal(read_one(r, frame, hl + n, &ev), 0);
	assert_int_equal(ev.kind, WS_CLOSE);
	assert_int_equal(ev.close_code, 1000);
	assert_int_equal(ev.len, 3);
	assert_memory_equal(ev.data, "bye", 3);
	/* No code: 1005. */
	assert_int_equal(read_one(r, (const uint8_t *)"\x88\x00", 2, &ev), 0);
	assert_int_equal(ev.close_code, WS_CLOSE_NO_STATUS);
	/* A long reason is cut to fit, on a character boundary (é is 2 bytes). */
	memset(reason, 0, sizeof(reason));
	for (int i = 0; i < 70; i++) {
		memcpy(reason + 2 * i, "\xc3\xa9", 2);
	}
	n = ws_close_payload(p, WS_CLOSE_GOING_AWAY, reason);
	assert_int_equal(n, 2 + 122);
	ws_reader_free(r);
	/* One byte, a code that may not be sent, a reason not UTF-8. */
	r = ws_reader_new(0, 64);
	assert_int_equal(read_one(r, (const uint8_t *)"\x88\x01\x03", 3, &ev), ZT_ERR_PROTOCOL);
	ws_reader_free(r);
	r = ws_reader_new(0, 64);
	assert_int_equal(read_one(r, (const uint8_t *)"\x88\x02\x03\xed", 4, &ev), ZT_ERR_PROTOCOL);
	assert_int_equal(ws_reader_close_code(r), WS_CLOSE_PROTOCOL);   /* 1005 */
	ws_reader_free(r);
	r = ws_reader_new(0, 64);
	assert_int_equal(read_one(r, (const uint8_t *)"\x88\x03\x03\xe8\xff", 5, &ev),
	    ZT_ERR_PROTOCOL);
	assert_int_equal(ws_reader_close_code(r), WS_CLOSE_BAD_DATA);
	ws_reader_free(r);
}

/* Each refusal and the close code it owes. */
static void test_refusals(void **state)
{
	static const struct {
		const char *what;
		const char *p;
		size_t n;
		uint16_t code;
	} cases[] = {
		{ "reserved bit", "\xc1\x00", 2, WS_CLOSE_PROTOCOL },
		{ "reserved opcode", "\x83\x00", 2, WS_CLOSE_PROTOCOL },
		{ "reserved control opcode", "\x8b\x00", 2, WS_CLOSE_PROTOCOL },
		{ "fragmented ping", "\x09\x00", 2, WS_CLOSE_PROTOCOL },
		{ "ping over 125", "\x89\x7e\x00\x7e", 4, WS_CLOSE_PROTOCOL },
		{ "16-bit length under 126", "\x82\x7e\x00\x05", 4, WS_CLOSE_PROTOCOL },
		{ "64-bit length under 65536", "\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10,
		  WS_CLOSE_PROTOCOL },
		{ "64-bit length with its top bit", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10,
		  WS_CLOSE_PROTOCOL },
		{ "text not UTF-8", "\x81\x02\xc3\x28", 4, WS_CLOSE_BAD_DATA },
		{ "text with a surrogate", "\x81\x03\xed\xa0\x80", 5, WS_CLOSE_BAD_DATA },
		{ "message over the bound", "\x82\x7e\x01\x00", 4, WS_CLOSE_TOO_BIG },
	};
	struct ws_event ev;
	size_t used;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws_reader *r = ws_reader_new(0, 255);
		int rc = ws_read(r, (const uint8_t *)cases[i].p, cases[i].n, &used, &ev);

		if (rc == 0 || ws_reader_close_code(r) != cases[i].code) {
			fail_msg("%s: rc %d, close code %u", cases[i].what, rc, ws_reader_close_code(r));
		}
		ws_reader_free(r);
	}
	/* A text message split inside a character is whole at the end. */
	{
		struct ws_reader *r = ws_reader_new(0, 255);

		assert_int_equal(read_one(r, (const uint8_t *)"\x01\x01\xc3", 3, &ev), 0);
		assert_int_equal(read_one(r, (const uint8_t *)"\x80\x01\xa9", 3, &ev), 0);
		assert_int_equal(ev.kind, WS_TEXT);
		assert_memory_equal(ev.data, "\xc3\xa9", 2);
		ws_reader_free(r);
	}
}

/* Masking in pieces from an offset is masking at once. */
/* RFC 6455 1.3's example handshake; keys that are not 16 bytes. */
static void test_handshake(void **state)
{
	char accept[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1], again[WS_ACCEPT_LEN + 1];

	(void)state;
	assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ=", accept), ZT_ERR_INVALID);
	assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==x", accept), ZT_ERR_INVALID);
	assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQo=", accept), ZT_ERR_INVALID);
	assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25j!!==", accept), ZT_ERR_INVALID);
	assert_int_equal(ws_accept_for(NULL, accept), ZT_ERR_INVALID);
	assert_int_equal(ws_client_key(key), 0);
	assert_int_equal(strlen(key), WS_KEY_LEN);
	assert_int_equal(ws_accept_for(key, again), 0);
}

/* The answer to a handshake, as ztctl reads it. */
static void test_answer(void **state)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "sec-websocket-accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n";
	static const char refused[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 57\r\n\r\n";
	static const char *const bad[] = {
		"HTTP/1.0 101 x\r\n\r\n", "HTTP/1.1 99 x\r\n\r\n", "HTTP/1.1 1011\r\n\r\n",
		"HTTP/1.1 101 x\r\nno colon\r\n\r\n", "HTTP/1.1 101 x\r\n",
		"HTTP/1.1 200 x\r\nContent-Length: 1a\r\n\r\n",
		"HTTP/1.1 101 x\r\nSec-WebSocket-Accept: short\r\n\r\n", "\r\n",
	};
	struct ws_answer a;

	(void)state;
	assert_int_equal(ws_parse_answer(ok, strlen(ok), &a), 0);
	assert_int_equal(a.status, 101);
	assert_string_equal(a.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_parse_answer(refused, strlen(refused), &a), 0);
	assert_int_equal(a.status, 401);
	assert_int_equal(a.content_length, 57);
	assert_string_equal(a.accept, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ws_parse_answer(bad[i], strlen(bad[i]), &a), ZT_ERR_INVALID);
	}
	assert_int_equal(ws_parse_answer("HTTP/1.1 101 x\r\n\0\r\n\r\n", 21, &a), ZT_ERR_INVALID);
}

static void test_mask_offset(void **state)
{
	uint8_t a[13], b[13];
	(void)state;

	for (int i = 0; i < 13; i++) {
		a[i] = b[i] = (uint8_t)i;
	}
	ws_mask(a, 13, KEY, 0);
	ws_mask(b, 5, KEY, 0);
	ws_mask(b + 5, 8, KEY, 5);
	assert_memory_equal(a, b, 13);
	ws_mask(a, 13, KEY, 0);
	for (int i = 0; i < 13; i++) {
		assert_int_equal(a[i], i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_hello),
		cmocka_unit_test(test_rfc_fragments_and_ping),
		cmocka_unit_test(test_rfc_lengths_bytewise),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mask_offset),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
