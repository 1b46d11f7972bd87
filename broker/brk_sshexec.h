/*
 * brk_sshexec.h - the ssh_exec tool's own part: its arguments and its work.
 * The gate (brk_gate.h) does the rest: identity, policy, audit.
 *
 * Arguments {host, login, command, timeout_s, background}: clear errors
 * for bad input. background: true starts a job instead (brk_jobs.h): the
 * result is its id at once; timeout_s then bounds the job (at most 24h,
 * and never past the role's options.max_job_duration).
 * The work: the call's SSH connection (brk_sshconn.h: warm, or new with
 * a certificate of its own), then resources/ssh_exec.h: a channel,
 * bounded output, progress, cancellation and timeout (the command is
 * killed). The outcome event gets the connection (brk_sshconn_done), the
 * status, exit code, bytes and duration.
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

/* The tool table's parse and run (brk_gate.h). */
int brk_sshexec_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_sshexec_run(struct brk_call *c, cJSON **result);

#endif
