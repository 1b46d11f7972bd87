/*
 * brk_gate.h - the one way a tool call runs: identity, policy, what the
 * policy requires, audit, work, audit.
 *
 * Every tool is an entry of the tool table (brk_tools.c): its name,
 * schemas and annotations, flags, and two functions that hold nothing but
 * the tool's own logic: parse (arguments into the request) and run (the
 * work). brk_gate_call() walks the same steps for every tool, so none can
 * forget one:
 *
 *   1. the caller's identity as the store has it now (brk_identity.h): a
 *      credential revoked since the request began ends the call here;
 *   2. parse: a clear tool error for bad arguments (nothing was asked);
 *   3. a tool that acts on a host: the host's agent and labels; an unknown
 *      host is refused like a hidden one, word for word;
 *   4. the policy decision on {identity, tool, host and its labels, login,
 *      command, path} (policy/pol_eval.h): a deny is audited and the error
 *      names the rule; a tool whose path the host resolves decides again on
 *      what it resolved, in run (brk_gate_recheck_path);
 *   5. what the decision requires of a person (an MFA step-up, another's
 *      approval; brk_approvals.h) is met, or the call waits for it, or ends;
 *      a call that waited is decided again (3 and 4) on the host as it is
 *      then;
 *   6. the decision is audited, durably, before anything runs: "tool.NAME"
 *      allowed, with the rule and what released it;
 *   7. run;
 *   8. the outcome is audited, durably, before the result returns:
 *      "tool.NAME.result" with what run reported. A result whose outcome
 *      could not be recorded is withheld.
 * Every event of a call carries the call id, the MCP request id, the tool,
 * and the request (host, login, the whole command with its length and
 * SHA-256, the path as requested) and the SHA-256 of the canonical request
 * (brk_gate_request_hash).
 */
#ifndef ZT_BRK_GATE_H
#define ZT_BRK_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "broker/brk_agents.h"
#include "broker/brk_identity.h"
#include "common/crypto.h"
#include "policy/pol_eval.h"

struct brk;
struct brk_front;
struct mcp_server;

#define BRK_GATE_CALL_ID_LEN 16   /* hex digits of a call id (64 random bits) */
#define BRK_GATE_ERR_MAX 512      /* bytes of a parse error */
/* The tool error of a call that did not run because one of its events,
 * which must be on record first (audit/aud_event.h), could not be written. */
#define BRK_GATE_UNRECORDED "the audit log cannot be written; nothing was run"

/* The tool acts on one host: parse sets host, and the gate decides on the
 * host's labels and hands run the host's agent. */
#define BRK_TOOL_HOST 0x1u
/* Every identity may call it and it touches nothing but the caller's own
 * view (whoami): no policy decision, no audit. */
#define BRK_TOOL_OPEN 0x2u
/* Its calls carry a path (the file tools): a role's paths bound it. */
#define BRK_TOOL_PATH 0x4u
/* Only a person's terminal runs it (brk_term.h): not offered over MCP; its
 * run reads the terminal from the front (c->front->arg). */
#define BRK_TOOL_TERM 0x8u
/* A 2026-07-28 client that declares the tasks extension gets its call as
 * a task it polls (mcp.h: MCP_TASK_OPTIONAL): long work (a command, a file
 * transfer), or a wait for an approval. */
#define BRK_TOOL_TASK 0x10u

struct brk_call;

struct brk_tool {
	const char *name;
	const char *title;
	const char *description;
	const char *input_schema;   /* JSON object text */
	const char *output_schema;  /* JSON object text or NULL */
	const char *annotations;    /* JSON object text or NULL */
	unsigned flags;             /* BRK_TOOL_* */
	/* Reads args (the "arguments" object, {} when absent) into c: host,
	 * login, command, timeout_s as the tool has them. 0, or
	 * ZT_ERR_INVALID with err (errsz bytes) saying what is wrong in words
	 * the caller can act on. NULL: the tool takes no arguments. */
	int (*parse)(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
	/* Does the work. On 0 *result is a CallToolResult (owned by the
	 * caller); c->outcome (created by the gate) takes what the outcome
	 * event should say, and c->failed says whether the work failed (the
	 * event's outcome "failure"; a tool error result alone is no failure).
	 * ZT_ERR_CANCELLED: the call was cancelled; *result may still hold a
	 * result, which is dropped. */
	int (*run)(struct brk_call *c, cJSON **result);
};

/* One call, as the gate walks it. The tool's parse and run read and fill
 * it; nothing outlives the call. */
struct brk_call {
	struct brk *b;
	const struct brk_front *front; /* the door it came through: who, the request
	                            * id, cancellation, progress (brk_front.h) */
	const struct brk_tool *tool;
	struct brk_identity who;
	char id[BRK_GATE_CALL_ID_LEN + 1];
	/* The request, as parse set it (borrowed from the arguments). */
	const char *host;           /* BRK_TOOL_HOST tools */
	const char *login;          /* NULL: no login */
	const char *command;        /* NULL: no command */
	const char *path;           /* NULL: no path; else absolute and normal */
	int64_t timeout_s;          /* 0: the tool has no deadline */
	const cJSON *args;
	char request_sha256[CRYPTO_SHA256_HEX_LEN + 1];
	/* The resource host names (BRK_TOOL_HOST) with its agent's state and
	 * its effective labels, the decision and the role generation it was
	 * made on. */
	struct brk_resource resource;
	struct pol_decision dec;
	int64_t generation;
	/* When the policy required a person (brk_approvals.h): the request
	 * that held the call, and what released it ("user:bob", "step-up",
	 * "grant ...", "session step-up"); "" when nothing was required. */
	char approval_id[STORE_APPROVAL_ID_LEN + 1];
	char released[STORE_ACTOR_MAX + 48];
	/* Filled by run for the outcome event. */
	cJSON *outcome;
	int failed;
	/* What parse took hold of for the call (a job, brk_jobs.h: its host,
	 * login and command are what the call is decided on), released by the
	 * gate once the call ends, whatever the end; NULL: nothing. */
	void *held;
	void (*release)(void *held);
	int denied;                 /* refused by brk_gate_recheck_path: "denied" */
	/* The call's SSH connection while a file tool's run holds it
	 * (brk_files.c); brk_xfer_offer takes it for its link (NULL then). */
	struct brk_pooled *pc;
	/* The call forwards a port (brk_fwd.h): its connection's certificate
	 * permits port forwarding, so it is a new one, never a warm one, and
	 * never kept warm for another call (brk_sshconn_get). */
	int port_forwarding;
};

/* Runs one call of t, come through front, through the steps above; the
 * mcp_tool handler of every gated tool, and a terminal's session
 * (brk_term.h). On 0, *result is the CallToolResult (owned by the caller);
 * ZT_ERR_CANCELLED: no response is due; another negative value: an
 * internal error (-32603). */
int brk_gate_call(struct brk *b, const struct brk_tool *t, const struct brk_front *front,
    const cJSON *args, cJSON **result);

/* For a tool that resolved its path on the host (brk_files.h): decides c's
 * request again with path (the resolved one) for c->path, on the roles as
 * they are now. 0 when that allows it and asks no more (MFA, approval)
 * than the decision the call runs on, and, when that decision required a
 * person for this call (approval, MFA per call), path is the very path
 * they saw (c->path; a link must not redirect an approved call); else
 * ZT_ERR_DENIED (or ZT_ERR_NOMEM)
 * with c->denied set, c->outcome saying status "denied" and the rule, and
 * *result a tool error naming the rule: the tool returns 0 then, having
 * done nothing. */
int brk_gate_recheck_path(struct brk_call *c, const char *path, cJSON **result);
/* 1 if c's tool, as c's caller, would be allowed path (resolved already)
 * asking no more than the decision the call runs on; 0 otherwise. Nothing
 * is recorded: for what a call shows of other paths (file_list's
 * entries). */
int brk_gate_path_allowed(struct brk_call *c, const char *path);

/* For a tool's parse: 0 if args has no key but keys (NULL-terminated);
 * else ZT_ERR_INVALID with err "unknown argument \"x\"; TOOL takes a, b
 * and c". */
int brk_gate_only_keys(const struct brk_call *c, const cJSON *args, const char *const *keys,
    char *err, size_t errsz);

/* 1 if the holder of roles ("a,b") may see t in tools/list: an open tool,
 * or one its roles could ever allow (pol_tool_possible). */
int brk_gate_visible(struct brk *b, const struct brk_tool *t, const char *roles);

/* The SHA-256 (hex) of a call's canonical request: the caller's identity
 * key, the tool, and the arguments with every object's keys sorted, in a
 * length-prefixed encoding (json_canonical); what an approval is bound to.
 * Two calls hash alike exactly when they would do the same thing as the same
 * identity. 0, ZT_ERR_NOMEM or ZT_ERR_TOO_LARGE (arguments nested deeper
 * than MCP_JSON_DEPTH). */
int brk_gate_request_hash(const char *actor, const char *tool, const cJSON *args,
    char out[CRYPTO_SHA256_HEX_LEN + 1]);

/* The tool table (brk_tools.c) bound to one broker: what the MCP server's
 * tool entries point to. b must outlive it; it must outlive the server. */
struct brk_tools;
struct brk_tools *brk_tools_new(struct brk *b);
void brk_tools_free(struct brk_tools *t);
/* The names of the tools of the table that act on a host and take no path
 * (ssh_exec, the job tools, ssh_shell), each once, into names (at most
 * max); returns how many. */
size_t brk_tools_pathless(const char **names, size_t max);
/* The terminal entry (BRK_TOOL_TERM) of the table named name, or NULL. */
const struct brk_tool *brk_tools_term(const char *name);
/* The entry of the table named name that MCP offers (no terminal one), or
 * NULL. */
const struct brk_tool *brk_tools_named(const char *name);
/* Adds every tool of the table but the terminal ones to srv, each run
 * through the gate. 0 or a ZT_ERR_*. */
int brk_tools_register(struct brk_tools *t, struct mcp_server *srv);

#endif
