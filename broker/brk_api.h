/*
 * brk_api.h - the broker's JSON API under /v1/, independent of HTTP.
 *
 * brk_http.c turns each HTTP request into a struct brk_req and writes back
 * the struct brk_resp; everything between (routing, body limits and
 * parsing, bearer-token authentication, the handlers) lives behind this
 * interface so it can be tested without sockets. docs/api.md is the
 * external contract.
 */
#ifndef ZT_BRK_API_H
#define ZT_BRK_API_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "broker/brk_identity.h"
#include "store/store.h"

struct brk;

/* The arguments of a URL's query string (decoded by libmicrohttpd;
 * brk_form_add keeps them, bounded): a small form of key and value. */
#define BRK_FORM_FIELDS 8
#define BRK_FORM_KEY_MAX 32
#define BRK_FORM_VALUE_MAX 1024
struct brk_form {
	size_t n;
	char key[BRK_FORM_FIELDS][BRK_FORM_KEY_MAX];
	char value[BRK_FORM_FIELDS][BRK_FORM_VALUE_MAX + 1];
	size_t len[BRK_FORM_FIELDS];
	/* Set for good by a field too long or with a NUL, too many fields, a
	 * key repeated: the form is refused whole. */
	int bad;
};
/* Appends size bytes at offset off of field key (a value may come in
 * pieces); 0, or ZT_ERR_INVALID after marking f bad. In brk_query.c. */
int brk_form_add(struct brk_form *f, const char *key, uint64_t off, const char *data,
    size_t size);
/* The value of key, or NULL when the form has none (or is bad). */
const char *brk_form_get(const struct brk_form *f, const char *key);

struct brk_req {
	const char *method;
	const char *path;
	const char *source;        /* client address, e.g. "127.0.0.1" */
	const char *authorization; /* Authorization header or NULL */
	const char *content_type;  /* Content-Type header or NULL */
	const uint8_t *body;       /* NULL when there is none */
	size_t body_len;
	/* The console's web session cookie, its CSRF header and the Origin
	 * header (brk_websession.h); NULL when absent. */
	const char *cookie_web;
	const char *csrf;
	const char *origin;
	/* The URL's query arguments (?host=web1&limit=10), decoded, in the
	 * same bounded form; NULL when there are none to read. A bad one (a
	 * key repeated, too many, too long) marks it bad. */
	const struct brk_form *query;
};

#define BRK_COOKIE_MAX 256

struct brk_resp {
	int status;
	cJSON *json;           /* owned by the response */
	int64_t retry_after;   /* > 0 adds Retry-After */
	int www_authenticate;  /* adds WWW-Authenticate: Bearer */
	/* The caller a bearer token authenticated ("bot:NAME"), "" when none:
	 * the connection is then counted against that identity (brk_conn.h). */
	char actor[BRK_IDENTITY_KEY_MAX];
	/* The Set-Cookie value to send (the web session's), "" for none. */
	char set_cookie[BRK_COOKIE_MAX];
	/* A file to send as the body instead of JSON (a recording): when
	 * file_type (static text, the Content-Type) is set, file_fd is an
	 * open descriptor (owned: brk_resp_clear closes it) of file_size
	 * bytes, sent from its start. */
	const char *file_type;
	int file_fd;
	uint64_t file_size;
	/* Text made in memory as the body instead of JSON (an export): when
	 * body_type (static text, the Content-Type) is set, body (owned:
	 * brk_resp_clear frees it) holds body_len bytes. */
	const char *body_type;
	char *body;
	size_t body_len;
};

/* Handles one request; always fills resp (status and JSON body). */
void brk_api_handle(struct brk *b, const struct brk_req *req, struct brk_resp *resp);
void brk_resp_clear(struct brk_resp *resp);

/* Sets an error response {"error": {"code", "message"}}. */
void brk_resp_error(struct brk_resp *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The answer of a request whose event must be on record and could not be
 * written (aud_record failed, audit/aud_event.h): 500 "internal error:
 * audit log unavailable" in place of whatever resp held, so that nothing
 * is reported done without its record. */
void brk_resp_unrecorded(struct brk_resp *resp);

/* Handlers in brk_auth.c. body is the parsed JSON object (NULL for GET);
 * who is the authenticated caller (NULL on unauthenticated routes). */
void brk_auth_enroll(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp);
void brk_auth_login(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp);
void brk_auth_whoami(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp);
void brk_auth_logout(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp);

/* A fresh one-time code of who (a user) for a step-up or an approval:
 * counted against the user's and the address's failures like a login's
 * (and refused during a block), single use, and on failure audited as
 * event ("mfa.stepup") and answered in resp. 0 or the reason. */
int brk_auth_stepup(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    const char *otp, const char *event, struct brk_resp *resp);

/* GET /v1/hosts, in brk_hosts.c: {"hosts": [...]} the caller may see. */
void brk_hosts_api(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp);

/* The roles text "a,b" as a JSON array (owned); NULL on ENOMEM. */
cJSON *brk_roles_json(const char *roles);

#endif
