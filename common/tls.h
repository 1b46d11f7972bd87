/*
 * tls.h - OpenSSL TLS client connections that trust exactly one pinned CA.
 *
 * zt clients (ztctl, ztagent) know the broker only by its CA pin
 * ("sha256:<hex of the CA's SubjectPublicKeyInfo>"). During the handshake
 * the server's presented chain must contain a certificate whose public key
 * matches the pin; that certificate becomes the only trust anchor, and the
 * leaf must verify against it and match the host name or address dialled.
 * Anything else aborts the handshake before a byte of application data is
 * sent: there is no trust on first use. TLS 1.2 minimum.
 *
 * Writes go through OpenSSL, which cannot pass MSG_NOSIGNAL: programs using
 * this module must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN) in main) so that
 * a peer closing early is an error return, not the death of the process.
 * A connection belongs to one thread at a time.
 */
#ifndef ZT_TLS_H
#define ZT_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_conn;
struct x509_st; /* OpenSSL's X509 */
struct ssl_st;  /* OpenSSL's SSL */
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */
struct tls_pin;

#define TLS_PIN_LEN 71 /* "sha256:" + 64 lower-case hex digits */

/* Connects to host:port (name or literal address) with a timeout in ms and
 * completes a pinned handshake. ZT_ERR_NET, ZT_ERR_TLS, ZT_ERR_PIN (the
 * chain does not lead to the pinned CA), ZT_ERR_TIMEOUT. */
int tls_connect_pinned(const char *host, const char *port, const char *pin, int timeout_ms,
    struct tls_conn **out);
/* The same, presenting a client certificate for mutual TLS: cert_file
 * (PEM) and key_file (PEM), as ztagent's control connection does. A
 * certificate that does not match its key is ZT_ERR_TLS. */
int tls_connect_pinned_cert(const char *host, const char *port, const char *pin,
    const char *cert_file, const char *key_file, int timeout_ms, struct tls_conn **out);
/* Writes all n bytes: 0 or ZT_ERR_IO. */
int tls_write_all(struct tls_conn *c, const void *p, size_t n);
/* Reads up to n bytes: count, 0 at EOF, or a negative ZT_ERR_*:
 * ZT_ERR_TIMEOUT when nothing arrived within the timeout, ZT_ERR_TRUNCATED
 * when the peer closed TCP without a TLS close_notify (what was read may be
 * cut short), ZT_ERR_IO otherwise. The timeout given to tls_connect_pinned()
 * bounds each read and each tls_write_all(). */
ssize_t tls_read(struct tls_conn *c, void *p, size_t n);
/* Waits up to timeout_ms for something to read (bytes already decrypted
 * count): 1 ready (or the connection failed: the next read says so), 0
 * nothing yet, or a negative ZT_ERR_*. */
int tls_wait_readable(struct tls_conn *c, int timeout_ms);
/* The connection's OpenSSL handle, for pump_run() (tunnel/pump.h); it
 * stays owned by c. */
struct ssl_st *tls_ssl(struct tls_conn *c);
void tls_close(struct tls_conn *c);

/*
 * The pin check on its own, for a TLS stack that makes its own SSL_CTX
 * (libcurl's, cli/cli_stream.c). tls_pin_new() holds what a chain is
 * checked against: host (name or literal address) and pin. 0,
 * ZT_ERR_INVALID or ZT_ERR_NOMEM; free with tls_pin_free (NULL is a no-op).
 *
 * tls_ctx_pin() makes ctx refuse TLS below 1.2, compression and
 * renegotiation, and replaces its chain verification with the pinned one
 * that tls_connect_pinned() uses: the system trust store is never
 * consulted. pc is borrowed by ctx: it must outlive every handshake made
 * with ctx, and a handshake using it belongs to one thread at a time.
 * tls_pin_result() then says what the last handshake's check found: 0
 * (accepted, or none ran), ZT_ERR_PIN (no certificate of the chain has the
 * pinned key) or ZT_ERR_TLS (the chain or the host name did not verify).
 */
int tls_pin_new(const char *host, const char *pin, struct tls_pin **out);
void tls_pin_free(struct tls_pin *pc);
int tls_ctx_pin(struct ssl_ctx_st *ctx, struct tls_pin *pc);
int tls_pin_result(const struct tls_pin *pc);

/* Checks that pin has the form "sha256:" + 64 lower-case hex digits. */
int tls_pin_valid(const char *pin);
/* The pin of a certificate's public key ("sha256:" + hex SHA-256 of its DER
 * SubjectPublicKeyInfo) into out (TLS_PIN_LEN + 1 bytes). 0, ZT_ERR_INVALID
 * or ZT_ERR_CRYPTO. */
int tls_pin_of_x509(struct x509_st *x, char *out, size_t outsz);

#endif
