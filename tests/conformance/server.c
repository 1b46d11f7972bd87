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
#include <time.h>

#include <microhttpd.h>

#include "broker/brk_mcphttp.h"
#include "broker/brk_work.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "tests/conformance/fixtures.h"

#define MCP_PATH "/mcp"
#define CONN_LIMIT 256
#define CONN_TIMEOUT_S 120
/* As the broker serves /mcp: a few event-loop threads, workers for what
 * blocks (brk_work.h). */
#define THREADS 2
#define WORKERS 8
#define WORK_QUEUE 64

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
	struct brk_work *work = NULL;
	struct MHD_Daemon *d = NULL;
	struct timespec tick = { 1, 0 };
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
	if ((work = brk_work_new(WORKERS, WORK_QUEUE)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.srv = srv;
	cfg.work = work;
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
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
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

	/* The transport's tick, once a second, until a stop signal. */
	while ((sig = sigtimedwait(&stop, NULL, &tick)) < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			log_error("sigtimedwait failed");
			goto out;
		}
		brk_mcphttp_tick(h, net_mono_ms());
	}
	rc = 0;
out:
	/* No connection may stay suspended when the daemon stops: streams are
	 * woken and the workers drained first. */
	brk_mcphttp_shutdown(h);
	brk_work_close(work);
	if (d != NULL) {
		MHD_stop_daemon(d);
	}
	brk_mcphttp_free(h);
	brk_work_free(work);
	mcp_server_free(srv);
	return rc;
}
