/*
 * brk_mcphttp.h - MCP's Streamable HTTP transport (2025-11-25) on
 * libmicrohttpd, serving one mcp_server at one path (the broker's /mcp).
 *
 * POST carries one JSON-RPC message: initialize is answered with plain
 * JSON and the new Mcp-Session-Id; any other request with an SSE stream
 * (priming event, then progress, log and server-to-client requests, then
 * the response, then the end of the stream); a notification or response
 * gets 202. GET opens the session's standalone SSE stream, or resumes a
 * stream with Last-Event-ID. DELETE ends the session.
 *
 * Sessions are named by a random Mcp-Session-Id bound to the credential
 * (bearer token) that created it: a request with another credential, even
 * of the same identity, gets 404, as does an unknown or ended session.
 * brk_mcphttp_revoke() ends the sessions whose credential is no longer
 * valid. Each identity holds at most its share of sessions (429), all
 * together at most max_sessions (503); the admission hook may refuse an
 * identity any session (403).
 *
 * What a stream keeps for resumption is bounded in bytes per session, per
 * identity and in all; past the bounds the oldest events nobody needs first are
 * dropped, and a client that reaches a gap is told (a JSON-RPC error for
 * its request, or a log notification on the standalone stream), never
 * handed a silent gap: brk_mcpstream.c says how.
 *
 * MCP-Protocol-Version is checked (400), Accept (406), Content-Type must
 * be application/json (415), Origin (scheme, host and port) and Host are
 * checked against DNS rebinding and cross-origin requests (403). Every
 * request is authenticated before anything else when an authenticate hook
 * is set: 401 with WWW-Authenticate: Bearer resource_metadata="..."
 * otherwise. The bearer token is never passed on.
 *
 * Needs a daemon started with MHD_ALLOW_SUSPEND_RESUME and a worker pool
 * (cfg.work, brk_work.h): the access handler never waits on the daemon's
 * event-loop thread. Authentication and each method run on a worker with
 * the connection suspended; POSTed requests run on threads of the
 * transport's own (each identity at most its share at once, then a
 * JSON-RPC error; all together at most BRK_MCP_CALLS_MAX, then 503); SSE
 * responses suspend their connection while they have nothing to send.
 * brk_mcphttp_tick() must be called about once a second (keepalives of
 * SSE streams, idle sessions). When the transport is used behind
 * brk_http.c, the connection is counted against the identity a request
 * authenticated (brk_conn.h).
 */
#ifndef ZT_BRK_MCPHTTP_H
#define ZT_BRK_MCPHTTP_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#include "mcp/mcp.h"

struct brk_resp;
struct brk_mcphttp;

/* One identity may hold this many sessions at once: enough for an agent
 * framework that opens a session per task, small enough that one identity
 * (a bot with a leaked token) cannot take the table from everyone else. */
#define BRK_MCP_SESSIONS_PER_IDENTITY 128
/* Sessions in all: each costs a little memory and, while streams are
 * retained for resumption, their events (bounded separately). */
#define BRK_MCP_SESSIONS_MAX 4096
/* Bytes of SSE events the transport keeps, per session, per identity (over
 * all its sessions) and in all: what a reader has not been sent yet, and
 * what was sent, for a client that resumes a dropped connection with
 * Last-Event-ID. A session must hold its largest event (an ssh_exec result
 * with 1 MiB of output each way, in the worst case all escaped control
 * bytes, is about 27 MB of JSON); an identity, two sessions' worth, so that
 * no identity holds more than a quarter of what all share. */
#define BRK_MCP_RETAINED_SESSION_MAX (32u * 1024 * 1024)
#define BRK_MCP_RETAINED_IDENTITY_MAX (64u * 1024 * 1024)
#define BRK_MCP_RETAINED_MAX (256u * 1024 * 1024)
/* POSTed requests running at once (each on a thread: a tool call may wait
 * minutes for a host); past it, 503 with Retry-After. */
#define BRK_MCP_CALLS_MAX 256
/* Requests one identity may run at once: plenty for an agent that works on
 * a few hosts in parallel, while 8 identities together cannot take every
 * thread (a bot with a leaked token, or a loop, holds its share and no
 * more). */
#define BRK_MCP_CALLS_PER_IDENTITY 32

struct brk_work;
struct store;
struct aud_agg;

struct brk_mcphttp_config {
	struct mcp_server *srv;
	/* Workers for the steps that may block (authentication, the methods);
	 * required, borrowed. */
	struct brk_work *work;
	/* Authenticates one request from its Authorization header: 0 with *who
	 * filled, its credential naming what authenticated it (the token's
	 * hash: a session is bound to the credential that created it), or a
	 * negative ZT_ERR_* with resp set to the refusal (status, JSON error).
	 * NULL lets everyone in as "anonymous" (the conformance test server
	 * only). */
	int (*authenticate)(void *arg, const char *authorization, const char *source,
	    struct mcp_identity *who, struct brk_resp *resp);
	void *auth_arg;
	/* The scheme clients reach us by: "https" (NULL) or "http". An Origin
	 * is ours when it has this scheme, an allowed host (below) and the port
	 * the daemon listens on. */
	const char *scheme;
	/* Further allowed Origin values ("https://app.example.com"; scheme,
	 * host and port must all match, a default port may be left out),
	 * NULL-terminated; may be NULL. Any other Origin is refused. */
	const char *const *allowed_origins;
	/* Allowed Host header names (without port), NULL-terminated; NULL allows
	 * localhost, 127.0.0.1 and [::1]. */
	const char *const *allowed_hosts;
	/* Absolute URL of the RFC 9728 metadata, for WWW-Authenticate; NULL
	 * when there is no authentication. */
	const char *resource_metadata_url;
	/* Sessions at once: per identity (0: BRK_MCP_SESSIONS_PER_IDENTITY)
	 * and in all (0: BRK_MCP_SESSIONS_MAX). Past its share an identity's
	 * initialize gets 429, past the total everyone's gets 503. */
	size_t sessions_per_identity;
	size_t max_sessions;
	/* POSTed requests one identity runs at once, over all its sessions (0:
	 * BRK_MCP_CALLS_PER_IDENTITY; at most BRK_MCP_CALLS_MAX). Past it the
	 * request is answered with a JSON-RPC error (-32029) naming the bound,
	 * audited as mcp.call, outcome failure. */
	size_t calls_per_identity;
	/* Retained SSE bytes per session, per identity and in all (0: the
	 * defaults above; each is at most the next). */
	size_t retained_session_max;
	size_t retained_identity_max;
	size_t retained_max;
	/* Decides whether who may open a session at all: 0, or a negative
	 * ZT_ERR_* with why set (initialize is then answered 403 with a
	 * JSON-RPC error carrying why). NULL admits everyone. */
	int (*admit)(void *arg, const struct mcp_identity *who, char *why, size_t whysz);
	void *admit_arg;
	/* Where the transport records its events (aud_record, audit/
	 * aud_event.h), both borrowed; a NULL store records none. They are
	 * mcp.session (created, ended by client, revoked, or refused: no usable
	 * role, no session left in the share, a session id presented by
	 * someone else) and mcp.call (refused: too many calls). Refusals can
	 * be asked for again and again: they are aggregated per identity. */
	struct store *audit_store;
	struct aud_agg *audit_agg;
};

/* cfg is copied (its strings and arrays must outlive the transport). NULL
 * on ENOMEM or without cfg->work. */
struct brk_mcphttp *brk_mcphttp_new(const struct brk_mcphttp_config *cfg);
/* Closes every session, cancels calls in flight and resumes every
 * suspended stream: call before brk_work_close(cfg.work) and
 * MHD_stop_daemon() (which must find no connection suspended). */
void brk_mcphttp_shutdown(struct brk_mcphttp *h);
/* Waits for request workers to finish, then frees; call after the daemon
 * stopped. NULL is a no-op. */
void brk_mcphttp_free(struct brk_mcphttp *h);

/* The access handler for requests to the MCP path: arguments as
 * libmicrohttpd's MHD_AccessHandlerCallback. *con_cls is the transport's
 * for this request until brk_mcphttp_completed(). */
enum MHD_Result brk_mcphttp_request(struct brk_mcphttp *h, struct MHD_Connection *c,
    const char *method, const char *upload_data, size_t *upload_size, void **con_cls);
/* From MHD_OPTION_NOTIFY_COMPLETED for a request this transport handled. */
void brk_mcphttp_completed(struct brk_mcphttp *h, void **con_cls);
/* About once a second: keepalives of idle SSE streams (now_ms from
 * net_mono_ms()), sessions idle past their time. */
void brk_mcphttp_tick(struct brk_mcphttp *h, int64_t now_ms);

/* Whether the credential a session is bound to (who->credential) is still
 * good: 0, or a negative ZT_ERR_* with why set (static text: "token
 * revoked"...). */
typedef int brk_mcphttp_check_fn(void *arg, const struct mcp_identity *who, const char **why);
/* Ends every session whose credential check fails: its calls are
 * cancelled (a tool's work stops; no result is delivered), each request
 * still open gets a JSON-RPC error saying the session ended and why, its
 * streams end, and the end is audited (mcp.session, outcome "revoked",
 * reason why). check runs once per credential (sessions opened with one
 * token share it), without the transport's lock (it may read the store).
 * 0 with *ended (may be NULL) set to how many sessions it ended, or
 * ZT_ERR_NOMEM when it could check none (logged): call again soon, as
 * nothing was revoked. */
int brk_mcphttp_revoke(struct brk_mcphttp *h, brk_mcphttp_check_fn *check, void *arg,
    size_t *ended);

#endif
