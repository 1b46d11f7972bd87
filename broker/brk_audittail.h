/*
 * brk_audittail.h - the audit log's live tail: /ws/audit (brk_ws.h), the
 * events that happen after it opens, as they are recorded (docs/api.md,
 * "/ws/audit").
 *
 * The conversation, after the upgrade:
 *   client: one text message, a JSON object with the filter of GET
 *           /v1/audit (brk_auditlog.h): "from", "to", "actor", "type",
 *           "outcome", "host", "q", and "since" (a seq: the tail starts
 *           after it; without it, at the log's head). Strings, or whole
 *           numbers for from, to and since. Read and refused exactly as
 *           the query arguments are, under the same visibility rule
 *           (auditors and administrators every event, anyone else its
 *           own). The tail is on record as audit.read {read: "tail"}.
 *   broker: {"type":"live", "since"} once it runs;
 *           {"type":"event", "event": {...}} for each new event that
 *           passes, in seq order, the event as GET /v1/audit gives it
 *           ({"truncated": true} and its details null when it would pass
 *           BRK_WS_MSG_MAX);
 *           {"type":"end", "reason"} when the credential no longer holds
 *           (logout, lock, expiry), the caller's right to read every event
 *           changed, or the broker stops; {"type":"error", "message"} for
 *           a filter refused or a failure; then it closes.
 * The client sends nothing more (what it sends is ignored). The log is
 * looked at every BRK_AUDITTAIL_POLL_MS (its head, one row by key, and
 * the new rows when it moved), in pages of GET /v1/audit's bounds; the
 * credential is checked every BRK_AUDITTAIL_CHECK_MS.
 */
#ifndef ZT_BRK_AUDITTAIL_H
#define ZT_BRK_AUDITTAIL_H

struct brk;
struct brk_ws;

/* How long a client has to send its filter after the upgrade. */
#define BRK_AUDITTAIL_OPEN_TIMEOUT_MS 30000
#define BRK_AUDITTAIL_POLL_MS 1000
#define BRK_AUDITTAIL_CHECK_MS 3000

/* The /ws/audit route (brk_ws_handler). */
void brk_audittail_serve(struct brk *b, struct brk_ws *ws);

#endif
