/*
 * brk_term.h - a person's terminal on a host: `ztctl ssh` over /ws/ssh
 * (brk_ws.h). The broker terminates SSH, so that it decides, records and
 * can end what runs; the terminal's bytes travel over the WebSocket.
 *
 * The conversation, after the upgrade (docs/api.md "Terminals"):
 *   client: a text message opening the session:
 *             {"host", "login", "command"?, "pty"?, "term"?, "cols"?, "rows"?}
 *           without a command, a shell in a pseudo-terminal; with one, the
 *           command, in a pseudo-terminal only with "pty": true;
 *   broker: while the call is held for a person (brk_approvals.h):
 *             {"type":"held", "id", "url", "needs", "message", "self_stepup",
 *              "expires_in_s"}
 *           the client answers out of band (POST /v1/approvals/approve with
 *           a fresh code, for its own step-up) or waits;
 *   broker: {"type":"started", "call_id", "recording"} once it runs;
 *   both:   binary messages: the broker's start with a byte naming the
 *           stream (1 stdout, 2 stderr), then its bytes; the client's are
 *           input, as typed;
 *   client: {"type":"resize", "cols", "rows"}, {"type":"eof"};
 *   broker: at the end, {"type":"exit", "status", "signal", "reason"} (the
 *           remote exit status or null; "reason" when zt ended it: a lock,
 *           a revocation, the roles, the host going away), or
 *           {"type":"error", "message"} for a call that did not run (denied,
 *           bad request) or failed; then it closes.
 *
 * The call goes through the gate (brk_gate.h) like an MCP client's: tool
 * ssh_shell without a command, ssh_exec with one, decided on the host's
 * labels, the login and the command; MFA and approvals as the roles say;
 * tool.NAME and tool.NAME.result on record. The session takes a warm
 * connection of its credential to the host as the login, or a new one,
 * and keeps it to itself: it is closed at the end, never kept warm. A
 * session with a terminal is recorded (brk_recordings.h; input too when
 * the deciding role says record_input), and its end event binds the file.
 * It ends when the credential no longer holds (logout, lock, expiry), the
 * host goes away or is locked, or the roles, decided again when they
 * change, no longer allow it.
 */
#ifndef ZT_BRK_TERM_H
#define ZT_BRK_TERM_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "resources/ssh_shell.h"

struct brk;
struct brk_call;
struct brk_tool;
struct brk_pooled;
struct brk_ws;

#define BRK_TERM_SHELL_TOOL "ssh_shell"
/* How long a client has to open its session after the upgrade. */
#define BRK_TERM_OPEN_TIMEOUT_MS 30000
/* How often a running session checks it may go on. */
#define BRK_TERM_CHECK_MS 1000

/* A terminal's front door (brk_front.h) over one WebSocket: the
 * connection, and how the client shows the session (ssh). It is the
 * front's arg: the run of a BRK_TOOL_TERM tool reads it there. */
struct brk_term {
	struct brk *b;
	struct brk_ws *ws;
	char request_id[24];            /* "term-" and 64 random bits, for the audit */
	int pty;
	char term[SSH_SHELL_TERM_MAX + 1];
	int cols, rows;
};

/* The /ws/ssh route (brk_ws_handler). */
void brk_term_serve(struct brk *b, struct brk_ws *ws);

/* What every route of brk_ws.h does: reads the client's opening message
 * (its display keys pty, term, cols and rows for the terminal; the rest
 * the call's arguments), runs the call of the tool pick(arguments) names
 * (an entry of the tool table; pick may take out of the arguments what
 * only chose it; NULL: "error", none runs) through the gate with the
 * terminal front, and tells the client how it ended ("exit" for a
 * terminal entry, BRK_TOOL_TERM, "result" for another, with the result's
 * structuredContent; or "error"). */
void brk_term_door(struct brk *b, struct brk_ws *ws, const struct brk_tool *(*pick)(cJSON *args));

/* The checks of a running session (a shell, a forward): when they are
 * next due, and the role generation it was last decided on (start it at
 * the call's, c->generation; the times at 0). */
struct brk_term_watch {
	int64_t generation;
	int64_t next_check, next_full;
};
/* Why the session of call c over t, on connection pc, may not go on, or
 * NULL; checked every BRK_TERM_CHECK_MS (NULL in between): the broker
 * stopping, its host, its credential (in the store every
 * BRK_SSHCONN_CHECK_S), and the roles, decided again when their
 * generation is no longer w's (which then moves on). */
const char *brk_term_watch(struct brk_term_watch *w, struct brk_call *c,
    const struct brk_term *t, const struct brk_pooled *pc);

/* The tool table's entries for terminals (BRK_TOOL_TERM): parse reads
 * host, login and command; run runs the session on the front's terminal. */
int brk_term_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_term_run(struct brk_call *c, cJSON **result);

#endif
