/*
 * cli_completion.c - the bash and zsh completion scripts of ztctl
 * (cli_completion.h).
 *
 * Each script is a fixed body plus the lists made from the command table:
 * the command names (with their summaries for zsh) and, per kind of
 * argument, the commands that take it, so that a command added to the
 * table completes without touching this file. Host names come from
 * `ztctl ls -q` when the user presses TAB, with errors (not logged in, no
 * broker) silenced: a completion must never print into the command line.
 * Remote paths are not completed (that would be a tool call per TAB).
 */
#include "cli/cli_completion.h"

#include <string.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_out.h"
#include "common/err.h"

static const char bash_head[] =
    "# bash completion for ztctl, printed by `ztctl completion bash`.\n"
    "# Use: source <(ztctl completion bash)   (e.g. in ~/.bashrc), or save it as\n"
    "# ~/.local/share/bash-completion/completions/ztctl.\n";

static const char bash_body[] =
    "_ztctl_hosts() {\n"
    "\tztctl ls -q 2>/dev/null\n"
    "}\n"
    "\n"
    "# [LOGIN@]HOST: from the hosts, and local files. bash splits the word at\n"
    "# the characters of COMP_WORDBREAKS (':' and '@' among them), so the word is\n"
    "# read whole from the line and the part before the current piece is cut from\n"
    "# each candidate again.\n"
    "_ztctl_hostpath() {\n"
    "\tlocal cur=$1 word login='' h strip\n"
    "\tword=${COMP_LINE:0:COMP_POINT}\n"
    "\tword=${word##*[[:space:]]}\n"
    "\t[ -n \"$COMP_LINE\" ] || word=$cur\n"
    "\tcase $word in\n"
    "\t*:*) return 0 ;;\n"
    "\t*@*) login=${word%%@*}@ ;;\n"
    "\tesac\n"
    "\tfor h in $(_ztctl_hosts); do\n"
    "\t\tcase \"$login$h:\" in\n"
    "\t\t\"$word\"*) COMPREPLY+=(\"$login$h:\") ;;\n"
    "\t\tesac\n"
    "\tdone\n"
    "\tif [ ${#COMPREPLY[@]} -gt 0 ]; then\n"
    "\t\tcompopt -o nospace 2>/dev/null\n"
    "\tfi\n"
    "\tif [ -z \"$login\" ]; then\n"
    "\t\tlocal IFS=$'\\n'\n"
    "\t\tCOMPREPLY+=($(compgen -f -- \"$word\"))\n"
    "\tfi\n"
    "\tstrip=${word%\"$cur\"}\n"
    "\tif [ -n \"$strip\" ] && [ \"$strip\" != \"$word\" ]; then\n"
    "\t\tCOMPREPLY=(\"${COMPREPLY[@]#\"$strip\"}\")\n"
    "\tfi\n"
    "}\n"
    "\n"
    "_ztctl() {\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]}\n"
    "\tCOMPREPLY=()\n"
    "\tif [ \"$COMP_CWORD\" -le 1 ]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$_ztctl_commands\" -- \"$cur\"))\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\tcase \" $_ztctl_host_commands \" in\n"
    "\t*\" ${COMP_WORDS[1]} \"*)\n"
    "\t\tCOMPREPLY=($(compgen -W \"$(_ztctl_hosts)\" -- \"$cur\"))\n"
    "\t\treturn 0 ;;\n"
    "\tesac\n"
    "\tcase \" $_ztctl_hostpath_commands \" in\n"
    "\t*\" ${COMP_WORDS[1]} \"*)\n"
    "\t\t_ztctl_hostpath \"$cur\"\n"
    "\t\treturn 0 ;;\n"
    "\tesac\n"
    "\tcase \" $_ztctl_shell_commands \" in\n"
    "\t*\" ${COMP_WORDS[1]} \"*)\n"
    "\t\tCOMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\"))\n"
    "\t\treturn 0 ;;\n"
    "\tesac\n"
    "\treturn 0\n"
    "}\n"
    "\n"
    "complete -o default -F _ztctl ztctl\n";

static const char zsh_head[] =
    "#compdef ztctl\n"
    "# zsh completion for ztctl, printed by `ztctl completion zsh`.\n"
    "# Use: source <(ztctl completion zsh) after compinit (e.g. in ~/.zshrc), or\n"
    "# save it as _ztctl in a directory of $fpath.\n";

static const char zsh_body[] =
    "_ztctl_hosts() {\n"
    "\tztctl ls -q 2>/dev/null\n"
    "}\n"
    "\n"
    "_ztctl() {\n"
    "\tlocal -a hosts\n"
    "\tif (( CURRENT == 2 )); then\n"
    "\t\t_describe -t commands 'ztctl command' _ztctl_commands\n"
    "\t\treturn\n"
    "\tfi\n"
    "\tif (( ${_ztctl_host_commands[(Ie)$words[2]]} )); then\n"
    "\t\thosts=(${(f)\"$(_ztctl_hosts)\"})\n"
    "\t\tcompadd -a hosts\n"
    "\telif (( ${_ztctl_hostpath_commands[(Ie)$words[2]]} )); then\n"
    "\t\t[[ $PREFIX == *:* ]] && return 1\n"
    "\t\thosts=(${(f)\"$(_ztctl_hosts)\"})\n"
    "\t\tif compset -P '*@'; then\n"
    "\t\t\tcompadd -S '' -- ${^hosts}:\n"
    "\t\telse\n"
    "\t\t\tcompadd -S '' -- ${^hosts}:\n"
    "\t\t\t_files\n"
    "\t\tfi\n"
    "\telif (( ${_ztctl_shell_commands[(Ie)$words[2]]} )); then\n"
    "\t\tcompadd bash zsh\n"
    "\telse\n"
    "\t\t_files\n"
    "\tfi\n"
    "}\n"
    "\n"
    "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
    "\t_ztctl \"$@\"\n"
    "else\n"
    "\tcompdef _ztctl ztctl\n"
    "fi\n";

static const char usage[] =
    "usage: ztctl completion bash|zsh\n"
    "  Prints a completion script for the shell: commands, and host names (from\n"
    "  ztctl ls -q) where a command takes a host. In ~/.bashrc:\n"
    "    source <(ztctl completion bash)\n"
    "  in ~/.zshrc, after compinit:\n"
    "    source <(ztctl completion zsh)\n";

/* Prints s inside single quotes for a shell ("'" becomes '\''). */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			fputs("'\\''", f);
		} else {
			fputc(*s, f);
		}
	}
	fputc('\'', f);
}

/* The names of the commands whose arguments are kind, separated by
 * spaces. */
static void put_names(FILE *f, const struct cli_command *cmds, size_t n, enum cli_cpl kind)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < n; i++) {
		if (cmds[i].args == kind) {
			fprintf(f, "%s%s", sep, cmds[i].name);
			sep = " ";
		}
	}
}

/* The lists of commands by the kind of their arguments, as shell variables:
 * NAME=<open>cp ...<close>, one a line. */
static void put_lists(FILE *f, const struct cli_command *cmds, size_t n, const char *open,
    const char *close)
{
	static const struct {
		const char *var;
		enum cli_cpl kind;
	} lists[] = {
		{"_ztctl_host_commands", CLI_CPL_HOST},
		{"_ztctl_hostpath_commands", CLI_CPL_HOSTPATH},
		{"_ztctl_shell_commands", CLI_CPL_SHELL},
	};
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		fprintf(f, "%s=%s", lists[i].var, open);
		put_names(f, cmds, n, lists[i].kind);
		fprintf(f, "%s\n", close);
	}
	fputc('\n', f);
}

static void print_bash(FILE *f, const struct cli_command *cmds, size_t n)
{
	size_t i;

	fputs(bash_head, f);
	fputs("_ztctl_commands='", f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s ", cmds[i].name);
	}
	fputs("help'\n", f);
	put_lists(f, cmds, n, "'", "'");
	fputs(bash_body, f);
}

static void print_zsh(FILE *f, const struct cli_command *cmds, size_t n)
{
	char line[512];
	size_t i;

	fputs(zsh_head, f);
	fputs("_ztctl_commands=(\n", f);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s:%s", cmds[i].name, cmds[i].summary);
		fputc('\t', f);
		put_quoted(f, line);
		fputc('\n', f);
	}
	fputs("\t'help:show the commands and their options'\n)\n", f);
	put_lists(f, cmds, n, "(", ")");
	fputs(zsh_body, f);
}

int cli_completion_print(FILE *f, const char *shell, const struct cli_command *cmds, size_t n)
{
	if (strcmp(shell, "bash") == 0) {
		print_bash(f, cmds, n);
	} else if (strcmp(shell, "zsh") == 0) {
		print_zsh(f, cmds, n);
	} else {
		return ZT_ERR_INVALID;
	}
	return 0;
}

int cli_cmd_completion(int argc, char **argv, const struct cli_command *cmds, size_t n)
{
	char c[64];

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 2 || cli_completion_print(stdout, argv[1], cmds, n) != 0) {
		if (argc == 2) {
			cli_fail("completion: no script for the shell \"%s\" (bash or zsh)",
			    cli_clean(argv[1], 0, c, sizeof(c)));
		}
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (fflush(stdout) != 0) {
		cli_fail("completion: cannot write the script");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
