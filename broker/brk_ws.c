/*
 * brk_ws.c - the WebSocket front door (brk_ws.h): the handshake on
 * libmicrohttpd, then frames on the upgraded socket, one thread per
 * connection.
 */
#include "broker/brk_ws.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_audittail.h"
#include "broker/brk_conn.h"
#include "broker/brk_files.h"
#include "broker/brk_http.h"
#include "broker/brk_fwd.h"
#include "broker/brk_policy.h"
#include "broker/brk_term.h"
#include "broker/brk_websession.h"
#include "broker/brk_work.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

/* A frame the client sends: its head and at most a message's bytes. */
#define IN_MAX (BRK_WS_MSG_MAX + WS_HEAD_MAX)
/* How long a send waits for a client that reads nothing. */
#define SEND_TIMEOUT_MS 30000

/* The routes. One that reaches a host is refused (403) to an auditor who
 * does not also administer: an auditor reviews what others did and uses
 * no host. The audit tail is an auditor's to use. */
static const struct route {
	const char *name;
	brk_ws_handler *handler;
	int host;                       /* reaches a host */
} routes[] = {
	{ "ssh", brk_term_serve, 1 },
	{ "tcp", brk_fwd_serve, 1 },
	{ "file", brk_files_serve, 1 },
	{ "audit", brk_audittail_serve, 0 },
};

struct brk_wss {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct brk_ws *head;
	size_t n;
	int stopping;
};

struct brk_ws {
	struct brk *b;
	struct brk_wss *reg;
	struct brk_ws *next, *prev;    /* in reg, under reg->mu */
	brk_ws_handler *handler;
	struct brk_identity who;
	int web;                       /* who came by the web session cookie */
	int fd;                        /* shut down only under reg->mu while listed */
	struct MHD_UpgradeResponseHandle *urh;
	struct ws_reader *rd;
	uint8_t in[IN_MAX];            /* received, not yet read */
	size_t in_len;
	int ended, close_sent;
	int64_t heard_ms;              /* when the client last sent anything */
	int64_t ping_ms;               /* when the ping in flight went, or 0 */
};

/* ---- the registry ---- */

struct brk_wss *brk_wss_new(void)
{
	struct brk_wss *w = calloc(1, sizeof(*w));

	if (w != NULL) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
	}
	return w;
}

void brk_wss_shutdown(struct brk_wss *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	for (struct brk_ws *ws = w->head; ws != NULL; ws = ws->next) {
		(void)shutdown(ws->fd, SHUT_RDWR);
	}
	while (w->n > 0) {
		pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

void brk_wss_free(struct brk_wss *w)
{
	if (w == NULL) {
		return;
	}
	brk_wss_shutdown(w);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* Lists ws: 0, or ZT_ERR_BUSY (full, or stopping). */
/* Under w->mu: 0 if a connection of actor fits now; ZT_ERR_BUSY when the
 * broker is full or stopping, ZT_ERR_RATE_LIMITED when actor holds its
 * share. */
static int room_locked(const struct brk_wss *w, const char *actor)
{
	size_t mine = 0;

	if (w->stopping || w->n >= BRK_WS_MAX) {
		return ZT_ERR_BUSY;
	}
	for (const struct brk_ws *o = w->head; o != NULL; o = o->next) {
		mine += strcmp(o->who.actor, actor) == 0;
	}
	return mine >= BRK_WS_PER_ACTOR ? ZT_ERR_RATE_LIMITED : 0;
}

static int enlist(struct brk_wss *w, struct brk_ws *ws)
{
	int r;

	pthread_mutex_lock(&w->mu);
	if ((r = room_locked(w, ws->who.actor)) == 0) {
		ws->next = w->head;
		if (w->head != NULL) {
			w->head->prev = ws;
		}
		w->head = ws;
		w->n++;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* room_locked for a connection of actor, now. */
static int room(struct brk_wss *w, const char *actor)
{
	int r;

	pthread_mutex_lock(&w->mu);
	r = room_locked(w, actor);
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* Unlists ws and has libmicrohttpd close its socket. */
static void delist(struct brk_ws *ws)
{
	struct brk_wss *w = ws->reg;

	pthread_mutex_lock(&w->mu);
	if (ws->prev != NULL) {
		ws->prev->next = ws->next;
	} else {
		w->head = ws->next;
	}
	if (ws->next != NULL) {
		ws->next->prev = ws->prev;
	}
	MHD_upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
	if (--w->n == 0) {
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* ---- frames ---- */

const struct brk_identity *brk_ws_who(const struct brk_ws *ws)
{
	return &ws->who;
}

int brk_ws_web_session(const struct brk_ws *ws)
{
	return ws->web;
}

int brk_ws_fd(const struct brk_ws *ws)
{
	return ws->fd;
}

int brk_ws_stopping(const struct brk_ws *ws)
{
	int s;

	pthread_mutex_lock(&ws->reg->mu);
	s = ws->reg->stopping;
	pthread_mutex_unlock(&ws->reg->mu);
	return s;
}

int brk_ws_ended(const struct brk_ws *ws)
{
	return ws->ended || brk_ws_stopping(ws);
}

/* Writes all of iov (n entries, consumed as it goes), waiting for a slow
 * client at most SEND_TIMEOUT_MS in all. 0 or ZT_ERR_NET. */
static int write_all(struct brk_ws *ws, struct iovec *iov, int n)
{
	int64_t deadline = net_mono_ms() + SEND_TIMEOUT_MS;

	while (n > 0) {
		ssize_t w = writev(ws->fd, iov, n);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			struct pollfd p = { .fd = ws->fd, .events = POLLOUT };
			int64_t left = deadline - net_mono_ms();

			if (left <= 0 || poll(&p, 1, (int)left) < 0) {
				return ZT_ERR_NET;
			}
			continue;
		}
		if (w < 0) {
			return ZT_ERR_NET;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* One frame, unmasked (a server's). */
static int send_frame(struct brk_ws *ws, enum ws_opcode op, const void *p, size_t n)
{
	uint8_t head[WS_HEAD_MAX];
	struct iovec iov[2];

	if (ws->ended || ws->close_sent) {
		return ZT_ERR_NET;
	}
	iov[0] = (struct iovec){ head, ws_frame_head(head, 1, op, n, NULL) };
	iov[1] = (struct iovec){ (void *)p, n };
	if (write_all(ws, iov, n > 0 ? 2 : 1) != 0) {
		ws->ended = 1;
		return ZT_ERR_NET;
	}
	return 0;
}

int brk_ws_send(struct brk_ws *ws, enum ws_opcode op, const void *p, size_t n)
{
	return send_frame(ws, op, p, n);
}

int brk_ws_send_json(struct brk_ws *ws, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	int r;

	if (text == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = send_frame(ws, WS_OP_TEXT, text, strlen(text));
	free(text);
	return r;
}

void brk_ws_close(struct brk_ws *ws, uint16_t code, const char *reason)
{
	uint8_t p[WS_CONTROL_MAX];

	if (!ws->close_sent) {
		(void)send_frame(ws, WS_OP_CLOSE, p, ws_close_payload(p, code, reason));
		ws->close_sent = 1;
	}
}

/* Takes one frame of ws->in through the reader: 1 with a message in *ev,
 * 0 when it was something else (answered) or not all there, ZT_ERR_NET
 * when the connection ends. *used says whether bytes were consumed. */
static int take_frame(struct brk_ws *ws, struct ws_event *ev, size_t *used)
{
	uint16_t code;

	*used = 0;
	if (ws_read(ws->rd, ws->in, ws->in_len, used, ev) != 0) {
		code = ws_reader_close_code(ws->rd);
		brk_ws_close(ws, code != 0 ? code : WS_CLOSE_PROTOCOL, "protocol error");
		ws->ended = 1;
		return ZT_ERR_NET;
	}
	memmove(ws->in, ws->in + *used, ws->in_len - *used);
	ws->in_len -= *used;
	switch (*used > 0 ? ev->kind : WS_NONE) {
	case WS_TEXT:
	case WS_BINARY:
		return 1;
	case WS_PING:
		(void)send_frame(ws, WS_OP_PONG, ev->data, ev->len);
		return 0;
	case WS_CLOSE:
		/* Answered with its code, as RFC 6455 5.5.1 asks. */
		code = ev->close_code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : ev->close_code;
		brk_ws_close(ws, code, "");
		ws->ended = 1;
		return ZT_ERR_NET;
	default:
		return 0;
	}
}

/* Keeps a quiet connection honest: after BRK_WS_IDLE_MS without a byte
 * from the client, a ping; no byte BRK_WS_PONG_MS after it, and the client
 * is taken for gone (a vanished peer is otherwise noticed only when
 * something is sent to it). 0, or ZT_ERR_NET once it ended. */
static int keepalive(struct brk_ws *ws, int64_t now)
{
	if (ws->ping_ms == 0 && now - ws->heard_ms >= BRK_WS_IDLE_MS) {
		ws->ping_ms = now;
		(void)send_frame(ws, WS_OP_PING, "zt", 2);
	} else if (ws->ping_ms != 0 && now - ws->ping_ms >= BRK_WS_PONG_MS) {
		log_info("%s: a WebSocket client answered no ping in %d s: closed",
		    ws->who.actor, BRK_WS_PONG_MS / 1000);
		brk_ws_close(ws, WS_CLOSE_GOING_AWAY, "no answer to ping");
		ws->ended = 1;
	}
	return brk_ws_ended(ws) ? ZT_ERR_NET : 0;
}

int brk_ws_recv(struct brk_ws *ws, int ms, struct ws_event *ev)
{
	int64_t deadline = net_mono_ms() + (ms > 0 ? ms : 0);

	for (;;) {
		struct pollfd p = { .fd = ws->fd, .events = POLLIN };
		size_t used;
		int64_t left, now = net_mono_ms();
		ssize_t n;
		int r;

		if (brk_ws_ended(ws) || keepalive(ws, now) != 0) {
			return ZT_ERR_NET;
		}
		if (ws->in_len > 0) {
			if ((r = take_frame(ws, ev, &used)) != 0) {
				return r;
			}
			if (used > 0) {
				continue;
			}
		}
		/* A long wait wakes each second for the keepalive. */
		left = deadline - now;
		if (poll(&p, 1, left > 1000 ? 1000 : left > 0 ? (int)left : 0) == 0) {
			if (net_mono_ms() >= deadline) {
				return 0;
			}
			continue;
		}
		n = read(ws->fd, ws->in + ws->in_len, sizeof(ws->in) - ws->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			ws->ended = 1;          /* the client is gone */
			return ZT_ERR_NET;
		}
		if (n > 0) {
			ws->in_len += (size_t)n;
			ws->heard_ms = net_mono_ms();
			ws->ping_ms = 0;
		}
	}
}

int brk_ws_recv_object(struct brk_ws *ws, int ms, const char *what, int depth, cJSON **out,
    char *err, size_t errsz)
{
	struct ws_event ev;
	int r = brk_ws_recv(ws, ms, &ev);

	*out = NULL;
	if (r != 1 || ev.kind != WS_TEXT) {
		if (r == 0) {
			snprintf(err, errsz, "no %s in %d s", what, ms / 1000);
		} else {
			snprintf(err, errsz, "the first message must be the %s (JSON text)", what);
		}
		return ZT_ERR_INVALID;
	}
	if (json_parse(ev.data, ev.len, BRK_WS_MSG_MAX, depth, out) != 0 || !cJSON_IsObject(*out)) {
		snprintf(err, errsz, "the %s is not a JSON object", what);
		cJSON_Delete(*out);
		*out = NULL;
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* ---- the connection's thread ---- */

static void *run(void *arg)
{
	struct brk_ws *ws = arg;

	ws->handler(ws->b, ws);
	brk_ws_close(ws, brk_ws_stopping(ws) ? WS_CLOSE_GOING_AWAY : WS_CLOSE_NORMAL, "");
	delist(ws);
	ws_reader_free(ws->rd);
	crypto_wipe(&ws->who, sizeof(ws->who));
	free(ws);
	return NULL;
}

/* ---- the HTTP side ---- */

enum stage { WR_NEW, WR_AUTH, WR_SENT };

struct wreq {
	struct brk *b;
	struct MHD_Connection *c;
	enum stage stage;
	const struct route *route;
	char source[BRK_SOURCE_MAX];
	char accept[WS_ACCEPT_LEN + 1];
	struct brk_req req;
	struct brk_resp resp;           /* the worker's refusal, if any */
	struct brk_identity who;
	int authenticated;
	int zt_protocol;                /* the client offered BRK_WS_PROTOCOL */
	char csrf[BRK_CSRF_HEX + 1];    /* from its BRK_WS_CSRF_PROTOCOL, or "" */
	int web;                        /* authenticated by the web session cookie */
};

/* 0 if who may use the route (one reaching a host: who is no auditor, or
 * also administers); else a 403 in wr->resp (or a 500). */
static int refuse_auditor(struct wreq *wr)
{
	int r, admin = 0, auditor = 0;

	if (!wr->route->host) {
		return 0;
	}
	if ((r = brk_policy_administers(wr->b->roles, wr->who.kind, wr->who.roles, &admin,
	    &auditor)) != 0) {
		brk_resp_error(&wr->resp, 500, "internal", "internal error");
		return r;
	}
	if (auditor && !admin) {
		brk_resp_error(&wr->resp, 403, "forbidden", "%s holds an auditor role: auditors "
		    "review sessions and open none", wr->who.actor);
		/* Best effort (aud_event.c): the refusal goes out either way. */
		(void)aud_record(wr->b->store, wr->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "terminal.refused", .actor = wr->who.actor, .source = wr->source,
		    .outcome = "denied", .reason = "auditor" });
		return ZT_ERR_DENIED;
	}
	return 0;
}

/* On a worker, with the connection suspended: who asks, by the bearer
 * token or else by a web session cookie, which a page of the broker's
 * own origin alone may use (a browser always sends Origin here). */
static void auth_job(void *arg)
{
	struct wreq *wr = arg;
	int r;

	if (wr->req.authorization == NULL && wr->req.cookie_web != NULL) {
		r = brk_websession_authenticate(wr->b, &wr->req, BRK_WEBSESSION_CSRF |
		    BRK_WEBSESSION_ORIGIN, &wr->who, &wr->resp);
		wr->web = r == 0;
	} else {
		r = brk_identity_authenticate(wr->b, &wr->req, &wr->who, &wr->resp);
	}
	if (r == 0 && (r = refuse_auditor(wr)) == 0) {
		brk_conn_authenticated(wr->c, wr->who.actor);
		wr->authenticated = 1;
	}
	log_info("GET %s from %s: %s", wr->req.path, wr->source, wr->authenticated ?
	    wr->who.actor : "refused");
}

/* Called by libmicrohttpd once "101" went out: the connection's thread
 * starts (its state is the request's, copied). */
static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
    size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct wreq *wr = cls;
	struct brk_ws *ws = calloc(1, sizeof(*ws));
	pthread_attr_t at;
	pthread_t t;
	int ok = 0;

	(void)c;
	(void)con_cls;
	if (ws != NULL && extra_len <= sizeof(ws->in) &&
	    (ws->rd = ws_reader_new(1, BRK_WS_MSG_MAX)) != NULL) {
		ws->b = wr->b;
		ws->reg = wr->b->wss;
		ws->handler = wr->route->handler;
		ws->who = wr->who;
		ws->web = wr->web;
		ws->fd = sock;
		ws->urh = urh;
		memcpy(ws->in, extra, extra_len);
		ws->in_len = extra_len;
		ws->heard_ms = net_mono_ms();
		(void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
		ok = enlist(ws->reg, ws) == 0;
	}
	if (ok && pthread_attr_init(&at) == 0) {
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, run, ws) != 0) {
			ws->handler = NULL;
		}
		pthread_attr_destroy(&at);
		if (ws->handler != NULL) {
			return;
		}
		delist(ws);
		urh = NULL;
	}
	if (urh != NULL) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	}
	log_warn("%s: a WebSocket connection could not start (busy or out of memory)",
	    wr->source);
	if (ws != NULL) {
		ws_reader_free(ws->rd);
		crypto_wipe(&ws->who, sizeof(ws->who));
		free(ws);
	}
}

/* Where header h of c lists a token starting with t (comma-separated, case
 * ignored; prefix: t may be followed by more of the token), or NULL. */
static const char *header_find(struct MHD_Connection *c, const char *h, const char *t,
    int prefix)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, h);
	size_t tl = strlen(t);

	while (v != NULL && *v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',') {
			v++;
		}
		if (strncasecmp(v, t, tl) == 0 && (prefix || v[tl] == '\0' || v[tl] == ',' ||
		    v[tl] == ' ' || v[tl] == '\t')) {
			return v;
		}
		v = strchr(v, ',');
	}
	return NULL;
}

/* 1 if header h of c lists token t. */
static int header_has(struct MHD_Connection *c, const char *h, const char *t)
{
	return header_find(c, h, t, 0) != NULL;
}

/* The subprotocols a page offers (brk_ws.h): BRK_WS_PROTOCOL, and the CSRF
 * token of its web session as BRK_WS_CSRF_PROTOCOL<token>. */
static void read_protocols(struct wreq *wr)
{
	const char *p = header_find(wr->c, "Sec-WebSocket-Protocol", BRK_WS_CSRF_PROTOCOL, 1);
	size_t n;

	wr->zt_protocol = header_has(wr->c, "Sec-WebSocket-Protocol", BRK_WS_PROTOCOL);
	if (p != NULL) {
		p += strlen(BRK_WS_CSRF_PROTOCOL);
		n = strcspn(p, ", \t");
		if (n < sizeof(wr->csrf)) {
			memcpy(wr->csrf, p, n);
			wr->csrf[n] = '\0';
			wr->req.csrf = wr->csrf;
		}
	}
}

static enum MHD_Result refuse(struct wreq *wr, int status, const char *code, const char *msg)
{
	wr->stage = WR_SENT;
	return brk_http_send_error(wr->c, status, code, 0, msg);
}

/* The head is in: is it a handshake for a route? Then authenticate. */
static enum MHD_Result on_new(struct wreq *wr, const char *url, const char *method)
{
	const char *name = url + strlen(BRK_WS_PATH), *version;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(name, routes[i].name) == 0) {
			wr->route = &routes[i];
		}
	}
	if (wr->route == NULL) {
		return refuse(wr, 404, "not_found", "no such WebSocket endpoint");
	}
	if (strcmp(method, "GET") != 0) {
		return refuse(wr, 405, "method_not_allowed", "a WebSocket opens with GET");
	}
	version = MHD_lookup_connection_value(wr->c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	if (!header_has(wr->c, "Upgrade", "websocket") ||
	    !header_has(wr->c, "Connection", "upgrade") ||
	    ws_accept_for(MHD_lookup_connection_value(wr->c, MHD_HEADER_KIND,
	    "Sec-WebSocket-Key"), wr->accept) != 0) {
		return refuse(wr, 400, "invalid_request", "not a WebSocket handshake (RFC 6455: "
		    "Upgrade: websocket, Connection: Upgrade, a Sec-WebSocket-Key)");
	}
	if (version == NULL || strcmp(version, "13") != 0) {
		return refuse(wr, 426, "upgrade_required", "this server speaks WebSocket version 13");
	}
	brk_http_client_addr(wr->c, wr->source, sizeof(wr->source));
	wr->req.method = method;
	wr->req.path = url;
	wr->req.source = wr->source;
	wr->req.authorization = MHD_lookup_connection_value(wr->c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	wr->req.cookie_web = MHD_lookup_connection_value(wr->c, MHD_COOKIE_KIND,
	    BRK_WEBSESSION_COOKIE);
	wr->req.origin = MHD_lookup_connection_value(wr->c, MHD_HEADER_KIND, "Origin");
	read_protocols(wr);
	wr->stage = WR_AUTH;
	if (brk_work_suspend(wr->b->work, wr->c, auth_job, wr) != 0) {
		wr->stage = WR_SENT;
		return brk_http_send_error(wr->c, 503, "busy", 1, "the server is busy: try again "
		    "in a moment");
	}
	return MHD_YES;
}

/* After the worker: the refusal, or "101 Switching Protocols". */
static enum MHD_Result on_authenticated(struct wreq *wr)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int rr;

	wr->stage = WR_SENT;
	if (!wr->authenticated) {
		return wr->resp.status != 0 ? brk_http_send(wr->c, &wr->resp) : MHD_NO;
	}
	/* Said before the upgrade while it can be (enlist checks again). */
	if ((rr = room(wr->b->wss, wr->who.actor)) == ZT_ERR_RATE_LIMITED) {
		return brk_http_send_error(wr->c, 429, "rate_limited", 5, "you hold as many "
		    "terminals, forwards and audit tails at once as one identity may: close "
		    "one first");
	}
	if (rr != 0) {
		return brk_http_send_error(wr->c, 503, "busy", 1, "the broker holds as many "
		    "terminals as it may, or is stopping: try again in a moment");
	}
	if ((r = MHD_create_response_for_upgrade(on_upgrade, wr)) == NULL) {
		return MHD_NO;
	}
	brk_conn_phase(wr->c, BRK_CONN_BUSY);  /* the handler bounds itself */
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", wr->accept);
	if (wr->zt_protocol) {
		MHD_add_response_header(r, "Sec-WebSocket-Protocol", BRK_WS_PROTOCOL);
	}
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(wr->c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result brk_ws_request(struct brk *b, struct MHD_Connection *c, const char *url,
    const char *method, void **cls)
{
	struct wreq *wr = *cls;

	if (wr == NULL) {
		if ((wr = calloc(1, sizeof(*wr))) == NULL) {
			return MHD_NO;
		}
		wr->b = b;
		wr->c = c;
		*cls = wr;
		return on_new(wr, url, method);
	}
	return wr->stage == WR_AUTH ? on_authenticated(wr) : MHD_YES;
}

void brk_ws_completed(void **cls)
{
	struct wreq *wr = *cls;

	if (wr != NULL) {
		brk_resp_clear(&wr->resp);
		crypto_wipe(&wr->who, sizeof(wr->who));
		crypto_wipe(wr->csrf, sizeof(wr->csrf));
		free(wr);
		*cls = NULL;
	}
}
