/*
 * brk_jobs.h - long-running commands: `ssh_exec {..., background: true}`
 * starts a job and returns its id at once; job_output, job_signal and
 * job_list follow it. The command itself runs in resources/ssh_job.h (a
 * channel pumped by a thread of its own into a 256 KiB ring, stdout and
 * stderr merged); this module keeps the jobs: who owns them, how many may
 * run, when zt ends them, and what the audit says.
 *
 * Ownership. A job belongs to the identity that started it (its actor,
 * "user:alice"), whichever of its credentials asks later. For anyone else
 * a job does not exist: job_output and job_signal answer "no job ID", the
 * very words of an id that never was, and job_list shows only the
 * caller's own.
 *
 * Policy. The job tools are entries of the gate's table like any tool.
 * ssh_exec with background is decided as ssh_exec (host labels, login,
 * command). job_output and job_signal are decided as themselves on the
 * job's host (its labels as they are now), login and command: a role must
 * list the tool and still allow that host, login and command, so a role
 * that may not run the command there may neither read nor signal it (a
 * role's allow section names hosts, logins and commands for all its tools).
 * job_list is decided on its name alone (it shows only the caller's own).
 * Every call of them is audited by the gate like any other.
 *
 * Limits. At most BRK_JOBS_PER_IDENTITY jobs of one identity run at once,
 * and BRK_JOBS_MAX in the broker; a start past either is refused with a
 * tool error that says so. A job runs at most its limit: the deciding
 * role's options.max_job_duration (policy/pol_eval.h: the least demanding
 * allowing role's, 1h by default), or the call's timeout_s when smaller.
 *
 * The connection. A job takes the call's SSH connection (warm or new,
 * brk_sshconn.h) out of the pool for good (brk_sshconn_keep): it is the
 * job's alone, lives past the two-minute life of pooled connections (sshd
 * checks the certificate only at login) and is closed when the job ends.
 *
 * When zt ends a job. The housekeeping (brk_jobs_chore, once a second)
 * kills a running job when its limit passed; when its host went offline
 * or was locked; and, when the store changed and every
 * BRK_SSHCONN_CHECK_S anyway, when the credential that started it no
 * longer holds (the identity locked or removed, the token revoked or
 * expired) or its roles, decided again as at the start on its host's
 * labels as they are then (an operator may have approved new ones), no
 * longer allow it (a role change may also shorten its limit). Stopping the broker kills
 * every job (brk_jobs_shutdown). A kill is KILL to the process group
 * (resources/ssh_job.h), then the channel and the connection close.
 *
 * A kill needs the job's connection: sshd does not signal a command
 * without a terminal when its connection drops, so a job whose connection
 * is lost first (job.end state "lost") may go on running on the host.
 * Hence the order when an operator locks an agent: the registry's sync
 * (brk_agents.h) marks it locked, so nothing new starts through it, then
 * calls brk_jobs_cut (registered in main.c with brk_agents_on_cut: the
 * jobs use the registry, so the registry calls back rather than call
 * this module), which kills the jobs of that agent's resources over their
 * live connections and waits for their ends, BRK_JOBS_CUT_MS in all;
 * only then does the registry shut the agent's streams down. Their
 * job.end says "host web1 was locked", state killed, signal KILL. The
 * chore's own "was locked" check is the fallback for a lock it sees first.
 * A host that went offline has no connection left to kill over.
 *
 * Audit, durable (AUD_MUST), each with the job id, the call id that
 * started it, host, login and the actor:
 *   job.start   before the command starts (with the command, its SHA-256
 *               and the limit); a job whose start is not on record does
 *               not start;
 *   job.signal  each signal, before it is sent to a running job (the
 *               signal call's own call id too; how it was sent is in the
 *               call's outcome, tool.job_signal.result);
 *   job.end     when it ended, from the pump's thread, before anyone can
 *               see it ended: state (exited, killed, lost), exit code or
 *               signal, why zt ended it if it did (reason), bytes of
 *               stdout and stderr, duration.
 *
 * Finished jobs are kept for job_output and job_list BRK_JOBS_KEEP_S after
 * their end, or BRK_JOBS_READ_KEEP_S after a job_output returned the end
 * and the last byte, then forgotten; an identity keeps at most
 * BRK_JOBS_KEPT_PER_IDENTITY (its oldest finished job goes first).
 * Thread-safe.
 */
#ifndef ZT_BRK_JOBS_H
#define ZT_BRK_JOBS_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct brk;
struct brk_call;
struct brk_jobs;
struct brk_watch_round;

#define BRK_JOBS_PER_IDENTITY 8
#define BRK_JOBS_MAX 64
#define BRK_JOBS_KEPT_PER_IDENTITY 16
#define BRK_JOBS_KEEP_S 600
#define BRK_JOBS_READ_KEEP_S 60
#define BRK_JOB_ID_LEN 16          /* hex digits of a job id (64 random bits) */
#define BRK_JOB_START_MS 30000     /* connection and exec of a start, at most */
#define BRK_JOB_SIGNAL_WAIT_MS 2000 /* job_signal waits this long for the end */
/* How long an agent's cut-off waits for its jobs' kills, in all: a KILL
 * sent both ways (for a root login, pkill from a second session) ends a
 * command within about a second; a dead host must not hold the lock up. */
#define BRK_JOBS_CUT_MS 3000

struct brk_jobs *brk_jobs_new(void);
/* Kills every running job (job.end, reason "the broker is stopping") and
 * waits for their ends; no job starts after. Call it while the tunnels
 * still carry the jobs' connections (a kill needs them). NULL: no-op. */
void brk_jobs_shutdown(struct brk_jobs *js);
/* The registry's cut-off callback (brk_agents_cut_fn, arg: the struct
 * brk_jobs): kills the running jobs whose connections run through one of
 * the n agents, reason "host <host> <why>", and waits for their ends,
 * BRK_JOBS_CUT_MS in all (a job not ended by then is lost at the cut,
 * its reason kept). Jobs start on as before: the agents are locked. */
void brk_jobs_cut(const char *const *agents, size_t n, const char *why, void *arg);
/* brk_jobs_shutdown if not done, then frees. Call it when no tool call
 * runs any more and before the store closes. NULL is a no-op. */
void brk_jobs_free(struct brk_jobs *js);

/* ssh_exec's run when background is true: starts the job of c (decided,
 * on record) and answers {job, state, host, login, limit_s}. As a tool's
 * run (brk_gate.h). */
int brk_jobs_start(struct brk_call *c, cJSON **result);

/* The job tools' parse and run (brk_gate.h). */
int brk_jobs_output_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_jobs_output_run(struct brk_call *c, cJSON **result);
int brk_jobs_signal_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_jobs_signal_run(struct brk_call *c, cJSON **result);
int brk_jobs_list_run(struct brk_call *c, cJSON **result);

/* The housekeeping above (a brk_watch chore). */
void brk_jobs_chore(struct brk *b, const struct brk_watch_round *rd, void *arg);

#endif
