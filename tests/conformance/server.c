/*
 * server.c - mcp-conformance-server, a test-only MCP server (never
 * installed) that puts zt's MCP engine (mcp/) and Streamable HTTP transport
 * (broker/brk_mcphttp.c) behind plain HTTP on loopback, with the fixtures
 * that the official conformance suite calls by name (fixtures.c), so that
 * tests/e2e/conformance.test.mjs can run @modelcontextprotocol/conformance
 * against the same code the broker serves at /mcp.
 *
 *   mcp-conformance-server PORT
 *
 * Listens on 127.0.0.1:PORT (0 picks a free port), prints
 * "listening on http://127.0.0.1:PORT/mcp" and serves until SIGTERM or
 * SIGINT; exits 0 after a clean shutdown. No TLS and no authentication:
 * every caller is "anonymous".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "broker/brk_mcphttp.h"
#include "common/err.h"
#include "common/log.h"
#include "mcp/mcp.h"
#include "tests/conformance/fixtures.h"

#define MCP_PATH "/mcp"
#define CONN_LIMIT 256
#define CONN_TIMEOUT_S 120

static const char not_found[] = "{\"error\":\"not found\"}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_size,
    void **con_cls)
{
	struct brk_mcphttp *h = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	if (strcmp(url, MCP_PATH) == 0) {
		return brk_mcphttp_request(h, c, method, upload_data, upload_size, con_cls);
	}
	/* Anything else: 404 once the request (and its body) has arrived. */
	if (*con_cls == NULL) {
		*con_cls = (void *)not_found;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)c;
	(void)toe;
	if (*con_cls == (void *)not_found) {
		*con_cls = NULL;
		return;
	}
	brk_mcphttp_completed(cls, con_cls);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("microhttpd: %s", line);
}

static int parse_port(const char *s, unsigned short *port)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > 65535) {
		return ZT_ERR_INVALID;
	}
	*port = (unsigned short)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct mcp_server *srv = NULL;
	struct brk_mcphttp *h = NULL;
	struct MHD_Daemon *d = NULL;
	struct brk_mcphttp_config cfg;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	sigset_t stop;
	unsigned short port = 0;
	int sig = 0, r, rc = 1;

	log_init("mcp-conformance-server", ZT_LOG_WARN);
	if (argc != 2 || parse_port(argv[1], &port) != 0) {
		fprintf(stderr, "usage: mcp-conformance-server PORT (0 for any free port)\n");
		return 2;
	}
	/* Block the stop signals before any thread starts, so that every thread
	 * inherits the mask and only sigwait() below receives them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
		log_error("cannot block signals");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	if ((srv = mcp_server_new("zt-mcp-conformance-server", "0.1.0",
	    "Test-only server with the fixtures of the MCP conformance suite.")) == NULL) {
		log_error("cannot create the MCP server");
		goto out;
	}
	if ((r = fixtures_register(srv)) != 0) {
		log_error("cannot register the fixtures: %s", zt_strerror(r));
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.srv = srv;
	cfg.authenticate = NULL; /* everyone is "anonymous": test-only */
	cfg.scheme = "http";
	if ((h = brk_mcphttp_new(&cfg)) == NULL) {
		log_error("cannot create the MCP transport");
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (d == NULL) {
		log_error("cannot listen on 127.0.0.1:%u", (unsigned)port);
		goto out;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (di == NULL || di->port == 0) {
		log_error("cannot tell the bound port");
		goto out;
	}
	printf("listening on http://127.0.0.1:%u%s\n", (unsigned)di->port, MCP_PATH);
	fflush(stdout);

	if (sigwait(&stop, &sig) != 0) {
		log_error("sigwait failed");
		goto out;
	}
	rc = 0;
out:
	/* Wake every blocked stream first so that the connection threads end. */
	brk_mcphttp_shutdown(h);
	if (d != NULL) {
		MHD_stop_daemon(d);
	}
	brk_mcphttp_free(h);
	mcp_server_free(srv);
	return rc;
}
