/*
 * brk_front.h - what the gate needs of the front door a call came through.
 *
 * A tool call reaches the gate (brk_gate.h) through one of the broker's
 * front doors: an MCP tools/call (/mcp, or ztctl mcp relaying to it), or a
 * person's terminal (/ws/..., brk_term.h). The gate and the tools do not
 * know which: they ask the front for the few things that differ, through
 * one struct brk_front:
 *   - who is calling: the credential (its hash, to look the identity up
 *     again, brk_identity.h) and the client's address;
 *   - the request's id, for the audit ("7" for MCP, a session id for a
 *     terminal);
 *   - whether the caller gave up (cancelled, or the connection is gone),
 *     and a sleep that ends early when it does;
 *   - progress while the work runs, for a front that shows it;
 *   - for a held call (brk_approvals.h): telling the person where to
 *     answer, and that the question is settled; or, for a front that asks
 *     in rounds (an MCP 2026-07-28 call: input_required), asking now and
 *     saying, when the call comes back, which request it comes back for.
 * Each front fills the ops table; a NULL op does nothing (progress,
 * held_done) or means "never" (cancelled).
 */
#ifndef ZT_BRK_FRONT_H
#define ZT_BRK_FRONT_H

#include <stdint.h>

struct cJSON;
struct mcp_call;

/* A held call, as the front tells the person (brk_approvals.c). */
struct brk_held {
	const char *id;         /* the approval request's id */
	const char *url;        /* its page, https://BROKER/#/approvals/<id> */
	const char *needs;      /* "an MFA step-up by the caller; approval by ..." */
	const char *message;    /* one sentence saying all of that and what to run */
	int self_stepup;        /* 1: the caller's own code alone releases it */
	int wait_ms;            /* how long it waits for an answer */
};

struct brk_front_ops {
	int (*cancelled)(void *arg);
	/* Sleeps up to ms: 0, or ZT_ERR_CANCELLED as soon as the caller gave
	 * up. */
	int (*sleep)(void *arg, int ms);
	/* total < 0 and message NULL: not known. */
	void (*progress)(void *arg, double done, double total, const char *message);
	/* Tells the person where to answer h and, for a front that can ask
	 * (MCP URL elicitation), waits for their "I'll open it" until
	 * settled(settled_arg) says the request was answered elsewhere. 0, or
	 * ZT_ERR_CANCELLED when the person declined (the request is
	 * withdrawn), or another error when the front could not tell them. */
	int (*held)(void *arg, const struct brk_held *h, int (*settled)(void *), void *settled_arg);
	/* The question about request id is settled, whatever the answer. */
	void (*held_done)(void *arg, const char *id);
	/* For a front that asks in rounds: 1 with *result the question (the
	 * call ends now, nothing ran; the client comes back with the answer
	 * and what resumed() reads), or 0 when it does not ask so (then
	 * held() and the wait). */
	int (*ask)(void *arg, const struct brk_held *h, struct cJSON **result);
	/* The id of the request the call comes back for (from its verified
	 * state), or NULL; *declined is 1 when the person declined the page. */
	const char *(*resumed)(void *arg, int *declined);
};

struct brk_front {
	const struct brk_front_ops *ops;
	void *arg;
	const char *credential;  /* what names the credential: its hash */
	const char *source;      /* the client's address, "" when none */
	const char *request_id;  /* for the audit */
	/* The W3C trace context the request carried (MCP _meta), for the
	 * audit; NULL when none. */
	const char *traceparent;
	const char *tracestate;
};

/* The front of an MCP tools/call: everything through the call's session
 * (progress and log notifications, URL elicitation). call must outlive
 * *f. */
void brk_front_mcp(struct mcp_call *call, struct brk_front *f);

/* The ops, NULL-safe. */
int brk_front_cancelled(const struct brk_front *f);
int brk_front_sleep(const struct brk_front *f, int ms);
void brk_front_progress(const struct brk_front *f, double done, double total,
    const char *message);
int brk_front_held(const struct brk_front *f, const struct brk_held *h,
    int (*settled)(void *), void *settled_arg);
void brk_front_held_done(const struct brk_front *f, const char *id);
int brk_front_ask(const struct brk_front *f, const struct brk_held *h, struct cJSON **result);
const char *brk_front_resumed(const struct brk_front *f, int *declined);

#endif
