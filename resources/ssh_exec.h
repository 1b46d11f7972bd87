/*
 * ssh_exec.h - runs one command on a host over SSH with a fresh, short-lived
 * OpenSSH user certificate (zt issue 4, ssh_exec). Independent of MCP and of
 * tunnels: the caller hands in an already connected stream socket to the
 * target's sshd and the host key it must present (no trust on first use).
 *
 * Per call a fresh Ed25519 key is generated in memory and certified by the
 * broker's SSH user CA (principal = login, valid now-30 .. now+120, key id
 * "zt:<identity>:<call id>", extension permit-pty only); the key is wiped and
 * freed before ssh_exec_run() returns.
 */
#ifndef ZT_SSH_EXEC_H
#define ZT_SSH_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/sshca.h"

#define SSH_EXEC_MAX_OUTPUT_DEFAULT (1024 * 1024) /* bytes per stream */
#define SSH_EXEC_KEY_ID_MAX 256
#define SSH_EXEC_ERROR_MAX 256

enum ssh_exec_status {
	SSH_EXEC_OK = 0,            /* the command ran; any exit code */
	SSH_EXEC_TIMEOUT,           /* deadline passed; command killed, channel closed */
	SSH_EXEC_CANCELLED,         /* cancelled() returned 1; likewise */
	SSH_EXEC_HOSTKEY_MISMATCH,  /* server's host key is not req->host_key */
	SSH_EXEC_AUTH_FAILED,       /* sshd refused the certificate */
	SSH_EXEC_CONNECT_FAILED,    /* SSH handshake, channel or I/O failure */
	SSH_EXEC_ERROR,             /* bad request or local failure (key, cert) */
};

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

/* Frees the buffers of *r (not r itself); NULL is a no-op. */
void ssh_exec_result_free(struct ssh_exec_result *r);

/* "ok", "timeout", "cancelled", "hostkey_mismatch", "auth_failed",
 * "connect_failed", "error". Never NULL. */
const char *ssh_exec_status_name(enum ssh_exec_status s);

#endif
