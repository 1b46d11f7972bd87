/*
 * store_int.h - private to store/: the body of struct store and the
 * helpers that the SQLite backend's files share. Nothing outside store/
 * includes this; the contract is store.h.
 *
 * The files: store.c opens, configures and migrates the database;
 * store_sql.c holds the helpers below; one file per table family holds
 * that family's statements (store_users.c, store_sessions.c,
 * store_audit.c, store_roles.c, store_agents.c, store_approvals.c,
 * store_recordings.c).
 *
 * Locking: st->mu is held around every use of the connection. Unless a
 * helper says it takes the lock itself, it is called with st->mu held.
 */
#ifndef ZT_STORE_INT_H
#define ZT_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

#define STORE_PAGE 64          /* rows read per lock hold by the iterators */

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
	int version;
};

/* ---- the lock and transactions ---- */

/* Take and release st->mu. */
void st_lock(struct store *st);
void st_unlock(struct store *st);
/* Logs what failed with SQLite's message; returns ZT_ERR_DB. */
int st_db_fail(struct store *st, const char *what);
/* Runs sql (no parameters, no rows wanted): 0 or ZT_ERR_DB (logged as
 * what). */
int st_exec(struct store *st, const char *sql, const char *what);
/* BEGIN IMMEDIATE: takes the database's write lock at the start (waiting
 * up to the busy timeout), so no other writer comes between a
 * transaction's reads and its writes. */
int st_begin(struct store *st, const char *what);
int st_commit(struct store *st, const char *what);
/* Rolls back if a transaction is open; safe to call on any error path. */
void st_rollback(struct store *st);
/* Ends a transaction begun by st_begin(): commits if r is 0, else (or if the
 * commit fails) rolls back. Returns r or the commit's error. */
int st_finish(struct store *st, int r, const char *what);

/* ---- statements ---- */

/*
 * Prepares sql into *out and binds parameters 1..n from a type string: 't'
 * const char * (text), 'i' int64_t, 'b' const void * then size_t (blob;
 * NULL or 0 bytes binds SQL NULL). Values must outlive the statement's
 * execution (they are bound without a copy). On error *out is NULL. The
 * caller finalizes.
 */
int st_query(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...);
/*
 * Steps once: 1 for a row, 0 when done, ZT_ERR_EXISTS for a UNIQUE or
 * PRIMARY KEY conflict, ZT_ERR_NOT_FOUND for a missing referenced row
 * (foreign key), else ZT_ERR_DB (logged).
 */
int st_step(struct store *st, sqlite3_stmt *s, const char *what);
/* Runs a statement that returns no rows; *changes (may be NULL) gets the
 * number of rows it changed. */
int st_run(struct store *st, sqlite3_stmt *s, const char *what, int *changes);
/* st_query() then the first step: 0 with the statement on its first row,
 * ZT_ERR_NOT_FOUND if there is none, or an error. The caller finalizes. */
int st_query_row(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...);
/* Under the lock: the integer in the first column of the first row of sql
 * (no parameters) into *out. 0, ZT_ERR_NOT_FOUND when there is no row
 * (*out is 0), or an error. */
int st_query_int64(struct store *st, const char *what, const char *sql, int64_t *out);
/* Runs one statement that returns no rows: 0 or an error from st_step();
 * *changes (may be NULL) gets the number of rows it changed. */
int st_write1(struct store *st, const char *what, int *changes, const char *sql,
    const char *types, ...);
/* Runs one UPDATE or DELETE under the lock (taken here): ZT_ERR_NOT_FOUND
 * if it touched no row. */
int st_change1(struct store *st, const char *what, const char *sql, const char *types, ...);
/* Runs one INSERT or UPDATE of a single row whose RETURNING clause gives
 * the row as it is after the change, under the lock (taken here): 0 with
 * read(s, elem) filled from it (elem may be NULL: not read), or
 * ZT_ERR_NOT_FOUND if it changed no row (elem untouched). */
int st_change_row(struct store *st, const char *what, int (*read)(sqlite3_stmt *s, void *elem),
    void *elem, const char *sql, const char *types, ...);
/*
 * In one transaction, counts the rows that count_sql counts and, when
 * there is exactly one, runs change_sql (an UPDATE or DELETE of the same
 * rows); both take the same parameters (types and the values after it).
 * 0, ZT_ERR_NOT_FOUND (no row), ZT_ERR_EXISTS (several: nothing changed)
 * or a store error. Caller holds the lock. It serves removal and
 * revocation by a hash prefix, which must name one token, not several.
 */
int st_change_unique(struct store *st, const char *what, const char *count_sql,
    const char *change_sql, const char *types, ...);

/* ---- columns ---- */

/* Copies a TEXT column into dst; NULL reads as "". A value that does not
 * fit means the file was not written by zt: ZT_ERR_DB. */
int st_col_text(sqlite3_stmt *s, int col, char *dst, size_t dstsz, const char *what);
/* A dup of a TEXT column ("" for NULL); NULL on ENOMEM. */
char *st_col_dup(sqlite3_stmt *s, int col);

/* ---- iterators (they take the lock themselves, a page at a time) ---- */

/* The text keys st_each_page pages by: names, and token hashes. */
#define ST_PAGE_KEY_MAX (STORE_NAME_MAX > STORE_HASH_HEX - 1 ? STORE_NAME_MAX : \
	STORE_HASH_HEX - 1)
/*
 * Pages through rows in the order of a text key (a name, or a token hash;
 * at most ST_PAGE_KEY_MAX bytes): sql takes (?1 key after, ?2 limit), then
 * ?3.. the nextra values of extra. read fills one element of size bytes
 * whose key is at key_off; call hands an element to the caller's function.
 * Each page of STORE_PAGE rows is read under the lock, which is released
 * before call runs, so call may use the store. Returns 0 at the end, call's
 * non-zero value, or an error.
 */
int st_each_page(struct store *st, const char *sql, const char *what, size_t size,
    size_t key_off, const int64_t *extra, int nextra, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx);
/* st_each_page over a table of named rows (users, bots, roles, agents) in
 * name order, with no further parameters. */
int st_each_by_name(struct store *st, const char *sql, const char *what, size_t size,
    size_t name_off, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx);

/* ---- validators (no lock needed) ---- */

/* True if h is the stored form of a token: 64 lower-case hex digits. */
int st_hash_valid(const char *h);
/* True if p is STORE_JOIN_PREFIX_MIN..64 lower-case hex digits. */
int st_hash_prefix_valid(const char *p);

/* ---- store_sessions.c, for the users' family ---- */

/* Revokes the live sessions of a user or bot; *count (may be NULL) gets
 * how many. A revocation time of 0 would read as "not revoked", hence
 * max(now, 1). */
int st_revoke_principal(struct store *st, enum store_principal kind, int64_t id,
    int64_t now, int *count);

#endif
