/*
 * brk.h - the broker's shared state, handed to every request handler.
 *
 * One struct brk lives for the whole `ztbroker serve` process: the open data
 * directory (store, CAs), the configuration and the login rate limiter. The
 * members it points to are themselves thread-safe.
 */
#ifndef ZT_BRK_H
#define ZT_BRK_H

#include <stdint.h>

#include "broker/brk_limit.h"
#include "common/crypto.h"

struct store;
struct aud_agg;
struct brk_watch;
struct brk_work;
struct brk_agents;
struct brk_dials;
struct brk_mcphttp;
struct ca;
struct sshca;

#define BRK_SESSION_TTL_DEFAULT (12 * 3600)
#define BRK_SESSION_TTL_MAX (24 * 3600)
#define BRK_INVITE_TTL 3600
#define BRK_BOT_TTL_DEFAULT 3600
#define BRK_BOT_TTL_MAX (7 * 86400)
#define BRK_BODY_MAX (64 * 1024) /* bytes of a /v1 request body */

/* Failed logins: per user and per source address within a window, then a
 * block of the same length. */
#define BRK_LOGIN_MAX_USER 5
#define BRK_LOGIN_MAX_ADDR 20
#define BRK_LOGIN_WINDOW_S 900
#define BRK_LOGIN_BLOCK_S 900

/* Bad bearer tokens from one address: past this many within the window,
 * further bad tokens from it get 429 for the quiet period (whose start is
 * audited). Valid tokens always pass. */
#define BRK_TOKEN_FAIL_MAX_ADDR 20
#define BRK_TOKEN_FAIL_WINDOW_S 60
#define BRK_TOKEN_FAIL_QUIET_S 300

/* Events that unauthenticated clients can cause without limit are audited
 * once per kind and period, then summarized (audit/aud_agg.h). */
#define BRK_AUDIT_AGG_PERIOD_MS 60000

struct brk {
	struct store *store;
	struct ca *ca;
	struct sshca *sshca;
	struct brk_limit *limit;
	/* Aggregated audit of unauthenticated failures (bad tokens, unknown
	 * invites and join tokens, logins refused during a lockout). */
	struct aud_agg *agg;
	/* Housekeeping: chores run once a second (brk_watch.h); NULL in tests
	 * that have none. */
	struct brk_watch *watch;
	/* Workers for request handlers that block (brk_work.h): the HTTP
	 * event loop hands them every /v1 request and the MCP transport's
	 * blocking steps. */
	struct brk_work *work;
	int64_t session_ttl;        /* seconds */
	int64_t exec_timeout_max_s; /* the largest timeout_s of ssh_exec */
	int64_t agent_cert_ttl;     /* seconds; 0 means BRK_AGENT_CERT_TTL */
	/* A valid password hash of a random password: unknown user names are
	 * checked against it so they take as long as known ones. */
	char dummy_hash[CRYPTO_PWHASH_MAX];
	/* The agents known to this broker (brk_agents.h). */
	struct brk_agents *agents;
	/* Streams waiting for an agent's accept (brk_dial.h). */
	struct brk_dials *dials;
	/* The MCP transport that serves /mcp; NULL when MCP is off. */
	struct brk_mcphttp *mcp_http;
	/* "https://host:port" as clients reach the broker. */
	char base_url[300];
	/* The clock; tests may replace it. Returns unix seconds. */
	int64_t (*now)(void);
};

/* Wall-clock unix seconds and milliseconds. */
int64_t brk_now(void);
int64_t brk_now_ms(void);

#endif
