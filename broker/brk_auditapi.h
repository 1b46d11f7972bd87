/*
 * brk_auditapi.h - the API's reading of session recordings (docs/api.md,
 * "Recordings"); the audit log's routes are brk_auditlog.h.
 *
 * Auditors (a role with options: {auditor: true}) and administrators read
 * every recording; any other caller lists and reads only the recordings
 * of its own sessions. A recording that is not the caller's is answered
 * 404, as one that does not exist. Every read of a recording's content is
 * audited (recording.read, must-record: nothing is handed out off the
 * record).
 */
#ifndef ZT_BRK_AUDITAPI_H
#define ZT_BRK_AUDITAPI_H

#include "broker/brk_api.h"

#define BRK_REC_CONTENT_TYPE "application/x-asciicast"

/* GET /v1/recordings?host=H&user=U&limit=N */
void brk_auditapi_recordings_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
/* GET /v1/recordings/ID: the asciicast file */
void brk_auditapi_recording_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
/* Shared with brk_auditlog.c. Whether who audits (an auditor or an
 * administrator) into *yes: 0, or an error with a 500 in resp when the
 * roles cannot be read. */
int brk_auditapi_auditor(struct brk *b, const struct brk_identity *who, int *yes,
    struct brk_resp *resp);
/* Records a read (audit.read, recording.read, ...) by who; d is taken
 * (may be NULL). 0 or the error of aud_record (the answer must then be
 * brk_resp_unrecorded). */
int brk_auditapi_record(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    const char *type, const char *outcome, const char *reason, cJSON *d);

#endif
