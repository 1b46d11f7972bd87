/*
 * brk_desks.h - the desktop sessions the agents keep warm for callers
 * (agent/agt_desk.h), as the broker knows them: which credential used
 * which desktop last, so that a session ends when its credential does.
 *
 * An agent keeps one RDP session per (identity, desktop) until it has been
 * idle a while. Every desktop tool call notes its caller's credential here
 * (brk_desks_touch). The housekeeping chore (brk_watch.h) looks at the
 * store when it changed, and every BRK_DESKS_CHECK_MS anyway: when a
 * credential no longer holds (logout, lock, removal, expiry), it sends the
 * desktop's agent {"op":"close"} for that identity, on a thread of its
 * own, and records "desktop.closed" with why. Entries unused for
 * BRK_DESKS_FORGET_MS are dropped (the agent ended the session long ago).
 * Thread-safe.
 */
#ifndef ZT_BRK_DESKS_H
#define ZT_BRK_DESKS_H

#include <stdint.h>

struct brk;
struct brk_desks;
struct brk_identity;
struct brk_watch_round;

#define BRK_DESKS_MAX 1024                    /* (credential, desktop) pairs kept */
#define BRK_DESKS_CHECK_MS 10000              /* the store is asked at least this often */
#define BRK_DESKS_FORGET_MS (25LL * 60 * 60 * 1000) /* beyond any agent's idle timeout (24h) */

struct brk_desks *brk_desks_new(void);
/* NULL is a no-op. */
void brk_desks_free(struct brk_desks *d);
/* who's credential called a tool on desktop host at now_ms. When the table
 * is full, the entry used least recently gives way. */
void brk_desks_touch(struct brk_desks *d, const struct brk_identity *who, const char *host,
    int64_t now_ms);
/* The chore (arg unused): ends the sessions of credentials that no longer
 * hold. */
void brk_desks_chore(struct brk *b, const struct brk_watch_round *rd, void *arg);

#endif
