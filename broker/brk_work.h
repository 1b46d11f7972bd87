/*
 * brk_work.h - worker threads for work that an HTTP event loop must not do
 * itself.
 *
 * libmicrohttpd serves the HTTPS port from a few event-loop threads, each
 * with thousands of connections; a handler that blocks one of them (scrypt
 * in /v1/login, an fsync'd audit write, an admin verb, a tool call that
 * runs for minutes) stalls every connection of that thread. Such work runs
 * here instead: a pool starts up to `threads` threads as work arrives and
 * keeps at most `queue` jobs waiting beyond those; past that a job is
 * refused at once (the caller answers 503 with Retry-After) rather than
 * queued without bound.
 *
 * brk_work_suspend() is the pattern for a request: the access handler
 * suspends its connection, the job runs on a worker, and the worker
 * resumes the connection when the job returns, so that libmicrohttpd
 * calls the access handler again to send what the job prepared.
 *
 * Thread-safe. A closed pool refuses new jobs; the ones it holds still
 * run, so that every suspended connection is resumed before the daemon
 * stops (libmicrohttpd must not be stopped with suspended connections).
 */
#ifndef ZT_BRK_WORK_H
#define ZT_BRK_WORK_H

#include <stddef.h>

struct MHD_Connection;
struct brk_work;

typedef void brk_job_fn(void *arg);

/* A pool of at most threads threads (>= 1) and queue waiting jobs. NULL
 * on ENOMEM or a bad bound. */
struct brk_work *brk_work_new(size_t threads, size_t queue);
/* Runs fn(arg) on a worker: 0, or ZT_ERR_RATE_LIMITED when every thread
 * is busy and the queue is full (or the pool is closed), ZT_ERR_NOMEM
 * when no thread could be started; fn is then not called. */
int brk_work_run(struct brk_work *w, brk_job_fn *fn, void *arg);
/* From the access handler of connection c: suspends c, runs fn(arg) on a
 * worker and resumes c when fn returned. 0, or an error as
 * brk_work_run()'s with c left as it was. The daemon must have been
 * started with MHD_ALLOW_SUSPEND_RESUME; fn must not touch c's response
 * state (it runs on another thread): it prepares, the access handler
 * queues. */
int brk_work_suspend(struct brk_work *w, struct MHD_Connection *c, brk_job_fn *fn, void *arg);
/* Refuses further jobs, then waits until every job it took has run. */
void brk_work_close(struct brk_work *w);
/* Closes if needed and frees. NULL is a no-op. */
void brk_work_free(struct brk_work *w);

#endif
