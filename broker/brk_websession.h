/*
 * brk_websession.h - the web console's session: a login that puts the
 * session token in a cookie script cannot read, and the rule under which
 * the /v1 API takes that cookie instead of a bearer token.
 *
 *   POST /v1/web/login    {user, password, otp}: the checks, limits,
 *                         replay protection and audit of /v1/login (the
 *                         same code); sets the cookie; {user, roles, admin,
 *                         auditor, csrf, expires_at, idle_timeout_s} (the
 *                         token is never in the body)
 *   GET  /v1/web/session  the same for a live cookie
 *   POST /v1/web/logout   revokes the session and clears the cookie
 *
 * The cookie: BRK_WEBSESSION_COOKIE=<token>; Path=/; HttpOnly; Secure;
 * SameSite=Strict (a session cookie; the __Host- prefix forbids a Domain).
 * The session ends BRK_WEBSESSION_IDLE seconds after its last use, and at
 * the latest when a /v1/login token of the same user would (the roles'
 * max_session_ttl): its stored expiry slides with use under that limit.
 *
 * A /v1 request with no Authorization header may authenticate with the
 * cookie, and then only if (1) an Origin header, when present, is the
 * broker's own origin (b->base_url), and (2) it carries the session's
 * CSRF token in BRK_WEBSESSION_CSRF_HEADER (GET /v1/web/session alone is
 * exempt: it is how the page learns the token). Else 403. With an
 * Authorization header the cookie is never read.
 */
#ifndef ZT_BRK_WEBSESSION_H
#define ZT_BRK_WEBSESSION_H

#include <cjson/cJSON.h>

#include "common/crypto.h"

struct brk;
struct brk_req;
struct brk_resp;
struct brk_identity;

#define BRK_WEBSESSION_COOKIE "__Host-zt_web"
#define BRK_WEBSESSION_CSRF_HEADER "X-ZT-CSRF"
#define BRK_WEBSESSION_IDLE (30 * 60)
/* The stored expiry is moved at most this often (a write per request
 * would be a write per click). */
#define BRK_WEBSESSION_SLIDE 60
/* The session's CSRF token: HMAC-SHA256 under b->web_key of the session's
 * token hash, in hex. */
#define BRK_CSRF_HEX (2 * CRYPTO_SHA256_LEN)

/* What brk_websession_authenticate requires beyond the cookie: the CSRF
 * token (req->csrf), and an Origin header (req->origin) at all (a browser
 * always sends one on a WebSocket handshake). */
#define BRK_WEBSESSION_CSRF 1
#define BRK_WEBSESSION_ORIGIN 2

/* Authenticates req by its web session cookie (req->cookie_web) under the
 * rule above and the flags (BRK_WEBSESSION_*) into *who, sliding the
 * session's expiry; else a 401/403/423/429 error in resp (refusals are
 * audited, aggregated). 0 or the reason. */
int brk_websession_authenticate(struct brk *b, const struct brk_req *req, int flags,
    struct brk_identity *who, struct brk_resp *resp);

/* A request to a route that takes a bearer token (/v1, the transfer
 * links): authenticated by its Authorization header when it sends one,
 * else by the cookie under the rule above (brk_websession_authenticate),
 * else as brk_identity_authenticate answers a request without either. 0
 * or the reason, with the error in resp. */
int brk_websession_request(struct brk *b, const struct brk_req *req, int flags,
    struct brk_identity *who, struct brk_resp *resp);

/* Slides the stored expiry of who's web session for a use now, under the
 * session's limit; a no-op unless it moves by BRK_WEBSESSION_SLIDE or
 * more (best effort: a session that just ended simply ends). For use that
 * is no /v1 request: what is typed in a console terminal. */
void brk_websession_slide(struct brk *b, struct brk_identity *who);

/* The handlers of the three routes (brk_api.c's table). */
void brk_websession_login(struct brk *b, const struct brk_req *req, const cJSON *body,
    struct brk_resp *resp);
void brk_websession_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_websession_logout(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);

#endif
