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

int cli_cmd_approvals(int argc, char **argv);
int cli_cmd_approve(int argc, char **argv);
int cli_cmd_deny(int argc, char **argv);

/* For a command whose own call is held for an MFA step-up (ztctl ssh,
 * cp): asks a fresh one-time code on the terminal and answers request id
 * with it. what names the command in errors. CLI_EXIT_OK or CLI_EXIT_FAIL
 * (printed why: no terminal, no code, the code refused). */
int cli_approve_stepup(const char *what, const char *id);

#endif
