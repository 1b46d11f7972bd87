/*
 * brk_sshpool.h - warm SSH connections, so that a call does not pay a
 * tunnel stream and an SSH handshake each time.
 *
 * A connection serves one (credential, host, login): the token hash of the
 * identity that opened it, so nothing of one identity (or of one of its
 * tokens) is ever reused by another. It carries the certificate minted for
 * it (key id "zt:<identity>:<conn id>") and lives no longer than that
 * certificate (SSH_CONN_CERT_AFTER after it was minted, less a margin):
 * sshd checks a certificate only at login, so zt retires the connection
 * itself. Every call on it is still decided and audited on its own (the
 * gate); the pool only saves the handshake.
 *
 * A call takes an idle connection for its key (brk_sshpool_take) or opens
 * one and adds it (brk_sshpool_add), both leaving it busy: one call at a
 * time on a connection (libssh sessions are not thread-safe; calls at once
 * for the same key open more connections). It gives it back after
 * (brk_sshpool_give): kept idle while alive and young enough, else closed.
 * brk_sshpool_sweep closes idle connections that expired, whose host went
 * offline, or whose credential no longer holds; when the roles change, all
 * of them. A busy connection is closed when its call gives it back.
 * A NULL pool pools nothing: take finds none, add makes a connection of
 * the call's own, give closes it. Thread-safe.
 */
#ifndef ZT_BRK_SSHPOOL_H
#define ZT_BRK_SSHPOOL_H

#include <stdint.h>

#include "store/store.h"
#include "tunnel/tun.h"

struct ssh_conn;
struct brk_sshpool;

/* A connection is retired at the latest this long before its certificate
 * expires (SSH_CONN_CERT_AFTER after it was minted). */
#define BRK_SSHPOOL_MARGIN_S 15
#define BRK_SSH_CONN_TTL_MAX_S (120 - BRK_SSHPOOL_MARGIN_S)
/* Idle connections kept at most, in all (the oldest goes first). */
#define BRK_SSHPOOL_IDLE_MAX 256
#define BRK_SSHPOOL_ID_LEN 16    /* hex digits of a connection id */

struct brk_pooled {
	char token_hash[STORE_HASH_HEX];
	char host[STORE_NAME_MAX + 1];
	char login[STORE_NAME_MAX + 1];
	char id[BRK_SSHPOOL_ID_LEN + 1];
	char actor[STORE_ACTOR_MAX];     /* whose it is, for the audit */
	/* The host key pinned when it opened: a resource whose approved key
	 * changed since (another sshd behind the name) gets none of it. */
	char host_key[TUN_HOSTKEY_MAX + 1];
	struct ssh_conn *conn;
	int fd;                    /* the tunnel stream it runs over (owned) */
	int64_t expires;           /* retire at (unix seconds) */
	int64_t generation;        /* the role generation it was opened under */
	int uses;                  /* calls it served, this one included */
	/* Inside the pool. */
	int busy;
	struct brk_pooled *next;
};

struct brk_sshpool *brk_sshpool_new(void);
/* Closes every connection (none may be busy). NULL is a no-op. */
void brk_sshpool_free(struct brk_sshpool *p);

/* An idle, live, young connection for the key, now busy, or NULL. */
struct brk_pooled *brk_sshpool_take(struct brk_sshpool *p, const char *token_hash,
    const char *host, const char *login, int64_t generation, int64_t now);
/* A connection just opened (conn over fd, both taken) for actor's
 * credential, busy, to be retired at retire_at (unix seconds). NULL on
 * ENOMEM (then conn and fd are closed). */
struct brk_pooled *brk_sshpool_add(struct brk_sshpool *p, const char *token_hash,
    const char *actor, const char *host, const char *login, const char *id,
    struct ssh_conn *conn, int fd, int64_t retire_at, int64_t generation);
/* Gives c back after a call: kept idle if alive, not discarded and younger
 * than its expiry less the margin; else closed. */
void brk_sshpool_give(struct brk_sshpool *p, struct brk_pooled *c, int discard, int64_t now);

/* Takes c (busy: from take or add) out of the pool for good: its caller
 * alone holds it from now on, past the pool's expiry and sweeps (a
 * background job's connection, brk_jobs.h, lives up to the job's limit),
 * and closes it with brk_sshpool_give(NULL, c, 1, now). */
void brk_sshpool_detach(struct brk_sshpool *p, struct brk_pooled *c);

/* What a sweep asks of an idle connection: NULL to keep it, else why it
 * must close ("host offline"). */
typedef const char *brk_sshpool_keep_fn(const struct brk_pooled *c, void *arg);
/* Told of each connection a sweep closes, and why, before it closes. */
typedef void brk_sshpool_closed_fn(const struct brk_pooled *c, const char *why, void *arg);
/* Closes the idle connections that expired ("expired") or died
 * ("connection lost"), and those keep() refuses (keep may be NULL),
 * telling closed() (may be NULL) of each; returns how many it closed.
 * keep and closed are called without the pool's lock (they may use the
 * store). */
int brk_sshpool_sweep(struct brk_sshpool *p, int64_t now, brk_sshpool_keep_fn *keep,
    brk_sshpool_closed_fn *closed, void *arg);
/* 1 (and remembered) when force is set or every seconds passed since the
 * last time it said 1: for sweeps that ask more than expiry. */
int brk_sshpool_due(struct brk_sshpool *p, int64_t now, int64_t every, int force);
/* Idle and busy connections now, for tests and logs. */
void brk_sshpool_count(struct brk_sshpool *p, int *idle, int *busy);

#endif
