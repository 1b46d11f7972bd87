/*
 * brk_recordings.h - recordings of interactive sessions: the broker's
 * side of audit/aud_rec.h.
 *
 * A session the broker terminates (ssh_shell) is recorded as an asciicast
 * v2 file, <datadir>/recordings/<id>.cast (0600 in a 0700 directory), with
 * a store row saying whose it is (store.h, "recordings"). Its id is 128
 * random bits in hex: the only name of the file, so that no request can
 * name another one. At the end the file's size and SHA-256 go into the
 * session's end audit event ("recording": {id, bytes, sha256}), which binds
 * the file to the hash chain: `ztbroker admin audit verify` then refuses a
 * recording edited, truncated or removed afterwards (aud_verify).
 *
 * Who may read one (brk_recordings_may_read): its own user, an auditor or
 * an administrator (brk_policy_auditor); to anyone else it does not exist.
 *
 * Thread-safety: the functions may be called from any thread; one
 * struct aud_rec belongs to the session's thread.
 */
#ifndef ZT_BRK_RECORDINGS_H
#define ZT_BRK_RECORDINGS_H

#include <cjson/cJSON.h>

#include "audit/aud_rec.h"
#include "store/store.h"

struct brk;
struct brk_identity;

#define BRK_REC_ID_LEN AUD_REC_ID_LEN  /* 32 lower-case hex digits */

/* What a recorded session is: borrowed strings. */
struct brk_rec_meta {
	const char *actor;    /* "user:alice" */
	const char *host;
	const char *login;
	const char *tool;     /* "ssh_shell" */
	const char *call_id;  /* NULL or "": none */
	int cols, rows;       /* 1..AUD_REC_DIM_MAX */
	const char *term;     /* NULL or "": none; printable ASCII */
	int record_input;     /* the caller records input too (aud_rec_input) */
};

/* Keeps p[0..n) as <recordings dir>/<name><ext> (a call's screenshot:
 * name is the call id, ext ".png"): the directory made (0700) if needed,
 * the file new (never over another), 0600, written and synced. name and
 * ext are [0-9a-z.] only. 0, or ZT_ERR_INVALID (a bad name, or no
 * recordings directory), ZT_ERR_EXISTS, ZT_ERR_IO; nothing is left behind
 * on error. */
int brk_recordings_save(struct brk *b, const char *name, const char *ext, const void *p,
    size_t n);

/* Starts a recording of the session m: a random id into id, the directory
 * b->recordings_dir made (0700) if needed, the file opened with its header
 * (title "alice@web1 as ubuntu", timestamp now) into *rec, and a running
 * row added. 0, or ZT_ERR_INVALID (a field missing or out of bounds, or
 * no recordings directory), ZT_ERR_IO, ZT_ERR_NOMEM, a store error; on
 * error *rec is NULL and nothing is left behind. */
int brk_recordings_start(struct brk *b, const struct brk_rec_meta *m, struct aud_rec **rec,
    char id[BRK_REC_ID_LEN + 1]);

/* Ends recording id: closes rec (aud_rec_close: synced, its bytes and
 * SHA-256), ends the row (now, bytes, sha256, exit_status: -1 for unknown
 * or a signal), and adds to outcome (may be NULL; the details of the
 * session's end audit event) "recording": {"id", "bytes", "sha256"}; when
 * the recording failed, "recording": {"id", "error"} instead, which binds
 * nothing. Returns aud_rec_close's result (ZT_ERR_INVALID for a NULL rec);
 * on error it still ends the row and names the recording in outcome. */
int brk_recordings_finish(struct brk *b, const char *id, struct aud_rec *rec, int exit_status,
    cJSON *outcome);

/* At start, before anything is served: binds each recording a previous
 * run left running (it stopped without ending its sessions: kill -9, a
 * crash) as the file is now. Its row ends (exit_status -1) and an event
 * "recording.recovered" (actor the session's, source "local") carries
 * "recording": {id, bytes, sha256} and the call_id, so audit verify holds
 * the file to what it was when the broker came back; a file that is gone
 * is said so ("recording": {id, error}). 0 or the first error (the others
 * are still tried). */
int brk_recordings_recover(struct store *st, const char *dir, int64_t now);

/* 1 if who may read recording r: its own actor, or an auditor or
 * administrator (brk_policy_auditor); else 0. *err (may be NULL) gets a
 * roles error, and the answer is then 0. */
int brk_recordings_may_read(struct brk *b, const struct brk_identity *who,
    const struct store_recording *r, int *err);

/* Opens recording id's file for reading: 0 with *fd (owned) and its size
 * now, ZT_ERR_NOT_FOUND (no such id or file), ZT_ERR_IO. */
int brk_recordings_open(struct brk *b, const char *id, int *fd, uint64_t *size);

#endif
