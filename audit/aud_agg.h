/*
 * aud_agg.h - audit events that clients can cause without limit, recorded
 * once per period instead of once each.
 *
 * A bad bearer token, a login refused during a lockout, an enrolment with
 * an unknown invite, a tunnel join with an unknown token: each costs the
 * client almost nothing and would cost the broker an fsync'd audit event,
 * forever. Such events go through an aud_agg. The first event of a kind
 * (type, source, outcome, reason) in a period is appended at once with its
 * own details; the repeats in that period are only counted, and when the
 * period ends one summary event of the same type, source and outcome says
 * how many there were and when:
 *
 *   details = {"reason": R, "aggregated": true, "repeats": N,
 *              "first_ms": T1, "last_ms": T2, "period_ms": P}
 *
 * (actor: the events' actor when they all had the same, else "anonymous").
 * The source of a kind is net_addr_key()'s: an IPv6 client counts by its
 * /64 (the summary names the /64; the first event its own address). So one
 * source costs at most two events per kind and period, whatever it sends.
 * The table of kinds is bounded: past AUD_AGG_KINDS kinds in a period, a
 * new kind is counted under its type and outcome with source "*" and
 * reason "many sources". Summaries are written by aud_agg_flush(), which
 * the owner calls regularly (the broker: once a second) and once with all
 * set at shutdown. Thread-safe; no thread of its own.
 */
#ifndef ZT_AUD_AGG_H
#define ZT_AUD_AGG_H

#include <stdint.h>
#include <cjson/cJSON.h>

#define AUD_AGG_KINDS 4096
#define AUD_AGG_FIELD_MAX 95 /* bytes of type, source, outcome, reason, actor kept */

struct store;
struct aud_agg;

/* An aggregator with the given period (> 0). NULL on ENOMEM. */
struct aud_agg *aud_agg_new(int64_t period_ms);
void aud_agg_free(struct aud_agg *g);

/* Records one event. The first of its kind in the period is appended to st
 * now (aud_append, with details plus "reason"; details may be NULL and is
 * borrowed); a repeat is counted for the summary. reason is required (it
 * is part of the kind). 0, or the error of the append (the kind is still
 * recorded, so its repeats are counted for the summary). */
int aud_agg_append(struct aud_agg *g, struct store *st, int64_t now_ms, const char *type,
    const char *actor, const char *source, const char *outcome, const char *reason,
    const cJSON *details);

/* aud_agg_append() for refusals of an authenticated identity (a bot
 * without a usable role opening MCP sessions over and over): the actor is
 * part of the kind, so each identity's refusals are counted apart and the
 * summary names it. Unauthenticated events must not use this: their
 * actor is the client's claim, which would let it dodge aggregation. */
int aud_agg_append_by_actor(struct aud_agg *g, struct store *st, int64_t now_ms,
    const char *type, const char *actor, const char *source, const char *outcome,
    const char *reason, const cJSON *details);

/* Appends the summary of every kind whose period ended by now_ms (every
 * kind when all is set) and forgets those kinds. 0, or the first append
 * error (the other summaries are still written; a summary that failed is
 * lost and logged). */
int aud_agg_flush(struct aud_agg *g, struct store *st, int64_t now_ms, int all);

#endif
