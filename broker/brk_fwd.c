/*
 * brk_fwd.c - a forwarded TCP connection over /ws/tcp (brk_fwd.h).
 */
#include "broker/brk_fwd.h"

#include <stdio.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_front.h"
#include "broker/brk_gate.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_term.h"
#include "broker/brk_ws.h"
#include "common/err.h"
#include "common/json.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "resources/ssh_forward.h"

#define OPEN_TIMEOUT_MS 30000
#define WRITE_TIMEOUT_MS 30000

int brk_fwd_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "to_host", "to_port", NULL };
	const char *to = NULL;
	int64_t port;

	if (brk_gate_only_keys(c, args, keys, err, errsz) != 0 ||
	    brk_sshconn_parse_target(c, args, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "to_host", SSH_FORWARD_HOST_MAX, 0, &to) != 0 ||
	    json_get_int(args, "to_port", 1, 65535, &port) != 0) {
		snprintf(err, errsz, "to_host must be a host name or address as the host sees it, "
		    "to_port a port from 1 to 65535");
		return ZT_ERR_INVALID;
	}
	c->port_forwarding = 1;
	return 0;
}

/* A forward as it runs. */
struct fwd {
	struct brk_call *c;
	struct brk_term *t;
	struct brk_pooled *pc;
	struct ssh_forward *f;
	struct brk_term_watch watch;
	int client_eof;
	const char *status;             /* "closed", "ended", "disconnected", "failed" */
	char reason[256];
};

/* The far end's bytes to the client: 0, 1 once it closed, or an error. */
static int far_to_client(struct fwd *w)
{
	uint8_t buf[32 * 1024];
	ssize_t n;

	while ((n = ssh_forward_read(w->f, buf, sizeof(buf))) > 0) {
		if (brk_ws_send(w->t->ws, WS_OP_BINARY, buf, (size_t)n) != 0) {
			w->status = "disconnected";
			return ZT_ERR_NET;
		}
	}
	if (n == SSH_FORWARD_EOF) {
		w->status = "closed";
		return 1;
	}
	if (n < 0) {
		w->status = "failed";
		snprintf(w->reason, sizeof(w->reason), "the connection to %s was lost", w->c->host);
		return ZT_ERR_NET;
	}
	return 0;
}

/* The client's bytes (and its end of sending) to the far end. */
static int client_to_far(struct fwd *w)
{
	struct ws_event ev;
	int r;

	while ((r = brk_ws_recv(w->t->ws, 0, &ev)) == 1) {
		if (ev.kind == WS_BINARY && !w->client_eof) {
			r = ssh_forward_write(w->f, ev.data, ev.len, WRITE_TIMEOUT_MS);
		} else if (ev.kind == WS_TEXT && !w->client_eof) {
			w->client_eof = 1;      /* {"type":"eof"}: nothing else is sent */
			r = ssh_forward_send_eof(w->f);
		}
		if (r != 0 && r != 1) {
			w->status = "failed";
			snprintf(w->reason, sizeof(w->reason), "writing to %s failed: %s", w->c->host,
			    zt_strerror(r));
			return ZT_ERR_NET;
		}
	}
	if (r < 0) {
		w->status = brk_ws_stopping(w->t->ws) ? "ended" : "disconnected";
		return ZT_ERR_NET;
	}
	return 0;
}

static void relay(struct fwd *w)
{
	const char *why;

	for (;;) {
		if ((why = brk_term_watch(&w->watch, w->c, w->t, w->pc)) != NULL) {
			w->status = "ended";
			snprintf(w->reason, sizeof(w->reason), "%s", why);
			return;
		}
		if (far_to_client(w) != 0 || client_to_far(w) != 0) {
			return;
		}
		(void)ssh_forward_wait(w->f, brk_ws_fd(w->t->ws), BRK_TERM_CHECK_MS);
	}
}

/* The outcome and result of a forward that ran. */
static int finish(struct fwd *w, int64_t started, cJSON **result)
{
	cJSON *o = w->c->outcome, *sc = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", w->status);
	if (w->reason[0] != '\0') {
		cJSON_AddStringToObject(o, "reason", w->reason);
	}
	cJSON_AddNumberToObject(o, "bytes_out", (double)ssh_forward_received(w->f));
	cJSON_AddNumberToObject(o, "bytes_in", (double)ssh_forward_sent(w->f));
	cJSON_AddNumberToObject(o, "duration_ms", (double)(net_mono_ms() - started));
	w->c->failed = strcmp(w->status, "failed") == 0;
	if (sc == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(sc, "status", w->status);
	if (w->reason[0] != '\0') {
		cJSON_AddStringToObject(sc, "reason", w->reason);
	}
	return mcp_result_structured(sc, result);
}

int brk_fwd_run(struct brk_call *c, cJSON **result)
{
	struct fwd w = { .c = c, .t = c->front->arg, .watch.generation = c->generation };
	const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->args, "to_host"));
	int port = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c->args, "to_port"));
	int64_t started = net_mono_ms();
	char err[256] = "", dest[SSH_FORWARD_HOST_MAX + 8];
	cJSON *j;
	int r;

	snprintf(dest, sizeof(dest), "%s:%d", to, port);
	cJSON_AddStringToObject(c->outcome, "to", dest);
	if ((r = brk_sshconn_get(c, started + OPEN_TIMEOUT_MS, &w.pc, result)) != 0) {
		return *result != NULL ? 0 : r;
	}
	if ((r = ssh_forward_open(w.pc->conn, to, port, NULL, 0, OPEN_TIMEOUT_MS, &w.f, err,
	    sizeof(err))) != 0) {
		brk_sshconn_done(c, w.pc, 1);
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "status", "failed");
		cJSON_AddStringToObject(c->outcome, "error", err);
		*result = mcp_result_error("forwarding to %s on %s failed: %s", dest, c->host, err);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if ((j = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(j, "type", "started");
		cJSON_AddStringToObject(j, "call_id", c->id);
		(void)brk_ws_send_json(w.t->ws, j);
		cJSON_Delete(j);
	}
	relay(&w);
	r = finish(&w, started, result);
	ssh_forward_close(w.f);
	brk_sshconn_done(c, w.pc, 1);
	return r;
}

/* Every forward is the one tool. */
static const struct brk_tool *pick_fwd(cJSON *args)
{
	(void)args;
	return brk_tools_term(POL_TOOL_PORT_FORWARD);
}

void brk_fwd_serve(struct brk *b, struct brk_ws *ws)
{
	brk_term_door(b, ws, pick_fwd);
}
