/*
 * brk_watch.h - the broker's housekeeping: one thread that runs the
 * registered chores once a second, and at once when something in this
 * process kicks it.
 *
 * Each round tells the chores whether the store may have changed: another
 * process wrote to it (`ztbroker admin users lock` while the broker
 * serves, seen through store_data_version()), or code in this process
 * kicked the watch after a change that running work must notice (a
 * logout, an agent locked over the API). Chores that enforce revocation
 * (end the MCP sessions of a locked identity, disconnect a locked agent)
 * look at the store when it changed and now and then anyway (expiry needs
 * no write); chores that flush (aggregated audit summaries) run every
 * round. What a chore holds at stop is its owner's to finish.
 *
 * Chores run on the watch's thread, one after another; they must not
 * block for long. Thread-safe.
 */
#ifndef ZT_BRK_WATCH_H
#define ZT_BRK_WATCH_H

#include <stdint.h>

#define BRK_WATCH_PERIOD_MS 1000
#define BRK_WATCH_CHORES 16

struct brk;
struct brk_watch;

struct brk_watch_round {
	int64_t now_ms;      /* wall clock, unix milliseconds */
	int store_changed;   /* another process wrote, or a kick since the last round */
};

typedef void brk_chore_fn(struct brk *b, const struct brk_watch_round *round, void *arg);

struct brk_watch *brk_watch_new(struct brk *b);
/* Adds a chore (before or after start). 0 or ZT_ERR_TOO_LARGE past
 * BRK_WATCH_CHORES. */
int brk_watch_add(struct brk_watch *w, brk_chore_fn *fn, void *arg);
/* Starts the thread: 0 or ZT_ERR_INTERNAL. */
int brk_watch_start(struct brk_watch *w);
/* Asks for a round now, with store_changed set. NULL is a no-op. */
void brk_watch_kick(struct brk_watch *w);
/* Stops the thread: no round runs after it returns. NULL is a no-op. */
void brk_watch_stop(struct brk_watch *w);
/* Stops if needed and frees. NULL is a no-op. */
void brk_watch_free(struct brk_watch *w);

#endif
