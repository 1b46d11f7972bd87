/*
 * ssh_exec.c - one command on one host over libssh, authenticated with a
 * per-call OpenSSH user certificate from the broker's CA (see ssh_exec.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/net.h"
#include "common/sshca.h"
#include "resources/ssh_exec.h"

#define SSH_EXEC_POLL_MS 100
#define SSH_EXEC_PROGRESS_MS 1000
#define SSH_EXEC_CERT_BEFORE 30
#define SSH_EXEC_CERT_AFTER 120
#define SSH_EXEC_LINE_MAX 1024
#define SSH_EXEC_KILL_MS 3000

struct ssh_stream {
	char *buf;
	size_t len;
	size_t cap;
	size_t total;
	int truncated;
};

/*
 * Closes lib_fd, the descriptor libssh was given, unless libssh closed it: libssh
 * 0.10 closes it on some paths (a failed handshake) but not after
 * ssh_disconnect(), and a descriptor left open keeps the SSH connection, the
 * tunnel stream and sshd's session alive. lib_fd is still ours exactly when it
 * still names the caller's socket, which stays open until we return (a number
 * libssh freed and another thread reused names some other file).
 */
static void close_dup(int lib_fd, int caller_fd)
{
	struct stat a, b;

	if (lib_fd >= 0 && caller_fd >= 0 && fstat(lib_fd, &a) == 0 &&
	    fstat(caller_fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		close(lib_fd);
	}
}

static int ssh_fail(struct ssh_exec_result *out, enum ssh_exec_status st, int err,
    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int ssh_fail(struct ssh_exec_result *out, enum ssh_exec_status st, int err,
    const char *fmt, ...)
{
	va_list ap;

	out->status = st;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	return err;
}

const char *ssh_exec_status_name(enum ssh_exec_status s)
{
	switch (s) {
	case SSH_EXEC_OK:
		return "ok";
	case SSH_EXEC_TIMEOUT:
		return "timeout";
	case SSH_EXEC_CANCELLED:
		return "cancelled";
	case SSH_EXEC_HOSTKEY_MISMATCH:
		return "hostkey_mismatch";
	case SSH_EXEC_AUTH_FAILED:
		return "auth_failed";
	case SSH_EXEC_CONNECT_FAILED:
		return "connect_failed";
	case SSH_EXEC_ERROR:
		return "error";
	}
	return "error";
}

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

/* Copies the second space-separated word of line into dst. */
static int ssh_second_word(const char *line, char *dst, size_t dstlen, char *first, size_t firstlen)
{
	const char *a, *b;
	size_t n;

	a = strchr(line, ' ');
	if (a == NULL || (size_t)(a - line) >= firstlen) {
		return ZT_ERR_INVALID;
	}
	memcpy(first, line, (size_t)(a - line));
	first[a - line] = '\0';
	a++;
	b = a + strcspn(a, " \t\r\n");
	n = (size_t)(b - a);
	if (n == 0 || n >= dstlen) {
		return ZT_ERR_INVALID;
	}
	memcpy(dst, a, n);
	dst[n] = '\0';
	return 0;
}

/* Imports "type base64 [comment]" as a public key. */
static int ssh_parse_host_key(const char *line, ssh_key *key, char *type, size_t typelen)
{
	char b64[SSH_EXEC_LINE_MAX];
	enum ssh_keytypes_e kt;

	if (ssh_second_word(line, b64, sizeof(b64), type, typelen) != 0) {
		return ZT_ERR_INVALID;
	}
	kt = ssh_key_type_from_name(type);
	if (kt == SSH_KEYTYPE_UNKNOWN) {
		return ZT_ERR_INVALID;
	}
	if (ssh_pki_import_pubkey_base64(b64, kt, key) != SSH_OK) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* A fresh key carrying a fresh certificate, in *priv. */
static int ssh_make_identity(const struct ssh_exec_req *req, struct ssh_exec_result *out,
    ssh_key *priv)
{
	struct sshcert c;
	uint8_t pub[32];
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	char *pem = NULL, *line = NULL;
	char b64[SSHCERT_MAX * 2], type[128];
	ssh_key cert = NULL, k = NULL;
	int r;

	*priv = NULL;
	if ((r = sshkey_generate(pub, &pem)) != 0) {
		ssh_fail(out, SSH_EXEC_ERROR, r, "key generation failed");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.pubkey, pub, sizeof(pub));
	c.serial = req->serial;
	c.key_id = out->key_id;
	c.principals[0] = req->login;
	c.nprincipals = 1;
	c.valid_after = req->now > SSH_EXEC_CERT_BEFORE ? req->now - SSH_EXEC_CERT_BEFORE : 0;
	c.valid_before = req->now + SSH_EXEC_CERT_AFTER;
	c.extensions = SSHCERT_EXT_PERMIT_PTY;
	if ((r = sshca_sign(req->ca, &c, "zt", &blob, &bloblen, &line)) != 0 || line == NULL) {
		r = r ? r : ZT_ERR_INTERNAL;
		ssh_fail(out, SSH_EXEC_ERROR, r, "certificate signing failed");
		goto out;
	}
	out->serial = req->serial;
	if (ssh_second_word(line, b64, sizeof(b64), type, sizeof(type)) != 0 ||
	    ssh_pki_import_cert_base64(b64, SSH_KEYTYPE_ED25519_CERT01, &cert) != SSH_OK) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "certificate import failed");
		goto out;
	}
	if (ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &k) != SSH_OK) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "key import failed");
		goto out;
	}
	if (ssh_pki_copy_cert_to_privkey(cert, k) != SSH_OK) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "certificate attach failed");
		goto out;
	}
	*priv = k;
	k = NULL;
	r = 0;
out:
	crypto_free_str(pem);
	free(blob);
	free(line);
	ssh_key_free(cert);
	ssh_key_free(k);
	return r;
}

static int64_t ssh_remaining(int64_t deadline)
{
	int64_t left = deadline - net_mono_ms();

	return left > 0 ? left : 0;
}

/* Sets libssh's blocking timeout to what is left before the deadline. */
static void ssh_set_timeout(ssh_session s, int64_t deadline)
{
	int64_t left = ssh_remaining(deadline);
	long tsec = (long)(left / 1000), tusec = (long)(left % 1000) * 1000;

	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &tsec);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &tusec);
}

/*
 * Kills what a timed-out or cancelled command left running. sshd honours the
 * KILL signal request only under privilege separation, so not for root
 * logins. A second session on the same connection, as the same login, kills
 * the process group of every other command this connection started: they
 * are children of the same sshd process ($PPID), each a session leader (sshd
 * setsid()s it), so its process group id is its pid. Needs /bin/sh, pgrep
 * and pkill (procps) on the host. 1 when a process group was killed. At most
 * SSH_EXEC_KILL_MS.
 */
static int kill_siblings(ssh_session s)
{
	static const char script[] = "exec /bin/sh -c 'k=1; for p in $(pgrep -P $PPID); do "
	    "if [ \"$p\" != \"$$\" ] && pkill -KILL -g \"$p\"; then k=0; fi; done; exit $k'";
	ssh_channel k;
	char drain[256];
	int rc = -1;

	ssh_set_timeout(s, net_mono_ms() + SSH_EXEC_KILL_MS);
	if ((k = ssh_channel_new(s)) == NULL) {
		return 0;
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
	return rc == 0;
}

/*
 * One wait step of a non-blocking phase: polls cancellation and the deadline,
 * then waits at most max_ms for the socket. 0 to go on, else the
 * failure (already recorded in out). what names the phase for the error text.
 */
static int ssh_wait(const struct ssh_exec_req *req, ssh_session s, int64_t deadline,
    struct ssh_exec_result *out, const char *what, int64_t max_ms)
{
	struct pollfd pfd;
	int64_t left;

	if (req->cancelled != NULL && req->cancelled(req->arg)) {
		return ssh_fail(out, SSH_EXEC_CANCELLED, ZT_ERR_CANCELLED, "cancelled %s", what);
	}
	if ((left = ssh_remaining(deadline)) == 0) {
		return ssh_fail(out, SSH_EXEC_TIMEOUT, ZT_ERR_TIMEOUT, "timed out after %lld ms %s",
		    (long long)req->timeout_ms, what);
	}
	pfd.fd = ssh_get_fd(s);
	pfd.events = POLLIN;
	if (ssh_get_poll_flags(s) & SSH_WRITE_PENDING) {
		pfd.events |= POLLOUT;
	}
	pfd.revents = 0;
	if (poll(&pfd, 1, (int)(left < max_ms ? left : max_ms)) < 0 &&
	    errno != EINTR) {
		return ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_IO, "poll: %s", strerror(errno));
	}
	return 0;
}

int ssh_exec_run(const struct ssh_exec_req *req, struct ssh_exec_result *out)
{
	ssh_session s = NULL;
	ssh_channel ch = NULL;
	ssh_key want = NULL, got = NULL, priv = NULL;
	struct ssh_stream so, se;
	char type[64], buf[16384];
	int64_t start, deadline, next_progress, left;
	size_t max;
	int r = ZT_ERR_INTERNAL, fd = -1, n, eof = 0, zero = 0, verbosity = SSH_LOG_NOLOG, rc;
	long tsec, tusec;

	memset(&so, 0, sizeof(so));
	memset(&se, 0, sizeof(se));
	start = net_mono_ms();
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (req == NULL || req->fd < 0 || req->host_key == NULL || req->ca == NULL ||
	    req->login == NULL || req->login[0] == '\0' || req->command == NULL ||
	    req->identity == NULL || req->call_id == NULL || req->timeout_ms <= 0) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid request");
		goto out;
	}
	max = req->max_output ? req->max_output : SSH_EXEC_MAX_OUTPUT_DEFAULT;
	deadline = start + req->timeout_ms;
	rc = snprintf(out->key_id, sizeof(out->key_id), "zt:%s:%s", req->identity, req->call_id);
	if (rc < 0 || (size_t)rc >= sizeof(out->key_id)) {
		out->key_id[0] = '\0';
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INVALID, "key id too long");
		goto out;
	}
	if (ssh_parse_host_key(req->host_key, &want, type, sizeof(type)) != 0) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid expected host key");
		goto out;
	}
	if ((r = ssh_make_identity(req, out, &priv)) != 0) {
		goto out;
	}
	/* libssh gets a descriptor of its own (close_dup() ends it). */
	if ((fd = fcntl(req->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_IO, "dup: %s", strerror(errno));
		goto out;
	}
	if ((s = ssh_new()) == NULL) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "ssh_new failed");
		goto out;
	}
	left = ssh_remaining(deadline);
	tsec = (long)(left / 1000);
	tusec = (long)(left % 1000) * 1000;
	if (ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_FD, &fd) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, "zt-target") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, req->login) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &tsec) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &tusec) != 0) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INTERNAL, "ssh options: %s",
		    ssh_get_error(s));
		goto out;
	}
	if (strcmp(type, "ssh-ed25519") == 0 &&
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519") != 0) {
		r = ssh_fail(out, SSH_EXEC_ERROR, ZT_ERR_INTERNAL, "ssh hostkeys option");
		goto out;
	}
	/* Non-blocking until authenticated, so cancellation is seen during the handshake. */
	ssh_set_blocking(s, 0);
	while ((rc = ssh_connect(s)) == SSH_AGAIN) {
		if ((r = ssh_wait(req, s, deadline, out, "during SSH handshake",
		    SSH_EXEC_POLL_MS)) != 0) {
			goto out;
		}
	}
	if (rc != SSH_OK) {
		r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "SSH handshake failed: %s",
		    ssh_get_error(s));
		goto out;
	}
	if (ssh_get_server_publickey(s, &got) != SSH_OK ||
	    ssh_key_cmp(got, want, SSH_KEY_CMP_PUBLIC) != 0) {
		r = ssh_fail(out, SSH_EXEC_HOSTKEY_MISMATCH, ZT_ERR_PIN,
		    "host key does not match the expected %s key", type);
		goto out;
	}
	while ((rc = ssh_userauth_publickey(s, NULL, priv)) == SSH_AUTH_AGAIN) {
		if ((r = ssh_wait(req, s, deadline, out, "during authentication",
		    SSH_EXEC_POLL_MS)) != 0) {
			goto out;
		}
	}
	ssh_key_free(priv);
	priv = NULL;
	if (rc != SSH_AUTH_SUCCESS) {
		r = ssh_fail(out, SSH_EXEC_AUTH_FAILED, ZT_ERR_AUTH,
		    "certificate authentication as %s refused", req->login);
		goto out;
	}
	ssh_set_blocking(s, 1);
	ssh_set_timeout(s, deadline);
	if ((ch = ssh_channel_new(s)) == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, req->command) != SSH_OK) {
		r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "exec failed: %s",
		    ssh_get_error(s));
		goto out;
	}
	next_progress = net_mono_ms() + SSH_EXEC_PROGRESS_MS;
	for (;;) {
		int got_any = 0, is_err;

		for (is_err = 0; is_err <= 1; is_err++) {
			n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_err);
			if (n == SSH_ERROR) {
				r = ssh_fail(out, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET,
				    "read failed: %s", ssh_get_error(s));
				goto out;
			}
			if (n > 0) {
				got_any = 1;
				if ((r = ssh_stream_add(is_err ? &se : &so, buf, (size_t)n,
				    max)) != 0) {
					ssh_fail(out, SSH_EXEC_ERROR, r, "out of memory");
					goto out;
				}
			}
		}
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
			eof = 1;
			break;
		}
		if (req->progress != NULL && net_mono_ms() >= next_progress) {
			req->progress(req->arg, so.total, se.total, net_mono_ms() - start);
			next_progress += SSH_EXEC_PROGRESS_MS;
		}
		/* Data just came: look for more at once, still checking cancel and deadline. */
		if ((r = ssh_wait(req, s, deadline, out, "while running",
		    got_any ? 0 : SSH_EXEC_POLL_MS)) != 0) {
			goto out;
		}
	}
	if (eof) {
		/* The exit status comes with or right after EOF; bounded by the deadline. */
		ssh_set_timeout(s, deadline);
		rc = ssh_channel_get_exit_status(ch);
		out->exit_code = rc;
	}
	out->status = SSH_EXEC_OK;
	r = 0;
out:
	if (ch != NULL && (out->status == SSH_EXEC_TIMEOUT || out->status == SSH_EXEC_CANCELLED)) {
		/* Closing the channel alone leaves the command running: a signal
		 * request, then (for root, which sshd does not signal) a kill
		 * from a second session, before the channel closes. */
		size_t used = strlen(out->error);

		ssh_channel_request_send_signal(ch, "KILL");
		snprintf(out->error + used, sizeof(out->error) - used, "%s",
		    kill_siblings(s) ? "; the command was killed and the channel closed" :
		    "; the channel was closed, but the command could not be killed "
		    "(no pkill on the host?) and may still run");
	}
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	close_dup(fd, req != NULL ? req->fd : -1);
	ssh_key_free(priv);
	ssh_key_free(want);
	ssh_key_free(got);
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
