/*
 * ssh_shell.h - a terminal on a host: one session channel on a connection
 * (resources/ssh_conn.h) with a pseudo-terminal of a given type and size,
 * running the login's shell or one command, for a person's `ztctl ssh`
 * (the broker relays it, broker side, and records it, audit/aud_rec.h).
 * Independent of the broker, of policy and of how the terminal reaches
 * the person.
 *
 * The caller's thread drives it without blocking: ssh_shell_read() takes
 * what the host sent (stdout and stderr apart, so a command without a
 * terminal can keep them apart), ssh_shell_write() sends what was typed,
 * ssh_shell_resize() the new size, ssh_shell_wait() waits up to a bound
 * for either the host's bytes or the caller's own descriptor (its side of
 * the relay), and ssh_shell_exit() says once the command ended how it
 * did. Like its connection, a shell belongs to one thread at a time.
 */
#ifndef ZT_SSH_SHELL_H
#define ZT_SSH_SHELL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resources/ssh_conn.h"

#define SSH_SHELL_TERM_MAX 64
#define SSH_SHELL_DIM_MAX 10000         /* columns or rows */

struct ssh_shell_req {
	int pty;                        /* request a pseudo-terminal */
	const char *term;               /* its type ("xterm-256color"); pty only */
	int cols, rows;                 /* its size, 1..SSH_SHELL_DIM_MAX; pty only */
	const char *command;            /* NULL: the login's shell */
	int64_t timeout_ms;             /* opening (channel, pty, shell or exec) */
};

struct ssh_shell;

/* Opens the channel and starts the shell or the command. 0 with *out, or
 * ZT_ERR_INVALID (a bad request), ZT_ERR_NOMEM, ZT_ERR_NET (the channel or
 * a request failed: error says which; c is marked broken unless the host
 * merely refused the request). */
int ssh_shell_open(struct ssh_conn *c, const struct ssh_shell_req *req, struct ssh_shell **out,
    char *error, size_t errorsz);

/* What arrived, without waiting: bytes into p (at most n), *is_stderr says
 * from which stream; 0 when nothing is there; SSH_SHELL_EOF when the host
 * sent everything (then see ssh_shell_exit); ZT_ERR_NET when the
 * connection failed. stdout first when both have bytes. */
#define SSH_SHELL_EOF (-1000)
ssize_t ssh_shell_read(struct ssh_shell *s, void *p, size_t n, int *is_stderr);
/* Sends all of p[0..n) as input (waits for the host's window, at most
 * timeout_ms). 0, ZT_ERR_TIMEOUT or ZT_ERR_NET. */
int ssh_shell_write(struct ssh_shell *s, const void *p, size_t n, int64_t timeout_ms);
/* Ends the input (EOF on stdin). 0 or ZT_ERR_NET. */
int ssh_shell_send_eof(struct ssh_shell *s);
/* The terminal's new size. 0, ZT_ERR_INVALID or ZT_ERR_NET. */
int ssh_shell_resize(struct ssh_shell *s, int cols, int rows);
/* Waits up to ms for bytes from the host or, when fd >= 0, for fd to be
 * readable: 1 when the host has something (or ended), 2 when only fd is
 * readable, 0 when the time passed. Bytes libssh already holds count. */
int ssh_shell_wait(struct ssh_shell *s, int fd, int ms);
/* After SSH_SHELL_EOF: the exit status (0..255), or -1 with signal (at
 * most SSH_SHELL_SIG_MAX bytes: "KILL") when a signal ended it, or -1 and
 * "" when the host said neither. */
#define SSH_SHELL_SIG_MAX 16
int ssh_shell_exit(struct ssh_shell *s, char *signal, size_t signalsz);
/* Closes the channel (the connection stays); NULL is a no-op. */
void ssh_shell_close(struct ssh_shell *s);

#endif
