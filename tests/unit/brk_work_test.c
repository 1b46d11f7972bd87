/*
 * brk_work_test.c - the worker pool's bounds: threads, then the queue,
 * then a refusal; a closed pool runs what it took and refuses the rest.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/brk_work.h"
#include "common/err.h"

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	int ran;
};

static void blocked_job(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->open) {
		pthread_cond_wait(&g->cv, &g->mu);
	}
	g->ran++;
	pthread_mutex_unlock(&g->mu);
}

static void test_bounds_and_close(void **state)
{
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct brk_work *w = brk_work_new(2, 1);

	(void)state;
	assert_non_null(w);
	/* Two run, one waits, the fourth is refused at once. */
	assert_int_equal(brk_work_run(w, blocked_job, &g), 0);
	assert_int_equal(brk_work_run(w, blocked_job, &g), 0);
	assert_int_equal(brk_work_run(w, blocked_job, &g), 0);
	assert_int_equal(brk_work_run(w, blocked_job, &g), ZT_ERR_RATE_LIMITED);
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	/* Close waits for every job it took. */
	brk_work_close(w);
	assert_int_equal(g.ran, 3);
	assert_int_equal(brk_work_run(w, blocked_job, &g), ZT_ERR_RATE_LIMITED);
	brk_work_free(w);
	brk_work_free(NULL);
}

static void count_job(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->mu);
	g->ran++;
	pthread_mutex_unlock(&g->mu);
}

static void test_many_small_jobs(void **state)
{
	struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0 };
	struct brk_work *w = brk_work_new(4, 1000);
	int accepted = 0;

	(void)state;
	assert_non_null(w);
	assert_null(brk_work_new(0, 10));
	for (int i = 0; i < 500; i++) {
		accepted += brk_work_run(w, count_job, &g) == 0;
	}
	brk_work_close(w);
	assert_int_equal(accepted, 500);
	assert_int_equal(g.ran, 500);
	brk_work_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_and_close),
		cmocka_unit_test(test_many_small_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
