/*
 * brk_desks.c - the warm desktop sessions' credentials (brk_desks.h).
 */
#include "broker/brk_desks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_dial.h"
#include "broker/brk_identity.h"
#include "broker/brk_watch.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "tunnel/desk.h"
#include "tunnel/tun.h"

struct entry {
	char actor[BRK_IDENTITY_KEY_MAX];
	char token_hash[STORE_HASH_HEX];
	char host[TUN_NAME_MAX + 1];
	int64_t last_ms;
};

struct brk_desks {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct entry e[BRK_DESKS_MAX];
	size_t n;
	int64_t checked_ms;
	int closing;                 /* close threads running */
};

/* One session to end, for its thread. */
struct closing {
	struct brk *b;
	struct entry e;
	const char *why;
};

struct brk_desks *brk_desks_new(void)
{
	struct brk_desks *d = calloc(1, sizeof(*d));

	if (d != NULL) {
		pthread_mutex_init(&d->mu, NULL);
		pthread_cond_init(&d->cv, NULL);
	}
	return d;
}

void brk_desks_free(struct brk_desks *d)
{
	if (d == NULL) {
		return;
	}
	/* A close thread dials through the broker: it ends before the broker. */
	pthread_mutex_lock(&d->mu);
	while (d->closing > 0) {
		pthread_cond_wait(&d->cv, &d->mu);
	}
	pthread_mutex_unlock(&d->mu);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void brk_desks_touch(struct brk_desks *d, const struct brk_identity *who, const char *host,
    int64_t now_ms)
{
	size_t i, lru = 0;

	if (d == NULL) {
		return;
	}
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n; i++) {
		if (strcmp(d->e[i].token_hash, who->token_hash) == 0 &&
		    strcmp(d->e[i].host, host) == 0) {
			break;
		}
		if (d->e[i].last_ms < d->e[lru].last_ms) {
			lru = i;
		}
	}
	if (i == d->n && d->n == BRK_DESKS_MAX) {
		i = lru;
	} else if (i == d->n) {
		d->n++;
	}
	snprintf(d->e[i].actor, sizeof(d->e[i].actor), "%s", who->actor);
	snprintf(d->e[i].token_hash, sizeof(d->e[i].token_hash), "%s", who->token_hash);
	snprintf(d->e[i].host, sizeof(d->e[i].host), "%s", host);
	d->e[i].last_ms = now_ms;
	pthread_mutex_unlock(&d->mu);
}

/* Asks the desktop's agent to end the session, and records it. Counted in
 * desks->closing (taken by close_later). */
static void *close_main(void *arg)
{
	struct closing *c = arg;
	struct desk_frame ans;
	char why[BRK_DIAL_WHY_MAX];
	cJSON *head = cJSON_CreateObject(), *d = cJSON_CreateObject();
	int fd = -1, r;

	memset(&ans, 0, sizeof(ans));
	cJSON_AddStringToObject(head, "op", "close");
	cJSON_AddStringToObject(head, "session", c->e.actor);
	r = brk_dial(c->b, c->e.host, BRK_DIAL_TIMEOUT_MS, NULL, NULL, &fd, why, sizeof(why));
	if (r == 0 && (r = desk_write(fd, head, NULL, 0)) == 0) {
		r = desk_read(fd, BRK_DIAL_TIMEOUT_MS, &ans);
	}
	if (r != 0) {
		log_warn("desktop session of %s on %s: cannot tell the agent to end it: %s",
		    c->e.actor, c->e.host, zt_strerror(r));
	}
	cJSON_AddStringToObject(d, "host", c->e.host);
	aud_record(c->b->store, NULL, brk_now_ms(), &(struct aud_event){
	    .type = "desktop.closed", .actor = c->e.actor, .source = "local",
	    .outcome = r == 0 ? "success" : "failure", .reason = c->why, .details = d });
	desk_frame_clear(&ans);
	cJSON_Delete(head);
	cJSON_Delete(d);
	if (fd >= 0) {
		close(fd);
	}
	pthread_mutex_lock(&c->b->desks->mu);
	c->b->desks->closing--;
	pthread_cond_broadcast(&c->b->desks->cv);
	pthread_mutex_unlock(&c->b->desks->mu);
	free(c);
	return NULL;
}

/* Caller holds the mutex. */
static void close_later(struct brk *b, const struct entry *e, const char *why)
{
	struct closing *c = calloc(1, sizeof(*c));
	pthread_t th;

	if (c == NULL) {
		return;
	}
	c->b = b;
	c->e = *e;
	c->why = why;
	b->desks->closing++;
	if (pthread_create(&th, NULL, close_main, c) != 0) {
		b->desks->closing--;
		free(c);
		return;
	}
	pthread_detach(th);
}

void brk_desks_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct brk_desks *d = b->desks;
	struct store_session s;
	int64_t now = net_mono_ms();
	size_t i = 0;

	(void)arg;
	if (d == NULL) {
		return;
	}
	pthread_mutex_lock(&d->mu);
	if (!rd->store_changed && now - d->checked_ms < BRK_DESKS_CHECK_MS) {
		pthread_mutex_unlock(&d->mu);
		return;
	}
	d->checked_ms = now;
	while (i < d->n) {
		const char *why = NULL;
		int r;

		if (now - d->e[i].last_ms >= BRK_DESKS_FORGET_MS) {
			why = "";
		} else if ((r = store_session_get(b->store, d->e[i].token_hash, b->now(), &s)) != 0 &&
		    r != ZT_ERR_DB && r != ZT_ERR_NOMEM) {
			why = brk_identity_refusal(r);
			close_later(b, &d->e[i], why);
		}
		if (why == NULL) {
			i++;
			continue;
		}
		d->e[i] = d->e[--d->n];
	}
	pthread_mutex_unlock(&d->mu);
}
