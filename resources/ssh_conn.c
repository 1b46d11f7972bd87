/*
 * ssh_conn.c - an authenticated SSH connection over a connected stream
 * (ssh_conn.h): handshake, host key pin, certificate authentication.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/net.h"
#include "common/sshca.h"
#include "resources/ssh_conn_int.h"

#define SSH_CONN_LINE_MAX 1024

struct ssh_conn {
	ssh_session s;
	int fd;                     /* libssh's descriptor (a dup of the caller's) */
	int caller_fd;              /* the caller's, to tell ours apart (close_dup) */
	int broken;
	int64_t expires;            /* the certificate's valid_before */
	uint64_t serial;
	char key_id[SSH_CONN_KEY_ID_MAX];
};

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

int ssh_fail_into(enum ssh_exec_status *status, char *error, size_t errorsz,
    enum ssh_exec_status st, int err, const char *fmt, ...)
{
	va_list ap;

	*status = st;
	va_start(ap, fmt);
	vsnprintf(error, errorsz, fmt, ap);
	va_end(ap);
	return err;
}

#define conn_fail(info, st, err, ...) \
	ssh_fail_into(&(info)->status, (info)->error, sizeof((info)->error), st, err, __VA_ARGS__)

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
	char b64[SSH_CONN_LINE_MAX];
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
static int ssh_make_identity(const struct ssh_conn_req *req, struct ssh_conn_info *out,
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
		conn_fail(out, SSH_EXEC_ERROR, r, "key generation failed");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.pubkey, pub, sizeof(pub));
	c.serial = req->serial;
	c.key_id = out->key_id;
	c.principals[0] = req->login;
	c.nprincipals = 1;
	c.valid_after = req->now > SSH_CONN_CERT_BEFORE ? req->now - SSH_CONN_CERT_BEFORE : 0;
	c.valid_before = req->now + SSH_CONN_CERT_AFTER;
	/* sshd refuses every forward without the extension, so only a
	 * connection made for forwards carries it. */
	c.extensions = SSHCERT_EXT_PERMIT_PTY |
	    (req->port_forwarding ? SSHCERT_EXT_PERMIT_PORT : 0);
	if ((r = sshca_sign(req->ca, &c, "zt", &blob, &bloblen, &line)) != 0 || line == NULL) {
		r = r ? r : ZT_ERR_INTERNAL;
		conn_fail(out, SSH_EXEC_ERROR, r, "certificate signing failed");
		goto out;
	}
	out->serial = req->serial;
	if (ssh_second_word(line, b64, sizeof(b64), type, sizeof(type)) != 0 ||
	    ssh_pki_import_cert_base64(b64, SSH_KEYTYPE_ED25519_CERT01, &cert) != SSH_OK) {
		r = conn_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "certificate import failed");
		goto out;
	}
	if (ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &k) != SSH_OK) {
		r = conn_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "key import failed");
		goto out;
	}
	if (ssh_pki_copy_cert_to_privkey(cert, k) != SSH_OK) {
		r = conn_fail(out, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "certificate attach failed");
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

int64_t ssh_remaining_ms(int64_t deadline)
{
	int64_t left = deadline - net_mono_ms();

	return left > 0 ? left : 0;
}

void ssh_set_deadline(ssh_session s, int64_t deadline)
{
	int64_t left = ssh_remaining_ms(deadline);
	long tsec = (long)(left / 1000), tusec = (long)(left % 1000) * 1000;

	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &tsec);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &tusec);
}

int ssh_poll_step(ssh_session s, int64_t deadline, int (*cancelled)(void *arg), void *arg,
    int64_t max_ms)
{
	struct pollfd pfd;
	int64_t left;

	if (cancelled != NULL && cancelled(arg)) {
		return ZT_ERR_CANCELLED;
	}
	if ((left = ssh_remaining_ms(deadline)) == 0) {
		return ZT_ERR_TIMEOUT;
	}
	pfd.fd = ssh_get_fd(s);
	pfd.events = POLLIN;
	if (ssh_get_poll_flags(s) & SSH_WRITE_PENDING) {
		pfd.events |= POLLOUT;
	}
	pfd.revents = 0;
	if (poll(&pfd, 1, (int)(left < max_ms ? left : max_ms)) < 0 && errno != EINTR) {
		return ZT_ERR_IO;
	}
	return 0;
}

/* A failed wait step as the connection's failure. */
static int wait_fail(struct ssh_conn_info *info, int r, int64_t timeout_ms, const char *what)
{
	switch (r) {
	case ZT_ERR_CANCELLED:
		return conn_fail(info, SSH_EXEC_CANCELLED, r, "cancelled %s", what);
	case ZT_ERR_TIMEOUT:
		return conn_fail(info, SSH_EXEC_TIMEOUT, r, "timed out after %lld ms %s",
		    (long long)timeout_ms, what);
	default:
		return conn_fail(info, SSH_EXEC_CONNECT_FAILED, r, "poll: %s", strerror(errno));
	}
}

/* Sets the options of a session over fd for login. */
static int session_options(ssh_session s, int *fd, const char *login, const char *type,
    int64_t deadline)
{
	int zero = 0, verbosity = SSH_LOG_NOLOG;

	if (ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_FD, fd) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, "zt-target") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, login) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    (strcmp(type, "ssh-ed25519") == 0 &&
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519") != 0)) {
		return -1;
	}
	ssh_set_deadline(s, deadline);
	return 0;
}

int ssh_conn_open(const struct ssh_conn_req *req, struct ssh_conn **out,
    struct ssh_conn_info *info)
{
	struct ssh_conn *c = NULL;
	ssh_key want = NULL, got = NULL, priv = NULL;
	char type[64];
	int64_t deadline;
	int r = ZT_ERR_INTERNAL, rc;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (req == NULL || req->fd < 0 || req->host_key == NULL || req->ca == NULL ||
	    req->login == NULL || req->login[0] == '\0' || req->identity == NULL ||
	    req->id == NULL || req->timeout_ms <= 0) {
		return conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid request");
	}
	deadline = net_mono_ms() + req->timeout_ms;
	rc = snprintf(info->key_id, sizeof(info->key_id), "zt:%s:%s", req->identity, req->id);
	if (rc < 0 || (size_t)rc >= sizeof(info->key_id)) {
		info->key_id[0] = '\0';
		return conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_INVALID, "key id too long");
	}
	if (ssh_parse_host_key(req->host_key, &want, type, sizeof(type)) != 0) {
		return conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_INVALID, "invalid expected host key");
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
		goto fail;
	}
	c->fd = -1;
	c->caller_fd = req->fd;
	if ((r = ssh_make_identity(req, info, &priv)) != 0) {
		goto fail;
	}
	/* libssh gets a descriptor of its own (close_dup() ends it). */
	if ((c->fd = fcntl(req->fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		r = conn_fail(info, SSH_EXEC_CONNECT_FAILED, ZT_ERR_IO, "dup: %s", strerror(errno));
		goto fail;
	}
	if ((c->s = ssh_new()) == NULL) {
		r = conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "ssh_new failed");
		goto fail;
	}
	if (session_options(c->s, &c->fd, req->login, type, deadline) != 0) {
		r = conn_fail(info, SSH_EXEC_ERROR, ZT_ERR_INTERNAL, "ssh options: %s",
		    ssh_get_error(c->s));
		goto fail;
	}
	/* Non-blocking until authenticated, so cancellation is seen during the handshake. */
	ssh_set_blocking(c->s, 0);
	while ((rc = ssh_connect(c->s)) == SSH_AGAIN) {
		if ((r = ssh_poll_step(c->s, deadline, req->cancelled, req->arg,
		    SSH_CONN_POLL_MS)) != 0) {
			r = wait_fail(info, r, req->timeout_ms, "during SSH handshake");
			goto fail;
		}
	}
	if (rc != SSH_OK) {
		r = conn_fail(info, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "SSH handshake failed: %s",
		    ssh_get_error(c->s));
		goto fail;
	}
	if (ssh_get_server_publickey(c->s, &got) != SSH_OK ||
	    ssh_key_cmp(got, want, SSH_KEY_CMP_PUBLIC) != 0) {
		r = conn_fail(info, SSH_EXEC_HOSTKEY_MISMATCH, ZT_ERR_PIN,
		    "host key does not match the expected %s key", type);
		goto fail;
	}
	while ((rc = ssh_userauth_publickey(c->s, NULL, priv)) == SSH_AUTH_AGAIN) {
		if ((r = ssh_poll_step(c->s, deadline, req->cancelled, req->arg,
		    SSH_CONN_POLL_MS)) != 0) {
			r = wait_fail(info, r, req->timeout_ms, "during authentication");
			goto fail;
		}
	}
	if (rc != SSH_AUTH_SUCCESS) {
		r = conn_fail(info, SSH_EXEC_AUTH_FAILED, ZT_ERR_AUTH,
		    "certificate authentication as %s refused", req->login);
		goto fail;
	}
	ssh_set_blocking(c->s, 1);
	c->expires = (int64_t)req->now + SSH_CONN_CERT_AFTER;
	c->serial = info->serial;
	memcpy(c->key_id, info->key_id, sizeof(c->key_id));
	info->status = SSH_EXEC_OK;
	*out = c;
	c = NULL;
	r = 0;
fail:
	ssh_conn_close(c);
	ssh_key_free(priv);
	ssh_key_free(want);
	ssh_key_free(got);
	return r;
}

void ssh_conn_close(struct ssh_conn *c)
{
	if (c == NULL) {
		return;
	}
	if (c->s != NULL) {
		ssh_disconnect(c->s);
		ssh_free(c->s);
	}
	close_dup(c->fd, c->caller_fd);
	free(c);
}

int ssh_conn_alive(const struct ssh_conn *c)
{
	return c != NULL && !c->broken && ssh_is_connected(c->s);
}

int64_t ssh_conn_expires(const struct ssh_conn *c)
{
	return c->expires;
}

uint64_t ssh_conn_serial(const struct ssh_conn *c)
{
	return c->serial;
}

const char *ssh_conn_key_id(const struct ssh_conn *c)
{
	return c->key_id;
}

ssh_session ssh_conn_session(struct ssh_conn *c)
{
	return c->s;
}

void ssh_conn_broken(struct ssh_conn *c)
{
	c->broken = 1;
}
