/*
 * cli_qr.c - QR codes in the terminal with libqrencode (see cli_qr.h).
 *
 * Each output line covers two rows of modules: the upper half block, the
 * lower half block, a full block or a space says which of the two are light.
 * Coordinates outside the symbol are the quiet zone, which is light.
 */
#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_qr.h"
#include "common/err.h"

#define QR_FULL "\xe2\x96\x88"  /* U+2588 FULL BLOCK */
#define QR_UPPER "\xe2\x96\x80" /* U+2580 UPPER HALF BLOCK */
#define QR_LOWER "\xe2\x96\x84" /* U+2584 LOWER HALF BLOCK */
#define QR_COLOR_ON "\x1b[97;40m"
#define QR_COLOR_OFF "\x1b[0m"

/* 1 if the module at (x, y) of the quiet-zoned symbol is light. */
static int light(const QRcode *qr, int x, int y)
{
	int w = qr->width;

	x -= CLI_QR_QUIET;
	y -= CLI_QR_QUIET;
	if (x < 0 || y < 0 || x >= w || y >= w) {
		return 1;
	}
	/* Bit 0 of each module byte is set for a dark module. */
	return (qr->data[y * w + x] & 1) == 0;
}

int cli_qr_print(FILE *f, const char *text, int color)
{
	static const char *const glyph[4] = {" ", QR_LOWER, QR_UPPER, QR_FULL};
	QRcode *qr = NULL;
	int x, y, size, r = ZT_ERR_IO;

	if (f == NULL || text == NULL || text[0] == '\0') {
		return ZT_ERR_INVALID;
	}
	errno = 0;
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL) {
		return errno == ENOMEM ? ZT_ERR_NOMEM : ZT_ERR_INVALID;
	}
	size = qr->width + 2 * CLI_QR_QUIET;
	for (y = 0; y < size; y += 2) {
		if (color && fputs(QR_COLOR_ON, f) == EOF) {
			goto out;
		}
		for (x = 0; x < size; x++) {
			/* The size is odd: the last line's lower half is outside, and
			 * light like the quiet zone. */
			int g = light(qr, x, y) * 2 + light(qr, x, y + 1);

			if (fputs(glyph[g], f) == EOF) {
				goto out;
			}
		}
		if ((color && fputs(QR_COLOR_OFF, f) == EOF) || fputc('\n', f) == EOF) {
			goto out;
		}
	}
	r = 0;
out:
	QRcode_free(qr);
	return r;
}
