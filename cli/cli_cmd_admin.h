/*
 * cli_cmd_admin.h - ztctl's admin commands: `tokens`, `agents`, `roles` and
 * `policy`, the remote twins of `ztbroker admin tokens|agents|roles|policy`
 * over the broker's
 * admin API (docs/api.md), with the saved session (an administrator's).
 *
 * Each command takes its own argv (argv[0] is the command name) and returns
 * the process exit code: CLI_EXIT_OK, CLI_EXIT_FAIL (refused or failed; one
 * "ztctl: ..." line on stderr says why; for `policy test` also a deny) or
 * CLI_EXIT_USAGE. What they print matches the admin verbs' output.
 */
#ifndef ZT_CLI_CMD_ADMIN_H
#define ZT_CLI_CMD_ADMIN_H

#include <cjson/cJSON.h>

/* ztctl tokens add [--ttl 30m] [--uses 1] [--name NAME] [--labels k=v,..] |
 * tokens ls | tokens rm ID */
int cli_cmd_tokens(int argc, char **argv);
/* ztctl agents ls | agents approve NAME | agents lock NAME | agents unlock NAME */
int cli_cmd_agents(int argc, char **argv);
/* ztctl roles apply -f ROLE.yaml | roles ls | roles rm NAME */
int cli_cmd_roles(int argc, char **argv);
/* ztctl policy test --user U|--bot B --tool T [--host H] [--labels k=v,..]
 * [--login L]: exit 0 allow, 1 deny. */
int cli_cmd_policy(int argc, char **argv);

/*
 * One API call with the saved session ($ZT_HOME/profile.json): method
 * ("GET" or "POST") on path with body (may be NULL). On a 2xx answer
 * returns CLI_EXIT_OK with *resp (owned, may be NULL for an empty body);
 * otherwise prints one "ztctl: ..." line for the command named what (not
 * logged in, the broker unreachable, or the broker's own message) and
 * returns CLI_EXIT_FAIL with *resp NULL.
 */
int cli_session_call(const char *what, const char *method, const char *path,
    const cJSON *body, cJSON **resp);

#endif
