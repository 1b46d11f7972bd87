/*
 * brk_mcpstream.c - the SSE streams of the MCP transport and their readers.
 *
 * A stream keeps its events so that a client whose connection ended (a
 * dropped network, or the server closing it on purpose for polling,
 * SEP-1699) can resume with GET and Last-Event-ID; the events it had not
 * seen are sent again. Event ids are "<stream number>_<sequence>",
 * sequence 0 being the priming event.
 *
 * What is kept is bounded in bytes; brk_mcpretain.c says which older
 * events are dropped to make room. When a new event still does not fit,
 * it is the one not kept: a request's stream then ends (the engine's send
 * fails and the call's further messages are lost), the standalone stream
 * goes on. Every change of what makes a stream's oldest event droppable
 * (its reader, what it was sent, its end) is told to retain_update().
 * Nothing is skipped in silence:
 * a reader that reaches a gap (events dropped after what it was sent, or
 * after the Last-Event-ID it resumed from) sends, on a request's stream,
 * a JSON-RPC error response to that request saying its events were
 * dropped, and ends; on the standalone stream, an error log notification
 * saying how many were lost, and goes on.
 *
 * A reader is the response side of one SSE connection. Its content reader
 * runs on libmicrohttpd's event-loop thread and must never wait there:
 * when the stream has nothing for it, it suspends its connection and
 * returns 0; whatever gives it something (an event, the end of the stream,
 * a newer reader, a due keepalive, the transport stopping) resumes it, and
 * libmicrohttpd calls the content reader again. A suspended reader is on
 * h->sleepers so that the keepalive tick and the shutdown find it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_mcphttp_int.h"
#include "common/err.h"
#include "common/net.h"

#define SSE_BLOCK 16384

/* ---- readers: waking ---- */

static void sleeper_remove(struct brk_mcphttp *h, struct conn *cn)
{
	if (cn->prev != NULL) {
		cn->prev->next = cn->next;
	} else if (h->sleepers == cn) {
		h->sleepers = cn->next;
	}
	if (cn->next != NULL) {
		cn->next->prev = cn->prev;
	}
	cn->prev = cn->next = NULL;
}

/* Resumes a suspended reader so that libmicrohttpd calls it again. */
static void reader_wake(struct conn *cn)
{
	if (cn == NULL || !cn->suspended) {
		return;
	}
	sleeper_remove(cn->h, cn);
	cn->suspended = 0;
	MHD_resume_connection(cn->mc);
}

void sse_readers_wake(struct brk_mcphttp *h, int64_t now_ms)
{
	struct conn *cn = h->sleepers, *next;

	for (; cn != NULL; cn = next) {
		next = cn->next;
		if (now_ms < 0 || now_ms >= cn->wake_ms) {
			cn->keepalive_due = now_ms >= 0;
			reader_wake(cn);
		}
	}
}

/* ---- streams ---- */

/* Forgets the oldest finished, unread streams past SESSION_MAX_STREAMS:
 * their clients went away without resuming. */
static void stream_trim(struct hsession *hs)
{
	struct stream *s, *victim;
	size_t n;

	for (;;) {
		n = 0;
		victim = NULL;
		for (s = hs->streams; s != NULL; s = s->next) {
			n++;
			if (s->finished && s->reader == NULL) {
				victim = s; /* the list is newest first: ends on the oldest */
			}
		}
		if (n <= SESSION_MAX_STREAMS || victim == NULL) {
			return;
		}
		sse_stream_detach(victim);
	}
}

struct stream *sse_stream_new(struct hsession *hs, const cJSON *req_id)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL || (req_id != NULL && (s->req_id = cJSON_Duplicate(req_id, 1)) == NULL)) {
		free(s);
		return NULL;
	}
	s->hs = hs;
	if (retain_join(s) != 0) {
		cJSON_Delete(s->req_id);
		free(s);
		return NULL;
	}
	s->no = ++hs->stream_no;
	s->born = ++hs->h->streams_born;
	s->next_seq = 1;
	s->refs = 1; /* the session's list */
	s->retry_ms = RETRY_DEFAULT_MS;
	s->standalone = req_id == NULL;
	s->next = hs->streams;
	hs->streams = s;
	hs->refs++;
	stream_trim(hs);
	return s;
}

void sse_stream_unref(struct stream *s)
{
	if (s == NULL || --s->refs > 0) {
		return;
	}
	while (s->head != NULL) {
		retain_drop_head(s);
	}
	cJSON_Delete(s->req_id);
	mcphttp_session_unref(s->hs);
	free(s);
}

void sse_stream_detach(struct stream *s)
{
	struct stream **pp;

	for (pp = &s->hs->streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			s->next = NULL;
			retain_leave(s);
			sse_stream_unref(s);
			return;
		}
	}
}

struct stream *sse_stream_find(struct hsession *hs, uint64_t no)
{
	for (struct stream *s = hs->streams; s != NULL; s = s->next) {
		if (s->no == no) {
			return s;
		}
	}
	return NULL;
}

/* Appends one event, making room for it (brk_mcpretain.c). 0,
 * ZT_ERR_NOMEM, or ZT_ERR_TOO_LARGE when it was not kept and the
 * (request's) stream ended. */
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
	e->size = sizeof(*e) + cap;
	n = snprintf(e->text, cap, "id: %llu_%llu\ndata: %s\n\n", (unsigned long long)s->no,
	    (unsigned long long)e->seq, json);
	e->len = (size_t)n;
	if (retain_append(s, e) != 0) {
		/* Not kept: its reader reports the gap when it gets there. */
		s->dropped_through = e->seq;
		free(e);
		if (!s->standalone) {
			s->finished = 1;
			retain_update(s);
		}
		reader_wake(s->reader);
		return s->standalone ? 0 : ZT_ERR_TOO_LARGE;
	}
	reader_wake(s->reader);
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

void sse_stream_finish(struct stream *s)
{
	s->finished = 1;
	retain_update(s);
	reader_wake(s->reader);
}

void sse_stream_fail(struct stream *s, int code, const char *message)
{
	char *json;

	if (s->finished || s->req_id == NULL) {
		return;
	}
	if ((json = mcp_error_json(s->req_id, code, message, NULL)) != NULL) {
		(void)stream_push(s, json); /* a gap is reported if it did not fit */
		free(json);
	}
	sse_stream_finish(s);
}

int sse_sink_send(void *arg, const char *json)
{
	struct stream *s = arg;
	struct brk_mcphttp *h = s->hs->h;
	int r;

	pthread_mutex_lock(&h->mu);
	r = s->finished ? ZT_ERR_IO : stream_push(s, json);
	pthread_mutex_unlock(&h->mu);
	return r;
}

/* Whichever GET stream is current. Its argument is the session, which
 * outlives the engine's copy of the sink (closing a session detaches the
 * sink first). */
int sse_standalone_send(void *arg, const char *json)
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

void sse_sink_close(void *arg, int retry_ms)
{
	struct stream *s = arg;
	struct brk_mcphttp *h = s->hs->h;

	pthread_mutex_lock(&h->mu);
	s->close_conn = 1;
	s->retry_ms = retry_ms > 0 ? retry_ms : RETRY_DEFAULT_MS;
	reader_wake(s->reader);
	pthread_mutex_unlock(&h->mu);
}

/* ---- readers ---- */

/* Sets text (taken; NULL on ENOMEM) to be written before anything else. */
static void set_pending(struct conn *cn, char *text)
{
	free(cn->pending);
	cn->pending = text;
	cn->pending_len = text != NULL ? strlen(text) : 0;
	cn->pending_off = 0;
}

/* The text that tells a reader at a gap (see the top of this file). */
static char *gap_text(const struct brk_mcphttp *h, const struct stream *s, uint64_t lost)
{
	char msg[512], *json, *text = NULL;
	cJSON *params;
	size_t n;

	if (s->standalone) {
		snprintf(msg, sizeof(msg), "%llu message(s) of this stream were dropped: they were "
		    "no longer kept when this connection reached them (a session keeps at most "
		    "%zu bytes of events)", (unsigned long long)lost,
		    h->cfg.retained_session_max);
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "level", "error");
		cJSON_AddStringToObject(params, "logger", "zt");
		cJSON_AddStringToObject(params, "data", msg);
		json = mcp_notification_json("notifications/message", params);
	} else {
		snprintf(msg, sizeof(msg), "the messages of this request after event %llu_%llu were "
		    "dropped before they could be delivered (a session keeps at most %zu bytes of "
		    "events it has not delivered or that were not acknowledged, an identity %zu, "
		    "%zu in all); its outcome is unknown to this client: check before sending it "
		    "again", (unsigned long long)s->no, (unsigned long long)s->sent_seq,
		    h->cfg.retained_session_max, h->cfg.retained_identity_max, h->cfg.retained_max);
		json = mcp_error_json(s->req_id, MCP_ERR_INTERNAL, msg, NULL);
	}
	if (json != NULL && (text = malloc((n = strlen(json) + 16))) != NULL) {
		snprintf(text, n, "data: %s\n\n", json);
	}
	free(json);
	return text;
}

/* Content reader of an SSE response. Never waits: with nothing to send it
 * suspends its connection and returns 0 (see the top of this file). */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct conn *cn = cls;
	struct brk_mcphttp *h = cn->h;
	struct stream *s = cn->s;
	ssize_t ret;
	struct event *e;
	char prime[96];
	uint64_t gap;
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
		if (h->stopping || s->reader != cn || cn->ending) {
			/* Stopping, a newer connection took the stream over, or the
			 * stream cannot go on past a gap. */
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (!cn->primed) {
			/* The priming event: an id to resume from, before anything. */
			cn->primed = 1;
			snprintf(prime, sizeof(prime), "id: %llu_%llu\nretry: %d\ndata: \n\n",
			    (unsigned long long)s->no, (unsigned long long)s->sent_seq, s->retry_ms);
			set_pending(cn, strdup(prime));
			continue;
		}
		e = stream_after(s, s->sent_seq);
		if (s->off == 0 && (e != NULL ? e->seq > s->sent_seq + 1 :
		    s->dropped_through > s->sent_seq)) {
			/* A gap: the next event was dropped. Say so, not skip it. */
			gap = (e != NULL ? e->seq - 1 : s->dropped_through) - s->sent_seq;
			set_pending(cn, gap_text(h, s, gap));
			if (s->standalone) {
				s->sent_seq += gap;
				retain_update(s);
			} else {
				cn->ending = 1;
			}
			continue;
		}
		if (e != NULL) {
			n = e->len - s->off;
			n = n < max ? n : max;
			memcpy(buf, e->text + s->off, n);
			s->off += n;
			if (s->off == e->len) {
				s->sent_seq = e->seq;
				s->off = 0;
				retain_update(s);
			}
			ret = (ssize_t)n;
			break;
		}
		if (s->close_conn) {
			/* Polling: end this connection; the client comes back with
			 * Last-Event-ID after retry_ms. */
			s->close_conn = 0;
			s->reader = NULL;
			retain_update(s);
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (s->finished) {
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (cn->keepalive_due) {
			/* A comment line keeps proxies open and finds dead clients. */
			cn->keepalive_due = 0;
			set_pending(cn, strdup(": keepalive\n\n"));
			continue;
		}
		/* Nothing yet: sleep until something wakes us. */
		MHD_suspend_connection(cn->mc);
		cn->suspended = 1;
		cn->wake_ms = net_mono_ms() + KEEPALIVE_MS;
		cn->next = h->sleepers;
		if (h->sleepers != NULL) {
			h->sleepers->prev = cn;
		}
		h->sleepers = cn;
		ret = 0;
		break;
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
	if (cn->suspended) {
		sleeper_remove(h, cn); /* cannot be: a suspended one is not freed */
	}
	if (s->reader == cn) {
		s->reader = NULL;
		retain_update(s);
	}
	s->hs->busy--;
	if (s->hs->stateless && !s->finished && s->reader == NULL) {
		/* A stateless request's client went away before its answer: no
		 * one can resume the stream, so the request is cancelled. */
		mcp_session_close(s->hs->ms);
	}
	/* A finished stream whose last event (or the word of its gap) went
	 * out is done with. Only when no reader took it over: sent_seq and
	 * off are then this reader's, not a successor's still reading. */
	if (s->reader == NULL && s->finished && stream_after(s, s->sent_seq) == NULL &&
	    s->off == 0 && (s->dropped_through <= s->sent_seq ||
	    (cn->ending && cn->pending_off == cn->pending_len))) {
		sse_stream_detach(s);
	}
	sse_stream_unref(s);
	pthread_mutex_unlock(&h->mu);
	free(cn->pending);
	free(cn);
}

struct conn *sse_reader_attach(struct brk_mcphttp *h, struct stream *s,
    struct MHD_Connection *mc, uint64_t from)
{
	struct conn *cn = calloc(1, sizeof(*cn));

	if (cn == NULL) {
		return NULL;
	}
	cn->h = h;
	cn->s = s;
	cn->mc = mc;
	s->refs++;
	s->hs->busy++;
	/* The previous reader, if still there, ends when it wakes. */
	reader_wake(s->reader);
	s->reader = cn;
	s->sent_seq = from;
	s->off = 0;
	retain_update(s);
	return cn;
}

struct MHD_Response *sse_reader_response(struct conn *cn)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, cn, sse_free);
	if (r == NULL) {
		sse_free(cn);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache, no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return r;
}
