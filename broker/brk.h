/*
 * brk.h - the broker's shared state, handed to every request handler.
 *
 * One struct brk lives for the whole `ztbroker serve` process: the open data
 * directory (store, CAs), the configuration and the rate limiters. The
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
struct brk_roles;
struct brk_dials;
struct brk_sshpool;
struct brk_jobs;
struct brk_xfers;
struct brk_wss;
struct brk_mcphttp;
struct ca;
struct sshca;

#define BRK_SESSION_TTL_DEFAULT (12 * 3600)
#define BRK_SESSION_TTL_MAX (24 * 3600)
#define BRK_INVITE_TTL 3600
#define BRK_BODY_MAX (64 * 1024) /* bytes of a /v1 request body */

/* Events that unauthenticated clients can cause without limit are audited
 * once per kind and period, then summarized (audit/aud_agg.h). */
#define BRK_AUDIT_AGG_PERIOD_MS 60000

struct brk {
	struct store *store;
	/* The store's roles, parsed once per change (brk_roles.h). */
	struct brk_roles *roles;
	struct ca *ca;
	struct sshca *sshca;
	/* Failed logins, bad tokens, password checks at once (brk_limit.h). */
	struct brk_limits limits;
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
	size_t file_max;            /* bytes a file tool reads or writes; 0: the default */
	int64_t agent_cert_ttl;     /* seconds; 0 means BRK_AGENT_CERT_TTL */
	/* A valid password hash of a random password: unknown user names are
	 * checked against it so they take as long as known ones. */
	char dummy_hash[CRYPTO_PWHASH_MAX];
	/* The agents known to this broker (brk_agents.h). */
	struct brk_agents *agents;
	/* Warm SSH connections (brk_sshpool.h); NULL: none are kept. */
	struct brk_sshpool *sshpool;
	/* The desktop sessions agents keep warm, by credential (brk_desks.h);
	 * NULL: none are tracked. */
	struct brk_desks *desks;
	/* How long one serves (seconds; 0: BRK_SSH_CONN_TTL_MAX_S, its
	 * certificate's life less a margin). */
	int64_t ssh_conn_ttl;
	/* Background commands (brk_jobs.h); NULL: none can start. */
	struct brk_jobs *jobs;
	/* Transfer links of the file tools (brk_xfer.h); NULL: none offered. */
	struct brk_xfers *xfers;
	/* The WebSocket connections of /ws/ (brk_ws.h): terminals. */
	struct brk_wss *wss;
	/* Streams waiting for an agent's accept (brk_dial.h). */
	struct brk_dials *dials;
	/* The MCP transport that serves /mcp; NULL when MCP is off. */
	struct brk_mcphttp *mcp_http;
	/* Signs the CSRF tokens of the web sessions (brk_websession.h);
	 * random at start, so a restart voids the tokens pages hold. */
	uint8_t web_key[32];
	/* The data directory's recordings/ (brk_datadir.h), where sessions
	 * are recorded (brk_recordings.h); NULL: no session can be recorded. */
	const char *recordings_dir;
	/* "https://host:port" as clients reach the broker. */
	char base_url[300];
	/* The clock; tests may replace it. Returns unix seconds. */
	int64_t (*now)(void);
};

/* Wall-clock unix seconds and milliseconds. */
int64_t brk_now(void);
int64_t brk_now_ms(void);

#endif
