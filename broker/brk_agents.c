/*
 * brk_agents.c - the agent registry: entries in memory, bindings and
 * claims in the store.
 *
 * Two mutexes. mu guards the entries and is held only for memory work, so
 * dials, heartbeats and listings never wait for the disk. bind_mu
 * serialises the calls that change bindings or claims (online, remove,
 * sync) across their store work and their memory update, so that a
 * removal cannot slip between an agent's store check and its entry; it is
 * always taken before mu. Writes to the store happen at connection and
 * disconnection only, never per heartbeat.
 */
#include "broker/brk_agents.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/log.h"
#include "common/tls.h"
#include "store/store.h"

/* The store's columns hold what a hello carries. */
_Static_assert(STORE_AGENT_PIN_LEN == TLS_PIN_LEN, "pin sizes differ");
_Static_assert(STORE_NAME_MAX == TUN_NAME_MAX, "name sizes differ");
_Static_assert(TUN_RESOURCES_JSON_MAX <= STORE_AGENT_RESOURCES_MAX, "resources may not fit");
_Static_assert(TUN_LABELS_JSON_MAX <= STORE_AGENT_LABELS_MAX, "labels JSON may not fit");

struct entry {
	struct brk_agent_info info;
	char key_pin[TLS_PIN_LEN + 1];
	uint64_t gen;
	int wake_fd;                       /* -1 when offline */
	struct brk_agent_dial dials[BRK_AGENTS_DIALS];
	size_t ndials;
	int synced;                        /* seen in the store by the current sync */
	int cut;                           /* locked: to be cut off after the sync */
};

/* A stream connection of an agent, so that locking it ends the stream. */
struct brk_agent_stream {
	char name[TUN_NAME_MAX + 1];
	int fd;                           /* the tunnel's; its owner closes it */
	struct brk_agent_stream *prev, *next;
};

struct brk_agents {
	pthread_mutex_t mu;       /* the entries and streams below */
	pthread_mutex_t bind_mu;  /* online, remove and sync; taken before mu */
	struct store *st;         /* borrowed */
	struct entry *v;
	size_t n, cap;
	uint64_t next_gen;
	struct brk_agent_stream *streams;
	brk_agents_cut_fn *on_cut;        /* set before the registry is shared */
	void *on_cut_arg;
};

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

/* Room for one more entry: 0, ZT_ERR_TOO_LARGE (BRK_AGENTS_MAX) or
 * ZT_ERR_NOMEM. Caller holds the mutex (or owns a). */
static int reserve(struct brk_agents *a)
{
	size_t cap;
	struct entry *v;

	if (a->n < a->cap) {
		return 0;
	}
	cap = a->cap == 0 ? 16 : a->cap * 2;
	if (cap > BRK_AGENTS_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((v = realloc(a->v, cap * sizeof(*v))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	a->v = v;
	a->cap = cap;
	return 0;
}

/* Removes entry e. Caller holds the mutex. */
static void drop(struct brk_agents *a, struct entry *e)
{
	memmove(e, e + 1, (size_t)(a->v + a->n - (e + 1)) * sizeof(*e));
	a->n--;
}

/* Appends an offline entry; reserve() succeeded. */
static struct entry *append(struct brk_agents *a, const char *name, const char *key_pin)
{
	struct entry *e = &a->v[a->n++];

	memset(e, 0, sizeof(*e));
	snprintf(e->info.name, sizeof(e->info.name), "%s", name);
	snprintf(e->key_pin, sizeof(e->key_pin), "%s", key_pin);
	e->wake_fd = -1;
	return e;
}

/* Stored labels of agent name into pairs. The store was written by us,
 * but labels that break the wire format's rules are not trusted: none
 * then (logged). */
static void stored_labels(const char *name, const char *text, struct tun_label *l, size_t *n)
{
	char why[TUN_WHY_MAX];

	if (tun_labels_from_json_text(text, l, n, why, sizeof(why)) != 0) {
		log_warn("agents: the stored labels of %s are refused (%s); ignored", name, why);
	}
}

void brk_agent_claims_from_row(const char *name, const struct store_agent_claims *in,
    struct brk_agent_claims *out)
{
	char why[TUN_WHY_MAX];

	stored_labels(name, in->labels, out->labels, &out->nlabels);
	out->nresources = 0;
	/* Likewise for resources: a list that breaks the rules gives none. */
	if (in->resources[0] != '\0' && strcmp(in->resources, "[]") != 0 &&
	    tun_resources_from_json_text(in->resources, out->resources, &out->nresources, why,
	    sizeof(why)) != 0) {
		log_warn("agents: the stored resources of %s are refused (%s); ignored", name, why);
	}
}

void brk_agents_from_row(const struct store_agent *ag, struct brk_agent_info *info)
{
	snprintf(info->name, sizeof(info->name), "%s", ag->name);
	snprintf(info->key_pin, sizeof(info->key_pin), "%s", ag->key_pin);
	brk_agent_claims_from_row(ag->name, &ag->claims, &info->claims);
	info->pending_at = ag->pending_at;
	info->last_seen = ag->last_seen;
	info->locked = ag->locked;
}

/* One stored agent into the registry being built (no lock: not shared
 * yet). Past BRK_AGENTS_MAX the rest are only counted. */
static int load_one(const struct store_agent *ag, void *arg)
{
	struct brk_agents *a = arg;
	int r;

	if ((r = reserve(a)) == ZT_ERR_TOO_LARGE) {
		log_warn("agents: more than %d stored; %s is not listed until it connects",
		    BRK_AGENTS_MAX, ag->name);
		return 0;
	}
	if (r != 0) {
		return r;
	}
	brk_agents_from_row(ag, &append(a, ag->name, ag->key_pin)->info);
	return 0;
}

int brk_agents_stored(struct store *st, const char *name, struct brk_agent_info *out)
{
	struct store_agent *row = calloc(1, sizeof(*row));
	int r;

	if (row == NULL) {
		return ZT_ERR_NOMEM;
	}
	memset(out, 0, sizeof(*out));
	if ((r = store_agent_get(st, name, row)) == 0) {
		brk_agents_from_row(row, out);
	}
	free(row);
	return r;
}

struct stored_each {
	int (*fn)(const struct brk_agent_info *ag, void *arg);
	void *arg;
	struct brk_agent_info info;
};

static int call_stored(const struct store_agent *ag, void *arg)
{
	struct stored_each *c = arg;

	memset(&c->info, 0, sizeof(c->info));
	brk_agents_from_row(ag, &c->info);
	return c->fn(&c->info, c->arg);
}

int brk_agents_stored_each(struct store *st,
    int (*fn)(const struct brk_agent_info *ag, void *arg), void *arg)
{
	struct stored_each *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL) {
		return ZT_ERR_NOMEM;
	}
	c->fn = fn;
	c->arg = arg;
	r = store_agent_each(st, call_stored, c);
	free(c);
	return r;
}

struct brk_agents *brk_agents_new(struct store *st)
{
	struct brk_agents *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL || st == NULL) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->bind_mu, NULL);
	a->st = st;
	if ((r = store_agent_each(st, load_one, a)) != 0) {
		log_error("agents: cannot load the known agents: %s", zt_strerror(r));
		brk_agents_free(a);
		return NULL;
	}
	if (a->n > 0) {
		log_info("agents: %zu known agent%s, offline until they connect", a->n,
		    a->n == 1 ? "" : "s");
	}
	return a;
}

void brk_agents_free(struct brk_agents *a)
{
	if (a == NULL) {
		return;
	}
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->bind_mu);
	free(a->v);
	free(a);
}

/* Whether two label sets hold the same pairs, in any order. */
static int labels_equal(const struct tun_label *x, size_t nx, const struct tun_label *y,
    size_t ny)
{
	if (nx != ny) {
		return 0;
	}
	for (size_t i = 0; i < nx; i++) {
		size_t j = 0;

		while (j < ny && (strcmp(x[i].key, y[j].key) != 0 ||
		    strcmp(x[i].value, y[j].value) != 0)) {
			j++;
		}
		if (j == ny) {
			return 0;
		}
	}
	return 1;
}

/* Claims as the store keeps them; labels and resources in their one
 * spelling (tun_labels_json_text, tun_resources_json_text), so that the
 * same set is always the same text. */
static int claims_to_row(const struct brk_agent_claims *c, struct store_agent_claims *out)
{
	int r;

	if ((r = tun_resources_json_text(c->resources, c->nresources, out->resources,
	    sizeof(out->resources))) != 0) {
		return r;
	}
	return tun_labels_json_text(c->labels, c->nlabels, out->labels, sizeof(out->labels));
}

/* The claims of a hello, its resources in the one spelling that compares
 * (sorted, host keys canonical): through their stored text and back. */
static int claims_of_hello(const struct tun_msg *hello, struct brk_agent_claims *out)
{
	char *text = malloc(TUN_RESOURCES_JSON_MAX + 1), why[TUN_WHY_MAX];
	int r;

	memset(out, 0, sizeof(*out));
	if (text == NULL) {
		return ZT_ERR_NOMEM;
	}
	memcpy(out->labels, hello->labels, sizeof(out->labels));
	out->nlabels = hello->nlabels;
	if ((r = tun_resources_json_text(hello->resources, hello->nresources, text,
	    TUN_RESOURCES_JSON_MAX + 1)) == 0) {
		r = tun_resources_from_json_text(text, out->resources, &out->nresources, why,
		    sizeof(why));
	}
	free(text);
	return r;
}

/* Whether two resources are the same in every field (both canonical). */
static int resource_equal(const struct tun_resource *x, const struct tun_resource *y)
{
	return strcmp(x->name, y->name) == 0 && strcmp(x->kind, y->kind) == 0 &&
	    strcmp(x->address, y->address) == 0 && strcmp(x->host_key, y->host_key) == 0 &&
	    strcmp(x->cert_pin, y->cert_pin) == 0 &&
	    labels_equal(x->labels, x->nlabels, y->labels, y->nlabels);
}

/* Whether two lists (each sorted by name) hold the same resources. */
static int resources_equal(const struct brk_agent_claims *x, const struct brk_agent_claims *y)
{
	if (x->nresources != y->nresources) {
		return 0;
	}
	for (size_t i = 0; i < x->nresources; i++) {
		if (!resource_equal(&x->resources[i], &y->resources[i])) {
			return 0;
		}
	}
	return 1;
}

/* Whether a resource kept under its name got a new host key or
 * certificate pin: a new machine behind an approved name. */
static int key_changed(const struct brk_agent_claims *adv, const struct brk_agent_claims *ok)
{
	for (size_t i = 0; i < adv->nresources; i++) {
		const struct tun_resource *x = &adv->resources[i], *was = tun_resource_find(
		    ok->resources, ok->nresources, x->name);

		if (was != NULL && (strcmp(x->host_key, was->host_key) != 0 ||
		    strcmp(x->cert_pin, was->cert_pin) != 0)) {
			return 1;
		}
	}
	return 0;
}

/* Whether resources (stored text) clash with another agent's, as the
 * store says; res names which. 1 if so. */
static int clashes(struct brk_agents *a, const char *resources, const char *name,
    struct brk_hello *res)
{
	return store_agent_resource_owner(a->st, resources, name, res->key_owner, res->clash,
	    &res->clash_by_name) == 0;
}

/* A new name's first hello: binds it with the advertised claims approved,
 * the labels of its join token if it had some; row receives the new
 * row. */
static int bind_first(struct brk_agents *a, const char *name, const char *key_pin,
    const char *join_labels, int64_t now, struct brk_hello *res, struct store_agent *row)
{
	struct store_agent_claims *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL) {
		return ZT_ERR_NOMEM;
	}
	res->claims = BRK_CLAIMS_FIRST;
	if ((r = claims_to_row(&res->advertised, c)) != 0) {
		goto out;
	}
	if (join_labels[0] != '\0') {
		snprintf(c->labels, sizeof(c->labels), "%s", join_labels);
		res->token_labels = 1;
	}
	if ((r = store_agent_bind(a->st, name, key_pin, c, now, row)) == ZT_ERR_EXISTS &&
	    clashes(a, c->resources, name, res)) {
		r = ZT_ERR_DENIED;
	}
out:
	free(c);
	return r;
}

/* A known name's hello: what it claims (adv: its advertisement, or that
 * with the labels of a join token that did not name it) against its
 * approved claims, those of row (res->before). Differences are recorded
 * as pending (a resource that clashes with another agent's is refused
 * instead); a new host key is refused until approved. row follows what
 * the store wrote. */
static int check_claims(struct brk_agents *a, const char *name, const char *key_pin,
    struct store_agent *row, const struct brk_agent_claims *adv, int64_t now,
    struct brk_hello *res)
{
	const struct brk_agent_claims *ok = &res->before.claims;
	struct store_agent_claims *pend = NULL;
	int same_res = resources_equal(adv, ok), changed = key_changed(adv, ok), r;

	if ((adv->nlabels == 0 || labels_equal(adv->labels, adv->nlabels, ok->labels,
	    ok->nlabels)) && same_res) {
		res->claims = BRK_CLAIMS_APPROVED;
		/* Back to what was approved: nothing waits any more. */
		return row->pending_at > 0 ? store_agent_pend(a->st, name, key_pin, NULL, now, row) :
		    store_agent_seen(a->st, name, key_pin, now, row);
	}
	if ((pend = calloc(1, sizeof(*pend))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = claims_to_row(adv, pend)) != 0) {
		goto out;
	}
	if (!same_res && clashes(a, pend->resources, name, res)) {
		r = ZT_ERR_DENIED;
		goto out;
	}
	if (adv->nlabels == 0) {
		/* Silent about labels: the approved ones stand. */
		memcpy(pend->labels, row->claims.labels, sizeof(pend->labels));
	}
	res->claims = row->pending_at > 0 && strcmp(pend->labels, row->pending.labels) == 0 &&
	    strcmp(pend->resources, row->pending.resources) == 0 ?
	    BRK_CLAIMS_STILL_PENDING : BRK_CLAIMS_PENDING;
	if ((r = store_agent_pend(a->st, name, key_pin, pend, now, row)) == 0 && changed) {
		res->host_key_changed = 1;
		r = ZT_ERR_DENIED;
	}
out:
	free(pend);
	return r;
}

/* The store's part of a hello: binding, join labels, claims. The row is
 * read once; each write hands back the row it left. On 0 and on
 * ZT_ERR_DENIED, row is the agent's row after the hello (name "" if there
 * is none: a new name refused). */
static int hello_stored(struct brk_agents *a, const char *name, const char *key_pin,
    int64_t now, struct brk_hello *res, struct store_agent *row)
{
	const struct brk_agent_claims *claimed = &res->advertised;
	struct brk_agent_claims *token = NULL;
	char *join = NULL;
	int r, compare = 0, named = 0;

	if ((join = calloc(1, STORE_AGENT_LABELS_MAX + 1)) == NULL ||
	    (token = calloc(1, sizeof(*token))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = store_agent_join_get(a->st, name, key_pin, join,
	    STORE_AGENT_LABELS_MAX + 1, &named)) != 0 && r != ZT_ERR_NOT_FOUND) {
		goto out;
	}
	r = store_agent_get(a->st, name, row);
	if (r == ZT_ERR_NOT_FOUND) {
		r = bind_first(a, name, key_pin, join, now, res, row);
		/* Bound with its token's labels: what the agent said of labels is
		 * compared with them below, and waits if it differs. */
		compare = r == 0 && res->token_labels;
	} else if (r == 0 && strcmp(row->key_pin, key_pin) != 0) {
		r = ZT_ERR_EXISTS;
	} else if (r == 0 && row->locked) {
		r = ZT_ERR_LOCKED; /* cut off: what it claims is not even looked at */
	} else if (r == 0 && join[0] != '\0' && named) {
		/* A later join with a token bound to this name: the operator's
		 * word replaces the approved labels. */
		if ((r = store_agent_set_labels(a->st, name, key_pin, join, row)) == 0) {
			res->token_labels = 1;
		}
		compare = 1;
	} else if (r == 0) {
		/* A token that did not name it is anyone's who holds it (a
		 * multi-use onboarding token): its labels are claimed like the
		 * agent's own, and wait for approval if they differ. */
		if (join[0] != '\0') {
			*token = res->advertised;
			stored_labels(name, join, token->labels, &token->nlabels);
			claimed = token;
			res->token_labels = 1;
		}
		compare = 1;
	}
	if (r == 0 && compare) {
		int first = res->claims == BRK_CLAIMS_FIRST;

		brk_agents_from_row(row, &res->before);
		r = check_claims(a, name, key_pin, row, claimed, now, res);
		if (first && res->claims == BRK_CLAIMS_APPROVED) {
			res->claims = BRK_CLAIMS_FIRST;
		}
	}
	if (r != 0 && r != ZT_ERR_DENIED) {
		goto out;
	}
	if (res->token_labels) {
		store_agent_join_rm(a->st, name, key_pin); /* used: once only */
	}
	if (row->pending_at > 0) {
		brk_agent_claims_from_row(name, &row->pending, &res->pending);
	}
out:
	if (r != 0 && r != ZT_ERR_EXISTS && r != ZT_ERR_DENIED && r != ZT_ERR_LOCKED) {
		log_error("agents: cannot check %s against the store: %s; refusing it", name,
		    zt_strerror(r));
	}
	free(token);
	free(join);
	return r;
}

int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen, struct brk_hello *res)
{
	struct store_agent *row = NULL;
	struct entry *e;
	int r = 0;

	memset(res, 0, sizeof(*res));
	if ((r = claims_of_hello(hello, &res->advertised)) != 0) {
		/* The decoder checked them: only memory is short. */
		return r == ZT_ERR_NOMEM ? r : ZT_ERR_INVALID;
	}
	if ((row = calloc(1, sizeof(*row))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_lock(&a->bind_mu);
	/* Room first, so that the store never binds a name we then refuse;
	 * only calls holding bind_mu add entries, so the room stays. */
	pthread_mutex_lock(&a->mu);
	if (find(a, hello->name) == NULL) {
		r = reserve(a);
	}
	pthread_mutex_unlock(&a->mu);
	if (r != 0) {
		goto out;
	}
	r = hello_stored(a, hello->name, key_pin, now, res, row);
	/* The entry follows the row, refused or not (a pending claim shows at
	 * once); only an accepted hello turns it online. */
	if ((r != 0 && r != ZT_ERR_DENIED) || row->name[0] == '\0') {
		goto out;
	}
	pthread_mutex_lock(&a->mu);
	e = find(a, hello->name);
	if (e != NULL && strcmp(e->key_pin, key_pin) != 0) {
		/* The store just bound the name to this key: an operator
		 * removed the old binding (admin agents rm) since it was
		 * loaded. A connection under the old key is superseded. */
		log_warn("agents: %s is now bound to a new key; its old binding was removed",
		    hello->name);
		snprintf(e->key_pin, sizeof(e->key_pin), "%s", key_pin);
		e->info.online = 0;
		e->wake_fd = -1;
	}
	if (e == NULL) {
		e = append(a, hello->name, key_pin);
	}
	if (r == 0) {
		brk_agents_from_row(row, &e->info);
		e->info.online = 1;
		e->info.last_seen = now;
		e->wake_fd = wake_fd;
		e->ndials = 0;
		e->gen = *gen = ++a->next_gen;
	} else {
		int online = e->info.online;

		brk_agents_from_row(row, &e->info);
		e->info.online = online;
	}
	pthread_mutex_unlock(&a->mu);
out:
	pthread_mutex_unlock(&a->bind_mu);
	free(row);
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
	char pin[TLS_PIN_LEN + 1];
	int64_t last_seen = 0;
	struct entry *e;
	int write = 0, r;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL && e->gen == gen) {
		e->info.online = 0;
		e->wake_fd = -1;
		e->ndials = 0;
		memcpy(pin, e->key_pin, sizeof(pin));
		last_seen = e->info.last_seen;
		write = 1;
	}
	pthread_mutex_unlock(&a->mu);
	/* Outside the lock: the disk never holds up dials. A binding removed
	 * meanwhile is simply not found. */
	if (write && (r = store_agent_seen(a->st, name, pin, last_seen, NULL)) != 0 &&
	    r != ZT_ERR_NOT_FOUND) {
		log_warn("agents: cannot record when %s was last seen: %s", name, zt_strerror(r));
	}
}

int brk_agents_remove(struct brk_agents *a, const char *name)
{
	struct entry *e;
	int r = 0, known;

	pthread_mutex_lock(&a->bind_mu);
	pthread_mutex_lock(&a->mu);
	e = find(a, name);
	known = e != NULL;
	if (e != NULL && e->info.online) {
		r = ZT_ERR_EXISTS;
	}
	pthread_mutex_unlock(&a->mu);
	if (r != 0) {
		goto out;
	}
	/* Only online() turns an entry online, and it waits for bind_mu. The
	 * store may know a name the memory does not (past BRK_AGENTS_MAX), or
	 * no longer know one (removed by the offline admin verb). */
	if ((r = store_agent_rm(a->st, name)) != 0 && r != ZT_ERR_NOT_FOUND) {
		goto out;
	}
	r = known || r == 0 ? 0 : ZT_ERR_NOT_FOUND;
	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL) {
		drop(a, e);
	}
	pthread_mutex_unlock(&a->mu);
out:
	pthread_mutex_unlock(&a->bind_mu);
	return r;
}

/* Rings the doorbell of e's control connection, if it has one. A full
 * pipe already holds a wake-up: losing this byte is fine. Caller holds
 * mu. */
static void ring(struct entry *e)
{
	if (e->wake_fd >= 0) {
		ssize_t w = write(e->wake_fd, "d", 1);

		(void)w;
	}
}

/* A locked agent's connections end now: its control connection's thread
 * hears the doorbell and finds it locked (brk_agents_locked), its streams
 * are shut down under their pumps. Caller holds mu. */
static void cut_off(struct brk_agents *a, struct entry *e)
{
	ring(e);
	for (struct brk_agent_stream *st = a->streams; st != NULL; st = st->next) {
		if (strcmp(st->name, e->info.name) == 0) {
			shutdown(st->fd, SHUT_RDWR);
		}
	}
}

void brk_agents_on_cut(struct brk_agents *a, brk_agents_cut_fn *fn, void *arg)
{
	a->on_cut = fn;
	a->on_cut_arg = arg;
}

/* Cuts off the agents sync marked (locked): on_cut first, while their
 * streams still carry what it needs (a job's kill travels over its
 * connection), then their connections. Neither mutex is held across
 * on_cut, which may wait: dials, hellos and listings go on meanwhile, and
 * a locked agent can neither open a stream nor come online again. An
 * entry unlocked meanwhile is not cut; another sync's marks are its own. */
static void cut_marked(struct brk_agents *a)
{
	char (*names)[TUN_NAME_MAX + 1] = NULL;
	const char **list = NULL;
	size_t n = 0, k = 0;
	struct entry *e;

	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n; i++) {
		n += a->v[i].cut;
	}
	if (n > 0 && ((names = calloc(n, sizeof(*names))) == NULL ||
	    (list = calloc(n, sizeof(*list))) == NULL)) {
		log_warn("agents: out of memory: %zu locked agents are cut off before their "
		    "jobs end", n);
		for (size_t i = 0; i < a->n; i++) {
			if (a->v[i].cut) {
				cut_off(a, &a->v[i]);
				a->v[i].cut = 0;
			}
		}
	}
	for (size_t i = 0; i < a->n && list != NULL; i++) {
		if (a->v[i].cut) {
			memcpy(names[k], a->v[i].info.name, sizeof(names[k]));
			list[k] = names[k];
			k++;
		}
	}
	pthread_mutex_unlock(&a->mu);
	if (k > 0 && a->on_cut != NULL) {
		a->on_cut(list, k, "was locked", a->on_cut_arg);
	}
	pthread_mutex_lock(&a->mu);
	for (size_t j = 0; j < k; j++) {
		if ((e = find(a, names[j])) != NULL && e->cut) {
			if (e->info.locked) {
				cut_off(a, e);
			}
			e->cut = 0;
		}
	}
	pthread_mutex_unlock(&a->mu);
	free(list);
	free(names);
}

/* One stored row into the registry (sync): the entry's claims follow it;
 * a row it lacks is added, offline. Caller holds bind_mu, so no entry is
 * added or removed meanwhile; mu is taken for the memory work only. */
static int sync_one(const struct store_agent *ag, void *arg)
{
	struct brk_agents *a = arg;
	struct entry *e;
	int online;
	int64_t seen;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, ag->name)) == NULL) {
		if (reserve(a) != 0) {
			goto out; /* full: left to the store, as at load */
		}
		e = append(a, ag->name, ag->key_pin);
	} else if (strcmp(e->key_pin, ag->key_pin) != 0) {
		if (e->info.online) {
			goto out; /* rebound elsewhere; its connection ends on its own */
		}
		snprintf(e->key_pin, sizeof(e->key_pin), "%s", ag->key_pin);
	}
	online = e->info.online;
	seen = e->info.last_seen;
	brk_agents_from_row(ag, &e->info);
	e->info.online = online;
	e->info.last_seen = seen > ag->last_seen ? seen : ag->last_seen;
	e->synced = 1;
	e->cut = e->info.locked;
out:
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* Forgets the offline entries sync did not find in the store (removed by
 * another process), or the one of name. Caller holds bind_mu. */
static void sync_drop(struct brk_agents *a, const char *name)
{
	pthread_mutex_lock(&a->mu);
	for (size_t i = a->n; i-- > 0;) {
		struct entry *e = &a->v[i];

		if (!e->synced && !e->info.online &&
		    (name == NULL || strcmp(e->info.name, name) == 0)) {
			drop(a, e);
		}
	}
	pthread_mutex_unlock(&a->mu);
}

int brk_agents_sync(struct brk_agents *a, const char *name)
{
	struct store_agent *row = NULL;
	int r;

	pthread_mutex_lock(&a->bind_mu);
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->n; i++) {
		a->v[i].synced = 0;
	}
	pthread_mutex_unlock(&a->mu);
	if (name == NULL) {
		/* The rows come in pages, each handed over without the store's
		 * lock held; mu is held per row, never across the disk. */
		r = store_agent_each(a->st, sync_one, a);
	} else if ((row = calloc(1, sizeof(*row))) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if ((r = store_agent_get(a->st, name, row)) == 0) {
		sync_one(row, a);
	} else if (r == ZT_ERR_NOT_FOUND) {
		r = 0;
	}
	if (r == 0) {
		sync_drop(a, name);
	}
	pthread_mutex_unlock(&a->bind_mu);
	cut_marked(a);
	free(row);
	if (r != 0) {
		log_warn("agents: cannot read the store's agents: %s", zt_strerror(r));
	}
	return r;
}

/* The entry of name if the agent may be used (not locked): 0 with *e,
 * ZT_ERR_NOT_FOUND or ZT_ERR_LOCKED. Caller holds mu. */
static int find_usable(struct brk_agents *a, const char *name, struct entry **e)
{
	if ((*e = find(a, name)) == NULL) {
		return ZT_ERR_NOT_FOUND;
	}
	return (*e)->info.locked ? ZT_ERR_LOCKED : 0;
}

int brk_agents_dial(struct brk_agents *a, const char *name, const char *resource,
    const char *id)
{
	struct entry *e;
	int r;

	pthread_mutex_lock(&a->mu);
	if ((r = find_usable(a, name, &e)) == 0) {
		if (tun_resource_find(e->info.claims.resources, e->info.claims.nresources,
		    resource) == NULL) {
			r = ZT_ERR_NOT_FOUND; /* its approved claims changed meanwhile */
		} else if (!e->info.online || e->wake_fd < 0) {
			r = ZT_ERR_OFFLINE;
		} else if (e->ndials == BRK_AGENTS_DIALS || strlen(id) > TUN_ID_MAX) {
			r = ZT_ERR_TOO_LARGE;
		} else {
			struct brk_agent_dial *d = &e->dials[e->ndials++];

			snprintf(d->id, sizeof(d->id), "%s", id);
			snprintf(d->resource, sizeof(d->resource), "%s", resource);
			ring(e);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

size_t brk_agents_take_dials(struct brk_agents *a, const char *name, uint64_t gen,
    struct brk_agent_dial *out, size_t max)
{
	struct entry *e;
	size_t n = 0;

	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL && e->gen == gen) {
		n = e->ndials < max ? e->ndials : max;
		memcpy(out, e->dials, n * sizeof(e->dials[0]));
		memmove(e->dials, e->dials + n, (e->ndials - n) * sizeof(e->dials[0]));
		e->ndials -= n;
	}
	pthread_mutex_unlock(&a->mu);
	return n;
}

int brk_agents_locked(struct brk_agents *a, const char *name)
{
	struct entry *e;
	int r;

	pthread_mutex_lock(&a->mu);
	r = find_usable(a, name, &e) == ZT_ERR_LOCKED;
	pthread_mutex_unlock(&a->mu);
	return r;
}

int brk_agents_stream_add(struct brk_agents *a, const char *name, int fd,
    struct brk_agent_stream **out)
{
	struct brk_agent_stream *st = NULL;
	struct entry *e;
	int r;

	*out = NULL;
	pthread_mutex_lock(&a->mu);
	if ((r = find_usable(a, name, &e)) == 0 && (st = calloc(1, sizeof(*st))) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (r == 0) {
		snprintf(st->name, sizeof(st->name), "%s", name);
		st->fd = fd;
		st->next = a->streams;
		if (a->streams != NULL) {
			a->streams->prev = st;
		}
		a->streams = st;
		*out = st;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

void brk_agents_stream_end(struct brk_agents *a, struct brk_agent_stream *st)
{
	if (st == NULL) {
		return;
	}
	pthread_mutex_lock(&a->mu);
	*(st->prev != NULL ? &st->prev->next : &a->streams) = st->next;
	if (st->next != NULL) {
		st->next->prev = st->prev;
	}
	pthread_mutex_unlock(&a->mu);
	free(st);
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
	/* An empty list has no array, and qsort() must not see its NULL. */
	if (n > 1) {
		qsort(snap, n, sizeof(*snap), by_name);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = fn(&snap[i], arg);
	}
	free(snap);
	return r;
}

cJSON *brk_resource_json(const struct tun_resource *r)
{
	char fp[TUN_HOSTKEY_FP_MAX];
	cJSON *o = cJSON_CreateObject(), *l;

	if (r->host_key[0] != '\0' && tun_hostkey_fingerprint(r->host_key, fp, sizeof(fp)) != 0) {
		snprintf(fp, sizeof(fp), "?");
	}
	if (o == NULL || cJSON_AddStringToObject(o, "name", r->name) == NULL ||
	    cJSON_AddStringToObject(o, "kind", r->kind) == NULL ||
	    cJSON_AddStringToObject(o, "address", r->address) == NULL ||
	    (r->host_key[0] != '\0' && cJSON_AddStringToObject(o, "host_key", fp) == NULL) ||
	    (r->cert_pin[0] != '\0' &&
	    cJSON_AddStringToObject(o, "cert_pin", r->cert_pin) == NULL) ||
	    (l = cJSON_AddObjectToObject(o, "labels")) == NULL ||
	    tun_labels_to_json(r->labels, r->nlabels, l) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *brk_agent_claims_json(const struct brk_agent_claims *c)
{
	cJSON *o = cJSON_CreateObject(), *l, *arr, *x;

	if (o == NULL || (l = cJSON_AddObjectToObject(o, "labels")) == NULL ||
	    tun_labels_to_json(c->labels, c->nlabels, l) != 0 ||
	    (arr = cJSON_AddArrayToObject(o, "resources")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < c->nresources; i++) {
		if ((x = brk_resource_json(&c->resources[i])) == NULL ||
		    !cJSON_AddItemToArray(arr, x)) {
			cJSON_Delete(x);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

void brk_resource_of(const struct brk_agent_info *ag, size_t i, struct brk_resource *out)
{
	const struct tun_resource *r = &ag->claims.resources[i];

	memset(out, 0, sizeof(*out));
	out->res = *r;
	snprintf(out->agent, sizeof(out->agent), "%s", ag->name);
	out->online = ag->online;
	out->locked = ag->locked;
	out->last_seen = ag->last_seen;
	/* The agent's labels (its join token's, an administrator's word, when
	 * it had some); then the resource's own of other keys. A resource
	 * label that gives one of the agent's keys another value is a
	 * conflict no one resolved: label_clash names it, and the gate
	 * refuses calls on the resource until an operator does. */
	for (size_t k = 0; k < ag->claims.nlabels; k++) {
		const struct tun_label *l = &ag->claims.labels[k];

		for (size_t j = 0; j < r->nlabels; j++) {
			if (strcmp(r->labels[j].key, l->key) == 0 &&
			    strcmp(r->labels[j].value, l->value) != 0 && out->label_clash[0] == '\0') {
				snprintf(out->label_clash, sizeof(out->label_clash), "%s", l->key);
			}
		}
		out->labels[out->nlabels++] = *l;
	}
	for (size_t j = 0; j < r->nlabels; j++) {
		size_t k = 0;

		while (k < ag->claims.nlabels && strcmp(ag->claims.labels[k].key,
		    r->labels[j].key) != 0) {
			k++;
		}
		if (k == ag->claims.nlabels) {
			out->labels[out->nlabels++] = r->labels[j];
		}
	}
}

/* The index of resource name in ag's approved claims, or -1. */
static int resource_index(const struct brk_agent_info *ag, const char *name)
{
	const struct tun_resource *r = tun_resource_find(ag->claims.resources,
	    ag->claims.nresources, name);

	return r != NULL ? (int)(r - ag->claims.resources) : -1;
}

int brk_agents_resource(struct brk_agents *a, const char *name, struct brk_resource *out)
{
	int r = ZT_ERR_NOT_FOUND, i;

	pthread_mutex_lock(&a->mu);
	for (size_t k = 0; k < a->n && r != 0; k++) {
		if ((i = resource_index(&a->v[k].info, name)) >= 0) {
			brk_resource_of(&a->v[k].info, (size_t)i, out);
			r = 0;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

struct stored_find {
	const char *name;
	struct brk_resource *out;
};

static int find_stored(const struct brk_agent_info *ag, void *arg)
{
	struct stored_find *f = arg;
	int i = resource_index(ag, f->name);

	if (i < 0) {
		return 0;
	}
	brk_resource_of(ag, (size_t)i, f->out);
	return 1;
}

int brk_agents_stored_resource(struct store *st, const char *name, struct brk_resource *out)
{
	struct stored_find f = { name, out };
	int r = brk_agents_stored_each(st, find_stored, &f);

	return r == 1 ? 0 : r == 0 ? ZT_ERR_NOT_FOUND : r;
}
