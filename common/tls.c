/*
 * tls.c - TLS client connections that trust exactly one pinned CA.
 *
 * The broker's certificate chain is checked by our own verification
 * callback instead of OpenSSL's default one (which would consult a system
 * trust store): we look in the chain the server presented for a certificate
 * whose SubjectPublicKeyInfo hashes to the pin, make that one certificate the
 * only trust anchor of a fresh X509_STORE, and verify the leaf against it
 * with the host name or address that was dialled. Nothing from the system
 * store is ever trusted and there is no trust on first use.
 *
 * Sockets are non-blocking; every wait goes through poll() with a timeout,
 * so a silent peer cannot hang a client. SIGPIPE is not handled here: SSL
 * writes cannot pass MSG_NOSIGNAL, so programs using this module ignore
 * SIGPIPE in main() (ztctl does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/tls.h"

#define TLS_PIN_PREFIX "sha256:"
#define TLS_HOST_MAX 255
#define TLS_CHAIN_DEPTH 4 /* leaf, at most two intermediates, anchor */

/* What the verify callback checks a chain against, and what it found. */
struct tls_pin {
	int is_ip;
	int verify_err; /* set by the verify callback: 0, ZT_ERR_PIN or ZT_ERR_TLS */
	char host[TLS_HOST_MAX + 1];
	char pin[TLS_PIN_LEN + 1];
};

struct tls_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int timeout_ms;
	struct tls_pin pc;
};

int tls_pin_valid(const char *pin)
{
	size_t plen = sizeof(TLS_PIN_PREFIX) - 1;

	if (pin == NULL || strlen(pin) != TLS_PIN_LEN || strncmp(pin, TLS_PIN_PREFIX, plen) != 0 ||
	    !crypto_hex_lower(pin + plen, TLS_PIN_LEN - plen)) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

int tls_pin_of_x509(X509 *x, char *out, size_t outsz)
{
	unsigned char *der = NULL;
	uint8_t md[CRYPTO_SHA256_LEN];
	int len, r = ZT_ERR_CRYPTO;

	if (x == NULL || out == NULL || outsz < TLS_PIN_LEN + 1) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	/* i2d_X509_PUBKEY allocates *der when it is NULL. */
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0) {
		goto out;
	}
	crypto_sha256(der, (size_t)len, md);
	memcpy(out, TLS_PIN_PREFIX, sizeof(TLS_PIN_PREFIX));
	r = crypto_hex(md, sizeof(md), out + sizeof(TLS_PIN_PREFIX) - 1,
	    outsz - (sizeof(TLS_PIN_PREFIX) - 1));
out:
	OPENSSL_free(der);
	return r;
}

static int pin_matches(X509 *x, const char *pin)
{
	char got[TLS_PIN_LEN + 1];

	if (tls_pin_of_x509(x, got, sizeof(got)) != 0) {
		return 0;
	}
	return strcmp(got, pin) == 0;
}

/*
 * Replaces OpenSSL's chain verification (SSL_CTX_set_cert_verify_callback).
 * Returns 1 to accept the server's chain, 0 to abort the handshake; the
 * reason is left in the pin check (struct tls_pin) for the caller.
 */
static int verify_pinned(X509_STORE_CTX *sctx, void *arg)
{
	struct tls_pin *c = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(sctx);
	X509 *anchor = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	X509_VERIFY_PARAM *param;
	int i, verr = X509_V_ERR_UNSPECIFIED, ok = 0;

	c->verify_err = ZT_ERR_TLS;
	if (leaf == NULL) {
		goto out;
	}
	if (pin_matches(leaf, c->pin)) {
		anchor = leaf;
	}
	for (i = 0; anchor == NULL && chain != NULL && i < sk_X509_num(chain); i++) {
		if (pin_matches(sk_X509_value(chain, i), c->pin)) {
			anchor = sk_X509_value(chain, i);
		}
	}
	if (anchor == NULL) {
		c->verify_err = ZT_ERR_PIN;
		verr = X509_V_ERR_CERT_UNTRUSTED;
		log_debug("no certificate in the server's chain matches the CA pin");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL || X509_STORE_add_cert(store, anchor) != 1 ||
	    (vctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(vctx, store, leaf, chain) != 1 ||
	    X509_STORE_CTX_set_default(vctx, "ssl_server") != 1) {
		goto out;
	}
	param = X509_STORE_CTX_get0_param(vctx);
	/* The pinned certificate is the anchor even when it is not self-signed
	 * (an intermediate): the store holds nothing else. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_depth(param, TLS_CHAIN_DEPTH);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (c->is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, c->host) != 1) {
			goto out;
		}
	} else if (X509_VERIFY_PARAM_set1_host(param, c->host, 0) != 1) {
		goto out;
	}
	if (X509_verify_cert(vctx) == 1) {
		ok = 1;
		verr = X509_V_OK;
		c->verify_err = 0;
	} else {
		verr = X509_STORE_CTX_get_error(vctx);
		log_debug("server certificate refused: %s", X509_verify_cert_error_string(verr));
	}
out:
	X509_STORE_CTX_set_error(sctx, verr);
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	return ok;
}

/* Waits as SSL asked after a WANT_READ/WANT_WRITE, or maps the failure. */
static int ssl_wait(struct tls_conn *c, int ret, int64_t deadline)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return net_wait_fd(c->fd, POLLIN, deadline);
	case SSL_ERROR_WANT_WRITE:
		return net_wait_fd(c->fd, POLLOUT, deadline);
	default:
		return ZT_ERR_TLS;
	}
}

static int host_is_ip(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Fills pc for host and pin, both already checked. */
static void pin_init(struct tls_pin *pc, const char *host, const char *pin)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->host, sizeof(pc->host), "%s", host);
	snprintf(pc->pin, sizeof(pc->pin), "%s", pin);
	pc->is_ip = host_is_ip(host);
}

int tls_pin_new(const char *host, const char *pin, struct tls_pin **out)
{
	*out = NULL;
	if (host == NULL || strlen(host) == 0 || strlen(host) > TLS_HOST_MAX ||
	    tls_pin_valid(pin) != 0) {
		return ZT_ERR_INVALID;
	}
	if ((*out = malloc(sizeof(**out))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	pin_init(*out, host, pin);
	return 0;
}

void tls_pin_free(struct tls_pin *pc)
{
	free(pc);
}

int tls_pin_result(const struct tls_pin *pc)
{
	return pc != NULL ? pc->verify_err : 0;
}

int tls_ctx_pin(struct ssl_ctx_st *ctx, struct tls_pin *pc)
{
	if (ctx == NULL || pc == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		return ZT_ERR_TLS;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* VERIFY_PEER makes a failed callback abort the handshake. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_pinned, pc);
	return 0;
}

int tls_connect_pinned(const char *host, const char *port, const char *pin, int timeout_ms,
    struct tls_conn **out)
{
	return tls_connect_pinned_cert(host, port, pin, NULL, NULL, timeout_ms, out);
}

int tls_connect_pinned_cert(const char *host, const char *port, const char *pin,
    const char *cert_file, const char *key_file, int timeout_ms, struct tls_conn **out)
{
	struct tls_conn *c = NULL;
	int64_t deadline;
	int r, ret;

	*out = NULL;
	if (host == NULL || port == NULL || strlen(host) == 0 || strlen(host) > TLS_HOST_MAX ||
	    tls_pin_valid(pin) != 0 || timeout_ms <= 0) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	deadline = net_mono_ms() + timeout_ms;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	pin_init(&c->pc, host, pin);

	r = ZT_ERR_TLS;
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    tls_ctx_pin(c->ctx, &c->pc) != 0) {
		goto out;
	}
	if (cert_file != NULL && (SSL_CTX_use_certificate_file(c->ctx, cert_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(c->ctx, key_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c->ctx) != 1)) {
		log_warn("cannot use the client certificate %s with key %s", cert_file, key_file);
		goto out;
	}

	if ((r = net_connect(host, port, deadline, &c->fd)) != 0) {
		goto out;
	}
	r = ZT_ERR_TLS;
	if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		goto out;
	}
	/* SNI carries names only (RFC 6066 forbids literal addresses). */
	if (!c->pc.is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		goto out;
	}
	for (;;) {
		ret = SSL_connect(c->ssl);
		if (ret == 1) {
			break;
		}
		if ((r = ssl_wait(c, ret, deadline)) != 0) {
			if (r == ZT_ERR_TLS && c->pc.verify_err != 0) {
				r = c->pc.verify_err;
			}
			log_debug("TLS handshake with %s failed: %s", host, zt_strerror(r));
			goto out;
		}
	}
	/* Belt and braces: the callback ran and accepted a certificate. */
	if (c->pc.verify_err != 0 || SSL_get0_peer_certificate(c->ssl) == NULL ||
	    SSL_get_verify_result(c->ssl) != X509_V_OK) {
		r = c->pc.verify_err != 0 ? c->pc.verify_err : ZT_ERR_TLS;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	ERR_clear_error();
	tls_close(c);
	return r;
}

int tls_write_all(struct tls_conn *c, const void *p, size_t n)
{
	const uint8_t *q = p;
	size_t off = 0, w;
	int64_t deadline;
	int ret;

	if (c == NULL || c->ssl == NULL) {
		return ZT_ERR_IO;
	}
	deadline = net_mono_ms() + c->timeout_ms;
	while (off < n) {
		ret = SSL_write_ex(c->ssl, q + off, n - off, &w);
		if (ret == 1) {
			off += w;
			continue;
		}
		if (ssl_wait(c, ret, deadline) != 0) {
			ERR_clear_error();
			return ZT_ERR_IO;
		}
	}
	return 0;
}

int tls_wait_readable(struct tls_conn *c, int timeout_ms)
{
	int r;

	if (c == NULL || c->ssl == NULL) {
		return ZT_ERR_IO;
	}
	if (SSL_has_pending(c->ssl)) {
		return 1;
	}
	r = net_wait_fd(c->fd, POLLIN, net_mono_ms() + timeout_ms);
	return r == 0 ? 1 : r == ZT_ERR_TIMEOUT ? 0 : r;
}

SSL *tls_ssl(struct tls_conn *c)
{
	return c != NULL ? c->ssl : NULL;
}

ssize_t tls_read(struct tls_conn *c, void *p, size_t n)
{
	size_t got = 0;
	int64_t deadline;
	int ret, e, r;
	unsigned long ec;

	if (c == NULL || c->ssl == NULL) {
		return ZT_ERR_IO;
	}
	if (n == 0) {
		return 0;
	}
	deadline = net_mono_ms() + c->timeout_ms;
	for (;;) {
		ret = SSL_read_ex(c->ssl, p, n, &got);
		if (ret == 1) {
			return (ssize_t)got;
		}
		e = SSL_get_error(c->ssl, ret);
		if (e == SSL_ERROR_ZERO_RETURN) {
			return 0;
		}
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if ((r = ssl_wait(c, ret, deadline)) != 0) {
				return r == ZT_ERR_TIMEOUT ? ZT_ERR_TIMEOUT : ZT_ERR_IO;
			}
			continue;
		}
		ec = ERR_peek_error();
		ERR_clear_error();
		/* TCP closed without close_notify: the data may have been cut. */
		if ((e == SSL_ERROR_SSL && ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
		    (e == SSL_ERROR_SYSCALL && ec == 0)) {
			return ZT_ERR_TRUNCATED;
		}
		return ZT_ERR_IO;
	}
}

void tls_close(struct tls_conn *c)
{
	if (c == NULL) {
		return;
	}
	if (c->ssl != NULL) {
		/* Best effort close_notify; never wait for the peer's. */
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0) {
		close(c->fd);
	}
	ERR_clear_error();
	free(c);
}
