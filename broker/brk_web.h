/*
 * brk_web.h - the pages ztbroker serves to browsers. Today one: the page of
 * a held call, /approve/<id> (brk_approvals.h), where a person signs in
 * (user, password, one-time code) and answers the exact call with a fresh
 * code; the web console will grow here.
 *
 *   GET  /approve/ID         the sign-in form, or the call and its answer form
 *   POST /approve/ID/login   signs in: a web session of BRK_WEB_SESSION_TTL
 *   POST /approve/ID         action=approve (otp, for?) or action=deny (reason?)
 *
 * The web session is the session token in a cookie, HttpOnly, Secure,
 * SameSite=Strict, Path=/approve/, as short-lived as the server-side
 * session behind it. Every form carries a CSRF token: HMAC-SHA256 under a
 * per-process key (struct brk's web_key) of the session's token hash, or,
 * before sign-in, of a random cookie (double submit); a form without the
 * right one changes nothing. Pages have no script and no inline style:
 * Content-Security-Policy default-src 'none', form-action 'self',
 * frame-ancestors 'none'; X-Frame-Options DENY; no caching; no referrer.
 * Everything from the request or the store is HTML-escaped.
 */
#ifndef ZT_BRK_WEB_H
#define ZT_BRK_WEB_H

struct brk;
struct brk_req;
struct brk_resp;

#define BRK_WEB_SESSION_TTL (15 * 60)
#define BRK_WEB_PREFIX "/approve/"
#define BRK_WEB_SESSION_COOKIE "zt_session"
#define BRK_WEB_CSRF_COOKIE "zt_csrf"
#define BRK_WEB_PAGE_MAX (64 * 1024)
/* The security headers of every page (brk_http.c adds them). */
#define BRK_WEB_CSP "default-src 'none'; form-action 'self'; frame-ancestors 'none'; " \
	"base-uri 'none'"

/* 1 if path is a page of this module. */
int brk_web_path(const char *path);
/* The request id in path ("/approve/ID" or "/approve/ID/login", ID 32
 * lower-case hex digits) into id (33 bytes); *login says which. 0 or
 * ZT_ERR_NOT_FOUND. */
int brk_web_route(const char *path, char *id, int *login);
/* Handles one page request; always fills resp (status, and html or a
 * redirect in location). */
void brk_web_handle(struct brk *b, const struct brk_req *req, struct brk_resp *resp);

#endif
