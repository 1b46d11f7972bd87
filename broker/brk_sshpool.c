/*
 * brk_sshpool.c - warm SSH connections (brk_sshpool.h): a list under one
 * mutex; the connections themselves are used outside it, one call each.
 */
#include "broker/brk_sshpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "resources/ssh_conn.h"

struct brk_sshpool {
	pthread_mutex_t mu;
	struct brk_pooled *head;
	int idle, busy;
	int64_t due_at;            /* brk_sshpool_due's last yes */
};

struct brk_sshpool *brk_sshpool_new(void)
{
	struct brk_sshpool *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		pthread_mutex_init(&p->mu, NULL);
	}
	return p;
}

static void close_one(struct brk_pooled *c)
{
	ssh_conn_close(c->conn);
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c);
}

void brk_sshpool_free(struct brk_sshpool *p)
{
	struct brk_pooled *c, *next;

	if (p == NULL) {
		return;
	}
	for (c = p->head; c != NULL; c = next) {
		next = c->next;
		close_one(c);
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Unlinks c; the caller holds the lock. */
static void unlink_one(struct brk_sshpool *p, struct brk_pooled *c)
{
	struct brk_pooled **pp;

	for (pp = &p->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->busy) {
		p->busy--;
	} else {
		p->idle--;
	}
}

static int same_key(const struct brk_pooled *c, const char *token_hash, const char *host,
    const char *login)
{
	return strcmp(c->token_hash, token_hash) == 0 && strcmp(c->host, host) == 0 &&
	    strcmp(c->login, login) == 0;
}

struct brk_pooled *brk_sshpool_take(struct brk_sshpool *p, const char *token_hash,
    const char *host, const char *login, int64_t generation, int64_t now)
{
	struct brk_pooled *c, *stale = NULL;

	if (p == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&p->mu);
	for (c = p->head; c != NULL; c = c->next) {
		if (c->busy || !same_key(c, token_hash, host, login)) {
			continue;
		}
		if (now >= c->expires || c->generation != generation || !ssh_conn_alive(c->conn)) {
			/* Found on the way: retire it now. */
			if (stale == NULL) {
				stale = c;
			}
			continue;
		}
		c->busy = 1;
		c->uses++;
		p->idle--;
		p->busy++;
		break;
	}
	if (stale != NULL) {
		unlink_one(p, stale);
	}
	pthread_mutex_unlock(&p->mu);
	if (stale != NULL) {
		close_one(stale);
	}
	return c;
}

struct brk_pooled *brk_sshpool_add(struct brk_sshpool *p, const char *token_hash,
    const char *actor, const char *host, const char *login, const char *id, struct ssh_conn *conn, int fd,
    int64_t retire_at, int64_t generation)
{
	struct brk_pooled *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		ssh_conn_close(conn);
		close(fd);
		return NULL;
	}
	memcpy(c->token_hash, token_hash, strnlen(token_hash, sizeof(c->token_hash) - 1));
	memcpy(c->actor, actor, strnlen(actor, sizeof(c->actor) - 1));
	memcpy(c->host, host, strnlen(host, sizeof(c->host) - 1));
	memcpy(c->login, login, strnlen(login, sizeof(c->login) - 1));
	memcpy(c->id, id, strnlen(id, sizeof(c->id) - 1));
	c->conn = conn;
	c->fd = fd;
	c->expires = retire_at;
	c->generation = generation;
	c->uses = 1;
	c->busy = 1;
	if (p == NULL) {
		return c; /* no pool: the call's alone, closed when given back */
	}
	pthread_mutex_lock(&p->mu);
	c->next = p->head;
	p->head = c;
	p->busy++;
	pthread_mutex_unlock(&p->mu);
	return c;
}

void brk_sshpool_detach(struct brk_sshpool *p, struct brk_pooled *c)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	unlink_one(p, c);
	pthread_mutex_unlock(&p->mu);
	c->next = NULL;
}

/* The oldest idle connection (to make room); the caller holds the lock. */
static struct brk_pooled *oldest_idle(struct brk_sshpool *p)
{
	struct brk_pooled *c, *old = NULL;

	for (c = p->head; c != NULL; c = c->next) {
		if (!c->busy && (old == NULL || c->expires < old->expires)) {
			old = c;
		}
	}
	return old;
}

void brk_sshpool_give(struct brk_sshpool *p, struct brk_pooled *c, int discard, int64_t now)
{
	struct brk_pooled *evict = NULL;
	int keep = !discard && now < c->expires && ssh_conn_alive(c->conn);

	if (p == NULL) {
		close_one(c);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (!keep) {
		unlink_one(p, c);
	} else {
		if (p->idle >= BRK_SSHPOOL_IDLE_MAX && (evict = oldest_idle(p)) != NULL) {
			unlink_one(p, evict);
		}
		c->busy = 0;
		p->busy--;
		p->idle++;
	}
	pthread_mutex_unlock(&p->mu);
	if (!keep) {
		close_one(c);
	}
	if (evict != NULL) {
		close_one(evict);
	}
}

int brk_sshpool_sweep(struct brk_sshpool *p, int64_t now, brk_sshpool_keep_fn *keep,
    brk_sshpool_closed_fn *closed_fn, void *arg)
{
	struct brk_pooled **held = NULL, *c;
	size_t n = 0, i;
	int closed = 0;

	if (p == NULL) {
		return 0;
	}
	/* Holds every idle connection (busy: no call takes it meanwhile), then
	 * asks about each without the lock. */
	pthread_mutex_lock(&p->mu);
	if (p->idle > 0 && (held = calloc((size_t)p->idle, sizeof(*held))) != NULL) {
		for (c = p->head; c != NULL && n < (size_t)p->idle; c = c->next) {
			if (!c->busy) {
				held[n++] = c;
			}
		}
		for (i = 0; i < n; i++) {
			held[i]->busy = 1;
		}
		p->idle -= (int)n;
		p->busy += (int)n;
	}
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < n; i++) {
		const char *why = NULL;

		c = held[i];
		if (now >= c->expires) {
			why = "expired";
		} else if (!ssh_conn_alive(c->conn)) {
			why = "connection lost";
		} else if (keep != NULL) {
			why = keep(c, arg);
		}
		if (why != NULL) {
			if (closed_fn != NULL) {
				closed_fn(c, why, arg);
			}
			brk_sshpool_give(p, c, 1, now);
			closed++;
		} else {
			brk_sshpool_give(p, c, 0, now);
		}
	}
	free(held);
	if (closed > 0) {
		log_info("ssh pool: %d idle connection%s closed", closed, closed == 1 ? "" : "s");
	}
	return closed;
}

int brk_sshpool_due(struct brk_sshpool *p, int64_t now, int64_t every, int force)
{
	int due;

	if (p == NULL) {
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	if ((due = force || now - p->due_at >= every)) {
		p->due_at = now;
	}
	pthread_mutex_unlock(&p->mu);
	return due;
}

void brk_sshpool_count(struct brk_sshpool *p, int *idle, int *busy)
{
	pthread_mutex_lock(&p->mu);
	*idle = p->idle;
	*busy = p->busy;
	pthread_mutex_unlock(&p->mu);
}
