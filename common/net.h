/*
 * net.h - host:port parsing and listening sockets.
 *
 * Addresses are written "HOST:PORT", with IPv6 literals in brackets
 * ("[::1]:8443"). Port 0 asks the kernel for an ephemeral port, which the
 * tests use.
 */
#ifndef ZT_NET_H
#define ZT_NET_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_HOST_MAX 256

/* Splits "HOST:PORT" into host (brackets removed) and port text; the port
 * must be 0..65535. 0 or ZT_ERR_INVALID. */
int net_split_hostport(const char *s, char *host, size_t hostsz, char *port, size_t portsz);
/* Resolves "HOST:PORT" (numeric or name) for a listener into *sa.
 * 0, ZT_ERR_INVALID, ZT_ERR_NET. */
int net_resolve_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen);
/* Text form of a socket address's host part ("127.0.0.1", "::1"). */
void net_addr_str(const struct sockaddr *sa, char *out, size_t outsz);

#endif
