/*
 * cli_cmd_rdp.h - `ztctl rdp`, a remote desktop through the broker's rdp_*
 * tools, for people and scripts:
 *
 *   ztctl rdp HOST --screenshot FILE [--max-width N]
 *   ztctl rdp HOST --click X,Y [--button left|right|middle] [--double] [--screenshot FILE]
 *   ztctl rdp HOST --type TEXT [--screenshot FILE]
 *   ztctl rdp HOST --key COMBO [--screenshot FILE]
 *
 * It is an MCP client of the broker (cli_tool.h), as `ztctl cp` is: one
 * tool call per run (rdp_screenshot, rdp_click, rdp_type or rdp_key),
 * decided, held for a person if a role says so, and audited as any AI's
 * call. An action with --screenshot asks the tool for the screen after it
 * ("screenshot": true). The PNG is written atomically with mode 0600 (a
 * screen may show secrets), and one line says "wrote FILE (WxH, N bytes)".
 *
 * The parts below cli_cmd_rdp() are exposed for the unit test.
 */
#ifndef ZT_CLI_CMD_RDP_H
#define ZT_CLI_CMD_RDP_H

#include <stddef.h>
#include <cjson/cJSON.h>

enum cli_rdp_action {
	CLI_RDP_SCREENSHOT,  /* --screenshot alone */
	CLI_RDP_CLICK,
	CLI_RDP_TYPE,
	CLI_RDP_KEY,
};

/* A run's arguments; strings are borrowed from argv. */
struct cli_rdp_args {
	enum cli_rdp_action action;
	const char *host;
	const char *screenshot;  /* the PNG to write; NULL: none (an action alone) */
	int max_width;           /* --max-width; 0 when not given */
	int x, y;                /* --click */
	const char *button;      /* --button; NULL when not given */
	int dbl;                 /* --double */
	const char *text;        /* --type */
	const char *keys;        /* --key */
};

/* `ztctl rdp` (argv[0] is "rdp"): CLI_EXIT_OK, CLI_EXIT_FAIL (one
 * "ztctl rdp: ..." line says why: a tool error's text, or what failed)
 * or CLI_EXIT_USAGE. */
int cli_cmd_rdp(int argc, char **argv);

/* Parses argv into *a: CLI_EXIT_OK, -1 after --help (usage on stdout), or
 * CLI_EXIT_USAGE after one "ztctl: rdp: ..." line and the usage on
 * stderr. Text and keys are checked as the broker will check them
 * (resources/rdp_input.h), so a typo is caught before any call. */
int cli_rdp_parse(int argc, char **argv, struct cli_rdp_args *a);

/* Strict "X,Y": decimal digits, one comma, each 0..RDP_INPUT_COORD_MAX.
 * 0 or ZT_ERR_INVALID. */
int cli_rdp_parse_xy(const char *s, int *x, int *y);

/* The tool a's run calls (*tool, static) and its arguments (owned; NULL on
 * ENOMEM). */
cJSON *cli_rdp_tool_args(const struct cli_rdp_args *a, const char **tool);

/* Writes the PNG of a tool result's image content to file (atomic, 0600)
 * after checking it is a PNG and, when structuredContent has "sha256",
 * that it matches. 0 with "wrote FILE (WxH, N bytes)" in line, or a
 * negative ZT_ERR_* with a sentence in err: ZT_ERR_NOT_FOUND (no image),
 * ZT_ERR_INVALID (not base64 of a PNG), ZT_ERR_TAMPERED (sha256 differs),
 * or what writing failed with. */
int cli_rdp_save_png(const cJSON *result, const char *file, char *line, size_t linesz,
    char *err, size_t errsz);

#endif
