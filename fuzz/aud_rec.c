/*
 * fuzz/aud_rec.c - libFuzzer harness for audit/aud_rec: the line readers
 * ztctl play uses on a recording it fetched, and the writer's handling of
 * terminal bytes.
 *
 * Input: the first byte chooses. Even: the rest is read as a header line
 * and as an event line; what a reader accepts must be within its bounds.
 * Odd: the rest is terminal output, written to a fresh recording in pieces
 * cut where the input has a 0x1e byte; the file must then read back line
 * by line, each event's data UTF-8, and its size and SHA-256 must be what
 * the writer reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_rec.h"
#include "common/crypto.h"
#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void read_lines(const char *p, size_t n)
{
	struct aud_rec_head h;
	struct aud_rec_event ev;
	cJSON *hold = NULL;

	if (aud_rec_parse_header(p, n, &h) == 0) {
		check(h.width >= 1 && h.width <= AUD_REC_DIM_MAX);
		check(h.height >= 1 && h.height <= AUD_REC_DIM_MAX);
	}
	if (aud_rec_parse_event(p, n, &hold, &ev) == 0) {
		check(hold != NULL && ev.t >= 0 && strchr("oirm", ev.code) != NULL);
		check(strlen(ev.data) == ev.len);
		cJSON_Delete(hold);
	} else {
		check(hold == NULL);
	}
}

static void write_back(const uint8_t *p, size_t n)
{
	static char path[64];
	struct aud_rec_head h = { .width = 80, .height = 24 };
	struct aud_rec *r = NULL;
	struct aud_rec_event ev;
	char sha[CRYPTO_SHA256_HEX_LEN + 1], again[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t d[CRYPTO_SHA256_LEN], *all;
	uint64_t bytes = 0;
	size_t at = 0, len, k, lines = 0;
	cJSON *hold;
	FILE *fp;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/zt-fuzz-rec-%d.cast", (int)getpid());
	}
	unlink(path);
	check(aud_rec_open(path, &h, &r) == 0);
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == 0x1e) {
			check(aud_rec_output(r, (int64_t)i, p + at, i - at) == 0);
			at = i + 1;
		}
	}
	check(aud_rec_close(r, &bytes, sha) == 0);
	check((fp = fopen(path, "rb")) != NULL);
	check((all = malloc(bytes + 1)) != NULL);
	len = fread(all, 1, bytes + 1, fp);
	fclose(fp);
	unlink(path);
	check(len == bytes);
	crypto_sha256(all, len, d);
	crypto_hex(d, sizeof(d), again, sizeof(again));
	check(strcmp(sha, again) == 0);
	for (at = 0, k = 0; k < len; k++) {
		if (all[k] != '\n') {
			continue;
		}
		if (lines++ == 0) {
			struct aud_rec_head back;

			check(aud_rec_parse_header((char *)all + at, k - at, &back) == 0);
		} else {
			check(aud_rec_parse_event((char *)all + at, k - at, &hold, &ev) == 0);
			check(ev.code == 'o' && ev.len > 0 && json_utf8_text(ev.data, ev.len));
			cJSON_Delete(hold);
		}
		at = k + 1;
	}
	check(at == len && lines >= 1);
	free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536) {
		return 0;
	}
	if (data[0] & 1) {
		write_back(data + 1, size - 1);
	} else {
		read_lines((const char *)data + 1, size - 1);
	}
	return 0;
}
