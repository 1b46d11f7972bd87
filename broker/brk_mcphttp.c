/*
 * brk_mcphttp.c - MCP Streamable HTTP on libmicrohttpd: sessions, the
 * stages of a request, the methods. Streams and their readers are in
 * brk_mcpstream.c.
 *
 * An HTTP session (struct hsession) wraps one mcp_session and carries its
 * Mcp-Session-Id and owner. A request goes through stages on its
 * connection's event-loop thread, which must never wait: its head arrives
 * (Host and Origin are checked at once), then authentication runs on a
 * worker of cfg.work with the connection suspended (it reads the store
 * and may write the audit), then the rest of the head is checked and the
 * body collected, then the method runs on a worker, again with the
 * connection suspended, and prepares the response that the access handler
 * queues when libmicrohttpd calls it again. initialize is answered with
 * plain JSON (it carries the new session's id); every other POSTed
 * request runs on a thread of h->calls (a tool call may take minutes) and
 * feeds its SSE stream, which ends after the response.
 */
#include "broker/brk_mcphttp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_body.h"
#include "broker/brk_conn.h"
#include "broker/brk_http.h"
#include "broker/brk_httphdr.h"
#include "broker/brk_mcphttp_int.h"
#include "broker/brk_quota.h"
#include "broker/brk_work.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

#define MSG_TOO_LARGE "message larger than the limit of 4 MiB"
/* JSON-RPC code for a session that is gone: as "Session not found". */
#define SESSION_GONE (-32001)
/* JSON-RPC code for a request refused because its identity runs its share
 * of calls: implementation-defined server error, 29 as in HTTP 429. */
#define TOO_MANY_CALLS (-32029)
/* Bytes of a tool name taken from an Mcp-Name header (a name is at most
 * 256: mcp_int.h's MCP_NAME_MAX). */
#define MCP_TOOL_NAME_HEADER_MAX 256
/* Retry-After of a 503 when every worker is busy. */
#define BUSY_RETRY_S 1

/* Where a request is (see the top of this file). */
enum rq_stage { RQ_NEW, RQ_AUTH, RQ_BODY, RQ_RUN };

/* Per-request state of one HTTP request (MHD's con_cls). */
struct req {
	struct brk_mcphttp *h;
	struct MHD_Connection *c;
	enum rq_stage stage;
	const char *method;
	struct brk_body body;
	int answered;              /* answered before the body (brk_body.h) */
	int authenticated;         /* who is set: only then may the request go on */
	struct mcp_identity who;   /* who.credential: what authenticated it */
	char source[64];
	/* The answer a job prepared, queued by the access handler. */
	struct MHD_Response *resp;
	unsigned status;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- sessions ---- */

/* The chain of h->idents an identity key is on. */
static struct hident **ident_chain(struct brk_mcphttp *h, const char *key)
{
	return &h->idents[hash_str(key) & (h->nbuckets - 1)];
}

/* The identity record of key, with a reference taken (made on first use):
 * NULL on ENOMEM. */
static struct hident *ident_hold(struct brk_mcphttp *h, const char *key)
{
	struct hident **chain = ident_chain(h, key), *id;

	for (id = *chain; id != NULL && strcmp(id->key, key) != 0; id = id->next) {
		/* on to the next */
	}
	if (id == NULL) {
		if ((id = calloc(1, sizeof(*id))) == NULL) {
			return NULL;
		}
		snprintf(id->key, sizeof(id->key), "%s", key);
		retain_scope_init(&id->kept, SCOPE_IDENTITY, h->cfg.retained_identity_max);
		id->next = *chain;
		*chain = id;
	}
	id->refs++;
	return id;
}

/* Drops a reference to id; the last one forgets it (its sessions, and so
 * their streams and events, are gone). */
static void ident_drop(struct brk_mcphttp *h, struct hident *id)
{
	struct hident **pp;

	if (--id->refs > 0) {
		return;
	}
	for (pp = ident_chain(h, id->key); *pp != id; pp = &(*pp)->next) {
		/* it is on its chain */
	}
	*pp = id->next;
	retain_scope_fini(&id->kept);
	free(id);
}

/* Takes stateless hs off h->lone, if on it. */
static void lone_remove(struct brk_mcphttp *h, struct hsession *hs)
{
	if (!hs->listed) {
		return;
	}
	if (hs->prev != NULL) {
		hs->prev->next = hs->next;
	} else {
		h->lone = hs->next;
	}
	if (hs->next != NULL) {
		hs->next->prev = hs->prev;
	}
	hs->listed = 0;
	h->nlone--;
}

void mcphttp_session_unref(struct hsession *hs)
{
	if (hs == NULL || --hs->refs > 0) {
		return;
	}
	lone_remove(hs->h, hs);
	if (hs->ident != NULL) {
		ident_drop(hs->h, hs->ident);
	}
	mcp_session_unref(hs->ms);
	retain_scope_fini(&hs->kept);
	free(hs);
}

/* The chain of h->by_id a session id is on. */
static struct hsession **id_chain(struct brk_mcphttp *h, const char *id)
{
	return &h->by_id[hash_str(id) & (h->nbuckets - 1)];
}

/* Puts hs in the table: on h->sessions and its chain of h->by_id. */
static void session_insert(struct brk_mcphttp *h, struct hsession *hs)
{
	struct hsession **chain = id_chain(h, hs->id);

	hs->prev = NULL;
	hs->next = h->sessions;
	if (h->sessions != NULL) {
		h->sessions->prev = hs;
	}
	h->sessions = hs;
	hs->next_id = *chain;
	*chain = hs;
	h->nsessions++;
}

/* Takes hs (in the table) out of it. */
static void session_remove(struct brk_mcphttp *h, struct hsession *hs)
{
	struct hsession **pp;

	if (hs->prev != NULL) {
		hs->prev->next = hs->next;
	} else {
		h->sessions = hs->next;
	}
	if (hs->next != NULL) {
		hs->next->prev = hs->prev;
	}
	for (pp = id_chain(h, hs->id); *pp != hs; pp = &(*pp)->next_id) {
		/* on its chain: it is in the table */
	}
	*pp = hs->next_id;
	h->nsessions--;
}

/* The session with id sid, or NULL. The ids of a chain are compared in
 * constant time: the time taken tells nothing of how much of an id is
 * right. */
static struct hsession *session_find(struct brk_mcphttp *h, const char *sid)
{
	size_t n = strlen(sid);

	for (struct hsession *hs = *id_chain(h, sid); hs != NULL; hs = hs->next_id) {
		if (strlen(hs->id) == n && crypto_ct_equal(hs->id, sid, n)) {
			return hs;
		}
	}
	return NULL;
}

/* Ends a session: finishes its streams, takes it out of the table and
 * puts it on *closing, keeping the table's reference (a stateless one, on
 * h->lone, gets a new one); the caller passes
 * that list to close_sessions() after dropping h->mu, because the engine
 * may call back into our sinks, which take h->mu. When the server ends it
 * (why: static text), each request still open is answered with an error
 * saying so; NULL when the client ended it or left it idle. Caller holds
 * h->mu. */
static void hsession_end(struct brk_mcphttp *h, struct hsession *hs, const char *why,
    struct hsession **closing)
{
	char msg[160];

	if (hs->ended) {
		return;
	}
	hs->ended = 1;
	snprintf(msg, sizeof(msg), "the MCP session ended: %s", why != NULL ? why : "");
	while (hs->streams != NULL) {
		/* Requests still open learn why they get no result. */
		if (why != NULL) {
			sse_stream_fail(hs->streams, SESSION_GONE, msg);
		}
		sse_stream_finish(hs->streams);
		sse_stream_detach(hs->streams);
	}
	if (hs->stateless) {
		/* h->lone holds no reference: the closing list takes one of its
		 * own (close_sessions() drops it). */
		lone_remove(h, hs);
		hs->refs++;
	} else {
		/* Not ended, so in the table (it leaves it only here). */
		session_remove(h, hs);
		brk_quota_give(h->quota, hs->owner_key);
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
		mcphttp_session_unref(list);
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
			hsession_end(h, hs, NULL, closing);
		}
	}
}

static int same_identity(const struct mcp_identity *a, const struct mcp_identity *b)
{
	return strcmp(a->kind, b->kind) == 0 && strcmp(a->name, b->name) == 0;
}

static int same_binding(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && crypto_ct_equal(a, b, n);
}

/* ---- answers ---- */

static void free_text(void *p)
{
	free(p);
}

/* Sets rq's answer: status and a body text (taken; may be NULL for none).
 * Left without one on ENOMEM (the connection is then closed). */
static void answer(struct req *rq, int status, const char *type, char *text,
    const char *session_id)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer_with_free_callback(text != NULL ? strlen(text) : 0,
	    text, free_text);
	if (r == NULL) {
		free(text);
		return;
	}
	if (type != NULL) {
		MHD_add_response_header(r, "Content-Type", type);
	}
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (session_id != NULL) {
		MHD_add_response_header(r, "Mcp-Session-Id", session_id);
	}
	if (status == 503) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", BUSY_RETRY_S);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	rq->resp = r;
	rq->status = (unsigned)status;
}

/* An HTTP error carrying a JSON-RPC error body (id null). */
static void answer_rpc_error(struct req *rq, int status, int code, const char *msg)
{
	answer(rq, status, "application/json", mcp_error_json(NULL, code, msg, NULL), NULL);
}

/* Answers with the SSE stream of an attached reader (taken). Called
 * without h->mu. */
static void answer_sse(struct req *rq, struct conn *cn)
{
	if (cn == NULL) {
		answer_rpc_error(rq, 500, MCP_ERR_INTERNAL, "out of memory");
		return;
	}
	rq->resp = sse_reader_response(cn);
	rq->status = MHD_HTTP_OK;
}

/* Queues rq's answer on its connection (from the access handler). */
static enum MHD_Result send_answer(struct MHD_Connection *c, struct req *rq)
{
	enum MHD_Result ret;

	if (rq->resp == NULL) {
		return MHD_NO;
	}
	ret = MHD_queue_response(c, rq->status, rq->resp);
	MHD_destroy_response(rq->resp);
	rq->resp = NULL;
	return ret;
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

/* Records an event of who's (aud_record): a refusal ("failure") once per
 * identity, kind and period, then a summary. These events are best effort
 * (aud_event.c): nothing here waits for them. */
static void record_event(struct brk_mcphttp *h, const char *type,
    const struct mcp_identity *who, const char *source, const char *outcome,
    const char *reason)
{
	const int refused = strcmp(outcome, "failure") == 0;
	char actor[BRK_IDENTITY_KEY_MAX];

	if (h->cfg.audit_store == NULL) {
		return;
	}
	brk_identity_key(who->kind, who->name, actor, sizeof(actor));
	(void)aud_record(h->cfg.audit_store, h->cfg.audit_agg, brk_now_ms(), &(struct aud_event){
	    .type = type, .actor = actor, .source = source, .outcome = outcome,
	    .reason = refused && reason == NULL ? "refused" : reason,
	    .aggregate = refused ? AUD_AGGREGATE_BY_ACTOR : AUD_EACH });
}

/* ---- POSTed requests ---- */

struct work {
	struct brk_mcphttp *h;
	struct hsession *hs;
	struct stream *s;
	struct mcp_msg msg;
	struct mcp_identity who;
};

/* Runs one POSTed request on a thread of h->calls, feeding its stream. */
static void call_job(void *arg)
{
	struct work *w = arg;
	struct brk_mcphttp *h = w->h;
	/* A stateless stream cannot be resumed: it is never closed early. */
	struct mcp_sink sink = { sse_sink_send, w->hs->stateless ? NULL : sse_sink_close, w->s };

	mcp_session_dispatch(w->hs->ms, &w->who, &w->msg, &sink);
	mcp_msg_clear(&w->msg);
	brk_quota_give(h->call_quota, w->hs->owner_key);
	pthread_mutex_lock(&h->mu);
	log_debug("mcp: stream %llu of a session of %s:%s finished, %zu bytes kept",
	    (unsigned long long)w->s->no, w->who.kind, w->who.name, w->s->bytes);
	sse_stream_finish(w->s);
	if (w->hs->stateless) {
		/* Never resumed: it lives on only in its reader. */
		sse_stream_detach(w->s);
	}
	w->hs->busy--;
	sse_stream_unref(w->s);
	mcphttp_session_unref(w->hs);
	pthread_mutex_unlock(&h->mu);
	free(w);
}

/* Takes a unit of h->call_quota for the session's owner: 0, or an answer
 * set (an error for the request past the identity's share, 503 past the
 * total). */
static int call_admit(struct brk_mcphttp *h, struct req *rq, struct hsession *hs,
    const cJSON *id)
{
	char msg[512];
	int r = brk_quota_take(h->call_quota, hs->owner_key);

	if (r == 0) {
		return 0;
	}
	if (r != ZT_ERR_RATE_LIMITED) {
		log_warn("mcp: 503 for %s: %d requests running, the most at once", rq->source,
		    BRK_MCP_CALLS_MAX);
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL,
		    "too many requests running on this server; try again in a moment");
		return ZT_ERR_BUSY;
	}
	record_event(h, "mcp.call", &rq->who, rq->source, "failure", "too many calls");
	snprintf(msg, sizeof(msg), "Too many requests running: %s already runs %zu, the most "
	    "one identity may run at once (other identities are not held back); send this one "
	    "again once one of them ended, or cancel one (notifications/cancelled)",
	    hs->owner_key, h->cfg.calls_per_identity);
	/* The JSON-RPC error response to this request, as plain JSON with 200,
	 * not an HTTP 429: every client matches it to its request by id and
	 * fails that call alone, with this message. An HTTP error for a POSTed
	 * request is handled poorly: the MCP Python SDK before 2.0 left the
	 * call waiting forever, and the TypeScript SDK reports a transport
	 * error holding the body as text. */
	answer(rq, 200, "application/json", mcp_error_json(id, TOO_MANY_CALLS, msg, NULL), NULL);
	return ZT_ERR_RATE_LIMITED;
}

/* Runs a request on h->calls and answers with its SSE stream. Takes msg. */
static void post_streaming(struct brk_mcphttp *h, struct req *rq, struct hsession *hs,
    struct mcp_msg *msg)
{
	struct work *w = NULL;
	struct conn *cn = NULL;
	int r = ZT_ERR_NOMEM;

	if (call_admit(h, rq, hs, msg->id) != 0) {
		mcp_msg_clear(msg);
		return;
	}
	w = calloc(1, sizeof(*w));
	pthread_mutex_lock(&h->mu);
	if (w == NULL || hs->ended || (w->s = sse_stream_new(hs, msg->id)) == NULL) {
		/* Ended since lookup() (revoked, deleted, stopping), or ENOMEM. */
		r = hs->ended;
		pthread_mutex_unlock(&h->mu);
		brk_quota_give(h->call_quota, hs->owner_key);
		free(w);
		mcp_msg_clear(msg);
		if (r) {
			answer_rpc_error(rq, 404, SESSION_GONE, "Session not found");
		} else {
			answer_rpc_error(rq, 500, MCP_ERR_INTERNAL, "out of memory");
		}
		return;
	}
	w->h = h;
	w->hs = hs;
	w->msg = *msg;
	memset(msg, 0, sizeof(*msg));
	w->who = rq->who;
	w->s->refs++;
	hs->refs++;
	hs->busy++;
	if ((r = brk_work_run(h->calls, call_job, w)) == 0) {
		cn = sse_reader_attach(h, w->s, rq->c, 0);
	} else {
		/* Nothing runs: finish the stream empty and undo. */
		sse_stream_finish(w->s);
		sse_stream_detach(w->s);
		hs->busy--;
		sse_stream_unref(w->s);
		mcphttp_session_unref(hs);
	}
	pthread_mutex_unlock(&h->mu);
	if (r != 0) {
		brk_quota_give(h->call_quota, hs->owner_key);
		mcp_msg_clear(&w->msg);
		free(w);
		log_warn("mcp: 503 for %s: every call thread busy", rq->source);
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL,
		    "too many requests running on this server; try again in a moment");
		return;
	}
	answer_sse(rq, cn);
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

/* Looks the request's session up for who: 0 with a reference taken, or an
 * answer set (400 missing, 404 unknown/ended/foreign). */
static int lookup(struct brk_mcphttp *h, struct req *rq, struct hsession **out)
{
	const char *sid = header(rq->c, "Mcp-Session-Id");
	struct hsession *hs;

	if (sid == NULL) {
		answer_rpc_error(rq, 400, MCP_ERR_INVALID_REQUEST,
		    "Bad Request: Mcp-Session-Id header is required");
		return ZT_ERR_INVALID;
	}
	pthread_mutex_lock(&h->mu);
	hs = session_find(h, sid);
	if (hs != NULL && (!same_identity(&hs->owner, &rq->who) ||
	    !same_binding(hs->owner.credential, rq->who.credential))) {
		int other = !same_identity(&hs->owner, &rq->who);

		pthread_mutex_unlock(&h->mu);
		/* Someone else's session id, or one shown with another token of
		 * the same identity: as unknown as a random one. A session lives
		 * no longer than the token that opened it. */
		record_event(h, "mcp.session", &rq->who, rq->source, "failure", other ?
		    "session id of another identity" : "session id with another token");
		answer_rpc_error(rq, 404, SESSION_GONE, "Session not found");
		return ZT_ERR_NOT_FOUND;
	}
	if (hs == NULL) {
		pthread_mutex_unlock(&h->mu);
		answer_rpc_error(rq, 404, SESSION_GONE, "Session not found");
		return ZT_ERR_NOT_FOUND;
	}
	hs->refs++;
	hs->last_used = now_s();
	pthread_mutex_unlock(&h->mu);
	*out = hs;
	return 0;
}

static void session_put(struct brk_mcphttp *h, struct hsession *hs)
{
	pthread_mutex_lock(&h->mu);
	mcphttp_session_unref(hs);
	pthread_mutex_unlock(&h->mu);
}

/* Takes a session unit for who: 0, or an answer set (403 when the
 * admission hook refuses who, 429 past the identity's share, 503 past the
 * total or while stopping). */
static int session_admit(struct brk_mcphttp *h, struct req *rq, const char *key)
{
	char why[300], msg[512];
	int r = 0, stopping;

	if (h->cfg.admit != NULL && h->cfg.admit(h->cfg.admit_arg, &rq->who, why, sizeof(why)) != 0) {
		record_event(h, "mcp.session", &rq->who, rq->source, "failure", why);
		snprintf(msg, sizeof(msg), "Forbidden: %s", why);
		answer_rpc_error(rq, 403, MCP_ERR_INVALID_REQUEST, msg);
		return ZT_ERR_DENIED;
	}
	pthread_mutex_lock(&h->mu);
	stopping = h->stopping;
	if (!stopping) {
		r = brk_quota_take(h->quota, key);
	}
	pthread_mutex_unlock(&h->mu);
	if (stopping || (r != 0 && r != ZT_ERR_RATE_LIMITED)) {
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL, stopping ?
		    "the server is stopping" : "too many MCP sessions on this server; try later");
		return ZT_ERR_BUSY;
	}
	if (r != 0) {
		record_event(h, "mcp.session", &rq->who, rq->source, "failure", "too many sessions");
		snprintf(msg, sizeof(msg), "Too many MCP sessions: %s already holds %zu, the most one "
		    "identity may hold at once; end sessions it no longer uses (HTTP DELETE with "
		    "their Mcp-Session-Id) or let them expire after %d s idle", key,
		    h->cfg.sessions_per_identity, SESSION_IDLE_S);
		answer_rpc_error(rq, 429, MCP_ERR_INVALID_REQUEST, msg);
		return ZT_ERR_RATE_LIMITED;
	}
	return 0;
}

/* initialize: a new session, answered with JSON and its Mcp-Session-Id. */
static void post_initialize(struct brk_mcphttp *h, struct req *rq, struct mcp_msg *msg)
{
	uint8_t rnd[SESSION_ID_BYTES];
	char *last = NULL, key[sizeof(((struct hsession *)0)->owner_key)];
	char sid[sizeof(((struct hsession *)0)->id)];
	struct mcp_sink sink = { capture_send, NULL, &last };
	struct hsession *hs = NULL;
	cJSON *resp = NULL;
	int ok, stopping;

	brk_identity_key(rq->who.kind, rq->who.name, key, sizeof(key));
	if (session_admit(h, rq, key) != 0) {
		return;
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL || crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_b64url(rnd, sizeof(rnd), hs->id, sizeof(hs->id)) != 0 ||
	    (hs->ms = mcp_session_new(h->cfg.srv, &rq->who)) == NULL) {
		free(hs);
		brk_quota_give(h->quota, key);
		answer_rpc_error(rq, 500, MCP_ERR_INTERNAL, "cannot create a session");
		return;
	}
	retain_scope_init(&hs->kept, SCOPE_SESSION, h->cfg.retained_session_max);
	hs->h = h;
	hs->owner = rq->who;
	memcpy(hs->owner_key, key, sizeof(key));
	memcpy(hs->source, rq->source, sizeof(hs->source));
	hs->refs = 1;
	hs->last_used = now_s();
	mcp_session_dispatch(hs->ms, &rq->who, msg, &sink);
	resp = last != NULL ? cJSON_Parse(last) : NULL;
	ok = cJSON_GetObjectItemCaseSensitive(resp, "result") != NULL;
	cJSON_Delete(resp);
	pthread_mutex_lock(&h->mu);
	stopping = h->stopping;
	if (ok && !stopping && (hs->ident = ident_hold(h, key)) != NULL) {
		memcpy(sid, hs->id, sizeof(sid));
		session_insert(h, hs);
		hs = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (hs != NULL) {
		/* Refused by the engine (its error is the answer), stopping, or
		 * ENOMEM. It has no identity record and no stream: no lock. */
		brk_quota_give(h->quota, key);
		mcphttp_session_unref(hs);
		if (ok) {
			free(last);
			answer_rpc_error(rq, stopping ? 503 : 500, MCP_ERR_INTERNAL, stopping ?
			    "the server is stopping" : "cannot create a session");
		} else {
			answer(rq, 200, "application/json", last, NULL);
		}
		return;
	}
	record_event(h, "mcp.session", &rq->who, rq->source, "success", "created");
	answer(rq, 200, "application/json", last, sid);
}

/* 1 for the stateless methods answered with a stream: those that run a
 * tool, a prompt or a read, which may take long and send progress, and a
 * subscriptions/listen's. The others are answered at once, with JSON. */
static int streamed(const char *method)
{
	return strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0 ||
	    strcmp(method, "resources/read") == 0 || strcmp(method, "subscriptions/listen") == 0;
}

/* A one-request session for stateless request msg of rq->who (no id, on
 * h->lone, where revocation and shutdown find it); NULL on ENOMEM or while
 * stopping. */
static struct hsession *stateless_new(struct brk_mcphttp *h, struct req *rq,
    const struct mcp_msg *msg)
{
	struct hsession *hs = calloc(1, sizeof(*hs));

	if (hs == NULL || (hs->ms = mcp_session_stateless(h->cfg.srv, &rq->who, msg)) == NULL) {
		free(hs);
		return NULL;
	}
	retain_scope_init(&hs->kept, SCOPE_SESSION, h->cfg.retained_session_max);
	hs->h = h;
	hs->stateless = 1;
	hs->owner = rq->who;
	brk_identity_key(rq->who.kind, rq->who.name, hs->owner_key, sizeof(hs->owner_key));
	memcpy(hs->source, rq->source, sizeof(hs->source));
	hs->refs = 1;
	hs->last_used = now_s();
	pthread_mutex_lock(&h->mu);
	if (!h->stopping && (hs->ident = ident_hold(h, hs->owner_key)) != NULL) {
		hs->prev = NULL;
		hs->next = h->lone;
		if (h->lone != NULL) {
			h->lone->prev = hs;
		}
		h->lone = hs;
		h->nlone++;
		hs->listed = 1;
	}
	pthread_mutex_unlock(&h->mu);
	if (hs->ident == NULL) {
		mcphttp_session_unref(hs);
		return NULL;
	}
	return hs;
}

/* struct mcp_headers' lookup of any header of the request (arg: rq). */
static const char *param_header(void *arg, const char *name)
{
	struct req *rq = arg;

	return header(rq->c, name);
}

/* A request of the stateless era: checked against its headers, then run
 * on a session of its own, answered with JSON or a stream. */
static void post_stateless(struct brk_mcphttp *h, struct req *rq, struct mcp_msg *msg)
{
	struct mcp_headers hd = { header(rq->c, "MCP-Protocol-Version"),
	    header(rq->c, "Mcp-Method"), header(rq->c, "Mcp-Name"), param_header, rq };
	char *last = NULL, why[300], text[512];
	struct mcp_sink sink = { capture_send, NULL, &last };
	struct hsession *hs = NULL;
	int status = 200;

	if (mcp_stateless_check(h->cfg.srv, &rq->who, msg, &hd, &last, &status) != 0) {
		if (last == NULL) {
			answer_rpc_error(rq, 500, MCP_ERR_INTERNAL, "out of memory");
		} else {
			answer(rq, status, "application/json", last, NULL);
		}
		return;
	}
	if (h->cfg.admit != NULL && h->cfg.admit(h->cfg.admit_arg, &rq->who, why, sizeof(why)) != 0) {
		record_event(h, "mcp.call", &rq->who, rq->source, "failure", why);
		snprintf(text, sizeof(text), "Forbidden: %s", why);
		answer_rpc_error(rq, 403, MCP_ERR_INVALID_REQUEST, text);
		return;
	}
	if ((hs = stateless_new(h, rq, msg)) == NULL) {
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL, "the server is stopping or out of memory");
		return;
	}
	if (streamed(msg->method)) {
		post_streaming(h, rq, hs, msg);
	} else if (call_admit(h, rq, hs, msg->id) == 0) {
		mcp_session_dispatch(hs->ms, &rq->who, msg, &sink);
		brk_quota_give(h->call_quota, hs->owner_key);
		if (last == NULL) {
			answer_rpc_error(rq, 500, MCP_ERR_INTERNAL, "no response");
		} else {
			answer(rq, 200, "application/json", last, NULL);
		}
	}
	session_put(h, hs);
}

static void do_post(struct brk_mcphttp *h, struct req *rq)
{
	const char *pv = header(rq->c, "MCP-Protocol-Version");
	struct mcp_msg msg;
	struct hsession *hs = NULL;
	char *err = NULL;

	if (rq->body.too_large) {
		answer_rpc_error(rq, 413, MCP_ERR_INVALID_REQUEST, MSG_TOO_LARGE);
		return;
	}
	memset(&msg, 0, sizeof(msg));
	if (mcp_decode(buf_ptr(rq->body.kept), buf_len(rq->body.kept), &msg, &err) != 0) {
		answer(rq, 400, "application/json", err, NULL);
		return;
	}
	if (msg.kind == MCP_REQUEST && strcmp(msg.method, "initialize") == 0 &&
	    !mcp_msg_stateless(&msg, pv)) {
		/* A new session (2025-11-25 and before), whatever session id
		 * came with it. */
		post_initialize(h, rq, &msg);
		mcp_msg_clear(&msg);
		return;
	}
	if (header(rq->c, "Mcp-Session-Id") == NULL && (msg.kind == MCP_REQUEST ||
	    (pv != NULL && strcmp(pv, MCP_PROTOCOL_STATELESS) == 0))) {
		if (msg.kind == MCP_REQUEST) {
			/* No session: a stateless request (2026-07-28), initialize
			 * included when it says so (a method that era lacks). */
			post_stateless(h, rq, &msg);
		} else {
			/* A notification or response without a session has
			 * nothing to act on in the stateless era. */
			answer(rq, 202, NULL, NULL, NULL);
		}
		mcp_msg_clear(&msg);
		return;
	}
	if (pv != NULL && !mcp_protocol_supported(pv)) {
		mcp_msg_clear(&msg);
		answer_rpc_error(rq, 400, MCP_ERR_INVALID_REQUEST,
		    "Bad Request: unsupported MCP-Protocol-Version");
		return;
	}
	if (lookup(h, rq, &hs) != 0) {
		mcp_msg_clear(&msg);
		return;
	}
	if (msg.kind != MCP_REQUEST) {
		mcp_session_dispatch(hs->ms, &rq->who, &msg, NULL);
		mcp_msg_clear(&msg);
		answer(rq, 202, NULL, NULL, NULL);
	} else {
		post_streaming(h, rq, hs, &msg);
	}
	session_put(h, hs);
}

static void do_get(struct brk_mcphttp *h, struct req *rq)
{
	const char *last = header(rq->c, "Last-Event-ID");
	struct hsession *hs = NULL;
	struct stream *s;
	struct conn *cn = NULL;
	uint64_t no = 0, seq = 0;
	struct mcp_sink sink = { sse_standalone_send, NULL, NULL };
	int gone;

	if (!brk_hdr_accepts(header(rq->c, "Accept"), "text/event-stream")) {
		answer_rpc_error(rq, 406, MCP_ERR_INVALID_REQUEST,
		    "Not Acceptable: GET needs Accept: text/event-stream");
		return;
	}
	if (lookup(h, rq, &hs) != 0) {
		return;
	}
	pthread_mutex_lock(&h->mu);
	if (h->stopping) {
		pthread_mutex_unlock(&h->mu);
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL, "the server is stopping");
		goto out;
	}
	if (last != NULL) {
		/* Resumption of any of the session's streams. */
		s = brk_hdr_event_id(last, &no, &seq) == 0 ? sse_stream_find(hs, no) : NULL;
		cn = s != NULL ? sse_reader_attach(h, s, rq->c, seq) : NULL;
		/* Read under the lock: a request of the session may be adding a
		 * stream now. */
		gone = no > 0 && no <= hs->stream_no;
		pthread_mutex_unlock(&h->mu);
		if (s == NULL) {
			answer_rpc_error(rq, 404, MCP_ERR_INVALID_REQUEST, gone ?
			    "the events of this stream are no longer kept: a session keeps its "
			    "newest streams and a bounded number of bytes" :
			    "no stream to resume for this Last-Event-ID");
		} else {
			answer_sse(rq, cn);
		}
		goto out;
	}
	/* A new standalone stream replaces the old one. */
	for (struct stream *o = hs->streams; o != NULL; o = o->next) {
		if (o->standalone) {
			sse_stream_finish(o);
		}
	}
	s = sse_stream_new(hs, NULL);
	if (s != NULL) {
		cn = sse_reader_attach(h, s, rq->c, 0);
		sink.arg = hs;
	}
	pthread_mutex_unlock(&h->mu);
	if (s != NULL) {
		mcp_session_set_stream(hs->ms, &sink);
	}
	answer_sse(rq, cn);
out:
	session_put(h, hs);
}

static void do_delete(struct brk_mcphttp *h, struct req *rq)
{
	struct hsession *hs = NULL, *closing = NULL;

	if (lookup(h, rq, &hs) != 0) {
		return;
	}
	pthread_mutex_lock(&h->mu);
	hsession_end(h, hs, NULL, &closing);
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
	session_put(h, hs);
	record_event(h, "mcp.session", &rq->who, rq->source, "success", "ended by client");
	answer(rq, 200, NULL, NULL, NULL);
}

/* The method, on a worker with the connection suspended. */
static void run_job(void *arg)
{
	struct req *rq = arg;

	if (strcmp(rq->method, "POST") == 0) {
		do_post(rq->h, rq);
	} else if (strcmp(rq->method, "GET") == 0) {
		do_get(rq->h, rq);
	} else {
		do_delete(rq->h, rq);
	}
}

/* ---- the stages before the method ---- */

/* 1 if p[0..n) holds a control character. */
static int name_has_control(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
			return 1;
		}
	}
	return 0;
}

/* The Mcp-Name header of a tools/call (2026-07-28) names the tool before
 * the body: a tool the caller may never call is refused here, before the
 * body is read or parsed, and recorded. 1 when refused (the answer set). */
static int refused_by_name(struct brk_mcphttp *h, struct req *rq)
{
	const char *m = header(rq->c, "Mcp-Method"), *n = header(rq->c, "Mcp-Name");
	char name[MCP_TOOL_NAME_HEADER_MAX + 1], why[MCP_TOOL_NAME_HEADER_MAX + 128], msg[512];
	size_t len;

	/* Stateless requests only: a session's client sends no Mcp-Name, and
	 * its refusals come from the engine, with the rule. */
	if (strcmp(rq->method, "POST") != 0 || m == NULL || n == NULL ||
	    strcmp(m, "tools/call") != 0 || header(rq->c, "Mcp-Session-Id") != NULL) {
		return 0;
	}
	n = mcp_header_value(n, &len);
	if (len > MCP_TOOL_NAME_HEADER_MAX || !json_utf8_text(n, len) || name_has_control(n, len)) {
		/* No tool is named so: refused, without echoing or recording it. */
		answer_rpc_error(rq, 400, MCP_ERR_INVALID_PARAMS, "Unknown tool");
		return 1;
	}
	memcpy(name, n, len);
	name[len] = '\0';
	if (!mcp_server_tool_refused(h->cfg.srv, &rq->who, name)) {
		return 0;
	}
	snprintf(why, sizeof(why), "tool %s refused from its Mcp-Name header: not one this "
	    "identity's roles allow", name);
	record_event(h, "mcp.call", &rq->who, rq->source, "failure", why);
	snprintf(msg, sizeof(msg), "Unknown tool: %s", name);
	answer_rpc_error(rq, 400, MCP_ERR_INVALID_PARAMS, msg);
	return 1;
}

/* Authentication, on a worker with the connection suspended: it reads the
 * store and may write the audit. On success rq->authenticated is set; on a
 * refusal the answer is, unless there was no memory to build it. */
static void auth_job(void *arg)
{
	struct req *rq = arg;
	struct brk_mcphttp *h = rq->h;
	struct brk_resp resp;
	char www[512], key[BRK_IDENTITY_KEY_MAX];

	memset(&resp, 0, sizeof(resp));
	if (h->cfg.authenticate(h->cfg.auth_arg, header(rq->c, "Authorization"), rq->source,
	    &rq->who, &resp) == 0) {
		/* Tool events name the client's address (the identity's source). */
		snprintf(rq->who.source, sizeof(rq->who.source), "%s", rq->source);
		brk_identity_key(rq->who.kind, rq->who.name, key, sizeof(key));
		brk_conn_authenticated(rq->c, key);
		rq->authenticated = !refused_by_name(h, rq);
		return;
	}
	/* The API's refusal with the port's standard headers; a client that
	 * must authenticate learns where the metadata is (RFC 9728). */
	snprintf(www, sizeof(www), "Bearer resource_metadata=\"%s\"",
	    h->cfg.resource_metadata_url != NULL ? h->cfg.resource_metadata_url : "");
	if (resp.status == 0) {
		resp.status = 401;
	}
	resp.www_authenticate |= resp.status == 401;
	rq->resp = brk_http_response(&resp, www);
	rq->status = (unsigned)resp.status;
	brk_resp_clear(&resp);
}

/* Checks of the head that need no I/O, after authentication: method,
 * media types, size. 0 to go on, or an answer set. */
static int check_head(struct req *rq)
{
	const char *ct, *acc;

	if (strcmp(rq->method, "POST") == 0) {
		acc = header(rq->c, "Accept");
		if (!brk_hdr_accepts(acc, "application/json") ||
		    !brk_hdr_accepts(acc, "text/event-stream")) {
			answer_rpc_error(rq, 406, MCP_ERR_INVALID_REQUEST,
			    "Not Acceptable: POST needs Accept: application/json, text/event-stream");
			return ZT_ERR_INVALID;
		}
		ct = header(rq->c, "Content-Type");
		if (!brk_hdr_media_type_is(ct, "application/json")) {
			answer_rpc_error(rq, 415, MCP_ERR_INVALID_REQUEST,
			    "Unsupported Media Type: send application/json");
			return ZT_ERR_INVALID;
		}
		if (brk_body_declared_over(rq->c, MCP_MSG_MAX)) {
			answer_rpc_error(rq, 413, MCP_ERR_INVALID_REQUEST, MSG_TOO_LARGE);
			return ZT_ERR_TOO_LARGE;
		}
		return 0;
	}
	if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "DELETE") == 0) {
		return 0;
	}
	answer_rpc_error(rq, 405, MCP_ERR_INVALID_REQUEST, "Method Not Allowed");
	return ZT_ERR_INVALID;
}

/* Sends an answer decided before the body: now, or once the body was read
 * and dropped, so that the client sees it (brk_body.h). */
static enum MHD_Result answer_early(struct req *rq)
{
	rq->answered = 1;
	if (brk_body_refuse(rq->c, &rq->body)) {
		return send_answer(rq->c, rq);
	}
	return MHD_YES; /* read and drop the body, then answer */
}

/* Runs fn on a worker with the connection suspended; 503 when every
 * worker is busy. */
static enum MHD_Result defer(struct brk_mcphttp *h, struct req *rq, brk_job_fn *fn)
{
	brk_conn_phase(rq->c, BRK_CONN_BUSY);
	if (brk_work_suspend(h->cfg.work, rq->c, fn, rq) != 0) {
		log_warn("mcp: 503 for %s: every worker busy", rq->source);
		answer_rpc_error(rq, 503, MCP_ERR_INTERNAL,
		    "the server is busy: try again in a moment");
		if (rq->stage == RQ_RUN) {
			rq->answered = 1;
			return send_answer(rq->c, rq);
		}
		return answer_early(rq);
	}
	return MHD_YES;
}

/* The first call for a request (its head is in), and the same call again
 * after authentication resumed the connection. */
static enum MHD_Result on_head(struct brk_mcphttp *h, struct req *rq)
{
	const union MHD_ConnectionInfo *ci;

	if (rq->stage == RQ_NEW) {
		ci = MHD_get_connection_info(rq->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		net_addr_str(ci != NULL ? ci->client_addr : NULL, rq->source, sizeof(rq->source));
		if (!origin_ok(h, rq->c)) {
			log_warn("mcp: refused Host/Origin from %s", rq->source);
			answer_rpc_error(rq, 403, MCP_ERR_INVALID_REQUEST,
			    "Forbidden: Host or Origin not allowed");
			return answer_early(rq);
		}
		rq->stage = RQ_AUTH;
		if (h->cfg.authenticate != NULL) {
			return defer(h, rq, auth_job);
		}
		snprintf(rq->who.kind, sizeof(rq->who.kind), "anonymous");
		snprintf(rq->who.name, sizeof(rq->who.name), "anonymous");
		snprintf(rq->who.source, sizeof(rq->who.source), "%s", rq->source);
		rq->authenticated = 1;
	}
	if (!rq->authenticated) {
		/* Refused, with the answer set; or with none (no memory for it):
		 * then nothing can be said, and the connection is closed. Never
		 * on as someone. */
		return rq->resp != NULL ? answer_early(rq) : MHD_NO;
	}
	if (check_head(rq) == 0) {
		rq->stage = RQ_BODY;
		brk_conn_phase(rq->c, BRK_CONN_BODY);
		return MHD_YES;
	}
	return answer_early(rq);
}

enum MHD_Result brk_mcphttp_request(struct brk_mcphttp *h, struct MHD_Connection *c,
    const char *method, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	int r;

	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL || (rq->body.kept = buf_new(MCP_MSG_MAX)) == NULL) {
			free(rq);
			return MHD_NO;
		}
		rq->h = h;
		rq->c = c;
		rq->method = method;
		*con_cls = rq;
	}
	if (*upload_size > 0) {
		/* Only in RQ_BODY, or while dropping the body of an early answer. */
		r = brk_body_put(&rq->body, upload_data, *upload_size);
		*upload_size = 0;
		return r == 0 ? MHD_YES : MHD_NO;
	}
	if (rq->answered) {
		/* The body of an early answer is in: now the answer (none, on
		 * ENOMEM: the connection is closed rather than left waiting). */
		return send_answer(c, rq);
	}
	switch (rq->stage) {
	case RQ_NEW:
	case RQ_AUTH:
		return on_head(h, rq);
	case RQ_BODY:
		rq->stage = RQ_RUN;
		return defer(h, rq, run_job);
	case RQ_RUN:
	default:
		/* The method ran and the connection was resumed. */
		rq->answered = 1;
		return send_answer(c, rq);
	}
}

void brk_mcphttp_completed(struct brk_mcphttp *h, void **con_cls)
{
	struct req *rq = *con_cls;

	(void)h;
	if (rq != NULL) {
		if (rq->resp != NULL) {
			MHD_destroy_response(rq->resp); /* prepared, never sent */
		}
		buf_free(rq->body.kept);
		free(rq);
		*con_cls = NULL;
	}
}

void brk_mcphttp_tick(struct brk_mcphttp *h, int64_t now_ms)
{
	struct hsession *closing = NULL;

	pthread_mutex_lock(&h->mu);
	sse_readers_wake(h, now_ms);
	sweep_idle(h, &closing);
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
}

/* Orders sessions by the credential they are bound to (and their owner,
 * which one credential always has), so that brk_mcphttp_revoke() checks
 * each credential once. Bindings are hashes the server made: no secret is
 * compared here. */
static int by_binding(const void *a, const void *b)
{
	const struct hsession *x = *(struct hsession *const *)a;
	const struct hsession *y = *(struct hsession *const *)b;
	int c = strcmp(x->owner.credential, y->owner.credential);

	return c != 0 ? c : strcmp(x->owner_key, y->owner_key);
}

int brk_mcphttp_revoke(struct brk_mcphttp *h, brk_mcphttp_check_fn *check, void *arg,
    size_t *ended)
{
	struct hsession **all = NULL, *closing = NULL;
	const char **why = NULL;
	size_t n = 0, want, checked = 0, nended = 0;

	if (ended != NULL) {
		*ended = 0;
	}
	/* A snapshot with a reference each: check() reads the store, which
	 * may wait, and runs without h->mu. */
	pthread_mutex_lock(&h->mu);
	want = h->nsessions + h->nlone;
	if (want > 0 && ((all = calloc(want, sizeof(*all))) == NULL ||
	    (why = calloc(want, sizeof(*why))) == NULL)) {
		pthread_mutex_unlock(&h->mu);
		free(all);
		log_error("mcp: no memory to check the credentials of %zu session(s); nothing was "
		    "revoked in this round", want);
		return ZT_ERR_NOMEM;
	}
	for (struct hsession *hs = h->sessions; hs != NULL; hs = hs->next) {
		hs->refs++;
		all[n++] = hs;
	}
	for (struct hsession *hs = h->lone; hs != NULL; hs = hs->next) {
		hs->refs++;
		all[n++] = hs;
	}
	pthread_mutex_unlock(&h->mu);
	if (n > 1) {
		qsort(all, n, sizeof(*all), by_binding);
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && by_binding(&all[i - 1], &all[i]) == 0) {
			why[i] = why[i - 1]; /* the same credential: one answer */
			continue;
		}
		checked++;
		if (check(arg, &all[i]->owner, &why[i]) == 0) {
			why[i] = NULL;
		} else if (why[i] == NULL) {
			why[i] = "credential no longer valid";
		}
	}
	log_debug("mcp: checked %zu credential(s) of %zu session(s)", checked, n);
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < n; i++) {
		if (why[i] != NULL && !all[i]->ended) {
			hsession_end(h, all[i], why[i], &closing);
		} else {
			why[i] = NULL; /* ended meanwhile: not ours to audit */
		}
	}
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
	for (size_t i = 0; i < n; i++) {
		if (why[i] != NULL) {
			log_info("mcp: ended a session of %s: %s", all[i]->owner_key, why[i]);
			record_event(h, "mcp.session", &all[i]->owner, all[i]->source, "revoked", why[i]);
			nended++;
		}
		session_put(h, all[i]);
	}
	free(all);
	free(why);
	if (ended != NULL) {
		*ended = nended;
	}
	return 0;
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
	if (h->cfg.retained_max == 0) {
		h->cfg.retained_max = BRK_MCP_RETAINED_MAX;
	}
	if (h->cfg.retained_session_max == 0) {
		h->cfg.retained_session_max = BRK_MCP_RETAINED_SESSION_MAX;
	}
	if (h->cfg.retained_identity_max == 0) {
		h->cfg.retained_identity_max = BRK_MCP_RETAINED_IDENTITY_MAX;
	}
	if (h->cfg.retained_identity_max > h->cfg.retained_max) {
		h->cfg.retained_identity_max = h->cfg.retained_max;
	}
	if (h->cfg.retained_session_max > h->cfg.retained_identity_max) {
		h->cfg.retained_session_max = h->cfg.retained_identity_max;
	}
	retain_scope_init(&h->kept, SCOPE_ALL, h->cfg.retained_max);
	/* About one session (or identity) per chain when the table is full. */
	for (h->nbuckets = 16; h->nbuckets < h->cfg.max_sessions && h->nbuckets < 65536;) {
		h->nbuckets *= 2;
	}
	h->by_id = calloc(h->nbuckets, sizeof(*h->by_id));
	h->idents = calloc(h->nbuckets, sizeof(*h->idents));
	if (h->cfg.calls_per_identity == 0 || h->cfg.calls_per_identity > BRK_MCP_CALLS_MAX) {
		h->cfg.calls_per_identity = h->cfg.calls_per_identity == 0 ?
		    BRK_MCP_CALLS_PER_IDENTITY : BRK_MCP_CALLS_MAX;
	}
	h->quota = brk_quota_new(h->cfg.sessions_per_identity, h->cfg.max_sessions);
	h->call_quota = brk_quota_new(h->cfg.calls_per_identity, BRK_MCP_CALLS_MAX);
	h->calls = brk_work_new(BRK_MCP_CALLS_MAX, 0);
	if (h->cfg.work == NULL || h->by_id == NULL || h->idents == NULL || h->quota == NULL ||
	    h->call_quota == NULL || h->calls == NULL) {
		free(h->by_id);
		free(h->idents);
		brk_quota_free(h->quota);
		brk_quota_free(h->call_quota);
		brk_work_free(h->calls);
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
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
		hsession_end(h, h->sessions, NULL, &closing);
	}
	while (h->lone != NULL) {
		hsession_end(h, h->lone, NULL, &closing);
	}
	/* Readers never suspend again once stopping is set. */
	sse_readers_wake(h, -1);
	pthread_mutex_unlock(&h->mu);
	close_sessions(h, closing);
}

void brk_mcphttp_free(struct brk_mcphttp *h)
{
	if (h == NULL) {
		return;
	}
	brk_mcphttp_shutdown(h);
	brk_work_free(h->calls); /* waits for the calls, cancelled above */
	pthread_mutex_destroy(&h->mu);
	brk_quota_free(h->quota);
	brk_quota_free(h->call_quota);
	retain_scope_fini(&h->kept);
	free(h->by_id);
	free(h->idents); /* empty: every session, so every identity, is gone */
	free(h);
}
