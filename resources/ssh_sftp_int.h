/*
 * ssh_sftp_int.h - what the two halves of resources/ssh_sftp.h share:
 * ssh_sftp.c holds the session, its watchdog and the operations of one
 * request (realpath, stat, remove); ssh_sftp_file.c reading, writing and
 * listing; ssh_sftp_rename.c the replacing rename libssh lacks. Nothing outside resources/ includes this file.
 */
#ifndef ZT_SSH_SFTP_INT_H
#define ZT_SSH_SFTP_INT_H

#include <pthread.h>
#include <stdint.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "resources/ssh_sftp.h"

struct ssh_sftp {
	struct ssh_conn *conn;
	ssh_session s;
	sftp_session sftp;
	struct ssh_sftp_req req;
	struct ssh_sftp_err err;
	int dead;                       /* nothing more may be sent */
	/* The watchdog (ssh_sftp.h): fired is SSH_EXEC_TIMEOUT or
	 * SSH_EXEC_CANCELLED once it shut the socket down. */
	pthread_t dog;
	int dog_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	enum ssh_exec_status fired;
};

/* Records a failure of s and returns err; any status but SSH_EXEC_ERROR
 * (a refusal by the server) leaves the session dead. */
int sftp_fail(struct ssh_sftp *s, enum ssh_exec_status st, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Before each libssh call: 0, or the timeout or cancellation as the
 * failure; sets libssh's timeout to what is left. */
int sftp_step(struct ssh_sftp *s);
/* After a libssh call failed: the failure as ssh_sftp.h says (the
 * server's status, or the watchdog's reason, or a broken channel), named
 * by what ("open /x"). */
int sftp_failed(struct ssh_sftp *s, const char *what);

/* Renames from to to with posix-rename@openssh.com (ssh_sftp_rename.c),
 * replacing to in one step; the caller checked that the server offers it.
 * 0, or the failure as sftp_failed's. */
int sftp_posix_rename(struct ssh_sftp *s, const char *from, const char *to);
/* Parses an SSH_FXP_STATUS reply p[0..n) (from its type byte on) to the
 * request id: 0 with *code, ZT_ERR_PROTOCOL (another type or id) or the
 * buffer's error (truncated, trailing bytes). */
int sftp_status_parse(const uint8_t *p, size_t n, uint32_t id, uint32_t *code);

/* libssh's attributes as ssh_sftp.h reports them. */
void sftp_attr_from(const struct sftp_attributes_struct *in, struct ssh_sftp_attr *a);

#endif
