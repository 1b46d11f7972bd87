/*
 * store_roles.c - the roles table: each role document kept, by name, in
 * the policy module's JSON form (policy/ parses it; the store does not).
 */
#include "store/store.h"

#include <stddef.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_int.h"

int store_role_put(struct store *st, const char *name, const char *doc, int64_t now)
{
	int r;

	if (!store_name_valid(name) || doc == NULL || strlen(doc) > STORE_ROLE_DOC_MAX) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	r = st_write1(st, "put role", NULL, "INSERT INTO roles(name, doc, updated_at) "
	    "VALUES(?, ?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc, "
	    "updated_at = excluded.updated_at", "tti", name, doc, now);
	st_unlock(st);
	return r;
}

int store_role_get(struct store *st, const char *name, char **doc)
{
	sqlite3_stmt *s = NULL;
	int r;

	*doc = NULL;
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_query_row(st, "get role", &s, "SELECT doc FROM roles WHERE name = ?", "t", name);
	if (r == 0 && (*doc = st_col_dup(s, 0)) == NULL) {
		r = ZT_ERR_NOMEM;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_role_rm(struct store *st, const char *name)
{
	int changes = 0, r;

	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_write1(st, "remove role", &changes, "DELETE FROM roles WHERE name = ?", "t", name);
	st_unlock(st);
	return r == 0 && changes == 0 ? ZT_ERR_NOT_FOUND : r;
}

static int read_role(sqlite3_stmt *s, void *elem)
{
	struct store_role_ref *ref = elem;

	memset(ref, 0, sizeof(*ref));
	ref->updated_at = sqlite3_column_int64(s, 1);
	return st_col_text(s, 0, ref->name, sizeof(ref->name), "read role");
}

struct role_each_ctx {
	int (*fn)(const struct store_role_ref *ref, void *arg);
	void *arg;
};

static int call_role(const void *elem, void *ctx)
{
	struct role_each_ctx *c = ctx;

	return c->fn(elem, c->arg);
}

int store_role_each(struct store *st, int (*fn)(const struct store_role_ref *ref, void *arg),
    void *arg)
{
	struct role_each_ctx c = { fn, arg };

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	return st_each_by_name(st, "SELECT name, updated_at FROM roles WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list roles", sizeof(struct store_role_ref),
	    offsetof(struct store_role_ref, name), read_role, call_role, &c);
}

int store_role_generation(struct store *st, int64_t *gen)
{
	int r = st_query_int64(st, "read the roles' generation",
	    "SELECT gen FROM role_generation WHERE id = 1", gen);

	/* Migration v7 made the row; it is never removed. */
	return r == ZT_ERR_NOT_FOUND ? ZT_ERR_DB : r;
}
