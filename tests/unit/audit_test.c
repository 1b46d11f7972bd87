/*
 * audit_test.c - unit tests for audit/aud_log.c: the documented hash
 * encoding, a clean chain verifying, and each way of editing the file
 * behind zt's back (a changed row, a deleted row, a row rewritten with a
 * consistent hash) being named by aud_verify; aud_print's output; and
 * audit/aud_recover.c: which calls count as open (decided, no outcome),
 * that only events after the given seq are read, what the broker.recover
 * and "interrupted" events hold, and that a second run closes nothing
 * twice; and audit/aud_event.c: aud_record writing events (the reason
 * merged, aggregated ones once), what a failed write returns for a
 * must-record and a best-effort event, and that the table of needs lists
 * every event type the broker writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit/aud_agg.h"
#include "audit/aud_event.h"
#include "audit/aud_log.h"
#include "audit/aud_rec.h"
#include "audit/aud_recover.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

#define T0 1700000000123LL /* 2023-11-14T22:13:20.123Z */

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
	struct store *st;
};

/* Appends five events at T0, T0+1000, ... with seq = i + 1. */
static void append_five(struct store *st)
{
	cJSON *d;

	for (int i = 0; i < 5; i++) {
		d = cJSON_CreateObject();
		assert_non_null(d);
		assert_non_null(cJSON_AddNumberToObject(d, "n", i));
		assert_non_null(cJSON_AddStringToObject(d, "note", "line\nbreak \"q\""));
		assert_int_equal(aud_append(st, T0 + 1000 * i, "user.login", "user:alice",
		    "192.0.2.1", i == 2 ? "failure" : "success", i == 4 ? NULL : d), 0);
		cJSON_Delete(d);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "audit-test"), 0);
	snprintf(f->path, sizeof(f->path), "%s/zt.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st), 0);
	append_five(f->st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_free(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Edits the file as an attacker would: with plain SQLite, after dropping
 * the triggers that guard against accidents. zt's store is closed first
 * and reopened after. */
static void tamper(struct fixture *f, const char *sql, const char *text, const char *hash)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n = 0;

	store_free(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER audit_no_update; "
	    "DROP TRIGGER audit_no_delete;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (text != NULL) {
		assert_int_equal(sqlite3_bind_text(s, ++n, text, -1, SQLITE_STATIC), SQLITE_OK);
	}
	if (hash != NULL) {
		assert_int_equal(sqlite3_bind_text(s, ++n, hash, -1, SQLITE_STATIC), SQLITE_OK);
	}
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
}

/* Runs sql (a schema change) on the file with zt's store closed, and
 * reopens it. */
static void tamper_schema(struct fixture *f, const char *sql)
{
	char err[256] = "";

	store_free(f->st);
	f->st = NULL;
	assert_int_equal(tu_sql(f->path, sql, err, sizeof(err)), SQLITE_OK);
	assert_int_equal(store_open(f->path, &f->st), 0);
}

static void test_verify_clean(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	assert_int_equal(aud_verify(f->st, NULL, &res), 0);
	assert_int_equal(res.checked, 5);
	assert_int_equal(res.first_bad, 0);
	assert_null(res.reason);
	/* And it keeps verifying as the log grows. */
	assert_int_equal(aud_append(f->st, T0 + 9000, "user.logout", "user:alice", "local",
	    "success", NULL), 0);
	assert_int_equal(aud_verify(f->st, NULL, &res), 0);
	assert_int_equal(res.checked, 6);
}

/* An empty log verifies, and its head is 0. */
static void test_verify_empty(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;
	struct store *st = NULL;
	char path[TU_PATH_MAX];
	int64_t head = -1;

	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(aud_verify(st, NULL, &res), 0);
	assert_int_equal(res.checked, 0);
	assert_int_equal(store_audit_head(st, &head), 0);
	assert_int_equal(head, 0);
	store_free(st);
}

/* Writes a recording under f->dir/rec named id (one output event) and
 * appends the session's end event binding it, as the broker does; the
 * event's seq (6, after the five) is its place. */
static void bind_recording(struct fixture *f, const char *id, char *path, size_t pathsz)
{
	struct aud_rec_head h = { .width = 80, .height = 24, .timestamp = 1764900000 };
	char dir[TU_PATH_MAX], sha[CRYPTO_SHA256_HEX_LEN + 1];
	struct aud_rec *r = NULL;
	uint64_t bytes = 0;
	cJSON *d, *rec;

	snprintf(dir, sizeof(dir), "%s/rec", f->dir);
	assert_int_equal(mkdir(dir, 0700) == 0 || access(dir, F_OK) == 0, 1);
	assert_int_equal(aud_rec_path(dir, id, path, pathsz), 0);
	assert_int_equal(aud_rec_open(path, &h, &r), 0);
	assert_int_equal(aud_rec_output(r, 5, "hello\r\n", 7), 0);
	assert_int_equal(aud_rec_close(r, &bytes, sha), 0);
	assert_non_null(d = cJSON_CreateObject());
	assert_non_null(rec = cJSON_AddObjectToObject(d, "recording"));
	assert_non_null(cJSON_AddStringToObject(rec, "id", id));
	assert_non_null(cJSON_AddNumberToObject(rec, "bytes", (double)bytes));
	assert_non_null(cJSON_AddStringToObject(rec, "sha256", sha));
	assert_int_equal(aud_append(f->st, T0 + 9000, "tool.ssh_shell.result", "user:alice",
	    "192.0.2.1", "success", d), 0);
	cJSON_Delete(d);
}

/* A chain binding a recording verifies while the file is as recorded;
 * one byte changed, a byte cut off, or the file gone, and verify names
 * the event that bound it. Without a directory, files are not checked. */
static void test_verify_recording(void **state)
{
	struct fixture *f = *state;
	const char *id = "0123456789abcdef0123456789abcdef";
	struct aud_verify_result res;
	char dir[TU_PATH_MAX], path[TU_PATH_MAX + 64], want[160];
	FILE *fp;
	long size;

	bind_recording(f, id, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s/rec", f->dir);
	assert_int_equal(aud_append(f->st, T0 + 9500, "user.logout", "user:alice", "local",
	    "success", NULL), 0);
	assert_int_equal(aud_verify(f->st, dir, &res), 0);
	assert_int_equal(res.checked, 7);

	/* One byte flipped in place: same size, another hash. */
	assert_non_null(fp = fopen(path, "r+b"));
	assert_int_equal(fseek(fp, -3, SEEK_END), 0);
	assert_int_equal(fputc('X', fp), 'X');
	assert_int_equal(fclose(fp), 0);
	snprintf(want, sizeof(want), "recording %s does not match its event (edited, truncated "
	    "or missing)", id);
	assert_int_equal(aud_verify(f->st, dir, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 6);
	assert_int_equal(res.checked, 5);
	assert_string_equal(res.reason, want);
	assert_int_equal(aud_verify(f->st, NULL, &res), 0);

	/* Truncated, then missing. */
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size = ftell(fp);
	fclose(fp);
	assert_int_equal(truncate(path, size - 1), 0);
	assert_int_equal(aud_verify(f->st, dir, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 6);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(aud_verify(f->st, dir, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 6);
	assert_string_equal(res.reason, want);
}

/* A binding that is not one (an id that names another file) breaks the
 * event; a "recording" without a hash (a recording that failed) binds
 * nothing. */
static void test_verify_recording_malformed(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;
	cJSON *d;

	assert_non_null(d = cJSON_Parse("{\"recording\":{\"id\":\"abc\",\"error\":\"disk "
	    "full\"}}"));
	assert_int_equal(aud_append(f->st, T0 + 9000, "tool.ssh_shell.result", "user:alice",
	    "local", "failure", d), 0);
	cJSON_Delete(d);
	assert_int_equal(aud_verify(f->st, f->dir, &res), 0);
	assert_non_null(d = cJSON_Parse("{\"recording\":{\"id\":\"../zt.db\",\"bytes\":1,"
	    "\"sha256\":\"00\"}}"));
	assert_int_equal(aud_append(f->st, T0 + 9100, "tool.ssh_shell.result", "user:alice",
	    "local", "success", d), 0);
	cJSON_Delete(d);
	assert_int_equal(aud_verify(f->st, f->dir, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 7);
	assert_string_equal(res.reason, "its recording binding is malformed");
}

static void test_changed_row(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	tamper(f, "UPDATE audit SET details = ? WHERE seq = 3", "{\"n\":2,\"note\":\"benign\"}",
	    NULL);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 3);
	assert_string_equal(res.reason, "hash mismatch");
	assert_int_equal(res.checked, 2);
}

static void test_changed_outcome(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	tamper(f, "UPDATE audit SET outcome = ? WHERE seq = 3", "success", NULL);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 3);
	assert_string_equal(res.reason, "hash mismatch");
}

static void test_deleted_row(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	tamper(f, "DELETE FROM audit WHERE seq = 3", NULL, NULL);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 4);
	assert_string_equal(res.reason, "gap in sequence");
	assert_int_equal(res.checked, 2);
}

static void test_deleted_first_row(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	tamper(f, "DELETE FROM audit WHERE seq = 1", NULL, NULL);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 2);
	assert_string_equal(res.reason, "gap in sequence");
	assert_int_equal(res.checked, 0);
}

struct grab {
	int64_t seq;
	struct store_audit_row row;
	char strs[5][256];
};

static int grab_row(const struct store_audit_row *row, void *arg)
{
	struct grab *g = arg;

	if (row->seq != g->seq) {
		return 0;
	}
	g->row = *row;
	snprintf(g->strs[0], sizeof(g->strs[0]), "%s", row->type);
	snprintf(g->strs[1], sizeof(g->strs[1]), "%s", row->actor);
	snprintf(g->strs[2], sizeof(g->strs[2]), "%s", row->source);
	snprintf(g->strs[3], sizeof(g->strs[3]), "%s", row->outcome);
	snprintf(g->strs[4], sizeof(g->strs[4]), "%s", row->details);
	g->row.type = g->strs[0];
	g->row.actor = g->strs[1];
	g->row.source = g->strs[2];
	g->row.outcome = g->strs[3];
	g->row.details = g->strs[4];
	return 1;
}

static void test_relinked_row(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;
	struct grab g;
	char old[STORE_HASH_HEX];

	memset(&g, 0, sizeof(g));
	g.seq = 3;
	assert_int_equal(store_audit_each(f->st, 0, 0, grab_row, &g), 1);
	memcpy(old, g.row.hash, sizeof(old));
	/* The attacker rewrites row 3 and gives it a hash that matches. */
	g.row.details = "{\"n\":2,\"note\":\"nothing happened\"}";
	assert_int_equal(aud_hash_row(&g.row, NULL), 0);
	assert_string_not_equal(g.row.hash, old);
	tamper(f, "UPDATE audit SET details = ?, hash = ? WHERE seq = 3", g.row.details,
	    g.row.hash);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 4);
	assert_string_equal(res.reason, "broken link");
	assert_int_equal(res.checked, 3);
}

static void test_bad_hash_text(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;

	/* A hash of the wrong length is reported, not a database error. */
	tamper(f, "UPDATE audit SET hash = ? WHERE seq = 5",
	    "0123456789012345678901234567890123456789012345678901234567890123456789", NULL);
	assert_int_equal(aud_verify(f->st, NULL, &res), ZT_ERR_TAMPERED);
	assert_int_equal(res.first_bad, 5);
	assert_string_equal(res.reason, "hash mismatch");
}

/* The documented encoding, built here by hand without common/buf. */
static void test_hash_encoding(void **state)
{
	struct fixture *f = *state;
	struct store_audit_row row;
	uint8_t msg[512], md[32];
	const char *strs[5] = { "t", "a", "s", "o", "{}" };
	char hex[65];
	size_t n = 0;
	unsigned int mdlen = 0;

	(void)f;
	memset(&row, 0, sizeof(row));
	row.seq = 0x0102030405060708LL;
	row.time_ms = T0;
	row.type = strs[0];
	row.actor = strs[1];
	row.source = strs[2];
	row.outcome = strs[3];
	row.details = strs[4];
	memset(row.prev_hash, 'a', 64);
	assert_int_equal(aud_hash_row(&row, NULL), 0);

	memcpy(msg, "zt-audit-v1", 11);
	n = 11;
	memset(msg + n, 0xaa, 32);
	n += 32;
	for (int i = 7; i >= 0; i--) {
		msg[n++] = (uint8_t)((uint64_t)row.seq >> (8 * i));
	}
	for (int i = 7; i >= 0; i--) {
		msg[n++] = (uint8_t)((uint64_t)row.time_ms >> (8 * i));
	}
	for (int i = 0; i < 5; i++) {
		size_t l = strlen(strs[i]);

		msg[n++] = 0;
		msg[n++] = 0;
		msg[n++] = 0;
		msg[n++] = (uint8_t)l;
		memcpy(msg + n, strs[i], l);
		n += l;
	}
	assert_int_equal(EVP_Digest(msg, n, md, &mdlen, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	assert_string_equal(row.hash, hex);

	/* Moving a byte between adjacent fields changes the hash. */
	row.type = "ta";
	row.actor = "";
	assert_int_equal(aud_hash_row(&row, NULL), 0);
	assert_string_not_equal(row.hash, hex);

	/* A prev_hash that is not 64 hex digits is refused. */
	row.prev_hash[10] = 'X';
	assert_int_equal(aud_hash_row(&row, NULL), ZT_ERR_INVALID);
}

static void test_append_invalid(void **state)
{
	struct fixture *f = *state;
	cJSON *arr = cJSON_CreateArray();
	char *big = malloc(2000);

	assert_non_null(arr);
	assert_non_null(big);
	memset(big, 'x', 1999);
	big[1999] = '\0';
	assert_int_equal(aud_append(f->st, T0, "t", "a", "s", "o", arr), ZT_ERR_INVALID);
	assert_int_equal(aud_append(f->st, T0, NULL, "a", "s", "o", NULL), ZT_ERR_INVALID);
	assert_int_equal(aud_append(f->st, T0, big, "a", "s", "o", NULL), ZT_ERR_INVALID);
	cJSON_Delete(arr);
	free(big);
}

/* Reads everything aud_print wrote for (since_ms, json). */
static char *print_all(struct store *st, int64_t since_ms, int json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	assert_int_equal(aud_print(st, since_ms, json, fp), 0);
	assert_int_equal(fclose(fp), 0);
	return out;
}

/* The seqs store_audit_query gives for f, as "1,2,3" (at most 16). */
struct seqs {
	int64_t v[16];
	int n;
};

static int add_seq(const struct store_audit_row *row, void *arg)
{
	struct seqs *s = arg;

	assert_true(s->n < 16);
	s->v[s->n++] = row->seq;
	return 0;
}

static const char *query_seqs(struct store *st, const struct store_audit_filter *f)
{
	static char out[128];
	struct seqs s = { { 0 }, 0 };
	size_t len = 0;

	assert_int_equal(store_audit_query(st, f, add_seq, &s), 0);
	out[0] = '\0';
	for (int i = 0; i < s.n; i++) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%lld", i ? "," : "",
		    (long long)s.v[i]);
	}
	return out;
}

/* store_audit_query: each filter alone and together, both orders, the
 * seq bounds used for paging; a type with '%' is not a LIKE pattern. */
static void test_query_filters(void **state)
{
	struct fixture *f = *state;
	struct store_audit_filter q;
	cJSON *d = cJSON_CreateObject();

	assert_non_null(cJSON_AddStringToObject(d, "host", "web1"));
	assert_int_equal(aud_append(f->st, T0 + 5000, "tool.ssh_exec", "user:bob", "local",
	    "denied", d), 0);
	assert_int_equal(aud_append(f->st, T0 + 6000, "tool%", "user:bob", "local",
	    "success", NULL), 0);
	cJSON_Delete(d);
#define RESET() (memset(&q, 0, sizeof(q)), q.from_ms = INT64_MIN, q.to_ms = INT64_MAX)
	RESET();
	assert_string_equal(query_seqs(f->st, &q), "1,2,3,4,5,6,7");
	q.desc = 1;
	assert_string_equal(query_seqs(f->st, &q), "7,6,5,4,3,2,1");
	q.before_seq = 4;
	assert_string_equal(query_seqs(f->st, &q), "3,2,1");
	RESET();
	q.after_seq = 5;
	assert_string_equal(query_seqs(f->st, &q), "6,7");
	RESET();
	q.from_ms = T0 + 1000;
	q.to_ms = T0 + 3000;
	assert_string_equal(query_seqs(f->st, &q), "2,3");
	RESET();
	q.actor = "user:bob";
	assert_string_equal(query_seqs(f->st, &q), "6,7");
	q.outcome = "denied";
	assert_string_equal(query_seqs(f->st, &q), "6");
	RESET();
	q.outcome = "failure";
	assert_string_equal(query_seqs(f->st, &q), "3");
	RESET();
	q.type = "tool.*";
	assert_string_equal(query_seqs(f->st, &q), "6");
	q.type = "tool*";
	assert_string_equal(query_seqs(f->st, &q), "6,7");
	q.type = "tool%";
	assert_string_equal(query_seqs(f->st, &q), "7");
	q.type = "to%*";
	assert_string_equal(query_seqs(f->st, &q), "");
	q.type = "user.login";
	assert_string_equal(query_seqs(f->st, &q), "1,2,3,4,5");
	RESET();
	q.text = "\"host\":\"web1\"";
	assert_string_equal(query_seqs(f->st, &q), "6");
	q.text = "\"n\":3";
	assert_string_equal(query_seqs(f->st, &q), "4");
	assert_int_equal(store_audit_query(f->st, NULL, add_seq, NULL), ZT_ERR_INVALID);
#undef RESET
}

static void test_print_json(void **state)
{
	struct fixture *f = *state;
	char *out, *line, *save = NULL;
	const cJSON *v;
	cJSON *o;
	int n = 0;

	out = print_all(f->st, 0, 1);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		o = cJSON_Parse(line);
		assert_non_null(o);
		assert_true(cJSON_IsObject(o));
		v = cJSON_GetObjectItemCaseSensitive(o, "seq");
		assert_true(cJSON_IsNumber(v));
		assert_int_equal((int64_t)v->valuedouble, n + 1);
		v = cJSON_GetObjectItemCaseSensitive(o, "time_ms");
		assert_true(cJSON_IsNumber(v));
		assert_int_equal((int64_t)v->valuedouble, T0 + 1000 * n);
		v = cJSON_GetObjectItemCaseSensitive(o, "time");
		assert_true(cJSON_IsString(v));
		if (n == 0) {
			assert_string_equal(v->valuestring, "2023-11-14T22:13:20.123Z");
		}
		v = cJSON_GetObjectItemCaseSensitive(o, "type");
		assert_true(cJSON_IsString(v));
		assert_string_equal(v->valuestring, "user.login");
		v = cJSON_GetObjectItemCaseSensitive(o, "actor");
		assert_string_equal(cJSON_GetStringValue(v), "user:alice");
		v = cJSON_GetObjectItemCaseSensitive(o, "source");
		assert_string_equal(cJSON_GetStringValue(v), "192.0.2.1");
		v = cJSON_GetObjectItemCaseSensitive(o, "outcome");
		assert_string_equal(cJSON_GetStringValue(v), n == 2 ? "failure" : "success");
		v = cJSON_GetObjectItemCaseSensitive(o, "details");
		assert_true(cJSON_IsObject(v));
		if (n < 4) {
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(v, "n")->valueint, n);
			assert_string_equal(cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(v, "note")), "line\nbreak \"q\"");
		} else {
			assert_null(v->child);   /* NULL details are stored as {} */
		}
		v = cJSON_GetObjectItemCaseSensitive(o, "hash");
		assert_true(cJSON_IsString(v));
		assert_int_equal(strlen(v->valuestring), 64);
		cJSON_Delete(o);
		n++;
	}
	assert_int_equal(n, 5);
	free(out);

	/* since_ms selects the later rows. */
	out = print_all(f->st, T0 + 2000, 1);
	n = 0;
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		n++;
	}
	assert_int_equal(n, 3);
	free(out);
}

static void test_print_text(void **state)
{
	struct fixture *f = *state;
	char *out;

	tamper(f, "UPDATE audit SET actor = ? WHERE seq = 2", "user:\x1b[2Jevil", NULL);
	out = print_all(f->st, 0, 0);
	assert_non_null(strstr(out, "2023-11-14T22:13:20.123Z      1 user.login"));
	assert_non_null(strstr(out, "2023-11-14T22:13:24.123Z      5 user.login"));
	assert_non_null(strstr(out, "failure"));
	assert_non_null(strstr(out, "{\"n\":0,\"note\":\"line\\nbreak \\\"q\\\"\"}"));
	/* An escape sequence smuggled into the file is not passed through. */
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "user:?[2Jevil"));
	free(out);
}

/* ---- aud_recover ---- */

/* Appends one event of a call (call_id may be NULL: no call). */
static void event(struct store *st, const char *type, const char *outcome, const char *call_id)
{
	cJSON *d = cJSON_CreateObject();

	assert_non_null(d);
	if (call_id != NULL) {
		cJSON_AddStringToObject(d, "tool", "ssh_exec");
		cJSON_AddStringToObject(d, "call_id", call_id);
		cJSON_AddStringToObject(d, "host", "web1");
		cJSON_AddStringToObject(d, "command", "sleep 30");
		cJSON_AddStringToObject(d, "command_sha256", "c0ffee");
		cJSON_AddStringToObject(d, "rule", "allow: role ops allows tool ssh_exec");
	}
	assert_int_equal(aud_append(st, T0, type, "bot:ci", "192.0.2.7", outcome, d), 0);
	cJSON_Delete(d);
}

/* The events after seq, as parsed JSON objects {seq, type, actor, source,
 * outcome, details} in an array. */
static int collect(const struct store_audit_row *row, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	assert_non_null(o);
	cJSON_AddNumberToObject(o, "seq", (double)row->seq);
	cJSON_AddStringToObject(o, "type", row->type);
	cJSON_AddStringToObject(o, "actor", row->actor);
	cJSON_AddStringToObject(o, "source", row->source);
	cJSON_AddStringToObject(o, "outcome", row->outcome);
	cJSON_AddItemToObject(o, "details", cJSON_Parse(row->details));
	cJSON_AddItemToArray(arg, o);
	return 0;
}

static cJSON *events_after(struct store *st, int64_t seq)
{
	cJSON *arr = cJSON_CreateArray();

	assert_int_equal(store_audit_each(st, seq, INT64_MIN, collect, arr), 0);
	return arr;
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void test_recover_closes_open_calls_only(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	struct aud_verify_result vr;
	cJSON *ev, *rec, *out, *d;
	int64_t head;

	/* After the fixture's five events; before the run that stopped, an
	 * open call it must not touch. */
	event(f->st, "tool.ssh_exec", "allowed", "old0");              /* seq 6 */
	event(f->st, "broker.start", "success", NULL);                 /* 7 */
	/* The run: */
	event(f->st, "tool.ssh_exec", "allowed", "open1");             /* 8: never ends */
	event(f->st, "tool.ssh_exec", "allowed", "done2");             /* 9 */
	event(f->st, "tool.ssh_exec.result", "success", "done2");
	event(f->st, "tool.ssh_exec", "allowed", "fail3");             /* 11 */
	event(f->st, "tool.ssh_exec", "failure", "fail3");             /* host offline */
	event(f->st, "tool.ssh_exec", "denied", "deny4");              /* never allowed */
	event(f->st, "user.login", "success", NULL);
	event(f->st, "tool.ssh_exec", "allowed", "open5");             /* 15: never ends */

	assert_int_equal(aud_recover(f->st, T0 + 5, 7, "test stop", &res), 0);
	assert_int_equal(res.scanned, 8);
	assert_int_equal(res.closed, 2);
	assert_int_equal(res.unchecked, 0);

	ev = events_after(f->st, 15);
	assert_int_equal(cJSON_GetArraySize(ev), 3);
	rec = cJSON_GetArrayItem(ev, 0);
	assert_string_equal(str(rec, "type"), "broker.recover");
	assert_string_equal(str(rec, "actor"), "system");
	d = cJSON_GetObjectItemCaseSensitive(rec, "details");
	assert_string_equal(str(d, "reason"), "test stop");
	assert_int_equal((int64_t)num(d, "after_seq"), 7);
	assert_int_equal((int64_t)num(d, "events_scanned"), 8);
	assert_int_equal((int64_t)num(d, "open_calls"), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "call_ids"), 0)), "open1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "call_ids"), 1)), "open5");

	for (int i = 0; i < 2; i++) {
		out = cJSON_GetArrayItem(ev, 1 + i);
		d = cJSON_GetObjectItemCaseSensitive(out, "details");
		assert_string_equal(str(out, "type"), "tool.ssh_exec.result");
		assert_string_equal(str(out, "outcome"), "interrupted");
		assert_string_equal(str(out, "actor"), "bot:ci");
		assert_string_equal(str(out, "source"), "192.0.2.7");
		assert_string_equal(str(d, "call_id"), i == 0 ? "open1" : "open5");
		assert_string_equal(str(d, "status"), "interrupted");
		assert_int_equal((int64_t)num(d, "allowed_seq"), i == 0 ? 8 : 15);
		assert_string_equal(str(d, "host"), "web1");
		assert_string_equal(str(d, "command_sha256"), "c0ffee");
		assert_null(cJSON_GetObjectItemCaseSensitive(d, "command"));
		assert_non_null(strstr(str(d, "reason"), "stopped before"));
	}
	cJSON_Delete(ev);

	/* Again over the same events: the outcomes above close those calls. */
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 18);
	assert_int_equal(aud_recover(f->st, T0 + 6, 7, "again", &res), 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(res.scanned, 11);
	ev = events_after(f->st, head);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "type"), "broker.recover");
	cJSON_Delete(ev);

	assert_int_equal(aud_verify(f->st, NULL, &vr), 0);
	assert_int_equal(vr.checked, 19);
}

/* Appends one event of job job_id, started by call call_id. */
static void job_event(struct store *st, const char *type, const char *job_id,
    const char *call_id)
{
	cJSON *d = cJSON_CreateObject();

	assert_non_null(d);
	cJSON_AddStringToObject(d, "job_id", job_id);
	cJSON_AddStringToObject(d, "call_id", call_id);
	cJSON_AddStringToObject(d, "host", "web1");
	cJSON_AddStringToObject(d, "command_sha256", "c0ffee");
	assert_int_equal(aud_append(st, T0, type, "user:ann", "local", "success", d), 0);
	cJSON_Delete(d);
}

/* Jobs: open from job.start to job.end, whatever their call did; a job's
 * events never close or open a call. */
static void test_recover_closes_open_jobs(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	cJSON *ev, *d;

	event(f->st, "tool.ssh_exec", "allowed", "call1");              /* 6 */
	job_event(f->st, "job.start", "jobA", "call1");                  /* 7: never ends */
	event(f->st, "tool.ssh_exec.result", "success", "call1");
	event(f->st, "tool.ssh_exec", "allowed", "call2");
	job_event(f->st, "job.start", "jobB", "call2");                  /* 10 */
	event(f->st, "tool.ssh_exec.result", "success", "call2");
	job_event(f->st, "job.signal", "jobB", "call2");
	job_event(f->st, "job.end", "jobB", "call2");                    /* ended */
	event(f->st, "tool.ssh_exec", "allowed", "call3");               /* 14: never ends */
	job_event(f->st, "job.start", "jobC", "call3");                  /* 15: never ends */

	assert_int_equal(aud_recover(f->st, T0 + 5, 5, "test stop", &res), 0);
	assert_int_equal(res.closed, 1);
	assert_int_equal(res.jobs_closed, 2);
	ev = events_after(f->st, 15);
	assert_int_equal(cJSON_GetArraySize(ev), 4);
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ev, 0), "details");
	assert_int_equal((int64_t)num(d, "open_calls"), 1);
	assert_int_equal((int64_t)num(d, "open_jobs"), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "call_ids"), 0)), "call3");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "job_ids"), 0)), "jobA");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "job_ids"), 1)), "jobC");
	/* In the order they opened: jobA, call3, jobC. */
	for (int i = 0; i < 3; i++) {
		const cJSON *out = cJSON_GetArrayItem(ev, 1 + i);

		d = cJSON_GetObjectItemCaseSensitive(out, "details");
		assert_string_equal(str(out, "type"), i == 1 ? "tool.ssh_exec.result" : "job.end");
		assert_string_equal(str(out, "outcome"), "interrupted");
		assert_string_equal(str(d, "status"), "interrupted");
		if (i != 1) {
			assert_string_equal(str(out, "actor"), "user:ann");
			assert_string_equal(str(d, "job_id"), i == 0 ? "jobA" : "jobC");
			assert_int_equal((int64_t)num(d, "start_seq"), i == 0 ? 7 : 15);
			assert_non_null(strstr(str(d, "reason"), "may still run"));
		}
	}
	cJSON_Delete(ev);
	/* Again: nothing is closed twice. */
	assert_int_equal(aud_recover(f->st, T0 + 6, 5, "again", &res), 0);
	assert_int_equal(res.closed + res.jobs_closed, 0);
}

/* A file tool's link event: its call's outcome naming link_id, or the
 * link's end. */
static void link_event(struct store *st, const char *type, const char *outcome,
    const char *call_id, const char *link_id)
{
	cJSON *d = cJSON_CreateObject();

	assert_non_null(d);
	cJSON_AddStringToObject(d, "tool", "file_read");
	cJSON_AddStringToObject(d, "call_id", call_id);
	cJSON_AddStringToObject(d, "link_id", link_id);
	cJSON_AddStringToObject(d, "path_resolved", "/srv/f");
	cJSON_AddStringToObject(d, "status", "ok");
	assert_int_equal(aud_append(st, T0, type, "bot:ci", "192.0.2.7", outcome, d), 0);
	cJSON_Delete(d);
}

/* Links: open from the outcome of the call that offered them to their
 * file.transfer; the call itself is closed by that outcome. */
static void test_recover_closes_open_links(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	cJSON *ev, *d, *out;

	event(f->st, "tool.file_read", "allowed", "call1");              /* 6 */
	link_event(f->st, "tool.file_read.result", "success", "call1", "linkA");   /* 7 */
	event(f->st, "tool.file_read", "allowed", "call2");
	link_event(f->st, "tool.file_read.result", "success", "call2", "linkB");
	link_event(f->st, "file.transfer", "success", "call2", "linkB");            /* ended */

	assert_int_equal(aud_recover(f->st, T0 + 5, 5, "test stop", &res), 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(res.links_closed, 1);
	ev = events_after(f->st, 10);
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ev, 0), "details");
	assert_int_equal((int64_t)num(d, "open_links"), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(d, "link_ids"), 0)), "linkA");
	out = cJSON_GetArrayItem(ev, 1);
	d = cJSON_GetObjectItemCaseSensitive(out, "details");
	assert_string_equal(str(out, "type"), "file.transfer");
	assert_string_equal(str(out, "outcome"), "interrupted");
	assert_string_equal(str(out, "actor"), "bot:ci");
	assert_string_equal(str(d, "status"), "interrupted");
	assert_string_equal(str(d, "link_id"), "linkA");
	assert_string_equal(str(d, "path_resolved"), "/srv/f");
	assert_int_equal((int64_t)num(d, "result_seq"), 7);
	assert_non_null(strstr(str(d, "reason"), "transfer's end"));
	cJSON_Delete(ev);
	assert_int_equal(aud_recover(f->st, T0 + 6, 5, "again", &res), 0);
	assert_int_equal(res.closed + res.jobs_closed + res.links_closed, 0);
}

static void test_recover_nothing_and_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	int64_t head = -1;

	/* A run that stopped before it logged anything. */
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 5);
	assert_int_equal(aud_recover(f->st, T0, head, "nothing ran", &res), 0);
	assert_int_equal(res.scanned, 0);
	assert_int_equal(res.closed, 0);
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 6);
	assert_int_equal(aud_recover(NULL, T0, 0, "x", NULL), ZT_ERR_INVALID);
	assert_int_equal(aud_recover(f->st, T0, 0, NULL, NULL), ZT_ERR_INVALID);
}

/* More decisions open at once than are tracked: counted, never a crash,
 * and those that are tracked are still closed. */
static void test_recover_too_many_open(void **state)
{
	struct fixture *f = *state;
	struct aud_recover_result res;
	char id[32];

	for (int i = 0; i < AUD_RECOVER_CALLS_MAX + 3; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		event(f->st, "tool.ssh_exec", "allowed", id);
	}
	assert_int_equal(aud_recover(f->st, T0, 5, "many", &res), 0);
	assert_int_equal(res.closed, AUD_RECOVER_CALLS_MAX);
	assert_int_equal(res.unchecked, 3);
}

/* ---- aud_record and the table of needs ---- */

/* A must-record event is written, with its reason merged into its
 * details; a reason of the details' own is kept. */
static void test_record_writes(void **state)
{
	struct fixture *f = *state;
	cJSON *d = cJSON_CreateObject(), *ev, *e;

	assert_non_null(d);
	cJSON_AddStringToObject(d, "session", "abc");
	assert_int_equal(aud_event_need("user.login"), AUD_MUST);
	assert_int_equal(aud_record(f->st, NULL, T0, &(struct aud_event){ .type = "user.login",
	    .actor = "user:alice", .source = "192.0.2.1", .outcome = "failure",
	    .reason = "wrong otp", .details = d }), 0);
	/* details are borrowed: the caller's object is as it was. */
	assert_null(cJSON_GetObjectItemCaseSensitive(d, "reason"));
	cJSON_AddStringToObject(d, "reason", "its own");
	assert_int_equal(aud_record(f->st, NULL, T0 + 1, &(struct aud_event){
	    .type = "session.logout", .actor = "user:alice", .source = "192.0.2.1",
	    .outcome = "success", .reason = "ignored", .details = d }), 0);
	assert_int_equal(aud_record(f->st, NULL, T0 + 2, &(struct aud_event){
	    .type = "broker.stop", .actor = "system", .source = "local", .outcome = "success" }), 0);
	cJSON_Delete(d);

	ev = events_after(f->st, 5);
	assert_int_equal(cJSON_GetArraySize(ev), 3);
	e = cJSON_GetArrayItem(ev, 0);
	assert_string_equal(str(e, "type"), "user.login");
	assert_string_equal(str(e, "actor"), "user:alice");
	assert_string_equal(str(e, "source"), "192.0.2.1");
	assert_string_equal(str(e, "outcome"), "failure");
	d = cJSON_GetObjectItemCaseSensitive(e, "details");
	assert_string_equal(str(d, "session"), "abc");
	assert_string_equal(str(d, "reason"), "wrong otp");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ev, 1),
	    "details"), "reason"), "its own");
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ev, 2), "details");
	assert_true(cJSON_IsObject(d));
	assert_null(d->child);
	cJSON_Delete(ev);
}

/* A write that fails: the error for a must-record event (and for a type
 * nobody decided), 0 for a best-effort or aggregated one. */
static void test_record_failure(void **state)
{
	struct fixture *f = *state;
	struct aud_agg *agg = aud_agg_new(60000);
	char *big = malloc(AUD_DETAILS_MAX + 2);
	cJSON *d = cJSON_CreateObject();
	struct aud_event ev = { .actor = "bot:ci", .source = "192.0.2.7", .outcome = "denied" };
	int64_t head = 0;

	assert_non_null(agg);
	assert_non_null(big);
	assert_non_null(d);
	memset(big, 'x', AUD_DETAILS_MAX + 1);
	big[AUD_DETAILS_MAX + 1] = '\0';
	cJSON_AddStringToObject(d, "command", big);
	ev.details = d;
	ev.type = "tool.ssh_exec";
	assert_int_equal(aud_record(f->st, agg, T0, &ev), ZT_ERR_TOO_LARGE);
	ev.type = "no.such.type";
	assert_int_equal(aud_record(f->st, agg, T0, &ev), ZT_ERR_TOO_LARGE);
	ev.type = "mcp.session";
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	ev.type = "user.login";
	ev.reason = "rate limited";
	ev.aggregate = AUD_AGGREGATE;
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	/* A malformed event: must-record, so refused loudly. */
	ev.details = NULL;
	ev.aggregate = AUD_EACH;
	ev.actor = NULL;
	assert_int_equal(aud_record(f->st, agg, T0, &ev), ZT_ERR_INVALID);
	assert_int_equal(aud_record(f->st, agg, T0, NULL), ZT_ERR_INVALID);
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 5);
	cJSON_Delete(d);
	free(big);

	/* The store itself refusing every write. */
	tamper_schema(f, "CREATE TRIGGER audit_no_insert BEFORE INSERT ON audit "
	    "BEGIN SELECT RAISE(ABORT, 'the disk says no'); END;");
	ev = (struct aud_event){ .type = "approval.approved", .actor = "user:bob",
	    .source = "192.0.2.9", .outcome = "success" };
	assert_int_not_equal(aud_record(f->st, agg, T0, &ev), 0);
	ev.type = "agent.connect";
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	assert_int_equal(store_audit_head(f->st, &head), 0);
	assert_int_equal(head, 5);
	aud_agg_free(agg);
}

/* Aggregated events go through aud_agg: the first of a kind is written,
 * an identical second is only counted; without an aggregator each is
 * written. */
static void test_record_aggregated(void **state)
{
	struct fixture *f = *state;
	struct aud_agg *agg = aud_agg_new(60000);
	struct aud_event ev = { .type = "auth.token", .actor = "anonymous",
	    .source = "192.0.2.7", .outcome = "failure", .reason = "invalid_token",
	    .aggregate = AUD_AGGREGATE };
	cJSON *e;

	assert_non_null(agg);
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	assert_int_equal(aud_record(f->st, agg, T0 + 1, &ev), 0);
	e = events_after(f->st, 5);
	assert_int_equal(cJSON_GetArraySize(e), 1);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(e, 0),
	    "details"), "reason"), "invalid_token");
	cJSON_Delete(e);
	assert_int_equal(aud_agg_flush(agg, f->st, T0 + 2, 1), 0);
	e = events_after(f->st, 6);
	assert_int_equal(cJSON_GetArraySize(e), 1);
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(e, 0),
	    "details"), "repeats"), 1);
	cJSON_Delete(e);
	/* By actor: each identity's refusals are a kind of their own. */
	ev = (struct aud_event){ .type = "mcp.session", .actor = "bot:a", .source = "192.0.2.7",
	    .outcome = "failure", .reason = "no usable role",
	    .aggregate = AUD_AGGREGATE_BY_ACTOR };
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	ev.actor = "bot:b";
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	assert_int_equal(aud_record(f->st, agg, T0, &ev), 0);
	/* No aggregator: written each time. */
	assert_int_equal(aud_record(f->st, NULL, T0, &ev), 0);
	e = events_after(f->st, 7);
	assert_int_equal(cJSON_GetArraySize(e), 3);
	cJSON_Delete(e);
	aud_agg_free(agg);
}

/* The needs decided, the prefix rule, and the fail-safe default. */
static void test_event_needs(void **state)
{
	static const char *const must[] = {
		"tool.ssh_exec", "tool.ssh_exec.result", "tool.list_hosts", "tool.unknown",
		"approval.requested", "approval.approved", "approval.denied", "approval.expired",
		"approval.withdrawn", "mfa.stepup", "user.login", "user.enroll",
		"user.enroll.password", "user.lockout", "session.logout", "user.add", "bot.token",
		"token.add", "token.ls", "role.apply", "policy.test", "agent.lock", "agent.unbind",
		"agent.join", "agent.renew", "broker.start", "broker.stop", "broker.recover",
	};
	static const char *const best_effort[] = {
		"mcp.session", "mcp.call", "agent.connect", "agent.disconnect", "agent.claims",
		"agent.stream", "auth.token", "http.connection",
	};
	static const char *const unlisted[] = { "made.up", "", "tool.", "tool", "toolbox.x",
		"user.login.extra", "user" };

	(void)state;
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		assert_true(aud_event_listed(must[i]));
		assert_int_equal(aud_event_need(must[i]), AUD_MUST);
	}
	for (size_t i = 0; i < sizeof(best_effort) / sizeof(best_effort[0]); i++) {
		assert_true(aud_event_listed(best_effort[i]));
		assert_int_equal(aud_event_need(best_effort[i]), AUD_BEST_EFFORT);
	}
	for (size_t i = 0; i < sizeof(unlisted) / sizeof(unlisted[0]); i++) {
		assert_false(aud_event_listed(unlisted[i]));
		assert_int_equal(aud_event_need(unlisted[i]), AUD_MUST);
	}
	assert_false(aud_event_listed(NULL));
	assert_int_equal(aud_event_need(NULL), AUD_MUST);
}

/* Families of event types: a string literal "family.word..." in the
 * broker's or the audit module's C files is taken for an event type. A
 * new family must be added here, as its types to the table. */
static const char *const families[] = { "agent", "approval", "audit", "auth", "bot", "desktop",
	"broker", "http", "mcp", "mfa", "policy", "recording", "role", "session", "terminal", "token",
	"tool", "user" };
/* Literals of those families that are not event types. */
static const char *const not_types[] = { "role.yaml" };

/* 1 if lit looks like an event type of one of the families. */
static int event_type_like(const char *lit)
{
	size_t n = strspn(lit, "abcdefghijklmnopqrstuvwxyz_.");

	if (lit[n] != '\0' || strchr(lit, '.') == NULL || lit[n - 1] == '.') {
		return 0;
	}
	for (size_t i = 0; i < sizeof(not_types) / sizeof(not_types[0]); i++) {
		if (strcmp(lit, not_types[i]) == 0) {
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t k = strlen(families[i]);

		if (strncmp(lit, families[i], k) == 0 && lit[k] == '.') {
			return 1;
		}
	}
	return 0;
}

/* Checks the string literals of one C file (comments and character
 * literals skipped): every event type found is listed. The count found. */
static int check_literals(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL, lit[128];
	size_t n = 0, cap = 0, got, i, k;
	int found = 0;

	assert_non_null(fp);
	do {
		if (n + 4096 > cap) {
			cap = cap * 2 + 8192;
			assert_non_null(text = realloc(text, cap + 1));
		}
		n += got = fread(text + n, 1, cap - n, fp);
	} while (got > 0);
	fclose(fp);
	text[n] = '\0';
	for (i = 0; i < n; i++) {
		if (text[i] == '/' && text[i + 1] == '*') {
			char *end = strstr(text + i + 2, "*/");

			i = end != NULL ? (size_t)(end - text) + 1 : n;
		} else if (text[i] == '/' && text[i + 1] == '/') {
			i += strcspn(text + i, "\n");
		} else if (text[i] == '\'' || text[i] == '"') {
			char q = text[i];

			for (i++, k = 0; i < n && text[i] != q; i++) {
				if (text[i] == '\\') {
					i++;
					lit[k < sizeof(lit) - 1 ? k++ : k] = '\\';
				} else {
					lit[k < sizeof(lit) - 1 ? k++ : k] = text[i];
				}
			}
			lit[k] = '\0';
			if (q == '"' && event_type_like(lit)) {
				if (!aud_event_listed(lit)) {
					print_error("%s: event type \"%s\" is not in the table of "
					    "audit/aud_event.c\n", path, lit);
				}
				assert_true(aud_event_listed(lit));
				found++;
			}
		}
	}
	free(text);
	return found;
}

/* Every event type the code writes was decided: the literals in the
 * sources (read from the top of the tree, where `make unit` runs the
 * tests), and the types made at run time (tool.NAME, approval.STATE). */
static void test_table_covers_the_code(void **state)
{
	static const char *const dirs[] = { "broker", "audit" };
	static const char *const built[] = { "tool.ssh_exec", "tool.ssh_exec.result",
		"tool.list_hosts", "tool.list_hosts.result", "tool.unknown",
		"approval.expired", "approval.withdrawn" };
	char path[TU_PATH_MAX];
	int found = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct dirent *de;
		DIR *dp;

		if ((dp = opendir(dirs[i])) == NULL) {
			print_error("cannot open %s/: run from the top of the tree\n", dirs[i]);
		}
		assert_non_null(dp);
		while ((de = readdir(dp)) != NULL) {
			size_t len = strlen(de->d_name);

			if (len > 2 && strcmp(de->d_name + len - 2, ".c") == 0) {
				snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
				found += check_literals(path);
			}
		}
		closedir(dp);
	}
	/* The scan works: the broker writes dozens of types by name. */
	assert_true(found >= 40);
	for (size_t i = 0; i < sizeof(built) / sizeof(built[0]); i++) {
		assert_true(aud_event_listed(built[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_recording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_recording_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_outcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_first_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relinked_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hash_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_closes_open_calls_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_closes_open_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_closes_open_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_nothing_and_bad_arguments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover_too_many_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_aggregated, setup, teardown),
		cmocka_unit_test(test_event_needs),
		cmocka_unit_test(test_table_covers_the_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
