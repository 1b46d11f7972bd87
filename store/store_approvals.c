/*
 * store_approvals.c - calls held for a person (store.h, "approvals"). Every
 * change of state is one conditional UPDATE, so two answers racing for one
 * request cannot both win, and an approval is used once.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_int.h"


#define COLUMNS "id, call_id, actor, token_hash, tool, host, login, command, args, request_sha256, " \
	"generation, rule, need_mfa, need_approval, approvers, grant_max, created_at, " \
	"expires_at, state, mfa_at, approved_by, approved_at, grant_until, answered_by, " \
	"answered_at, reason"

void store_approval_clear(struct store_approval *a)
{
	if (a != NULL) {
		free(a->command);
		free(a->args);
		a->command = NULL;
		a->args = NULL;
	}
}

static int id_valid(const char *id)
{
	return id != NULL && strlen(id) == STORE_APPROVAL_ID_LEN &&
	    strspn(id, "0123456789abcdef") == STORE_APPROVAL_ID_LEN;
}

static int read_approval(sqlite3_stmt *s, void *elem)
{
	struct store_approval *a = elem;
	const char *w = "read approval";
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = st_col_text(s, 0, a->id, sizeof(a->id), w)) != 0 ||
	    (r = st_col_text(s, 1, a->call_id, sizeof(a->call_id), w)) != 0 ||
	    (r = st_col_text(s, 2, a->actor, sizeof(a->actor), w)) != 0 ||
	    (r = st_col_text(s, 3, a->token_hash, sizeof(a->token_hash), w)) != 0 ||
	    (r = st_col_text(s, 4, a->tool, sizeof(a->tool), w)) != 0 ||
	    (r = st_col_text(s, 5, a->host, sizeof(a->host), w)) != 0 ||
	    (r = st_col_text(s, 6, a->login, sizeof(a->login), w)) != 0 ||
	    (r = st_col_text(s, 9, a->request_sha256, sizeof(a->request_sha256), w)) != 0 ||
	    (r = st_col_text(s, 11, a->rule, sizeof(a->rule), w)) != 0 ||
	    (r = st_col_text(s, 14, a->approvers, sizeof(a->approvers), w)) != 0 ||
	    (r = st_col_text(s, 18, a->state, sizeof(a->state), w)) != 0 ||
	    (r = st_col_text(s, 20, a->approved_by, sizeof(a->approved_by), w)) != 0 ||
	    (r = st_col_text(s, 23, a->answered_by, sizeof(a->answered_by), w)) != 0 ||
	    (r = st_col_text(s, 25, a->reason, sizeof(a->reason), w)) != 0) {
		return r;
	}
	if ((sqlite3_column_type(s, 7) != SQLITE_NULL &&
	    (a->command = st_col_dup(s, 7)) == NULL) || (a->args = st_col_dup(s, 8)) == NULL) {
		store_approval_clear(a);
		return ZT_ERR_NOMEM;
	}
	a->generation = sqlite3_column_int64(s, 10);
	a->need_mfa = sqlite3_column_int(s, 12);
	a->need_approval = sqlite3_column_int(s, 13);
	a->grant_max = sqlite3_column_int64(s, 15);
	a->created_at = sqlite3_column_int64(s, 16);
	a->expires_at = sqlite3_column_int64(s, 17);
	a->mfa_at = sqlite3_column_int64(s, 19);
	a->approved_at = sqlite3_column_int64(s, 21);
	a->grant_until = sqlite3_column_int64(s, 22);
	a->answered_at = sqlite3_column_int64(s, 24);
	return 0;
}

int store_approval_add(struct store *st, const struct store_approval *a)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (a == NULL || !id_valid(a->id) || !st_hash_valid(a->request_sha256) ||
	    a->args == NULL) {
		return ZT_ERR_INVALID;
	}
	st_lock(st);
	r = st_query(st, "add approval", &s, "INSERT INTO approvals(id, call_id, actor, "
	    "token_hash, tool, host, login, command, args, request_sha256, generation, rule, "
	    "need_mfa, need_approval, approvers, grant_max, created_at, expires_at, state) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
	    "tttttttttti" "tiitiii", a->id, a->call_id, a->actor, a->token_hash, a->tool, a->host, a->login,
	    a->command, a->args, a->request_sha256, a->generation, a->rule,
	    (int64_t)a->need_mfa, (int64_t)a->need_approval, a->approvers, a->grant_max,
	    a->created_at, a->expires_at);
	if (r == 0) {
		r = st_run(st, s, "add approval", NULL);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_approval_get(struct store *st, const char *id, struct store_approval *out)
{
	sqlite3_stmt *s = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!id_valid(id)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_query_row(st, "get approval", &s, "SELECT " COLUMNS " FROM approvals WHERE id = ?",
	    "t", id);
	if (r == 0) {
		r = read_approval(s, out);
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

int store_approval_stepup(struct store *st, const char *id, int64_t at)
{
	if (!id_valid(id)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "step up for approval", "UPDATE approvals SET mfa_at = ?1, "
	    "state = CASE WHEN need_approval = 0 OR approved_at > 0 THEN 'approved' "
	    "ELSE 'pending' END WHERE id = ?2 AND state = 'pending' AND expires_at > ?1 AND "
	    "mfa_at = 0 AND need_mfa > 0", "it", at, id);
}

int store_approval_approve(struct store *st, const char *id, const char *by, int64_t at,
    int64_t grant_until)
{
	if (!id_valid(id) || by == NULL) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "approve", "UPDATE approvals SET approved_by = ?2, "
	    "approved_at = ?1, grant_until = ?3, "
	    "state = CASE WHEN need_mfa = 0 OR mfa_at > 0 THEN 'approved' ELSE 'pending' END "
	    "WHERE id = ?4 AND state = 'pending' AND expires_at > ?1 AND approved_at = 0 AND "
	    "need_approval = 1", "itit", at, by, grant_until, id);
}

int store_approval_end(struct store *st, const char *id, const char *state, const char *by,
    const char *reason, int64_t at)
{
	if (!id_valid(id) || state == NULL || (strcmp(state, "denied") != 0 &&
	    strcmp(state, "expired") != 0 && strcmp(state, "withdrawn") != 0)) {
		return ZT_ERR_INVALID;
	}
	return st_change1(st, "end approval", "UPDATE approvals SET state = ?1, "
	    "answered_by = ?2, answered_at = ?3, reason = substr(?4, 1, ?5) "
	    "WHERE id = ?6 AND state = 'pending'", "ttitit", state, by != NULL ? by : "", at,
	    reason != NULL ? reason : "", (int64_t)(STORE_REASON_MAX - 1), id);
}

int store_approval_end_pending(struct store *st, const char *reason, int64_t at, int64_t *n)
{
	int changes = 0, r;

	st_lock(st);
	r = st_write1(st, "withdraw approvals", &changes, "UPDATE approvals SET "
	    "state = 'withdrawn', answered_at = ?, reason = substr(?, 1, ?) "
	    "WHERE state = 'pending'", "iti", at, reason, (int64_t)(STORE_REASON_MAX - 1));
	st_unlock(st);
	*n = changes;
	return r;
}

int store_approval_use(struct store *st, const char *id)
{
	if (!id_valid(id)) {
		return ZT_ERR_NOT_FOUND;
	}
	return st_change1(st, "use approval", "UPDATE approvals SET state = 'used' "
	    "WHERE id = ? AND state = 'approved'", "t", id);
}

int store_approval_grant(struct store *st, const char *request_sha256, int64_t generation,
    int64_t now, char *id)
{
	sqlite3_stmt *s = NULL;
	int r;

	id[0] = '\0';
	if (!st_hash_valid(request_sha256)) {
		return ZT_ERR_NOT_FOUND;
	}
	st_lock(st);
	r = st_query_row(st, "find grant", &s, "SELECT id FROM approvals WHERE "
	    "request_sha256 = ? AND generation = ? AND grant_until > ? AND need_approval = 1 "
	    "AND state IN ('approved', 'used') ORDER BY grant_until DESC LIMIT 1", "tii",
	    request_sha256, generation, now);
	if (r == 0) {
		r = st_col_text(s, 0, id, STORE_APPROVAL_ID_LEN + 1, "find grant");
	}
	sqlite3_finalize(s);
	st_unlock(st);
	return r;
}

/* Calls fn for each request the WHERE ... ORDER BY text where selects, its
 * ?1 now, ?2 the limit, ?3 since; read all first, so that fn may use the
 * store. 0, fn's non-zero value, or an error. */
static int each(struct store *st, const char *where, int64_t now, int64_t since,
    int (*fn)(const struct store_approval *a, void *arg), void *arg)
{
	struct store_approval *all = NULL;
	sqlite3_stmt *s = NULL;
	char sql[sizeof(COLUMNS) + 256];
	size_t n = 0;
	int r;

	if ((all = calloc(STORE_APPROVAL_LIST_MAX, sizeof(*all))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	snprintf(sql, sizeof(sql), "SELECT " COLUMNS " FROM approvals WHERE %s LIMIT ?2", where);
	st_lock(st);
	r = st_query(st, "list approvals", &s, sql, "iii", now,
	    (int64_t)STORE_APPROVAL_LIST_MAX, since);
	while (r == 0 && n < STORE_APPROVAL_LIST_MAX &&
	    (r = st_step(st, s, "list approvals")) == 1) {
		r = read_approval(s, &all[n]);
		n += r == 0;
	}
	sqlite3_finalize(s);
	st_unlock(st);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = fn(&all[i], arg);
	}
	for (size_t i = 0; i < n; i++) {
		store_approval_clear(&all[i]);
	}
	free(all);
	return r;
}

int store_approval_each_pending(struct store *st, int64_t now,
    int (*fn)(const struct store_approval *a, void *arg), void *arg)
{
	return each(st, "state = 'pending' AND expires_at > ?1 AND created_at >= ?3 "
	    "ORDER BY created_at, id", now, 0, fn, arg);
}

int store_approval_each_ended(struct store *st, int64_t now, int64_t since,
    int (*fn)(const struct store_approval *a, void *arg), void *arg)
{
	return each(st, "(state <> 'pending' OR expires_at <= ?1) AND created_at >= ?3 "
	    "ORDER BY created_at DESC, id", now, since, fn, arg);
}
