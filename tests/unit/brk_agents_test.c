/*
 * brk_agents_test.c - the agent registry on a real SQLite file: names bound
 * to keys (also across a reopen), claims fixed at the first hello and
 * later changes held for approval, host keys bound to one name, locks
 * that cut an agent off (after the cut-off callback), dials
 * queued for the current control connection only and its doorbell rung,
 * removal of an offline agent.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/brk_agents.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

#define PIN_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PIN_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HOSTKEY_1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
#define HOSTKEY_2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICv041V/x64EisqHM97CfZnJmmrTuhi0oz0vN2lOwGGU"
#define HOSTKEY_3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD"

struct fx {
	char dir[TU_DIR_MAX];
	char db[TU_PATH_MAX];
	struct store *st;
	struct brk_agents *a;
	int wake[2];
	struct brk_hello *h;    /* the last hello's findings */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->h = calloc(1, sizeof(*f->h)));
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-agents"), 0);
	snprintf(f->db, sizeof(f->db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(f->db, &f->st), 0);
	assert_non_null(f->a = brk_agents_new(f->st));
	assert_int_equal(pipe2(f->wake, O_NONBLOCK), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_agents_free(f->a);
	store_free(f->st);
	close(f->wake[0]);
	close(f->wake[1]);
	tu_rmtree(f->dir);
	free(f->h);
	free(f);
	return 0;
}

/* One ssh resource r named after agent name. */
static void set_resource(struct tun_resource *r, const char *name, const char *address,
    const char *key)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->kind, sizeof(r->kind), "ssh");
	snprintf(r->address, sizeof(r->address), "%s", address);
	snprintf(r->host_key, sizeof(r->host_key), "%s", key);
}

/* A hello of name with one resource of its name; each hello has its own
 * (a few may be alive at once). */
static struct tun_msg hello(const char *name)
{
	static struct tun_resource pool[8][2];
	static size_t next;
	struct tun_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TUN_HELLO;
	m.name = (char *)name;
	m.resources = pool[next++ % 8];
	m.nresources = 1;
	set_resource(&m.resources[0], name, "127.0.0.1:22", HOSTKEY_1);
	m.nlabels = 1;
	snprintf(m.labels[0].key, sizeof(m.labels[0].key), "env");
	snprintf(m.labels[0].value, sizeof(m.labels[0].value), "staging");
	return m;
}

/* A name is bound to the first key, in the store: another key is refused,
 * also by a registry reopened on the same file. */
static void test_binding(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("web1");
	struct brk_agent_info info;
	uint64_t g1 = 0, g2 = 0;

	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &g1, f->h), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 101, f->wake[1], &g2, f->h),
	    ZT_ERR_EXISTS);
	assert_true(brk_agents_bound_to(f->a, "web1", PIN_A));
	assert_false(brk_agents_bound_to(f->a, "web1", PIN_B));
	assert_false(brk_agents_bound_to(f->a, "web2", PIN_A));
	brk_agents_offline(f->a, "web1", g1);

	brk_agents_free(f->a);
	assert_non_null(f->a = brk_agents_new(f->st));
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.online, 0);
	assert_int_equal(info.claims.nlabels, 1);
	assert_string_equal(info.claims.labels[0].value, "staging");
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 102, f->wake[1], &g2, f->h),
	    ZT_ERR_EXISTS);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 103, f->wake[1], &g2, f->h), 0);
}

/* Dials go to the current connection and ring its doorbell; a superseded
 * connection takes nothing; an offline or unknown agent is refused; the
 * queue is bounded. */
static void test_dials(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("web1");
	struct brk_agent_dial ids[BRK_AGENTS_DIALS];
	char id[16], bell[64];
	uint64_t old = 0, gen = 0;

	assert_int_equal(brk_agents_dial(f->a, "nosuch", "nosuch", "d1"), ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &old, f->h), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 101, f->wake[1], &gen, f->h), 0);
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "d1"), 0);
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "d2"), 0);
	assert_true(read(f->wake[0], bell, sizeof(bell)) >= 1);
	assert_int_equal(brk_agents_take_dials(f->a, "web1", old, ids, BRK_AGENTS_DIALS), 0);
	assert_int_equal(brk_agents_take_dials(f->a, "web1", gen, ids, 1), 1);
	assert_string_equal(ids[0].id, "d1");
	assert_int_equal(brk_agents_take_dials(f->a, "web1", gen, ids, BRK_AGENTS_DIALS), 1);
	assert_string_equal(ids[0].id, "d2");
	for (int i = 0; i < BRK_AGENTS_DIALS; i++) {
		snprintf(id, sizeof(id), "q%d", i);
		assert_int_equal(brk_agents_dial(f->a, "web1", "web1", id), 0);
	}
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "over"), ZT_ERR_TOO_LARGE);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "late"), ZT_ERR_OFFLINE);
	assert_int_equal(brk_agents_take_dials(f->a, "web1", gen, ids, BRK_AGENTS_DIALS), 0);
}

/* An online agent cannot be removed; an offline one can, and its name is
 * then free for another key. */
static void test_remove(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("web1");
	uint64_t gen = 0;

	assert_int_equal(brk_agents_remove(f->a, "web1"), ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &gen, f->h), 0);
	assert_int_not_equal(brk_agents_remove(f->a, "web1"), 0);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(brk_agents_remove(f->a, "web1"), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 101, f->wake[1], &gen, f->h), 0);
	assert_true(brk_agents_bound_to(f->a, "web1", PIN_B));
}

/* The pending claims the store keeps for name (the registry keeps only
 * since when they wait). */
static const struct store_agent_claims *stored_pending(struct fx *f, const char *name)
{
	static struct store_agent row;

	assert_int_equal(store_agent_get(f->st, name, &row), 0);
	return &row.pending;
}

/* A hello of web1 as pin, from a known state, with labels "env=value"
 * (value NULL: none). */
static int hello_as(struct fx *f, const char *pin, const char *value, const char *target,
    const char *key, uint64_t *gen)
{
	struct tun_msg h = hello("web1");

	h.nlabels = value != NULL;
	if (value != NULL) {
		snprintf(h.labels[0].value, sizeof(h.labels[0].value), "%s", value);
	}
	set_resource(&h.resources[0], "web1", target, key);
	return brk_agents_online(f->a, &h, pin, 100, f->wake[1], gen, f->h);
}

/* The first hello's claims are approved; later ones that differ wait for
 * approval while the agent keeps its approved claims, and are applied once
 * approved; a new host key keeps the agent out until then. */
static void test_claims(void **state)
{
	struct fx *f = *state;
	struct brk_agent_info info;
	uint64_t gen = 0;

	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_FIRST);
	brk_agents_offline(f->a, "web1", gen);

	/* Relabelled: refused as a claim, the connection goes on. */
	assert_int_equal(hello_as(f, PIN_A, "prod", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_PENDING);
	assert_string_equal(f->h->before.claims.labels[0].value, "dev");
	assert_string_equal(f->h->pending.labels[0].value, "prod");
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.online, 1);
	assert_string_equal(info.claims.labels[0].value, "dev");
	assert_string_equal(stored_pending(f, "web1")->labels, "{\"env\":\"prod\"}");
	assert_true(info.pending_at > 0);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(hello_as(f, PIN_A, "prod", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_STILL_PENDING);
	brk_agents_offline(f->a, "web1", gen);

	/* Back to its approved claims: nothing waits; silent about labels:
	 * no claim about them. */
	assert_int_equal(hello_as(f, PIN_A, NULL, "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_APPROVED);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.pending_at, 0);
	assert_string_equal(info.claims.labels[0].value, "dev");
	brk_agents_offline(f->a, "web1", gen);

	/* Another target: pending, labels as approved. */
	assert_int_equal(hello_as(f, PIN_A, NULL, "10.0.0.9:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_PENDING);
	assert_string_equal(f->h->pending.labels[0].value, "dev");
	assert_string_equal(f->h->pending.resources[0].address, "10.0.0.9:22");
	brk_agents_offline(f->a, "web1", gen);

	/* Another host key: refused until approved. */
	assert_int_equal(hello_as(f, PIN_A, "prod", "10.0.0.9:22", HOSTKEY_2, &gen),
	    ZT_ERR_DENIED);
	assert_int_equal(f->h->host_key_changed, 1);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.online, 0);
	assert_non_null(strstr(stored_pending(f, "web1")->resources, HOSTKEY_2));
	assert_string_equal(info.claims.resources[0].host_key, HOSTKEY_1);

	/* Approved: applied at once to the registry. */
	assert_int_equal(store_agent_approve(f->st, "web1", NULL), 0);
	assert_int_equal(brk_agents_sync(f->a, "web1"), 0);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_string_equal(info.claims.labels[0].value, "prod");
	assert_string_equal(info.claims.resources[0].address, "10.0.0.9:22");
	assert_string_equal(info.claims.resources[0].host_key, HOSTKEY_2);
	assert_int_equal(info.pending_at, 0);
	assert_int_equal(hello_as(f, PIN_A, "prod", "10.0.0.9:22", HOSTKEY_2, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_APPROVED);
}

/* A host key is approved for one name: another name advertising it, new
 * or known, is refused and told whose it is. */
static void test_host_key_bound(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("db1");
	struct brk_agent_info info;
	uint64_t gen = 0;

	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 100, f->wake[1], &gen, f->h),
	    ZT_ERR_DENIED);
	assert_string_equal(f->h->key_owner, "web1");
	assert_int_equal(brk_agents_get(f->a, "db1", &info), ZT_ERR_NOT_FOUND);
	assert_int_equal(store_agent_get(f->st, "db1", &(struct store_agent){ 0 }),
	    ZT_ERR_NOT_FOUND);

	set_resource(&h.resources[0], "db1", "127.0.0.1:22", HOSTKEY_2);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 100, f->wake[1], &gen, f->h), 0);
	set_resource(&h.resources[0], "db1", "127.0.0.1:22", HOSTKEY_1);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 100, f->wake[1], &gen, f->h),
	    ZT_ERR_DENIED);
	assert_string_equal(f->h->key_owner, "web1");
	assert_int_equal(brk_agents_get(f->a, "db1", &info), 0);
	assert_string_equal(info.claims.resources[0].host_key, HOSTKEY_2);
	assert_int_equal(info.pending_at, 0);
}

/* db1 with its own host key and no labels. */
static int hello_db1(struct fx *f, const char *pin, uint64_t *gen)
{
	struct tun_msg h = hello("db1");

	h.nlabels = 0;
	set_resource(&h.resources[0], "db1", "127.0.0.1:22", HOSTKEY_2);
	return brk_agents_online(f->a, &h, pin, 100, f->wake[1], gen, f->h);
}

/* The labels of a join token win over the agent's: at its first hello,
 * and at a later join's if the token named it; a later join's token that
 * did not name it only claims them, held for approval. */
static void test_token_labels(void **state)
{
	struct fx *f = *state;
	struct brk_agent_info info;
	char left[64];
	uint64_t gen = 0;
	int named = 0;

	assert_int_equal(store_agent_join_put(f->st, "web1", PIN_A, "{\"env\":\"staging\"}", 0,
	    90), 0);
	assert_int_equal(hello_as(f, PIN_A, "prod", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->token_labels, 1);
	/* Its own labels are on record, waiting: not applied. */
	assert_int_equal(f->h->claims, BRK_CLAIMS_PENDING);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.claims.nlabels, 1);
	assert_string_equal(info.claims.labels[0].value, "staging");
	assert_string_equal(stored_pending(f, "web1")->labels, "{\"env\":\"prod\"}");
	assert_int_equal(store_agent_join_get(f->st, "web1", PIN_A, left, sizeof(left), &named),
	    ZT_ERR_NOT_FOUND);
	brk_agents_offline(f->a, "web1", gen);
	/* Silent about labels, with a token's: the first hello is approved. */
	assert_int_equal(store_agent_join_put(f->st, "db1", PIN_B, "{\"env\":\"prod\"}", 0, 90),
	    0);
	assert_int_equal(hello_db1(f, PIN_B, &gen), 0);
	assert_int_equal(f->h->claims, BRK_CLAIMS_FIRST);
	assert_int_equal(f->h->token_labels, 1);

	/* Joined again with a token that named it: its labels replace the
	 * approved ones; the agent's differing ones wait. */
	assert_int_equal(store_agent_join_put(f->st, "web1", PIN_A, "{\"env\":\"qa\"}", 1, 95),
	    0);
	assert_int_equal(hello_as(f, PIN_A, "prod", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->token_labels, 1);
	assert_int_equal(f->h->claims, BRK_CLAIMS_STILL_PENDING);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_string_equal(info.claims.labels[0].value, "qa");
	brk_agents_offline(f->a, "web1", gen);

	/* Joined again with a token for any name (a multi-use onboarding
	 * token in a compromised host's hands): its labels are a claim, not
	 * the approved ones, whatever the agent itself advertises. */
	assert_int_equal(store_agent_join_put(f->st, "web1", PIN_A, "{\"env\":\"prod2\"}", 0,
	    96), 0);
	assert_int_equal(hello_as(f, PIN_A, "qa", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(f->h->token_labels, 1);
	assert_int_equal(f->h->claims, BRK_CLAIMS_PENDING);
	assert_string_equal(f->h->before.claims.labels[0].value, "qa");
	assert_string_equal(f->h->pending.labels[0].value, "prod2");
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_string_equal(info.claims.labels[0].value, "qa");
	assert_int_equal(store_agent_join_get(f->st, "web1", PIN_A, left, sizeof(left), &named),
	    ZT_ERR_NOT_FOUND);
	/* Approved, they apply as any pending claim does. */
	assert_int_equal(store_agent_approve(f->st, "web1", NULL), 0);
	assert_int_equal(brk_agents_sync(f->a, "web1"), 0);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_string_equal(info.claims.labels[0].value, "prod2");
}

/* What another process wrote reaches the registry at a sync: a removed
 * agent is forgotten once offline, an approval is applied. */
static void test_sync(void **state)
{
	struct fx *f = *state;
	struct brk_agent_info info;
	struct store *other = NULL;
	uint64_t gen = 0;

	assert_int_equal(store_open(f->db, &other), 0);
	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(hello_db1(f, PIN_B, &gen), 0);
	brk_agents_offline(f->a, "db1", gen);
	assert_int_equal(store_agent_rm(other, "web1"), 0);
	assert_int_equal(store_agent_rm(other, "db1"), 0);
	assert_int_equal(brk_agents_sync(f->a, NULL), 0);
	assert_int_equal(brk_agents_get(f->a, "db1", &info), ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0); /* online: kept */
	store_free(other);
}

/* What the cut-off callback saw. */
struct cut_seen {
	struct brk_agents *a;
	int fd;                 /* a stream of the agent */
	int calls;
	char names[64];
	char why[32];
	int locked, sent;       /* then: the agent locked, its stream still up */
};

static void on_cut(const char *const *agents, size_t n, const char *why, void *arg)
{
	struct cut_seen *c = arg;

	c->calls++;
	for (size_t i = 0; i < n; i++) {
		snprintf(c->names + strlen(c->names), sizeof(c->names) - strlen(c->names), "%s%s",
		    i > 0 ? "," : "", agents[i]);
	}
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->locked = brk_agents_locked(c->a, "web1");
	c->sent = send(c->fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
}

/* A lock seen at a sync cuts the agent off: the cut-off callback runs
 * first, the agent already locked and its streams still up (a job's kill
 * travels over them); then its doorbell rings, dials and new streams are
 * refused, its streams are shut down, its hellos refused; unlocked, it is
 * let back. */
static void test_lock(void **state)
{
	struct fx *f = *state;
	struct brk_agent_stream *st = NULL;
	struct cut_seen seen = { 0 };
	int sp[2];
	uint64_t gen = 0;
	char bell[8];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	seen.a = f->a;
	seen.fd = sp[0];
	brk_agents_on_cut(f->a, on_cut, &seen);
	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(brk_agents_stream_add(f->a, "web1", sp[0], &st), 0);
	assert_int_equal(brk_agents_locked(f->a, "web1"), 0);
	assert_int_equal(brk_agents_sync(f->a, NULL), 0);
	assert_int_equal(seen.calls, 0); /* nothing locked, nothing cut */

	assert_int_equal(store_agent_set_locked(f->st, "web1", 1), 0);
	assert_int_equal(brk_agents_sync(f->a, "web1"), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.names, "web1");
	assert_string_equal(seen.why, "was locked");
	assert_int_equal(seen.locked, 1);
	assert_int_equal(seen.sent, 1);
	assert_int_equal(brk_agents_locked(f->a, "web1"), 1);
	assert_true(read(f->wake[0], bell, sizeof(bell)) >= 1);
	assert_int_equal(read(sp[1], bell, sizeof(bell)), 1); /* the callback's byte */
	assert_int_equal(read(sp[1], bell, sizeof(bell)), 0); /* then shut down */
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "d1"), ZT_ERR_LOCKED);
	brk_agents_stream_end(f->a, st);
	assert_int_equal(brk_agents_stream_add(f->a, "web1", sp[0], &st), ZT_ERR_LOCKED);
	assert_null(st);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen),
	    ZT_ERR_LOCKED);

	assert_int_equal(store_agent_set_locked(f->st, "web1", 0), 0);
	assert_int_equal(hello_as(f, PIN_A, "dev", "127.0.0.1:22", HOSTKEY_1, &gen), 0);
	assert_int_equal(brk_agents_locked(f->a, "web1"), 0);
	assert_int_equal(brk_agents_dial(f->a, "web1", "web1", "d2"), 0);
	close(sp[0]);
	close(sp[1]);
}

/* Resources: each found by name with its agent's labels and its own of
 * other keys (one that gives an agent's key another value is named); a resource name another agent holds, or another agent's name, is
 * refused; a dial names an approved resource of that agent only. */
static void test_resources(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("box"), d = hello("other");
	struct brk_resource res;
	uint64_t gen = 0;

	h.nresources = 2;
	set_resource(&h.resources[0], "db-1", "127.0.0.1:2201", HOSTKEY_1);
	set_resource(&h.resources[1], "db-2", "127.0.0.1:2202", HOSTKEY_2);
	snprintf(h.resources[1].labels[0].key, sizeof(h.resources[1].labels[0].key), "env");
	snprintf(h.resources[1].labels[0].value, sizeof(h.resources[1].labels[0].value), "prod");
	snprintf(h.resources[1].labels[1].key, sizeof(h.resources[1].labels[1].key), "tier");
	snprintf(h.resources[1].labels[1].value, sizeof(h.resources[1].labels[1].value), "db");
	h.resources[1].nlabels = 2;
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &gen, f->h), 0);
	assert_int_equal(brk_agents_resource(f->a, "db-1", &res), 0);
	assert_string_equal(res.agent, "box");
	assert_int_equal(res.online, 1);
	assert_int_equal(res.nlabels, 1);
	assert_string_equal(res.labels[0].value, "staging");
	assert_string_equal(res.label_clash, "");
	assert_int_equal(brk_agents_resource(f->a, "db-2", &res), 0);
	assert_string_equal(res.res.address, "127.0.0.1:2202");
	/* Its env=prod is not its agent's env=staging: the agent's stands,
	 * and the conflict is named (calls on it are refused). */
	assert_int_equal(res.nlabels, 2);
	assert_string_equal(res.labels[0].key, "env");
	assert_string_equal(res.labels[0].value, "staging");
	assert_string_equal(res.labels[1].key, "tier");
	assert_string_equal(res.label_clash, "env");
	assert_int_equal(brk_agents_resource(f->a, "box", &res), ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_agents_stored_resource(f->st, "db-2", &res), 0);
	assert_string_equal(res.agent, "box");
	assert_int_equal(brk_agents_dial(f->a, "box", "db-1", "d1"), 0);
	assert_int_equal(brk_agents_dial(f->a, "box", "nope", "d2"), ZT_ERR_NOT_FOUND);

	/* Another agent may not take a resource name, nor be called like one. */
	set_resource(&d.resources[0], "db-2", "127.0.0.1:22", HOSTKEY_3);
	assert_int_equal(brk_agents_online(f->a, &d, PIN_B, 100, f->wake[1], &gen, f->h),
	    ZT_ERR_DENIED);
	assert_string_equal(f->h->key_owner, "box");
	assert_string_equal(f->h->clash, "db-2");
	assert_int_equal(f->h->clash_by_name, 1);
	d.name = "db-1";
	set_resource(&d.resources[0], "x1", "127.0.0.1:22", HOSTKEY_3);
	assert_int_equal(brk_agents_online(f->a, &d, PIN_B, 100, f->wake[1], &gen, f->h),
	    ZT_ERR_DENIED);
	assert_string_equal(f->h->key_owner, "box");
	/* A known agent that adds a taken resource name is refused too. */
	d.name = "other";
	assert_int_equal(brk_agents_online(f->a, &d, PIN_B, 100, f->wake[1], &gen, f->h), 0);
	d.nresources = 2;
	set_resource(&d.resources[1], "db-1", "127.0.0.1:22", HOSTKEY_2);
	assert_int_equal(brk_agents_online(f->a, &d, PIN_B, 100, f->wake[1], &gen, f->h),
	    ZT_ERR_DENIED);
	assert_string_equal(f->h->clash, "db-1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_key_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests_name("brk_agents", tests, NULL, NULL);
}
