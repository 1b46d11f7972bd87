/*
 * store.c - zt's persistent state in SQLite.
 *
 * One connection per struct store, opened without SQLite's own mutex:
 * st->mu is held around every use of the connection, which also keeps
 * sqlite3_errmsg() tied to the call that failed. The file is created 0600
 * before SQLite opens it; SQLite gives the -wal and -shm files the mode of
 * the database file, so they are 0600 too.
 *
 * Every value reaches SQL through a bound parameter. The only SQL built at
 * run time is "PRAGMA user_version = N", because PRAGMA takes no
 * parameters; N is our own migration counter.
 *
 * Iterators (store_*_each) read a page of rows under the lock, release it,
 * and only then call the caller's function: a long walk (aud_verify over a
 * large log) never blocks appends, and the callback may call the store.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"

#define STORE_BUSY_MS 5000
#define STORE_PAGE 64          /* rows read per lock hold by the iterators */

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
	int version;
};

/*
 * Migrations, applied in order, each in its own transaction. Never edit
 * one that has shipped: append a new one.
 */
static const char *const migrations[] = {
	/* v1 */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT UNIQUE NOT NULL,"
	"  roles TEXT NOT NULL,"
	"  pw_hash TEXT NOT NULL DEFAULT '',"
	"  totp_secret BLOB,"
	"  totp_active INTEGER NOT NULL DEFAULT 0,"
	"  totp_last_step INTEGER NOT NULL DEFAULT -1,"
	"  locked INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE bots ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT UNIQUE NOT NULL,"
	"  roles TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE invites ("
	"  token_hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  expires_at INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX invites_user ON invites(user_id);"
	"CREATE TABLE sessions ("
	"  token_hash TEXT PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	"  bot_id INTEGER REFERENCES bots(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  mfa_verified_at INTEGER NOT NULL DEFAULT 0,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  source TEXT NOT NULL DEFAULT '',"
	"  CHECK ((kind = 1 AND user_id IS NOT NULL AND bot_id IS NULL) OR"
	"         (kind = 2 AND bot_id IS NOT NULL AND user_id IS NULL)));"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE INDEX sessions_bot ON sessions(bot_id);"
	"CREATE INDEX sessions_expires ON sessions(expires_at);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time_ms INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
	/* v2: agent join tokens */
	"CREATE TABLE join_tokens ("
	"  token_hash TEXT PRIMARY KEY,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  uses_left INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL);",
	/* v3: roles, kept as the policy module's JSON form */
	"CREATE TABLE roles ("
	"  name TEXT PRIMARY KEY,"
	"  doc TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL);",
	/* v4: the agents the broker knows, each name bound to one key */
	"CREATE TABLE agents ("
	"  name TEXT PRIMARY KEY,"
	"  key_pin TEXT NOT NULL,"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  ssh_target TEXT NOT NULL DEFAULT '',"
	"  ssh_host_key TEXT NOT NULL DEFAULT '',"
	"  bound_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);",
	/* v5: failed logins are counted in the user's row; a user holds one
	 * usable invite at most, and none once enrolled (store_invite_add
	 * keeps it so from now on): retire the rest. */
	"ALTER TABLE users ADD COLUMN login_failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN login_window_start INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN login_blocked_until INTEGER NOT NULL DEFAULT 0;"
	"UPDATE invites SET used = 1 WHERE used = 0 AND"
	"  user_id IN (SELECT id FROM users WHERE totp_active = 1);"
	"UPDATE invites SET used = 1 WHERE used = 0 AND rowid < (SELECT max(i.rowid)"
	"  FROM invites i WHERE i.user_id = invites.user_id AND i.used = 0);",
	/* v6: what a join token grants; an agent's approved claims (the v4
	 * columns) and what it advertised since (pending); an agent locked by
	 * an operator; a join's labels waiting for the agent's first hello */
	"ALTER TABLE join_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE join_tokens ADD COLUMN labels TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE agents ADD COLUMN pending_labels TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE agents ADD COLUMN pending_target TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE agents ADD COLUMN pending_host_key TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE agents ADD COLUMN pending_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE agents ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX agents_host_key ON agents(ssh_host_key);"
	"CREATE TABLE agent_joins ("
	"  name TEXT NOT NULL,"
	"  key_pin TEXT NOT NULL,"
	"  labels TEXT NOT NULL,"
	"  joined_at INTEGER NOT NULL,"
	"  PRIMARY KEY (name, key_pin));",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- small helpers; all are called with st->mu held ---- */

static void lock(struct store *st)
{
	pthread_mutex_lock(&st->mu);
}

static void unlock(struct store *st)
{
	pthread_mutex_unlock(&st->mu);
}

static int db_fail(struct store *st, const char *what)
{
	log_error("store: %s: %s", what, sqlite3_errmsg(st->db));
	return ZT_ERR_DB;
}

static int exec(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		return db_fail(st, what);
	}
	return 0;
}

static int begin(struct store *st, const char *what)
{
	return exec(st, "BEGIN IMMEDIATE", what);
}

static int commit(struct store *st, const char *what)
{
	return exec(st, "COMMIT", what);
}

/* Rolls back if a transaction is open; safe to call on any error path. */
static void rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db)) {
		if (sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) {
			log_error("store: rollback: %s", sqlite3_errmsg(st->db));
		}
	}
}

/* Ends a transaction begun by begin(): commits if r is 0, else (or if the
 * commit fails) rolls back. Returns r or the commit's error. */
static int finish(struct store *st, int r, const char *what)
{
	if (r == 0) {
		r = commit(st, what);
	}
	if (r != 0) {
		rollback(st);
	}
	return r;
}

/*
 * Prepares sql and binds parameters 1..n from a type string: 't' const
 * char * (text), 'i' int64_t, 'b' const void * then size_t (blob; NULL or
 * 0 bytes binds SQL NULL). Values must outlive the statement's execution
 * (they are bound without a copy). On error *out is NULL.
 */
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
		return db_fail(st, what);
	}
	*out = s;
	return 0;
}

static int query(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, out, sql, types, ap);
	va_end(ap);
	return r;
}

/*
 * Steps once: 1 for a row, 0 when done, ZT_ERR_EXISTS for a UNIQUE or
 * PRIMARY KEY conflict, ZT_ERR_NOT_FOUND for a missing referenced row
 * (foreign key), else ZT_ERR_DB (logged).
 */
static int step(struct store *st, sqlite3_stmt *s, const char *what)
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
		return db_fail(st, what);
	}
}

/* Runs a statement that returns no rows; *changes (may be NULL) gets the
 * number of rows it changed. */
static int run(struct store *st, sqlite3_stmt *s, const char *what, int *changes)
{
	int r = step(st, s, what);

	if (r == 1) {
		r = 0;
	}
	if (r == 0 && changes != NULL) {
		*changes = sqlite3_changes(st->db);
	}
	return r;
}

/* query() then the first step: 0 with the statement on its first row,
 * ZT_ERR_NOT_FOUND if there is none, or an error. The caller finalizes. */
static int query_row(struct store *st, const char *what, sqlite3_stmt **out, const char *sql,
    const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, out, sql, types, ap);
	va_end(ap);
	if (r == 0) {
		r = step(st, *out, what);
		r = r == 1 ? 0 : r == 0 ? ZT_ERR_NOT_FOUND : r;
	}
	return r;
}

/* Runs one statement that returns no rows: 0 or an error from step();
 * *changes (may be NULL) gets the number of rows it changed. */
static int write1(struct store *st, const char *what, int *changes, const char *sql,
    const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = vquery(st, what, &s, sql, types, ap);
	va_end(ap);
	if (r == 0) {
		r = run(st, s, what, changes);
	}
	sqlite3_finalize(s);
	return r;
}

/* Copies a TEXT column into dst; NULL reads as "". A value that does not
 * fit means the file was not written by zt: ZT_ERR_DB. */
static int col_text(sqlite3_stmt *s, int col, char *dst, size_t dstsz,
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

/* A dup of a TEXT column ("" for NULL); NULL on ENOMEM. */
static char *col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return strdup(t == NULL ? "" : (const char *)t);
}

/*
 * Pages through rows in the order of a text key (a name, or a token hash,
 * which fits the same buffer): sql takes (?1 key after, ?2 limit), then
 * ?3.. the nextra values of extra. read fills one element of size bytes
 * whose key is at key_off; call hands an element to the caller's function.
 */
static int each_page(struct store *st, const char *sql, const char *what, size_t size,
    size_t key_off, const int64_t *extra, int nextra, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx)
{
	char after[STORE_NAME_MAX + 1] = "";
	sqlite3_stmt *s = NULL;
	uint8_t *page = NULL;
	int r = 0, n, i;

	if ((page = calloc(STORE_PAGE, size)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	do {
		n = 0;
		lock(st);
		r = query(st, what, &s, sql, "ti", after, (int64_t)STORE_PAGE);
		for (int k = 0; r == 0 && k < nextra; k++) {
			if (sqlite3_bind_int64(s, 3 + k, extra[k]) != SQLITE_OK) {
				r = db_fail(st, what);
			}
		}
		if (r == 0) {
			while (n < STORE_PAGE && (r = step(st, s, what)) == 1) {
				if ((r = read(s, page + (size_t)n * size)) != 0) {
					break;
				}
				n++;
			}
		}
		sqlite3_finalize(s);
		s = NULL;
		unlock(st);
		if (r < 0) {
			goto out;
		}
		for (i = 0; i < n; i++) {
			if ((r = call(page + (size_t)i * size, ctx)) != 0) {
				goto out;
			}
		}
		if (n > 0) {
			memcpy(after, page + (size_t)(n - 1) * size + key_off, sizeof(after));
		}
	} while (n == STORE_PAGE);
	r = 0;
out:
	free(page);
	return r;
}

/* each_page over a table of named rows (users, bots, roles, agents) in
 * name order, with no further parameters. */
static int each_by_name(struct store *st, const char *sql, const char *what, size_t size,
    size_t name_off, int (*read)(sqlite3_stmt *s, void *elem),
    int (*call)(const void *elem, void *ctx), void *ctx)
{
	return each_page(st, sql, what, size, name_off, NULL, 0, read, call, ctx);
}

/*
 * In one transaction, counts the rows that count_sql counts and, when
 * there is exactly one, runs change_sql (an UPDATE or DELETE of the same
 * rows); both take the same parameters (types and the values after it).
 * 0, ZT_ERR_NOT_FOUND (no row), ZT_ERR_EXISTS (several: nothing changed)
 * or a store error. Caller holds the lock. It serves removal and
 * revocation by a hash prefix, which must name one token, not several.
 */
static int change_unique(struct store *st, const char *what, const char *count_sql,
    const char *change_sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap, again;
	int64_t n;
	int r;

	va_start(ap, types);
	va_copy(again, ap);
	if ((r = begin(st, what)) != 0 || (r = vquery(st, what, &s, count_sql, types, ap)) != 0) {
		goto out;
	}
	if ((r = step(st, s, what)) != 1) {
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
		r = run(st, s, what, NULL);
	}
out:
	sqlite3_finalize(s);
	va_end(again);
	va_end(ap);
	return finish(st, r, what);
}

/* True if h is the stored form of a token: 64 lower-case hex digits. */
static int hash_valid(const char *h)
{
	size_t i;

	if (h == NULL) {
		return 0;
	}
	for (i = 0; i < CRYPTO_SHA256_HEX_LEN; i++) {
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) {
			return 0;
		}
	}
	return h[i] == '\0';
}

/* True if p is STORE_JOIN_PREFIX_MIN..64 lower-case hex digits. */
static int hash_prefix_valid(const char *p)
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

static int roles_valid(const char *roles)
{
	return roles != NULL && strlen(roles) <= STORE_ROLES_MAX;
}

/* ---- open and migrate ---- */

static int read_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int r;

	r = query_row(st, "read schema version", &s, "PRAGMA user_version", "");
	if (r == 0) {
		*version = sqlite3_column_int(s, 0);
	}
	sqlite3_finalize(s);
	return r == ZT_ERR_NOT_FOUND ? ZT_ERR_DB : r;
}

/*
 * Applies one migration at a time, each under BEGIN IMMEDIATE with the
 * version re-read inside the transaction, so that two processes opening the
 * same new file do not both apply it.
 */
static int migrate(struct store *st)
{
	char sql[64];
	int r = 0, v = 0;

	for (;;) {
		if ((r = begin(st, "begin migration")) != 0) {
			goto out;
		}
		if ((r = read_version(st, &v)) != 0) {
			goto out;
		}
		if (v < 0 || v > N_MIGRATIONS) {
			log_error("store: database schema version %d is not one this zt "
			    "supports (0..%d); is it from a newer zt?", v, N_MIGRATIONS);
			r = ZT_ERR_INVALID;
			goto out;
		}
		if (v == N_MIGRATIONS) {
			r = commit(st, "end migration");
			break;
		}
		if ((r = exec(st, migrations[v], "apply migration")) != 0) {
			goto out;
		}
		/* PRAGMA takes no bound parameters; v + 1 is our own counter. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((r = exec(st, sql, "set schema version")) != 0) {
			goto out;
		}
		if ((r = commit(st, "commit migration")) != 0) {
			goto out;
		}
		log_info("store: migrated database to schema version %d", v + 1);
	}
	st->version = v;
out:
	if (r != 0) {
		rollback(st);
	}
	return r;
}

/* Creates the file 0600 if it is missing, so SQLite never creates it with
 * the umask's mode; refuses anything but a regular file. */
static int create_file(const char *path)
{
	struct stat sb;
	int fd = -1, r = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		log_error("store: open %s: %s", path, strerror(errno));
		r = ZT_ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		log_error("store: stat %s: %s", path, strerror(errno));
		r = ZT_ERR_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_error("store: %s is not a regular file", path);
		r = ZT_ERR_IO;
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		log_warn("store: %s is accessible by group or others (mode %04o); "
		    "it holds password hashes and TOTP secrets", path,
		    (unsigned)(sb.st_mode & 07777));
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	return r;
}

/* Per-connection settings; PRAGMA journal_mode answers with the mode it
 * ended up in, which must be WAL. */
static int configure(struct store *st)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int r;

	sqlite3_extended_result_codes(st->db, 1);
	/* Defensive mode refuses writable_schema and other ways to corrupt the
	 * file through this connection; untrusted schema code stays inert. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK) {
		r = db_fail(st, "set busy timeout");
		goto out;
	}
	if ((r = exec(st, "PRAGMA foreign_keys = ON", "enable foreign keys")) != 0 ||
	    (r = exec(st, "PRAGMA synchronous = FULL", "set synchronous")) != 0 ||
	    (r = exec(st, "PRAGMA secure_delete = ON", "set secure_delete")) != 0) {
		goto out;
	}
	if ((r = query_row(st, "set WAL mode", &s, "PRAGMA journal_mode = WAL", "")) != 0) {
		r = r == ZT_ERR_NOT_FOUND ? ZT_ERR_DB : r;
		goto out;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		log_error("store: could not switch to WAL journal mode");
		r = ZT_ERR_DB;
		goto out;
	}
out:
	sqlite3_finalize(s);
	return r;
}

int store_open(const char *path, struct store **out)
{
	struct store *st = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if (path == NULL || *path == '\0') {
		return ZT_ERR_INVALID;
	}
	if ((r = create_file(path)) != 0) {
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		free(st);
		st = NULL;
		r = ZT_ERR_INTERNAL;
		goto out;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		log_error("store: open %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		r = ZT_ERR_DB;
		goto out;
	}
	if ((r = configure(st)) != 0 || (r = migrate(st)) != 0) {
		goto out;
	}
	*out = st;
	st = NULL;
out:
	store_free(st);
	return r;
}

void store_free(struct store *st)
{
	if (st == NULL) {
		return;
	}
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK) {
		log_error("store: close: %s", sqlite3_errmsg(st->db));
	}
	pthread_mutex_destroy(&st->mu);
	free(st);
}

int store_data_version(struct store *st, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	lock(st);
	r = query(st, "data_version", &s, "PRAGMA data_version", "");
	if (r == 0 && (r = step(st, s, "data_version")) == 1) {
		*out = sqlite3_column_int64(s, 0);
		r = 0;
	} else if (r == 0) {
		r = ZT_ERR_DB;
	}
	sqlite3_finalize(s);
	unlock(st);
	return r;
}

int store_schema_version(struct store *st)
{
	int v;

	lock(st);
	v = st->version;
	unlock(st);
	return v;
}

int store_name_valid(const char *s)
{
	size_t i;

	if (s == NULL) {
		return 0;
	}
	for (i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char)s[i];

		if (i >= STORE_NAME_MAX) {
			return 0;
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			continue;
		}
		if (i > 0 && (c == '.' || c == '_' || c == '-')) {
			continue;
		}
		return 0;
	}
	return i > 0;
}

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
	lock(st);
	if ((r = begin(st, "begin add")) != 0) {
		goto out;
	}
	r = query_row(st, "check name", &s, other_sql, "t", name);
	if (r != ZT_ERR_NOT_FOUND) {
		r = r == 0 ? ZT_ERR_EXISTS : r;
		goto out;
	}
	if ((r = write1(st, "add", NULL, insert_sql, "tti", name, roles, now)) != 0) {
		goto out;
	}
	if (id != NULL) {
		*id = sqlite3_last_insert_rowid(st->db);
	}
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit add");
	unlock(st);
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
	if ((r = col_text(s, 1, u->name, sizeof(u->name), "read user")) != 0 ||
	    (r = col_text(s, 2, u->roles, sizeof(u->roles), "read user")) != 0) {
		goto out;
	}
	if (with_secrets) {
		if ((r = col_text(s, 3, u->pw_hash, sizeof(u->pw_hash), "read user")) != 0) {
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
	lock(st);
	r = name != NULL ?
	    query_row(st, "get user", &s, "SELECT " USER_COLS " FROM users WHERE name = ?",
	    "t", name) :
	    query_row(st, "get user", &s, "SELECT " USER_COLS " FROM users WHERE id = ?",
	    "i", id);
	if (r == 0) {
		r = read_user(s, 1, out);
	}
	sqlite3_finalize(s);
	unlock(st);
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
	return each_by_name(st, "SELECT " USER_COLS " FROM users WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list users", sizeof(struct store_user),
	    offsetof(struct store_user, name), read_user_listed, call_user, &c);
}

/* Runs one UPDATE or DELETE under the lock: ZT_ERR_NOT_FOUND if it touched
 * no row. */
static int change1(struct store *st, const char *what, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int r, changes = 0;

	lock(st);
	va_start(ap, types);
	r = vquery(st, what, &s, sql, types, ap);
	va_end(ap);
	if (r == 0 && (r = run(st, s, what, &changes)) == 0 && changes == 0) {
		r = ZT_ERR_NOT_FOUND;
	}
	sqlite3_finalize(s);
	unlock(st);
	return r;
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
	r = change1(st, "set credentials", "UPDATE users SET pw_hash = ?, totp_secret = ?, "
	    "totp_active = 0, totp_last_step = -1 WHERE id = ? AND totp_active = 0", "tbi",
	    pw_hash, (const void *)totp, totp_len, id);
	if (r == ZT_ERR_NOT_FOUND) {
		/* Only naming the refusal; the decision is made. */
		lock(st);
		r = query_row(st, "set credentials", &s, "SELECT 1 FROM users WHERE id = ?", "i", id);
		sqlite3_finalize(s);
		unlock(st);
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
	if (!hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	if ((r = query_row(st, "get invite", &s, "SELECT user_id, expires_at, used "
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
	lock(st);
	if ((r = begin(st, "begin enrol")) != 0 ||
	    (r = invite_check(st, invite_hash, now, &owner)) != 0) {
		goto out;
	}
	if (owner != id) {
		r = ZT_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = write1(st, "use invite", NULL, "UPDATE invites SET used = 1 "
	    "WHERE token_hash = ?", "t", invite_hash)) != 0 ||
	    (r = write1(st, "activate TOTP", &changes, "UPDATE users SET totp_active = 1, "
	    "totp_last_step = ? WHERE id = ? AND totp_active = 0 AND totp_secret = ?", "iib",
	    step_no, id, (const void *)totp, totp_len)) != 0 || changes == 1) {
		goto out;
	}
	/* Only naming the refusal; the transaction is rolled back. */
	if ((r = query_row(st, "enrol", &s, "SELECT totp_active FROM users WHERE id = ?", "i",
	    id)) == 0) {
		r = sqlite3_column_int(s, 0) != 0 ? ZT_ERR_EXISTS : ZT_ERR_AUTH;
	}
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit enrol");
	unlock(st);
	return r;
}

int store_user_consume_step(struct store *st, int64_t id, int64_t step_no)
{
	sqlite3_stmt *s = NULL;
	int r;

	/* One conditional UPDATE: of two logins racing with the same code, only
	 * one sees a changed row. */
	r = change1(st, "consume TOTP step", "UPDATE users SET totp_last_step = ? "
	    "WHERE id = ? AND totp_last_step < ?", "iii", step_no, id, step_no);
	if (r == ZT_ERR_NOT_FOUND) {
		/* Only telling an unknown user from a replay; the decision is made. */
		lock(st);
		r = query_row(st, "consume TOTP step", &s, "SELECT 1 FROM users WHERE id = ?",
		    "i", id);
		sqlite3_finalize(s);
		unlock(st);
		r = r == 0 ? ZT_ERR_REPLAY : r;
	}
	return r;
}

/* Revokes the live sessions of a user or bot; *count gets how many. A
 * revocation time of 0 would read as "not revoked", hence max(now, 1). */
static int revoke_principal(struct store *st, enum store_principal kind, int64_t id,
    int64_t now, int *count)
{
	return write1(st, "revoke sessions", count, kind == STORE_USER ?
	    "UPDATE sessions SET revoked_at = max(?, 1) "
	    "WHERE user_id = ? AND revoked_at = 0 AND expires_at > ?" :
	    "UPDATE sessions SET revoked_at = max(?, 1) "
	    "WHERE bot_id = ? AND revoked_at = 0 AND expires_at > ?", "iii", now, id, now);
}

int store_user_set_locked(struct store *st, const char *name, int locked, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r;

	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	/* Unlocking is an administrator's word that the account may log in
	 * again: the failed-login block goes too. */
	if ((r = begin(st, "begin lock")) != 0 ||
	    (r = query_row(st, "lock user", &s, "UPDATE users SET locked = ?1, "
	    "login_failures = iif(?1, login_failures, 0), "
	    "login_blocked_until = iif(?1, login_blocked_until, 0) WHERE name = ?2 "
	    "RETURNING id", "it", (int64_t)(locked != 0), name)) != 0) {
		goto out;
	}
	id = sqlite3_column_int64(s, 0);
	if ((r = step(st, s, "lock user")) < 0) {
		goto out;
	}
	r = locked ? revoke_principal(st, STORE_USER, id, now, NULL) : 0;
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit lock");
	unlock(st);
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
	lock(st);
	if ((r = exec(st, "PRAGMA synchronous = NORMAL", "set synchronous")) != 0 ||
	    (r = begin(st, "begin login count")) != 0 ||
	    (r = query_row(st, "read login count", &s, "SELECT login_failures, "
	    "login_window_start, login_blocked_until FROM users WHERE id = ?", "i", id)) != 0) {
		goto out;
	}
	c.failures = sqlite3_column_int64(s, 0);
	c.window_start = sqlite3_column_int64(s, 1);
	c.blocked_until = sqlite3_column_int64(s, 2);
	if ((ret = fn(&c, arg)) >= 0) {
		r = write1(st, "write login count", NULL, "UPDATE users SET login_failures = ?, "
		    "login_window_start = ?, login_blocked_until = ? WHERE id = ?", "iiii",
		    c.failures, c.window_start, c.blocked_until, id);
	}
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit login count");
	/* Every other write stays durable before it returns. */
	if (exec(st, "PRAGMA synchronous = FULL", "set synchronous") != 0) {
		r = ZT_ERR_DB;
	}
	unlock(st);
	return r != 0 ? r : ret;
}

int store_user_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	/* The foreign keys cascade to invites and sessions. */
	return change1(st, "delete user", "DELETE FROM users WHERE name = ?", "t", name);
}

/* Retires the user's unused invites and adds token_hash for the user, so
 * that a user holds one usable invite at most. Caller holds the lock and a
 * transaction. */
static int invite_replace(struct store *st, const char *token_hash, int64_t user_id,
    int64_t expires_at)
{
	int r;

	if ((r = write1(st, "retire invites", NULL, "UPDATE invites SET used = 1 "
	    "WHERE user_id = ? AND used = 0", "i", user_id)) != 0) {
		return r;
	}
	return write1(st, "add invite", NULL, "INSERT INTO invites(token_hash, user_id, "
	    "expires_at) VALUES (?, ?, ?)", "tii", token_hash, user_id, expires_at);
}

int store_user_reset(struct store *st, const char *name, int64_t now, const char *invite_hash,
    int64_t expires_at, int *revoked)
{
	sqlite3_stmt *s = NULL;
	int64_t id;
	int r, count = 0;

	if (!hash_valid(invite_hash)) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	if ((r = begin(st, "begin reset")) != 0 ||
	    (r = query_row(st, "reset user", &s, "UPDATE users SET pw_hash = '', "
	    "totp_secret = NULL, totp_active = 0, totp_last_step = -1, login_failures = 0, "
	    "login_blocked_until = 0 WHERE name = ? RETURNING id", "t", name)) != 0) {
		goto out;
	}
	id = sqlite3_column_int64(s, 0);
	if ((r = step(st, s, "reset user")) < 0 ||
	    (r = revoke_principal(st, STORE_USER, id, now, &count)) != 0) {
		goto out;
	}
	r = invite_replace(st, invite_hash, id, expires_at);
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit reset");
	unlock(st);
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

	if (!hash_valid(token_hash)) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	if ((r = begin(st, "begin add invite")) != 0 ||
	    (r = query_row(st, "add invite", &s, "SELECT totp_active FROM users WHERE id = ?",
	    "i", user_id)) != 0) {
		goto out;
	}
	/* An invite lets its holder set the password and TOTP secret: for an
	 * enrolled account, that is an administrator's explicit reset. */
	r = sqlite3_column_int(s, 0) != 0 ? ZT_ERR_EXISTS :
	    invite_replace(st, token_hash, user_id, expires_at);
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit add invite");
	unlock(st);
	return r;
}

int store_invite_get(struct store *st, const char *token_hash, int64_t now, int64_t *user_id)
{
	int r;

	if (user_id == NULL) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	r = invite_check(st, token_hash, now, user_id);
	unlock(st);
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
	if ((r = col_text(s, 1, b->name, sizeof(b->name), "read bot")) != 0 ||
	    (r = col_text(s, 2, b->roles, sizeof(b->roles), "read bot")) != 0) {
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
	lock(st);
	r = query_row(st, "get bot", &s, "SELECT " BOT_COLS " FROM bots WHERE name = ?", "t",
	    name);
	if (r == 0) {
		r = read_bot(s, out);
	}
	sqlite3_finalize(s);
	unlock(st);
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
	return each_by_name(st, "SELECT " BOT_COLS " FROM bots WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list bots", sizeof(struct store_bot),
	    offsetof(struct store_bot, name), read_bot, call_bot, &c);
}

int store_bot_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	/* The foreign key cascades to the bot's tokens. */
	return change1(st, "delete bot", "DELETE FROM bots WHERE name = ?", "t", name);
}

/* ---- sessions ---- */

/* Inserts a session row: 0, ZT_ERR_INVALID (malformed) or a store error.
 * Caller holds the lock. */
static int session_insert(struct store *st, const struct store_session *ss)
{
	int64_t user_id, bot_id;

	if (ss == NULL || !hash_valid(ss->token_hash) ||
	    (ss->kind != STORE_USER && ss->kind != STORE_BOT) ||
	    memchr(ss->source, '\0', sizeof(ss->source)) == NULL) {
		return ZT_ERR_INVALID;
	}
	user_id = ss->kind == STORE_USER ? ss->principal_id : 0;
	bot_id = ss->kind == STORE_BOT ? ss->principal_id : 0;
	/* nullif() gives the other principal's column the NULL that the CHECK
	 * constraint wants; ids start at 1. */
	return write1(st, "add session", NULL, "INSERT INTO sessions(token_hash, kind, user_id, "
	    "bot_id, created_at, expires_at, mfa_verified_at, source) "
	    "VALUES (?, ?, nullif(?, 0), nullif(?, 0), ?, ?, ?, ?)", "tiiiiiit", ss->token_hash,
	    (int64_t)ss->kind, user_id, bot_id, ss->created_at, ss->expires_at,
	    ss->kind == STORE_USER ? ss->mfa_verified_at : (int64_t)0, ss->source);
}

int store_session_add(struct store *st, const struct store_session *ss)
{
	int r;

	lock(st);
	r = session_insert(st, ss);
	unlock(st);
	return r;
}

int store_session_replace(struct store *st, const struct store_session *ss)
{
	int r, count = 0;

	if (ss == NULL) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	if ((r = begin(st, "begin replace sessions")) == 0 &&
	    (r = revoke_principal(st, ss->kind, ss->principal_id, ss->created_at, &count)) == 0) {
		r = session_insert(st, ss);
	}
	r = finish(st, r, "commit replace sessions");
	unlock(st);
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
	if (!hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	if ((r = query_row(st, "get session", &s, "SELECT s.kind, "
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
	if ((r = col_text(s, 6, ss.source, sizeof(ss.source), "get session")) != 0 ||
	    (r = col_text(s, 7, ss.name, sizeof(ss.name), "get session")) != 0 ||
	    (r = col_text(s, 8, ss.roles, sizeof(ss.roles), "get session")) != 0) {
		goto out;
	}
	*out = ss;
out:
	sqlite3_finalize(s);
	unlock(st);
	return r;
}

int store_session_revoke(struct store *st, const char *token_hash, int64_t now)
{
	if (!hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "revoke session", "UPDATE sessions SET revoked_at = max(?, 1) "
	    "WHERE token_hash = ? AND revoked_at = 0", "it", now, token_hash);
}

int store_session_revoke_all(struct store *st, enum store_principal kind, int64_t principal_id,
    int64_t now)
{
	int r, count = 0;

	if (kind != STORE_USER && kind != STORE_BOT) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	r = revoke_principal(st, kind, principal_id, now, &count);
	unlock(st);
	return r != 0 ? r : count;
}

/* The live sessions of one principal: ?3 kind, ?4 its id, ?5 now (?1 and
 * ?2 are each_page's key and limit, or a hash prefix and an unused 0). */
#define LIVE_OF_PRINCIPAL "((?3 = 1 AND user_id = ?4) OR (?3 = 2 AND bot_id = ?4)) AND " \
	"revoked_at = 0 AND expires_at > ?5"

int store_session_revoke_prefix(struct store *st, enum store_principal kind,
    int64_t principal_id, const char *hash_prefix, int64_t now)
{
	int r;

	if (!hash_prefix_valid(hash_prefix) || (kind != STORE_USER && kind != STORE_BOT)) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	/* substr(), not LIKE: LIKE ignores case and has wildcards. */
	r = change_unique(st, "revoke session", "SELECT count(*) FROM sessions WHERE "
	    "substr(token_hash, 1, length(?1)) = ?1 AND " LIVE_OF_PRINCIPAL,
	    "UPDATE sessions SET revoked_at = max(?5, 1) WHERE "
	    "substr(token_hash, 1, length(?1)) = ?1 AND " LIVE_OF_PRINCIPAL, "tiiii", hash_prefix,
	    (int64_t)0, (int64_t)kind, principal_id, now);
	unlock(st);
	return r;
}

static int read_session(sqlite3_stmt *s, void *elem)
{
	struct store_session *ss = elem;
	int r;

	memset(ss, 0, sizeof(*ss));
	if ((r = col_text(s, 0, ss->token_hash, sizeof(ss->token_hash), "read session")) != 0 ||
	    (r = col_text(s, 5, ss->source, sizeof(ss->source), "read session")) != 0) {
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
	return each_page(st, "SELECT token_hash, kind, created_at, expires_at, mfa_verified_at, "
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
	lock(st);
	r = write1(st, "prune sessions", &changes, "DELETE FROM sessions WHERE expires_at < ?",
	    "i", now - grace_s);
	unlock(st);
	return r != 0 ? r : changes;
}

/* ---- audit ---- */

int store_audit_append(struct store *st, struct store_audit_row *row,
    int (*hash)(struct store_audit_row *row, void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (row == NULL || hash == NULL || row->type == NULL || row->actor == NULL ||
	    row->source == NULL || row->outcome == NULL || row->details == NULL) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	if ((r = begin(st, "begin audit append")) != 0) {
		goto out;
	}
	r = query_row(st, "read audit head", &s,
	    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "");
	if (r == 0) {
		row->seq = sqlite3_column_int64(s, 0) + 1;
		r = col_text(s, 1, row->prev_hash, sizeof(row->prev_hash), "read audit head");
	} else if (r == ZT_ERR_NOT_FOUND) {
		row->seq = 1;
		memset(row->prev_hash, '0', CRYPTO_SHA256_HEX_LEN);
		row->prev_hash[CRYPTO_SHA256_HEX_LEN] = '\0';
		r = 0;
	}
	if (r != 0) {
		goto out;
	}
	row->hash[0] = '\0';
	if ((r = hash(row, arg)) != 0) {
		goto out;
	}
	if (memchr(row->hash, '\0', sizeof(row->hash)) == NULL) {
		r = ZT_ERR_INTERNAL;
		goto out;
	}
	if ((r = write1(st, "append audit row", NULL, "INSERT INTO audit(seq, time_ms, type, "
	    "actor, source, outcome, details, prev_hash, hash) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "iittttttt", row->seq, row->time_ms,
	    row->type, row->actor, row->source, row->outcome, row->details, row->prev_hash,
	    row->hash)) != 0) {
		goto out;
	}
out:
	sqlite3_finalize(s);
	r = finish(st, r, "commit audit append");
	unlock(st);
	return r;
}

/* One audit row with its own copies of the strings. */
struct audit_copy {
	struct store_audit_row row;
	char *str[5];
};

static void audit_copy_clear(struct audit_copy *c)
{
	for (size_t i = 0; i < 5; i++) {
		free(c->str[i]);
		c->str[i] = NULL;
	}
}

/* Copies a hash column; one of the wrong size is kept as "" rather than
 * refused, so that aud_verify names the row instead of failing. */
static void col_hash(sqlite3_stmt *s, int col, char out[STORE_HASH_HEX])
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	out[0] = '\0';
	if (t != NULL && n < STORE_HASH_HEX) {
		memcpy(out, t, n + 1);
	}
}

static int read_audit(sqlite3_stmt *s, struct audit_copy *c)
{
	size_t i;

	memset(&c->row, 0, sizeof(c->row));
	c->row.seq = sqlite3_column_int64(s, 0);
	c->row.time_ms = sqlite3_column_int64(s, 1);
	for (i = 0; i < 5; i++) {
		if ((c->str[i] = col_dup(s, (int)i + 2)) == NULL) {
			return ZT_ERR_NOMEM;
		}
	}
	c->row.type = c->str[0];
	c->row.actor = c->str[1];
	c->row.source = c->str[2];
	c->row.outcome = c->str[3];
	c->row.details = c->str[4];
	col_hash(s, 7, c->row.prev_hash);
	col_hash(s, 8, c->row.hash);
	return 0;
}

int store_audit_head(struct store *st, int64_t *seq)
{
	sqlite3_stmt *s = NULL;
	int r;

	*seq = 0;
	lock(st);
	r = query_row(st, "read audit head", &s, "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1",
	    "");
	if (r == 0) {
		*seq = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	unlock(st);
	return r == ZT_ERR_NOT_FOUND ? 0 : r;
}

int store_audit_each(struct store *st, int64_t after_seq, int64_t since_ms,
    int (*fn)(const struct store_audit_row *row, void *arg), void *arg)
{
	struct audit_copy *page = NULL;
	sqlite3_stmt *s = NULL;
	int r = 0, n = 0, i;

	if (fn == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((page = calloc(STORE_PAGE, sizeof(*page))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	do {
		for (i = 0; i < n; i++) {
			audit_copy_clear(&page[i]);
		}
		n = 0;
		lock(st);
		if ((r = query(st, "read audit", &s, "SELECT seq, time_ms, type, actor, source, "
		    "outcome, details, prev_hash, hash FROM audit WHERE seq > ? AND time_ms >= ? "
		    "ORDER BY seq LIMIT ?", "iii", after_seq, since_ms,
		    (int64_t)STORE_PAGE)) == 0) {
			while (n < STORE_PAGE && (r = step(st, s, "read audit")) == 1) {
				/* Counted before reading so a partial copy is freed. */
				n++;
				if ((r = read_audit(s, &page[n - 1])) != 0) {
					break;
				}
			}
		}
		sqlite3_finalize(s);
		s = NULL;
		unlock(st);
		if (r < 0) {
			goto out;
		}
		for (i = 0; i < n; i++) {
			if ((r = fn(&page[i].row, arg)) != 0) {
				goto out;
			}
		}
		if (n > 0) {
			after_seq = page[n - 1].row.seq;
		}
	} while (n == STORE_PAGE);
	r = 0;
out:
	for (i = 0; i < n; i++) {
		audit_copy_clear(&page[i]);
	}
	free(page);
	return r;
}

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

	if (!hash_valid(token_hash) || uses < 1 || uses > STORE_JOIN_USES_MAX ||
	    created_by == NULL || *created_by == '\0' || expires_at <= now ||
	    (claims != NULL && (!FITS(claims->name) || !FITS(claims->labels) ||
	    (name[0] != '\0' && !store_name_valid(name))))) {
		return ZT_ERR_INVALID;
	}
	if (strlen(created_by) > STORE_JOIN_BY_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	lock(st);
	r = write1(st, "add join token", NULL, "INSERT INTO join_tokens(token_hash, created_at, "
	    "expires_at, uses_left, created_by, name, labels) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "tiiittt", token_hash, now, expires_at, uses, created_by, name, labels);
	unlock(st);
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
	if (!hash_valid(token_hash)) {
		return ZT_ERR_NOT_FOUND;
	}
	name = name != NULL ? name : "";
	lock(st);
	/* One conditional UPDATE decides: of several joins racing for the last
	 * use, only one changes the row, even across processes. */
	if ((r = query(st, "use join token", &s, "UPDATE join_tokens "
	    "SET uses_left = uses_left - 1 WHERE token_hash = ? AND uses_left > 0 AND "
	    "expires_at > ? AND (name = '' OR name = ?) RETURNING name, labels", "tit", token_hash,
	    now, name)) != 0) {
		goto out;
	}
	if ((r = step(st, s, "use join token")) == 1) {
		if ((r = col_text(s, 0, got.name, sizeof(got.name), "use join token")) == 0 &&
		    (r = col_text(s, 1, got.labels, sizeof(got.labels), "use join token")) == 0) {
			r = step(st, s, "use join token"); /* runs the UPDATE to its end */
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
	if ((r = query_row(st, "use join token", &s, "SELECT uses_left, expires_at, name "
	    "FROM join_tokens WHERE token_hash = ?", "t", token_hash)) != 0) {
		goto out;
	}
	r = sqlite3_column_int64(s, 0) <= 0 ? ZT_ERR_REPLAY :
	    sqlite3_column_int64(s, 1) <= now ? ZT_ERR_EXPIRED : ZT_ERR_DENIED;
out:
	sqlite3_finalize(s);
	unlock(st);
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
	if ((r = col_text(s, 0, t->token_hash, sizeof(t->token_hash), "read join token")) != 0 ||
	    (r = col_text(s, 4, t->created_by, sizeof(t->created_by), "read join token")) != 0 ||
	    (r = col_text(s, 5, t->claims.name, sizeof(t->claims.name), "read join token")) != 0 ||
	    (r = col_text(s, 6, t->claims.labels, sizeof(t->claims.labels),
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
	return each_by_name(st, "SELECT " JOIN_COLS " FROM join_tokens WHERE token_hash > ? "
	    "ORDER BY token_hash LIMIT ?", "list join tokens", sizeof(struct store_join_token),
	    offsetof(struct store_join_token, token_hash), read_join_token, call_join_token, &c);
}

int store_join_token_rm(struct store *st, const char *hash_prefix)
{
	int r;

	if (!hash_prefix_valid(hash_prefix)) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	/* substr(), not LIKE: LIKE ignores case and has wildcards. */
	r = change_unique(st, "remove join token", "SELECT count(*) FROM join_tokens "
	    "WHERE substr(token_hash, 1, length(?1)) = ?1", "DELETE FROM join_tokens "
	    "WHERE substr(token_hash, 1, length(?1)) = ?1", "t", hash_prefix);
	unlock(st);
	return r;
}

/* ---- roles ---- */

int store_role_put(struct store *st, const char *name, const char *doc, int64_t now)
{
	int r;

	if (!store_name_valid(name) || doc == NULL || strlen(doc) > STORE_ROLE_DOC_MAX) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	r = write1(st, "put role", NULL, "INSERT INTO roles(name, doc, updated_at) VALUES(?, ?, ?) "
	    "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
	    "tti", name, doc, now);
	unlock(st);
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
	lock(st);
	r = query_row(st, "get role", &s, "SELECT doc FROM roles WHERE name = ?", "t", name);
	if (r == 0 && (*doc = col_dup(s, 0)) == NULL) {
		r = ZT_ERR_NOMEM;
	}
	sqlite3_finalize(s);
	unlock(st);
	return r;
}

int store_role_rm(struct store *st, const char *name)
{
	int changes = 0, r;

	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	r = write1(st, "remove role", &changes, "DELETE FROM roles WHERE name = ?", "t", name);
	unlock(st);
	return r == 0 && changes == 0 ? ZT_ERR_NOT_FOUND : r;
}

static int read_role(sqlite3_stmt *s, void *elem)
{
	struct store_role_ref *ref = elem;

	memset(ref, 0, sizeof(*ref));
	ref->updated_at = sqlite3_column_int64(s, 1);
	return col_text(s, 0, ref->name, sizeof(ref->name), "read role");
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
	return each_by_name(st, "SELECT name, updated_at FROM roles WHERE name > ? ORDER BY name "
	    "LIMIT ?", "list roles", sizeof(struct store_role_ref),
	    offsetof(struct store_role_ref, name), read_role, call_role, &c);
}

/* ---- agents ---- */

/* True if p is a key pin: "sha256:" and 64 lower-case hex digits. */
static int pin_valid(const char *p)
{
	return p != NULL && strncmp(p, "sha256:", 7) == 0 && hash_valid(p + 7);
}

/* True if c holds three strings, labels not empty. */
static int claims_valid(const struct store_agent_claims *c)
{
	return c != NULL && FITS(c->labels) && c->labels[0] != '\0' && FITS(c->ssh_target) &&
	    FITS(c->ssh_host_key);
}

int store_agent_bind(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *c, int64_t now)
{
	int r, changes = 0;

	if (!store_name_valid(name) || !pin_valid(key_pin) || !claims_valid(c)) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	/* One statement decides: a name bound already, or a host key approved
	 * for another name, inserts nothing, so of two connections racing for
	 * a new name, even from two processes, exactly one key wins. */
	r = write1(st, "bind agent", &changes, "INSERT INTO agents(name, key_pin, labels, "
	    "ssh_target, ssh_host_key, bound_at, last_seen) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 "
	    "WHERE NOT EXISTS (SELECT 1 FROM agents WHERE ssh_host_key = ?5) "
	    "ON CONFLICT(name) DO NOTHING", "ttttti", name, key_pin, c->labels, c->ssh_target,
	    c->ssh_host_key, now);
	unlock(st);
	return r == 0 && changes == 0 ? ZT_ERR_EXISTS : r;
}

int store_agent_key_owner(struct store *st, const char *host_key, const char *except,
    char owner[STORE_NAME_MAX + 1])
{
	sqlite3_stmt *s = NULL;
	int r;

	owner[0] = '\0';
	if (host_key == NULL || except == NULL) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	if ((r = query_row(st, "find host key", &s, "SELECT name FROM agents "
	    "WHERE ssh_host_key = ? AND name != ? ORDER BY name LIMIT 1", "tt", host_key,
	    except)) == 0) {
		r = col_text(s, 0, owner, STORE_NAME_MAX + 1, "find host key");
	}
	sqlite3_finalize(s);
	unlock(st);
	return r;
}

int store_agent_pend(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *c, int64_t now)
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
	return change1(st, "record pending claims", "UPDATE agents SET "
	    "pending_at = CASE WHEN ?1 = '' THEN 0 WHEN pending_labels = ?1 AND "
	    "pending_target = ?2 AND pending_host_key = ?3 AND pending_at > 0 THEN pending_at "
	    "ELSE ?4 END, pending_labels = ?1, pending_target = ?2, pending_host_key = ?3, "
	    "last_seen = ?4 WHERE name = ?5 AND key_pin = ?6", "tttitt", c->labels, c->ssh_target,
	    c->ssh_host_key, now, name, key_pin);
}

int store_agent_set_labels(struct store *st, const char *name, const char *key_pin,
    const char *labels)
{
	if (labels == NULL || labels[0] == '\0' || strlen(labels) > STORE_AGENT_LABELS_MAX) {
		return ZT_ERR_INVALID;
	}
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "set agent labels", "UPDATE agents SET labels = ? "
	    "WHERE name = ? AND key_pin = ?", "ttt", labels, name, key_pin);
}

int store_agent_set_locked(struct store *st, const char *name, int locked)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "lock agent", "UPDATE agents SET locked = ? WHERE name = ?", "it",
	    (int64_t)(locked != 0), name);
}

int store_agent_seen(struct store *st, const char *name, const char *key_pin, int64_t now)
{
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "record agent seen", "UPDATE agents SET last_seen = ? "
	    "WHERE name = ? AND key_pin = ?", "itt", now, name, key_pin);
}

#define AGENT_COLS "name, key_pin, labels, ssh_target, ssh_host_key, bound_at, last_seen, " \
	"pending_labels, pending_target, pending_host_key, pending_at, locked"

static int read_claims(sqlite3_stmt *s, int col, struct store_agent_claims *c)
{
	int r;

	if ((r = col_text(s, col, c->labels, sizeof(c->labels), "read agent")) != 0 ||
	    (r = col_text(s, col + 1, c->ssh_target, sizeof(c->ssh_target), "read agent")) != 0) {
		return r;
	}
	return col_text(s, col + 2, c->ssh_host_key, sizeof(c->ssh_host_key), "read agent");
}

static int read_agent(sqlite3_stmt *s, void *elem)
{
	struct store_agent *ag = elem;
	int r;

	memset(ag, 0, sizeof(*ag));
	if ((r = col_text(s, 0, ag->name, sizeof(ag->name), "read agent")) != 0 ||
	    (r = col_text(s, 1, ag->key_pin, sizeof(ag->key_pin), "read agent")) != 0 ||
	    (r = read_claims(s, 2, &ag->claims)) != 0 ||
	    (r = read_claims(s, 7, &ag->pending)) != 0) {
		return r;
	}
	ag->bound_at = sqlite3_column_int64(s, 5);
	ag->last_seen = sqlite3_column_int64(s, 6);
	ag->pending_at = sqlite3_column_int64(s, 10);
	ag->locked = sqlite3_column_int(s, 11) != 0;
	return 0;
}

/* One agent's row, with st->mu held. */
static int agent_get(struct store *st, const char *name, struct store_agent *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = query_row(st, "get agent", &s, "SELECT " AGENT_COLS " FROM agents "
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
	lock(st);
	r = agent_get(st, name, out);
	unlock(st);
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
	lock(st);
	if ((r = begin(st, "begin approve agent")) != 0 || (r = agent_get(st, name, row)) != 0) {
		goto out;
	}
	if (row->pending_at <= 0) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if ((r = write1(st, "approve agent", &changes, "UPDATE agents SET "
	    "labels = pending_labels, ssh_target = pending_target, "
	    "ssh_host_key = pending_host_key, pending_labels = '', pending_target = '', "
	    "pending_host_key = '', pending_at = 0 WHERE name = ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM agents o WHERE o.name != ?1 AND "
	    "o.ssh_host_key = agents.pending_host_key)", "t", name)) == 0 && changes == 0) {
		r = ZT_ERR_EXISTS;
	}
out:
	r = finish(st, r, "commit approve agent");
	unlock(st);
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
	return each_by_name(st, "SELECT " AGENT_COLS " FROM agents WHERE name > ? "
	    "ORDER BY name LIMIT ?", "list agents", sizeof(struct store_agent),
	    offsetof(struct store_agent, name), read_agent, call_agent, &c);
}

int store_agent_rm(struct store *st, const char *name)
{
	if (!store_name_valid(name)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "remove agent", "DELETE FROM agents WHERE name = ?", "t", name);
}

int store_agent_join_put(struct store *st, const char *name, const char *key_pin,
    const char *labels, int64_t now)
{
	int r;

	if (!store_name_valid(name) || !pin_valid(key_pin) || labels == NULL ||
	    strlen(labels) > STORE_AGENT_LABELS_MAX) {
		return ZT_ERR_INVALID;
	}
	lock(st);
	if ((r = begin(st, "begin put join")) != 0) {
		goto out;
	}
	/* Joins whose agent never said hello are forgotten after a while. */
	if ((r = write1(st, "forget old joins", NULL, "DELETE FROM agent_joins "
	    "WHERE joined_at < ?", "i", now - STORE_AGENT_JOIN_KEEP_S)) == 0) {
		r = write1(st, "put join", NULL, "INSERT INTO agent_joins(name, key_pin, labels, "
		    "joined_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name, key_pin) DO UPDATE SET "
		    "labels = excluded.labels, joined_at = excluded.joined_at", "ttti", name,
		    key_pin, labels, now);
	}
out:
	r = finish(st, r, "commit put join");
	unlock(st);
	return r;
}

int store_agent_join_get(struct store *st, const char *name, const char *key_pin,
    char *labels, size_t labelssz)
{
	sqlite3_stmt *s = NULL;
	int r;

	labels[0] = '\0';
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	lock(st);
	if ((r = query_row(st, "get join", &s, "SELECT labels FROM agent_joins WHERE name = ? "
	    "AND key_pin = ?", "tt", name, key_pin)) == 0) {
		r = col_text(s, 0, labels, labelssz, "get join");
	}
	sqlite3_finalize(s);
	unlock(st);
	return r;
}

int store_agent_join_rm(struct store *st, const char *name, const char *key_pin)
{
	if (!store_name_valid(name) || !pin_valid(key_pin)) {
		return ZT_ERR_NOT_FOUND;
	}
	return change1(st, "remove join", "DELETE FROM agent_joins WHERE name = ? AND "
	    "key_pin = ?", "tt", name, key_pin);
}
