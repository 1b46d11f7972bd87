/*
 * store_sql.c - the helpers that every table family of the SQLite store
 * uses (their contracts are in store_int.h): the lock and transactions,
 * statements with bound parameters, column readers, the paging iterators
 * and the validators of a stored hash's form.
 */
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "store/store_int.h"

void st_lock(struct store *st)
{
	pthread_mutex_lock(&st->mu);
}

void st_unlock(struct store *st)
{
	pthread_mutex_unlock(&st->mu);
}

int st_db_fail(struct store *st, const char *what)
{
	log_error("store: %s: %s", what, sqlite3_errmsg(st->db));
	return ZT_ERR_DB;
}

int st_exec(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		return st_db_fail(st, what);
	}
	return 0;
}

int st_begin(struct store *st, const char *what)
{
	return st_exec(st, "BEGIN IMMEDIATE", what);
}

int st_commit(struct store *st, const char *what)
{
	return st_exec(st, "COMMIT", what);
}

void st_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db)) {
		if (sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) {
			log_error("store: rollback: %s", sqlite3_errmsg(st->db));
		}
	}
}

int st_finish(struct store *st, int r, const char *what)
{
	if (r == 0) {
		r = st_commit(st, what);
	}
	if (r != 0) {
		st_rollback(st);
	}
	return r;
}

/* st_query() with a va_list (store_int.h has the contract). */
static int vquery(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, va_list ap)
{
	sqlite3_stmt *s = NULL;
	int i, rc;

	*out = NULL;
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		goto out;
	}
	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		if (types[i] == 't') {
			rc = sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1,
			    SQLITE_STATIC);
		} else if (types[i] == 'i') {
			rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 'b') {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			if (p == NULL || n == 0) {
				rc = sqlite3_bind_null(s, i + 1);
			} else {
				rc = sqlite3_bind_blob(s, i + 1, p, (int)n, SQLITE_STATIC);
			}
		} else {
			rc = SQLITE_MISUSE;
		}
	}
out:
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return st_db_fail(st, what);
	}
	*out = s;
	return 0;
}

int st_query(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, out, sql, types, ap);
	va_end(ap);
	return r;
}

int st_step(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		return 1;
	}
	if (rc == SQLITE_DONE) {
		return 0;
	}
	switch (sqlite3_extended_errcode(st->db)) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return ZT_ERR_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return ZT_ERR_NOT_FOUND;
	default:
		return st_db_fail(st, what);
	}
}

int st_run(struct store *st, sqlite3_stmt *s, const char *what, int *changes)
{
	int r = st_step(st, s, what);

	if (r == 1) {
		r = 0;
	}
	if (r == 0 && changes != NULL) {
		*changes = sqlite3_changes(st->db);
	}
	return r;
}

int st_query_int64(struct store *st, const char *what, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	*out = 0;
	st_lock(st);
	r = st_query_row(st, what, &s, sql, "");
	if (r == 0) {
		*out = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int st_query_row(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, out, sql, types, ap);
	va_end(ap);
	if (r == 0) {
		r = st_step(st, *out, what);
		r = r == 1 ? 0 : r == 0 ? ZT_ERR_NOT_FOUND : r;
	}
	return r;
}

int st_write1(struct store *st, const char *what, int *changes, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, &s, sql, types, ap);
	va_end(ap);
	if (r == 0) {
		r = st_run(st, s, what, changes);
	}
	sqlite3_finalize(s);
	return r;
}

int st_change1(struct store *st, const char *what, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int r, changes = 0;

	st_lock(st);
	va_start(ap, types);
	r = vquery(st, what, &s, sql, types, ap);
	va_end(ap);
	if (r == 0 && (r = st_run(st, s, what, &changes)) == 0 && changes == 0) {
		r = ZT_ERR_NOT_FOUND;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int st_change_row(struct store *st, const char *what, int (*read)(sqlite3_stmt *s, void *elem),
    void *elem, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int r, done;

	st_lock(st);
	va_start(ap, types);
	r = vquery(st, what, &s, sql, types, ap);
	va_end(ap);
	if (r == 0 && (r = st_step(st, s, what)) == 1) {
		r = elem != NULL ? read(s, elem) : 0;
		/* Stepped to its end whatever the reading gave: the change is
		 * made either way. */
		if ((done = st_step(st, s, what)) != 0) {
			r = done == 1 ? ZT_ERR_DB : done;
		}
	} else if (r == 0) {
		r = ZT_ERR_NOT_FOUND;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int st_col_text(sqlite3_stmt *s, int col, char *dst, size_t dstsz,
    const char *what)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (t == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (n >= dstsz || memchr(t, '\0', n) != NULL) {
		log_error("store: %s: column %d out of bounds", what, col);
		return ZT_ERR_DB;
	}
	memcpy(dst, t, n);
	dst[n] = '\0';
	return 0;
}

char *st_col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return strdup(t == NULL ? "" : (const char *)t);
}

int st_each_page(struct store *st, const char *sql, const char *what, size_t size,
    size_t key_off, const int64_t *extra, int nextra, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx)
{
	char after[ST_PAGE_KEY_MAX + 1] = "";
	sqlite3_stmt *s = NULL;
	uint8_t *page = NULL;
	int r = 0, n, i;

	if ((page = calloc(STORE_PAGE, size)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	do {
		n = 0;
		st_lock(st);
		r = st_query(st, what, &s, sql, "ti", after, (int64_t)STORE_PAGE);
		for (int k = 0; r == 0 && k < nextra; k++) {
			if (sqlite3_bind_int64(s, 3 + k, extra[k]) != SQLITE_OK) {
				r = st_db_fail(st, what);
			}
		}
		if (r == 0) {
			while (n < STORE_PAGE && (r = st_step(st, s, what)) == 1) {
				if ((r = read(s, page + (size_t)n * size)) != 0) {
					break;
				}
				n++;
			}
		}
		sqlite3_finalize(s);
		s = NULL;
		st_unlock(st);
		if (r < 0) {
			goto out;
		}
		for (i = 0; i < n; i++) {
			if ((r = call(page + (size_t)i * size, ctx)) != 0) {
				goto out;
			}
		}
		/* Up to its NUL: the key field may be shorter than after. */
		if (n > 0 && snprintf(after, sizeof(after), "%s",
		    (const char *)(page + (size_t)(n - 1) * size + key_off)) >= (int)sizeof(after)) {
			r = ZT_ERR_INTERNAL; /* not a key this pages by */
			goto out;
		}
	} while (n == STORE_PAGE);
	r = 0;
out:
	free(page);
	return r;
}

int st_each_by_name(struct store *st, const char *sql, const char *what, size_t size,
    size_t name_off, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx)
{
	return st_each_page(st, sql, what, size, name_off, NULL, 0, read, call, ctx);
}

int st_change_unique(struct store *st, const char *what, const char *count_sql,
    const char *change_sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap, again;
	int64_t n;
	int r;

	va_start(ap, types);
	va_copy(again, ap);
	if ((r = st_begin(st, what)) != 0 ||
	    (r = vquery(st, what, &s, count_sql, types, ap)) != 0) {
		goto out;
	}
	if ((r = st_step(st, s, what)) != 1) {
		r = r == 0 ? ZT_ERR_DB : r;
		goto out;
	}
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (n != 1) {
		r = n == 0 ? ZT_ERR_NOT_FOUND : ZT_ERR_EXISTS;
		goto out;
	}
	if ((r = vquery(st, what, &s, change_sql, types, again)) == 0) {
		r = st_run(st, s, what, NULL);
	}
out:
	sqlite3_finalize(s);
	va_end(again);
	va_end(ap);
	return st_finish(st, r, what);
}

int st_hash_valid(const char *h)
{
	return crypto_sha256_hex_valid(h);
}

int st_hash_prefix_valid(const char *p)
{
	size_t i;

	if (p == NULL) {
		return 0;
	}
	for (i = 0; p[i] != '\0'; i++) {
		if (i >= CRYPTO_SHA256_HEX_LEN ||
		    !((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
			return 0;
		}
	}
	return i >= STORE_JOIN_PREFIX_MIN;
}
