/*
 * agt_join.c - key, CSR and the join exchange.
 */
#include "agent/agt_join.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/tls.h"

#define JOIN_TIMEOUT_MS 15000

int agt_joined(const char *data_dir)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/agent.crt", data_dir);
	return stat(path, &st) == 0;
}

/* A PEM CSR for key with CN name (owned). */
static int make_csr(EVP_PKEY *key, const char *name, char **out)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	int r = ZT_ERR_CRYPTO;

	*out = NULL;
	if (req == NULL || bio == NULL || (subj = X509_REQ_get_subject_name(req)) == NULL ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1,
	    -1, 0) != 1 || X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 || PEM_write_bio_X509_REQ(bio, req) != 1) {
		ca_openssl_fail("making the certificate request");
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if ((*out = strndup(data, (size_t)n)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	BIO_free(bio);
	X509_REQ_free(req);
	return r;
}

/* Writes text to D/name with mode 0600, replacing it atomically. */
static int save(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	size_t len = strlen(text);
	int fd, r = ZT_ERR_IO;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return ZT_ERR_IO;
	}
	if (write(fd, text, len) == (ssize_t)len && fsync(fd) == 0) {
		r = 0;
	}
	close(fd);
	if (r == 0 && rename(tmp, path) != 0) {
		r = ZT_ERR_IO;
	}
	if (r != 0) {
		unlink(tmp);
	}
	return r;
}

int agt_connect(const struct agt_config *cfg, int timeout_ms, struct tls_conn **c)
{
	char cert[4200], key[4200];

	snprintf(cert, sizeof(cert), "%s/agent.crt", cfg->data_dir);
	snprintf(key, sizeof(key), "%s/agent.key", cfg->data_dir);
	return tls_connect_pinned_cert(cfg->broker_host, cfg->broker_port, cfg->ca_pin, cert, key,
	    timeout_ms, c);
}

long agt_tls_readfn(void *arg, void *p, size_t n)
{
	return (long)tls_read(arg, p, n);
}

static int tls_writefn(void *arg, const void *p, size_t n)
{
	return tls_write_all(arg, p, n);
}

int agt_send(struct tls_conn *c, const struct tun_msg *m)
{
	return tun_send(m, tls_writefn, c);
}

/* Sends m and reads one reply into reply. */
static int exchange(struct tls_conn *c, const struct tun_msg *m, struct tun_msg *reply)
{
	struct tun_stream in;
	int r;

	if ((r = tun_stream_init(&in)) != 0) {
		return r;
	}
	if ((r = agt_send(c, m)) == 0) {
		r = tun_recv(&in, agt_tls_readfn, c, reply);
	}
	tun_stream_clear(&in);
	return r;
}

/* Asks the broker for a certificate for agent.key: with a join token over
 * server-authenticated TLS (token != NULL), or as a renewal over mutual
 * TLS with the current certificate (token == NULL). Saves what it gets. */
static int obtain(const struct agt_config *cfg, const char *token, char *err, size_t errsz)
{
	const char *what = token != NULL ? "join" : "renewal";
	struct tun_msg m, reply;
	struct tls_conn *c = NULL;
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	memset(&reply, 0, sizeof(reply));
	if ((r = ca_keyfile_load_or_create(cfg->data_dir, "agent.key", CA_KEY_P256, &key,
	    NULL)) != 0 || (r = make_csr(key, cfg->name, &csr)) != 0) {
		snprintf(err, errsz, "cannot make the agent key or request: %s", zt_strerror(r));
		goto out;
	}
	r = token != NULL ?
	    tls_connect_pinned(cfg->broker_host, cfg->broker_port, cfg->ca_pin, JOIN_TIMEOUT_MS,
	    &c) : agt_connect(cfg, JOIN_TIMEOUT_MS, &c);
	if (r != 0) {
		snprintf(err, errsz, "cannot reach the broker at %s:%s: %s", cfg->broker_host,
		    cfg->broker_port, zt_strerror(r));
		goto out;
	}
	m.csr = csr;
	if (token != NULL) {
		m.type = TUN_JOIN;
		m.token = (char *)token;
		m.name = (char *)cfg->name;
		memcpy(m.labels, cfg->labels, sizeof(m.labels));
		m.nlabels = cfg->nlabels;
		m.resources = (struct tun_resource *)cfg->resources;
		m.nresources = cfg->nresources;
	} else {
		m.type = TUN_RENEW;
	}
	if ((r = exchange(c, &m, &reply)) != 0) {
		snprintf(err, errsz, "%s failed: %s", what, zt_strerror(r));
		goto out;
	}
	if (reply.type == TUN_ERROR) {
		snprintf(err, errsz, "%s refused by the broker: %s (%s)", what, reply.message,
		    reply.code);
		r = ZT_ERR_DENIED;
		goto out;
	}
	if (reply.type != TUN_JOIN_OK) {
		snprintf(err, errsz, "%s failed: unexpected %s", what, tun_type_name(reply.type));
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	if ((r = save(cfg->data_dir, "ca.crt", reply.ca)) != 0 ||
	    (r = save(cfg->data_dir, "agent.crt", reply.cert)) != 0) {
		snprintf(err, errsz, "cannot save the certificate in %s: %s", cfg->data_dir,
		    zt_strerror(r));
	}
out:
	tun_msg_clear(&reply);
	tls_close(c);
	free(csr);
	EVP_PKEY_free(key);
	return r;
}

int agt_join(const struct agt_config *cfg, const char *token, char *err, size_t errsz)
{
	return obtain(cfg, token, err, errsz);
}

int agt_renew(const struct agt_config *cfg, char *err, size_t errsz)
{
	return obtain(cfg, NULL, err, errsz);
}

int agt_cert_life(const char *data_dir, int64_t *life, int64_t *left)
{
	char path[4096];
	X509 *x = NULL;
	FILE *fp;
	int life_d = 0, life_s = 0, left_d = 0, left_s = 0, r = ZT_ERR_INVALID;

	*life = *left = 0;
	snprintf(path, sizeof(path), "%s/agent.crt", data_dir);
	if ((fp = fopen(path, "r")) == NULL) {
		return ZT_ERR_IO;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x != NULL &&
	    ASN1_TIME_diff(&life_d, &life_s, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1 &&
	    ASN1_TIME_diff(&left_d, &left_s, NULL, X509_get0_notAfter(x)) == 1) {
		*life = (int64_t)life_d * 86400 + life_s;
		*left = (int64_t)left_d * 86400 + left_s;
		r = 0;
	}
	X509_free(x);
	ERR_clear_error();
	return r;
}
