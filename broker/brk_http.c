/*
 * brk_http.c - libmicrohttpd glue: TLS, the event loop, request bounds,
 * connection accounting, and the hand-off of each complete /v1 request to
 * brk_api.c on a worker thread.
 *
 * A /v1 request goes through stages on its connection's event-loop thread:
 * the head arrives (the body deadline starts), the body is collected
 * (bounded; one declared too large is read and dropped before its 413,
 * brk_body.h), then the connection is suspended and the request runs on a
 * worker (brk_api_handle may run scrypt and write the audit); when it is
 * done the worker resumes the connection and libmicrohttpd calls the
 * access handler again, which sends the response the worker prepared.
 */
#include "broker/brk_http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_body.h"
#include "broker/brk_conn.h"
#include "broker/brk_console.h"
#include "broker/brk_mcphttp.h"
#include "broker/brk_watch.h"
#include "broker/brk_websession.h"
#include "broker/brk_work.h"
#include "broker/brk_xfer.h"
#include "broker/brk_ws.h"
#include "broker/brk_xferhttp.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"

/* GnuTLS priority string: TLS 1.2 and 1.3 only, GnuTLS's normal suites. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* Retry-After of a 503 when the workers are all busy. */
#define BUSY_RETRY_S 1

struct brk_http {
	struct MHD_Daemon *d;
	struct brk *b;
	struct brk_conns *conns;
	char *chain;
	char *key;
};

/* Per-request state: the body collected so far and, once complete, the
 * request and the response the worker prepares; for the MCP path, the MCP
 * transport's own state. */
struct req_state {
	struct brk *b;
	struct MHD_Connection *c;
	int done;                  /* api_job prepared resp */
	struct brk_body body;
	int mcp;
	void *mcp_cls;
	/* A transfer link's request (brk_xferhttp.h): its own state. */
	int xfer;
	void *xfer_cls;
	/* A WebSocket handshake (brk_ws.h): its own state. */
	int ws;
	void *ws_cls;
	/* A file of the web console (brk_console.h), answered at once. */
	int console;
	struct brk_form query;
	char source[64];
	struct brk_req req;
	struct brk_resp resp;
};

#define MCP_PATH "/mcp"

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n') {
		msg[--n] = '\0';
	}
	log_warn("http: %s", msg);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct brk_http *h = cls;
	struct req_state *rs = *con_cls;

	(void)toe;
	/* A kept-alive connection waits for its next head from now. */
	brk_conn_phase(c, BRK_CONN_HEAD);
	if (rs != NULL && rs->mcp) {
		brk_mcphttp_completed(h->b->mcp_http, &rs->mcp_cls);
	}
	if (rs != NULL && rs->xfer) {
		brk_xferhttp_completed(&rs->xfer_cls);
	}
	if (rs != NULL && rs->ws) {
		brk_ws_completed(&rs->ws_cls);
	}
	if (rs != NULL) {
		buf_free(rs->body.kept); /* wipes: bodies carry passwords */
		brk_resp_clear(&rs->resp);
		free(rs);
		*con_cls = NULL;
	}
}

static void free_text(void *p)
{
	crypto_free_str(p);
}

void brk_http_common_headers(struct MHD_Response *r, const struct brk_resp *resp)
{
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (resp->retry_after > 0) {
		char ra[24];

		snprintf(ra, sizeof(ra), "%lld", (long long)resp->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
}


/* A file as the body (a recording), streamed from its descriptor: the
 * response gets a descriptor of its own, which libmicrohttpd closes. */
static struct MHD_Response *file_response(const struct brk_resp *resp)
{
	struct MHD_Response *r;
	int fd = dup(resp->file_fd);

	if (fd < 0) {
		return NULL;
	}
	if ((r = MHD_create_response_from_fd64(resp->file_size, fd)) == NULL) {
		close(fd);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", resp->file_type);
	brk_http_common_headers(r, resp);
	return r;
}

/* Text made in memory (an export), copied into the response. */
static struct MHD_Response *body_response(const struct brk_resp *resp)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->body_len,
	    resp->body != NULL ? resp->body : (void *)"", MHD_RESPMEM_MUST_COPY);

	if (r == NULL) {
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", resp->body_type);
	brk_http_common_headers(r, resp);
	return r;
}

struct MHD_Response *brk_http_response(const struct brk_resp *resp, const char *challenge)
{
	struct MHD_Response *r;
	char *text;
	size_t len;

	if (resp->file_type != NULL) {
		return file_response(resp);
	}
	if (resp->body_type != NULL) {
		return body_response(resp);
	}
	text = resp->json != NULL ? cJSON_PrintUnformatted(resp->json) : NULL;

	if (text == NULL) {
		text = strdup("{}");
		if (text == NULL) {
			return NULL;
		}
	}
	len = strlen(text);
	/* The buffer may hold a fresh session token: wipe it after sending. */
	r = MHD_create_response_from_buffer_with_free_callback(len, text, free_text);
	if (r == NULL) {
		crypto_free_str(text);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	brk_http_common_headers(r, resp);
	if (resp->set_cookie[0] != '\0') {
		MHD_add_response_header(r, "Set-Cookie", resp->set_cookie);
	}
	if (resp->www_authenticate) {
		MHD_add_response_header(r, "WWW-Authenticate",
		    challenge != NULL ? challenge : "Bearer realm=\"zt\"");
	}
	return r;
}

enum MHD_Result brk_http_send(struct MHD_Connection *c, const struct brk_resp *resp)
{
	struct MHD_Response *r = brk_http_response(resp, NULL);
	enum MHD_Result ret;

	if (r == NULL) {
		return MHD_NO;
	}
	ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result brk_http_send_error(struct MHD_Connection *c, int status, const char *code,
    int64_t retry_after, const char *msg)
{
	struct brk_resp resp;
	enum MHD_Result ret;

	memset(&resp, 0, sizeof(resp));
	brk_resp_error(&resp, status, code, "%s", msg);
	resp.retry_after = retry_after;
	ret = brk_http_send(c, &resp);
	brk_resp_clear(&resp);
	return ret;
}

/* 413 for a /v1 body over BRK_BODY_MAX, as brk_api.c words it. */
static enum MHD_Result send_too_large(struct MHD_Connection *c)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "request body over %d bytes", BRK_BODY_MAX);
	return brk_http_send_error(c, 413, "body_too_large", 0, msg);
}

void brk_http_client_addr(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	net_addr_str(ci != NULL ? ci->client_addr : NULL, out, outsz);
}

/* A worker runs the request: its connection is suspended meanwhile, so
 * the request's header values (in the connection's memory) stay valid. */
static void api_job(void *arg)
{
	struct req_state *rs = arg;

	brk_api_handle(rs->b, &rs->req, &rs->resp);
	if (rs->resp.actor[0] != '\0') {
		brk_conn_authenticated(rs->c, rs->resp.actor);
	}
	log_info("%s %s %d from %s", rs->req.method, rs->req.path, rs->resp.status, rs->source);
	rs->done = 1;
}

/* Each decoded query argument of the URL (a key alone has a NULL value). */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	(void)brk_form_add(cls, key, 0, value != NULL ? value : "",
	    value != NULL ? strlen(value) : 0);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_size,
    void **con_cls)
{
	struct brk_http *h = cls;
	struct req_state *rs = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (rs == NULL) {
		rs = calloc(1, sizeof(*rs));
		if (rs == NULL || (rs->body.kept = buf_new(BRK_BODY_MAX)) == NULL) {
			free(rs);
			return MHD_NO;
		}
		*con_cls = rs;
		rs->b = h->b;
		rs->c = c;
		/* The head is in: from now on the body deadline runs. */
		brk_conn_phase(c, BRK_CONN_BODY);
		rs->mcp = h->b->mcp_http != NULL && strcmp(url, MCP_PATH) == 0;
		rs->console = brk_console_path(url);
		rs->xfer = strncmp(url, BRK_XFER_PATH, strlen(BRK_XFER_PATH)) == 0;
		rs->ws = h->b->wss != NULL && strncmp(url, BRK_WS_PATH, strlen(BRK_WS_PATH)) == 0;
		if (!rs->mcp && !rs->xfer && brk_body_declared_over(c, BRK_BODY_MAX) &&
		    brk_body_refuse(c, &rs->body)) {
			return send_too_large(c);
		}
		if (!rs->mcp && !rs->xfer && !rs->ws) {
			return MHD_YES;
		}
	}
	if (rs->ws) {
		*upload_size = 0;           /* a handshake has no body: dropped */
		return brk_ws_request(h->b, c, url, method, &rs->ws_cls);
	}
	if (rs->xfer) {
		return brk_xferhttp_request(h->b, c, url, method, upload_data, upload_size,
		    &rs->xfer_cls);
	}
	if (rs->mcp) {
		return brk_mcphttp_request(h->b->mcp_http, c, method, upload_data, upload_size,
		    &rs->mcp_cls);
	}
	if (*upload_size > 0) {
		ret = brk_body_put(&rs->body, upload_data, *upload_size) == 0 ? MHD_YES : MHD_NO;
		*upload_size = 0;
		return ret;
	}
	if (rs->console) {
		return brk_console_serve(c, method, url);
	}
	/* The connection stays suspended while api_job runs: libmicrohttpd
	 * calls again only once the job is done. */
	if (rs->done) {
		ret = brk_http_send(c, &rs->resp);
		brk_resp_clear(&rs->resp);
		return ret;
	}
	if (rs->body.too_large) {
		return send_too_large(c);
	}
	brk_conn_phase(c, BRK_CONN_BUSY);
	brk_http_client_addr(c, rs->source, sizeof(rs->source));
	rs->req.method = method;
	rs->req.path = url;
	rs->req.source = rs->source;
	rs->req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	rs->req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	rs->req.body = buf_len(rs->body.kept) > 0 ? buf_ptr(rs->body.kept) : NULL;
	rs->req.body_len = buf_len(rs->body.kept);
	(void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &rs->query);
	rs->req.query = &rs->query;
	rs->req.cookie_web = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    BRK_WEBSESSION_COOKIE);
	rs->req.csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    BRK_WEBSESSION_CSRF_HEADER);
	rs->req.origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (brk_work_suspend(h->b->work, c, api_job, rs) != 0) {
		log_warn("%s %s from %s: 503, every worker busy", method, url, rs->source);
		return brk_http_send_error(c, 503, "busy", BUSY_RETRY_S,
		    "the server is busy: try again in a moment");
	}
	return MHD_YES;
}

/* Where brk_conn reports refused and timed-out connections: audited once
 * per kind, address and period (clients cause these without limit). The
 * connection is refused or closed whatever the record says. */
static void conn_event(void *arg, const char *source, const char *outcome, const char *reason)
{
	struct brk_http *h = arg;

	(void)aud_record(h->b->store, h->b->agg, brk_now_ms(), &(struct aud_event){
	    .type = "http.connection", .actor = "anonymous", .source = source,
	    .outcome = outcome, .reason = reason, .aggregate = AUD_AGGREGATE });
}

/* The housekeeping chore: connections past their request deadlines. */
static void expire_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct brk_http *h = arg;

	(void)b;
	(void)rd;
	brk_conns_expire(h->conns, net_mono_ms());
}

int brk_http_start(struct brk *b, const struct brk_http_config *cfg, struct brk_http **out,
    unsigned *port)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	struct brk_http *h = NULL;
	const union MHD_DaemonInfo *di;
	size_t conn_max = cfg->conn_max != 0 ? cfg->conn_max : BRK_HTTP_CONN_MAX;
	unsigned flags;
	int r;

	*out = NULL;
	if ((r = net_resolve_listen(cfg->listen, &sa, &salen)) != 0) {
		log_error("cannot use listen address %s", cfg->listen);
		return r;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->chain = strdup(cfg->chain_pem)) == NULL ||
	    (h->key = strdup(cfg->key_pem)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	h->b = b;
	h->conns = brk_conns_new(conn_max,
	    cfg->head_timeout_ms > 0 ? cfg->head_timeout_ms : BRK_CONN_HEAD_TIMEOUT_MS,
	    cfg->body_timeout_ms > 0 ? cfg->body_timeout_ms : BRK_CONN_BODY_TIMEOUT_MS,
	    conn_event, h);
	if (h->conns == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	if (sa.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_CERT, h->chain,
	    MHD_OPTION_HTTPS_MEM_KEY, h->key,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)BRK_HTTP_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)conn_max,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)BRK_HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_CONNECTION, brk_conns_notify, h->conns,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_error("cannot serve HTTPS on %s (address in use, or bad certificate)",
		    cfg->listen);
		r = ZT_ERR_NET;
		goto out;
	}
	/* Last: once added, the chore must find h alive until the watch stops. */
	if (b->watch != NULL && brk_watch_add(b->watch, expire_chore, h) != 0) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di != NULL ? di->port : 0;
	log_info("http: %d event-loop threads, at most %zu connections", BRK_HTTP_THREADS,
	    conn_max);
	*out = h;
	h = NULL;
	r = 0;
out:
	brk_http_stop(h);
	return r;
}

void brk_http_stop(struct brk_http *h)
{
	if (h == NULL) {
		return;
	}
	if (h->d != NULL) {
		MHD_stop_daemon(h->d);
	}
	brk_conns_free(h->conns);
	free(h->chain);
	crypto_free_str(h->key);
	free(h);
}
