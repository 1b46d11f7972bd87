/*
 * brk_quota.h - how many of a thing each key holds at once.
 *
 * One mechanism for every "at most N at once per X" of the broker: the
 * unauthenticated connections of one client address, the TLS handshakes in
 * progress from one address on the tunnel port, the MCP sessions of one
 * identity, the password verifications running at once (one key for all).
 * A quota has a bound per key and a bound for all keys together, so that
 * neither one key nor many keys can take more than their share, and its
 * memory is bounded by the total (a key holding nothing is forgotten).
 * Thread-safe.
 */
#ifndef ZT_BRK_QUOTA_H
#define ZT_BRK_QUOTA_H

#include <stddef.h>

#define BRK_QUOTA_KEY_MAX 127 /* bytes of a key; longer keys are refused */

struct brk_quota;

/* A quota allowing per_key units to one key and total units to all keys
 * together (1 <= per_key <= total). NULL on ENOMEM or bad bounds. */
struct brk_quota *brk_quota_new(size_t per_key, size_t total);
void brk_quota_free(struct brk_quota *q);

/* Takes one unit for key: 0, or ZT_ERR_RATE_LIMITED when key already holds
 * per_key units (this key is at its share; when the total is reached too,
 * this is the answer), ZT_ERR_BUSY when all keys together hold total (the
 * key is not to blame), ZT_ERR_INVALID for a key that is empty or longer
 * than BRK_QUOTA_KEY_MAX, ZT_ERR_NOMEM. Nothing is taken on error. Callers
 * that need not tell the refusals apart treat any non-zero as one. */
int brk_quota_take(struct brk_quota *q, const char *key);
/* Gives back one unit that brk_quota_take() gave key. A key holding
 * nothing is a no-op (and logged: it is a bug). */
void brk_quota_give(struct brk_quota *q, const char *key);
/* Units key holds now, and units all keys hold. */
size_t brk_quota_held(struct brk_quota *q, const char *key);
size_t brk_quota_total(struct brk_quota *q);

#endif
