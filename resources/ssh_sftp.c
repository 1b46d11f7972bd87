/*
 * ssh_sftp.c - an SFTP session on an SSH connection (ssh_sftp.h): libssh's
 * SFTP channel, the watchdog that bounds its blocking calls, how a failure
 * is told, and the operations of one request each (realpath, stat,
 * remove). Reading, writing and listing are in ssh_sftp_file.c.
 */
#include "resources/ssh_sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_conn_int.h"
#include "resources/ssh_sftp_int.h"

const char *ssh_sftp_kind_name(enum ssh_sftp_kind k)
{
	static const char *const names[] = { "file", "dir", "symlink", "other", "unknown" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

enum ssh_sftp_kind ssh_sftp_kind_of(const struct ssh_sftp_attr *a)
{
	if (!a->has_mode) {
		return SSH_SFTP_UNKNOWN;
	}
	switch (a->mode & S_IFMT) {
	case S_IFREG:
		return SSH_SFTP_FILE;
	case S_IFDIR:
		return SSH_SFTP_DIR;
	case S_IFLNK:
		return SSH_SFTP_SYMLINK;
	default:
		return SSH_SFTP_OTHER;
	}
}

int sftp_fail(struct ssh_sftp *s, enum ssh_exec_status st, int err, const char *fmt, ...)
{
	va_list ap;

	s->err.status = st;
	va_start(ap, fmt);
	vsnprintf(s->err.error, sizeof(s->err.error), fmt, ap);
	va_end(ap);
	if (st != SSH_EXEC_ERROR) {
		s->dead = 1;
	}
	return err;
}

const struct ssh_sftp_err *ssh_sftp_error(const struct ssh_sftp *s)
{
	return &s->err;
}

/* ---- the watchdog ---- */

/* Waits until stopped, the deadline or a cancellation; on the last two,
 * shuts the socket down so that the blocked libssh call returns. */
static void *watchdog(void *arg)
{
	struct ssh_sftp *s = arg;
	struct timespec ts;
	int64_t left = SSH_CONN_POLL_MS;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (s->req.cancelled != NULL && s->req.cancelled(s->req.arg)) {
			s->fired = SSH_EXEC_CANCELLED;
		} else if ((left = ssh_remaining_ms(s->req.deadline_ms)) == 0) {
			s->fired = SSH_EXEC_TIMEOUT;
		}
		if (s->fired != SSH_EXEC_OK) {
			shutdown(ssh_get_fd(s->s), SHUT_RDWR);
			break;
		}
		net_mono_deadline(left < SSH_CONN_POLL_MS ? left : SSH_CONN_POLL_MS, &ts);
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static enum ssh_exec_status fired(struct ssh_sftp *s)
{
	enum ssh_exec_status f;

	pthread_mutex_lock(&s->mu);
	f = s->fired;
	pthread_mutex_unlock(&s->mu);
	return f;
}

/* The watchdog's reason as the failure. */
static int fired_fail(struct ssh_sftp *s, enum ssh_exec_status f)
{
	ssh_conn_broken(s->conn);
	return f == SSH_EXEC_CANCELLED ? sftp_fail(s, f, ZT_ERR_CANCELLED, "cancelled") :
	    sftp_fail(s, f, ZT_ERR_TIMEOUT, "timed out waiting for the host's SFTP server");
}

int sftp_step(struct ssh_sftp *s)
{
	enum ssh_exec_status f = fired(s);

	if (f == SSH_EXEC_OK && s->req.cancelled != NULL && s->req.cancelled(s->req.arg)) {
		f = SSH_EXEC_CANCELLED;
	} else if (f == SSH_EXEC_OK && ssh_remaining_ms(s->req.deadline_ms) == 0) {
		f = SSH_EXEC_TIMEOUT;
	}
	if (f != SSH_EXEC_OK) {
		return fired_fail(s, f);
	}
	if (s->dead) {
		return sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "the SFTP session failed "
		    "earlier");
	}
	/* libssh's own wait per read, also bounded (0 would mean for ever). */
	ssh_set_deadline(s->s, s->req.deadline_ms + 1);
	return 0;
}

int sftp_failed(struct ssh_sftp *s, const char *what)
{
	static const char *const fx[] = { "ok", "end of file", "no such file",
	    "permission denied", "failure", "bad message", "no connection", "connection lost",
	    "operation unsupported" };
	enum ssh_exec_status f = fired(s);
	int code = s->sftp != NULL ? sftp_get_error(s->sftp) : 0;

	if (f != SSH_EXEC_OK) {
		return fired_fail(s, f);
	}
	if (!ssh_is_connected(s->s) || code == SSH_FX_NO_CONNECTION ||
	    code == SSH_FX_CONNECTION_LOST || code == SSH_FX_BAD_MESSAGE || code <= 0) {
		ssh_conn_broken(s->conn);
		return sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "%s: %s", what,
		    ssh_get_error(s->s));
	}
	s->err.fx = (uint32_t)code;
	return sftp_fail(s, SSH_EXEC_ERROR, code == SSH_FX_NO_SUCH_FILE ? ZT_ERR_NOT_FOUND :
	    code == SSH_FX_PERMISSION_DENIED ? ZT_ERR_DENIED :
	    code == SSH_FX_FILE_ALREADY_EXISTS ? ZT_ERR_EXISTS : ZT_ERR_IO, "%s: %s", what,
	    (size_t)code < sizeof(fx) / sizeof(fx[0]) ? fx[code] : "failure");
}

/* ---- the session ---- */

int ssh_sftp_open(struct ssh_conn *c, const struct ssh_sftp_req *req, struct ssh_sftp **out,
    struct ssh_sftp_err *err)
{
	struct ssh_sftp *s = NULL;
	int r;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (c == NULL || req == NULL || (s = calloc(1, sizeof(*s))) == NULL) {
		err->status = SSH_EXEC_ERROR;
		snprintf(err->error, sizeof(err->error), "out of memory or bad request");
		return ZT_ERR_NOMEM;
	}
	s->conn = c;
	s->s = ssh_conn_session(c);
	s->req = *req;
	pthread_mutex_init(&s->mu, NULL);
	net_cond_init(&s->cv);
	if (pthread_create(&s->dog, NULL, watchdog, s) != 0) {
		r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "no thread for the SFTP watchdog");
		goto out;
	}
	s->dog_running = 1;
	if ((r = sftp_step(s)) != 0) {
		goto out;
	}
	if ((s->sftp = sftp_new(s->s)) == NULL) {
		r = sftp_failed(s, "SFTP subsystem");
		goto out;
	}
	if ((r = sftp_step(s)) != 0) {
		goto out;
	}
	if (sftp_init(s->sftp) != 0) {
		r = sftp_failed(s, "SFTP start");
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	if (s != NULL) {
		*err = s->err;
	}
	ssh_sftp_close(s);
	return r;
}

void ssh_sftp_close(struct ssh_sftp *s)
{
	if (s == NULL) {
		return;
	}
	if (s->dog_running) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->dog, NULL);
		/* It may have fired after the last operation: the socket is shut
		 * down, and the connection must not serve again. */
		if (s->fired != SSH_EXEC_OK) {
			ssh_conn_broken(s->conn);
		}
	}
	if (s->sftp != NULL) {
		/* An EOF and a channel close: a short bound of their own. */
		ssh_set_deadline(s->s, net_mono_ms() + 2000);
		sftp_free(s->sftp);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- one request each ---- */

void sftp_attr_from(const struct sftp_attributes_struct *in, struct ssh_sftp_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->has_size = (in->flags & SSH_FILEXFER_ATTR_SIZE) != 0;
	a->size = in->size;
	a->has_mode = (in->flags & SSH_FILEXFER_ATTR_PERMISSIONS) != 0;
	a->mode = in->permissions;
	a->has_mtime = (in->flags & SSH_FILEXFER_ATTR_ACMODTIME) != 0;
	a->mtime = in->mtime;
}

static int path_ok(struct ssh_sftp *s, const char *path)
{
	if (path == NULL || path[0] == '\0' || strlen(path) > SSH_SFTP_PATH_MAX) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "bad path");
	}
	return 0;
}

int ssh_sftp_realpath(struct ssh_sftp *s, const char *path, char **out)
{
	char *p = NULL;
	int r;

	*out = NULL;
	if ((r = path_ok(s, path)) != 0 || (r = sftp_step(s)) != 0) {
		return r;
	}
	if ((p = sftp_canonicalize_path(s->sftp, path)) == NULL) {
		return sftp_failed(s, "realpath");
	}
	if (p[0] != '/' || strlen(p) > SSH_SFTP_PATH_MAX) {
		ssh_string_free_char(p);
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_IO, "realpath: the host gave no "
		    "absolute path");
	}
	if ((*out = strdup(p)) == NULL) {
		r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
	}
	ssh_string_free_char(p);
	return r;
}

int ssh_sftp_stat(struct ssh_sftp *s, const char *path, int nofollow, struct ssh_sftp_attr *a)
{
	sftp_attributes at = NULL;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = path_ok(s, path)) != 0 || (r = sftp_step(s)) != 0) {
		return r;
	}
	if ((at = nofollow ? sftp_lstat(s->sftp, path) : sftp_stat(s->sftp, path)) == NULL) {
		return sftp_failed(s, nofollow ? "lstat" : "stat");
	}
	sftp_attr_from(at, a);
	sftp_attributes_free(at);
	return 0;
}

int ssh_sftp_remove(struct ssh_sftp *s, const char *path)
{
	int r;

	if ((r = path_ok(s, path)) != 0 || (r = sftp_step(s)) != 0) {
		return r;
	}
	return sftp_unlink(s->sftp, path) == 0 ? 0 : sftp_failed(s, "remove");
}
