/*
 * net.h - host:port parsing, listening sockets, connects bounded by a
 * deadline, and TCP keepalive.
 *
 * Addresses are written "HOST:PORT", with IPv6 literals in brackets
 * ("[::1]:8443"). Port 0 asks the kernel for an ephemeral port, which the
 * tests use.
 */
#ifndef ZT_NET_H
#define ZT_NET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NET_HOST_MAX 256
/* A peer that vanished is noticed after idle + intvl * count seconds. */
#define NET_KEEPALIVE_IDLE_S 30
#define NET_KEEPALIVE_INTVL_S 10
#define NET_KEEPALIVE_COUNT 3

/* Splits "HOST:PORT" into host (brackets removed) and port text; the port
 * must be 0..65535. 0 or ZT_ERR_INVALID. */
int net_split_hostport(const char *s, char *host, size_t hostsz, char *port, size_t portsz);
/* Resolves "HOST:PORT" (numeric or name) for a listener into *sa.
 * 0, ZT_ERR_INVALID, ZT_ERR_NET. */
int net_resolve_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen);
/* Text form of a socket address's host part ("127.0.0.1", "::1"). */
void net_addr_str(const struct sockaddr *sa, char *out, size_t outsz);
/* The key that per-address limits count a client address under (the text
 * net_addr_str() gives): an IPv4 address as it is; an IPv6 address by its
 * /64 ("2001:db8:1:2::/64"), because one client holds a whole /64 as easily
 * as one IPv4 address; an IPv4-mapped IPv6 address as the IPv4 address.
 * Anything else is copied. out may be addr. Every per-address limit of the
 * broker (HTTPS connections, logins, bad tokens, tunnel handshakes) uses
 * this one key. */
#define NET_ADDR_KEY_MAX 64
void net_addr_key(const char *addr, char *out, size_t outsz);

/* Monotonic clock in milliseconds, for deadlines. */
int64_t net_mono_ms(void);
/* Writes all of p[0..n) to a blocking fd, again after EINTR. 0 or
 * ZT_ERR_IO (errno says why). */
int net_write_all(int fd, const void *p, size_t n);
/* The same for an fd that may be a socket or a pipe, blocking or not: a
 * socket is written with send(MSG_NOSIGNAL), so a peer that closed is
 * ZT_ERR_IO and never SIGPIPE; anything else with write() (for a pipe the
 * caller ignores SIGPIPE). EAGAIN is waited out with poll(). *sock is the
 * caller's note of which it is: start it at 1; the first write that finds
 * fd is not a socket sets it to 0, so a message written in pieces asks
 * once. */
int net_send_all(int fd, const void *p, size_t n, int *sock);
/* *ts = the CLOCK_MONOTONIC time ms from now (a negative ms counts as 0),
 * for pthread_cond_timedwait() on a condition variable set to that clock. */
struct timespec;
void net_mono_deadline(int64_t ms, struct timespec *ts);
/* Initialises *cv on CLOCK_MONOTONIC, for waits with net_mono_deadline(). */
void net_cond_init(pthread_cond_t *cv);
/* Waits until fd is ready for events (poll flags) or the deadline
 * (net_mono_ms() time) passes: 0 (ready, or an error condition that the
 * next I/O call reports), ZT_ERR_TIMEOUT or ZT_ERR_NET. */
int net_wait_fd(int fd, short events, int64_t deadline);
/* Resolves host:port (name or literal) and connects to each address in
 * turn until one answers or the deadline passes. On 0 *fd is a connected,
 * non-blocking, close-on-exec TCP socket with TCP_NODELAY. ZT_ERR_NET
 * (unresolvable, refused, unreachable), ZT_ERR_TIMEOUT. */
int net_connect(const char *host, const char *port, int64_t deadline, int *fd);
/* Turns off Nagle's algorithm: our writes are whole messages (frames, SSH
 * packets) and a round trip must not wait for an ACK. Best effort. */
void net_nodelay(int fd);
/* Turns on TCP keepalive with the NET_KEEPALIVE_* timing, so a peer that
 * vanished without closing is noticed. Best effort. */
void net_keepalive(int fd);

#endif
