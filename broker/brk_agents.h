/*
 * brk_agents.h - the agents the broker knows: the claims each may make
 * (labels, and the resources it advertises: each a name, a kind, an
 * address, a host key or certificate pin, labels), whether its control
 * connection is up, and the key its name is bound to; and the resources,
 * which tool calls name (`host`).
 *
 * A name is bound to the public key of the first agent certificate that
 * connected with it; another key presenting the same name is refused
 * (ZT_ERR_EXISTS), so a second machine cannot take over a host's name.
 *
 * What a name may claim is fixed when it joins. At the first hello of a
 * new name, what the agent advertises becomes its approved claims, except
 * the labels when its join token carried some: those win. A known name
 * that joins again gets its token's labels approved only if the token
 * named it (an administrator's word for that host); the labels of a token
 * that did not name it stand in for the agent's own in the comparison
 * below, since anyone may hold such a token. Later hellos never change
 * approved claims: an advertisement that differs is recorded as pending
 * (store_agent_pend) for an operator to approve (store_agent_approve,
 * then brk_agents_sync), and the agent goes on with its approved claims,
 * unless the host key (or certificate pin) of a resource it keeps changed:
 * then it is refused until the change is approved, since a new host key
 * means a new sshd behind the name (rebuilt, or not the host it was). An
 * advertisement without labels says nothing about labels; the resources
 * are compared as a whole list (one added, removed or changed makes the
 * list pending). A host key belongs to one resource of one agent, and
 * resource names and agent names share one namespace: an agent advertising
 * a resource whose name or host key another agent's approved claims hold,
 * or a resource called like another agent, or joining under the name of
 * another agent's resource, is refused (the store decides it in the
 * statements that bind and approve). Policy, dials and the host-key pin
 * use approved claims only.
 *
 * Resources. A tool call's `host` names a resource; brk_agents_resource()
 * finds it among the approved claims. Its effective labels, the ones
 * policy decides on, are its agent's labels and its own of other keys.
 * Its own may not give one of the agent's keys another value: the
 * agent's labels may be its join token's, an administrator's word, which
 * no claim of the agent overrides, nor may the agent's own word silently
 * lose. Such a resource is listed, but calls on it are refused, naming
 * the conflict, until an operator resolves it.
 *
 * The store (store_agent_*) holds bindings and claims: a restarted broker
 * lists every known host, offline until its agent connects again, with
 * its claims, and still refuses another key under its name. It is the
 * authority: brk_agents_online() checks it at every connection, so a
 * binding removed there (brk_agents_remove, or the offline `ztbroker admin
 * agents rm` while this broker runs) is honoured at the next connection
 * under that name, and brk_agents_sync() brings the registry up to what
 * other processes wrote. An agent an operator locked is refused, and its
 * connections are ended at the sync that sees the lock. While an agent is
 * online, its entry also holds the dials waiting to be sent on its control
 * connection. Thread-safe.
 */
#ifndef ZT_BRK_AGENTS_H
#define ZT_BRK_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"
#include "tunnel/tun.h"

#define BRK_AGENTS_MAX 4096
#define BRK_AGENTS_DIALS 16 /* dials queued for one control connection */
/* A resource's effective labels: its agent's and its own. */
#define BRK_LABELS_MAX (TUN_LABELS_MAX + TUN_RESOURCE_LABELS_MAX)

/* What an agent claims to be: its labels and its resources, sorted by
 * name, host keys canonical (tun_resources_json_text's form). */
struct brk_agent_claims {
	struct tun_label labels[TUN_LABELS_MAX];
	size_t nlabels;
	struct tun_resource resources[TUN_RESOURCES_MAX];
	size_t nresources;
};

struct brk_agent_info {
	char name[TUN_NAME_MAX + 1];
	char key_pin[TLS_PIN_LEN + 1];
	/* The approved claims: what policy and the host-key pin use. */
	struct brk_agent_claims claims;
	int online;
	int64_t last_seen;
	/* Since when claims that differ wait for an operator, 0 when none do.
	 * The claims themselves stay in the store (struct store_agent's
	 * pending): only `agents ls` shows them, and every copy of an entry
	 * would carry them. */
	int64_t pending_at;
	int locked;                 /* an operator cut it off (store_agent_set_locked) */
};

/* How a hello's claims compared with the approved ones. */
enum brk_claims {
	BRK_CLAIMS_APPROVED = 0,  /* as approved */
	BRK_CLAIMS_FIRST,         /* a new name: approved now */
	BRK_CLAIMS_PENDING,       /* they differ, and are now recorded as pending */
	BRK_CLAIMS_STILL_PENDING, /* they differ, as already recorded */
};

/* What brk_agents_online() found, for the caller's audit and answer. */
struct brk_hello {
	enum brk_claims claims;
	struct brk_agent_claims advertised; /* the hello's, host key canonical */
	/* The agent as the hello found it (its join token's labels applied;
	 * name "" if it is new), and its pending claims after the hello
	 * (those of a hello silent about labels keep the approved ones). */
	struct brk_agent_info before;
	struct brk_agent_claims pending;
	int token_labels;                 /* its join token's labels were used
	                                   * (approved, or claimed in its stead) */
	/* ZT_ERR_DENIED says why: */
	char key_owner[TUN_NAME_MAX + 1]; /* the agent a resource clashes with */
	char clash[TUN_NAME_MAX + 1];     /* that resource */
	int clash_by_name;                /* its name clashes (else its host key) */
	int host_key_changed;             /* or: a new host key, now pending */
};

/* One resource as a call sees it: approved, with its agent's state. */
struct brk_resource {
	struct tun_resource res;                  /* its own labels */
	char agent[TUN_NAME_MAX + 1];
	struct tun_label labels[BRK_LABELS_MAX];  /* effective */
	size_t nlabels;
	/* A key of its own labels its agent's labels give another value
	 * ("" when none): calls on it are refused (brk_gate.c). */
	char label_clash[TUN_LABEL_MAX + 1];
	int online;                               /* its agent's */
	int locked;
	int64_t last_seen;
};

/* Resource i of ag's approved claims into out, effective labels worked
 * out. */
void brk_resource_of(const struct brk_agent_info *ag, size_t i, struct brk_resource *out);

struct brk_agents;

struct store;

/* A registry keeping its bindings and claims in st (borrowed; it must
 * outlive the registry), loaded from it: every stored agent starts
 * offline with what the store keeps (at most BRK_AGENTS_MAX; the rest are
 * logged and left to the store). NULL if st is NULL, or memory or the
 * store fails (logged). */
struct brk_agents *brk_agents_new(struct store *st);
void brk_agents_free(struct brk_agents *a);
/* Checks the agent of a hello against the store (binding, lock, claims;
 * see the top of this file) and marks it online, bound to key_pin, with
 * last_seen now. *gen identifies this connection for brk_agents_seen/offline/
 * take_dials (a newer connection of the same agent supersedes it).
 * wake_fd is the connection's doorbell: brk_agents_dial() writes a byte to
 * it (non-blocking) after queueing a dial; it is forgotten at offline,
 * before the caller closes it. *res says what was found. 0, ZT_ERR_EXISTS
 * (name bound to another key), ZT_ERR_LOCKED (an operator locked it),
 * ZT_ERR_DENIED (claims refused: see res), ZT_ERR_TOO_LARGE (registry
 * full), ZT_ERR_NOMEM, or the store's error (ZT_ERR_DB, logged). */
int brk_agents_online(struct brk_agents *a, const struct tun_msg *hello, const char *key_pin,
    int64_t now, int wake_fd, uint64_t *gen, struct brk_hello *res);
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
/* Brings the entry of agent name (NULL: every entry) up to the store:
 * approved claims, whether others wait, and the lock; an offline entry
 * whose row is gone is forgotten, a row the registry lacks is added
 * offline. For changes made elsewhere (an approval, a lock, or another
 * process). A locked agent is cut off at once: the cut-off callback runs
 * (brk_agents_on_cut), then its control connection's doorbell rings (its
 * thread finds brk_agents_locked() and ends it) and its streams are shut
 * down. 0 or the store's error. */
int brk_agents_sync(struct brk_agents *a, const char *name);
/* What must happen before agents are cut off, while their streams still
 * carry their connections: the broker's jobs are killed over them
 * (brk_jobs_cut), since sshd does not signal a command without a terminal
 * when its connection drops. agents are the n agents' names (borrowed for
 * the call), why completes "host web1 ..." ("was locked"). It runs in the
 * thread that syncs, with no lock of the registry held, and may wait
 * (boundedly): the agents are already locked, so none opens a stream
 * meanwhile. A callback, not a call, because the jobs use this registry
 * and not the other way round. */
typedef void brk_agents_cut_fn(const char *const *agents, size_t n, const char *why,
    void *arg);
/* Sets the cut-off callback (NULL: none). Call it before the registry is
 * shared between threads. */
void brk_agents_on_cut(struct brk_agents *a, brk_agents_cut_fn *fn, void *arg);
/* 1 if agent name is locked (as of the last sync or hello), else 0. */
int brk_agents_locked(struct brk_agents *a, const char *name);
/* Queues dial id of resource for the control connection of agent name
 * and rings its doorbell: 0, ZT_ERR_NOT_FOUND (no such agent, or the
 * resource is not among its approved claims), ZT_ERR_LOCKED (locked),
 * ZT_ERR_OFFLINE (not connected), ZT_ERR_TOO_LARGE (BRK_AGENTS_DIALS
 * already queued). */
int brk_agents_dial(struct brk_agents *a, const char *name, const char *resource,
    const char *id);
/* A dial waiting to be sent. */
struct brk_agent_dial {
	char id[TUN_ID_MAX + 1];
	char resource[TUN_NAME_MAX + 1];
};
/* A stream connection (socket fd, owned by the caller) of agent name
 * starts: registered, so that locking the agent shuts it down. 0 with *out
 * (hand it to brk_agents_stream_end() before closing fd), ZT_ERR_LOCKED,
 * ZT_ERR_NOT_FOUND or ZT_ERR_NOMEM. */
struct brk_agent_stream;
int brk_agents_stream_add(struct brk_agents *a, const char *name, int fd,
    struct brk_agent_stream **out);
/* The stream ended; NULL is a no-op. */
void brk_agents_stream_end(struct brk_agents *a, struct brk_agent_stream *st);
/* Moves up to max dials queued for connection gen of agent name into
 * out; returns how many (0 when the connection was superseded). */
size_t brk_agents_take_dials(struct brk_agents *a, const char *name, uint64_t gen,
    struct brk_agent_dial *out, size_t max);
/* 1 if name is bound to key_pin (a stream connection's certificate must
 * carry the key of the agent it claims to be), else 0. */
int brk_agents_bound_to(struct brk_agents *a, const char *name, const char *key_pin);
/* A copy of one agent's entry: 0 or ZT_ERR_NOT_FOUND. */
int brk_agents_get(struct brk_agents *a, const char *name, struct brk_agent_info *out);
/* The approved resource called name, of whichever agent: 0 or
 * ZT_ERR_NOT_FOUND. brk_agents_stored_resource() asks the store instead
 * (offline admin verbs), as brk_agents_stored(). */
int brk_agents_resource(struct brk_agents *a, const char *name, struct brk_resource *out);
int brk_agents_stored_resource(struct store *st, const char *name, struct brk_resource *out);
/* What the store keeps of one agent, without a registry (offline admin
 * verbs): as brk_agents_get() gives it after a restart, offline. 0,
 * ZT_ERR_NOT_FOUND or the store's error. */
int brk_agents_stored(struct store *st, const char *name, struct brk_agent_info *out);
/* Calls fn for a snapshot of every agent in name order. */
int brk_agents_each(struct brk_agents *a, int (*fn)(const struct brk_agent_info *ag, void *arg),
    void *arg);
/* The same for what the store keeps, without a registry (offline). */
int brk_agents_stored_each(struct store *st,
    int (*fn)(const struct brk_agent_info *ag, void *arg), void *arg);
/* What a stored row says of an agent, offline; stored labels that break
 * the wire format's rules are ignored (logged). */
struct store_agent;
void brk_agents_from_row(const struct store_agent *row, struct brk_agent_info *out);
/* Stored claims (approved or pending) of agent name as claims, likewise. */
struct store_agent_claims;
void brk_agent_claims_from_row(const char *name, const struct store_agent_claims *in,
    struct brk_agent_claims *out);

/* The claims as an audit or API object: {"labels": {...}, "resources":
 * [{name, kind, address, host_key: its SHA256 fingerprint, or cert_pin,
 * labels}]}. NULL on ENOMEM. */
cJSON *brk_agent_claims_json(const struct brk_agent_claims *c);
/* One resource as such an object (host key as its fingerprint). */
cJSON *brk_resource_json(const struct tun_resource *r);

#endif
