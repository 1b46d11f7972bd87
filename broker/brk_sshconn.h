/*
 * brk_sshconn.h - a gated call's SSH connection, shared by every SSH tool
 * (ssh_exec, the file tools, jobs): the host and login arguments, a warm
 * connection or a new one, and giving it back.
 *
 * A call takes a warm connection of its credential to the host as the
 * login (brk_sshpool.h), or opens one: a stream through the host's agent
 * (brk_dial.h; an offline or locked host fails at once), then
 * resources/ssh_conn.h over it with a fresh key and a two-minute
 * certificate (principal = login, key id "zt:<identity>:<conn id>"), the
 * host key pinned to the one the agent advertised. The tool then opens
 * its own channel on it. A warm connection that died meanwhile (sshd
 * restarted, the tunnel dropped) is replaced once, when the tool's work
 * had not started on it (brk_sshconn_retry). The outcome event names the
 * connection, whether it was reused, and its certificate's serial and key
 * id (brk_sshconn_done).
 *
 * The housekeeping of warm connections (brk_sshconn_chore) runs once a
 * second (brk_watch.h): idle ones close when they expired, their host went
 * offline or was locked, or the roles changed; and, when the store changed
 * (a lock, a removal, a logout) and every BRK_SSHCONN_CHECK_S anyway, when
 * their credential no longer holds.
 */
#ifndef ZT_BRK_SSHCONN_H
#define ZT_BRK_SSHCONN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct brk;
struct brk_call;
struct brk_pooled;
struct brk_watch_round;

#define BRK_SSH_LOGIN_MAX 32
#define BRK_SSHCONN_CHECK_S 5

/* Reads "host" and "login" of args into c->host and c->login: 0, or
 * ZT_ERR_INVALID with err saying what is wrong. Other keys are the
 * tool's to check. */
int brk_sshconn_parse_target(struct brk_call *c, const cJSON *args, char *err, size_t errsz);

/* A connection for c (host, login, credential), busy for this call until
 * brk_sshconn_done: warm or new, opened by deadline_ms (net_mono_ms
 * time). 0 with *pc; else the failure is in c->outcome (status, error)
 * and, unless the call was cancelled (ZT_ERR_CANCELLED), in *result as a
 * tool error with c->failed set: the caller returns 0 then. */
int brk_sshconn_get(struct brk_call *c, int64_t deadline_ms, struct brk_pooled **pc,
    cJSON **result);

/* After work on pc failed: 1 when it should run again on a new
 * connection (pc was warm, the work had not started, *tries was 0, the
 * call is not cancelled); pc is then closed and *tries counted. 0: the
 * failure stands. error is for the log. */
int brk_sshconn_retry(struct brk_call *c, struct brk_pooled *pc, int started, int *tries,
    const char *error);

/* The call is done with pc: the outcome gets conn_id, conn_reused,
 * cert_serial and key_id, and pc goes back to the pool (closed when
 * discard is set, e.g. for a cancelled call: nothing of it stays warm). */
void brk_sshconn_done(struct brk_call *c, struct brk_pooled *pc, int discard);

/* As brk_sshconn_done, but pc is the caller's for good (detached from the
 * pool, brk_sshpool_detach): a background job's connection, which lives
 * past the pool's rules and is closed by its job. */
void brk_sshconn_keep(struct brk_call *c, struct brk_pooled *pc);

/* As brk_sshconn_done, but pc stays busy, lent to what outlives the
 * call (a transfer link, brk_xfer.h), which gives it back to the pool. */
void brk_sshconn_lend(struct brk_call *c, struct brk_pooled *pc);

/* Why pc may no longer serve its identity, or NULL: its host gone,
 * offline or locked, its host key changed, or the roles changed since
 * (generation: brk_policy_generation now), all from memory; and with full,
 * its credential no longer valid (a store lookup). The housekeeping's
 * reasons for closing idle connections, and for ending what holds one
 * (transfers). */
const char *brk_sshconn_why(struct brk *b, const struct brk_pooled *pc, int64_t generation,
    int full);

/* For ssh_conn and ssh_exec requests: 1 if the call was cancelled (arg is
 * the struct brk_call). */
int brk_sshconn_cancelled(void *arg);

/* The housekeeping above (a brk_watch chore). */
void brk_sshconn_chore(struct brk *b, const struct brk_watch_round *rd, void *arg);

#endif
