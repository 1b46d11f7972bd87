/*
 * main.c - ztbroker: `serve` runs the broker, `admin` administers its data
 * directory offline.
 */
#include <getopt.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "audit/aud_agg.h"
#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "broker/brk_desks.h"
#include "broker/brk_dial.h"
#include "broker/brk_admin.h"
#include "broker/brk_datadir.h"
#include "broker/brk_http.h"
#include "broker/brk_httphdr.h"
#include "broker/brk_mcp.h"
#include "broker/brk_mcphttp.h"
#include "broker/brk_recordings.h"
#include "broker/brk_run.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_files.h"
#include "broker/brk_sshexec.h"
#include "broker/brk_jobs.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_ws.h"
#include "broker/brk_xfer.h"
#include "broker/brk_tunnel.h"
#include "broker/brk_watch.h"
#include "broker/brk_work.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proc.h"
#include "store/store.h"

#define SERVER_CERT_TTL (90 * 86400)
#define MAX_SANS 16
#define MAX_ORIGINS 16

static const char usage[] =
	"usage: ztbroker serve --data-dir D [--listen 127.0.0.1:8443] [--public-addr H[,H2]]\n"
	"                      [--session-ttl 12h] [--log-level info] [--diagnostic-tools]\n"
	"                      [--allowed-origin https://app.example.com ...]\n"
	"                      [--tunnel-listen 127.0.0.1:3025] [--exec-timeout-max 10m]\n"
	"                      [--agent-cert-ttl 12h] [--audit-aggregate 60s]\n"
	"                      [--mcp-sessions-per-identity 128] [--mcp-calls-per-identity 32]\n"
	"                      [--mcp-retained-bytes-per-session 32M]\n"
	"                      [--mcp-retained-bytes-per-identity 64M] [--mcp-retained-bytes 256M]\n"
	"                      [--http-head-timeout 20s] [--http-body-timeout 60s]\n"
	"                      [--tunnel-handshake-timeout 10s] [--ssh-conn-ttl 105s]\n"
	"                      [--file-max 4M] [--mcp-state-ttl 24h]\n"
	"       ztbroker admin --data-dir D COMMAND\n"
	"admin commands:\n";

/* The decimal digits at the start of s (at least one): 0 with *v set and
 * *end after them, or ZT_ERR_INVALID (none, or past UINT64_MAX). */
static int digits(const char *s, const char **end, uint64_t *v)
{
	const char *p = s;

	*v = 0;
	if (s == NULL || *s < '0' || *s > '9') {
		return ZT_ERR_INVALID;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINT64_MAX - 9) / 10) {
			return ZT_ERR_INVALID;
		}
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	*end = p;
	return 0;
}

/* A count: plain decimal digits within [min, max]. 0 or ZT_ERR_INVALID. */
static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = NULL;
	uint64_t v;

	if (digits(s, &p, &v) != 0 || *p != '\0' || v < min || v > max) {
		return ZT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

/* A size as people type it: digits, optionally followed by K, M or G
 * (powers of 1024), within [min, max]. 0 or ZT_ERR_INVALID. */
static int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *p = NULL;
	uint64_t v, mult = 1;

	if (digits(s, &p, &v) != 0) {
		return ZT_ERR_INVALID;
	}
	switch (*p) {
	case '\0': break;
	case 'K': mult = 1024; p++; break;
	case 'M': mult = 1024 * 1024; p++; break;
	case 'G': mult = 1024 * 1024 * 1024; p++; break;
	default: return ZT_ERR_INVALID;
	}
	if (*p != '\0' || v > UINT64_MAX / mult || v * mult < min || v * mult > max) {
		return ZT_ERR_INVALID;
	}
	*out = v * mult;
	return 0;
}

/* The value of the count flag --name, if given (v not NULL), into *out
 * within [min, max]: 0, or ZT_ERR_INVALID after saying on stderr what the
 * flag takes. */
static int count_flag(const char *name, const char *v, uint64_t min, uint64_t max,
    size_t *out)
{
	uint64_t n;

	if (v == NULL) {
		return 0;
	}
	if (parse_count(v, min, max, &n) == 0) {
		*out = (size_t)n;
		return 0;
	}
	fprintf(stderr, "ztbroker: --%s must be from %llu to %llu\n", name,
	    (unsigned long long)min, (unsigned long long)max);
	return ZT_ERR_INVALID;
}

/* The value of the size flag --name, if given, into *out: from 4K (small
 * bounds are for tests of what happens past them) to max. 0, or
 * ZT_ERR_INVALID after saying so on stderr. */
static int size_flag(const char *name, const char *v, uint64_t max, size_t *out)
{
	uint64_t n;

	if (v == NULL) {
		return 0;
	}
	if (parse_size(v, 4096, max, &n) == 0) {
		*out = (size_t)n;
		return 0;
	}
	fprintf(stderr, "ztbroker: --%s takes a size from 4K to %llu%s\n", name,
	    (unsigned long long)(max >> 30 >= 1 ? max >> 30 : max >> 20), max >> 30 >= 1 ? "G" : "M");
	return ZT_ERR_INVALID;
}

/* The value of the duration flag --name, if given (v not NULL), into *out
 * seconds within [min, max]: 0, or ZT_ERR_INVALID after saying on stderr
 * what the flag takes. */
static int duration_flag(const char *name, const char *v, int64_t min, int64_t max,
    int64_t *out)
{
	char lo[16], hi[16];

	if (v == NULL || dur_parse(v, min, max, out) == 0) {
		return 0;
	}
	dur_format(min, lo, sizeof(lo));
	dur_format(max, hi, sizeof(hi));
	fprintf(stderr, "ztbroker: --%s must be a duration from %s to %s\n", name, lo, hi);
	return ZT_ERR_INVALID;
}

static void print_usage(FILE *fp)
{
	fprintf(fp, "%s%s", usage, brk_admin_usage);
}

/* Splits "a,b" public addresses into sans[] after the fixed names; returns
 * the count. The copy backs the strings. */
static size_t collect_sans(char *copy, const char **sans)
{
	char *save = NULL;
	size_t n = 0;

	sans[n++] = "localhost";
	sans[n++] = "127.0.0.1";
	for (char *t = copy != NULL ? strtok_r(copy, ",", &save) : NULL;
	    t != NULL && n < MAX_SANS; t = strtok_r(NULL, ",", &save)) {
		sans[n++] = t;
	}
	return n;
}

/* Raises the descriptor limit to its hard limit and returns how many HTTPS
 * connections to allow: three quarters of the descriptors (the agent
 * tunnel, its streams, the store and the logs need the rest), at most
 * BRK_HTTP_CONN_MAX. */
static size_t http_conn_max(void)
{
	struct rlimit rl;
	uint64_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return 256;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the descriptor limit to %llu",
			    (unsigned long long)rl.rlim_max);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	n = rl.rlim_cur == RLIM_INFINITY ? BRK_HTTP_CONN_MAX : (uint64_t)rl.rlim_cur / 4 * 3;
	n = n < BRK_HTTP_CONN_MAX ? n : BRK_HTTP_CONN_MAX;
	log_info("descriptor limit %llu: at most %llu HTTPS connections",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)n);
	return n > 0 ? (size_t)n : 1;
}

/* A housekeeping chore: the summaries of aggregated audit events whose
 * period ended (serve writes the rest after the HTTP daemon stopped). */
static void flush_audit(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	(void)arg;
	if (b->agg != NULL && aud_agg_flush(b->agg, b->store, rd->now_ms, 0) != 0) {
		log_error("cannot write aggregated audit summaries");
	}
}

/* A housekeeping chore: what another process wrote of the agents (`ztbroker
 * admin agents approve|rm`) reaches the registry within a round. */
static void sync_agents(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	(void)arg;
	if (rd->store_changed) {
		brk_agents_sync(b->agents, NULL);
	}
}

static int serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "public-addr", required_argument, NULL, 'p' },
		{ "session-ttl", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "diagnostic-tools", no_argument, NULL, 'D' },
		{ "allowed-origin", required_argument, NULL, 'o' },
		{ "tunnel-listen", required_argument, NULL, 'T' },
		{ "exec-timeout-max", required_argument, NULL, 'X' },
		{ "agent-cert-ttl", required_argument, NULL, 'A' },
		{ "audit-aggregate", required_argument, NULL, 'G' },
		{ "mcp-sessions-per-identity", required_argument, NULL, 'S' },
		{ "mcp-calls-per-identity", required_argument, NULL, 'C' },
		{ "mcp-retained-bytes-per-session", required_argument, NULL, 'R' },
		{ "mcp-retained-bytes-per-identity", required_argument, NULL, 'I' },
		{ "mcp-retained-bytes", required_argument, NULL, 'r' },
		{ "http-head-timeout", required_argument, NULL, 'H' },
		{ "http-body-timeout", required_argument, NULL, 'B' },
		{ "tunnel-handshake-timeout", required_argument, NULL, 'K' },
		{ "ssh-conn-ttl", required_argument, NULL, 'W' },
		{ "file-max", required_argument, NULL, 'F' },
		{ "mcp-state-ttl", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *listen = "127.0.0.1:8443", *ttl = NULL, *exec_max = NULL;
	const char *agent_ttl = NULL, *agg_period = NULL, *head_to = NULL, *body_to = NULL;
	const char *handshake = NULL, *sessions_pi = NULL, *calls_pi = NULL, *conn_ttl = NULL;
	const char *kept_session = NULL, *kept_identity = NULL, *kept_all = NULL;
	const char *file_max = NULL, *state_ttl = NULL;
	struct brk_mcp_config mc;
	struct brk_http_config hc;
	int64_t head_s = 0, body_s = 0; /* 0: the default */
	int64_t agg_s = BRK_AUDIT_AGG_PERIOD_MS / 1000, handshake_s = BRK_TUNNEL_HANDSHAKE_S;
	char *public_addr = NULL, *chain = NULL, *key = NULL;
	char pin[CA_PIN_LEN + 1], host[NET_HOST_MAX], port[8];
	const char *sans[MAX_SANS], *mcp_hosts[MAX_SANS + 1];
	struct brk_mcp *mcp = NULL;
	struct brk_tunnel *tunnel = NULL;
	const char *tunnel_listen = NULL;
	unsigned tunnel_port = 0;
	const char *origins[MAX_ORIGINS + 1];
	size_t norigins = 0;
	struct brk_origin origin;
	int diag = 0;
	struct brk_datadir dd;
	struct brk b;
	struct brk_http *http = NULL;
	struct brk_run *run = NULL;
	enum zt_log_level lvl = ZT_LOG_INFO;
	unsigned bound = 0;
	sigset_t sigs;
	cJSON *d;
	int c, r, sig = 0, rc = 1;
	size_t nsans = 0;

	memset(&dd, 0, sizeof(dd));
	memset(&b, 0, sizeof(b));
	memset(&mc, 0, sizeof(mc));
	memset(&hc, 0, sizeof(hc));
	b.session_ttl = BRK_SESSION_TTL_DEFAULT;
	b.exec_timeout_max_s = BRK_EXEC_TIMEOUT_MAX_S;
	b.file_max = BRK_FILE_MAX_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'p': public_addr = optarg; break;
		case 't': ttl = optarg; break;
		case 'D': diag = 1; break;
		case 'T': tunnel_listen = optarg; break;
		case 'X': exec_max = optarg; break;
		case 'W': conn_ttl = optarg; break;
		case 'F': file_max = optarg; break;
		case 'A': agent_ttl = optarg; break;
		case 'G': agg_period = optarg; break;
		case 'R': kept_session = optarg; break;
		case 'I': kept_identity = optarg; break;
		case 'r': kept_all = optarg; break;
		case 'H': head_to = optarg; break;
		case 'B': body_to = optarg; break;
		case 'S': sessions_pi = optarg; break;
		case 'M': state_ttl = optarg; break;
		case 'C': calls_pi = optarg; break;
		case 'K': handshake = optarg; break;
		case 'o':
			if (norigins >= MAX_ORIGINS || brk_hdr_origin(optarg, &origin) != 0) {
				fprintf(stderr, "ztbroker: --allowed-origin takes an origin like "
				    "https://app.example.com[:port] (at most %d)\n", MAX_ORIGINS);
				return 2;
			}
			origins[norigins++] = optarg;
			break;
		case 'v':
			if (log_level_parse(optarg, &lvl) != 0) {
				fprintf(stderr, "ztbroker: --log-level is error, warn, info or debug\n");
				return 2;
			}
			break;
		default: print_usage(stderr); return 2;
		}
	}
	if (dir == NULL || optind != argc) {
		print_usage(stderr);
		return 2;
	}
	/* Short agent lifetimes are for tests of renewal (agents renew at
	 * 2/3), short deadlines and small bounds for tests of what happens
	 * past them. */
	if (duration_flag("session-ttl", ttl, 1, BRK_SESSION_TTL_MAX, &b.session_ttl) != 0 ||
	    duration_flag("exec-timeout-max", exec_max, 1, 24 * 3600,
	    &b.exec_timeout_max_s) != 0 ||
	    duration_flag("agent-cert-ttl", agent_ttl, 15, 7 * 86400, &b.agent_cert_ttl) != 0 ||
	    duration_flag("ssh-conn-ttl", conn_ttl, 1, BRK_SSH_CONN_TTL_MAX_S,
	    &b.ssh_conn_ttl) != 0 ||
	    duration_flag("audit-aggregate", agg_period, 1, 3600, &agg_s) != 0 ||
	    duration_flag("http-head-timeout", head_to, 1, 3600, &head_s) != 0 ||
	    duration_flag("http-body-timeout", body_to, 1, 3600, &body_s) != 0 ||
	    duration_flag("tunnel-handshake-timeout", handshake, 1, 300, &handshake_s) != 0 ||
	    duration_flag("mcp-state-ttl", state_ttl, 1, BRK_MCP_STATE_TTL_MAX,
	    &mc.state_ttl_s) != 0 ||
	    count_flag("mcp-sessions-per-identity", sessions_pi, 1, BRK_MCP_SESSIONS_MAX,
	    &mc.sessions_per_identity) != 0 ||
	    count_flag("mcp-calls-per-identity", calls_pi, 1, BRK_MCP_CALLS_MAX,
	    &mc.calls_per_identity) != 0 ||
	    size_flag("mcp-retained-bytes-per-session", kept_session, (uint64_t)1 << 40,
	    &mc.retained_session_max) != 0 ||
	    size_flag("mcp-retained-bytes-per-identity", kept_identity, (uint64_t)1 << 40,
	    &mc.retained_identity_max) != 0 ||
	    size_flag("mcp-retained-bytes", kept_all, (uint64_t)1 << 40, &mc.retained_max) != 0 ||
	    size_flag("file-max", file_max, BRK_FILE_MAX_LIMIT, &b.file_max) != 0) {
		return 2;
	}
	hc.head_timeout_ms = head_s * 1000;
	hc.body_timeout_ms = body_s * 1000;
	if (net_split_hostport(listen, host, sizeof(host), port, sizeof(port)) != 0) {
		fprintf(stderr, "ztbroker: --listen takes HOST:PORT (IPv6 as [::1]:8443)\n");
		return 2;
	}
	log_init("ztbroker", lvl);
	/* Signals are taken by sigwait below; threads started later inherit
	 * the mask. A peer closing a TLS connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	hc.conn_max = http_conn_max();
	if (brk_datadir_open(dir, &dd) != 0) {
		goto out;
	}
	/* Before anything can take a request: one serve per data directory,
	 * and the calls a killed run left open are closed in the audit. */
	if (brk_run_begin(dir, dd.store, brk_now_ms(), &run) != 0) {
		goto out;
	}
	if (brk_recordings_recover(dd.store, dd.recordings, brk_now()) != 0) {
		log_error("cannot bind the recordings a stopped run left open");
		goto out;
	}
	b.store = dd.store;
	b.roles = dd.roles;
	b.ca = dd.ca;
	b.sshca = dd.sshca;
	b.recordings_dir = dd.recordings;
	b.now = brk_now;
	b.agents = brk_agents_new(dd.store);
	b.dials = brk_dials_new();
	b.sshpool = brk_sshpool_new();
	b.desks = brk_desks_new();
	b.jobs = brk_jobs_new();
	b.xfers = brk_xfers_new();
	b.wss = brk_wss_new();
	b.agg = aud_agg_new(agg_s * 1000);
	b.watch = brk_watch_new(&b);
	b.work = brk_work_new(BRK_HTTP_WORKERS, BRK_HTTP_QUEUE);
	if (brk_limits_init(&b.limits) != 0 || b.agents == NULL || b.dials == NULL ||
	    b.agg == NULL || b.watch == NULL || b.work == NULL ||
	    brk_watch_add(b.watch, flush_audit, NULL) != 0 ||
	    brk_watch_add(b.watch, sync_agents, NULL) != 0 || b.sshpool == NULL ||
	    brk_watch_add(b.watch, brk_sshconn_chore, NULL) != 0 || b.jobs == NULL ||
	    b.desks == NULL || brk_watch_add(b.watch, brk_desks_chore, NULL) != 0 ||
	    brk_watch_add(b.watch, brk_jobs_chore, NULL) != 0 || b.xfers == NULL ||
	    b.wss == NULL || brk_watch_add(b.watch, brk_xfer_chore, NULL) != 0 ||
	    crypto_password_hash("zt-unknown-user", b.dummy_hash, sizeof(b.dummy_hash)) != 0 ||
	    crypto_random(b.web_key, sizeof(b.web_key)) != 0) {
		log_error("out of memory");
		goto out;
	}
	/* A locked agent's jobs are killed over their connections before the
	 * registry cuts those off (brk_jobs.h), whichever thread syncs. */
	brk_agents_on_cut(b.agents, brk_jobs_cut, b.jobs);
	public_addr = public_addr != NULL ? strdup(public_addr) : NULL;
	nsans = collect_sans(public_addr, sans);
	if (ca_issue_server(dd.ca, sans, nsans, brk_now(), SERVER_CERT_TTL, &chain, &key) != 0) {
		log_error("cannot issue the server certificate");
		goto out;
	}
	/* MCP clients may name the broker by any of its certificate's names. */
	for (size_t i = 2; i < nsans; i++) {
		mcp_hosts[i - 2] = sans[i];
	}
	mcp_hosts[nsans - 2] = NULL;
	store_session_prune(dd.store, brk_now(), 86400);
	hc.listen = listen;
	hc.chain_pem = chain;
	hc.key_pem = key;
	if (brk_http_start(&b, &hc, &http, &bound) != 0) {
		goto out;
	}
	/* The base URL needs the bound port; MCP starts answering once set. */
	snprintf(b.base_url, sizeof(b.base_url), "https://%s%s%s:%u",
	    strchr(nsans > 2 ? sans[2] : host, ':') ? "[" : "", nsans > 2 ? sans[2] : host,
	    strchr(nsans > 2 ? sans[2] : host, ':') ? "]" : "", bound);
	origins[norigins] = NULL;
	mc.hosts = mcp_hosts;
	mc.origins = origins;
	mc.diagnostic_tools = diag;
	if (brk_mcp_new(&b, &mc, &mcp) != 0) {
		log_error("cannot start the MCP endpoint");
		goto out;
	}
	b.mcp_http = brk_mcp_http(mcp);
	if (tunnel_listen != NULL &&
	    brk_tunnel_start(&b, tunnel_listen, handshake_s * 1000, chain, key, &tunnel,
	    &tunnel_port) != 0) {
		goto out;
	}
	if (brk_watch_start(b.watch) != 0) {
		goto out;
	}
	ca_pin(dd.ca, pin, sizeof(pin));
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "listen", listen);
	cJSON_AddNumberToObject(d, "port", bound);
	r = aud_record(dd.store, b.agg, brk_now_ms(), &(struct aud_event){ .type = "broker.start",
	    .actor = "system", .source = "local", .outcome = "success", .details = d });
	cJSON_Delete(d);
	if (r != 0) {
		log_error("the audit log cannot be written: not serving without it");
		goto out;
	}
	printf("zt broker listening on https://%s%s%s:%u\n", strchr(host, ':') ? "[" : "", host,
	    strchr(host, ':') ? "]" : "", bound);
	if (tunnel != NULL) {
		printf("agent tunnel listening on %.*s:%u\n", (int)(strrchr(tunnel_listen, ':') -
		    tunnel_listen), tunnel_listen, tunnel_port);
	}
	printf("CA pin: %s\n", pin);
	fflush(stdout);
	log_info("serving on %s port %u, data in %s", host, bound, dir);

	sigwait(&sigs, &sig);
	log_info("signal %d: shutting down", sig);
	rc = 0;
out:
	/* First the watch, whose chores use everything below; its last round
	 * flushes the audit summaries. Then no request may stay suspended
	 * when the daemon stops: the MCP streams are woken and the workers
	 * drained first. */
	brk_watch_stop(b.watch);
	/* The jobs are killed while their connections' tunnels still stand,
	 * their ends on record before the broker's stop. */
	brk_jobs_shutdown(b.jobs);
	/* So are the transfers; their requests are resumed before the daemon
	 * stops. */
	brk_xfers_shutdown(b.xfers);
	/* Terminals end their sessions, each on record. */
	brk_wss_shutdown(b.wss);
	brk_tunnel_stop(tunnel);
	brk_mcp_shutdown(mcp);
	brk_work_close(b.work);
	brk_http_stop(http);
	/* Summaries of what the last requests added to the aggregates. */
	if (b.agg != NULL && aud_agg_flush(b.agg, dd.store, brk_now_ms(), 1) != 0) {
		log_error("cannot write aggregated audit summaries");
	}
	/* No call runs any more, and no sync. */
	if (b.agents != NULL) {
		brk_agents_on_cut(b.agents, NULL, NULL);
	}
	brk_jobs_free(b.jobs);
	b.jobs = NULL;
	if (rc == 0 && aud_record(dd.store, b.agg, brk_now_ms(), &(struct aud_event){
	    .type = "broker.stop", .actor = "system", .source = "local",
	    .outcome = "success" }) != 0) {
		rc = 1; /* stopped, but not on record: say so */
	}
	brk_watch_free(b.watch);
	brk_mcp_free(mcp);
	brk_work_free(b.work);
	brk_limits_fini(&b.limits);
	aud_agg_free(b.agg);
	brk_xfers_free(b.xfers);
	b.xfers = NULL;
	brk_wss_free(b.wss);
	b.wss = NULL;
	/* The workers are done: no connection is in use. */
	brk_sshpool_free(b.sshpool);
	brk_desks_free(b.desks);
	brk_agents_free(b.agents);
	brk_dials_free(b.dials);
	free(chain);
	crypto_free_str(key);
	free(public_addr);
	/* Every worker has finished and audited its call: a clean stop. */
	brk_run_end(run);
	brk_datadir_close(&dd);
	return rc;
}

static int admin(int argc, char **argv)
{
	struct brk_datadir dd;
	int rc;

	if (argc < 3 || strcmp(argv[1], "--data-dir") != 0) {
		fprintf(stderr, "usage: ztbroker admin --data-dir D COMMAND\n%s", brk_admin_usage);
		return 2;
	}
	log_init("ztbroker", ZT_LOG_WARN);
	if (brk_datadir_open(argv[2], &dd) != 0) {
		return 1;
	}
	rc = brk_admin_main(&dd, argc - 3, argv + 3);
	brk_datadir_close(&dd);
	return rc;
}

int main(int argc, char **argv)
{
	/* serve and admin both load the CA keys: no core file may hold them. */
	if (proc_harden() != 0) {
		fprintf(stderr, "ztbroker: cannot switch off core dumps (prctl, setrlimit)\n");
		return 1;
	}
	if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
		return serve(argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "admin") == 0) {
		return admin(argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		print_usage(stdout);
		return 0;
	}
	print_usage(stderr);
	return 2;
}
