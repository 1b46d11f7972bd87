/*
 * brk_auditapi.c - GET /v1/recordings and /v1/recordings/ID
 * (brk_auditapi.h): the query read through its bounds, who may see what
 * decided by brk_recordings and brk_policy, the reads put on record.
 */
#include "broker/brk_auditapi.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_identity.h"
#include "broker/brk_policy.h"
#include "broker/brk_query.h"
#include "broker/brk_recordings.h"
#include "common/err.h"
#include "common/log.h"

#define REC_PREFIX "/v1/recordings/"

/* ---- shared with brk_auditlog.c ---- */

int brk_auditapi_auditor(struct brk *b, const struct brk_identity *who, int *yes,
    struct brk_resp *resp)
{
	int r = brk_policy_auditor(b->roles, who->kind, who->roles, yes);

	if (r != 0) {
		log_error("cannot load the roles of %s: %s", who->actor, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
	}
	return r;
}

int brk_auditapi_record(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    const char *type, const char *outcome, const char *reason, cJSON *d)
{
	int r = aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){
	    .type = type, .actor = who->actor, .source = req->source, .outcome = outcome,
	    .reason = reason, .details = d });

	cJSON_Delete(d);
	return r;
}

/* ---- GET /v1/recordings ---- */

/* "alice" for "user:alice"; the actor itself when it has no kind. */
static const char *actor_name(const char *actor)
{
	const char *colon = strchr(actor, ':');

	return colon != NULL ? colon + 1 : actor;
}

static int add_recording(const struct store_recording *r, void *arg)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arg, o)) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	if (cJSON_AddStringToObject(o, "id", r->id) == NULL ||
	    cJSON_AddStringToObject(o, "user", actor_name(r->actor)) == NULL ||
	    cJSON_AddStringToObject(o, "actor", r->actor) == NULL ||
	    cJSON_AddStringToObject(o, "host", r->host) == NULL ||
	    cJSON_AddStringToObject(o, "login", r->login) == NULL ||
	    cJSON_AddStringToObject(o, "tool", r->tool) == NULL ||
	    cJSON_AddNumberToObject(o, "started_at", (double)r->started_at) == NULL ||
	    cJSON_AddNumberToObject(o, "ended_at", (double)r->ended_at) == NULL ||
	    cJSON_AddNumberToObject(o, "bytes", (double)r->bytes) == NULL ||
	    cJSON_AddStringToObject(o, "sha256", r->sha256) == NULL ||
	    cJSON_AddNumberToObject(o, "exit_status", r->exit_status) == NULL ||
	    cJSON_AddNumberToObject(o, "cols", r->cols) == NULL ||
	    cJSON_AddNumberToObject(o, "rows", r->rows) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

void brk_auditapi_recordings_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	struct store_recording_filter f = { NULL, NULL, 0, 0 };
	char want[BRK_IDENTITY_KEY_MAX] = "";
	const char *user = NULL;
	int64_t limit = 0;
	int yes = 0, r;
	cJSON *arr;

	if (brk_query_str(req, "host", STORE_NAME_MAX, &f.host, resp) != 0 ||
	    brk_query_str(req, "user", STORE_NAME_MAX, &user, resp) != 0 ||
	    brk_query_int(req, "limit", 1, STORE_REC_LIST_MAX, STORE_REC_LIST_MAX, &limit,
	    resp) != 0 || brk_auditapi_auditor(b, who, &yes, resp) != 0) {
		return;
	}
	if (user != NULL) {
		brk_identity_key("user", user, want, sizeof(want));
	}
	f.limit = (int)limit;
	/* Anyone else sees their own sessions only. */
	f.actor = yes ? (user != NULL ? want : NULL) : who->actor;
	resp->json = cJSON_CreateObject();
	if ((arr = cJSON_AddArrayToObject(resp->json, "recordings")) == NULL) {
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
		return;
	}
	if (!yes && user != NULL && strcmp(want, who->actor) != 0) {
		resp->status = 200; /* another's sessions: none to this caller */
		return;
	}
	if ((r = store_recording_list(b->store, &f, add_recording, arr)) != 0) {
		log_error("cannot list recordings: %s", zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
}

/* ---- GET /v1/recordings/ID ---- */

/* The recording's file for who: 0 with resp holding it, ZT_ERR_NOT_FOUND
 * (no such id, not who's, no file: one answer for all), or another
 * error (resp is then a 500). */
static int open_recording(struct brk *b, const char *id, const struct brk_identity *who,
    struct store_recording *rec, struct brk_resp *resp)
{
	uint64_t size = 0;
	int fd = -1, err = 0, r;

	if ((r = store_recording_get(b->store, id, rec)) != 0 && r != ZT_ERR_NOT_FOUND) {
		brk_resp_error(resp, 500, "internal", "internal error");
		return r;
	}
	if (r == 0 && !brk_recordings_may_read(b, who, rec, &err)) {
		if (err != 0) {
			brk_resp_error(resp, 500, "internal", "internal error");
			return err;
		}
		r = ZT_ERR_NOT_FOUND;
	}
	if (r == 0 && (r = brk_recordings_open(b, id, &fd, &size)) != 0 &&
	    r != ZT_ERR_NOT_FOUND) {
		log_error("cannot open recording %s: %s", id, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return r;
	}
	if (r == 0) {
		resp->status = 200;
		resp->file_type = BRK_REC_CONTENT_TYPE;
		resp->file_fd = fd;
		resp->file_size = size;
	}
	return r;
}

void brk_auditapi_recording_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	const char *id = req->path + strlen(REC_PREFIX);
	struct store_recording rec;
	cJSON *d = NULL;
	int r;

	if (!aud_rec_id_valid(id)) {
		brk_resp_error(resp, 404, "not_found", "no such recording");
		return;
	}
	r = open_recording(b, id, who, &rec, resp);
	if (r != 0 && r != ZT_ERR_NOT_FOUND) {
		return;
	}
	/* Every attempt on a well-formed id goes on record, refused or not,
	 * before any answer: probing for others' sessions shows. */
	if ((d = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(d, "recording_id", id) == NULL ||
	    (r == 0 && (cJSON_AddStringToObject(d, "host", rec.host) == NULL ||
	    cJSON_AddStringToObject(d, "owner", rec.actor) == NULL ||
	    cJSON_AddNumberToObject(d, "bytes", (double)resp->file_size) == NULL))) {
		cJSON_Delete(d);
		d = NULL;
	}
	if (d == NULL || brk_auditapi_record(b, req, who, "recording.read", r == 0 ? "success" : "denied",
	    r == 0 ? NULL : "no such recording, or not the caller's", d) != 0) {
		brk_resp_clear(resp);
		brk_resp_unrecorded(resp);
		return;
	}
	if (r != 0) {
		brk_resp_error(resp, 404, "not_found", "no such recording");
	}
}
