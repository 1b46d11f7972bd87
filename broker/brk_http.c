/*
 * brk_http.c - libmicrohttpd glue: TLS, request bounds, and the hand-off of
 * each complete request to brk_api.c.
 */
#include "broker/brk_http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_mcphttp.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"

/* GnuTLS priority string: TLS 1.2 and 1.3 only, GnuTLS's normal suites. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define CONN_LIMIT 512
#define CONN_PER_IP 64
#define CONN_TIMEOUT_S 60

struct brk_http {
	struct MHD_Daemon *d;
	struct brk *b;
	char *chain;
	char *key;
};

/* Per-request state: the body collected so far, or, for the MCP path,
 * the MCP transport's own state. */
struct req_state {
	struct buf *body;
	int too_large;
	int mcp;
	void *mcp_cls;
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

	(void)c;
	(void)toe;
	if (rs != NULL && rs->mcp) {
		brk_mcphttp_completed(h->b->mcp_http, &rs->mcp_cls);
	}
	if (rs != NULL) {
		buf_free(rs->body); /* wipes: bodies carry passwords */
		free(rs);
		*con_cls = NULL;
	}
}

static void free_text(void *p)
{
	crypto_free_str(p);
}

/* Sends resp as JSON with the broker's standard headers. */
static enum MHD_Result send_resp(struct MHD_Connection *c, const struct brk_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = resp->json != NULL ? cJSON_PrintUnformatted(resp->json) : NULL;
	size_t len;

	if (text == NULL) {
		text = strdup("{}");
		if (text == NULL) {
			return MHD_NO;
		}
	}
	len = strlen(text);
	/* The buffer may hold a fresh session token: wipe it after sending. */
	r = MHD_create_response_from_buffer_with_free_callback(len, text, free_text);
	if (r == NULL) {
		crypto_free_str(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (resp->retry_after > 0) {
		char ra[24];

		snprintf(ra, sizeof(ra), "%lld", (long long)resp->retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (resp->www_authenticate) {
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"zt\"");
	}
	ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
    const char *msg)
{
	struct brk_resp resp;
	enum MHD_Result ret;

	memset(&resp, 0, sizeof(resp));
	brk_resp_error(&resp, status, code, "%s", msg);
	ret = send_resp(c, &resp);
	brk_resp_clear(&resp);
	return ret;
}

/* The client's address as text. */
static void client_addr(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	net_addr_str(ci != NULL ? ci->client_addr : NULL, out, outsz);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_size,
    void **con_cls)
{
	struct brk_http *h = cls;
	struct req_state *rs = *con_cls;
	struct brk_req req;
	struct brk_resp resp;
	char source[64];
	enum MHD_Result ret;

	(void)version;
	if (rs == NULL) {
		rs = calloc(1, sizeof(*rs));
		if (rs == NULL || (rs->body = buf_new(BRK_BODY_MAX)) == NULL) {
			free(rs);
			return MHD_NO;
		}
		*con_cls = rs;
		rs->mcp = h->b->mcp_http != NULL && strcmp(url, MCP_PATH) == 0;
		if (!rs->mcp) {
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    MHD_HTTP_HEADER_CONTENT_LENGTH);

			if (cl != NULL && (strlen(cl) > 12 || strtoull(cl, NULL, 10) > BRK_BODY_MAX)) {
				return send_error(c, 413, "body_too_large",
				    "request body over 65536 bytes");
			}
			return MHD_YES;
		}
	}
	if (rs->mcp) {
		return brk_mcphttp_request(h->b->mcp_http, c, method, upload_data, upload_size,
		    &rs->mcp_cls);
	}
	if (*upload_size > 0) {
		if (!rs->too_large && buf_put(rs->body, upload_data, *upload_size) != 0) {
			rs->too_large = 1; /* keep draining, answer 413 at the end */
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rs->too_large) {
		return send_error(c, 413, "body_too_large", "request body over 65536 bytes");
	}
	client_addr(c, source, sizeof(source));
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.source = source;
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	req.body = buf_len(rs->body) > 0 ? buf_ptr(rs->body) : NULL;
	req.body_len = buf_len(rs->body);
	brk_api_handle(h->b, &req, &resp);
	log_info("%s %s %d from %s", method, url, resp.status, source);
	ret = send_resp(c, &resp);
	brk_resp_clear(&resp);
	return ret;
}

int brk_http_start(struct brk *b, const char *listen, const char *chain_pem,
    const char *key_pem, struct brk_http **out, unsigned *port)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	struct brk_http *h = NULL;
	const union MHD_DaemonInfo *di;
	unsigned flags;
	int r;

	*out = NULL;
	if ((r = net_resolve_listen(listen, &sa, &salen)) != 0) {
		log_error("cannot use listen address %s", listen);
		return r;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->chain = strdup(chain_pem)) == NULL ||
	    (h->key = strdup(key_pem)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	h->b = b;
	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_TLS | MHD_USE_ERROR_LOG;
	if (sa.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_CERT, h->chain,
	    MHD_OPTION_HTTPS_MEM_KEY, h->key,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_error("cannot serve HTTPS on %s (address in use, or bad certificate)", listen);
		r = ZT_ERR_NET;
		goto out;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di != NULL ? di->port : 0;
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
	free(h->chain);
	crypto_free_str(h->key);
	free(h);
}
