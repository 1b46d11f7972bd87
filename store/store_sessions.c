/*
 * store_sessions.c - sessions and bearer tokens: users' login sessions and
 * bots' tokens, one table for both, stored only as hashes, each with its
 * principal, expiry, MFA time and source. A revoked row stays until it
 * expires and is pruned, so that a revoked token is told apart from an
 * unknown one.
 */
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_int.h"

/* The live sessions of one principal: ?3 kind, ?4 its id, ?5 now (?1 and
 * ?2 are each_page's key and limit, a hash prefix and an unused 0, or both
 * unused). SQLite serves either kind from its index (a multi-index OR). */
#define LIVE_OF_PRINCIPAL "((?3 = 1 AND user_id = ?4) OR (?3 = 2 AND bot_id = ?4)) AND " \
	"revoked_at = 0 AND expires_at > ?5"

int st_revoke_principal(struct store *st, enum store_principal kind, int64_t id,
    int64_t now, int *count)
{
	return st_write1(st, "revoke sessions", count, "UPDATE sessions SET "
	    "revoked_at = max(?5, 1) WHERE " LIVE_OF_PRINCIPAL, "iiiii", (int64_t)0, (int64_t)0,
	    (int64_t)kind, id, now);
}

/* Inserts a session row: 0, ZT_ERR_INVALID (malformed) or a store error.
 * Caller holds the lock. */
static int session_insert(struct store *st, const struct store_session *ss)
{
	int64_t user_id, bot_id;

	if (ss == NULL || !st_hash_valid(ss->token_hash) ||
	    (ss->kind != STORE_USER && ss->kind != STORE_BOT) ||
	    memchr(ss->source, '\0', sizeof(ss->source)) == NULL) {
		return ZT_ERR_INVALID;
	}
	user_id = ss->kind == STORE_USER ? ss->principal_id : 0;
	bot_id = ss->kind == STORE_BOT ? ss->principal_id : 0;
	/* nullif() gives the other principal's column the NULL that the CHECK
	 * constraint wants; ids start at 1. */
	return st_write1(st, "add session", NULL, "INSERT INTO sessions(token_hash, kind, user_id, "
	    "bot_id, created_at, expires_at, mfa_verified_at, source) "
	    "VALUES (?, ?, nullif(?, 0), nullif(?, 0), ?, ?, ?, ?)", "tiiiiiit", ss->token_hash,
	    (int64_t)ss->kind, user_id, bot_id, ss->created_at, ss->expires_at,
	    ss->kind == STORE_USER ? ss->mfa_verified_at : (int64_t)0, ss->source);
}

int store_session_add(struct store *st, const struct store_session *ss)
{
	int r;

	st_lock(st);
	r = session_insert(st, ss);
	st_unlock(st);
	return r;
}

int store_session_replace(struct store *st, const struct store_session *ss)
{
	int r, count = 0;

	if (ss == NULL) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin replace sessions")) == 0 &&
	    (r = st_revoke_principal(st, ss->kind, ss->principal_id, ss->created_at,
	    &count)) == 0) {
		r = session_insert(st, ss);
	}
	r = st_finish(st, r, "commit replace sessions");
	st_unlock(st);
	return r != 0 ? r : count;
}

int store_session_get(struct store *st, const char *token_hash, int64_t now,
    struct store_session *out)
{
	struct store_session ss;
	sqlite3_stmt *s = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	memset(&ss, 0, sizeof(ss));
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	if ((r = st_query_row(st, "get session", &s, "SELECT s.kind, "
	    "coalesce(s.user_id, s.bot_id), s.created_at, s.expires_at, s.mfa_verified_at, "
	    "s.revoked_at, s.source, coalesce(u.name, b.name), coalesce(u.roles, b.roles), "
	    "coalesce(u.locked, 0) FROM sessions s LEFT JOIN users u ON u.id = s.user_id "
	    "LEFT JOIN bots b ON b.id = s.bot_id WHERE s.token_hash = ?", "t",
	    token_hash)) != 0) {
		goto out;
	}
	/* The documented order: unknown, revoked, expired, locked. */
	if (sqlite3_column_type(s, 7) == SQLITE_NULL) {
		r = ZT_ERR_NOT_FOUND;
	} else if (sqlite3_column_int64(s, 5) != 0) {
		r = ZT_ERR_REVOKED;
	} else if (now >= sqlite3_column_int64(s, 3)) {
		r = ZT_ERR_EXPIRED;
	} else if (sqlite3_column_int(s, 9) != 0) {
		r = ZT_ERR_LOCKED;
	}
	if (r != 0) {
		goto out;
	}
	memcpy(ss.token_hash, token_hash, sizeof(ss.token_hash));
	ss.kind = sqlite3_column_int(s, 0) == STORE_BOT ? STORE_BOT : STORE_USER;
	ss.principal_id = sqlite3_column_int64(s, 1);
	ss.created_at = sqlite3_column_int64(s, 2);
	ss.expires_at = sqlite3_column_int64(s, 3);
	ss.mfa_verified_at = sqlite3_column_int64(s, 4);
	if ((r = st_col_text(s, 6, ss.source, sizeof(ss.source), "get session")) != 0 ||
	    (r = st_col_text(s, 7, ss.name, sizeof(ss.name), "get session")) != 0 ||
	    (r = st_col_text(s, 8, ss.roles, sizeof(ss.roles), "get session")) != 0) {
		goto out;
	}
	*out = ss;
out:
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_session_revoke(struct store *st, const char *token_hash, int64_t now)
{
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "revoke session", "UPDATE sessions SET revoked_at = max(?, 1) "
	    "WHERE token_hash = ? AND revoked_at = 0", "it", now, token_hash);
}

int store_session_revoke_all(struct store *st, enum store_principal kind, int64_t principal_id,
    int64_t now)
{
	int r, count = 0;

	if (kind != STORE_USER && kind != STORE_BOT) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	r = st_revoke_principal(st, kind, principal_id, now, &count);
	st_unlock(st);
	return r != 0 ? r : count;
}

int store_session_revoke_prefix(struct store *st, enum store_principal kind,
    int64_t principal_id, const char *hash_prefix, int64_t now)
{
	int r;

	if (!st_hash_prefix_valid(hash_prefix) || (kind != STORE_USER && kind != STORE_BOT)) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	/* substr(), not LIKE: LIKE ignores case and has wildcards. */
	r = st_change_unique(st, "revoke session", "SELECT count(*) FROM sessions WHERE "
	    "substr(token_hash, 1, length(?1)) = ?1 AND " LIVE_OF_PRINCIPAL,
	    "UPDATE sessions SET revoked_at = max(?5, 1) WHERE "
	    "substr(token_hash, 1, length(?1)) = ?1 AND " LIVE_OF_PRINCIPAL, "tiiii", hash_prefix,
	    (int64_t)0, (int64_t)kind, principal_id, now);
	st_unlock(st);
	return r;
}

static int read_session(sqlite3_stmt *s, void *elem)
{
	struct store_session *ss = elem;
	int r;

	memset(ss, 0, sizeof(*ss));
	if ((r = st_col_text(s, 0, ss->token_hash, sizeof(ss->token_hash), "read session")) != 0 ||
	    (r = st_col_text(s, 5, ss->source, sizeof(ss->source), "read session")) != 0) {
		return r;
	}
	ss->kind = sqlite3_column_int(s, 1) == STORE_BOT ? STORE_BOT : STORE_USER;
	ss->created_at = sqlite3_column_int64(s, 2);
	ss->expires_at = sqlite3_column_int64(s, 3);
	ss->mfa_verified_at = sqlite3_column_int64(s, 4);
	ss->principal_id = sqlite3_column_int64(s, 6);
	return 0;
}

struct session_each_ctx {
	int (*fn)(const struct store_session *s, void *arg);
	void *arg;
};

static int call_session(const void *elem, void *ctx)
{
	struct session_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_session_each(struct store *st, enum store_principal kind, int64_t principal_id,
    int64_t now, int (*fn)(const struct store_session *s, void *arg), void *arg)
{
	struct session_each_ctx c = { fn, arg };
	const int64_t extra[] = { (int64_t)kind, principal_id, now };

	if (fn == NULL || (kind != STORE_USER && kind != STORE_BOT)) {
		return ZT_ERR_INVALID;
	}
	/* A hash is 64 characters: it pages like a name (STORE_NAME_MAX). */
	return st_each_page(st, "SELECT token_hash, kind, created_at, expires_at, mfa_verified_at, "
	    "source, coalesce(user_id, bot_id) FROM sessions WHERE token_hash > ?1 AND "
	    LIVE_OF_PRINCIPAL " ORDER BY token_hash LIMIT ?2", "list sessions",
	    sizeof(struct store_session), offsetof(struct store_session, token_hash), extra, 3,
	    read_session, call_session, &c);
}

int store_session_prune(struct store *st, int64_t now, int64_t grace_s)
{
	int r, changes = 0;

	if (grace_s < 0 || now < INT64_MIN + grace_s) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	r = st_write1(st, "prune sessions", &changes, "DELETE FROM sessions WHERE expires_at < ?",
	    "i", now - grace_s);
	st_unlock(st);
	return r != 0 ? r : changes;
}

int store_session_set_expiry(struct store *st, const char *token_hash, int64_t now,
    int64_t until)
{
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "slide a session's expiry", "UPDATE sessions SET expires_at = ?1 "
	    "WHERE token_hash = ?2 AND revoked_at = 0 AND expires_at > ?3", "iti", until,
	    token_hash, now);
}

int store_session_set_mfa(struct store *st, const char *token_hash, int64_t at)
{
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "record step-up", "UPDATE sessions SET mfa_verified_at = ?1 "
	    "WHERE token_hash = ?2 AND revoked_at = 0 AND expires_at > ?1", "it", at, token_hash);
}
