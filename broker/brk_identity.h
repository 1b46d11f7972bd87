/*
 * brk_identity.h - who is calling: the one identity type of the broker.
 *
 * Every front door (the /v1 API, /mcp, later the web console and the
 * terminals) turns its credential into a struct brk_identity here, and
 * everything after (the gate, the handlers, audit) takes it by pointer.
 * A bearer token is the credential of ztctl and MCP clients; a web
 * session cookie (brk_websession.h) is the browser's way in to the same
 * struct.
 */
#ifndef ZT_BRK_IDENTITY_H
#define ZT_BRK_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct brk;
struct brk_req;
struct brk_resp;

/* Bytes of an identity's key, with its NUL: "kind:name" with a kind of
 * at most 11 bytes and a name of at most STORE_NAME_MAX. */
#define BRK_IDENTITY_KEY_MAX 96
#define BRK_SOURCE_MAX 64

struct brk_identity {
	enum store_principal kind;     /* STORE_USER or STORE_BOT */
	int64_t id;                    /* users.id or bots.id */
	char name[STORE_NAME_MAX + 1];
	char roles[STORE_ROLES_MAX + 1]; /* comma-separated, as stored now */
	/* When this credential last proved a second factor (login's TOTP, a
	 * step-up); 0 for bots, which have none. */
	int64_t mfa_verified_at;
	char source[BRK_SOURCE_MAX];   /* the client's address ("127.0.0.1") */
	/* The credential: its token's hash (names the token without being
	 * one), when it was made and until when it holds. */
	char token_hash[STORE_HASH_HEX];
	int64_t created_at, expires_at;
	/* "user:alice", "bot:ci" (brk_identity_key): the actor of its audit
	 * events and the key of its shares. */
	char actor[BRK_IDENTITY_KEY_MAX];
};

/* Authenticates req's "Authorization: Bearer <token>" into *who, or sets a
 * 401/423/429 error on resp (and audits the refusal, aggregated). 0 or the
 * negative reason (ZT_ERR_AUTH: no header; ZT_ERR_NOT_FOUND, _EXPIRED,
 * _REVOKED, _LOCKED, _RATE_LIMITED). */
int brk_identity_authenticate(struct brk *b, const struct brk_req *req,
    struct brk_identity *who, struct brk_resp *resp);

/* The same for a browser: a web session cookie's value (NULL: none)
 * instead of the header. ZT_ERR_AUTH when there is no cookie (resp
 * untouched); else as brk_identity_authenticate. Only a caller that
 * checks a CSRF token calls it: the console's rule for /v1
 * (brk_websession.h). */
int brk_identity_from_cookie(struct brk *b, const struct brk_req *req, const char *cookie,
    struct brk_identity *who, struct brk_resp *resp);

/* Reads the identity behind a token hash again, as it is now (roles,
 * lock, the last MFA proof), for work that outlives the request that
 * authenticated it (a held call, a long MCP session). source is kept.
 * 0 or store_session_get's error. */
int brk_identity_load(struct brk *b, const char *token_hash, const char *source,
    struct brk_identity *who);

/* The one name of an identity across the broker, "kind:name" ("bot:ci",
 * "user:alice"): the actor of its audit events, and the key of its shares
 * (its connections, brk_conn.h; its MCP sessions and calls), which only
 * add up when every place names it alike. Every place formats it here. */
void brk_identity_key(const char *kind, const char *name, char *out, size_t outsz);

/* Why a credential does not hold, in words, for store_session_get's
 * errors: "token expired", "token revoked", "identity locked", "identity
 * removed or token deleted"; zt_strerror() for others. */
const char *brk_identity_refusal(int err);

/* "user" or "bot". */
const char *brk_identity_kind(const struct brk_identity *who);

#endif
