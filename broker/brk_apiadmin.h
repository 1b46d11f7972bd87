/*
 * brk_apiadmin.h - the API's admin endpoints: users, bots, agent join
 * tokens, agents, roles and policy tests over HTTP (docs/api.md), the
 * remote twins of `ztbroker admin users|bots|tokens|agents|roles|policy`,
 * doing the same work through brk_admin.h, brk_users.h and brk_bots.h.
 *
 * Only users administer: a user is an administrator when one of its stored
 * roles says options: {admin: true}. Bots never are, whatever their roles
 * say: an AI agent must not mint join tokens or rewrite policy. Everyone
 * else gets 403 "forbidden". brk_api.c routes each admin endpoint through
 * brk_apiadmin_authorize (before the body is parsed), the operation's
 * handler, then brk_apiadmin_audit, so every call is audited whatever its
 * outcome: success, denied (403) or failure (with the error message), and
 * answered 500 when its event cannot be written.
 */
#ifndef ZT_BRK_APIADMIN_H
#define ZT_BRK_APIADMIN_H

#include <cjson/cJSON.h>

#include "broker/brk_api.h"

/* Handles one admin request from who (an administrator): body is the
 * request's JSON object (NULL for GET). Fills resp; on success (2xx) sets
 * *details to the owned audit details of what was done (may stay NULL). */
typedef void brk_apiadmin_fn(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details);

/* One admin endpoint: its handler and the audit event type it writes. */
struct brk_apiadmin_op {
	const char *event;
	brk_apiadmin_fn *run;
};

extern const struct brk_apiadmin_op brk_apiadmin_token_add;   /* POST /v1/tokens */
extern const struct brk_apiadmin_op brk_apiadmin_token_ls;    /* GET /v1/tokens */
extern const struct brk_apiadmin_op brk_apiadmin_token_rm;    /* POST /v1/tokens/rm */
extern const struct brk_apiadmin_op brk_apiadmin_role_apply;  /* POST /v1/roles */
extern const struct brk_apiadmin_op brk_apiadmin_role_ls;     /* GET /v1/roles */
extern const struct brk_apiadmin_op brk_apiadmin_role_rm;     /* POST /v1/roles/rm */
extern const struct brk_apiadmin_op brk_apiadmin_policy_test; /* POST /v1/policy/test */
extern const struct brk_apiadmin_op brk_apiadmin_agent_ls;    /* GET /v1/agents */
extern const struct brk_apiadmin_op brk_apiadmin_agent_approve; /* POST /v1/agents/approve */
extern const struct brk_apiadmin_op brk_apiadmin_agent_lock;  /* POST /v1/agents/lock */
extern const struct brk_apiadmin_op brk_apiadmin_agent_unlock; /* POST /v1/agents/unlock */
extern const struct brk_apiadmin_op brk_apiadmin_role_get;    /* GET /v1/roles/NAME */
extern const struct brk_apiadmin_op brk_apiadmin_user_ls;     /* GET /v1/users */
extern const struct brk_apiadmin_op brk_apiadmin_user_add;    /* POST /v1/users */
extern const struct brk_apiadmin_op brk_apiadmin_user_invite; /* POST /v1/users/invite */
extern const struct brk_apiadmin_op brk_apiadmin_user_reset;  /* POST /v1/users/reset */
extern const struct brk_apiadmin_op brk_apiadmin_user_lock;   /* POST /v1/users/lock */
extern const struct brk_apiadmin_op brk_apiadmin_user_unlock; /* POST /v1/users/unlock */
extern const struct brk_apiadmin_op brk_apiadmin_user_rm;     /* POST /v1/users/rm */
extern const struct brk_apiadmin_op brk_apiadmin_bot_ls;      /* GET /v1/bots */
extern const struct brk_apiadmin_op brk_apiadmin_bot_add;     /* POST /v1/bots */
extern const struct brk_apiadmin_op brk_apiadmin_bot_token;   /* POST /v1/bots/token */
extern const struct brk_apiadmin_op brk_apiadmin_bot_rm;      /* POST /v1/bots/rm */

/* 0 if who may administer; otherwise resp is a 403 "forbidden" saying why
 * (or a 500) and the return is ZT_ERR_DENIED (or another ZT_ERR_*). */
int brk_apiadmin_authorize(struct brk *b, const struct brk_identity *who,
    struct brk_resp *resp);

/* Records the audit event of an admin call as resp ended it (aud_record):
 * "success" with details (may be NULL), "denied" for 403, else "failure"
 * with the error's message as the reason. 0, or aud_record's error: the
 * caller then answers brk_resp_unrecorded(), since nothing is reported
 * done without its record. */
int brk_apiadmin_audit(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const char *event, const cJSON *details,
    const struct brk_resp *resp);

#endif
