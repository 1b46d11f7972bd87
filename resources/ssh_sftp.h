/*
 * ssh_sftp.h - files on a host over SFTP (version 3, as OpenSSH's
 * sftp-server speaks it), on a connection resources/ssh_conn.h opened.
 * Independent of MCP and of policy: the caller decides what may be
 * touched, on the paths this module resolves.
 *
 * libssh's sftp_* functions speak the protocol and parse the replies (an
 * SFTP reply is at most libssh's 256 MiB packet; zt keeps at most what it
 * asked for). They block, and in libssh 0.10.6 a blocking read that times
 * out is retried for ever (sftp_packet_read loops while the channel is
 * open), so SSH_OPTIONS_TIMEOUT alone bounds nothing. A session therefore
 * has a watchdog thread: when the deadline passes or cancelled() says so,
 * it shuts the connection's socket down (shutdown(2), never close: the
 * descriptor stays libssh's), the blocked call fails at once, and the
 * connection is marked broken (a reply may be in flight; nothing of it
 * may serve again). Between calls, and between the chunks of a read or a
 * write, the caller's thread checks the same two things itself.
 *
 * What the operations do on the host:
 *   realpath  the server's canonical form (SSH_FXP_REALPATH: OpenSSH
 *             follows every symbolic link, and allows a last component
 *             that does not exist);
 *   stat      stat or lstat of one path;
 *   read      open, fstat, read a range, close: at most max bytes, in
 *             requests of SSH_SFTP_CHUNK (or SSH_SFTP_READ_CHUNK_OPENSSH)
 *             with up to SSH_SFTP_READ_AHEAD of them in flight (one at a
 *             time, each chunk paid a round trip through the agent's
 *             tunnel: a third of the speed); a streamed read hands its
 *             bytes on as they come, so its range has no bound;
 *   write     the whole content to a new temporary file ".NAME.zt-XXXXXXXX"
 *             in the same directory (created exclusively, so never through
 *             a link), with fsync@openssh.com when offered, then renamed to
 *             the target with posix-rename@openssh.com (rename(2) on the
 *             host: readers see the old file or the new one, never a part
 *             and never none), which OpenSSH offers and zt sends itself
 *             (libssh 0.10.6 has no client for it: ssh_sftp_rename.c). A
 *             server without it gets SFTP's RENAME, which refuses to
 *             replace: an existing target is then renamed aside
 *             (".NAME.zt-XXXXXXXX.old"), the new file renamed in, the old
 *             one removed (or put back if the second rename fails):
 *             readers may find no file for a moment, never a part of one. A failed
 *             write removes its temporary file. The mode is given at
 *             creation (the server's umask applies); it is not changed
 *             after, since SFTP can only do that by path, which a link put
 *             there meanwhile would redirect. With create_only the target
 *             itself is created exclusively (O_EXCL: it fails when the
 *             target exists, also as a link) and written in place: a reader
 *             may see it partly written, and a failed write removes it.
 *             append writes in place at the end (O_APPEND): not atomic
 *             (and libssh 0.10.6 leaks 144 bytes per such open:
 *             tests/lsan.supp);
 *   list      one directory's entries in byte order of their names, from
 *             the first name after a given one, at most a given count,
 *             reading at most SSH_SFTP_LIST_SCAN_MAX entries;
 *   remove    one file or symbolic link (not a directory).
 *
 * A session is used by one thread at a time, like its connection.
 */
#ifndef ZT_SSH_SFTP_H
#define ZT_SSH_SFTP_H

#include <stddef.h>
#include <stdint.h>

#include "resources/ssh_conn.h"

#define SSH_SFTP_PATH_MAX 4096          /* bytes of a path sent or received */
#define SSH_SFTP_NAME_MAX 1024          /* bytes of one directory entry's name */
#define SSH_SFTP_CHUNK (32 * 1024)      /* bytes per read or write request */
/* Bytes per request to a server that offers fsync@openssh.com, as every
 * OpenSSH since 6.5 does: its sftp-server takes messages of 256 KiB and
 * says so in limits@openssh.com (which libssh 0.10 cannot ask). Writes go
 * one at a time (libssh 0.10 waits for each status), so eight times fewer
 * round trips; reads keep SSH_SFTP_READ_AHEAD of them in flight, 2 MiB. */
#define SSH_SFTP_WRITE_CHUNK_OPENSSH (255 * 1024)
#define SSH_SFTP_READ_CHUNK_OPENSSH (128 * 1024)
/* Bytes a streamed read hands its sink at most at once. */
#define SSH_SFTP_STREAM_WINDOW (4 * 1024 * 1024)
#define SSH_SFTP_READ_AHEAD 16          /* read requests in flight at once */
#define SSH_SFTP_LIST_SCAN_MAX 100000   /* entries one list reads at most */


struct ssh_sftp;

/* What a path is, from its mode. */
enum ssh_sftp_kind {
	SSH_SFTP_FILE,
	SSH_SFTP_DIR,
	SSH_SFTP_SYMLINK,
	SSH_SFTP_OTHER,                 /* device, fifo, socket */
	SSH_SFTP_UNKNOWN,               /* the server sent no mode */
};

/* Attributes as the server reports them; has_* say which it sent. */
struct ssh_sftp_attr {
	int has_size, has_mode, has_mtime;
	uint64_t size;
	uint32_t mode;                  /* st_mode: type and permission bits */
	int64_t mtime;                  /* unix seconds */
};

/* One directory entry (list). */
struct ssh_sftp_entry {
	char *name;                     /* owned; no '/' and no NUL */
	struct ssh_sftp_attr attr;      /* lstat's: a link is a link */
};

/* What a failure was: the status (timeout, cancelled, connect_failed for a
 * channel or protocol failure, error for a refusal by the server), the
 * SFTP status code (SSH_FX_*) when the server refused (0 otherwise) and
 * words. */
struct ssh_sftp_err {
	enum ssh_exec_status status;
	uint32_t fx;
	char error[SSH_CONN_ERROR_MAX];
};

struct ssh_sftp_req {
	int64_t deadline_ms;            /* net_mono_ms() time; bounds every operation */
	int (*cancelled)(void *arg);    /* optional; polled every <= 100 ms */
	void *arg;
};

/* "file", "dir", "symlink", "other", "unknown". */
const char *ssh_sftp_kind_name(enum ssh_sftp_kind k);
enum ssh_sftp_kind ssh_sftp_kind_of(const struct ssh_sftp_attr *a);

/* Opens an SFTP session in a new channel of c. 0 with *out, or a negative
 * ZT_ERR_* with err saying why (ZT_ERR_NET: the channel could not be
 * opened, the connection is marked broken; ZT_ERR_TIMEOUT,
 * ZT_ERR_CANCELLED, ZT_ERR_NOMEM). */
int ssh_sftp_open(struct ssh_conn *c, const struct ssh_sftp_req *req, struct ssh_sftp **out,
    struct ssh_sftp_err *err);
/* Closes the channel (bounded by the deadline) and frees; NULL is a no-op.
 * The connection stays open. */
void ssh_sftp_close(struct ssh_sftp *s);
/* The last failure of s (borrowed; valid until the next operation). */
const struct ssh_sftp_err *ssh_sftp_error(const struct ssh_sftp *s);

/*
 * The operations. Each returns 0, or a negative ZT_ERR_* with the failure
 * in ssh_sftp_error(s): ZT_ERR_NOT_FOUND (no such file), ZT_ERR_DENIED (the
 * host refused: permissions), ZT_ERR_EXISTS (create_only and the target
 * exists), ZT_ERR_IO (another refusal), ZT_ERR_TOO_LARGE, ZT_ERR_TIMEOUT,
 * ZT_ERR_CANCELLED, ZT_ERR_NET (the session is then unusable, and so is
 * the connection: it is marked broken), ZT_ERR_NOMEM,
 * ZT_ERR_INVALID (bad arguments). Paths are NUL-terminated, at most
 * SSH_SFTP_PATH_MAX bytes.
 */

/* *out: the server's canonical path (owned, absolute, no NUL). */
int ssh_sftp_realpath(struct ssh_sftp *s, const char *path, char **out);
/* lstat (nofollow) or stat. */
int ssh_sftp_stat(struct ssh_sftp *s, const char *path, int nofollow, struct ssh_sftp_attr *a);
/* At most max bytes from offset into *data (owned; *n bytes; NULL when 0),
 * and the open file's attributes into *a. */
int ssh_sftp_read(struct ssh_sftp *s, const char *path, uint64_t offset, size_t max,
    struct ssh_sftp_attr *a, uint8_t **data, size_t *n);

/* Takes the next bytes of a streamed read: 0 to go on, or a negative
 * ZT_ERR_* to stop it (the read fails with that error, words "the
 * transfer's other end stopped"). It may block; the session's deadline
 * keeps running meanwhile. */
typedef int ssh_sftp_sink_fn(void *arg, const uint8_t *d, size_t n);
/* As ssh_sftp_read, for ranges of any size: the bytes go to sink in order,
 * SSH_SFTP_STREAM_WINDOW at most at a time, and *n counts them. */
int ssh_sftp_read_stream(struct ssh_sftp *s, const char *path, uint64_t offset, uint64_t max,
    struct ssh_sftp_attr *a, ssh_sftp_sink_fn *sink, void *arg, uint64_t *n);

/* Gives the next bytes of a streamed write into buf (at most max): 0 with
 * *got (0: the content ended), or a negative ZT_ERR_* to stop the write
 * (it fails with that error, as a sink's). It may block. */
typedef int ssh_sftp_source_fn(void *arg, uint8_t *buf, size_t max, size_t *got);

#define SSH_SFTP_APPEND 0x1
#define SSH_SFTP_CREATE_ONLY 0x2

struct ssh_sftp_put {
	/* The target: its directory as realpath gave it, then one name (no
	 * '/', not "." or ".."). */
	const char *path;
	const uint8_t *data;
	size_t n;
	/* Or, data NULL and n 0: the content as source gives it. */
	ssh_sftp_source_fn *source;
	void *source_arg;
	uint32_t mode;                  /* permission bits of a new file (07777) */
	unsigned flags;                 /* SSH_SFTP_APPEND, SSH_SFTP_CREATE_ONLY */
};
/* Writes p (see above). *atomic says whether the target changed in one
 * step (a rename to a new name), not aside and back or in place. */
int ssh_sftp_write(struct ssh_sftp *s, const struct ssh_sftp_put *p, int *atomic);

/* The entries of dir whose names sort after after (NULL: from the first),
 * at most limit (> 0) of them, into *out (owned: free with
 * ssh_sftp_entries_free); *more says whether entries remain after them.
 * "." and ".." are left out. ZT_ERR_TOO_LARGE past SSH_SFTP_LIST_SCAN_MAX
 * entries. */
int ssh_sftp_list(struct ssh_sftp *s, const char *dir, const char *after, size_t limit,
    struct ssh_sftp_entry **out, size_t *n, int *more);
void ssh_sftp_entries_free(struct ssh_sftp_entry *e, size_t n);

/* Removes one file or symbolic link. */
int ssh_sftp_remove(struct ssh_sftp *s, const char *path);

#endif
