/*
 * store_agents.c - what the broker keeps of its agents: join tokens (an
 * agent's first connection), the registry of agents (each name bound to
 * one key, with approved and pending claims), and the labels a join
 * granted, kept until the agent's first hello.
 */
#include "store/store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_int.h"

/* ---- agent join tokens ---- */

/* True if the char array a (an array, not a pointer) holds a string. */
#define FITS(a) (memchr((a), '\0', sizeof(a)) != NULL)

int store_join_token_add(struct store *st, const char *token_hash, int64_t now,
    int64_t expires_at, int64_t uses, const char *created_by,
    const struct store_join_claims *claims)
{
	const char *name = claims != NULL ? claims->name : "";
	const char *labels = claims != NULL ? claims->labels : "";
	int r;

	if (!st_hash_valid(token_hash) || uses < 1 || uses > STORE_JOIN_USES_MAX ||
	    created_by == NULL || *created_by == '\0' || expires_at <= now ||
	    (claims != NULL && (!FITS(claims->name) || !FITS(claims->labels) ||
	    (name[0] != '\0' && !store_name_valid(name))))) {
		return ZT_ERR_INVALID;
	}
	if (strlen(created_by) > STORE_JOIN_BY_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	st_lock(st);
	r = st_write1(st, "add join token", NULL, "INSERT INTO join_tokens(token_hash, created_at, "
	    "expires_at, uses_left, created_by, name, labels) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "tiiittt", token_hash, now, expires_at, uses, created_by, name, labels);
	st_unlock(st);
	return r;
}

int store_join_token_use(struct store *st, const char *token_hash, int64_t now,
    const char *name, struct store_join_claims *claims)
{
	struct store_join_claims got;
	sqlite3_stmt *s = NULL;
	int r;

	if (claims != NULL) {
		memset(claims, 0, sizeof(*claims));
	}
	memset(&got, 0, sizeof(got));
	if (!st_hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	name = name != NULL ? name : "";
	st_lock(st);
	/* One conditional UPDATE decides: of several joins racing for the last
	 * use, only one changes the row, even across processes. */
	if ((r = st_query(st, "use join token", &s, "UPDATE join_tokens "
	    "SET uses_left = uses_left - 1 WHERE token_hash = ? AND uses_left > 0 AND "
	    "expires_at > ? AND (name = '' OR name = ?) RETURNING name, labels", "tit", token_hash,
	    now, name)) != 0) {
		goto out;
	}
	if ((r = st_step(st, s, "use join token")) == 1) {
		if ((r = st_col_text(s, 0, got.name, sizeof(got.name), "use join token")) == 0 &&
		    (r = st_col_text(s, 1, got.labels, sizeof(got.labels),
		    "use join token")) == 0) {
			r = st_step(st, s, "use join token"); /* runs the UPDATE to its end */
		}
		goto out;
	}
	if (r != 0) {
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* Only naming the refusal; the decision is made. Used up beats the
	 * rest, as a replay is the most telling. */
	if ((r = st_query_row(st, "use join token", &s, "SELECT uses_left, expires_at, name "
	    "FROM join_tokens WHERE token_hash = ?", "t", token_hash)) != 0) {
		goto out;
	}
	r = sqlite3_column_int64(s, 0) <= 0 ? ZT_ERR_REPLAY :
	    sqlite3_column_int64(s, 1) <= now ? ZT_ERR_EXPIRED : ZT_ERR_DENIED;
out:
	sqlite3_finalize(s);
	st_unlock(st);
	if (r == 0 && claims != NULL) {
		*claims = got;
	}
	return r;
}

#define JOIN_COLS "token_hash, created_at, expires_at, uses_left, created_by, name, labels"

static int read_join_token(sqlite3_stmt *s, void *elem)
{
	struct store_join_token *t = elem;
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = st_col_text(s, 0, t->token_hash, sizeof(t->token_hash), "read join token")) != 0 ||
	    (r = st_col_text(s, 4, t->created_by, sizeof(t->created_by), "read join token")) != 0 ||
	    (r = st_col_text(s, 5, t->claims.name, sizeof(t->claims.name),
	    "read join token")) != 0 ||
	    (r = st_col_text(s, 6, t->claims.labels, sizeof(t->claims.labels),
	    "read join token")) != 0) {
		return r;
	}
	t->created_at = sqlite3_column_int64(s, 1);
	t->expires_at = sqlite3_column_int64(s, 2);
	t->uses_left = sqlite3_column_int64(s, 3);
	return 0;
}

struct join_each_ctx {
	int (*fn)(const struct store_join_token *t, void *arg);
	void *arg;
};

static int call_join_token(const void *elem, void *ctx)
{
	struct join_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_join_token_each(struct store *st,
    int (*fn)(const struct store_join_token *t, void *arg), void *arg)
{
	struct join_each_ctx c = { fn, arg };

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	/* A hash is 64 characters: it pages like a name (STORE_NAME_MAX). */
	return st_each_by_name(st, "SELECT " JOIN_COLS " FROM join_tokens WHERE token_hash > ? "
	    "ORDER BY token_hash LIMIT ?", "list join tokens", sizeof(struct store_join_token),
	    offsetof(struct store_join_token, token_hash), read_join_token, call_join_token, &c);
}

int store_join_token_rm(struct store *st, const char *hash_prefix)
{
	int r;

	if (!st_hash_prefix_valid(hash_prefix)) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	/* substr(), not LIKE: LIKE ignores case and has wildcards. */
	r = st_change_unique(st, "remove join token", "SELECT count(*) FROM join_tokens "
	    "WHERE substr(token_hash, 1, length(?1)) = ?1", "DELETE FROM join_tokens "
	    "WHERE substr(token_hash, 1, length(?1)) = ?1", "t", hash_prefix);
	st_unlock(st);
	return r;
}

/* ---- agents ---- */

/* True if p is a key pin: "sha256:" and 64 lower-case hex digits. */
static int pin_valid(const char *p)
{
	return p != NULL && strncmp(p, "sha256:", 7) == 0 && st_hash_valid(p + 7);
}

#define AGENT_COLS "name, key_pin, labels, resources, bound_at, last_seen, " \
	"pending_labels, pending_resources, pending_at, locked"

/*
 * The agents o other than AGENT whose approved claims clash with the
 * resources RES (a JSON array) of AGENT, as store_agent_resource_owner
 * says; columns o.name, the clashing resource name, 1 if by name. Both are
 * SQL expressions. A LEFT JOIN keeps agents without resources, whose name
 * alone may clash.
 */
#define RES_CLASH(RES, AGENT) "SELECT o.name, coalesce(json_extract(n.value, '$.name'), " \
	AGENT "), (o.name = json_extract(n.value, '$.name') OR " \
	"json_extract(r.value, '$.name') = json_extract(n.value, '$.name') OR " \
	"json_extract(r.value, '$.name') = " AGENT ") " \
	"FROM agents o LEFT JOIN json_each(o.resources) r, json_each(" RES ") n " \
	"WHERE o.name != " AGENT " AND (o.name = json_extract(n.value, '$.name') OR " \
	"json_extract(r.value, '$.name') = json_extract(n.value, '$.name') OR " \
	"json_extract(r.value, '$.name') = " AGENT " OR " \
	"json_extract(r.value, '$.host_key') = json_extract(n.value, '$.host_key') OR " \
	"json_extract(r.value, '$.cert_pin') = json_extract(n.value, '$.cert_pin'))"

static int read_claims(sqlite3_stmt *s, int col, struct store_agent_claims *c)
{
	int r;

	if ((r = st_col_text(s, col, c->labels, sizeof(c->labels), "read agent")) != 0) {
		return r;
	}
	return st_col_text(s, col + 1, c->resources, sizeof(c->resources), "read agent");
}

static int read_agent(sqlite3_stmt *s, void *elem)
{
	struct store_agent *ag = elem;
	int r;

	memset(ag, 0, sizeof(*ag));
	if ((r = st_col_text(s, 0, ag->name, sizeof(ag->name), "read agent")) != 0 ||
	    (r = st_col_text(s, 1, ag->key_pin, sizeof(ag->key_pin), "read agent")) != 0 ||
	    (r = read_claims(s, 2, &ag->claims)) != 0 ||
	    (r = read_claims(s, 6, &ag->pending)) != 0) {
		return r;
	}
	ag->bound_at = sqlite3_column_int64(s, 4);
	ag->last_seen = sqlite3_column_int64(s, 5);
	ag->pending_at = sqlite3_column_int64(s, 8);
	ag->locked = sqlite3_column_int(s, 9) != 0;
	return 0;
}

/* True if c holds two strings, neither empty. */
static int claims_valid(const struct store_agent_claims *c)
{
	return c != NULL && FITS(c->labels) && c->labels[0] != '\0' && FITS(c->resources) &&
	    c->resources[0] != '\0';
}

int store_agent_bind(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *c, int64_t now, struct store_agent *out)
{
	int r;

	if (!store_name_valid(name) || !pin_valid(key_pin) || !claims_valid(c)) {
		return ZT_ERR_INVALID;
	}
	/* One statement decides: a name bound already, or a resource that
	 * clashes with another agent's, inserts nothing, so of two connections
	 * racing for a new name or resource, even from two processes, exactly
	 * one key wins. */
	r = st_change_row(st, "bind agent", read_agent, out, "INSERT INTO agents(name, key_pin, "
	    "labels, resources, bound_at, last_seen) SELECT ?1, ?2, ?3, ?4, ?5, ?5 "
	    "WHERE json_valid(?4) AND NOT EXISTS (" RES_CLASH("?4", "?1") ") "
	    "ON CONFLICT(name) DO NOTHING RETURNING " AGENT_COLS, "tttti", name, key_pin,
	    c->labels, c->resources, now);
	return r == ZT_ERR_NOT_FOUND ? ZT_ERR_EXISTS : r;
}

int store_agent_resource_owner(struct store *st, const char *resources, const char *except,
    char owner[STORE_NAME_MAX + 1], char res[STORE_NAME_MAX + 1], int *by_name)
{
	sqlite3_stmt *s = NULL;
	int r;

	owner[0] = res[0] = '\0';
	*by_name = 0;
	if (resources == NULL || except == NULL) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	if ((r = st_query_row(st, "find resource owner", &s, RES_CLASH("?1", "?2")
	    " AND json_valid(?1) ORDER BY 1, 2 LIMIT 1", "tt", resources, except)) == 0 &&
	    (r = st_col_text(s, 0, owner, STORE_NAME_MAX + 1, "find resource owner")) == 0 &&
	    (r = st_col_text(s, 1, res, STORE_NAME_MAX + 1, "find resource owner")) == 0) {
		*by_name = sqlite3_column_int(s, 2) != 0;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_agent_pend(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *c, int64_t now, struct store_agent *out)
{
	static const struct store_agent_claims none;

	if (c != NULL && !claims_valid(c)) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	c = c != NULL ? c : &none;
	/* pending_at marks a change: the same claims again keep their time. */
	return st_change_row(st, "record pending claims", read_agent, out, "UPDATE agents SET "
	    "pending_at = CASE WHEN ?1 = '' THEN 0 WHEN pending_labels = ?1 AND "
	    "pending_resources = ?2 AND pending_at > 0 THEN pending_at "
	    "ELSE ?3 END, pending_labels = ?1, pending_resources = ?2, "
	    "last_seen = ?3 WHERE name = ?4 AND key_pin = ?5 RETURNING " AGENT_COLS, "ttitt",
	    c->labels, c->resources, now, name, key_pin);
}

int store_agent_set_labels(struct store *st, const char *name, const char *key_pin,
    const char *labels, struct store_agent *out)
{
	if (labels == NULL || labels[0] == '\0' || strlen(labels) > STORE_AGENT_LABELS_MAX) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change_row(st, "set agent labels", read_agent, out, "UPDATE agents "
	    "SET labels = ? WHERE name = ? AND key_pin = ? RETURNING " AGENT_COLS, "ttt", labels,
	    name, key_pin);
}

int store_agent_set_locked(struct store *st, const char *name, int locked)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "lock agent", "UPDATE agents SET locked = ? WHERE name = ?", "it",
	    (int64_t)(locked != 0), name);
}

int store_agent_seen(struct store *st, const char *name, const char *key_pin, int64_t now,
    struct store_agent *out)
{
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change_row(st, "record agent seen", read_agent, out, "UPDATE agents "
	    "SET last_seen = ? WHERE name = ? AND key_pin = ? RETURNING " AGENT_COLS, "itt", now,
	    name, key_pin);
}

/* One agent's row, with st->mu held. */
static int agent_get(struct store *st, const char *name, struct store_agent *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = st_query_row(st, "get agent", &s, "SELECT " AGENT_COLS " FROM agents "
	    "WHERE name = ?", "t", name)) == 0) {
		r = read_agent(s, out);
	}
	sqlite3_finalize(s);
	return r;
}

int store_agent_get(struct store *st, const char *name, struct store_agent *out)
{
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = agent_get(st, name, out);
	st_unlock(st);
	return r;
}

int store_agent_approve(struct store *st, const char *name, struct store_agent *before)
{
	struct store_agent *row = calloc(1, sizeof(*row));
	int r, changes = 0;

	if (row == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!store_name_valid(name)) {
		free(row);
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin approve agent")) != 0 || (r = agent_get(st, name, row)) != 0) {
		goto out;
	}
	if (row->pending_at <= 0) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if ((r = st_write1(st, "approve agent", &changes, "UPDATE agents SET "
	    "labels = pending_labels, resources = pending_resources, pending_labels = '', "
	    "pending_resources = '', pending_at = 0 WHERE name = ?1 AND "
	    "json_valid(pending_resources) AND NOT EXISTS "
	    "(" RES_CLASH("agents.pending_resources", "?1") ")", "t", name)) == 0 &&
	    changes == 0) {
		r = ZT_ERR_EXISTS;
	}
out:
	r = st_finish(st, r, "commit approve agent");
	st_unlock(st);
	if (before != NULL) {
		*before = *row;
	}
	free(row);
	return r;
}

struct agent_each_ctx {
	int (*fn)(const struct store_agent *ag, void *arg);
	void *arg;
};

static int call_agent(const void *elem, void *ctx)
{
	struct agent_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_agent_each(struct store *st, int (*fn)(const struct store_agent *ag, void *arg),
    void *arg)
{
	struct agent_each_ctx c = { fn, arg };

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	return st_each_by_name(st, "SELECT " AGENT_COLS " FROM agents WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list agents", sizeof(struct store_agent),
	    offsetof(struct store_agent, name), read_agent, call_agent, &c);
}

int store_agent_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "remove agent", "DELETE FROM agents WHERE name = ?", "t", name);
}

int store_agent_join_put(struct store *st, const char *name, const char *key_pin,
    const char *labels, int named, int64_t now)
{
	int r;

	if (!store_name_valid(name) || !pin_valid(key_pin) || labels == NULL ||
	    strlen(labels) > STORE_AGENT_LABELS_MAX) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin put join")) != 0) {
		goto out;
	}
	/* Joins whose agent never said hello are forgotten after a while. */
	if ((r = st_write1(st, "forget old joins", NULL, "DELETE FROM agent_joins "
	    "WHERE joined_at < ?", "i", now - STORE_AGENT_JOIN_KEEP_S)) == 0) {
		r = st_write1(st, "put join", NULL, "INSERT INTO agent_joins(name, key_pin, "
		    "labels, named, joined_at) VALUES (?1, ?2, ?3, ?4, ?5) "
		    "ON CONFLICT(name, key_pin) DO UPDATE SET labels = excluded.labels, "
		    "named = excluded.named, joined_at = excluded.joined_at", "tttii", name,
		    key_pin, labels, (int64_t)(named != 0), now);
	}
out:
	r = st_finish(st, r, "commit put join");
	st_unlock(st);
	return r;
}

int store_agent_join_get(struct store *st, const char *name, const char *key_pin,
    char *labels, size_t labelssz, int *named)
{
	sqlite3_stmt *s = NULL;
	int r;

	labels[0] = '\0';
	*named = 0;
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	if ((r = st_query_row(st, "get join", &s, "SELECT labels, named FROM agent_joins "
	    "WHERE name = ? AND key_pin = ?", "tt", name, key_pin)) == 0 &&
	    (r = st_col_text(s, 0, labels, labelssz, "get join")) == 0) {
		*named = sqlite3_column_int(s, 1) != 0;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_agent_join_rm(struct store *st, const char *name, const char *key_pin)
{
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "remove join", "DELETE FROM agent_joins WHERE name = ? AND "
	    "key_pin = ?", "tt", name, key_pin);
}
