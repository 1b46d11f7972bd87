/*
 * brk_sshexec.h - the ssh_exec MCP tool: one command on one host, as one
 * login, decided by policy and audited call by call.
 *
 * A call {host, login, command, timeout_s} goes:
 *   1. arguments checked (clear tool errors for bad input);
 *   2. policy: pol_decide(tool ssh_exec, the host's labels, login) on the
 *      caller's stored roles; a deny is audited and the tool error names
 *      the rule, except for a host the roles may not see: its error is the
 *      one of an unknown host, word for word (the audit keeps the rule);
 *   3. the decision is audited (durable) before anything runs;
 *   4. a stream through the host's agent (brk_dial.h): an offline host
 *      fails at once with "host offline";
 *   5. resources/ssh_exec.h over that stream: a fresh key and a two-minute
 *      certificate (principal = login, key id "zt:<kind>:<name>:<call id>"),
 *      the host key pinned to the one the agent advertised, bounded output,
 *      progress, cancellation and timeout (the command is killed);
 *   6. the outcome is audited (serial, key id, exit code, bytes, duration)
 *      before the result returns.
 * Every event of a call carries its call_id, host, login and the whole
 * command with command_bytes and command_sha256.
 * Output: structuredContent {exit_code, stdout, stderr, truncated,
 * duration_ms} and the same JSON as text. isError when the command could
 * not run (denied, unknown or offline host, authentication, timeout), not
 * for a non-zero exit code.
 */
#ifndef ZT_BRK_SSHEXEC_H
#define ZT_BRK_SSHEXEC_H

struct brk;
struct mcp_server;

#define BRK_EXEC_TIMEOUT_DEFAULT_S 60
#define BRK_EXEC_TIMEOUT_MAX_S 600    /* default for --exec-timeout-max */
#define BRK_EXEC_COMMAND_MAX 16384    /* bytes of a command line */
#define BRK_EXEC_LOGIN_MAX 32

/* Adds the ssh_exec tool to srv; b must outlive it. 0 or a ZT_ERR_*. */
int brk_sshexec_register(struct mcp_server *srv, struct brk *b);

#endif
