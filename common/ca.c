/*
 * ca.c - zt's TLS certificate authority over OpenSSL 3.
 *
 * A self-signed ECDSA P-256 CA lives in the data directory (tls-ca.key,
 * PKCS#8 PEM, 0600; tls-ca.crt, 0644). It issues the broker's HTTPS server
 * certificate and the agents' client certificates from their CSRs. The three
 * kinds of certificate are made by one function, cert_make(), from a small
 * description: who signs, the subject's name and key, the validity and a
 * table of extensions, so the profiles differ only in data.
 *
 * The key helpers here are also used by sshca.c: both CAs make and keep
 * their private key the same way and refuse one that other users could read.
 *
 * Every OpenSSL failure clears OpenSSL's per-thread error queue after logging
 * its reason, so a later, unrelated call never reports a stale error.
 */
#include "common/ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"

#define CA_KEY_FILE "tls-ca.key"
#define CA_CRT_FILE "tls-ca.crt"
#define CA_CN "zt TLS CA"
#define CA_LIFETIME_S ((int64_t)3653 * 86400) /* ten years, leap days included */
#define CA_BACKDATE_S 300                         /* tolerated clock skew */
#define CA_CERTFILE_MAX 16384
#define CA_SERIAL_LEN 16                          /* 128-bit serials */
#define CA_DNS_MAX 253

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
	char pin[CA_PIN_LEN + 1];
};

/* One X.509v3 extension as OpenSSL's config syntax spells it. */
struct ext_spec {
	int nid;
	const char *value;
};

static const struct ext_spec ca_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_undef, NULL },
};

static const struct ext_spec server_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
	{ NID_undef, NULL },
};

static const struct ext_spec client_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "clientAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
	{ NID_undef, NULL },
};

/* What cert_make() needs to build and sign one certificate. */
struct cert_spec {
	X509 *issuer;              /* NULL: self-signed */
	EVP_PKEY *sign_key;
	const char *cn;
	EVP_PKEY *subject_key;     /* public part is certified */
	int64_t not_before;
	int64_t not_after;
	const struct ext_spec *exts;
	GENERAL_NAMES *sans;       /* NULL: none */
};

/* OpenSSL's last error as text, then an empty error queue. */
static void openssl_reason(char *buf, size_t bufsz)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0) {
		ERR_error_string_n(e, buf, bufsz);
	} else {
		snprintf(buf, bufsz, "no OpenSSL error recorded");
	}
	ERR_clear_error();
}

void ca_openssl_fail(const char *what)
{
	char reason[256];

	openssl_reason(reason, sizeof(reason));
	log_error("%s: %s", what, reason);
}

/* A PEM passphrase callback that refuses: an encrypted key is an error, and
 * OpenSSL's default would prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int path_join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outsz) {
		log_error("path too long: %s/%s", dir, name);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/*
 * Reads a whole regular file of at most max bytes into a new NUL-terminated
 * buffer of max + 1 bytes (so callers can wipe it with a known size). With
 * private_only, a mode granting any group or other bit is refused.
 */
static int file_read(const char *path, size_t max, int private_only, char **out, size_t *outlen)
{
	struct stat st;
	char *p = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r = ZT_ERR_IO;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			r = ZT_ERR_NOT_FOUND;
		} else {
			log_error("%s: %s", path, strerror(errno));
		}
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (private_only && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		log_error("%s: mode %04o lets other users read a private key; refusing it "
		    "(chmod 600 it)", path, (unsigned)(st.st_mode & 07777));
		r = ZT_ERR_INVALID;
		goto out;
	}
	if ((p = malloc(max + 1)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	while (len <= max) {
		n = read(fd, p + len, max + 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			log_error("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	if (len > max) {
		log_error("%s: larger than %zu bytes", path, max);
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	p[len] = '\0';
	*out = p;
	*outlen = len;
	p = NULL;
	r = 0;
out:
	crypto_free_secret(p, max + 1);
	if (fd >= 0) {
		close(fd);
	}
	return r;
}

/* Writes data to a new file (O_EXCL) with exactly the given mode; on any
 * failure after creating it, the partial file is removed. */
static int file_create(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	size_t off = 0;
	ssize_t n;
	int fd = -1, r = ZT_ERR_IO;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		r = errno == EEXIST ? ZT_ERR_EXISTS : ZT_ERR_IO;
		log_error("%s: %s", path, strerror(errno));
		return r;
	}
	/* The umask may have taken bits away; the mode asked for is the contract. */
	if (fchmod(fd, mode) != 0) {
		log_error("%s: chmod: %s", path, strerror(errno));
		goto out;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			log_error("%s: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		log_error("%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (close(fd) != 0 && r == 0) {
		log_error("%s: close: %s", path, strerror(errno));
		r = ZT_ERR_IO;
	}
	if (r != 0) {
		unlink(path);
	}
	return r;
}

/* The contents of a memory BIO as a new C string. */
static int bio_to_str(BIO *bio, char **out)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	*out = NULL;
	if (n < 0 || data == NULL) {
		return ZT_ERR_CRYPTO;
	}
	if ((*out = malloc((size_t)n + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	return 0;
}

/* 1 for a name of 1..max characters from [A-Za-z0-9] and extra. */
static int name_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(extra, c) != NULL)) {
			return 0;
		}
	}
	return 1;
}

static int pin_of_key(EVP_PKEY *key, char *out, size_t outsz)
{
	unsigned char *der = NULL;
	uint8_t md[CRYPTO_SHA256_LEN];
	int n, r;

	if (outsz < CA_PIN_LEN + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((n = i2d_PUBKEY(key, &der)) <= 0) {
		ca_openssl_fail("i2d_PUBKEY");
		return ZT_ERR_CRYPTO;
	}
	crypto_sha256(der, (size_t)n, md);
	OPENSSL_free(der);
	memcpy(out, "sha256:", 7);
	r = crypto_hex(md, sizeof(md), out + 7, outsz - 7);
	return r;
}

static int set_random_serial(X509 *x)
{
	uint8_t b[CA_SERIAL_LEN];
	BIGNUM *bn = NULL;
	int r;

	if ((r = crypto_random(b, sizeof(b))) != 0) {
		return r;
	}
	/* Positive, and always 16 bytes long once DER-encoded. */
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
	r = ZT_ERR_CRYPTO;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		ca_openssl_fail("serial number");
		goto out;
	}
	r = 0;
out:
	BN_free(bn);
	return r;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	int r = ZT_ERR_CRYPTO;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1) {
		ca_openssl_fail(OBJ_nid2sn(nid));
		goto out;
	}
	r = 0;
out:
	X509_EXTENSION_free(ext);
	return r;
}

/* Builds and signs the certificate spec describes. */
static int cert_make(const struct cert_spec *spec, X509 **out)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	int r = ZT_ERR_CRYPTO;

	*out = NULL;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		ca_openssl_fail("X509_new");
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = set_random_serial(x)) != 0) {
		goto out;
	}
	r = ZT_ERR_CRYPTO;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)spec->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)spec->not_after) == NULL) {
		ca_openssl_fail("certificate validity");
		goto out;
	}
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)spec->cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, spec->issuer != NULL ?
	    X509_get_subject_name(spec->issuer) : name) != 1 ||
	    X509_set_pubkey(x, spec->subject_key) != 1) {
		ca_openssl_fail("certificate names");
		goto out;
	}
	for (const struct ext_spec *e = spec->exts; e->nid != NID_undef; e++) {
		if ((r = add_ext(x, spec->issuer != NULL ? spec->issuer : x, e->nid,
		    e->value)) != 0) {
			goto out;
		}
	}
	r = ZT_ERR_CRYPTO;
	if (spec->sans != NULL &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, spec->sans, 0, X509V3_ADD_DEFAULT) != 1) {
		ca_openssl_fail("subjectAltName");
		goto out;
	}
	if (X509_sign(x, spec->sign_key, EVP_sha256()) <= 0) {
		ca_openssl_fail("X509_sign");
		goto out;
	}
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

static int cert_to_pem(X509 *x, char **out)
{
	BIO *bio = NULL;
	int r = ZT_ERR_CRYPTO;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(bio, x) != 1) {
		ca_openssl_fail("PEM_write_bio_X509");
		goto out;
	}
	r = bio_to_str(bio, out);
out:
	BIO_free(bio);
	return r;
}

static int key_to_pem(EVP_PKEY *key, char **out)
{
	BIO *bio = NULL;
	int r = ZT_ERR_CRYPTO;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		ca_openssl_fail("PEM_write_bio_PrivateKey");
		goto out;
	}
	r = bio_to_str(bio, out);
out:
	BIO_free(bio);
	return r;
}

static const char *const kind_names[] = { "P-256", "Ed25519" };

int ca_keygen(enum ca_key_kind kind, EVP_PKEY **out)
{
	*out = kind == CA_KEY_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (*out == NULL) {
		ca_openssl_fail(kind_names[kind]);
		return ZT_ERR_CRYPTO;
	}
	return 0;
}

/* 1 if key is of the given kind. */
static int key_is(EVP_PKEY *key, enum ca_key_kind kind)
{
	char group[64];
	size_t glen = 0;

	if (kind == CA_KEY_ED25519) {
		return EVP_PKEY_is_a(key, "ED25519");
	}
	return EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1 &&
	    OBJ_sn2nid(group) == NID_X9_62_prime256v1;
}

static int keyfile_load(const char *path, enum ca_key_kind kind, EVP_PKEY **out)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	if ((r = file_read(path, CA_KEYFILE_MAX, 1, &pem, &len)) != 0) {
		goto out;
	}
	r = ZT_ERR_INVALID;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (*out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
		ca_openssl_fail(path);
		goto out;
	}
	if (!key_is(*out, kind)) {
		ERR_clear_error();
		log_error("%s: expected a %s private key", path, kind_names[kind]);
		goto out;
	}
	r = 0;
out:
	BIO_free(bio);
	crypto_free_secret(pem, CA_KEYFILE_MAX + 1);
	return r;
}

int ca_keyfile_load_or_create(const char *dir, const char *name, enum ca_key_kind kind,
    EVP_PKEY **out, int *created)
{
	char path[PATH_MAX];
	EVP_PKEY *key = NULL;
	char *pem = NULL;
	int r;

	*out = NULL;
	if (created != NULL) {
		*created = 0;
	}
	if ((r = path_join(path, sizeof(path), dir, name)) != 0) {
		goto out;
	}
	if ((r = keyfile_load(path, kind, &key)) != ZT_ERR_NOT_FOUND) {
		goto out;
	}
	if ((r = ca_keygen(kind, &key)) != 0 || (r = key_to_pem(key, &pem)) != 0 ||
	    (r = file_create(path, pem, strlen(pem), 0600)) != 0) {
		goto out;
	}
	log_info("created a new %s key in %s", kind_names[kind], path);
	if (created != NULL) {
		*created = 1;
	}
out:
	crypto_free_str(pem);
	if (r == 0) {
		*out = key;
		key = NULL;
	}
	EVP_PKEY_free(key);
	return r;
}

/* The certificate of a CA whose key was just made, written next to it. */
static int ca_create_cert(struct ca *ca, int64_t now, const char *crtpath, const char *keypath)
{
	struct cert_spec spec = { 0 };
	char *pem = NULL;
	int r;

	spec.sign_key = ca->key;
	spec.cn = CA_CN;
	spec.subject_key = ca->key;
	spec.not_before = now - CA_BACKDATE_S;
	spec.not_after = now + CA_LIFETIME_S;
	spec.exts = ca_exts;
	if ((r = cert_make(&spec, &ca->cert)) != 0 || (r = cert_to_pem(ca->cert, &pem)) != 0 ||
	    (r = file_create(crtpath, pem, strlen(pem), 0644)) != 0) {
		/* Never leave a key without its certificate behind. */
		unlink(keypath);
		goto out;
	}
	log_info("created the TLS CA certificate %s", crtpath);
out:
	free(pem);
	return r;
}

static int ca_load_cert(struct ca *ca, const char *crtpath, const char *keypath)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	if ((r = file_read(crtpath, CA_CERTFILE_MAX, 0, &pem, &len)) != 0) {
		if (r == ZT_ERR_NOT_FOUND) {
			log_error("%s exists but %s is missing", keypath, crtpath);
			r = ZT_ERR_INVALID;
		}
		goto out;
	}
	r = ZT_ERR_INVALID;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (ca->cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL) {
		ca_openssl_fail(crtpath);
		goto out;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		log_error("%s does not match the key in %s", crtpath, keypath);
		goto out;
	}
	r = 0;
out:
	BIO_free(bio);
	free(pem);
	return r;
}

int ca_load_or_create(const char *dir, int64_t now, struct ca **out)
{
	char keypath[PATH_MAX], crtpath[PATH_MAX];
	struct ca *ca = NULL;
	int created = 0, r;

	*out = NULL;
	if ((r = path_join(keypath, sizeof(keypath), dir, CA_KEY_FILE)) != 0 ||
	    (r = path_join(crtpath, sizeof(crtpath), dir, CA_CRT_FILE)) != 0) {
		goto out;
	}
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	/* A certificate whose key is gone is never silently replaced. */
	if (access(keypath, F_OK) != 0 && access(crtpath, F_OK) == 0) {
		log_error("%s exists without %s; refusing to replace it", crtpath, keypath);
		r = ZT_ERR_INVALID;
		goto out;
	}
	if ((r = ca_keyfile_load_or_create(dir, CA_KEY_FILE, CA_KEY_P256, &ca->key,
	    &created)) != 0) {
		goto out;
	}
	r = created ? ca_create_cert(ca, now, crtpath, keypath) :
	    ca_load_cert(ca, crtpath, keypath);
	if (r != 0) {
		goto out;
	}
	if ((r = pin_of_key(ca->key, ca->pin, sizeof(ca->pin))) != 0 ||
	    (r = cert_to_pem(ca->cert, &ca->cert_pem)) != 0) {
		goto out;
	}
	*out = ca;
	ca = NULL;
out:
	ca_free(ca);
	return r;
}

void ca_free(struct ca *ca)
{
	if (ca == NULL) {
		return;
	}
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->cert_pem);
	free(ca);
}

int ca_pin(const struct ca *ca, char *out, size_t outsz)
{
	if (outsz < sizeof(ca->pin)) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(out, ca->pin, sizeof(ca->pin));
	return 0;
}

const char *ca_cert_pem(const struct ca *ca)
{
	return ca->cert_pem;
}

static int ttl_ok(int64_t now, int64_t ttl_s)
{
	if (ttl_s <= 0 || ttl_s > CA_LIFETIME_S || now < CA_BACKDATE_S ||
	    now > INT64_MAX - CA_LIFETIME_S) {
		log_error("certificate lifetime %lld s at %lld is out of range",
		    (long long)ttl_s, (long long)now);
		return 0;
	}
	return 1;
}

static int san_add(GENERAL_NAMES *gens, const char *name)
{
	unsigned char ip[16];
	size_t iplen = 0;
	GENERAL_NAME *gen = NULL;
	ASN1_OCTET_STRING *os = NULL;
	int r = ZT_ERR_CRYPTO;

	if (inet_pton(AF_INET, name, ip) == 1) {
		iplen = 4;
	} else if (inet_pton(AF_INET6, name, ip) == 1) {
		iplen = 16;
	} else if (!name_ok(name, CA_DNS_MAX, ".-_*")) {
		log_error("not a valid DNS name or IP address for a certificate: \"%.64s\"", name);
		return ZT_ERR_INVALID;
	}
	if ((gen = GENERAL_NAME_new()) == NULL || (os = ASN1_OCTET_STRING_new()) == NULL) {
		ca_openssl_fail("GENERAL_NAME_new");
		r = ZT_ERR_NOMEM;
		goto out;
	}
	/* An IA5STRING is an ASN1_STRING like the octet string, tagged differently. */
	if (iplen > 0) {
		if (ASN1_OCTET_STRING_set(os, ip, (int)iplen) != 1) {
			ca_openssl_fail("subjectAltName IP");
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_IPADD, os);
	} else {
		ASN1_OCTET_STRING_free(os);
		if ((os = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(os, name, (int)strlen(name)) != 1) {
			ca_openssl_fail("subjectAltName DNS");
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_DNS, os);
	}
	os = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		ca_openssl_fail("subjectAltName");
		goto out;
	}
	gen = NULL;
	r = 0;
out:
	ASN1_STRING_free(os);
	GENERAL_NAME_free(gen);
	return r;
}

int ca_issue_server(const struct ca *ca, const char *const *sans, size_t nsans, int64_t now,
    int64_t ttl_s, char **chain_pem, char **key_pem)
{
	struct cert_spec spec = { 0 };
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *leaf = NULL, *kpem = NULL, *chain = NULL;
	size_t leaflen, calen;
	int r = ZT_ERR_INVALID;

	*chain_pem = NULL;
	*key_pem = NULL;
	if (nsans == 0 || nsans > CA_SAN_MAX) {
		log_error("a server certificate needs 1 to %d names", CA_SAN_MAX);
		goto out;
	}
	if (!ttl_ok(now, ttl_s)) {
		goto out;
	}
	if (strnlen(sans[0], CA_NAME_MAX + 1) > CA_NAME_MAX) {
		log_error("the first name of a server certificate is its CN: at most %d characters",
		    CA_NAME_MAX);
		goto out;
	}
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nsans; i++) {
		if ((r = san_add(gens, sans[i])) != 0) {
			goto out;
		}
	}
	if ((r = ca_keygen(CA_KEY_P256, &key)) != 0) {
		goto out;
	}
	spec.issuer = ca->cert;
	spec.sign_key = ca->key;
	spec.cn = sans[0];
	spec.subject_key = key;
	spec.not_before = now - CA_BACKDATE_S;
	spec.not_after = now + ttl_s;
	spec.exts = server_exts;
	spec.sans = gens;
	if ((r = cert_make(&spec, &x)) != 0 || (r = cert_to_pem(x, &leaf)) != 0 ||
	    (r = key_to_pem(key, &kpem)) != 0) {
		goto out;
	}
	leaflen = strlen(leaf);
	calen = strlen(ca->cert_pem);
	if ((chain = malloc(leaflen + calen + 1)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	memcpy(chain, leaf, leaflen);
	memcpy(chain + leaflen, ca->cert_pem, calen + 1);
	*chain_pem = chain;
	*key_pem = kpem;
	chain = NULL;
	kpem = NULL;
	r = 0;
out:
	GENERAL_NAMES_free(gens);
	EVP_PKEY_free(key);
	X509_free(x);
	free(leaf);
	free(chain);
	crypto_free_str(kpem);
	return r;
}

int ca_sign_csr(const struct ca *ca, const char *csr_pem, size_t len, const char *cn,
    int64_t now, int64_t ttl_s, char **cert_pem)
{
	struct cert_spec spec = { 0 };
	char reason[256];
	BIO *bio = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	int r = ZT_ERR_INVALID;

	*cert_pem = NULL;
	if (len > CA_CSR_MAX) {
		log_warn("CSR of %zu bytes refused: the limit is %d", len, CA_CSR_MAX);
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	if (cn == NULL || !name_ok(cn, CA_NAME_MAX, "._-")) {
		log_warn("client certificate name refused: 1 to %d of [A-Za-z0-9._-]", CA_NAME_MAX);
		goto out;
	}
	if (!ttl_ok(now, ttl_s)) {
		goto out;
	}
	if (csr_pem == NULL || (bio = BIO_new_mem_buf(csr_pem, (int)len)) == NULL ||
	    (req = PEM_read_bio_X509_REQ(bio, NULL, no_passphrase, NULL)) == NULL ||
	    (pub = X509_REQ_get0_pubkey(req)) == NULL) {
		openssl_reason(reason, sizeof(reason));
		log_warn("CSR for %s refused: not a PEM certificate request (%s)", cn, reason);
		goto out;
	}
	/* Agents may use P-256 or Ed25519 keys, nothing weaker or exotic. */
	if (!key_is(pub, CA_KEY_P256) && !key_is(pub, CA_KEY_ED25519)) {
		ERR_clear_error();
		log_warn("CSR for %s refused: key is not EC P-256 or Ed25519", cn);
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		openssl_reason(reason, sizeof(reason));
		log_warn("CSR for %s refused: its signature does not verify (%s)", cn, reason);
		goto out;
	}
	spec.issuer = ca->cert;
	spec.sign_key = ca->key;
	spec.cn = cn;
	spec.subject_key = pub;
	spec.not_before = now - CA_BACKDATE_S;
	spec.not_after = now + ttl_s;
	spec.exts = client_exts;
	if ((r = cert_make(&spec, &x)) != 0 || (r = cert_to_pem(x, cert_pem)) != 0) {
		goto out;
	}
	r = 0;
out:
	X509_free(x);
	X509_REQ_free(req);
	BIO_free(bio);
	return r;
}

int ca_pin_of_pem(const char *cert_pem, char *out, size_t outsz)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pub;
	int r = ZT_ERR_INVALID;

	if ((bio = BIO_new_mem_buf(cert_pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL ||
	    (pub = X509_get0_pubkey(x)) == NULL) {
		ca_openssl_fail("certificate for pin");
		goto out;
	}
	r = pin_of_key(pub, out, outsz);
out:
	X509_free(x);
	BIO_free(bio);
	return r;
}
