/*
 * desk.h - the frames of zt's desktop protocol (RDP screenshots and input).
 *
 * Both sides use this one codec: the agent and its per-session RDP helper
 * (ztrdp) on the helper's stdin/stdout pipes, and the broker and the agent
 * on a tunnel stream. A frame is
 *
 *   u32 big-endian head length (1..DESK_HEAD_MAX) | head: a JSON object,
 *   UTF-8 text | u32 big-endian body length (0..DESK_BODY_MAX) | body bytes
 *
 * The head says what the frame is ({"op":"screenshot",...}, {"ok":true,...});
 * the body carries bulk bytes (a PNG). Heads are parsed with common/json's
 * bounds (size, depth, UTF-8, no trailing bytes). Not thread-safe per fd.
 */
#ifndef ZT_DESK_H
#define ZT_DESK_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define DESK_HEAD_MAX 65536
#define DESK_BODY_MAX (32u * 1024 * 1024)
#define DESK_NLA_HASH_LEN 32  /* hex digits of an NT hash (a connect's nla_hash) */
#define DESK_MESSAGE_MAX 1024 /* bytes of a failure's message: cut there, read no further */

struct desk_frame {
	cJSON *head;          /* owned: a JSON object */
	unsigned char *body;  /* owned; NULL when body_len is 0 */
	size_t body_len;
};

/* Writes one frame to fd (blocking; partial writes, EINTR; never SIGPIPE:
 * sockets are written with send(MSG_NOSIGNAL), and for pipes the caller
 * ignores SIGPIPE). head is printed unformatted. 0, ZT_ERR_TOO_LARGE (head
 * or body over its limit), ZT_ERR_IO, ZT_ERR_NOMEM. */
int desk_write(int fd, const cJSON *head, const void *body, size_t len);
/* Reads one frame from fd, waiting at most timeout_ms in all (-1: no
 * limit; poll()). 0 with *f filled (caller clears), ZT_ERR_OFFLINE for a
 * clean EOF before the first byte, ZT_ERR_TRUNCATED for EOF inside a frame,
 * ZT_ERR_TIMEOUT, ZT_ERR_PROTOCOL (a length out of bounds, a head that is
 * not a JSON object), ZT_ERR_IO, ZT_ERR_NOMEM. *f is zeroed on error. */
int desk_read(int fd, int timeout_ms, struct desk_frame *f);
/* One frame from buf[0..len) (what desk_read checks, for the fuzzer and
 * tests): 0 with *f filled and *used bytes taken, ZT_ERR_TRUNCATED when
 * more bytes are needed, ZT_ERR_PROTOCOL, ZT_ERR_NOMEM. */
int desk_parse(const void *buf, size_t len, struct desk_frame *f, size_t *used);
/* Checks that s is an NT hash as a connect's nla_hash carries it (for
 * pass-the-hash NLA): DESK_NLA_HASH_LEN hex digits, either case. 0 or
 * ZT_ERR_INVALID. */
int desk_nla_hash_valid(const char *s);
/* A failure's head, {"ok":false,"code":code,"message":...}, the message
 * formatted from fmt and cut to DESK_MESSAGE_MAX bytes. Owned by the
 * caller; NULL on ENOMEM. */
cJSON *desk_failure(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees head and body (body wiped first: it may carry a password), zeroes
 * f. NULL-safe. The head is freed as it is: a caller that put a secret in
 * it wipes it first (json_wipe). */
void desk_frame_clear(struct desk_frame *f);

#endif
