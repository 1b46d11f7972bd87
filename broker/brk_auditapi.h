/*
 * brk_auditapi.h - the API's reading of the record: session recordings
 * and the audit log (docs/api.md, "Recordings" and "Audit log").
 *
 * Auditors (a role with options: {auditor: true}) and administrators read
 * everything here; any other caller lists and reads only the recordings
 * of its own sessions, and not the audit log (403). A recording that is
 * not the caller's is answered 404, as one that does not exist.
 * Every read of a recording's content, and of the audit log, is audited
 * (recording.read, audit.read, must-record: nothing is handed out off the
 * record).
 */
#ifndef ZT_BRK_AUDITAPI_H
#define ZT_BRK_AUDITAPI_H

#include "broker/brk_api.h"

#define BRK_AUDIT_PAGE_DEFAULT 100        /* events of GET /v1/audit without limit */
#define BRK_AUDIT_PAGE_MAX 1000           /* its largest limit */
#define BRK_AUDIT_PAGE_BYTES (4 << 20)    /* details' bytes after which a page ends */
#define BRK_REC_CONTENT_TYPE "application/x-asciicast"

/* GET /v1/recordings?host=H&user=U&limit=N */
void brk_auditapi_recordings_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
/* GET /v1/recordings/ID: the asciicast file */
void brk_auditapi_recording_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
/* GET /v1/audit?since=SEQ&limit=N */
void brk_auditapi_audit(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);

#endif
