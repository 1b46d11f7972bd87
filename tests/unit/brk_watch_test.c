/*
 * brk_watch_test.c - the housekeeping thread on a real store: rounds come
 * about once a second; a write through another connection to the same
 * file (another process, as `ztbroker admin` would be) and a kick are seen
 * as changes, this connection's own writes are not; no round runs after
 * stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/brk.h"
#include "broker/brk_watch.h"
#include "common/err.h"
#include "common/net.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct seen {
	pthread_mutex_t mu;
	int rounds, changed;
};

static void chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct seen *s = arg;

	(void)b;
	pthread_mutex_lock(&s->mu);
	s->rounds++;
	s->changed += rd->store_changed;
	pthread_mutex_unlock(&s->mu);
}

static struct seen snapshot(struct seen *s)
{
	struct seen v;

	pthread_mutex_lock(&s->mu);
	v = *s;
	pthread_mutex_unlock(&s->mu);
	return v;
}

/* Waits (up to 10 s) until the chore has run more than `rounds` times. */
static struct seen after_round(struct seen *s, int rounds)
{
	int64_t end = net_mono_ms() + 10000;
	struct seen v = snapshot(s);

	while (v.rounds <= rounds && net_mono_ms() < end) {
		usleep(20000);
		v = snapshot(s);
	}
	assert_true(v.rounds > rounds);
	return v;
}

static void test_rounds_and_changes(void **state)
{
	char dir[TU_DIR_MAX], db[TU_PATH_MAX];
	struct store *other = NULL;
	struct seen s, v;
	struct brk b;
	struct brk_watch *w;

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.mu, NULL);
	assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "brk-watch"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", dir);
	assert_int_equal(store_open(db, &b.store), 0);
	assert_int_equal(store_open(db, &other), 0);
	assert_non_null(w = brk_watch_new(&b));
	assert_int_equal(brk_watch_add(w, chore, &s), 0);
	assert_int_equal(brk_watch_start(w), 0);

	/* Rounds come on their own; the broker's own writes are no change. */
	v = after_round(&s, 0);
	assert_int_equal(store_role_put(b.store, "mine", "{}", 1), 0);
	v = after_round(&s, after_round(&s, v.rounds).rounds);
	assert_int_equal(v.changed, 0);
	/* Another connection's write is. */
	assert_int_equal(store_role_put(other, "theirs", "{}", 1), 0);
	v = after_round(&s, after_round(&s, v.rounds).rounds);
	assert_int_equal(v.changed, 1);
	/* So is a kick, which also comes at once. */
	brk_watch_kick(w);
	v = after_round(&s, v.rounds);
	assert_int_equal(v.changed, 2);
	brk_watch_stop(w);
	v = snapshot(&s);
	usleep(1500000);
	assert_int_equal(snapshot(&s).rounds, v.rounds); /* stopped: no more rounds */
	brk_watch_free(w);

	/* Chores are bounded. */
	assert_non_null(w = brk_watch_new(&b));
	for (int i = 0; i < BRK_WATCH_CHORES; i++) {
		assert_int_equal(brk_watch_add(w, chore, &s), 0);
	}
	assert_int_equal(brk_watch_add(w, chore, &s), ZT_ERR_TOO_LARGE);
	brk_watch_free(w); /* never started: no round at all */
	assert_int_equal(snapshot(&s).rounds, v.rounds);
	store_free(other);
	store_free(b.store);
	pthread_mutex_destroy(&s.mu);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_and_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
