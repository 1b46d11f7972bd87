/*
 * mcp_call.c - what a handler can do while it runs a request: learn who
 * calls, notice cancellation, sleep interruptibly, report progress, log to
 * the client at the client's chosen level, and ask the client something
 * (elicitation/create, sampling/createMessage, roots/list) and wait for the
 * answer.
 *
 * Every wait is on the call's condition variable under the session lock,
 * so one broadcast (a cancellation, the session closing, an answer
 * arriving) wakes it. Everything the call sends goes through its sink,
 * which belongs to the message being handled; once the sink reports the
 * client gone it is not used again.
 */
#include "mcp/mcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp_int.h"

static const char *const mcp_log_levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
};

int mcp_log_level_parse(const char *name)
{
	size_t i;

	if (name == NULL) {
		return -1;
	}
	for (i = 0; i < sizeof(mcp_log_levels) / sizeof(mcp_log_levels[0]); i++) {
		if (strcmp(name, mcp_log_levels[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

int mcp_call_send(struct mcp_call *call, const char *json)
{
	int r = ZT_ERR_IO;

	if (json == NULL) {
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_lock(&call->send_lock);
	if (call->has_sink) {
		r = call->sink.send(call->sink.arg, json);
		if (r < 0) {
			call->has_sink = 0;
		} else {
			r = 0;
		}
	}
	pthread_mutex_unlock(&call->send_lock);
	return r;
}

const struct mcp_identity *mcp_call_identity(const struct mcp_call *call)
{
	return call != NULL ? &call->who : NULL;
}

struct mcp_session *mcp_call_session(struct mcp_call *call)
{
	return call != NULL ? call->s : NULL;
}

const char *mcp_call_traceparent(const struct mcp_call *call)
{
	return call != NULL && call->traceparent[0] != '\0' ? call->traceparent : NULL;
}

const char *mcp_call_tracestate(const struct mcp_call *call)
{
	return call != NULL && call->tracestate[0] != '\0' ? call->tracestate : NULL;
}

const char *mcp_call_method(const struct mcp_call *call)
{
	return call != NULL ? call->method : NULL;
}

const char *mcp_call_id(const struct mcp_call *call)
{
	return call != NULL ? call->id_text : NULL;
}

int mcp_call_cancelled(const struct mcp_call *call)
{
	int v;

	if (call == NULL) {
		return 1;
	}
	pthread_mutex_lock(&call->s->lock);
	v = call->cancelled;
	pthread_mutex_unlock(&call->s->lock);
	return v;
}

int mcp_call_sleep(struct mcp_call *call, int ms)
{
	struct timespec until;
	int r = 0;

	if (call == NULL) {
		return ZT_ERR_INVALID;
	}
	net_mono_deadline(ms, &until);
	pthread_mutex_lock(&call->s->lock);
	while (!call->cancelled) {
		r = pthread_cond_timedwait(&call->cond, &call->s->lock, &until);
		if (r == ETIMEDOUT) {
			break;
		}
	}
	r = call->cancelled ? ZT_ERR_CANCELLED : 0;
	pthread_mutex_unlock(&call->s->lock);
	return r;
}

/* Builds and sends a notification on the call's sink (params taken). */
static int call_notify(struct mcp_call *call, const char *method, cJSON *params)
{
	char *json = NULL;
	int r;

	if ((json = mcp_notification_json(method, params)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = mcp_call_send(call, json);
	free(json);
	return r;
}

int mcp_call_progress(struct mcp_call *call, double progress, double total, const char *message)
{
	cJSON *p = NULL, *tok = NULL;

	if (call == NULL) {
		return ZT_ERR_INVALID;
	}
	if (call->progress_token == NULL) {
		return 0;
	}
	if ((p = cJSON_CreateObject()) == NULL || (tok = cJSON_Duplicate(call->progress_token,
	    1)) == NULL) {
		cJSON_Delete(p);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(p, "progressToken", tok);
	if (cJSON_AddNumberToObject(p, "progress", progress) == NULL ||
	    (total >= 0 && cJSON_AddNumberToObject(p, "total", total) == NULL) ||
	    (message != NULL && cJSON_AddStringToObject(p, "message", message) == NULL)) {
		cJSON_Delete(p);
		return ZT_ERR_NOMEM;
	}
	return call_notify(call, "notifications/progress", p);
}

int mcp_call_log(struct mcp_call *call, const char *level, const char *logger, cJSON *data)
{
	cJSON *p = NULL;
	int lvl, min;

	if (call == NULL || (lvl = mcp_log_level_parse(level)) < 0) {
		cJSON_Delete(data);
		return ZT_ERR_INVALID;
	}
	pthread_mutex_lock(&call->s->lock);
	min = call->s->log_level;
	pthread_mutex_unlock(&call->s->lock);
	if (lvl < min) {
		cJSON_Delete(data);
		return 0;
	}
	if (data == NULL && (data = cJSON_CreateNull()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(p, "level", mcp_log_levels[lvl]) == NULL ||
	    (logger != NULL && cJSON_AddStringToObject(p, "logger", logger) == NULL)) {
		cJSON_Delete(p);
		cJSON_Delete(data);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddItemToObject(p, "data", data);
	return call_notify(call, "notifications/message", p);
}

int mcp_call_notify(struct mcp_call *call, const char *method, cJSON *params)
{
	if (call == NULL || method == NULL) {
		cJSON_Delete(params);
		return ZT_ERR_INVALID;
	}
	return call_notify(call, method, params);
}

int mcp_call_client_supports(const struct mcp_call *call, const char *capability)
{
	const cJSON *caps = NULL, *el = NULL;
	int v = 0;

	if (call == NULL || capability == NULL) {
		return 0;
	}
	pthread_mutex_lock(&call->s->lock);
	caps = call->s->client_caps;
	if (caps == NULL) {
		goto out;
	}
	if (strcmp(capability, "elicitation.form") == 0 ||
	    strcmp(capability, "elicitation.url") == 0) {
		el = cJSON_GetObjectItemCaseSensitive(caps, "elicitation");
		if (!cJSON_IsObject(el)) {
			goto out;
		}
		if (cJSON_GetObjectItemCaseSensitive(el, capability + 12) != NULL) {
			v = 1;
		} else if (strcmp(capability, "elicitation.form") == 0 && el->child == NULL) {
			/* 2025-11-25: an empty elicitation capability means form
			 * mode, as before modes existed. */
			v = 1;
		}
		goto out;
	}
	if (strcmp(capability, "elicitation") == 0 || strcmp(capability, "sampling") == 0 ||
	    strcmp(capability, "roots") == 0) {
		v = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(caps, capability));
	} else if (strncmp(capability, "extensions/", 11) == 0) {
		el = cJSON_GetObjectItemCaseSensitive(caps, "extensions");
		v = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(el, capability + 11));
	}
out:
	pthread_mutex_unlock(&call->s->lock);
	return v;
}

/* Unlinks p from its session's pending list; under s->lock. */
static void pending_unlink(struct mcp_session *s, struct mcp_pending *p)
{
	struct mcp_pending **pp = NULL;

	for (pp = &s->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

int mcp_call_request(struct mcp_call *call, const char *method, cJSON *params, int timeout_ms,
    cJSON **result)
{
	return mcp_call_request_until(call, method, params, timeout_ms, NULL, NULL, result);
}

/* Waits on call->cond (s->lock held) until `until` (NULL: no deadline) or
 * the stop poll's next slice: ETIMEDOUT only when `until` passed. */
static int wait_slice(struct mcp_call *call, const struct timespec *until, int sliced)
{
	struct timespec slice;

	if (!sliced) {
		return until != NULL ? pthread_cond_timedwait(&call->cond, &call->s->lock, until) :
		    pthread_cond_wait(&call->cond, &call->s->lock);
	}
	net_mono_deadline(MCP_STOP_POLL_MS, &slice);
	if (until != NULL && (slice.tv_sec > until->tv_sec ||
	    (slice.tv_sec == until->tv_sec && slice.tv_nsec >= until->tv_nsec))) {
		return pthread_cond_timedwait(&call->cond, &call->s->lock, until);
	}
	(void)pthread_cond_timedwait(&call->cond, &call->s->lock, &slice);
	return 0;
}

int mcp_call_request_until(struct mcp_call *call, const char *method, cJSON *params,
    int timeout_ms, int (*stop)(void *arg), void *arg, cJSON **result)
{
	struct mcp_session *s = NULL;
	struct mcp_pending *p = NULL;
	struct timespec until;
	cJSON *cp = NULL, *rid = NULL;
	char *json = NULL;
	int r, w, abandon = 0;

	if (result != NULL) {
		*result = NULL;
	}
	if (call == NULL || method == NULL || result == NULL) {
		cJSON_Delete(params);
		return ZT_ERR_INVALID;
	}
	s = call->s;
	if (s->stateless) {
		/* 2026-07-28 has no server-to-client requests: input_required. */
		cJSON_Delete(params);
		return ZT_ERR_INVALID;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		cJSON_Delete(params);
		return ZT_ERR_NOMEM;
	}
	p->call = call;
	pthread_mutex_lock(&s->lock);
	if (call->cancelled) {
		pthread_mutex_unlock(&s->lock);
		cJSON_Delete(params);
		free(p);
		return ZT_ERR_CANCELLED;
	}
	p->id = s->next_id++;
	p->next = s->pending;
	s->pending = p;
	pthread_mutex_unlock(&s->lock);

	json = mcp_request_json(p->id, method, params);
	if ((r = mcp_call_send(call, json)) != 0) {
		pthread_mutex_lock(&s->lock);
		pending_unlink(s, p);
		pthread_mutex_unlock(&s->lock);
		goto out;
	}
	if (timeout_ms > 0) {
		net_mono_deadline(timeout_ms, &until);
	}
	pthread_mutex_lock(&s->lock);
	r = ZT_ERR_TIMEOUT;
	while (!p->done && !call->cancelled) {
		w = wait_slice(call, timeout_ms > 0 ? &until : NULL, stop != NULL);
		if (w == ETIMEDOUT) {
			break;
		}
		if (stop != NULL && !p->done && !call->cancelled) {
			/* The predicate may take other locks (a store): not under ours. */
			pthread_mutex_unlock(&s->lock);
			w = stop(arg);
			pthread_mutex_lock(&s->lock);
			if (w) {
				r = ZT_ERR_STOPPED;
				break;
			}
		}
	}
	/* A cancelled call wins over an answer that raced it: its response
	 * will not be sent anyway, so the handler should stop now. */
	if (call->cancelled) {
		r = ZT_ERR_CANCELLED;
		abandon = !s->closed;
	} else if (p->done) {
		*result = p->answer;
		p->answer = NULL;
		r = p->is_error ? ZT_ERR_PROTOCOL : 0;
		if (*result == NULL) {
			r = ZT_ERR_NOMEM;
		}
	} else {
		abandon = 1;
	}
	pending_unlink(s, p);
	pthread_mutex_unlock(&s->lock);
	if (abandon) {
		/* MCP: a request given up on is cancelled, so the client can
		 * take down its dialog. */
		if ((cp = cJSON_CreateObject()) != NULL &&
		    (rid = cJSON_CreateNumber((double)p->id)) != NULL) {
			cJSON_AddItemToObject(cp, "requestId", rid);
			cJSON_AddStringToObject(cp, "reason", r == ZT_ERR_TIMEOUT ? "timed out" :
			    r == ZT_ERR_STOPPED ? "no longer needed" : "cancelled");
			call_notify(call, "notifications/cancelled", cp);
		} else {
			cJSON_Delete(cp);
		}
	}
out:
	if (r != 0 && r != ZT_ERR_PROTOCOL && *result != NULL) {
		cJSON_Delete(*result);
		*result = NULL;
	}
	cJSON_Delete(p->answer);
	free(p);
	free(json);
	return r;
}

void mcp_call_close_stream(struct mcp_call *call, int retry_ms)
{
	if (call == NULL) {
		return;
	}
	pthread_mutex_lock(&call->send_lock);
	if (call->has_sink && call->sink.close_stream != NULL) {
		call->sink.close_stream(call->sink.arg, retry_ms);
	}
	pthread_mutex_unlock(&call->send_lock);
}
