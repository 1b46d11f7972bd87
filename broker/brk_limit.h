/*
 * brk_limit.h - counting failures per key, and blocking a key that fails
 * too often.
 *
 * A counter (struct store_fail_count) collects failures within a window;
 * once rule->max_failures are counted within rule->window_s seconds, the
 * key is blocked for rule->block_s seconds. An attempt that costs the
 * broker something (a password check) is counted before the work, checked
 * and counted in one step (BRK_LIMIT_TAKE), so that attempts running at
 * once cannot all pass the check; its outcome then settles the count:
 * a failure keeps it and starts the block once the count is full
 * (BRK_LIMIT_FAIL), an attempt that was not made after all gives it back
 * (BRK_LIMIT_GIVE), a success of the key's owner clears it
 * (BRK_LIMIT_CLEAR). Attempts in flight count as failures until they
 * settle, so under concurrency a block can start a little early, never
 * late.
 *
 * brk_limit_count() is that step on one counter, pure: the store applies
 * it to a user's own row inside a transaction (store_user_login_update), so
 * a known user's count is never pushed out by other traffic and survives a
 * restart. A table (struct brk_limit) applies it to in-memory counters of
 * one purpose, with one rule: failed logins per address, failed logins per
 * unknown user name, bad bearer tokens per address each have a table of
 * their own (struct brk_limits), so one kind of traffic cannot push out
 * another's counters. A table holds BRK_LIMIT_SLOTS keys. A new key takes
 * a free slot, or the stalest one whose count has lapsed (no failure
 * within the window, no block). When every slot holds a live count, the
 * table does as it was made to (enum brk_limit_full): an address table
 * reuses the stalest slot that is not blocking (a running block is never
 * evicted; when every slot blocks, a new key is not counted), while the
 * table of unknown user names never forgets a live count, since a name
 * whose count was forgotten could fail more often than a real one, which
 * would tell the names apart: its new keys share one overflow counter
 * (they may block sooner than a real name would, never later). Tables
 * are thread-safe.
 */
#ifndef ZT_BRK_LIMIT_H
#define ZT_BRK_LIMIT_H

#include <stdint.h>

#include "store/store.h"

#define BRK_LIMIT_SLOTS 4096
#define BRK_LIMIT_KEY_MAX 96  /* bytes of a key kept; longer keys are cut */

/* Failed logins: per user and per source address within a window, then a
 * block of the same length. */
#define BRK_LOGIN_MAX_USER 5
#define BRK_LOGIN_MAX_ADDR 20
#define BRK_LOGIN_WINDOW_S 900
#define BRK_LOGIN_BLOCK_S 900

/* Password checks (scrypt, ~100 ms and 32 MiB each) running at once, for
 * logins and enrolments together; one more is answered 503 at once, with
 * this Retry-After, rather than queued. */
#define BRK_PW_CHECKS_MAX 4
#define BRK_PW_BUSY_RETRY_S 1

/* Bad bearer tokens from one address: past this many within the window,
 * further bad tokens from it get 429 for the quiet period (whose start is
 * audited). Valid tokens always pass. */
#define BRK_TOKEN_FAIL_MAX_ADDR 20
#define BRK_TOKEN_FAIL_WINDOW_S 60
#define BRK_TOKEN_FAIL_QUIET_S 300

struct brk_limit_rule {
	int max_failures;  /* >= 1 */
	int64_t window_s;
	int64_t block_s;
};

/* The rule of a user name's failed logins, known or not. */
extern const struct brk_limit_rule brk_limit_login_user;

enum brk_limit_op {
	BRK_LIMIT_TAKE,  /* check and count an attempt: 0, or ZT_ERR_RATE_LIMITED
	                  * (blocked, or max_failures attempts in flight) with
	                  * *retry_after_s set; nothing is counted then */
	BRK_LIMIT_FAIL,  /* the counted attempt failed: 1 if this started the
	                  * block (audit it), else 0 */
	BRK_LIMIT_GIVE,  /* the counted attempt was not made (or succeeded for a
	                  * key shared by others, an address): its count back */
	BRK_LIMIT_CLEAR, /* a success of the key's owner: the failures are
	                  * forgotten; a running block stays */
};

/* Applies op to counter c under rule at now (unix seconds). retry_after_s
 * may be NULL for ops other than TAKE. Returns as the op says. */
int brk_limit_count(struct store_fail_count *c, const struct brk_limit_rule *rule,
    enum brk_limit_op op, int64_t now, int64_t *retry_after_s);

struct brk_limit;

/* What a table does with a new key when every slot holds a live count. */
enum brk_limit_full {
	BRK_LIMIT_EVICT,  /* reuse the stalest slot that is not blocking */
	BRK_LIMIT_SHARE,  /* count it under the table's one overflow counter */
};

/* A table of counters under one rule. NULL on ENOMEM or a bad rule. */
struct brk_limit *brk_limit_new(const struct brk_limit_rule *rule, enum brk_limit_full full);
void brk_limit_free(struct brk_limit *l);
/* Applies op to key's counter (as brk_limit_count). An op other than TAKE
 * on a key the table does not hold is a no-op returning 0 (BRK_LIMIT_EVICT)
 * or applies to the overflow counter, where its TAKE was counted
 * (BRK_LIMIT_SHARE). */
int brk_limit_apply(struct brk_limit *l, const char *key, enum brk_limit_op op, int64_t now,
    int64_t *retry_after_s);

struct brk_quota;

/* The broker's limiters, one per purpose. A known user's failed logins
 * are not here: they live in the user's row (store_user_login_update). */
struct brk_limits {
	struct brk_limit *login_addr;  /* failed logins per source address */
	struct brk_limit *login_name;  /* failed logins per unknown user name, which
	                                * lock out like known ones so a lockout
	                                * does not tell which names exist
	                                * (BRK_LIMIT_SHARE) */
	struct brk_limit *token_addr;  /* bad bearer tokens per source address */
	struct brk_quota *pw_checks;   /* password checks running at once (one key) */
};

/* Makes every limiter with the rules above: 0 or ZT_ERR_NOMEM (then
 * nothing is left allocated). */
int brk_limits_init(struct brk_limits *ls);
/* Frees what init made; a zeroed struct is a no-op. */
void brk_limits_fini(struct brk_limits *ls);

#endif
