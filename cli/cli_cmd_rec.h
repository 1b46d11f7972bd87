/*
 * cli_cmd_rec.h - `ztctl recordings ls` and `ztctl play`: the recorded
 * interactive sessions the logged-in identity may see (its own; all of
 * them for an auditor or administrator), and one replayed on the terminal.
 *
 * Each takes the command's own argv and returns CLI_EXIT_OK, CLI_EXIT_FAIL
 * (one "ztctl: ..." line says why) or CLI_EXIT_USAGE.
 */
#ifndef ZT_CLI_CMD_REC_H
#define ZT_CLI_CMD_REC_H

#define CLI_PLAY_IDLE_MAX_S 2.0  /* the longest pause play keeps (asciinema's idle limit) */

int cli_cmd_recordings(int argc, char **argv);
int cli_cmd_play(int argc, char **argv);

#endif
