/*
 * aud_rec.h - session recordings in asciicast v2, the format asciinema
 * plays (docs.asciinema.org/manual/asciicast/v2): a header line (a JSON
 * object: version 2, width, height, timestamp, env.TERM, title), then one
 * line per event, [seconds since the start, code, data]: "o" what the
 * terminal showed, "i" what was typed (when a role records input), "r" a
 * resize ("COLSxROWS").
 *
 * Writing. A recording is a file of its own, created exclusively with mode
 * 0600 (the data directory's recordings/ is 0700), written as the session
 * runs, one line per event. A terminal's bytes are not always UTF-8, and a
 * read may end inside a character, while a JSON string must be UTF-8: the
 * writer keeps an unfinished character of each stream for its next event
 * and writes each byte that can start none as U+FFFD. It counts the bytes
 * and their SHA-256 as it writes; aud_rec_close() syncs the file and gives
 * both, for the session's end event in the audit chain (so a recording
 * changed afterwards no longer matches its event). A write that fails
 * fails every later one: the caller ends the session, a session that
 * cannot be recorded does not go on.
 *
 * Reading (ztctl play, tests): aud_rec_parse_header() and
 * aud_rec_parse_event() read one line each, strictly: untrusted input
 * (fuzz/aud_rec.c).
 *
 * A writer belongs to one thread at a time.
 */
#ifndef ZT_AUD_REC_H
#define ZT_AUD_REC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/crypto.h"

#define AUD_REC_LINE_MAX (1024 * 1024)  /* bytes of one line read */
#define AUD_REC_DIM_MAX 10000           /* columns or rows */
#define AUD_REC_TERM_MAX 64
#define AUD_REC_TITLE_MAX 256

struct aud_rec;

/* What the header says. */
struct aud_rec_head {
	int width, height;              /* 1..AUD_REC_DIM_MAX */
	int64_t timestamp;              /* unix seconds of the start */
	char term[AUD_REC_TERM_MAX + 1];        /* env.TERM, "" when absent */
	char title[AUD_REC_TITLE_MAX + 1];      /* "" when absent */
};

/* Creates path (O_EXCL, 0600) and writes the header of h (term and title
 * may be empty: left out). 0 with *out, or ZT_ERR_EXISTS, ZT_ERR_INVALID
 * (dimensions, a term or title not printable ASCII/UTF-8), ZT_ERR_IO,
 * ZT_ERR_NOMEM. */
int aud_rec_open(const char *path, const struct aud_rec_head *h, struct aud_rec **out);
/* An event at ms milliseconds after the start (never less than the last
 * event's): output (code "o") or input ("i") bytes p[0..n), or a resize.
 * 0 or the error (ZT_ERR_IO; after one, every call fails). */
int aud_rec_output(struct aud_rec *r, int64_t ms, const void *p, size_t n);
int aud_rec_input(struct aud_rec *r, int64_t ms, const void *p, size_t n);
int aud_rec_resize(struct aud_rec *r, int64_t ms, int width, int height);
/* Writes what the streams kept (as U+FFFD), syncs, closes and frees; the
 * file's bytes and SHA-256 (hex) into bytes and sha256 (may be NULL).
 * 0, or the first error the recording met (it is closed and freed all the
 * same). NULL is a no-op returning 0. */
int aud_rec_close(struct aud_rec *r, uint64_t *bytes, char sha256[CRYPTO_SHA256_HEX_LEN + 1]);

/* One event read. */
struct aud_rec_event {
	double t;                       /* seconds since the start, >= 0 */
	char code;                      /* 'o', 'i', 'r' or 'm' (a marker) */
	const char *data;               /* borrowed from the parsed line (*hold) */
	size_t len;
};

/* The header line p[0..n) (no newline). 0 or ZT_ERR_INVALID. */
int aud_rec_parse_header(const char *p, size_t n, struct aud_rec_head *h);
/* An event line p[0..n): 0 with *ev, whose data lives in *hold (free with
 * cJSON_Delete), or ZT_ERR_INVALID (*hold NULL). */
int aud_rec_parse_event(const char *p, size_t n, cJSON **hold, struct aud_rec_event *ev);

/* Where recordings live. A recording is named by a random id of
 * AUD_REC_ID_LEN lower-case hex digits and kept as DIR/ID.cast in its
 * directory: the one form of its path, so that no id names another file. */
#define AUD_REC_ID_LEN 32
/* 1 if id is AUD_REC_ID_LEN lower-case hex digits, else 0 (NULL too). */
int aud_rec_id_valid(const char *id);
/* "DIR/ID.cast" into out: 0, ZT_ERR_INVALID (not an id), ZT_ERR_TOO_LARGE. */
int aud_rec_path(const char *dir, const char *id, char *out, size_t outsz);
/* Whether the file at path (not followed if a symbolic link) is a regular
 * file of exactly bytes bytes whose SHA-256 is sha256 (hex): 0,
 * ZT_ERR_NOT_FOUND (missing), ZT_ERR_TAMPERED (another size or hash, or
 * not a regular file), ZT_ERR_IO, ZT_ERR_NOMEM. Reads it in pieces. */
int aud_rec_check(const char *path, uint64_t bytes, const char *sha256);
/* The size and SHA-256 (hex) of the file at path as it is (not followed if
 * a symbolic link): for a recording a stopped broker left unbound. 0,
 * ZT_ERR_NOT_FOUND, ZT_ERR_TAMPERED (not a regular file), ZT_ERR_IO,
 * ZT_ERR_NOMEM. */
int aud_rec_hash(const char *path, uint64_t *bytes, char sha256[CRYPTO_SHA256_HEX_LEN + 1]);

#endif
