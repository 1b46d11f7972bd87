/*
 * pump.h - copies the bytes of one tunnel stream between a TLS connection
 * and a plain stream socket, both ways, until the stream ends.
 *
 * The broker pumps a stream's TLS connection into one end of a socketpair
 * (libssh reads the other end); the agent pumps its TLS connection into the
 * TCP connection to its SSH target. One thread per stream, non-blocking
 * I/O and poll(), at most PUMP_BUF bytes in flight per direction, so a slow
 * reader on one side slows the writer on the other instead of growing
 * memory, and traffic in one direction never blocks the other.
 *
 * Ends are passed on: end of file on the socket becomes a TLS close_notify
 * (the peer's pump then shuts its socket for writing), a close_notify
 * becomes shutdown(SHUT_WR) of the socket. Once one direction has ended,
 * the other has PUMP_LINGER_MS to end too.
 */
#ifndef ZT_PUMP_H
#define ZT_PUMP_H

#include <stddef.h>

struct ssl_st; /* OpenSSL's SSL */

#define PUMP_BUF 16384
#define PUMP_LINGER_MS 10000

/*
 * Runs the pump. ssl is a connected TLS connection on a socket; fd a
 * stream socket; both are switched to non-blocking. pre[0..npre) (npre <=
 * PUMP_BUF) are bytes already read from ssl that go to fd first. stop_fd
 * (or -1) ends the pump when it becomes readable. Returns 0 when both
 * directions ended cleanly, ZT_ERR_CANCELLED (stop_fd), ZT_ERR_TIMEOUT (the
 * linger passed), ZT_ERR_TLS or ZT_ERR_IO (either side failed, or the TLS
 * peer closed without close_notify). Never closes ssl or fd; the caller
 * frees the TLS connection without a further shutdown.
 */
int pump_run(struct ssl_st *ssl, int fd, int stop_fd, const void *pre, size_t npre);

#endif
