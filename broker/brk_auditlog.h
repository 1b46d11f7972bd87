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
 */
#ifndef ZT_BRK_AUDITLOG_H
#define ZT_BRK_AUDITLOG_H

#include "broker/brk_api.h"

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

void brk_auditlog_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_auditlog_export(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_auditlog_verify(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);

#endif
