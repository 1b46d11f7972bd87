/*
 * ssh_conn.h - one authenticated SSH connection to a host's sshd, over a
 * stream the caller already connected (a tunnel stream): the handshake,
 * the host key pinned to the one expected (no trust on first use), and
 * authentication with a fresh Ed25519 key and an OpenSSH user certificate
 * from the broker's SSH user CA (principal = login, valid now-30 ..
 * now+120, key id "zt:<identity>:<id>", extension permit-pty, and
 * permit-port-forwarding only when asked for: a connection that carries
 * forwards, resources/ssh_forward.h). The key lives only inside libssh's
 * session and is freed with it.
 *
 * What runs on a connection opens its own channel: ssh_exec (resources/
 * ssh_exec.h), SFTP, shells and forwards. A connection is used by one
 * thread at a time (libssh sessions are not thread-safe).
 */
#ifndef ZT_SSH_CONN_H
#define ZT_SSH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "common/sshca.h"

#define SSH_CONN_KEY_ID_MAX 256
#define SSH_CONN_ERROR_MAX 256
#define SSH_CONN_CERT_BEFORE 30   /* seconds a certificate is valid before now */
#define SSH_CONN_CERT_AFTER 120   /* and after */

enum ssh_exec_status {
	SSH_EXEC_OK = 0,            /* the command ran; any exit code */
	SSH_EXEC_TIMEOUT,           /* deadline passed; command killed, channel closed */
	SSH_EXEC_CANCELLED,         /* cancelled() returned 1; likewise */
	SSH_EXEC_HOSTKEY_MISMATCH,  /* server's host key is not the expected one */
	SSH_EXEC_AUTH_FAILED,       /* sshd refused the certificate */
	SSH_EXEC_CONNECT_FAILED,    /* SSH handshake, channel or I/O failure */
	SSH_EXEC_ERROR,             /* bad request or local failure (key, cert) */
};

/* "ok", "timeout", "cancelled", "hostkey_mismatch", "auth_failed",
 * "connect_failed", "error". */
const char *ssh_exec_status_name(enum ssh_exec_status s);

struct ssh_conn;

struct ssh_conn_req {
	int fd;                     /* connected stream socket; the caller owns it */
	const char *host_key;       /* expected host key: "ssh-ed25519 AAAA... [comment]" */
	const struct sshca *ca;
	const char *login;          /* remote user and the certificate's only principal */
	const char *identity;       /* key id = "zt:<identity>:<id>" */
	const char *id;             /* the connection's (or the call's) id */
	uint64_t serial;            /* certificate serial */
	uint64_t now;               /* unix seconds; cert valid now-30 .. now+120 */
	int64_t timeout_ms;         /* handshake and authentication; must be > 0 */
	int port_forwarding;        /* 1: the certificate also says permit-port-forwarding */
	int (*cancelled)(void *arg);        /* optional; polled every <= 100 ms */
	void *arg;
};

/* What opening a connection did: for the audit and the error. */
struct ssh_conn_info {
	enum ssh_exec_status status;
	uint64_t serial;            /* certificate minted (0 before signing) */
	char key_id[SSH_CONN_KEY_ID_MAX];
	char error[SSH_CONN_ERROR_MAX];  /* "" when opened */
};

/* Opens a connection over req->fd (which it duplicates: the caller keeps
 * and closes its own descriptor whenever it likes after ssh_conn_close()).
 * 0 with *out, or ZT_ERR_TIMEOUT, ZT_ERR_CANCELLED, ZT_ERR_PIN (host key),
 * ZT_ERR_AUTH, ZT_ERR_NET, ZT_ERR_INVALID, ZT_ERR_NOMEM, ZT_ERR_CRYPTO with
 * info saying what happened. info is always filled. */
int ssh_conn_open(const struct ssh_conn_req *req, struct ssh_conn **out,
    struct ssh_conn_info *info);
/* Disconnects and frees; NULL is a no-op. */
void ssh_conn_close(struct ssh_conn *c);
/* 1 while the SSH connection is up (no error, no disconnect seen). */
int ssh_conn_alive(const struct ssh_conn *c);
/* When its certificate stops being valid (unix seconds): sshd does not
 * recheck it on a live connection, so zt retires the connection then. */
int64_t ssh_conn_expires(const struct ssh_conn *c);
/* The certificate's serial and key id (borrowed). */
uint64_t ssh_conn_serial(const struct ssh_conn *c);
const char *ssh_conn_key_id(const struct ssh_conn *c);

#endif
