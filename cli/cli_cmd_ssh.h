/*
 * cli_cmd_ssh.h - `ztctl ssh [-t] [-N] [-L SPEC]... [LOGIN@]HOST [COMMAND...]`: a person's
 * terminal on a host, through the broker (docs/api.md "Terminals").
 *
 * The broker decides the session like any call (tool ssh_shell, or ssh_exec
 * with a command), records it, and relays it over a WebSocket
 * (cli_ws.h). Without a command: a shell in a pseudo-terminal, this
 * terminal in raw mode (restored on every way out, cli_tty.h), window
 * changes sent along, "~." after a newline ends it. With one: the command,
 * its stdout and stderr kept apart, standard input passed until its end.
 * A call held for the caller's own MFA step-up asks for a one-time code
 * here; one held for another's approval says where to answer and waits.
 * -L [BIND:]PORT:HOST:PORT forwards local connections through the host
 * (cli_fwd.h), alongside the session or, with -N, alone until a signal.
 *
 * Returns the remote exit status, or 255 (as ssh) when zt refused, failed
 * or ended the session, with one "ztctl: ..." line saying why; 2 for
 * usage.
 */
#ifndef ZT_CLI_CMD_SSH_H
#define ZT_CLI_CMD_SSH_H

int cli_cmd_ssh(int argc, char **argv);

#endif
