/*
 * cli_cmd_cp.h - `ztctl cp`, a file copy to or from a host through the
 * broker, like scp:
 *
 *   ztctl cp [LOGIN@]HOST:PATH LOCAL     download (LOCAL may be a directory)
 *   ztctl cp LOCAL [LOGIN@]HOST:PATH     upload (PATH ending in / is a directory)
 *
 * It is an MCP client of the broker (cli_tool.h): file_read or file_write
 * with transfer "link", decided, held for a person if a role says so, and
 * audited as any AI's call, then the bytes over the one-time link, streamed
 * from or to the disk. LOGIN defaults to the local user's name.
 *
 * Returns CLI_EXIT_OK, CLI_EXIT_FAIL (one "ztctl cp: ..." line says why;
 * a download leaves LOCAL as it was) or CLI_EXIT_USAGE.
 */
#ifndef ZT_CLI_CMD_CP_H
#define ZT_CLI_CMD_CP_H

int cli_cmd_cp(int argc, char **argv);

#endif
