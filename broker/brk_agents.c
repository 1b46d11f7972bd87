/*
 * brk_agents.c - the in-memory agent registry.
 */
#include "broker/brk_agents.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/tls.h"

struct entry {
	struct brk_agent_info info;
	char key_pin[TLS_PIN_LEN + 1];
	uint64_t gen;
	int wake_fd;                       /* -1 when offline */
	char dials[BRK_AGENTS_DIALS][TUN_ID_MAX + 1];
	size_t ndials;
};

struct brk_agents {
	pthread_mutex_t mu;
	struct entry *v;
	size_t n, cap;
	uint64_t next_gen;
};

struct brk_agents *brk_agents_new(void)
{
	struct brk_agents *a = calloc(1, sizeof(*a));

	if (a != NULL) {
		pthread_mutex_init(&a->mu, NULL);
	}
	return a;
}

void brk_agents_free(struct brk_agents *a)
{
	if (a == NULL) {
		return;
	}
	pthread_mutex_destroy(&a->mu);
	free(a->v);
	free(a);
}

/* The entry for name, or NULL. Caller holds the mutex. */
static struct entry *find(struct brk_agents *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].info.name, name) == 0) {
			return &a->v[i];
		}
	}
	return NULL;
}

int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen)
{
	struct entry *e;
	int r = 0;

	pthread_mutex_lock(&a->mu);
	e = find(a, hello->name);
	if (e != NULL && strcmp(e->key_pin, key_pin) != 0) {
		r = ZT_ERR_EXISTS;
		goto out;
	}
	if (e == NULL) {
		if (a->n == a->cap) {
			size_t cap = a->cap == 0 ? 16 : a->cap * 2;
			struct entry *v;

			if (cap > BRK_AGENTS_MAX || (v = realloc(a->v, cap * sizeof(*v))) == NULL) {
				r = ZT_ERR_TOO_LARGE;
				goto out;
			}
			a->v = v;
			a->cap = cap;
		}
		e = &a->v[a->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->info.name, sizeof(e->info.name), "%s", hello->name);
		snprintf(e->key_pin, sizeof(e->key_pin), "%s", key_pin);
	}
	memcpy(e->info.labels, hello->labels, sizeof(e->info.labels));
	e->info.nlabels = hello->nlabels;
	snprintf(e->info.ssh_target, sizeof(e->info.ssh_target), "%s", hello->ssh_target);
	snprintf(e->info.ssh_host_key, sizeof(e->info.ssh_host_key), "%s", hello->ssh_host_key);
	e->info.online = 1;
	e->info.last_seen = now;
	e->wake_fd = wake_fd;
	e->ndials = 0;
	e->gen = *gen = ++a->next_gen;
out:
	pthread_mutex_unlock(&a->mu);
	return r;
}

void brk_agents_seen(struct brk_agents *a, const char *name, uint64_t gen, int64_t now)
{
	struct entry *e;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL && e->gen == gen) {
		e->info.last_seen = now;
	}
	pthread_mutex_unlock(&a->mu);
}

void brk_agents_offline(struct brk_agents *a, const char *name, uint64_t gen)
{
	struct entry *e;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL && e->gen == gen) {
		e->info.online = 0;
		e->wake_fd = -1;
		e->ndials = 0;
	}
	pthread_mutex_unlock(&a->mu);
}

int brk_agents_dial(struct brk_agents *a, const char *name, const char *id)
{
	struct entry *e;
	int r = 0;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) == NULL) {
		r = ZT_ERR_NOT_FOUND;
	} else if (!e->info.online || e->wake_fd < 0) {
		r = ZT_ERR_OFFLINE;
	} else if (e->ndials == BRK_AGENTS_DIALS || strlen(id) > TUN_ID_MAX) {
		r = ZT_ERR_TOO_LARGE;
	} else {
		snprintf(e->dials[e->ndials++], sizeof(e->dials[0]), "%s", id);
		/* A full pipe already holds a wake-up: losing this byte is fine. */
		ssize_t w = write(e->wake_fd, "d", 1);

		(void)w;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

size_t brk_agents_take_dials(struct brk_agents *a, const char *name, uint64_t gen,
    char ids[][TUN_ID_MAX + 1], size_t max)
{
	struct entry *e;
	size_t n = 0;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL && e->gen == gen) {
		n = e->ndials < max ? e->ndials : max;
		memcpy(ids, e->dials, n * sizeof(e->dials[0]));
		memmove(e->dials, e->dials + n, (e->ndials - n) * sizeof(e->dials[0]));
		e->ndials -= n;
	}
	pthread_mutex_unlock(&a->mu);
	return n;
}

int brk_agents_bound_to(struct brk_agents *a, const char *name, const char *key_pin)
{
	struct entry *e;
	int r;

	pthread_mutex_lock(&a->mu);
	r = (e = find(a, name)) != NULL && strcmp(e->key_pin, key_pin) == 0;
	pthread_mutex_unlock(&a->mu);
	return r;
}

int brk_agents_get(struct brk_agents *a, const char *name, struct brk_agent_info *out)
{
	struct entry *e;
	int r = ZT_ERR_NOT_FOUND;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL) {
		*out = e->info;
		r = 0;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct brk_agent_info *)x)->name,
	    ((const struct brk_agent_info *)y)->name);
}

int brk_agents_each(struct brk_agents *a, int (*fn)(const struct brk_agent_info *ag, void *arg),
    void *arg)
{
	struct brk_agent_info *snap = NULL;
	size_t n;
	int r = 0;

	pthread_mutex_lock(&a->mu);
	n = a->n;
	if (n > 0 && (snap = calloc(n, sizeof(*snap))) == NULL) {
		pthread_mutex_unlock(&a->mu);
		return ZT_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snap[i] = a->v[i].info;
	}
	pthread_mutex_unlock(&a->mu);
	qsort(snap, n, sizeof(*snap), by_name);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = fn(&snap[i], arg);
	}
	free(snap);
	return r;
}
