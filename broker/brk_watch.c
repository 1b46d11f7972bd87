/*
 * brk_watch.c - the housekeeping thread.
 */
#include "broker/brk_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "broker/brk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "store/store.h"

struct chore {
	brk_chore_fn *fn;
	void *arg;
};

struct brk_watch {
	struct brk *b;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int started, stopping, stopped, kicked;
	struct chore chores[BRK_WATCH_CHORES];
	size_t n;
	int64_t data_version;
	int have_version;
};

struct brk_watch *brk_watch_new(struct brk *b)
{
	struct brk_watch *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	w->b = b;
	pthread_mutex_init(&w->mu, NULL);
	net_cond_init(&w->cv);
	return w;
}

int brk_watch_add(struct brk_watch *w, brk_chore_fn *fn, void *arg)
{
	int r = 0;

	pthread_mutex_lock(&w->mu);
	if (w->n >= BRK_WATCH_CHORES) {
		r = ZT_ERR_TOO_LARGE;
	} else {
		w->chores[w->n].fn = fn;
		w->chores[w->n].arg = arg;
		w->n++;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Whether another process wrote to the store since the last call. The
 * first call only learns the version. A store that cannot say counts as
 * changed, so revocation is checked rather than missed. */
static int store_changed(struct brk_watch *w)
{
	int64_t v = 0;

	if (w->b->store == NULL) {
		return 0;
	}
	if (store_data_version(w->b->store, &v) != 0) {
		return 1;
	}
	if (!w->have_version) {
		w->have_version = 1;
		w->data_version = v;
		return 0;
	}
	if (v != w->data_version) {
		w->data_version = v;
		return 1;
	}
	return 0;
}

/* One round: every chore, in the order they were added. */
static void round_run(struct brk_watch *w, int kicked)
{
	struct brk_watch_round rd;
	struct chore chores[BRK_WATCH_CHORES];
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	for (size_t i = 0; i < n; i++) {
		chores[i] = w->chores[i];
	}
	pthread_mutex_unlock(&w->mu);
	rd.now_ms = brk_now_ms();
	rd.store_changed = store_changed(w) || kicked;
	for (size_t i = 0; i < n; i++) {
		chores[i].fn(w->b, &rd, chores[i].arg);
	}
}

static void *watch_thread(void *arg)
{
	struct brk_watch *w = arg;
	struct timespec until;
	int kicked;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		net_mono_deadline(BRK_WATCH_PERIOD_MS, &until);
		while (!w->stopping && !w->kicked &&
		    pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT) {
			/* woken early for nothing: wait on */
		}
		if (w->stopping) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		kicked = w->kicked;
		w->kicked = 0;
		pthread_mutex_unlock(&w->mu);
		round_run(w, kicked);
	}
	return NULL;
}

int brk_watch_start(struct brk_watch *w)
{
	if (pthread_create(&w->th, NULL, watch_thread, w) != 0) {
		log_error("cannot start the housekeeping thread");
		return ZT_ERR_INTERNAL;
	}
	w->started = 1;
	return 0;
}

void brk_watch_kick(struct brk_watch *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->kicked = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void brk_watch_stop(struct brk_watch *w)
{
	if (w == NULL || w->stopped) {
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->started) {
		pthread_join(w->th, NULL);
	}
	w->stopped = 1;
}

void brk_watch_free(struct brk_watch *w)
{
	if (w == NULL) {
		return;
	}
	brk_watch_stop(w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
