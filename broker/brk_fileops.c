/*
 * brk_fileops.c - the work of each file tool (brk_files.h): its own
 * arguments, what it does on the resolved path, and its result.
 */
#include "broker/brk_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_fileops.h"
#include "broker/brk_gate.h"
#include "broker/brk_xfer.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"

#define MODE_DEFAULT 0644u
#define LINK_LENGTH_MAX ((int64_t)1 << 53)   /* what JSON numbers hold exactly */

/* ---- results ---- */

static void sha256_hex(const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha256(p != NULL ? p : "", n, d);
	crypto_hex(d, sizeof(d), out, CRYPTO_SHA256_HEX_LEN + 1);
}

/* kind, size, mode ("0644") and mtime (unix seconds), as far as known. */
static void put_attr(cJSON *o, const struct ssh_sftp_attr *a)
{
	char mode[8];

	cJSON_AddStringToObject(o, "kind", ssh_sftp_kind_name(ssh_sftp_kind_of(a)));
	if (a->has_size) {
		cJSON_AddNumberToObject(o, "size", (double)a->size);
	}
	if (a->has_mode) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(a->mode & 07777));
		cJSON_AddStringToObject(o, "mode", mode);
	}
	if (a->has_mtime) {
		cJSON_AddNumberToObject(o, "mtime", (double)a->mtime);
	}
}

/* structuredContent sc with the path as asked and as resolved, and its
 * JSON as the text (sc is taken). */
static int result_sc(struct brk_call *c, const char *resolved, cJSON *sc, cJSON **result)
{
	if (sc == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(sc, "path", c->path);
	cJSON_AddStringToObject(sc, "resolved", resolved);
	return mcp_result_structured(sc, result);
}

/* ---- file_read ---- */

int brk_file_read_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "path", "offset", "length",
	    "transfer", NULL };
	int64_t max = (int64_t)brk_files_max(c), v;
	int link;

	if (brk_files_parse(c, args, keys, err, errsz) != 0 ||
	    brk_files_transfer(args, &link, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	max = link ? LINK_LENGTH_MAX : max;
	if (json_get_int_opt(args, "offset", 0, (int64_t)1 << 53, 0, &v) != 0) {
		snprintf(err, errsz, "offset must be an integer from 0");
		return ZT_ERR_INVALID;
	}
	if (json_get_int_opt(args, "length", 1, max, 0, &v) != 0) {
		snprintf(err, errsz, "length must be an integer from 1 to %lld (%s)",
		    (long long)max, link ? "a link's limit" : "the broker's --file-max; transfer "
		    "\"link\" takes any length");
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* The MIME type of a whole image, or NULL. */
static const char *image_type(const uint8_t *d, size_t n)
{
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
		return "image/png";
	}
	if (n >= 3 && memcmp(d, "\xff\xd8\xff", 3) == 0) {
		return "image/jpeg";
	}
	if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) {
		return "image/gif";
	}
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) {
		return "image/webp";
	}
	return NULL;
}

/* "file://HOST/path", the path percent-encoded but for its '/'. */
static char *file_uri(const char *host, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), len = 0;
	char *u = malloc(7 + strlen(host) + 3 * n + 1);

	if (u == NULL) {
		return NULL;
	}
	len = (size_t)sprintf(u, "file://%s", host);
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p) != NULL) {
			u[len++] = (char)*p;
		} else {
			u[len++] = '%';
			u[len++] = hex[*p >> 4];
			u[len++] = hex[*p & 15];
		}
	}
	u[len] = '\0';
	return u;
}

/* The bytes read as content: text, an image, or an embedded blob. */
static int read_content(struct brk_call *c, const char *resolved, const uint8_t *d, size_t n,
    int whole, cJSON *result, cJSON *sc)
{
	const char *mime = whole ? image_type(d, n) : NULL;
	char *text = NULL, *b64 = NULL, *uri = NULL;
	int r = ZT_ERR_NOMEM;

	if (json_utf8_text(d, n)) {
		cJSON_AddStringToObject(sc, "encoding", "text");
		if ((text = malloc(n + 1)) != NULL) {
			if (n > 0) {
				memcpy(text, d, n);   /* d is NULL when nothing was read */
			}
			text[n] = '\0';
			r = mcp_result_add_text(result, text);
		}
		free(text);
		return r;
	}
	cJSON_AddStringToObject(sc, "encoding", "base64");
	cJSON_AddStringToObject(sc, "mime_type", mime != NULL ? mime : "application/octet-stream");
	if ((b64 = crypto_b64_dup(d, n)) != NULL) {
		if (mime != NULL) {
			r = mcp_result_add_media(result, "image", b64, mime);
		} else if ((uri = file_uri(c->host, resolved)) != NULL) {
			r = mcp_result_add_blob(result, uri, b64, "application/octet-stream");
		}
	}
	free(b64);
	free(uri);
	return r;
}

/* file_read with transfer "link": the file must be a regular one now;
 * the link reads length bytes from offset (all that follows, when the
 * call gave no length). */
static int read_link(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct brk_xfer_what w = { .dir = BRK_XFER_READ, .resolved = resolved };
	struct ssh_sftp_attr a;
	int64_t offset = 0, length = 0;
	cJSON *sc;

	if (ssh_sftp_stat(s, resolved, 0, &a) != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	if (ssh_sftp_kind_of(&a) != SSH_SFTP_FILE) {
		return brk_files_refuse(c, resolved, "it is not a regular file", result);
	}
	(void)json_get_int(c->args, "offset", 0, LINK_LENGTH_MAX, &offset);
	if (json_get_int(c->args, "length", 1, LINK_LENGTH_MAX, &length) != 0) {
		length = !a.has_size ? LINK_LENGTH_MAX : a.size > (uint64_t)offset ?
		    (int64_t)(a.size - (uint64_t)offset) : 0;
	}
	w.offset = (uint64_t)offset;
	w.length = (uint64_t)length;
	cJSON_AddNumberToObject(c->outcome, "offset", (double)offset);
	cJSON_AddNumberToObject(c->outcome, "length", (double)length);
	if ((sc = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddNumberToObject(sc, "offset", (double)offset);
	cJSON_AddNumberToObject(sc, "length", (double)length);
	put_attr(sc, &a);
	return brk_files_link(c, &w, sc, result);
}

static int read_work(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct ssh_sftp_attr a;
	int64_t offset = 0, length = BRK_FILE_READ_DEFAULT;
	char sha[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t *d = NULL;
	size_t n = 0;
	cJSON *sc = NULL;
	int more, link, r;

	if (brk_files_transfer(c->args, &link, sha, sizeof(sha)) == 0 && link) {
		return read_link(c, s, resolved, result);
	}
	(void)json_get_int(c->args, "offset", 0, (int64_t)1 << 53, &offset);
	if (json_get_int(c->args, "length", 1, (int64_t)brk_files_max(c), &length) != 0) {
		length = BRK_FILE_READ_DEFAULT < brk_files_max(c) ? BRK_FILE_READ_DEFAULT :
		    (int64_t)brk_files_max(c);
	}
	if (ssh_sftp_read(s, resolved, (uint64_t)offset, (size_t)length, &a, &d, &n) != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	sha256_hex(d, n, sha);
	more = a.has_size && (uint64_t)offset + n < a.size;
	cJSON_AddNumberToObject(c->outcome, "offset", (double)offset);
	cJSON_AddNumberToObject(c->outcome, "bytes", (double)n);
	cJSON_AddStringToObject(c->outcome, "sha256", sha);
	if ((*result = mcp_result_new(0)) == NULL || (sc = cJSON_CreateObject()) == NULL) {
		free(d);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(sc, "path", c->path);
	cJSON_AddStringToObject(sc, "resolved", resolved);
	cJSON_AddNumberToObject(sc, "offset", (double)offset);
	cJSON_AddNumberToObject(sc, "length", (double)n);
	put_attr(sc, &a);
	cJSON_AddBoolToObject(sc, "more", more);
	cJSON_AddStringToObject(sc, "sha256", sha);
	r = read_content(c, resolved, d, n, offset == 0 && !more, *result, sc);
	cJSON_AddItemToObject(*result, "structuredContent", sc);
	free(d);
	return r;
}

int brk_file_read_run(struct brk_call *c, cJSON **result)
{
	static const struct brk_file_op op = { 0, read_work };

	return brk_files_run(c, &op, result);
}

/* ---- file_write ---- */

/* The content of a file_write call, decoded (owned). */
static int write_data(struct brk_call *c, uint8_t **d, size_t *n, char *err, size_t errsz)
{
	const char *text = NULL, *b64 = NULL;
	size_t max = brk_files_max(c);
	int has_text = cJSON_GetObjectItemCaseSensitive(c->args, "content") != NULL;
	int has_b64 = cJSON_GetObjectItemCaseSensitive(c->args, "content_base64") != NULL;

	*d = NULL;
	*n = 0;
	if (has_text == has_b64) {
		snprintf(err, errsz, "give content (text) or content_base64 (bytes), one of them");
		return ZT_ERR_INVALID;
	}
	if (has_text && json_get_str(c->args, "content", max, 1, &text) != 0) {
		snprintf(err, errsz, "content must be a string of at most %zu bytes (the broker's "
		    "--file-max); nothing was written", max);
		return ZT_ERR_TOO_LARGE;
	}
	if (has_text) {
		*n = strlen(text);
		if ((*d = malloc(*n + 1)) == NULL) {
			return ZT_ERR_NOMEM;
		}
		memcpy(*d, text, *n + 1);
		return 0;
	}
	if (json_get_str(c->args, "content_base64", 4 * (max / 3 + 1), 1, &b64) != 0 ||
	    (b64[0] != '\0' && crypto_b64_decode(b64, strlen(b64), d, n) != 0) || *n > max) {
		free(*d);
		*d = NULL;
		snprintf(err, errsz, "content_base64 must be standard base64 of at most %zu bytes "
		    "(the broker's --file-max); nothing was written", max);
		return ZT_ERR_TOO_LARGE;
	}
	return 0;
}

/* mode as written ("0644", "755"): 1 to 4 octal digits. */
static int parse_mode(const cJSON *args, uint32_t *mode, int *given)
{
	const char *m = NULL;
	char *end = NULL;
	unsigned long v;

	*given = cJSON_GetObjectItemCaseSensitive(args, "mode") != NULL;
	if (!*given) {
		return 0;
	}
	if (json_get_str(args, "mode", 4, 0, &m) != 0 || strspn(m, "01234567") != strlen(m)) {
		return ZT_ERR_INVALID;
	}
	v = strtoul(m, &end, 8);
	*mode = (uint32_t)v;
	return 0;
}

int brk_file_write_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "path", "content", "content_base64",
	    "mode", "append", "create_only", "transfer", NULL };
	uint32_t mode = 0;
	uint8_t *d = NULL;
	size_t n = 0;
	int given, append = 0, create_only = 0, link;

	if (brk_files_parse(c, args, keys, err, errsz) != 0 ||
	    brk_files_transfer(args, &link, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (parse_mode(args, &mode, &given) != 0) {
		snprintf(err, errsz, "mode must be a string of octal digits such as \"0644\"");
		return ZT_ERR_INVALID;
	}
	if (json_get_bool_opt(args, "append", 0, &append) != 0 ||
	    json_get_bool_opt(args, "create_only", 0, &create_only) != 0 || (append && create_only)) {
		snprintf(err, errsz, "append and create_only are booleans, at most one of them true");
		return ZT_ERR_INVALID;
	}
	if (link) {
		if (cJSON_GetObjectItemCaseSensitive(args, "content") != NULL ||
		    cJSON_GetObjectItemCaseSensitive(args, "content_base64") != NULL) {
			snprintf(err, errsz, "with transfer \"link\" the bytes come with the PUT to "
			    "the link: give no content");
			return ZT_ERR_INVALID;
		}
		return 0;
	}
	/* Checked here so that an oversize write is refused before the
	 * decision; decoded again in run. */
	if (write_data(c, &d, &n, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	free(d);
	return 0;
}

/* What is at the target now, if anything: a link or a directory is no
 * file to write. 0 to go on (*exists, *a), else the result is set. */
static int write_target(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    int *exists, struct ssh_sftp_attr *a, cJSON **result)
{
	int r = ssh_sftp_stat(s, resolved, 1, a);

	*exists = r == 0;
	if (r == ZT_ERR_NOT_FOUND) {
		return 0;
	}
	if (r != 0) {
		brk_files_fail(c, ssh_sftp_error(s), result);
		return ZT_ERR_INVALID;
	}
	switch (ssh_sftp_kind_of(a)) {
	case SSH_SFTP_FILE:
		return 0;
	case SSH_SFTP_SYMLINK:
		brk_files_refuse(c, resolved, "it is a symbolic link; write to the file it names "
		    "by that file's own path", result);
		return ZT_ERR_INVALID;
	default:
		brk_files_refuse(c, resolved, "it is not a regular file", result);
		return ZT_ERR_INVALID;
	}
}

static int write_work(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct ssh_sftp_put p;
	struct ssh_sftp_attr a;
	char sha[CRYPTO_SHA256_HEX_LEN + 1], err[BRK_GATE_ERR_MAX], mode_s[8];
	uint8_t *d = NULL;
	size_t n = 0;
	int given, exists, atomic = 0, append = 0, create_only = 0, link, r;
	cJSON *sc = NULL;

	memset(&p, 0, sizeof(p));
	(void)json_get_bool(c->args, "append", &append);
	(void)json_get_bool(c->args, "create_only", &create_only);
	(void)parse_mode(c->args, &p.mode, &given);
	if (write_target(c, s, resolved, &exists, &a, result) != 0) {
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (exists && create_only) {
		return brk_files_refuse(c, resolved, "it exists (create_only)", result);
	}
	/* A replaced file keeps its mode unless the call names one. */
	p.mode = given ? p.mode : exists && a.has_mode ? a.mode & 07777 : MODE_DEFAULT;
	p.flags = (append ? SSH_SFTP_APPEND : 0) | (create_only ? SSH_SFTP_CREATE_ONLY : 0);
	snprintf(mode_s, sizeof(mode_s), "%04o", (unsigned)p.mode);
	cJSON_AddStringToObject(c->outcome, "mode", mode_s);
	cJSON_AddStringToObject(c->outcome, "how", append ? "append" : create_only ?
	    "create_only" : "replace");
	if (brk_files_transfer(c->args, &link, err, sizeof(err)) == 0 && link) {
		struct brk_xfer_what w = { .dir = BRK_XFER_WRITE, .resolved = resolved,
		    .mode = p.mode, .flags = p.flags };

		if ((sc = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(sc, "mode", mode_s);
		}
		return brk_files_link(c, &w, sc, result);
	}
	if (write_data(c, &d, &n, err, sizeof(err)) != 0) {
		return ZT_ERR_INTERNAL;     /* parse checked it */
	}
	p.path = resolved;
	p.data = d;
	p.n = n;
	sha256_hex(d, n, sha);
	cJSON_AddNumberToObject(c->outcome, "bytes", (double)n);
	cJSON_AddStringToObject(c->outcome, "sha256", sha);
	r = ssh_sftp_write(s, &p, &atomic);
	free(d);
	cJSON_AddBoolToObject(c->outcome, "atomic", atomic);
	if (r != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	sc = cJSON_CreateObject();
	cJSON_AddNumberToObject(sc, "bytes", (double)n);
	cJSON_AddStringToObject(sc, "sha256", sha);
	cJSON_AddStringToObject(sc, "mode", mode_s);
	cJSON_AddBoolToObject(sc, "atomic", atomic);
	return result_sc(c, resolved, sc, result);
}

int brk_file_write_run(struct brk_call *c, cJSON **result)
{
	static const struct brk_file_op op = { 1, write_work };

	return brk_files_run(c, &op, result);
}

/* ---- file_list ---- */

int brk_file_list_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "path", "cursor", "limit", NULL };
	const char *cur = NULL;
	int64_t v;

	if (brk_files_parse(c, args, keys, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_int_opt(args, "limit", 1, BRK_FILE_LIST_MAX, BRK_FILE_LIST_DEFAULT, &v) != 0) {
		snprintf(err, errsz, "limit must be an integer from 1 to %d", BRK_FILE_LIST_MAX);
		return ZT_ERR_INVALID;
	}
	if (json_get_str_opt(args, "cursor", BRK_FILE_CURSOR_MAX, 0, NULL, &cur) != 0) {
		snprintf(err, errsz, "cursor must be the cursor a file_list result gave");
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* One entry as JSON (a name that is not UTF-8 with U+FFFD); NULL on
 * ENOMEM. */
static cJSON *entry_json(const struct ssh_sftp_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *name = json_text_from_bytes(e->name, strlen(e->name));

	if (o == NULL || name == NULL) {
		cJSON_Delete(o);
		free(name);
		return NULL;
	}
	cJSON_AddStringToObject(o, "name", name);
	free(name);
	put_attr(o, &e->attr);
	return o;
}

/* Rounds of BRK_FILE_LIST_MAX entries a page reads at most while the
 * entries it finds are all hidden. */
#define LIST_ROUNDS_MAX 16

/* A page of a directory: the entries after the cursor's name that the
 * caller's roles let it at (a deny of their paths hides them, name and
 * all), at most limit. The cursor names the last entry shown, never a
 * hidden one; hidden ones are counted. */
static int list_work(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct ssh_sftp_entry *e = NULL;
	char after[SSH_SFTP_NAME_MAX + 1], shown_last[SSH_SFTP_NAME_MAX + 1] = "";
	char cursor[BRK_FILE_CURSOR_MAX + 1], full[BRK_FILE_PATH_MAX + SSH_SFTP_NAME_MAX + 2];
	const char *cur = NULL, *from = NULL;
	int64_t limit = BRK_FILE_LIST_DEFAULT, shown = 0, hidden = 0;
	size_t n = 0, i;
	int more = 0, rounds = 0;
	cJSON *sc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(sc, "entries"), *o;

	if (arr == NULL) {
		cJSON_Delete(sc);
		return ZT_ERR_NOMEM;
	}
	(void)json_get_int(c->args, "limit", 1, BRK_FILE_LIST_MAX, &limit);
	if (json_get_str(c->args, "cursor", BRK_FILE_CURSOR_MAX, 0, &cur) == 0) {
		if (brk_file_cursor_decode(cur, resolved, after, sizeof(after)) != 0) {
			cJSON_Delete(sc);
			return brk_files_refuse(c, resolved, "the cursor is not one a file_list of "
			    "this directory gave", result);
		}
		from = after;
	}
	for (;;) {
		if (ssh_sftp_list(s, resolved, from, BRK_FILE_LIST_MAX, &e, &n, &more) != 0) {
			cJSON_Delete(sc);
			return brk_files_fail(c, ssh_sftp_error(s), result);
		}
		for (i = 0; i < n && shown < limit; i++) {
			snprintf(full, sizeof(full), "%s/%s", strcmp(resolved, "/") == 0 ? "" :
			    resolved, e[i].name);
			if (!brk_gate_path_allowed(c, full)) {
				hidden++;
				continue;
			}
			if ((o = entry_json(&e[i])) == NULL) {
				ssh_sftp_entries_free(e, n);
				cJSON_Delete(sc);
				return ZT_ERR_NOMEM;
			}
			cJSON_AddItemToArray(arr, o);
			snprintf(shown_last, sizeof(shown_last), "%s", e[i].name);
			shown++;
		}
		more = more || i < n;
		if (n > 0) {
			snprintf(after, sizeof(after), "%s", e[n - 1].name);
			from = after;
		}
		ssh_sftp_entries_free(e, n);
		e = NULL;
		if (shown == limit || !more || ++rounds == LIST_ROUNDS_MAX) {
			break;
		}
	}
	if (more && shown == 0) {
		cJSON_Delete(sc);
		return brk_files_refuse(c, resolved, "more entries than a page reads in a row are "
		    "ones your roles hide", result);
	}
	cJSON_AddNumberToObject(c->outcome, "entries", (double)shown);
	cJSON_AddNumberToObject(c->outcome, "hidden", (double)hidden);
	cJSON_AddBoolToObject(c->outcome, "more", more);
	cJSON_AddBoolToObject(sc, "more", more);
	cJSON_AddNumberToObject(sc, "hidden", (double)hidden);
	if (more && brk_file_cursor_encode(resolved, shown_last, cursor, sizeof(cursor)) == 0) {
		cJSON_AddStringToObject(sc, "cursor", cursor);
	}
	return result_sc(c, resolved, sc, result);
}

int brk_file_list_run(struct brk_call *c, cJSON **result)
{
	static const struct brk_file_op op = { 0, list_work };

	return brk_files_run(c, &op, result);
}

/* ---- file_stat and file_remove ---- */

static const char *const target_keys[] = { "host", "login", "path", NULL };

int brk_file_target_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	return brk_files_parse(c, args, target_keys, err, errsz);
}

static int stat_work(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct ssh_sftp_attr a;
	cJSON *sc = NULL;

	if (ssh_sftp_stat(s, resolved, 1, &a) != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	if ((sc = cJSON_CreateObject()) != NULL) {
		put_attr(sc, &a);
	}
	return result_sc(c, resolved, sc, result);
}

int brk_file_stat_run(struct brk_call *c, cJSON **result)
{
	static const struct brk_file_op op = { 0, stat_work };

	return brk_files_run(c, &op, result);
}

static int remove_work(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
    cJSON **result)
{
	struct ssh_sftp_attr a;
	cJSON *sc = NULL;

	if (ssh_sftp_stat(s, resolved, 1, &a) != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	if (ssh_sftp_kind_of(&a) == SSH_SFTP_DIR) {
		return brk_files_refuse(c, resolved, "it is a directory", result);
	}
	if (ssh_sftp_remove(s, resolved) != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	cJSON_AddStringToObject(c->outcome, "kind", ssh_sftp_kind_name(ssh_sftp_kind_of(&a)));
	if ((sc = cJSON_CreateObject()) != NULL) {
		cJSON_AddBoolToObject(sc, "removed", 1);
		put_attr(sc, &a);
	}
	return result_sc(c, resolved, sc, result);
}

int brk_file_remove_run(struct brk_call *c, cJSON **result)
{
	static const struct brk_file_op op = { 1, remove_work };

	return brk_files_run(c, &op, result);
}
