/*
 * cli_qr.h - drawing a QR code in a terminal (for TOTP enrolment).
 *
 * The code is encoded by common/qr.h (libqrencode, error correction level M)
 * and drawn with Unicode half blocks, two module rows per text line, inside a 4-module
 * quiet zone. Light modules are drawn as blocks, so the code reads correctly
 * on a dark terminal; when color is set, ANSI colors force white on black so
 * it also reads on a light one.
 */
#ifndef ZT_CLI_QR_H
#define ZT_CLI_QR_H

#include <stdio.h>

/* Writes text as a QR code to f. 0, ZT_ERR_INVALID (empty or too long to
 * encode), ZT_ERR_NOMEM or ZT_ERR_IO. */
int cli_qr_print(FILE *f, const char *text, int color);

#endif
