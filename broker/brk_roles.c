/*
 * brk_roles.c - the stored roles, parsed once per change (brk_roles.h).
 */
#include "broker/brk_roles.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/log.h"
#include "policy/pol_role.h"
#include "store/store.h"

/* One generation of the stored roles, in name order. Immutable once
 * made; freed by whoever releases the last reference. */
struct brk_roleset {
	atomic_int refs;
	int64_t gen;               /* the store's role generation it was read at */
	struct pol_role **roles;
	size_t n, cap;
};

struct brk_roles {
	struct store *st;
	pthread_mutex_t mu;        /* guards cur */
	struct brk_roleset *cur;   /* the newest generation read, or NULL */
};

int brk_roles_new(struct store *st, struct brk_roles **out)
{
	struct brk_roles *rc = calloc(1, sizeof(*rc));

	*out = NULL;
	if (rc == NULL) {
		return ZT_ERR_NOMEM;
	}
	rc->st = st;
	pthread_mutex_init(&rc->mu, NULL);
	*out = rc;
	return 0;
}

void brk_roles_free(struct brk_roles *rc)
{
	if (rc == NULL) {
		return;
	}
	brk_roleset_release(rc->cur);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
}

void brk_roleset_release(struct brk_roleset *set)
{
	if (set == NULL || atomic_fetch_sub(&set->refs, 1) > 1) {
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		pol_role_free(set->roles[i]);
	}
	free(set->roles);
	free(set);
}

/* Parses the stored document of role name onto set: 0, 0 with nothing
 * added when the role went away since it was listed, or an error. */
static int add_role(struct store *st, struct brk_roleset *set, const char *name)
{
	char *doc = NULL, err[128];
	struct pol_role *role = NULL;
	cJSON *json = NULL;
	int r;

	if ((r = store_role_get(st, name, &doc)) != 0) {
		return r == ZT_ERR_NOT_FOUND ? 0 : r;
	}
	json = cJSON_Parse(doc);
	free(doc);
	r = json != NULL ? pol_role_from_json(json, &role, err, sizeof(err)) : ZT_ERR_INVALID;
	cJSON_Delete(json);
	if (r != 0) {
		log_error("roles: the stored role %s does not parse: %s", name,
		    r == ZT_ERR_INVALID ? "not a role document" : zt_strerror(r));
		return r;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap > 0 ? set->cap * 2 : 8;
		struct pol_role **grown = realloc(set->roles, cap * sizeof(*grown));

		if (grown == NULL) {
			pol_role_free(role);
			return ZT_ERR_NOMEM;
		}
		set->roles = grown;
		set->cap = cap;
	}
	set->roles[set->n++] = role;
	return 0;
}

struct load_ctx {
	struct store *st;
	struct brk_roleset *set;
};

static int load_one(const struct store_role_ref *ref, void *arg)
{
	struct load_ctx *c = arg;

	return add_role(c->st, c->set, ref->name);
}

/* Every stored role, parsed, as generation gen: 0 or an error. */
static int load(struct store *st, int64_t gen, struct brk_roleset **out)
{
	struct brk_roleset *set = calloc(1, sizeof(*set));
	struct load_ctx c = { st, set };
	int r;

	*out = NULL;
	if (set == NULL) {
		return ZT_ERR_NOMEM;
	}
	atomic_init(&set->refs, 1);
	set->gen = gen;
	if ((r = store_role_each(st, load_one, &c)) != 0) {
		brk_roleset_release(set);
		return r;
	}
	*out = set;
	return 0;
}

int brk_roles_current(struct brk_roles *rc, struct brk_roleset **out)
{
	struct brk_roleset *fresh = NULL;
	int64_t gen = 0;
	int r;

	*out = NULL;
	if ((r = store_role_generation(rc->st, &gen)) != 0) {
		return r;
	}
	pthread_mutex_lock(&rc->mu);
	/* A role changed in between is read at its newer generation: the
	 * next call, seeing that, reads again. */
	if (rc->cur == NULL || rc->cur->gen != gen) {
		if ((r = load(rc->st, gen, &fresh)) != 0) {
			pthread_mutex_unlock(&rc->mu);
			return r;
		}
		brk_roleset_release(rc->cur);
		rc->cur = fresh;
	}
	atomic_fetch_add(&rc->cur->refs, 1);
	*out = rc->cur;
	pthread_mutex_unlock(&rc->mu);
	return 0;
}

int64_t brk_roleset_generation(const struct brk_roleset *set)
{
	return set != NULL ? set->gen : 0;
}

const struct pol_role *brk_roleset_find(const struct brk_roleset *set, const char *name)
{
	size_t lo = 0, hi = set->n;

	/* In name order, as store_role_each lists them. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, pol_role_name(set->roles[mid]));

		if (c == 0) {
			return set->roles[mid];
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return NULL;
}
