/*
 * brk_files.c - what the file tools share (brk_files.h): their arguments,
 * the SFTP session on the call's connection, resolving the path on the
 * host and deciding on it, failures as results, and the list cursor. The
 * work of each tool is in brk_fileops.c.
 */
#include "broker/brk_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_fileops.h"
#include "broker/brk_gate.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_term.h"
#include "broker/brk_xfer.h"
#include "common/err.h"
#include "common/json.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "policy/pol_eval.h"

/* ---- arguments ---- */

/* The path argument into c->path (brk_files.h says what it must be). */
static int parse_path(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	const char *p = NULL;

	if (json_get_str(args, "path", BRK_FILE_PATH_MAX, 0, &p) != 0) {
		snprintf(err, errsz, "path must be a string of 1 to %d bytes", BRK_FILE_PATH_MAX);
		return ZT_ERR_INVALID;
	}
	for (const char *q = p; *q != '\0'; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			snprintf(err, errsz, "path must not hold control characters");
			return ZT_ERR_INVALID;
		}
	}
	if (!pol_path_normal(p)) {
		snprintf(err, errsz, "path must be absolute and normal: starting with '/', with no "
		    "\"..\" or \".\" segments, no \"//\" and no trailing '/'");
		return ZT_ERR_INVALID;
	}
	c->path = p;
	c->timeout_s = BRK_FILE_TIMEOUT_S;
	return 0;
}

int brk_files_parse(struct brk_call *c, const cJSON *args, const char *const *keys, char *err,
    size_t errsz)
{
	if (brk_gate_only_keys(c, args, keys, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (brk_sshconn_parse_target(c, args, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	return parse_path(c, args, err, errsz);
}

size_t brk_files_max(const struct brk_call *c)
{
	return c->b->file_max > 0 ? c->b->file_max : BRK_FILE_MAX_DEFAULT;
}

/* ---- failures as results ---- */

int brk_files_fail(struct brk_call *c, const struct ssh_sftp_err *e, cJSON **result)
{
	cJSON_AddStringToObject(c->outcome, "status", ssh_exec_status_name(e->status));
	cJSON_AddStringToObject(c->outcome, "error", e->error);
	if (e->status == SSH_EXEC_CANCELLED) {
		return ZT_ERR_CANCELLED;
	}
	c->failed = 1;
	*result = mcp_result_error("%s %s on %s as %s: %s", c->tool->name, c->path, c->host,
	    c->login, e->error);
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

int brk_files_refuse(struct brk_call *c, const char *resolved, const char *why, cJSON **result)
{
	c->failed = 1;
	cJSON_AddStringToObject(c->outcome, "status", "refused");
	cJSON_AddStringToObject(c->outcome, "error", why);
	*result = mcp_result_error("%s %s on %s: %s (resolved: %s); nothing was done",
	    c->tool->name, c->path, c->host, why, resolved);
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* ---- resolving ---- */

/* The path as the host resolves it, into *out (owned): the whole of it,
 * or (parent) its directory and its last name as written. */
static int resolve(struct brk_call *c, struct ssh_sftp *s, int parent, char **out,
    cJSON **result)
{
	const char *slash = strrchr(c->path, '/');
	char dir[BRK_FILE_PATH_MAX + 1], *rdir = NULL;
	size_t dlen = slash != NULL ? (size_t)(slash - c->path) : 0;
	int r, n, text;

	*out = NULL;
	if (!parent) {
		r = ssh_sftp_realpath(s, c->path, out);
	} else if (slash == NULL || slash[1] == '\0') {
		return brk_files_refuse(c, c->path, "the path names no file", result);
	} else {
		if (dlen == 0) {
			snprintf(dir, sizeof(dir), "/");
		} else {
			memcpy(dir, c->path, dlen);
			dir[dlen] = '\0';
		}
		if ((r = ssh_sftp_realpath(s, dir, &rdir)) == 0) {
			n = strlen(rdir) + strlen(slash) + 1;
			if ((*out = malloc((size_t)n)) == NULL) {
				free(rdir);
				return ZT_ERR_NOMEM;
			}
			snprintf(*out, (size_t)n, "%s%s", strcmp(rdir, "/") == 0 ? "" : rdir, slash);
		}
		free(rdir);
	}
	if (r != 0) {
		return brk_files_fail(c, ssh_sftp_error(s), result);
	}
	text = json_utf8_text(*out, strlen(*out));
	cJSON_AddStringToObject(c->outcome, "path_resolved", text ? *out : "");
	if (!text || strlen(*out) > BRK_FILE_PATH_MAX) {
		r = brk_files_refuse(c, "?", "the host's path is not UTF-8 or too long", result);
		free(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

/* ---- the run every file tool shares ---- */

/* On a session: resolve, decide again, then op. 0 with *result set, or an
 * error or ZT_ERR_CANCELLED. */
static int on_session(struct brk_call *c, struct ssh_sftp *s, const struct brk_file_op *op,
    cJSON **result)
{
	char *resolved = NULL;
	int r;

	if ((r = resolve(c, s, op->parent, &resolved, result)) != 0 || *result != NULL) {
		return r;
	}
	r = brk_gate_recheck_path(c, resolved, result);
	if (r == ZT_ERR_DENIED) {
		r = 0;
	} else if (r == 0) {
		r = op->work(c, s, resolved, result);
	}
	free(resolved);
	return r;
}

int brk_files_run(struct brk_call *c, const struct brk_file_op *op, cJSON **result)
{
	struct ssh_sftp_req req;
	struct ssh_sftp_err e;
	struct ssh_sftp *s = NULL;
	struct brk_pooled *pc = NULL;
	int64_t deadline = net_mono_ms() + c->timeout_s * 1000;
	int r, tries = 0;

again:
	if ((r = brk_sshconn_get(c, deadline, &pc, result)) != 0) {
		return *result != NULL ? 0 : r;
	}
	memset(&req, 0, sizeof(req));
	req.deadline_ms = deadline;
	req.cancelled = brk_sshconn_cancelled;
	req.arg = c;
	if ((r = ssh_sftp_open(pc->conn, &req, &s, &e)) != 0) {
		if (brk_sshconn_retry(c, pc, 0, &tries, e.error)) {
			goto again;
		}
		r = brk_files_fail(c, &e, result);
	} else {
		c->pc = pc;
		r = on_session(c, s, op, result);
		ssh_sftp_close(s);
	}
	if (c->pc == NULL && r == 0) {
		brk_sshconn_lend(c, pc);        /* a transfer link has it now */
		return 0;
	}
	c->pc = NULL;
	/* A cancelled call leaves nothing warm behind it. */
	brk_sshconn_done(c, pc, r == ZT_ERR_CANCELLED);
	return r;
}

/* ---- transfer links ---- */

int brk_files_transfer(const cJSON *args, int *link, char *err, size_t errsz)
{
	const char *t = NULL;

	*link = 0;
	if (cJSON_GetObjectItemCaseSensitive(args, "transfer") == NULL) {
		return 0;
	}
	if (json_get_str(args, "transfer", 8, 0, &t) != 0 ||
	    (strcmp(t, "inline") != 0 && strcmp(t, "link") != 0)) {
		snprintf(err, errsz, "transfer must be \"inline\" or \"link\"");
		return ZT_ERR_INVALID;
	}
	*link = strcmp(t, "link") == 0;
	return 0;
}

int brk_files_link(struct brk_call *c, const struct brk_xfer_what *w, cJSON *sc,
    cJSON **result)
{
	char url[sizeof(c->b->base_url) + 64], err[160];
	const char *name = strrchr(w->resolved, '/');
	cJSON *link;
	int r;

	if (sc == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = brk_xfer_offer(c, w, url, sizeof(url), err, sizeof(err))) != 0) {
		cJSON_Delete(sc);
		if (r != ZT_ERR_RATE_LIMITED && r != ZT_ERR_CANCELLED) {
			return r;
		}
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "status", "refused");
		cJSON_AddStringToObject(c->outcome, "error", err);
		*result = mcp_result_error("%s %s on %s: %s; nothing was done", c->tool->name,
		    c->path, c->host, err);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(c->outcome, "transfer", "link");
	cJSON_AddStringToObject(sc, "path", c->path);
	cJSON_AddStringToObject(sc, "resolved", w->resolved);
	if ((link = cJSON_AddObjectToObject(sc, "link")) != NULL) {
		cJSON_AddStringToObject(link, "url", url);
		cJSON_AddStringToObject(link, "method", w->dir == BRK_XFER_READ ? "GET" : "PUT");
		cJSON_AddNumberToObject(link, "expires_in_s", BRK_XFER_LINK_TTL_S);
	}
	if ((r = mcp_result_structured(sc, result)) != 0) {
		return r;
	}
	return mcp_result_add_link(*result, url, name != NULL && name[1] != '\0' ? name + 1 :
	    w->resolved, "application/octet-stream");
}

/* ---- the console's transfers: /ws/file ---- */

/* The tool a console's transfer names ("tool": "file_read" or
 * "file_write"), taken out of its arguments, which get transfer "link":
 * the page moves the bytes over the link with its web session. NULL for
 * any other name. */
static const struct brk_tool *pick_file(cJSON *args)
{
	cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(args, "tool");
	const char *name = cJSON_GetStringValue(t);
	const struct brk_tool *tool = NULL;

	if (name != NULL && (strcmp(name, "file_read") == 0 || strcmp(name, "file_write") == 0)) {
		tool = brk_tools_named(name);
	}
	cJSON_Delete(t);
	cJSON_DeleteItemFromObjectCaseSensitive(args, "transfer");
	return tool != NULL && cJSON_AddStringToObject(args, "transfer", "link") != NULL ? tool :
	    NULL;
}

void brk_files_serve(struct brk *b, struct brk_ws *ws)
{
	brk_term_door(b, ws, pick_file);
}

/* ---- the list cursor ---- */

/* The first 8 bytes of the directory's SHA-256, in hex. */
static void dir_tag(const char *dir, char out[17])
{
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha256(dir, strlen(dir), d);
	crypto_hex(d, 8, out, 17);
}

int brk_file_cursor_encode(const char *dir, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);
	char tag[17];

	if (n > SSH_SFTP_NAME_MAX || outsz < 2 + 16 + 2 * n + 1) {
		return ZT_ERR_TOO_LARGE;
	}
	dir_tag(dir, tag);
	memcpy(out, "c1", 2);
	memcpy(out + 2, tag, 16);
	return crypto_hex(name, n, out + 18, outsz - 18);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int brk_file_cursor_decode(const char *cursor, const char *dir, char *name, size_t namesz)
{
	size_t n = cursor != NULL ? strlen(cursor) : 0, i;
	char tag[17];
	int hi, lo;

	if (n < 20 || n > BRK_FILE_CURSOR_MAX || (n - 18) % 2 != 0 || memcmp(cursor, "c1", 2) != 0 ||
	    (n - 18) / 2 >= namesz) {
		return ZT_ERR_INVALID;
	}
	dir_tag(dir, tag);
	if (memcmp(cursor + 2, tag, 16) != 0) {
		return ZT_ERR_INVALID;
	}
	for (i = 0; i < (n - 18) / 2; i++) {
		hi = unhex(cursor[18 + 2 * i]);
		lo = unhex(cursor[19 + 2 * i]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) || (hi == 2 && lo == 15)) {
			return ZT_ERR_INVALID;      /* not hex, a NUL or a '/' */
		}
		name[i] = (char)(hi << 4 | lo);
	}
	name[i] = '\0';
	return 0;
}
