/*
 * brk_conn.h - the HTTPS port's connections: whose share each one counts
 * against, and how long a client may take to send a request.
 *
 * Connection accounting. Each connection counts against one share: while
 * none of its requests has authenticated (TLS handshake, request head and
 * body, a login), against its client address; once a request on it
 * authenticated, against that identity. An address holds at most
 * BRK_CONN_UNAUTH_PER_ADDR unauthenticated connections and an identity at
 * most BRK_CONN_PER_IDENTITY connections; all together are bounded by the
 * daemon's connection limit. A connection past its address's share is
 * shut down as soon as it is accepted. So a client that opens connections
 * and never authenticates holds its address's share and nothing more, while
 * a busy client that authenticates (an MCP client with many sessions, each
 * with an open SSE stream; many users behind one NAT) is bounded by its
 * identities' shares, not by its address.
 *
 * Deadlines. libmicrohttpd only has an idle timeout, which a client sending
 * one byte every few seconds never trips (slowloris). Here each connection
 * has a deadline for its request head, counted from the connection's start
 * (so it covers a slow TLS handshake) or from the end of the previous
 * request on a kept-alive connection, and one for the whole body, counted
 * from the end of the head. While the server works on a request or sends
 * its response there is none (the daemon's idle timeout still applies).
 * brk_conns_expire(), run once a second from the broker's housekeeping,
 * shuts down the sockets whose deadline passed; libmicrohttpd then sees
 * the connection end and closes it. The socket is shut down only while
 * the connection is registered, and it is unregistered in the
 * MHD_CONNECTION_NOTIFY_CLOSED callback, which libmicrohttpd makes before
 * it closes the descriptor (0.9.75, daemon.c MHD_cleanup_connections), so a
 * descriptor number that was reused is never touched.
 *
 * The per-connection calls find their record through the connection's
 * socket context; on a daemon without this accounting (the MCP conformance
 * server) they do nothing. Thread-safe.
 */
#ifndef ZT_BRK_CONN_H
#define ZT_BRK_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

/* Unauthenticated connections of one client address. A client needs one
 * per request in flight until a request authenticates it, and browsers
 * open six per origin; 128 lets a NAT or proxy in front of many such
 * clients through, while the few thousand connections of the daemon
 * cannot be taken by fewer than dozens of addresses. */
#define BRK_CONN_UNAUTH_PER_ADDR 128
/* Connections of one identity: its MCP sessions (BRK_MCP_SESSIONS_PER_
 * IDENTITY, 128) each with a standalone SSE stream, and a few more for
 * requests in flight. */
#define BRK_CONN_PER_IDENTITY 512
/* Deadlines (the defaults of ztbroker serve --http-head-timeout and
 * --http-body-timeout). */
#define BRK_CONN_HEAD_TIMEOUT_MS 20000
#define BRK_CONN_BODY_TIMEOUT_MS 60000

struct brk_conns;

/* What the server waits for on a connection: its request head (the
 * head deadline runs), its request body (the body deadline runs), or
 * nothing (it works on a request or sends the response: no deadline). */
enum brk_conn_phase { BRK_CONN_HEAD, BRK_CONN_BODY, BRK_CONN_BUSY };

/* Called for each connection refused or ended by this module, for the
 * audit: outcome "refused" or "timeout", reason static text. */
typedef void brk_conn_event_fn(void *arg, const char *source, const char *outcome,
    const char *reason);

/* A table for a daemon of at most total connections, with the deadlines
 * in milliseconds. event may be NULL. NULL on ENOMEM or bad bounds. */
struct brk_conns *brk_conns_new(size_t total, int64_t head_ms, int64_t body_ms,
    brk_conn_event_fn *event, void *event_arg);
/* After the daemon stopped (every connection was closed). NULL is a
 * no-op. */
void brk_conns_free(struct brk_conns *t);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the table. */
void brk_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code);
/* Shuts down every connection whose deadline passed by now_ms (net_mono_ms()
 * time), then passes the refusals and timeouts since the last call to the
 * event hook (at most 32 a call; the rest are only counted in the log:
 * the event-loop threads that refuse must not write the audit
 * themselves). Returns how many connections it shut down. Call once a
 * second. */
size_t brk_conns_expire(struct brk_conns *t, int64_t now_ms);

/* Sets what the server waits for on c (see enum brk_conn_phase); a
 * deadline starts now. */
void brk_conn_phase(struct MHD_Connection *c, enum brk_conn_phase phase);
/* A request on c authenticated as identity ("bot:NAME"): c moves from its
 * address's share to the identity's, if the identity has room (else it
 * stays where it is). Once moved, it stays with that identity. */
void brk_conn_authenticated(struct MHD_Connection *c, const char *identity);

#endif
