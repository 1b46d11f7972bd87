/*
 * ssh_exec.c - one command on a host over an authenticated SSH connection
 * (resources/ssh_conn.h): a channel, bounded output, progress, timeout and
 * cancellation (see ssh_exec.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_conn_int.h"
#include "resources/ssh_exec.h"

#define SSH_EXEC_PROGRESS_MS 1000

struct ssh_stream {
	char *buf;
	size_t len;
	size_t cap;
	size_t total;
	int truncated;
};

#define ssh_fail(out, st, err, ...) \
	ssh_fail_into(&(out)->status, (out)->error, sizeof((out)->error), st, err, __VA_ARGS__)

void ssh_exec_result_free(struct ssh_exec_result *r)
{
	if (r == NULL) {
		return;
	}
	free(r->stdout_buf);
	free(r->stderr_buf);
	r->stdout_buf = NULL;
	r->stderr_buf = NULL;
	r->stdout_len = 0;
	r->stderr_len = 0;
}

/* Appends up to the cap; the rest is counted and dropped. */
static int ssh_stream_add(struct ssh_stream *s, const char *p, size_t n, size_t max)
{
	size_t keep, want;
	char *nb;

	s->total += n;
	keep = max - s->len < n ? max - s->len : n;
	if (keep < n) {
		s->truncated = 1;
	}
	if (keep == 0) {
		return 0;
	}
	if (s->len + keep + 1 > s->cap) {
		want = s->cap ? s->cap * 2 : 4096;
		while (want < s->len + keep + 1) {
			want *= 2;
		}
		if (want > max + 1) {
			want = max + 1;
		}
		if ((nb = realloc(s->buf, want)) == NULL) {
			return ZT_ERR_NOMEM;
		}
		s->buf = nb;
		s->cap = want;
	}
	memcpy(s->buf + s->len, p, keep);
	s->len += keep;
	s->buf[s->len] = '\0';
	return 0;
}

/*
 * Signals what other sessions of this connection run. sshd honours the
 * SSH signal request only under privilege separation, so not for root
 * logins (resources/ssh_job.h). A second session on the same connection,
 * as the same login, signals the process group of every other command this
 * connection started: they are children of the same sshd process ($PPID),
 * each a session leader (sshd setsid()s it), so its process group id is its
 * pid. Needs /bin/sh, pgrep and pkill (procps) on the host. sig is a signal
 * name of our own (never the caller's bytes); only_uid0: do nothing unless
 * the login's uid is 0. The script's exit status: 0 when a process group
 * was signalled, SSH_SIBLINGS_SKIPPED when only_uid0 held it back, another
 * value (or -1: no session) when nothing was signalled. At most
 * SSH_EXEC_KILL_MS.
 */
int ssh_signal_siblings(ssh_session s, const char *sig, int only_uid0)
{
	char script[320];
	ssh_channel k;
	char drain[256];
	int rc = -1;

	snprintf(script, sizeof(script), "exec /bin/sh -c '%sk=1; for p in $(pgrep -P $PPID); do "
	    "if [ \"$p\" != \"$$\" ] && pkill -%s -g \"$p\"; then k=0; fi; done; exit $k'",
	    only_uid0 ? "[ \"$(id -u)\" = 0 ] || exit 3; " : "", sig);
	ssh_set_deadline(s, net_mono_ms() + SSH_EXEC_KILL_MS);
	if ((k = ssh_channel_new(s)) == NULL) {
		return -1;
	}
	if (ssh_channel_open_session(k) == SSH_OK &&
	    ssh_channel_request_exec(k, script) == SSH_OK) {
		while (ssh_channel_read(k, drain, sizeof(drain), 0) > 0) {
			/* nothing to keep */
		}
		rc = ssh_channel_get_exit_status(k);
	}
	ssh_channel_close(k);
	ssh_channel_free(k);
	return rc;
}

/* A failed wait step as the command's failure. */
static int wait_fail(const struct ssh_exec_req *req, struct ssh_exec_result *out, int r)
{
	switch (r) {
	case ZT_ERR_CANCELLED:
		return ssh_fail(out, SSH_EXEC_CANCELLED, r, "cancelled while running");
	case ZT_ERR_TIMEOUT:
		return ssh_fail(out, SSH_EXEC_TIMEOUT, r, "timed out after %lld ms while running",
		    (long long)req->timeout_ms);
	default:
		return ssh_fail(out, SSH_EXEC_CONNECT_FAILED, r, "poll: %s", strerror(errno));
	}
}

/* Reads the channel until EOF into so and se, with progress, the deadline
 * and cancellation. 0 or the failure (recorded in out). */
static int read_output(struct ssh_conn *c, ssh_channel ch, const struct ssh_exec_req *req,
    int64_t start, int64_t deadline, struct ssh_stream *so, struct ssh_stream *se,
    struct ssh_exec_result *out)
{
	ssh_session s = ssh_conn_session(c);
	size_t max = req->max_output ? req->max_output : SSH_EXEC_MAX_OUTPUT_DEFAULT;
	int64_t next_progress = net_mono_ms() + SSH_EXEC_PROGRESS_MS;
	char buf[16384];
	int n, r;

	for (;;) {
		int got_any = 0, is_err;

		for (is_err = 0; is_err <= 1; is_err++) {
			n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_err);
			if (n == SSH_ERROR) {
				ssh_conn_broken(c);
				return ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET,
				    "the connection was lost while the command ran (the host's "
				    "agent or sshd went away?): %s", ssh_get_error(s));
			}
			if (n > 0) {
				got_any = 1;
				if ((r = ssh_stream_add(is_err ? se : so, buf, (size_t)n, max)) != 0) {
					return ssh_fail(out, SSH_EXEC_ERROR, r, "out of memory");
				}
			}
		}
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
			return 0;
		}
		if (req->progress != NULL && net_mono_ms() >= next_progress) {
			req->progress(req->arg, so->total, se->total, net_mono_ms() - start);
			next_progress += SSH_EXEC_PROGRESS_MS;
		}
		/* Data just came: look for more at once, still checking cancel and deadline. */
		if ((r = ssh_poll_step(s, deadline, req->cancelled, req->arg,
		    got_any ? 0 : SSH_CONN_POLL_MS)) != 0) {
			return wait_fail(req, out, r);
		}
	}
}

/* ssh_exec_on() for a call that began at start (net_mono_ms() time): its
 * deadline is start + req->timeout_ms. */
static int exec_on(struct ssh_conn *c, const struct ssh_exec_req *req, int64_t start,
    struct ssh_exec_result *out)
{
	ssh_session s;
	ssh_channel ch = NULL;
	struct ssh_stream so, se;
	int64_t deadline;
	int r;

	memset(&so, 0, sizeof(so));
	memset(&se, 0, sizeof(se));
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	if (c == NULL || req == NULL || req->command == NULL || req->timeout_ms <= 0) {
		return ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid request");
	}
	s = ssh_conn_session(c);
	out->exit_code = -1;
	out->serial = ssh_conn_serial(c);
	snprintf(out->key_id, sizeof(out->key_id), "%s", ssh_conn_key_id(c));
	deadline = start + req->timeout_ms;
	ssh_set_deadline(s, deadline);
	if ((ch = ssh_channel_new(s)) == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, req->command) != SSH_OK) {
		ssh_conn_broken(c);
		r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "exec failed: %s",
		    ssh_get_error(s));
		goto out;
	}
	out->started = 1;
	if ((r = read_output(c, ch, req, start, deadline, &so, &se, out)) == 0) {
		/* The exit status comes with or right after EOF; bounded by the deadline. */
		ssh_set_deadline(s, deadline);
		out->exit_code = ssh_channel_get_exit_status(ch);
		out->status = SSH_EXEC_OK;
		if (out->exit_code == -1 && !ssh_is_connected(s)) {
			/* The channel closed because the connection did. */
			ssh_conn_broken(c);
			r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "the connection was "
			    "lost while the command ran (the host's agent or sshd went away?)");
		}
	}
out:
	if (ch != NULL && (out->status == SSH_EXEC_TIMEOUT || out->status == SSH_EXEC_CANCELLED)) {
		/* Closing the channel alone leaves the command running: a signal
		 * request, then (for root, which sshd does not signal) a kill
		 * from a second session, before the channel closes. */
		size_t used = strlen(out->error);

		ssh_channel_request_send_signal(ch, "KILL");
		snprintf(out->error + used, sizeof(out->error) - used, "%s",
		    ssh_signal_siblings(s, "KILL", 0) == 0 ? "; the command was killed and the channel closed" :
		    "; the channel was closed, but the command could not be killed "
		    "(no pkill on the host?) and may still run");
	}
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	if (r != 0 && out->status == SSH_EXEC_OK) {
		out->status = SSH_EXEC_ERROR;
	}
	out->stdout_buf = so.buf;
	out->stdout_len = so.len;
	out->stdout_total = so.total;
	out->truncated_stdout = so.truncated;
	out->stderr_buf = se.buf;
	out->stderr_len = se.len;
	out->stderr_total = se.total;
	out->truncated_stderr = se.truncated;
	out->duration_ms = net_mono_ms() - start;
	return r;
}

int ssh_exec_on(struct ssh_conn *c, const struct ssh_exec_req *req, struct ssh_exec_result *out)
{
	return exec_on(c, req, net_mono_ms(), out);
}

int ssh_exec_run(const struct ssh_exec_req *req, struct ssh_exec_result *out)
{
	struct ssh_conn_req cr;
	struct ssh_conn_info info;
	struct ssh_conn *c = NULL;
	int64_t start = net_mono_ms();
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (req == NULL || req->command == NULL || req->call_id == NULL) {
		return ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid request");
	}
	memset(&cr, 0, sizeof(cr));
	cr.fd = req->fd;
	cr.host_key = req->host_key;
	cr.ca = req->ca;
	cr.login = req->login;
	cr.identity = req->identity;
	cr.id = req->call_id;
	cr.serial = req->serial;
	cr.now = req->now;
	cr.timeout_ms = req->timeout_ms;
	cr.cancelled = req->cancelled;
	cr.arg = req->arg;
	r = ssh_conn_open(&cr, &c, &info);
	out->serial = info.serial;
	memcpy(out->key_id, info.key_id, sizeof(out->key_id));
	if (r != 0) {
		out->status = info.status;
		memcpy(out->error, info.error, sizeof(out->error));
		out->duration_ms = net_mono_ms() - start;
		return r;
	}
	/* The handshake counts towards the whole call's time. */
	r = exec_on(c, req, start, out);
	ssh_conn_close(c);
	return r;
}
