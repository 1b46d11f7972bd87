/*
 * brk_tunnel.h - the agent tunnel listener (`ztbroker serve
 * --tunnel-listen`, default 127.0.0.1:3025): TLS 1.3 only, with the
 * broker's server certificate.
 *
 * Each connection carries tun.h frames and starts with one of:
 *   join   (no client certificate): answered with join_ok (the agent's
 *          certificate) or an error saying why; then the connection ends.
 *   hello  (mutual TLS with the agent certificate, whose CN must be the
 *          agent's name): the agent's control connection. The broker
 *          answers heartbeat 0 (accepted) or an error (refused), before
 *          the agent sends anything else. The agent is then registered
 *          online (brk_agents.h), its heartbeats are echoed, and it
 *          goes offline when the connection ends or is silent for
 *          BRK_TUNNEL_SILENCE_S. Connects, refusals and disconnects are
 *          audited. The broker sends dial{id, "ssh"} on it when
 *          brk_dial() asks for a stream (brk_dial.h).
 *   accept (mutual TLS, the certificate of the agent the dial went to):
 *          the rest of the connection is the stream's bytes, pumped into
 *          the dialler's socket (tunnel/pump.h).
 *   error with an id (mutual TLS, likewise): the agent could not open the
 *          stream; the dialler is told why.
 *   renew  (mutual TLS, a known agent's valid certificate): a new
 *          certificate for the same key (brk_join.h), answered join_ok.
 * A control connection ends when its certificate expires: the agent has
 * renewed by then and reconnects with the new one.
 *
 * One thread accepts; each connection runs in its own thread with read
 * and write timeouts, at most BRK_TUNNEL_CONNS at once. A connection's
 * handshake (TLS and its first message) must be done within the handshake
 * deadline, however slowly its bytes trickle in, and one client address
 * (an IPv6 /64) has at most BRK_TUNNEL_HANDSHAKES_ADDR connections in
 * their handshake at once: a client that never finishes holds a thread
 * for that long at most, and many of them cannot take the room agents need
 * for their stream connections (established connections do not count).
 * Connections past a bound are closed at once. When the process runs out
 * of descriptors, accepting pauses (50 ms doubling to 1 s) instead of
 * spinning; such refusals are logged once a minute with their count.
 * Stopping ends handshakes, control connections and streams at once.
 */
#ifndef ZT_BRK_TUNNEL_H
#define ZT_BRK_TUNNEL_H

struct brk;
struct brk_tunnel;

#include <stdint.h>

#define BRK_TUNNEL_CONNS 2048
#define BRK_TUNNEL_IO_TIMEOUT_S 10     /* each read and write */
#define BRK_TUNNEL_HANDSHAKE_S 10      /* TLS and the first message, together */
#define BRK_TUNNEL_HANDSHAKES 512      /* connections in their handshake, in all */
#define BRK_TUNNEL_HANDSHAKES_ADDR 16  /* ... and from one address */
#define BRK_TUNNEL_SILENCE_S 30 /* three missed agent heartbeats */

/* Listens on listen ("HOST:PORT"; port 0 picks one) with the PEM chain
 * (leaf first) and key; handshake_ms is the handshake deadline (0:
 * BRK_TUNNEL_HANDSHAKE_S). *port receives the bound port. 0,
 * ZT_ERR_INVALID, ZT_ERR_NET, ZT_ERR_TLS, ZT_ERR_NOMEM. */
int brk_tunnel_start(struct brk *b, const char *listen, int64_t handshake_ms,
    const char *chain_pem, const char *key_pem, struct brk_tunnel **out, unsigned *port);
/* Stops accepting, waits for connection threads. NULL is a no-op. */
void brk_tunnel_stop(struct brk_tunnel *t);

#endif
