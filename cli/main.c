/*
 * main.c - ztctl, the zt command-line client: dispatches a command to its
 * module and turns the result into the exit status.
 *
 * Exit status: 0 success, 1 refused or failed (one "ztctl: ..." line on
 * stderr says why), 2 usage error. SIGPIPE is ignored for the whole process
 * because OpenSSL cannot pass MSG_NOSIGNAL on its writes: a broker that
 * closes the connection mid-request must be an error, not a silent death.
 * libcurl is initialised here, once, before any command starts a thread,
 * and the connections kept alive are closed when the command returns.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli_cmd_admin.h"
#include "cli/cli_cmd_approve.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_cmd_cp.h"
#include "cli/cli_cmd_rdp.h"
#include "cli/cli_cmd_rec.h"
#include "cli/cli_cmd_ssh.h"
#include "cli/cli_completion.h"
#include "cli/cli_mcp.h"
#include "cli/cli_stream.h"
#include "common/log.h"

static int cmd_completion(int argc, char **argv);

/* The commands; `ztctl help` and the completion scripts are made from it.
 * The last field says what a command's arguments complete to. */
static const struct cli_command commands[] = {
	{"enroll", cli_cmd_enroll, "finish an invitation: set a password and the authenticator",
	    CLI_CPL_NONE},
	{"login", cli_cmd_login, "log in with password and one-time code; saves the session",
	    CLI_CPL_NONE},
	{"status", cli_cmd_status, "show who the saved session is and when it expires",
	    CLI_CPL_NONE},
	{"ls", cli_cmd_ls, "list the hosts you may see, with labels and online state",
	    CLI_CPL_NONE},
	{"ssh", cli_cmd_ssh, "a shell or a command on a host, decided and recorded by the broker",
	    CLI_CPL_HOST},
	{"cp", cli_cmd_cp, "copy a file to or from a host, through the broker", CLI_CPL_HOSTPATH},
	{"rdp", cli_cmd_rdp, "a remote desktop: screenshot, click, type or keys, through the broker",
	    CLI_CPL_HOST},
	{"logout", cli_cmd_logout, "revoke the saved session and forget it", CLI_CPL_NONE},
	{"approvals", cli_cmd_approvals, "list the held calls you may answer (approvals ls)",
	    CLI_CPL_NONE},
	{"approve", cli_cmd_approve, "approve a held call, or step up for your own, with a fresh code",
	    CLI_CPL_NONE},
	{"deny", cli_cmd_deny, "deny a held call (or withdraw your own)", CLI_CPL_NONE},
	{"recordings", cli_cmd_recordings, "list recorded sessions (yours; all for auditors)",
	    CLI_CPL_NONE},
	{"play", cli_cmd_play, "replay a recorded session on this terminal", CLI_CPL_NONE},
	{"mcp", cli_cmd_mcp, "MCP server on stdin/stdout for AI clients, relayed to the broker",
	    CLI_CPL_NONE},
	{"tokens", cli_cmd_tokens, "admin: agent join tokens (add, ls, rm)", CLI_CPL_NONE},
	{"agents", cli_cmd_agents, "admin: agents: their claims, approvals, locks", CLI_CPL_NONE},
	{"roles", cli_cmd_roles, "admin: role documents (apply, ls, rm)", CLI_CPL_NONE},
	{"policy", cli_cmd_policy, "admin: test a decision and see the rule that made it",
	    CLI_CPL_NONE},
	{"completion", cmd_completion, "print a bash or zsh completion script", CLI_CPL_SHELL},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* `ztctl completion SHELL`, which needs the table. */
static int cmd_completion(int argc, char **argv)
{
	return cli_cmd_completion(argc, argv, commands, NCOMMANDS);
}

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: ztctl COMMAND [OPTIONS]   (ztctl COMMAND --help for its options)\n\n"
	    "commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	}
	fputs("  help       show this text\n\n"
	    "  ztctl enroll --broker URL --ca-pin PIN --invite CODE [--password-stdin]\n"
	    "  ztctl login --broker URL --ca-pin PIN --user NAME [--password-stdin] [--otp CODE]\n"
	    "  ztctl status\n"
	    "  ztctl ls [-q | --names]\n"
	    "  ztctl ssh [-t] [-N] [-L [BIND:]PORT:HOST:PORT]... [LOGIN@]HOST [COMMAND...]\n"
	    "  ztctl cp [LOGIN@]HOST:PATH LOCAL | ztctl cp LOCAL [LOGIN@]HOST:PATH\n"
	    "  ztctl rdp HOST --screenshot FILE [--max-width N]\n"
	    "  ztctl rdp HOST --click X,Y [--button B] [--double] [--screenshot FILE]\n"
	    "  ztctl rdp HOST --type TEXT | --key COMBO [--screenshot FILE]\n"
	    "  ztctl logout\n"
	    "  ztctl recordings ls [--host H] [--user U] [--json]\n"
	    "  ztctl play ID [--speed N]   (pauses are cut to 2 s)\n"
	    "  ztctl mcp [config]\n"
	    "  ztctl tokens add [--ttl 30m] [--uses 1] [--name NAME] [--labels k=v,..]\n"
	    "  ztctl tokens ls | tokens rm ID\n"
	    "  ztctl agents ls | agents approve NAME | agents lock NAME | agents unlock NAME\n"
	    "  ztctl roles apply -f ROLE.yaml | roles ls | roles rm NAME\n"
	    "  ztctl policy test --user U|--bot B --tool T [--host H] [--labels k=v,..]\n"
	    "                    [--login L] [--command 'CMD'] [--path /P]\n"
	    "  ztctl completion bash|zsh   (source <(ztctl completion bash) in ~/.bashrc)\n\n"
	    "The session is kept in $ZT_HOME/profile.json (default ~/.zt). URL is\n"
	    "https://HOST[:PORT] (port 8443 by default); PIN is the broker CA's pin,\n"
	    "sha256:<64 hex digits>, as printed by ztbroker. With --password-stdin, or\n"
	    "when standard input is not a terminal, the password is its first line and\n"
	    "a one-time code, when one is asked for, the next line. tokens, agents, roles\n"
	    "and policy need an administrator's session (a role with options:\n"
	    "{admin: true}). cp copies one file through the broker, as file_read or\n"
	    "file_write with a transfer link: PATH is absolute, LOGIN defaults to your\n"
	    "local user name, LOCAL may be a directory. rdp makes one call on a remote\n"
	    "desktop (rdp_screenshot, rdp_click, rdp_type, rdp_key); --screenshot writes\n"
	    "the screen after it as a PNG, mode 0600.\n"
	    "Exit status: 0 success, 1 refused or failed, 2 usage error (ssh: the\n"
	    "remote status, or 255 when zt refused or failed).\n", f);
}

int main(int argc, char **argv)
{
	enum zt_log_level lvl = ZT_LOG_WARN;
	const char *env = getenv("ZT_LOG_LEVEL");
	size_t i;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (env != NULL && log_level_parse(env, &lvl) != 0) {
		lvl = ZT_LOG_WARN;
	}
	log_init("ztctl", lvl);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				fprintf(stderr, "ztctl: cannot initialise libcurl\n");
				return CLI_EXIT_FAIL;
			}
			r = commands[i].run(argc - 1, argv + 1);
			cli_stream_cleanup();
			curl_global_cleanup();
			return r;
		}
	}
	fprintf(stderr, "ztctl: unknown command \"%s\" (see ztctl help)\n", argv[1]);
	return CLI_EXIT_USAGE;
}
