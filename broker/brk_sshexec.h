/*
 * brk_sshexec.h - the ssh_exec tool's own part: its arguments and its work.
 * The gate (brk_gate.h) does the rest: identity, policy, audit.
 *
 * Arguments {host, login, command, timeout_s}: clear errors for bad input.
 * The work: a warm connection of the caller's credential to the host as
 * the login (brk_sshpool.h), or a new one: a stream through the host's
 * agent (brk_dial.h; an offline host fails at once with "host offline"),
 * then resources/ssh_conn.h over it: a fresh key and a two-minute
 * certificate (principal = login, key id "zt:<kind>:<name>:<conn id>"),
 * the host key pinned to the one the agent advertised. Then
 * resources/ssh_exec.h: a channel, bounded output, progress, cancellation
 * and timeout (the command is killed). The outcome event gets the
 * connection's id, whether it was reused, the certificate's serial and key
 * id, the status, exit code, bytes and duration.
 * Output: structuredContent {exit_code, stdout, stderr, truncated,
 * duration_ms} and the same JSON as text. isError when the command could
 * not run (offline host, authentication, timeout), not for a non-zero exit
 * code.
 */
#ifndef ZT_BRK_SSHEXEC_H
#define ZT_BRK_SSHEXEC_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct brk_call;

#define BRK_SSHEXEC_TOOL "ssh_exec"

#define BRK_EXEC_TIMEOUT_DEFAULT_S 60
#define BRK_EXEC_TIMEOUT_MAX_S 600    /* default for --exec-timeout-max */
#define BRK_EXEC_COMMAND_MAX 16384    /* bytes of a command line */
#define BRK_EXEC_LOGIN_MAX 32

/* Housekeeping of the warm connections (brk_sshpool.h), once a second
 * (brk_watch.h): idle ones close when they expired, their host went
 * offline or was locked, or the roles changed; and, when the store changed
 * (a lock, a removal, a logout), and every BRK_SSHEXEC_CHECK_S anyway,
 * when their credential no longer holds. */
#define BRK_SSHEXEC_CHECK_S 5
struct brk;
struct brk_watch_round;
void brk_sshexec_chore(struct brk *b, const struct brk_watch_round *rd, void *arg);

/* The tool table's parse and run (brk_gate.h). */
int brk_sshexec_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_sshexec_run(struct brk_call *c, cJSON **result);

#endif
