/*
 * ssh_forward.c - a direct-tcpip channel on a connection (ssh_forward.h):
 * opened with the host's answer read into a clear error, then driven
 * without blocking through the channel I/O it shares with ssh_shell
 * (ssh_chan.h).
 */
#include "resources/ssh_forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libssh/libssh.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_chan.h"
#include "resources/ssh_conn_int.h"

_Static_assert(SSH_FORWARD_EOF == SSH_CHAN_EOF, "ssh_forward_read returns ssh_chan_read's EOF");

struct ssh_forward {
	struct ssh_chan c;              /* the channel's I/O (ssh_chan.h) */
};

/* 1 if h names a host to pass to sshd: 1..SSH_FORWARD_HOST_MAX bytes of
 * printable ASCII without spaces. sshd resolves it; nothing here does. */
static int host_ok(const char *h)
{
	size_t i;

	if (h == NULL || h[0] == '\0') {
		return 0;
	}
	for (i = 0; h[i] != '\0'; i++) {
		if (i >= SSH_FORWARD_HOST_MAX || h[i] <= 0x20 || h[i] >= 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* The name of an SSH_MSG_CHANNEL_OPEN_FAILURE reason code (RFC 4254 5.1). */
static const char *reason_name(unsigned long code)
{
	switch (code) {
	case 1:
		return "administratively prohibited";
	case 2:
		return "connect failed";
	case 3:
		return "unknown channel type";
	case 4:
		return "resource shortage";
	default:
		return "refused";
	}
}

/*
 * The host's refusal as error. libssh keeps the reason code only in its
 * message, "Channel opening failure: channel N error (CODE) TEXT", so it
 * is read back from there; a message of another shape is passed on whole.
 */
static void refusal_text(ssh_session s, const char *to_host, int to_port, char *error,
    size_t errorsz)
{
	const char *msg = ssh_get_error(s), *p = strstr(msg, "error (");
	char *end = NULL;
	unsigned long code = 0;

	if (p != NULL) {
		code = strtoul(p + 7, &end, 10);
	}
	if (p == NULL || end == NULL || end[0] != ')') {
		snprintf(error, errorsz, "the host refused the forward to %s:%d: %s", to_host,
		    to_port, msg);
		return;
	}
	end += end[1] == ' ' ? 2 : 1;
	snprintf(error, errorsz, "the host refused the forward to %s:%d: %s%s%s%s", to_host,
	    to_port, reason_name(code), end[0] != '\0' ? " (" : "", end,
	    end[0] != '\0' ? ")" : "");
}

int ssh_forward_open(struct ssh_conn *c, const char *to_host, int to_port,
    const char *orig_host, int orig_port, int64_t timeout_ms, struct ssh_forward **out,
    char *error, size_t errorsz)
{
	struct ssh_forward *f = NULL;
	int64_t deadline;
	int rc, r;

	*out = NULL;
	error[0] = '\0';
	if (orig_host == NULL) {
		orig_host = "127.0.0.1";
	}
	if (c == NULL || !host_ok(to_host) || to_port < 1 || to_port > 65535 ||
	    !host_ok(orig_host) || orig_port < 0 || orig_port > 65535 || timeout_ms <= 0) {
		snprintf(error, errorsz, "bad forward request (a host is 1..%d printable bytes "
		    "without spaces, a port 1..65535)", SSH_FORWARD_HOST_MAX);
		return ZT_ERR_INVALID;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL || ssh_chan_init(&f->c, c) != 0) {
		snprintf(error, errorsz, "out of memory");
		r = ZT_ERR_NOMEM;
		goto fail;
	}
	deadline = net_mono_ms() + timeout_ms;
	ssh_set_deadline(f->c.s, deadline);
	rc = ssh_channel_open_forward(f->c.ch, to_host, to_port, orig_host, orig_port);
	if (rc == SSH_OK) {
		f->c.open = 1;
		*out = f;
		return 0;
	}
	/* A refusal is a message of its own and leaves the connection usable;
	 * no answer at all, or a failure, does not. */
	if (rc == SSH_ERROR && ssh_get_error_code(f->c.s) == SSH_REQUEST_DENIED) {
		refusal_text(f->c.s, to_host, to_port, error, errorsz);
		r = ZT_ERR_DENIED;
	} else if (ssh_remaining_ms(deadline) == 0 || rc == SSH_AGAIN) {
		snprintf(error, errorsz, "the host did not answer the forward to %s:%d within "
		    "%lld ms", to_host, to_port, (long long)timeout_ms);
		ssh_conn_broken(c);
		r = ZT_ERR_TIMEOUT;
	} else {
		snprintf(error, errorsz, "opening the forward to %s:%d failed: %s", to_host,
		    to_port, ssh_get_error(f->c.s));
		ssh_conn_broken(c);
		r = ZT_ERR_NET;
	}
fail:
	ssh_forward_close(f);
	return r;
}

ssize_t ssh_forward_read(struct ssh_forward *f, void *p, size_t n)
{
	return ssh_chan_read(&f->c, p, n, 1, NULL);
}

int ssh_forward_write(struct ssh_forward *f, const void *p, size_t n, int64_t timeout_ms)
{
	return ssh_chan_write(&f->c, p, n, timeout_ms);
}

int ssh_forward_send_eof(struct ssh_forward *f)
{
	return ssh_chan_send_eof(&f->c);
}

int ssh_forward_wait(struct ssh_forward *f, int fd, int ms)
{
	return ssh_chan_wait(&f->c, fd, ms);
}

uint64_t ssh_forward_sent(const struct ssh_forward *f)
{
	return f->c.sent;
}

uint64_t ssh_forward_received(const struct ssh_forward *f)
{
	return f->c.received;
}

void ssh_forward_close(struct ssh_forward *f)
{
	if (f == NULL) {
		return;
	}
	ssh_chan_close(&f->c);
	free(f);
}
