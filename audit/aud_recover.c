/*
 * aud_recover.c - closing the calls and jobs an unclean stop left open
 * (aud_recover.h): one pass over the events of the run that stopped,
 * keeping the calls decided but not finished and the jobs started but not
 * ended, then one event saying what was found and one closing event for
 * each.
 */
#include "audit/aud_recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_log.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "store/store.h"

#define INTERRUPTED_REASON "the broker stopped before the call's outcome was recorded"
#define JOB_INTERRUPTED_REASON "the broker stopped before the job's end was recorded; its " \
	"SSH connection ended with the broker, but the command may still run on the host"

/* A decision without an outcome so far, or a job started and not ended. */
struct open_call {
	int64_t seq;
	int job;                  /* a job (key: job_id), else a call (key: call_id) */
	char call_id[AUD_CALL_ID_MAX + 1];
	char *type, *actor, *source;
	cJSON *details;           /* the opening event's, without "command" */
};

struct scan {
	struct open_call *calls;  /* AUD_RECOVER_CALLS_MAX, in seq order */
	size_t n;
	struct aud_recover_result res;
};

static void open_call_clear(struct open_call *c)
{
	free(c->type);
	free(c->actor);
	free(c->source);
	cJSON_Delete(c->details);
	memset(c, 0, sizeof(*c));
}

static int track(struct scan *sc, const struct store_audit_row *row, const char *id, int job,
    cJSON *d)
{
	struct open_call *c;

	/* Its outcome's type must be a valid field too. */
	if (sc->n == AUD_RECOVER_CALLS_MAX ||
	    strlen(row->type) + strlen(".result") > AUD_FIELD_MAX) {
		sc->res.unchecked++;
		cJSON_Delete(d);
		return 0;
	}
	c = &sc->calls[sc->n];
	c->seq = row->seq;
	c->job = job;
	snprintf(c->call_id, sizeof(c->call_id), "%s", id);
	c->type = strdup(row->type);
	c->actor = strdup(row->actor);
	c->source = strdup(row->source);
	/* The whole command stays in the decision event (allowed_seq). */
	cJSON_DeleteItemFromObjectCaseSensitive(d, "command");
	c->details = d;
	if (c->type == NULL || c->actor == NULL || c->source == NULL) {
		open_call_clear(c);
		return ZT_ERR_NOMEM;
	}
	sc->n++;
	return 0;
}

static void untrack(struct scan *sc, const char *id, int job)
{
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->calls[i].job == job && strcmp(sc->calls[i].call_id, id) == 0) {
			open_call_clear(&sc->calls[i]);
			memmove(&sc->calls[i], &sc->calls[i + 1],
			    (sc->n - i - 1) * sizeof(sc->calls[0]));
			sc->n--;
			memset(&sc->calls[sc->n], 0, sizeof(sc->calls[0]));
			return;
		}
	}
}

/* details' string member key, if it is one of at most AUD_CALL_ID_MAX
 * bytes; else NULL. */
static const char *key_of(const cJSON *d, const char *key)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, key));

	return id != NULL && strlen(id) <= AUD_CALL_ID_MAX ? id : NULL;
}

static int scan_row(const struct store_audit_row *row, void *arg)
{
	struct scan *sc = arg;
	int job = strncmp(row->type, "job.", 4) == 0;
	cJSON *d = NULL;
	const char *id;

	sc->res.scanned++;
	/* Most events belong to no call or job: skip them before parsing. */
	if (strstr(row->details, job ? "\"job_id\"" : "\"call_id\"") == NULL ||
	    json_parse(row->details, strlen(row->details), AUD_DETAILS_MAX, JSON_DEFAULT_DEPTH,
	    &d) != 0) {
		return 0;
	}
	if ((id = key_of(d, job ? "job_id" : "call_id")) == NULL) {
		cJSON_Delete(d);
		return 0;
	}
	/* A job is open from its start to its end; a call from its decision
	 * to any later event of it. */
	if (job ? strcmp(row->type, "job.start") == 0 : strcmp(row->outcome, "allowed") == 0) {
		return track(sc, row, id, job, d);
	}
	if (!job || strcmp(row->type, "job.end") == 0) {
		untrack(sc, id, job);
	}
	cJSON_Delete(d);
	return 0;
}

/* The broker.recover event: what the scan found. */
static int append_recover(struct store *st, int64_t now_ms, int64_t after_seq,
    const char *reason, const struct scan *sc)
{
	cJSON *d = cJSON_CreateObject(), *calls, *jobs;
	size_t njobs = 0;
	int r = ZT_ERR_NOMEM;

	for (size_t i = 0; i < sc->n; i++) {
		njobs += sc->calls[i].job != 0;
	}
	if (d == NULL || cJSON_AddStringToObject(d, "reason", reason) == NULL ||
	    cJSON_AddNumberToObject(d, "after_seq", (double)after_seq) == NULL ||
	    cJSON_AddNumberToObject(d, "events_scanned", (double)sc->res.scanned) == NULL ||
	    cJSON_AddNumberToObject(d, "open_calls", (double)(sc->n - njobs)) == NULL ||
	    cJSON_AddNumberToObject(d, "open_jobs", (double)njobs) == NULL ||
	    cJSON_AddNumberToObject(d, "unchecked_calls", (double)sc->res.unchecked) == NULL ||
	    (calls = cJSON_AddArrayToObject(d, "call_ids")) == NULL ||
	    (jobs = cJSON_AddArrayToObject(d, "job_ids")) == NULL) {
		goto out;
	}
	for (size_t i = 0; i < sc->n; i++) {
		if (!cJSON_AddItemToArray(sc->calls[i].job ? jobs : calls,
		    cJSON_CreateString(sc->calls[i].call_id))) {
			goto out;
		}
	}
	r = aud_append(st, now_ms, "broker.recover", "system", "local", "success", d);
out:
	cJSON_Delete(d);
	return r;
}

/* The closing event of one open call ("T.result") or job ("job.end"). */
static int append_interrupted(struct store *st, int64_t now_ms, struct open_call *c)
{
	char type[AUD_FIELD_MAX + sizeof(".result")];

	if (c->job) {
		snprintf(type, sizeof(type), "job.end");
	} else {
		snprintf(type, sizeof(type), "%s.result", c->type);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c->details, "status");
	cJSON_DeleteItemFromObjectCaseSensitive(c->details, "reason");
	if (cJSON_AddStringToObject(c->details, "status", "interrupted") == NULL ||
	    cJSON_AddNumberToObject(c->details, c->job ? "start_seq" : "allowed_seq",
	    (double)c->seq) == NULL ||
	    cJSON_AddStringToObject(c->details, "reason", c->job ? JOB_INTERRUPTED_REASON :
	    INTERRUPTED_REASON) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return aud_append(st, now_ms, type, c->actor, c->source, "interrupted", c->details);
}

int aud_recover(struct store *st, int64_t now_ms, int64_t after_seq, const char *reason,
    struct aud_recover_result *res)
{
	struct scan sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	if (st == NULL || reason == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((sc.calls = calloc(AUD_RECOVER_CALLS_MAX, sizeof(*sc.calls))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = store_audit_each(st, after_seq, INT64_MIN, scan_row, &sc)) != 0 ||
	    (r = append_recover(st, now_ms, after_seq, reason, &sc)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < sc.n; i++) {
		if ((r = append_interrupted(st, now_ms, &sc.calls[i])) != 0) {
			goto out;
		}
		if (sc.calls[i].job) {
			sc.res.jobs_closed++;
		} else {
			sc.res.closed++;
		}
	}
out:
	if (r != 0) {
		log_error("audit: recovering after an unclean stop: %s", zt_strerror(r));
	}
	for (size_t i = 0; i < sc.n; i++) {
		open_call_clear(&sc.calls[i]);
	}
	free(sc.calls);
	if (res != NULL) {
		*res = sc.res;
	}
	return r;
}
