/*
 * brk_work.c - a bounded pool of worker threads (brk_work.h).
 *
 * Threads are started when a job arrives and none is idle, up to the
 * bound, and then stay until the pool closes: the pools of the broker are
 * small (the HTTP handlers) or used in bursts (tool calls), and a thread
 * that waits costs only its stack.
 */
#include "broker/brk_work.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"

struct job {
	struct job *next;
	brk_job_fn *fn;
	void *arg;
	struct MHD_Connection *c; /* resumed after fn, or NULL */
};

struct brk_work {
	pthread_mutex_t mu;
	pthread_cond_t jobs_cv;   /* a job was queued, or the pool closed */
	pthread_cond_t done_cv;   /* a thread ended */
	size_t max_threads, max_queue;
	size_t threads, idle, queued, running;
	struct job *head, *tail;
	int closed;
};

static void *worker(void *arg)
{
	struct brk_work *w = arg;
	struct job *j;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->closed) {
			w->idle++;
			pthread_cond_wait(&w->jobs_cv, &w->mu);
			w->idle--;
		}
		if ((j = w->head) == NULL) {
			break; /* closed and nothing left */
		}
		w->head = j->next;
		if (w->head == NULL) {
			w->tail = NULL;
		}
		w->queued--;
		w->running++;
		pthread_mutex_unlock(&w->mu);
		j->fn(j->arg);
		if (j->c != NULL) {
			/* Last: after this the connection may be gone. */
			MHD_resume_connection(j->c);
		}
		free(j);
		pthread_mutex_lock(&w->mu);
		w->running--;
	}
	w->threads--;
	pthread_cond_broadcast(&w->done_cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct brk_work *brk_work_new(size_t threads, size_t queue)
{
	struct brk_work *w;

	if (threads == 0 || (w = calloc(1, sizeof(*w))) == NULL) {
		return NULL;
	}
	w->max_threads = threads;
	w->max_queue = queue;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->jobs_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	return w;
}

/* Makes sure a thread will take one more job: 0, or the refusal. Caller
 * holds w->mu. */
static int make_room(struct brk_work *w)
{
	pthread_attr_t attr;
	pthread_t t;
	int started;

	/* At most max_threads jobs run and max_queue more wait. */
	if (w->closed || w->running + w->queued >= w->max_threads + w->max_queue) {
		return ZT_ERR_RATE_LIMITED;
	}
	if (w->queued < w->idle || w->threads >= w->max_threads) {
		return 0; /* an idle thread takes it, or it waits for one */
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&t, &attr, worker, w) == 0;
	pthread_attr_destroy(&attr);
	if (started) {
		w->threads++;
	} else if (w->threads == 0) {
		log_error("cannot start a worker thread");
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static int submit(struct brk_work *w, struct MHD_Connection *c, brk_job_fn *fn, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	j->fn = fn;
	j->arg = arg;
	j->c = c;
	pthread_mutex_lock(&w->mu);
	if ((r = make_room(w)) == 0) {
		/* Suspended before the job is visible to a worker, which resumes
		 * it; under the lock, so close() cannot slip in between. */
		if (c != NULL) {
			MHD_suspend_connection(c);
		}
		if (w->tail != NULL) {
			w->tail->next = j;
		} else {
			w->head = j;
		}
		w->tail = j;
		w->queued++;
		pthread_cond_signal(&w->jobs_cv);
		j = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	free(j);
	return r;
}

int brk_work_run(struct brk_work *w, brk_job_fn *fn, void *arg)
{
	return submit(w, NULL, fn, arg);
}

int brk_work_suspend(struct brk_work *w, struct MHD_Connection *c, brk_job_fn *fn, void *arg)
{
	return submit(w, c, fn, arg);
}

void brk_work_close(struct brk_work *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->closed = 1;
	pthread_cond_broadcast(&w->jobs_cv);
	while (w->threads > 0) {
		pthread_cond_wait(&w->done_cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

void brk_work_free(struct brk_work *w)
{
	if (w == NULL) {
		return;
	}
	brk_work_close(w);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->jobs_cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
