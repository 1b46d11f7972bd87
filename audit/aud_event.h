/*
 * aud_event.h - the one way an event is put on record: one struct, one
 * function, and a table saying which events must be durable before the
 * action they record goes on.
 *
 * Every event of the broker goes through aud_record(). What it does with a
 * failed write depends on the event's need, from a table of event types in
 * aud_event.c, not on the caller:
 *
 *   AUD_MUST         the action may not go on (or be reported done)
 *                    without its record: tool calls and their outcomes,
 *                    approvals, MFA step-ups, enrolments, logins and
 *                    logouts, changes of users, bots, tokens, roles and
 *                    agents, joins, renewals, policy tests, the broker's
 *                    start, stop and recovery. aud_record returns the
 *                    error and the caller stops the action with a clear
 *                    error (a /v1 request: 500 "internal error: audit log
 *                    unavailable"; a tool call: nothing runs, or its
 *                    result is withheld; a join or renewal: refused).
 *   AUD_BEST_EFFORT  bookkeeping the action does not depend on: MCP
 *                    sessions and calls, agent connections and streams,
 *                    HTTP connections refused, bad bearer tokens. A
 *                    failure is logged and aud_record returns 0.
 *
 * A type the table does not list is AUD_MUST: a new event fails safe until
 * someone decides otherwise. An aggregated event (aud_agg.h) is best effort
 * whatever its type: it is a refusal that a client can repeat at no cost,
 * so the action it records did not happen, and its repeats are only counted
 * anyway.
 *
 * aud_record logs each failure once (type and actor, never details);
 * callers log nothing more. Thread-safe as aud_append and aud_agg are.
 */
#ifndef ZT_AUD_EVENT_H
#define ZT_AUD_EVENT_H

#include <stdint.h>
#include <cjson/cJSON.h>

struct store;
struct aud_agg;

enum aud_need {
	AUD_MUST,        /* durable before the action goes on */
	AUD_BEST_EFFORT, /* written if it can be; the action does not wait for it */
};

enum aud_aggregate {
	AUD_EACH = 0,           /* every event appended */
	AUD_AGGREGATE,          /* once per kind and period (aud_agg_append) */
	/* The same, with the actor part of the kind (aud_agg_append_by_actor):
	 * only for authenticated identities, whose actor is not a claim. */
	AUD_AGGREGATE_BY_ACTOR,
};

struct aud_event {
	const char *type;     /* "user.login", "tool.ssh_exec.result" */
	const char *actor;    /* "user:alice", "agent:web1", "anonymous" */
	const char *source;   /* the client's address, or "local" */
	const char *outcome;  /* "success", "failure", "denied", ... */
	/* NULL, or added to details as "reason" (unless details has one).
	 * Required for an aggregated event: it is part of the kind. */
	const char *reason;
	const cJSON *details; /* NULL or an object; borrowed, never a secret */
	enum aud_aggregate aggregate;
};

/* Records ev at now_ms in st, through agg when ev is aggregated (agg may be
 * NULL: the event is then appended like any other). 0, or for an AUD_MUST
 * event the error of the write (ZT_ERR_TOO_LARGE: details over
 * AUD_DETAILS_MAX; ZT_ERR_INVALID: a missing or oversized field; the
 * store's errors). A best-effort event always returns 0. */
int aud_record(struct store *st, struct aud_agg *agg, int64_t now_ms,
    const struct aud_event *ev);

/* The table's need for type: AUD_MUST for a type it does not list (and for
 * NULL). For tests and docs; aud_record applies it. */
enum aud_need aud_event_need(const char *type);

/* 1 if the table lists type (exactly, or under a prefix such as "tool."),
 * else 0: tests check that every type the code writes was decided. */
int aud_event_listed(const char *type);

#endif
