/*
 * cli_cmd_auth.h - ztctl's account commands: enroll, login, status, logout.
 *
 * Each takes the command's own argv (argv[0] is the command name) and
 * returns the process exit code: CLI_EXIT_OK, CLI_EXIT_FAIL (refused or
 * failed; one "ztctl: ..." line on stderr says why) or CLI_EXIT_USAGE.
 */
#ifndef ZT_CLI_CMD_AUTH_H
#define ZT_CLI_CMD_AUTH_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cli_cmd_enroll(int argc, char **argv);
int cli_cmd_login(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);
/* ztctl ls: the hosts the logged-in identity may see (GET /v1/hosts). */
int cli_cmd_ls(int argc, char **argv);
int cli_cmd_logout(int argc, char **argv);
/* Loads the profile of a command that needs a session (dir receives the
 * profile directory): CLI_EXIT_OK with *p (owned) holding a token, or
 * CLI_EXIT_FAIL after saying why (no profile directory, not logged in,
 * an unreadable profile) with *p owned by the caller (may be NULL). */
struct cli_profile;
int cli_session_load(char *dir, size_t dirsz, struct cli_profile **p);

#endif
