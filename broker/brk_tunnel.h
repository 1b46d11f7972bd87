/*
 * brk_tunnel.h - the agent tunnel listener (`ztbroker serve
 * --tunnel-listen`, default 127.0.0.1:3025): TLS 1.3 only, with the
 * broker's server certificate.
 *
 * Each connection carries tun.h frames. Today it serves the join: a
 * connection without a client certificate sends one `join` and gets
 * `join_ok` (its agent certificate) or an `error` saying why, then the
 * connection ends. Control connections (`hello` over mutual TLS with the
 * agent certificate), heartbeats and streams are the next step; until
 * then they are refused with an error frame, and logged.
 *
 * One thread accepts; each connection runs in its own thread with read
 * and write timeouts, at most BRK_TUNNEL_CONNS at once.
 */
#ifndef ZT_BRK_TUNNEL_H
#define ZT_BRK_TUNNEL_H

struct brk;
struct brk_tunnel;

#define BRK_TUNNEL_CONNS 256
#define BRK_TUNNEL_IO_TIMEOUT_S 10

/* Listens on listen ("HOST:PORT"; port 0 picks one) with the PEM chain
 * (leaf first) and key. *port receives the bound port. 0, ZT_ERR_INVALID,
 * ZT_ERR_NET, ZT_ERR_TLS. */
int brk_tunnel_start(struct brk *b, const char *listen, const char *chain_pem,
    const char *key_pem, struct brk_tunnel **out, unsigned *port);
/* Stops accepting, waits for connection threads. NULL is a no-op. */
void brk_tunnel_stop(struct brk_tunnel *t);

#endif
