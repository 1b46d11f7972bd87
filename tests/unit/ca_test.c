/*
 * ca_test.c - the TLS CA (common/ca.c): creation and reload, key file
 * permissions, server certificates checked by OpenSSL's own verifier, the
 * pin, and CSR signing with good, tampered, oversized and unwanted requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/unit/testutil.h"

#define NOW ((int64_t)1700000000)
#define DAY ((int64_t)86400)

static char *make_dir(void)
{
	char *d = malloc(TU_DIR_MAX);

	assert_non_null(d);
	assert_int_equal(tu_mkdtemp(d, TU_DIR_MAX, "ca-test"), 0);
	return d;
}

static void remove_dir(char *d)
{
	tu_rmtree(d);
	free(d);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static X509 *pem_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	assert_non_null(bio);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	return x;
}

/* 1 if leaf verifies against a store holding only ca_pem, at time NOW. */
static int verifies(X509 *leaf, const char *ca_pem, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *cacert = pem_cert(ca_pem);
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, cacert), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)NOW);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(cacert);
	ERR_clear_error();
	return ok == 1;
}

static void cn_of(X509 *x, char *out, size_t outsz)
{
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out,
	    (int)outsz) > 0);
}

static void test_create_then_load(void **state)
{
	struct ca *ca = NULL;
	char pin1[CA_PIN_LEN + 1], pin2[CA_PIN_LEN + 1], cn[80];
	char *dir = make_dir();
	char *key = path_in(dir, "tls-ca.key"), *crt = path_in(dir, "tls-ca.crt");
	struct stat st;
	X509 *x;

	(void)state;
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), 0);
	assert_int_equal(ca_pin(ca, pin1, sizeof(pin1)), 0);
	assert_int_equal(strlen(pin1), CA_PIN_LEN);
	assert_memory_equal(pin1, "sha256:", 7);
	assert_int_equal(ca_pin(ca, pin2, CA_PIN_LEN), ZT_ERR_TOO_LARGE);

	/* The certificate is a CA limited to signing end entities. */
	x = pem_cert(ca_cert_pem(ca));
	cn_of(x, cn, sizeof(cn));
	assert_string_equal(cn, "zt TLS CA");
	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_true(verifies(x, ca_cert_pem(ca), X509_PURPOSE_ANY));
	X509_free(x);
	ca_free(ca);
	ca = NULL;

	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(crt, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(ca_load_or_create(dir, NOW + DAY, &ca), 0);
	assert_int_equal(ca_pin(ca, pin2, sizeof(pin2)), 0);
	assert_string_equal(pin1, pin2);
	ca_free(ca);
	ca_free(NULL);
	free(key);
	free(crt);
	remove_dir(dir);
}

static void test_group_readable_key_refused(void **state)
{
	struct ca *ca = NULL;
	char *dir = make_dir(), *key = path_in(dir, "tls-ca.key");

	(void)state;
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), 0);
	ca_free(ca);
	ca = NULL;
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), ZT_ERR_INVALID);
	assert_null(ca);
	assert_int_equal(chmod(key, 0604), 0);
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), ZT_ERR_INVALID);
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), 0);
	ca_free(ca);
	free(key);
	remove_dir(dir);
}

static void test_mismatched_or_half_ca_refused(void **state)
{
	struct ca *a = NULL, *b = NULL;
	char *da = make_dir(), *db = make_dir();
	char *crt_a = path_in(da, "tls-ca.crt"), *key_a = path_in(da, "tls-ca.key");
	FILE *f;

	(void)state;
	assert_int_equal(ca_load_or_create(da, NOW, &a), 0);
	assert_int_equal(ca_load_or_create(db, NOW, &b), 0);
	/* A's key with B's certificate. */
	assert_non_null(f = fopen(crt_a, "w"));
	assert_true(fputs(ca_cert_pem(b), f) >= 0);
	assert_int_equal(fclose(f), 0);
	ca_free(a);
	a = NULL;
	assert_int_equal(ca_load_or_create(da, NOW, &a), ZT_ERR_INVALID);
	/* A certificate without its key is never silently replaced. */
	assert_int_equal(unlink(key_a), 0);
	assert_int_equal(ca_load_or_create(da, NOW, &a), ZT_ERR_INVALID);
	assert_int_equal(access(key_a, F_OK), -1);
	ca_free(b);
	free(crt_a);
	free(key_a);
	remove_dir(da);
	remove_dir(db);
}

static void test_keyfile_kind(void **state)
{
	char *dir = make_dir(), *path = path_in(dir, "k.key");
	EVP_PKEY *k = NULL;
	int created = -1;
	struct stat st;

	(void)state;
	assert_int_equal(ca_keyfile_load_or_create(dir, "k.key", CA_KEY_ED25519, &k, &created), 0);
	assert_int_equal(created, 1);
	assert_true(EVP_PKEY_is_a(k, "ED25519"));
	EVP_PKEY_free(k);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ca_keyfile_load_or_create(dir, "k.key", CA_KEY_ED25519, &k, &created), 0);
	assert_int_equal(created, 0);
	EVP_PKEY_free(k);
	/* A key of another kind is refused, not replaced. */
	assert_int_equal(ca_keyfile_load_or_create(dir, "k.key", CA_KEY_P256, &k, NULL),
	    ZT_ERR_INVALID);
	assert_null(k);
	assert_int_equal(ERR_peek_error(), 0);
	free(path);
	remove_dir(dir);
}

static void test_server_cert(void **state)
{
	static const char *const sans[] = { "broker.example", "localhost", "127.0.0.1", "::1" };
	struct ca *ca = NULL;
	char *dir = make_dir(), *chain = NULL, *key = NULL, cn[80];
	char pin_ca[CA_PIN_LEN + 1], pin_pem[CA_PIN_LEN + 1], pin_leaf[CA_PIN_LEN + 1];
	const char *second;
	EVP_PKEY *pkey;
	BIO *bio;
	X509 *leaf;

	(void)state;
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), 0);
	assert_int_equal(ca_issue_server(ca, sans, 4, NOW, 90 * DAY, &chain, &key), 0);

	leaf = pem_cert(chain);
	assert_true(verifies(leaf, ca_cert_pem(ca), X509_PURPOSE_SSL_SERVER));
	assert_false(verifies(leaf, ca_cert_pem(ca), X509_PURPOSE_SSL_CLIENT));
	cn_of(leaf, cn, sizeof(cn));
	assert_string_equal(cn, "broker.example");
	assert_int_equal(X509_check_host(leaf, "broker.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(leaf, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(leaf, "other.example", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.2", 0), 0);
	assert_int_equal(X509_check_ca(leaf), 0);

	/* The chain is the leaf followed by the CA. */
	second = strstr(chain + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	assert_string_equal(second, ca_cert_pem(ca));

	/* The key is the leaf's. */
	assert_non_null(bio = BIO_new_mem_buf(key, -1));
	assert_non_null(pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
	assert_int_equal(X509_check_private_key(leaf, pkey), 1);
	assert_true(EVP_PKEY_is_a(pkey, "EC"));

	/* Pins: the CA's own, as any client computes it, differs from the leaf's. */
	assert_int_equal(ca_pin(ca, pin_ca, sizeof(pin_ca)), 0);
	assert_int_equal(ca_pin_of_pem(ca_cert_pem(ca), pin_pem, sizeof(pin_pem)), 0);
	assert_string_equal(pin_ca, pin_pem);
	assert_int_equal(ca_pin_of_pem(chain, pin_leaf, sizeof(pin_leaf)), 0);
	assert_string_not_equal(pin_ca, pin_leaf);
	assert_int_equal(ca_pin_of_pem("not a certificate", pin_leaf, sizeof(pin_leaf)),
	    ZT_ERR_INVALID);

	/* Bad requests. */
	free(chain);
	crypto_free_str(key);
	assert_int_equal(ca_issue_server(ca, sans, 0, NOW, DAY, &chain, &key), ZT_ERR_INVALID);
	assert_null(chain);
	{
		const char *bad[] = { "bad,name" };

		assert_int_equal(ca_issue_server(ca, bad, 1, NOW, DAY, &chain, &key),
		    ZT_ERR_INVALID);
	}
	assert_int_equal(ca_issue_server(ca, sans, 1, NOW, 0, &chain, &key), ZT_ERR_INVALID);

	EVP_PKEY_free(pkey);
	BIO_free(bio);
	X509_free(leaf);
	ca_free(ca);
	remove_dir(dir);
}

/* A PEM CSR for key, signed with it; tamper flips the last byte of
 * the DER (inside the signature) first. */
static char *make_csr(EVP_PKEY *key, const EVP_MD *md, int tamper, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	const unsigned char *p;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out;
	long n;
	int dlen;

	assert_non_null(req);
	assert_non_null(name);
	assert_non_null(bio);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"ignored-by-the-ca", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_true(X509_REQ_sign(req, key, md) > 0);
	if (tamper) {
		assert_true((dlen = i2d_X509_REQ(req, &der)) > 0);
		der[dlen - 1] ^= 0x01;
		X509_REQ_free(req);
		p = der;
		assert_non_null(req = d2i_X509_REQ(NULL, &p, dlen));
		OPENSSL_free(der);
	}
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n > 0);
	assert_non_null(out = strndup(data, (size_t)n));
	*len = (size_t)n;
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

static void test_sign_csr(void **state)
{
	struct ca *ca = NULL;
	char *dir = make_dir(), *csr = NULL, *cert = NULL, cn[80], longname[CA_NAME_MAX + 2];
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t len = 0;
	X509 *x;

	(void)state;
	assert_non_null(p256);
	assert_non_null(ed);
	assert_int_equal(ca_load_or_create(dir, NOW, &ca), 0);

	csr = make_csr(p256, EVP_sha256(), 0, &len);
	assert_int_equal(ca_sign_csr(ca, csr, len, "agent-1.site_a", NOW, DAY, &cert), 0);
	x = pem_cert(cert);
	cn_of(x, cn, sizeof(cn));
	assert_string_equal(cn, "agent-1.site_a");
	assert_true(verifies(x, ca_cert_pem(ca), X509_PURPOSE_SSL_CLIENT));
	assert_false(verifies(x, ca_cert_pem(ca), X509_PURPOSE_SSL_SERVER));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), p256), 1);
	X509_free(x);
	free(cert);
	cert = NULL;
	free(csr);

	csr = make_csr(ed, NULL, 0, &len);
	assert_int_equal(ca_sign_csr(ca, csr, len, "agent-2", NOW, DAY, &cert), 0);
	x = pem_cert(cert);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), ed), 1);
	assert_true(verifies(x, ca_cert_pem(ca), X509_PURPOSE_SSL_CLIENT));
	X509_free(x);
	free(cert);
	cert = NULL;

	/* Names the CA will not put in a certificate. */
	assert_int_equal(ca_sign_csr(ca, csr, len, "", NOW, DAY, &cert), ZT_ERR_INVALID);
	assert_int_equal(ca_sign_csr(ca, csr, len, "a b", NOW, DAY, &cert), ZT_ERR_INVALID);
	assert_int_equal(ca_sign_csr(ca, csr, len, "a/b", NOW, DAY, &cert), ZT_ERR_INVALID);
	memset(longname, 'n', CA_NAME_MAX + 1);
	longname[CA_NAME_MAX + 1] = '\0';
	assert_int_equal(ca_sign_csr(ca, csr, len, longname, NOW, DAY, &cert), ZT_ERR_INVALID);
	longname[CA_NAME_MAX] = '\0';
	assert_int_equal(ca_sign_csr(ca, csr, len, longname, NOW, DAY, &cert), 0);
	free(cert);
	cert = NULL;
	/* A truncated request. */
	assert_int_equal(ca_sign_csr(ca, csr, len / 2, "agent-2", NOW, DAY, &cert),
	    ZT_ERR_INVALID);
	assert_null(cert);
	free(csr);

	/* A flipped signature byte. */
	csr = make_csr(ed, NULL, 1, &len);
	assert_int_equal(ca_sign_csr(ca, csr, len, "agent-2", NOW, DAY, &cert), ZT_ERR_INVALID);
	assert_null(cert);
	free(csr);
	csr = make_csr(p256, EVP_sha256(), 1, &len);
	assert_int_equal(ca_sign_csr(ca, csr, len, "agent-1", NOW, DAY, &cert), ZT_ERR_INVALID);
	free(csr);

	/* Over the limit, before any parsing. */
	assert_non_null(csr = calloc(1, CA_CSR_MAX + 2));
	memset(csr, 'A', CA_CSR_MAX + 1);
	assert_int_equal(ca_sign_csr(ca, csr, CA_CSR_MAX + 1, "agent-1", NOW, DAY, &cert),
	    ZT_ERR_TOO_LARGE);
	assert_null(cert);
	free(csr);

	/* A key type agents may not use. */
	EVP_PKEY_free(p256);
	assert_non_null(p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	csr = make_csr(p256, EVP_sha384(), 0, &len);
	assert_int_equal(ca_sign_csr(ca, csr, len, "agent-1", NOW, DAY, &cert), ZT_ERR_INVALID);
	free(csr);

	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed);
	ca_free(ca);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_then_load),
		cmocka_unit_test(test_group_readable_key_refused),
		cmocka_unit_test(test_mismatched_or_half_ca_refused),
		cmocka_unit_test(test_keyfile_kind),
		cmocka_unit_test(test_server_cert),
		cmocka_unit_test(test_sign_csr),
	};

	log_init("ca_test", ZT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
