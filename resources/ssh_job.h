/*
 * ssh_job.h - a command left running on a host: one channel on an SSH
 * connection of its own (resources/ssh_conn.h), its output kept in a
 * bounded ring that a reader polls by offset, signals, and an end that is
 * reported once. Independent of MCP and of the broker's registry (broker/
 * brk_jobs.h holds owners, limits and audit).
 *
 * Threads. A libssh session is used by one thread at a time, and a job's
 * output must be read while nobody asks for it (or sshd stops the command
 * once the channel's window is full). So each job has a thread of its own,
 * the pump, that alone touches the connection from ssh_job_start until the
 * end: it reads both streams without blocking into the ring, and carries
 * out what other threads ask through the job (a signal, a stop). One
 * thread per job, not one for all or the broker's once-a-second watch:
 * a slow or dead host then stalls its own job only, and output is taken at
 * once, not a second late; the broker bounds how many jobs run.
 *
 * Output. stdout and stderr are merged, in the order they arrive, into one
 * ring of ring_size bytes (the way a terminal shows them; the totals of
 * each are counted apart). Every byte has an offset in the job's whole
 * output, from 0: a reader asks for what follows the offset it has
 * (ssh_job_read) and gets the next offset to ask for, so polling neither
 * loses nor repeats a byte. When the command wrote more than the ring
 * holds before the reader came, the oldest bytes are gone: the read says
 * how many it skipped (dropped), and starts at the oldest byte kept.
 *
 * Signals. ssh_job_signal sends TERM, INT, KILL or HUP to the command's
 * process group twice over, because neither way works everywhere:
 *   1. the SSH "signal" channel request (RFC 4254 6.9), which OpenSSH
 *      (7.8 and later) honours with killpg() on the session under
 *      privilege separation, i.e. for every login but root: sshd logs
 *      "session signalling requires privilege separation" and ignores it
 *      for a root login, whose session the privileged monitor serves;
 *   2. then, from a second session on the same connection, a shell that
 *      signals the process group of every other session of the
 *      connection's sshd process (the job's only: the connection is the
 *      job's), with pkill, only when that login's uid is 0 (where 1 did
 *      nothing), so the signal arrives once either way.
 * Closing the channel is no substitute: sshd hangs up a session only when
 * it has a terminal, and a job has none, so the command would go on.
 * A stop (ssh_job_stop) is a KILL both ways, then the channel is closed.
 *
 * The end. When the command exits (an exit status, or a signal that
 * killed it), is stopped, or the connection fails, the pump calls the
 * owner's on_end once, from its own thread, with the final state, before
 * any reader sees the job as ended (so the end can be on record first).
 * After on_end the job no longer touches the connection: the owner may
 * close it there. Thread-safe: every function but ssh_job_free may be
 * called from any thread at any time.
 */
#ifndef ZT_SSH_JOB_H
#define ZT_SSH_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "resources/ssh_conn.h"

#define SSH_JOB_RING_DEFAULT (256 * 1024)   /* bytes of output kept */
#define SSH_JOB_READ_MAX (64 * 1024)        /* bytes one read returns at most */
#define SSH_JOB_SIGNAL_MS 10000             /* a signal's work, at most */
#define SSH_JOB_SIG_MAX 16

enum ssh_job_state {
	SSH_JOB_RUNNING = 0,
	SSH_JOB_EXITED,             /* exit_code holds its status */
	SSH_JOB_KILLED,             /* a signal ended it: signal names it */
	SSH_JOB_LOST,               /* the connection failed before an exit came */
};

/* "running", "exited", "killed", "lost". */
const char *ssh_job_state_name(enum ssh_job_state s);

/* A job's state now, or at its end. */
struct ssh_job_status {
	enum ssh_job_state state;
	int exit_code;              /* SSH_JOB_EXITED; else -1 */
	char signal[SSH_JOB_SIG_MAX];  /* SSH_JOB_KILLED: "TERM"; else "" */
	int stopped;                /* ended by ssh_job_stop */
	uint64_t total;             /* bytes of output so far (both streams) */
	uint64_t stdout_bytes;
	uint64_t stderr_bytes;
	char error[SSH_CONN_ERROR_MAX];  /* SSH_JOB_LOST: what failed */
};

struct ssh_job;
typedef void ssh_job_end_fn(struct ssh_job *j, const struct ssh_job_status *st, void *arg);

/* Starts command on c in a new channel (blocking, at most timeout_ms) and
 * the pump thread; the job uses c until on_end. ring_size 0: the default.
 * 0 with *out, or ZT_ERR_NET (the channel or the exec request failed;
 * error says why, and c is marked broken), ZT_ERR_NOMEM, ZT_ERR_INVALID,
 * ZT_ERR_INTERNAL (no thread). on_end is never called when this fails. */
int ssh_job_start(struct ssh_conn *c, const char *command, size_t ring_size,
    int64_t timeout_ms, ssh_job_end_fn *on_end, void *arg, struct ssh_job **out,
    char *error, size_t errorsz);

/* What a read returned. */
struct ssh_job_chunk {
	char *data;                 /* owned (free()), NUL-terminated, len bytes */
	size_t len;
	uint64_t from;              /* the offset of data[0] */
	uint64_t next;              /* the offset to ask for next */
	uint64_t dropped;           /* bytes between since and from that are gone */
	int more;                   /* more output is kept past next */
};

/* Output from offset since (an offset past the end reads from the end),
 * at most max bytes (0 or over SSH_JOB_READ_MAX: SSH_JOB_READ_MAX), and the
 * status at the same moment (so no byte written before an end is missed
 * by a reader that sees the end). 0 or ZT_ERR_NOMEM. */
int ssh_job_read(struct ssh_job *j, uint64_t since, size_t max, struct ssh_job_chunk *out,
    struct ssh_job_status *st);
void ssh_job_status(struct ssh_job *j, struct ssh_job_status *st);

/* 1 if name is a signal a job takes (TERM, INT, KILL, HUP). */
int ssh_job_signal_ok(const char *name);
/* Sends signal name (ssh_job_signal_ok) both ways above and waits for the
 * pump to have done it, at most SSH_JOB_SIGNAL_MS. 0; ZT_ERR_INVALID (not
 * a signal a job takes), ZT_ERR_STOPPED (the job has ended or is being stopped),
 * ZT_ERR_TIMEOUT.
 * how (howsz bytes) says what was done: "ssh signal request",
 * "ssh signal request; pkill as uid 0"; on ZT_ERR_TIMEOUT "queued" when
 * the signal was handed to the pump, which may still send it, "" when it
 * was not. */
int ssh_job_signal(struct ssh_job *j, const char *name, char *how, size_t howsz);
/* Asks the pump to kill the command and close the channel; returns at
 * once (the end comes through on_end). A no-op once ended. */
void ssh_job_stop(struct ssh_job *j);
/* Waits until the job ended (on_end returned) or timeout_ms passed: 1 if
 * ended. */
int ssh_job_wait(struct ssh_job *j, int64_t timeout_ms);

/* Stops the job if it runs, waits for its end (on_end is called), joins
 * the pump and frees. NULL is a no-op. */
void ssh_job_free(struct ssh_job *j);

#endif
