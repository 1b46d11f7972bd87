/*
 * brk_agents.c - the agent registry: entries in memory, bindings and the
 * last advertisements in the store.
 *
 * Two mutexes. mu guards the entries and is held only for memory work, so
 * dials, heartbeats and listings never wait for the disk. bind_mu
 * serialises the calls that change bindings (online, remove) across their
 * store write and their memory update, so that a removal cannot slip
 * between an agent's store check and its entry; it is always taken before
 * mu. Writes to the store happen at connection and disconnection only,
 * never per heartbeat.
 */
#include "broker/brk_agents.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/store.h"
#include "common/tls.h"

/* The store's columns hold what a hello carries. */
_Static_assert(STORE_AGENT_PIN_LEN == TLS_PIN_LEN, "pin sizes differ");
_Static_assert(STORE_NAME_MAX == TUN_NAME_MAX, "name sizes differ");
_Static_assert(STORE_AGENT_TARGET_MAX == TUN_TARGET_MAX, "target sizes differ");
_Static_assert(STORE_AGENT_HOSTKEY_MAX == TUN_HOSTKEY_MAX, "host key sizes differ");
/* Labels as JSON: at most 32 pairs of 63-byte [A-Za-z0-9._-] strings. */
_Static_assert(TUN_LABELS_MAX * (2 * TUN_LABEL_MAX + 6) + 2 <= STORE_AGENT_LABELS_MAX,
    "labels JSON may not fit");

struct entry {
	struct brk_agent_info info;
	char key_pin[TLS_PIN_LEN + 1];
	uint64_t gen;
	int wake_fd;                       /* -1 when offline */
	char dials[BRK_AGENTS_DIALS][TUN_ID_MAX + 1];
	size_t ndials;
};

struct brk_agents {
	pthread_mutex_t mu;       /* the entries below */
	pthread_mutex_t bind_mu;  /* online and remove; taken before mu */
	struct store *st;         /* borrowed; NULL: memory only */
	struct entry *v;
	size_t n, cap;
	uint64_t next_gen;
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

/* The labels as the store keeps them: a JSON object's compact text. */
static int labels_to_json(const struct tun_label *l, size_t n, char *out, size_t outsz)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int r = 0;

	if (o == NULL || tun_labels_to_json(l, n, o) != 0 || (text = json_print(o)) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (snprintf(out, outsz, "%s", text) >= (int)outsz) {
		r = ZT_ERR_TOO_LARGE;
	}
	free(text);
	cJSON_Delete(o);
	return r;
}

/* Stored labels back into pairs. The store was written by us, but a pair
 * that does not fit the wire format's bounds is skipped (logged) rather
 * than trusted. */
static void labels_from_json(const char *name, const char *text, struct tun_label *l,
    size_t *n)
{
	cJSON *o = NULL;
	const cJSON *it;

	*n = 0;
	if (json_parse(text, strlen(text), STORE_AGENT_LABELS_MAX, 1, &o) != 0 ||
	    !cJSON_IsObject(o)) {
		log_warn("agents: stored labels of %s are not a JSON object; ignored", name);
		goto out;
	}
	cJSON_ArrayForEach(it, o) {
		size_t kn = it->string != NULL ? strlen(it->string) : 0;
		size_t vn = cJSON_IsString(it) ? strlen(it->valuestring) : 0;

		if (*n == TUN_LABELS_MAX || kn == 0 || kn > TUN_LABEL_MAX || vn == 0 ||
		    vn > TUN_LABEL_MAX) {
			log_warn("agents: a stored label of %s is out of bounds; ignored", name);
			continue;
		}
		memcpy(l[*n].key, it->string, kn + 1);
		memcpy(l[*n].value, it->valuestring, vn + 1);
		(*n)++;
	}
out:
	cJSON_Delete(o);
}

/* What a stored row says of an agent (info->name and online are left). */
static void info_from_row(const struct store_agent *ag, struct brk_agent_info *info)
{
	labels_from_json(ag->name, ag->labels, info->labels, &info->nlabels);
	snprintf(info->ssh_target, sizeof(info->ssh_target), "%s", ag->ssh_target);
	snprintf(info->ssh_host_key, sizeof(info->ssh_host_key), "%s", ag->ssh_host_key);
	info->last_seen = ag->last_seen;
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
	info_from_row(ag, &append(a, ag->name, ag->key_pin)->info);
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
		snprintf(out->name, sizeof(out->name), "%s", row->name);
		info_from_row(row, out);
	}
	free(row);
	return r;
}

struct brk_agents *brk_agents_new(struct store *st)
{
	struct brk_agents *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL) {
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->bind_mu, NULL);
	a->st = st;
	if (st != NULL && (r = store_agent_each(st, load_one, a)) != 0) {
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

/* Checks or makes the binding of hello's name to key_pin in the store and
 * records the advertisement. */
static int bind_stored(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now)
{
	struct store_agent *row = calloc(1, sizeof(*row));
	int r;

	if (row == NULL) {
		return ZT_ERR_NOMEM;
	}
	snprintf(row->name, sizeof(row->name), "%s", hello->name);
	snprintf(row->key_pin, sizeof(row->key_pin), "%s", key_pin);
	snprintf(row->ssh_target, sizeof(row->ssh_target), "%s", hello->ssh_target);
	snprintf(row->ssh_host_key, sizeof(row->ssh_host_key), "%s", hello->ssh_host_key);
	if ((r = labels_to_json(hello->labels, hello->nlabels, row->labels,
	    sizeof(row->labels))) == 0) {
		r = store_agent_bind(a->st, row, now);
	}
	if (r != 0 && r != ZT_ERR_EXISTS) {
		log_error("agents: cannot check the binding of %s: %s; refusing it", hello->name,
		    zt_strerror(r));
	}
	free(row);
	return r;
}

int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen)
{
	struct entry *e;
	int r = 0;

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
	if (a->st != NULL && (r = bind_stored(a, hello, key_pin, now)) != 0) {
		goto out;
	}
	pthread_mutex_lock(&a->mu);
	e = find(a, hello->name);
	if (e != NULL && strcmp(e->key_pin, key_pin) != 0) {
		if (a->st == NULL) {
			r = ZT_ERR_EXISTS;
			pthread_mutex_unlock(&a->mu);
			goto out;
		}
		/* The store just bound the name to this key: an operator
		 * removed the old binding (admin agents rm) since it was
		 * loaded. A connection under the old key is superseded. */
		log_warn("agents: %s is now bound to a new key; its old binding was removed",
		    hello->name);
		snprintf(e->key_pin, sizeof(e->key_pin), "%s", key_pin);
	}
	if (e == NULL) {
		e = append(a, hello->name, key_pin);
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
	pthread_mutex_unlock(&a->mu);
out:
	pthread_mutex_unlock(&a->bind_mu);
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
		write = a->st != NULL;
	}
	pthread_mutex_unlock(&a->mu);
	/* Outside the lock: the disk never holds up dials. A binding removed
	 * meanwhile is simply not found. */
	if (write && (r = store_agent_seen(a->st, name, pin, last_seen)) != 0 &&
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
	if (a->st != NULL) {
		if ((r = store_agent_rm(a->st, name)) != 0 && r != ZT_ERR_NOT_FOUND) {
			goto out;
		}
		known |= r == 0;
	}
	r = known ? 0 : ZT_ERR_NOT_FOUND;
	pthread_mutex_lock(&a->mu);
	if ((e = find(a, name)) != NULL) {
		memmove(e, e + 1, (size_t)(a->v + a->n - (e + 1)) * sizeof(*e));
		a->n--;
	}
	pthread_mutex_unlock(&a->mu);
out:
	pthread_mutex_unlock(&a->bind_mu);
	return r;
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
