/*
 * brk_console.h - the web console's files: the page at / and its styles
 * and ES modules under /assets/, compiled into ztbroker at build time
 * (web/embed.sh turns web/'s files into a C table; nothing is read from
 * disk at run time). What the page does it does through the /v1 API with
 * the web session of brk_websession.h.
 *
 *   GET /                 web/index.html
 *   GET /assets/NAME      web/NAME (console.css, js/app.js, ...)
 *   GET /approve/ID       303 to /#/approvals/ID: the held call ID in the
 *                         console (links of older messages; the console
 *                         signs the person in first when needed)
 *
 * Every answer carries BRK_CONSOLE_CSP (script and style only from the
 * broker's own files: the files have no inline script or style),
 * X-Frame-Options DENY, Referrer-Policy no-referrer, and the headers of
 * every answer of the port (no-store, nosniff, HSTS).
 *
 * The page itself gets the CSP with one more source, a style nonce fresh
 * for each answer: the terminal (xterm.js) makes <style> elements at run
 * time, and web/js/csp.js stamps the nonce on those the page's own scripts
 * create. The nonce is in the page only as the nonce attribute of its
 * stylesheet link (BRK_CONSOLE_NONCE_MARK is replaced), which browsers
 * hide from markup and selectors: injected markup cannot learn it.
 */
#ifndef ZT_BRK_CONSOLE_H
#define ZT_BRK_CONSOLE_H

#include <stddef.h>
#include <microhttpd.h>

#define BRK_CONSOLE_ASSETS "/assets/"
#define BRK_CONSOLE_APPROVE "/approve/"
/* Where a held call is answered: the console's route, after the base URL
 * (brk_approvals.h builds the URL it sends from it). */
#define BRK_CONSOLE_APPROVAL_ROUTE "/#/approvals/"
#define BRK_CONSOLE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"
/* The page's: BRK_CONSOLE_CSP with its nonce (a printf format). */
#define BRK_CONSOLE_PAGE_CSP "default-src 'none'; script-src 'self'; " \
	"style-src 'self' 'nonce-%s'; img-src 'self' data:; connect-src 'self'; " \
	"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
/* What index.html holds where each answer's nonce goes. */
#define BRK_CONSOLE_NONCE_MARK "ZT-STYLE-NONCE"

/* One embedded file: its name under web/ ("js/app.js"), Content-Type and
 * bytes. */
struct brk_console_asset {
	const char *name;
	const char *type;
	const unsigned char *data;
	size_t len;
};
/* The table web/embed.sh generates, ended by a NULL name. */
extern const struct brk_console_asset brk_console_assets[];

/* 1 if path is the console's: "/", or under BRK_CONSOLE_ASSETS or
 * BRK_CONSOLE_APPROVE. */
int brk_console_path(const char *path);
/* The request id of "/approve/ID" (ID: STORE_APPROVAL_ID_LEN lower-case
 * hex digits, nothing after) into id (STORE_APPROVAL_ID_LEN + 1 bytes): 0,
 * or ZT_ERR_NOT_FOUND for any other path. */
int brk_console_approval(const char *path, char *id);
/* The file path names (borrowed, static), or NULL: "/" is index.html,
 * "/assets/NAME" the file NAME except index.html. */
const struct brk_console_asset *brk_console_find(const char *path);
/* Answers a request for a console path on c: the file or the redirect
 * (GET, HEAD), 404 or 405, with the console's headers. */
enum MHD_Result brk_console_serve(struct MHD_Connection *c, const char *method,
    const char *path);

#endif
