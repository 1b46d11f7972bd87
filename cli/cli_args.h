/*
 * cli_args.h - the arguments of a ztctl command that takes long options
 * and one word (a verb or an id): `ztctl approve ID --for 15m`,
 * `ztctl recordings ls --host web1`.
 */
#ifndef ZT_CLI_ARGS_H
#define ZT_CLI_ARGS_H

#include <getopt.h>

#define CLI_ARGS_MAX 16                 /* options of one command */

struct cli_args {
	/* By option id (1 .. help): its value, "" for an option without
	 * one, NULL when absent. */
	const char *val[CLI_ARGS_MAX];
	const char *word;               /* the one positional argument */
};

/* The value of option id in a (struct cli_args *). */
#define CLI_ARG(a, id) ((a)->val[(id) - 1])

/* Parses argv (argv[0]: the command's name) with longopts, whose ids run
 * from 1 to help_id (the last, "--help"; "-h" too), taking only the
 * options whose bits (1u << id) are in allowed, and exactly one word
 * (missing says what to give when there is none). CLI_EXIT_OK, -1 after
 * --help (usage printed on stdout), or CLI_EXIT_USAGE (one "ztctl: ..."
 * line and usage on stderr). */
int cli_args_parse(int argc, char **argv, const struct option *longopts, int help_id,
    unsigned allowed, const char *missing, const char *usage, struct cli_args *a);

#endif
