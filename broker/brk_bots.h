/*
 * brk_bots.h - bot tokens: minting them within what the bot's roles allow,
 * rotating them, revoking one by its id, listing the live ones.
 *
 * A bot authenticates with a bearer token that an administrator mints; only
 * its hash is stored (a session row of kind STORE_BOT). The offline verbs
 * `ztbroker admin bots ...` call these functions and do the printing. Like
 * brk_admin.h's, they hand back the audit details of what they did for the
 * caller to write, and never audit, log or put in err a token: it exists
 * only in struct brk_bot_minted. err (errsz bytes) gets one sentence for
 * people on failure.
 */
#ifndef ZT_BRK_BOTS_H
#define ZT_BRK_BOTS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/crypto.h"
#include "store/store.h"

struct brk_roles;

#define BRK_BOT_TTL_DEFAULT 3600
#define BRK_BOT_TTL_MAX (7 * 86400)
#define BRK_BOT_ID_LEN 12  /* hex digits of the token's hash that name it */

struct brk_bot_minted {
	char token[CRYPTO_TOKEN_MAX];         /* the secret: crypto_wipe when done */
	char id[BRK_BOT_ID_LEN + 1];          /* what the audit shows */
	int64_t expires_at;
	int64_t ttl;                          /* granted, seconds */
	char capped_by[STORE_NAME_MAX + 1];   /* the role that shortened ttl, or "" */
	int revoked;                          /* rotation: earlier tokens revoked */
};

/* Mints a token for bot name, valid from now for ttl seconds (1 to
 * BRK_BOT_TTL_MAX) or for less when one of the bot's roles (from rc, over
 * st) sets a shorter options.max_session_ttl: then capped_by names that
 * role. The roles bound
 * every session of their holders; a longer --ttl is shortened rather than
 * refused so that `bots add` with the default ttl works for any role, and
 * the caller shows the true expiry and says why it is shorter. With
 * rotate, the bot's earlier live tokens are revoked in the same transaction
 * that stores the new one (m->revoked says how many): a leaked token ends
 * without the bot losing its access. On 0, *m holds the token (the caller
 * wipes it) and *details the owned audit details of "bot.token" (bot,
 * session id, expiry, ttl_capped_by, and with rotate "revoked"). On
 * failure m->token is wiped and nothing changed. ZT_ERR_INVALID (ttl out
 * of bounds), ZT_ERR_NOT_FOUND (no such bot), or another ZT_ERR_*. */
int brk_bots_token(struct store *st, struct brk_roles *rc, const char *name, int64_t now,
    int64_t ttl, int rotate, struct brk_bot_minted *m, cJSON **details, char *err,
    size_t errsz);
/* Revokes the one live token of bot name whose hash starts with id (12 to
 * 64 lower-case hex digits: the "session" of its audit events, the ID of
 * brk_bots_tokens). On 0, *details are the owned audit details of
 * "bot.revoke" (bot, session). ZT_ERR_INVALID (malformed id),
 * ZT_ERR_NOT_FOUND (no such bot, or no live token of it matches),
 * ZT_ERR_EXISTS (several match; nothing revoked), or another ZT_ERR_*. */
int brk_bots_revoke(struct store *st, const char *name, const char *id, int64_t now,
    cJSON **details, char *err, size_t errsz);
/* Calls fn for each live token of bot name at now, in hash order (see
 * store_session_each). 0, fn's non-zero value, ZT_ERR_NOT_FOUND (no such
 * bot; err says so) or another ZT_ERR_*. */
int brk_bots_tokens(struct store *st, const char *name, int64_t now,
    int (*fn)(const struct store_session *s, void *arg), void *arg, char *err, size_t errsz);

#endif
