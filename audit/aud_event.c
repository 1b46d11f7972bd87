/*
 * aud_event.c - recording an event (aud_event.h): the table of what each
 * event type needs, and the one function that writes an event, aggregated
 * or not, and decides what a failed write means.
 *
 * The table is the place to decide a new event type. Each entry says why:
 * an event is AUD_MUST when something is done, granted or reported on the
 * strength of it, and AUD_BEST_EFFORT only when losing it loses a line of
 * bookkeeping and nothing else.
 */
#include "audit/aud_event.h"

#include <string.h>

#include "audit/aud_agg.h"
#include "audit/aud_log.h"
#include "common/err.h"
#include "common/log.h"

struct need {
	const char *type;   /* a type, or a prefix ending in '.' */
	enum aud_need need;
};

static const struct need needs[] = {
	/* Tool calls: the decision (allowed, denied, an unknown tool) before
	 * anything runs, the outcome (".result") before the result is
	 * returned: tool.NAME, tool.NAME.result, tool.unknown. */
	{ "tool.", AUD_MUST },
	/* Background jobs: the start is on record before the command runs;
	 * each signal and the end (also one zt caused: a time limit, a
	 * revocation, a stop) once they happened, outside any call. */
	{ "job.start", AUD_MUST },
	{ "job.signal", AUD_MUST },
	{ "job.end", AUD_MUST },
	/* A transfer link's end (broker/brk_xfer.h): a PUT is answered, and a
	 * GET's last chunk sent, only once it is on record. */
	{ "file.transfer", AUD_MUST },
	/* A person in the loop: a held call is released only on record. */
	{ "approval.requested", AUD_MUST },
	{ "approval.approved", AUD_MUST },
	{ "approval.denied", AUD_MUST },
	{ "approval.expired", AUD_MUST },
	{ "approval.withdrawn", AUD_MUST },
	{ "mfa.stepup", AUD_MUST },
	/* Credentials: a session, a password or an authenticator is handed
	 * out, or a lockout starts, only on record. A refusal that clients
	 * can repeat without limit is aggregated, and so best effort. */
	{ "user.enroll", AUD_MUST },
	{ "user.enroll.password", AUD_MUST },
	{ "user.login", AUD_MUST },
	{ "user.lockout", AUD_MUST },
	{ "session.logout", AUD_MUST },
	/* Administration, offline and over the API, reads included: what an
	 * administrator's credential did is the first question after it
	 * leaks. */
	{ "user.add", AUD_MUST },
	{ "user.invite", AUD_MUST },
	{ "user.reset", AUD_MUST },
	{ "user.lock", AUD_MUST },
	{ "user.ls", AUD_MUST },
	{ "user.unlock", AUD_MUST },
	{ "user.rm", AUD_MUST },
	{ "bot.add", AUD_MUST },
	{ "bot.token", AUD_MUST },
	{ "bot.revoke", AUD_MUST },
	{ "bot.rm", AUD_MUST },
	{ "bot.ls", AUD_MUST },
	{ "token.add", AUD_MUST },
	{ "token.ls", AUD_MUST },
	{ "token.rm", AUD_MUST },
	{ "role.apply", AUD_MUST },
	{ "role.ls", AUD_MUST },
	{ "role.get", AUD_MUST },
	{ "role.rm", AUD_MUST },
	{ "policy.test", AUD_MUST },
	{ "agent.approve", AUD_MUST },
	{ "agent.lock", AUD_MUST },
	{ "agent.unlock", AUD_MUST },
	{ "agent.unbind", AUD_MUST },
	{ "agent.ls", AUD_MUST },
	/* Reading the record itself (GET /v1/audit) and a session's recording
	 * (GET /v1/recordings/ID): like an administrator's reads, handed out
	 * only on record, since who read what is asked after a leak. */
	{ "audit.read", AUD_MUST },
	{ "audit.verify", AUD_MUST },
	{ "recording.read", AUD_MUST },
	/* A recording a stopped broker left running, bound at the next start. */
	{ "recording.recovered", AUD_MUST },
	/* Certificates: none is issued or renewed off the record. */
	{ "agent.join", AUD_MUST },
	{ "agent.renew", AUD_MUST },
	/* The broker's runs: it serves only when its start is on record. */
	{ "broker.start", AUD_MUST },
	{ "broker.stop", AUD_MUST },
	{ "broker.recover", AUD_MUST },
	/* An agent's connections and streams: its certificate (joined or
	 * renewed on record) and its approved claims are what let it in; a
	 * change of claims is kept in the store for approval, and a refusal
	 * goes out whatever the record says. */
	{ "agent.connect", AUD_BEST_EFFORT },
	{ "agent.disconnect", AUD_BEST_EFFORT },
	{ "agent.claims", AUD_BEST_EFFORT },
	{ "agent.stream", AUD_BEST_EFFORT },
	/* A warm SSH connection closed by the housekeeping (expired, host
	 * gone, credential revoked): it closes whatever the record says, and
	 * every call on it was recorded on its own. */
	{ "ssh.conn.closed", AUD_BEST_EFFORT },
	/* A warm desktop session ended because its credential no longer holds
	 * (brk_desks.h): the calls on it were each recorded already. */
	{ "desktop.closed", AUD_BEST_EFFORT },
	/* MCP transport bookkeeping: a session or a call refused, created or
	 * ended. What runs in a session is a tool call, recorded above. */
	{ "mcp.session", AUD_BEST_EFFORT },
	{ "mcp.call", AUD_BEST_EFFORT },
	/* Refusals of unauthenticated clients: bad bearer tokens, and
	 * connections refused or timed out. Nothing happens on their
	 * strength. */
	{ "auth.token", AUD_BEST_EFFORT },
	/* A web session cookie sent without its CSRF token or from another
	 * origin (broker/brk_websession.h): refused, nothing done. */
	{ "auth.web", AUD_BEST_EFFORT },
	/* An auditor who does not administer asked for a terminal, a forward
	 * or a file transfer (broker/brk_ws.c): refused, nothing done. */
	{ "terminal.refused", AUD_BEST_EFFORT },
	{ "http.connection", AUD_BEST_EFFORT },
};

static const struct need *lookup(const char *type)
{
	if (type == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		size_t n = strlen(needs[i].type);

		if (needs[i].type[n - 1] == '.' ? strncmp(type, needs[i].type, n) == 0 &&
		    type[n] != '\0' : strcmp(type, needs[i].type) == 0) {
			return &needs[i];
		}
	}
	return NULL;
}

enum aud_need aud_event_need(const char *type)
{
	const struct need *e = lookup(type);

	return e != NULL ? e->need : AUD_MUST;
}

int aud_event_listed(const char *type)
{
	return lookup(type) != NULL;
}

int aud_record(struct store *st, struct aud_agg *agg, int64_t now_ms,
    const struct aud_event *ev)
{
	enum aud_need need;
	int r;

	if (ev == NULL || ev->type == NULL) {
		log_error("audit: cannot write an event without a type");
		return ZT_ERR_INVALID;
	}
	need = ev->aggregate != AUD_EACH ? AUD_BEST_EFFORT : aud_event_need(ev->type);
	if (ev->aggregate == AUD_EACH || agg == NULL) {
		r = aud_append_reason(st, now_ms, ev->type, ev->actor, ev->source, ev->outcome,
		    ev->reason, ev->details);
	} else if (ev->reason == NULL || ev->actor == NULL || ev->source == NULL ||
	    ev->outcome == NULL) {
		r = ZT_ERR_INVALID;
	} else if (ev->aggregate == AUD_AGGREGATE_BY_ACTOR) {
		r = aud_agg_append_by_actor(agg, st, now_ms, ev->type, ev->actor, ev->source,
		    ev->outcome, ev->reason, ev->details);
	} else {
		r = aud_agg_append(agg, st, now_ms, ev->type, ev->actor, ev->source, ev->outcome,
		    ev->reason, ev->details);
	}
	if (r != 0) {
		/* Bounded: a type or an actor may be up to AUD_FIELD_MAX bytes. */
		log_error("audit: cannot write event %.96s of %.96s: %s%s", ev->type,
		    ev->actor != NULL ? ev->actor : "(none)", zt_strerror(r),
		    need == AUD_MUST ? "" : " (best effort: nothing waits for it)");
	}
	return need == AUD_MUST ? r : 0;
}
