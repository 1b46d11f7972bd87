/*
 * agt_yaml.c - the agent's YAML files walked against tables of keys
 * (agt_yaml.h).
 *
 * libyaml loads the whole document into a tree of nodes that carry their
 * line; the walk then visits each node at most once, so an alias (the only
 * way two places share a node) is refused where it is met, and the schema
 * alone bounds how deep and how wide a file may be.
 */
#include "agent/agt_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agt_config.h"
#include "common/err.h"

static int failv(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

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

int agt_yaml_fail_line(const char *fname, size_t line, char *err, size_t errsz, int code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = failv(fname, line, err, errsz, code, fmt, ap);
	va_end(ap);
	return code;
}

size_t agt_yaml_line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

int agt_yaml_fail(struct agt_yaml *c, const yaml_node_t *at, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = failv(c->fname, agt_yaml_line_of(at), c->err, c->errsz, code, fmt, ap);
	va_end(ap);
	return code;
}

/* The node with index id, visited for the first time; NULL (err set) for
 * an alias or an explicit tag. at is where the reference was made. */
yaml_node_t *agt_yaml_visit(struct agt_yaml *c, int id, const yaml_node_t *at)
{
	static const char *const tags[] = {
		[YAML_SCALAR_NODE] = YAML_DEFAULT_SCALAR_TAG,
		[YAML_SEQUENCE_NODE] = YAML_DEFAULT_SEQUENCE_TAG,
		[YAML_MAPPING_NODE] = YAML_DEFAULT_MAPPING_TAG,
	};
	yaml_node_t *n = yaml_document_get_node(&c->doc, id);

	if (n == NULL || (size_t)id > c->nnodes) {
		agt_yaml_fail(c, at, ZT_ERR_INVALID, "malformed document");
		return NULL;
	}
	if (c->seen[id - 1]) {
		agt_yaml_fail(c, at, ZT_ERR_INVALID, "aliases are not allowed");
		return NULL;
	}
	c->seen[id - 1] = 1;
	if (n->type == YAML_NO_NODE || n->tag == NULL ||
	    strcmp((const char *)n->tag, tags[n->type]) != 0) {
		agt_yaml_fail(c, n, ZT_ERR_INVALID, "tags are not allowed");
		return NULL;
	}
	return n;
}

const char *agt_yaml_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a string";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a map";
	default: return "nothing";
	}
}

/* A scalar of 1..dstsz-1 bytes without NUL, copied into dst. */
int agt_yaml_str(struct agt_yaml *c, const yaml_node_t *v, const char *what, char *dst,
    size_t dstsz)
{
	size_t len;

	if (v->type != YAML_SCALAR_NODE) {
		return agt_yaml_fail(c, v, ZT_ERR_TYPE, "%s must be a string, not %s", what,
		    agt_yaml_node_kind(v));
	}
	len = v->data.scalar.length;
	if (len == 0 || memchr(v->data.scalar.value, '\0', len) != NULL) {
		return agt_yaml_fail(c, v, ZT_ERR_INVALID, "%s must be a non-empty string", what);
	}
	if (len >= dstsz) {
		return agt_yaml_fail(c, v, ZT_ERR_TOO_LARGE, "%s is longer than %zu bytes", what,
		    dstsz - 1);
	}
	memcpy(dst, v->data.scalar.value, len);
	dst[len] = '\0';
	return 0;
}

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

static int unknown_key(struct agt_yaml *c, const yaml_node_t *k, const char *where,
    const struct agt_yaml_key *keys, size_t nkeys)
{
	char name[TUN_NAME_MAX + 1], expected[128];
	size_t i, len = 0;

	shown(k, name, sizeof(name));
	if (strcmp(name, "token") == 0 || strcmp(name, "join_token") == 0) {
		return agt_yaml_fail(c, k, ZT_ERR_INVALID,
		    "\"%s\" is not read from a file: the join "
		    "token is a secret, pass it in ZT_JOIN_TOKEN (or --token)", name);
	}
	expected[0] = '\0';
	for (i = 0; i < nkeys && len < sizeof(expected); i++) {
		len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
		    i > 0 ? ", " : "", keys[i].name);
	}
	return agt_yaml_fail(c, k, ZT_ERR_INVALID, "unknown key \"%s\" in %s (expected %s)", name,
	    where, expected);
}

/* Walks a map whose keys come from keys[] (at most 32), refusing unknown
 * and repeated keys and values of the wrong type. */
int agt_yaml_walk_map(struct agt_yaml *c, const yaml_node_t *map, const char *where,
    const struct agt_yaml_key *keys, size_t nkeys)
{
	uint32_t seen = 0;
	yaml_node_pair_t *p;
	size_t i;
	int r;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = agt_yaml_visit(c, p->key, map), *v = NULL;

		if (k == NULL) {
			return ZT_ERR_INVALID;
		}
		if (k->type != YAML_SCALAR_NODE) {
			return agt_yaml_fail(c, k, ZT_ERR_TYPE,
			    "a key in %s must be a string, not %s", where, agt_yaml_node_kind(k));
		}
		for (i = 0; i < nkeys && (strlen(keys[i].name) != k->data.scalar.length ||
		    memcmp(keys[i].name, k->data.scalar.value, k->data.scalar.length) != 0); i++) {
		}
		if (i == nkeys) {
			return unknown_key(c, k, where, keys, nkeys);
		}
		if (seen & (UINT32_C(1) << i)) {
			return agt_yaml_fail(c, k, ZT_ERR_INVALID, "duplicate key \"%s\" in %s",
			    keys[i].name, where);
		}
		seen |= UINT32_C(1) << i;
		if ((v = agt_yaml_visit(c, p->value, k)) == NULL) {
			return ZT_ERR_INVALID;
		}
		if (v->type != keys[i].type) {
			/* An empty value ("key:") is a scalar: say it is missing. */
			return agt_yaml_fail(c, v, ZT_ERR_TYPE, "%s must be %s, not %s",
			    keys[i].name, keys[i].type == YAML_SCALAR_NODE ? "a string" :
			    keys[i].type == YAML_SEQUENCE_NODE ? "a list" : "a map",
			    v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 ?
			    "empty" : agt_yaml_node_kind(v));
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
		return agt_yaml_fail_line(fname, 0, err, errsz, ZT_ERR_NOMEM, "out of memory");
	}
	return agt_yaml_fail_line(fname, parser->problem_mark.line + 1, err, errsz, ZT_ERR_INVALID,
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
int agt_yaml_parse(struct agt_yaml *c, const void *p, size_t n, const struct agt_yaml_key *keys,
    size_t nkeys, const char *what)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int r, have_doc = 0;

	if (n > AGT_CONFIG_MAX) {
		return agt_yaml_fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_TOO_LARGE,
		    "larger than %d bytes", AGT_CONFIG_MAX);
	}
	if (!yaml_parser_initialize(&parser)) {
		return agt_yaml_fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_NOMEM,
		    "out of memory");
	}
	yaml_parser_set_input_string(&parser, n > 0 ? p : (const void *)"", n);
	if ((r = load(&parser, &c->doc, c->fname, c->err, c->errsz)) != 0) {
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&c->doc)) == NULL) {
		r = agt_yaml_fail_line(c->fname, 1, c->err, c->errsz, ZT_ERR_INVALID,
		    "empty: expected a map of %s (examples/)", what);
		goto out;
	}
	/* A second document would be ignored; say so instead. */
	if ((r = load(&parser, &extra, c->fname, c->err, c->errsz)) != 0) {
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		r = agt_yaml_fail(c, yaml_document_get_root_node(&extra), ZT_ERR_INVALID,
		    "a second document; the file holds one");
		if (c->secret) {
			wipe_yaml(&extra, &parser);
		}
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	c->nnodes = (size_t)(c->doc.nodes.top - c->doc.nodes.start);
	if ((c->seen = calloc(c->nnodes, 1)) == NULL) {
		r = agt_yaml_fail_line(c->fname, 0, c->err, c->errsz, ZT_ERR_NOMEM,
		    "out of memory");
		goto out;
	}
	if ((root = agt_yaml_visit(c, 1, root)) == NULL) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		r = agt_yaml_fail(c, root, ZT_ERR_TYPE, "the file must be a map of %s, not %s",
		    what, agt_yaml_node_kind(root));
		goto out;
	}
	r = agt_yaml_walk_map(c, root, "the file", keys, nkeys);
out:
	free(c->seen);
	c->seen = NULL;
	if (c->secret) {
		wipe_yaml(have_doc ? &c->doc : NULL, &parser);
	}
	if (have_doc) {
		yaml_document_delete(&c->doc);
	}
	yaml_parser_delete(&parser);
	return r;
}

/* Reads path, a regular file of at most AGT_CONFIG_MAX bytes whose mode
 * has none of the bits of forbidden (refused with ZT_ERR_DENIED and why),
 * into *text (malloc'd, the caller frees) and *len. 0 or an error with err
 * "FILE: why". */
int agt_yaml_read_file(const char *path, mode_t forbidden, const char *why, char **text,
    size_t *len, char *err, size_t errsz)
{
	struct stat st;
	ssize_t got;
	int fd = -1, r = 0;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 || fstat(fd, &st) != 0) {
		r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_IO, "cannot read: %s",
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_IO, "not a regular file");
		goto out;
	}
	if ((st.st_mode & forbidden) != 0) {
		r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_DENIED, "%s", why);
		goto out;
	}
	if (st.st_size > AGT_CONFIG_MAX) {
		r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_TOO_LARGE,
		    "larger than %d bytes", AGT_CONFIG_MAX);
		goto out;
	}
	if ((*text = malloc(AGT_CONFIG_MAX + 1)) == NULL) {
		r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* One byte past the limit: a file that grew since fstat is caught. */
	while (*len <= AGT_CONFIG_MAX &&
	    (got = read(fd, *text + *len, AGT_CONFIG_MAX + 1 - *len)) != 0) {
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			r = agt_yaml_fail_line(path, 0, err, errsz, ZT_ERR_IO, "cannot read: %s",
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
