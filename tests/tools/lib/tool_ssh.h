/*
 * tool_ssh.h - what the test-only programs that drive a resource against
 * the test sshd (tests/e2e/lib/sshd.mjs) share: their common options
 * (--ca-dir, --port, --host-key-file, --login) and an SSH connection to
 * 127.0.0.1:PORT with a fresh certificate from that CA, as the broker
 * mints one (resources/ssh_conn.h).
 *
 * Test code only; never linked into ztbroker or ztctl.
 */
#ifndef ZT_TOOL_SSH_H
#define ZT_TOOL_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "common/sshca.h"
#include "resources/ssh_conn.h"

struct tool_ssh_args {
	const char *ca_dir;             /* the CA sshcert_mint made (sshd trusts it) */
	const char *hk_file;            /* sshd's host key, .pub, pinned */
	const char *login;
	unsigned long port;             /* sshd's, on 127.0.0.1 */
};

/* Takes argv[*i] (and its value, argv[*i + 1]) when it is one of the
 * common options, advancing *i past the value: 1 when taken; 0 when
 * argv[*i] is another option and a value follows it (every option of
 * these programs that is not a flag takes one); -1 when none follows. */
int tool_ssh_arg(struct tool_ssh_args *a, int argc, char **argv, int *i);
/* 1 when every common option was given (and the port is 1..65535). */
int tool_ssh_args_ok(const struct tool_ssh_args *a);

/* An open connection and what it holds on to. */
struct tool_ssh {
	int fd;                         /* the TCP socket to sshd; -1 when none */
	struct sshca *ca;
	char *host_key;
	struct ssh_conn *conn;          /* NULL until opened */
};

/* Connects as a->login within timeout_ms, the certificate's key id
 * "zt:user:e2e:<id>" and, when port_forwarding is set, the extension
 * permit-port-forwarding. 0 with t->conn, or a ZT_ERR_* with error
 * (errorsz bytes) saying what failed; either way tool_ssh_close(t) ends
 * it. */
int tool_ssh_open(const struct tool_ssh_args *a, const char *id, int port_forwarding,
    int64_t timeout_ms, struct tool_ssh *t, char *error, size_t errorsz);
/* Closes the connection and frees what t holds; safe after a failed open. */
void tool_ssh_close(struct tool_ssh *t);

#endif
