/*
 * agt_yaml.h - the agent's YAML files (its configuration, agt_config.h; a
 * desktop's credentials, agt_creds.h): one document whose root is a map,
 * walked against tables of keys.
 *
 * Each table entry names a key, the type its value must be, and a setter
 * that checks the value and stores it where the walk's context points.
 * The walk visits every node at most once, so aliases are refused where
 * they are met; tags, a second document, unknown and repeated keys and
 * values of the wrong type are refused too, each with "FILE:LINE: what is
 * wrong" (never a value). Internal to the agent; no globals.
 */
#ifndef ZT_AGT_YAML_H
#define ZT_AGT_YAML_H

#include <stddef.h>
#include <sys/types.h>
#include <yaml.h>

struct agt_config_file;
struct agt_rdp_creds;

/* One parse: the document, where errors go, the visited nodes, and what
 * the setters fill. */
struct agt_yaml {
	yaml_document_t doc;
	const char *fname;
	char *err;
	size_t errsz;
	unsigned char *seen;
	size_t nnodes;
	int secret;                    /* wipe libyaml's copies of the text */
	struct agt_config_file *f;     /* the configuration file's settings, or */
	struct agt_rdp_creds *creds;   /* a credentials file's account */
	size_t res;                    /* the resource being read */
};

/* A key's value setter: v is the value node (of the table's type), key its
 * name; it fills what c points to (for a resource,
 * c->f->resources[c->res]). 0 or an error from agt_yaml_fail. */
typedef int (*agt_yaml_set_fn)(struct agt_yaml *c, const yaml_node_t *v, const char *key);

struct agt_yaml_key {
	const char *name;
	yaml_node_type_t type;         /* what the value must be */
	agt_yaml_set_fn set;
};

/* "FILE:LINE: message" (or "FILE: message" for line 0) into err; returns
 * code. */
int agt_yaml_fail_line(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The same at node at's line, into c's err. */
int agt_yaml_fail(struct agt_yaml *c, const yaml_node_t *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t agt_yaml_line_of(const yaml_node_t *n);
/* The node with index id, visited for the first time; NULL (err set) for
 * an alias or an explicit tag. at is where the reference was made. */
yaml_node_t *agt_yaml_visit(struct agt_yaml *c, int id, const yaml_node_t *at);
/* "a string", "a list", "a map" or "nothing". */
const char *agt_yaml_node_kind(const yaml_node_t *n);
/* A scalar of 1..dstsz-1 bytes without NUL, copied into dst. */
int agt_yaml_str(struct agt_yaml *c, const yaml_node_t *v, const char *what, char *dst,
    size_t dstsz);
/* Walks map, whose keys come from keys[] (at most 32), refusing unknown
 * and repeated keys and values of the wrong type; where names the map in
 * errors. */
int agt_yaml_walk_map(struct agt_yaml *c, const yaml_node_t *map, const char *where,
    const struct agt_yaml_key *keys, size_t nkeys);
/* Loads p[0..n) (at most AGT_CONFIG_MAX bytes) as one document whose root
 * is a map of keys, and walks it into what c points to (the caller sets
 * fname, err, errsz, the targets and secret); what says what the map
 * holds, for "empty: expected a map of ...". 0 or ZT_ERR_INVALID /
 * ZT_ERR_TYPE / ZT_ERR_TOO_LARGE / ZT_ERR_NOMEM (err set). */
int agt_yaml_parse(struct agt_yaml *c, const void *p, size_t n, const struct agt_yaml_key *keys,
    size_t nkeys, const char *what);
/* Reads path, a regular file of at most AGT_CONFIG_MAX bytes whose mode
 * has none of the bits of forbidden (refused with ZT_ERR_DENIED and why),
 * into *text (malloc'd, the caller frees) and *len. 0 or an error with err
 * "FILE: why" (ZT_ERR_IO, ZT_ERR_DENIED, ZT_ERR_TOO_LARGE, ZT_ERR_NOMEM);
 * on error nothing is left, wiped. */
int agt_yaml_read_file(const char *path, mode_t forbidden, const char *why, char **text,
    size_t *len, char *err, size_t errsz);

#endif
