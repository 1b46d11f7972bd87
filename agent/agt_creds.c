/*
 * agt_creds.c - a desktop's credentials file (agt_creds.h), read with the
 * agent's YAML walker (agt_yaml.h) and wiped wherever a copy was made.
 */
#include "agent/agt_creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/agt_yaml.h"
#include "common/err.h"

static int set_cred_username(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, c->creds->username, sizeof(c->creds->username));
}

static int set_cred_password(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, c->creds->password, sizeof(c->creds->password));
}

static int set_cred_domain(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, c->creds->domain, sizeof(c->creds->domain));
}

static int set_cred_nla_hash(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	char *h = c->creds->nla_hash;
	int r;

	if ((r = agt_yaml_str(c, v, key, h, sizeof(c->creds->nla_hash))) != 0) {
		return r;
	}
	if (desk_nla_hash_valid(h) != 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID,
		    "nla_hash must be %d hex digits (the NT hash)", AGT_NLA_HASH_LEN);
	}
	return 0;
}

static const struct agt_yaml_key cred_keys[] = {
	{ "username", YAML_SCALAR_NODE, set_cred_username },
	{ "password", YAML_SCALAR_NODE, set_cred_password },
	{ "nla_hash", YAML_SCALAR_NODE, set_cred_nla_hash },
	{ "domain", YAML_SCALAR_NODE, set_cred_domain },
};

void agt_rdp_creds_wipe(struct agt_rdp_creds *c)
{
	if (c != NULL) {
		explicit_bzero(c, sizeof(*c));
	}
}

int agt_rdp_creds_parse(const void *p, size_t n, const char *fname, struct agt_rdp_creds *out,
    char *err, size_t errsz)
{
	struct agt_yaml c = { .fname = fname, .err = err, .errsz = errsz, .creds = out,
	    .secret = 1 };
	int r;

	memset(out, 0, sizeof(*out));
	r = agt_yaml_parse(&c, p, n, cred_keys, sizeof(cred_keys) / sizeof(cred_keys[0]),
	    "username, password or nla_hash, domain");
	if (r == 0 && out->username[0] == '\0') {
		r = agt_yaml_fail_line(fname, 0, err, errsz, ZT_ERR_INVALID, "needs username");
	}
	if (r == 0 && (out->password[0] == '\0') == (out->nla_hash[0] == '\0')) {
		r = agt_yaml_fail_line(fname, 0, err, errsz, ZT_ERR_INVALID,
		    "needs one of password or nla_hash");
	}
	if (r != 0) {
		agt_rdp_creds_wipe(out);
	}
	return r;
}

int agt_rdp_creds_load(const char *path, struct agt_rdp_creds *out, char *err, size_t errsz)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = agt_yaml_read_file(path, S_IRWXG | S_IRWXO, "readable by group or others (chmod 600): "
	    "it holds a desktop's password", &text, &len, err, errsz);
	if (r == 0) {
		r = agt_rdp_creds_parse(text, len, path, out, err, errsz);
	}
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	if (r != 0) {
		agt_rdp_creds_wipe(out);
	}
	return r;
}
