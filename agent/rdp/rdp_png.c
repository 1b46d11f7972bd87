/*
 * rdp_png.c - framebuffer -> PNG for the RDP helper (see rdp_png.h).
 *
 * Rows are produced one at a time (RGB, scaled by averaging the source box
 * each output pixel covers) and handed to libpng, which writes into a
 * growing memory buffer bounded by RDP_PNG_MAX.
 */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rdp/rdp_png.h"
#include "common/err.h"

struct sink {
	unsigned char *p;
	size_t len, cap;
	int over; /* 1: past RDP_PNG_MAX or out of memory */
};

static void sink_write(png_structp png, png_bytep data, png_size_t n)
{
	struct sink *s = png_get_io_ptr(png);

	if (s->over) {
		return;
	}
	if (n > RDP_PNG_MAX - s->len) {
		s->over = ZT_ERR_TOO_LARGE;
		return;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 256 * 1024;
		unsigned char *np;

		while (cap < s->len + n) {
			cap *= 2;
		}
		np = realloc(s->p, cap);
		if (np == NULL) {
			s->over = ZT_ERR_NOMEM;
			return;
		}
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
}

static void sink_flush(png_structp png)
{
	(void)png;
}

/* Output row oy of an ow x oh picture from the w x h framebuffer: each
 * output pixel averages the source pixels [x0, x1) x [y0, y1) it covers. */
static void scale_row(const uint8_t *fb, uint32_t w, uint32_t h, uint32_t stride, uint32_t ow,
    uint32_t oh, uint32_t oy, unsigned char *row)
{
	uint32_t y0 = (uint32_t)((uint64_t)oy * h / oh);
	uint32_t y1 = (uint32_t)((uint64_t)(oy + 1) * h / oh);

	if (y1 <= y0) {
		y1 = y0 + 1;
	}
	for (uint32_t ox = 0; ox < ow; ox++) {
		uint32_t x0 = (uint32_t)((uint64_t)ox * w / ow);
		uint32_t x1 = (uint32_t)((uint64_t)(ox + 1) * w / ow);
		uint32_t r = 0, g = 0, b = 0, n;

		if (x1 <= x0) {
			x1 = x0 + 1;
		}
		n = (x1 - x0) * (y1 - y0);
		for (uint32_t y = y0; y < y1; y++) {
			const uint8_t *p = fb + (size_t)y * stride + (size_t)x0 * 4;

			for (uint32_t x = x0; x < x1; x++, p += 4) {
				b += p[0];
				g += p[1];
				r += p[2];
			}
		}
		row[ox * 3] = (unsigned char)((r + n / 2) / n);
		row[ox * 3 + 1] = (unsigned char)((g + n / 2) / n);
		row[ox * 3 + 2] = (unsigned char)((b + n / 2) / n);
	}
}

/* The PNG of fb scaled to ow x oh into s, through row (ow * 3 bytes).
 * Nothing here changes after setjmp, so longjmp leaves it all valid. */
static int write_png(const uint8_t *fb, uint32_t w, uint32_t h, uint32_t stride, uint32_t ow,
    uint32_t oh, unsigned char *row, struct sink *s)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;

	if (png == NULL || info == NULL) {
		png_destroy_write_struct(&png, &info);
		return ZT_ERR_NOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return ZT_ERR_INTERNAL;
	}
	png_set_write_fn(png, s, sink_write, sink_flush);
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_set_IHDR(png, info, ow, oh, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < oh; y++) {
		if (ow == w && oh == h) {
			const uint8_t *p = fb + (size_t)y * stride;

			for (uint32_t x = 0; x < w; x++, p += 4) {
				row[x * 3] = p[2];
				row[x * 3 + 1] = p[1];
				row[x * 3 + 2] = p[0];
			}
		} else {
			scale_row(fb, w, h, stride, ow, oh, y, row);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return s->over;
}

int rdp_png_encode(const uint8_t *fb, uint32_t w, uint32_t h, uint32_t stride, uint32_t max_width,
    struct rdp_png *out)
{
	struct sink s = { 0 };
	unsigned char *row = NULL;
	uint32_t ow = w, oh = h;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fb == NULL || w == 0 || h == 0) {
		return ZT_ERR_INVALID;
	}
	if (max_width > 0 && max_width < w) {
		ow = max_width;
		oh = (uint32_t)(((uint64_t)h * ow + w / 2) / w);
		oh = oh == 0 ? 1 : oh;
	}
	row = malloc((size_t)ow * 3);
	if (row == NULL) {
		return ZT_ERR_NOMEM;
	}
	rc = write_png(fb, w, h, stride, ow, oh, row, &s);
	if (rc == 0) {
		out->data = s.p;
		out->len = s.len;
		out->width = ow;
		out->height = oh;
		out->scale = (double)ow / (double)w;
		s.p = NULL;
	}
	free(s.p);
	free(row);
	return rc;
}

void rdp_png_clear(struct rdp_png *out)
{
	if (out == NULL) {
		return;
	}
	free(out->data);
	memset(out, 0, sizeof(*out));
}
