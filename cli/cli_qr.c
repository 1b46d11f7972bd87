/*
 * cli_qr.c - QR codes in the terminal with libqrencode (see cli_qr.h).
 *
 * Each output line covers two rows of modules: the upper half block, the
 * lower half block, a full block or a space says which of the two are light.
 * The grid, quiet zone included, is common/qr.h's.
 */
#include <stdio.h>

#include "cli/cli_qr.h"
#include "common/err.h"
#include "common/qr.h"

#define QR_FULL "\xe2\x96\x88"  /* U+2588 FULL BLOCK */
#define QR_UPPER "\xe2\x96\x80" /* U+2580 UPPER HALF BLOCK */
#define QR_LOWER "\xe2\x96\x84" /* U+2584 LOWER HALF BLOCK */
#define QR_COLOR_ON "\x1b[97;40m"
#define QR_COLOR_OFF "\x1b[0m"

int cli_qr_print(FILE *f, const char *text, int color)
{
	static const char *const glyph[4] = {" ", QR_LOWER, QR_UPPER, QR_FULL};
	struct qr *qr = NULL;
	int x, y, size, r;

	if (f == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = qr_encode(text, &qr)) != 0) {
		return r;
	}
	r = ZT_ERR_IO;
	size = qr_size(qr);
	for (y = 0; y < size; y += 2) {
		if (color && fputs(QR_COLOR_ON, f) == EOF) {
			goto out;
		}
		for (x = 0; x < size; x++) {
			/* The size is odd: the last line's lower half is outside, and
			 * light like the quiet zone. */
			int g = !qr_dark(qr, x, y) * 2 + !qr_dark(qr, x, y + 1);

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
	qr_free(qr);
	return r;
}
