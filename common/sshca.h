/*
 * sshca.h - the broker's SSH user CA and OpenSSH user certificates.
 *
 * The CA key is Ed25519, created on first start as ssh-user-ca.key (PKCS#8
 * PEM, 0600) in the data directory; targets' sshd trust it through
 * `TrustedUserCAKeys` with the line sshca_pubkey_line() returns. Certificates
 * follow OpenSSH's PROTOCOL.certkeys for ssh-ed25519-cert-v01@openssh.com:
 * built by sshcert_encode() and signed by the CA. libssh cannot sign
 * certificates, so this is zt's own code over OpenSSL's Ed25519.
 *
 * Validity is always given explicitly (tests pass fixed times).
 */
#ifndef ZT_SSHCA_H
#define ZT_SSHCA_H

#include <stddef.h>
#include <stdint.h>

#define SSHCERT_MAX 8192          /* bytes of a certificate blob */
#define SSHCERT_MAX_PRINCIPALS 32
#define SSHCERT_EXT_PERMIT_PTY 0x01
#define SSHCERT_EXT_PERMIT_USER_RC 0x02
#define SSHCERT_EXT_PERMIT_AGENT 0x04
#define SSHCERT_EXT_PERMIT_X11 0x08
#define SSHCERT_EXT_PERMIT_PORT 0x10

struct sshca;

/* A user certificate's fields (all strings borrowed). */
struct sshcert {
	uint8_t pubkey[32];          /* the subject's Ed25519 public key */
	uint64_t serial;
	const char *key_id;          /* e.g. "zt:user:alice:<call id>" */
	const char *principals[SSHCERT_MAX_PRINCIPALS];
	size_t nprincipals;          /* 0 would mean "any": refused by sshcert_encode */
	uint64_t valid_after;        /* unix seconds */
	uint64_t valid_before;
	unsigned extensions;         /* SSHCERT_EXT_* bits */
	const char *force_command;   /* critical option, NULL if none */
	const char *source_address;  /* critical option, NULL if none */
	uint8_t ca_pubkey[32];       /* filled by sshcert_parse */
};

/* Loads ssh-user-ca.key from dir, creating it (0600) if absent. */
int sshca_load_or_create(const char *dir, struct sshca **out);
void sshca_free(struct sshca *ca);
/* "ssh-ed25519 AAAA... zt-user-ca" (borrowed, lives as long as ca). */
const char *sshca_pubkey_line(const struct sshca *ca);

/* Encodes and signs a certificate. *blob (owned by the caller) is the wire
 * form; *line (owned, may be NULL) is the authorized_keys-style text line
 * "ssh-ed25519-cert-v01@openssh.com <base64> <comment>". 0, ZT_ERR_INVALID
 * (no principal, validity inverted, strings too long), ZT_ERR_CRYPTO. */
int sshca_sign(const struct sshca *ca, const struct sshcert *cert, const char *comment,
    uint8_t **blob, size_t *bloblen, char **line);

/* Parses a certificate blob and verifies its CA signature. On success the
 * strings in *out point into a copy owned by *strings (free it), ca_pubkey
 * is set. ZT_ERR_INVALID, ZT_ERR_TRUNCATED, ZT_ERR_TRAILING, ZT_ERR_AUTH
 * (bad signature), ZT_ERR_TOO_LARGE. */
int sshcert_parse(const uint8_t *blob, size_t len, struct sshcert *out, char **strings);

/* A fresh Ed25519 key pair: 32-byte public key and the private key in
 * OpenSSH's "openssh-key-v1" PEM format (owned; free with crypto_free_str),
 * as libssh and ssh(1) import it. */
int sshkey_generate(uint8_t pub[32], char **priv_openssh);

#endif
