/*
 * brk_term.c - a person's terminal on a host over /ws/ssh (brk_term.h):
 * the terminal front door of the gate, and the session it runs.
 */
#include "broker/brk_term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_front.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_recordings.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshexec.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_websession.h"
#include "broker/brk_ws.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "resources/ssh_shell.h"

#define OPEN_TIMEOUT_MS 30000           /* the channel, the pty, the shell */
#define INPUT_TIMEOUT_MS 30000          /* a host that takes no input */
#define STREAM_STDOUT 1
#define STREAM_STDERR 2

/* ---- the front door ---- */

static int term_cancelled(void *arg)
{
	return brk_ws_ended(((struct brk_term *)arg)->ws);
}

/* Waits ms, taking what the client says meanwhile: a resize before the
 * session runs sets its first size; nothing else is taken yet. */
static int term_sleep(void *arg, int ms)
{
	struct brk_term *t = arg;
	int64_t end = net_mono_ms() + ms;
	struct ws_event ev;
	int64_t left;

	while ((left = end - net_mono_ms()) > 0) {
		int r = brk_ws_recv(t->ws, (int)left, &ev);
		int64_t v;

		if (r < 0) {
			return ZT_ERR_CANCELLED;
		}
		if (r == 1 && ev.kind == WS_TEXT) {
			cJSON *j = NULL;

			if (json_parse(ev.data, ev.len, BRK_WS_MSG_MAX, 4, &j) == 0 &&
			    json_get_int(j, "cols", 1, SSH_SHELL_DIM_MAX, &v) == 0) {
				t->cols = (int)v;
				if (json_get_int(j, "rows", 1, SSH_SHELL_DIM_MAX, &v) == 0) {
					t->rows = (int)v;
				}
			}
			cJSON_Delete(j);
		}
	}
	return 0;
}

static int term_held(void *arg, const struct brk_held *h, int (*settled)(void *),
    void *settled_arg)
{
	struct brk_term *t = arg;
	cJSON *j = cJSON_CreateObject();
	int r;

	(void)settled;
	(void)settled_arg;
	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(j, "type", "held");
	cJSON_AddStringToObject(j, "id", h->id);
	cJSON_AddStringToObject(j, "url", h->url);
	cJSON_AddStringToObject(j, "needs", h->needs);
	cJSON_AddStringToObject(j, "message", h->message);
	cJSON_AddBoolToObject(j, "self_stepup", h->self_stepup);
	cJSON_AddNumberToObject(j, "expires_in_s", h->wait_ms / 1000);
	r = brk_ws_send_json(t->ws, j);
	cJSON_Delete(j);
	return r == 0 ? 0 : ZT_ERR_CANCELLED;
}

static const struct brk_front_ops term_ops = {
	.cancelled = term_cancelled,
	.sleep = term_sleep,
	.held = term_held,
};

/* ---- the tool table's entries ---- */

int brk_term_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "command", NULL };

	if (brk_gate_only_keys(c, args, keys, err, errsz) != 0 ||
	    brk_sshconn_parse_target(c, args, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_str_opt(args, "command", BRK_EXEC_COMMAND_MAX, 0, c->command,
	    &c->command) != 0) {
		snprintf(err, errsz, "command must be a non-empty string of at most %d bytes",
		    BRK_EXEC_COMMAND_MAX);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* The session as it runs. */
struct session {
	struct brk_term *t;
	struct brk_call *c;
	struct brk_pooled *pc;
	struct ssh_shell *sh;
	struct brk_term_watch watch;
	uint64_t bytes_out, bytes_in;
	/* The recording of a session with a terminal (brk_recordings.h), its
	 * clock's start; NULL: not recorded (a command without one). */
	struct aud_rec *rec;
	char rec_id[BRK_REC_ID_LEN + 1];
	int64_t t0;
	int record_input;
	int64_t next_slide;             /* when typing next slides a web session */
	const char *status;             /* "exited", "ended", "disconnected", "failed" */
	int exit_status;                /* finish: the remote one, or -1 */
	char reason[256];
};

const char *brk_term_watch(struct brk_term_watch *w, struct brk_call *c,
    const struct brk_term *t, const struct brk_pooled *pc)
{
	struct brk *b = c->b;
	int64_t gen, now = net_mono_ms();
	const char *why;
	int full;

	if (now < w->next_check) {
		return NULL;
	}
	if ((full = now >= w->next_full)) {
		w->next_full = now + BRK_SSHCONN_CHECK_S * 1000;
	}
	w->next_check = now + BRK_TERM_CHECK_MS;
	gen = brk_policy_generation(b->roles);
	if (brk_ws_stopping(t->ws)) {
		return "the broker is stopping";
	}
	if ((why = brk_sshconn_why(b, pc, pc->generation, full)) != NULL) {
		return why;
	}
	if (gen != w->generation) {
		if (brk_identity_load(b, c->front->credential, c->front->source, &c->who) != 0) {
			return "credential no longer valid";
		}
		if (!brk_gate_path_allowed(c, c->path)) {
			return "the roles no longer allow this session";
		}
		w->generation = gen;
	}
	return NULL;
}

/* A session whose recording failed does not go on. */
static int unrecorded(struct session *s)
{
	s->status = "failed";
	snprintf(s->reason, sizeof(s->reason), "the session can no longer be recorded");
	return ZT_ERR_IO;
}

/* Relays what the host sent to the client. 0, or 1 when the host is done
 * (the command ended), or ZT_ERR_NET (the host or the client is gone:
 * s->status says which). */
static int host_to_client(struct session *s)
{
	uint8_t buf[1 + 32 * 1024];
	int is_err = 0;
	ssize_t n;

	for (;;) {
		n = ssh_shell_read(s->sh, buf + 1, sizeof(buf) - 1, &is_err);
		if (n == 0) {
			return 0;
		}
		if (n == SSH_SHELL_EOF) {
			return 1;
		}
		if (n < 0) {
			s->status = "failed";
			snprintf(s->reason, sizeof(s->reason), "the connection to %s was lost",
			    s->c->host);
			return ZT_ERR_NET;
		}
		buf[0] = is_err ? STREAM_STDERR : STREAM_STDOUT;
		s->bytes_out += (uint64_t)n;
		if (s->rec != NULL && aud_rec_output(s->rec, net_mono_ms() - s->t0, buf + 1,
		    (size_t)n) != 0) {
			return unrecorded(s);
		}
		if (brk_ws_send(s->t->ws, WS_OP_BINARY, buf, (size_t)n + 1) != 0) {
			s->status = "disconnected";
			return ZT_ERR_NET;
		}
	}
}

/* A control message of the client: a resize, the end of input. Anything
 * else is ignored (a newer client's). */
static int control(struct session *s, const struct ws_event *ev)
{
	cJSON *j = NULL;
	const char *type = NULL;
	int64_t cols, rows;
	int r = 0;

	if (json_parse(ev->data, ev->len, BRK_WS_MSG_MAX, 4, &j) != 0 ||
	    json_get_str(j, "type", 16, 0, &type) != 0) {
		cJSON_Delete(j);
		return 0;
	}
	if (strcmp(type, "resize") == 0 && s->t->pty &&
	    json_get_int(j, "cols", 1, SSH_SHELL_DIM_MAX, &cols) == 0 &&
	    json_get_int(j, "rows", 1, SSH_SHELL_DIM_MAX, &rows) == 0) {
		r = ssh_shell_resize(s->sh, (int)cols, (int)rows);
		if (r == 0 && s->rec != NULL && aud_rec_resize(s->rec, net_mono_ms() - s->t0,
		    (int)cols, (int)rows) != 0) {
			r = ZT_ERR_IO;
		}
	} else if (strcmp(type, "eof") == 0) {
		r = ssh_shell_send_eof(s->sh);
	}
	cJSON_Delete(j);
	return r == ZT_ERR_INVALID ? 0 : r;
}

/* Typing in a console's terminal is use of its web session, which would
 * otherwise idle out: its expiry slides as for a /v1 request once it is
 * due to move on (by what the call last read of it), trying at most once
 * every BRK_WEBSESSION_SLIDE seconds. A bearer token does not slide. */
static void typed(struct session *s)
{
	struct brk *b = s->c->b;
	int64_t now = net_mono_ms();

	if (!brk_ws_web_session(s->t->ws) || now < s->next_slide ||
	    b->now() + BRK_WEBSESSION_IDLE < s->c->who.expires_at + BRK_WEBSESSION_SLIDE) {
		return;
	}
	s->next_slide = now + BRK_WEBSESSION_SLIDE * 1000;
	brk_websession_slide(b, &s->c->who);
}

/* Relays what the client sent to the host. 0, or ZT_ERR_NET (s->status
 * says which side is gone). */
static int client_to_host(struct session *s)
{
	struct ws_event ev;
	int r;

	while ((r = brk_ws_recv(s->t->ws, 0, &ev)) == 1) {
		if (ev.kind == WS_BINARY) {
			typed(s);
			r = ssh_shell_write(s->sh, ev.data, ev.len, INPUT_TIMEOUT_MS);
			s->bytes_in += ev.len;
			if (r == 0 && s->rec != NULL && s->record_input &&
			    aud_rec_input(s->rec, net_mono_ms() - s->t0, ev.data, ev.len) != 0) {
				r = ZT_ERR_IO;
			}
		} else {
			r = control(s, &ev);
		}
		if (r == ZT_ERR_IO) {
			return unrecorded(s);
		}
		if (r != 0) {
			s->status = "failed";
			snprintf(s->reason, sizeof(s->reason), "%s on %s: %s", r == ZT_ERR_TIMEOUT ?
			    "the host took no input for 30 s" : "the connection was lost", s->c->host,
			    zt_strerror(r));
			return ZT_ERR_NET;
		}
	}
	if (r < 0) {
		s->status = brk_ws_stopping(s->t->ws) ? "ended" : "disconnected";
		if (brk_ws_stopping(s->t->ws)) {
			snprintf(s->reason, sizeof(s->reason), "the broker is stopping");
		}
		return ZT_ERR_NET;
	}
	return 0;
}

/* Relays both ways until the command ends or the session must. */
static void relay(struct session *s)
{
	const char *why;

	for (;;) {
		int r;

		if ((why = brk_term_watch(&s->watch, s->c, s->t, s->pc)) != NULL) {
			s->status = "ended";
			snprintf(s->reason, sizeof(s->reason), "%s", why);
			return;
		}
		if ((r = host_to_client(s)) != 0) {
			if (r == 1) {
				s->status = "exited";
			}
			return;
		}
		if (client_to_host(s) != 0) {
			return;
		}
		(void)ssh_shell_wait(s->sh, brk_ws_fd(s->t->ws), BRK_TERM_CHECK_MS);
	}
}

/* The outcome event's fields and the result of a session that ran. */
static int finish(struct session *s, int64_t started, cJSON **result)
{
	cJSON *o = s->c->outcome, *sc = cJSON_CreateObject();
	char sig[SSH_SHELL_SIG_MAX + 1] = "";
	int status = strcmp(s->status, "exited") == 0 ? ssh_shell_exit(s->sh, sig, sizeof(sig)) :
	    -1;

	s->exit_status = status;
	cJSON_AddStringToObject(o, "status", s->status);
	if (status >= 0) {
		cJSON_AddNumberToObject(o, "exit_status", status);
	}
	if (sig[0] != '\0') {
		cJSON_AddStringToObject(o, "signal", sig);
	}
	if (s->reason[0] != '\0') {
		cJSON_AddStringToObject(o, "reason", s->reason);
	}
	cJSON_AddNumberToObject(o, "bytes_out", (double)s->bytes_out);
	cJSON_AddNumberToObject(o, "bytes_in", (double)s->bytes_in);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(net_mono_ms() - started));
	s->c->failed = strcmp(s->status, "failed") == 0;
	if (sc == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (status >= 0) {
		cJSON_AddNumberToObject(sc, "status", status);
	} else {
		cJSON_AddNullToObject(sc, "status");
	}
	if (sig[0] != '\0') {
		cJSON_AddStringToObject(sc, "signal", sig);
	}
	if (s->reason[0] != '\0') {
		cJSON_AddStringToObject(sc, "reason", s->reason);
	}
	return mcp_result_structured(sc, result);
}

/* Starts the session's recording. 0 or brk_recordings_start's error. */
static int record(struct session *s)
{
	const struct brk_call *c = s->c;
	const struct brk_rec_meta m = {
		.actor = c->who.actor, .host = c->host, .login = c->login,
		.tool = c->tool->name, .call_id = c->id, .cols = s->t->cols, .rows = s->t->rows,
		.term = s->t->term, .record_input = s->record_input,
	};

	s->t0 = net_mono_ms();
	return brk_recordings_start(c->b, &m, &s->rec, s->rec_id);
}

/* Opens the shell or the command on the call's connection and says so
 * to the client. 0, or a tool error in *result (c->failed). */
static int open_shell(struct session *s, cJSON **result)
{
	struct brk_term *t = s->t;
	struct brk_call *c = s->c;
	struct ssh_shell_req req = {
		.pty = t->pty, .term = t->term, .cols = t->cols, .rows = t->rows,
		.command = c->command, .timeout_ms = OPEN_TIMEOUT_MS,
	};
	char err[256] = "";
	cJSON *j;
	int r;

	if ((r = ssh_shell_open(s->pc->conn, &req, &s->sh, err, sizeof(err))) != 0) {
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "status", "failed");
		cJSON_AddStringToObject(c->outcome, "error", err);
		*result = mcp_result_error("%s on %s as %s failed: %s", c->command != NULL ?
		    "the command" : "the shell", c->host, c->login, err);
		return *result != NULL ? ZT_ERR_NET : ZT_ERR_NOMEM;
	}
	if (t->pty && (r = record(s)) != 0) {
		ssh_shell_close(s->sh);
		s->sh = NULL;
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "status", "failed");
		cJSON_AddStringToObject(c->outcome, "error", "the session cannot be recorded");
		*result = mcp_result_error("the session cannot be recorded (%s); nothing ran",
		    zt_strerror(r));
		return *result != NULL ? ZT_ERR_IO : ZT_ERR_NOMEM;
	}
	if ((j = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(j, "type", "started");
		cJSON_AddStringToObject(j, "call_id", c->id);
		if (s->rec != NULL) {
			cJSON_AddStringToObject(j, "recording", s->rec_id);
		} else {
			cJSON_AddNullToObject(j, "recording");
		}
		(void)brk_ws_send_json(t->ws, j);
		cJSON_Delete(j);
	}
	return 0;
}

int brk_term_run(struct brk_call *c, cJSON **result)
{
	struct session s = { .t = c->front->arg, .c = c };
	int64_t started = net_mono_ms();
	int r;

	s.watch.generation = c->generation;
	s.record_input = c->dec.record_input;
	if ((r = brk_sshconn_get(c, started + OPEN_TIMEOUT_MS, &s.pc, result)) != 0) {
		return *result != NULL ? 0 : r;
	}
	if ((r = open_shell(&s, result)) != 0) {
		brk_sshconn_done(c, s.pc, 1);
		return r == ZT_ERR_NOMEM ? r : 0;
	}
	relay(&s);
	r = finish(&s, started, result);
	if (s.rec != NULL) {
		cJSON *sc = cJSON_GetObjectItemCaseSensitive(*result, "structuredContent");

		/* The end event binds the file: its size and SHA-256. */
		(void)brk_recordings_finish(c->b, s.rec_id, s.rec, s.exit_status, c->outcome);
		if (sc != NULL) {
			cJSON_AddStringToObject(sc, "recording", s.rec_id);
		}
	}
	ssh_shell_close(s.sh);
	/* A session's connection stays with nobody. */
	brk_sshconn_done(c, s.pc, 1);
	return r;
}

/* ---- the route ---- */

/* 1 if key of the opening message says how to show the session, not what
 * it does. */
static int display_key(const char *key)
{
	return strcmp(key, "pty") == 0 || strcmp(key, "term") == 0 || strcmp(key, "cols") == 0 ||
	    strcmp(key, "rows") == 0;
}

/* Reads the client's opening message: the call's arguments into *args
 * (its tool's parse checks them) and the rest into t's terminal. 0, or
 * ZT_ERR_INVALID with err. */
static int read_open(struct brk_term *t, cJSON **args, char *err, size_t errsz)
{
	const cJSON *k;
	const char *term = "xterm-256color";
	cJSON *j = NULL;
	int64_t v;

	*args = NULL;
	if (brk_ws_recv_object(t->ws, BRK_TERM_OPEN_TIMEOUT_MS, "session request", 4, &j, err,
	    errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	t->pty = cJSON_GetObjectItemCaseSensitive(j, "command") == NULL;
	if (json_get_bool_opt(j, "pty", t->pty, &t->pty) != 0 ||
	    json_get_str_opt(j, "term", SSH_SHELL_TERM_MAX, 0, term, &term) != 0) {
		snprintf(err, errsz, "pty must be true or false, term a terminal type");
		cJSON_Delete(j);
		return ZT_ERR_INVALID;
	}
	snprintf(t->term, sizeof(t->term), "%s", term);
	t->cols = json_get_int(j, "cols", 1, SSH_SHELL_DIM_MAX, &v) == 0 ? (int)v : 80;
	t->rows = json_get_int(j, "rows", 1, SSH_SHELL_DIM_MAX, &v) == 0 ? (int)v : 24;
	/* The call's arguments: what it does, not how it is shown. */
	if ((*args = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(j);
		return ZT_ERR_NOMEM;
	}
	cJSON_ArrayForEach(k, j) {
		if (!display_key(k->string)) {
			cJSON_AddItemToObject(*args, k->string, cJSON_Duplicate(k, 1));
		}
	}
	cJSON_Delete(j);
	return 0;
}

/* The text of a tool error result. */
static const char *result_text(const cJSON *result)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(content, 0), "text"));

	return text != NULL ? text : "the call failed";
}

/* Tells the client how the call of tool (NULL: none ran) ended: "exit"
 * for a terminal's session, "result" for another tool's call, each with
 * the result's structuredContent, or "error". */
static void tell_end(struct brk_ws *ws, const struct brk_tool *tool, int r,
    const cJSON *result)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(result, "structuredContent");
	cJSON *j = cJSON_CreateObject();
	const cJSON *k;

	if (j == NULL) {
		return;
	}
	if (r == 0 && result != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result,
	    "isError")) && sc != NULL) {
		cJSON_AddStringToObject(j, "type", tool != NULL && !(tool->flags & BRK_TOOL_TERM) ?
		    "result" : "exit");
		cJSON_ArrayForEach(k, sc) {
			cJSON_AddItemToObject(j, k->string, cJSON_Duplicate(k, 1));
		}
		(void)brk_ws_send_json(ws, j);
		brk_ws_close(ws, WS_CLOSE_NORMAL, "");
	} else {
		cJSON_AddStringToObject(j, "type", "error");
		cJSON_AddStringToObject(j, "message", r == 0 && result != NULL ?
		    result_text(result) : "internal error");
		(void)brk_ws_send_json(ws, j);
		brk_ws_close(ws, r == 0 ? WS_CLOSE_POLICY : WS_CLOSE_INTERNAL, "");
	}
	cJSON_Delete(j);
}

void brk_term_door(struct brk *b, struct brk_ws *ws, const struct brk_tool *(*pick)(cJSON *args))
{
	const struct brk_identity *who = brk_ws_who(ws);
	struct brk_term t = { .b = b, .ws = ws };
	struct brk_front f = { .ops = &term_ops, .arg = &t, .credential = who->token_hash,
	    .source = who->source, .request_id = t.request_id };
	const struct brk_tool *tool;
	uint8_t rnd[8];
	char err[256];
	cJSON *args = NULL, *result = NULL;
	int r;

	memcpy(t.request_id, "term-", 5);
	if (crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), t.request_id + 5, sizeof(t.request_id) - 5) != 0) {
		return;
	}
	if ((r = read_open(&t, &args, err, sizeof(err))) != 0) {
		result = r == ZT_ERR_INVALID ? mcp_result_error("%s", err) : NULL;
		tell_end(ws, NULL, result != NULL ? 0 : r, result);
		cJSON_Delete(result);
		return;
	}
	if ((tool = pick(args)) == NULL) {
		result = mcp_result_error("this endpoint runs no such call");
		r = result != NULL ? 0 : ZT_ERR_NOMEM;
	} else {
		r = brk_gate_call(b, tool, &f, args, &result);
	}
	if (r != ZT_ERR_CANCELLED) {
		tell_end(ws, tool, r, result);
	}
	log_info("%s: terminal %s ended", who->actor, t.request_id);
	cJSON_Delete(result);
	cJSON_Delete(args);
}

/* The tool of an ssh session: a shell, or a command. */
static const struct brk_tool *pick_ssh(cJSON *args)
{
	return brk_tools_term(cJSON_GetObjectItemCaseSensitive(args, "command") != NULL ?
	    BRK_SSHEXEC_TOOL : BRK_TERM_SHELL_TOOL);
}

void brk_term_serve(struct brk *b, struct brk_ws *ws)
{
	brk_term_door(b, ws, pick_ssh);
}
