/*
 * brk_ws.h - the WebSocket front door: GET /ws/<route>, upgraded by
 * libmicrohttpd once the bearer token authenticated, then one thread per
 * connection running its route's handler (brk_term.h: /ws/ssh; brk_fwd.h:
 * /ws/tcp; brk_files.h: /ws/file, the console's file transfers;
 * brk_audittail.h: /ws/audit).
 *
 * The request. A GET with "Authorization: Bearer", "Upgrade: websocket",
 * "Connection: Upgrade", "Sec-WebSocket-Version: 13" and a
 * Sec-WebSocket-Key. What a route does is never in the URL (which proxies
 * log): the client says it in its first message. The token is checked on
 * a worker (brk_work.h) before anything is upgraded, so a refusal is an
 * ordinary HTTP answer: 401, 423, 429 as for /v1; 404 for an unknown
 * route; 405 for another method; 400 (426 for another version) for a
 * request that is no WebSocket handshake; 503 past BRK_WS_MAX connections,
 * 429 past BRK_WS_PER_ACTOR of one identity.
 *
 * The console's pages (a browser cannot set the header) authenticate with
 * the web session cookie under the /v1 rule (brk_websession.h), made
 * stricter: the Origin header must be there and be the broker's own, and
 * the session's CSRF token travels as a subprotocol the page offers,
 * BRK_WS_CSRF_PROTOCOL<token> beside BRK_WS_PROTOCOL (the answer selects
 * BRK_WS_PROTOCOL). So a page of another origin cannot ride a user's
 * cookie: its Origin is refused, and it does not know the token. A bearer
 * header, when sent, is read instead of the cookie. The routes that reach
 * a host (ssh, tcp) are refused (403) to an auditor who does not
 * administer; /ws/audit is for auditors too.
 *
 * The connection. After "101 Switching Protocols", the connection is its
 * thread's alone: the handler reads messages (brk_ws_recv; pings are
 * answered, a client's close is answered and ends it), sends frames
 * (brk_ws_send), and returns; the connection is then closed (with a
 * close frame, 1000 unless the handler sent one). Messages a client sends
 * are at most BRK_WS_MSG_MAX bytes (1009 past it).
 *
 * Stopping. brk_wss_shutdown() asks every handler to end (brk_ws_stopping
 * turns 1, its socket is shut down so a blocked read returns) and waits
 * for them, before the HTTP daemon stops.
 */
#ifndef ZT_BRK_WS_H
#define ZT_BRK_WS_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>

#include "broker/brk_identity.h"
#include "common/ws.h"

struct brk;
struct brk_ws;
struct brk_wss;

#define BRK_WS_PATH "/ws/"
#define BRK_WS_PROTOCOL "zt"
#define BRK_WS_CSRF_PROTOCOL "zt-csrf."
#define BRK_WS_MSG_MAX (256 * 1024)
#define BRK_WS_MAX 512
/* At most this many of them are one identity's (429 past it): a person's
 * tabs and forwarded connections, an agent's tails, never all of them. */
#define BRK_WS_PER_ACTOR 64
/* A connection quiet this long is pinged; one that then stays silent this
 * long after the ping is closed (1001): a client that vanished without a
 * close (a crash, a dropped network) gives its slot back. */
#define BRK_WS_IDLE_MS 20000
#define BRK_WS_PONG_MS 20000

/* ---- the registry and the HTTP side (brk_http.c) ---- */

struct brk_wss *brk_wss_new(void);
/* Ends every connection (above) and waits for their threads. */
void brk_wss_shutdown(struct brk_wss *w);
void brk_wss_free(struct brk_wss *w);

/* The access handler of a request under BRK_WS_PATH; *cls is its state,
 * freed by brk_ws_completed. The daemon must allow upgrades. */
enum MHD_Result brk_ws_request(struct brk *b, struct MHD_Connection *c, const char *url,
    const char *method, void **cls);
void brk_ws_completed(void **cls);

/* ---- for a route's handler, on the connection's thread ---- */

/* A route: its handler runs the connection, then returns. */
typedef void brk_ws_handler(struct brk *b, struct brk_ws *ws);

/* Who opened it (authenticated by its token; the identity as it was
 * then: brk_identity_load for now). */
const struct brk_identity *brk_ws_who(const struct brk_ws *ws);
/* 1 if it was opened with the web session cookie (a console page), 0 for
 * a bearer token. */
int brk_ws_web_session(const struct brk_ws *ws);
/* The connection's socket, to wait on together with something else
 * (readable: brk_ws_recv has something). */
int brk_ws_fd(const struct brk_ws *ws);
/* 1 once the broker is stopping or the connection ended (closed by
 * either side, failed): the handler should end. */
int brk_ws_ended(const struct brk_ws *ws);
int brk_ws_stopping(const struct brk_ws *ws);

/* The next message, waiting up to ms (0: only what is there): 1 with *ev
 * (WS_TEXT or WS_BINARY; its data valid until the next call), 0 when none
 * came in time, or ZT_ERR_NET once the connection ended (a close from
 * the client, a protocol error (closed with its code), the socket gone,
 * the broker stopping). */
int brk_ws_recv(struct brk_ws *ws, int ms, struct ws_event *ev);
/* The client's opening message: waits up to ms for a text message that is
 * a JSON object (at most depth deep) into *out (owned). 0, or
 * ZT_ERR_INVALID with why in err, which names the message by what ("the
 * session request"): none in time, not text, not a JSON object. */
int brk_ws_recv_object(struct brk_ws *ws, int ms, const char *what, int depth, cJSON **out,
    char *err, size_t errsz);
/* Sends one whole message (WS_OP_TEXT, WS_OP_BINARY). 0 or ZT_ERR_NET. */
int brk_ws_send(struct brk_ws *ws, enum ws_opcode op, const void *p, size_t n);
/* Sends j as one text message. 0, ZT_ERR_NET or ZT_ERR_NOMEM. */
int brk_ws_send_json(struct brk_ws *ws, const cJSON *j);
/* Sends a close frame with code and reason (once; later sends fail). */
void brk_ws_close(struct brk_ws *ws, uint16_t code, const char *reason);

#endif
