/*
 * cli_ws.h - a WebSocket to the broker (/ws/..., broker/brk_ws.h): ztctl's
 * terminal connection.
 *
 * libcurl makes the connection in its connect-only mode, with everything
 * cli_stream.h's exchanges have: HTTPS_PROXY and NO_PROXY, TLS trusting
 * only the pinned broker CA, clear sentences for DNS, connect, TLS and pin
 * failures. ztctl then sends the opening handshake itself (RFC 6455 4.1:
 * a random key, the answer's Sec-WebSocket-Accept checked) and speaks
 * frames with common/ws.h, masked as a client's must be. A broker that
 * refuses the upgrade answers in HTTP: its status and error message come
 * back as the error.
 *
 * The bearer token is wiped from memory once sent. A connection belongs to
 * one thread.
 */
#ifndef ZT_CLI_WS_H
#define ZT_CLI_WS_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "common/ws.h"

struct cli_ws;

#define CLI_WS_MSG_MAX (1024 * 1024)   /* bytes of a message from the broker */

/* Opens path ("/ws/ssh") at the broker url with the pin and bearer token:
 * 0 with *out, or a negative ZT_ERR_* with one sentence in errbuf:
 * ZT_ERR_AUTH (401: the token is refused; *status says so too), another
 * HTTP refusal as ZT_ERR_DENIED with the broker's message, or a connection
 * error as cli_stream_open's. *status (may be NULL) gets the HTTP status
 * (101 on success, 0 when none came). */
int cli_ws_open(const char *url, const char *pin, const char *path, const char *bearer,
    int timeout_ms, struct cli_ws **out, int *status, char *errbuf, size_t errsz);

/* The connection's socket, to poll for readability (then cli_ws_recv). */
int cli_ws_fd(const struct cli_ws *w);

/* The next message, waiting up to ms (0: only what is there already): 1
 * with *ev (WS_TEXT or WS_BINARY, data valid until the next call), 0 when
 * none came in time, ZT_ERR_NET once the connection ended (the broker's
 * close code in cli_ws_close_code(), 0 when none came). Pings are answered. */
int cli_ws_recv(struct cli_ws *w, int ms, struct ws_event *ev);
uint16_t cli_ws_close_code(const struct cli_ws *w);

/* A control message of the broker (a text message, a JSON object with a
 * "type", broker/brk_term.h): 0 with *out (owned) and *type (borrowed from
 * it), or ZT_ERR_INVALID for anything else (ignored by the caller: a newer
 * broker's). */
int cli_ws_control(const struct ws_event *ev, cJSON **out, const char **type);

/* Sends one message. 0 or ZT_ERR_NET. */
int cli_ws_send(struct cli_ws *w, enum ws_opcode op, const void *p, size_t n);
/* Sends j as a text message. 0, ZT_ERR_NET or ZT_ERR_NOMEM. */
int cli_ws_send_json(struct cli_ws *w, const cJSON *j);

/* Sends a close (1000) unless the connection ended, and frees. NULL is a
 * no-op. */
void cli_ws_close(struct cli_ws *w);

#endif
