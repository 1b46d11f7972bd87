/*
 * brk_bots.h - bot tokens: minting them within what the bot's roles allow.
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
#include "common/store.h"

#define BRK_BOT_TTL_DEFAULT 3600
#define BRK_BOT_TTL_MAX (7 * 86400)
#define BRK_BOT_ID_LEN 12  /* hex digits of the token's hash that name it */

struct brk_bot_minted {
	char token[CRYPTO_TOKEN_MAX];         /* the secret: crypto_wipe when done */
	char id[BRK_BOT_ID_LEN + 1];          /* what the audit shows */
	int64_t expires_at;
	int64_t ttl;                          /* granted, seconds */
	char capped_by[STORE_NAME_MAX + 1];   /* the role that shortened ttl, or "" */
};

/* Mints a token for bot name, valid from now for ttl seconds (1 to
 * BRK_BOT_TTL_MAX) or for less when one of the bot's roles sets a shorter
 * options.max_session_ttl: then capped_by names that role. The roles bound
 * every session of their holders; a longer --ttl is shortened rather than
 * refused so that `bots add` with the default ttl works for any role, and
 * the caller shows the true expiry and says why it is shorter. On 0, *m
 * holds the token (the caller wipes it) and *details the owned audit
 * details of "bot.token" (bot, session id, expiry, ttl_capped_by). On
 * failure m->token is wiped. ZT_ERR_INVALID (ttl out of bounds),
 * ZT_ERR_NOT_FOUND (no such bot), or another ZT_ERR_*. */
int brk_bots_token(struct store *st, const char *name, int64_t now, int64_t ttl,
    struct brk_bot_minted *m, cJSON **details, char *err, size_t errsz);

#endif
