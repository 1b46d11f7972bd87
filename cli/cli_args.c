/*
 * cli_args.c - long options and one word (cli_args.h).
 */
#include "cli/cli_args.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_out.h"

int cli_args_parse(int argc, char **argv, const struct option *longopts, int help_id,
    unsigned allowed, const char *missing, const char *usage, struct cli_args *a)
{
	int c, n = 0;

	memset(a, 0, sizeof(*a));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		c = c == 'h' ? help_id : c;
		if (c == ':') {
			cli_fail("%s: option %s needs a value", argv[0], argv[optind - 1]);
			goto usage;
		}
		if (c == '?' || c < 1 || c > help_id || c > CLI_ARGS_MAX ||
		    ((1u << c) & (allowed | (1u << help_id))) == 0) {
			cli_fail("%s: unknown option %s", argv[0], argv[optind - 1]);
			goto usage;
		}
		if (c == help_id) {
			fputs(usage, stdout);
			return -1;
		}
		a->val[c - 1] = optarg != NULL ? optarg : "";
	}
	for (; optind < argc; optind++, n++) {
		if (n == 1) {
			cli_fail("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
			goto usage;
		}
		a->word = argv[optind];
	}
	if (n == 0) {
		cli_fail("%s: %s", argv[0], missing);
		goto usage;
	}
	return CLI_EXIT_OK;
usage:
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}
