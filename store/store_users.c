/*
 * store_users.c - the people and bots who may hold a session: users (with
 * their credentials, TOTP steps and failed-login counter), their enrolment
 * invites, and bots. A name is unique across users and bots. Their
 * sessions and tokens are store_sessions.c's.
 */
#include "store/store.h"

#include <stddef.h>
#include <string.h>

#include <sqlite3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "store/store_int.h"

/* ---- users ---- */

void store_user_wipe(struct store_user *u)
{
	if (u == NULL) {
		return;
	}
	crypto_wipe(u->totp_secret, sizeof(u->totp_secret));
	crypto_wipe(u->pw_hash, sizeof(u->pw_hash));
	u->totp_len = 0;
}

static int roles_valid(const char *roles)
{
	return roles != NULL && strlen(roles) <= STORE_ROLES_MAX;
}

/*
 * Adds a user or bot row. other_sql looks the name up in the other table
 * inside the same write transaction, so a name is unique across users and
 * bots; the own table's UNIQUE constraint covers the rest.
 */
static int principal_add(struct store *st, const char *other_sql, const char *insert_sql,
    const char *name, const char *roles, int64_t now, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (!store_name_valid(name) || !roles_valid(roles)) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin add")) != 0) {
		goto out;
	}
	r = st_query_row(st, "check name", &s, other_sql, "t", name);
	if (r != ZT_ERR_NOT_FOUND) {
		r = r == 0 ? ZT_ERR_EXISTS : r;
		goto out;
	}
	if ((r = st_write1(st, "add", NULL, insert_sql, "tti", name, roles, now)) != 0) {
		goto out;
	}
	if (id != NULL) {
		*id = sqlite3_last_insert_rowid(st->db);
	}
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit add");
	st_unlock(st);
	return r;
}

int store_user_add(struct store *st, const char *name, const char *roles, int64_t now,
    int64_t *id)
{
	return principal_add(st, "SELECT 1 FROM bots WHERE name = ?",
	    "INSERT INTO users(name, roles, created_at) VALUES (?, ?, ?)", name, roles, now, id);
}

#define USER_COLS "id, name, roles, pw_hash, totp_secret, totp_active, totp_last_step, " \
	"locked, created_at, login_failures, login_window_start, login_blocked_until"

/* Reads a row of USER_COLS; with_secrets 0 leaves pw_hash and the TOTP
 * secret zeroed. */
static int read_user(sqlite3_stmt *s, int with_secrets, struct store_user *u)
{
	const void *blob;
	size_t n;
	int r;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(s, 0);
	if ((r = st_col_text(s, 1, u->name, sizeof(u->name), "read user")) != 0 ||
	    (r = st_col_text(s, 2, u->roles, sizeof(u->roles), "read user")) != 0) {
		goto out;
	}
	if (with_secrets) {
		if ((r = st_col_text(s, 3, u->pw_hash, sizeof(u->pw_hash), "read user")) != 0) {
			goto out;
		}
		blob = sqlite3_column_blob(s, 4);
		n = (size_t)sqlite3_column_bytes(s, 4);
		if (n > sizeof(u->totp_secret)) {
			log_error("store: read user: TOTP secret out of bounds");
			r = ZT_ERR_DB;
			goto out;
		}
		if (blob != NULL && n > 0) {
			memcpy(u->totp_secret, blob, n);
			u->totp_len = n;
		}
	}
	u->totp_active = sqlite3_column_int(s, 5) != 0;
	u->totp_last_step = sqlite3_column_int64(s, 6);
	u->locked = sqlite3_column_int(s, 7) != 0;
	u->created_at = sqlite3_column_int64(s, 8);
	u->login.failures = sqlite3_column_int64(s, 9);
	u->login.window_start = sqlite3_column_int64(s, 10);
	u->login.blocked_until = sqlite3_column_int64(s, 11);
out:
	if (r != 0) {
		store_user_wipe(u);
	}
	return r;
}

/* Looks one user up by name (name non-NULL) or else by id. */
static int user_get(struct store *st, const char *name, int64_t id, struct store_user *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	st_lock(st);
	r = name != NULL ?
	    st_query_row(st, "get user", &s, "SELECT " USER_COLS " FROM users WHERE name = ?",
	    "t", name) :
	    st_query_row(st, "get user", &s, "SELECT " USER_COLS " FROM users WHERE id = ?",
	    "i", id);
	if (r == 0) {
		r = read_user(s, 1, out);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_user_get(struct store *st, const char *name, struct store_user *out)
{
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name)) {
		memset(out, 0, sizeof(*out));
		return ZT_ERR_NOT_FOUND;
	}
	return user_get(st, name, 0, out);
}

int store_user_get_id(struct store *st, int64_t id, struct store_user *out)
{
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	return user_get(st, NULL, id, out);
}

struct user_each_ctx {
	int (*fn)(const struct store_user *u, void *arg);
	void *arg;
};

static int read_user_listed(sqlite3_stmt *s, void *elem)
{
	return read_user(s, 0, elem);
}

static int call_user(const void *elem, void *ctx)
{
	struct user_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_user_each(struct store *st, int (*fn)(const struct store_user *u, void *arg),
    void *arg)
{
	struct user_each_ctx c = { fn, arg };

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	return st_each_by_name(st, "SELECT " USER_COLS " FROM users WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list users", sizeof(struct store_user),
	    offsetof(struct store_user, name), read_user_listed, call_user, &c);
}

int store_user_set_credentials(struct store *st, int64_t id, const char *pw_hash,
    const uint8_t *totp, size_t totp_len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (pw_hash == NULL || (totp == NULL && totp_len != 0)) {
		return ZT_ERR_INVALID;
	}
	if (strlen(pw_hash) >= sizeof(((struct store_user *)0)->pw_hash) ||
	    totp_len > STORE_TOTP_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	/* Conditional on totp_active = 0: an enrolled account is never
	 * re-enrolled here, whatever raced. */
	r = st_change1(st, "set credentials", "UPDATE users SET pw_hash = ?, totp_secret = ?, "
	    "totp_active = 0, totp_last_step = -1 WHERE id = ? AND totp_active = 0", "tbi",
	    pw_hash, (const void *)totp, totp_len, id);
	if (r == ZT_ERR_NOT_FOUND) {
		/* Only naming the refusal; the decision is made. */
		st_lock(st);
		r = st_query_row(st, "set credentials", &s, "SELECT 1 FROM users WHERE id = ?",
		    "i", id);
		sqlite3_finalize(s);
		st_unlock(st);
		r = r == 0 ? ZT_ERR_EXISTS : r;
	}
	return r;
}

/* The user an invite belongs to, if it is usable at now: 0, ZT_ERR_NOT_FOUND
 * (unknown, used or retired), ZT_ERR_EXPIRED. Caller holds the lock. */
static int invite_check(struct store *st, const char *token_hash, int64_t now, int64_t *user_id)
{
	sqlite3_stmt *s = NULL;
	int r;

	*user_id = 0;
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	if ((r = st_query_row(st, "get invite", &s, "SELECT user_id, expires_at, used "
	    "FROM invites WHERE token_hash = ?", "t", token_hash)) != 0) {
		goto out;
	}
	if (sqlite3_column_int(s, 2) != 0) {
		r = ZT_ERR_NOT_FOUND;
	} else if (now >= sqlite3_column_int64(s, 1)) {
		r = ZT_ERR_EXPIRED;
	} else {
		*user_id = sqlite3_column_int64(s, 0);
	}
out:
	sqlite3_finalize(s);
	return r;
}

int store_user_enroll(struct store *st, const char *invite_hash, int64_t now, int64_t id,
    const uint8_t *totp, size_t totp_len, int64_t step_no)
{
	sqlite3_stmt *s = NULL;
	int64_t owner = 0;
	int r, changes = 0;

	if (totp == NULL || totp_len == 0 || totp_len > STORE_TOTP_MAX) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin enrol")) != 0 ||
	    (r = invite_check(st, invite_hash, now, &owner)) != 0) {
		goto out;
	}
	if (owner != id) {
		r = ZT_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = st_write1(st, "use invite", NULL, "UPDATE invites SET used = 1 "
	    "WHERE token_hash = ?", "t", invite_hash)) != 0 ||
	    (r = st_write1(st, "activate TOTP", &changes, "UPDATE users SET totp_active = 1, "
	    "totp_last_step = ? WHERE id = ? AND totp_active = 0 AND totp_secret = ?", "iib",
	    step_no, id, (const void *)totp, totp_len)) != 0 || changes == 1) {
		goto out;
	}
	/* Only naming the refusal; the transaction is rolled back. */
	if ((r = st_query_row(st, "enrol", &s, "SELECT totp_active FROM users WHERE id = ?", "i",
	    id)) == 0) {
		r = sqlite3_column_int(s, 0) != 0 ? ZT_ERR_EXISTS : ZT_ERR_AUTH;
	}
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit enrol");
	st_unlock(st);
	return r;
}

int store_user_consume_step(struct store *st, int64_t id, int64_t step_no)
{
	sqlite3_stmt *s = NULL;
	int r;

	/* One conditional UPDATE: of two logins racing with the same code, only
	 * one sees a changed row. */
	r = st_change1(st, "consume TOTP step", "UPDATE users SET totp_last_step = ? "
	    "WHERE id = ? AND totp_last_step < ?", "iii", step_no, id, step_no);
	if (r == ZT_ERR_NOT_FOUND) {
		/* Only telling an unknown user from a replay; the decision is made. */
		st_lock(st);
		r = st_query_row(st, "consume TOTP step", &s, "SELECT 1 FROM users WHERE id = ?",
		    "i", id);
		sqlite3_finalize(s);
		st_unlock(st);
		r = r == 0 ? ZT_ERR_REPLAY : r;
	}
	return r;
}

int store_user_set_locked(struct store *st, const char *name, int locked, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	/* Unlocking is an administrator's word that the account may log in
	 * again: the failed-login block goes too. */
	if ((r = st_begin(st, "begin lock")) != 0 ||
	    (r = st_query_row(st, "lock user", &s, "UPDATE users SET locked = ?1, "
	    "login_failures = iif(?1, login_failures, 0), "
	    "login_blocked_until = iif(?1, login_blocked_until, 0) WHERE name = ?2 "
	    "RETURNING id", "it", (int64_t)(locked != 0), name)) != 0) {
		goto out;
	}
	id = sqlite3_column_int64(s, 0);
	if ((r = st_step(st, s, "lock user")) < 0) {
		goto out;
	}
	r = locked ? st_revoke_principal(st, STORE_USER, id, now, NULL) : 0;
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit lock");
	st_unlock(st);
	return r;
}

int store_user_login_update(struct store *st, int64_t id,
    int (*fn)(struct store_fail_count *c, void *arg), void *arg)
{
	struct store_fail_count c;
	sqlite3_stmt *s = NULL;
	int r, ret = 0;

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_exec(st, "PRAGMA synchronous = NORMAL", "set synchronous")) != 0 ||
	    (r = st_begin(st, "begin login count")) != 0 ||
	    (r = st_query_row(st, "read login count", &s, "SELECT login_failures, "
	    "login_window_start, login_blocked_until FROM users WHERE id = ?", "i", id)) != 0) {
		goto out;
	}
	c.failures = sqlite3_column_int64(s, 0);
	c.window_start = sqlite3_column_int64(s, 1);
	c.blocked_until = sqlite3_column_int64(s, 2);
	if ((ret = fn(&c, arg)) >= 0) {
		r = st_write1(st, "write login count", NULL, "UPDATE users SET login_failures = ?, "
		    "login_window_start = ?, login_blocked_until = ? WHERE id = ?", "iiii",
		    c.failures, c.window_start, c.blocked_until, id);
	}
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit login count");
	/* Every other write stays durable before it returns. */
	if (st_exec(st, "PRAGMA synchronous = FULL", "set synchronous") != 0) {
		r = ZT_ERR_DB;
	}
	st_unlock(st);
	return r != 0 ? r : ret;
}

int store_user_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	/* The foreign keys cascade to invites and sessions. */
	return st_change1(st, "delete user", "DELETE FROM users WHERE name = ?", "t", name);
}

/* Retires the user's unused invites and adds token_hash for the user, so
 * that a user holds one usable invite at most. Caller holds the lock and a
 * transaction. */
static int invite_replace(struct store *st, const char *token_hash, int64_t user_id,
    int64_t expires_at)
{
	int r;

	if ((r = st_write1(st, "retire invites", NULL, "UPDATE invites SET used = 1 "
	    "WHERE user_id = ? AND used = 0", "i", user_id)) != 0) {
		return r;
	}
	return st_write1(st, "add invite", NULL, "INSERT INTO invites(token_hash, user_id, "
	    "expires_at) VALUES (?, ?, ?)", "tii", token_hash, user_id, expires_at);
}

int store_user_reset(struct store *st, const char *name, int64_t now, const char *invite_hash,
    int64_t expires_at, int *revoked)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r, count = 0;

	if (!st_hash_valid(invite_hash)) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin reset")) != 0 ||
	    (r = st_query_row(st, "reset user", &s, "UPDATE users SET pw_hash = '', "
	    "totp_secret = NULL, totp_active = 0, totp_last_step = -1, login_failures = 0, "
	    "login_blocked_until = 0 WHERE name = ? RETURNING id", "t", name)) != 0) {
		goto out;
	}
	id = sqlite3_column_int64(s, 0);
	if ((r = st_step(st, s, "reset user")) < 0 ||
	    (r = st_revoke_principal(st, STORE_USER, id, now, &count)) != 0) {
		goto out;
	}
	r = invite_replace(st, invite_hash, id, expires_at);
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit reset");
	st_unlock(st);
	if (r == 0 && revoked != NULL) {
		*revoked = count;
	}
	return r;
}

/* ---- invites ---- */

int store_invite_add(struct store *st, const char *token_hash, int64_t user_id,
    int64_t expires_at)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin add invite")) != 0 ||
	    (r = st_query_row(st, "add invite", &s, "SELECT totp_active FROM users WHERE id = ?",
	    "i", user_id)) != 0) {
		goto out;
	}
	/* An invite lets its holder set the password and TOTP secret: for an
	 * enrolled account, that is an administrator's explicit reset. */
	r = sqlite3_column_int(s, 0) != 0 ? ZT_ERR_EXISTS :
	    invite_replace(st, token_hash, user_id, expires_at);
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit add invite");
	st_unlock(st);
	return r;
}

int store_invite_get(struct store *st, const char *token_hash, int64_t now, int64_t *user_id)
{
	int r;

	if (user_id == NULL) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	r = invite_check(st, token_hash, now, user_id);
	st_unlock(st);
	return r;
}

/* ---- bots ---- */

int store_bot_add(struct store *st, const char *name, const char *roles, int64_t now,
    int64_t *id)
{
	return principal_add(st, "SELECT 1 FROM users WHERE name = ?",
	    "INSERT INTO bots(name, roles, created_at) VALUES (?, ?, ?)", name, roles, now, id);
}

#define BOT_COLS "id, name, roles, created_at"

static int read_bot(sqlite3_stmt *s, void *elem)
{
	struct store_bot *b = elem;
	int r;

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	if ((r = st_col_text(s, 1, b->name, sizeof(b->name), "read bot")) != 0 ||
	    (r = st_col_text(s, 2, b->roles, sizeof(b->roles), "read bot")) != 0) {
		return r;
	}
	b->created_at = sqlite3_column_int64(s, 3);
	return 0;
}

int store_bot_get(struct store *st, const char *name, struct store_bot *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_query_row(st, "get bot", &s, "SELECT " BOT_COLS " FROM bots WHERE name = ?", "t",
	    name);
	if (r == 0) {
		r = read_bot(s, out);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

struct bot_each_ctx {
	int (*fn)(const struct store_bot *b, void *arg);
	void *arg;
};

static int call_bot(const void *elem, void *ctx)
{
	struct bot_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_bot_each(struct store *st, int (*fn)(const struct store_bot *b, void *arg), void *arg)
{
	struct bot_each_ctx c = { fn, arg };

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	return st_each_by_name(st, "SELECT " BOT_COLS " FROM bots WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list bots", sizeof(struct store_bot),
	    offsetof(struct store_bot, name), read_bot, call_bot, &c);
}

int store_bot_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	/* The foreign key cascades to the bot's tokens. */
	return st_change1(st, "delete bot", "DELETE FROM bots WHERE name = ?", "t", name);
}
