/*
 * aud_agg_test.c - audit aggregation on a real store: the first event of a
 * kind is written at once with its details, repeats only as one summary
 * when the period ends (or at the final flush), kinds are told apart by
 * type, source, outcome and reason but not by actor, the kinds table is
 * bounded, and the chain still verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit/aud_agg.h"
#include "audit/aud_log.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

#define T0 1700000000000LL
#define PERIOD 60000

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
	struct store *st;
	struct aud_agg *g;
};

struct row {
	char type[64], actor[64], source[64], outcome[32];
	cJSON *details;
};

struct rows {
	struct row v[64];
	size_t n;
};

static int collect(const struct store_audit_row *r, void *arg)
{
	struct rows *rs = arg;
	struct row *w;

	if (rs->n >= sizeof(rs->v) / sizeof(rs->v[0])) {
		return ZT_ERR_TOO_LARGE;
	}
	w = &rs->v[rs->n++];
	snprintf(w->type, sizeof(w->type), "%s", r->type);
	snprintf(w->actor, sizeof(w->actor), "%s", r->actor);
	snprintf(w->source, sizeof(w->source), "%s", r->source);
	snprintf(w->outcome, sizeof(w->outcome), "%s", r->outcome);
	w->details = cJSON_Parse(r->details);
	return 0;
}

static void load(struct fixture *f, struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		cJSON_Delete(rs->v[i].details);
	}
	memset(rs, 0, sizeof(*rs));
	assert_int_equal(store_audit_each(f->st, 0, 0, collect, rs), 0);
}

static void clear(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		cJSON_Delete(rs->v[i].details);
	}
	rs->n = 0;
}

static double num(const cJSON *d, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, key));
}

static const char *str(const cJSON *d, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, key));
}

/* How many events the chain holds (all of which verify). */
static int64_t events(struct fixture *f)
{
	struct aud_verify_result res;

	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->st, NULL, &res), 0);
	return res.checked;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "aud-agg"), 0);
	snprintf(f->path, sizeof(f->path), "%s/zt.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st), 0);
	assert_non_null(f->g = aud_agg_new(PERIOD));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	aud_agg_free(f->g);
	store_free(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void test_first_then_summary(void **state)
{
	struct fixture *f = *state;
	struct aud_verify_result res;
	struct rows rs = { .n = 0 };
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "token", "0123456789ab");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(aud_agg_append(f->g, f->st, T0 + i, "auth.token", "anonymous",
		    "192.0.2.7", "failure", "invalid_token", d), 0);
	}
	cJSON_Delete(d);
	/* Only the first is written, with its own details and the reason. */
	load(f, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].type, "auth.token");
	assert_string_equal(str(rs.v[0].details, "token"), "0123456789ab");
	assert_string_equal(str(rs.v[0].details, "reason"), "invalid_token");
	/* Before the period ends, a flush writes nothing. */
	assert_int_equal(aud_agg_flush(f->g, f->st, T0 + PERIOD - 1, 0), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 1);
	/* After it, one summary counts the 99 repeats. */
	assert_int_equal(aud_agg_flush(f->g, f->st, T0 + PERIOD, 0), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.v[1].source, "192.0.2.7");
	assert_string_equal(rs.v[1].outcome, "failure");
	assert_string_equal(rs.v[1].actor, "anonymous");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rs.v[1].details,
	    "aggregated")));
	assert_int_equal((int)num(rs.v[1].details, "repeats"), 99);
	assert_int_equal((long long)num(rs.v[1].details, "first_ms"), T0 + 1);
	assert_int_equal((long long)num(rs.v[1].details, "last_ms"), T0 + 99);
	/* The kind is forgotten: the next event is written at once again. */
	assert_int_equal(aud_agg_append(f->g, f->st, T0 + PERIOD + 5, "auth.token", "anonymous",
	    "192.0.2.7", "failure", "invalid_token", NULL), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 3);
	/* A kind with no repeats leaves no summary. */
	assert_int_equal(aud_agg_flush(f->g, f->st, T0 + 10 * PERIOD, 0), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 3);
	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->st, NULL, &res), 0);
	clear(&rs);
}

static void test_kinds_apart(void **state)
{
	struct fixture *f = *state;
	struct rows rs = { .n = 0 };
	static const char *const kinds[][4] = {
		{ "auth.token", "192.0.2.7", "failure", "invalid_token" },
		{ "auth.token", "192.0.2.8", "failure", "invalid_token" },  /* source */
		{ "auth.token", "192.0.2.7", "blocked", "invalid_token" },  /* outcome */
		{ "auth.token", "192.0.2.7", "failure", "token_expired" },  /* reason */
		{ "user.enroll", "192.0.2.7", "failure", "invalid_token" }, /* type */
	};

	for (size_t k = 0; k < 5; k++) {
		for (int i = 0; i < 3; i++) {
			char actor[32];

			/* The actor is the client's claim: not part of the kind. */
			snprintf(actor, sizeof(actor), "agent:n%d", i);
			assert_int_equal(aud_agg_append(f->g, f->st, T0, kinds[k][0], actor,
			    kinds[k][1], kinds[k][2], kinds[k][3], NULL), 0);
		}
	}
	load(f, &rs);
	assert_int_equal(rs.n, 5);
	assert_string_equal(rs.v[0].actor, "agent:n0");
	/* The final flush writes every summary, whatever the time. */
	assert_int_equal(aud_agg_flush(f->g, f->st, T0, 1), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 10);
	for (size_t i = 5; i < 10; i++) {
		assert_int_equal((int)num(rs.v[i].details, "repeats"), 2);
		/* Actors differed: the summary does not pick one. */
		assert_string_equal(rs.v[i].actor, "anonymous");
	}
	clear(&rs);
}

/* Refusals of authenticated identities count each actor apart: one event
 * per actor and period, and a summary naming it. */
static void test_by_actor(void **state)
{
	struct fixture *f = *state;
	struct rows rs = { .n = 0 };

	for (int i = 0; i < 6; i++) {
		assert_int_equal(aud_agg_append_by_actor(f->g, f->st, T0 + i, "mcp.session",
		    i % 2 == 0 ? "bot:a" : "bot:b", "192.0.2.7", "failure", "no usable role", NULL),
		    0);
	}
	/* The same shape without the actor is a kind of its own. */
	assert_int_equal(aud_agg_append(f->g, f->st, T0, "mcp.session", "bot:a", "192.0.2.7",
	    "failure", "no usable role", NULL), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 3);
	assert_string_equal(rs.v[0].actor, "bot:a");
	assert_string_equal(rs.v[1].actor, "bot:b");
	assert_int_equal(aud_agg_flush(f->g, f->st, T0 + PERIOD + 5, 0), 0);
	load(f, &rs);
	assert_int_equal(rs.n, 5);
	for (size_t i = 3; i < 5; i++) {
		assert_int_equal((int)num(rs.v[i].details, "repeats"), 2);
		assert_true(strcmp(rs.v[i].actor, "bot:a") == 0 || strcmp(rs.v[i].actor, "bot:b") == 0);
	}
	assert_string_not_equal(rs.v[3].actor, rs.v[4].actor);
	clear(&rs);
}

static void test_kinds_bounded(void **state)
{
	struct fixture *f = *state;
	struct rows rs = { .n = 0 };
	char src[32];
	int64_t before = 0, after = 0;

	/* Fill the table with kinds; their first events are real events,
	 * counted through the verifier rather than collected. */
	for (int i = 0; i < AUD_AGG_KINDS; i++) {
		snprintf(src, sizeof(src), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(aud_agg_append(f->g, f->st, T0, "tunnel.join", "anonymous", src,
		    "failure", "token_unknown", NULL), 0);
	}
	before = events(f);
	/* 50 new sources past the bound cost one event, not 50. */
	for (int i = 0; i < 50; i++) {
		snprintf(src, sizeof(src), "172.16.0.%d", i);
		assert_int_equal(aud_agg_append(f->g, f->st, T0, "tunnel.join", "anonymous", src,
		    "failure", "token_unknown", NULL), 0);
	}
	after = events(f);
	assert_int_equal(after, before + 1);
	/* Its summary carries source "*" and the other 49. */
	assert_int_equal(aud_agg_flush(f->g, f->st, T0, 1), 0);
	assert_int_equal(store_audit_each(f->st, after, 0, collect, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].source, "*");
	assert_string_equal(str(rs.v[0].details, "reason"), "many sources");
	assert_int_equal((int)num(rs.v[0].details, "repeats"), 49);
	clear(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_then_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_actor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
