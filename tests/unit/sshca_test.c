/*
 * sshca_test.c - the SSH user CA (common/sshca.c): the CA key file, the
 * certificate wire format (walked field by field here, independently of
 * sshcert_parse), encode/parse round trips with fixed times, the parser's
 * refusals, and the openssh-key-v1 private keys sshkey_generate writes.
 * Real ssh-keygen, ssh and sshd check the same output in
 * tests/e2e/sshca.test.mjs.
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

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sshca.h"
#include "tests/unit/testutil.h"

#define T0 ((uint64_t)1700000000)
#define CERT_TYPE "ssh-ed25519-cert-v01@openssh.com"

struct fixture {
	char dir[TU_DIR_MAX];
	struct sshca *ca;
	uint8_t ca_pub[32];
};

/* The CA's public key, decoded from its line as a client would. */
static void pub_from_line(const char *line, uint8_t pub[32])
{
	const char *b64 = strchr(line, ' ') + 1;
	const char *end = strchr(b64, ' ');
	uint8_t *blob = NULL;
	size_t n = 0;

	assert_int_equal(crypto_b64_decode(b64, (size_t)(end - b64), &blob, &n), 0);
	assert_int_equal(n, 4 + 11 + 4 + 32);
	assert_memory_equal(blob + 4, "ssh-ed25519", 11);
	memcpy(pub, blob + n - 32, 32);
	free(blob);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "sshca-test"), 0);
	assert_int_equal(sshca_load_or_create(f->dir, &f->ca), 0);
	pub_from_line(sshca_pubkey_line(f->ca), f->ca_pub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sshca_free(f->ca);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void sample_cert(struct sshcert *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < 32; i++) {
		c->pubkey[i] = (uint8_t)(i * 7 + 1);
	}
	c->serial = 0x0102030405060708ULL;
	c->key_id = "zt:user:alice:call-1";
	c->principals[0] = "ubuntu";
	c->principals[1] = "deploy";
	c->nprincipals = 2;
	c->valid_after = T0;
	c->valid_before = T0 + 120;
	c->extensions = SSHCERT_EXT_PERMIT_PTY;
}

static void sign_ok(struct fixture *f, const struct sshcert *c, uint8_t **blob, size_t *len)
{
	assert_int_equal(sshca_sign(f->ca, c, NULL, blob, len, NULL), 0);
	assert_non_null(*blob);
	assert_true(*len > 0 && *len <= SSHCERT_MAX);
}

static void test_ca_key_file(void **state)
{
	struct fixture *f = *state;
	struct sshca *again = NULL;
	char path[TU_PATH_MAX];
	struct stat st;
	const char *line = sshca_pubkey_line(f->ca);
	size_t n = strlen(line);

	assert_memory_equal(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37);
	assert_string_equal(line + n - 11, " zt-user-ca");
	snprintf(path, sizeof(path), "%s/ssh-user-ca.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(sshca_load_or_create(f->dir, &again), 0);
	assert_string_equal(sshca_pubkey_line(again), line);
	sshca_free(again);
	again = NULL;
	sshca_free(NULL);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(sshca_load_or_create(f->dir, &again), ZT_ERR_INVALID);
	assert_null(again);
	assert_int_equal(chmod(path, 0600), 0);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sshcert c, p;
	uint8_t *blob = NULL, *decoded = NULL;
	size_t len = 0, dlen = 0;
	char *line = NULL, *strings = NULL;
	const char *b64;

	sample_cert(&c);
	c.extensions = SSHCERT_EXT_PERMIT_PTY | SSHCERT_EXT_PERMIT_USER_RC |
	    SSHCERT_EXT_PERMIT_AGENT | SSHCERT_EXT_PERMIT_X11 | SSHCERT_EXT_PERMIT_PORT;
	c.force_command = "uptime";
	c.source_address = "10.0.0.0/8,127.0.0.1";
	assert_int_equal(sshca_sign(f->ca, &c, "alice", &blob, &len, &line), 0);

	assert_int_equal(sshcert_parse(blob, len, &p, &strings), 0);
	assert_non_null(strings);
	assert_memory_equal(p.pubkey, c.pubkey, 32);
	assert_memory_equal(p.ca_pubkey, f->ca_pub, 32);
	assert_true(p.serial == c.serial);
	assert_string_equal(p.key_id, c.key_id);
	assert_int_equal(p.nprincipals, 2);
	assert_string_equal(p.principals[0], "ubuntu");
	assert_string_equal(p.principals[1], "deploy");
	assert_true(p.valid_after == T0);
	assert_true(p.valid_before == T0 + 120);
	assert_int_equal(p.extensions, c.extensions);
	assert_string_equal(p.force_command, "uptime");
	assert_string_equal(p.source_address, "10.0.0.0/8,127.0.0.1");

	/* The text line is the same blob in base64, then the comment. */
	assert_memory_equal(line, CERT_TYPE " ", strlen(CERT_TYPE) + 1);
	b64 = line + strlen(CERT_TYPE) + 1;
	assert_string_equal(strchr(b64, ' '), " alice");
	assert_int_equal(crypto_b64_decode(b64, (size_t)(strchr(b64, ' ') - b64), &decoded,
	    &dlen), 0);
	assert_int_equal(dlen, len);
	assert_memory_equal(decoded, blob, len);

	/* Two signings differ (fresh nonce) and both parse. */
	free(strings);
	free(blob);
	sample_cert(&c);
	sign_ok(f, &c, &blob, &len);
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), 0);
	assert_null(p.force_command);
	assert_null(p.source_address);
	assert_int_equal(p.extensions, SSHCERT_EXT_PERMIT_PTY);
	free(strings);
	free(decoded);
	free(line);
	free(blob);
}

/* Walks a certificate to its extensions with the bounded buffer alone. */
static void test_extensions_sorted(void **state)
{
	static const char *const want[] = {
		"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
		"permit-pty", "permit-user-rc",
	};
	struct fixture *f = *state;
	struct sshcert c;
	struct buf *b = NULL, *exts = NULL;
	uint8_t *blob = NULL;
	size_t len = 0, n = 0, i;
	uint64_t u64;
	uint32_t u32;
	char *name = NULL, *prev = NULL;

	sample_cert(&c);
	c.extensions = SSHCERT_EXT_PERMIT_PTY | SSHCERT_EXT_PERMIT_USER_RC |
	    SSHCERT_EXT_PERMIT_AGENT | SSHCERT_EXT_PERMIT_X11 | SSHCERT_EXT_PERMIT_PORT;
	sign_ok(f, &c, &blob, &len);
	assert_non_null(b = buf_from(blob, len));
	for (i = 0; i < 3; i++) {                       /* type, nonce, key */
		assert_int_equal(buf_get_string_peek(b, NULL, NULL), 0);
	}
	assert_int_equal(buf_get_u64(b, &u64), 0);      /* serial */
	assert_int_equal(buf_get_u32(b, &u32), 0);      /* type */
	assert_int_equal(u32, 1);
	for (i = 0; i < 2; i++) {                       /* key id, principals */
		assert_int_equal(buf_get_string_peek(b, NULL, NULL), 0);
	}
	assert_int_equal(buf_get_u64(b, &u64), 0);
	assert_true(u64 == T0);
	assert_int_equal(buf_get_u64(b, &u64), 0);
	assert_int_equal(buf_get_string_peek(b, NULL, &n), 0); /* critical options */
	assert_int_equal(n, 0);
	assert_int_equal(buf_get_stringb(b, &exts), 0);
	for (i = 0; buf_len(exts) > 0; i++) {
		assert_true(i < 5);
		assert_int_equal(buf_get_cstring(exts, 64, &name, NULL), 0);
		assert_string_equal(name, want[i]);
		if (prev != NULL) {
			assert_true(strcmp(prev, name) < 0);
		}
		assert_int_equal(buf_get_string_peek(exts, NULL, &n), 0);
		assert_int_equal(n, 0);
		free(prev);
		prev = name;
	}
	assert_int_equal(i, 5);
	free(prev);
	buf_free(exts);
	buf_free(b);
	free(blob);
}

static void test_sign_refusals(void **state)
{
	struct fixture *f = *state;
	struct sshcert c;
	uint8_t *blob = NULL;
	size_t len = 0;
	char *line = NULL, *big = NULL;

	sample_cert(&c);
	c.nprincipals = 0;
	assert_int_equal(sshca_sign(f->ca, &c, NULL, &blob, &len, &line), ZT_ERR_INVALID);
	assert_null(blob);
	assert_null(line);
	sample_cert(&c);
	c.principals[1] = "";
	assert_int_equal(sshca_sign(f->ca, &c, NULL, &blob, &len, &line), ZT_ERR_INVALID);
	sample_cert(&c);
	c.valid_before = c.valid_after;
	assert_int_equal(sshca_sign(f->ca, &c, NULL, &blob, &len, &line), ZT_ERR_INVALID);
	sample_cert(&c);
	c.extensions = 0x100;
	assert_int_equal(sshca_sign(f->ca, &c, NULL, &blob, &len, &line), ZT_ERR_INVALID);
	sample_cert(&c);
	assert_int_equal(sshca_sign(f->ca, &c, "two\nlines", &blob, &len, &line),
	    ZT_ERR_INVALID);
	assert_non_null(big = malloc(SSHCERT_MAX + 1));
	memset(big, 'k', SSHCERT_MAX);
	big[SSHCERT_MAX] = '\0';
	c.key_id = big;
	assert_int_equal(sshca_sign(f->ca, &c, NULL, &blob, &len, &line), ZT_ERR_INVALID);
	assert_null(blob);
	free(big);
}

static void test_tampered_refused(void **state)
{
	struct fixture *f = *state;
	struct sshcert c, p;
	uint8_t *blob = NULL, *longer = NULL;
	size_t len = 0, at;
	char *strings = NULL;

	sample_cert(&c);
	sign_ok(f, &c, &blob, &len);
	/* One bit in the key id, then one in the signature. */
	at = (size_t)((uint8_t *)memmem(blob, len, "alice", 5) - blob);
	blob[at] ^= 0x20;
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_AUTH);
	assert_null(strings);
	assert_null(p.key_id);
	blob[at] ^= 0x20;
	blob[len - 1] ^= 0x01;
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_AUTH);
	blob[len - 1] ^= 0x01;
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), 0);
	free(strings);

	/* Truncated, trailing, wrong type, over the size limit. */
	assert_int_equal(sshcert_parse(blob, len - 1, &p, &strings), ZT_ERR_TRUNCATED);
	assert_non_null(longer = calloc(1, SSHCERT_MAX + 1));
	memcpy(longer, blob, len);
	assert_int_equal(sshcert_parse(longer, len + 1, &p, &strings), ZT_ERR_TRAILING);
	assert_int_equal(sshcert_parse(longer, SSHCERT_MAX + 1, &p, &strings),
	    ZT_ERR_TOO_LARGE);
	blob[4] = 'x';
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_INVALID);
	assert_int_equal(sshcert_parse(blob, 0, &p, &strings), ZT_ERR_TRUNCATED);
	assert_null(strings);
	free(longer);
	free(blob);
}

/* A certificate body built by hand, for what sshca_sign would never write;
 * the signature is garbage, so only refusals that come first are seen. */
static uint8_t *hand_cert(uint32_t type, size_t nprinc, const char *sigkey, size_t *len)
{
	struct buf *b = buf_new(SSHCERT_MAX), *t = buf_new(SSHCERT_MAX);
	uint8_t zero[64] = { 0 }, *out;

	assert_non_null(b);
	assert_non_null(t);
	assert_int_equal(buf_put_cstring(b, CERT_TYPE), 0);
	assert_int_equal(buf_put_string(b, zero, 32), 0);
	assert_int_equal(buf_put_string(b, zero, 32), 0);
	assert_int_equal(buf_put_u64(b, 1), 0);
	assert_int_equal(buf_put_u32(b, type), 0);
	assert_int_equal(buf_put_cstring(b, "id"), 0);
	for (size_t i = 0; i < nprinc; i++) {
		assert_int_equal(buf_put_cstring(t, "p"), 0);
	}
	assert_int_equal(buf_put_string(b, buf_ptr(t), buf_len(t)), 0);
	assert_int_equal(buf_put_u64(b, T0), 0);
	assert_int_equal(buf_put_u64(b, T0 + 60), 0);
	assert_int_equal(buf_put_string(b, NULL, 0), 0);
	assert_int_equal(buf_put_string(b, NULL, 0), 0);
	assert_int_equal(buf_put_string(b, NULL, 0), 0);
	buf_reset(t);
	assert_int_equal(buf_put_cstring(t, sigkey), 0);
	assert_int_equal(buf_put_string(t, zero, 32), 0);
	assert_int_equal(buf_put_string(b, buf_ptr(t), buf_len(t)), 0);
	buf_reset(t);
	assert_int_equal(buf_put_cstring(t, "ssh-ed25519"), 0);
	assert_int_equal(buf_put_string(t, zero, 64), 0);
	assert_int_equal(buf_put_string(b, buf_ptr(t), buf_len(t)), 0);
	*len = buf_len(b);
	assert_non_null(out = malloc(*len));
	memcpy(out, buf_ptr(b), *len);
	buf_free(t);
	buf_free(b);
	return out;
}

static void test_parser_refusals(void **state)
{
	struct sshcert p;
	char *strings = NULL;
	uint8_t *blob;
	size_t len = 0;

	(void)state;
	blob = hand_cert(1, 1, "ssh-ed25519", &len);
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_AUTH);
	free(blob);
	blob = hand_cert(2, 1, "ssh-ed25519", &len);        /* a host certificate */
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_INVALID);
	free(blob);
	blob = hand_cert(1, 0, "ssh-ed25519", &len);        /* "any principal" */
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_INVALID);
	free(blob);
	blob = hand_cert(1, SSHCERT_MAX_PRINCIPALS, "ssh-ed25519", &len);
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_AUTH);
	free(blob);
	blob = hand_cert(1, SSHCERT_MAX_PRINCIPALS + 1, "ssh-ed25519", &len);
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_TOO_LARGE);
	free(blob);
	blob = hand_cert(1, 1, "ssh-rsa", &len);            /* not an Ed25519 CA */
	assert_int_equal(sshcert_parse(blob, len, &p, &strings), ZT_ERR_INVALID);
	free(blob);
	assert_null(strings);
}

static void test_private_key_format(void **state)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----\n";
	uint8_t pub[32], pub2[32], check2 = 0, *raw = NULL, pad;
	char *key = NULL, *b64 = NULL, *w, *name = NULL;
	struct buf *b = NULL, *priv = NULL;
	uint32_t n32, check;
	const uint8_t *p;
	size_t n, rawlen = 0;
	EVP_PKEY *k;

	(void)state;
	assert_int_equal(sshkey_generate(pub, &key), 0);
	assert_memory_equal(key, begin, strlen(begin));
	n = strlen(key);
	assert_string_equal(key + n - strlen(end), end);
	/* Body lines of at most 70 columns, joined back into base64. */
	assert_non_null(b64 = calloc(1, n));
	w = b64;
	for (char *line = key + strlen(begin), *nl; line < key + n - strlen(end); line = nl + 1) {
		nl = strchr(line, '\n');
		assert_true(nl - line <= 70 && nl - line > 0);
		memcpy(w, line, (size_t)(nl - line));
		w += nl - line;
	}
	assert_int_equal(crypto_b64_decode(b64, strlen(b64), &raw, &rawlen), 0);

	assert_non_null(b = buf_from(raw, rawlen));
	assert_memory_equal(buf_ptr(b), "openssh-key-v1", 15);
	assert_int_equal(buf_consume(b, 15), 0);
	assert_int_equal(buf_get_cstring(b, 16, &name, NULL), 0);
	assert_string_equal(name, "none");
	free(name);
	assert_int_equal(buf_get_cstring(b, 16, &name, NULL), 0);
	assert_string_equal(name, "none");
	free(name);
	assert_int_equal(buf_get_string_peek(b, NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(buf_get_u32(b, &n32), 0);
	assert_int_equal(n32, 1);
	assert_int_equal(buf_get_string_peek(b, &p, &n), 0);
	assert_int_equal(n, 51);
	assert_memory_equal(p + 19, pub, 32);
	assert_int_equal(buf_get_stringb(b, &priv), 0);
	assert_int_equal(buf_get_end(b), 0);
	assert_int_equal(buf_len(priv) % 8, 0);
	assert_int_equal(buf_get_u32(priv, &check), 0);
	assert_int_equal(buf_get_u32(priv, &n32), 0);
	assert_int_equal(check, n32);
	assert_int_equal(buf_get_string_peek(priv, &p, &n), 0);
	assert_int_equal(n, 11);
	assert_int_equal(buf_get_string_peek(priv, &p, &n), 0);
	assert_memory_equal(p, pub, 32);
	assert_int_equal(buf_get_string_peek(priv, &p, &n), 0);
	assert_int_equal(n, 64);
	assert_memory_equal(p + 32, pub, 32);
	/* The seed really is the key for pub. */
	assert_non_null(k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, p, 32));
	n = 32;
	assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub2, &n), 1);
	assert_memory_equal(pub, pub2, 32);
	EVP_PKEY_free(k);
	assert_int_equal(buf_get_string_peek(priv, NULL, NULL), 0);  /* comment */
	while (buf_len(priv) > 0) {
		assert_int_equal(buf_get_u8(priv, &pad), 0);
		assert_int_equal(pad, ++check2);
	}

	buf_free(priv);
	buf_free(b);
	crypto_free_secret(raw, rawlen);
	crypto_free_str(b64);
	crypto_free_str(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extensions_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_refused, setup, teardown),
		cmocka_unit_test(test_parser_refusals),
		cmocka_unit_test(test_private_key_format),
	};

	log_init("sshca_test", ZT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
