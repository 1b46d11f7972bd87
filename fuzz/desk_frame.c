/*
 * fuzz/desk_frame.c - libFuzzer harness for tunnel/desk's frame parser.
 *
 * Parses frames from the input one after another until one fails. A frame
 * desk_parse accepts must take between 9 bytes and the rest of the input,
 * have an object head, and write again (desk_write over a pipe) into bytes
 * that parse to the same body; a failure must be TRUNCATED or PROTOCOL and
 * leave the frame empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "tunnel/desk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* The frame written and parsed again (small bodies only: a pipe holds 64 KiB). */
static void rewrite(const struct desk_frame *f)
{
	struct desk_frame g;
	int p[2];

	if (f->body_len > 4096) {
		return;
	}
	check(pipe(p) == 0);
	if (desk_write(p[1], f->head, f->body, f->body_len) == 0) {
		close(p[1]);
		check(desk_read(p[0], 0, &g) == 0);
		check(g.body_len == f->body_len);
		check(g.body_len == 0 || memcmp(g.body, f->body, g.body_len) == 0);
		check(cJSON_IsObject(g.head));
		desk_frame_clear(&g);
	} else {
		close(p[1]);
	}
	close(p[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct desk_frame f;
		size_t used = 0;
		int rc = desk_parse(data + off, size - off, &f, &used);

		if (rc != 0) {
			check(rc == ZT_ERR_TRUNCATED || rc == ZT_ERR_PROTOCOL);
			check(f.head == NULL && f.body == NULL && used == 0);
			break;
		}
		check(used >= 9 && used <= size - off);
		check(cJSON_IsObject(f.head));
		check(f.body_len <= used - 9 && used - 8 - f.body_len <= DESK_HEAD_MAX);
		rewrite(&f);
		desk_frame_clear(&f);
		off += used;
	}
	return 0;
}
