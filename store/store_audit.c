/*
 * store_audit.c - the audit table: appending a row under one transaction
 * with the previous row's hash (the chain itself is computed by audit/),
 * and reading rows back in seq order. The table is append-only: its
 * triggers refuse UPDATE and DELETE.
 */
#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "store/store_int.h"

int store_audit_append(struct store *st, struct store_audit_row *row,
    int (*hash)(struct store_audit_row *row, void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (row == NULL || hash == NULL || row->type == NULL || row->actor == NULL ||
	    row->source == NULL || row->outcome == NULL || row->details == NULL) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	if ((r = st_begin(st, "begin audit append")) != 0) {
		goto out;
	}
	r = st_query_row(st, "read audit head", &s,
	    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "");
	if (r == 0) {
		row->seq = sqlite3_column_int64(s, 0) + 1;
		r = st_col_text(s, 1, row->prev_hash, sizeof(row->prev_hash), "read audit head");
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
	if ((r = st_write1(st, "append audit row", NULL, "INSERT INTO audit(seq, time_ms, type, "
	    "actor, source, outcome, details, prev_hash, hash) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "iittttttt", row->seq, row->time_ms,
	    row->type, row->actor, row->source, row->outcome, row->details, row->prev_hash,
	    row->hash)) != 0) {
		goto out;
	}
out:
	sqlite3_finalize(s);
	r = st_finish(st, r, "commit audit append");
	st_unlock(st);
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
		if ((c->str[i] = st_col_dup(s, (int)i + 2)) == NULL) {
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
	int r = st_query_int64(st, "read audit head",
	    "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1", seq);

	return r == ZT_ERR_NOT_FOUND ? 0 : r;
}

/* One statement per order; a NULL argument leaves its condition out
 * (fixed SQL: no text is ever spliced in). A type "prefix*" compares the
 * prefix with substr, not LIKE, so that '%' and '_' mean themselves. */
#define AUDIT_SELECT "SELECT seq, time_ms, type, actor, source, outcome, details, " \
	"prev_hash, hash FROM audit WHERE seq > ?1 AND seq < ?2 AND time_ms >= ?3 AND " \
	"time_ms < ?4 AND (?5 IS NULL OR actor = ?5) AND (?6 IS NULL OR type = ?6) AND " \
	"(?7 IS NULL OR substr(type, 1, length(?7)) = ?7) AND " \
	"(?8 IS NULL OR outcome = ?8) AND (?9 IS NULL OR instr(details, ?9) > 0) "

/* Splits f->type into an exact type or a prefix (the trailing '*' cut,
 * into pre). */
static int type_cond(const char *type, const char **exact, const char **prefix,
    char *pre, size_t presz)
{
	size_t n;

	*exact = NULL;
	*prefix = NULL;
	if (type == NULL) {
		return 0;
	}
	n = strlen(type);
	if (n == 0 || type[n - 1] != '*') {
		*exact = type;
		return 0;
	}
	if (n > presz) {
		return ZT_ERR_INVALID;
	}
	memcpy(pre, type, n - 1);
	pre[n - 1] = '\0';
	*prefix = pre;
	return 0;
}

int store_audit_query(struct store *st, const struct store_audit_filter *f,
    int (*fn)(const struct store_audit_row *row, void *arg), void *arg)
{
	struct audit_copy *page = NULL;
	sqlite3_stmt *s = NULL;
	const char *exact = NULL, *prefix = NULL;
	char pre[STORE_AUDIT_TEXT_MAX + 1];
	int64_t after, before;
	int r = 0, n = 0, i;

	if (f == NULL || fn == NULL ||
	    type_cond(f->type, &exact, &prefix, pre, sizeof(pre)) != 0) {
		return ZT_ERR_INVALID;
	}
	after = f->after_seq;
	before = f->before_seq > 0 ? f->before_seq : INT64_MAX;
	if ((page = calloc(STORE_PAGE, sizeof(*page))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	do {
		for (i = 0; i < n; i++) {
			audit_copy_clear(&page[i]);
		}
		n = 0;
		st_lock(st);
		if ((r = st_query(st, "read audit", &s, f->desc ?
		    AUDIT_SELECT "ORDER BY seq DESC LIMIT ?10" :
		    AUDIT_SELECT "ORDER BY seq LIMIT ?10", "iiiittttti", after, before, f->from_ms,
		    f->to_ms, f->actor, exact, prefix, f->outcome, f->text,
		    (int64_t)STORE_PAGE)) == 0) {
			while (n < STORE_PAGE && (r = st_step(st, s, "read audit")) == 1) {
				/* Counted before reading so a partial copy is freed. */
				n++;
				if ((r = read_audit(s, &page[n - 1])) != 0) {
					break;
				}
			}
		}
		sqlite3_finalize(s);
		s = NULL;
		st_unlock(st);
		if (r < 0) {
			goto out;
		}
		for (i = 0; i < n; i++) {
			if ((r = fn(&page[i].row, arg)) != 0) {
				goto out;
			}
		}
		if (n > 0 && f->desc) {
			before = page[n - 1].row.seq;
		} else if (n > 0) {
			after = page[n - 1].row.seq;
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

int store_audit_each(struct store *st, int64_t after_seq, int64_t since_ms,
    int (*fn)(const struct store_audit_row *row, void *arg), void *arg)
{
	struct store_audit_filter f = { .after_seq = after_seq, .from_ms = since_ms,
	    .to_ms = INT64_MAX };

	return store_audit_query(st, &f, fn, arg);
}
