/*
 * qr.c - QR codes with libqrencode (see qr.h).
 *
 * The SVG draws each run of dark modules in a row as one horizontal
 * segment of a single path ("M x y h n"), stroked one unit wide: a small
 * document whatever the code's size, and the same grid the terminal
 * drawing shows.
 */
#include "common/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"

/* Bytes of an SVG: a version 40 code (177 modules a side) with every
 * other module dark, the worst case, takes about 250 KiB. */
#define QR_SVG_MAX (512 * 1024)

struct qr {
	QRcode *code;
};

int qr_encode(const char *text, struct qr **out)
{
	struct qr *q = NULL;

	*out = NULL;
	if (text == NULL || text[0] == '\0' || strlen(text) > QR_TEXT_MAX) {
		return ZT_ERR_INVALID;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	errno = 0;
	if ((q->code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL) {
		free(q);
		return errno == ENOMEM ? ZT_ERR_NOMEM : ZT_ERR_INVALID;
	}
	*out = q;
	return 0;
}

void qr_free(struct qr *q)
{
	if (q == NULL) {
		return;
	}
	/* The modules encode what was given: an invite, for one. */
	crypto_wipe(q->code->data, (size_t)q->code->width * (size_t)q->code->width);
	QRcode_free(q->code);
	free(q);
}

int qr_size(const struct qr *q)
{
	return q->code->width + 2 * QR_QUIET;
}

int qr_dark(const struct qr *q, int x, int y)
{
	int w = q->code->width;

	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= w || y >= w) {
		return 0;
	}
	/* Bit 0 of each module byte is set for a dark module. */
	return q->code->data[y * w + x] & 1;
}

int qr_svg(const char *text, char **out)
{
	struct qr *q = NULL;
	struct buf *b = NULL;
	int size, r;

	*out = NULL;
	if ((r = qr_encode(text, &q)) != 0) {
		return r;
	}
	size = qr_size(q);
	if ((b = buf_new(QR_SVG_MAX)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	r = buf_putf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path stroke=\"#000\" d=\"", size, size, size, size);
	for (int y = 0; r == 0 && y < size; y++) {
		for (int x = 0; r == 0 && x < size; x++) {
			int run = 0;

			while (x + run < size && qr_dark(q, x + run, y)) {
				run++;
			}
			if (run > 0) {
				/* The stroke is centred on y + 0.5. */
				r = buf_putf(b, "M%d %d.5h%d", x, y, run);
				x += run;
			}
		}
	}
	if (r == 0) {
		r = buf_putf(b, "\"/></svg>");
	}
	if (r == 0) {
		r = buf_dup_cstring(b, out);
	}
out:
	buf_free(b);
	qr_free(q);
	return r;
}
