/*
 * aud_recover.c - closing the calls, jobs and transfer links an unclean
 * stop left open (aud_recover.h): one pass over the events of the run that
 * stopped, keeping the calls decided but not finished, the jobs started
 * but not ended and the links offered but not ended, then one event saying
 * what was found and one closing event for each.
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
#define LINK_INTERRUPTED_REASON "the broker stopped before the transfer's end was recorded; " \
	"how much of it moved is not known (a write's temporary file may be left on the host)"

/* What is open: a call (key: call_id), a job (job_id), a link (link_id). */
enum open_kind { OPEN_CALL, OPEN_JOB, OPEN_LINK };

/* A decision without an outcome so far, a job started and not ended, or
 * a transfer link offered and not ended. */
struct open_call {
	int64_t seq;
	enum open_kind kind;
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

static int track(struct scan *sc, const struct store_audit_row *row, const char *id,
    enum open_kind kind, cJSON *d)
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
	c->kind = kind;
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

static void untrack(struct scan *sc, const char *id, enum open_kind kind)
{
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->calls[i].kind == kind && strcmp(sc->calls[i].call_id, id) == 0) {
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
	int link_end = strcmp(row->type, "file.transfer") == 0;
	const char *key = job ? "job_id" : link_end ? "link_id" : "call_id", *id, *link;
	char quoted[16];
	cJSON *d = NULL;

	sc->res.scanned++;
	/* Most events belong to no call, job or link: skip them before
	 * parsing. */
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	if (strstr(row->details, quoted) == NULL ||
	    json_parse(row->details, strlen(row->details), AUD_DETAILS_MAX, JSON_DEFAULT_DEPTH,
	    &d) != 0) {
		return 0;
	}
	if ((id = key_of(d, key)) == NULL) {
		cJSON_Delete(d);
		return 0;
	}
	/* A job is open from its start to its end; a link from the outcome
	 * of the call that offered it to its end; a call from its decision to
	 * any later event of it. */
	if (job && strcmp(row->type, "job.start") == 0) {
		return track(sc, row, id, OPEN_JOB, d);
	}
	if (!job && !link_end && strcmp(row->outcome, "allowed") == 0) {
		return track(sc, row, id, OPEN_CALL, d);
	}
	if (!job || strcmp(row->type, "job.end") == 0) {
		untrack(sc, id, job ? OPEN_JOB : link_end ? OPEN_LINK : OPEN_CALL);
	}
	if (!job && !link_end && (link = key_of(d, "link_id")) != NULL) {
		char lid[AUD_CALL_ID_MAX + 1];

		snprintf(lid, sizeof(lid), "%s", link);
		return track(sc, row, lid, OPEN_LINK, d);
	}
	cJSON_Delete(d);
	return 0;
}

/* The broker.recover event: what the scan found. */
static int append_recover(struct store *st, int64_t now_ms, int64_t after_seq,
    const char *reason, const struct scan *sc)
{
	static const char *const ids[] = { "call_ids", "job_ids", "link_ids" };
	cJSON *d = cJSON_CreateObject(), *arr[3];
	size_t count[3] = { 0, 0, 0 };
	int r = ZT_ERR_NOMEM;

	for (size_t i = 0; i < sc->n; i++) {
		count[sc->calls[i].kind]++;
	}
	if (d == NULL || cJSON_AddStringToObject(d, "reason", reason) == NULL ||
	    cJSON_AddNumberToObject(d, "after_seq", (double)after_seq) == NULL ||
	    cJSON_AddNumberToObject(d, "events_scanned", (double)sc->res.scanned) == NULL ||
	    cJSON_AddNumberToObject(d, "open_calls", (double)count[OPEN_CALL]) == NULL ||
	    cJSON_AddNumberToObject(d, "open_jobs", (double)count[OPEN_JOB]) == NULL ||
	    cJSON_AddNumberToObject(d, "open_links", (double)count[OPEN_LINK]) == NULL ||
	    cJSON_AddNumberToObject(d, "unchecked_calls", (double)sc->res.unchecked) == NULL) {
		goto out;
	}
	for (size_t k = 0; k < 3; k++) {
		if ((arr[k] = cJSON_AddArrayToObject(d, ids[k])) == NULL) {
			goto out;
		}
	}
	for (size_t i = 0; i < sc->n; i++) {
		if (!cJSON_AddItemToArray(arr[sc->calls[i].kind],
		    cJSON_CreateString(sc->calls[i].call_id))) {
			goto out;
		}
	}
	r = aud_append(st, now_ms, "broker.recover", "system", "local", "success", d);
out:
	cJSON_Delete(d);
	return r;
}

/* The closing event of one open call ("T.result"), job ("job.end") or
 * link ("file.transfer"). */
static int append_interrupted(struct store *st, int64_t now_ms, struct open_call *c)
{
	static const char *const seq_key[] = { "allowed_seq", "start_seq", "result_seq" };
	static const char *const why[] = { INTERRUPTED_REASON, JOB_INTERRUPTED_REASON,
	    LINK_INTERRUPTED_REASON };
	char type[AUD_FIELD_MAX + sizeof(".result")];

	if (c->kind == OPEN_JOB) {
		snprintf(type, sizeof(type), "job.end");
	} else if (c->kind == OPEN_LINK) {
		snprintf(type, sizeof(type), "file.transfer");
	} else {
		snprintf(type, sizeof(type), "%s.result", c->type);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c->details, "status");
	cJSON_DeleteItemFromObjectCaseSensitive(c->details, "reason");
	if (cJSON_AddStringToObject(c->details, "status", "interrupted") == NULL ||
	    cJSON_AddNumberToObject(c->details, seq_key[c->kind], (double)c->seq) == NULL ||
	    cJSON_AddStringToObject(c->details, "reason", why[c->kind]) == NULL) {
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
		if (sc.calls[i].kind == OPEN_JOB) {
			sc.res.jobs_closed++;
		} else if (sc.calls[i].kind == OPEN_LINK) {
			sc.res.links_closed++;
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
