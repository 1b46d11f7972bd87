/*
 * brk_agents.h - the agents the broker knows: what each advertised (labels,
 * SSH target and host key), whether its control connection is up, and the
 * key its name is bound to.
 *
 * A name is bound to the public key of the first agent certificate that
 * connected with it; another key presenting the same name is refused
 * (ZT_ERR_EXISTS), so a second machine cannot take over a host's name.
 * The binding lives as long as the broker process (persisting it is a
 * later step). While an agent is online, its entry also holds the dials
 * waiting to be sent on its control connection. Thread-safe.
 */
#ifndef ZT_BRK_AGENTS_H
#define ZT_BRK_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/tun.h"

#define BRK_AGENTS_MAX 4096
#define BRK_AGENTS_DIALS 16 /* dials queued for one control connection */

struct brk_agent_info {
	char name[TUN_NAME_MAX + 1];
	struct tun_label labels[TUN_LABELS_MAX];
	size_t nlabels;
	char ssh_target[TUN_TARGET_MAX + 1];
	char ssh_host_key[TUN_HOSTKEY_MAX + 1];
	int online;
	int64_t last_seen;
};

struct brk_agents;

struct brk_agents *brk_agents_new(void);
void brk_agents_free(struct brk_agents *a);
/* Marks the agent of a hello online, bound to key_pin. *gen identifies
 * this connection for brk_agents_seen/offline/take_dials (a newer
 * connection of the same agent supersedes it). wake_fd is the connection's
 * doorbell: brk_agents_dial() writes a byte to it (non-blocking) after
 * queueing a dial; it is forgotten at offline, before the caller closes it.
 * 0, ZT_ERR_EXISTS (name bound to another key), ZT_ERR_TOO_LARGE (registry
 * full). */
int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen);
void brk_agents_seen(struct brk_agents *a, const char *name, uint64_t gen, int64_t now);
void brk_agents_offline(struct brk_agents *a, const char *name, uint64_t gen);
/* Queues dial id for the control connection of agent name and rings its
 * doorbell: 0, ZT_ERR_NOT_FOUND (no such agent), ZT_ERR_OFFLINE (not
 * connected), ZT_ERR_TOO_LARGE (BRK_AGENTS_DIALS already queued). */
int brk_agents_dial(struct brk_agents *a, const char *name, const char *id);
/* Moves up to max dial ids queued for connection gen of agent name into
 * ids; returns how many (0 when the connection was superseded). */
size_t brk_agents_take_dials(struct brk_agents *a, const char *name, uint64_t gen,
    char ids[][TUN_ID_MAX + 1], size_t max);
/* 1 if name is bound to key_pin (a stream connection's certificate must
 * carry the key of the agent it claims to be), else 0. */
int brk_agents_bound_to(struct brk_agents *a, const char *name, const char *key_pin);
/* A copy of one agent's entry: 0 or ZT_ERR_NOT_FOUND. */
int brk_agents_get(struct brk_agents *a, const char *name, struct brk_agent_info *out);
/* Calls fn for a snapshot of every agent in name order. */
int brk_agents_each(struct brk_agents *a, int (*fn)(const struct brk_agent_info *ag, void *arg),
    void *arg);

#endif
