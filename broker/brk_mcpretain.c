/*
 * brk_mcpretain.c - what the MCP transport's streams keep for resumption,
 * and what goes first when a new event would not fit.
 *
 * What is kept is bounded in bytes, per session, per identity (over all
 * its sessions) and in all (cfg.retained_session_max,
 * cfg.retained_identity_max, cfg.retained_max): each is a scope, and an
 * event counts in the three scopes of its stream, so that one identity
 * cannot fill what all share. When an event would not fit in one of them
 * (the session's checked first, then the identity's, then the whole),
 * older events of that scope are dropped, in this order,
 * oldest stream first: (1) the events of finished streams that no
 * connection reads (their client went away before the end), (2) events
 * already written to a connected reader (kept only in case its connection
 * breaks), (3) the events of unfinished streams that no connection reads.
 * Events a connected reader has not been sent are never dropped; when the
 * new event still does not fit, it is the one not kept (brk_mcpstream.c
 * says what follows). A stream no longer in its session's list is no
 * victim.
 *
 * The class of a stream (1..3 above, 0 when its oldest event may not be
 * dropped) is that of its oldest event, and it changes only at a few
 * places (an event kept or dropped, a reader attached, sending or gone, the
 * stream finished or detached), each of which calls retain_update(). So
 * each scope keeps its droppable streams on one heap per class, ordered
 * by birth, and the next victim is on top of the lowest class's heap: no
 * scan of every session and stream for each event once a bound is
 * reached. Caller holds h->mu throughout.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/brk_mcphttp_int.h"
#include "common/err.h"

/* Heaps of a scope start with room for this many streams and double. */
#define SCOPE_ROOM_MIN 16

/* ---- heaps of streams, oldest on top ---- */

static int older(const struct stream *a, const struct stream *b)
{
	return a->born < b->born;
}

static void heap_place(struct sheap *q, int slot, size_t i, struct stream *s)
{
	q->v[i] = s;
	s->at[slot] = i;
}

static void heap_up(struct sheap *q, int slot, size_t i)
{
	struct stream *s = q->v[i];

	while (i > 0 && older(s, q->v[(i - 1) / 2])) {
		heap_place(q, slot, i, q->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(q, slot, i, s);
}

static void heap_down(struct sheap *q, int slot, size_t i)
{
	struct stream *s = q->v[i];
	size_t c;

	while ((c = 2 * i + 1) < q->n) {
		if (c + 1 < q->n && older(q->v[c + 1], q->v[c])) {
			c++;
		}
		if (!older(q->v[c], s)) {
			break;
		}
		heap_place(q, slot, i, q->v[c]);
		i = c;
	}
	heap_place(q, slot, i, s);
}

/* The heap has room: its scope reserved it when s joined. */
static void heap_add(struct sheap *q, int slot, struct stream *s)
{
	heap_place(q, slot, q->n++, s);
	heap_up(q, slot, q->n - 1);
}

static void heap_remove(struct sheap *q, int slot, struct stream *s)
{
	size_t i = s->at[slot];
	struct stream *last = q->v[--q->n];

	if (i == q->n) {
		return;
	}
	heap_place(q, slot, i, last);
	if (i > 0 && older(last, q->v[(i - 1) / 2])) {
		heap_up(q, slot, i);
	} else {
		heap_down(q, slot, i);
	}
}

/* ---- scopes ---- */

void retain_scope_init(struct retain_scope *sc, int slot, size_t max)
{
	memset(sc, 0, sizeof(*sc));
	sc->slot = slot;
	sc->max = max;
}

void retain_scope_fini(struct retain_scope *sc)
{
	for (size_t c = 0; c < 3; c++) {
		free(sc->q[c].v);
		sc->q[c].v = NULL;
	}
}

/* Room in each heap of sc for one stream more: 0 or ZT_ERR_NOMEM. */
static int scope_reserve(struct retain_scope *sc)
{
	size_t cap = sc->cap > 0 ? sc->cap * 2 : SCOPE_ROOM_MIN;
	struct stream **v;

	if (sc->nstreams < sc->cap) {
		return 0;
	}
	for (size_t c = 0; c < 3; c++) {
		/* A heap grown before a later one failed stays grown: harmless. */
		if ((v = realloc(sc->q[c].v, cap * sizeof(*v))) == NULL) {
			return ZT_ERR_NOMEM;
		}
		sc->q[c].v = v;
	}
	sc->cap = cap;
	return 0;
}

/* The scopes s counts in, in the order their bounds are checked. */
static void scopes_of(struct stream *s, struct retain_scope *sc[SCOPES])
{
	sc[SCOPE_SESSION] = &s->hs->kept;
	sc[SCOPE_IDENTITY] = &s->hs->ident->kept;
	sc[SCOPE_ALL] = &s->hs->h->kept;
}

/* The oldest stream of the lowest class in sc, or NULL. */
static struct stream *victim(const struct retain_scope *sc)
{
	for (size_t c = 0; c < 3; c++) {
		if (sc->q[c].n > 0) {
			return sc->q[c].v[0];
		}
	}
	return NULL;
}

/* The first of s's scopes that need more bytes would overflow, or NULL. */
static struct retain_scope *over(struct retain_scope *sc[SCOPES], size_t need)
{
	for (size_t i = 0; i < SCOPES; i++) {
		if (sc[i]->bytes + need > sc[i]->max) {
			return sc[i];
		}
	}
	return NULL;
}

/* ---- streams ---- */

/* Which class of the top of this file the oldest event of s is in (1..3),
 * or 0 when it may not be dropped. */
static int drop_class(const struct stream *s)
{
	if (s->detached || s->head == NULL) {
		return 0;
	}
	if (s->reader != NULL) {
		return s->head->seq <= s->sent_seq ? 2 : 0;
	}
	return s->finished ? 1 : 3;
}

int retain_join(struct stream *s)
{
	struct retain_scope *sc[SCOPES];

	scopes_of(s, sc);
	for (size_t i = 0; i < SCOPES; i++) {
		if (scope_reserve(sc[i]) != 0) {
			return ZT_ERR_NOMEM;
		}
	}
	for (size_t i = 0; i < SCOPES; i++) {
		sc[i]->nstreams++;
	}
	return 0;
}

void retain_leave(struct stream *s)
{
	struct retain_scope *sc[SCOPES];

	s->detached = 1;
	retain_update(s);
	scopes_of(s, sc);
	for (size_t i = 0; i < SCOPES; i++) {
		sc[i]->nstreams--;
	}
}

void retain_update(struct stream *s)
{
	struct retain_scope *sc[SCOPES];
	int c = drop_class(s);

	if (c == s->cls) {
		return;
	}
	scopes_of(s, sc);
	for (size_t i = 0; i < SCOPES; i++) {
		if (s->cls != 0) {
			heap_remove(&sc[i]->q[s->cls - 1], sc[i]->slot, s);
		}
		if (c != 0) {
			heap_add(&sc[i]->q[c - 1], sc[i]->slot, s);
		}
	}
	s->cls = c;
}

void retain_drop_head(struct stream *s)
{
	struct retain_scope *sc[SCOPES];
	struct event *e = s->head;

	s->head = e->next;
	if (s->head == NULL) {
		s->tail = NULL;
	}
	s->nevents--;
	s->bytes -= e->size;
	scopes_of(s, sc);
	for (size_t i = 0; i < SCOPES; i++) {
		sc[i]->bytes -= e->size;
	}
	if (e->seq > s->dropped_through) {
		s->dropped_through = e->seq;
	}
	free(e);
	retain_update(s);
}

/* Drops events until need more bytes fit in every scope of s: 0, or
 * ZT_ERR_TOO_LARGE when a scope holds only events that connected readers
 * were not sent. */
static int make_room(struct stream *s, size_t need)
{
	struct retain_scope *sc[SCOPES], *full;
	struct stream *v;
	int c;

	scopes_of(s, sc);
	while ((full = over(sc, need)) != NULL) {
		if ((v = victim(full)) == NULL) {
			return ZT_ERR_TOO_LARGE;
		}
		/* The whole stream's worth of its class at once. */
		c = v->cls;
		while (v->cls == c && over(sc, need) != NULL) {
			retain_drop_head(v);
		}
	}
	return 0;
}

int retain_append(struct stream *s, struct event *e)
{
	struct retain_scope *sc[SCOPES];

	if (make_room(s, e->size) != 0) {
		return ZT_ERR_TOO_LARGE;
	}
	e->next = NULL;
	if (s->tail != NULL) {
		s->tail->next = e;
	} else {
		s->head = e;
	}
	s->tail = e;
	s->bytes += e->size;
	scopes_of(s, sc);
	for (size_t i = 0; i < SCOPES; i++) {
		sc[i]->bytes += e->size;
	}
	retain_update(s);
	if (++s->nevents > STREAM_MAX_EVENTS) {
		retain_drop_head(s);
	}
	return 0;
}
