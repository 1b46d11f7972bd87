/*
 * ssh_job.c - a command left running on its own connection, pumped into a
 * ring by a thread of its own (ssh_job.h).
 */
#include "resources/ssh_job.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_conn_int.h"

#define SSH_JOB_DRAIN_MS 2000   /* after a stop: how long to wait for the end */

struct ssh_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ssh_conn *conn;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	pthread_t th;
	ssh_job_end_fn *on_end;
	void *arg;
	/* The ring: the byte at offset o (total - kept <= o < total) is
	 * ring[o % cap]. */
	char *ring;
	size_t cap;
	uint64_t total, out_bytes, err_bytes;
	/* What other threads ask of the pump: one signal at a time. */
	char want_sig[SSH_JOB_SIG_MAX];
	uint64_t sig_asked, sig_done;
	char sig_how[96];
	int stop;
	/* Set once on_end returned. */
	int ended;
	struct ssh_job_status end;
	/* The pump's own (channel callbacks run on its thread). */
	int exit_seen;
	int exit_code;
	char exit_signal[SSH_JOB_SIG_MAX];
};

static const char *const signals[] = { "TERM", "INT", "KILL", "HUP", NULL };

const char *ssh_job_state_name(enum ssh_job_state s)
{
	switch (s) {
	case SSH_JOB_RUNNING:
		return "running";
	case SSH_JOB_EXITED:
		return "exited";
	case SSH_JOB_KILLED:
		return "killed";
	case SSH_JOB_LOST:
		return "lost";
	}
	return "lost";
}

int ssh_job_signal_ok(const char *name)
{
	for (size_t i = 0; name != NULL && signals[i] != NULL; i++) {
		if (strcmp(name, signals[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

/* ---- the pump's side ---- */

static void on_exit_status(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct ssh_job *j = arg;

	(void)s;
	(void)ch;
	j->exit_seen = 1;
	j->exit_code = status;
}

static void on_exit_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct ssh_job *j = arg;

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	j->exit_seen = 1;
	snprintf(j->exit_signal, sizeof(j->exit_signal), "%s", sig != NULL ? sig : "?");
}

/* Appends n bytes to the ring, over the oldest when full; the caller holds
 * the lock. */
static void ring_add(struct ssh_job *j, const char *p, size_t n, int is_err)
{
	size_t at, first;

	if (is_err) {
		j->err_bytes += n;
	} else {
		j->out_bytes += n;
	}
	if (n > j->cap) {
		/* Only the last cap bytes can stay. */
		j->total += n - j->cap;
		p += n - j->cap;
		n = j->cap;
	}
	at = (size_t)(j->total % j->cap);
	first = j->cap - at < n ? j->cap - at : n;
	memcpy(j->ring + at, p, first);
	memcpy(j->ring, p + first, n - first);
	j->total += n;
}

/* Reads what both streams hold now into the ring: 1 if any came, 0 if
 * none, -1 when the connection failed. */
static int pump_read(struct ssh_job *j)
{
	char buf[16384];
	int got = 0, n;

	for (int is_err = 0; is_err <= 1; is_err++) {
		while ((n = ssh_channel_read_nonblocking(j->ch, buf, sizeof(buf), is_err)) > 0) {
			pthread_mutex_lock(&j->mu);
			ring_add(j, buf, (size_t)n, is_err);
			pthread_mutex_unlock(&j->mu);
			got = 1;
		}
		if (n == SSH_ERROR) {
			return -1;
		}
	}
	return got;
}

/* A signal both ways (ssh_job.h), into how. */
static void pump_signal(struct ssh_job *j, const char *sig, char *how, size_t howsz)
{
	ssh_session s = ssh_conn_session(j->conn);
	int rc;

	ssh_set_deadline(s, net_mono_ms() + SSH_EXEC_KILL_MS);
	rc = ssh_channel_request_send_signal(j->ch, sig);
	snprintf(how, howsz, "%s", rc == SSH_OK ? "ssh signal request" :
	    "ssh signal request failed");
	rc = ssh_signal_siblings(s, sig, 1);
	if (rc == 0) {
		snprintf(how + strlen(how), howsz - strlen(how), "; pkill as uid 0");
	} else if (rc != SSH_SIBLINGS_SKIPPED) {
		snprintf(how + strlen(how), howsz - strlen(how), "; pkill as uid 0 signalled "
		    "nothing");
	}
}

/* Kills the command (KILL both ways, whatever the uid) and waits a little
 * for sshd to say how it ended. */
static void pump_kill(struct ssh_job *j)
{
	ssh_session s = ssh_conn_session(j->conn);
	int64_t until = net_mono_ms() + SSH_JOB_DRAIN_MS;

	ssh_set_deadline(s, net_mono_ms() + SSH_EXEC_KILL_MS);
	ssh_channel_request_send_signal(j->ch, "KILL");
	(void)ssh_signal_siblings(s, "KILL", 0);
	while (!j->exit_seen && !ssh_channel_is_closed(j->ch) && net_mono_ms() < until) {
		if (pump_read(j) < 0 || ssh_poll_step(s, until, NULL, NULL, SSH_CONN_POLL_MS) != 0) {
			break;
		}
	}
}

/* The final state from what sshd said. */
static void pump_end(struct ssh_job *j, int stopped, const char *error, struct ssh_job_status *st)
{
	memset(st, 0, sizeof(*st));
	st->exit_code = -1;
	st->stopped = stopped;
	if (j->exit_signal[0] != '\0') {
		st->state = SSH_JOB_KILLED;
		memcpy(st->signal, j->exit_signal, sizeof(st->signal));
	} else if (j->exit_seen) {
		st->state = SSH_JOB_EXITED;
		st->exit_code = j->exit_code;
	} else if (stopped) {
		st->state = SSH_JOB_KILLED;
		snprintf(st->signal, sizeof(st->signal), "KILL");
		snprintf(st->error, sizeof(st->error), "the channel was closed before sshd reported "
		    "the end");
	} else {
		st->state = SSH_JOB_LOST;
		snprintf(st->error, sizeof(st->error), "%s", error[0] != '\0' ? error :
		    "the connection closed without an exit status");
	}
	pthread_mutex_lock(&j->mu);
	st->total = j->total;
	st->stdout_bytes = j->out_bytes;
	st->stderr_bytes = j->err_bytes;
	pthread_mutex_unlock(&j->mu);
}

static void *pump(void *arg)
{
	struct ssh_job *j = arg;
	ssh_session s = ssh_conn_session(j->conn);
	struct ssh_job_status st;
	char sig[SSH_JOB_SIG_MAX], how[sizeof(j->sig_how)], error[SSH_CONN_ERROR_MAX] = "";
	uint64_t asked;
	int stop = 0, got;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		stop = j->stop;
		asked = j->sig_asked;
		memcpy(sig, j->want_sig, sizeof(sig));
		pthread_mutex_unlock(&j->mu);
		if (stop) {
			pump_kill(j);
			break;
		}
		if (asked != j->sig_done) {
			pump_signal(j, sig, how, sizeof(how));
			pthread_mutex_lock(&j->mu);
			memcpy(j->sig_how, how, sizeof(how));
			j->sig_done = asked;
			pthread_cond_broadcast(&j->cv);
			pthread_mutex_unlock(&j->mu);
		}
		if ((got = pump_read(j)) < 0) {
			snprintf(error, sizeof(error), "read failed: %s", ssh_get_error(s));
			ssh_conn_broken(j->conn);
			break;
		}
		if (ssh_channel_is_closed(j->ch) || (j->exit_seen && ssh_channel_is_eof(j->ch))) {
			(void)pump_read(j);
			break;
		}
		if (ssh_channel_is_eof(j->ch)) {
			/* After EOF libssh's reads no longer take packets in, and
			 * OpenSSH sends the exit status after EOF: wait for it (or the
			 * close) a moment at a time, still answering requests. */
			ssh_set_deadline(s, net_mono_ms() + SSH_CONN_POLL_MS * 2);
			(void)ssh_channel_get_exit_status(j->ch);
			continue;
		}
		if (ssh_poll_step(s, net_mono_ms() + 1000, NULL, NULL,
		    got ? 0 : SSH_CONN_POLL_MS) != 0) {
			snprintf(error, sizeof(error), "poll: %s", strerror(errno));
			ssh_conn_broken(j->conn);
			break;
		}
	}
	pump_end(j, stop, error, &st);
	ssh_remove_channel_callbacks(j->ch, &j->cb);
	ssh_set_deadline(s, net_mono_ms() + SSH_CONN_POLL_MS * 10);
	ssh_channel_close(j->ch);
	ssh_channel_free(j->ch);
	j->ch = NULL;
	j->on_end(j, &st, j->arg);
	pthread_mutex_lock(&j->mu);
	j->end = st;
	j->ended = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* ---- everyone else's side ---- */

int ssh_job_start(struct ssh_conn *c, const char *command, size_t ring_size,
    int64_t timeout_ms, ssh_job_end_fn *on_end, void *arg, struct ssh_job **out,
    char *error, size_t errorsz)
{
	struct ssh_job *j = NULL;
	ssh_session s;

	*out = NULL;
	error[0] = '\0';
	if (c == NULL || command == NULL || on_end == NULL || timeout_ms <= 0) {
		return ZT_ERR_INVALID;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->ring = malloc(ring_size > 0 ? ring_size : SSH_JOB_RING_DEFAULT)) == NULL) {
		free(j);
		return ZT_ERR_NOMEM;
	}
	j->cap = ring_size > 0 ? ring_size : SSH_JOB_RING_DEFAULT;
	j->conn = c;
	j->on_end = on_end;
	j->arg = arg;
	j->exit_code = -1;
	s = ssh_conn_session(c);
	ssh_set_deadline(s, net_mono_ms() + timeout_ms);
	ssh_callbacks_init(&j->cb);
	j->cb.userdata = j;
	j->cb.channel_exit_status_function = on_exit_status;
	j->cb.channel_exit_signal_function = on_exit_signal;
	if ((j->ch = ssh_channel_new(s)) == NULL || ssh_add_channel_callbacks(j->ch, &j->cb) !=
	    SSH_OK || ssh_channel_open_session(j->ch) != SSH_OK ||
	    ssh_channel_request_exec(j->ch, command) != SSH_OK) {
		snprintf(error, errorsz, "exec failed: %s", ssh_get_error(s));
		ssh_conn_broken(c);
		goto fail;
	}
	pthread_mutex_init(&j->mu, NULL);
	net_cond_init(&j->cv);
	if (pthread_create(&j->th, NULL, pump, j) != 0) {
		snprintf(error, errorsz, "no thread for the job");
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		ssh_channel_request_send_signal(j->ch, "KILL");
		(void)ssh_signal_siblings(s, "KILL", 0);
		free(j->ring);
		ssh_channel_close(j->ch);
		ssh_channel_free(j->ch);
		free(j);
		return ZT_ERR_INTERNAL;
	}
	*out = j;
	return 0;
fail:
	if (j->ch != NULL) {
		ssh_channel_free(j->ch);
	}
	free(j->ring);
	free(j);
	return ZT_ERR_NET;
}

/* The status now; the caller holds the lock. */
static void status_locked(struct ssh_job *j, struct ssh_job_status *st)
{
	if (j->ended) {
		*st = j->end;
	} else {
		memset(st, 0, sizeof(*st));
		st->state = SSH_JOB_RUNNING;
		st->exit_code = -1;
	}
	st->total = j->total;
	st->stdout_bytes = j->out_bytes;
	st->stderr_bytes = j->err_bytes;
}

void ssh_job_status(struct ssh_job *j, struct ssh_job_status *st)
{
	pthread_mutex_lock(&j->mu);
	status_locked(j, st);
	pthread_mutex_unlock(&j->mu);
}

int ssh_job_read(struct ssh_job *j, uint64_t since, size_t max, struct ssh_job_chunk *out,
    struct ssh_job_status *st)
{
	uint64_t start;
	size_t n, at, first;

	memset(out, 0, sizeof(*out));
	if (max == 0 || max > SSH_JOB_READ_MAX) {
		max = SSH_JOB_READ_MAX;
	}
	if ((out->data = malloc(max + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_lock(&j->mu);
	start = j->total > j->cap ? j->total - j->cap : 0;
	if (since > j->total) {
		since = j->total;
	}
	out->dropped = since < start ? start - since : 0;
	out->from = since < start ? start : since;
	n = j->total - out->from < max ? (size_t)(j->total - out->from) : max;
	at = (size_t)(out->from % j->cap);
	first = j->cap - at < n ? j->cap - at : n;
	memcpy(out->data, j->ring + at, first);
	memcpy(out->data + first, j->ring, n - first);
	out->data[n] = '\0';
	out->len = n;
	out->next = out->from + n;
	out->more = out->next < j->total;
	status_locked(j, st);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

/* Waits on the job's condition until deadline (net_mono_ms time); the
 * caller holds the lock. 0, or ETIMEDOUT. */
static int wait_until(struct ssh_job *j, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - net_mono_ms();

	if (left <= 0) {
		return ETIMEDOUT;
	}
	net_mono_deadline(left, &ts);
	return pthread_cond_timedwait(&j->cv, &j->mu, &ts) == ETIMEDOUT &&
	    net_mono_ms() >= deadline ? ETIMEDOUT : 0;
}

int ssh_job_signal(struct ssh_job *j, const char *name, char *how, size_t howsz)
{
	int64_t deadline = net_mono_ms() + SSH_JOB_SIGNAL_MS;
	uint64_t mine;
	int r = 0;

	how[0] = '\0';
	if (!ssh_job_signal_ok(name)) {
		return ZT_ERR_INVALID;
	}
	pthread_mutex_lock(&j->mu);
	/* One signal at a time: wait for the one before to be sent. */
	while (!j->ended && !j->stop && j->sig_asked != j->sig_done) {
		if (wait_until(j, deadline) != 0) {
			r = ZT_ERR_TIMEOUT;
			goto out;
		}
	}
	if (j->ended || j->stop) {
		r = ZT_ERR_STOPPED;
		goto out;
	}
	snprintf(j->want_sig, sizeof(j->want_sig), "%s", name);
	mine = ++j->sig_asked;
	while (j->sig_done < mine && !j->ended) {
		if (wait_until(j, deadline) != 0) {
			/* Handed to the pump, which may still send it. */
			snprintf(how, howsz, "queued");
			r = ZT_ERR_TIMEOUT;
			goto out;
		}
	}
	if (j->sig_done < mine) {
		r = ZT_ERR_STOPPED;
		goto out;
	}
	snprintf(how, howsz, "%s", j->sig_how);
out:
	pthread_mutex_unlock(&j->mu);
	return r;
}

void ssh_job_stop(struct ssh_job *j)
{
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_mutex_unlock(&j->mu);
}

int ssh_job_wait(struct ssh_job *j, int64_t timeout_ms)
{
	int64_t deadline = net_mono_ms() + timeout_ms;
	int ended;

	pthread_mutex_lock(&j->mu);
	while (!j->ended && wait_until(j, deadline) == 0) {
		/* woken: look again */
	}
	ended = j->ended;
	pthread_mutex_unlock(&j->mu);
	return ended;
}

void ssh_job_free(struct ssh_job *j)
{
	if (j == NULL) {
		return;
	}
	ssh_job_stop(j);
	pthread_join(j->th, NULL);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->ring);
	free(j);
}
