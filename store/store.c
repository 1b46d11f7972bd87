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
 *
 * This file opens, configures and migrates the database and answers for
 * it as a whole (its versions, the form of a name); each table family's
 * statements live in a file of their own, on the helpers of store_sql.c
 * (store_int.h says which file holds what).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/name.h"
#include "common/log.h"
#include "store/store_int.h"

#define STORE_BUSY_MS 5000

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
	 * an operator; a join's labels waiting for the agent's next hello, and
	 * whether its token named the agent */
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
	"  named INTEGER NOT NULL,"
	"  joined_at INTEGER NOT NULL,"
	"  PRIMARY KEY (name, key_pin));",
	/* v7: a number that every change of the roles table raises, so that a
	 * process can keep parsed roles until another one changes them */
	"CREATE TABLE role_generation ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  gen INTEGER NOT NULL);"
	"INSERT INTO role_generation(id, gen) VALUES (1, 0);"
	"CREATE TRIGGER roles_gen_insert AFTER INSERT ON roles BEGIN"
	"  UPDATE role_generation SET gen = gen + 1; END;"
	"CREATE TRIGGER roles_gen_update AFTER UPDATE ON roles BEGIN"
	"  UPDATE role_generation SET gen = gen + 1; END;"
	"CREATE TRIGGER roles_gen_delete AFTER DELETE ON roles BEGIN"
	"  UPDATE role_generation SET gen = gen + 1; END;",
	/* v8: calls held for a person (an MFA step-up, another's approval) */
	"CREATE TABLE approvals ("
	"  id TEXT PRIMARY KEY,"
	"  call_id TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  token_hash TEXT NOT NULL,"
	"  tool TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  login TEXT NOT NULL,"
	"  command TEXT,"
	"  args TEXT NOT NULL,"
	"  request_sha256 TEXT NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  rule TEXT NOT NULL,"
	"  need_mfa INTEGER NOT NULL,"
	"  need_approval INTEGER NOT NULL,"
	"  approvers TEXT NOT NULL,"
	"  grant_max INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  mfa_at INTEGER NOT NULL DEFAULT 0,"
	"  approved_by TEXT NOT NULL DEFAULT '',"
	"  approved_at INTEGER NOT NULL DEFAULT 0,"
	"  grant_until INTEGER NOT NULL DEFAULT 0,"
	"  answered_by TEXT NOT NULL DEFAULT '',"
	"  answered_at INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX approvals_state ON approvals(state, expires_at);"
	"CREATE INDEX approvals_grant ON approvals(request_sha256, grant_until);",
	/* v9: an agent advertises resources, not one SSH target: the approved
	 * and pending target and host key become a one-element list named
	 * after the agent (as the short form --ssh still gives), and go */
	"ALTER TABLE agents ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE agents ADD COLUMN pending_resources TEXT NOT NULL DEFAULT '';"
	"UPDATE agents SET resources = json_array(json_object('name', name, 'kind', 'ssh',"
	"  'address', ssh_target, 'host_key', ssh_host_key)) WHERE ssh_target != '';"
	"UPDATE agents SET pending_resources = json_array(json_object('name', name,"
	"  'kind', 'ssh', 'address', pending_target, 'host_key', pending_host_key))"
	"  WHERE pending_target != '';"
	"DROP INDEX agents_host_key;"
	"ALTER TABLE agents DROP COLUMN ssh_target;"
	"ALTER TABLE agents DROP COLUMN ssh_host_key;"
	"ALTER TABLE agents DROP COLUMN pending_target;"
	"ALTER TABLE agents DROP COLUMN pending_host_key;",
	/* v10: recordings of interactive sessions (the files live in the data
	 * directory's recordings/; a row says whose, where and, once ended,
	 * their size and SHA-256) */
	"CREATE TABLE recordings ("
	"  id TEXT PRIMARY KEY,"
	"  actor TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  login TEXT NOT NULL,"
	"  tool TEXT NOT NULL,"
	"  call_id TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  ended_at INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  sha256 TEXT NOT NULL DEFAULT '',"
	"  exit_status INTEGER NOT NULL DEFAULT -1,"
	"  cols INTEGER NOT NULL,"
	"  rows INTEGER NOT NULL);"
	"CREATE INDEX recordings_started ON recordings(started_at);",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- open and migrate ---- */

static int read_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int r;

	r = st_query_row(st, "read schema version", &s, "PRAGMA user_version", "");
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
		if ((r = st_begin(st, "begin migration")) != 0) {
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
			r = st_commit(st, "end migration");
			break;
		}
		if ((r = st_exec(st, migrations[v], "apply migration")) != 0) {
			goto out;
		}
		/* PRAGMA takes no bound parameters; v + 1 is our own counter. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((r = st_exec(st, sql, "set schema version")) != 0) {
			goto out;
		}
		if ((r = st_commit(st, "commit migration")) != 0) {
			goto out;
		}
		log_info("store: migrated database to schema version %d", v + 1);
	}
	st->version = v;
out:
	if (r != 0) {
		st_rollback(st);
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
		r = st_db_fail(st, "set busy timeout");
		goto out;
	}
	if ((r = st_exec(st, "PRAGMA foreign_keys = ON", "enable foreign keys")) != 0 ||
	    (r = st_exec(st, "PRAGMA synchronous = FULL", "set synchronous")) != 0 ||
	    (r = st_exec(st, "PRAGMA secure_delete = ON", "set secure_delete")) != 0) {
		goto out;
	}
	if ((r = st_query_row(st, "set WAL mode", &s, "PRAGMA journal_mode = WAL", "")) != 0) {
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
	int r = st_query_int64(st, "data_version", "PRAGMA data_version", out);

	return r == ZT_ERR_NOT_FOUND ? ZT_ERR_DB : r;
}

int store_schema_version(struct store *st)
{
	int v;

	st_lock(st);
	v = st->version;
	st_unlock(st);
	return v;
}

int store_name_valid(const char *s)
{
	return name_valid(s, STORE_NAME_MAX);
}
