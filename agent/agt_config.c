/*
 * agt_config.c - ztagent's configuration file: two tables of keys (the
 * file's and a resource's) for the agent's YAML walker (agt_yaml.h).
 * Values are checked by the rules the wire uses (tunnel/tun.h), so what
 * loads here the broker accepts.
 */
#include "agent/agt_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "agent/agt_stream.h"
#include "agent/agt_yaml.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/name.h"
#include "common/net.h"

static int set_broker(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	char host[TUN_TARGET_MAX + 1], port[8];
	int r;

	if ((r = agt_yaml_str(c, v, key, c->f->broker, sizeof(c->f->broker))) != 0) {
		return r;
	}
	if (net_split_hostport(c->f->broker, host, sizeof(host), port, sizeof(port)) != 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID, "broker must be HOST:PORT");
	}
	return 0;
}

static int set_ca_pin(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = agt_yaml_str(c, v, key, c->f->ca_pin, sizeof(c->f->ca_pin))) != 0) {
		return r;
	}
	if (tls_pin_valid(c->f->ca_pin) != 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID,
		    "ca_pin must be sha256:<64 lower-case hex>");
	}
	return 0;
}

static int set_data_dir(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, c->f->data_dir, sizeof(c->f->data_dir));
}

static int set_name(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = agt_yaml_str(c, v, key, c->f->name, sizeof(c->f->name))) != 0) {
		return r;
	}
	if (!name_valid(c->f->name, TUN_NAME_MAX)) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID,
		    "name must be 1..%d of [a-z0-9._-], starting "
		    "with a letter or digit", TUN_NAME_MAX);
	}
	return 0;
}

static int set_max_streams(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	char s[16];
	int r;

	if ((r = agt_yaml_str(c, v, key, s, sizeof(s))) != 0 ||
	    (r = agt_streams_parse(s, &c->f->max_streams)) != 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID,
		    "max_streams must be a number from 1 to %d", AGT_STREAMS_MAX);
	}
	return 0;
}

static int set_rdp_idle(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	char s[32];
	int64_t sec = 0;

	if (agt_yaml_str(c, v, key, s, sizeof(s)) != 0 || dur_parse(s, 10, 86400, &sec) != 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID,
		    "rdp_idle_timeout must be a duration from 10s to 24h, e.g. 5m");
	}
	c->f->rdp_idle_ms = sec * 1000;
	return 0;
}

/* An absolute path into dst (AGT_CONFIG_PATH_MAX bytes). */
static int abs_path(struct agt_yaml *c, const yaml_node_t *v, const char *key, char *dst)
{
	int r;

	if ((r = agt_yaml_str(c, v, key, dst, AGT_CONFIG_PATH_MAX)) != 0) {
		return r;
	}
	if (dst[0] != '/') {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID, "%s must be an absolute path", key);
	}
	return 0;
}

static int set_rdp_helper(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return abs_path(c, v, key, c->f->rdp_helper);
}

/* A map of labels into l[0..max), each pair checked with the ones before
 * it by the wire's rule, at its own line. */
static int labels(struct agt_yaml *c, const yaml_node_t *map, const char *what,
    struct tun_label *l, size_t *n, size_t max)
{
	char why[TUN_WHY_MAX];
	yaml_node_pair_t *p;
	int r;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = agt_yaml_visit(c, p->key, map), *v = NULL;

		if (k == NULL || (v = agt_yaml_visit(c, p->value, k)) == NULL) {
			return ZT_ERR_INVALID;
		}
		if (*n >= max) {
			return agt_yaml_fail(c, k, ZT_ERR_TOO_LARGE, "%s: more than %zu labels",
			    what, max);
		}
		if ((r = agt_yaml_str(c, k, "a label key", l[*n].key, sizeof(l[*n].key))) != 0 ||
		    (r = agt_yaml_str(c, v, "a label value", l[*n].value,
		    sizeof(l[*n].value))) != 0) {
			return r;
		}
		(*n)++;
		if ((r = tun_labels_check(l, *n, why, sizeof(why))) != 0) {
			return agt_yaml_fail(c, k, r, "%s: %s", what, why);
		}
	}
	return 0;
}

static int set_labels(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	c->f->has_labels = 1;
	return labels(c, v, key, c->f->labels, &c->f->nlabels, TUN_LABELS_MAX);
}

/* ---- a resource ---- */

static struct tun_resource *cur(struct agt_yaml *c)
{
	return &c->f->resources[c->res];
}

static int set_res_name(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, cur(c)->name, sizeof(cur(c)->name));
}

static int set_res_kind(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, cur(c)->kind, sizeof(cur(c)->kind));
}

static int set_res_address(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, cur(c)->address, sizeof(cur(c)->address));
}

static int set_res_host_key(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, cur(c)->host_key, sizeof(cur(c)->host_key));
}

static int set_res_key_file(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = abs_path(c, v, key, c->f->key_file[c->res])) != 0) {
		return r;
	}
	c->f->key_line[c->res] = agt_yaml_line_of(v);
	return 0;
}

static int set_res_cred_file(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return abs_path(c, v, key, c->f->cred_file[c->res]);
}

static int set_res_cert_pin(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return agt_yaml_str(c, v, key, cur(c)->cert_pin, sizeof(cur(c)->cert_pin));
}

static int set_res_labels(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	return labels(c, v, key, cur(c)->labels, &cur(c)->nlabels, TUN_RESOURCE_LABELS_MAX);
}

static const struct agt_yaml_key res_keys[] = {
	{ "name", YAML_SCALAR_NODE, set_res_name },
	{ "kind", YAML_SCALAR_NODE, set_res_kind },
	{ "address", YAML_SCALAR_NODE, set_res_address },
	{ "host_key_file", YAML_SCALAR_NODE, set_res_key_file },
	{ "host_key", YAML_SCALAR_NODE, set_res_host_key },
	{ "cert_pin", YAML_SCALAR_NODE, set_res_cert_pin },
	{ "credentials_file", YAML_SCALAR_NODE, set_res_cred_file },
	{ "labels", YAML_MAPPING_NODE, set_res_labels },
};

/* What only a whole resource shows: its required fields, and one host
 * key. The rest is tun_resources_check()'s (agt_config_resolve). */
static int resource_complete(struct agt_yaml *c, const yaml_node_t *item)
{
	const struct tun_resource *x = cur(c);
	const int has_file = c->f->key_file[c->res][0] != '\0';
	const char *missing = x->name[0] == '\0' ? "name" : x->kind[0] == '\0' ? "kind" :
	    x->address[0] == '\0' ? "address" : NULL;

	if (missing != NULL) {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID, "resources[%zu] needs %s", c->res,
		    missing);
	}
	if (strcmp(x->kind, "ssh") == 0 && x->host_key[0] == '\0' && !has_file) {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID,
		    "resource %s (ssh) needs host_key_file "
		    "(or host_key): the sshd's public key, which calls are pinned to", x->name);
	}
	if (x->host_key[0] != '\0' && has_file) {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID,
		    "resource %s: host_key and host_key_file both given; keep one", x->name);
	}
	if (has_file && strcmp(x->kind, "ssh") != 0) {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID,
		    "resource %s: host_key_file is only for ssh", x->name);
	}
	if (strcmp(x->kind, "rdp") == 0 && c->f->cred_file[c->res][0] == '\0') {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID,
		    "resource %s (rdp) needs credentials_file: "
		    "the desktop's account, which only this agent reads", x->name);
	}
	if (strcmp(x->kind, "rdp") != 0 && c->f->cred_file[c->res][0] != '\0') {
		return agt_yaml_fail(c, item, ZT_ERR_INVALID,
		    "resource %s: credentials_file is only for rdp", x->name);
	}
	return 0;
}

static int set_resources(struct agt_yaml *c, const yaml_node_t *v, const char *key)
{
	yaml_node_item_t *it;
	char where[32];
	int r;

	(void)key;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = agt_yaml_visit(c, *it, v);

		if (item == NULL) {
			return ZT_ERR_INVALID;
		}
		if (c->f->nresources >= TUN_RESOURCES_MAX) {
			return agt_yaml_fail(c, item, ZT_ERR_TOO_LARGE, "more than %d resources",
			    TUN_RESOURCES_MAX);
		}
		c->res = c->f->nresources++;
		c->f->line[c->res] = agt_yaml_line_of(item);
		snprintf(where, sizeof(where), "resources[%zu]", c->res);
		if (item->type != YAML_MAPPING_NODE) {
			return agt_yaml_fail(c, item, ZT_ERR_TYPE, "%s must be a map, not %s",
			    where, agt_yaml_node_kind(item));
		}
		if ((r = agt_yaml_walk_map(c, item, where, res_keys,
		    sizeof(res_keys) / sizeof(res_keys[0])))
		    != 0 || (r = resource_complete(c, item)) != 0) {
			return r;
		}
	}
	if (c->f->nresources == 0) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID, "resources is empty (omit it for the "
		    "--ssh short form)");
	}
	return 0;
}

static const struct agt_yaml_key top_keys[] = {
	{ "broker", YAML_SCALAR_NODE, set_broker },
	{ "ca_pin", YAML_SCALAR_NODE, set_ca_pin },
	{ "data_dir", YAML_SCALAR_NODE, set_data_dir },
	{ "name", YAML_SCALAR_NODE, set_name },
	{ "labels", YAML_MAPPING_NODE, set_labels },
	{ "max_streams", YAML_SCALAR_NODE, set_max_streams },
	{ "resources", YAML_SEQUENCE_NODE, set_resources },
	{ "rdp_idle_timeout", YAML_SCALAR_NODE, set_rdp_idle },
	{ "rdp_helper", YAML_SCALAR_NODE, set_rdp_helper },
};

int agt_config_parse(const void *p, size_t n, const char *fname,
    struct agt_config_file *f, char *err, size_t errsz)
{
	struct agt_yaml c = { .fname = fname, .err = err, .errsz = errsz, .f = f };
	int r;

	memset(f, 0, sizeof(*f));
	if (err != NULL && errsz > 0) {
		err[0] = '\0';
	}
	r = agt_yaml_parse(&c, p, n, top_keys, sizeof(top_keys) / sizeof(top_keys[0]), "settings");
	if (r != 0) {
		memset(f, 0, sizeof(*f));
	}
	return r;
}

int agt_config_resolve(struct agt_config_file *f, const char *fname, char *err,
    size_t errsz)
{
	char why[TUN_WHY_MAX];
	size_t i;
	int r;

	for (i = 0; i < f->nresources; i++) {
		if (f->key_file[i][0] != '\0') {
			r = agt_host_key_read(f->key_file[i], f->resources[i].host_key,
			    sizeof(f->resources[i].host_key));
			if (r != 0) {
				return agt_yaml_fail_line(fname, f->key_line[i], err, errsz, r,
				    "cannot read the host key %.200s: %s", f->key_file[i],
				    r == ZT_ERR_IO ? strerror(errno) : zt_strerror(r));
			}
			f->key_file[i][0] = '\0';
		}
		/* The first i passed: a failure is resource i's. */
		if ((r = tun_resources_check(f->resources, i + 1, why, sizeof(why))) != 0) {
			return agt_yaml_fail_line(fname, f->line[i], err, errsz, r, "%s", why);
		}
	}
	return 0;
}

int agt_config_load(const char *path, struct agt_config_file *f, char *err, size_t errsz)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(f, 0, sizeof(*f));
	/* It says where the agent dials: nobody but its owner may change it. */
	r = agt_yaml_read_file(path, S_IWGRP | S_IWOTH, "writable by group or others (chmod go-w): "
	    "whoever may write it chooses where this agent dials", &text, &len, err, errsz);
	if (r == 0 && ((r = agt_config_parse(text, len, path, f, err, errsz)) != 0 ||
	    (r = agt_config_resolve(f, path, err, errsz)) != 0)) {
		memset(f, 0, sizeof(*f));
	}
	free(text);
	return r;
}

int agt_host_key_read(const char *path, char *out, size_t outsz)
{
	FILE *fp = fopen(path, "re");
	char line[1024], *sp;

	if (fp == NULL) {
		return ZT_ERR_IO;
	}
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return ZT_ERR_INVALID;
	}
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	sp = strchr(line, ' ');
	if (sp != NULL && (sp = strchr(sp + 1, ' ')) != NULL) {
		*sp = '\0'; /* drop the comment */
	}
	if (strlen(line) >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	snprintf(out, outsz, "%s", line);
	return 0;
}

int agt_streams_parse(const char *s, int *out)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9') {
		return ZT_ERR_INVALID;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > AGT_STREAMS_MAX) {
		return ZT_ERR_INVALID;
	}
	*out = (int)v;
	return 0;
}
