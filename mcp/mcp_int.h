/*
 * mcp_int.h - private to mcp/: the bodies of the engine's opaque structs
 * and the helpers its files share. Nothing outside mcp/ includes this;
 * the contract is mcp.h.
 *
 * Locking: srv->lock guards the server's list of sessions; s->lock guards
 * everything mutable in a session and the cancelled flags and pending
 * answers of its calls; s->stream_lock serialises sends on the standalone
 * stream; call->send_lock serialises sends on a call's sink;
 * srv->task_lock guards the tasks (mcp_tasks.c). Order: srv->task_lock
 * before srv->lock before s->lock; no send happens under s->lock.
 */
#ifndef ZT_MCP_INT_H
#define ZT_MCP_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "mcp/mcp.h"

/* Named limits on what a client may send or accumulate. */
#define MCP_ID_MAX 256          /* bytes of a string request id */
#define MCP_METHOD_MAX 256      /* bytes of a method name */
#define MCP_NAME_MAX 256        /* bytes of a tool/prompt/argument name */
#define MCP_URI_MAX 8192        /* bytes of a resource URI */
#define MCP_VERSION_MAX 32      /* bytes of a protocolVersion */
#define MCP_SUBS_MAX 256        /* resource subscriptions per session */
#define MCP_CALLS_MAX 64        /* client requests in flight per session */
#define MCP_PAGE_DEFAULT 100
#define MCP_CURSOR_MAX 64       /* bytes of a pagination cursor */
#define MCP_COMPLETION_MAX 100  /* values in one completion (spec) */
#define MCP_STATE_TTL_DEFAULT 3600 /* seconds a sealed requestState holds */
#define MCP_TRACEPARENT_LEN 55  /* "00-<32 hex>-<16 hex>-<2 hex>" */
#define MCP_TRACESTATE_MAX 512  /* W3C: at most 32 members; we cap the bytes */
#define MCP_TASK_TTL_MS 3600000   /* a task is kept this long after its creation */
#define MCP_TASKS_MAX 1024        /* tasks kept at once, running or not */
#define MCP_TASKS_PER_IDENTITY 64 /* of them, one identity's */
/* Integer ids and tokens must be exact in a double: |v| <= 2^53 - 1. */
#define MCP_INT_EXACT_MAX 9007199254740991LL

struct mcp_srv_tool {
	char *name;
	char *title;
	char *description;
	cJSON *input_schema;
	cJSON *output_schema;
	cJSON *annotations;
	cJSON *requires;                /* ClientCapabilities object, or NULL */
	int task_support;               /* enum mcp_task_support */
	int (*before_task)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	int (*visible)(const struct mcp_identity *who, void *arg);
	int (*handler)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	void *arg;
};

struct mcp_srv_prompt {
	char *name;
	char *title;
	char *description;
	cJSON *arguments;
	int (*get)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	void *arg;
};

struct mcp_server {
	char *name;
	char *version;
	char *instructions;
	struct mcp_srv_tool *tools;
	size_t ntools;
	struct mcp_srv_prompt *prompts;
	size_t nprompts;
	struct mcp_resource_provider *providers;
	size_t nproviders;
	mcp_complete_fn complete;
	void *complete_arg;
	mcp_refused_tool_fn refused_tool;
	void *refused_tool_arg;
	size_t page_size;
	/* The stateless era: the requestState key and lifetime, the refusal
	 * hook, the caching hints. Set at start-up. */
	uint8_t state_key[32];
	int state_ttl;
	mcp_refused_state_fn refused_state;
	void *refused_state_arg;
	int64_t cache_ttl_ms;
	int cache_public;
	/* The tasks extension (mcp_tasks.c): task_lock guards the tasks, their
	 * fields, and the counts; task_cond wakes mcp_server_tasks_stop(). */
	pthread_mutex_t task_lock;
	pthread_cond_t task_cond;
	struct mcp_task *tasks;
	size_t ntasks;
	int running;                    /* rounds running */
	int tasks_stopping;
	pthread_mutex_t lock;           /* guards sessions */
	struct mcp_session *sessions;
};

/* A server-to-client request waiting for the client's answer. */
struct mcp_pending {
	int64_t id;
	struct mcp_call *call;
	cJSON *answer;                  /* the result or error object, owned */
	int is_error;
	int done;
	struct mcp_pending *next;
};

enum mcp_log_level {
	MCP_LOG_DEBUG = 0, MCP_LOG_INFO, MCP_LOG_NOTICE, MCP_LOG_WARNING, MCP_LOG_ERROR,
	MCP_LOG_CRITICAL, MCP_LOG_ALERT, MCP_LOG_EMERGENCY,
	MCP_LOG_OFF                     /* a stateless request that named no level */
};

struct mcp_session {
	struct mcp_server *srv;
	struct mcp_identity owner;
	pthread_mutex_t lock;
	int refs;
	int closed;
	char version[MCP_VERSION_MAX + 1]; /* "" before initialize; then fixed */
	int initialized;
	int stateless;                  /* one 2026-07-28 request's (fixed) */
	/* A subscriptions/listen stream's: its request id (set once, before
	 * the stream) and what it asked for (subs: resourceSubscriptions). */
	cJSON *listen_id;
	int listen_tools;
	cJSON *client_caps;
	int log_level;
	char **subs;
	size_t nsubs;
	struct mcp_call *calls;         /* client requests in flight */
	size_t ncalls;
	struct mcp_pending *pending;    /* our requests awaiting answers */
	int64_t next_id;
	pthread_mutex_t stream_lock;
	struct mcp_sink stream;
	int has_stream;
	struct mcp_session *prev, *next; /* srv->sessions, under srv->lock */
};

/* One client request being handled; lives on the dispatching thread. */
struct mcp_call {
	struct mcp_session *s;
	struct mcp_identity who;
	const char *method;
	cJSON *id;                      /* copy of the request id */
	char *id_text;
	cJSON *progress_token;          /* copy, or NULL */
	/* W3C trace context from params._meta, validated; "" when none. */
	char traceparent[MCP_TRACEPARENT_LEN + 1];
	char tracestate[MCP_TRACESTATE_MAX + 1];
	cJSON *inputs;                  /* stateless: inputResponses (copy) or NULL */
	cJSON *state;                   /* stateless: requestState's data, verified */
	char req_hash[65];              /* stateless: what a sealed state binds */
	int task;                       /* a task's round (mcp_tasks.c) */
	cJSON *next_state;              /* a task round's state for the next round */
	pthread_mutex_t send_lock;
	struct mcp_sink sink;
	int has_sink;                   /* 0 once the sink failed */
	int cancelled;                  /* under s->lock */
	pthread_cond_t cond;            /* with s->lock: cancel, answers */
	struct mcp_call *next;
};

/* A JSON-RPC error a method handler wants sent. */
struct mcp_rpc_error {
	int code;                       /* 0: none set, use -32603 */
	char message[512];
	cJSON *data;                    /* owned, or NULL */
};

/* mcp_jsonrpc.c */
/* A copy of an id or progress token fit for printing: integers print
 * exactly (no exponent), NULL becomes JSON null. NULL on ENOMEM. */
cJSON *mcp_id_dup(const cJSON *id);
/* 1 if two ids are the same string or the same number. */
int mcp_id_equal(const cJSON *a, const cJSON *b);
/* 1 if v is a string or an integer usable as a request id. */
int mcp_id_valid(const cJSON *v);
/* {"jsonrpc":"2.0","id":id,"result":result} (result taken); NULL on ENOMEM. */
char *mcp_response_json(const cJSON *id, cJSON *result);
/* {"jsonrpc":"2.0","id":id,"method":method,"params":params} (params taken). */
char *mcp_request_json(int64_t id, const char *method, cJSON *params);

/* mcp_result.c */
/* After vsnprintf() into buf[size] returned written: on truncation, cuts
 * buf back to a UTF-8 character boundary; on an error, empties it. */
void mcp_text_cut(char *buf, size_t size, int written);

/* mcp_methods.c */
/* Runs the method of request call; see struct mcp_rpc_error. 0 with
 * *result, ZT_ERR_CANCELLED, or another negative code with e filled. */
int mcp_method_run(struct mcp_call *call, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);
/* 1 if the server offers method in the era (stateless or not). */
int mcp_method_offered(const struct mcp_server *srv, const char *method, int stateless);
/* Fills e and returns ZT_ERR_INVALID; data is taken. */
int mcp_fail(struct mcp_rpc_error *e, int code, cJSON *data, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A level name's index, or -1. */
int mcp_log_level_parse(const char *name);

/* mcp_call.c */
/* Sends json on the call's sink (0, or the sink's error; a failed sink
 * is not used again). */
int mcp_call_send(struct mcp_call *call, const char *json);

/* mcp_server.c */
/* The registered tool named name, or NULL. */
const struct mcp_srv_tool *mcp_server_tool(const struct mcp_server *srv, const char *name);
/* 1 if who may see and call t. A hook's error hides the tool. */
int mcp_tool_visible(const struct mcp_srv_tool *t, const struct mcp_identity *who);
/* The versions of the session era, newest first. */
extern const char *const mcp_session_versions[];
extern const size_t mcp_session_nversions;

/* mcp_stateless.c */
/* Checks inputResponses (an object of objects: answers to input
 * requests): 0, or -32602 in e. */
int mcp_inputs_check(const cJSON *in, struct mcp_rpc_error *e);
/* The stateless era's work on a call before its method runs: reads
 * inputResponses and opens requestState (params of tools/call, prompts/get,
 * resources/read). 0, or -32602 in e. */
int mcp_stateless_prepare(struct mcp_call *call, const cJSON *params, struct mcp_rpc_error *e);
/* Completes a stateless result of call's method: resultType "complete"
 * unless set, and the caching hints of list and read results. 0 or
 * ZT_ERR_NOMEM. */
int mcp_stateless_finish(const struct mcp_call *call, cJSON *result);
/* subscriptions/listen. */
int mcp_stateless_listen(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);
/* server/discover. */
int mcp_stateless_discover(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);
/* The capabilities object a server declares (initialize, discover). */
cJSON *mcp_server_capabilities(const struct mcp_server *srv, int stateless);

/* mcp_tasks.c */
struct mcp_task;
/* 1 if a tools/call of t by call runs as a task: stateless, the tool
 * supports tasks, the request declares the extension. */
int mcp_tasks_wanted(const struct mcp_call *call, const struct mcp_srv_tool *t);
/* Creates a task running t with args for call's identity: its
 * CreateTaskResult in *result, or an error in e. */
int mcp_tasks_create(struct mcp_call *call, const struct mcp_srv_tool *t, const cJSON *args,
    cJSON **result, struct mcp_rpc_error *e);
/* tasks/get, tasks/update, tasks/cancel. */
int mcp_tasks_get(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);
int mcp_tasks_update(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);
int mcp_tasks_cancel(struct mcp_call *c, const cJSON *params, cJSON **result,
    struct mcp_rpc_error *e);

/* mcp_session.c */
/* Runs fn as a call of s that came with no request and has no sink (a
 * task's round): method and id_text name it; listed in s, so closing s
 * cancels it. 0, ZT_ERR_INVALID (s closed) or ZT_ERR_NOMEM. */
int mcp_session_run(struct mcp_session *s, const struct mcp_identity *who, const char *method,
    const char *id_text, int (*fn)(struct mcp_call *call, void *arg), void *arg);
/* Sends json on the session's standalone stream, if there is one. */
int mcp_session_stream_send(struct mcp_session *s, const char *json);

#endif
