/*
 * sshca.c - zt's SSH user CA: OpenSSH user certificates signed with an
 * Ed25519 key, and fresh Ed25519 session keys in OpenSSH's own key format.
 *
 * The wire formats are OpenSSH's PROTOCOL.certkeys (certificates) and
 * PROTOCOL.key (openssh-key-v1 private keys). Every byte is written and read
 * through the bounded buffer (common/buf.h); the parser is strict because
 * its input may come from anywhere: the exact certificate type, a user
 * certificate, at most SSHCERT_MAX_PRINCIPALS principals, only the critical
 * options zt knows, names in the order OpenSSH requires, an Ed25519 CA, no
 * trailing bytes, and a signature that verifies.
 *
 * The CA key is made and kept like the TLS CA's (ca_keyfile_load_or_create
 * in ca.c).
 */
#include "common/sshca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"

#define SSHCA_KEY_FILE "ssh-user-ca.key"
#define SSHCA_COMMENT "zt-user-ca"
#define CERT_TYPE "ssh-ed25519-cert-v01@openssh.com"
#define KEY_TYPE "ssh-ed25519"
#define CERT_USER 1
#define ED25519_PUB_LEN 32
#define ED25519_SIG_LEN 64
#define NONCE_LEN 32
#define KEYFILE_MAGIC "openssh-key-v1"  /* written with its NUL */
#define KEYFILE_BLOCK 8                /* cipher "none" pads to 8 bytes */
#define KEYFILE_COLS 70
#define KEYFILE_MAX 4096
#define COMMENT_MAX 256

struct sshca {
	EVP_PKEY *key;
	uint8_t pub[ED25519_PUB_LEN];
	char *line;
};

/*
 * Extensions in the order OpenSSH requires: sorted by strcmp, so
 * "permit-X11-forwarding" (capital X) comes first. sshca_test checks it.
 */
static const struct {
	const char *name;
	unsigned bit;
} cert_exts[] = {
	{ "permit-X11-forwarding", SSHCERT_EXT_PERMIT_X11 },
	{ "permit-agent-forwarding", SSHCERT_EXT_PERMIT_AGENT },
	{ "permit-port-forwarding", SSHCERT_EXT_PERMIT_PORT },
	{ "permit-pty", SSHCERT_EXT_PERMIT_PTY },
	{ "permit-user-rc", SSHCERT_EXT_PERMIT_USER_RC },
};
#define N_EXTS (sizeof(cert_exts) / sizeof(cert_exts[0]))
#define ALL_EXTS (SSHCERT_EXT_PERMIT_PTY | SSHCERT_EXT_PERMIT_USER_RC | \
	SSHCERT_EXT_PERMIT_AGENT | SSHCERT_EXT_PERMIT_X11 | SSHCERT_EXT_PERMIT_PORT)

/* The critical options zt knows, also in strcmp order. */
#define OPT_FORCE_COMMAND "force-command"
#define OPT_SOURCE_ADDRESS "source-address"

/* "string inner" where inner is everything in b. */
static int put_buf_string(struct buf *outer, const struct buf *inner)
{
	return buf_put_string(outer, buf_ptr(inner), buf_len(inner));
}

/*
 * The Ed25519 shape used for public keys and signatures alike:
 * string(string "ssh-ed25519", string data).
 */
static int put_ed25519(struct buf *b, const uint8_t *data, size_t n)
{
	struct buf *t = NULL;
	int r = ZT_ERR_NOMEM;

	if ((t = buf_new(64 + n)) == NULL) {
		goto out;
	}
	if ((r = buf_put_cstring(t, KEY_TYPE)) != 0 || (r = buf_put_string(t, data, n)) != 0) {
		goto out;
	}
	r = put_buf_string(b, t);
out:
	buf_free(t);
	return r;
}

/* Reads a string and requires it to equal want. */
static int get_name(struct buf *b, const char *want)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if ((r = buf_get_string_peek(b, &p, &n)) != 0) {
		return r;
	}
	if (n != strlen(want) || memcmp(p, want, n) != 0) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* A string of exactly n bytes, copied into out. */
static int get_fixed(struct buf *b, uint8_t *out, size_t n)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int r;

	if ((r = buf_get_string_peek(b, &p, &len)) != 0) {
		return r;
	}
	if (len != n) {
		return ZT_ERR_INVALID;
	}
	memcpy(out, p, n);
	return 0;
}

/* The reverse of put_ed25519(): exactly n bytes of data into out. */
static int get_ed25519(struct buf *b, uint8_t *out, size_t n)
{
	struct buf *t = NULL;
	int r;

	if ((r = buf_get_stringb(b, &t)) != 0 || (r = get_name(t, KEY_TYPE)) != 0 ||
	    (r = get_fixed(t, out, n)) != 0) {
		goto out;
	}
	r = buf_get_end(t);
out:
	buf_free(t);
	return r;
}

static int sign_ed25519(EVP_PKEY *key, const uint8_t *msg, size_t len,
    uint8_t sig[ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = ED25519_SIG_LEN;
	int r = ZT_ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 || siglen != ED25519_SIG_LEN) {
		ca_openssl_fail("Ed25519 signature");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* 0 if sig is pub's signature of msg, else ZT_ERR_AUTH. */
static int verify_ed25519(const uint8_t pub[ED25519_PUB_LEN], const uint8_t *msg, size_t len,
    const uint8_t sig[ED25519_SIG_LEN])
{
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = NULL;
	int r = ZT_ERR_CRYPTO;

	if ((key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
	    ED25519_PUB_LEN)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
		ca_openssl_fail("Ed25519 verification");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, msg, len) != 1) {
		/* A bad signature is an answer, not an error worth a log line. */
		ERR_clear_error();
		r = ZT_ERR_AUTH;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}

static int raw_public(EVP_PKEY *key, uint8_t pub[ED25519_PUB_LEN])
{
	size_t n = ED25519_PUB_LEN;

	if (EVP_PKEY_get_raw_public_key(key, pub, &n) != 1 || n != ED25519_PUB_LEN) {
		ca_openssl_fail("Ed25519 public key");
		return ZT_ERR_CRYPTO;
	}
	return 0;
}

/* "ssh-ed25519 <base64 of the public blob> comment" as a new string. */
static int pubkey_line(const uint8_t pub[ED25519_PUB_LEN], const char *comment, char **out)
{
	struct buf *b = NULL, *line = NULL;
	char *b64 = NULL;
	int r = ZT_ERR_NOMEM;

	*out = NULL;
	if ((b = buf_new(128)) == NULL || (line = buf_new(256)) == NULL) {
		goto out;
	}
	/* The blob is put_ed25519()'s contents without the outer length. */
	if ((r = put_ed25519(b, pub, ED25519_PUB_LEN)) != 0 || (r = buf_consume(b, 4)) != 0) {
		goto out;
	}
	if ((b64 = crypto_b64_dup(buf_ptr(b), buf_len(b))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = buf_putf(line, "%s %s %s", KEY_TYPE, b64, comment)) != 0) {
		goto out;
	}
	r = buf_dup_cstring(line, out);
out:
	free(b64);
	buf_free(line);
	buf_free(b);
	return r;
}

int sshca_load_or_create(const char *dir, struct sshca **out)
{
	struct sshca *ca = NULL;
	int r = ZT_ERR_NOMEM;

	*out = NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		goto out;
	}
	if ((r = ca_keyfile_load_or_create(dir, SSHCA_KEY_FILE, CA_KEY_ED25519, &ca->key,
	    NULL)) != 0 || (r = raw_public(ca->key, ca->pub)) != 0 ||
	    (r = pubkey_line(ca->pub, SSHCA_COMMENT, &ca->line)) != 0) {
		goto out;
	}
	*out = ca;
	ca = NULL;
out:
	sshca_free(ca);
	return r;
}

void sshca_free(struct sshca *ca)
{
	if (ca == NULL) {
		return;
	}
	EVP_PKEY_free(ca->key);
	free(ca->line);
	free(ca);
}

const char *sshca_pubkey_line(const struct sshca *ca)
{
	return ca->line;
}

/* Fields sshca_sign() refuses before encoding anything. */
static int cert_fields_ok(const struct sshcert *c, const char *comment)
{
	if (c->nprincipals == 0 || c->nprincipals > SSHCERT_MAX_PRINCIPALS) {
		log_error("an SSH certificate needs 1 to %d principals", SSHCERT_MAX_PRINCIPALS);
		return 0;
	}
	for (size_t i = 0; i < c->nprincipals; i++) {
		if (c->principals[i] == NULL || c->principals[i][0] == '\0') {
			log_error("empty SSH certificate principal");
			return 0;
		}
	}
	if (c->key_id == NULL || c->valid_after >= c->valid_before ||
	    (c->extensions & ~(unsigned)ALL_EXTS) != 0) {
		log_error("SSH certificate without key id, with inverted validity or unknown "
		    "extensions");
		return 0;
	}
	for (const char *p = comment; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || p - comment >= COMMENT_MAX) {
			log_error("SSH certificate comment has control characters or is too long");
			return 0;
		}
	}
	return 1;
}

/* The certificate up to (not including) the signature. */
static int cert_encode_body(const struct sshca *ca, const struct sshcert *c, struct buf *b)
{
	struct buf *t = NULL, *v = NULL;
	uint8_t nonce[NONCE_LEN];
	const char *opt_names[2] = { OPT_FORCE_COMMAND, OPT_SOURCE_ADDRESS };
	const char *opt_values[2] = { c->force_command, c->source_address };
	int r = ZT_ERR_NOMEM;

	if ((t = buf_new(SSHCERT_MAX)) == NULL || (v = buf_new(SSHCERT_MAX)) == NULL) {
		goto out;
	}
	if ((r = crypto_random(nonce, sizeof(nonce))) != 0 ||
	    (r = buf_put_cstring(b, CERT_TYPE)) != 0 ||
	    (r = buf_put_string(b, nonce, sizeof(nonce))) != 0 ||
	    (r = buf_put_string(b, c->pubkey, sizeof(c->pubkey))) != 0 ||
	    (r = buf_put_u64(b, c->serial)) != 0 ||
	    (r = buf_put_u32(b, CERT_USER)) != 0 ||
	    (r = buf_put_cstring(b, c->key_id)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < c->nprincipals; i++) {
		if ((r = buf_put_cstring(t, c->principals[i])) != 0) {
			goto out;
		}
	}
	if ((r = put_buf_string(b, t)) != 0 || (r = buf_put_u64(b, c->valid_after)) != 0 ||
	    (r = buf_put_u64(b, c->valid_before)) != 0) {
		goto out;
	}
	/* Critical options: each value is a string wrapping a string. */
	buf_reset(t);
	for (size_t i = 0; i < 2; i++) {
		if (opt_values[i] == NULL) {
			continue;
		}
		buf_reset(v);
		if ((r = buf_put_cstring(v, opt_values[i])) != 0 ||
		    (r = buf_put_cstring(t, opt_names[i])) != 0 ||
		    (r = put_buf_string(t, v)) != 0) {
			goto out;
		}
	}
	if ((r = put_buf_string(b, t)) != 0) {
		goto out;
	}
	/* Extensions carry empty data. */
	buf_reset(t);
	for (size_t i = 0; i < N_EXTS; i++) {
		if ((c->extensions & cert_exts[i].bit) != 0 &&
		    ((r = buf_put_cstring(t, cert_exts[i].name)) != 0 ||
		    (r = buf_put_string(t, NULL, 0)) != 0)) {
			goto out;
		}
	}
	if ((r = put_buf_string(b, t)) != 0 || (r = buf_put_string(b, NULL, 0)) != 0 ||
	    (r = put_ed25519(b, ca->pub, sizeof(ca->pub))) != 0) {
		goto out;
	}
	r = 0;
out:
	buf_free(v);
	buf_free(t);
	return r;
}

int sshca_sign(const struct sshca *ca, const struct sshcert *cert, const char *comment,
    uint8_t **blob, size_t *bloblen, char **line)
{
	struct buf *b = NULL, *l = NULL;
	uint8_t sig[ED25519_SIG_LEN];
	uint8_t *out = NULL;
	char *b64 = NULL;
	int r = ZT_ERR_INVALID;

	*blob = NULL;
	*bloblen = 0;
	if (line != NULL) {
		*line = NULL;
	}
	if (!cert_fields_ok(cert, comment)) {
		goto out;
	}
	if ((b = buf_new(SSHCERT_MAX)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = cert_encode_body(ca, cert, b)) != 0 ||
	    (r = sign_ed25519(ca->key, buf_ptr(b), buf_len(b), sig)) != 0 ||
	    (r = put_ed25519(b, sig, sizeof(sig))) != 0) {
		if (r == ZT_ERR_TOO_LARGE) {
			log_error("SSH certificate over %d bytes: strings too long", SSHCERT_MAX);
			r = ZT_ERR_INVALID;
		}
		goto out;
	}
	if ((out = malloc(buf_len(b))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	memcpy(out, buf_ptr(b), buf_len(b));
	if (line != NULL) {
		if ((b64 = crypto_b64_dup(out, buf_len(b))) == NULL ||
		    (l = buf_new(2 * SSHCERT_MAX)) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
		if ((r = buf_putf(l, "%s %s%s%s", CERT_TYPE, b64,
		    comment != NULL && *comment != '\0' ? " " : "",
		    comment != NULL ? comment : "")) != 0 || (r = buf_dup_cstring(l, line)) != 0) {
			goto out;
		}
	}
	*bloblen = buf_len(b);
	*blob = out;
	out = NULL;
	r = 0;
out:
	free(out);
	free(b64);
	buf_free(l);
	buf_free(b);
	return r;
}

/* Where sshcert_parse() copies the certificate's strings: one allocation. */
struct strpack {
	char *base;
	size_t used;
	size_t cap;
};

static int pack_string(struct buf *b, struct strpack *sp, const char **out)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if ((r = buf_get_string_peek(b, &p, &n)) != 0) {
		return r;
	}
	if (n != 0 && memchr(p, '\0', n) != NULL) {
		return ZT_ERR_INVALID;
	}
	if (n >= sp->cap - sp->used) {
		return ZT_ERR_INTERNAL; /* the pack is sized so this cannot happen */
	}
	memcpy(sp->base + sp->used, p, n);
	sp->base[sp->used + n] = '\0';
	*out = sp->base + sp->used;
	sp->used += n + 1;
	return 0;
}

/* Reads the next name of an option or extension list and requires the list
 * to be strictly sorted (which also refuses duplicates). */
static int get_sorted_name(struct buf *b, struct strpack *sp, const char **prev,
    const char **name)
{
	int r;

	if ((r = pack_string(b, sp, name)) != 0) {
		return r;
	}
	if (*prev != NULL && strcmp(*prev, *name) >= 0) {
		return ZT_ERR_INVALID;
	}
	*prev = *name;
	return 0;
}

static int parse_options(struct buf *opts, struct strpack *sp, struct sshcert *c)
{
	struct buf *v = NULL;
	const char *prev = NULL, *name = NULL, **dst;
	int r = 0;

	while (buf_len(opts) > 0) {
		if ((r = get_sorted_name(opts, sp, &prev, &name)) != 0) {
			goto out;
		}
		if (strcmp(name, OPT_FORCE_COMMAND) == 0) {
			dst = &c->force_command;
		} else if (strcmp(name, OPT_SOURCE_ADDRESS) == 0) {
			dst = &c->source_address;
		} else {
			/* An option zt cannot honour must not be ignored. */
			r = ZT_ERR_INVALID;
			goto out;
		}
		if ((r = buf_get_stringb(opts, &v)) != 0 || (r = pack_string(v, sp, dst)) != 0 ||
		    (r = buf_get_end(v)) != 0) {
			goto out;
		}
		buf_free(v);
		v = NULL;
	}
out:
	buf_free(v);
	return r;
}

static int parse_extensions(struct buf *exts, struct strpack *sp, struct sshcert *c)
{
	const char *prev = NULL, *name = NULL;
	size_t n = 0;
	int r;

	while (buf_len(exts) > 0) {
		if ((r = get_sorted_name(exts, sp, &prev, &name)) != 0 ||
		    (r = buf_get_string_peek(exts, NULL, &n)) != 0) {
			return r;
		}
		/* Unknown extensions are not critical: skipped, as OpenSSH does. */
		for (size_t i = 0; i < N_EXTS; i++) {
			if (strcmp(name, cert_exts[i].name) == 0) {
				if (n != 0) {
					return ZT_ERR_INVALID;
				}
				c->extensions |= cert_exts[i].bit;
			}
		}
	}
	return 0;
}

static int parse_principals(struct buf *pb, struct strpack *sp, struct sshcert *c)
{
	int r;

	while (buf_len(pb) > 0) {
		if (c->nprincipals == SSHCERT_MAX_PRINCIPALS) {
			return ZT_ERR_TOO_LARGE;
		}
		if ((r = pack_string(pb, sp, &c->principals[c->nprincipals])) != 0) {
			return r;
		}
		c->nprincipals++;
	}
	/* No principal means "anyone" to OpenSSH; zt never issues that. */
	return c->nprincipals == 0 ? ZT_ERR_INVALID : 0;
}

int sshcert_parse(const uint8_t *blob, size_t len, struct sshcert *out, char **strings)
{
	struct buf *b = NULL, *pb = NULL, *ob = NULL, *eb = NULL;
	struct strpack sp = { 0 };
	struct sshcert c;
	uint8_t sig[ED25519_SIG_LEN];
	size_t signed_len;
	uint32_t type = 0;
	int r = ZT_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	*strings = NULL;
	if (len > SSHCERT_MAX) {
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	/* Every string's bytes lie inside the blob; add one NUL per string. */
	sp.cap = len + SSHCERT_MAX_PRINCIPALS + 4;
	if ((sp.base = malloc(sp.cap)) == NULL || (b = buf_from(blob, len)) == NULL) {
		goto out;
	}
	if ((r = get_name(b, CERT_TYPE)) != 0 ||
	    (r = buf_get_string_peek(b, NULL, NULL)) != 0 ||      /* nonce */
	    (r = get_fixed(b, c.pubkey, sizeof(c.pubkey))) != 0 ||
	    (r = buf_get_u64(b, &c.serial)) != 0 ||
	    (r = buf_get_u32(b, &type)) != 0) {
		goto out;
	}
	if (type != CERT_USER) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if ((r = pack_string(b, &sp, &c.key_id)) != 0 ||
	    (r = buf_get_stringb(b, &pb)) != 0 || (r = parse_principals(pb, &sp, &c)) != 0 ||
	    (r = buf_get_u64(b, &c.valid_after)) != 0 ||
	    (r = buf_get_u64(b, &c.valid_before)) != 0 ||
	    (r = buf_get_stringb(b, &ob)) != 0 || (r = parse_options(ob, &sp, &c)) != 0 ||
	    (r = buf_get_stringb(b, &eb)) != 0 || (r = parse_extensions(eb, &sp, &c)) != 0 ||
	    (r = buf_get_string_peek(b, NULL, NULL)) != 0 ||      /* reserved */
	    (r = get_ed25519(b, c.ca_pubkey, sizeof(c.ca_pubkey))) != 0) {
		goto out;
	}
	signed_len = len - buf_len(b);
	if ((r = get_ed25519(b, sig, sizeof(sig))) != 0 || (r = buf_get_end(b)) != 0 ||
	    (r = verify_ed25519(c.ca_pubkey, blob, signed_len, sig)) != 0) {
		goto out;
	}
	*out = c;
	*strings = sp.base;
	sp.base = NULL;
	r = 0;
out:
	free(sp.base);
	buf_free(eb);
	buf_free(ob);
	buf_free(pb);
	buf_free(b);
	return r;
}

int sshkey_generate(uint8_t pub[32], char **priv_openssh)
{
	struct buf *priv = NULL, *file = NULL, *pem = NULL;
	EVP_PKEY *key = NULL;
	uint8_t sk[2 * ED25519_PUB_LEN];   /* OpenSSH keeps seed || public */
	uint32_t check;
	size_t n = ED25519_PUB_LEN;
	char *b64 = NULL;
	int r = ZT_ERR_NOMEM;

	*priv_openssh = NULL;
	if ((priv = buf_new(KEYFILE_MAX)) == NULL || (file = buf_new(KEYFILE_MAX)) == NULL ||
	    (pem = buf_new(2 * KEYFILE_MAX)) == NULL) {
		goto out;
	}
	if ((r = ca_keygen(CA_KEY_ED25519, &key)) != 0 || (r = raw_public(key, pub)) != 0) {
		goto out;
	}
	if (EVP_PKEY_get_raw_private_key(key, sk, &n) != 1 || n != ED25519_PUB_LEN) {
		ca_openssl_fail("Ed25519 private key");
		r = ZT_ERR_CRYPTO;
		goto out;
	}
	memcpy(sk + ED25519_PUB_LEN, pub, ED25519_PUB_LEN);
	/* The private section: two equal check words, the key, a comment, and
	 * padding 1, 2, 3... to the cipher's block size. */
	if ((r = crypto_random(&check, sizeof(check))) != 0 ||
	    (r = buf_put_u32(priv, check)) != 0 || (r = buf_put_u32(priv, check)) != 0 ||
	    (r = buf_put_cstring(priv, KEY_TYPE)) != 0 ||
	    (r = buf_put_string(priv, pub, ED25519_PUB_LEN)) != 0 ||
	    (r = buf_put_string(priv, sk, sizeof(sk))) != 0 ||
	    (r = buf_put_cstring(priv, "")) != 0) {
		goto out;
	}
	for (uint8_t pad = 1; buf_len(priv) % KEYFILE_BLOCK != 0; pad++) {
		if ((r = buf_put_u8(priv, pad)) != 0) {
			goto out;
		}
	}
	if ((r = buf_put(file, KEYFILE_MAGIC, sizeof(KEYFILE_MAGIC))) != 0 ||
	    (r = buf_put_cstring(file, "none")) != 0 ||   /* cipher */
	    (r = buf_put_cstring(file, "none")) != 0 ||   /* kdf */
	    (r = buf_put_string(file, NULL, 0)) != 0 ||   /* kdf options */
	    (r = buf_put_u32(file, 1)) != 0 ||            /* number of keys */
	    (r = put_ed25519(file, pub, ED25519_PUB_LEN)) != 0 ||
	    (r = put_buf_string(file, priv)) != 0) {
		goto out;
	}
	if ((b64 = crypto_b64_dup(buf_ptr(file), buf_len(file))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = buf_putf(pem, "-----BEGIN OPENSSH PRIVATE KEY-----\n")) != 0) {
		goto out;
	}
	for (size_t off = 0, len = strlen(b64); off < len; off += KEYFILE_COLS) {
		n = len - off < KEYFILE_COLS ? len - off : KEYFILE_COLS;
		if ((r = buf_put(pem, b64 + off, n)) != 0 || (r = buf_put_u8(pem, '\n')) != 0) {
			goto out;
		}
	}
	if ((r = buf_putf(pem, "-----END OPENSSH PRIVATE KEY-----\n")) != 0) {
		goto out;
	}
	r = buf_dup_cstring(pem, priv_openssh);
out:
	crypto_wipe(sk, sizeof(sk));
	crypto_free_str(b64);
	buf_free(pem);
	buf_free(file);
	buf_free(priv);
	EVP_PKEY_free(key);
	return r;
}
