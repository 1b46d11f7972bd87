/*
 * brk_agents.h - the agents the broker knows: what each advertised (labels,
 * SSH target and host key), whether its control connection is up, and the
 * key its name is bound to.
 *
 * A name is bound to the public key of the first agent certificate that
 * connected with it; another key presenting the same name is refused
 * (ZT_ERR_EXISTS), so a second machine cannot take over a host's name.
 * With a store, the binding and the last advertisement are kept in it
 * (store_agent_*): a restarted broker lists every known host, offline until
 * its agent connects again, and still refuses another key under its name.
 * The store is the authority on bindings: brk_agents_online() checks it at
 * every connection, so a binding removed there (brk_agents_remove, or the
 * offline `ztbroker admin agents rm` while this broker runs) is honoured
 * at the next connection under that name. Without a store (NULL) the
 * bindings live as long as the registry. While an agent is online, its
 * entry also holds the dials waiting to be sent on its control connection.
 * Thread-safe.
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

struct store;

/* A registry keeping its bindings in st (borrowed; it must outlive the
 * registry), loaded from it: every stored agent starts offline with the
 * labels, target, host key and last_seen it had (at most BRK_AGENTS_MAX;
 * the rest are logged and left to the store). st NULL: memory only. NULL
 * if memory or the store fails (logged). */
struct brk_agents *brk_agents_new(struct store *st);
void brk_agents_free(struct brk_agents *a);
/* Marks the agent of a hello online, bound to key_pin: with a store, the
 * binding is checked, or made, there first and the advertisement and
 * last_seen recorded with it; an agent whose binding could not be checked
 * is refused. *gen identifies this connection for brk_agents_seen/offline/
 * take_dials (a newer connection of the same agent supersedes it). wake_fd
 * is the connection's doorbell: brk_agents_dial() writes a byte to it
 * (non-blocking) after queueing a dial; it is forgotten at offline, before
 * the caller closes it. 0, ZT_ERR_EXISTS (name bound to another key),
 * ZT_ERR_TOO_LARGE (registry full), ZT_ERR_NOMEM, or the store's error
 * (ZT_ERR_DB, logged). */
int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen);
/* A heartbeat: last_seen in memory only (the store gets it at offline). */
void brk_agents_seen(struct brk_agents *a, const char *name, uint64_t gen, int64_t now);
/* Connection gen ended: the agent is offline, its last_seen written to
 * the store (a failure is logged). */
void brk_agents_offline(struct brk_agents *a, const char *name, uint64_t gen);
/* Forgets an offline agent and its binding (store and memory), freeing the
 * name for another key, e.g. a host rebuilt with a new key. 0,
 * ZT_ERR_NOT_FOUND (neither the registry nor the store knows it),
 * ZT_ERR_EXISTS (it is online: its connection exists; stop the agent
 * first), or the store's error. */
int brk_agents_remove(struct brk_agents *a, const char *name);
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
/* What the store keeps of one agent, without a registry (offline admin
 * verbs): as brk_agents_get() gives it after a restart, offline. 0,
 * ZT_ERR_NOT_FOUND or the store's error. */
int brk_agents_stored(struct store *st, const char *name, struct brk_agent_info *out);
/* Calls fn for a snapshot of every agent in name order. */
int brk_agents_each(struct brk_agents *a, int (*fn)(const struct brk_agent_info *ag, void *arg),
    void *arg);

#endif
