/*
 * brk_front.c - the gate's view of a front door (brk_front.h), and the MCP
 * front: a tools/call.
 */
#include "broker/brk_front.h"

#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "mcp/mcp.h"

/* ---- the ops, NULL-safe ---- */

int brk_front_cancelled(const struct brk_front *f)
{
	return f->ops->cancelled != NULL && f->ops->cancelled(f->arg);
}

int brk_front_sleep(const struct brk_front *f, int ms)
{
	if (f->ops->sleep != NULL) {
		return f->ops->sleep(f->arg, ms);
	}
	(void)poll(NULL, 0, ms);
	return brk_front_cancelled(f) ? ZT_ERR_CANCELLED : 0;
}

void brk_front_progress(const struct brk_front *f, double done, double total,
    const char *message)
{
	if (f->ops->progress != NULL) {
		f->ops->progress(f->arg, done, total, message);
	}
}

int brk_front_held(const struct brk_front *f, const struct brk_held *h,
    int (*settled)(void *), void *settled_arg)
{
	return f->ops->held != NULL ? f->ops->held(f->arg, h, settled, settled_arg) : 0;
}

void brk_front_held_done(const struct brk_front *f, const char *id)
{
	if (f->ops->held_done != NULL) {
		f->ops->held_done(f->arg, id);
	}
}

int brk_front_ask(const struct brk_front *f, const struct brk_held *h, cJSON **result)
{
	return f->ops->ask != NULL ? f->ops->ask(f->arg, h, result) : 0;
}

const char *brk_front_resumed(const struct brk_front *f, int *declined)
{
	*declined = 0;
	return f->ops->resumed != NULL ? f->ops->resumed(f->arg, declined) : NULL;
}

/* ---- MCP: a tools/call ---- */

static int mcp_cancelled(void *arg)
{
	return mcp_call_cancelled(arg);
}

static int mcp_sleep(void *arg, int ms)
{
	return mcp_call_sleep(arg, ms);
}

static void mcp_progress(void *arg, double done, double total, const char *message)
{
	(void)mcp_call_progress(arg, done, total, message);
}

/* A log message for every client; URL-mode elicitation for one that takes
 * it. The elicitation is answered by the client (whether the person agreed
 * to open the page) or made moot by an answer given elsewhere (ztctl, the
 * page opened from the log message), then its request is withdrawn. */
static int mcp_held(void *arg, const struct brk_held *h, int (*settled)(void *),
    void *settled_arg)
{
	struct mcp_call *call = arg;
	cJSON *p, *answer = NULL, *log;
	const char *action;
	int r;

	if ((log = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(log, "message", h->message);
		cJSON_AddStringToObject(log, "url", h->url);
		cJSON_AddStringToObject(log, "approval_id", h->id);
		cJSON_AddStringToObject(log, "needs", h->needs);
		mcp_call_log(call, "warning", "zt", log);
	}
	/* A stateless call (2026-07-28) cannot elicit: it waits, and the
	 * person answers on the page or with ztctl. */
	if (mcp_call_stateless(call) || !mcp_call_client_supports(call, "elicitation.url")) {
		return 0;
	}
	if ((p = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(p, "mode", "url");
	cJSON_AddStringToObject(p, "url", h->url);
	cJSON_AddStringToObject(p, "elicitationId", h->id);
	cJSON_AddStringToObject(p, "message", h->message);
	r = mcp_call_request_until(call, "elicitation/create", p, h->wait_ms, settled,
	    settled_arg, &answer);
	action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "action"));
	if (r == 0 && action != NULL && strcmp(action, "accept") != 0) {
		r = ZT_ERR_CANCELLED; /* the person said no to the page: withdrawn */
	} else if (r == ZT_ERR_PROTOCOL || r == ZT_ERR_TIMEOUT || r == ZT_ERR_STOPPED) {
		r = 0; /* the page and ztctl still answer, or one did */
	}
	cJSON_Delete(answer);
	return r;
}

static void mcp_held_done(void *arg, const char *id)
{
	struct mcp_call *call = arg;
	cJSON *p;

	if (!mcp_call_stateless(call) && mcp_call_client_supports(call, "elicitation.url") &&
	    (p = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(p, "elicitationId", id);
		mcp_call_notify(call, "notifications/elicitation/complete", p);
	}
}

/* The key of the approval page among a held call's input requests, and of
 * the approval's id in its state. */
#define APPROVAL_KEY "approval"

/* A stateless call whose client takes URL elicitation is answered now
 * with input_required: the page to open, and the request's id sealed in
 * the state the client sends back with its answer. */
static int mcp_ask(void *arg, const struct brk_held *h, cJSON **result)
{
	struct mcp_call *call = arg;
	cJSON *reqs = NULL, *one = NULL, *p = NULL, *state = NULL;

	if (!mcp_call_stateless(call) || !mcp_call_client_supports(call, "elicitation.url")) {
		return 0;
	}
	if ((reqs = cJSON_CreateObject()) == NULL ||
	    (one = cJSON_AddObjectToObject(reqs, APPROVAL_KEY)) == NULL ||
	    cJSON_AddStringToObject(one, "method", "elicitation/create") == NULL ||
	    (p = cJSON_AddObjectToObject(one, "params")) == NULL ||
	    cJSON_AddStringToObject(p, "mode", "url") == NULL ||
	    cJSON_AddStringToObject(p, "url", h->url) == NULL ||
	    cJSON_AddStringToObject(p, "elicitationId", h->id) == NULL ||
	    cJSON_AddStringToObject(p, "message", h->message) == NULL ||
	    (state = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(state, APPROVAL_KEY, h->id) == NULL) {
		cJSON_Delete(reqs);
		cJSON_Delete(state);
		return ZT_ERR_NOMEM;
	}
	if (mcp_result_input_required(call, reqs, state, result) != 0) {
		return ZT_ERR_NOMEM;
	}
	return 1;
}

static const char *mcp_resumed(void *arg, int *declined)
{
	struct mcp_call *call = arg;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(mcp_call_state(call), APPROVAL_KEY);
	const char *action = mcp_input_elicit(mcp_call_input(call, APPROVAL_KEY), NULL);

	if (!cJSON_IsString(id)) {
		return NULL;
	}
	/* No answer, or one that is no ElicitResult, is no refusal: the call
	 * waits as after an accepted page. */
	*declined = action != NULL && strcmp(action, "accept") != 0;
	return id->valuestring;
}

static const struct brk_front_ops mcp_ops = {
	.cancelled = mcp_cancelled,
	.sleep = mcp_sleep,
	.progress = mcp_progress,
	.held = mcp_held,
	.held_done = mcp_held_done,
	.ask = mcp_ask,
	.resumed = mcp_resumed,
};

void brk_front_mcp(struct mcp_call *call, struct brk_front *f)
{
	const struct mcp_identity *mi = mcp_call_identity(call);

	f->ops = &mcp_ops;
	f->arg = call;
	f->credential = mi->credential;
	f->source = mi->source;
	f->request_id = mcp_call_id(call);
	f->traceparent = mcp_call_traceparent(call);
	f->tracestate = mcp_call_tracestate(call);
}
