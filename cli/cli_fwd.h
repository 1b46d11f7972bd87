/*
 * cli_fwd.h - `ztctl ssh -L [BIND:]PORT:HOST:PORT`: local ports forwarded
 * through the broker (broker/brk_fwd.h).
 *
 * Each -L listens on BIND (default 127.0.0.1, as OpenSSH's) port PORT; each
 * connection accepted there gets a thread of its own with its own
 * WebSocket to /ws/tcp, which the broker decides as one call of the tool
 * port_forward (a role needs options.port_forwarding: true) and relays to
 * HOST:PORT as the remote host sees it. A refused forward closes its local
 * connection and says why on standard error; the others go on. A forward
 * held for the caller's step-up asks for the code (one prompt at a time)
 * when it may.
 */
#ifndef ZT_CLI_FWD_H
#define ZT_CLI_FWD_H

#include <stddef.h>
#include <poll.h>

#define CLI_FWD_MAX 16                  /* -L options of one ztctl ssh */

struct cli_fwd_spec {
	char bind[256];
	int port;
	char to_host[256];
	int to_port;
};

/* Parses "[BIND:]PORT:HOST:PORT" (BIND and HOST may be [IPv6]). 0 or
 * ZT_ERR_INVALID. */
int cli_fwd_parse(const char *text, struct cli_fwd_spec *out);

struct cli_fwds;

/* Where the forwards go: the broker, its pin, the session token (copied,
 * wiped at close), the host and login of the session; and whether a
 * forward held for the caller's own MFA step-up may ask for the code on
 * the terminal (not while a shell has it in raw mode: then the message
 * says where to answer). */
struct cli_fwd_target {
	const char *broker, *pin, *token, *host, *login;
	int may_ask;
};

/* Listens on every spec. 0 with *out, or ZT_ERR_NET with err naming the
 * address that could not be bound, or ZT_ERR_NOMEM. */
int cli_fwds_listen(const struct cli_fwd_spec *specs, size_t n,
    const struct cli_fwd_target *to, struct cli_fwds **out, char *err, size_t errsz);
/* The listeners into p (at most max, POLLIN), for the caller's poll;
 * returns how many. */
size_t cli_fwds_pollfds(const struct cli_fwds *f, struct pollfd *p, size_t max);
/* Accepts on listener fd (readable) and starts its forward. */
void cli_fwds_accept(struct cli_fwds *f, int fd);
/* Stops listening, ends the forwards running (within a fraction of a
 * second) and frees. NULL is a no-op. */
void cli_fwds_close(struct cli_fwds *f);

#endif
