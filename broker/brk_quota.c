/*
 * brk_quota.c - per-key counters in a small chained hash table.
 *
 * A key exists while it holds at least one unit, so there are never more
 * keys than the total; the table's buckets are sized for that once.
 */
#include "broker/brk_quota.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/log.h"

struct qkey {
	struct qkey *next;
	size_t held;
	char key[BRK_QUOTA_KEY_MAX + 1];
};

struct brk_quota {
	pthread_mutex_t mu;
	size_t per_key, total, held;
	struct qkey **buckets;
	size_t nbuckets; /* a power of two */
};

struct brk_quota *brk_quota_new(size_t per_key, size_t total)
{
	struct brk_quota *q;

	if (per_key == 0 || per_key > total) {
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		return NULL;
	}
	q->nbuckets = 16;
	while (q->nbuckets < total && q->nbuckets < 65536) {
		q->nbuckets *= 2;
	}
	if ((q->buckets = calloc(q->nbuckets, sizeof(*q->buckets))) == NULL) {
		free(q);
		return NULL;
	}
	q->per_key = per_key;
	q->total = total;
	pthread_mutex_init(&q->mu, NULL);
	return q;
}

void brk_quota_free(struct brk_quota *q)
{
	if (q == NULL) {
		return;
	}
	for (size_t i = 0; i < q->nbuckets; i++) {
		for (struct qkey *k = q->buckets[i], *n; k != NULL; k = n) {
			n = k->next;
			free(k);
		}
	}
	free(q->buckets);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Keys come from clients, who could aim them at one bucket; a chain is
 * still never longer than the total. */
static size_t bucket(const struct brk_quota *q, const char *key)
{
	return hash_str(key) & (q->nbuckets - 1);
}

/* The link pointing at key's entry (*link NULL when absent). Caller holds
 * the mutex. */
static struct qkey **find(struct brk_quota *q, const char *key)
{
	struct qkey **link = &q->buckets[bucket(q, key)];

	while (*link != NULL && strcmp((*link)->key, key) != 0) {
		link = &(*link)->next;
	}
	return link;
}

int brk_quota_take(struct brk_quota *q, const char *key)
{
	struct qkey **link, *k;
	size_t n = strlen(key);
	int r = 0;

	if (n == 0 || n > BRK_QUOTA_KEY_MAX) {
		return ZT_ERR_INVALID;
	}
	pthread_mutex_lock(&q->mu);
	link = find(q, key);
	k = *link;
	if (k != NULL && k->held >= q->per_key) {
		r = ZT_ERR_RATE_LIMITED;
		goto out;
	}
	if (q->held >= q->total) {
		r = ZT_ERR_BUSY;
		goto out;
	}
	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
		memcpy(k->key, key, n + 1);
		*link = k;
	}
	k->held++;
	q->held++;
out:
	pthread_mutex_unlock(&q->mu);
	return r;
}

void brk_quota_give(struct brk_quota *q, const char *key)
{
	struct qkey **link, *k;

	pthread_mutex_lock(&q->mu);
	link = find(q, key);
	k = *link;
	if (k == NULL) {
		pthread_mutex_unlock(&q->mu);
		log_error("quota: a unit given back for %.64s, which holds none", key);
		return;
	}
	q->held--;
	if (--k->held == 0) {
		*link = k->next;
		free(k);
	}
	pthread_mutex_unlock(&q->mu);
}

size_t brk_quota_held(struct brk_quota *q, const char *key)
{
	struct qkey *k;
	size_t n;

	pthread_mutex_lock(&q->mu);
	k = *find(q, key);
	n = k != NULL ? k->held : 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t brk_quota_total(struct brk_quota *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->held;
	pthread_mutex_unlock(&q->mu);
	return n;
}
