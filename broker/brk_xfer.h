/*
 * brk_xfer.h - file bytes that travel outside JSON: a file tool called
 * with "transfer": "link" is decided, resolved, rechecked and audited like
 * any call (brk_gate.h, brk_files.h), but its result carries a link
 * instead of the bytes: https://BROKER/v1/files/ID, a one-time transfer
 * that streams the file between the client and the host over the call's
 * SSH connection, GET for file_read and PUT for file_write. Base64 inside
 * JSON-RPC costs several passes over every byte in three processes (the
 * broker's encoding, the client's JSON parse and decode); a link moves
 * each byte once each way, at the speed of scp.
 *
 * What binds a link. It is not a secret and is not enough: the request
 * that takes it must authenticate with the very credential (token) that
 * made the call, so a URL that leaked in a log gives nothing. It acts on
 * exactly what the call was decided on: the path the host resolved when
 * the call ran (a file_read's regular file, a file_write's directory and
 * name), the range, the mode and flags; nothing of the request can change
 * them. It is taken once: the first request with the right credential
 * takes it, any later one gets 404, like an id that never was (and like
 * an id of another identity). A link not taken within BRK_XFER_LINK_TTL_S
 * expires.
 *
 * The connection. The call lends its SSH connection (warm or new) to the
 * link, busy until the transfer ends or the link expires, then gives it
 * back to the pool (brk_sshpool.h). While a transfer runs, the
 * housekeeping (brk_xfer_chore, once a second) ends it, as it closes an
 * idle pooled connection, when its host went offline, was locked or
 * removed, or the roles changed, and, when the store changed and every
 * BRK_SSHCONN_CHECK_S anyway, when its credential no longer holds; and
 * when no byte moved for BRK_XFER_STALL_S.
 *
 * Writes. A PUT's body is streamed into a temporary file that is renamed
 * over the target only once the body ended complete, as file_write does
 * (resources/ssh_sftp.h): a client that stops half way leaves the target
 * as it was. create_only and append work as in file_write.
 *
 * Reads. A GET's answer is chunked: a read that fails midway ends the
 * connection without the last chunk, so the client sees it cut short,
 * never a shorter file as if whole. The last chunk is sent only after the
 * transfer's event is on disk.
 *
 * Audit: the call's own events as for every call ("tool.file_read",
 * "tool.file_read.result" with status "link", the link id and what it
 * binds), then, when the transfer ends however it ends, "file.transfer"
 * (durable) with the link id, the call id, the direction, host, login,
 * path, resolved path, offset, bytes moved and their SHA-256, and how it
 * ended (ok, failed, cancelled, expired) with the error. A PUT is answered
 * (bytes, SHA-256) only once that event is on disk.
 *
 * Bounds: BRK_XFER_PER_IDENTITY links open (offered or running) per
 * identity, BRK_XFER_MAX in the broker; a transfer ends within
 * BRK_XFER_MAX_S; a running transfer holds a 4 MiB ring and, reading, a
 * 4 MiB window (SSH_SFTP_STREAM_WINDOW): 512 MiB at most in all.
 * Thread-safe.
 */
#ifndef ZT_BRK_XFER_H
#define ZT_BRK_XFER_H

#include <stddef.h>
#include <stdint.h>

struct brk;
struct brk_call;
struct brk_pooled;
struct brk_watch_round;

#define BRK_XFER_ID_LEN 32          /* hex digits of a link id (128 random bits) */
#define BRK_XFER_LINK_TTL_S 60
#define BRK_XFER_STALL_S 60
#define BRK_XFER_MAX_S 3600
#define BRK_XFER_PER_IDENTITY 8
#define BRK_XFER_MAX 64
#define BRK_XFER_PATH "/v1/files/"  /* the links' path, the id after it */

enum brk_xfer_dir { BRK_XFER_READ, BRK_XFER_WRITE };

/* What a link does, as the call decided it. */
struct brk_xfer_what {
	enum brk_xfer_dir dir;
	const char *resolved;       /* read: the file; write: the target */
	uint64_t offset, length;    /* read: the range (length may pass the end) */
	uint32_t mode;              /* write: a new file's permission bits */
	unsigned flags;             /* write: SSH_SFTP_APPEND, SSH_SFTP_CREATE_ONLY */
};

struct brk_xfers;

struct brk_xfers *brk_xfers_new(void);
/* Ends every transfer and link (brk_xfers_shutdown first). NULL is a
 * no-op. */
void brk_xfers_free(struct brk_xfers *x);
/* Cancels every transfer, expires every link, and waits until each
 * transfer's thread ended and recorded its end. Later offers are refused.
 * Before the HTTP daemon stops: a transfer's request may be suspended. */
void brk_xfers_shutdown(struct brk_xfers *x);

/* From a file tool's work, on c's connection pc (c->pc): makes a link for
 * w, bound to c's credential, host, login, path and call id. On 0 pc is
 * the link's (c->pc is set NULL) and url (urlsz bytes) holds the link's
 * URL; the call's outcome names the link. ZT_ERR_RATE_LIMITED: too many
 * links open (err says which bound), ZT_ERR_NOMEM, ZT_ERR_CANCELLED
 * (shutting down); pc stays the call's then. */
int brk_xfer_offer(struct brk_call *c, const struct brk_xfer_what *w, char *url, size_t urlsz,
    char *err, size_t errsz);

/* The housekeeping above (a brk_watch chore). */
void brk_xfer_chore(struct brk *b, const struct brk_watch_round *rd, void *arg);

#endif
