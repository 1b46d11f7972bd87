/*
 * aud_log.h - the tamper-evident audit log.
 *
 * Every security-relevant event (enrolment, login success and failure,
 * lockout, logout, user/bot/token change; later tool calls and decisions) is
 * appended as a row whose hash is SHA-256 over the previous row's hash and
 * this row's fields in an unambiguous length-prefixed encoding:
 *
 *   hash = SHA-256( "zt-audit-v1" || prev_hash(32 raw bytes) || u64 seq ||
 *                   u64 time_ms || string type || string actor ||
 *                   string source || string outcome || string details )
 *
 * (u64 big-endian; string = u32 length + bytes). The first row's prev_hash
 * is 32 zero bytes. aud_verify() re-walks the chain and names the first row
 * whose stored hash or link does not match, or that binds a recording file
 * which no longer matches it. Details are a JSON object that
 * must never contain a secret. Appends are durable before they return.
 * Thread-safe (serialized by the store).
 */
#ifndef ZT_AUD_LOG_H
#define ZT_AUD_LOG_H

#include <stdint.h>
#include <cjson/cJSON.h>

struct store;
struct store_audit_row;

#define AUD_FIELD_MAX 1024  /* bytes of type, actor, source, outcome */
/* Bytes of an event's details as JSON text. Room for the largest: an
 * ssh_exec event holds the whole command (16 KiB), which JSON may escape
 * to six times its size (\u0001), and the rule and request around it. */
#define AUD_DETAILS_MAX (128 * 1024)

/* Appends one event. details may be NULL (stored as "{}"); it is borrowed.
 * now_ms is the event time. 0 or a negative ZT_ERR_* (ZT_ERR_INVALID: a
 * field missing or over AUD_FIELD_MAX; ZT_ERR_TOO_LARGE: details over
 * AUD_DETAILS_MAX). Logs nothing: the caller says what failed. The broker
 * records its events through aud_record() (aud_event.h), which decides
 * what a failure means; this is the layer below it. */
int aud_append(struct store *st, int64_t now_ms, const char *type, const char *actor,
    const char *source, const char *outcome, const cJSON *details);

/* aud_append() with "reason": reason added to (a copy of) details, unless
 * reason is NULL or details has a "reason" of its own. details may be NULL
 * ({"reason": reason}); it is borrowed. */
int aud_append_reason(struct store *st, int64_t now_ms, const char *type, const char *actor,
    const char *source, const char *outcome, const char *reason, const cJSON *details);

/* Computes row->hash from the row's fields and row->prev_hash. */
int aud_hash_row(struct store_audit_row *row, void *unused);

struct aud_verify_result {
	int64_t checked;    /* rows that verified */
	int64_t first_bad;  /* seq of the first broken row, 0 if none */
	/* "hash mismatch", "broken link", "gap in sequence" (static text), or
	 * detail's "recording ID does not match its event (...)" */
	const char *reason;
	char detail[128];
	/* The last verified event: a chain check cannot see events cut off the
	 * end, so operators record the head elsewhere and compare. */
	int64_t head_seq;
	char head_hash[65];
};
/* 0 if the whole chain verifies, ZT_ERR_TAMPERED (result says where),
 * or another error.
 *
 * An event whose details hold "recording": {"id", "bytes", "sha256"} (the
 * end of a recorded session, broker/brk_recordings.h) binds the file
 * rec_dir/ID.cast (audit/aud_rec.h): with rec_dir given, that file must
 * exist with that size and SHA-256, else the event is the first broken
 * one. A binding that is not one (a bad id, a negative size, a hash that
 * is not 64 hex digits) breaks it too. rec_dir NULL: files are not
 * checked. A session still running has no end event, so its file is not
 * checked. */
int aud_verify(struct store *st, const char *rec_dir, struct aud_verify_result *res);

/* One row as the JSON object a SIEM reads (owned; NULL on ENOMEM): seq,
 * time (ISO 8601 UTC), time_ms, type, actor, source, outcome, details (the
 * object; its text as a string if it is not one) and hash. aud_print's
 * JSON lines and GET /v1/audit both give rows in this form. */
cJSON *aud_row_json(const struct store_audit_row *row);

/* Prints rows with time_ms >= since_ms to fp: one JSON object per line
 * (JSON lines, for a SIEM) when json, else aligned text. */
#include <stdio.h>
int aud_print(struct store *st, int64_t since_ms, int json, FILE *fp);

#endif
