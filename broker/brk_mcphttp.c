/*
 * brk_mcphttp.c - MCP Streamable HTTP on libmicrohttpd.
 *
 * The pieces: an HTTP session (struct hsession) wraps one mcp_session and
 * carries its Mcp-Session-Id and owner; a stream (struct stream) is one
 * logical SSE stream: the answer to one POSTed request, or the session's
 * standalone GET stream. A stream keeps its events (bounded) so that a
 * client whose connection ended (a dropped network, or the server closing
 * it on purpose for polling, SEP-1699) can resume with GET and
 * Last-Event-ID; the events it had not seen are sent again. Event ids are
 * "<stream number>_<sequence>", sequence 0 being the priming event.
 *
 * Every POSTed request but initialize (answered with plain JSON, as it
 * carries the new session's id) runs in a worker thread that feeds its
 * stream; the connection's thread blocks in the response's content reader
 * until events arrive, and the stream ends after the response. One mutex guards all sessions and
 * streams; each stream has a condition variable for its reader.
 */
#include "broker/brk_mcphttp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "broker/brk_api.h"
#include "broker/brk_httphdr.h"
#include "broker/brk_quota.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"

#define STREAM_MAX_EVENTS 4096
#define SSE_BLOCK 16384
#define KEEPALIVE_S 15
#define SESSION_IDLE_S 3600
#define SESSION_ID_BYTES 32
#define RETRY_DEFAULT_MS 1000
#define SESSION_MAX_STREAMS 64

struct event {
	struct event *next;
	uint64_t seq;
	size_t len;
	char text[]; /* "id: N_S\ndata: JSON\n\n" */
};

struct hsession;

struct stream {
	struct stream *next;       /* in the session's list */
	struct hsession *hs;
	uint64_t no;
	uint64_t next_seq;         /* sequence of the next event */
	struct event *head, *tail;
	size_t nevents;
	/* The connection currently reading, if any: a newer one supersedes. */
	uint64_t conn_gen;
	int connected;
	uint64_t sent_seq;         /* last event written in full on it */
	size_t off;                /* bytes of event sent_seq + 1 written */
	int primed;                /* priming event written on this connection */
	int finished;              /* no more events will come */
	int close_conn;            /* end the current connection (polling) */
	int standalone;            /* the session's GET stream */
	int retry_ms;
	int refs;
	pthread_cond_t cv;
};

struct hsession {
	struct hsession *next;
	struct hsession *next_closed; /* on a list of sessions to close */
	struct brk_mcphttp *h;
	char id[64];
	struct mcp_session *ms;
	struct mcp_identity owner;
	char owner_key[96];        /* "kind:name": its unit of h->quota */
	struct stream *streams;
	uint64_t stream_no;
	int64_t last_used;
	int busy;                  /* workers and connected readers */
	int ended;
	int refs;
};

struct brk_mcphttp {
	struct brk_mcphttp_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t workers_cv;
	int workers;
	int stopping;
	struct hsession *sessions;
	size_t nsessions;
	struct brk_quota *quota;   /* sessions per identity and in all */
};

/* Per-request state of one HTTP request (MHD's con_cls). */
struct req {
	struct buf *body;
	int too_large;
	int refused;               /* a response was queued at the first call */
	struct mcp_identity who;
	char source[64];
};

/* The reader side of one SSE connection. */
struct conn {
	struct brk_mcphttp *h;
	struct stream *s;
	uint64_t gen;
	char pending[64];          /* priming / retry / keepalive text */
	size_t pending_len, pending_off;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- streams (caller holds h->mu unless said otherwise) ---- */

static void stream_detach(struct stream *s);

/* Forgets the oldest finished, unconnected streams past
 * SESSION_MAX_STREAMS: their clients went away without resuming. */
static void stream_trim(struct hsession *hs)
{
	struct stream *s, *victim;
	size_t n;

	for (;;) {
		n = 0;
		victim = NULL;
		for (s = hs->streams; s != NULL; s = s->next) {
			n++;
			if (s->finished && !s->connected) {
				victim = s; /* the list is newest first: ends on the oldest */
			}
		}
		if (n <= SESSION_MAX_STREAMS || victim == NULL) {
			return;
		}
		stream_detach(victim);
	}
}

static struct stream *stream_new(struct hsession *hs)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->hs = hs;
	s->no = ++hs->stream_no;
	s->next_seq = 1;
	s->refs = 1; /* the session's list */
	s->retry_ms = RETRY_DEFAULT_MS;
	pthread_cond_init(&s->cv, NULL);
	s->next = hs->streams;
	hs->streams = s;
	hs->refs++;
	stream_trim(hs);
	return s;
}

static void hsession_unref(struct hsession *hs);

static void stream_unref(struct stream *s)
{
	struct event *e, *n;

	if (s == NULL || --s->refs > 0) {
		return;
	}
	for (e = s->head; e != NULL; e = n) {
		n = e->next;
		free(e);
	}
	pthread_cond_destroy(&s->cv);
	hsession_unref(s->hs);
	free(s);
}

/* Takes s out of its session's list (dropping the list's reference). */
static void stream_detach(struct stream *s)
{
	struct stream **pp;

	for (pp = &s->hs->streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			s->next = NULL;
			stream_unref(s);
			return;
		}
	}
}

static struct stream *stream_find(struct hsession *hs, uint64_t no)
{
	for (struct stream *s = hs->streams; s != NULL; s = s->next) {
		if (s->no == no) {
			return s;
		}
	}
	return NULL;
}

/* Appends one event; the oldest is dropped past STREAM_MAX_EVENTS. */
static int stream_push(struct stream *s, const char *json)
{
	size_t jl = strlen(json), cap = jl + 64;
	struct event *e = malloc(sizeof(*e) + cap);
	int n;

	if (e == NULL) {
		return ZT_ERR_NOMEM;
	}
	e->next = NULL;
	e->seq = s->next_seq++;
	n = snprintf(e->text, cap, "id: %llu_%llu\ndata: %s\n\n", (unsigned long long)s->no,
	    (unsigned long long)e->seq, json);
	e->len = (size_t)n;
	if (s->tail != NULL) {
		s->tail->next = e;
	} else {
		s->head = e;
	}
	s->tail = e;
	if (++s->nevents > STREAM_MAX_EVENTS) {
		struct event *old = s->head;

		s->head = old->next;
		free(old);
		s->nevents--;
	}
	pthread_cond_broadcast(&s->cv);
	return 0;
}

/* The first retained event after seq, or NULL. */
static struct event *stream_after(struct stream *s, uint64_t seq)
{
	for (struct event *e = s->head; e != NULL; e = e->next) {
		if (e->seq > seq) {
			return e;
		}
	}
	return NULL;
}

static void stream_finish(struct stream *s)
{
	s->finished = 1;
	pthread_cond_broadcast(&s->cv);
}

/* The sink the engine writes a stream through. */
static int sink_send(void *arg, const char *json)
{
	struct stream *s = arg;
	struct brk_mcphttp *h = s->hs->h;
	int r;

	pthread_mutex_lock(&h->mu);
	r = s->finished ? ZT_ERR_IO : stream_push(s, json);
	pthread_mutex_unlock(&h->mu);
	return r;
}

/* The sink of a session's standalone stream: whichever GET stream is
 * current. Its argument is the session, which outlives the engine's copy
 * of the sink (close_sessions() detaches it first). */
static int standalone_send(void *arg, const char *json)
{
	struct hsession *hs = arg;
	struct brk_mcphttp *h = hs->h;
	int r = ZT_ERR_IO;

	pthread_mutex_lock(&h->mu);
	for (struct stream *s = hs->streams; s != NULL; s = s->next) {
		if (s->standalone && !s->finished) {
			r = stream_push(s, json);
			break;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return r;
}

static void sink_close(void *arg, int retry_ms)
{
	struct stream *s = arg;
	struct brk_mcphttp *h = s->hs->h;

	pthread_mutex_lock(&h->mu);
	s->close_conn = 1;
	s->retry_ms = retry_ms > 0 ? retry_ms : RETRY_DEFAULT_MS;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&h->mu);
}

/* ---- sessions ---- */

static void hsession_unref(struct hsession *hs)
{
	if (hs == NULL || --hs->refs > 0) {
		return;
	}
	mcp_session_unref(hs->ms);
	free(hs);
}

/* Ends a session: finishes its streams, takes it out of the table and
 * puts it on *closing, keeping the table's reference; the caller passes
 * that list to close_sessions() after dropping h->mu, because the engine
 * may call back into our sinks, which take h->mu. Caller holds h->mu. */
static void hsession_end(struct brk_mcphttp *h, struct hsession *hs,
    struct hsession **closing)
{
	struct hsession **pp;

	if (hs->ended) {
		return;
	}
	hs->ended = 1;
	while (hs->streams != NULL) {
		stream_finish(hs->streams);
		stream_detach(hs->streams);
	}
	for (pp = &h->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == hs) {
			*pp = hs->next;
			h->nsessions--;
			brk_quota_give(h->quota, hs->owner_key);
			break;
		}
	}
	hs->next_closed = *closing;
	*closing = hs;
}

/* Closes the engine sessions of a list from hsession_end(): cancels their
 * calls, then drops the table's references. Called without h->mu. */
static void close_sessions(struct brk_mcphttp *h, struct hsession *list)
{
	struct hsession *next;

	for (; list != NULL; list = next) {
		next = list->next_closed;
		mcp_session_set_stream(list->ms, NULL);
		mcp_session_close(list->ms);
		pthread_mutex_lock(&h->mu);
		hsession_unref(list);
		pthread_mutex_unlock(&h->mu);
	}
}

/* Ends sessions idle for SESSION_IDLE_S with nothing running. */
static void sweep_idle(struct brk_mcphttp *h, struct hsession **closing)
{
	int64_t now = now_s();
	struct hsession *hs = h->sessions, *next;

	for (; hs != NULL; hs = next) {
		next = hs->next;
		if (hs->busy == 0 && now - hs->last_used > SESSION_IDLE_S) {
			hsession_end(h, hs, closing);
		}
	}
}

static int same_identity(const struct mcp_identity *a, const struct mcp_identity *b)
{
	return strcmp(a->kind, b->kind) == 0 && strcmp(a->name, b->name) == 0;
}

/* "kind:name", the identity's key in h->quota. */
static void identity_key(const struct mcp_identity *who, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%s", who->kind, who->name);
}

/* ---- HTTP helpers ---- */

static void free_text(void *p)
{
	free(p);
}

/* Queues a response with body text (taken; may be NULL for none). */
static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type,
    char *text, const char *session_id)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer_with_free_callback(text != NULL ? strlen(text) : 0,
	    text, free_text);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	if (type != NULL) {
		MHD_add_response_header(r, "Content-Type", type);
	}
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (session_id != NULL) {
		MHD_add_response_header(r, "Mcp-Session-Id", session_id);
	}
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

/* An HTTP error carrying a JSON-RPC error body (id null). */
static enum MHD_Result respond_rpc_error(struct MHD_Connection *c, int status, int code,
    const char *msg)
{
	return respond(c, status, "application/json", mcp_error_json(NULL, code, msg, NULL), NULL);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int host_allowed(const struct brk_mcphttp *h, const char *host)
{
	static const char *const loopback[] = { "localhost", "127.0.0.1", "[::1]", NULL };
	const char *const *list = h->cfg.allowed_hosts != NULL ? h->cfg.allowed_hosts : loopback;

	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcasecmp(list[i], host) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The port the daemon serving c listens on (0 if unknown). */
static unsigned bound_port(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
	const union MHD_DaemonInfo *di = ci != NULL ?
	    MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;

	return di != NULL ? di->port : 0;
}

/* DNS rebinding and cross-origin defence: the Host must be one we serve,
 * and an Origin, if sent, must be one of ours (our scheme, one of our host
 * names, the port we listen on) or one allowed by configuration: scheme,
 * host and port all count, so http://localhost:31337 (another local
 * service's page) is not https://localhost:8443. */
static int origin_ok(const struct brk_mcphttp *h, struct MHD_Connection *c)
{
	const char *hosth = header(c, "Host"), *origin = header(c, "Origin");
	char host[NET_HOST_MAX];
	struct brk_origin o;

	if (brk_hdr_host(hosth, host, sizeof(host)) != 0 || !host_allowed(h, host)) {
		return 0;
	}
	if (origin == NULL) {
		return 1;
	}
	for (size_t i = 0; h->cfg.allowed_origins != NULL && h->cfg.allowed_origins[i] != NULL;
	    i++) {
		if (brk_hdr_same_origin(h->cfg.allowed_origins[i], origin)) {
			return 1;
		}
	}
	return brk_hdr_origin(origin, &o) == 0 &&
	    strcmp(o.scheme, h->cfg.scheme != NULL ? h->cfg.scheme : "https") == 0 &&
	    host_allowed(h, o.host) && o.port == bound_port(c);
}

/* ---- SSE connections ---- */

/* Content reader of an SSE response: blocks until the stream has something
 * for this connection. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct conn *cn = cls;
	struct brk_mcphttp *h = cn->h;
	struct stream *s = cn->s;
	ssize_t ret = MHD_CONTENT_READER_END_WITH_ERROR;
	struct timespec until;
	struct event *e;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		if (cn->pending_off < cn->pending_len) {
			n = cn->pending_len - cn->pending_off;
			n = n < max ? n : max;
			memcpy(buf, cn->pending + cn->pending_off, n);
			cn->pending_off += n;
			ret = (ssize_t)n;
			break;
		}
		if (h->stopping || s->conn_gen != cn->gen) {
			/* Shutting down, or a newer connection took the stream over. */
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (!s->primed) {
			/* The priming event: an id to resume from, before anything. */
			s->primed = 1;
			cn->pending_len = (size_t)snprintf(cn->pending, sizeof(cn->pending),
			    "id: %llu_%llu\nretry: %d\ndata: \n\n", (unsigned long long)s->no,
			    (unsigned long long)s->sent_seq, s->retry_ms);
			cn->pending_off = 0;
			continue;
		}
		e = stream_after(s, s->sent_seq);
		if (e != NULL) {
			n = e->len - s->off;
			n = n < max ? n : max;
			memcpy(buf, e->text + s->off, n);
			s->off += n;
			if (s->off == e->len) {
				s->sent_seq = e->seq;
				s->off = 0;
			}
			ret = (ssize_t)n;
			break;
		}
		if (s->close_conn) {
			/* Polling: end this connection; the client comes back with
			 * Last-Event-ID after retry_ms. */
			s->close_conn = 0;
			s->connected = 0;
			s->conn_gen++;
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (s->finished) {
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += KEEPALIVE_S;
		if (pthread_cond_timedwait(&s->cv, &h->mu, &until) == ETIMEDOUT &&
		    stream_after(s, s->sent_seq) == NULL && !s->finished && !s->close_conn) {
			/* A comment line keeps proxies open and finds dead clients. */
			cn->pending_len = (size_t)snprintf(cn->pending, sizeof(cn->pending),
			    ": keepalive\n\n");
			cn->pending_off = 0;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return ret;
}

static void sse_free(void *cls)
{
	struct conn *cn = cls;
	struct brk_mcphttp *h = cn->h;
	struct stream *s = cn->s;

	pthread_mutex_lock(&h->mu);
	if (s->conn_gen == cn->gen) {
		s->connected = 0;
	}
	s->hs->busy--;
	/* A finished stream whose last event went out is done with. */
	if (s->finished && stream_after(s, s->sent_seq) == NULL && s->off == 0) {
		stream_detach(s);
	}
	stream_unref(s);
	pthread_mutex_unlock(&h->mu);
	free(cn);
}

/* Attaches a new connection to stream s, delivering from after event
 * sequence `from` (the Last-Event-ID's; 0 for a new stream); it supersedes
 * any older connection. Caller holds h->mu. NULL on ENOMEM. */
static struct conn *attach(struct brk_mcphttp *h, struct stream *s, uint64_t from)
{
	struct conn *cn = calloc(1, sizeof(*cn));

	if (cn == NULL) {
		return NULL;
	}
	cn->h = h;
	cn->s = s;
	s->refs++;
	s->hs->busy++;
	cn->gen = ++s->conn_gen;
	s->connected = 1;
	s->sent_seq = from;
	s->off = 0;
	s->primed = 0;
	pthread_cond_broadcast(&s->cv);
	return cn;
}

/* Answers with the SSE stream of an attached connection (called without
 * h->mu: the response's reader takes it). */
static enum MHD_Result respond_sse(struct MHD_Connection *c, struct conn *cn,
    const char *session_id)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (cn == NULL) {
		return respond_rpc_error(c, 500, MCP_ERR_INTERNAL, "out of memory");
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, cn, sse_free);
	if (r == NULL) {
		sse_free(cn);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache, no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	if (session_id != NULL) {
		MHD_add_response_header(r, "Mcp-Session-Id", session_id);
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- request workers ---- */

struct work {
	struct brk_mcphttp *h;
	struct hsession *hs;
	struct stream *s;
	struct mcp_msg msg;
	struct mcp_identity who;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	struct brk_mcphttp *h = w->h;
	struct mcp_sink sink = { sink_send, sink_close, w->s };

	mcp_session_dispatch(w->hs->ms, &w->who, &w->msg, &sink);
	mcp_msg_clear(&w->msg);
	pthread_mutex_lock(&h->mu);
	stream_finish(w->s);
	w->hs->busy--;
	stream_unref(w->s);
	hsession_unref(w->hs);
	h->workers--;
	pthread_cond_broadcast(&h->workers_cv);
	pthread_mutex_unlock(&h->mu);
	free(w);
	return NULL;
}

/* Runs a request in a worker and answers with its SSE stream. Takes msg. */
static enum MHD_Result post_streaming(struct brk_mcphttp *h, struct MHD_Connection *c,
    struct hsession *hs, struct mcp_msg *msg, const struct mcp_identity *who)
{
	struct work *w = calloc(1, sizeof(*w));
	struct conn *cn;
	pthread_attr_t attr;
	pthread_t t;

	if (w == NULL) {
		mcp_msg_clear(msg);
		return respond_rpc_error(c, 500, MCP_ERR_INTERNAL, "out of memory");
	}
	pthread_mutex_lock(&h->mu);
	w->s = stream_new(hs);
	if (w->s == NULL) {
		pthread_mutex_unlock(&h->mu);
		free(w);
		mcp_msg_clear(msg);
		return respond_rpc_error(c, 500, MCP_ERR_INTERNAL, "out of memory");
	}
	w->h = h;
	w->hs = hs;
	w->msg = *msg;
	memset(msg, 0, sizeof(*msg));
	w->who = *who;
	w->s->refs++;
	hs->refs++;
	hs->busy++;
	h->workers++;
	cn = attach(h, w->s, 0);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker, w) != 0) {
		/* Nothing runs: finish the stream empty and undo. */
		stream_finish(w->s);
		hs->busy--;
		h->workers--;
		stream_unref(w->s);
		hsession_unref(hs);
		mcp_msg_clear(&w->msg);
		free(w);
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&h->mu);
	return respond_sse(c, cn, NULL);
}

/* Captures the response to initialize, which is answered with plain JSON
 * (it carries the new session's id in a header). */
static int capture_send(void *arg, const char *json)
{
	char **last = arg;
	char *copy = strdup(json);

	if (copy == NULL) {
		return ZT_ERR_NOMEM;
	}
	free(*last);
	*last = copy;
	return 0;
}

/* ---- the methods ---- */

static void audit(struct brk_mcphttp *h, const char *type, const struct mcp_identity *who,
    const char *source, const char *outcome, const char *reason)
{
	if (h->cfg.audit != NULL) {
		h->cfg.audit(h->cfg.audit_arg, type, who, source, outcome, reason);
	}
}

/* Looks the request's session up for who: 0 with a reference taken, or a
 * response queued (400 missing, 404 unknown/ended/foreign). */
static int lookup(struct brk_mcphttp *h, struct MHD_Connection *c, const struct req *rq,
    struct hsession **out, enum MHD_Result *ret)
{
	const char *sid = header(c, "Mcp-Session-Id");
	struct hsession *hs;

	if (sid == NULL) {
		*ret = respond_rpc_error(c, 400, MCP_ERR_INVALID_REQUEST,
		    "Bad Request: Mcp-Session-Id header is required");
		return ZT_ERR_INVALID;
	}
	pthread_mutex_lock(&h->mu);
	for (hs = h->sessions; hs != NULL; hs = hs->next) {
		if (strlen(hs->id) == strlen(sid) &&
		    crypto_ct_equal(hs->id, sid, strlen(sid))) {
			break;
		}
	}
	if (hs != NULL && !same_identity(&hs->owner, &rq->who)) {
		pthread_mutex_unlock(&h->mu);
		/* Someone else's session id: as unknown to them as a random one. */
		audit(h, "mcp.session", &rq->who, rq->source, "failure",
		    "session id of another identity");
		*ret = respond_rpc_error(c, 404, -32001, "Session not found");
		return ZT_ERR_NOT_FOUND;
	}
	if (hs == NULL) {
		pthread_mutex_unlock(&h->mu);
		*ret = respond_rpc_error(c, 404, -32001, "Session not found");
		return ZT_ERR_NOT_FOUND;
	}
	hs->refs++;
	hs->last_used = now_s();
	pthread_mutex_unlock(&h->mu);
	*out = hs;
	return 0;
}

/* Takes a session unit for who: 0, or a response queued (403 when the
 * admission hook refuses who, 429 past the identity's share, 503 past the
 * total or while stopping). */
static int session_admit(struct brk_mcphttp *h, struct MHD_Connection *c, struct req *rq,
    const char *key, enum MHD_Result *ret)
{
	struct hsession *closing = NULL;
	char why[300], msg[512];
	int r = 0, stopping;

	if (h->cfg.admit != NULL && h->cfg.admit(h->cfg.admit_arg, &rq->who, why, sizeof(why)) != 0) {
		audit(h, "mcp.session", &rq->who, rq->source, "failure", why);
		snprintf(msg, sizeof(msg), "Forbidden: %s", why);
		*ret = respond_rpc_error(c, 403, MCP_ERR_INVALID_REQUEST, msg);
		return ZT_ERR_DENIED;
	}
	pthread_mutex_lock(&h->mu);
	sweep_idle(h, &closing);
	stopping = h->stopping;
	if (!stopping) {
		r = brk_quota_take(h->quota, key);
	}
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
	if (stopping || (r != 0 && brk_quota_held(h->quota, key) < h->cfg.sessions_per_identity)) {
		*ret = respond_rpc_error(c, 503, MCP_ERR_INTERNAL, stopping ?
		    "the server is stopping" : "too many MCP sessions on this server; try later");
		return ZT_ERR_RATE_LIMITED;
	}
	if (r != 0) {
		audit(h, "mcp.session", &rq->who, rq->source, "failure", "too many sessions");
		snprintf(msg, sizeof(msg), "Too many MCP sessions: %s already holds %zu, the most one "
		    "identity may hold at once; end sessions it no longer uses (HTTP DELETE with "
		    "their Mcp-Session-Id) or let them expire after %d s idle", key,
		    h->cfg.sessions_per_identity, SESSION_IDLE_S);
		*ret = respond_rpc_error(c, 429, MCP_ERR_INVALID_REQUEST, msg);
		return ZT_ERR_RATE_LIMITED;
	}
	return 0;
}

/* initialize: a new session, answered with JSON and its Mcp-Session-Id. */
static enum MHD_Result post_initialize(struct brk_mcphttp *h, struct MHD_Connection *c,
    struct req *rq, struct mcp_msg *msg)
{
	uint8_t rnd[SESSION_ID_BYTES];
	char *last = NULL, key[sizeof(((struct hsession *)0)->owner_key)];
	char sid[sizeof(((struct hsession *)0)->id)];
	struct mcp_sink sink = { capture_send, NULL, &last };
	struct hsession *hs = NULL;
	enum MHD_Result ret = MHD_NO;
	cJSON *resp = NULL;
	int ok;

	identity_key(&rq->who, key, sizeof(key));
	if (session_admit(h, c, rq, key, &ret) != 0) {
		return ret;
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL || crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_b64url(rnd, sizeof(rnd), hs->id, sizeof(hs->id)) != 0 ||
	    (hs->ms = mcp_session_new(h->cfg.srv, &rq->who)) == NULL) {
		free(hs);
		brk_quota_give(h->quota, key);
		return respond_rpc_error(c, 500, MCP_ERR_INTERNAL, "cannot create a session");
	}
	hs->h = h;
	hs->owner = rq->who;
	memcpy(hs->owner_key, key, sizeof(key));
	hs->refs = 1;
	hs->last_used = now_s();
	mcp_session_dispatch(hs->ms, &rq->who, msg, &sink);
	resp = last != NULL ? cJSON_Parse(last) : NULL;
	ok = cJSON_GetObjectItemCaseSensitive(resp, "result") != NULL;
	cJSON_Delete(resp);
	pthread_mutex_lock(&h->mu);
	if (ok && !h->stopping) {
		memcpy(sid, hs->id, sizeof(sid));
		hs->next = h->sessions;
		h->sessions = hs;
		h->nsessions++;
		hs = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (hs != NULL) {
		/* Refused by the engine (its error is the answer), or stopping. */
		brk_quota_give(h->quota, key);
		mcp_session_unref(hs->ms);
		free(hs);
		if (ok) {
			free(last);
			return respond_rpc_error(c, 503, MCP_ERR_INTERNAL, "the server is stopping");
		}
		return respond(c, 200, "application/json", last, NULL);
	}
	audit(h, "mcp.session", &rq->who, rq->source, "success", "created");
	return respond(c, 200, "application/json", last, sid);
}

static enum MHD_Result do_post(struct brk_mcphttp *h, struct MHD_Connection *c, struct req *rq)
{
	const char *pv = header(c, "MCP-Protocol-Version");
	struct mcp_msg msg;
	struct hsession *hs = NULL;
	char *err = NULL;
	enum MHD_Result ret = MHD_NO;

	if (rq->too_large) {
		return respond_rpc_error(c, 413, MCP_ERR_INVALID_REQUEST,
		    "message larger than the limit of 4 MiB");
	}
	memset(&msg, 0, sizeof(msg));
	if (mcp_decode(buf_ptr(rq->body), buf_len(rq->body), &msg, &err) != 0) {
		return respond(c, 400, "application/json", err, NULL);
	}
	if (msg.kind == MCP_REQUEST && strcmp(msg.method, "initialize") == 0) {
		ret = post_initialize(h, c, rq, &msg);
		mcp_msg_clear(&msg);
		return ret;
	}
	if (pv != NULL && !mcp_protocol_supported(pv)) {
		mcp_msg_clear(&msg);
		return respond_rpc_error(c, 400, MCP_ERR_INVALID_REQUEST,
		    "Bad Request: unsupported MCP-Protocol-Version");
	}
	if (lookup(h, c, rq, &hs, &ret) != 0) {
		mcp_msg_clear(&msg);
		return ret;
	}
	if (msg.kind != MCP_REQUEST) {
		mcp_session_dispatch(hs->ms, &rq->who, &msg, NULL);
		mcp_msg_clear(&msg);
		ret = respond(c, 202, NULL, NULL, NULL);
	} else {
		ret = post_streaming(h, c, hs, &msg, &rq->who);
	}
	pthread_mutex_lock(&h->mu);
	hsession_unref(hs);
	pthread_mutex_unlock(&h->mu);
	return ret;
}

static enum MHD_Result do_get(struct brk_mcphttp *h, struct MHD_Connection *c, struct req *rq)
{
	const char *last = header(c, "Last-Event-ID");
	struct hsession *hs = NULL;
	struct stream *s;
	struct conn *cn;
	uint64_t no = 0, seq = 0;
	enum MHD_Result ret = MHD_NO;
	struct mcp_sink sink = { standalone_send, NULL, NULL };

	if (!brk_hdr_accepts(header(c, "Accept"), "text/event-stream")) {
		return respond_rpc_error(c, 406, MCP_ERR_INVALID_REQUEST,
		    "Not Acceptable: GET needs Accept: text/event-stream");
	}
	if (lookup(h, c, rq, &hs, &ret) != 0) {
		return ret;
	}
	pthread_mutex_lock(&h->mu);
	if (last != NULL) {
		/* Resumption of any of the session's streams. */
		s = brk_hdr_event_id(last, &no, &seq) == 0 ? stream_find(hs, no) : NULL;
		cn = s != NULL ? attach(h, s, seq) : NULL;
		pthread_mutex_unlock(&h->mu);
		ret = s == NULL ? respond_rpc_error(c, 404, MCP_ERR_INVALID_REQUEST,
		    "no stream to resume for this Last-Event-ID") : respond_sse(c, cn, NULL);
		goto out;
	}
	/* A new standalone stream replaces the old one. */
	for (struct stream *o = hs->streams; o != NULL; o = o->next) {
		if (o->standalone) {
			stream_finish(o);
		}
	}
	s = stream_new(hs);
	cn = NULL;
	if (s != NULL) {
		s->standalone = 1;
		cn = attach(h, s, 0);
		sink.arg = hs;
	}
	pthread_mutex_unlock(&h->mu);
	if (s != NULL) {
		mcp_session_set_stream(hs->ms, &sink);
	}
	ret = respond_sse(c, cn, NULL);
out:
	pthread_mutex_lock(&h->mu);
	hsession_unref(hs);
	pthread_mutex_unlock(&h->mu);
	return ret;
}

static enum MHD_Result do_delete(struct brk_mcphttp *h, struct MHD_Connection *c,
    struct req *rq)
{
	struct hsession *hs = NULL;
	enum MHD_Result ret = MHD_NO;

	if (lookup(h, c, rq, &hs, &ret) != 0) {
		return ret;
	}
	struct hsession *closing = NULL;

	pthread_mutex_lock(&h->mu);
	hsession_end(h, hs, &closing);
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
	pthread_mutex_lock(&h->mu);
	hsession_unref(hs);
	pthread_mutex_unlock(&h->mu);
	audit(h, "mcp.session", &rq->who, rq->source, "success", "ended by client");
	return respond(c, 200, NULL, NULL, NULL);
}

/* Checks done before any body is read: origin, authentication, method,
 * media types, size. 0 to go on, or a response queued. */
static int precheck(struct brk_mcphttp *h, struct MHD_Connection *c, const char *method,
    struct req *rq, enum MHD_Result *ret)
{
	const union MHD_ConnectionInfo *ci;
	const char *cl, *ct;
	struct brk_resp resp;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	net_addr_str(ci != NULL ? ci->client_addr : NULL, rq->source, sizeof(rq->source));
	if (!origin_ok(h, c)) {
		log_warn("mcp: refused Host/Origin from %s", rq->source);
		*ret = respond_rpc_error(c, 403, MCP_ERR_INVALID_REQUEST,
		    "Forbidden: Host or Origin not allowed");
		return ZT_ERR_DENIED;
	}
	if (h->cfg.authenticate != NULL) {
		memset(&resp, 0, sizeof(resp));
		if (h->cfg.authenticate(h->cfg.auth_arg, header(c, "Authorization"), rq->source,
		    &rq->who, &resp) != 0) {
			char *text = resp.json != NULL ? cJSON_PrintUnformatted(resp.json) : NULL;
			char www[512];
			struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
			    text != NULL ? strlen(text) : 0, text, free_text);

			if (r == NULL) {
				free(text);
				brk_resp_clear(&resp);
				*ret = MHD_NO;
				return ZT_ERR_NOMEM;
			}
			MHD_add_response_header(r, "Content-Type", "application/json");
			if (resp.status == 401) {
				snprintf(www, sizeof(www), "Bearer resource_metadata=\"%s\"",
				    h->cfg.resource_metadata_url != NULL ?
				    h->cfg.resource_metadata_url : "");
				MHD_add_response_header(r, "WWW-Authenticate", www);
			}
			if (resp.retry_after > 0) {
				snprintf(www, sizeof(www), "%lld", (long long)resp.retry_after);
				MHD_add_response_header(r, "Retry-After", www);
			}
			*ret = MHD_queue_response(c, (unsigned)(resp.status != 0 ? resp.status : 401),
			    r);
			MHD_destroy_response(r);
			brk_resp_clear(&resp);
			return ZT_ERR_AUTH;
		}
	} else {
		snprintf(rq->who.kind, sizeof(rq->who.kind), "anonymous");
		snprintf(rq->who.name, sizeof(rq->who.name), "anonymous");
	}
	if (strcmp(method, "POST") == 0) {
		const char *acc = header(c, "Accept");

		if (!brk_hdr_accepts(acc, "application/json") || !brk_hdr_accepts(acc, "text/event-stream")) {
			*ret = respond_rpc_error(c, 406, MCP_ERR_INVALID_REQUEST,
			    "Not Acceptable: POST needs Accept: application/json, text/event-stream");
			return ZT_ERR_INVALID;
		}
		ct = header(c, "Content-Type");
		if (!brk_hdr_media_type_is(ct, "application/json")) {
			*ret = respond_rpc_error(c, 415, MCP_ERR_INVALID_REQUEST,
			    "Unsupported Media Type: send application/json");
			return ZT_ERR_INVALID;
		}
		cl = header(c, "Content-Length");
		if (cl != NULL && (strlen(cl) > 12 || strtoull(cl, NULL, 10) > MCP_MSG_MAX)) {
			*ret = respond_rpc_error(c, 413, MCP_ERR_INVALID_REQUEST,
			    "message larger than the limit of 4 MiB");
			return ZT_ERR_TOO_LARGE;
		}
		return 0;
	}
	if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) {
		return 0;
	}
	*ret = respond_rpc_error(c, 405, MCP_ERR_INVALID_REQUEST, "Method Not Allowed");
	return ZT_ERR_INVALID;
}

enum MHD_Result brk_mcphttp_request(struct brk_mcphttp *h, struct MHD_Connection *c,
    const char *method, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	enum MHD_Result ret = MHD_NO;

	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL || (rq->body = buf_new(MCP_MSG_MAX)) == NULL) {
			free(rq);
			return MHD_NO;
		}
		*con_cls = rq;
		if (precheck(h, c, method, rq, &ret) != 0) {
			rq->refused = 1;
			return ret;
		}
		return MHD_YES;
	}
	if (rq->refused) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!rq->too_large && buf_put(rq->body, upload_data, *upload_size) != 0) {
			rq->too_large = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		return do_post(h, c, rq);
	}
	if (strcmp(method, "GET") == 0) {
		return do_get(h, c, rq);
	}
	return do_delete(h, c, rq);
}

void brk_mcphttp_completed(struct brk_mcphttp *h, void **con_cls)
{
	struct req *rq = *con_cls;

	(void)h;
	if (rq != NULL) {
		buf_free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

struct brk_mcphttp *brk_mcphttp_new(const struct brk_mcphttp_config *cfg)
{
	struct brk_mcphttp *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return NULL;
	}
	h->cfg = *cfg;
	if (h->cfg.max_sessions == 0) {
		h->cfg.max_sessions = BRK_MCP_SESSIONS_MAX;
	}
	if (h->cfg.sessions_per_identity == 0) {
		h->cfg.sessions_per_identity = BRK_MCP_SESSIONS_PER_IDENTITY;
	}
	if (h->cfg.sessions_per_identity > h->cfg.max_sessions) {
		h->cfg.sessions_per_identity = h->cfg.max_sessions;
	}
	if ((h->quota = brk_quota_new(h->cfg.sessions_per_identity, h->cfg.max_sessions)) == NULL) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->workers_cv, NULL);
	return h;
}

void brk_mcphttp_shutdown(struct brk_mcphttp *h)
{
	struct hsession *closing = NULL;

	if (h == NULL) {
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	while (h->sessions != NULL) {
		hsession_end(h, h->sessions, &closing);
	}
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
}

void brk_mcphttp_free(struct brk_mcphttp *h)
{
	if (h == NULL) {
		return;
	}
	brk_mcphttp_shutdown(h);
	pthread_mutex_lock(&h->mu);
	while (h->workers > 0) {
		pthread_cond_wait(&h->workers_cv, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	pthread_cond_destroy(&h->workers_cv);
	pthread_mutex_destroy(&h->mu);
	brk_quota_free(h->quota);
	free(h);
}
