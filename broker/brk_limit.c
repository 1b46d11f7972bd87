/*
 * brk_limit.c - a fixed-size table of failure counters with blocking.
 */
#include "broker/brk_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

struct slot {
	char key[BRK_LIMIT_KEY_MAX];
	int64_t window_start;
	int64_t blocked_until;
	int64_t last;
	int failures;
};

struct brk_limit {
	pthread_mutex_t mu;
	struct slot slots[BRK_LIMIT_SLOTS];
};

struct brk_limit *brk_limit_new(void)
{
	struct brk_limit *l = calloc(1, sizeof(*l));

	if (l != NULL) {
		pthread_mutex_init(&l->mu, NULL);
	}
	return l;
}

void brk_limit_free(struct brk_limit *l)
{
	if (l == NULL) {
		return;
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* The slot holding key, or NULL. Caller holds the mutex. */
static struct slot *find(struct brk_limit *l, const char *key)
{
	for (size_t i = 0; i < BRK_LIMIT_SLOTS; i++) {
		if (l->slots[i].key[0] != '\0' && strcmp(l->slots[i].key, key) == 0) {
			return &l->slots[i];
		}
	}
	return NULL;
}

/* A free slot, or the least recently used one that is not blocking. NULL
 * when every slot blocks (then the new key simply is not counted). */
static struct slot *claim(struct brk_limit *l, const char *key, int64_t now)
{
	struct slot *best = NULL;

	for (size_t i = 0; i < BRK_LIMIT_SLOTS; i++) {
		struct slot *s = &l->slots[i];

		if (s->key[0] == '\0') {
			best = s;
			break;
		}
		if (s->blocked_until > now) {
			continue;
		}
		if (best == NULL || s->last < best->last) {
			best = s;
		}
	}
	if (best != NULL) {
		memset(best, 0, sizeof(*best));
		strncpy(best->key, key, sizeof(best->key) - 1);
	}
	return best;
}

int brk_limit_check(struct brk_limit *l, const char *key, int64_t now, int64_t *retry_after_s)
{
	struct slot *s;
	int r = 0;

	pthread_mutex_lock(&l->mu);
	s = find(l, key);
	if (s != NULL && s->blocked_until > now) {
		*retry_after_s = s->blocked_until - now;
		r = ZT_ERR_RATE_LIMITED;
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}

int brk_limit_fail(struct brk_limit *l, const char *key, int max_failures, int64_t window_s,
    int64_t block_s, int64_t now)
{
	struct slot *s;
	int started = 0;

	pthread_mutex_lock(&l->mu);
	s = find(l, key);
	if (s == NULL) {
		s = claim(l, key, now);
	}
	if (s == NULL) {
		goto out;
	}
	if (s->failures == 0 || now - s->window_start >= window_s) {
		s->window_start = now;
		s->failures = 0;
	}
	s->failures++;
	s->last = now;
	if (s->failures >= max_failures && s->blocked_until <= now) {
		s->blocked_until = now + block_s;
		s->failures = 0;
		started = 1;
	}
out:
	pthread_mutex_unlock(&l->mu);
	return started;
}

void brk_limit_clear(struct brk_limit *l, const char *key)
{
	struct slot *s;

	pthread_mutex_lock(&l->mu);
	s = find(l, key);
	if (s != NULL && s->blocked_until == 0) {
		memset(s, 0, sizeof(*s));
	} else if (s != NULL) {
		s->failures = 0;
	}
	pthread_mutex_unlock(&l->mu);
}
