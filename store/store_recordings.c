/*
 * store_recordings.c - the rows of session recordings (store.h,
 * "recordings"). The files are the broker's (broker/brk_recordings.h);
 * these rows say whose each one is, and once it ended, the size and
 * SHA-256 its end event binds. A row is ended once: the UPDATE that ends
 * it requires ended_at = 0.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_int.h"

#define COLUMNS "id, actor, host, login, tool, call_id, started_at, ended_at, bytes, " \
	"sha256, exit_status, cols, rows"

static int id_valid(const char *id)
{
	return id != NULL && strlen(id) == STORE_REC_ID_LEN &&
	    strspn(id, "0123456789abcdef") == STORE_REC_ID_LEN;
}

/* True if s is a string that fits in a field of size bytes. */
static int fits(const char *s, size_t size)
{
	return s != NULL && strlen(s) < size;
}

static int read_recording(sqlite3_stmt *s, void *elem)
{
	struct store_recording *r = elem;
	const char *w = "read recording";
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = st_col_text(s, 0, r->id, sizeof(r->id), w)) != 0 ||
	    (rc = st_col_text(s, 1, r->actor, sizeof(r->actor), w)) != 0 ||
	    (rc = st_col_text(s, 2, r->host, sizeof(r->host), w)) != 0 ||
	    (rc = st_col_text(s, 3, r->login, sizeof(r->login), w)) != 0 ||
	    (rc = st_col_text(s, 4, r->tool, sizeof(r->tool), w)) != 0 ||
	    (rc = st_col_text(s, 5, r->call_id, sizeof(r->call_id), w)) != 0 ||
	    (rc = st_col_text(s, 9, r->sha256, sizeof(r->sha256), w)) != 0) {
		return rc;
	}
	r->started_at = sqlite3_column_int64(s, 6);
	r->ended_at = sqlite3_column_int64(s, 7);
	r->bytes = sqlite3_column_int64(s, 8);
	r->exit_status = sqlite3_column_int(s, 10);
	r->cols = sqlite3_column_int(s, 11);
	r->rows = sqlite3_column_int(s, 12);
	return 0;
}

int store_recording_add(struct store *st, const struct store_recording *r)
{
	if (r == NULL || !id_valid(r->id) || !fits(r->actor, sizeof(r->actor)) ||
	    !fits(r->host, sizeof(r->host)) || !fits(r->login, sizeof(r->login)) ||
	    !fits(r->tool, sizeof(r->tool)) || !fits(r->call_id, sizeof(r->call_id))) {
		return ZT_ERR_INVALID;
	}
	return st_change_row(st, "add recording", NULL, NULL, "INSERT INTO recordings(id, "
	    "actor, host, login, tool, call_id, started_at, cols, rows) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", "ttttttiii", r->id, r->actor, r->host,
	    r->login, r->tool, r->call_id, r->started_at, (int64_t)r->cols, (int64_t)r->rows);
}

int store_recording_end(struct store *st, const char *id, int64_t ended_at, int64_t bytes,
    const char *sha256, int exit_status)
{
	if (!id_valid(id)) {
		return ZT_ERR_NOT_FOUND;
	}
	if (sha256 == NULL || (sha256[0] != '\0' && !st_hash_valid(sha256)) || bytes < 0) {
		return ZT_ERR_INVALID;
	}
	return st_change1(st, "end recording", "UPDATE recordings SET ended_at = ?, "
	    "bytes = ?, sha256 = ?, exit_status = ? WHERE id = ? AND ended_at = 0", "iitit",
	    ended_at, bytes, sha256, (int64_t)exit_status, id);
}

int store_recording_get(struct store *st, const char *id, struct store_recording *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!id_valid(id)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_query_row(st, "get recording", &s, "SELECT " COLUMNS " FROM recordings "
	    "WHERE id = ?", "t", id);
	if (r == 0) {
		r = read_recording(s, out);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

/* Reads up to limit rows f selects into all[], *n of them. */
static int list_rows(struct store *st, const struct store_recording_filter *f, int limit,
    struct store_recording *all, size_t *n)
{
	const char *host = f != NULL && f->host != NULL ? f->host : "";
	const char *actor = f != NULL && f->actor != NULL ? f->actor : "";
	int64_t running = f != NULL && f->running;
	sqlite3_stmt *s = NULL;
	int r;

	*n = 0;
	st_lock(st);
	r = st_query(st, "list recordings", &s, "SELECT " COLUMNS " FROM recordings WHERE "
	    "(?1 = '' OR host = ?1) AND (?2 = '' OR actor = ?2) AND (?4 = 0 OR ended_at = 0) "
	    "ORDER BY started_at DESC, id DESC LIMIT ?3", "ttii", host, actor, (int64_t)limit,
	    running);
	while (r == 0 && *n < (size_t)limit && (r = st_step(st, s, "list recordings")) == 1) {
		r = read_recording(s, &all[*n]);
		*n += r == 0;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_recording_list(struct store *st, const struct store_recording_filter *f,
    int (*fn)(const struct store_recording *r, void *arg), void *arg)
{
	struct store_recording *all = NULL;
	int limit = f != NULL && f->limit != 0 ? f->limit : STORE_REC_LIST_MAX;
	size_t n = 0;
	int r;

	if (limit < 1 || limit > STORE_REC_LIST_MAX) {
		return ZT_ERR_INVALID;
	}
	if ((all = calloc((size_t)limit, sizeof(*all))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = list_rows(st, f, limit, all, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = fn(&all[i], arg);
	}
	free(all);
	return r;
}
