/*
 * cli_cmd_rdp.c - `ztctl rdp` (cli_cmd_rdp.h): one rdp_* tool call on the
 * broker's MCP endpoint, and the screenshot it returns written to a file.
 *
 * The image arrives as base64 inside the tool result (bounded by the MCP
 * client's message limit); it must be a PNG, and when the result carries
 * its SHA-256 the bytes must match it, before anything is written. The
 * file is replaced atomically, mode 0600, so a script polling it never
 * reads half a screen.
 */
#include "cli/cli_cmd_rdp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_args.h"
#include "cli/cli_cmd_approve.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_tool.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/file.h"
#include "common/json.h"
#include "resources/rdp_input.h"

#define ERR_MAX 2048
#define XY_DIGITS 5          /* digits of one coordinate: up to 32767 */
#define PNG_HEAD 24          /* signature, IHDR length and type, width, height */

static const char usage[] =
    "usage: ztctl rdp HOST --screenshot FILE [--max-width N]\n"
    "       ztctl rdp HOST --click X,Y [--button left|right|middle] [--double]\n"
    "                      [--screenshot FILE]\n"
    "       ztctl rdp HOST --type TEXT [--screenshot FILE]\n"
    "       ztctl rdp HOST --key COMBO [--screenshot FILE]\n"
    "  One call on a remote desktop through the broker (rdp_screenshot, rdp_click,\n"
    "  rdp_type, rdp_key), decided by your roles and audited as any call. X,Y are\n"
    "  pixels of the screenshot; COMBO is like Return, ctrl+c, alt+F4, ctrl+alt+del.\n"
    "  --screenshot writes the screen (after the action, if any) as a PNG, mode\n"
    "  0600; --max-width scales it down. A call held for your MFA step-up asks for\n"
    "  a one-time code when standard input is a terminal.\n";

enum { A_SHOT = 1, A_MAXW, A_CLICK, A_BUTTON, A_DOUBLE, A_TYPE, A_KEY, A_HELP };

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ztctl rdp: <message>" on stderr. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ztctl rdp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- arguments ---- */

/* Strict decimal p[0..n), 1..XY_DIGITS digits, at most max: 0 or -1. */
static int digits(const char *p, size_t n, int max, int *out)
{
	size_t i;
	int v = 0;

	if (n == 0 || n > XY_DIGITS) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		v = v * 10 + (p[i] - '0');
	}
	if (v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

int cli_rdp_parse_xy(const char *s, int *x, int *y)
{
	const char *comma = strchr(s, ',');

	if (comma == NULL || digits(s, (size_t)(comma - s), RDP_INPUT_COORD_MAX, x) != 0 ||
	    digits(comma + 1, strlen(comma + 1), RDP_INPUT_COORD_MAX, y) != 0) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* Checks text or keys as rdp_input does: 0, or -1 after saying why. */
static int check_input(int (*fn)(const char *, cJSON *, char *, size_t), const char *arg,
    const char *opt)
{
	char err[256];
	cJSON *ev = cJSON_CreateArray();
	int r;

	if (ev == NULL) {
		fail("out of memory");
		return -1;
	}
	r = fn(arg, ev, err, sizeof(err));
	cJSON_Delete(ev);
	if (r != 0) {
		cli_fail("rdp: %s: %s", opt, r == ZT_ERR_NOMEM ? "out of memory" : err);
		return -1;
	}
	return 0;
}

int cli_rdp_parse(int argc, char **argv, struct cli_rdp_args *a)
{
	static const struct option longopts[] = {
		{"screenshot", required_argument, NULL, A_SHOT},
		{"max-width", required_argument, NULL, A_MAXW},
		{"click", required_argument, NULL, A_CLICK},
		{"button", required_argument, NULL, A_BUTTON},
		{"double", no_argument, NULL, A_DOUBLE},
		{"type", required_argument, NULL, A_TYPE},
		{"key", required_argument, NULL, A_KEY},
		{"help", no_argument, NULL, A_HELP},
		{NULL, 0, NULL, 0},
	};
	struct cli_args args;
	const char *click;
	int r, actions;

	memset(a, 0, sizeof(*a));
	r = cli_args_parse(argc, argv, longopts, A_HELP, (1u << A_HELP) - 2,
	    "which host? (ztctl ls shows them)", usage, &args);
	if (r != CLI_EXIT_OK) {
		return r;
	}
	a->host = args.word;
	a->screenshot = CLI_ARG(&args, A_SHOT);
	a->button = CLI_ARG(&args, A_BUTTON);
	a->dbl = CLI_ARG(&args, A_DOUBLE) != NULL;
	a->text = CLI_ARG(&args, A_TYPE);
	a->keys = CLI_ARG(&args, A_KEY);
	click = CLI_ARG(&args, A_CLICK);
	actions = (click != NULL) + (a->text != NULL) + (a->keys != NULL);
	if (a->host[0] == '\0') {
		cli_fail("rdp: the host name is empty");
		goto usage;
	}
	if (actions > 1) {
		cli_fail("rdp: one action per run: --click, --type or --key");
		goto usage;
	}
	if (actions == 0 && a->screenshot == NULL) {
		cli_fail("rdp: nothing to do: give --screenshot FILE, --click X,Y, --type TEXT "
		    "or --key COMBO");
		goto usage;
	}
	if (a->screenshot != NULL && a->screenshot[0] == '\0') {
		cli_fail("rdp: --screenshot needs a file name");
		goto usage;
	}
	if (CLI_ARG(&args, A_MAXW) != NULL) {
		if (actions > 0) {
			cli_fail("rdp: --max-width goes with --screenshot alone");
			goto usage;
		}
		if (digits(CLI_ARG(&args, A_MAXW), strlen(CLI_ARG(&args, A_MAXW)),
		    RDP_INPUT_COORD_MAX, &a->max_width) != 0 || a->max_width < RDP_SHOT_WIDTH_MIN) {
			cli_fail("rdp: --max-width wants pixels, %d..%d", RDP_SHOT_WIDTH_MIN,
			    RDP_INPUT_COORD_MAX);
			goto usage;
		}
	}
	if ((a->button != NULL || a->dbl) && click == NULL) {
		cli_fail("rdp: --button and --double go with --click");
		goto usage;
	}
	if (a->button != NULL && strcmp(a->button, "left") != 0 &&
	    strcmp(a->button, "right") != 0 && strcmp(a->button, "middle") != 0) {
		cli_fail("rdp: --button is left, right or middle");
		goto usage;
	}
	if (click != NULL) {
		a->action = CLI_RDP_CLICK;
		if (cli_rdp_parse_xy(click, &a->x, &a->y) != 0) {
			cli_fail("rdp: --click wants X,Y: two numbers 0..%d and a comma, like 120,45",
			    RDP_INPUT_COORD_MAX);
			goto usage;
		}
	} else if (a->text != NULL) {
		a->action = CLI_RDP_TYPE;
		if (check_input(rdp_input_text, a->text, "--type") != 0) {
			goto usage;
		}
	} else if (a->keys != NULL) {
		a->action = CLI_RDP_KEY;
		if (check_input(rdp_input_keys, a->keys, "--key") != 0) {
			goto usage;
		}
	} else {
		a->action = CLI_RDP_SCREENSHOT;
	}
	return CLI_EXIT_OK;
usage:
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

/* ---- the call ---- */

cJSON *cli_rdp_tool_args(const struct cli_rdp_args *a, const char **tool)
{
	cJSON *o = cJSON_CreateObject();
	int ok;

	static const char *const tools[] = {
		[CLI_RDP_SCREENSHOT] = "rdp_screenshot", [CLI_RDP_CLICK] = "rdp_click",
		[CLI_RDP_TYPE] = "rdp_type", [CLI_RDP_KEY] = "rdp_key",
	};

	*tool = tools[a->action];
	ok = o != NULL && cJSON_AddStringToObject(o, "host", a->host) != NULL;
	switch (a->action) {
	case CLI_RDP_SCREENSHOT:
		ok = ok && (a->max_width == 0 ||
		    cJSON_AddNumberToObject(o, "max_width", a->max_width) != NULL);
		break;
	case CLI_RDP_CLICK:
		ok = ok && cJSON_AddNumberToObject(o, "x", a->x) != NULL &&
		    cJSON_AddNumberToObject(o, "y", a->y) != NULL &&
		    (a->button == NULL || cJSON_AddStringToObject(o, "button", a->button) != NULL) &&
		    (!a->dbl || cJSON_AddTrueToObject(o, "double") != NULL);
		break;
	case CLI_RDP_TYPE:
		ok = ok && cJSON_AddStringToObject(o, "text", a->text) != NULL;
		break;
	case CLI_RDP_KEY:
		ok = ok && cJSON_AddStringToObject(o, "keys", a->keys) != NULL;
		break;
	}
	if (ok && a->action != CLI_RDP_SCREENSHOT && a->screenshot != NULL) {
		ok = cJSON_AddTrueToObject(o, "screenshot") != NULL;
	}
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int cli_rdp_save_png(const cJSON *result, const char *file, char *line, size_t linesz,
    char *err, size_t errsz)
{
	static const uint8_t sig[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
	    'I', 'H', 'D', 'R' };
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content"), *item, *img = NULL;
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(result, "structuredContent");
	const char *data = NULL, *mime = NULL, *want = NULL;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t *png = NULL, md[CRYPTO_SHA256_LEN];
	size_t n = 0;
	int r;

	cJSON_ArrayForEach(item, content) {
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "type"));

		if (t != NULL && strcmp(t, "image") == 0) {
			img = item;
			break;
		}
	}
	if (img == NULL) {
		snprintf(err, errsz, "the broker's answer holds no screenshot");
		r = ZT_ERR_NOT_FOUND;
		goto out;
	}
	if (json_get_str(img, "mimeType", 64, 0, &mime) != 0 || strcmp(mime, "image/png") != 0 ||
	    json_get_str(img, "data", CLI_TOOL_MSG_MAX, 0, &data) != 0) {
		snprintf(err, errsz, "the broker's screenshot is not a PNG image item");
		r = ZT_ERR_INVALID;
		goto out;
	}
	r = crypto_b64_decode(data, strlen(data), &png, &n);
	if (r == 0 && (n < PNG_HEAD || memcmp(png, sig, sizeof(sig)) != 0)) {
		r = ZT_ERR_INVALID;
	}
	if (r != 0) {
		snprintf(err, errsz, "%s", r == ZT_ERR_NOMEM ? "out of memory" :
		    "the broker's screenshot is not base64 of a PNG");
		goto out;
	}
	if (json_get_str(sc, "sha256", CRYPTO_SHA256_HEX_LEN, 0, &want) == 0) {
		crypto_sha256(png, n, md);
		if (crypto_hex(md, sizeof(md), hex, sizeof(hex)) != 0 || strcasecmp(hex, want) != 0) {
			snprintf(err, errsz, "the screenshot's bytes do not match its sha256; "
			    "nothing was written");
			r = ZT_ERR_TAMPERED;
			goto out;
		}
	}
	if ((r = file_write_atomic(file, png, n, 0600, err, errsz)) != 0) {
		goto out;
	}
	snprintf(line, linesz, "wrote %s (%" PRIu32 "x%" PRIu32 ", %zu bytes)", file,
	    be32(png + 16), be32(png + 20), n);
out:
	free(png);
	return r;
}

/* Calls the tool and handles its answer: CLI_EXIT_OK or CLI_EXIT_FAIL
 * after saying why. */
static int run(struct cli_tool *t, const struct cli_rdp_args *a)
{
	char err[ERR_MAX], text[ERR_MAX];
	const char *tool = NULL;
	cJSON *args = cli_rdp_tool_args(a, &tool), *res = NULL;
	int ret = CLI_EXIT_FAIL;

	if (args == NULL) {
		fail("out of memory");
		goto out;
	}
	if (cli_tool_call(t, tool, args, cli_approve_on_log, (void *)"rdp", &res, err,
	    sizeof(err)) != 0) {
		fail("%s", err);
		goto out;
	}
	cli_tool_text(res, text, sizeof(text));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"))) {
		fail("%s", text[0] != '\0' ? text : "the broker refused the call");
		goto out;
	}
	if (a->screenshot != NULL) {
		if (cli_rdp_save_png(res, a->screenshot, text, sizeof(text), err, sizeof(err)) != 0) {
			fail("%s", err);
			goto out;
		}
		printf("%s\n", cli_clean(text, 0, err, sizeof(err)));
	} else if (text[0] != '\0') {
		printf("%s\n", text);
	}
	ret = CLI_EXIT_OK;
out:
	json_delete_wiped(args);  /* typed text may be a secret */
	cJSON_Delete(res);
	return ret;
}

int cli_cmd_rdp(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX], err[ERR_MAX];
	struct cli_profile *p = NULL;
	struct cli_tool *t = NULL;
	struct cli_rdp_args a;
	int r;

	if ((r = cli_rdp_parse(argc, argv, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if ((r = cli_session_load(dir, sizeof(dir), &p)) != CLI_EXIT_OK) {
		goto out;
	}
	if (cli_tool_open(p, &t, err, sizeof(err)) != 0) {
		fail("%s", err);
		r = CLI_EXIT_FAIL;
		goto out;
	}
	r = run(t, &a);
out:
	cli_tool_close(t);
	cli_profile_free(p);
	return r;
}
