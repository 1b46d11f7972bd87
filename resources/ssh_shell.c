/*
 * ssh_shell.c - a terminal on a host (ssh_shell.h): a session channel with
 * a pseudo-terminal, driven without blocking by its caller's thread.
 */
#include "resources/ssh_shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_chan.h"
#include "resources/ssh_conn_int.h"

_Static_assert(SSH_SHELL_EOF == SSH_CHAN_EOF, "ssh_shell_read returns ssh_chan_read's EOF");

struct ssh_shell {
	struct ssh_chan c;              /* the channel's I/O (ssh_chan.h) */
	struct ssh_channel_callbacks_struct cb;
	int exit_seen;
	int exit_code;
	char exit_signal[SSH_SHELL_SIG_MAX];
};

static void on_exit_status(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct ssh_shell *sh = arg;

	(void)s;
	(void)ch;
	sh->exit_seen = 1;
	sh->exit_code = status;
}

static void on_exit_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct ssh_shell *sh = arg;

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	sh->exit_seen = 1;
	snprintf(sh->exit_signal, sizeof(sh->exit_signal), "%s", sig != NULL ? sig : "?");
}

/* 1 if term is a terminal type to pass on: 1..SSH_SHELL_TERM_MAX of
 * [A-Za-z0-9.+_-]. */
static int term_ok(const char *term)
{
	size_t n = term != NULL ? strlen(term) : 0;

	return n > 0 && n <= SSH_SHELL_TERM_MAX && strspn(term,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+_-") == n;
}

static int dims_ok(int cols, int rows)
{
	return cols >= 1 && cols <= SSH_SHELL_DIM_MAX && rows >= 1 && rows <= SSH_SHELL_DIM_MAX;
}

int ssh_shell_open(struct ssh_conn *c, const struct ssh_shell_req *req, struct ssh_shell **out,
    char *error, size_t errorsz)
{
	struct ssh_shell *sh;
	const char *what = "channel";
	int rc;

	*out = NULL;
	error[0] = '\0';
	if (c == NULL || req == NULL || req->timeout_ms <= 0 ||
	    (req->pty && (!term_ok(req->term) || !dims_ok(req->cols, req->rows)))) {
		snprintf(error, errorsz, "bad terminal request");
		return ZT_ERR_INVALID;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL) {
		snprintf(error, errorsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	sh->exit_code = -1;
	if (ssh_chan_init(&sh->c, c) != 0) {
		snprintf(error, errorsz, "out of memory");
		ssh_shell_close(sh);
		return ZT_ERR_NOMEM;
	}
	ssh_set_deadline(sh->c.s, net_mono_ms() + req->timeout_ms);
	if (ssh_channel_open_session(sh->c.ch) != SSH_OK) {
		goto broken;
	}
	sh->c.open = 1;
	ssh_callbacks_init(&sh->cb);
	sh->cb.userdata = sh;
	sh->cb.channel_exit_status_function = on_exit_status;
	sh->cb.channel_exit_signal_function = on_exit_signal;
	ssh_add_channel_callbacks(sh->c.ch, &sh->cb);
	what = "terminal";
	if (req->pty && (rc = ssh_channel_request_pty_size(sh->c.ch, req->term, req->cols,
	    req->rows)) != SSH_OK) {
		goto refused;
	}
	what = req->command != NULL ? "command" : "shell";
	rc = req->command != NULL ? ssh_channel_request_exec(sh->c.ch, req->command) :
	    ssh_channel_request_shell(sh->c.ch);
	if (rc != SSH_OK) {
		goto refused;
	}
	*out = sh;
	return 0;
refused:
	/* SSH_ERROR is the connection's failure; SSH_AGAIN cannot be (blocking);
	 * a refusal by sshd (a channel failure message) leaves it usable. */
	if (rc == SSH_ERROR && ssh_get_error_code(sh->c.s) != SSH_REQUEST_DENIED) {
		goto broken;
	}
	snprintf(error, errorsz, "the host refused the %s request", what);
	ssh_shell_close(sh);
	return ZT_ERR_NET;
broken:
	snprintf(error, errorsz, "opening the %s failed: %s", what, ssh_get_error(sh->c.s));
	ssh_conn_broken(c);
	ssh_shell_close(sh);
	return ZT_ERR_NET;
}

ssize_t ssh_shell_read(struct ssh_shell *sh, void *p, size_t n, int *is_stderr)
{
	return ssh_chan_read(&sh->c, p, n, 2, is_stderr);
}

int ssh_shell_write(struct ssh_shell *sh, const void *p, size_t n, int64_t timeout_ms)
{
	return ssh_chan_write(&sh->c, p, n, timeout_ms);
}

int ssh_shell_send_eof(struct ssh_shell *sh)
{
	return ssh_chan_send_eof(&sh->c);
}

int ssh_shell_resize(struct ssh_shell *sh, int cols, int rows)
{
	if (!dims_ok(cols, rows)) {
		return ZT_ERR_INVALID;
	}
	if (ssh_channel_change_pty_size(sh->c.ch, cols, rows) != SSH_OK) {
		ssh_conn_broken(sh->c.conn);
		return ZT_ERR_NET;
	}
	return 0;
}

int ssh_shell_wait(struct ssh_shell *sh, int fd, int ms)
{
	return ssh_chan_wait(&sh->c, fd, ms);
}

int ssh_shell_exit(struct ssh_shell *sh, char *signal, size_t signalsz)
{
	/* OpenSSH sends the exit status after EOF: take it in, briefly. */
	if (!sh->exit_seen && !ssh_channel_is_closed(sh->c.ch)) {
		ssh_set_deadline(sh->c.s, net_mono_ms() + 2000);
		(void)ssh_channel_get_exit_status(sh->c.ch);
	}
	snprintf(signal, signalsz, "%s", sh->exit_signal);
	return sh->exit_signal[0] != '\0' ? -1 : sh->exit_seen ? sh->exit_code : -1;
}

void ssh_shell_close(struct ssh_shell *sh)
{
	if (sh == NULL) {
		return;
	}
	if (sh->c.open) {
		ssh_remove_channel_callbacks(sh->c.ch, &sh->cb);
	}
	ssh_chan_close(&sh->c);
	free(sh);
}
