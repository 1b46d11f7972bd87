/*
 * brk_agents_test.c - the agent registry on a real SQLite file: names bound
 * to keys (also across a reopen), dials queued for the current control
 * connection only and its doorbell rung, removal of an offline agent.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/brk_agents.h"
#include "common/err.h"
#include "common/store.h"
#include "tests/unit/testutil.h"

#define PIN_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PIN_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fx {
	char dir[TU_DIR_MAX];
	char db[TU_PATH_MAX];
	struct store *st;
	struct brk_agents *a;
	int wake[2];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
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
	free(f);
	return 0;
}

static struct tun_msg hello(const char *name)
{
	struct tun_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TUN_HELLO;
	m.name = (char *)name;
	m.ssh_target = "127.0.0.1:22";
	m.ssh_host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
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

	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &g1), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 101, f->wake[1], &g2),
	    ZT_ERR_EXISTS);
	assert_true(brk_agents_bound_to(f->a, "web1", PIN_A));
	assert_false(brk_agents_bound_to(f->a, "web1", PIN_B));
	assert_false(brk_agents_bound_to(f->a, "web2", PIN_A));
	brk_agents_offline(f->a, "web1", g1);

	brk_agents_free(f->a);
	assert_non_null(f->a = brk_agents_new(f->st));
	assert_int_equal(brk_agents_get(f->a, "web1", &info), 0);
	assert_int_equal(info.online, 0);
	assert_int_equal(info.nlabels, 1);
	assert_string_equal(info.labels[0].value, "staging");
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 102, f->wake[1], &g2),
	    ZT_ERR_EXISTS);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 103, f->wake[1], &g2), 0);
}

/* Dials go to the current connection and ring its doorbell; a superseded
 * connection takes nothing; an offline or unknown agent is refused; the
 * queue is bounded. */
static void test_dials(void **state)
{
	struct fx *f = *state;
	struct tun_msg h = hello("web1");
	char ids[BRK_AGENTS_DIALS][TUN_ID_MAX + 1], id[16], bell[64];
	uint64_t old = 0, gen = 0;

	assert_int_equal(brk_agents_dial(f->a, "nosuch", "d1"), ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &old), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 101, f->wake[1], &gen), 0);
	assert_int_equal(brk_agents_dial(f->a, "web1", "d1"), 0);
	assert_int_equal(brk_agents_dial(f->a, "web1", "d2"), 0);
	assert_true(read(f->wake[0], bell, sizeof(bell)) >= 1);
	assert_int_equal(brk_agents_take_dials(f->a, "web1", old, ids, BRK_AGENTS_DIALS), 0);
	assert_int_equal(brk_agents_take_dials(f->a, "web1", gen, ids, 1), 1);
	assert_string_equal(ids[0], "d1");
	assert_int_equal(brk_agents_take_dials(f->a, "web1", gen, ids, BRK_AGENTS_DIALS), 1);
	assert_string_equal(ids[0], "d2");
	for (int i = 0; i < BRK_AGENTS_DIALS; i++) {
		snprintf(id, sizeof(id), "q%d", i);
		assert_int_equal(brk_agents_dial(f->a, "web1", id), 0);
	}
	assert_int_equal(brk_agents_dial(f->a, "web1", "over"), ZT_ERR_TOO_LARGE);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(brk_agents_dial(f->a, "web1", "late"), ZT_ERR_OFFLINE);
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
	assert_int_equal(brk_agents_online(f->a, &h, PIN_A, 100, f->wake[1], &gen), 0);
	assert_int_not_equal(brk_agents_remove(f->a, "web1"), 0);
	brk_agents_offline(f->a, "web1", gen);
	assert_int_equal(brk_agents_remove(f->a, "web1"), 0);
	assert_int_equal(brk_agents_online(f->a, &h, PIN_B, 101, f->wake[1], &gen), 0);
	assert_true(brk_agents_bound_to(f->a, "web1", PIN_B));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	};

	return cmocka_run_group_tests_name("brk_agents", tests, NULL, NULL);
}
