/*
 * fuzz/tun_frame.c - libFuzzer harness for tunnel/tun's frame reader and
 * message decoder.
 *
 * Input: the first byte seeds the chunking, the rest is a byte stream. The
 * stream is fed to one reader in chunks whose sizes come from a small
 * generator seeded by that byte (1 byte up to a few KiB, so frames split
 * at every kind of boundary); every complete frame is decoded as a
 * message. A decoded message must encode again and decode to the same
 * type: what the decoder accepts, the encoder must not refuse. A host key it
 * accepts has a canonical spelling and a fingerprint; labels it accepts
 * have their stored and printed forms. A poisoned reader
 * must stay poisoned and take no more bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "tunnel/tun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void decode_frame(const uint8_t *p, size_t n)
{
	struct tun_msg m, back;
	struct buf *b = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	memset(&back, 0, sizeof(back));
	r = tun_msg_decode(p, n, &m);
	if (r != 0) {
		check(r < 0 && m.type == TUN_NONE && m.why[0] != '\0');
		return;
	}
	check(m.type != TUN_NONE);
	b = buf_new(TUN_HDR_LEN + TUN_FRAME_MAX);
	check(b != NULL);
	check(tun_msg_encode(&m, b) == 0);
	check(buf_len(b) > TUN_HDR_LEN);
	check(tun_msg_decode(buf_ptr(b) + TUN_HDR_LEN, buf_len(b) - TUN_HDR_LEN, &back) == 0);
	check(back.type == m.type && back.nlabels == m.nlabels && back.seq == m.seq);
	check(back.nresources == m.nresources);
	for (size_t i = 0; i < m.nresources; i++) {
		/* A host key the decoder took has one canonical spelling, which
		 * is a host key too, and a fingerprint. */
		char canon[TUN_HOSTKEY_MAX + 1], again[TUN_HOSTKEY_MAX + 1], fp[TUN_HOSTKEY_FP_MAX];

		if (m.resources[i].host_key[0] == '\0') {
			continue;
		}
		check(tun_hostkey_canonical(m.resources[i].host_key, canon, sizeof(canon)) == 0);
		check(tun_hostkey_canonical(canon, again, sizeof(again)) == 0);
		check(strcmp(canon, again) == 0);
		check(tun_hostkey_fingerprint(m.resources[i].host_key, fp, sizeof(fp)) == 0);
	}
	if (m.nresources > 0) {
		/* Resources the decoder took have a stored form that reads back
		 * as a list as long. */
		static char json[TUN_RESOURCES_JSON_MAX + 1];
		static struct tun_resource rs[TUN_RESOURCES_MAX];
		char why[TUN_WHY_MAX];
		size_t n = 0;

		check(tun_resources_json_text(m.resources, m.nresources, json, sizeof(json)) == 0);
		check(tun_resources_from_json_text(json, rs, &n, why, sizeof(why)) == 0);
		check(n == m.nresources);
	}
	if (m.nlabels > 0) {
		/* Labels the decoder took have a stored form that reads back
		 * as a set as large, and a form for people within its bound. */
		char json[TUN_LABELS_JSON_MAX + 1], text[TUN_LABELS_TEXT_MAX], why[TUN_WHY_MAX];
		struct tun_label l[TUN_LABELS_MAX];
		size_t n = 0;

		check(tun_labels_json_text(m.labels, m.nlabels, json, sizeof(json)) == 0);
		check(tun_labels_from_json_text(json, l, &n, why, sizeof(why)) == 0);
		check(n == m.nlabels);
		check(tun_labels_format(m.labels, m.nlabels, text, sizeof(text)) == 0);
	}
	tun_msg_clear(&back);
	tun_msg_clear(&m);
	buf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_reader *r = NULL;
	const uint8_t *f = NULL;
	uint32_t x;
	size_t off = 1, used = 0, chunk, fn = 0;
	int rc = 0;

	if (size < 1) {
		return 0;
	}
	x = 0x9e3779b9u ^ data[0];
	check(tun_reader_new(&r) == 0);
	while (off < size) {
		/* xorshift32: cheap, deterministic per input. */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		chunk = (x & 0x100) ? 1 + (x % 7) : 1 + (x % 4096);
		chunk = chunk < size - off ? chunk : size - off;
		while (chunk > 0) {
			rc = tun_reader_feed(r, data + off, chunk, &used);
			check(used <= chunk);
			off += used;
			chunk -= used;
			if (rc < 0) {
				check(rc == ZT_ERR_PROTOCOL || rc == ZT_ERR_TOO_LARGE);
				check(tun_reader_feed(r, data, size, &used) == rc && used == 0);
				check(tun_reader_eof(r) == rc);
				goto out;
			}
			if (rc == 1) {
				check(tun_reader_frame(r, &f, &fn) == 0);
				check(fn >= 1 && fn <= TUN_FRAME_MAX);
				decode_frame(f, fn);
			} else {
				check(chunk == 0);
			}
		}
	}
	rc = tun_reader_eof(r);
	check(rc == 0 || rc == ZT_ERR_TRUNCATED);
out:
	tun_reader_free(r);
	return 0;
}
