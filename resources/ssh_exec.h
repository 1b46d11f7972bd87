/*
 * ssh_exec.h - runs one command on a host over SSH. Independent of MCP and
 * of tunnels: ssh_exec_on() runs it on a connection resources/ssh_conn.h
 * opened (warm connections reuse one for many commands); ssh_exec_run()
 * opens one for the command alone over an already connected stream socket
 * to the target's sshd (the certificate's key id is then
 * "zt:<identity>:<call id>") and closes it after.
 */
#ifndef ZT_SSH_EXEC_H
#define ZT_SSH_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/sshca.h"
#include "resources/ssh_conn.h"

#define SSH_EXEC_MAX_OUTPUT_DEFAULT (1024 * 1024) /* bytes per stream */
#define SSH_EXEC_KEY_ID_MAX SSH_CONN_KEY_ID_MAX
#define SSH_EXEC_ERROR_MAX SSH_CONN_ERROR_MAX

struct ssh_exec_req {
	int fd;                     /* connected stream socket; the caller owns it */
	const char *host_key;       /* expected host key: "ssh-ed25519 AAAA... [comment]" */
	const struct sshca *ca;
	const char *login;          /* remote user and the certificate's only principal */
	const char *command;
	const char *identity;       /* key id = "zt:<identity>:<call_id>" */
	const char *call_id;
	uint64_t serial;            /* certificate serial */
	uint64_t now;               /* unix seconds; cert valid now-30 .. now+120 */
	int64_t timeout_ms;         /* whole call, connect included; must be > 0 */
	size_t max_output;          /* bytes kept per stream; 0 = default (1 MiB) */
	int (*cancelled)(void *arg);        /* optional; polled every <= 100 ms */
	void (*progress)(void *arg, size_t out_bytes, size_t err_bytes,
	    int64_t elapsed_ms);            /* optional; about once a second */
	void *arg;
};

struct ssh_exec_result {
	enum ssh_exec_status status;
	int exit_code;              /* -1 if none was received */
	char *stdout_buf;           /* owned, NUL-terminated, stdout_len bytes (may hold NULs) */
	size_t stdout_len;
	char *stderr_buf;
	size_t stderr_len;
	int truncated_stdout;       /* output past max_output was read and dropped */
	int truncated_stderr;
	size_t stdout_total;        /* bytes received, including dropped ones */
	size_t stderr_total;
	int64_t duration_ms;
	int started;                /* the command was started (its exec request accepted) */
	uint64_t serial;            /* certificate used (for audit); 0 before signing */
	char key_id[SSH_EXEC_KEY_ID_MAX];
	char error[SSH_EXEC_ERROR_MAX];  /* "" on SSH_EXEC_OK */
};

/*
 * Runs req->command. *out is always initialised (free it with
 * ssh_exec_result_free). Returns 0 when the command ran (out->status is
 * SSH_EXEC_OK, whatever its exit code), else a negative ZT_ERR_*:
 * ZT_ERR_TIMEOUT, ZT_ERR_CANCELLED, ZT_ERR_PIN (host key mismatch), ZT_ERR_AUTH,
 * ZT_ERR_NET (connect failed), ZT_ERR_INVALID, ZT_ERR_NOMEM, ZT_ERR_CRYPTO,
 * with out->status and out->error saying what happened. req->fd is never closed.
 */
int ssh_exec_run(const struct ssh_exec_req *req, struct ssh_exec_result *out);

/* Runs req->command on the open connection c, in a channel of its own:
 * only command, timeout_ms (this command's), max_output, cancelled,
 * progress and arg of req are read. *out as ssh_exec_run's (serial and
 * key_id are the connection's). A connection that failed under it is
 * marked so (ssh_conn_alive() then says 0). */
int ssh_exec_on(struct ssh_conn *c, const struct ssh_exec_req *req, struct ssh_exec_result *out);

/* Frees the buffers of *r (not r itself); NULL is a no-op. */
void ssh_exec_result_free(struct ssh_exec_result *r);


#endif
