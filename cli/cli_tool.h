/*
 * cli_tool.h - a small MCP client for ztctl's own commands: one session on
 * the broker's MCP endpoint (POST https://BROKER/mcp, Streamable HTTP
 * 2025-11-25) as the logged-in user, and tool calls on it, so that a
 * command such as `ztctl cp` goes through the same gate, policy and audit
 * as an AI's calls.
 *
 *   cli_tool_open()   initialize (capabilities {}) and
 *                     notifications/initialized
 *   cli_tool_call()   tools/call; its answer comes as JSON or as an SSE
 *                     stream (cli_sse.h), which is resumed with
 *                     Last-Event-ID if it ends before the answer; log
 *                     notifications sent meanwhile (a held call says where
 *                     to approve it) are handed to a callback
 *   cli_tool_close()  DELETE of the session
 *
 * Everything goes over cli_stream.h (TLS pinned to the profile's CA); the
 * bearer token is never written to an error sentence. A session belongs
 * to one thread.
 */
#ifndef ZT_CLI_TOOL_H
#define ZT_CLI_TOOL_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct cli_profile;
struct cli_stream;
struct cli_tool;

#define CLI_TOOL_PROTOCOL "2025-11-25"
#define CLI_TOOL_MSG_MAX (4 * 1024 * 1024) /* bytes of one message, as the broker's */
#define CLI_TOOL_SID_MAX 256               /* bytes of an Mcp-Session-Id */
#define CLI_TOOL_VERSION_MAX 64            /* bytes of a protocol version */
#define CLI_TOOL_IDLE_MS 120000            /* silence on a stream (keepalives come every 15 s) */
#define CLI_TOOL_RESUMES 5                 /* failed attempts in a row to resume a stream */

/* Called with the params of each notifications/message (borrowed) that
 * arrives while a call waits for its answer. */
typedef void (*cli_tool_log_fn)(void *arg, const cJSON *params);

/* The headers of one message to /mcp: the session's (sid, version; "" or
 * NULL when none), a stateless request's (Mcp-Method, Mcp-Name; NULL when
 * none), and Last-Event-ID (a GET resuming a stream). */
struct cli_mcp_headers {
	const char *sid;
	const char *version;
	const char *mcp_method;
	const char *mcp_name;
	const char *last_id;
};

/*
 * Opens method ("POST", "GET" or "DELETE") on /mcp of broker, pinned to
 * pin, with token as the bearer and the headers MCP asks for (those of hd
 * that are set), body[0..len) as a POST's message. As cli_stream_open():
 * 0 with *s set (caller closes), or a negative ZT_ERR_* with a sentence
 * in err. Shared with `ztctl mcp` (cli_mcp.c).
 */
int cli_tool_http(const char *broker, const char *pin, const char *token,
    const struct cli_mcp_headers *hd, const char *method, const char *body, size_t len,
    int timeout_ms, struct cli_stream **s, char *err, size_t errsz);

/* Reads the rest of a (small) body of at most max bytes and parses it:
 * *out (owned) NULL when it is empty, not JSON, or could not be read. */
void cli_tool_read_json(struct cli_stream *s, size_t max, cJSON **out);

/* Starts a session as p's session token (p is borrowed and must outlive
 * the session). 0 with *out set, or a negative ZT_ERR_* with one sentence
 * for people in err: ZT_ERR_AUTH when the broker refused the token (the
 * sentence gives the ztctl login command), else as cli_tool_call(). */
int cli_tool_open(const struct cli_profile *p, struct cli_tool **out, char *err, size_t errsz);

/*
 * Calls tool name with args (borrowed) and waits for its answer, however
 * long the broker holds it, as long as the stream stays alive. log (may
 * be NULL) sees each log notification meanwhile.
 *
 * 0 with *result the call's result object (owned; a tool error is a
 * result with "isError": true), or a negative ZT_ERR_* with one sentence
 * in err: ZT_ERR_AUTH (token refused), ZT_ERR_DENIED (a JSON-RPC error:
 * its message), ZT_ERR_PROTOCOL (not an MCP answer), ZT_ERR_TIMEOUT (a
 * silent stream), or what reaching the broker failed with.
 */
int cli_tool_call(struct cli_tool *t, const char *name, const cJSON *args, cli_tool_log_fn log,
    void *arg, cJSON **result, char *err, size_t errsz);

/* Ends the session on the broker (DELETE, best effort) and frees t; NULL
 * is a no-op. */
void cli_tool_close(struct cli_tool *t);

/* The text of a result's "text" content blocks joined with "; ", cleaned
 * of control bytes, into out. Returns out. */
const char *cli_tool_text(const cJSON *result, char *out, size_t outsz);

#endif
