/*
 * brk_http.h - the broker's HTTPS server (libmicrohttpd over TLS 1.2+).
 *
 * Accepts connections on one address, bounds every request (headers by
 * libmicrohttpd's per-connection memory, bodies by BRK_BODY_MAX: a larger
 * Content-Length is answered 413 before the body is read), and hands each
 * complete request to brk_api_handle(). One thread per connection, so a
 * handler may block (scrypt, later tool calls); connections are capped in
 * total and per client address.
 */
#ifndef ZT_BRK_HTTP_H
#define ZT_BRK_HTTP_H

struct brk;
struct brk_http;

/* Starts serving on listen ("HOST:PORT"; port 0 picks one) with the given
 * PEM chain and key (copied). *port receives the bound port.
 * 0, ZT_ERR_INVALID (bad address), ZT_ERR_NET (cannot listen), ZT_ERR_TLS. */
int brk_http_start(struct brk *b, const char *listen, const char *chain_pem,
    const char *key_pem, struct brk_http **out, unsigned *port);
/* Stops accepting, waits for connection threads, frees. NULL is a no-op. */
void brk_http_stop(struct brk_http *h);

#endif
