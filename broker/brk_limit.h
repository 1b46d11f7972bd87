/*
 * brk_limit.h - counting failed logins per user and per source address.
 *
 * A key ("u:alice", "a:192.0.2.7") that collects max_failures failures
 * within window_s seconds is blocked for block_s seconds. The table is
 * bounded (BRK_LIMIT_SLOTS keys); when it is full, the stalest unblocked
 * entry is reused, so an attacker spraying addresses cannot grow memory or
 * evict a live block. Thread-safe.
 */
#ifndef ZT_BRK_LIMIT_H
#define ZT_BRK_LIMIT_H

#include <stdint.h>

#define BRK_LIMIT_SLOTS 4096
#define BRK_LIMIT_KEY_MAX 96

struct brk_limit;

struct brk_limit *brk_limit_new(void);
void brk_limit_free(struct brk_limit *l);

/* 0 if key may try now, else ZT_ERR_RATE_LIMITED with *retry_after_s set. */
int brk_limit_check(struct brk_limit *l, const char *key, int64_t now, int64_t *retry_after_s);
/* Records a failure. Returns 1 if this failure started a block (so the
 * caller writes a lockout audit event), else 0. */
int brk_limit_fail(struct brk_limit *l, const char *key, int max_failures, int64_t window_s,
    int64_t block_s, int64_t now);
/* Forgets key's failures (after a successful login). */
void brk_limit_clear(struct brk_limit *l, const char *key);

#endif
