/*
 * brk_mcphttp_int.h - private to the MCP Streamable HTTP transport:
 * brk_mcphttp.c (sessions, requests, methods), brk_mcpstream.c (SSE
 * streams and their readers) and brk_mcpretain.c (the events streams keep,
 * and which go first when they would not fit). The contract is
 * brk_mcphttp.h.
 *
 * Locking: h->mu guards every session, stream, event and reader of one
 * transport. Nothing done under it blocks or calls into the engine (the
 * engine calls our sinks, which take h->mu), but for dropping an engine
 * session's reference and closing a stateless one (both take only the
 * engine session's lock, which is never held while taking h->mu).
 * Functions below that touch this state expect h->mu held unless they say
 * otherwise.
 */
#ifndef ZT_BRK_MCPHTTP_INT_H
#define ZT_BRK_MCPHTTP_INT_H

#include <pthread.h>
#include <stdint.h>
#include <microhttpd.h>

#include "broker/brk_api.h"
#include "broker/brk_mcphttp.h"

#define SESSION_ID_BYTES 32
#define SESSION_IDLE_S 3600
/* Streams a session keeps; the oldest finished ones are forgotten first. */
#define SESSION_MAX_STREAMS 64
/* Events one stream keeps; the oldest are dropped first. */
#define STREAM_MAX_EVENTS 4096
/* An SSE connection with nothing to send gets a comment line this often:
 * it keeps proxies from closing it and finds clients that went away. */
#define KEEPALIVE_MS 15000
#define RETRY_DEFAULT_MS 1000

struct brk_work;
struct brk_quota;

/* One SSE event as it goes on the wire: "id: N_S\ndata: JSON\n\n". */
struct event {
	struct event *next;
	uint64_t seq;
	size_t len;
	size_t size;               /* bytes it holds in memory, counted */
	char text[];
};

struct hsession;
struct conn;
struct stream;

/* Where retained bytes are counted and bounded: a session, its owner's
 * identity (over all its sessions), and the whole transport. The index of
 * each in a stream's at[]. */
enum { SCOPE_SESSION, SCOPE_IDENTITY, SCOPE_ALL, SCOPES };

/* A binary heap of streams, the oldest (lowest born) on top. */
struct sheap {
	struct stream **v;
	size_t n;
};

/* One scope of retained bytes (brk_mcpretain.c). Its heaps hold the
 * streams whose oldest event may be dropped, one heap per drop class, so
 * that the next victim is found at once, not by a scan; each heap has
 * room for every stream of the scope, so that filing a stream never
 * allocates. */
struct retain_scope {
	size_t bytes;              /* of the events its streams keep */
	size_t max;                /* its bound */
	int slot;                  /* SCOPE_*: its index in a stream's at[] */
	size_t nstreams;           /* streams in it (joined, not yet left) */
	size_t cap;                /* room in each heap */
	struct sheap q[3];         /* droppable streams of class 1, 2, 3 */
};

/* One logical SSE stream: the answer to one POSTed request, or the
 * session's standalone GET stream. */
struct stream {
	struct stream *next;       /* in the session's list, newest first */
	struct hsession *hs;
	uint64_t no;
	uint64_t born;             /* creation order among all streams */
	cJSON *req_id;             /* the POSTed request's id; NULL: standalone */
	uint64_t next_seq;         /* sequence of the next event */
	struct event *head, *tail;
	size_t nevents;
	size_t bytes;              /* of its retained events */
	uint64_t dropped_through;  /* highest sequence dropped (0: none) */
	struct conn *reader;       /* the connection reading it now, or NULL */
	uint64_t sent_seq;         /* last event written in full to the reader */
	size_t off;                /* bytes of the event after it written */
	int finished;              /* no more events will come */
	int close_conn;            /* end the reader's connection (polling) */
	int standalone;            /* the session's GET stream */
	int retry_ms;
	int refs;                  /* the session's list, readers, a worker */
	int detached;              /* out of its session's list: never a victim */
	int cls;                   /* its drop class as filed (0: on no heap) */
	size_t at[SCOPES];         /* its place on that class's heap, per scope */
};

/* The reading side of one SSE connection. */
struct conn {
	struct conn *prev, *next;  /* on h->sleepers while suspended */
	struct brk_mcphttp *h;
	struct stream *s;
	struct MHD_Connection *mc;
	int primed;                /* the priming event was written */
	int suspended;             /* waiting for an event, a keepalive or the end */
	int keepalive_due;
	int ending;                /* end once pending is written */
	int64_t wake_ms;           /* net_mono_ms() of the next keepalive */
	char *pending;             /* text to write before any event (owned) */
	size_t pending_len, pending_off;
};

/* An identity that holds sessions: what all its sessions retain. */
struct hident {
	struct hident *next;       /* its chain of h->idents */
	char key[BRK_IDENTITY_KEY_MAX];
	struct retain_scope kept;
	int refs;                  /* its sessions */
};

struct hsession {
	struct hsession *prev, *next; /* h->sessions */
	struct hsession *next_id;  /* its chain of h->by_id */
	struct hsession *next_closed; /* on a list of sessions to close */
	struct brk_mcphttp *h;
	char id[64];
	struct mcp_session *ms;
	struct mcp_identity owner;
	char owner_key[BRK_IDENTITY_KEY_MAX]; /* brk_identity_key(): its unit of h->quota */
	struct hident *ident;      /* its owner's; set while in the table, and after */
	char source[64];           /* the address that created it */
	struct stream *streams;
	uint64_t stream_no;
	struct retain_scope kept;  /* its streams' retained events */
	int64_t last_used;
	int busy;                  /* requests running and connected readers */
	int stateless;             /* one 2026-07-28 request's: no id, on h->lone */
	int listed;                /* on h->lone (stateless) */
	int ended;
	int refs;
};

struct brk_mcphttp {
	struct brk_mcphttp_config cfg;
	pthread_mutex_t mu;
	int stopping;
	struct hsession *sessions;
	size_t nsessions;
	/* The one-request sessions of stateless requests running (prev/next
	 * link them): not looked up by id, but revoked and shut down. */
	struct hsession *lone;
	size_t nlone;
	/* Sessions by id (hash_str of the id): the lookup of every request
	 * walks one short chain, not the table. */
	struct hsession **by_id;
	struct hident **idents;    /* identities holding sessions, by key */
	size_t nbuckets;           /* of each table; a power of two */
	struct brk_quota *quota;   /* sessions per identity and in all */
	struct brk_quota *call_quota; /* POSTed requests running, likewise */
	struct brk_work *calls;    /* runs POSTed requests */
	struct conn *sleepers;     /* SSE readers suspended for want of events */
	struct retain_scope kept;  /* all retained events */
	uint64_t streams_born;
};

/* ---- brk_mcpretain.c ---- */

/* An empty scope for slot (SCOPE_*) bounded to max bytes; _fini frees its
 * heaps (its streams are gone). */
void retain_scope_init(struct retain_scope *sc, int slot, size_t max);
void retain_scope_fini(struct retain_scope *sc);
/* A new stream s (of s->hs, with no event yet) joins its scopes: 0, or
 * ZT_ERR_NOMEM (nothing changed). */
int retain_join(struct stream *s);
/* s leaves its session's list: it is no victim any more (its events still
 * count until they are dropped). Once per joined stream. */
void retain_leave(struct stream *s);
/* Files s anew after a change of what makes its oldest event droppable:
 * its first event, its reader, the reader's sent_seq, finished. Every
 * such change calls it. */
void retain_update(struct stream *s);
/* Keeps event e at the end of s, first dropping older events (s's own or
 * others') until it fits; past STREAM_MAX_EVENTS s's oldest goes. 0, or
 * ZT_ERR_TOO_LARGE: e does not fit (not kept; the caller frees it). */
int retain_append(struct stream *s, struct event *e);
/* Drops the oldest event of s (there is one). */
void retain_drop_head(struct stream *s);

/* ---- brk_mcpstream.c ---- */

/* A new stream of hs for the request whose id is req_id (copied; NULL for
 * the standalone stream), on its list (NULL on ENOMEM); forgets the
 * oldest finished streams past SESSION_MAX_STREAMS. */
struct stream *sse_stream_new(struct hsession *hs, const cJSON *req_id);
void sse_stream_unref(struct stream *s);
/* Takes s out of its session's list (dropping the list's reference). */
void sse_stream_detach(struct stream *s);
struct stream *sse_stream_find(struct hsession *hs, uint64_t no);
/* No more events: its reader ends after the last one. */
void sse_stream_finish(struct stream *s);
/* Ends a request's stream with a JSON-RPC error response to its request
 * (code, message), unless it already finished. */
void sse_stream_fail(struct stream *s, int code, const char *message);
/* Sinks for the engine (they take h->mu): a request's stream (arg: the
 * stream) and a session's standalone stream (arg: the session). */
int sse_sink_send(void *arg, const char *json);
void sse_sink_close(void *arg, int retry_ms);
int sse_standalone_send(void *arg, const char *json);

/* A reader for stream s on connection mc, delivering from after event
 * sequence `from` (a Last-Event-ID's; 0 for a new stream); it supersedes
 * the stream's previous reader. Events after `from` that were dropped
 * are not skipped in silence: the reader says so first (see
 * brk_mcpstream.c). NULL on ENOMEM. */
struct conn *sse_reader_attach(struct brk_mcphttp *h, struct stream *s,
    struct MHD_Connection *mc, uint64_t from);
/* The SSE response of a reader from sse_reader_attach() (taken: on
 * failure it is detached), to queue from the access handler; called
 * without h->mu. NULL on ENOMEM. */
struct MHD_Response *sse_reader_response(struct conn *cn);
/* Wakes the suspended readers whose keepalive is due by now_ms
 * (net_mono_ms() time), or all of them when now_ms < 0 (stopping). */
void sse_readers_wake(struct brk_mcphttp *h, int64_t now_ms);

/* ---- brk_mcphttp.c ---- */

void mcphttp_session_unref(struct hsession *hs);

#endif
