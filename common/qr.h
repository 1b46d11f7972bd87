/*
 * qr.h - QR codes (libqrencode, error correction level M, 8-bit mode) as a
 * grid of modules with its quiet zone, and as SVG for web pages.
 *
 * ztctl draws the grid in a terminal (cli/cli_qr.h); the broker serves the
 * SVG of an invite's enrolment command to the web console.
 */
#ifndef ZT_QR_H
#define ZT_QR_H

#include <stddef.h>

#define QR_QUIET 4          /* modules of quiet zone on each side */
#define QR_TEXT_MAX 2048    /* bytes of text qr_encode takes */

struct qr;

/* Encodes text (1 to QR_TEXT_MAX bytes). On 0, *out is owned (qr_free).
 * ZT_ERR_INVALID (empty or too long to encode) or ZT_ERR_NOMEM. */
int qr_encode(const char *text, struct qr **out);
/* No-op on NULL. */
void qr_free(struct qr *q);
/* Modules on a side, the quiet zone included. */
int qr_size(const struct qr *q);
/* 1 if the module at (x, y), counted from the quiet zone's corner, is
 * dark; the quiet zone and anything outside are light. */
int qr_dark(const struct qr *q, int x, int y);

/* text as a QR code in SVG: one module per user unit, dark modules as a
 * single black path on a white square, the quiet zone included. *out is
 * owned (free it) and holds no markup from text. Same returns as
 * qr_encode. */
int qr_svg(const char *text, char **out);

#endif
