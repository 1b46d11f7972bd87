/*
 * brk_auditlog.c - GET /v1/audit, /v1/audit/export and /v1/audit/verify
 * (brk_auditlog.h). The filters the store can apply go to SQL
 * (store_audit_query); details.host needs the details parsed, which
 * aud_row_json does anyway, so it is checked here on the parsed event.
 */
#include "broker/brk_auditlog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_auditapi.h"
#include "broker/brk_identity.h"
#include "broker/brk_query.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

/* The largest `from`/`to`: seconds whose milliseconds fit an int64. */
#define SECONDS_MAX (INT64_MAX / 1000 - 1)

int brk_auditlog_filter(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_audit_query *q, struct brk_resp *resp)
{
	static const char *const orders[] = { "asc", "desc", NULL };
	int64_t from = 0, to = 0;
	const char *actor = NULL, *star;

	memset(q, 0, sizeof(*q));
	if (brk_query_int(req, "since", 0, INT64_MAX, 0, &q->since, resp) != 0 ||
	    brk_query_int(req, "before", 1, INT64_MAX, 0, &q->before, resp) != 0 ||
	    brk_query_int(req, "limit", 1, BRK_AUDIT_PAGE_MAX, BRK_AUDIT_PAGE_DEFAULT, &q->limit,
	    resp) != 0 ||
	    brk_query_int(req, "from", 0, SECONDS_MAX, -1, &from, resp) != 0 ||
	    brk_query_int(req, "to", 0, SECONDS_MAX, -1, &to, resp) != 0 ||
	    brk_query_str(req, "actor", BRK_AUDIT_ARG_MAX, &actor, resp) != 0 ||
	    brk_query_str(req, "type", BRK_AUDIT_ARG_MAX, &q->f.type, resp) != 0 ||
	    brk_query_str(req, "outcome", BRK_AUDIT_OUTCOME_MAX, &q->f.outcome, resp) != 0 ||
	    brk_query_str(req, "host", STORE_NAME_MAX, &q->host, resp) != 0 ||
	    brk_query_str(req, "q", BRK_AUDIT_ARG_MAX, &q->f.text, resp) != 0 ||
	    brk_query_word(req, "order", orders, 0, &q->f.desc, resp) != 0) {
		return ZT_ERR_INVALID;
	}
	/* '*' means a prefix only at the end; "*" alone would be every type. */
	star = q->f.type != NULL ? strchr(q->f.type, '*') : NULL;
	if (star != NULL && (star == q->f.type || star[1] != '\0')) {
		brk_resp_error(resp, 400, "invalid_request", "query argument type must be a type "
		    "or a prefix ending in one '*' (tool.*)");
		return ZT_ERR_INVALID;
	}
	q->f.after_seq = q->since;
	q->f.before_seq = q->before;
	q->f.from_ms = from >= 0 ? from * 1000 : INT64_MIN;
	q->f.to_ms = to >= 0 ? to * 1000 : INT64_MAX;
	if (brk_auditapi_auditor(b, who, &q->yes, resp) != 0) {
		return ZT_ERR_INTERNAL;
	}
	/* Anyone else sees the events it is the actor of, and no other. */
	q->f.actor = q->yes ? actor : who->actor;
	q->none = !q->yes && actor != NULL && strcmp(actor, who->actor) != 0;
	return 0;
}

/* The event of row as JSON (owned) into *o if it passes the filters
 * applied here, else *o NULL: 0 or ZT_ERR_NOMEM. */
static int event_of(const struct brk_audit_query *q, const struct store_audit_row *row, cJSON **o)
{
	const cJSON *d, *h;

	if ((*o = aud_row_json(row)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (q->host != NULL) {
		d = cJSON_GetObjectItemCaseSensitive(*o, "details");
		h = cJSON_GetObjectItemCaseSensitive(d, "host");
		if (!cJSON_IsString(h) || strcmp(h->valuestring, q->host) != 0) {
			cJSON_Delete(*o);
			*o = NULL;
		}
	}
	return 0;
}

/* The details of a read's audit event: what was asked and how much
 * was given (events < 0: not said). */
static cJSON *read_details(const struct brk_audit_query *q, const char *what, int64_t events)
{
	const char *keys[] = { "actor", "type", "outcome", "host", "q" };
	const char *vals[] = { q->f.actor, q->f.type, q->f.outcome, q->host, q->f.text };
	cJSON *d = cJSON_CreateObject();
	int ok = d != NULL;

	ok = ok && cJSON_AddStringToObject(d, "read", what) != NULL &&
	    cJSON_AddNumberToObject(d, "since", (double)q->since) != NULL;
	if (ok && events >= 0) {
		ok = cJSON_AddNumberToObject(d, "events", (double)events) != NULL;
	}
	if (ok && q->before > 0) {
		ok = cJSON_AddNumberToObject(d, "before", (double)q->before) != NULL;
	}
	for (size_t i = 0; ok && i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (vals[i] != NULL) {
			ok = cJSON_AddStringToObject(d, keys[i], vals[i]) != NULL;
		}
	}
	if (!ok) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int brk_auditlog_record(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const struct brk_audit_query *q, const char *what,
    int64_t events)
{
	cJSON *d = read_details(q, what, events);

	if (d == NULL) {
		return ZT_ERR_NOMEM;
	}
	return brk_auditapi_record(b, req, who, "audit.read", "success", NULL, d);
}

/* ---- GET /v1/audit ---- */

struct page {
	const struct brk_audit_query *q;
	cJSON *events;
	int64_t n, next, scanned;
	size_t bytes;
	int more;
};

/* 1 stops the walk: the page is full, or has looked at enough rows. */
static int add_event(const struct store_audit_row *row, void *arg)
{
	struct page *p = arg;
	cJSON *o = NULL;
	int r;

	if ((r = event_of(p->q, row, &o)) != 0) {
		return r;
	}
	if (o != NULL && (p->n >= p->q->limit || p->bytes >= BRK_AUDIT_PAGE_BYTES)) {
		/* One more event there is: the page ends before it. */
		cJSON_Delete(o);
		p->more = 1;
		return 1;
	}
	if (o != NULL) {
		if (!cJSON_AddItemToArray(p->events, o)) {
			cJSON_Delete(o);
			return ZT_ERR_NOMEM;
		}
		p->n++;
		p->bytes += strlen(row->details);
	}
	p->next = row->seq;
	if (++p->scanned >= BRK_AUDIT_SCAN_MAX) {
		p->more = 1;
		return 1;
	}
	return 0;
}

int brk_auditlog_page(struct brk *b, const struct brk_audit_query *q, cJSON *events,
    int64_t *next, int *more)
{
	struct page p;
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.q = q;
	p.events = events;
	p.next = q->f.desc ? q->before : q->since;
	if (!q->none) {
		r = store_audit_query(b->store, &q->f, add_event, &p);
	}
	*next = p.next;
	*more = p.more;
	return r == 1 ? 0 : r;
}

void brk_auditlog_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	struct brk_audit_query q;
	cJSON *events;
	int64_t next = 0;
	int more = 0, r = ZT_ERR_NOMEM;

	if (brk_auditlog_filter(b, req, who, &q, resp) != 0) {
		return;
	}
	resp->json = cJSON_CreateObject();
	if ((events = cJSON_AddArrayToObject(resp->json, "events")) != NULL) {
		r = brk_auditlog_page(b, &q, events, &next, &more);
	}
	if (r != 0 || cJSON_AddNumberToObject(resp->json, "next", (double)next) == NULL ||
	    cJSON_AddBoolToObject(resp->json, "more", more) == NULL ||
	    cJSON_AddStringToObject(resp->json, "order", q.f.desc ? "desc" : "asc") == NULL) {
		log_error("cannot read the audit log: %s", zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
	if (brk_auditlog_record(b, req, who, &q, "page", cJSON_GetArraySize(events)) != 0) {
		brk_resp_unrecorded(resp);
	}
}

/* ---- GET /v1/audit/export ---- */

struct lines {
	const struct brk_audit_query *q;
	struct buf *out;
	int64_t n;
};

static int add_line(const struct store_audit_row *row, void *arg)
{
	struct lines *l = arg;
	cJSON *o = NULL;
	char *text = NULL;
	int r;

	if ((r = event_of(l->q, row, &o)) != 0 || o == NULL) {
		return r;
	}
	/* json_print of aud_row_json: the line of `audit ls --json`. */
	if ((text = json_print(o)) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if ((r = buf_put(l->out, text, strlen(text))) == 0 &&
	    (r = buf_put(l->out, "\n", 1)) == 0) {
		l->n++;
	}
	free(text);
	cJSON_Delete(o);
	return r;
}

void brk_auditlog_export(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	struct lines l = { NULL, NULL, 0 };
	struct brk_audit_query q;
	int r = 0;

	if (brk_auditlog_filter(b, req, who, &q, resp) != 0) {
		return;
	}
	l.q = &q;
	if ((l.out = buf_new(BRK_AUDIT_EXPORT_BYTES)) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (!q.none) {
		r = store_audit_query(b->store, &q.f, add_line, &l);
	}
	if (r == ZT_ERR_TOO_LARGE) {
		brk_resp_error(resp, 413, "too_large", "the export passes %d MiB: narrow it (from, "
		    "to, type, ...) or page with GET /v1/audit", BRK_AUDIT_EXPORT_BYTES >> 20);
		goto out;
	}
	if (r != 0 || (buf_len(l.out) > 0 && buf_dup_cstring(l.out, &resp->body) != 0)) {
		log_error("cannot export the audit log: %s", zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		goto out;
	}
	resp->status = 200;
	resp->body_type = BRK_AUDIT_EXPORT_TYPE;
	resp->body_len = buf_len(l.out);
	if (brk_auditlog_record(b, req, who, &q, "export", l.n) != 0) {
		brk_resp_unrecorded(resp);
	}
out:
	buf_free(l.out);
}

/* ---- GET /v1/audit/verify ---- */

void brk_auditlog_verify(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	struct aud_verify_result res;
	int yes = 0, ok, r;
	cJSON *j, *d;

	if (brk_auditapi_auditor(b, who, &yes, resp) != 0) {
		return;
	}
	if (!yes) {
		brk_resp_error(resp, 403, "forbidden", "%s may not verify the audit log: that "
		    "takes a role with options: {auditor: true}", who->actor);
		d = NULL;
		goto record;
	}
	memset(&res, 0, sizeof(res));
	r = aud_verify(b->store, b->recordings_dir, &res);
	if (r != 0 && r != ZT_ERR_TAMPERED) {
		log_error("cannot verify the audit log: %s", zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	j = resp->json = cJSON_CreateObject();
	ok = j != NULL && cJSON_AddBoolToObject(j, "ok", r == 0) != NULL &&
	    cJSON_AddNumberToObject(j, "checked", (double)res.checked) != NULL;
	if (ok && r == 0) {
		ok = cJSON_AddNumberToObject(j, "head_seq", (double)res.head_seq) != NULL &&
		    cJSON_AddStringToObject(j, "head_hash", res.head_hash) != NULL;
	} else if (ok) {
		ok = cJSON_AddNumberToObject(j, "first_bad", (double)res.first_bad) != NULL &&
		    cJSON_AddStringToObject(j, "reason", res.reason != NULL ? res.reason :
		    "mismatch") != NULL;
	}
	if (!ok || (d = cJSON_Duplicate(j, 1)) == NULL) {
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
		return;
	}
	resp->status = 200;
record:
	if (brk_auditapi_record(b, req, who, "audit.verify", yes ? "success" : "denied", NULL,
	    d) != 0) {
		brk_resp_unrecorded(resp);
	}
}
