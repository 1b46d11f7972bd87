/*
 * agt_config.c - ztagent's configuration file: libyaml's document tree
 * walked against two tables of keys (the file's and a resource's).
 *
 * libyaml loads the whole document into a tree of nodes that carry their
 * line; the walk then visits each node at most once, so an alias (the only
 * way two places share a node) is refused where it is met, and the schema
 * alone bounds how deep and how wide a file may be. Values are checked by
 * the rules the wire uses (tunnel/tun.h), so what loads here the broker
 * accepts.
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
#include "common/dur.h"
#include "common/err.h"
#include "common/name.h"
#include "common/net.h"

/* One parse: the document, where errors go, the visited nodes. */
struct cp {
	yaml_document_t doc;
	const char *fname;
	char *err;
	size_t errsz;
	unsigned char *seen;
	size_t nnodes;
	struct agt_config_file *f;     /* the configuration file's settings, or */
	struct agt_rdp_creds *creds;   /* a credentials file's account */
	size_t res;                    /* the resource being read */
};

static int failv(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static int fail(struct cp *c, const yaml_node_t *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_line(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "FILE:LINE: message" (or "FILE: message" for line 0) into err. */
static int failv(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, va_list ap)
{
	char msg[AGT_CONFIG_ERR_MAX / 2];

	if (err != NULL && errsz > 0) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (line > 0) {
			snprintf(err, errsz, "%.200s:%zu: %s", fname, line, msg);
		} else {
			snprintf(err, errsz, "%.200s: %s", fname, msg);
		}
	}
	return code;
}

static int fail_line(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = failv(fname, line, err, errsz, code, fmt, ap);
	va_end(ap);
	return code;
}

static size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static int fail(struct cp *c, const yaml_node_t *at, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = failv(c->fname, line_of(at), c->err, c->errsz, code, fmt, ap);
	va_end(ap);
	return code;
}

/* The node with index id, visited for the first time; NULL (err set) for
 * an alias or an explicit tag. at is where the reference was made. */
static yaml_node_t *visit(struct cp *c, int id, const yaml_node_t *at)
{
	static const char *const tags[] = {
		[YAML_SCALAR_NODE] = YAML_DEFAULT_SCALAR_TAG,
		[YAML_SEQUENCE_NODE] = YAML_DEFAULT_SEQUENCE_TAG,
		[YAML_MAPPING_NODE] = YAML_DEFAULT_MAPPING_TAG,
	};
	yaml_node_t *n = yaml_document_get_node(&c->doc, id);

	if (n == NULL || (size_t)id > c->nnodes) {
		fail(c, at, ZT_ERR_INVALID, "malformed document");
		return NULL;
	}
	if (c->seen[id - 1]) {
		fail(c, at, ZT_ERR_INVALID, "aliases are not allowed");
		return NULL;
	}
	c->seen[id - 1] = 1;
	if (n->type == YAML_NO_NODE || n->tag == NULL ||
	    strcmp((const char *)n->tag, tags[n->type]) != 0) {
		fail(c, n, ZT_ERR_INVALID, "tags are not allowed");
		return NULL;
	}
	return n;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a string";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a map";
	default: return "nothing";
	}
}

/* A scalar of 1..dstsz-1 bytes without NUL, copied into dst. */
static int str(struct cp *c, const yaml_node_t *v, const char *what, char *dst, size_t dstsz)
{
	size_t len;

	if (v->type != YAML_SCALAR_NODE) {
		return fail(c, v, ZT_ERR_TYPE, "%s must be a string, not %s", what, node_kind(v));
	}
	len = v->data.scalar.length;
	if (len == 0 || memchr(v->data.scalar.value, '\0', len) != NULL) {
		return fail(c, v, ZT_ERR_INVALID, "%s must be a non-empty string", what);
	}
	if (len >= dstsz) {
		return fail(c, v, ZT_ERR_TOO_LARGE, "%s is longer than %zu bytes", what,
		    dstsz - 1);
	}
	memcpy(dst, v->data.scalar.value, len);
	dst[len] = '\0';
	return 0;
}

/* ---- the tables of keys ---- */

/* A key's value setter: v is the value node (of the table's type), key its
 * name; it fills c->f (for a resource, c->f->resources[c->res]). */
typedef int (*set_fn)(struct cp *c, const yaml_node_t *v, const char *key);

struct key {
	const char *name;
	yaml_node_type_t type;         /* what the value must be */
	set_fn set;
};

static int walk_map(struct cp *c, const yaml_node_t *map, const char *where,
    const struct key *keys, size_t nkeys);

static int set_broker(struct cp *c, const yaml_node_t *v, const char *key)
{
	char host[TUN_TARGET_MAX + 1], port[8];
	int r;

	if ((r = str(c, v, key, c->f->broker, sizeof(c->f->broker))) != 0) {
		return r;
	}
	if (net_split_hostport(c->f->broker, host, sizeof(host), port, sizeof(port)) != 0) {
		return fail(c, v, ZT_ERR_INVALID, "broker must be HOST:PORT");
	}
	return 0;
}

static int set_ca_pin(struct cp *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = str(c, v, key, c->f->ca_pin, sizeof(c->f->ca_pin))) != 0) {
		return r;
	}
	if (tls_pin_valid(c->f->ca_pin) != 0) {
		return fail(c, v, ZT_ERR_INVALID, "ca_pin must be sha256:<64 lower-case hex>");
	}
	return 0;
}

static int set_data_dir(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, c->f->data_dir, sizeof(c->f->data_dir));
}

static int set_name(struct cp *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = str(c, v, key, c->f->name, sizeof(c->f->name))) != 0) {
		return r;
	}
	if (!name_valid(c->f->name, TUN_NAME_MAX)) {
		return fail(c, v, ZT_ERR_INVALID, "name must be 1..%d of [a-z0-9._-], starting "
		    "with a letter or digit", TUN_NAME_MAX);
	}
	return 0;
}

static int set_max_streams(struct cp *c, const yaml_node_t *v, const char *key)
{
	char s[16];
	int r;

	if ((r = str(c, v, key, s, sizeof(s))) != 0 ||
	    (r = agt_streams_parse(s, &c->f->max_streams)) != 0) {
		return fail(c, v, ZT_ERR_INVALID, "max_streams must be a number from 1 to %d",
		    AGT_STREAMS_MAX);
	}
	return 0;
}

static int set_rdp_idle(struct cp *c, const yaml_node_t *v, const char *key)
{
	char s[32];
	int64_t sec = 0;

	if (str(c, v, key, s, sizeof(s)) != 0 || dur_parse(s, 10, 86400, &sec) != 0) {
		return fail(c, v, ZT_ERR_INVALID, "rdp_idle_timeout must be a duration from 10s "
		    "to 24h, e.g. 5m");
	}
	c->f->rdp_idle_ms = sec * 1000;
	return 0;
}

/* An absolute path into dst (AGT_CONFIG_PATH_MAX bytes). */
static int abs_path(struct cp *c, const yaml_node_t *v, const char *key, char *dst)
{
	int r;

	if ((r = str(c, v, key, dst, AGT_CONFIG_PATH_MAX)) != 0) {
		return r;
	}
	if (dst[0] != '/') {
		return fail(c, v, ZT_ERR_INVALID, "%s must be an absolute path", key);
	}
	return 0;
}

static int set_rdp_helper(struct cp *c, const yaml_node_t *v, const char *key)
{
	return abs_path(c, v, key, c->f->rdp_helper);
}

/* A map of labels into l[0..max), each pair checked with the ones before
 * it by the wire's rule, at its own line. */
static int labels(struct cp *c, const yaml_node_t *map, const char *what,
    struct tun_label *l, size_t *n, size_t max)
{
	char why[TUN_WHY_MAX];
	yaml_node_pair_t *p;
	int r;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = visit(c, p->key, map), *v = NULL;

		if (k == NULL || (v = visit(c, p->value, k)) == NULL) {
			return ZT_ERR_INVALID;
		}
		if (*n >= max) {
			return fail(c, k, ZT_ERR_TOO_LARGE, "%s: more than %zu labels", what, max);
		}
		if ((r = str(c, k, "a label key", l[*n].key, sizeof(l[*n].key))) != 0 ||
		    (r = str(c, v, "a label value", l[*n].value, sizeof(l[*n].value))) != 0) {
			return r;
		}
		(*n)++;
		if ((r = tun_labels_check(l, *n, why, sizeof(why))) != 0) {
			return fail(c, k, r, "%s: %s", what, why);
		}
	}
	return 0;
}

static int set_labels(struct cp *c, const yaml_node_t *v, const char *key)
{
	c->f->has_labels = 1;
	return labels(c, v, key, c->f->labels, &c->f->nlabels, TUN_LABELS_MAX);
}

/* ---- a resource ---- */

static struct tun_resource *cur(struct cp *c)
{
	return &c->f->resources[c->res];
}

static int set_res_name(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, cur(c)->name, sizeof(cur(c)->name));
}

static int set_res_kind(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, cur(c)->kind, sizeof(cur(c)->kind));
}

static int set_res_address(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, cur(c)->address, sizeof(cur(c)->address));
}

static int set_res_host_key(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, cur(c)->host_key, sizeof(cur(c)->host_key));
}

static int set_res_key_file(struct cp *c, const yaml_node_t *v, const char *key)
{
	int r;

	if ((r = abs_path(c, v, key, c->f->key_file[c->res])) != 0) {
		return r;
	}
	c->f->key_line[c->res] = line_of(v);
	return 0;
}

static int set_res_cred_file(struct cp *c, const yaml_node_t *v, const char *key)
{
	return abs_path(c, v, key, c->f->cred_file[c->res]);
}

static int set_res_cert_pin(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, cur(c)->cert_pin, sizeof(cur(c)->cert_pin));
}

static int set_res_labels(struct cp *c, const yaml_node_t *v, const char *key)
{
	return labels(c, v, key, cur(c)->labels, &cur(c)->nlabels, TUN_RESOURCE_LABELS_MAX);
}

static const struct key res_keys[] = {
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
static int resource_complete(struct cp *c, const yaml_node_t *item)
{
	const struct tun_resource *x = cur(c);
	const int has_file = c->f->key_file[c->res][0] != '\0';
	const char *missing = x->name[0] == '\0' ? "name" : x->kind[0] == '\0' ? "kind" :
	    x->address[0] == '\0' ? "address" : NULL;

	if (missing != NULL) {
		return fail(c, item, ZT_ERR_INVALID, "resources[%zu] needs %s", c->res, missing);
	}
	if (strcmp(x->kind, "ssh") == 0 && x->host_key[0] == '\0' && !has_file) {
		return fail(c, item, ZT_ERR_INVALID, "resource %s (ssh) needs host_key_file "
		    "(or host_key): the sshd's public key, which calls are pinned to", x->name);
	}
	if (x->host_key[0] != '\0' && has_file) {
		return fail(c, item, ZT_ERR_INVALID, "resource %s: host_key and host_key_file "
		    "both given; keep one", x->name);
	}
	if (has_file && strcmp(x->kind, "ssh") != 0) {
		return fail(c, item, ZT_ERR_INVALID, "resource %s: host_key_file is only for "
		    "ssh", x->name);
	}
	if (strcmp(x->kind, "rdp") == 0 && c->f->cred_file[c->res][0] == '\0') {
		return fail(c, item, ZT_ERR_INVALID, "resource %s (rdp) needs credentials_file: "
		    "the desktop's account, which only this agent reads", x->name);
	}
	if (strcmp(x->kind, "rdp") != 0 && c->f->cred_file[c->res][0] != '\0') {
		return fail(c, item, ZT_ERR_INVALID, "resource %s: credentials_file is only for "
		    "rdp", x->name);
	}
	return 0;
}

static int set_resources(struct cp *c, const yaml_node_t *v, const char *key)
{
	yaml_node_item_t *it;
	char where[32];
	int r;

	(void)key;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *item = visit(c, *it, v);

		if (item == NULL) {
			return ZT_ERR_INVALID;
		}
		if (c->f->nresources >= TUN_RESOURCES_MAX) {
			return fail(c, item, ZT_ERR_TOO_LARGE, "more than %d resources",
			    TUN_RESOURCES_MAX);
		}
		c->res = c->f->nresources++;
		c->f->line[c->res] = line_of(item);
		snprintf(where, sizeof(where), "resources[%zu]", c->res);
		if (item->type != YAML_MAPPING_NODE) {
			return fail(c, item, ZT_ERR_TYPE, "%s must be a map, not %s", where,
			    node_kind(item));
		}
		if ((r = walk_map(c, item, where, res_keys, sizeof(res_keys) / sizeof(res_keys[0])))
		    != 0 || (r = resource_complete(c, item)) != 0) {
			return r;
		}
	}
	if (c->f->nresources == 0) {
		return fail(c, v, ZT_ERR_INVALID, "resources is empty (omit it for the "
		    "--ssh short form)");
	}
	return 0;
}

static const struct key top_keys[] = {
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

/* ---- a credentials file ---- */

static int set_cred_username(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, c->creds->username, sizeof(c->creds->username));
}

static int set_cred_password(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, c->creds->password, sizeof(c->creds->password));
}

static int set_cred_domain(struct cp *c, const yaml_node_t *v, const char *key)
{
	return str(c, v, key, c->creds->domain, sizeof(c->creds->domain));
}

static int set_cred_nla_hash(struct cp *c, const yaml_node_t *v, const char *key)
{
	char *h = c->creds->nla_hash;
	int r;

	if ((r = str(c, v, key, h, sizeof(c->creds->nla_hash))) != 0) {
		return r;
	}
	if (strlen(h) != AGT_NLA_HASH_LEN || strspn(h, "0123456789abcdefABCDEF") !=
	    AGT_NLA_HASH_LEN) {
		return fail(c, v, ZT_ERR_INVALID, "nla_hash must be %d hex digits (the NT hash)",
		    AGT_NLA_HASH_LEN);
	}
	return 0;
}

static const struct key cred_keys[] = {
	{ "username", YAML_SCALAR_NODE, set_cred_username },
	{ "password", YAML_SCALAR_NODE, set_cred_password },
	{ "nla_hash", YAML_SCALAR_NODE, set_cred_nla_hash },
	{ "domain", YAML_SCALAR_NODE, set_cred_domain },
};

/* Copies s for a message: bounded, non-printable bytes as '?'. */
static const char *shown(const yaml_node_t *k, char *out, size_t outsz)
{
	size_t i, len = k->data.scalar.length;

	for (i = 0; i < len && i + 1 < outsz; i++) {
		unsigned char ch = k->data.scalar.value[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
	return out;
}

static int unknown_key(struct cp *c, const yaml_node_t *k, const char *where,
    const struct key *keys, size_t nkeys)
{
	char name[TUN_NAME_MAX + 1], expected[128];
	size_t i, len = 0;

	shown(k, name, sizeof(name));
	if (strcmp(name, "token") == 0 || strcmp(name, "join_token") == 0) {
		return fail(c, k, ZT_ERR_INVALID, "\"%s\" is not read from a file: the join "
		    "token is a secret, pass it in ZT_JOIN_TOKEN (or --token)", name);
	}
	expected[0] = '\0';
	for (i = 0; i < nkeys && len < sizeof(expected); i++) {
		len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
		    i > 0 ? ", " : "", keys[i].name);
	}
	return fail(c, k, ZT_ERR_INVALID, "unknown key \"%s\" in %s (expected %s)", name, where,
	    expected);
}

/* Walks a map whose keys come from keys[] (at most 32), refusing unknown
 * and repeated keys and values of the wrong type. */
static int walk_map(struct cp *c, const yaml_node_t *map, const char *where,
    const struct key *keys, size_t nkeys)
{
	uint32_t seen = 0;
	yaml_node_pair_t *p;
	size_t i;
	int r;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = visit(c, p->key, map), *v = NULL;

		if (k == NULL) {
			return ZT_ERR_INVALID;
		}
		if (k->type != YAML_SCALAR_NODE) {
			return fail(c, k, ZT_ERR_TYPE, "a key in %s must be a string, not %s",
			    where, node_kind(k));
		}
		for (i = 0; i < nkeys && (strlen(keys[i].name) != k->data.scalar.length ||
		    memcmp(keys[i].name, k->data.scalar.value, k->data.scalar.length) != 0); i++) {
		}
		if (i == nkeys) {
			return unknown_key(c, k, where, keys, nkeys);
		}
		if (seen & (UINT32_C(1) << i)) {
			return fail(c, k, ZT_ERR_INVALID, "duplicate key \"%s\" in %s", keys[i].name,
			    where);
		}
		seen |= UINT32_C(1) << i;
		if ((v = visit(c, p->value, k)) == NULL) {
			return ZT_ERR_INVALID;
		}
		if (v->type != keys[i].type) {
			/* An empty value ("key:") is a scalar: say it is missing. */
			return fail(c, v, ZT_ERR_TYPE, "%s must be %s, not %s", keys[i].name,
			    keys[i].type == YAML_SCALAR_NODE ? "a string" :
			    keys[i].type == YAML_SEQUENCE_NODE ? "a list" : "a map",
			    v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 ?
			    "empty" : node_kind(v));
		}
		if ((r = keys[i].set(c, v, keys[i].name)) != 0) {
			return r;
		}
	}
	return 0;
}

/* Loads one document; 0, or ZT_ERR_NOMEM / ZT_ERR_INVALID (err set). */
static int load(yaml_parser_t *parser, yaml_document_t *doc, const char *fname, char *err,
    size_t errsz)
{
	if (yaml_parser_load(parser, doc)) {
		return 0;
	}
	if (parser->error == YAML_MEMORY_ERROR) {
		return fail_line(fname, 0, err, errsz, ZT_ERR_NOMEM, "out of memory");
	}
	return fail_line(fname, parser->problem_mark.line + 1, err, errsz, ZT_ERR_INVALID,
	    "YAML syntax error: %s", parser->problem != NULL ? parser->problem : "unknown");
}

/* Wipes the copies libyaml made of a secret file's text: the document's
 * scalars and the parser's buffers (yaml.h makes both public). */
static void wipe_yaml(yaml_document_t *doc, yaml_parser_t *parser)
{
	if (doc != NULL) {
		for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
			if (n->type == YAML_SCALAR_NODE && n->data.scalar.value != NULL) {
				explicit_bzero(n->data.scalar.value, n->data.scalar.length);
			}
		}
	}
	if (parser->buffer.start != NULL) {
		explicit_bzero(parser->buffer.start,
		    (size_t)(parser->buffer.end - parser->buffer.start));
	}
	if (parser->raw_buffer.start != NULL) {
		explicit_bzero(parser->raw_buffer.start,
		    (size_t)(parser->raw_buffer.end - parser->raw_buffer.start));
	}
}

/* Loads p[0..n) as one YAML document whose root is a map of keys, and
 * walks it into what c points to (c->fname, err set by the caller); what
 * says what the map holds, for "empty: expected a map of ...". */
static int parse_doc(struct cp *c, const void *p, size_t n, const struct key *keys,
    size_t nkeys, const char *what)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int r, have_doc = 0;

	if (n > AGT_CONFIG_MAX) {
		return fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_TOO_LARGE, "larger than "
		    "%d bytes", AGT_CONFIG_MAX);
	}
	if (!yaml_parser_initialize(&parser)) {
		return fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_NOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, n > 0 ? p : (const void *)"", n);
	if ((r = load(&parser, &c->doc, c->fname, c->err, c->errsz)) != 0) {
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&c->doc)) == NULL) {
		r = fail_line(c->fname, 1, c->err, c->errsz, ZT_ERR_INVALID, "empty: expected a "
		    "map of %s (examples/)", what);
		goto out;
	}
	/* A second document would be ignored; say so instead. */
	if ((r = load(&parser, &extra, c->fname, c->err, c->errsz)) != 0) {
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		r = fail(c, yaml_document_get_root_node(&extra), ZT_ERR_INVALID,
		    "a second document; the file holds one");
		if (c->creds != NULL) {
			wipe_yaml(&extra, &parser);
		}
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	c->nnodes = (size_t)(c->doc.nodes.top - c->doc.nodes.start);
	if ((c->seen = calloc(c->nnodes, 1)) == NULL) {
		r = fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((root = visit(c, 1, root)) == NULL) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		r = fail(c, root, ZT_ERR_TYPE, "the file must be a map of %s, not %s", what,
		    node_kind(root));
		goto out;
	}
	r = walk_map(c, root, "the file", keys, nkeys);
out:
	free(c->seen);
	c->seen = NULL;
	if (c->creds != NULL) {
		wipe_yaml(have_doc ? &c->doc : NULL, &parser);
	}
	if (have_doc) {
		yaml_document_delete(&c->doc);
	}
	yaml_parser_delete(&parser);
	return r;
}

int agt_config_parse(const void *p, size_t n, const char *fname,
    struct agt_config_file *f, char *err, size_t errsz)
{
	struct cp c = { .fname = fname, .err = err, .errsz = errsz, .f = f };
	int r;

	memset(f, 0, sizeof(*f));
	if (err != NULL && errsz > 0) {
		err[0] = '\0';
	}
	r = parse_doc(&c, p, n, top_keys, sizeof(top_keys) / sizeof(top_keys[0]), "settings");
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
				return fail_line(fname, f->key_line[i], err, errsz, r,
				    "cannot read the host key %.200s: %s", f->key_file[i],
				    r == ZT_ERR_IO ? strerror(errno) : zt_strerror(r));
			}
			f->key_file[i][0] = '\0';
		}
		/* The first i passed: a failure is resource i's. */
		if ((r = tun_resources_check(f->resources, i + 1, why, sizeof(why))) != 0) {
			return fail_line(fname, f->line[i], err, errsz, r, "%s", why);
		}
	}
	return 0;
}

/* Reads path, a regular file of at most AGT_CONFIG_MAX bytes whose mode
 * has none of the bits of forbidden (refused with ZT_ERR_DENIED and why),
 * into *text (malloc'd, the caller frees) and *len. 0 or an error with err
 * "FILE: why". */
static int read_file(const char *path, mode_t forbidden, const char *why, char **text,
    size_t *len, char *err, size_t errsz)
{
	struct stat st;
	ssize_t got;
	int fd = -1, r = 0;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 || fstat(fd, &st) != 0) {
		r = fail_line(path, 0, err, errsz, ZT_ERR_IO, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail_line(path, 0, err, errsz, ZT_ERR_IO, "not a regular file");
		goto out;
	}
	if ((st.st_mode & forbidden) != 0) {
		r = fail_line(path, 0, err, errsz, ZT_ERR_DENIED, "%s", why);
		goto out;
	}
	if (st.st_size > AGT_CONFIG_MAX) {
		r = fail_line(path, 0, err, errsz, ZT_ERR_TOO_LARGE, "larger than %d bytes",
		    AGT_CONFIG_MAX);
		goto out;
	}
	if ((*text = malloc(AGT_CONFIG_MAX + 1)) == NULL) {
		r = fail_line(path, 0, err, errsz, ZT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* One byte past the limit: a file that grew since fstat is caught. */
	while (*len <= AGT_CONFIG_MAX &&
	    (got = read(fd, *text + *len, AGT_CONFIG_MAX + 1 - *len)) != 0) {
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			r = fail_line(path, 0, err, errsz, ZT_ERR_IO, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		*len += (size_t)got;
	}
out:
	if (r != 0 && *text != NULL) {
		explicit_bzero(*text, *len);   /* it may be a credentials file */
		free(*text);
		*text = NULL;
	}
	if (fd >= 0) {
		close(fd);
	}
	return r;
}

int agt_config_load(const char *path, struct agt_config_file *f, char *err, size_t errsz)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(f, 0, sizeof(*f));
	/* It says where the agent dials: nobody but its owner may change it. */
	r = read_file(path, S_IWGRP | S_IWOTH, "writable by group or others (chmod go-w): "
	    "whoever may write it chooses where this agent dials", &text, &len, err, errsz);
	if (r == 0 && ((r = agt_config_parse(text, len, path, f, err, errsz)) != 0 ||
	    (r = agt_config_resolve(f, path, err, errsz)) != 0)) {
		memset(f, 0, sizeof(*f));
	}
	free(text);
	return r;
}

void agt_rdp_creds_wipe(struct agt_rdp_creds *c)
{
	if (c != NULL) {
		explicit_bzero(c, sizeof(*c));
	}
}

int agt_rdp_creds_parse(const void *p, size_t n, const char *fname, struct agt_rdp_creds *out,
    char *err, size_t errsz)
{
	struct cp c = { .fname = fname, .err = err, .errsz = errsz, .creds = out };
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_doc(&c, p, n, cred_keys, sizeof(cred_keys) / sizeof(cred_keys[0]),
	    "username, password or nla_hash, domain");
	if (r == 0 && out->username[0] == '\0') {
		r = fail_line(fname, 0, err, errsz, ZT_ERR_INVALID, "needs username");
	}
	if (r == 0 && (out->password[0] == '\0') == (out->nla_hash[0] == '\0')) {
		r = fail_line(fname, 0, err, errsz, ZT_ERR_INVALID, "needs one of password or "
		    "nla_hash");
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
	r = read_file(path, S_IRWXG | S_IRWXO, "readable by group or others (chmod 600): "
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
