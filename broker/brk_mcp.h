/*
 * brk_mcp.h - the broker's MCP endpoint: its mcp_server with the built-in
 * tools, and the Streamable HTTP transport configured for the broker
 * (bearer authentication through the session store, audit, DNS-rebinding
 * allow lists from the broker's addresses).
 *
 * Sessions are admitted only for identities with a usable role: one whose
 * roles name at least one stored role document (otherwise it could call
 * no tool but whoami).
 *
 * Built-in tools: whoami (the caller's identity). With diagnostic tools
 * switched on (`ztbroker serve --diagnostic-tools`), also diag_progress
 * (progress notifications, honours cancellation), diag_elicit (an
 * elicitation round trip), diag_reconnect (closes the response stream
 * before answering, so the client must resume it) and diag_output (an
 * answer of a given size, optionally after closing the stream), for
 * checking an MCP client's handling of streaming and the transport's
 * bounds; off by default.
 */
#ifndef ZT_BRK_MCP_H
#define ZT_BRK_MCP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct brk;
struct brk_mcp;
struct brk_mcphttp;
struct mcp_call;

struct brk_mcp_config {
	/* The names clients may use in Host/Origin besides loopback,
	 * NULL-terminated and borrowed (may be NULL). */
	const char *const *hosts;
	/* Further allowed Origin values ("https://app.example.com"), for
	 * browser-based clients served from elsewhere; likewise. */
	const char *const *origins;
	int diagnostic_tools;
	/* Sessions one identity may hold at once, and requests it may run at
	 * once (0: the defaults of brk_mcphttp.h). */
	size_t sessions_per_identity;
	size_t calls_per_identity;
	/* Bytes of SSE events kept per session, per identity and in all (0:
	 * defaults; brk_mcphttp.h). */
	size_t retained_session_max;
	size_t retained_identity_max;
	size_t retained_max;
	/* How long the requestState of a 2026-07-28 round trip holds (0: the
	 * default, BRK_MCP_STATE_TTL_S). A held call's round trip lasts as long
	 * as its approval may wait, so the default is the longest. */
	int64_t state_ttl_s;
};

#define BRK_MCP_STATE_TTL_S (24 * 3600)
#define BRK_MCP_STATE_TTL_MAX (24 * 3600)

/* 0 or a negative ZT_ERR_*. cfg is read during the call only (the arrays
 * it points to must outlive the endpoint). */
int brk_mcp_new(struct brk *b, const struct brk_mcp_config *cfg, struct brk_mcp **out);
/* The transport to route the MCP path to (borrowed). */
struct brk_mcphttp *brk_mcp_http(struct brk_mcp *m);
/* Before the HTTP daemon stops: ends sessions, wakes streams. */
void brk_mcp_shutdown(struct brk_mcp *m);
/* After the HTTP daemon stopped. NULL is a no-op. */
void brk_mcp_free(struct brk_mcp *m);

/* The identity of a call's caller as the store has it now (roles, lock,
 * the last MFA proof): 0, or the reason its credential no longer holds
 * (store_session_get's errors). */
struct brk_identity;
int brk_mcp_identity(struct brk *b, const struct mcp_call *call, struct brk_identity *who);

#endif
