/*
 * brk_dial.h - streams through agents: the broker side of dial/accept.
 *
 * brk_dial() asks the agent of a resource for a stream to it: it queues
 * dial{id, resource} for the agent's control connection (brk_agents_dial)
 * and waits. The agent opens a new mutual-TLS connection to the tunnel
 * listener and sends accept{id} (or error{id} when the resource's address
 * refused; or, when it is busy or advertises no such resource any more,
 * error{id} on the control connection); the
 * tunnel's connection thread claims the waiting dial (brk_dials_claim) and
 * pumps that connection into one end of a socketpair,
 * whose other end brk_dial() returns: a plain file descriptor that libssh
 * can use as if it were a TCP connection to the target.
 *
 * Dial ids are 128-bit random: a stream connection must name a dial that is
 * waiting, for the agent its certificate names. Thread-safe.
 */
#ifndef ZT_BRK_DIAL_H
#define ZT_BRK_DIAL_H

#include <stddef.h>

struct brk;
struct brk_dials;

#define BRK_DIAL_TIMEOUT_MS 10000
#define BRK_DIAL_WHY_MAX 300

struct brk_dials *brk_dials_new(void);
/* Frees the table; no dial may be waiting. NULL is a no-op. */
void brk_dials_free(struct brk_dials *d);

/*
 * Opens a stream to resource host (an approved resource of some agent),
 * waiting at most timeout_ms for its agent. cancelled (may be NULL) is
 * polled every 100 ms. On 0, *fd is a connected stream socket (the caller
 * closes it). Errors, with a sentence for people in why: ZT_ERR_NOT_FOUND
 * (no resource of that name), ZT_ERR_LOCKED (an operator locked the agent), ZT_ERR_OFFLINE (its
 * control connection is down, or went down
 * while waiting), ZT_ERR_TIMEOUT (no answer in time), ZT_ERR_NET (the agent
 * could not reach the address, or refused the dial), ZT_ERR_TOO_LARGE (too many dials waiting for
 * that agent), ZT_ERR_CANCELLED, ZT_ERR_IO/ZT_ERR_NOMEM.
 */
int brk_dial(struct brk *b, const char *host, int timeout_ms, int (*cancelled)(void *arg),
    void *arg, int *fd, char *why, size_t whysz);

/* For the tunnel: a stream connection from agent accepted dial id. On 0
 * *fd is the broker's end of the stream (owned by the caller, who pumps
 * and closes it) and the dialler is woken. ZT_ERR_NOT_FOUND when no dial
 * id waits for that agent (unknown, answered or given up). */
int brk_dials_claim(struct brk_dials *d, const char *id, const char *agent, int *fd);
/* The agent answered dial id with an error (code, message from the
 * agent): the dialler gets ZT_ERR_NET and the message. */
void brk_dials_fail(struct brk_dials *d, const char *id, const char *agent, const char *code,
    const char *message);
/* The agent's control connection ended: every dial waiting for it fails
 * with ZT_ERR_OFFLINE now instead of timing out. */
void brk_dials_fail_agent(struct brk_dials *d, const char *agent);

#endif
