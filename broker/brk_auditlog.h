/*
 * brk_auditlog.h - the API's reading of the audit log (docs/api.md,
 * "Audit log"): pages of events under server-side filters, the chain's
 * verification, and an export in JSON lines.
 *
 *   GET /v1/audit?FILTER&since=SEQ|before=SEQ&limit=N&order=asc|desc
 *   GET /v1/audit/export?FILTER&order=...  application/x-ndjson, bounded
 *   GET /v1/audit/verify                   auditors and administrators
 *
 * FILTER: from, to (unix seconds: from <= time < to), actor, type (exact,
 * or a prefix ending in '*': "tool.*"), outcome, host (details.host), q
 * (bytes contained in the details' JSON text). Auditors (options:
 * {auditor: true}) and administrators read every event; any other caller
 * only the events whose actor is itself (an actor filter naming another
 * gives none). Every read, export and verification is audited (audit.read,
 * audit.verify; must-record) before the answer goes out.
 *
 * The filter, the page and the record of a read are public for the live
 * tail (brk_audittail.h), which reads the same filter from its opening
 * message and sends pages of new events as they come.
 */
#ifndef ZT_BRK_AUDITLOG_H
#define ZT_BRK_AUDITLOG_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "broker/brk_api.h"
#include "store/store.h"

#define BRK_AUDIT_PAGE_DEFAULT 100        /* events of GET /v1/audit without limit */
#define BRK_AUDIT_PAGE_MAX 1000           /* its largest limit */
#define BRK_AUDIT_PAGE_BYTES (4 << 20)    /* details' bytes after which a page ends */
/* Rows a page looks at for the filters applied in C (host) before it
 * ends with "more": a page's work is bounded whatever the filter. */
#define BRK_AUDIT_SCAN_MAX 20000
#define BRK_AUDIT_EXPORT_BYTES (16 << 20) /* an export's largest body: else 413 */
#define BRK_AUDIT_ARG_MAX 256             /* bytes of actor, type, q */
#define BRK_AUDIT_OUTCOME_MAX 64
#define BRK_AUDIT_EXPORT_TYPE "application/x-ndjson"

/* A request's filter, read and bounded. */
struct brk_audit_query {
	struct store_audit_filter f;
	const char *host;                  /* details.host exactly, or NULL */
	int64_t since, before, limit;
	int none;  /* another's events asked by a non-auditor: none to give */
	int yes;   /* the caller audits: every actor's events are its to read */
};

/* Reads FILTER, since, before, limit and order from req's query (values
 * borrowed from it) into *q, with the visibility rule for who applied:
 * 0, or an error with the 400 (or 500) in resp. */
int brk_auditlog_filter(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_audit_query *q, struct brk_resp *resp);
/* One page of q into the array events (newest first with q->f.desc): at
 * most q->limit events, ending once their details pass
 * BRK_AUDIT_PAGE_BYTES or BRK_AUDIT_SCAN_MAX rows were looked at. *next is
 * the seq to go on from (since= or before= of the next page), *more 1 when
 * there may be more. 0 or the store's error (or ZT_ERR_NOMEM). */
int brk_auditlog_page(struct brk *b, const struct brk_audit_query *q, cJSON *events,
    int64_t *next, int *more);
/* Puts who's read of q on record (audit.read, details {read: what, since,
 * events (when >= 0), before, and the filter}). 0 or aud_record's error:
 * what was read must then not go out. */
int brk_auditlog_record(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const struct brk_audit_query *q, const char *what,
    int64_t events);

void brk_auditlog_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_auditlog_export(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_auditlog_verify(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);

#endif
