/*
 * brk_mcpretain_test.c - the MCP transport's retained events: the victims
 * its per-class heaps choose, in each scope (a session, an identity, all),
 * are those of the rule (brk_mcpretain.c), as a plain scan over every
 * stream finds them, through thousands of random steps (events kept,
 * readers coming, sending and going, streams ending and leaving their
 * session).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_mcphttp_int.h"
#include "common/err.h"

#define SESSIONS 4         /* of two identities: session k is identity k % 2's */
#define IDENTITIES 2
#define STREAMS 24
#define EVENTS_MAX 64      /* a model stream's events; far below the bound */
#define SESSION_MAX 1000   /* bytes */
#define IDENTITY_MAX 1500
#define ALL_MAX 2000

/* What the rule says, kept apart from the code under test: each stream's
 * events (sequence and size), and who reads it. */
struct mstream {
	int session;
	uint64_t born;
	int reader, finished, detached;
	uint64_t sent_seq, next_seq;
	size_t n;
	uint64_t seq[EVENTS_MAX];
	size_t size[EVENTS_MAX];
};

struct model {
	struct mstream s[STREAMS];
	size_t n;
	int victims[4];            /* victims chosen, per class */
	int full[3];               /* scopes that needed room: session, identity, all */
	int refused;               /* events that did not fit */
};

/* Which streams a scope holds: one session, one identity, or all. */
struct mscope {
	int session, identity; /* -1: any */
};

static int m_in(const struct mstream *s, struct mscope sc)
{
	return (sc.session < 0 || s->session == sc.session) &&
	    (sc.identity < 0 || s->session % IDENTITIES == sc.identity);
}

static size_t m_bytes(const struct model *m, struct mscope sc)
{
	size_t b = 0;

	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < m->s[i].n && m_in(&m->s[i], sc); k++) {
			b += m->s[i].size[k];
		}
	}
	return b;
}

static int m_class(const struct mstream *s)
{
	if (s->detached || s->n == 0) {
		return 0;
	}
	if (s->reader) {
		return s->seq[0] <= s->sent_seq ? 2 : 0;
	}
	return s->finished ? 1 : 3;
}

/* The scan the transport made before it kept heaps: the oldest stream of
 * the lowest class in the scope. */
static int m_victim(const struct model *m, struct mscope sc)
{
	int best = -1, best_class = 4, c;

	for (size_t i = 0; i < m->n; i++) {
		if (!m_in(&m->s[i], sc)) {
			continue;
		}
		c = m_class(&m->s[i]);
		if (c != 0 && (c < best_class ||
		    (c == best_class && m->s[i].born < m->s[best].born))) {
			best = (int)i;
			best_class = c;
		}
	}
	return best;
}

static void m_drop_head(struct mstream *s)
{
	memmove(s->seq, s->seq + 1, (s->n - 1) * sizeof(s->seq[0]));
	memmove(s->size, s->size + 1, (s->n - 1) * sizeof(s->size[0]));
	s->n--;
}

/* The first scope of a stream of session k that need more bytes would
 * overflow (0 session, 1 identity, 2 all), or -1. */
static int m_over(const struct model *m, int k, size_t need, struct mscope *sc)
{
	const struct mscope scopes[3] = { { k, -1 }, { -1, k % IDENTITIES }, { -1, -1 } };
	const size_t max[3] = { SESSION_MAX, IDENTITY_MAX, ALL_MAX };

	for (int i = 0; i < 3; i++) {
		if (m_bytes(m, scopes[i]) + need > max[i]) {
			*sc = scopes[i];
			return i;
		}
	}
	return -1;
}

/* Appends an event of size bytes to stream i as the rule says: 1 if kept. */
static int m_append(struct model *m, size_t i, size_t size)
{
	struct mstream *s = &m->s[i];
	uint64_t seq = s->next_seq++;
	struct mscope sc;
	int v, c, f;

	while ((f = m_over(m, s->session, size, &sc)) >= 0) {
		m->full[f]++;
		v = m_victim(m, sc);
		if (v < 0) {
			m->refused++;
			return 0;
		}
		c = m_class(&m->s[v]);
		m->victims[c]++;
		while (m_class(&m->s[v]) == c && m_over(m, s->session, size, &sc) >= 0) {
			m_drop_head(&m->s[v]);
		}
	}
	assert_true(s->n < EVENTS_MAX);
	s->seq[s->n] = seq;
	s->size[s->n++] = size;
	return 1;
}

/* The code under test: the transport's structures, without a daemon. */
struct real {
	struct brk_mcphttp *h;
	struct hident *id[IDENTITIES];
	struct hsession *hs[SESSIONS];
	struct stream *s[STREAMS];
	struct conn reader;        /* only its address matters */
};

static void r_append(struct real *r, size_t i, size_t size, int kept)
{
	struct stream *s = r->s[i];
	struct event *e = calloc(1, sizeof(*e) + 1);

	assert_non_null(e);
	e->seq = s->next_seq++;
	e->size = size;
	if (retain_append(s, e) != 0) {
		free(e);
		assert_false(kept);
		return;
	}
	assert_true(kept);
}

/* Both sides keep the same events of every stream, and count them alike. */
static void same(const struct model *m, const struct real *r)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct event *e = r->s[i]->head;

		for (size_t k = 0; k < m->s[i].n; k++, e = e->next) {
			assert_non_null(e);
			assert_int_equal(e->seq, m->s[i].seq[k]);
		}
		assert_null(e);
	}
	for (int k = 0; k < SESSIONS; k++) {
		assert_int_equal(r->hs[k]->kept.bytes, m_bytes(m, (struct mscope){ k, -1 }));
	}
	for (int k = 0; k < IDENTITIES; k++) {
		assert_int_equal(r->id[k]->kept.bytes, m_bytes(m, (struct mscope){ -1, k }));
	}
	assert_int_equal(r->h->kept.bytes, m_bytes(m, (struct mscope){ -1, -1 }));
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

/* A new stream in slot i (m->n: a new slot) of a random session. */
static void new_stream(struct model *m, struct real *r, size_t i)
{
	struct mstream *ms = &m->s[i];
	struct stream *s = calloc(1, sizeof(*s));
	int k = (int)rnd(SESSIONS);

	assert_non_null(s);
	s->hs = r->hs[k];
	s->born = ++r->h->streams_born;
	s->next_seq = 1;
	assert_int_equal(retain_join(s), 0);
	r->s[i] = s;
	memset(ms, 0, sizeof(*ms));
	ms->session = k;
	ms->born = s->born;
	ms->next_seq = 1;
	if (i == m->n) {
		m->n++;
	}
}

/* A stream that left its session is freed once nobody holds it: its
 * events go, and its slot takes a new stream. */
static void free_stream(struct model *m, struct real *r, size_t i)
{
	while (r->s[i]->head != NULL) {
		retain_drop_head(r->s[i]);
	}
	free(r->s[i]);
	m->s[i].n = 0;
	new_stream(m, r, i);
}

static void test_same_victims_as_a_scan(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	struct real r;
	size_t i, size;

	(void)state;
	assert_non_null(m);
	memset(&r, 0, sizeof(r));
	assert_non_null(r.h = calloc(1, sizeof(*r.h)));
	retain_scope_init(&r.h->kept, SCOPE_ALL, ALL_MAX);
	for (int k = 0; k < IDENTITIES; k++) {
		assert_non_null(r.id[k] = calloc(1, sizeof(*r.id[k])));
		retain_scope_init(&r.id[k]->kept, SCOPE_IDENTITY, IDENTITY_MAX);
	}
	for (int k = 0; k < SESSIONS; k++) {
		assert_non_null(r.hs[k] = calloc(1, sizeof(*r.hs[k])));
		r.hs[k]->h = r.h;
		r.hs[k]->ident = r.id[k % IDENTITIES];
		retain_scope_init(&r.hs[k]->kept, SCOPE_SESSION, SESSION_MAX);
	}
	for (int step = 0; step < 20000; step++) {
		if (m->n < STREAMS && (m->n < 2 || rnd(20) == 0)) {
			new_stream(m, &r, m->n);
		}
		i = rnd((uint32_t)m->n);
		switch (rnd(20)) {
		case 0: /* a reader comes, resuming from a retained event or 0 */
			m->s[i].reader = 1;
			m->s[i].sent_seq = m->s[i].n > 0 ? m->s[i].seq[rnd((uint32_t)m->s[i].n)] : 0;
			r.s[i]->reader = &r.reader;
			r.s[i]->sent_seq = m->s[i].sent_seq;
			retain_update(r.s[i]);
			break;
		case 1:
		case 2: /* the reader goes */
			m->s[i].reader = 0;
			r.s[i]->reader = NULL;
			retain_update(r.s[i]);
			break;
		case 3: /* the stream ends */
			m->s[i].finished = r.s[i]->finished = 1;
			retain_update(r.s[i]);
			break;
		case 4: /* it leaves its session; or, having left, is freed */
			if (!m->s[i].detached) {
				m->s[i].detached = 1;
				retain_leave(r.s[i]);
			} else {
				free_stream(m, &r, i);
			}
			break;
		case 5:
		case 6:
		case 7:
		case 8:
		case 9: /* the reader was sent the next events */
			if (m->s[i].reader && m->s[i].sent_seq + 1 < m->s[i].next_seq) {
				m->s[i].sent_seq += 1 + rnd((uint32_t)(m->s[i].next_seq - 1 -
				    m->s[i].sent_seq));
				r.s[i]->sent_seq = m->s[i].sent_seq;
				retain_update(r.s[i]);
			}
			break;
		default: /* an event */
			if (m->s[i].n + 1 >= EVENTS_MAX) {
				break;
			}
			size = 1 + rnd(rnd(10) == 0 ? 1200 : 300);
			r_append(&r, i, size, m_append(m, i, size));
			break;
		}
		same(m, &r);
	}
	/* The steps went through every case of the rule. */
	for (int c = 1; c <= 3; c++) {
		assert_true(m->victims[c] > 100);
	}
	for (int f = 0; f < 3; f++) {
		assert_true(m->full[f] > 100);
	}
	assert_true(m->refused > 100);
	for (i = 0; i < m->n; i++) {
		if (!m->s[i].detached) {
			retain_leave(r.s[i]);
		}
		while (r.s[i]->head != NULL) {
			retain_drop_head(r.s[i]);
		}
		free(r.s[i]);
	}
	for (int k = 0; k < SESSIONS; k++) {
		assert_int_equal(r.hs[k]->kept.bytes, 0);
		assert_int_equal(r.hs[k]->kept.nstreams, 0);
		retain_scope_fini(&r.hs[k]->kept);
		free(r.hs[k]);
	}
	for (int k = 0; k < IDENTITIES; k++) {
		assert_int_equal(r.id[k]->kept.bytes, 0);
		assert_int_equal(r.id[k]->kept.nstreams, 0);
		retain_scope_fini(&r.id[k]->kept);
		free(r.id[k]);
	}
	assert_int_equal(r.h->kept.bytes, 0);
	retain_scope_fini(&r.h->kept);
	free(r.h);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_victims_as_a_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
