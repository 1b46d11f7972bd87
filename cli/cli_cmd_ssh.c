/*
 * cli_cmd_ssh.c - `ztctl ssh [-t] [LOGIN@]HOST [COMMAND...]` (cli_cmd_ssh.h):
 * a terminal on a host through the broker's /ws/ssh (broker/brk_term.h).
 */
#include "cli/cli_cmd_ssh.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_cmd_approve.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_fwd.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_tty.h"
#include "cli/cli_ws.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/net.h"

#define EXIT_SSH 255                    /* ztctl's own failure, as ssh's */
#define OPEN_TIMEOUT_MS 15000
#define TICK_MS 1000
#define COMMAND_MAX 16384
#define CHUNK (16 * 1024)

static const char usage_ssh[] =
    "usage: ztctl ssh [-t] [-N] [-L [BIND:]PORT:HOST:PORT]... [LOGIN@]HOST [COMMAND...]\n"
    "  without COMMAND: a shell in a terminal, recorded by the broker;\n"
    "  with COMMAND: runs it, its stdout and stderr apart, and exits with its status.\n"
    "  -t   a terminal for COMMAND too\n"
    "  -L   forward connections to BIND:PORT (BIND 127.0.0.1 by default) to HOST:PORT\n"
    "       as the remote host sees it (a role with options.port_forwarding: true)\n"
    "  -N   no shell or command: only forward, until interrupted\n"
    "  In a terminal, ~. at the start of a line ends the session (~~ sends ~).\n"
    "  LOGIN defaults to your local user name. Exit status: the remote one, or 255\n"
    "  when zt refused, failed or ended the session.\n";

static volatile sig_atomic_t winched;

static void on_winch(int sig)
{
	(void)sig;
	winched = 1;
}

/* What a session knows as it runs. */
struct ssh_run {
	struct cli_ws *ws;
	int pty, tty;                   /* a remote pty; stdin is a terminal */
	int stdin_open;
	int line_start, tilde;          /* the escape's state (~. after a newline) */
	int exit_status;                /* -1 until the broker says */
	int done;
	struct cli_fwds *fwds;          /* -L listeners; NULL: none */
};

/* ---- arguments ---- */

struct ssh_args {
	int force_pty, no_command;
	struct cli_fwd_spec fwd[CLI_FWD_MAX];
	size_t nfwd;
	char login[64];
	const char *host;
	char command[COMMAND_MAX + 1];
	int has_command;
};

static int parse_args(int argc, char **argv, struct ssh_args *a)
{
	const char *target, *at;
	size_t used = 0;
	int i = 1;

	memset(a, 0, sizeof(*a));
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-t") == 0) {
			a->force_pty = 1;
		} else if (strcmp(argv[i], "-N") == 0) {
			a->no_command = 1;
		} else if (strcmp(argv[i], "-L") == 0) {
			if (i + 1 >= argc || a->nfwd == CLI_FWD_MAX ||
			    cli_fwd_parse(argv[++i], &a->fwd[a->nfwd++]) != 0) {
				fprintf(stderr, "ztctl ssh: -L takes [BIND:]PORT:HOST:PORT (at most %d)\n",
				    CLI_FWD_MAX);
				return CLI_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_ssh, stdout);
			return -1;
		} else {
			fprintf(stderr, "ztctl ssh: unknown option %s\n%s", argv[i], usage_ssh);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage_ssh, stderr);
		return CLI_EXIT_USAGE;
	}
	target = argv[i++];
	if ((at = strchr(target, '@')) != NULL) {
		snprintf(a->login, sizeof(a->login), "%.*s", (int)(at - target), target);
		a->host = at + 1;
	} else {
		/* As ssh: the local user's name ("" when none: refused below). */
		(void)cli_local_user(a->login, sizeof(a->login));
		a->host = target;
	}
	if (a->login[0] == '\0' || a->host[0] == '\0') {
		fprintf(stderr, "ztctl ssh: need a login and a host ([LOGIN@]HOST)\n");
		return CLI_EXIT_USAGE;
	}
	if (a->no_command && (a->nfwd == 0 || i < argc)) {
		fprintf(stderr, "ztctl ssh: -N needs -L and no command\n");
		return CLI_EXIT_USAGE;
	}
	/* The command as ssh joins it: its words with spaces. */
	for (; i < argc; i++) {
		int n = snprintf(a->command + used, sizeof(a->command) - used, "%s%s",
		    used > 0 ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(a->command) - used) {
			fprintf(stderr, "ztctl ssh: the command is over %d bytes\n", COMMAND_MAX);
			return CLI_EXIT_USAGE;
		}
		used += (size_t)n;
		a->has_command = 1;
	}
	return CLI_EXIT_OK;
}

/* ---- the session ---- */

static int send_control(struct cli_ws *ws, const char *type, int cols, int rows)
{
	cJSON *j = cJSON_CreateObject();
	int r;

	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(j, "type", type);
	if (cols > 0) {
		cJSON_AddNumberToObject(j, "cols", cols);
		cJSON_AddNumberToObject(j, "rows", rows);
	}
	r = cli_ws_send_json(ws, j);
	cJSON_Delete(j);
	return r;
}

/* The session request: what to run, and how to show it. */
static int send_open(struct cli_ws *ws, const struct ssh_args *a, int pty)
{
	cJSON *j = cJSON_CreateObject();
	const char *term = getenv("TERM");
	int cols = 80, rows = 24, r;

	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	(void)cli_tty_size(STDIN_FILENO, &cols, &rows);
	cJSON_AddStringToObject(j, "host", a->host);
	cJSON_AddStringToObject(j, "login", a->login);
	if (a->has_command) {
		cJSON_AddStringToObject(j, "command", a->command);
	}
	cJSON_AddBoolToObject(j, "pty", pty);
	cJSON_AddStringToObject(j, "term", term != NULL && term[0] != '\0' &&
	    strlen(term) <= 64 ? term : "xterm-256color");
	cJSON_AddNumberToObject(j, "cols", cols);
	cJSON_AddNumberToObject(j, "rows", rows);
	r = cli_ws_send_json(ws, j);
	json_delete_wiped(j);
	return r;
}

/* A control message of the broker: 0 to go on, 1 when it said how the
 * session ended (s->done), or CLI_EXIT_* through *ret for a refusal. */
static void on_text(struct ssh_run *s, const struct ws_event *ev, int *started)
{
	char clean[1024];
	const char *type = NULL, *msg, *reason, *sig;
	cJSON *j = NULL, *st;

	if (cli_ws_control(ev, &j, &type) != 0) {
		return;
	}
	msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
	if (strcmp(type, "started") == 0) {
		*started = 1;
	} else if (strcmp(type, "held") == 0) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));

		fprintf(stderr, "ztctl: %s\n", cli_clean(msg != NULL ? msg : "the call is held", 0,
		    clean, sizeof(clean)));
		if (id != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "self_stepup")) &&
		    isatty(STDIN_FILENO)) {
			int stepped_up;

			(void)cli_approve_send("ssh", id, NULL, 0, NULL, &stepped_up);
		}
	} else if (strcmp(type, "error") == 0) {
		cli_tty_restore();
		cli_fail("ssh: %s", cli_clean(msg != NULL ? msg : "the session failed", 0, clean,
		    sizeof(clean)));
		s->exit_status = EXIT_SSH;
		s->done = 1;
	} else if (strcmp(type, "exit") == 0) {
		st = cJSON_GetObjectItemCaseSensitive(j, "status");
		reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "reason"));
		sig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "signal"));
		s->exit_status = cJSON_IsNumber(st) ? (int)st->valuedouble : EXIT_SSH;
		cli_tty_restore();
		if (reason != NULL) {
			cli_fail("ssh: the session was ended: %s", cli_clean(reason, 0, clean,
			    sizeof(clean)));
		} else if (sig != NULL) {
			cli_fail("ssh: the remote command was killed by signal %s", cli_clean(sig, 0,
			    clean, sizeof(clean)));
		}
		s->done = 1;
	}
	cJSON_Delete(j);
}

/* The broker's messages that are there now. 0, or ZT_ERR_NET when the
 * connection ended. */
static int from_broker(struct ssh_run *s, int *started)
{
	struct ws_event ev;
	int r;

	while (!s->done && (r = cli_ws_recv(s->ws, 0, &ev)) == 1) {
		if (ev.kind == WS_TEXT) {
			on_text(s, &ev, started);
		} else if (ev.len > 1 && net_write_all(ev.data[0] == 2 ? STDERR_FILENO : STDOUT_FILENO,
		    ev.data + 1, ev.len - 1) != 0) {
			return ZT_ERR_NET;
		}
	}
	return s->done || r == 0 ? 0 : ZT_ERR_NET;
}

/* What was typed, through the escape (~. ends, ~~ sends one ~) when the
 * session has a terminal. 0, 1 after ~., or ZT_ERR_NET. */
static int from_stdin(struct ssh_run *s)
{
	uint8_t in[CHUNK], out[CHUNK * 2];
	size_t n = 0;
	ssize_t got = read(STDIN_FILENO, in, sizeof(in));

	if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
		return 0;
	}
	if (got <= 0) {
		s->stdin_open = 0;
		return send_control(s->ws, "eof", 0, 0);
	}
	for (ssize_t i = 0; i < got; i++) {
		uint8_t c = in[i];

		if (s->tty && s->pty && s->tilde) {
			s->tilde = 0;
			if (c == '.') {
				return 1;
			}
			if (c != '~') {
				out[n++] = '~';
			}
		} else if (s->tty && s->pty && s->line_start && c == '~') {
			s->tilde = 1;
			s->line_start = 0;
			continue;
		}
		out[n++] = c;
		s->line_start = c == '\r' || c == '\n';
	}
	return n > 0 ? cli_ws_send(s->ws, WS_OP_BINARY, out, n) : 0;
}

/* Relays until the broker says the session ended (or the connection
 * does). */
static void relay(struct ssh_run *s, const sigset_t *unblocked)
{
	struct timespec tick = { TICK_MS / 1000, 0 };
	int started = 1, cols, rows;

	while (!s->done) {
		struct pollfd p[2 + CLI_FWD_MAX] = {
			{ .fd = cli_ws_fd(s->ws), .events = POLLIN },
			{ .fd = s->stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		size_t nl = cli_fwds_pollfds(s->fwds, p + 2, CLI_FWD_MAX);
		int r;

		if (from_broker(s, &started) != 0) {
			break;
		}
		if (s->done) {
			break;
		}
		r = ppoll(p, 2 + nl, &tick, unblocked);
		for (size_t i = 0; r > 0 && i < nl; i++) {
			if (p[2 + i].revents & POLLIN) {
				cli_fwds_accept(s->fwds, p[2 + i].fd);
			}
		}
		if (winched) {
			winched = 0;
			if (s->pty && cli_tty_size(STDIN_FILENO, &cols, &rows) == 0) {
				(void)send_control(s->ws, "resize", cols, rows);
			}
		}
		if (r > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((r = from_stdin(s)) == 1) {
				cli_tty_restore();
				fprintf(stderr, "\r\nztctl: the session was closed (~.)\r\n");
				s->exit_status = EXIT_SSH;
				return;
			}
			if (r != 0) {
				break;
			}
		}
	}
	if (!s->done) {
		cli_tty_restore();
		cli_fail("ssh: the connection to the broker was lost");
		s->exit_status = EXIT_SSH;
	}
}

/* Waits for the session to start: held calls told (and a step-up asked),
 * a refusal printed. 1 started, 0 ended (s->done). */
static int wait_start(struct ssh_run *s)
{
	int started = 0;

	while (!started && !s->done) {
		struct pollfd p = { .fd = cli_ws_fd(s->ws), .events = POLLIN };

		if (from_broker(s, &started) != 0) {
			cli_fail("ssh: the connection to the broker was lost");
			s->exit_status = EXIT_SSH;
			return 0;
		}
		if (!started && !s->done) {
			(void)poll(&p, 1, TICK_MS);
		}
	}
	return started;
}

/* -N: only the forwards, until a signal ends ztctl. */
static int forward_only(struct cli_fwds *fwds)
{
	for (;;) {
		struct pollfd p[CLI_FWD_MAX];
		size_t n = cli_fwds_pollfds(fwds, p, CLI_FWD_MAX);

		if (poll(p, n, -1) < 0 && errno != EINTR) {
			return EXIT_SSH;
		}
		for (size_t i = 0; i < n; i++) {
			if (p[i].revents & POLLIN) {
				cli_fwds_accept(fwds, p[i].fd);
			}
		}
	}
}

/* Listens for the -L forwards of a, to the session's host. 0, or
 * EXIT_SSH (printed). */
static int start_forwards(const struct ssh_args *a, const struct cli_profile *p,
    struct cli_fwds **out)
{
	/* -N leaves the terminal cooked: a held forward may ask for a code. */
	const struct cli_fwd_target to = { p->broker, p->ca_pin, p->token, a->host, a->login,
	    a->no_command && isatty(STDIN_FILENO) };
	char err[512];

	*out = NULL;
	if (a->nfwd > 0 && cli_fwds_listen(a->fwd, a->nfwd, &to, out, err, sizeof(err)) != 0) {
		cli_fail("ssh: %s", err);
		return EXIT_SSH;
	}
	return 0;
}

int cli_cmd_ssh(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX], err[512];
	struct cli_profile *p = NULL;
	struct ssh_args a;
	struct ssh_run s;
	struct sigaction sa;
	sigset_t block, old;
	int r, status = 0;

	if ((r = parse_args(argc, argv, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (cli_session_load(dir, sizeof(dir), &p) != CLI_EXIT_OK) {
		return EXIT_SSH;
	}
	memset(&s, 0, sizeof(s));
	if (start_forwards(&a, p, &s.fwds) != 0) {
		cli_profile_free(p);
		return EXIT_SSH;
	}
	if (a.no_command) {
		cli_profile_free(p);
		return forward_only(s.fwds);
	}
	s.exit_status = -1;
	s.pty = !a.has_command || a.force_pty;
	s.tty = isatty(STDIN_FILENO);
	s.stdin_open = 1;
	s.line_start = 1;
	r = cli_ws_open(p->broker, p->ca_pin, "/ws/ssh", p->token, OPEN_TIMEOUT_MS, &s.ws,
	    &status, err, sizeof(err));
	cli_profile_free(p);
	if (r != 0) {
		cli_fail("ssh: %s%s", err, r == ZT_ERR_AUTH ? " (run ztctl login)" : "");
		cli_fwds_close(s.fwds);
		return EXIT_SSH;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (send_open(s.ws, &a, s.pty) == 0 && wait_start(&s)) {
		if (s.pty && s.tty) {
			(void)cli_tty_raw();
		}
		relay(&s, &old);
	}
	cli_tty_restore();
	sigprocmask(SIG_SETMASK, &old, NULL);
	cli_ws_close(s.ws);
	cli_fwds_close(s.fwds);
	return s.exit_status >= 0 ? s.exit_status : EXIT_SSH;
}
