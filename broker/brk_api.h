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

struct brk_req {
	const char *method;
	const char *path;
	const char *source;        /* client address, e.g. "127.0.0.1" */
	const char *authorization; /* Authorization header or NULL */
	const char *content_type;  /* Content-Type header or NULL */
	const uint8_t *body;       /* NULL when there is none */
	size_t body_len;
};

struct brk_resp {
	int status;
	cJSON *json;           /* owned by the response */
	int64_t retry_after;   /* > 0 adds Retry-After */
	int www_authenticate;  /* adds WWW-Authenticate: Bearer */
	/* The caller a bearer token authenticated ("bot:NAME"), "" when none:
	 * the connection is then counted against that identity (brk_conn.h). */
	char actor[BRK_IDENTITY_KEY_MAX];
};

/* Handles one request; always fills resp (status and JSON body). */
void brk_api_handle(struct brk *b, const struct brk_req *req, struct brk_resp *resp);
void brk_resp_clear(struct brk_resp *resp);

/* Sets an error response {"error": {"code", "message"}}. */
void brk_resp_error(struct brk_resp *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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
