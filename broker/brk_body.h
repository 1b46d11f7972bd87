/*
 * brk_body.h - request bodies on the HTTPS port: collected up to a bound,
 * and answered so that clients see the answer.
 *
 * A server that answers and closes while its client is still sending makes
 * the client's TCP stack see a reset, and most clients (Node's fetch, which
 * the MCP SDK uses, among them) then report the reset, not the answer. So
 * an answer decided before the body (413 for a declared length over the
 * bound, 401, 403) is sent at once only when the client waits for it
 * (Expect: 100-continue) or sends no body; otherwise the body is read and
 * dropped, up to BRK_BODY_DISCARD_MAX bytes in all, and the answer follows
 * it. A body declared larger than that is answered at once (its client may
 * see a reset); one that grows past it without a declared length (chunked)
 * has its connection closed. The body deadline (brk_conn.h) bounds the time
 * such a body may take.
 */
#ifndef ZT_BRK_BODY_H
#define ZT_BRK_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

/* Bytes of a body read and dropped so that the answer that refused it
 * reaches the client: more than any refused upload a real client sends
 * to this API (the largest accepted body is an MCP message of 4 MiB). */
#define BRK_BODY_DISCARD_MAX (64u * 1024 * 1024)

struct buf;

struct brk_body {
	struct buf *kept;          /* what is kept (bounded by its max); NULL: none */
	uint64_t received;         /* bytes received in all */
	int too_large;             /* more came than kept may hold, or refused */
};

/* 1 if c's request declares (Content-Length) a body of more than max
 * bytes. */
int brk_body_declared_over(struct MHD_Connection *c, uint64_t max);
/* An answer was decided before c's body came (a refusal): 1 if it goes
 * now (the client waits for it, or sends no body: see above); else 0 after dropping what b kept and
 * setting c's phase back to the body's (brk_conn.h), so that the body
 * deadline bounds the time the client may take to send what is dropped.
 * Every refusal made before the body goes through here. */
int brk_body_refuse(struct MHD_Connection *c, struct brk_body *b);
/* Takes n bytes of body: kept while they fit, dropped (too_large set)
 * after; all dropped when kept is NULL (a refused body). 0, or ZT_ERR_TOO_LARGE once more
 * than BRK_BODY_DISCARD_MAX came in all: close the connection. */
int brk_body_put(struct brk_body *b, const void *p, size_t n);

#endif
