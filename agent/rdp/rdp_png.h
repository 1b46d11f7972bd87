/*
 * rdp_png.h - the RDP helper's screenshots: a BGRX32 framebuffer, scaled
 * down to a maximum width (box filter, aspect ratio kept), as an 8-bit RGB
 * PNG in memory. Tuned for speed (zlib level 1, the Sub filter): a warm
 * screenshot must cost little.
 */
#ifndef ZT_RDP_PNG_H
#define ZT_RDP_PNG_H

#include <stddef.h>
#include <stdint.h>

/* The most a PNG may take (the desktop protocol's body limit). */
#define RDP_PNG_MAX (32u * 1024 * 1024)

struct rdp_png {
	unsigned char *data; /* owned: free() */
	size_t len;
	uint32_t width, height;
	double scale; /* width / the framebuffer's width (1.0: full size) */
};

/* Encodes fb (w x h pixels, B,G,R,X bytes, stride bytes a row) scaled so
 * that it is at most max_width wide (0, or max_width >= w: full size) into
 * *out. 0, ZT_ERR_INVALID (no pixels), ZT_ERR_NOMEM, ZT_ERR_TOO_LARGE,
 * ZT_ERR_INTERNAL (libpng refused). */
int rdp_png_encode(const uint8_t *fb, uint32_t w, uint32_t h, uint32_t stride, uint32_t max_width,
    struct rdp_png *out);
/* Frees out->data and zeroes *out; NULL-safe. */
void rdp_png_clear(struct rdp_png *out);

#endif
