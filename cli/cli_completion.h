/*
 * cli_completion.h - ztctl's command table entry, and `ztctl completion
 * bash|zsh`, which prints a shell completion script made from that table:
 * the commands by name, and for the commands whose arguments are hosts
 * the names `ztctl ls -q` prints (for HOST:PATH arguments, "HOST:" and
 * "LOGIN@HOST:", beside local files).
 */
#ifndef ZT_CLI_COMPLETION_H
#define ZT_CLI_COMPLETION_H

#include <stddef.h>
#include <stdio.h>

/* What a command's arguments complete to. */
enum cli_cpl {
	CLI_CPL_NONE,      /* nothing (the shell's default) */
	CLI_CPL_HOST,      /* host names */
	CLI_CPL_HOSTPATH,  /* [LOGIN@]HOST: or local files */
	CLI_CPL_SHELL,     /* bash or zsh */
};

/* One command of ztctl (cli/main.c's table). */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	enum cli_cpl args;
};

/* Prints the completion script for shell ("bash" or "zsh") of the n
 * commands, and "help", to f. 0, or ZT_ERR_INVALID for another shell. */
int cli_completion_print(FILE *f, const char *shell, const struct cli_command *cmds, size_t n);

/* `ztctl completion SHELL` (argv[0] is "completion") for the n commands:
 * an exit code of cli_cmd_auth.h. */
int cli_cmd_completion(int argc, char **argv, const struct cli_command *cmds, size_t n);

#endif
