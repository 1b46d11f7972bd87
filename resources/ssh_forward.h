/*
 * ssh_forward.h - a TCP connection from a host onwards: one direct-tcpip
 * channel on a connection (resources/ssh_conn.h), for a person's `ztctl
 * ssh -L` (the broker relays each accepted local connection through one
 * forward). sshd opens the TCP connection to to_host:to_port itself, so
 * the address is as the host sees it ("127.0.0.1" is the host's own
 * loopback). Independent of the broker, of policy and of how the bytes
 * reach the person.
 *
 * sshd refuses forwarding for a certificate without permit-port-forwarding:
 * open the connection with ssh_conn_req.port_forwarding set. It may also
 * refuse by its own configuration (AllowTcpForwarding, PermitOpen) or fail
 * to connect; ssh_forward_open says which.
 *
 * The caller's thread drives it without blocking, as ssh_shell's:
 * ssh_forward_read() takes what the far end sent, ssh_forward_write()
 * sends, ssh_forward_send_eof() half-closes, ssh_forward_wait() waits up to
 * a bound for either the host's bytes or the caller's own descriptor (its
 * side of the relay). Like its connection, a forward belongs to one
 * thread at a time; several forwards may share a connection.
 */
#ifndef ZT_SSH_FORWARD_H
#define ZT_SSH_FORWARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resources/ssh_conn.h"

#define SSH_FORWARD_HOST_MAX 255        /* bytes of a host name or address */

struct ssh_forward;

/* Opens a direct-tcpip channel to to_host:to_port, saying it comes from
 * orig_host:orig_port (the originator sshd logs; NULL and 0 say
 * "127.0.0.1" port 0). A host is 1..SSH_FORWARD_HOST_MAX bytes of printable
 * ASCII without spaces (a name, an IPv4 or IPv6 address); to_port is
 * 1..65535, orig_port 0..65535; timeout_ms > 0 bounds the wait for the
 * host's answer. 0 with *out, or:
 *   ZT_ERR_INVALID  a bad argument (nothing was sent);
 *   ZT_ERR_DENIED   the host refused the channel: error says why, with
 *                   the reason code's name ("administratively prohibited"
 *                   for forwarding turned off, "connect failed" when
 *                   nothing answers at to_host:to_port) and sshd's text;
 *                   the connection stays usable;
 *   ZT_ERR_TIMEOUT  no answer in time (the connection is marked broken:
 *                   a late answer would find no channel);
 *   ZT_ERR_NET      the connection failed (marked broken);
 *   ZT_ERR_NOMEM.
 * error (errorsz bytes) is "" on success. */
int ssh_forward_open(struct ssh_conn *c, const char *to_host, int to_port,
    const char *orig_host, int orig_port, int64_t timeout_ms, struct ssh_forward **out,
    char *error, size_t errorsz);

/* What arrived, without waiting: bytes into p (at most n); 0 when nothing
 * is there; SSH_FORWARD_EOF when the far end closed its side (it sends no
 * more; writing may still work); ZT_ERR_NET when the connection failed. */
#define SSH_FORWARD_EOF (-1000)
ssize_t ssh_forward_read(struct ssh_forward *f, void *p, size_t n);
/* Sends all of p[0..n) (waits for the host's window, at most timeout_ms).
 * 0, ZT_ERR_TIMEOUT or ZT_ERR_NET. */
int ssh_forward_write(struct ssh_forward *f, const void *p, size_t n, int64_t timeout_ms);
/* Ends what is sent (sshd half-closes the TCP connection: shutdown(SHUT_WR)).
 * 0 or ZT_ERR_NET. */
int ssh_forward_send_eof(struct ssh_forward *f);
/* Waits up to ms for bytes from the host or, when fd >= 0, for fd to be
 * readable: 1 when the host has something (or ended), 2 when only fd is
 * readable, 0 when the time passed. Bytes libssh already holds count. */
int ssh_forward_wait(struct ssh_forward *f, int fd, int ms);
/* Payload bytes written to the far end, and read from it, so far. */
uint64_t ssh_forward_sent(const struct ssh_forward *f);
uint64_t ssh_forward_received(const struct ssh_forward *f);
/* Closes the channel (the connection stays); NULL is a no-op. */
void ssh_forward_close(struct ssh_forward *f);

#endif
