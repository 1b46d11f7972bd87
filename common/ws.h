/*
 * ws.h - the WebSocket frame codec (RFC 6455), one for both ends: the
 * broker's terminal relay and ztctl.
 *
 * Writing: ws_frame_head() encodes a frame's head (2 to 14 bytes) for a
 * payload of n bytes, with the masking key when the sender is a client
 * (RFC 6455 5.3: a client masks every frame, a server none); ws_mask()
 * masks (or unmasks) the payload in place, from any offset of it, so a
 * large payload may be masked in pieces. ws_frame_put() does both into a
 * buffer.
 *
 * Reading: a struct ws_reader takes the received bytes as they come
 * (ws_read() consumes at most one frame per call) and gives back whole
 * messages and control frames, never fragments:
 *   - a text or binary message, its fragments joined (at most msg_max
 *     bytes; a text message must be UTF-8);
 *   - a ping (answer it with a pong carrying the same bytes), a pong;
 *   - a close, with its code (1005 when it had none) and reason.
 * Control frames may come between the fragments of a message (5.4).
 * Anything else is refused, and the reader says which close code to send
 * back: 1002 (protocol error: reserved bits or opcodes, a control frame
 * fragmented or over 125 bytes, a length not in its shortest form or past
 * 2^63, a frame masked or not against the rule of its end, a continuation
 * with no message or a new message inside one, a close of 1 byte or with
 * a code that may not be sent), 1007 (text that is not UTF-8, or a close
 * reason that is not), 1009 (a message over msg_max). A reader that
 * refused once stays refused: the connection must be closed.
 *
 * Untrusted input (fuzz/ws.c). Not thread-safe: a reader belongs to one
 * connection.
 */
#ifndef ZT_WS_H
#define ZT_WS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define WS_HEAD_MAX 14               /* bytes of a frame's head at most */
#define WS_CONTROL_MAX 125           /* bytes of a control frame's payload */

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 7.4.1) zt sends or reports. */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_NO_STATUS 1005      /* reported for a close without a code; never sent */
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL 1011

/* The head of a frame of n payload bytes into out: returns its length.
 * mask: the 4-byte masking key (a client's frames), or NULL. */
size_t ws_frame_head(uint8_t out[WS_HEAD_MAX], int fin, enum ws_opcode op, uint64_t n,
    const uint8_t *mask);
/* XORs p[0..n) with key, p being the payload's bytes from offset on. */
void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset);
/* One whole frame (head, then p[0..n) masked with mask unless NULL)
 * appended to out. 0, ZT_ERR_TOO_LARGE (past out's maximum: nothing put)
 * or ZT_ERR_NOMEM (out may hold part of the frame: end the connection). */
int ws_frame_put(struct buf *out, int fin, enum ws_opcode op, const void *p, size_t n,
    const uint8_t *mask);
/* A close frame's payload: the code (2 bytes) and reason (at most 123
 * bytes, cut on a UTF-8 boundary) into out (WS_CONTROL_MAX bytes);
 * returns its length. */
size_t ws_close_payload(uint8_t out[WS_CONTROL_MAX], uint16_t code, const char *reason);

/* The opening handshake (RFC 6455 4). WS_KEY_LEN: a Sec-WebSocket-Key,
 * base64 of 16 bytes; WS_ACCEPT_LEN: its Sec-WebSocket-Accept. */
#define WS_KEY_LEN 24
#define WS_ACCEPT_LEN 28
/* A new random key for a client's request into key. 0 or ZT_ERR_CRYPTO. */
int ws_client_key(char key[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept for key: base64 of the SHA-1 of the key and
 * the protocol's GUID. 0, or ZT_ERR_INVALID when key is not base64 of 16
 * bytes. */
int ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1]);

/* What a server answered to the handshake: its status (101 to switch), its
 * Sec-WebSocket-Accept ("" when absent) and Content-Length (0 when
 * absent). */
struct ws_answer {
	int status;
	char accept[WS_ACCEPT_LEN + 1];
	uint64_t content_length;
};
#define WS_ANSWER_MAX 16384           /* bytes of an answer's head */
/* Parses the head of the answer, p[0..n) (untrusted, up to and with its
 * blank line; at most WS_ANSWER_MAX bytes): "HTTP/1.1 NNN ...", then
 * header lines. 0, or ZT_ERR_INVALID (no status line, a line without a
 * colon, a Content-Length that is not digits, an accept value of another
 * length, a NUL). */
int ws_parse_answer(const char *p, size_t n, struct ws_answer *out);

/* What ws_read() found. */
enum ws_kind {
	WS_NONE,                     /* a fragment, or not a whole frame yet */
	WS_TEXT,
	WS_BINARY,
	WS_PING,
	WS_PONG,
	WS_CLOSE,
};

struct ws_event {
	enum ws_kind kind;
	/* The message or control payload, unmasked: borrowed from the reader,
	 * valid until its next ws_read. For a close, the reason (no code). */
	const uint8_t *data;
	size_t len;
	uint16_t close_code;         /* WS_CLOSE: WS_CLOSE_NO_STATUS when none */
};

struct ws_reader;

/* A reader for one end: masked says whether the frames it reads must be
 * masked (a server reads a client's: 1; a client reads a server's: 0);
 * msg_max bounds a message. NULL on ENOMEM. */
struct ws_reader *ws_reader_new(int masked, size_t msg_max);
void ws_reader_free(struct ws_reader *r);

/*
 * Reads the frame at the start of p[0..n): 0 with *used bytes consumed
 * (0: the frame is not all there yet; call again with more) and *ev (kind
 * WS_NONE for a fragment of a message not ended yet, or when *used is 0).
 * Otherwise ZT_ERR_PROTOCOL or ZT_ERR_TOO_LARGE (or ZT_ERR_NOMEM), and
 * ws_reader_close_code() says what to close with.
 */
int ws_read(struct ws_reader *r, const uint8_t *p, size_t n, size_t *used,
    struct ws_event *ev);
/* The close code owed for the refusal (0 while none). */
uint16_t ws_reader_close_code(const struct ws_reader *r);

#endif
