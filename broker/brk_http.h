/*
 * brk_http.h - the broker's HTTPS server (libmicrohttpd over TLS 1.2+).
 *
 * A few event-loop threads (libmicrohttpd's epoll mode with a thread
 * pool) serve every connection, so thousands of idle or slow ones cost
 * memory and a descriptor each, not a thread. Nothing blocks those
 * threads: each complete /v1 request runs on a worker of b->work
 * (brk_work.h) with its connection suspended meanwhile, the MCP path does
 * the same for its own blocking steps, and SSE streams suspend while they
 * have nothing to send. When the workers and their queue are full, a
 * request is answered 503 with Retry-After.
 *
 * Every request is bounded: headers by libmicrohttpd's per-connection
 * memory, /v1 bodies by BRK_BODY_MAX (413), the time a client takes to
 * send its request head and body by the deadlines of brk_conn.h, and the
 * connections one address holds without authenticating, and one identity
 * holds, by the shares of brk_conn.h.
 */
#ifndef ZT_BRK_HTTP_H
#define ZT_BRK_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

struct brk;
struct brk_http;
struct brk_resp;

/* Event-loop threads. TLS handshakes run on them, so a few; everything
 * that blocks runs elsewhere. */
#define BRK_HTTP_THREADS 4
/* Workers for the handlers that block (b->work): scrypt is CPU-bound, so
 * not many more than cores; audit writes and store reads are short. Past
 * them, at most BRK_HTTP_QUEUE requests wait; then 503. */
#define BRK_HTTP_WORKERS 8
#define BRK_HTTP_QUEUE 256
/* Connections at once, whatever the descriptor limit allows. */
#define BRK_HTTP_CONN_MAX 16384
/* An idle connection (no byte moved either way) is closed after this;
 * a backstop under the request deadlines, e.g. for a client that stops
 * reading its response. */
#define BRK_HTTP_IDLE_TIMEOUT_S 60

struct brk_http_config {
	const char *listen;        /* "HOST:PORT"; port 0 picks one */
	const char *chain_pem;     /* copied */
	const char *key_pem;       /* copied */
	size_t conn_max;           /* 0: BRK_HTTP_CONN_MAX */
	int64_t head_timeout_ms;   /* 0: BRK_CONN_HEAD_TIMEOUT_MS */
	int64_t body_timeout_ms;   /* 0: BRK_CONN_BODY_TIMEOUT_MS */
};

/* Starts serving; b->work must be set, and b->watch, when set, gets the
 * chore that ends connections past their deadlines. *port receives the
 * bound port. 0, ZT_ERR_INVALID (bad address), ZT_ERR_NET (cannot
 * listen), ZT_ERR_NOMEM. */
int brk_http_start(struct brk *b, const struct brk_http_config *cfg, struct brk_http **out,
    unsigned *port);
/* resp (brk_api.h) as a response with the broker's standard headers,
 * for every JSON answer of the port: its JSON ("{}" when it has none;
 * the buffer is wiped when freed, as it may hold a fresh token),
 * Content-Type, Cache-Control: no-store, X-Content-Type-Options: nosniff,
 * Strict-Transport-Security, Retry-After when resp sets one, and
 * WWW-Authenticate when resp asks for it, with challenge as its value
 * (NULL: Bearer realm="zt"). The caller queues it with resp->status and
 * destroys it. NULL on ENOMEM. */
struct MHD_Response *brk_http_response(const struct brk_resp *resp, const char *challenge);

/* Queues resp (brk_api.h) on c as brk_http_response() makes it. */
enum MHD_Result brk_http_send(struct MHD_Connection *c, const struct brk_resp *resp);
/* Queues the error {"error": {code, message}} with status (and
 * Retry-After when retry_after > 0). */
enum MHD_Result brk_http_send_error(struct MHD_Connection *c, int status, const char *code,
    int64_t retry_after, const char *msg);
/* The headers of every answer: never cached, never sniffed, HTTPS only,
 * and when to come back (resp->retry_after). */
void brk_http_common_headers(struct MHD_Response *r, const struct brk_resp *resp);
/* The client's address of c as text. */
void brk_http_client_addr(struct MHD_Connection *c, char *out, size_t outsz);

/* Stops the daemon and frees. Before: brk_mcp_shutdown() and
 * brk_work_close(b->work), so that no connection is left suspended, and
 * brk_watch_stop(), whose chore uses the server. NULL is a no-op. */
void brk_http_stop(struct brk_http *h);

#endif
