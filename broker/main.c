/*
 * main.c - ztbroker: `serve` runs the broker, `admin` administers its data
 * directory offline.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "audit/aud_agg.h"
#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "broker/brk_dial.h"
#include "broker/brk_admin.h"
#include "broker/brk_datadir.h"
#include "broker/brk_http.h"
#include "broker/brk_mcp.h"
#include "broker/brk_sshexec.h"
#include "broker/brk_tunnel.h"
#include "broker/brk_watch.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/store.h"

#define SERVER_CERT_TTL (90 * 86400)
#define MAX_SANS 16
#define MAX_ORIGINS 16

static const char usage[] =
	"usage: ztbroker serve --data-dir D [--listen 127.0.0.1:8443] [--public-addr H[,H2]]\n"
	"                      [--session-ttl 12h] [--log-level info] [--diagnostic-tools]\n"
	"                      [--allowed-origin https://app.example.com ...]\n"
	"                      [--tunnel-listen 127.0.0.1:3025] [--exec-timeout-max 10m]\n"
	"                      [--agent-cert-ttl 12h] [--audit-aggregate 60s]\n"
	"                      [--tunnel-handshake-timeout 10s]\n"
	"       ztbroker admin --data-dir D COMMAND\n"
	"admin commands:\n";

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

/* A housekeeping chore: the summaries of aggregated audit events whose
 * period ended, and all of them at stop. */
static void flush_audit(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	(void)arg;
	if (b->agg != NULL && aud_agg_flush(b->agg, b->store, rd->now_ms, rd->final) != 0) {
		log_error("cannot write aggregated audit summaries");
	}
}

/* A housekeeping chore: what another process wrote of the agents (`ztbroker
 * admin agents approve|rm`) reaches the registry within a round. */
static void sync_agents(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	(void)arg;
	if (rd->store_changed && !rd->final) {
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
		{ "tunnel-handshake-timeout", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *listen = "127.0.0.1:8443", *ttl = NULL, *exec_max = NULL;
	const char *agent_ttl = NULL, *agg_period = NULL, *handshake = NULL;
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
	int diag = 0;
	struct brk_datadir dd;
	struct brk b;
	struct brk_http *http = NULL;
	enum zt_log_level lvl = ZT_LOG_INFO;
	unsigned bound = 0;
	sigset_t sigs;
	cJSON *d;
	int c, sig = 0, rc = 1;
	size_t nsans = 0;

	memset(&dd, 0, sizeof(dd));
	memset(&b, 0, sizeof(b));
	b.session_ttl = BRK_SESSION_TTL_DEFAULT;
	b.exec_timeout_max_s = BRK_EXEC_TIMEOUT_MAX_S;
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
		case 'A': agent_ttl = optarg; break;
		case 'G': agg_period = optarg; break;
		case 'H': handshake = optarg; break;
		case 'o':
			if (norigins >= MAX_ORIGINS || strncmp(optarg, "http", 4) != 0 ||
			    strstr(optarg, "://") == NULL) {
				fprintf(stderr, "ztbroker: --allowed-origin takes an origin like "
				    "https://app.example.com (at most %d)\n", MAX_ORIGINS);
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
	if (ttl != NULL && dur_parse(ttl, 1, BRK_SESSION_TTL_MAX, &b.session_ttl) != 0) {
		fprintf(stderr, "ztbroker: --session-ttl must be a duration from 1s to 24h\n");
		return 2;
	}
	if (exec_max != NULL && dur_parse(exec_max, 1, 24 * 3600, &b.exec_timeout_max_s) != 0) {
		fprintf(stderr, "ztbroker: --exec-timeout-max must be a duration from 1s to 24h\n");
		return 2;
	}
	/* Short lifetimes are for tests of renewal; agents renew at 2/3. */
	if (agent_ttl != NULL && dur_parse(agent_ttl, 15, 7 * 86400, &b.agent_cert_ttl) != 0) {
		fprintf(stderr, "ztbroker: --agent-cert-ttl must be a duration from 15s to 7d\n");
		return 2;
	}
	if (agg_period != NULL && dur_parse(agg_period, 1, 3600, &agg_s) != 0) {
		fprintf(stderr, "ztbroker: --audit-aggregate must be a duration from 1s to 1h\n");
		return 2;
	}
	if (handshake != NULL && dur_parse(handshake, 1, 300, &handshake_s) != 0) {
		fprintf(stderr, "ztbroker: --tunnel-handshake-timeout must be a duration from 1s "
		    "to 5m\n");
		return 2;
	}
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

	if (brk_datadir_open(dir, &dd) != 0) {
		goto out;
	}
	b.store = dd.store;
	b.ca = dd.ca;
	b.sshca = dd.sshca;
	b.now = brk_now;
	b.limit = brk_limit_new();
	b.agents = brk_agents_new(dd.store);
	b.dials = brk_dials_new();
	b.agg = aud_agg_new(agg_s * 1000);
	b.watch = brk_watch_new(&b);
	if (b.limit == NULL || b.agents == NULL || b.dials == NULL || b.agg == NULL ||
	    b.watch == NULL || brk_watch_add(b.watch, flush_audit, NULL) != 0 ||
	    brk_watch_add(b.watch, sync_agents, NULL) != 0 ||
	    crypto_password_hash("zt-unknown-user", b.dummy_hash, sizeof(b.dummy_hash)) != 0) {
		log_error("out of memory");
		goto out;
	}
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
	if (brk_http_start(&b, listen, chain, key, &http, &bound) != 0) {
		goto out;
	}
	/* The base URL needs the bound port; MCP starts answering once set. */
	snprintf(b.base_url, sizeof(b.base_url), "https://%s%s%s:%u",
	    strchr(nsans > 2 ? sans[2] : host, ':') ? "[" : "", nsans > 2 ? sans[2] : host,
	    strchr(nsans > 2 ? sans[2] : host, ':') ? "]" : "", bound);
	origins[norigins] = NULL;
	if (brk_mcp_new(&b, mcp_hosts, origins, diag, &mcp) != 0) {
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
	aud_append(dd.store, brk_now_ms(), "broker.start", "system", "local", "success", d);
	cJSON_Delete(d);
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
	brk_tunnel_stop(tunnel);
	tunnel = NULL;
	brk_mcp_shutdown(mcp);
	brk_http_stop(http);
	http = NULL;
	brk_watch_stop(b.watch); /* its last round flushes the audit summaries */
	aud_append(dd.store, brk_now_ms(), "broker.stop", "system", "local", "success", NULL);
	rc = 0;
out:
	brk_tunnel_stop(tunnel);
	brk_mcp_shutdown(mcp);
	brk_http_stop(http);
	/* Before what its chores use is freed. */
	brk_watch_free(b.watch);
	brk_mcp_free(mcp);
	brk_limit_free(b.limit);
	aud_agg_free(b.agg);
	brk_agents_free(b.agents);
	brk_dials_free(b.dials);
	free(chain);
	crypto_free_str(key);
	free(public_addr);
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
