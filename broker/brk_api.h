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

#include "store/store.h"

struct brk;

/* Bytes of an identity's key, with its NUL: "kind:name" with a kind of
 * at most 11 bytes and a name of at most STORE_NAME_MAX. */
#define BRK_IDENTITY_KEY_MAX 96

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

/* Authenticates "Bearer <token>": fills *who or sets a 401/423 error on
 * resp (and audits the refusal). 0 or the negative reason. */
int brk_api_authenticate(struct brk *b, const struct brk_req *req, struct store_session *who,
    struct brk_resp *resp);

/* The one name of an identity across the broker, "kind:name" ("bot:ci",
 * "user:alice"): the actor of its audit events, and the key of its shares
 * (its connections, brk_conn.h; its MCP sessions and calls), which only
 * add up when every place names it alike. Every place formats it here. */
void brk_identity_key(const char *kind, const char *name, char *out, size_t outsz);
/* The audit actor for a principal: "user:NAME" or "bot:NAME". */
void brk_actor(const struct store_session *who, char *out, size_t outsz);

/* Handlers in brk_auth.c. body is the parsed JSON object (NULL for GET);
 * who is the authenticated caller (NULL on unauthenticated routes). */
void brk_auth_enroll(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp);
void brk_auth_login(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp);
void brk_auth_whoami(struct brk *b, const struct brk_req *req, const struct store_session *who,
    struct brk_resp *resp);
void brk_auth_logout(struct brk *b, const struct brk_req *req, const struct store_session *who,
    struct brk_resp *resp);

/* GET /v1/hosts, in brk_hosts.c: {"hosts": [...]} the caller may see. */
void brk_hosts_api(struct brk *b, const struct brk_req *req, const struct store_session *who,
    struct brk_resp *resp);

/* The roles text "a,b" as a JSON array (owned); NULL on ENOMEM. */
cJSON *brk_roles_json(const char *roles);

#endif
