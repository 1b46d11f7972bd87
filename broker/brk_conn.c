/*
 * brk_conn.c - connection accounting and request deadlines (brk_conn.h).
 *
 * One record per connection, on a list that the expiry scan walks; the
 * shares are two brk_quota tables, one keyed by address, one by identity.
 */
#include "broker/brk_conn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "broker/brk_quota.h"
#include "common/log.h"
#include "common/net.h"

struct rec {
	struct rec *prev, *next;
	struct brk_conns *t;
	int fd;
	char addr[64];             /* the client's address, for the audit */
	char key[NET_ADDR_KEY_MAX]; /* its share's key (net_addr_key: an IPv6 /64) */
	char identity[BRK_QUOTA_KEY_MAX + 1]; /* "" while counted by address */
	int counted;               /* holds a unit of addr's share */
	int shut;                  /* shut down by us */
	enum brk_conn_phase phase;
	int64_t deadline;          /* net_mono_ms(); 0: none */
};

/* An event for the audit, reported from the housekeeping thread: the
 * event-loop threads that see it must not write. */
struct event {
	char addr[64];
	const char *outcome, *reason;
};

/* Events kept per round; more in one second are not worth more than a
 * count (the aggregated audit would only count them as well). */
#define EVENTS_MAX 32

struct brk_conns {
	pthread_mutex_t mu;
	struct event events[EVENTS_MAX];
	size_t nevents, dropped;
	struct rec *head;
	int64_t head_ms, body_ms;
	struct brk_quota *by_addr, *by_identity;
	brk_conn_event_fn *event;
	void *event_arg;
};

struct brk_conns *brk_conns_new(size_t total, int64_t head_ms, int64_t body_ms,
    brk_conn_event_fn *event, void *event_arg)
{
	struct brk_conns *t;
	size_t per_addr = total < BRK_CONN_UNAUTH_PER_ADDR ? total : BRK_CONN_UNAUTH_PER_ADDR;
	size_t per_id = total < BRK_CONN_PER_IDENTITY ? total : BRK_CONN_PER_IDENTITY;

	if (total == 0 || head_ms <= 0 || body_ms <= 0 || (t = calloc(1, sizeof(*t))) == NULL) {
		return NULL;
	}
	t->head_ms = head_ms;
	t->body_ms = body_ms;
	t->event = event;
	t->event_arg = event_arg;
	t->by_addr = brk_quota_new(per_addr, total);
	t->by_identity = brk_quota_new(per_id, total);
	if (t->by_addr == NULL || t->by_identity == NULL) {
		brk_quota_free(t->by_addr);
		brk_quota_free(t->by_identity);
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void brk_conns_free(struct brk_conns *t)
{
	struct rec *r, *n;

	if (t == NULL) {
		return;
	}
	for (r = t->head; r != NULL; r = n) {
		n = r->next;
		free(r);
	}
	brk_quota_free(t->by_addr);
	brk_quota_free(t->by_identity);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Keeps an event for the next brk_conns_expire(). Caller holds t->mu. */
static void note(struct brk_conns *t, const struct rec *r, const char *outcome,
    const char *reason)
{
	struct event *e;

	if (t->nevents >= EVENTS_MAX) {
		t->dropped++;
		return;
	}
	e = &t->events[t->nevents++];
	snprintf(e->addr, sizeof(e->addr), "%s", r->addr);
	e->outcome = outcome;
	e->reason = reason;
}

/* Sets r's deadline for phase. Caller holds t->mu. */
static void set_phase(struct brk_conns *t, struct rec *r, enum brk_conn_phase phase)
{
	r->phase = phase;
	switch (phase) {
	case BRK_CONN_HEAD: r->deadline = net_mono_ms() + t->head_ms; break;
	case BRK_CONN_BODY: r->deadline = net_mono_ms() + t->body_ms; break;
	default: r->deadline = 0; break;
	}
}

static void started(struct brk_conns *t, struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *ci;
	struct rec *r = calloc(1, sizeof(*r));
	int refused;

	if (r == NULL) {
		return; /* not counted: rare, and the daemon's limit still holds */
	}
	r->t = t;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->fd = ci != NULL ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	net_addr_str(ci != NULL ? ci->client_addr : NULL, r->addr, sizeof(r->addr));
	net_addr_key(r->addr, r->key, sizeof(r->key));
	refused = brk_quota_take(t->by_addr, r->key) != 0;
	r->counted = !refused;
	pthread_mutex_lock(&t->mu);
	set_phase(t, r, BRK_CONN_HEAD);
	r->next = t->head;
	if (t->head != NULL) {
		t->head->prev = r;
	}
	t->head = r;
	if (refused && r->fd >= 0) {
		/* Past its address's share: ended before it costs a handshake.
		 * The descriptor is open: we are in its STARTED callback. */
		shutdown(r->fd, SHUT_RDWR);
		r->shut = 1;
	}
	if (refused) {
		note(t, r, "refused", "too many unauthenticated connections from this address");
	}
	pthread_mutex_unlock(&t->mu);
	*ctx = r;
}

static void closed(struct brk_conns *t, void **ctx)
{
	struct rec *r = *ctx;

	if (r == NULL) {
		return;
	}
	pthread_mutex_lock(&t->mu);
	if (r->prev != NULL) {
		r->prev->next = r->next;
	} else {
		t->head = r->next;
	}
	if (r->next != NULL) {
		r->next->prev = r->prev;
	}
	pthread_mutex_unlock(&t->mu);
	if (r->identity[0] != '\0') {
		brk_quota_give(t->by_identity, r->identity);
	} else if (r->counted) {
		brk_quota_give(t->by_addr, r->key);
	}
	free(r);
	*ctx = NULL;
}

void brk_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		started(cls, c, socket_context);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		closed(cls, socket_context);
	}
}

size_t brk_conns_expire(struct brk_conns *t, int64_t now_ms)
{
	struct event ev[EVENTS_MAX];
	size_t n = 0, nev, dropped;

	pthread_mutex_lock(&t->mu);
	for (struct rec *r = t->head; r != NULL; r = r->next) {
		if (r->shut || r->deadline == 0 || now_ms < r->deadline || r->fd < 0) {
			continue;
		}
		/* Registered, so libmicrohttpd has not closed the descriptor. */
		shutdown(r->fd, SHUT_RDWR);
		r->shut = 1;
		n++;
		note(t, r, "timeout", r->phase == BRK_CONN_HEAD ?
		    "request head not received in time" : "request body not received in time");
	}
	nev = t->nevents;
	memcpy(ev, t->events, nev * sizeof(ev[0]));
	dropped = t->dropped;
	t->nevents = 0;
	t->dropped = 0;
	pthread_mutex_unlock(&t->mu);
	/* The hook writes the audit: not under the lock. */
	for (size_t i = 0; i < nev && t->event != NULL; i++) {
		t->event(t->event_arg, ev[i].addr, ev[i].outcome, ev[i].reason);
	}
	if (n > 0 || dropped > 0) {
		log_info("http: ended %zu connection(s) past their request deadline; %zu more "
		    "refusals or timeouts not audited one by one", n, dropped);
	}
	return n;
}

static struct rec *rec_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

void brk_conn_phase(struct MHD_Connection *c, enum brk_conn_phase phase)
{
	struct rec *r = rec_of(c);

	if (r == NULL) {
		return;
	}
	pthread_mutex_lock(&r->t->mu);
	set_phase(r->t, r, phase);
	pthread_mutex_unlock(&r->t->mu);
}

void brk_conn_authenticated(struct MHD_Connection *c, const char *identity)
{
	struct rec *r = rec_of(c);
	struct brk_conns *t;

	/* Only the connection's own thread (or a job while it is suspended)
	 * calls this, so r->identity cannot change under us. */
	if (r == NULL || r->identity[0] != '\0' || identity == NULL || identity[0] == '\0') {
		return;
	}
	t = r->t;
	if (brk_quota_take(t->by_identity, identity) != 0) {
		return; /* the identity is at its share: the address keeps it */
	}
	if (r->counted) {
		brk_quota_give(t->by_addr, r->key);
	}
	pthread_mutex_lock(&t->mu);
	snprintf(r->identity, sizeof(r->identity), "%s", identity);
	r->counted = 0;
	pthread_mutex_unlock(&t->mu);
}
