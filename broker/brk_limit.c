/*
 * brk_limit.c - the counting step, and fixed-size tables of counters.
 */
#include "broker/brk_limit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_quota.h"
#include "common/err.h"

struct slot {
	char key[BRK_LIMIT_KEY_MAX];
	struct store_fail_count c;
	int64_t last;
};

struct brk_limit {
	pthread_mutex_t mu;
	struct brk_limit_rule rule;
	enum brk_limit_full full;
	struct slot slots[BRK_LIMIT_SLOTS];
	struct slot overflow;  /* BRK_LIMIT_SHARE: the new keys of a full table */
};

int brk_limit_count(struct store_fail_count *c, const struct brk_limit_rule *rule,
    enum brk_limit_op op, int64_t now, int64_t *retry_after_s)
{
	switch (op) {
	case BRK_LIMIT_TAKE:
		if (c->blocked_until > now) {
			*retry_after_s = c->blocked_until - now;
			return ZT_ERR_RATE_LIMITED;
		}
		if (c->failures == 0 || now - c->window_start >= rule->window_s) {
			c->window_start = now;
			c->failures = 0;
		}
		if (c->failures >= rule->max_failures) {
			/* The allowance is taken by attempts still in flight; if they
			 * fail, the block lasts this long. */
			*retry_after_s = rule->block_s;
			return ZT_ERR_RATE_LIMITED;
		}
		c->failures++;
		return 0;
	case BRK_LIMIT_FAIL:
		if (c->failures >= rule->max_failures && c->blocked_until <= now) {
			c->blocked_until = now + rule->block_s;
			c->failures = 0;
			return 1;
		}
		return 0;
	case BRK_LIMIT_GIVE:
		if (c->failures > 0) {
			c->failures--;
		}
		return 0;
	case BRK_LIMIT_CLEAR:
		c->failures = 0;
		return 0;
	}
	return ZT_ERR_INVALID;
}

struct brk_limit *brk_limit_new(const struct brk_limit_rule *rule, enum brk_limit_full full)
{
	struct brk_limit *l;

	if (rule == NULL || rule->max_failures < 1 || rule->window_s < 1 || rule->block_s < 1 ||
	    (full != BRK_LIMIT_EVICT && full != BRK_LIMIT_SHARE) ||
	    (l = calloc(1, sizeof(*l))) == NULL) {
		return NULL;
	}
	l->rule = *rule;
	l->full = full;
	pthread_mutex_init(&l->mu, NULL);
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

/* Whether s counts something that must not be forgotten at now: a
 * running block, or failures within the window. */
static int live(const struct brk_limit *l, const struct slot *s, int64_t now)
{
	return s->c.blocked_until > now ||
	    (s->c.failures > 0 && now - s->c.window_start < l->rule.window_s);
}

/* A slot for key: a free one, else the least recently used one whose
 * count lapsed, else (BRK_LIMIT_EVICT) the least recently used one that is
 * not blocking. NULL when there is none: the new key is then not counted
 * (BRK_LIMIT_EVICT), or counted under the overflow (BRK_LIMIT_SHARE). */
static struct slot *claim(struct brk_limit *l, const char *key, int64_t now)
{
	struct slot *lapsed = NULL, *idle = NULL, *best;

	for (size_t i = 0; i < BRK_LIMIT_SLOTS; i++) {
		struct slot *s = &l->slots[i];

		if (s->key[0] == '\0') {
			lapsed = s;
			break;
		}
		if (!live(l, s, now)) {
			if (lapsed == NULL || s->last < lapsed->last) {
				lapsed = s;
			}
		} else if (s->c.blocked_until <= now && (idle == NULL || s->last < idle->last)) {
			idle = s;
		}
	}
	best = lapsed != NULL ? lapsed : l->full == BRK_LIMIT_EVICT ? idle : NULL;
	if (best != NULL) {
		memset(best, 0, sizeof(*best));
		snprintf(best->key, sizeof(best->key), "%s", key);
	}
	return best;
}

int brk_limit_apply(struct brk_limit *l, const char *key, enum brk_limit_op op, int64_t now,
    int64_t *retry_after_s)
{
	char k[BRK_LIMIT_KEY_MAX];
	struct slot *s;
	int r = 0;

	/* Cut to the slot's size, so a long key finds its own slot. */
	snprintf(k, sizeof(k), "%s", key);
	pthread_mutex_lock(&l->mu);
	s = find(l, k);
	if (s == NULL && op == BRK_LIMIT_TAKE) {
		s = claim(l, k, now);
	}
	if (s == NULL && l->full == BRK_LIMIT_SHARE) {
		s = &l->overflow;
	}
	if (s != NULL) {
		r = brk_limit_count(&s->c, &l->rule, op, now, retry_after_s);
		s->last = now;
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}

const struct brk_limit_rule brk_limit_login_user = {
	BRK_LOGIN_MAX_USER, BRK_LOGIN_WINDOW_S, BRK_LOGIN_BLOCK_S,
};

int brk_limits_init(struct brk_limits *ls)
{
	static const struct brk_limit_rule login_addr = {
		BRK_LOGIN_MAX_ADDR, BRK_LOGIN_WINDOW_S, BRK_LOGIN_BLOCK_S,
	};
	static const struct brk_limit_rule token_addr = {
		BRK_TOKEN_FAIL_MAX_ADDR, BRK_TOKEN_FAIL_WINDOW_S, BRK_TOKEN_FAIL_QUIET_S,
	};

	memset(ls, 0, sizeof(*ls));
	/* An address's count may be lost to a flood from thousands of others,
	 * which have their own; a name's may not (brk_limit.h). */
	ls->login_addr = brk_limit_new(&login_addr, BRK_LIMIT_EVICT);
	ls->login_name = brk_limit_new(&brk_limit_login_user, BRK_LIMIT_SHARE);
	ls->token_addr = brk_limit_new(&token_addr, BRK_LIMIT_EVICT);
	ls->pw_checks = brk_quota_new(BRK_PW_CHECKS_MAX, BRK_PW_CHECKS_MAX);
	if (ls->login_addr == NULL || ls->login_name == NULL || ls->token_addr == NULL ||
	    ls->pw_checks == NULL) {
		brk_limits_fini(ls);
		return ZT_ERR_NOMEM;
	}
	return 0;
}

void brk_limits_fini(struct brk_limits *ls)
{
	brk_limit_free(ls->login_addr);
	brk_limit_free(ls->login_name);
	brk_limit_free(ls->token_addr);
	brk_quota_free(ls->pw_checks);
	memset(ls, 0, sizeof(*ls));
}
