/*
 * store.h - zt's persistent state: the one storage interface.
 *
 * Today this is SQLite in the data directory (WAL, foreign keys on, a busy
 * timeout, synchronous=FULL so that a committed write survives power loss);
 * the interface is shaped so that a PostgreSQL backend can serve several
 * brokers later. Schema changes are numbered migrations applied in order at
 * open (PRAGMA user_version holds the version); a database from a newer zt
 * is refused.
 *
 * Thread-safety: one struct store may be used from many threads; every call
 * takes an internal mutex. Tokens and invites are stored only as hashes
 * (crypto_token_hash); callers pass hashes, never the secrets themselves.
 * Times are unix seconds unless a name says _ms.
 */
#ifndef ZT_STORE_H
#define ZT_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 64     /* user and bot names: [a-z0-9][a-z0-9._-]{0,63} */
#define STORE_ROLES_MAX 1024  /* comma-separated role names */
#define STORE_HASH_HEX 65     /* 64 hex chars + NUL */
#define STORE_TOTP_MAX 64     /* bytes of a TOTP secret */

struct store;

/* Opens (creating if needed, mode 0600) the database at path and migrates
 * it. 0, ZT_ERR_DB, ZT_ERR_IO, or ZT_ERR_INVALID for a newer schema. */
int store_open(const char *path, struct store **out);
void store_free(struct store *st);
/* The schema version after migration. */
int store_schema_version(struct store *st);
/* A number that changes whenever another connection (another process on
 * the same file, e.g. `ztbroker admin` while the broker serves) committed
 * a write since the last call; this connection's own writes leave it
 * alone (SQLite's PRAGMA data_version). 0 or ZT_ERR_DB. */
int store_data_version(struct store *st, int64_t *out);

/* True if s is a valid user/bot name. */
int store_name_valid(const char *s);

/* ---- users ---- */
/* A failure counter with a block (broker/brk_limit.h does the counting):
 * failures counted since window_start, and a block until blocked_until
 * (0 or a past time: none). */
struct store_fail_count {
	int64_t failures;
	int64_t window_start;
	int64_t blocked_until;
};
struct store_user {
	int64_t id;
	char name[STORE_NAME_MAX + 1];
	char roles[STORE_ROLES_MAX + 1];
	char pw_hash[160];            /* "" until enrolled */
	uint8_t totp_secret[STORE_TOTP_MAX];
	size_t totp_len;              /* 0 until enrolment's first step */
	int totp_active;              /* 1 once the first code was confirmed */
	int64_t totp_last_step;       /* last TOTP step accepted; -1 if none */
	int locked;
	int64_t created_at;
	struct store_fail_count login;  /* failed logins (store_user_login_update) */
};
/* Wipes secrets held in u. */
void store_user_wipe(struct store_user *u);

/* ZT_ERR_EXISTS if a user or bot has this name. */
int store_user_add(struct store *st, const char *name, const char *roles, int64_t now,
    int64_t *id);
int store_user_get(struct store *st, const char *name, struct store_user *out);
int store_user_get_id(struct store *st, int64_t id, struct store_user *out);
/* Calls fn for each user ordered by name (secrets left zeroed); stops and
 * returns fn's value if non-zero. */
int store_user_each(struct store *st, int (*fn)(const struct store_user *u, void *arg),
    void *arg);
/* Enrolment's first step: sets the password hash and a new, inactive TOTP
 * secret, only while the user is not enrolled (TOTP not active), so that an
 * enrolled account's credentials change only through store_user_reset.
 * 0, ZT_ERR_NOT_FOUND (no such user), ZT_ERR_EXISTS (the user is enrolled),
 * ZT_ERR_TOO_LARGE. */
int store_user_set_credentials(struct store *st, int64_t id, const char *pw_hash,
    const uint8_t *totp, size_t totp_len);
/* Enrolment's second step, in one transaction: uses up the invite (unused,
 * unexpired, belonging to user id) and activates the user's TOTP secret,
 * recording the step of the confirming code, if the stored secret is still
 * totp[0..totp_len) (the one the code was checked against: a first step
 * run again meanwhile replaced it). 0, ZT_ERR_NOT_FOUND (invite unknown,
 * used, retired or another user's), ZT_ERR_EXPIRED, ZT_ERR_EXISTS (the user
 * is enrolled already), ZT_ERR_AUTH (the secret changed); on error nothing
 * changed. */
int store_user_enroll(struct store *st, const char *invite_hash, int64_t now, int64_t id,
    const uint8_t *totp, size_t totp_len, int64_t step);
/* Atomically sets totp_last_step = step if step > the stored value:
 * 0, or ZT_ERR_REPLAY if a code of this or a later step was already used. */
int store_user_consume_step(struct store *st, int64_t id, int64_t step);
/* Locking also revokes the user's sessions in the same transaction;
 * unlocking also clears the failed-login counter and its block. */
int store_user_set_locked(struct store *st, const char *name, int locked, int64_t now);
/* The user's failed-login counter, kept in the user's row so that no other
 * traffic can push it out and it survives a restart: in one write
 * transaction reads it, calls fn(c, arg), and writes *c back if fn
 * returned >= 0, so that callers at once (other processes too) each see
 * the others' changes. fn runs under the store's lock and must not call
 * the store. Returns fn's value, ZT_ERR_NOT_FOUND (no such user) or a
 * store error. The commit does not wait for the disk (synchronous=NORMAL
 * for this transaction): a power cut may lose the counter's last changes,
 * a crash of the process does not, and counting a known user's login adds
 * no disk wait that would tell it from an unknown name's. */
int store_user_login_update(struct store *st, int64_t id,
    int (*fn)(struct store_fail_count *c, void *arg), void *arg);
/* Deletes the user with its invites and sessions. ZT_ERR_NOT_FOUND. */
int store_user_rm(struct store *st, const char *name);
/* An administrator's reset, in one transaction: clears the user's password,
 * TOTP secret (the account is no longer enrolled) and failed-login
 * counter, revokes the user's
 * live sessions, retires the user's invites and adds the invite
 * invite_hash valid until expires_at, with which the user enrols again.
 * *revoked (may be NULL) gets how many sessions were revoked. 0,
 * ZT_ERR_NOT_FOUND (no such user), ZT_ERR_INVALID (bad hash), ZT_ERR_EXISTS
 * (hash taken); on error nothing changed. */
int store_user_reset(struct store *st, const char *name, int64_t now, const char *invite_hash,
    int64_t expires_at, int *revoked);

/* ---- invites (enrolment) ----
 * A user holds at most one usable invite: adding one retires the earlier
 * ones, and enrolment uses it up (store_user_enroll). */
/* Adds an invite for a user who is not enrolled and retires the user's
 * earlier invites, in one transaction. 0, ZT_ERR_INVALID (bad hash),
 * ZT_ERR_NOT_FOUND (no such user), ZT_ERR_EXISTS (the user is enrolled:
 * that takes store_user_reset; or the hash is taken). */
int store_invite_add(struct store *st, const char *token_hash, int64_t user_id,
    int64_t expires_at);
/* The user id an unused invite belongs to: 0, ZT_ERR_NOT_FOUND (unknown,
 * used or retired), ZT_ERR_EXPIRED. */
int store_invite_get(struct store *st, const char *token_hash, int64_t now, int64_t *user_id);

/* ---- bots ---- */
struct store_bot {
	int64_t id;
	char name[STORE_NAME_MAX + 1];
	char roles[STORE_ROLES_MAX + 1];
	int64_t created_at;
};
/* ZT_ERR_EXISTS if a user or bot has this name. */
int store_bot_add(struct store *st, const char *name, const char *roles, int64_t now,
    int64_t *id);
int store_bot_get(struct store *st, const char *name, struct store_bot *out);
int store_bot_each(struct store *st, int (*fn)(const struct store_bot *b, void *arg), void *arg);
/* Deletes the bot and its tokens. */
int store_bot_rm(struct store *st, const char *name);

/* ---- sessions and bearer tokens (user sessions and bot tokens) ---- */
enum store_principal { STORE_USER = 1, STORE_BOT = 2 };
struct store_session {
	char token_hash[STORE_HASH_HEX];
	enum store_principal kind;
	int64_t principal_id;          /* users.id or bots.id */
	char name[STORE_NAME_MAX + 1];  /* the user's or bot's name */
	char roles[STORE_ROLES_MAX + 1];
	int64_t created_at;
	int64_t expires_at;
	int64_t mfa_verified_at;       /* 0 for bots */
	char source[64];               /* address it was created from */
};
int store_session_add(struct store *st, const struct store_session *s);
/* Adds s and, in the same transaction, revokes every other live token of
 * its principal (at s->created_at): a rotation. Returns how many it
 * revoked, or an error (then nothing changed). */
int store_session_replace(struct store *st, const struct store_session *s);
/* Looks a token hash up, joining the principal's current name, roles and
 * lock state. Checks in this order: ZT_ERR_NOT_FOUND (unknown),
 * ZT_ERR_REVOKED (logged out, or revoked by a lock), ZT_ERR_EXPIRED,
 * ZT_ERR_LOCKED (the user is locked); else 0. */
int store_session_get(struct store *st, const char *token_hash, int64_t now,
    struct store_session *out);
/* Revokes one token (the row stays, marked revoked, until it expires and
 * is pruned, so a revoked token is told apart from an unknown one):
 * 0 or ZT_ERR_NOT_FOUND (unknown or already revoked). */
int store_session_revoke(struct store *st, const char *token_hash, int64_t now);
/* Records a second-factor proof (a step-up) on a live token at `at`:
 * 0 or ZT_ERR_NOT_FOUND (unknown, revoked or expired). */
int store_session_set_mfa(struct store *st, const char *token_hash, int64_t at);
/* Moves a live token's expiry to `until` (a web session's idle timeout,
 * slid by use; the caller keeps it under the absolute limit): 0 or
 * ZT_ERR_NOT_FOUND (unknown, revoked or expired at now). */
int store_session_set_expiry(struct store *st, const char *token_hash, int64_t now,
    int64_t until);
/* Revokes every live token of a user or bot; returns how many or an error. */
int store_session_revoke_all(struct store *st, enum store_principal kind, int64_t principal_id,
    int64_t now);
/* Revokes the one live token of a user or bot whose hash is hash_prefix
 * or starts with it (STORE_JOIN_PREFIX_MIN to 64 lower-case hex digits, as
 * the audit names tokens): 0, ZT_ERR_INVALID (not such a prefix),
 * ZT_ERR_NOT_FOUND (no live token of the principal matches), ZT_ERR_EXISTS
 * (several do; nothing is revoked). */
int store_session_revoke_prefix(struct store *st, enum store_principal kind,
    int64_t principal_id, const char *hash_prefix, int64_t now);
/* Calls fn for each live (not revoked, not expired at now) token of a user
 * or bot, in hash order; name and roles are left empty. Stops and returns
 * fn's value if non-zero. */
int store_session_each(struct store *st, enum store_principal kind, int64_t principal_id,
    int64_t now, int (*fn)(const struct store_session *s, void *arg), void *arg);
/* Deletes rows that expired before now - grace_s; returns how many or an error. */
int store_session_prune(struct store *st, int64_t now, int64_t grace_s);

/* ---- agent join tokens ----
 * An agent's first connection presents a join token (stored as its
 * crypto_token_hash) with its CSR. A token expires and carries a number of
 * uses; the row stays when the uses run out, so that a replay is told
 * apart from an unknown token. A token may also say who joins with it: a
 * name the agent must use, and the labels it gets (its own are not
 * taken; brk_agents.h says when they are approved). */
#define STORE_JOIN_USES_MAX 1000  /* uses one token may carry */
#define STORE_JOIN_BY_MAX 127     /* bytes of created_by, e.g. "admin:root" */
#define STORE_JOIN_PREFIX_MIN 12  /* hex digits that name a token in rm */
#define STORE_AGENT_LABELS_MAX 8192  /* bytes of labels' JSON text */
/* What a join token grants. */
struct store_join_claims {
	char name[STORE_NAME_MAX + 1];            /* "": the agent names itself */
	char labels[STORE_AGENT_LABELS_MAX + 1];  /* "": the agent's own; else a JSON
	                                           * object's text (not parsed here) */
};
struct store_join_token {
	char token_hash[STORE_HASH_HEX];  /* the hash, never the token */
	int64_t created_at;
	int64_t expires_at;
	int64_t uses_left;                /* 0 once used up */
	char created_by[STORE_JOIN_BY_MAX + 1];
	struct store_join_claims claims;
};
/* Adds a token hash valid until expires_at (> now) for uses (1..
 * STORE_JOIN_USES_MAX) joins, granting claims (NULL: none). 0,
 * ZT_ERR_INVALID (bad hash, bounds, or a name that is not a valid name),
 * ZT_ERR_TOO_LARGE (created_by), ZT_ERR_EXISTS. */
int store_join_token_add(struct store *st, const char *token_hash, int64_t now,
    int64_t expires_at, int64_t uses, const char *created_by,
    const struct store_join_claims *claims);
/* Atomically consumes one use for an agent called name (a single
 * conditional UPDATE, so of racing joins for the last use exactly one
 * wins, across processes too); *claims (may be NULL) receives what the
 * token grants. 0, ZT_ERR_NOT_FOUND (unknown or removed), ZT_ERR_REPLAY
 * (no uses left; checked first), ZT_ERR_EXPIRED (now >= expires_at),
 * ZT_ERR_DENIED (the token is for another name; no use is consumed). */
int store_join_token_use(struct store *st, const char *token_hash, int64_t now,
    const char *name, struct store_join_claims *claims);
/* Calls fn for every token row (used up and expired ones too) ordered by
 * hash; stops and returns fn's value if non-zero. */
int store_join_token_each(struct store *st,
    int (*fn)(const struct store_join_token *t, void *arg), void *arg);
/* Deletes the one token whose hash is hash_prefix or starts with it: 12 to
 * 64 lower-case hex digits. 0, ZT_ERR_INVALID (not such a prefix),
 * ZT_ERR_NOT_FOUND (no token matches), ZT_ERR_EXISTS (ambiguous: several
 * tokens match; nothing is deleted). */
int store_join_token_rm(struct store *st, const char *hash_prefix);

/* ---- audit rows (the hash chain itself is computed by audit/) ---- */
struct store_audit_row {
	int64_t seq;          /* 1, 2, ...: assigned by store_audit_append */
	int64_t time_ms;
	const char *type;     /* e.g. "user.login" */
	const char *actor;    /* "user:alice", "bot:ci", "admin:cli", "anonymous" */
	const char *source;   /* remote address or "local" */
	const char *outcome;  /* "success", "failure", "denied", ... */
	const char *details;  /* compact JSON object text */
	char prev_hash[STORE_HASH_HEX];
	char hash[STORE_HASH_HEX];
};
/* Appends atomically: under one transaction reads the last row, sets
 * row->seq and row->prev_hash (64 zeros for the first row), calls
 * hash(row, arg) to fill row->hash, inserts and commits durably. */
int store_audit_append(struct store *st, struct store_audit_row *row,
    int (*hash)(struct store_audit_row *row, void *arg), void *arg);
/* Calls fn for each row with seq > after_seq and time_ms >= since_ms in seq
 * order (strings borrowed for the call); stops and returns fn's value if
 * non-zero. */
int store_audit_each(struct store *st, int64_t after_seq, int64_t since_ms,
    int (*fn)(const struct store_audit_row *row, void *arg), void *arg);
/* What store_audit_query selects: every condition set must hold. A type
 * prefix is at most STORE_AUDIT_TEXT_MAX bytes (else ZT_ERR_INVALID). */
#define STORE_AUDIT_TEXT_MAX 256
struct store_audit_filter {
	int64_t after_seq;    /* seq > after_seq (0: from the first) */
	int64_t before_seq;   /* seq < before_seq (0: no bound) */
	int64_t from_ms;      /* time_ms >= from_ms (INT64_MIN: no bound) */
	int64_t to_ms;        /* time_ms < to_ms (INT64_MAX: no bound) */
	const char *actor;    /* the actor exactly; NULL: any */
	const char *type;     /* the type exactly, or "prefix*"; NULL: any */
	const char *outcome;  /* the outcome exactly; NULL: any */
	const char *text;     /* bytes contained in the details' JSON text (case
	                       * sensitive); NULL: any */
	int desc;             /* newest (highest seq) first */
};
/* Calls fn for each row f selects, in seq order (descending with f->desc),
 * strings borrowed for the call; stops and returns fn's value if non-zero.
 * Rows are read STORE_PAGE at a time under the lock, so fn may call into
 * the store. */
int store_audit_query(struct store *st, const struct store_audit_filter *f,
    int (*fn)(const struct store_audit_row *row, void *arg), void *arg);
/* The seq of the last row, 0 when there is none (a lookup by primary key,
 * not a scan). 0 or ZT_ERR_DB. */
int store_audit_head(struct store *st, int64_t *seq);

/* ---- roles (the policy module's JSON form of each role document) ---- */
#define STORE_ROLE_DOC_MAX (256 * 1024)
struct store_role_ref {
	char name[STORE_NAME_MAX + 1];
	int64_t updated_at;
};
/* Creates or replaces the role named name. 0 or ZT_ERR_INVALID. */
int store_role_put(struct store *st, const char *name, const char *doc, int64_t now);
/* The role's document, owned by the caller: 0 or ZT_ERR_NOT_FOUND. */
int store_role_get(struct store *st, const char *name, char **doc);
/* 0 or ZT_ERR_NOT_FOUND. */
int store_role_rm(struct store *st, const char *name);
/* Calls fn for each role in name order; stops and returns fn's value if
 * non-zero. */
int store_role_each(struct store *st, int (*fn)(const struct store_role_ref *ref, void *arg),
    void *arg);
/* The roles' generation: a number that every change of a role (put or
 * rm, by any process using the database) raises, and nothing else does;
 * so parsed roles stay true while it stays the same. A lookup of one row.
 * 0 or ZT_ERR_DB. */
int store_role_generation(struct store *st, int64_t *gen);

/* ---- approvals: calls held for a person ----
 * A held call waits for its caller's MFA step-up and/or another person's
 * approval, bound to the SHA-256 of its canonical request. States:
 * pending -> approved (every requirement met) -> used (the call ran; once),
 * or pending -> denied | expired | withdrawn. An approval may carry a grant
 * window: until grant_until, the same request (same hash, same role
 * generation) needs no new approval. */
#define STORE_APPROVAL_ID_LEN 32   /* hex digits */
#define STORE_ACTOR_MAX 96
#define STORE_REASON_MAX 512
#define STORE_RULE_MAX 512
#define STORE_APPROVERS_MAX 4160

#define STORE_CALL_ID_MAX 32
struct store_approval {
	char id[STORE_APPROVAL_ID_LEN + 1];
	char call_id[STORE_CALL_ID_MAX + 1];  /* the held call's id (its audit events') */
	char actor[STORE_ACTOR_MAX];        /* the caller, "user:alice" */
	char token_hash[STORE_HASH_HEX];    /* the caller's credential */
	char tool[STORE_NAME_MAX + 1];
	char host[STORE_NAME_MAX + 1];      /* "" when none */
	char login[STORE_NAME_MAX + 1];     /* "" when none */
	char *command;                      /* owned; NULL when none */
	char *args;                         /* owned: the arguments as JSON */
	char request_sha256[STORE_HASH_HEX];
	int64_t generation;                 /* the role generation it was decided at */
	char rule[STORE_RULE_MAX];
	int need_mfa;                       /* 0 none, 1 per_session, 2 per_call */
	int need_approval;
	char approvers[STORE_APPROVERS_MAX]; /* role names, comma-separated */
	int64_t grant_max;                  /* seconds: the longest grant window */
	int64_t created_at, expires_at;
	char state[16];
	int64_t mfa_at;                     /* the caller's step-up, 0 until then */
	char approved_by[STORE_ACTOR_MAX];
	int64_t approved_at, grant_until;
	char answered_by[STORE_ACTOR_MAX];  /* who denied, or "" */
	int64_t answered_at;
	char reason[STORE_REASON_MAX];
};
/* Frees the owned fields (command, args); the struct may be reused. */
void store_approval_clear(struct store_approval *a);
/* Adds a pending request (state is set to "pending"). 0, ZT_ERR_EXISTS. */
int store_approval_add(struct store *st, const struct store_approval *a);
/* 0 with *out filled (clear it after), or ZT_ERR_NOT_FOUND. */
int store_approval_get(struct store *st, const char *id, struct store_approval *out);
/* The caller stepped up for request id at `at`: records it, and makes the
 * request approved if no other requirement is left. 0, or
 * ZT_ERR_NOT_FOUND when id is not pending before now (or already has a
 * step-up). */
int store_approval_stepup(struct store *st, const char *id, int64_t at);
/* Another person (by) approved request id at `at`, with a grant window
 * until grant_until (0: none): records it, and makes the request approved
 * if no step-up is missing. Same returns as store_approval_stepup. */
int store_approval_approve(struct store *st, const char *id, const char *by, int64_t at,
    int64_t grant_until);
/* Ends a pending request: state "denied" (by someone), "expired" or
 * "withdrawn"; by and reason may be "". ZT_ERR_NOT_FOUND if not pending. */
int store_approval_end(struct store *st, const char *id, const char *state, const char *by,
    const char *reason, int64_t at);
/* Ends every pending request as "withdrawn" with reason, at `at` (a
 * restarted broker: no call waits for them any more). *n gets how many. */
int store_approval_end_pending(struct store *st, const char *reason, int64_t at, int64_t *n);
/* Marks an approved request used: 0 once, ZT_ERR_NOT_FOUND after (or when
 * it is not approved). */
int store_approval_use(struct store *st, const char *id);
/* A grant covering request_sha256 at generation and now: 0 with the id of
 * the approval that granted it in id (STORE_APPROVAL_ID_LEN + 1 bytes), or
 * ZT_ERR_NOT_FOUND. */
int store_approval_grant(struct store *st, const char *request_sha256, int64_t generation,
    int64_t now, char *id);
/* Calls fn for each request still pending at now, oldest first (fn may use
 * the store). Returns 0, fn's non-zero value, or an error. */
int store_approval_each_pending(struct store *st, int64_t now,
    int (*fn)(const struct store_approval *a, void *arg), void *arg);
/* The same for each request made since `since` that is no longer pending
 * at now (answered, used, ended, or past its time), newest first, at most
 * STORE_APPROVAL_LIST_MAX of them. */
int store_approval_each_ended(struct store *st, int64_t now, int64_t since,
    int (*fn)(const struct store_approval *a, void *arg), void *arg);
/* At most this many requests are listed at once. */
#define STORE_APPROVAL_LIST_MAX 256

/* ---- recordings of interactive sessions ----
 * A row per recorded session (the asciicast file itself lives in the data
 * directory, broker/brk_recordings.h): added when the session starts
 * (ended_at 0, sha256 ""), ended once with the file's size and SHA-256. */
#define STORE_REC_ID_LEN 32        /* lower-case hex digits */
#define STORE_REC_LIST_MAX 1000    /* rows one list returns at most */
struct store_recording {
	char id[STORE_REC_ID_LEN + 1];
	char actor[STORE_ACTOR_MAX];          /* "user:alice" */
	char host[STORE_NAME_MAX + 1];
	char login[STORE_NAME_MAX + 1];
	char tool[STORE_NAME_MAX + 1];        /* "ssh_shell" */
	char call_id[STORE_CALL_ID_MAX + 1];  /* "" when none */
	int64_t started_at;
	int64_t ended_at;                     /* 0 while running */
	int64_t bytes;                        /* the file's, once ended */
	char sha256[STORE_HASH_HEX];          /* "" while running */
	int exit_status;                      /* -1: unknown (or a signal) */
	int cols, rows;
};
/* Adds a running recording (ended_at, bytes, sha256 and exit_status of r
 * are ignored). 0, ZT_ERR_INVALID (bad id, a field too long), ZT_ERR_EXISTS. */
int store_recording_add(struct store *st, const struct store_recording *r);
/* Ends running recording id: ended_at, bytes, sha256 (64 hex digits, or ""
 * when the file's hash is not known) and exit_status. 0, ZT_ERR_NOT_FOUND
 * (unknown, or ended already), ZT_ERR_INVALID. */
int store_recording_end(struct store *st, const char *id, int64_t ended_at, int64_t bytes,
    const char *sha256, int exit_status);
/* 0 with *out, or ZT_ERR_NOT_FOUND (also for an id that is not one). */
int store_recording_get(struct store *st, const char *id, struct store_recording *out);
/* Which recordings store_recording_list returns: NULL or "" fields match
 * any; limit 1..STORE_REC_LIST_MAX (0: STORE_REC_LIST_MAX). */
struct store_recording_filter {
	const char *host;
	const char *actor;
	int running;            /* 1: only those not ended */
	int limit;
};
/* Calls fn for the recordings f selects (NULL: all), newest first (by
 * started_at, then id); stops and returns fn's value if non-zero. The rows
 * are read before the first call, so fn may use the store. 0,
 * ZT_ERR_INVALID (a limit out of bounds), ZT_ERR_NOMEM, a store error. */
int store_recording_list(struct store *st, const struct store_recording_filter *f,
    int (*fn)(const struct store_recording *r, void *arg), void *arg);

/* ---- agents (the broker's registry of hosts, kept across restarts) ----
 * A host's name is bound to the key pin of the first agent certificate
 * that connected with it. The row keeps the agent's approved claims (its
 * labels and its resources, each with a name, kind, address, host key or
 * certificate pin and labels: what policy, dials and the host-key pin use),
 * what it advertised since that differs from them (pending, until an
 * operator approves it), and when it was last seen, so that a restarted
 * broker lists the host (offline) and still refuses another key under the
 * same name. Only an operator's store_agent_rm frees a name. A host key is
 * approved for at most one agent, and a resource name for at most one
 * agent, never another agent's name: the statements that bind and approve
 * check it themselves (SQLite's JSON functions over the resources column),
 * so two racing writers cannot both win. */
#define STORE_AGENT_PIN_LEN 71          /* "sha256:" + 64 lower-case hex digits */
#define STORE_AGENT_RESOURCES_MAX 32768 /* bytes of resources' JSON text */
#define STORE_AGENT_JOIN_KEEP_S (7 * 86400) /* a join's claims wait this long for a hello */
struct store_agent_claims {
	char labels[STORE_AGENT_LABELS_MAX + 1];  /* a JSON object's text, e.g. "{}" */
	/* A JSON array's text, each member {name, kind, address, host_key or
	 * cert_pin, labels?}, in one spelling (tun_resources_json_text) so
	 * that the same list is the same text. The store reads only name and
	 * host_key from it. */
	char resources[STORE_AGENT_RESOURCES_MAX + 1];
};
struct store_agent {
	char name[STORE_NAME_MAX + 1];
	char key_pin[STORE_AGENT_PIN_LEN + 1];
	struct store_agent_claims claims;         /* approved */
	struct store_agent_claims pending;        /* advertised, not approved ("" each) */
	int64_t pending_at;                       /* when pending was recorded; 0: none */
	int locked;                               /* an operator cut it off */
	int64_t bound_at;                         /* when the name was bound */
	int64_t last_seen;                        /* last connection or disconnection */
};
/* Binds a new name to key_pin with claims approved and last_seen = now,
 * as one statement, so that of two connections racing for a new name
 * (from two processes too) exactly one key wins. 0, ZT_ERR_EXISTS (the
 * name is bound already, or a resource clashes with another agent's, see
 * store_agent_resource_owner: nothing changed), ZT_ERR_INVALID (bad name or
 * pin, a field not NUL-terminated in its array, empty labels or
 * resources), ZT_ERR_DB. The store does not parse labels. Here and below, out (may be NULL) receives the row
 * as the change left it, from the same statement. */
int store_agent_bind(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *claims, int64_t now, struct store_agent *out);
/* An agent other than except whose approved claims clash with resources
 * (a JSON array as in store_agent_claims) held by except: one of its
 * resources has the name or host key of one of them, or it is called
 * like one of them, or one of its resources is called except. 0 with its
 * name in owner, the clashing resource's name in res, and *by_name (1:
 * a name clashes, 0: a host key), or ZT_ERR_NOT_FOUND. */
int store_agent_resource_owner(struct store *st, const char *resources, const char *except,
    char owner[STORE_NAME_MAX + 1], char res[STORE_NAME_MAX + 1], int *by_name);
/* Records claims (NULL: clears them) as agent name's pending claims if it
 * is still bound to key_pin, and last_seen = now. pending_at becomes now
 * when the pending claims change, and is kept when they stay the same. 0,
 * ZT_ERR_NOT_FOUND (unknown, or removed since), ZT_ERR_INVALID. */
int store_agent_pend(struct store *st, const char *name, const char *key_pin,
    const struct store_agent_claims *claims, int64_t now, struct store_agent *out);
/* Replaces the approved labels of agent name if it is still bound to
 * key_pin (at a later join, with a token bound to that name): 0,
 * ZT_ERR_NOT_FOUND, ZT_ERR_INVALID. */
int store_agent_set_labels(struct store *st, const char *name, const char *key_pin,
    const char *labels, struct store_agent *out);
/* Approves agent name's pending claims, as one transaction; *before (may
 * be NULL) receives the row as it was. 0, ZT_ERR_NOT_FOUND (no such
 * agent), ZT_ERR_INVALID (nothing pending), ZT_ERR_EXISTS (a pending
 * resource clashes with another agent's, as store_agent_resource_owner
 * says: nothing changed). */
int store_agent_approve(struct store *st, const char *name, struct store_agent *before);
/* Locks (locked != 0) or unlocks agent name: a locked agent's connections
 * are refused and ended by the broker. 0 or ZT_ERR_NOT_FOUND. */
int store_agent_set_locked(struct store *st, const char *name, int locked);
/* Sets last_seen = now of agent name if it is still bound to key_pin (at
 * disconnection): 0 or ZT_ERR_NOT_FOUND (unknown, or removed since). */
int store_agent_seen(struct store *st, const char *name, const char *key_pin, int64_t now,
    struct store_agent *out);
/* One agent's row: 0 or ZT_ERR_NOT_FOUND. */
int store_agent_get(struct store *st, const char *name, struct store_agent *out);
/* Calls fn for each agent in name order; stops and returns fn's value if
 * non-zero. */
int store_agent_each(struct store *st, int (*fn)(const struct store_agent *ag, void *arg),
    void *arg);
/* Forgets an agent and frees its name for another key: 0 or
 * ZT_ERR_NOT_FOUND. */
int store_agent_rm(struct store *st, const char *name);

/* The labels a join token granted the key key_pin joining as name, and
 * whether the token named that agent (named != 0: it was bound to name),
 * kept for the agent's next hello (a join and its hello are two
 * connections): put replaces what an earlier join of the same key left and
 * forgets joins older than STORE_AGENT_JOIN_KEEP_S; get reads it (0 with
 * labels in labelssz bytes and *named, or ZT_ERR_NOT_FOUND); rm forgets it
 * once used (0 or ZT_ERR_NOT_FOUND). */
int store_agent_join_put(struct store *st, const char *name, const char *key_pin,
    const char *labels, int named, int64_t now);
int store_agent_join_get(struct store *st, const char *name, const char *key_pin,
    char *labels, size_t labelssz, int *named);
int store_agent_join_rm(struct store *st, const char *name, const char *key_pin);

#endif
