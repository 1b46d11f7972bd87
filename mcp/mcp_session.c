/*
 * mcp_session.c - one client's MCP conversation: its lifetime (reference
 * counted, closable), its standalone stream, and the dispatch of every
 * decoded message: requests run their method and get exactly one response
 * (none when cancelled), notifications change state (initialized,
 * cancelled), responses wake the call waiting for them.
 *
 * A request becomes a struct mcp_call on the dispatching thread's stack of
 * work; while it runs it is listed in the session so that a cancellation
 * arriving on another thread can find it by id, and so that closing the
 * session can wake it. Two requests in flight with the same id would make
 * cancellation ambiguous, so the second is refused.
 */
#include "mcp/mcp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp_int.h"

struct mcp_session *mcp_session_new(struct mcp_server *srv, const struct mcp_identity *owner)
{
	struct mcp_session *s = NULL;

	if (srv == NULL) {
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return NULL;
	}
	if (pthread_mutex_init(&s->stream_lock, NULL) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	s->srv = srv;
	if (owner != NULL) {
		s->owner = *owner;
		s->owner.kind[sizeof(s->owner.kind) - 1] = '\0';
		s->owner.name[sizeof(s->owner.name) - 1] = '\0';
		s->owner.roles[sizeof(s->owner.roles) - 1] = '\0';
	} else {
		snprintf(s->owner.kind, sizeof(s->owner.kind), "anonymous");
	}
	s->refs = 1;
	s->log_level = MCP_LOG_INFO;
	s->next_id = 1;
	pthread_mutex_lock(&srv->lock);
	s->next = srv->sessions;
	if (srv->sessions != NULL) {
		srv->sessions->prev = s;
	}
	srv->sessions = s;
	pthread_mutex_unlock(&srv->lock);
	return s;
}

void mcp_session_ref(struct mcp_session *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
}

void mcp_session_unref(struct mcp_session *s)
{
	struct mcp_server *srv = NULL;
	size_t i;
	int last;

	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last) {
		return;
	}
	/* Unlinking takes srv->lock, which mcp_server_resource_updated()
	 * holds while it looks at sessions: after this, no one else can reach
	 * s, and a dispatch holds a reference, so no call is in flight. */
	srv = s->srv;
	pthread_mutex_lock(&srv->lock);
	if (s->prev != NULL) {
		s->prev->next = s->next;
	} else {
		srv->sessions = s->next;
	}
	if (s->next != NULL) {
		s->next->prev = s->prev;
	}
	pthread_mutex_unlock(&srv->lock);
	for (i = 0; i < s->nsubs; i++) {
		free(s->subs[i]);
	}
	free(s->subs);
	cJSON_Delete(s->client_caps);
	cJSON_Delete(s->listen_id);
	pthread_mutex_destroy(&s->stream_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void mcp_session_close(struct mcp_session *s)
{
	struct mcp_call *c = NULL;

	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->closed = 1;
	for (c = s->calls; c != NULL; c = c->next) {
		c->cancelled = 1;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&s->lock);
}

const struct mcp_identity *mcp_session_owner(const struct mcp_session *s)
{
	return s != NULL ? &s->owner : NULL;
}

const char *mcp_session_protocol_version(const struct mcp_session *s)
{
	struct mcp_session *ms = (struct mcp_session *)s;
	const char *v = NULL;

	if (s == NULL) {
		return NULL;
	}
	/* version is written once, under the lock; the text never changes
	 * afterwards, so the pointer stays good for the session's life. */
	pthread_mutex_lock(&ms->lock);
	v = ms->version[0] != '\0' ? ms->version : NULL;
	pthread_mutex_unlock(&ms->lock);
	return v;
}

int mcp_session_initialized(const struct mcp_session *s)
{
	struct mcp_session *ms = (struct mcp_session *)s;
	int v;

	if (s == NULL) {
		return 0;
	}
	pthread_mutex_lock(&ms->lock);
	v = ms->initialized;
	pthread_mutex_unlock(&ms->lock);
	return v;
}

void mcp_session_set_stream(struct mcp_session *s, const struct mcp_sink *sink)
{
	if (s == NULL) {
		return;
	}
	/* Under stream_lock: once this returns, no send on the old sink is
	 * still running, so the transport may free its arg. */
	pthread_mutex_lock(&s->stream_lock);
	if (sink != NULL && sink->send != NULL) {
		s->stream = *sink;
		s->has_stream = 1;
	} else {
		memset(&s->stream, 0, sizeof(s->stream));
		s->has_stream = 0;
	}
	pthread_mutex_unlock(&s->stream_lock);
}

int mcp_session_stream_send(struct mcp_session *s, const char *json)
{
	int r = ZT_ERR_IO;

	pthread_mutex_lock(&s->stream_lock);
	if (s->has_stream) {
		r = s->stream.send(s->stream.arg, json);
		if (r < 0) {
			s->has_stream = 0;
		} else {
			r = 0;
		}
	}
	pthread_mutex_unlock(&s->stream_lock);
	return r;
}

static void call_free(struct mcp_call *c)
{
	if (c == NULL) {
		return;
	}
	cJSON_Delete(c->id);
	cJSON_Delete(c->progress_token);
	cJSON_Delete(c->inputs);
	cJSON_Delete(c->state);
	cJSON_Delete(c->next_state);
	free(c->id_text);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->send_lock);
	free(c);
}

/* 1 if p[0..n) are lower-case hex digits, not all zero. */
static int hex_id(const char *p, size_t n)
{
	size_t zeros = 0;

	while (zeros < n && p[zeros] == '0') {
		zeros++;
	}
	return crypto_hex_lower(p, n) && zeros < n;
}

/* Copies the W3C trace context of meta into c, when well formed. */
static void trace_context(struct mcp_call *c, const cJSON *meta)
{
	const cJSON *tp = cJSON_GetObjectItemCaseSensitive(meta, "traceparent");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(meta, "tracestate");
	const char *v;
	size_t n;

	if (!cJSON_IsString(tp)) {
		return;
	}
	v = tp->valuestring;
	/* version 00: vv-<trace-id 32>-<parent-id 16>-<flags 2>. */
	if (strlen(v) != MCP_TRACEPARENT_LEN || strncmp(v, "00-", 3) != 0 || v[35] != '-' ||
	    v[52] != '-' || !hex_id(v + 3, 32) || !hex_id(v + 36, 16) ||
	    !crypto_hex_lower(v + 53, 2)) {
		return;
	}
	memcpy(c->traceparent, v, MCP_TRACEPARENT_LEN + 1);
	if (!cJSON_IsString(ts) || (n = strlen(ts->valuestring)) == 0 || n > MCP_TRACESTATE_MAX) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ts->valuestring[i] < 0x20 || ts->valuestring[i] > 0x7e) {
			return;
		}
	}
	memcpy(c->tracestate, ts->valuestring, n + 1);
}

/* A call for request m, or NULL on ENOMEM. */
static struct mcp_call *call_new(struct mcp_session *s, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_sink *sink)
{
	struct mcp_call *c = NULL;
	const cJSON *meta = NULL, *tok = NULL;
	pthread_condattr_t ca;
	cJSON *idp = NULL;
	int have_cond;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return NULL;
	}
	if (pthread_mutex_init(&c->send_lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	/* Waits measure time on the monotonic clock: a wall-clock step must
	 * not stretch or cut a timeout. */
	have_cond = pthread_condattr_init(&ca) == 0;
	if (have_cond) {
		have_cond = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&c->cond, &ca) == 0;
		pthread_condattr_destroy(&ca);
	}
	if (!have_cond) {
		pthread_mutex_destroy(&c->send_lock);
		free(c);
		return NULL;
	}
	c->s = s;
	c->who = *who;
	c->method = m->method;
	if (sink != NULL && sink->send != NULL) {
		c->sink = *sink;
		c->has_sink = 1;
	}
	/* c->id stays a plain copy (numbers as numbers) for comparing with a
	 * cancellation's requestId; the printable copy gives id_text. */
	if ((c->id = cJSON_Duplicate(m->id, 1)) == NULL || (idp = mcp_id_dup(m->id)) == NULL ||
	    (c->id_text = cJSON_PrintUnformatted(idp)) == NULL) {
		goto fail;
	}
	cJSON_Delete(idp);
	idp = NULL;
	/* progressToken: a string or a number, echoed as given. */
	if (json_get_obj(m->params, "_meta", &meta) == 0) {
		trace_context(c, meta);
		tok = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
		if (tok != NULL && (cJSON_IsString(tok) || cJSON_IsNumber(tok))) {
			if ((c->progress_token = mcp_id_dup(tok)) == NULL) {
				goto fail;
			}
		}
	}
	return c;
fail:
	cJSON_Delete(idp);
	call_free(c);
	return NULL;
}

/* Sends a bare -32603 when even building the error response failed. */
static void send_oom_error(const struct mcp_sink *sink, const char *id_text)
{
	char buf[MCP_ID_MAX * 6 + 128];

	if (sink == NULL || sink->send == NULL) {
		return;
	}
	snprintf(buf, sizeof(buf),
	    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32603,\"message\":"
	    "\"out of memory\"}}", id_text != NULL ? id_text : "null");
	sink->send(sink->arg, buf);
}

static int dispatch_request(struct mcp_session *s, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_sink *sink)
{
	struct mcp_rpc_error e;
	struct mcp_call *c = NULL, **pp = NULL;
	cJSON *result = NULL;
	char *json = NULL;
	int r = ZT_ERR_INTERNAL, listed = 0, cancelled = 0, code;
	const char *msg = NULL;

	memset(&e, 0, sizeof(e));
	if ((c = call_new(s, who, m, sink)) == NULL) {
		send_oom_error(sink, NULL);
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	if (s->closed) {
		/* Closed since mcp_session_dispatch() looked: as if cancelled. */
		cancelled = 1;
	} else if (s->version[0] == '\0' && strcmp(m->method, "initialize") != 0 &&
	    strcmp(m->method, "ping") != 0) {
		r = mcp_fail(&e, MCP_ERR_INVALID_REQUEST, NULL,
		    "session not initialized: the first request must be initialize");
	} else if (s->ncalls >= MCP_CALLS_MAX) {
		r = mcp_fail(&e, MCP_ERR_INVALID_REQUEST, NULL,
		    "too many requests in flight (limit %d)", MCP_CALLS_MAX);
	} else {
		for (pp = &s->calls; *pp != NULL; pp = &(*pp)->next) {
			if (mcp_id_equal((*pp)->id, c->id)) {
				break;
			}
		}
		if (*pp != NULL) {
			r = mcp_fail(&e, MCP_ERR_INVALID_REQUEST, NULL,
			    "request id %s is already in use", c->id_text);
		} else {
			c->next = s->calls;
			s->calls = c;
			s->ncalls++;
			listed = 1;
		}
	}
	pthread_mutex_unlock(&s->lock);

	if (listed) {
		r = s->stateless ? mcp_stateless_prepare(c, m->params, &e) : 0;
		if (r == 0) {
			r = mcp_method_run(c, m->params, &result, &e);
		}
		if (r == 0 && result != NULL && s->stateless &&
		    mcp_stateless_finish(c, result) != 0) {
			cJSON_Delete(result);
			result = NULL;
			r = mcp_fail(&e, MCP_ERR_INTERNAL, NULL, "out of memory");
		}
		pthread_mutex_lock(&s->lock);
		for (pp = &s->calls; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				s->ncalls--;
				break;
			}
		}
		cancelled = c->cancelled;
		pthread_mutex_unlock(&s->lock);
	}
	if (cancelled) {
		/* MCP: a cancelled request gets no response at all. */
		log_debug("mcp: %s %s cancelled, no response", m->method, c->id_text);
		goto out;
	}
	if (r == 0 && result != NULL) {
		json = mcp_response_json(c->id, result);
		result = NULL;
	} else {
		code = e.code != 0 ? e.code : MCP_ERR_INTERNAL;
		msg = e.message[0] != '\0' ? e.message : "Internal error";
		if (r == 0) {
			msg = "handler returned no result";
		} else if (r == ZT_ERR_CANCELLED && e.code == 0) {
			msg = "request cancelled";
		}
		json = mcp_error_json(c->id, code, msg, e.data);
	}
	if (json == NULL) {
		send_oom_error(sink, c->id_text);
	} else {
		mcp_call_send(c, json);
	}
out:
	cJSON_Delete(result);
	cJSON_Delete(e.data);
	free(json);
	call_free(c);
	return 0;
}

int mcp_session_run(struct mcp_session *s, const struct mcp_identity *who, const char *method,
    const char *id_text, int (*fn)(struct mcp_call *call, void *arg), void *arg)
{
	struct mcp_msg m;
	struct mcp_call *c = NULL, **pp = NULL;
	cJSON *id = cJSON_CreateString(id_text);
	int r = 0;

	memset(&m, 0, sizeof(m));
	m.kind = MCP_REQUEST;
	m.id = id;
	m.method = method;
	if (id == NULL || (c = call_new(s, who, &m, NULL)) == NULL) {
		cJSON_Delete(id);
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_lock(&s->lock);
	if (s->closed) {
		r = ZT_ERR_INVALID;
	} else {
		c->next = s->calls;
		s->calls = c;
		s->ncalls++;
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0) {
		fn(c, arg);
		pthread_mutex_lock(&s->lock);
		for (pp = &s->calls; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				s->ncalls--;
				break;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	call_free(c);
	cJSON_Delete(id);
	return r;
}

static void dispatch_notification(struct mcp_session *s, const struct mcp_msg *m)
{
	const cJSON *rid = NULL;
	struct mcp_call *c = NULL;
	int found = 0;

	if (strcmp(m->method, "notifications/initialized") == 0) {
		pthread_mutex_lock(&s->lock);
		if (s->version[0] != '\0') {
			s->initialized = 1;
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (strcmp(m->method, "notifications/cancelled") == 0) {
		rid = m->params != NULL ?
		    cJSON_GetObjectItemCaseSensitive(m->params, "requestId") : NULL;
		if (!mcp_id_valid(rid)) {
			log_debug("mcp: notifications/cancelled without a valid requestId");
			return;
		}
		pthread_mutex_lock(&s->lock);
		for (c = s->calls; c != NULL; c = c->next) {
			/* MCP: initialize must not be cancelled. */
			if (mcp_id_equal(c->id, rid) && strcmp(c->method, "initialize") != 0) {
				c->cancelled = 1;
				pthread_cond_broadcast(&c->cond);
				found = 1;
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (!found) {
			/* The race the spec expects: it already finished. */
			log_debug("mcp: cancellation of a request not in flight");
		}
		return;
	}
	/* Other notifications (progress, roots/list_changed, ...) need
	 * nothing from this engine. */
}

static void dispatch_response(struct mcp_session *s, const struct mcp_msg *m)
{
	struct mcp_pending *p = NULL;
	cJSON *answer = NULL;
	int64_t id;

	if (m->id == NULL || !cJSON_IsNumber(m->id) || !mcp_id_valid(m->id)) {
		log_debug("mcp: response with an id this engine never sent");
		return;
	}
	id = (int64_t)m->id->valuedouble;
	/* Copied before taking the lock: an answer may be large. */
	answer = cJSON_Duplicate(m->result != NULL ? m->result : m->error, 1);
	if (answer == NULL) {
		log_error("mcp: out of memory for a response");
	}
	pthread_mutex_lock(&s->lock);
	for (p = s->pending; p != NULL; p = p->next) {
		if (p->id == id && !p->done) {
			p->answer = answer;
			answer = NULL;
			p->is_error = m->error != NULL;
			p->done = 1;
			pthread_cond_broadcast(&p->call->cond);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (p == NULL) {
		log_debug("mcp: response to unknown or finished request %" PRId64, id);
	}
	cJSON_Delete(answer);
}

int mcp_session_dispatch(struct mcp_session *s, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_sink *sink)
{
	int r = 0;

	if (s == NULL || m == NULL || m->root == NULL) {
		return ZT_ERR_INVALID;
	}
	if (who == NULL) {
		who = &s->owner;
	}
	pthread_mutex_lock(&s->lock);
	if (s->closed) {
		pthread_mutex_unlock(&s->lock);
		return ZT_ERR_INVALID;
	}
	/* Held for the whole dispatch: the session outlives its calls. */
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	switch (m->kind) {
	case MCP_REQUEST:
		if (m->method == NULL || m->id == NULL) {
			r = ZT_ERR_INVALID;
			break;
		}
		r = dispatch_request(s, who, m, sink);
		break;
	case MCP_NOTIFICATION:
		if (m->method == NULL) {
			r = ZT_ERR_INVALID;
			break;
		}
		dispatch_notification(s, m);
		break;
	case MCP_RESPONSE:
		dispatch_response(s, m);
		break;
	default:
		r = ZT_ERR_INVALID;
		break;
	}
	mcp_session_unref(s);
	return r;
}
