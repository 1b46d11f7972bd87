/*
 * brk_body.c - request bodies: bounds and when to answer (brk_body.h).
 */
#include "broker/brk_body.h"

#include <strings.h>

#include "broker/brk_conn.h"
#include "broker/brk_httphdr.h"
#include "common/buf.h"
#include "common/err.h"

/* The declared length: 0 with *len set, or ZT_ERR_NOT_FOUND (none, e.g.
 * chunked), ZT_ERR_INVALID. */
static int declared(struct MHD_Connection *c, uint64_t *len)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl == NULL ? ZT_ERR_NOT_FOUND : brk_hdr_content_length(cl, len);
}

int brk_body_declared_over(struct MHD_Connection *c, uint64_t max)
{
	uint64_t len = 0;

	return declared(c, &len) == 0 && len > max;
}

/* 1 if an answer decided before c's body should be sent now rather than
 * after the body was read and dropped. */
static int answer_first(struct MHD_Connection *c)
{
	const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);
	uint64_t len = 0;
	int r = declared(c, &len);

	if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
		return 1; /* the client waits for our word before it sends */
	}
	if (r == ZT_ERR_NOT_FOUND) {
		return te == NULL; /* no body at all, unless chunked */
	}
	return r != 0 || len == 0 || len > BRK_BODY_DISCARD_MAX;
}

int brk_body_refuse(struct MHD_Connection *c, struct brk_body *b)
{
	if (answer_first(c)) {
		return 1;
	}
	buf_free(b->kept);
	b->kept = NULL; /* keep nothing of it */
	b->too_large = 1;
	brk_conn_phase(c, BRK_CONN_BODY);
	return 0;
}

int brk_body_put(struct brk_body *b, const void *p, size_t n)
{
	b->received += n;
	if (b->received > BRK_BODY_DISCARD_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if (b->kept != NULL && !b->too_large && buf_put(b->kept, p, n) != 0) {
		b->too_large = 1;
	}
	return 0;
}
