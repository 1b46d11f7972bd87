/*
 * pump_test.c - pump_run() between real OpenSSL TLS 1.3 connections and
 * plain sockets: a stream pumped into TLS at one end and out at the other,
 * as the broker and the agent do.
 *
 *   app_a <-plain-> pump A <-TLS over a socketpair-> pump B <-plain-> app_b
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "tunnel/pump.h"
#include "tests/unit/testutil.h"

#define BIG (3 * 1024 * 1024 + 17)

struct fx {
	char dir[TU_DIR_MAX];
	SSL_CTX *sctx, *cctx;
	SSL *sa, *sb;         /* the two TLS ends */
	int tls[2];           /* the TLS transport */
	int a[2], b[2];       /* app_a <-> pump A, app_b <-> pump B */
	int stop[2];
};

struct pump_arg {
	SSL *ssl;
	int fd, stop_fd;
	const void *pre;
	size_t npre;
	int result;
};

static void *pump_main(void *arg)
{
	struct pump_arg *p = arg;

	p->result = pump_run(p->ssl, p->fd, p->stop_fd, p->pre, p->npre);
	return NULL;
}

static SSL_CTX *server_ctx(const char *chain_pem, const char *key_pem)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *bio = BIO_new_mem_buf(chain_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), 1);
	assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	X509_free(x);
	BIO_free(bio);
	assert_non_null(bio = BIO_new_mem_buf(key_pem, -1));
	assert_non_null(pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return ctx;
}

static void *accept_main(void *arg)
{
	SSL *ssl = arg;

	return SSL_accept(ssl) == 1 ? ssl : NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *sans[] = { "127.0.0.1" };
	char *chain = NULL, *key = NULL;
	struct ca *ca = NULL;
	pthread_t th;
	void *ok = NULL;

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "pump"), 0);
	assert_int_equal(ca_load_or_create(f->dir, time(NULL), &ca), 0);
	assert_int_equal(ca_issue_server(ca, sans, 1, time(NULL), 3600, &chain, &key), 0);
	f->sctx = server_ctx(chain, key);
	assert_non_null(f->cctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(f->cctx, SSL_VERIFY_NONE, NULL); /* the pump does not care */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->tls), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->b), 0);
	assert_int_equal(pipe(f->stop), 0);
	assert_non_null(f->sa = SSL_new(f->sctx));
	assert_non_null(f->sb = SSL_new(f->cctx));
	SSL_set_fd(f->sa, f->tls[0]);
	SSL_set_fd(f->sb, f->tls[1]);
	assert_int_equal(pthread_create(&th, NULL, accept_main, f->sa), 0);
	assert_int_equal(SSL_connect(f->sb), 1);
	pthread_join(th, &ok);
	assert_non_null(ok);
	crypto_free_str(key);
	free(chain);
	ca_free(ca);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int *fds[] = { f->tls, f->a, f->b, f->stop };

	SSL_free(f->sa);
	SSL_free(f->sb);
	SSL_CTX_free(f->sctx);
	SSL_CTX_free(f->cctx);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		for (int j = 0; j < 2; j++) {
			if (fds[i][j] >= 0) {
				close(fds[i][j]);
			}
		}
	}
	tu_rmtree(f->dir);
	free(f);
	ERR_clear_error();
	return 0;
}

/* Writes n pattern bytes (seeded) to fd, then shuts it for writing. */
struct writer {
	int fd;
	size_t n;
	uint8_t seed;
	int result;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint8_t chunk[7000];
	size_t off = 0;

	while (off < w->n) {
		size_t k = w->n - off < sizeof(chunk) ? w->n - off : sizeof(chunk);
		ssize_t n;

		for (size_t i = 0; i < k; i++) {
			chunk[i] = (uint8_t)((off + i) * 31 + w->seed);
		}
		if ((n = write(w->fd, chunk, k)) <= 0) {
			w->result = -1;
			return NULL;
		}
		off += (size_t)n;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* Reads fd to its end; the count and whether every byte had the pattern. */
static size_t read_all(int fd, uint8_t seed, int *pattern_ok)
{
	uint8_t chunk[5000];
	size_t total = 0;
	ssize_t n;

	*pattern_ok = 1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != (uint8_t)((total + (size_t)i) * 31 + seed)) {
				*pattern_ok = 0;
			}
		}
		total += (size_t)n;
	}
	return total;
}

/* Megabytes both ways at once through both pumps, ends passed on: each
 * application sees exactly the other's bytes, then end of file, and both
 * pumps end cleanly. Neither direction can starve the other. */
static void test_both_ways(void **state)
{
	struct fx *f = *state;
	struct pump_arg pa = { f->sa, f->a[1], f->stop[0], NULL, 0, 1 };
	struct pump_arg pb = { f->sb, f->b[1], f->stop[0], NULL, 0, 1 };
	struct writer wa = { f->a[0], BIG, 7, 0 }, wb = { f->b[0], BIG / 3, 99, 0 };
	pthread_t tpa, tpb, twa, twb;
	int ok_a = 0, ok_b = 0;
	size_t got_a, got_b;

	assert_int_equal(pthread_create(&tpa, NULL, pump_main, &pa), 0);
	assert_int_equal(pthread_create(&tpb, NULL, pump_main, &pb), 0);
	assert_int_equal(pthread_create(&twa, NULL, writer_main, &wa), 0);
	assert_int_equal(pthread_create(&twb, NULL, writer_main, &wb), 0);
	got_b = read_all(f->b[0], 7, &ok_b);   /* what app_a wrote */
	got_a = read_all(f->a[0], 99, &ok_a);  /* what app_b wrote */
	pthread_join(twa, NULL);
	pthread_join(twb, NULL);
	pthread_join(tpa, NULL);
	pthread_join(tpb, NULL);
	assert_int_equal(wa.result, 0);
	assert_int_equal(wb.result, 0);
	assert_int_equal(got_b, BIG);
	assert_int_equal(got_a, BIG / 3);
	assert_true(ok_a);
	assert_true(ok_b);
	assert_int_equal(pa.result, 0);
	assert_int_equal(pb.result, 0);
}

/* Bytes read from the TLS side before the pump started reach the socket
 * first, ahead of what follows. */
static void test_pre_bytes(void **state)
{
	struct fx *f = *state;
	struct pump_arg pa = { f->sa, f->a[1], -1, "SSH-2.0-", 8, 1 };
	pthread_t th;
	char got[32] = "";
	size_t n = 0;
	ssize_t k;

	assert_int_equal(pthread_create(&th, NULL, pump_main, &pa), 0);
	assert_int_equal(SSL_write(f->sb, "rest\n", 5), 5);
	while (n < 13 && (k = read(f->a[0], got + n, sizeof(got) - 1 - n)) > 0) {
		n += (size_t)k;
	}
	assert_string_equal(got, "SSH-2.0-rest\n");
	SSL_shutdown(f->sb);               /* end TLS -> socket */
	shutdown(f->a[0], SHUT_WR);        /* end socket -> TLS */
	assert_int_equal(read(f->a[0], got, sizeof(got)), 0);
	assert_int_equal(SSL_read(f->sb, got, sizeof(got)), 0);
	assert_int_equal(SSL_get_error(f->sb, 0), SSL_ERROR_ZERO_RETURN);
	pthread_join(th, NULL);
	assert_int_equal(pa.result, 0);
	assert_int_equal(pump_run(f->sa, f->a[1], -1, "x", PUMP_BUF + 1), ZT_ERR_INVALID);
}

/* stop_fd ends a pump at once, whatever is in flight. */
static void test_stop(void **state)
{
	struct fx *f = *state;
	struct pump_arg pa = { f->sa, f->a[1], f->stop[0], NULL, 0, 1 };
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, pump_main, &pa), 0);
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(th, NULL);
	assert_int_equal(pa.result, ZT_ERR_CANCELLED);
}

/* A TLS peer that vanishes without close_notify is a failure, not an end
 * of stream: the application sees its socket end. */
static void test_peer_vanishes(void **state)
{
	struct fx *f = *state;
	struct pump_arg pa = { f->sa, f->a[1], -1, NULL, 0, 1 };
	pthread_t th;
	char c;

	assert_int_equal(pthread_create(&th, NULL, pump_main, &pa), 0);
	close(f->tls[1]);
	f->tls[1] = -1;
	pthread_join(th, NULL);
	assert_true(pa.result == ZT_ERR_IO || pa.result == ZT_ERR_TLS);
	close(f->a[1]); /* as the broker does after a pump */
	f->a[1] = -1;
	assert_int_equal(read(f->a[0], &c, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pre_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_vanishes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
