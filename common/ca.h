/*
 * ca.h - the broker's TLS certificate authority (X.509, OpenSSL).
 *
 * On first start the broker creates a self-signed CA (ECDSA P-256, 10
 * years) in its data directory: tls-ca.key (0600) and tls-ca.crt. The CA
 * issues the broker's HTTPS server certificate (SANs: the --public-addr
 * names, localhost, 127.0.0.1) and later the agents' client certificates
 * from CSRs. Clients trust the broker only through the CA pin: "sha256:" and
 * the hex SHA-256 of the CA's DER SubjectPublicKeyInfo (no TOFU).
 *
 * "now" is always an argument so tests can fix time.
 */
#ifndef ZT_CA_H
#define ZT_CA_H

#include <stddef.h>
#include <stdint.h>

#define CA_PIN_LEN 71 /* "sha256:" + 64 hex */
#define CA_CSR_MAX 16384
#define CA_SAN_MAX 32     /* names in one server certificate */
#define CA_NAME_MAX 64    /* a client certificate's CN: [A-Za-z0-9._-]{1,64} */

struct ca;

/* Loads tls-ca.key/tls-ca.crt from dir, creating them (key 0600) if absent.
 * 0, ZT_ERR_IO, ZT_ERR_CRYPTO, ZT_ERR_INVALID (unreadable or mismatched). */
int ca_load_or_create(const char *dir, int64_t now, struct ca **out);
void ca_free(struct ca *ca);

/* The CA pin into out (CA_PIN_LEN + 1 bytes). */
int ca_pin(const struct ca *ca, char *out, size_t outsz);
/* The CA certificate as PEM (borrowed, lives as long as ca). */
const char *ca_cert_pem(const struct ca *ca);

/* Issues a server certificate for the given DNS names and IP addresses
 * (each SAN is an IP if it parses as one), valid [now-5m, now+ttl_s].
 * Returns a new P-256 key and "leaf + CA" chain as PEM strings, owned by
 * the caller (the key must be freed with crypto_free_str). */
int ca_issue_server(const struct ca *ca, const char *const *sans, size_t nsans, int64_t now,
    int64_t ttl_s, char **chain_pem, char **key_pem);
/* Issues a client certificate (CN = cn, extendedKeyUsage clientAuth) for
 * the public key of a PEM CSR whose self-signature verifies. The CSR's own
 * subject and extensions are ignored. ZT_ERR_TOO_LARGE over CA_CSR_MAX,
 * ZT_ERR_INVALID for a malformed CSR or bad signature. */
int ca_sign_csr(const struct ca *ca, const char *csr_pem, size_t len, const char *cn,
    int64_t now, int64_t ttl_s, char **cert_pem);

/* Writes the pin of a PEM certificate's public key (for tests and clients). */
int ca_pin_of_pem(const char *cert_pem, char *out, size_t outsz);

/*
 * Private keys, shared with sshca.c: both CAs make and keep theirs the same
 * way. ca_keygen() makes a fresh key of the given kind (0, ZT_ERR_CRYPTO).
 * ca_keyfile_load_or_create() loads dir/name, an unencrypted PEM private key
 * of that kind and at most CA_KEYFILE_MAX bytes, and refuses, with a log
 * line naming the file, one whose mode grants any group or other permission.
 * If the file does not exist, it makes a key and writes it as PKCS#8 PEM to
 * a file created with O_EXCL and mode 0600; *created (may be NULL) says
 * which happened. 0, ZT_ERR_IO, ZT_ERR_TOO_LARGE, ZT_ERR_INVALID (mode,
 * not a key of that kind), ZT_ERR_EXISTS (created meanwhile), ZT_ERR_CRYPTO.
 */
#define CA_KEYFILE_MAX 16384
enum ca_key_kind { CA_KEY_P256, CA_KEY_ED25519 };
struct evp_pkey_st;
int ca_keygen(enum ca_key_kind kind, struct evp_pkey_st **out);
int ca_keyfile_load_or_create(const char *dir, const char *name, enum ca_key_kind kind,
    struct evp_pkey_st **out, int *created);

/* Logs "what" with the reason OpenSSL gave (never key material) and clears
 * OpenSSL's error queue so the next caller starts clean. */
void ca_openssl_fail(const char *what);

#endif
