/*
 * cli_rdp_test.c - `ztctl rdp` without a broker: its arguments (strict
 * X,Y, one action per run, what goes with what), the tool call each run
 * makes, and the screenshot written from a tool result (a PNG, its sha256
 * checked, mode 0600).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_cmd_rdp.h"
#include "common/crypto.h"
#include "common/err.h"

/* Parses the words of argv (NULL-terminated, "rdp" first). */
static int parse(struct cli_rdp_args *a, const char **words)
{
	char *argv[16];
	int argc = 0;

	while (words[argc] != NULL) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	return cli_rdp_parse(argc, argv, a);
}

#define PARSE(a, ...) parse(a, (const char *[]){ "rdp", __VA_ARGS__, NULL })

static void test_xy(void **state)
{
	static const char *const bad[] = { "", ",", "1,", ",2", "1,2,3", "-1,2", "1, 2", "+1,2",
	    "1;2", "32768,0", "0,99999", "000001,1", "1.5,2", "1,2 ", "a,b" };
	int x = -1, y = -1;
	size_t i;

	(void)state;
	assert_int_equal(cli_rdp_parse_xy("120,45", &x, &y), 0);
	assert_int_equal(x, 120);
	assert_int_equal(y, 45);
	assert_int_equal(cli_rdp_parse_xy("0,32767", &x, &y), 0);
	assert_int_equal(y, 32767);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_rdp_parse_xy(bad[i], &x, &y) != ZT_ERR_INVALID) {
			fail_msg("\"%s\" was taken", bad[i]);
		}
	}
}

static void test_parse_and_tool_args(void **state)
{
	struct cli_rdp_args a;
	const char *tool = NULL;
	cJSON *args;
	char *s;

	(void)state;
	assert_int_equal(PARSE(&a, "win1", "--screenshot", "s.png", "--max-width", "800"),
	    CLI_EXIT_OK);
	assert_int_equal(a.action, CLI_RDP_SCREENSHOT);
	args = cli_rdp_tool_args(&a, &tool);
	s = cJSON_PrintUnformatted(args);
	assert_string_equal(tool, "rdp_screenshot");
	assert_string_equal(s, "{\"host\":\"win1\",\"max_width\":800}");
	free(s);
	cJSON_Delete(args);

	assert_int_equal(PARSE(&a, "--click", "10,20", "win1", "--button", "right", "--double",
	    "--screenshot", "s.png"), CLI_EXIT_OK);
	args = cli_rdp_tool_args(&a, &tool);
	s = cJSON_PrintUnformatted(args);
	assert_string_equal(tool, "rdp_click");
	assert_string_equal(s, "{\"host\":\"win1\",\"x\":10,\"y\":20,\"button\":\"right\","
	    "\"double\":true,\"screenshot\":true}");
	free(s);
	cJSON_Delete(args);

	assert_int_equal(PARSE(&a, "win1", "--type", "echo hi > /tmp/f\n"), CLI_EXIT_OK);
	args = cli_rdp_tool_args(&a, &tool);
	s = cJSON_PrintUnformatted(args);
	assert_string_equal(tool, "rdp_type");
	assert_string_equal(s, "{\"host\":\"win1\",\"text\":\"echo hi > /tmp/f\\n\"}");
	free(s);
	cJSON_Delete(args);

	assert_int_equal(PARSE(&a, "win1", "--key", "ctrl+alt+del", "--screenshot", "s.png"),
	    CLI_EXIT_OK);
	args = cli_rdp_tool_args(&a, &tool);
	s = cJSON_PrintUnformatted(args);
	assert_string_equal(tool, "rdp_key");
	assert_string_equal(s, "{\"host\":\"win1\",\"keys\":\"ctrl+alt+del\",\"screenshot\":true}");
	free(s);
	cJSON_Delete(args);
}

static void test_parse_refused(void **state)
{
	struct cli_rdp_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--screenshot", "s.png"), CLI_EXIT_USAGE);           /* no host */
	assert_int_equal(PARSE(&a, "win1"), CLI_EXIT_USAGE);                           /* no action */
	assert_int_equal(PARSE(&a, "win1", "--click", "1,2", "--type", "x"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--key", "a", "--type", "x"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--click", "1,x"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--click", "1,2", "--button", "LEFT"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--type", "x", "--double"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--key", "a", "--max-width", "9"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--screenshot", "s", "--max-width", "0"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--screenshot", "s", "--max-width", "8x"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--screenshot", ""), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--key", "ctrl+foo"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--type", "a\rb"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "--screenshot", "s", "--bogus"), CLI_EXIT_USAGE);
	assert_int_equal(PARSE(&a, "win1", "win2", "--screenshot", "s"), CLI_EXIT_USAGE);
}

/* A tool result with the image item png[0..n) and, if sha not NULL, that
 * sha256 in structuredContent. */
static cJSON *result_with(const uint8_t *png, size_t n, const char *sha)
{
	cJSON *r = cJSON_CreateObject(), *content = cJSON_AddArrayToObject(r, "content");
	cJSON *img = cJSON_CreateObject(), *text = cJSON_CreateObject(), *sc;
	char *b64 = crypto_b64_dup(png, n);

	assert_non_null(b64);
	cJSON_AddStringToObject(text, "type", "text");
	cJSON_AddStringToObject(text, "text", "clicked");
	cJSON_AddItemToArray(content, text);
	cJSON_AddStringToObject(img, "type", "image");
	cJSON_AddStringToObject(img, "data", b64);
	cJSON_AddStringToObject(img, "mimeType", "image/png");
	cJSON_AddItemToArray(content, img);
	sc = cJSON_AddObjectToObject(r, "structuredContent");
	cJSON_AddNumberToObject(sc, "width", 640);
	if (sha != NULL) {
		cJSON_AddStringToObject(sc, "sha256", sha);
	}
	free(b64);
	return r;
}

static void test_save_png(void **state)
{
	/* signature, IHDR of 640x480, and a few more bytes */
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
	    'I', 'H', 'D', 'R', 0, 0, 2, 0x80, 0, 0, 1, 0xe0, 8, 2, 0, 0, 0, 1, 2, 3, 4 };
	char dir[] = "/tmp/zt-rdp-test-XXXXXX", path[64], line[128], err[256], want[128];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t md[CRYPTO_SHA256_LEN], got[64];
	struct stat st;
	cJSON *r;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.png", dir);
	crypto_sha256(png, sizeof(png), md);
	assert_int_equal(crypto_hex(md, sizeof(md), hex, sizeof(hex)), 0);

	r = result_with(png, sizeof(png), hex);
	assert_int_equal(cli_rdp_save_png(r, path, line, sizeof(line), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "wrote %s (640x480, %zu bytes)", path, sizeof(png));
	assert_string_equal(line, want);
	cJSON_Delete(r);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got), f), sizeof(png));
	fclose(f);
	assert_memory_equal(got, png, sizeof(png));
	assert_int_equal(unlink(path), 0);

	/* a sha256 that does not match: nothing written */
	hex[0] = hex[0] == '0' ? '1' : '0';
	r = result_with(png, sizeof(png), hex);
	assert_int_equal(cli_rdp_save_png(r, path, line, sizeof(line), err, sizeof(err)),
	    ZT_ERR_TAMPERED);
	assert_int_not_equal(access(path, F_OK), 0);
	cJSON_Delete(r);

	/* not a PNG */
	r = result_with((const uint8_t *)"GIF89a and more bytes than 24 here", 34, NULL);
	assert_int_equal(cli_rdp_save_png(r, path, line, sizeof(line), err, sizeof(err)),
	    ZT_ERR_INVALID);
	cJSON_Delete(r);

	/* no image item at all */
	r = cJSON_Parse("{\"content\":[{\"type\":\"text\",\"text\":\"clicked\"}]}");
	assert_int_equal(cli_rdp_save_png(r, path, line, sizeof(line), err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "no screenshot"));
	cJSON_Delete(r);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xy),
		cmocka_unit_test(test_parse_and_tool_args),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_save_png),
	};

	return cmocka_run_group_tests_name("cli_rdp", tests, NULL, NULL);
}
