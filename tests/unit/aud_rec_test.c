/*
 * aud_rec_test.c - unit tests for audit/aud_rec: a recording written and
 * read back line by line (header, output split inside a character, bytes
 * that are no UTF-8, input, a resize), its size and SHA-256 against the
 * file's, 0600 and O_EXCL, and the readers' refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "audit/aud_rec.h"
#include "common/crypto.h"
#include "common/err.h"
#include "testutil.h"

struct fixture {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "rec"), 0);
	snprintf(f->path, sizeof(f->path), "%s/s1.cast", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* The file's lines (owned array of owned strings), *n of them. */
static char **lines(const char *path, size_t *n, uint8_t **all, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char **out = calloc(64, sizeof(*out));
	size_t k = 0, at = 0;

	assert_non_null(fp);
	*all = malloc(1 << 16);
	*len = fread(*all, 1, 1 << 16, fp);
	fclose(fp);
	for (size_t i = 0; i < *len; i++) {
		if ((*all)[i] == '\n') {
			out[k] = strndup((char *)*all + at, i - at);
			k++;
			at = i + 1;
		}
	}
	assert_int_equal(at, *len);                 /* every line ends */
	*n = k;
	return out;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct aud_rec_head h = { .width = 80, .height = 24, .timestamp = 1764900000 };
	struct aud_rec_head back;
	struct aud_rec *r = NULL;
	struct aud_rec_event ev;
	char sha[CRYPTO_SHA256_HEX_LEN + 1], file_sha[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t d[CRYPTO_SHA256_LEN], *all = NULL;
	uint64_t bytes = 0;
	size_t n = 0, len = 0;
	struct stat st;
	char **l;
	cJSON *hold = NULL;
	(void)state;

	snprintf(h.term, sizeof(h.term), "xterm-256color");
	snprintf(h.title, sizeof(h.title), "alice@web1");
	assert_int_equal(aud_rec_open(f->path, &h, &r), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(aud_rec_output(r, 10, "hi \xc3", 4), 0);      /* é cut in two */
	assert_int_equal(aud_rec_output(r, 20, "\xa9!", 2), 0);
	assert_int_equal(aud_rec_output(r, 30, "a\xff" "b\0c", 5), 0); /* no UTF-8, a NUL */
	assert_int_equal(aud_rec_input(r, 40, "ls\r", 3), 0);
	assert_int_equal(aud_rec_resize(r, 50, 120, 40), 0);
	assert_int_equal(aud_rec_resize(r, 50, 0, 40), ZT_ERR_INVALID);
	assert_int_equal(aud_rec_output(r, 45, "\xe2\x82", 2), 0);   /* earlier: kept at 50 */
	assert_int_equal(aud_rec_close(r, &bytes, sha), 0);

	l = lines(f->path, &n, &all, &len);
	assert_int_equal(bytes, len);
	crypto_sha256(all, len, d);
	crypto_hex(d, sizeof(d), file_sha, sizeof(file_sha));
	assert_string_equal(sha, file_sha);
	assert_int_equal(n, 7);
	assert_int_equal(aud_rec_parse_header(l[0], strlen(l[0]), &back), 0);
	assert_int_equal(back.width, 80);
	assert_int_equal(back.height, 24);
	assert_int_equal(back.timestamp, 1764900000);
	assert_string_equal(back.term, "xterm-256color");
	assert_string_equal(back.title, "alice@web1");
	{
		static const struct { double t; char code; const char *data; } want[] = {
			{ 0.01, 'o', "hi " },
			{ 0.02, 'o', "\xc3\xa9!" },
			{ 0.03, 'o', "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c" },
			{ 0.04, 'i', "ls\r" },
			{ 0.05, 'r', "120x40" },
			{ 0.05, 'o', "\xef\xbf\xbd" },  /* the unfinished € at the close */
		};

		for (size_t i = 0; i < 6; i++) {
			assert_int_equal(aud_rec_parse_event(l[1 + i], strlen(l[1 + i]), &hold, &ev), 0);
			assert_true(ev.t > want[i].t - 1e-9 && ev.t < want[i].t + 1e-9);
			assert_int_equal(ev.code, want[i].code);
			assert_string_equal(ev.data, want[i].data);
			cJSON_Delete(hold);
		}
	}
	/* Made once: a second open of the same path is refused. */
	assert_int_equal(aud_rec_open(f->path, &h, &r), ZT_ERR_EXISTS);
	for (size_t i = 0; i < n; i++) {
		free(l[i]);
	}
	free(l);
	free(all);
}

static void test_refusals(void **state)
{
	static const char *const heads[] = {
		"{\"version\":1,\"width\":80,\"height\":24}",
		"{\"version\":2,\"width\":0,\"height\":24}",
		"{\"version\":2,\"width\":80}",
		"[2,80,24]",
		"{\"version\":2,\"width\":80,\"height\":24,\"env\":{\"TERM\":7}}",
		"{\"version\":2,\"width\":80,\"height\":24",
	};
	static const char *const events[] = {
		"[0.1,\"x\",\"a\"]",
		"[-1,\"o\",\"a\"]",
		"[0.1,\"o\"]",
		"[0.1,\"o\",\"a\",1]",
		"[0.1,\"oo\",\"a\"]",
		"[\"0.1\",\"o\",\"a\"]",
		"[0.1,\"o\",7]",
		"{\"t\":1}",
	};
	struct fixture *f = *state;
	struct aud_rec_head h = { .width = 80, .height = 24 }, back;
	struct aud_rec_event ev;
	struct aud_rec *r = NULL;
	cJSON *hold = NULL;

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		if (aud_rec_parse_header(heads[i], strlen(heads[i]), &back) != ZT_ERR_INVALID) {
			fail_msg("header accepted: %s", heads[i]);
		}
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (aud_rec_parse_event(events[i], strlen(events[i]), &hold, &ev) != ZT_ERR_INVALID ||
		    hold != NULL) {
			fail_msg("event accepted: %s", events[i]);
		}
	}
	/* A header zt would not write is not written. */
	snprintf(h.term, sizeof(h.term), "x\ty");
	assert_int_equal(aud_rec_open(f->path, &h, &r), ZT_ERR_INVALID);
	h.term[0] = '\0';
	h.width = AUD_REC_DIM_MAX + 1;
	assert_int_equal(aud_rec_open(f->path, &h, &r), ZT_ERR_INVALID);
	assert_int_equal(aud_rec_close(NULL, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
