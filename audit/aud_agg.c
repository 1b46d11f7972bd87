/*
 * aud_agg.c - one audit event per kind and period, and a summary of the
 * repeats.
 *
 * Kinds live in a chained hash table of at most AUD_AGG_KINDS entries plus
 * the overflow kinds (one per type and outcome, which come from code, not
 * from clients). The mutex is never held while the store writes: deciding
 * is done under it, appending after.
 */
#include "audit/aud_agg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_log.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"

#define BUCKETS 1024
#define OVERFLOW_SOURCE "*"
#define OVERFLOW_REASON "many sources"

struct kind {
	struct kind *next;
	char type[AUD_AGG_FIELD_MAX + 1];
	char source[AUD_AGG_FIELD_MAX + 1];
	char outcome[AUD_AGG_FIELD_MAX + 1];
	char reason[AUD_AGG_FIELD_MAX + 1];
	char actor[AUD_AGG_FIELD_MAX + 1];
	int actors_differ;
	int by_actor;           /* the actor is part of the kind */
	int overflow;           /* not counted in nkinds */
	int64_t period_start;   /* time of the event that was appended */
	int64_t first_ms, last_ms;
	int64_t repeats;
};

struct aud_agg {
	pthread_mutex_t mu;
	int64_t period_ms;
	struct kind *buckets[BUCKETS];
	size_t nkinds;
};

struct aud_agg *aud_agg_new(int64_t period_ms)
{
	struct aud_agg *g;

	if (period_ms <= 0 || (g = calloc(1, sizeof(*g))) == NULL) {
		return NULL;
	}
	g->period_ms = period_ms;
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

void aud_agg_free(struct aud_agg *g)
{
	if (g == NULL) {
		return;
	}
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct kind *k = g->buckets[i], *n; k != NULL; k = n) {
			n = k->next;
			free(k);
		}
	}
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static void copy(char *dst, const char *src)
{
	snprintf(dst, AUD_AGG_FIELD_MAX + 1, "%s", src);
}

static size_t hash(const char *type, const char *source, const char *outcome,
    const char *reason, const char *actor)
{
	const char *parts[5] = { type, source, outcome, reason, actor != NULL ? actor : "" };
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 5; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p != '\0'; p++) {
			h = (h ^ *p) * 16777619u;
		}
		h = (h ^ 0x1f) * 16777619u;
	}
	return h % BUCKETS;
}

/* The kind of these (already cut to AUD_AGG_FIELD_MAX) fields, or NULL;
 * actor is NULL for kinds that do not count actors apart. Caller holds the
 * mutex. */
static struct kind *find(struct aud_agg *g, const char *type, const char *source,
    const char *outcome, const char *reason, const char *actor)
{
	for (struct kind *k = g->buckets[hash(type, source, outcome, reason, actor)]; k != NULL;
	    k = k->next) {
		if (strcmp(k->type, type) == 0 && strcmp(k->source, source) == 0 &&
		    strcmp(k->outcome, outcome) == 0 && strcmp(k->reason, reason) == 0 &&
		    k->by_actor == (actor != NULL) && (actor == NULL ||
		    strcmp(k->actor, actor) == 0)) {
			return k;
		}
	}
	return NULL;
}

static struct kind *add(struct aud_agg *g, const char *type, const char *source,
    const char *outcome, const char *reason, const char *actor, int by_actor, int64_t now_ms,
    int overflow)
{
	struct kind *k = calloc(1, sizeof(*k));
	size_t h;

	if (k == NULL) {
		return NULL;
	}
	copy(k->type, type);
	copy(k->source, source);
	copy(k->outcome, outcome);
	copy(k->reason, reason);
	copy(k->actor, actor);
	k->by_actor = by_actor;
	k->overflow = overflow;
	k->period_start = now_ms;
	h = hash(k->type, k->source, k->outcome, k->reason, by_actor ? k->actor : NULL);
	k->next = g->buckets[h];
	g->buckets[h] = k;
	g->nkinds += !overflow;
	return k;
}

static void count(struct kind *k, const char *actor, int64_t now_ms)
{
	if (k->repeats++ == 0) {
		k->first_ms = now_ms;
	}
	k->last_ms = now_ms;
	if (strncmp(k->actor, actor, AUD_AGG_FIELD_MAX) != 0) {
		k->actors_differ = 1;
	}
}

static int agg_append(struct aud_agg *g, struct store *st, int64_t now_ms, const char *type,
    const char *actor, const char *source, const char *outcome, const char *reason,
    const cJSON *details, int by_actor)
{
	char t[AUD_AGG_FIELD_MAX + 1], s[AUD_AGG_FIELD_MAX + 1], o[AUD_AGG_FIELD_MAX + 1];
	char rs[AUD_AGG_FIELD_MAX + 1], a[AUD_AGG_FIELD_MAX + 1];
	const char *ka = NULL;
	struct kind *k;
	int overflow = 0;

	copy(t, type);
	/* Kinds count an IPv6 client by its /64, as every per-address limit
	 * does: one client holds a whole /64. */
	net_addr_key(source, s, sizeof(s));
	copy(o, outcome);
	copy(rs, reason);
	if (by_actor) {
		copy(a, actor);
		ka = a;
	}
	pthread_mutex_lock(&g->mu);
	k = find(g, t, s, o, rs, ka);
	if (k == NULL && g->nkinds >= AUD_AGG_KINDS) {
		/* Too many kinds in this period: the new one is counted under its
		 * type's overflow kind, whose first event is appended as usual. */
		overflow = 1;
		copy(s, OVERFLOW_SOURCE);
		copy(rs, OVERFLOW_REASON);
		by_actor = 0;
		ka = NULL;
		k = find(g, t, s, o, rs, NULL);
	}
	if (k != NULL) {
		count(k, actor, now_ms);
		pthread_mutex_unlock(&g->mu);
		return 0;
	}
	k = add(g, t, s, o, rs, actor, by_actor, now_ms, overflow);
	pthread_mutex_unlock(&g->mu);
	if (k == NULL) {
		return ZT_ERR_NOMEM;
	}
	return aud_append_reason(st, now_ms, type, actor, source, outcome, reason, details);
}

int aud_agg_append(struct aud_agg *g, struct store *st, int64_t now_ms, const char *type,
    const char *actor, const char *source, const char *outcome, const char *reason,
    const cJSON *details)
{
	return agg_append(g, st, now_ms, type, actor, source, outcome, reason, details, 0);
}

int aud_agg_append_by_actor(struct aud_agg *g, struct store *st, int64_t now_ms,
    const char *type, const char *actor, const char *source, const char *outcome,
    const char *reason, const cJSON *details)
{
	return agg_append(g, st, now_ms, type, actor, source, outcome, reason, details, 1);
}

/* Appends the summary of k (which is off the table). */
static int summarize(const struct aud_agg *g, struct store *st, const struct kind *k,
    int64_t now_ms)
{
	cJSON *d = cJSON_CreateObject();
	int r = ZT_ERR_NOMEM;

	if (d != NULL && cJSON_AddStringToObject(d, "reason", k->reason) != NULL &&
	    cJSON_AddBoolToObject(d, "aggregated", 1) != NULL &&
	    cJSON_AddNumberToObject(d, "repeats", (double)k->repeats) != NULL &&
	    cJSON_AddNumberToObject(d, "first_ms", (double)k->first_ms) != NULL &&
	    cJSON_AddNumberToObject(d, "last_ms", (double)k->last_ms) != NULL &&
	    cJSON_AddNumberToObject(d, "period_ms", (double)g->period_ms) != NULL) {
		r = aud_append(st, now_ms, k->type, k->actors_differ ? "anonymous" : k->actor,
		    k->source, k->outcome, d);
	}
	cJSON_Delete(d);
	if (r != 0) {
		log_error("audit: the summary of %lld %s events from %s is lost: %s",
		    (long long)k->repeats, k->type, k->source, zt_strerror(r));
	}
	return r;
}

int aud_agg_flush(struct aud_agg *g, struct store *st, int64_t now_ms, int all)
{
	struct kind *done = NULL, *k, *n;
	int r = 0, r1;

	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < BUCKETS; i++) {
		struct kind **link = &g->buckets[i];

		while ((k = *link) != NULL) {
			if (!all && now_ms < k->period_start + g->period_ms) {
				link = &k->next;
				continue;
			}
			*link = k->next;
			g->nkinds -= !k->overflow;
			k->next = done;
			done = k;
		}
	}
	pthread_mutex_unlock(&g->mu);
	for (k = done; k != NULL; k = n) {
		n = k->next;
		if (k->repeats > 0 && (r1 = summarize(g, st, k, now_ms)) != 0 && r == 0) {
			r = r1;
		}
		free(k);
	}
	return r;
}
