/*
 * ssh_chan.h - the part of an open channel that ssh_shell (a terminal) and
 * ssh_forward (a direct-tcpip forward) share: reading what arrived without
 * waiting, writing within a deadline, the end of input, waiting on the
 * host or the caller's own descriptor, closing, and counting bytes each
 * way. Each of those modules embeds one struct ssh_chan and answers its
 * own contract with these functions. Nothing outside resources/ includes
 * this file; like its connection, a channel belongs to one thread.
 */
#ifndef ZT_SSH_CHAN_H
#define ZT_SSH_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libssh/libssh.h>

#include "resources/ssh_conn.h"

struct ssh_chan {
	struct ssh_conn *conn;          /* borrowed; marked broken on I/O failure */
	ssh_session s;                  /* the connection's session (borrowed) */
	ssh_channel ch;                 /* owned; NULL before ssh_chan_init */
	int open;                       /* the host confirmed the channel: its
					 * opener sets this, and only then does
					 * closing send CLOSE (a refused channel
					 * has no number at the host) */
	uint64_t sent, received;        /* payload bytes each way */
};

/* Binds ch to the connection c and allocates its channel (not yet open).
 * 0, or ZT_ERR_NOMEM (then ch->ch is NULL). */
int ssh_chan_init(struct ssh_chan *ch, struct ssh_conn *c);

/* What arrived, without waiting: bytes into p (at most n, at most 64 KiB
 * at a time) from stdout, or when streams is 2 also from stderr (stdout
 * first; *is_stderr, which may be NULL when streams is 1, says which); 0
 * when nothing is there; SSH_CHAN_EOF when the host sent everything;
 * ZT_ERR_NET (the connection is marked broken) when it failed. */
#define SSH_CHAN_EOF (-1000)
ssize_t ssh_chan_read(struct ssh_chan *ch, void *p, size_t n, int streams, int *is_stderr);

/* Sends all of p[0..n), waiting for the host's window at most timeout_ms.
 * 0, ZT_ERR_TIMEOUT or ZT_ERR_NET (the connection is marked broken). */
int ssh_chan_write(struct ssh_chan *ch, const void *p, size_t n, int64_t timeout_ms);

/* Ends the input (SSH EOF). 0 or ZT_ERR_NET. */
int ssh_chan_send_eof(struct ssh_chan *ch);

/* Waits up to ms for bytes from the host or, when fd >= 0, for fd to be
 * readable: 1 when the host has something (or ended), 2 when only fd is
 * readable, 0 when the time passed. Bytes libssh already holds count. */
int ssh_chan_wait(struct ssh_chan *ch, int fd, int ms);

/* Closes (when open) and frees the channel, the connection staying up;
 * waits a second at most for the host's CLOSE. The struct itself is the
 * caller's. After a failed ssh_chan_init, a no-op. */
void ssh_chan_close(struct ssh_chan *ch);

#endif
