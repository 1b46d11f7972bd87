/*
 * brk_join_test.c - an agent's join on a real store and CA: a valid token
 * and CSR give a certificate the CA verifies with the agent's name; used,
 * expired and unknown tokens and a tampered CSR are refused and audited
 * (the token refusals once per kind and period), and a bad CSR still
 * spends the token; a token bound to a name joins it only, and its labels
 * are kept for the agent's first hello.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit/aud_agg.h"
#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_join.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

static int64_t fake_now = 1800000000;
static int64_t clock_fn(void)
{
	return fake_now;
}

struct fx {
	char dir[TU_DIR_MAX];
	struct brk b;
	char *csr;
};

/* A PEM CSR for a fresh P-256 key (owned). */
static char *make_csr(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ *req = X509_REQ_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL, *data = NULL;
	long n;

	assert_non_null(k);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	n = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)n);
	BIO_free(bio);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return pem;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char db[TU_PATH_MAX];

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-join"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->b.store), 0);
	assert_int_equal(ca_load_or_create(f->dir, fake_now, &f->b.ca), 0);
	f->b.now = clock_fn;
	assert_non_null(f->b.agg = aud_agg_new(60000));
	f->csr = make_csr();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	aud_agg_free(f->b.agg);
	store_free(f->b.store);
	ca_free(f->b.ca);
	free(f->csr);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Adds a join token; returns it in out. */
static void add_token(struct fx *f, const char *token, int64_t ttl, int uses)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];

	crypto_token_hash(token, hash);
	assert_int_equal(store_join_token_add(f->b.store, hash, fake_now, fake_now + ttl, uses,
	    "admin:test", NULL), 0);
}

static int join_as(struct fx *f, const char *name, const char *token, char *csr,
    struct tun_msg *reply)
{
	struct tun_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TUN_JOIN;
	m.token = (char *)token;
	m.csr = csr;
	m.name = (char *)name;
	return brk_join(&f->b, &m, "192.0.2.9", reply);
}

static int join(struct fx *f, const char *token, char *csr, struct tun_msg *reply)
{
	return join_as(f, "web1", token, csr, reply);
}

static void test_join_issues_a_cert(void **state)
{
	struct fx *f = *state;
	struct tun_msg reply;
	X509 *cert, *cacert;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	BIO *bio;
	char cn[80];

	add_token(f, "ztj_good", 1800, 1);
	assert_int_equal(join(f, "ztj_good", f->csr, &reply), 0);
	assert_int_equal(reply.type, TUN_JOIN_OK);
	bio = BIO_new_mem_buf(reply.cert, -1);
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	bio = BIO_new_mem_buf(reply.ca, -1);
	cacert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(cert);
	assert_non_null(cacert);
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "web1");
	/* Verify at the fake time: the certificate is valid now. */
	X509_STORE_add_cert(st, cacert);
	X509_STORE_CTX_init(ctx, st, cert, NULL);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)fake_now);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(cert);
	X509_free(cacert);
	tun_msg_clear(&reply);

	/* The token worked once. */
	assert_int_equal(join(f, "ztj_good", f->csr, &reply), ZT_ERR_REPLAY);
	assert_int_equal(reply.type, TUN_ERROR);
	assert_string_equal(reply.code, "token_used");
	tun_msg_clear(&reply);
}

static void test_join_refusals_are_audited(void **state)
{
	struct fx *f = *state;
	struct tun_msg reply;
	struct aud_verify_result res;
	char *bad = strdup(f->csr);
	char *p;

	assert_int_equal(join(f, "ztj_unknown", f->csr, &reply), ZT_ERR_NOT_FOUND);
	assert_string_equal(reply.code, "token_unknown");
	tun_msg_clear(&reply);

	add_token(f, "ztj_old", 60, 1);
	fake_now += 61;
	assert_int_equal(join(f, "ztj_old", f->csr, &reply), ZT_ERR_EXPIRED);
	assert_string_equal(reply.code, "token_expired");
	tun_msg_clear(&reply);
	fake_now -= 61;

	/* A CSR whose signature no longer matches: refused, token spent. */
	add_token(f, "ztj_twice", 600, 2);
	p = strstr(bad, "-----END");
	assert_non_null(p);
	p[-8] = p[-8] == 'A' ? 'B' : 'A';
	assert_true(join(f, "ztj_twice", bad, &reply) < 0);
	assert_string_equal(reply.code, "bad_csr");
	tun_msg_clear(&reply);
	assert_int_equal(join(f, "ztj_twice", f->csr, &reply), 0);
	tun_msg_clear(&reply);
	assert_int_equal(join(f, "ztj_twice", f->csr, &reply), ZT_ERR_REPLAY);
	tun_msg_clear(&reply);
	free(bad);

	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->b.store, NULL, &res), 0);
	assert_int_equal(res.checked, 5);
}

/* Joins as name with token; labels receive the labels the join kept for
 * the new certificate's key. Returns whether the token named the agent. */
static int join_kept(struct fx *f, const char *name, const char *token, char *labels,
    size_t labelssz)
{
	char pin[CA_PIN_LEN + 1];
	struct tun_msg reply;
	int named = -1;

	assert_int_equal(join_as(f, name, token, f->csr, &reply), 0);
	assert_int_equal(ca_pin_of_pem(reply.cert, pin, sizeof(pin)), 0);
	tun_msg_clear(&reply);
	assert_int_equal(store_agent_join_get(f->b.store, name, pin, labels, labelssz, &named),
	    0);
	return named;
}

/* A token bound to a name joins that name only (and is not spent by
 * another); the labels it grants wait for the new key's next hello, with
 * whether the token named the agent. */
static void test_token_claims(void **state)
{
	struct fx *f = *state;
	struct store_join_claims c;
	char hash[CRYPTO_SHA256_HEX_LEN + 1], labels[64];
	struct tun_msg reply;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "db1");
	snprintf(c.labels, sizeof(c.labels), "{\"env\":\"prod\"}");
	crypto_token_hash("ztj_bound", hash);
	assert_int_equal(store_join_token_add(f->b.store, hash, fake_now, fake_now + 600, 1,
	    "admin:test", &c), 0);
	assert_int_equal(join(f, "ztj_bound", f->csr, &reply), ZT_ERR_DENIED); /* as web1 */
	assert_string_equal(reply.code, "token_name");
	assert_string_equal(reply.message, "this join token is for another name");
	tun_msg_clear(&reply);

	assert_int_equal(join_kept(f, "db1", "ztj_bound", labels, sizeof(labels)), 1);
	assert_string_equal(labels, "{\"env\":\"prod\"}");

	/* A token for any name: its labels are kept as not naming the agent. */
	snprintf(c.name, sizeof(c.name), "%s", "");
	crypto_token_hash("ztj_anyone", hash);
	assert_int_equal(store_join_token_add(f->b.store, hash, fake_now, fake_now + 600, 5,
	    "admin:test", &c), 0);
	assert_int_equal(join_kept(f, "web1", "ztj_anyone", labels, sizeof(labels)), 0);
	assert_string_equal(labels, "{\"env\":\"prod\"}");
}

/* agent.join events, and the aggregated summaries among them. */
struct join_count {
	int events, summaries;
	char details[512]; /* the last summary's */
};

static int count_row(const struct store_audit_row *row, void *arg)
{
	struct join_count *c = arg;

	if (strcmp(row->type, "agent.join") == 0) {
		c->events++;
		if (strstr(row->details, "\"aggregated\":true") != NULL) {
			c->summaries++;
			snprintf(c->details, sizeof(c->details), "%s", row->details);
		}
	}
	return 0;
}

/* Joins with unknown tokens cost the client nothing: fifty of them from
 * one address are one event while the period runs, then one summary. */
static void test_unknown_tokens_are_aggregated(void **state)
{
	struct fx *f = *state;
	struct tun_msg reply;
	struct join_count c;

	for (int i = 0; i < 50; i++) {
		assert_int_equal(join(f, "ztj_never_issued", f->csr, &reply), ZT_ERR_NOT_FOUND);
		assert_string_equal(reply.code, "token_unknown");
		tun_msg_clear(&reply);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_each(f->b.store, 0, 0, count_row, &c), 0);
	assert_int_equal(c.events, 1);
	assert_int_equal(c.summaries, 0);

	assert_int_equal(aud_agg_flush(f->b.agg, f->b.store, 0, 1), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_audit_each(f->b.store, 0, 0, count_row, &c), 0);
	assert_int_equal(c.events, 2);
	assert_int_equal(c.summaries, 1);
	assert_non_null(strstr(c.details, "\"repeats\":49"));
	assert_non_null(strstr(c.details, "\"reason\":\"token_unknown\""));
}

/* A renewal signs the same key again for the name; another key, a bad CSR
 * or a wrong message type are refused, and each outcome is audited. */
static void test_renew_keeps_the_key(void **state)
{
	struct fx *f = *state;
	struct tun_msg m, reply;
	char pin[CA_PIN_LEN + 1], again[CA_PIN_LEN + 1];
	char *other = make_csr();
	struct store_agent_claims claims;
	struct aud_verify_result res;

	f->b.agent_cert_ttl = 600;
	add_token(f, "ztj_r", 600, 1);
	assert_int_equal(join(f, "ztj_r", f->csr, &reply), 0);
	assert_int_equal(ca_pin_of_pem(reply.cert, pin, sizeof(pin)), 0);
	tun_msg_clear(&reply);

	memset(&m, 0, sizeof(m));
	m.type = TUN_RENEW;
	m.csr = f->csr;
	fake_now += 400;
	assert_int_equal(brk_renew(&f->b, &m, "web1", pin, "192.0.2.9", &reply), 0);
	assert_int_equal(reply.type, TUN_JOIN_OK);
	assert_int_equal(ca_pin_of_pem(reply.cert, again, sizeof(again)), 0);
	assert_string_equal(again, pin);
	tun_msg_clear(&reply);
	fake_now -= 400;

	m.csr = other;
	assert_int_equal(brk_renew(&f->b, &m, "web1", pin, "192.0.2.9", &reply), ZT_ERR_DENIED);
	assert_int_equal(reply.type, TUN_ERROR);
	assert_string_equal(reply.code, "key_changed");
	assert_null(reply.cert);
	tun_msg_clear(&reply);
	m.csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
	assert_true(brk_renew(&f->b, &m, "web1", pin, "192.0.2.9", &reply) < 0);
	assert_string_equal(reply.code, "bad_csr");
	tun_msg_clear(&reply);
	m.type = TUN_JOIN;
	assert_int_equal(brk_renew(&f->b, &m, "web1", pin, "192.0.2.9", &reply), ZT_ERR_PROTOCOL);
	tun_msg_clear(&reply);
	free(other);

	/* A locked agent gets no certificate (audited through b->agg). */
	memset(&claims, 0, sizeof(claims));
	snprintf(claims.labels, sizeof(claims.labels), "{}");
	snprintf(claims.resources, sizeof(claims.resources), "[]");
	assert_int_equal(store_agent_bind(f->b.store, "web1", pin, &claims, fake_now, NULL),
	    0);
	assert_int_equal(store_agent_set_locked(f->b.store, "web1", 1), 0);
	m.type = TUN_RENEW;
	m.csr = f->csr;
	assert_int_equal(brk_renew(&f->b, &m, "web1", pin, "192.0.2.9", &reply), ZT_ERR_LOCKED);
	assert_string_equal(reply.code, "locked");
	assert_null(reply.cert);
	tun_msg_clear(&reply);

	memset(&res, 0, sizeof(res));
	assert_int_equal(aud_verify(f->b.store, NULL, &res), 0);
	assert_int_equal(res.checked, 5); /* the join, one renewal, three refusals */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_renew_keeps_the_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_issues_a_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_refusals_are_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tokens_are_aggregated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_claims, setup, teardown),
	};

	return cmocka_run_group_tests_name("brk_join", tests, NULL, NULL);
}
