/*
 * brk_files.h - the file tools' own part: file_read, file_write,
 * file_list, file_stat and file_remove, their arguments and their work.
 * The gate (brk_gate.h) does the rest: identity, policy, audit.
 *
 * Every tool takes {host, login, path}. The path must be absolute and
 * normal (pol_path_normal: no "..", "." or empty segments, no trailing
 * '/'), at most BRK_FILE_PATH_MAX bytes, without control bytes; a NUL
 * cannot arrive at all (the JSON parser refuses "\u0000", so such a
 * request fails as a whole). The gate decides on that path, so what a
 * role plainly denies is refused before anything is opened.
 *
 * Then the host resolves it, over SFTP on the call's SSH connection
 * (brk_sshconn.h, resources/ssh_sftp.h), and the policy decides again on
 * what the host resolved (brk_gate_recheck_path): that is the path the
 * tool then acts on, and the only one it acts on. file_read, file_stat
 * and file_list resolve the whole path (every symbolic link followed: a
 * link out of an allowed tree resolves outside it and is denied);
 * file_write and file_remove resolve the directory and keep the last name
 * as written, so that a link is removed itself, not what it points to,
 * and a file that does not exist yet can be written. file_write refuses a
 * target that is a symbolic link or a directory; file_remove a
 * directory. A deny there is a refused call: a tool error naming the rule
 * and the resolved path, the outcome event "denied" with both paths, and
 * nothing done.
 *
 * What this cannot close: the host's view can change between the
 * resolution and the act (a rename or a new link under the allowed tree by
 * someone with write access there). The write creates its temporary file
 * exclusively (never through a link) and renames it in place (a rename
 * does not follow the target; resources/ssh_sftp.h says how an existing
 * file is replaced), and a read opens only regular files, but a
 * directory swapped for a link in between is followed. SFTP version 3
 * gives no descriptor-relative open to close that race.
 *
 * Bounds: a read returns at most length bytes (default
 * BRK_FILE_READ_DEFAULT, at most the broker's --file-max, default
 * BRK_FILE_MAX_DEFAULT); a write takes at most --file-max bytes (and must
 * also fit in one JSON-RPC message, MCP_MSG_MAX, with its base64); a list
 * returns at most limit entries (default BRK_FILE_LIST_DEFAULT, at most
 * BRK_FILE_LIST_MAX) with a cursor for the rest; every call ends within
 * BRK_FILE_TIMEOUT_S.
 *
 * The audit: both events carry the path as requested; the outcome adds
 * the resolved path, the bytes and the SHA-256 of what was read or
 * written, and the connection (brk_sshconn_done).
 */
#ifndef ZT_BRK_FILES_H
#define ZT_BRK_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/crypto.h"
#include "resources/ssh_sftp.h"

struct brk;
struct brk_call;
struct brk_ws;

#define BRK_FILE_PATH_MAX 4096
#define BRK_FILE_READ_DEFAULT (256 * 1024)
#define BRK_FILE_MAX_DEFAULT (4 * 1024 * 1024)   /* default for --file-max */
#define BRK_FILE_MAX_LIMIT (16 * 1024 * 1024)    /* the largest --file-max */
#define BRK_FILE_LIST_DEFAULT 100
#define BRK_FILE_LIST_MAX 1000
#define BRK_FILE_TIMEOUT_S 60
/* A list cursor: "c1" and hex of 8 bytes of the directory's SHA-256 and
 * of the last name returned. */
#define BRK_FILE_CURSOR_MAX (2 + 16 + 2 * SSH_SFTP_NAME_MAX)

/* The tool table's parse and run (brk_gate.h) of each tool. */
int brk_file_read_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_file_read_run(struct brk_call *c, cJSON **result);
int brk_file_write_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_file_write_run(struct brk_call *c, cJSON **result);
int brk_file_list_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_file_list_run(struct brk_call *c, cJSON **result);
/* file_stat's and file_remove's: {host, login, path} alone. */
int brk_file_target_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_file_stat_run(struct brk_call *c, cJSON **result);
int brk_file_remove_run(struct brk_call *c, cJSON **result);

/* The /ws/file route (brk_ws.h), the console's way to the two tools with
 * transfer "link" (docs/api.md "Terminals"): its opening message is the
 * call's arguments with "tool": "file_read" or "file_write"; the call is
 * decided, held and audited as any (brk_term_door), and its "result"
 * message carries the link, which the page then takes with its web
 * session (brk_xferhttp.h). */
void brk_files_serve(struct brk *b, struct brk_ws *ws);

/* The cursor after name in directory dir (out: BRK_FILE_CURSOR_MAX + 1
 * bytes). 0 or ZT_ERR_TOO_LARGE. */
int brk_file_cursor_encode(const char *dir, const char *name, char *out, size_t outsz);
/* The name a cursor for dir holds, into name (namesz bytes): 0, or
 * ZT_ERR_INVALID for a cursor that is malformed or was made for another
 * directory. Untrusted input (fuzz/file_cursor.c). */
int brk_file_cursor_decode(const char *cursor, const char *dir, char *name, size_t namesz);

#endif
