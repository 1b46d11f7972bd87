/*
 * brk_dial.c - the dials waiting for an agent's accept (brk_dial.h).
 */
#include "broker/brk_dial.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "tunnel/tun.h"

enum state { WAITING, CONNECTED, FAILED };

struct pending {
	char id[TUN_ID_MAX + 1];
	char agent[TUN_NAME_MAX + 1];
	char resource[TUN_NAME_MAX + 1];
	enum state state;
	int result;                 /* when FAILED */
	int fds[2];                 /* [0] the dialler's end, [1] the pump's */
	char why[BRK_DIAL_WHY_MAX];
	struct pending *next;
};

struct brk_dials {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pending *head;
};

struct brk_dials *brk_dials_new(void)
{
	struct brk_dials *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	net_cond_init(&d->cv);
	return d;
}

void brk_dials_free(struct brk_dials *d)
{
	if (d == NULL) {
		return;
	}
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* Unlinks p. Caller holds the mutex. */
static void unlink_pending(struct brk_dials *d, struct pending *p)
{
	for (struct pending **pp = &d->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

/* The waiting dial id of agent, or NULL. Caller holds the mutex. */
static struct pending *find_waiting(struct brk_dials *d, const char *id, const char *agent)
{
	for (struct pending *p = d->head; p != NULL; p = p->next) {
		if (p->state == WAITING && strcmp(p->id, id) == 0 && strcmp(p->agent, agent) == 0) {
			return p;
		}
	}
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Waits for p to leave WAITING until the deadline or cancellation. Caller
 * holds the mutex. 0 or ZT_ERR_TIMEOUT / ZT_ERR_CANCELLED. */
static int wait_answer(struct brk_dials *d, struct pending *p, int timeout_ms,
    int (*cancelled)(void *arg), void *arg)
{
	int64_t end = net_mono_ms() + timeout_ms, left;
	struct timespec slice;

	while (p->state == WAITING) {
		if (cancelled != NULL && cancelled(arg)) {
			return ZT_ERR_CANCELLED;
		}
		if ((left = end - net_mono_ms()) <= 0) {
			return ZT_ERR_TIMEOUT;
		}
		/* Slices of at most 100 ms, to see cancellation. */
		net_mono_deadline(left < 100 ? left : 100, &slice);
		pthread_cond_timedwait(&d->cv, &d->mu, &slice);
	}
	return 0;
}

int brk_dial(struct brk *b, const char *host, int timeout_ms, int (*cancelled)(void *arg),
    void *arg, int *fd, char *why, size_t whysz)
{
	struct brk_dials *d = b->dials;
	struct brk_resource *res = NULL;
	struct pending *p = NULL;
	uint8_t rnd[16];
	int r;

	*fd = -1;
	snprintf(why, whysz, "%s", "");
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (brk_agents_resource(b->agents, host, res) != 0) {
		snprintf(why, whysz, "no host named %s", host);
		free(res);
		return ZT_ERR_NOT_FOUND;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		free(res);
		return ZT_ERR_NOMEM;
	}
	p->fds[0] = p->fds[1] = -1;
	if (strlen(host) > TUN_NAME_MAX || crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), p->id, sizeof(p->id)) != 0) {
		free(p);
		free(res);
		snprintf(why, whysz, "cannot name a stream to %s", host);
		return ZT_ERR_INVALID;
	}
	snprintf(p->agent, sizeof(p->agent), "%s", res->agent);
	snprintf(p->resource, sizeof(p->resource), "%s", host);
	free(res);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fds) != 0) {
		snprintf(why, whysz, "cannot make a stream: %s", strerror(errno));
		free(p);
		return ZT_ERR_IO;
	}
	pthread_mutex_lock(&d->mu);
	p->next = d->head;
	d->head = p;
	pthread_mutex_unlock(&d->mu);

	r = brk_agents_dial(b->agents, p->agent, host, p->id);
	pthread_mutex_lock(&d->mu);
	if (r == 0) {
		r = wait_answer(d, p, timeout_ms, cancelled, arg);
	}
	unlink_pending(d, p);
	pthread_mutex_unlock(&d->mu);
	if (r == 0 && p->state == FAILED) {
		r = p->result;
	}
	switch (r) {
	case 0:
		*fd = p->fds[0];
		p->fds[0] = -1;
		break;
	case ZT_ERR_NOT_FOUND:
		snprintf(why, whysz, "no host named %s", host);
		break;
	case ZT_ERR_LOCKED:
		snprintf(why, whysz, "host locked: an administrator locked the agent of %s", host);
		break;
	case ZT_ERR_OFFLINE:
		snprintf(why, whysz, "host offline: the agent of %s is not connected%s%s", host,
		    p->why[0] != '\0' ? "; " : "", p->why);
		break;
	case ZT_ERR_TIMEOUT:
		snprintf(why, whysz, "the agent of %s did not answer within %d ms", host,
		    timeout_ms);
		break;
	case ZT_ERR_TOO_LARGE:
		snprintf(why, whysz, "the agent of %s is busy: too many streams opening", host);
		break;
	case ZT_ERR_CANCELLED:
		snprintf(why, whysz, "cancelled while opening a stream to %s", host);
		break;
	default:
		snprintf(why, whysz, "%s", p->why[0] != '\0' ? p->why : zt_strerror(r));
		break;
	}
	/* The pump's end, unless a claim took it. */
	close_fd(&p->fds[1]);
	close_fd(&p->fds[0]);
	free(p);
	return r;
}

int brk_dials_claim(struct brk_dials *d, const char *id, const char *agent, int *fd)
{
	struct pending *p;
	int r = ZT_ERR_NOT_FOUND;

	*fd = -1;
	pthread_mutex_lock(&d->mu);
	if ((p = find_waiting(d, id, agent)) != NULL) {
		p->state = CONNECTED;
		*fd = p->fds[1];
		p->fds[1] = -1;
		r = 0;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return r;
}

void brk_dials_fail(struct brk_dials *d, const char *id, const char *agent, const char *code,
    const char *message)
{
	struct pending *p;

	pthread_mutex_lock(&d->mu);
	if ((p = find_waiting(d, id, agent)) != NULL) {
		p->state = FAILED;
		p->result = ZT_ERR_NET;
		snprintf(p->why, sizeof(p->why), "the agent of %s %s: %s (%s)", p->resource,
		    strcmp(code, "unknown_resource") == 0 ? "refused" :
		    "could not open the stream", message, code);
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
}

void brk_dials_fail_agent(struct brk_dials *d, const char *agent)
{
	int any = 0;

	pthread_mutex_lock(&d->mu);
	for (struct pending *p = d->head; p != NULL; p = p->next) {
		if (p->state == WAITING && strcmp(p->agent, agent) == 0) {
			p->state = FAILED;
			p->result = ZT_ERR_OFFLINE;
			snprintf(p->why, sizeof(p->why), "it disconnected while the stream was opening");
			any = 1;
		}
	}
	if (any) {
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
}
