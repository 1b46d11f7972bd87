/*
 * cli_cmd_approve.h - ztctl's answers to held calls (brk_approvals.h on the
 * broker; docs/api.md "Approvals"):
 *
 *   ztctl approvals ls                   the requests I may answer
 *   ztctl approve ID [--for 15m] [--otp CODE | --otp-stdin]
 *                                        shows the call, asks a fresh code
 *                                        (a step-up for my own call, an
 *                                        approval of another's)
 *   ztctl deny ID [--reason TEXT]        denies (or withdraws my own)
 *
 * Each returns CLI_EXIT_OK, CLI_EXIT_FAIL (one "ztctl: ..." line says why)
 * or CLI_EXIT_USAGE.
 */
#ifndef ZT_CLI_CMD_APPROVE_H
#define ZT_CLI_CMD_APPROVE_H

#include <cjson/cJSON.h>

int cli_cmd_approvals(int argc, char **argv);
int cli_cmd_approve(int argc, char **argv);
int cli_cmd_deny(int argc, char **argv);

/*
 * Answers the held call id with a fresh one-time code, for the command
 * named what (its failures say so): otp if not NULL, else asked for (the
 * next line of standard input when otp_stdin, else on the terminal);
 * window (may be NULL) is --for's duration. CLI_EXIT_OK with *stepped_up
 * set when it was the caller's own step-up (not an approval of another's),
 * or CLI_EXIT_FAIL after one "ztctl: ..." line. The code is wiped.
 */
int cli_approve_send(const char *what, const char *id, const char *otp, int otp_stdin,
    const char *window, int *stepped_up);

/*
 * A cli_tool_log_fn for commands that call tools (`ztctl cp`, `ztctl rdp`):
 * arg is the command's name (a const char *). Each log message while a call
 * is held is printed as "ztctl NAME: <message>" (it says where the call may
 * be answered); when the call waits for this user's own MFA step-up and
 * standard input is a terminal, the code is asked for here.
 */
void cli_approve_on_log(void *arg, const cJSON *params);

#endif
