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
#include "cli/cli_cmd_ssh.h"
#include "cli/cli_cmd_rec.h"
#include "cli/cli_mcp.h"
#include "cli/cli_stream.h"
#include "common/log.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"enroll", cli_cmd_enroll, "finish an invitation: set a password and the authenticator"},
	{"login", cli_cmd_login, "log in with password and one-time code; saves the session"},
	{"status", cli_cmd_status, "show who the saved session is and when it expires"},
	{"ls", cli_cmd_ls, "list the hosts you may see, with labels and online state"},
	{"ssh", cli_cmd_ssh, "a shell or a command on a host, decided and recorded by the broker"},
	{"logout", cli_cmd_logout, "revoke the saved session and forget it"},
	{"approvals", cli_cmd_approvals, "list the held calls you may answer (approvals ls)"},
	{"approve", cli_cmd_approve, "approve a held call, or step up for your own, with a fresh code"},
	{"deny", cli_cmd_deny, "deny a held call (or withdraw your own)"},
	{"recordings", cli_cmd_recordings, "list recorded sessions (yours; all for auditors)"},
	{"play", cli_cmd_play, "replay a recorded session on this terminal"},
	{"mcp", cli_cmd_mcp, "MCP server on stdin/stdout for AI clients, relayed to the broker"},
	{"tokens", cli_cmd_tokens, "admin: agent join tokens (add, ls, rm)"},
	{"agents", cli_cmd_agents, "admin: agents: their claims, approvals, locks"},
	{"roles", cli_cmd_roles, "admin: role documents (apply, ls, rm)"},
	{"policy", cli_cmd_policy, "admin: test a decision and see the rule that made it"},
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: ztctl COMMAND [OPTIONS]   (ztctl COMMAND --help for its options)\n\n"
	    "commands:\n", f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	}
	fputs("  help       show this text\n\n"
	    "  ztctl enroll --broker URL --ca-pin PIN --invite CODE [--password-stdin]\n"
	    "  ztctl login --broker URL --ca-pin PIN --user NAME [--password-stdin] [--otp CODE]\n"
	    "  ztctl status\n"
	    "  ztctl logout\n"
	    "  ztctl ssh [-t] [LOGIN@]HOST [COMMAND...]\n"
	    "  ztctl recordings ls [--host H] [--user U] [--json]\n"
	    "  ztctl play ID [--speed N]   (pauses are cut to 2 s)\n"
	    "  ztctl mcp [config]\n"
	    "  ztctl tokens add [--ttl 30m] [--uses 1] [--name NAME] [--labels k=v,..]\n"
	    "  ztctl tokens ls | tokens rm ID\n"
	    "  ztctl agents ls | agents approve NAME | agents lock NAME | agents unlock NAME\n"
	    "  ztctl roles apply -f ROLE.yaml | roles ls | roles rm NAME\n"
	    "  ztctl policy test --user U|--bot B --tool T [--host H] [--labels k=v,..]\n"
	    "                    [--login L] [--command 'CMD'] [--path /P]\n\n"
	    "The session is kept in $ZT_HOME/profile.json (default ~/.zt). URL is\n"
	    "https://HOST[:PORT] (port 8443 by default); PIN is the broker CA's pin,\n"
	    "sha256:<64 hex digits>, as printed by ztbroker. With --password-stdin, or\n"
	    "when standard input is not a terminal, the password is its first line and\n"
	    "a one-time code, when one is asked for, the next line. tokens, agents, roles\n"
	    "and policy need an administrator's session (a role with options:\n"
	    "{admin: true}).\n"
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
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
