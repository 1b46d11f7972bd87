/*
 * mcp_tasks.c - the tasks extension of MCP 2026-07-28
 * (io.modelcontextprotocol/tasks, SEP-2663): a tools/call that runs as a
 * task the client polls (tasks/get), answers (tasks/update) and cancels
 * (tasks/cancel).
 *
 * A stateless tools/call of a tool that supports tasks, from a client that
 * declares the extension in that request, is answered at once with a
 * CreateTaskResult; the tool's handler runs in rounds on a thread of its
 * own, on a session of its own (closing it cancels the round). A round
 * ends in one of: a result (completed; a tool error is completed too,
 * with isError), a failure of the handler (failed, with a JSON-RPC error),
 * or an input_required result: then the task waits (input_required) for
 * tasks/update to answer every input request; answers accumulate, and the
 * next round runs the handler again with all of them and the state the
 * previous round kept (server-side: a task has no requestState).
 *
 * Tasks are the engine's, in memory, bound to the identity (kind and
 * name) that created them: another identity's task id is as unknown as a
 * random one; one identity keeps at most MCP_TASKS_PER_IDENTITY. A task
 * is kept MCP_TASK_TTL_MS after its creation, and while a round runs;
 * then it is forgotten. mcp_server_tasks_revoke() cancels the tasks of
 * identities whose credential no longer holds. mcp_server_tasks_stop() cancels every
 * round and waits for them, before the server is freed.
 */
#include "mcp/mcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp_int.h"

#define TASK_ID_BYTES 16
#define TASK_POLL_MS 500        /* pollIntervalMs we suggest */

enum task_status { T_WORKING, T_INPUT, T_COMPLETED, T_FAILED, T_CANCELLED };
static const char *const status_names[] = { "working", "input_required", "completed",
    "failed", "cancelled" };

struct mcp_task {
	struct mcp_task *next;          /* srv->tasks, under srv->task_lock */
	struct mcp_server *srv;
	char id[TASK_ID_BYTES * 2 + 1];
	struct mcp_identity owner;
	const struct mcp_srv_tool *tool;
	cJSON *args;                    /* copy */
	cJSON *caps;                    /* the creating request's client capabilities */
	enum task_status status;
	int64_t created_ms, updated_ms;
	cJSON *requests;                /* T_INPUT: the input requests still open */
	cJSON *inputs;                  /* every answer so far (object) */
	cJSON *state;                   /* what the last round kept, or NULL */
	cJSON *result;                  /* T_COMPLETED */
	int err_code;                   /* T_FAILED */
	char err_msg[256];
	struct mcp_session *round;      /* the session of the round running, or NULL */
	int refs;                       /* the list, a round */
};

static void task_unref(struct mcp_task *t)
{
	if (t == NULL || --t->refs > 0) {
		return;
	}
	cJSON_Delete(t->args);
	cJSON_Delete(t->caps);
	cJSON_Delete(t->requests);
	cJSON_Delete(t->inputs);
	cJSON_Delete(t->state);
	cJSON_Delete(t->result);
	free(t);
}

static int terminal(enum task_status s)
{
	return s == T_COMPLETED || s == T_FAILED || s == T_CANCELLED;
}

/* Forgets expired tasks no round holds; under srv->task_lock. */
static void purge(struct mcp_server *srv, int64_t now)
{
	struct mcp_task **pp = &srv->tasks, *t;

	while ((t = *pp) != NULL) {
		if (t->round == NULL && now - t->created_ms >= MCP_TASK_TTL_MS) {
			*pp = t->next;
			srv->ntasks--;
			task_unref(t);
		} else {
			pp = &t->next;
		}
	}
}

/* The task id of who, with a reference taken, or NULL; under the lock. */
static struct mcp_task *find(struct mcp_server *srv, const struct mcp_identity *who,
    const char *id)
{
	for (struct mcp_task *t = srv->tasks; t != NULL; t = t->next) {
		if (strcmp(t->id, id) == 0 && strcmp(t->owner.kind, who->kind) == 0 &&
		    strcmp(t->owner.name, who->name) == 0 &&
		    (t->round != NULL || dur_now_ms() - t->created_ms < MCP_TASK_TTL_MS)) {
			t->refs++;
			return t;
		}
	}
	return NULL;
}

/* ---- a round ---- */

struct round {
	struct mcp_task *t;
	cJSON *result;
	int r;
};

/* The handler, as a call of the round's session (no sink, no request). */
static int round_call(struct mcp_call *call, void *arg)
{
	struct round *rd = arg;
	struct mcp_task *t = rd->t;

	pthread_mutex_lock(&t->srv->task_lock);
	call->inputs = cJSON_Duplicate(t->inputs, 1);
	call->state = t->state != NULL ? cJSON_Duplicate(t->state, 1) : NULL;
	pthread_mutex_unlock(&t->srv->task_lock);
	call->task = 1;
	rd->r = t->tool->handler(call, t->args, &rd->result, t->tool->arg);
	if (rd->r == 0 && call->next_state != NULL) {
		/* Kept for the next round, here: a task has no requestState. */
		pthread_mutex_lock(&t->srv->task_lock);
		cJSON_Delete(t->state);
		t->state = call->next_state;
		call->next_state = NULL;
		pthread_mutex_unlock(&t->srv->task_lock);
	}
	return 0;
}

/* Ends a round: the task's new status from what the handler answered. */
static void round_end(struct mcp_task *t, struct round *rd)
{
	struct mcp_server *srv = t->srv;
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rd->result, "resultType");
	cJSON *reqs = NULL;

	pthread_mutex_lock(&srv->task_lock);
	t->round = NULL;
	t->updated_ms = dur_now_ms();
	if (t->status == T_CANCELLED) {
		/* Cancelled while it ran: its answer is dropped. */
	} else if (rd->r == ZT_ERR_CANCELLED) {
		t->status = T_CANCELLED;
	} else if (rd->r != 0 || !cJSON_IsObject(rd->result)) {
		t->status = T_FAILED;
		t->err_code = MCP_ERR_INTERNAL;
		snprintf(t->err_msg, sizeof(t->err_msg), "tool %s failed: %s", t->tool->name,
		    rd->r != 0 ? zt_strerror(rd->r) : "no result");
	} else if (cJSON_IsString(rt) && strcmp(rt->valuestring, "input_required") == 0 &&
	    cJSON_IsObject(reqs = cJSON_GetObjectItemCaseSensitive(rd->result, "inputRequests")) &&
	    reqs->child != NULL) {
		t->status = T_INPUT;
		cJSON_Delete(t->requests);
		t->requests = cJSON_DetachItemViaPointer(rd->result, reqs);
	} else {
		t->status = T_COMPLETED;
		cJSON_DeleteItemFromObjectCaseSensitive(rd->result, "resultType");
		if (cJSON_GetObjectItemCaseSensitive(rd->result, "content") == NULL) {
			cJSON_AddArrayToObject(rd->result, "content");
		}
		t->result = rd->result;
		rd->result = NULL;
	}
	pthread_mutex_unlock(&srv->task_lock);
}

static void *round_main(void *arg)
{
	struct round rd = { arg, NULL, 0 };
	struct mcp_task *t = rd.t;
	struct mcp_server *srv = t->srv;
	struct mcp_session *s = NULL;
	int r;

	pthread_mutex_lock(&t->srv->task_lock);
	s = t->round;
	pthread_mutex_unlock(&t->srv->task_lock);
	r = mcp_session_run(s, &t->owner, "tools/call", t->id, round_call, &rd);
	if (r == ZT_ERR_INVALID) {
		rd.r = ZT_ERR_CANCELLED; /* closed before it ran */
	} else if (r != 0) {
		rd.r = r;                /* could not run: failed */
	}
	round_end(t, &rd);
	cJSON_Delete(rd.result);
	mcp_session_close(s);
	mcp_session_unref(s);
	/* Last: once running is 0, mcp_server_tasks_stop() goes on and the
	 * server may be freed. */
	pthread_mutex_lock(&srv->task_lock);
	task_unref(t);
	srv->running--;
	pthread_cond_broadcast(&srv->task_cond);
	pthread_mutex_unlock(&srv->task_lock);
	return NULL;
}

/* Starts a round of t on a thread: 0, or an error (t unchanged). Under
 * srv->task_lock. */
static int round_start(struct mcp_task *t)
{
	struct mcp_server *srv = t->srv;
	struct mcp_session *s = NULL;
	pthread_attr_t attr;
	pthread_t th;
	int r;

	if (srv->tasks_stopping) {
		return ZT_ERR_BUSY;
	}
	if ((s = mcp_session_new(srv, &t->owner)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	s->stateless = 1;
	snprintf(s->version, sizeof(s->version), "%s", MCP_PROTOCOL_STATELESS);
	s->initialized = 1;
	s->log_level = MCP_LOG_OFF;
	if ((s->client_caps = cJSON_Duplicate(t->caps, 1)) == NULL) {
		mcp_session_unref(s);
		return ZT_ERR_NOMEM;
	}
	t->round = s;
	t->refs++;
	srv->running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, round_main, t);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		t->round = NULL;
		t->refs--;
		srv->running--;
		mcp_session_unref(s);
		return ZT_ERR_BUSY;
	}
	t->status = T_WORKING;
	t->updated_ms = dur_now_ms();
	return 0;
}

/* ---- the task's JSON ---- */

/* Adds the Task fields of t to o: 0 or ZT_ERR_NOMEM. Under the lock. */
static int task_fields(const struct mcp_task *t, cJSON *o, int detailed)
{
	char created[32], updated[32];
	cJSON *e = NULL;

	if (dur_format_time_ms(t->created_ms, created, sizeof(created)) != 0 ||
	    dur_format_time_ms(t->updated_ms, updated, sizeof(updated)) != 0) {
		return ZT_ERR_INVALID;
	}
	if (cJSON_AddStringToObject(o, "taskId", t->id) == NULL ||
	    cJSON_AddStringToObject(o, "status", status_names[t->status]) == NULL ||
	    cJSON_AddStringToObject(o, "createdAt", created) == NULL ||
	    cJSON_AddStringToObject(o, "lastUpdatedAt", updated) == NULL ||
	    cJSON_AddNumberToObject(o, "ttlMs", MCP_TASK_TTL_MS) == NULL ||
	    cJSON_AddNumberToObject(o, "pollIntervalMs", TASK_POLL_MS) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!detailed) {
		return 0;
	}
	if (t->status == T_INPUT && t->requests != NULL) {
		cJSON_AddItemToObject(o, "inputRequests", cJSON_Duplicate(t->requests, 1));
	} else if (t->status == T_COMPLETED && t->result != NULL) {
		cJSON_AddItemToObject(o, "result", cJSON_Duplicate(t->result, 1));
	} else if (t->status == T_FAILED) {
		if ((e = cJSON_AddObjectToObject(o, "error")) == NULL ||
		    cJSON_AddNumberToObject(e, "code", t->err_code) == NULL ||
		    cJSON_AddStringToObject(e, "message", t->err_msg) == NULL) {
			return ZT_ERR_NOMEM;
		}
	}
	return 0;
}

/* ---- the engine's side ---- */

int mcp_tasks_wanted(const struct mcp_call *call, const struct mcp_srv_tool *t)
{
	return call->s->stateless && !call->task && t->task_support != MCP_TASK_NONE &&
	    mcp_call_client_supports(call, "extensions/" MCP_TASKS_EXTENSION);
}

int mcp_tasks_create(struct mcp_call *call, const struct mcp_srv_tool *tool, const cJSON *args,
    cJSON **result, struct mcp_rpc_error *e)
{
	struct mcp_server *srv = call->s->srv;
	uint8_t rnd[TASK_ID_BYTES];
	struct mcp_task *t = calloc(1, sizeof(*t));
	char id[TASK_ID_BYTES * 2 + 1];
	cJSON *res = NULL;
	size_t mine = 0;
	int r;

	if (t == NULL) {
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	t->refs = 1;
	if (crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), t->id, sizeof(t->id)) != 0 ||
	    (t->args = cJSON_Duplicate(args, 1)) == NULL ||
	    (t->inputs = call->inputs != NULL ? cJSON_Duplicate(call->inputs, 1) :
	    cJSON_CreateObject()) == NULL ||
	    (call->state != NULL && (t->state = cJSON_Duplicate(call->state, 1)) == NULL)) {
		task_unref(t);
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	t->srv = srv;
	t->owner = call->who;
	t->tool = tool;
	pthread_mutex_lock(&call->s->lock);
	t->caps = cJSON_Duplicate(call->s->client_caps, 1);
	pthread_mutex_unlock(&call->s->lock);
	t->created_ms = t->updated_ms = dur_now_ms();
	snprintf(id, sizeof(id), "%s", t->id);
	pthread_mutex_lock(&srv->task_lock);
	purge(srv, t->created_ms);
	for (struct mcp_task *o = srv->tasks; o != NULL; o = o->next) {
		mine += strcmp(o->owner.kind, t->owner.kind) == 0 &&
		    strcmp(o->owner.name, t->owner.name) == 0;
	}
	/* The answer is made before the round starts: a task runs only when
	 * its client will learn of it. */
	res = cJSON_CreateObject();
	if (t->caps == NULL || res == NULL ||
	    cJSON_AddStringToObject(res, "resultType", "task") == NULL ||
	    task_fields(t, res, 0) != 0) {
		r = ZT_ERR_NOMEM;
	} else if (srv->ntasks >= MCP_TASKS_MAX || mine >= MCP_TASKS_PER_IDENTITY) {
		r = ZT_ERR_BUSY;
	} else if ((r = round_start(t)) == 0) {
		t->next = srv->tasks;
		srv->tasks = t;
		srv->ntasks++;
		t->refs++;
	}
	task_unref(t); /* ours: the list and the round hold it */
	pthread_mutex_unlock(&srv->task_lock);
	if (r != 0) {
		cJSON_Delete(res);
		if (r == ZT_ERR_BUSY) {
			return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "too many tasks: at most %d per "
			    "identity and %d on this server are kept (an hour each), or the server is "
			    "stopping; try again later", MCP_TASKS_PER_IDENTITY, MCP_TASKS_MAX);
		}
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "cannot start a task: %s",
		    zt_strerror(r));
	}
	log_info("mcp: %s:%s started task %s (%s)", call->who.kind, call->who.name, id,
	    tool->name);
	*result = res;
	return 0;
}

/* The task named by params.taskId of the caller, referenced; or -32602. */
static int task_param(struct mcp_call *c, const cJSON *params, struct mcp_task **out,
    struct mcp_rpc_error *e)
{
	const char *id = NULL;
	struct mcp_server *srv = c->s->srv;

	*out = NULL;
	if (params == NULL || json_get_str(params, "taskId", 64, 0, &id) != 0) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "params.taskId must be a task id");
	}
	pthread_mutex_lock(&srv->task_lock);
	*out = find(srv, &c->who, id);
	pthread_mutex_unlock(&srv->task_lock);
	if (*out == NULL) {
		return mcp_fail(e, MCP_ERR_INVALID_PARAMS, NULL, "Unknown task: %.64s", id);
	}
	return 0;
}

static void task_put(struct mcp_server *srv, struct mcp_task *t)
{
	pthread_mutex_lock(&srv->task_lock);
	task_unref(t);
	pthread_mutex_unlock(&srv->task_lock);
}

/* For tasks/update and tasks/cancel: the task (referenced) and their
 * answer, the empty acknowledgement, in *result. 0, or an error in e. */
static int task_ack(struct mcp_call *c, const cJSON *params, struct mcp_task **t,
    cJSON **result, struct mcp_rpc_error *e)
{
	int r;

	if ((r = task_param(c, params, t, e)) != 0) {
		return r;
	}
	if ((*result = cJSON_CreateObject()) == NULL) {
		task_put(c->s->srv, *t);
		*t = NULL;
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	return 0;
}

int mcp_tasks_get(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_server *srv = c->s->srv;
	struct mcp_task *t = NULL;
	cJSON *res = NULL;
	int r;

	if ((r = task_param(c, params, &t, e)) != 0) {
		return r;
	}
	pthread_mutex_lock(&srv->task_lock);
	if ((res = cJSON_CreateObject()) != NULL && task_fields(t, res, 1) != 0) {
		cJSON_Delete(res);
		res = NULL;
	}
	pthread_mutex_unlock(&srv->task_lock);
	task_put(srv, t);
	if (res == NULL) {
		return mcp_fail(e, MCP_ERR_INTERNAL, NULL, "out of memory");
	}
	*result = res;
	return 0;
}

int mcp_tasks_update(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_server *srv = c->s->srv;
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(params, "inputResponses"), *k;
	struct mcp_task *t = NULL;
	cJSON *open = NULL;
	int r;

	if ((r = mcp_inputs_check(in, e)) != 0 || (r = task_ack(c, params, &t, result, e)) != 0) {
		return r;
	}
	pthread_mutex_lock(&srv->task_lock);
	/* Answers to open requests count; any other key is ignored. The task
	 * shows the change before the acknowledgement goes out. */
	if (t->status == T_INPUT) {
		cJSON_ArrayForEach(k, in) {
			if ((open = cJSON_GetObjectItemCaseSensitive(t->requests, k->string)) == NULL) {
				continue;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(t->inputs, k->string);
			cJSON_AddItemToObject(t->inputs, k->string, cJSON_Duplicate(k, 1));
			cJSON_DeleteItemFromObjectCaseSensitive(t->requests, k->string);
		}
		t->updated_ms = dur_now_ms();
		if (t->requests->child == NULL && (r = round_start(t)) != 0) {
			t->status = T_FAILED;
			t->err_code = MCP_ERR_INTERNAL;
			snprintf(t->err_msg, sizeof(t->err_msg), "cannot resume the task: %s",
			    zt_strerror(r));
		}
	}
	pthread_mutex_unlock(&srv->task_lock);
	task_put(srv, t);
	return 0;
}

int mcp_tasks_cancel(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e)
{
	struct mcp_server *srv = c->s->srv;
	struct mcp_session *s = NULL;
	struct mcp_task *t = NULL;
	int r;

	if ((r = task_ack(c, params, &t, result, e)) != 0) {
		return r;
	}
	pthread_mutex_lock(&srv->task_lock);
	if (!terminal(t->status)) {
		t->status = T_CANCELLED;
		t->updated_ms = dur_now_ms();
		if ((s = t->round) != NULL) {
			mcp_session_ref(s);
		}
	}
	pthread_mutex_unlock(&srv->task_lock);
	if (s != NULL) {
		/* The round's waits end at once (ZT_ERR_CANCELLED). */
		mcp_session_close(s);
		mcp_session_unref(s);
	}
	task_put(srv, t);
	return 0;
}

int mcp_server_tasks_revoke(struct mcp_server *srv, mcp_owner_check_fn *check, void *arg,
    size_t *ended)
{
	struct mcp_task **all = NULL;
	const char *why = NULL;
	size_t n = 0, i, nended = 0;
	struct mcp_session *s;

	if (ended != NULL) {
		*ended = 0;
	}
	/* A snapshot of the unfinished tasks, each referenced: check() may
	 * wait (it reads the store), so it runs without the lock. */
	pthread_mutex_lock(&srv->task_lock);
	if (srv->ntasks > 0 && (all = calloc(srv->ntasks, sizeof(*all))) == NULL) {
		pthread_mutex_unlock(&srv->task_lock);
		return ZT_ERR_NOMEM;
	}
	for (struct mcp_task *t = srv->tasks; t != NULL && n < srv->ntasks; t = t->next) {
		if (!terminal(t->status)) {
			t->refs++;
			all[n++] = t;
		}
	}
	pthread_mutex_unlock(&srv->task_lock);
	for (i = 0; i < n; i++) {
		why = NULL;
		if (check(arg, &all[i]->owner, &why) == 0) {
			continue;
		}
		s = NULL;
		pthread_mutex_lock(&srv->task_lock);
		if (!terminal(all[i]->status)) {
			all[i]->status = T_CANCELLED;
			all[i]->updated_ms = dur_now_ms();
			if ((s = all[i]->round) != NULL) {
				mcp_session_ref(s);
			}
			nended++;
			log_info("mcp: cancelled task %s of %s:%s: %s", all[i]->id,
			    all[i]->owner.kind, all[i]->owner.name,
			    why != NULL ? why : "its credential no longer holds");
		}
		pthread_mutex_unlock(&srv->task_lock);
		if (s != NULL) {
			mcp_session_close(s);
			mcp_session_unref(s);
		}
	}
	pthread_mutex_lock(&srv->task_lock);
	for (i = 0; i < n; i++) {
		task_unref(all[i]);
	}
	pthread_mutex_unlock(&srv->task_lock);
	free(all);
	if (ended != NULL) {
		*ended = nended;
	}
	return 0;
}

void mcp_server_tasks_stop(struct mcp_server *srv)
{
	if (srv == NULL) {
		return;
	}
	pthread_mutex_lock(&srv->task_lock);
	srv->tasks_stopping = 1;
	for (struct mcp_task *t = srv->tasks; t != NULL; t = t->next) {
		if (t->round != NULL) {
			t->status = T_CANCELLED;
			mcp_session_close(t->round);
		}
	}
	while (srv->running > 0) {
		pthread_cond_wait(&srv->task_cond, &srv->task_lock);
	}
	while (srv->tasks != NULL) {
		struct mcp_task *t = srv->tasks;

		srv->tasks = t->next;
		task_unref(t);
	}
	srv->ntasks = 0;
	pthread_mutex_unlock(&srv->task_lock);
}
