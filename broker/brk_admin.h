/*
 * brk_admin.h - administration: join tokens, agents, roles, policy tests and
 * the verbs on users and bots (their logic is in brk_users.h and
 * brk_bots.h), shared by the offline `ztbroker admin` verbs and the admin
 * endpoints of the API (brk_apiadmin.c), so both do exactly the same thing.
 *
 * `ztbroker admin` works on the data directory, for bootstrap and recovery,
 * whether or not a broker is serving the same directory (SQLite WAL); its
 * changes are audited with the actor "admin:<unix user>" and source
 * "local". The API audits its calls with "user:NAME" and the client's
 * address. The shared functions below do the work and hand back the audit
 * details of what they did; the caller writes the event (and must not
 * report the action done if that fails). They never audit, log or put in
 * err a join token: it exists only in struct brk_join_minted.
 *
 * Every function that takes err fills it (errsz bytes) with one sentence
 * for people on failure. ZT_ERR_INVALID always means the caller's input was
 * wrong (a usage error, HTTP 400).
 */
#ifndef ZT_BRK_ADMIN_H
#define ZT_BRK_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/ca.h"
#include "common/crypto.h"
#include "policy/pol_eval.h"
#include "store/store.h"

struct brk_datadir;
struct brk_agents;
struct brk_roles;

/* Runs one admin command (argv[0] is the first word after the data dir,
 * e.g. "users"). Returns the process exit code: 0 done, 1 failed, 2 usage. */
int brk_admin_main(struct brk_datadir *dd, int argc, char **argv);
/* The usage text of the admin commands. */
extern const char brk_admin_usage[];

/* ---- agent join tokens ---- */
#define BRK_JOIN_TTL_DEFAULT (30 * 60)
#define BRK_JOIN_TTL_MIN 60
#define BRK_JOIN_TTL_MAX (24 * 3600)
#define BRK_JOIN_USES_MAX 100
#define BRK_JOIN_ID_LEN 12        /* hex digits of the hash that name a token */
#define BRK_JOIN_LABELS_TEXT_MAX 1023  /* bytes of "k=v,k2=v2" a token may carry */
#define BRK_JOIN_TEXT_MAX 4096    /* bytes of brk_admin_join_text's output */

/* A join token's lifetime as people type it ("30m", "2h"): 0 with *out in
 * seconds, or ZT_ERR_INVALID outside BRK_JOIN_TTL_MIN..BRK_JOIN_TTL_MAX. */
int brk_admin_join_ttl(const char *s, int64_t *out);

struct brk_join_minted {
	char token[CRYPTO_TOKEN_MAX];     /* the secret: crypto_wipe when done */
	char id[BRK_JOIN_ID_LEN + 1];     /* what tokens ls/rm and the audit show */
	char pin[CA_PIN_LEN + 1];         /* the broker CA's pin */
	int64_t expires_at;
	int64_t uses;
	char name[STORE_NAME_MAX + 1];    /* "" unless bound to a name */
	char labels[BRK_JOIN_LABELS_TEXT_MAX + 1]; /* "" unless it grants labels */
};

/* Mints a join token valid for ttl seconds from now and uses joins, and
 * stores its hash with created_by = creator ("admin:root", "user:alice").
 * name (NULL: any) is the only name an agent may join with it; labels
 * (NULL: the agent's own; else "k=v,k2=v2", checked as an agent's labels
 * are) are the labels it gets. On 0, *m holds the token (the caller wipes
 * it) and *details the owned audit details of "token.add" (id, expiry,
 * uses, name, labels; never the token). On failure m->token is wiped.
 * ZT_ERR_INVALID (ttl, uses, name or labels wrong) or another ZT_ERR_*. */
int brk_admin_token_add(struct store *st, struct ca *ca, int64_t now, int64_t ttl,
    int64_t uses, const char *creator, const char *name, const char *labels,
    struct brk_join_minted *m, cJSON **details, char *err, size_t errsz);
/* The agent's command line for m (it holds the token: wipe out after use).
 * 0 or ZT_ERR_TOO_LARGE. */
int brk_admin_join_command(const struct brk_join_minted *m, char *out, size_t outsz);
/* What `tokens add` shows people: token, expiry, uses, id, CA pin and the
 * agent's command line, several '\n'-ended lines (holds the token: wipe out
 * after use). 0 or ZT_ERR_TOO_LARGE. */
int brk_admin_join_text(const struct brk_join_minted *m, char *out, size_t outsz);
/* "used", "expired" or "valid" at time now. */
const char *brk_admin_token_state(const struct store_join_token *t, int64_t now);
/* Removes the one token whose hash starts with id (12 to 64 lower-case hex
 * digits). On 0, *details are the owned audit details of "token.rm".
 * ZT_ERR_INVALID (malformed id), ZT_ERR_NOT_FOUND, ZT_ERR_EXISTS (id
 * matches several tokens; nothing removed) or another ZT_ERR_*. */
int brk_admin_token_rm(struct store *st, const char *id, cJSON **details, char *err,
    size_t errsz);

/* ---- agents ---- */
#define BRK_AGENTS_TEXT_MAX (8 * 1024 * 1024) /* bytes of the agents listing */
/* Every known agent, in the forms asked for (list or text NULL: not
 * made): *list the API's JSON array ({name, key_pin, online, locked,
 * last_seen, claims, pending (with since) if claims wait}), *text what
 * `agents ls` prints; both owned. With agents (a running broker's
 * registry) online is known; with agents NULL (offline) the store's rows
 * are listed, all offline. Pending claims are read from the store. 0 or a
 * ZT_ERR_*. */
int brk_admin_agents_ls(struct store *st, struct brk_agents *agents, cJSON **list,
    char **text);

/*
 * The verbs that act on one agent, user or bot by name, one table per noun
 * for `ztbroker admin NOUN VERB NAME` and POST /v1/NOUN/VERB {"name"}
 * alike. run does the work at time now: for agents, with agents (a running
 * broker's registry) it takes effect at once; with agents NULL (the offline
 * verb) only the store changes, and a broker serving the same data
 * directory catches up within a second (its housekeeping syncs the
 * registry). On 0, *details are the owned audit details of event;
 * otherwise err says why: ZT_ERR_INVALID (not a valid name, or as below),
 * ZT_ERR_NOT_FOUND (no such agent, user or bot), or another ZT_ERR_*.
 *   agents rm       frees a name bound to an agent's key for another key (a
 *                   host rebuilt with a new key). With agents an online agent
 *                   is refused and its entry goes too; offline, a broker
 *                   honours the removal at the next connection under the
 *                   name. Details: agent, key_pin. ZT_ERR_EXISTS: the agent
 *                   is online. Offline only.
 *   agents approve  applies the claims the agent advertised since its join
 *                   (labels, SSH target, host key), so that policy and the
 *                   host-key pin use them. Details: agent, old and new
 *                   claims. ZT_ERR_INVALID also when nothing waits;
 *                   ZT_ERR_EXISTS: its new host key is approved for another
 *                   name.
 *   agents lock     cuts the agent off: it is refused at hello, renewal and
 *                   stream accept, and with agents its control connection
 *                   and streams end at once. Details: agent.
 *   agents unlock   lets it back. Details: agent.
 *   users lock      locks the user and revokes its sessions (brk_users.h).
 *   users unlock    unlocks it and lifts a block after failed logins.
 *   users rm        deletes the user, its invites and sessions.
 *   bots rm         deletes the bot and its tokens.
 * Details of the user and bot verbs: user or bot.
 */
struct brk_admin_verb {
	const char *verb;     /* "approve" */
	const char *event;    /* its audit event, "agent.approve" */
	const char *done;     /* the API's answer, {"approved": NAME} */
	const char *message;  /* what the offline verb prints after "agent NAME" */
	int (*run)(struct store *st, struct brk_agents *agents, const char *name, int64_t now,
	    cJSON **details, char *err, size_t errsz);
};
/* The verb named verb of noun ("agents", "users", "bots"), or NULL. */
const struct brk_admin_verb *brk_admin_verb(const char *noun, const char *verb);

/* ---- roles ---- */
/* Parses the role document p[0..n) (errors name fname and the line) and
 * creates or replaces the role; nothing is stored unless it is valid. On 0,
 * name holds the role's name and *details the owned audit details of
 * "role.apply" ({"role", and "warning" when brk_policy_apply gave one:
 * callers show it). ZT_ERR_INVALID / ZT_ERR_TYPE / ZT_ERR_TOO_LARGE for a bad
 * document (pol_role_parse), or another ZT_ERR_*. */
int brk_admin_role_apply(struct store *st, const void *p, size_t n, const char *fname,
    int64_t now, char *name, size_t namesz, cJSON **details, char *err, size_t errsz);
/* Deletes a role. On 0, *details as above for "role.rm". ZT_ERR_NOT_FOUND
 * or another ZT_ERR_*. */
int brk_admin_role_rm(struct store *st, const char *name, cJSON **details, char *err,
    size_t errsz);

/* ---- policy test ---- */
struct brk_admin_query {
	const char *user;    /* exactly one of user and bot */
	const char *bot;
	const char *tool;    /* required */
	const char *host;    /* optional */
	const char *labels;  /* optional "k=v,k2=v2" (at most TUN_LABELS_MAX) */
	const char *login;   /* optional */
	const char *command; /* optional: the command line of ssh_exec */
	const char *path;    /* optional: a file tool's path, absolute and normal */
};

/* Decides q against the roles (rc, over st) of q's user or bot into *d,
 * with pol_decide. Without labels, a known host is tested with the labels it last
 * advertised: from agents, or with agents NULL (the offline verb) from the
 * store.
 * missing receives the identity's roles that have no document (they allow
 * nothing), comma-separated. 0, ZT_ERR_INVALID (bad query), ZT_ERR_NOT_FOUND
 * (no such user or bot), or another ZT_ERR_*. */
int brk_admin_policy_test(struct store *st, struct brk_roles *rc,
    struct brk_agents *agents, const struct brk_admin_query *q, struct pol_decision *d,
    char *missing, size_t missingsz, char *err, size_t errsz);

#endif
