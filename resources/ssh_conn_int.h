/*
 * ssh_conn_int.h - what the operations of resources/ (ssh_exec, later SFTP
 * and shells) need of a connection beyond its contract: its libssh session.
 * Nothing outside resources/ includes this file.
 */
#ifndef ZT_SSH_CONN_INT_H
#define ZT_SSH_CONN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <libssh/libssh.h>

#include "resources/ssh_conn.h"

/* The connection's libssh session (borrowed; used by one thread at a time). */
ssh_session ssh_conn_session(struct ssh_conn *c);
/* Marks the connection unusable after an I/O failure on it. */
void ssh_conn_broken(struct ssh_conn *c);

#define SSH_CONN_POLL_MS 100

/* Records a failure (st, and the message in error[errorsz]) and returns
 * err: how every operation here says what went wrong. */
int ssh_fail_into(enum ssh_exec_status *status, char *error, size_t errorsz,
    enum ssh_exec_status st, int err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Milliseconds left before deadline (net_mono_ms() time), 0 when past. */
int64_t ssh_remaining_ms(int64_t deadline);
/* Sets libssh's blocking timeout to what is left before the deadline. */
void ssh_set_deadline(ssh_session s, int64_t deadline);
/* One wait step of a non-blocking phase: checks cancellation and the
 * deadline, then waits at most max_ms for the session's socket. 0 to go
 * on, ZT_ERR_CANCELLED, ZT_ERR_TIMEOUT, or ZT_ERR_IO (poll failed). */
int ssh_poll_step(ssh_session s, int64_t deadline, int (*cancelled)(void *arg), void *arg,
    int64_t max_ms);

/* Signals, from a second session on the connection, the process groups
 * of its other sessions (ssh_exec.c says how and why). 0 when one was
 * signalled; SSH_SIBLINGS_SKIPPED when only_uid0 and the login's uid is
 * not 0; else nothing was. Blocks at most SSH_EXEC_KILL_MS. */
#define SSH_EXEC_KILL_MS 3000
#define SSH_SIBLINGS_SKIPPED 3
int ssh_signal_siblings(ssh_session s, const char *sig, int only_uid0);

#endif
