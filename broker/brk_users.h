/*
 * brk_users.h - users (and bots) as administrators manage them: adding one, its
 * invite (a first enrolment, or a reset that clears the credentials),
 * locking, unlocking, removing, and the state a listing shows.
 *
 * The offline verbs `ztbroker admin users ...` and the API's /v1/users
 * endpoints (brk_apiadmin.c) call these functions and do the printing or
 * the answering; nothing here prints, logs or audits. Like brk_admin.h's,
 * each hands back the audit details of what it did for the caller to
 * write, and never puts an invite in the details, a log line or err: it
 * exists only in struct brk_invite. err (errsz bytes) gets one sentence for
 * people on failure; ZT_ERR_INVALID always means the caller's input was
 * wrong.
 */
#ifndef ZT_BRK_USERS_H
#define ZT_BRK_USERS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "store/store.h"

#define BRK_ENROL_COMMAND_MAX 1024  /* bytes of brk_users_enrol_command's line */

/* 1 if roles is a comma-separated list of valid names ("ops,oncall"):
 * what users and bots are given. */
int brk_users_roles_valid(const char *roles);

/* What a listing says of u at time now: "locked", "blocked" (failed
 * logins), "active" (enrolled) or "invited". */
const char *brk_users_state(const struct store_user *u, int64_t now);

/* Adds user name with roles, or with kind STORE_BOT bot name (whose
 * tokens brk_bots.h mints). On 0, *details are the owned audit details of
 * "user.add" ({user, roles}) or "bot.add" ({bot, roles}). ZT_ERR_INVALID
 * (a bad name or roles), ZT_ERR_EXISTS (a user or bot has the name), or
 * another ZT_ERR_*. */
int brk_users_add(struct store *st, enum store_principal kind, const char *name,
    const char *roles, int64_t now, cJSON **details, char *err, size_t errsz);

struct brk_invite {
	char token[CRYPTO_TOKEN_MAX];   /* the secret: crypto_wipe when done */
	char pin[CA_PIN_LEN + 1];       /* the broker CA's pin */
	int64_t expires_at;
	int revoked;                    /* a reset: sessions revoked */
};

/* Mints a one-time invite for user name, valid BRK_INVITE_TTL from now;
 * the user's earlier invites stop working. With reset, the account is
 * reset in the same transaction that stores the invite (store_user_reset:
 * password and TOTP cleared, sessions revoked); without, an enrolled user
 * is refused, since the invite would let its holder replace both. On 0,
 * *inv holds the invite (the caller wipes it) and *details the owned audit
 * details of "user.invite" or "user.reset" ({user}, and for a reset
 * sessions_revoked). On failure inv->token is wiped. ZT_ERR_INVALID (not a
 * valid name), ZT_ERR_NOT_FOUND (no such user), ZT_ERR_EXISTS (enrolled,
 * without reset; err names the reset), or another ZT_ERR_*. */
int brk_users_invite(struct store *st, struct ca *ca, const char *name, int reset,
    int64_t now, struct brk_invite *inv, cJSON **details, char *err, size_t errsz);

/* The user's enrolment command for inv at the broker's URL broker
 * ("https://zt.example:8443"): "ztctl enroll --broker URL --ca-pin PIN
 * --invite TOKEN". It holds the invite: wipe out after use. 0 or
 * ZT_ERR_TOO_LARGE. */
int brk_users_enrol_command(const struct brk_invite *inv, const char *broker, char *out,
    size_t outsz);

/* Locks (lock 1) user name, revoking its sessions in the same transaction,
 * or unlocks it (lock 0), which lifts a block after failed logins too. A
 * running broker refuses the sessions at their next request; what runs on
 * them ends when the caller kicks its housekeeping (brk_watch.h). On 0,
 * *details are the owned audit details of "user.lock" or "user.unlock"
 * ({user}). ZT_ERR_NOT_FOUND (no such user) or another ZT_ERR_*. */
int brk_users_set_locked(struct store *st, const char *name, int lock, int64_t now,
    cJSON **details, char *err, size_t errsz);

/* Deletes user name with its invites and sessions, or with kind STORE_BOT
 * bot name and its tokens. On 0, *details are the owned audit details of
 * "user.rm" ({user}) or "bot.rm" ({bot}). ZT_ERR_INVALID (not a valid
 * name), ZT_ERR_NOT_FOUND or another ZT_ERR_*. */
int brk_users_rm(struct store *st, enum store_principal kind, const char *name,
    cJSON **details, char *err, size_t errsz);

#endif
