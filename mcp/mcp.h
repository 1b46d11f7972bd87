/*
 * mcp.h - the MCP protocol engine: JSON-RPC 2.0 and the Model Context
 * Protocol, independent of transport, in both of its eras: the session era
 * (2025-11-25, 2025-06-18, 2025-03-26: initialize, then a session) and the
 * stateless era (2026-07-28: every request carries its version and the
 * client's capabilities in params._meta; see "the stateless era" below).
 *
 * A struct mcp_server holds what the server offers: tools, resource
 * providers, prompts, completion; it is filled at start-up and read-only
 * afterwards. A struct mcp_session is one client's conversation (one
 * Mcp-Session-Id over HTTP, or one stdio connection): negotiated version,
 * client capabilities, log level, subscriptions, the requests in flight.
 * Transports (broker/brk_mcphttp.c, tests' stdio) decode each incoming
 * message with mcp_decode(), then hand it to mcp_session_dispatch() with a
 * sink through which the engine sends everything that belongs to that
 * message: progress, log messages, server-to-client requests (elicitation,
 * sampling) and finally the response.
 *
 * Handlers run on the thread that dispatched the request and may block;
 * while they do, other messages of the same session (a cancellation, the
 * answer to an elicitation) are dispatched on other threads. Every function
 * here is thread-safe unless it says otherwise.
 *
 * Before initialize only ping is served; a second initialize is refused.
 * Methods of a feature with nothing registered (tools, resources,
 * prompts) answer -32601. Per session: at most 64 requests in flight and
 * 256 subscriptions.
 *
 * Errors follow JSON-RPC: -32700 parse error, -32600 invalid request
 * (including batches, which MCP no longer has), -32601 unknown method,
 * -32602 invalid params or unknown tool/prompt, -32603 internal, -32002
 * resource not found. A tool that fails returns a result with isError.
 */
#ifndef ZT_MCP_H
#define ZT_MCP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define MCP_MSG_MAX (4 * 1024 * 1024) /* bytes of one JSON-RPC message */
#define MCP_JSON_DEPTH 64
#define MCP_PROTOCOL_LATEST "2025-11-25"     /* the newest of the session era */
#define MCP_PROTOCOL_STATELESS "2026-07-28"  /* the stateless era */

#define MCP_ERR_PARSE (-32700)
#define MCP_ERR_INVALID_REQUEST (-32600)
#define MCP_ERR_METHOD_NOT_FOUND (-32601)
#define MCP_ERR_INVALID_PARAMS (-32602)
#define MCP_ERR_INTERNAL (-32603)
#define MCP_ERR_RESOURCE_NOT_FOUND (-32002) /* session era; 2026-07-28 uses -32602 */
/* 2026-07-28: a header that disagrees with the body (or is missing). */
#define MCP_ERR_HEADER_MISMATCH (-32020)
/* 2026-07-28: the request needs a client capability its _meta lacks;
 * data.requiredCapabilities names it ({"sampling": {}}). */
#define MCP_ERR_MISSING_CAPABILITY (-32021)
/* 2026-07-28: a protocol version this engine does not speak; data has
 * {supported: [...], requested}. */
#define MCP_ERR_UNSUPPORTED_VERSION (-32022)

/* Who is calling: set by the transport from its authentication. */
struct mcp_identity {
	char kind[12];     /* "user", "bot" or "anonymous" */
	char name[65];
	char roles[1025];  /* comma-separated */
	char source[64];   /* the client's address as the transport saw it, for
	                    * audit ("127.0.0.1", "::1"); "" when it has none */
	/* What names the credential that authenticated it, for the embedding
	 * application to look the identity up again (the broker: its token's
	 * hash); "" when none. Never the credential itself. */
	char credential[72];
};

struct mcp_server;
struct mcp_session;
struct mcp_call;

enum mcp_task_support { MCP_TASK_NONE = 0, MCP_TASK_OPTIONAL, MCP_TASK_REQUIRED };
#define MCP_TASKS_EXTENSION "io.modelcontextprotocol/tasks"

/* ---- decoding ---- */

enum mcp_msg_kind { MCP_REQUEST = 1, MCP_NOTIFICATION, MCP_RESPONSE };

struct mcp_msg {
	enum mcp_msg_kind kind;
	cJSON *root;          /* owns everything below */
	const cJSON *id;      /* request/response id: string or integer; NULL for notifications */
	const char *method;   /* requests and notifications */
	const cJSON *params;  /* object or NULL */
	const cJSON *result;  /* responses */
	const cJSON *error;   /* error responses */
};

/* Decodes one JSON-RPC 2.0 message from untrusted bytes. On failure fills
 * *error_json (owned; NULL on ENOMEM) with the JSON-RPC error response to
 * send, carrying the request id when one could be read, and returns:
 * ZT_ERR_INVALID (not JSON: -32700), ZT_ERR_TOO_LARGE (over the size or
 * depth limit: -32600), ZT_ERR_PROTOCOL (not one valid message: -32600, or
 * -32602 for array params), ZT_ERR_NOMEM. */
int mcp_decode(const void *p, size_t n, struct mcp_msg *out, char **error_json);
void mcp_msg_clear(struct mcp_msg *m);

/* Compact JSON-RPC texts (owned; NULL on ENOMEM). id is copied. */
char *mcp_error_json(const cJSON *id, int code, const char *message, const cJSON *data);
char *mcp_notification_json(const char *method, cJSON *params /* taken */);

/* ---- the server: what is offered ---- */

struct mcp_tool {
	const char *name;
	const char *title;          /* may be NULL */
	const char *description;
	const char *input_schema;   /* JSON object text */
	const char *output_schema;  /* JSON object text or NULL */
	const char *annotations;    /* JSON object text or NULL */
	/* The client capabilities a call needs, as a ClientCapabilities JSON
	 * object text ({"sampling": {}}), or NULL. A stateless-era call from
	 * a client whose _meta does not declare them is refused with -32021
	 * before the handler runs. */
	const char *requires;
	/* Whether a call may run as a task of the tasks extension
	 * (io.modelcontextprotocol/tasks, 2026-07-28): MCP_TASK_NONE (never),
	 * MCP_TASK_OPTIONAL (when the request declares the extension), or
	 * MCP_TASK_REQUIRED (only so: a request without it gets -32021). A
	 * task's handler runs later, on a thread of its own, in rounds: an
	 * input_required answer makes the task wait for tasks/update. */
	int task_support;
	/* For a call that becomes a task: runs first, in the request. A result
	 * (input_required) answers the request instead of a task; 0 with
	 * *result NULL goes on to the task, whose rounds see the answers this
	 * request carried. NULL: none. */
	int (*before_task)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	/* Whether who may see the tool in tools/list (and call it); NULL means
	 * everyone. The policy hook. */
	int (*visible)(const struct mcp_identity *who, void *arg);
	/* Runs a call. args is the "arguments" object ({} when absent). On 0,
	 * *result is a CallToolResult object (owned by the engine; see the
	 * mcp_result_* helpers). ZT_ERR_CANCELLED: the call was cancelled and
	 * no response is sent. Any other negative value becomes -32603. */
	int (*handler)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	void *arg;
};

struct mcp_resource_provider {
	/* Appends Resource objects the caller may see to resources (an array). */
	int (*list)(struct mcp_call *call, cJSON *resources, void *arg);
	/* Appends ResourceTemplate objects to templates; may be NULL. */
	int (*templates)(struct mcp_call *call, cJSON *templates, void *arg);
	/* Appends the contents of uri to contents (an array): 0, or
	 * ZT_ERR_NOT_FOUND when uri is not this provider's. */
	int (*read)(struct mcp_call *call, const char *uri, cJSON *contents, void *arg);
	void *arg;
};

struct mcp_prompt {
	const char *name;
	const char *title;
	const char *description;
	const char *arguments;      /* JSON array text of PromptArgument, or NULL */
	/* On 0, *result is a GetPromptResult object (owned by the engine).
	 * ZT_ERR_INVALID (missing required argument) becomes -32602. */
	int (*get)(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg);
	void *arg;
};

/* completion/complete: ref is {type: "ref/prompt"|"ref/resource", ...},
 * argument {name, value}, context may be NULL. On 0 *completion is the
 * {values, total?, hasMore?} object (owned by the engine). */
typedef int (*mcp_complete_fn)(struct mcp_call *call, const cJSON *ref, const cJSON *argument,
    const cJSON *context, cJSON **completion, void *arg);

/* name/version go into serverInfo; instructions may be NULL. */
struct mcp_server *mcp_server_new(const char *name, const char *version,
    const char *instructions);
void mcp_server_free(struct mcp_server *srv);
/* Registration, before any session exists. Strings are copied; schemas
 * are parsed once here (ZT_ERR_INVALID for bad JSON, ZT_ERR_EXISTS for a
 * duplicate name). */
int mcp_server_add_tool(struct mcp_server *srv, const struct mcp_tool *t);
int mcp_server_add_resources(struct mcp_server *srv, const struct mcp_resource_provider *p);
int mcp_server_add_prompt(struct mcp_server *srv, const struct mcp_prompt *p);
void mcp_server_set_completion(struct mcp_server *srv, mcp_complete_fn fn, void *arg);
/* Called when tools/call names a tool the caller may not see (exists 1) or
 * none at all (exists 0): where the policy layer records the attempt and
 * says why. For a tool that exists it may return the answer, a
 * CallToolResult (owned by the engine; isError, e.g. naming the rule that
 * denies the tool); when it returns NULL, and always for a tool that does
 * not exist, the caller gets -32602 "Unknown tool". name is the requested
 * name (untrusted; at most 256 bytes). */
typedef cJSON *(*mcp_refused_tool_fn)(struct mcp_call *call, const char *name, int exists,
    void *arg);
void mcp_server_set_refused_tool(struct mcp_server *srv, mcp_refused_tool_fn fn, void *arg);
/* Items per page of tools/list, resources/list, prompts/list (default 100). */
void mcp_server_set_page_size(struct mcp_server *srv, size_t n);
/* Sends notifications/resources/updated to every session subscribed to uri
 * (resources/subscribe, or a subscriptions/listen stream's
 * resourceSubscriptions), through each session's stream. */
void mcp_server_resource_updated(struct mcp_server *srv, const char *uri);
/* The tools some callers may see changed (a role changed): sends
 * notifications/tools/list_changed to every session of the old era and
 * every subscriptions/listen stream that asked for it. */
void mcp_server_tools_changed(struct mcp_server *srv);

/* ---- sessions ---- */

/* Where the engine's messages go. send() gets one compact JSON-RPC text;
 * it returns 0, or a negative ZT_ERR_* when the client is gone (the engine
 * then stops sending on this sink). close_stream (may be NULL) asks the
 * transport to end the current connection of a resumable stream now; the
 * stream itself lives on and later sends go to the client when it resumes
 * (SSE polling, SEP-1699). Called from the dispatching thread. */
struct mcp_sink {
	int (*send)(void *arg, const char *json);
	void (*close_stream)(void *arg, int retry_ms);
	void *arg;
};

/* A new session owned by the identity that created it (copied). Reference
 * counted: starts at 1. */
struct mcp_session *mcp_session_new(struct mcp_server *srv, const struct mcp_identity *owner);
void mcp_session_ref(struct mcp_session *s);
/* Drops a reference; the last one frees. NULL is a no-op. */
void mcp_session_unref(struct mcp_session *s);
/* Ends the session: cancels every call in flight (their waits return
 * ZT_ERR_CANCELLED) and refuses further dispatches. */
void mcp_session_close(struct mcp_session *s);
const struct mcp_identity *mcp_session_owner(const struct mcp_session *s);
/* The negotiated protocol version, or NULL before initialize. */
const char *mcp_session_protocol_version(const struct mcp_session *s);
/* 1 once notifications/initialized arrived. */
int mcp_session_initialized(const struct mcp_session *s);
/* The session's standalone stream (HTTP GET, or stdio) for messages that
 * belong to no request; NULL detaches. The sink is copied. */
void mcp_session_set_stream(struct mcp_session *s, const struct mcp_sink *sink);
/* 1 if version is one this engine speaks. */
int mcp_protocol_supported(const char *version);

/* Handles one decoded message from who. For a request, runs it and sends
 * its response (and anything before it) through sink; returns after the
 * response was sent (or the call was cancelled). For a notification or a
 * response to a server request, applies it and returns at once (sink
 * unused, may be NULL). Returns 0, or ZT_ERR_INVALID when the session is
 * closed. */
int mcp_session_dispatch(struct mcp_session *s, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_sink *sink);

/* ---- the stateless era (2026-07-28) ---- */

/* The request headers of the stateless era, as the transport read them
 * (NULL when absent): MCP-Protocol-Version, Mcp-Method and Mcp-Name; and
 * param(), which looks up any other header by name (case-insensitive):
 * the Mcp-Param-<Name> headers that carry the arguments a tool's input
 * schema marks with "x-mcp-header" (SEP-2243). */
struct mcp_headers {
	const char *version;
	const char *method;
	const char *name;
	const char *(*param)(void *arg, const char *header);
	void *param_arg;
};

/* The value of header h without HTTP's optional whitespace (spaces and
 * tabs) around it: its start within h, and its length in *len. How every
 * header the stateless era reads is compared. */
const char *mcp_header_value(const char *h, size_t *len);

/* 1 if request m belongs to the stateless era: its params._meta names a
 * protocol version, or the header says 2026-07-28. (A session-era client
 * sends initialize without either, and a session id afterwards.) */
int mcp_msg_stateless(const struct mcp_msg *m, const char *header_version);

/* Checks stateless request m from who before it runs, in the order the
 * revision asks: params._meta with protocolVersion and clientCapabilities
 * (-32602), the version header equal to it (-32020), a version spoken
 * here (-32022), a method this era has (-32601), Mcp-Method equal
 * to the method, Mcp-Name to the tool or prompt name or resource uri, and
 * each Mcp-Param-<Name> to its argument, literal or as "=?base64?...?="
 * (-32020), the client capabilities a tool requires (-32021). 0 when m
 * may run; else *error_json (owned) is the response, carrying m's id, and
 * *http_status the HTTP status it goes with (400, or 404 for -32601). */
int mcp_stateless_check(struct mcp_server *srv, const struct mcp_identity *who,
    const struct mcp_msg *m, const struct mcp_headers *h, char **error_json, int *http_status);

/* 1 if the server has no tool named name that who may call: what a
 * transport may refuse from the Mcp-Name header alone, before the body. */
int mcp_server_tool_refused(struct mcp_server *srv, const struct mcp_identity *who,
    const char *name);

/* A session for the one stateless request m (checked): its version,
 * client capabilities and log level come from m's _meta. Dispatch m on
 * it, then unref it; closing it cancels the request (the client went
 * away). NULL on ENOMEM. */
struct mcp_session *mcp_session_stateless(struct mcp_server *srv,
    const struct mcp_identity *who, const struct mcp_msg *m);

/* The key that seals requestState (mcp_state.h); a random one is made
 * with the server. A key kept across restarts lets a client continue
 * after one. */
void mcp_server_set_state_key(struct mcp_server *srv, const uint8_t key[32]);
/* Says whether the credential of owner (struct mcp_identity.credential)
 * still holds: 0, or non-zero with *why (static text) when it does not. */
typedef int mcp_owner_check_fn(void *arg, const struct mcp_identity *owner, const char **why);
/* Cancels the unfinished tasks whose owner check() refuses (their rounds'
 * waits end at once); *ended (may be NULL) gets how many. 0 or
 * ZT_ERR_NOMEM (nothing checked). */
int mcp_server_tasks_revoke(struct mcp_server *srv, mcp_owner_check_fn *check, void *arg,
    size_t *ended);
/* Cancels every running task round and waits for them to end; then
 * forgets every task. Before freeing what the tools use (mcp_server_free
 * calls it too). */
void mcp_server_tasks_stop(struct mcp_server *srv);
/* How long a sealed requestState holds (default 3600 s). */
void mcp_server_set_state_ttl(struct mcp_server *srv, int ttl_s);
/* Called when a request carries a requestState that does not hold
 * (forged, expired, another identity's or another request's): where the
 * embedding application records the attempt. why is fixed text. The
 * client gets -32602. */
typedef void (*mcp_refused_state_fn)(struct mcp_call *call, const char *why, void *arg);
void mcp_server_set_refused_state(struct mcp_server *srv, mcp_refused_state_fn fn, void *arg);
/* The caching hints of list and read results (ttlMs, cacheScope): how
 * long a client may reuse them, and whether for itself only ("private",
 * the default, with 0 ms) or for anyone ("public"). */
void mcp_server_set_cache(struct mcp_server *srv, int64_t ttl_ms, int public_scope);

/* ---- inside a handler ---- */

const struct mcp_identity *mcp_call_identity(const struct mcp_call *call);
struct mcp_session *mcp_call_session(struct mcp_call *call);
/* The W3C trace context the request carried in params._meta
 * ("traceparent", "tracestate"), for audit: NULL when it carried none, or
 * one that is not well formed (a traceparent of version 00: 55 bytes of
 * lower-case hex and dashes, ids not all zero; a tracestate of at most
 * 512 printable bytes). */
const char *mcp_call_traceparent(const struct mcp_call *call);
const char *mcp_call_tracestate(const struct mcp_call *call);
/* The request's method (tools/call, prompts/get, ...). */
const char *mcp_call_method(const struct mcp_call *call);
/* The request id as text (for audit), e.g. "7" or "\"abc\"". */
const char *mcp_call_id(const struct mcp_call *call);
/* 1 once notifications/cancelled named this request, or the session closed. */
int mcp_call_cancelled(const struct mcp_call *call);
/* Sleeps up to ms; returns 0, or ZT_ERR_CANCELLED early on cancellation. */
int mcp_call_sleep(struct mcp_call *call, int ms);
/* Sends notifications/progress if the request carried a progressToken
 * (else does nothing). total < 0 and message NULL are omitted. */
int mcp_call_progress(struct mcp_call *call, double progress, double total, const char *message);
/* Sends notifications/message if level is at or above the session's level
 * (logging/setLevel; default "info"). data is taken. */
int mcp_call_log(struct mcp_call *call, const char *level, const char *logger, cJSON *data);
/* Sends a notification that belongs to this request on its sink (e.g.
 * notifications/elicitation/complete); params is taken (may be NULL). */
int mcp_call_notify(struct mcp_call *call, const char *method, cJSON *params);
/* 1 if the client declared the capability (at initialize, or in this
 * request's _meta): "elicitation", "elicitation.form", "elicitation.url",
 * "sampling", "roots", or "extensions/<name>". */
int mcp_call_client_supports(const struct mcp_call *call, const char *capability);
/* Sends a request to the client on the call's sink and waits for the
 * answer (timeout_ms <= 0: no deadline; the wait still ends on
 * cancellation or session close). params is taken. On 0, *result is the
 * result object (owned by the caller). ZT_ERR_PROTOCOL: the client
 * answered with an error (*result is then the error object);
 * ZT_ERR_TIMEOUT and ZT_ERR_CANCELLED, after which the engine has sent
 * notifications/cancelled for its request. */
int mcp_call_request(struct mcp_call *call, const char *method, cJSON *params, int timeout_ms,
    cJSON **result);
/* mcp_call_request() that also gives up when stop(arg) says so (checked
 * about every MCP_STOP_POLL_MS, outside the engine's locks): then it sends
 * notifications/cancelled for its request ("no longer needed") and returns
 * ZT_ERR_STOPPED. For a question that may be settled another way (an
 * approval given elsewhere while the client still shows the page). */
#define MCP_STOP_POLL_MS 250
int mcp_call_request_until(struct mcp_call *call, const char *method, cJSON *params,
    int timeout_ms, int (*stop)(void *arg), void *arg, cJSON **result);
/* Asks the transport to close the call's stream connection now (see
 * struct mcp_sink); later messages are replayed when the client resumes. */
void mcp_call_close_stream(struct mcp_call *call, int retry_ms);

/* Multi round-trip requests (2026-07-28). Instead of asking the client
 * with mcp_call_request() (which a stateless call cannot: it returns
 * ZT_ERR_INVALID at once), a handler of tools/call or prompts/get answers
 * mcp_result_input_required(); the client asks its user or model and
 * sends the same request again with the answers and the sealed state. */
/* 1 if the call is of the stateless era (it may answer input_required). */
int mcp_call_stateless(const struct mcp_call *call);
/* 1 if the call is a round of a task (input_required makes the task wait
 * for tasks/update; the state stays with the server). */
int mcp_call_task(const struct mcp_call *call);
/* The client's answer to the input request named key in this request's
 * inputResponses (an object: the engine refused anything else), or NULL. */
const cJSON *mcp_call_input(const struct mcp_call *call, const char *key);
/* The data the previous round sealed into requestState, verified (bound to
 * this identity and this request, not expired), or NULL when the request
 * carried none. A state that does not verify never reaches a handler. */
const cJSON *mcp_call_state(const struct mcp_call *call);
/* The result that asks for input: {"resultType": "input_required",
 * "inputRequests": requests, "requestState": <state sealed>}. requests
 * (an object of InputRequest, may be NULL) and state (any JSON, may be
 * NULL: no requestState; it must hold no secret, the client can read it)
 * are taken. 0 with *result (owned), ZT_ERR_NOMEM, or ZT_ERR_INVALID in
 * a session-era call or a method that cannot take rounds. */
int mcp_result_input_required(struct mcp_call *call, cJSON *requests, cJSON *state,
    cJSON **result);
/* The action of an ElicitResult answer ("accept", "decline", "cancel"),
 * with *content its content object (or NULL); NULL when resp is not one. */
const char *mcp_input_elicit(const cJSON *resp, const cJSON **content);

/* ---- building results ---- */

/* {"content": [], "isError": is_error} (owned). */
cJSON *mcp_result_new(int is_error);
/* Appends {"type":"text","text":text} to result's content. */
int mcp_result_add_text(cJSON *result, const char *text);
/* Appends image or audio content with base64 data. */
int mcp_result_add_media(cJSON *result, const char *type, const char *base64, const char *mime);
/* Appends an embedded resource with base64 data:
 * {"type":"resource","resource":{"uri","mimeType","blob"}}. */
int mcp_result_add_blob(cJSON *result, const char *uri, const char *base64, const char *mime);
/* Appends a link to a resource the result does not carry:
 * {"type":"resource_link","uri","name","mimeType"}. */
int mcp_result_add_link(cJSON *result, const char *uri, const char *name, const char *mime);
/* A result whose structuredContent is sc (taken, also on failure) and
 * whose one text block is sc's compact JSON, as the spec asks of tools
 * with an output schema: 0 with *result (owned), or ZT_ERR_NOMEM (sc NULL
 * too) with *result NULL. */
int mcp_result_structured(cJSON *sc, cJSON **result);
/* A tool error result with one text block (owned). */
cJSON *mcp_result_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
