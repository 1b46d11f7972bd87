/*
 * aud_log.c - the tamper-evident audit log: appending events, computing and
 * verifying the hash chain, and printing the log for people and SIEMs.
 *
 * The store gives the rows an order and atomicity; this file gives them
 * meaning. Each row's hash covers the previous row's hash, so editing,
 * inserting or deleting a row in the file behind zt's back breaks the chain
 * at that row. (Dropping rows from the end leaves a shorter chain that still
 * verifies; keeping the head hash elsewhere is what catches that.)
 */
#include "audit/aud_log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_rec.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "store/store.h"

#define AUD_MAGIC "zt-audit-v1"

static int field_ok(const char *s)
{
	return s != NULL && strlen(s) <= AUD_FIELD_MAX;
}

int aud_append(struct store *st, int64_t now_ms, const char *type, const char *actor,
    const char *source, const char *outcome, const cJSON *details)
{
	struct store_audit_row row;
	char *text = NULL;
	int r;

	memset(&row, 0, sizeof(row));
	if (st == NULL || !field_ok(type) || !field_ok(actor) || !field_ok(source) ||
	    !field_ok(outcome) || (details != NULL && !cJSON_IsObject(details))) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (details != NULL && (text = json_print(details)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if (text != NULL && strlen(text) > AUD_DETAILS_MAX) {
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	row.time_ms = now_ms;
	row.type = type;
	row.actor = actor;
	row.source = source;
	row.outcome = outcome;
	row.details = text != NULL ? text : "{}";
	r = store_audit_append(st, &row, aud_hash_row, NULL);
out:
	free(text);
	return r;
}

/* Decodes 64 hex digits into 32 bytes; ZT_ERR_INVALID if s is not that. */
static int unhex32(const char *s, uint8_t out[CRYPTO_SHA256_LEN])
{
	size_t i;

	for (i = 0; i < 2 * CRYPTO_SHA256_LEN; i++) {
		int c = (unsigned char)s[i], v;

		if (c >= '0' && c <= '9') {
			v = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			v = c - 'a' + 10;
		} else {
			return ZT_ERR_INVALID;
		}
		if (i % 2 == 0) {
			out[i / 2] = (uint8_t)(v << 4);
		} else {
			out[i / 2] |= (uint8_t)v;
		}
	}
	return s[i] == '\0' ? 0 : ZT_ERR_INVALID;
}

int aud_hash_row(struct store_audit_row *row, void *unused)
{
	const char *strs[5];
	uint8_t prev[CRYPTO_SHA256_LEN], digest[CRYPTO_SHA256_LEN];
	struct buf *b = NULL;
	size_t i, need;
	int r;

	(void)unused;
	if (row == NULL || row->type == NULL || row->actor == NULL || row->source == NULL ||
	    row->outcome == NULL || row->details == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = unhex32(row->prev_hash, prev)) != 0) {
		goto out;
	}
	strs[0] = row->type;
	strs[1] = row->actor;
	strs[2] = row->source;
	strs[3] = row->outcome;
	strs[4] = row->details;
	/* The buffer is sized to the exact message, which it may not exceed. */
	need = strlen(AUD_MAGIC) + sizeof(prev) + 8 + 8;
	for (i = 0; i < 5; i++) {
		size_t n = strlen(strs[i]);

		if (n > UINT32_MAX || need > SIZE_MAX - 4 - n) {
			r = ZT_ERR_TOO_LARGE;
			goto out;
		}
		need += 4 + n;
	}
	if ((b = buf_new(need)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = buf_put(b, AUD_MAGIC, strlen(AUD_MAGIC))) != 0 ||
	    (r = buf_put(b, prev, sizeof(prev))) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)row->seq)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)row->time_ms)) != 0) {
		goto out;
	}
	for (i = 0; i < 5; i++) {
		if ((r = buf_put_cstring(b, strs[i])) != 0) {
			goto out;
		}
	}
	crypto_sha256(buf_ptr(b), buf_len(b), digest);
	r = crypto_hex(digest, sizeof(digest), row->hash, sizeof(row->hash));
out:
	buf_free(b);
	return r;
}

struct verify_state {
	struct aud_verify_result *res;
	const char *rec_dir;        /* NULL: recordings not checked */
	int64_t prev_seq;
	char prev_hash[STORE_HASH_HEX];
};

/* Whether the recording a row's details bind (if any) is as they say:
 * 0 (it is, or they bind none), ZT_ERR_TAMPERED with res->reason set, or
 * another error (verification cannot go on). */
static int check_recording(const char *rec_dir, const char *details,
    struct aud_verify_result *res)
{
	char path[4096];
	const cJSON *rec = NULL;
	const char *id = NULL, *sha = NULL;
	cJSON *d = NULL;
	int64_t bytes = -1;
	int r = 0;

	/* Most events bind nothing: no parse for them. */
	if (strstr(details, "\"recording\"") == NULL) {
		return 0;
	}
	if ((r = json_parse(details, strlen(details), AUD_DETAILS_MAX, JSON_DEFAULT_DEPTH,
	    &d)) != 0 || json_get_obj(d, "recording", &rec) != 0 ||
	    cJSON_GetObjectItemCaseSensitive(rec, "sha256") == NULL) {
		cJSON_Delete(d);
		return r == ZT_ERR_NOMEM ? r : 0;
	}
	if (json_get_str(rec, "id", AUD_REC_ID_LEN, 0, &id) != 0 ||
	    json_get_int(rec, "bytes", 0, INT64_MAX, &bytes) != 0 ||
	    json_get_str(rec, "sha256", CRYPTO_SHA256_HEX_LEN, 0, &sha) != 0 ||
	    aud_rec_path(rec_dir, id, path, sizeof(path)) != 0) {
		snprintf(res->detail, sizeof(res->detail), "its recording binding is malformed");
		r = ZT_ERR_TAMPERED;
	} else if ((r = aud_rec_check(path, (uint64_t)bytes, sha)) == ZT_ERR_TAMPERED ||
	    r == ZT_ERR_NOT_FOUND) {
		snprintf(res->detail, sizeof(res->detail), "recording %s does not match its "
		    "event (edited, truncated or missing)", id);
		r = ZT_ERR_TAMPERED;
	}
	if (r == ZT_ERR_TAMPERED) {
		res->reason = res->detail;
	}
	cJSON_Delete(d);
	return r;
}

static int verify_row(const struct store_audit_row *row, void *arg)
{
	struct verify_state *vs = arg;
	struct store_audit_row copy = *row;
	int r;

	if (row->seq != vs->prev_seq + 1) {
		vs->res->reason = "gap in sequence";
	} else if (strcmp(row->prev_hash, vs->prev_hash) != 0) {
		vs->res->reason = "broken link";
	} else {
		/* The link check above has made prev_hash well-formed hex. */
		copy.hash[0] = '\0';
		if ((r = aud_hash_row(&copy, NULL)) != 0) {
			return r;
		}
		if (strcmp(copy.hash, row->hash) != 0) {
			vs->res->reason = "hash mismatch";
		} else if (vs->rec_dir != NULL &&
		    (r = check_recording(vs->rec_dir, row->details, vs->res)) != 0 &&
		    r != ZT_ERR_TAMPERED) {
			return r;
		}
	}
	if (vs->res->reason != NULL) {
		vs->res->first_bad = row->seq;
		return ZT_ERR_TAMPERED;
	}
	vs->res->checked++;
	vs->prev_seq = row->seq;
	memcpy(vs->prev_hash, row->hash, sizeof(vs->prev_hash));
	vs->res->head_seq = row->seq;
	memcpy(vs->res->head_hash, row->hash, sizeof(vs->res->head_hash));
	return 0;
}

int aud_verify(struct store *st, const char *rec_dir, struct aud_verify_result *res)
{
	struct verify_state vs;

	if (st == NULL || res == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(res, 0, sizeof(*res));
	memset(&vs, 0, sizeof(vs));
	vs.res = res;
	vs.rec_dir = rec_dir;
	memset(vs.prev_hash, '0', CRYPTO_SHA256_HEX_LEN);
	return store_audit_each(st, 0, INT64_MIN, verify_row, &vs);
}

/* Writes s with control bytes shown as '?', so that a row edited to hold
 * terminal escapes cannot drive the reader's terminal; pads to width. */
static void put_clean(FILE *fp, const char *s, int width)
{
	int n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, fp);
	}
	for (; n < width; n++) {
		fputc(' ', fp);
	}
}

struct print_state {
	FILE *fp;
	int json;
};

cJSON *aud_row_json(const struct store_audit_row *row)
{
	cJSON *o = NULL, *details = NULL;
	char when[40];

	if (dur_format_time_ms(row->time_ms, when, sizeof(when)) != 0) {
		snprintf(when, sizeof(when), "(invalid time)");
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		return NULL;
	}
	/* A row whose details are not a JSON object (only possible if the file
	 * was edited) is still exported, as a string, rather than dropped. */
	if (json_parse(row->details, strlen(row->details), AUD_DETAILS_MAX, JSON_DEFAULT_DEPTH,
	    &details) != 0 || !cJSON_IsObject(details)) {
		cJSON_Delete(details);
		details = cJSON_CreateString(row->details);
	}
	if (details == NULL ||
	    cJSON_AddNumberToObject(o, "seq", (double)row->seq) == NULL ||
	    cJSON_AddStringToObject(o, "time", when) == NULL ||
	    cJSON_AddNumberToObject(o, "time_ms", (double)row->time_ms) == NULL ||
	    cJSON_AddStringToObject(o, "type", row->type) == NULL ||
	    cJSON_AddStringToObject(o, "actor", row->actor) == NULL ||
	    cJSON_AddStringToObject(o, "source", row->source) == NULL ||
	    cJSON_AddStringToObject(o, "outcome", row->outcome) == NULL) {
		cJSON_Delete(details);
		goto fail;
	}
	if (!cJSON_AddItemToObject(o, "details", details)) {
		cJSON_Delete(details);
		goto fail;
	}
	if (cJSON_AddStringToObject(o, "hash", row->hash) == NULL) {
		goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static int print_json(const struct store_audit_row *row, FILE *fp)
{
	cJSON *o = aud_row_json(row);
	char *line = NULL;
	int r = ZT_ERR_NOMEM;

	if (o != NULL && (line = json_print(o)) != NULL) {
		r = fprintf(fp, "%s\n", line) < 0 ? ZT_ERR_IO : 0;
	}
	free(line);
	cJSON_Delete(o);
	return r;
}

static int print_row(const struct store_audit_row *row, void *arg)
{
	struct print_state *ps = arg;
	char when[40];

	if (ps->json) {
		return print_json(row, ps->fp);
	}
	if (dur_format_time_ms(row->time_ms, when, sizeof(when)) != 0) {
		snprintf(when, sizeof(when), "(invalid time)");
	}
	fprintf(ps->fp, "%s %6lld ", when, (long long)row->seq);
	put_clean(ps->fp, row->type, 20);
	fputc(' ', ps->fp);
	put_clean(ps->fp, row->actor, 20);
	fputc(' ', ps->fp);
	put_clean(ps->fp, row->source, 15);
	fputc(' ', ps->fp);
	put_clean(ps->fp, row->outcome, 8);
	fputc(' ', ps->fp);
	put_clean(ps->fp, row->details, 0);
	fputc('\n', ps->fp);
	return ferror(ps->fp) ? ZT_ERR_IO : 0;
}

int aud_print(struct store *st, int64_t since_ms, int json, FILE *fp)
{
	struct print_state ps = { fp, json };
	int r;

	if (st == NULL || fp == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = store_audit_each(st, 0, since_ms, print_row, &ps)) != 0) {
		return r;
	}
	return fflush(fp) != 0 ? ZT_ERR_IO : 0;
}

int aud_append_reason(struct store *st, int64_t now_ms, const char *type, const char *actor,
    const char *source, const char *outcome, const char *reason, const cJSON *details)
{
	cJSON *d = NULL;
	int r;

	if (reason == NULL || cJSON_GetObjectItemCaseSensitive(details, "reason") != NULL) {
		return aud_append(st, now_ms, type, actor, source, outcome, details);
	}
	if (details != NULL && !cJSON_IsObject(details)) {
		return ZT_ERR_INVALID;
	}
	d = details != NULL ? cJSON_Duplicate(details, 1) : cJSON_CreateObject();
	if (d == NULL || cJSON_AddStringToObject(d, "reason", reason) == NULL) {
		r = ZT_ERR_NOMEM;
	} else {
		r = aud_append(st, now_ms, type, actor, source, outcome, d);
	}
	cJSON_Delete(d);
	return r;
}
