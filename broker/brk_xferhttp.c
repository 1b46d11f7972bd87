/*
 * brk_xferhttp.c - the HTTPS side of a transfer link (brk_xfer.h):
 * GET or PUT BRK_XFER_PATH<id>, on libmicrohttpd's event loop.
 *
 * A request goes through stages: its head is in (new), so the connection
 * is suspended while a worker authenticates it and takes the link (auth);
 * libmicrohttpd then calls again with the head, and the transfer's thread
 * is running (go). The credential is the bearer token or, for the
 * console, its web session cookie with the CSRF header
 * (brk_websession.h): the link is bound to whichever made the call. A GET
 * answers at once with a chunked body whose content reader drains the
 * ring; a PUT takes its body into the ring and, once the body ended, waits
 * for the thread to finish and answers what was written. Whichever side
 * would wait (a GET with an empty ring, a PUT body with a full one, a PUT
 * whose write is not done) suspends the connection under the transfer's
 * lock, and the thread resumes it (wake) when that changed. A request
 * that went away stops its transfer.
 */
#include "broker/brk_xferhttp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_conn.h"
#include "broker/brk_http.h"
#include "broker/brk_websession.h"
#include "broker/brk_work.h"
#include "broker/brk_xfer_int.h"
#include "common/err.h"
#include "common/log.h"

#define BLOCK (256 * 1024)              /* bytes of a GET's chunk at most */

enum stage { XR_NEW, XR_AUTH, XR_GO, XR_DRAIN, XR_SENT };

struct xreq {
	struct brk *b;
	struct MHD_Connection *c;
	enum stage stage;
	enum brk_xfer_dir dir;
	char id[BRK_XFER_ID_LEN + 1];
	char source[BRK_SOURCE_MAX];
	struct brk_req req;
	struct brk_resp resp;           /* the worker's refusal, if any */
	struct brk_xfer *x;             /* taken: a reference */
	int suspended;                  /* under x->mu */
	int body_ended;
};

/* The transfer's thread says something changed (under x->mu). */
static void wake(void *arg)
{
	struct xreq *xr = arg;

	if (xr->suspended) {
		xr->suspended = 0;
		MHD_resume_connection(xr->c);
	}
}

/* Under x->mu: waits for wake. */
static void suspend(struct xreq *xr)
{
	xr->suspended = 1;
	MHD_suspend_connection(xr->c);
}

/* On a worker, with the connection suspended: who asks, and the link. */
static void auth_job(void *arg)
{
	struct xreq *xr = arg;
	struct brk_identity who;
	struct brk_xfer *x = NULL;
	int r;

	if (brk_websession_request(xr->b, &xr->req, BRK_WEBSESSION_CSRF, &who, &xr->resp) != 0) {
		return;
	}
	brk_conn_authenticated(xr->c, who.actor);
	r = xr->b->xfers != NULL ? brk_xfer_take(xr->b->xfers, xr->id, xr->dir, &who, &x) :
	    ZT_ERR_NOT_FOUND;
	if (r == ZT_ERR_NOT_FOUND) {
		brk_resp_error(&xr->resp, 404, "not_found", "no transfer link %s for this "
		    "credential and method: it expired, was used, or never was", xr->id);
	} else if (r != 0) {
		brk_resp_error(&xr->resp, 503, "unavailable", "%s", r == ZT_ERR_CANCELLED ?
		    "the broker is stopping" : "out of memory");
	} else {
		pthread_mutex_lock(&x->mu);
		x->wake = wake;
		x->wake_arg = xr;
		pthread_mutex_unlock(&x->mu);
		xr->x = x;
	}
	log_info("%s %s%s from %s: %s", xr->req.method, BRK_XFER_PATH, xr->id, xr->source,
	    xr->x != NULL ? "taken" : "refused");
}

/* Sends resp (JSON) and is done. */
static enum MHD_Result send_json(struct xreq *xr, const struct brk_resp *resp)
{
	xr->stage = XR_SENT;
	return brk_http_send(xr->c, resp);
}

static enum MHD_Result send_error(struct xreq *xr, int status, const char *code,
    const char *msg)
{
	xr->stage = XR_SENT;
	return brk_http_send_error(xr->c, status, code, 0, msg);
}

/* ---- GET ---- */

static ssize_t get_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct xreq *xr = cls;
	struct brk_xfer *x = xr->x;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&x->mu);
	if (x->stop && !x->ok) {
		/* Ended by zt or cut short: what is left in the ring is not sent. */
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (x->len > 0) {
		n = (ssize_t)brk_xfer_ring_get(x, (uint8_t *)buf, max);
		pthread_cond_broadcast(&x->cv);
	} else if (x->ended) {
		n = x->ok ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		suspend(xr);
		n = 0;
	}
	pthread_mutex_unlock(&x->mu);
	return n;
}

static enum MHD_Result start_get(struct xreq *xr)
{
	struct brk_resp none;
	struct MHD_Response *r;
	enum MHD_Result ret;

	memset(&none, 0, sizeof(none));
	xr->stage = XR_SENT;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, get_reader, xr, NULL);
	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	brk_http_common_headers(r, &none);
	ret = MHD_queue_response(xr->c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* The head of a GET's answer once the first bytes are in the ring, or
 * the end: a read that failed before its first byte (the file went away)
 * is answered 502 with why, not as a body cut short. */
static enum MHD_Result get_head(struct xreq *xr)
{
	struct brk_xfer *x = xr->x;
	char msg[512];
	int failed;

	pthread_mutex_lock(&x->mu);
	if (x->len == 0 && !x->ended) {
		suspend(xr);                /* libmicrohttpd calls with the head again */
		pthread_mutex_unlock(&x->mu);
		return MHD_YES;
	}
	failed = x->ended && !x->ok && x->moved == 0;
	snprintf(msg, sizeof(msg), "reading %s on %s failed: %s", x->path, x->host, x->error);
	pthread_mutex_unlock(&x->mu);
	return failed ? send_error(xr, 502, "transfer_failed", msg) : start_get(xr);
}

/* ---- PUT ---- */

/* The answer of a PUT whose transfer ended (x->ended). */
static enum MHD_Result put_answer(struct xreq *xr)
{
	struct brk_xfer *x = xr->x;
	struct brk_resp resp;
	enum MHD_Result ret;

	memset(&resp, 0, sizeof(resp));
	if (!x->ok) {
		brk_resp_error(&resp, 502, "transfer_failed", "writing %s on %s failed: %s; the "
		    "file is as it was", x->path, x->host, x->error);
	} else if ((resp.json = cJSON_CreateObject()) != NULL) {
		resp.status = 200;
		cJSON_AddStringToObject(resp.json, "link_id", x->id);
		cJSON_AddStringToObject(resp.json, "path", x->path);
		cJSON_AddStringToObject(resp.json, "resolved", x->resolved);
		cJSON_AddNumberToObject(resp.json, "bytes", (double)x->moved);
		cJSON_AddStringToObject(resp.json, "sha256", x->sha256);
		cJSON_AddBoolToObject(resp.json, "atomic", x->atomic);
	}
	ret = send_json(xr, &resp);
	brk_resp_clear(&resp);
	return ret;
}

/* A piece of a PUT's body, or (n 0) its end. */
static enum MHD_Result put_body(struct xreq *xr, const char *data, size_t *n)
{
	struct brk_xfer *x = xr->x;
	size_t k;

	pthread_mutex_lock(&x->mu);
	if (x->ended) {
		/* Done, or failed before the body ended: the rest of the body is
		 * read and dropped, then the answer (a client still sending when
		 * the connection closed would often lose it to the reset). */
		pthread_mutex_unlock(&x->mu);
		if (*n > 0) {
			*n = 0;
			return MHD_YES;
		}
		return put_answer(xr);
	}
	if (*n > 0) {
		k = brk_xfer_ring_put(x, (const uint8_t *)data, *n);
		if (k > 0) {
			pthread_cond_broadcast(&x->cv);
		}
		*n -= k;
		if (*n > 0) {
			suspend(xr);        /* the ring is full: on when it drained */
		}
	} else {
		if (!xr->body_ended) {
			xr->body_ended = 1;
			x->eof = 1;
			pthread_cond_broadcast(&x->cv);
		}
		suspend(xr);                /* on when the write is done */
	}
	pthread_mutex_unlock(&x->mu);
	return MHD_YES;
}

/* ---- the access handler's part ---- */

static int parse_id(const char *url, char *id)
{
	const char *p = url + strlen(BRK_XFER_PATH);
	size_t i;

	for (i = 0; i < BRK_XFER_ID_LEN; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
			return ZT_ERR_INVALID;
		}
		id[i] = p[i];
	}
	id[i] = '\0';
	return p[i] == '\0' ? 0 : ZT_ERR_INVALID;
}

/* The refusal in xr->resp: at once for a GET; for a PUT once its body
 * was read and dropped (a client still sending when the connection closes
 * would often lose the answer to the reset), within the connection's body
 * deadline (brk_conn.h). */
static enum MHD_Result refuse(struct xreq *xr)
{
	if (xr->dir == BRK_XFER_WRITE) {
		xr->stage = XR_DRAIN;
		return MHD_YES;
	}
	return send_json(xr, &xr->resp);
}

/* The first call: what is asked, then the worker. */
static enum MHD_Result on_new(struct xreq *xr, const char *url, const char *method)
{
	brk_http_client_addr(xr->c, xr->source, sizeof(xr->source));
	if (strcmp(method, "GET") == 0) {
		xr->dir = BRK_XFER_READ;
	} else if (strcmp(method, "PUT") == 0) {
		xr->dir = BRK_XFER_WRITE;
	} else {
		return send_error(xr, 405, "method_not_allowed", "a transfer link takes GET "
		    "(file_read) or PUT (file_write)");
	}
	if (parse_id(url, xr->id) != 0) {
		brk_resp_error(&xr->resp, 404, "not_found", "no such transfer link");
		return refuse(xr);
	}
	xr->req.method = method;
	xr->req.path = url;
	xr->req.source = xr->source;
	xr->req.authorization = MHD_lookup_connection_value(xr->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	/* The console's way (brk_websession.h): the cookie, its CSRF header. */
	xr->req.cookie_web = MHD_lookup_connection_value(xr->c, MHD_COOKIE_KIND,
	    BRK_WEBSESSION_COOKIE);
	xr->req.csrf = MHD_lookup_connection_value(xr->c, MHD_HEADER_KIND,
	    BRK_WEBSESSION_CSRF_HEADER);
	xr->req.origin = MHD_lookup_connection_value(xr->c, MHD_HEADER_KIND, "Origin");
	xr->stage = XR_AUTH;
	if (brk_work_suspend(xr->b->work, xr->c, auth_job, xr) != 0) {
		brk_resp_error(&xr->resp, 503, "busy", "the server is busy: try again in a moment");
		xr->resp.retry_after = 1;
		return refuse(xr);
	}
	return MHD_YES;
}

enum MHD_Result brk_xferhttp_request(struct brk *b, struct MHD_Connection *c, const char *url,
    const char *method, const char *upload_data, size_t *upload_size, void **cls)
{
	struct xreq *xr = *cls;

	if (xr == NULL) {
		if ((xr = calloc(1, sizeof(*xr))) == NULL) {
			return MHD_NO;
		}
		xr->b = b;
		xr->c = c;
		*cls = xr;
		return on_new(xr, url, method);
	}
	switch (xr->stage) {
	case XR_AUTH:
		/* The head again, after the worker resumed the connection. */
		if (xr->x == NULL) {
			return xr->resp.status != 0 ? refuse(xr) : MHD_NO;
		}
		brk_conn_phase(c, BRK_CONN_BUSY);   /* the transfer bounds itself */
		xr->stage = XR_GO;
		return xr->dir == BRK_XFER_READ ? get_head(xr) : MHD_YES;
	case XR_GO:
		return xr->dir == BRK_XFER_READ ? get_head(xr) : put_body(xr, upload_data,
		    upload_size);
	case XR_DRAIN:
		if (*upload_size > 0) {
			*upload_size = 0;       /* read and dropped */
			return MHD_YES;
		}
		return send_json(xr, &xr->resp);
	case XR_NEW:
	case XR_SENT:
	default:
		*upload_size = 0;           /* an answer is queued: the rest is dropped */
		return MHD_YES;
	}
}

void brk_xferhttp_completed(void **cls)
{
	struct xreq *xr = *cls;
	struct brk_xfer *x;

	if (xr == NULL) {
		return;
	}
	if ((x = xr->x) != NULL) {
		pthread_mutex_lock(&x->mu);
		x->wake = NULL;
		if (!x->ended) {
			brk_xfer_stop_locked(x, "the client went away");
		}
		pthread_mutex_unlock(&x->mu);
		brk_xfer_unref(x);
	}
	brk_resp_clear(&xr->resp);
	free(xr);
	*cls = NULL;
}
