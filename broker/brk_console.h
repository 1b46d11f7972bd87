/*
 * brk_console.h - the web console's files: the page at / and its styles
 * and ES modules under /assets/, compiled into ztbroker at build time
 * (web/embed.sh turns web/'s files into a C table; nothing is read from
 * disk at run time). What the page does it does through the /v1 API with
 * the web session of brk_websession.h.
 *
 *   GET /                 web/index.html
 *   GET /assets/NAME      web/NAME (console.css, js/app.js, ...)
 *
 * Every answer carries BRK_CONSOLE_CSP (script and style only from the
 * broker's own files: the files have no inline script or style),
 * X-Frame-Options DENY, Referrer-Policy no-referrer, and the headers of
 * every answer of the port (no-store, nosniff, HSTS).
 */
#ifndef ZT_BRK_CONSOLE_H
#define ZT_BRK_CONSOLE_H

#include <stddef.h>
#include <microhttpd.h>

#define BRK_CONSOLE_ASSETS "/assets/"
#define BRK_CONSOLE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

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

/* 1 if path is the console's: "/" or under BRK_CONSOLE_ASSETS. */
int brk_console_path(const char *path);
/* The file path names (borrowed, static), or NULL: "/" is index.html,
 * "/assets/NAME" the file NAME except index.html. */
const struct brk_console_asset *brk_console_find(const char *path);
/* Answers a request for a console path on c: the file (GET, HEAD), 404 or
 * 405, with the console's headers. */
enum MHD_Result brk_console_serve(struct MHD_Connection *c, const char *method,
    const char *path);

#endif
