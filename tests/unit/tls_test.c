/*
 * tls_test.c - unit tests for common/tls.c, the pinned TLS client, against
 * a real OpenSSL server run in a thread on 127.0.0.1 (an ephemeral port).
 *
 * Certificates come from common/ca.c: a CA made in a temporary directory
 * issues the server's certificates, so the tests see exactly the chains the
 * broker presents. Proved here: the right pin and address give a working
 * connection (a write/read round trip, then EOF at the server's
 * close_notify); another CA's pin, a certificate for another name, and a
 * chain without the CA are all refused before the server sees a finished
 * handshake; malformed pins are refused; nothing listening is ZT_ERR_NET;
 * and a peer that never speaks TLS cannot hold the client past its
 * timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/tls.h"
#include "tests/unit/testutil.h"

#define CONNECT_MS 5000 /* generous: handshakes are slow under ASan */
#define SILENT_MS 500   /* the timeout given against a peer that never speaks */
#define SRV_WAIT_MS 5000 /* the server thread never waits longer than this */
#define SSH_BANNER "SSH-2.0-OpenSSH_9.2\r\n"

enum srv_mode {
	SRV_TLS,     /* handshake, echo one read, close_notify, close */
	SRV_SILENT,  /* accept, say nothing, wait for the client to go */
	SRV_GARBAGE, /* accept, answer with an SSH banner instead of TLS */
};

/* A one-connection server; the fields after th are written by the thread
 * and read only after pthread_join(). */
struct srv {
	enum srv_mode mode;
	SSL_CTX *ctx;
	int lfd;
	int running;
	char port[8];
	pthread_t th;
	int accepted;
	int handshake_ok;
};

struct fx {
	char dir_a[TU_DIR_MAX];
	char dir_b[TU_DIR_MAX];
	struct ca *ca_a;
	struct ca *ca_b;
	char pin_a[CA_PIN_LEN + 1];
	char pin_b[CA_PIN_LEN + 1];
	char *chain;       /* for 127.0.0.1 and localhost, issued by ca_a */
	char *key;
	char *other_chain; /* for other.example only, issued by ca_a */
	char *other_key;
	struct srv srv;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until the client goes away (or SRV_WAIT_MS of silence). */
static void drain(int fd)
{
	char buf[256];

	while (recv(fd, buf, sizeof(buf), 0) > 0) {
		continue;
	}
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
	struct timeval tv = {.tv_sec = SRV_WAIT_MS / 1000};
	SSL *ssl = NULL;
	char buf[64];
	int fd = -1, n;

	if (poll(&pfd, 1, SRV_WAIT_MS) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0) {
		goto out;
	}
	s->accepted = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	switch (s->mode) {
	case SRV_SILENT:
		drain(fd);
		break;
	case SRV_GARBAGE:
		(void)send(fd, SSH_BANNER, strlen(SSH_BANNER), MSG_NOSIGNAL);
		drain(fd);
		break;
	case SRV_TLS:
		if ((ssl = SSL_new(s->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
		    SSL_accept(ssl) != 1) {
			goto out;
		}
		s->handshake_ok = 1;
		if ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
			(void)SSL_write(ssl, buf, n);
		}
		(void)SSL_shutdown(ssl);
		break;
	}
out:
	SSL_free(ssl);
	if (fd >= 0) {
		close(fd);
	}
	ERR_clear_error();
	return NULL;
}

/* A server context presenting chain_pem (only its first certificate when
 * leaf_only is set) with key_pem. */
static SSL_CTX *srv_ctx(const char *chain_pem, const char *key_pem, int leaf_only)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *bio = BIO_new_mem_buf(chain_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;

	assert_non_null(ctx);
	assert_non_null(bio);
	/* Never complete the chain from a store behind the test's back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	X509_free(x);
	while (!leaf_only && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		assert_int_equal(SSL_CTX_add1_chain_cert(ctx, x), 1);
		X509_free(x);
	}
	BIO_free(bio);
	assert_non_null(bio = BIO_new_mem_buf(key_pem, -1));
	assert_non_null(pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error(); /* the PEM loop ends on an expected "no start line" */
	return ctx;
}

/* A TCP socket bound to 127.0.0.1 on an ephemeral port, written to port. */
static int bind_loopback(char *port, size_t portsz)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, portsz, "%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

static void srv_start(struct srv *s, enum srv_mode mode, SSL_CTX *ctx)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->ctx = ctx;
	s->lfd = bind_loopback(s->port, sizeof(s->port));
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	s->running = 1;
}

/* Waits for the server thread and frees what it used; safe to call twice. */
static void srv_stop(struct srv *s)
{
	if (!s->running) {
		return;
	}
	s->running = 0;
	pthread_join(s->th, NULL);
	close(s->lfd);
	s->lfd = -1;
	SSL_CTX_free(s->ctx);
	s->ctx = NULL;
}

static int group_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *sans[] = {"127.0.0.1", "localhost"};
	const char *other[] = {"other.example"};
	int64_t now = (int64_t)time(NULL);

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir_a, sizeof(f->dir_a), "tls-test-a"), 0);
	assert_int_equal(tu_mkdtemp(f->dir_b, sizeof(f->dir_b), "tls-test-b"), 0);
	assert_int_equal(ca_load_or_create(f->dir_a, now, &f->ca_a), 0);
	assert_int_equal(ca_load_or_create(f->dir_b, now, &f->ca_b), 0);
	assert_int_equal(ca_pin(f->ca_a, f->pin_a, sizeof(f->pin_a)), 0);
	assert_int_equal(ca_pin(f->ca_b, f->pin_b, sizeof(f->pin_b)), 0);
	assert_string_not_equal(f->pin_a, f->pin_b);
	assert_int_equal(ca_issue_server(f->ca_a, sans, 2, now, 86400, &f->chain, &f->key), 0);
	assert_int_equal(ca_issue_server(f->ca_a, other, 1, now, 86400, &f->other_chain,
	    &f->other_key), 0);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;

	srv_stop(&f->srv);
	free(f->chain);
	free(f->other_chain);
	crypto_free_str(f->key);
	crypto_free_str(f->other_key);
	ca_free(f->ca_a);
	ca_free(f->ca_b);
	tu_rmtree(f->dir_a);
	tu_rmtree(f->dir_b);
	free(f);
	return 0;
}

/* A failed assertion leaves the server running: stop it before the next. */
static int test_teardown(void **state)
{
	struct fx *f = *state;

	srv_stop(&f->srv);
	return 0;
}

/* (a) The right pin and the address in the certificate. */
static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct tls_conn *c = NULL;
	const char msg[] = "ping zt\n";
	char buf[64];
	size_t got = 0;
	ssize_t n;

	srv_start(&f->srv, SRV_TLS, srv_ctx(f->chain, f->key, 0));
	assert_int_equal(tls_connect_pinned("127.0.0.1", f->srv.port, f->pin_a, CONNECT_MS, &c), 0);
	assert_non_null(c);
	assert_int_equal(tls_write_all(c, msg, sizeof(msg) - 1), 0);
	while (got < sizeof(msg) - 1) {
		n = tls_read(c, buf + got, sizeof(buf) - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(got, sizeof(msg) - 1);
	assert_memory_equal(buf, msg, got);
	/* The server said close_notify: a clean end of stream. */
	assert_int_equal(tls_read(c, buf, sizeof(buf)), 0);
	tls_close(c);
	srv_stop(&f->srv);
	assert_true(f->srv.handshake_ok);
	tls_close(NULL);
}

/* Dials a TLS server presenting ctx's chain with pin, checks that the
 * client got no connection and that the server never finished a handshake
 * (no application data can have passed), and returns the client's error. */
static int dial_refused(struct fx *f, SSL_CTX *ctx, const char *pin)
{
	struct tls_conn *c = NULL;
	int r;

	srv_start(&f->srv, SRV_TLS, ctx);
	r = tls_connect_pinned("127.0.0.1", f->srv.port, pin, CONNECT_MS, &c);
	assert_null(c);
	srv_stop(&f->srv);
	assert_true(f->srv.accepted);
	assert_false(f->srv.handshake_ok);
	return r;
}

/* (b) A pin of another CA. */
static void test_wrong_pin(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dial_refused(f, srv_ctx(f->chain, f->key, 0), f->pin_b), ZT_ERR_PIN);
}

/* (c) The right CA, but a certificate for another name than the address
 * dialled: the chain leads to the pin, so the error is the name (TLS). */
static void test_wrong_name(void **state)
{
	struct fx *f = *state;
	int r = dial_refused(f, srv_ctx(f->other_chain, f->other_key, 0), f->pin_a);

	assert_int_not_equal(r, 0);
	assert_int_equal(r, ZT_ERR_TLS);
}

/* (d) The leaf alone, without the CA: nothing in the chain has the pin. */
static void test_leaf_only(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dial_refused(f, srv_ctx(f->chain, f->key, 1), f->pin_a), ZT_ERR_PIN);
}

/* (e) Malformed pins, and tls_pin_of_x509 agreeing with ca_pin. */
static void test_pin_valid(void **state)
{
	struct fx *f = *state;
	struct tls_conn *c = NULL;
	char p[CA_PIN_LEN + 8], got[TLS_PIN_LEN + 1];
	BIO *bio = NULL;
	X509 *x = NULL;
	size_t i;

	assert_int_equal(tls_pin_valid(f->pin_a), 0);
	assert_int_equal(tls_pin_valid(NULL), ZT_ERR_INVALID);
	assert_int_equal(tls_pin_valid(""), ZT_ERR_INVALID);

	/* Upper-case hex: the same digest, but not the canonical form. */
	snprintf(p, sizeof(p), "%s", f->pin_a);
	for (i = 7; i < TLS_PIN_LEN; i++) {
		if (p[i] >= 'a' && p[i] <= 'f') {
			p[i] = (char)(p[i] - 'a' + 'A');
		}
	}
	p[7] = 'A'; /* at least one letter even if the digest had none */
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);
	/* Short by one digit, long by one digit. */
	snprintf(p, sizeof(p), "%.*s", TLS_PIN_LEN - 1, f->pin_a);
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);
	snprintf(p, sizeof(p), "%s0", f->pin_a);
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);
	/* The 64 digits without "sha256:", with another or an upper-case prefix. */
	assert_int_equal(tls_pin_valid(f->pin_a + 7), ZT_ERR_INVALID);
	snprintf(p, sizeof(p), "sha512:%s", f->pin_a + 7);
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);
	snprintf(p, sizeof(p), "SHA256:%s", f->pin_a + 7);
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);
	/* A non-hex digit. */
	snprintf(p, sizeof(p), "%s", f->pin_a);
	p[TLS_PIN_LEN - 1] = 'g';
	assert_int_equal(tls_pin_valid(p), ZT_ERR_INVALID);

	/* A malformed pin is refused before any connection is tried. */
	assert_int_equal(tls_connect_pinned("127.0.0.1", "1", f->pin_a + 7, CONNECT_MS, &c),
	    ZT_ERR_INVALID);
	assert_null(c);

	assert_non_null(bio = BIO_new_mem_buf(ca_cert_pem(f->ca_a), -1));
	assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
	assert_int_equal(tls_pin_of_x509(x, got, sizeof(got)), 0);
	assert_string_equal(got, f->pin_a);
	assert_int_equal(tls_pin_of_x509(x, got, TLS_PIN_LEN), ZT_ERR_INVALID);
	assert_int_equal(tls_pin_of_x509(NULL, got, sizeof(got)), ZT_ERR_INVALID);
	X509_free(x);
	BIO_free(bio);
}

/* (f) A port with a bound socket that does not listen: refused. */
static void test_nothing_listening(void **state)
{
	struct fx *f = *state;
	struct tls_conn *c = NULL;
	char port[8];
	int fd = bind_loopback(port, sizeof(port));

	assert_int_equal(tls_connect_pinned("127.0.0.1", port, f->pin_a, CONNECT_MS, &c),
	    ZT_ERR_NET);
	assert_null(c);
	close(fd);
}

/* (g) A peer that accepts TCP and then says nothing: the client gives up
 * at its own timeout, not at the server's. */
static void test_silent_peer(void **state)
{
	struct fx *f = *state;
	struct tls_conn *c = NULL;
	int64_t t0, took;
	int r;

	srv_start(&f->srv, SRV_SILENT, NULL);
	t0 = now_ms();
	r = tls_connect_pinned("127.0.0.1", f->srv.port, f->pin_a, SILENT_MS, &c);
	took = now_ms() - t0;
	assert_true(r == ZT_ERR_TIMEOUT || r == ZT_ERR_TLS);
	assert_null(c);
	assert_true(took < SILENT_MS + 1000);
	srv_stop(&f->srv);
	assert_true(f->srv.accepted);
}

/* (g) A peer that answers in another protocol: a TLS error, at once. */
static void test_not_tls_peer(void **state)
{
	struct fx *f = *state;
	struct tls_conn *c = NULL;
	int64_t t0, took;

	srv_start(&f->srv, SRV_GARBAGE, NULL);
	t0 = now_ms();
	assert_int_equal(tls_connect_pinned("127.0.0.1", f->srv.port, f->pin_a, CONNECT_MS, &c),
	    ZT_ERR_TLS);
	took = now_ms() - t0;
	assert_null(c);
	assert_true(took < CONNECT_MS);
	srv_stop(&f->srv);
	assert_true(f->srv.accepted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_round_trip, test_teardown),
		cmocka_unit_test_teardown(test_wrong_pin, test_teardown),
		cmocka_unit_test_teardown(test_wrong_name, test_teardown),
		cmocka_unit_test_teardown(test_leaf_only, test_teardown),
		cmocka_unit_test_teardown(test_pin_valid, test_teardown),
		cmocka_unit_test_teardown(test_nothing_listening, test_teardown),
		cmocka_unit_test_teardown(test_silent_peer, test_teardown),
		cmocka_unit_test_teardown(test_not_tls_peer, test_teardown),
	};

	/* tls.h: writes cannot pass MSG_NOSIGNAL, so the program ignores SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	log_init("tls_test", ZT_LOG_WARN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
