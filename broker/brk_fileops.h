/*
 * brk_fileops.h - between the two halves of the file tools (brk_files.h):
 * brk_files.c holds what they share (arguments, the session, resolving and
 * deciding, failures), brk_fileops.c the work of each tool. Nothing else
 * includes this file.
 */
#ifndef ZT_BRK_FILEOPS_H
#define ZT_BRK_FILEOPS_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "resources/ssh_sftp.h"

struct brk_call;
struct brk_xfer_what;

/* One tool's work, on a session, on the path its host resolved and the
 * policy allowed: 0 with *result, or an error, or ZT_ERR_CANCELLED. */
struct brk_file_op {
	int parent;     /* resolve the directory, keep the last name (brk_files.h) */
	int (*work)(struct brk_call *c, struct ssh_sftp *s, const char *resolved,
	    cJSON **result);
};

/* Checks that args holds only keys (NULL-terminated), then host, login and
 * path into c (c->timeout_s too). 0 or ZT_ERR_INVALID with err. */
int brk_files_parse(struct brk_call *c, const cJSON *args, const char *const *keys, char *err,
    size_t errsz);
/* The broker's --file-max. */
size_t brk_files_max(const struct brk_call *c);
/* The call's connection and an SFTP session on it, then op (brk_files.h). */
int brk_files_run(struct brk_call *c, const struct brk_file_op *op, cJSON **result);
/* A failure of the session as the call's: outcome status and error, and
 * a tool error (0), or ZT_ERR_CANCELLED. */
int brk_files_fail(struct brk_call *c, const struct ssh_sftp_err *e, cJSON **result);
/* A call refused on what the host showed (a link where a file is
 * written, a directory where a file is removed): 0 with the tool error. */
int brk_files_refuse(struct brk_call *c, const char *resolved, const char *why, cJSON **result);

/* "transfer" of args: 0 with *link (0: inline, 1: a link), or
 * ZT_ERR_INVALID with err. */
int brk_files_transfer(const cJSON *args, int *link, char *err, size_t errsz);
/* The call's result as a transfer link for w (brk_xfer.h): sc (taken)
 * with path, resolved and link {url, method, expires_in_s}, and the link
 * as a resource_link. 0 (a refusal, too many links, is a tool error), or
 * an error. */
int brk_files_link(struct brk_call *c, const struct brk_xfer_what *w, cJSON *sc,
    cJSON **result);

#endif
