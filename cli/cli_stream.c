/*
 * cli_stream.c - an HTTP/1.1 exchange with the broker through libcurl, its
 * response body read piece by piece as it arrives.
 *
 * Each exchange drives one libcurl easy handle in a multi handle of its own
 * (curl_multi_perform and curl_multi_poll), so that a read can wait with a
 * timeout and leave the transfer as it is when nothing came: that is the
 * pull API cli_mcp.c relays SSE streams with. The write callback keeps
 * received body bytes in a bounded window and pauses the transfer when the
 * window is full; the header callback bounds the head.
 *
 * Keep-alive: a pair (multi, easy) whose exchange ended cleanly goes back
 * to a small process-wide pool, keyed by broker URL and CA pin, and the
 * next exchange with the same broker and pin takes it, reusing the
 * connection the pair's multi handle keeps open. A pair is used by one
 * thread at a time, so libcurl's handles are never shared between threads;
 * this is chosen over a CURLSH sharing the connection cache, which libcurl
 * documents as not safe across concurrent threads. The key matters for the
 * pin: a connection verified against one pin is never reused for another.
 *
 * TLS: libcurl's OpenSSL context gets the pinned chain check of common/tls.c
 * (CURLOPT_SSL_CTX_FUNCTION, tls_ctx_pin()), which replaces OpenSSL's chain
 * verification and checks the host name or address; CURLOPT_SSL_VERIFYPEER
 * stays on so that a refused chain aborts the handshake, no CA file or
 * directory is loaded, and libcurl checks the host name once more.
 * HTTPS_PROXY and NO_PROXY work as libcurl reads them.
 *
 * The bearer token is only in the request header list, which is wiped when
 * the exchange is closed; received bytes are wiped too.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cli/cli_http.h"
#include "cli/cli_stream.h"
#include "cli/cli_stream_int.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/tls.h"

#define WINDOW (256 * 1024)   /* received body bytes not yet read */
#define POOL_MAX 8            /* idle pairs kept for reuse */
#define UPLOAD_PIECE (512 * 1024) /* bytes of a streamed body asked for at once */
#define POLL_MAX_MS 1000      /* one curl_multi_poll wait, at most */
#define KEY_MAX (CLI_HTTP_HOST_MAX + 64 + TLS_PIN_LEN)
#define URL_MAX (CLI_HTTP_HOST_MAX + 16 + CLI_STREAM_HEAD_MAX)

/* A libcurl transfer handle in its own multi handle, whose connection cache
 * keeps the connection to the broker between exchanges. */
struct pair {
	struct pair *next;
	CURLM *multi;
	CURL *easy;
	struct tls_pin *pc; /* borrowed by the connections' SSL_CTX */
	char key[KEY_MAX];  /* URL "\n" pin */
};

struct cli_stream {
	struct pair *p;
	struct curl_slist *hdrs; /* holds the bearer token: wiped on close */
	const char *url;         /* the caller's, for error sentences until open returns */
	int timeout_ms;
	int added;               /* easy is in multi */
	int status;
	int head_done;           /* the final response's head arrived */
	size_t head_bytes, head_lines;
	int err;                 /* a limit a callback hit: ZT_ERR_TOO_LARGE */
	int done;                /* the transfer ended: result says how */
	CURLcode result;
	int paused;
	ssize_t (*upload)(void *, void *, size_t); /* the request's streamed body */
	void *upload_arg;
	int upload_err;          /* what upload() failed with */
	int64_t sent_at;         /* when the last piece of it was handed over */
	size_t off, len;         /* unread body bytes: window[off..len) */
	char errtext[CURL_ERROR_SIZE];
	uint8_t window[WINDOW];
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pair *pool;
static size_t pool_len;

/* ---- requests ---- */

static int is_token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token(const char *s)
{
	if (s == NULL || *s == '\0') {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (!is_token_char(*s)) {
			return 0;
		}
	}
	return 1;
}

/* Visible bytes only (no space): a path or a token cannot split the line. */
static int is_visible(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* A header value: visible bytes, spaces and tabs; never CR or LF; not empty
 * (libcurl would read "Name:" as "remove the header"). */
static int is_field_value(const char *s)
{
	if (*s == '\0') {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\t') || (unsigned char)*s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* Checks a request before anything is sent: 1 when it is well formed. */
static int req_valid(const struct cli_stream_req *req)
{
	size_t i;

	if (req == NULL || !is_token(req->method) || req->path == NULL || req->path[0] != '/' ||
	    !is_visible(req->path) || strlen(req->path) > CLI_STREAM_HEAD_MAX ||
	    (req->bearer != NULL && (req->bearer[0] == '\0' || !is_visible(req->bearer))) ||
	    req->nheaders > CLI_STREAM_HEADERS_MAX || (req->nheaders > 0 && req->headers == NULL) ||
	    (req->body == NULL && req->body_len > 0) || req->body_len > CLI_STREAM_BODY_MAX ||
	    (req->upload != NULL && (req->body != NULL || req->upload_len < 0))) {
		return 0;
	}
	for (i = 0; i < req->nheaders; i++) {
		if (!is_token(req->headers[i].name) || req->headers[i].value == NULL ||
		    !is_field_value(req->headers[i].value)) {
			return 0;
		}
	}
	return 1;
}

/* Appends one "Name: prefix value" line to *l; the text is wiped after
 * libcurl copied it (it may be the token). 0 or ZT_ERR_NOMEM /
 * ZT_ERR_TOO_LARGE. */
static int add_header(struct curl_slist **l, const char *name, const char *prefix,
    const char *value)
{
	char line[CLI_STREAM_HEAD_MAX];
	struct curl_slist *n;
	int len = snprintf(line, sizeof(line), "%s: %s%s", name, prefix, value);

	if (len < 0 || (size_t)len >= sizeof(line)) {
		crypto_wipe(line, sizeof(line));
		return ZT_ERR_TOO_LARGE;
	}
	n = curl_slist_append(*l, line);
	crypto_wipe(line, (size_t)len);
	if (n == NULL) {
		return ZT_ERR_NOMEM;
	}
	*l = n;
	return 0;
}

/* The request's header list: the caller's headers, the token, and what
 * libcurl must not add on its own (Expect: 100-continue, a form
 * Content-Type). 0 or a negative ZT_ERR_*. */
static int build_headers(const struct cli_stream_req *req, struct curl_slist **out)
{
	int has_type = 0, r = 0;
	size_t i;

	for (i = 0; i < req->nheaders && r == 0; i++) {
		has_type |= strcasecmp(req->headers[i].name, "Content-Type") == 0;
		r = add_header(out, req->headers[i].name, "", req->headers[i].value);
	}
	if (r == 0 && req->bearer != NULL) {
		r = add_header(out, "Authorization", "Bearer ", req->bearer);
	}
	if (r == 0) {
		r = add_header(out, "User-Agent", "", "ztctl");
	}
	if (r == 0 && (*out = curl_slist_append(*out, "Expect:")) == NULL) {
		r = ZT_ERR_NOMEM;
	}
	if (r == 0 && (req->body != NULL || req->upload != NULL) && !has_type &&
	    (*out = curl_slist_append(*out, "Content-Type:")) == NULL) {
		r = ZT_ERR_NOMEM;
	}
	return r;
}

/* Frees a header list after wiping its text (it holds the token). */
static void free_headers(struct curl_slist *l)
{
	struct curl_slist *n;

	for (n = l; n != NULL; n = n->next) {
		crypto_wipe(n->data, strlen(n->data));
	}
	curl_slist_free_all(l);
}

/* ---- the pool of (multi, easy) pairs ---- */

static void pair_free(struct pair *p)
{
	if (p == NULL) {
		return;
	}
	curl_easy_cleanup(p->easy);
	curl_multi_cleanup(p->multi); /* closes the pair's connections */
	tls_pin_free(p->pc);
	free(p);
}

/* An idle pair for key, or a new one for host and pin; NULL on ENOMEM. */
static struct pair *pair_take(const char *key, const char *host, const char *pin)
{
	struct pair **pp, *p;

	pthread_mutex_lock(&pool_mu);
	for (pp = &pool; (p = *pp) != NULL; pp = &p->next) {
		if (strcmp(p->key, key) == 0) {
			*pp = p->next;
			pool_len--;
			break;
		}
	}
	pthread_mutex_unlock(&pool_mu);
	if (p != NULL) {
		p->next = NULL;
		return p;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return NULL;
	}
	snprintf(p->key, sizeof(p->key), "%s", key);
	if ((p->multi = curl_multi_init()) == NULL || (p->easy = curl_easy_init()) == NULL ||
	    tls_pin_new(host, pin, &p->pc) != 0 ||
	    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, 1L) != CURLM_OK) {
		pair_free(p);
		return NULL;
	}
	return p;
}

/* Keeps a pair whose exchange ended cleanly, with its connection, for the
 * next exchange with the same broker (or frees it when the pool is full). */
static void pair_give(struct pair *p)
{
	curl_easy_reset(p->easy); /* forgets the callbacks' pointers; keeps connections */
	pthread_mutex_lock(&pool_mu);
	if (pool_len < POOL_MAX) {
		p->next = pool;
		pool = p;
		pool_len++;
		p = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	pair_free(p);
}

void cli_stream_cleanup(void)
{
	struct pair *p;

	pthread_mutex_lock(&pool_mu);
	p = pool;
	pool = NULL;
	pool_len = 0;
	pthread_mutex_unlock(&pool_mu);
	while (p != NULL) {
		struct pair *next = p->next;

		pair_free(p);
		p = next;
	}
}

/* ---- libcurl callbacks ---- */

/* CURLOPT_SSL_CTX_FUNCTION: the pinned chain check on libcurl's context. */
static CURLcode on_ssl_ctx(CURL *easy, void *ctx, void *arg)
{
	(void)easy;
	return tls_ctx_pin(ctx, arg) == 0 ? CURLE_OK : CURLE_SSL_CONNECT_ERROR;
}

/* CURLOPT_HEADERFUNCTION: bounds the head (and trailers) and notes when the
 * final response's head is complete. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cli_stream *s = arg;
	size_t len = size * n;
	long code = 0;

	s->head_bytes += len;
	s->head_lines++;
	if (s->head_bytes > CLI_HTTP_HEADERS_MAX ||
	    s->head_lines > CLI_HTTP_HEADER_COUNT_MAX + 2) {
		s->err = ZT_ERR_TOO_LARGE;
		return 0;
	}
	if (!s->head_done && ((len == 2 && p[0] == '\r' && p[1] == '\n') ||
	    (len == 1 && p[0] == '\n')) &&
	    curl_easy_getinfo(s->p->easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code >= 200) {
		/* The blank line after a final (not 1xx) status. */
		s->head_done = 1;
		s->status = (int)code;
	}
	return len;
}

/* CURLOPT_WRITEFUNCTION: keeps body bytes in the window, pausing the
 * transfer while it has no room for them. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cli_stream *s = arg;
	size_t len = size * n;

	if (s->off == s->len) {
		s->off = s->len = 0;
	}
	if (len > sizeof(s->window) - s->len && s->off > 0) {
		memmove(s->window, s->window + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (len > sizeof(s->window) - s->len) {
		if (s->len > 0) {
			s->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		s->err = ZT_ERR_TOO_LARGE;
		return 0;
	}
	memcpy(s->window + s->len, p, len);
	s->len += len;
	return len;
}

/* CURLOPT_READFUNCTION: the next piece of a streamed request body. */
static size_t on_upload(char *p, size_t size, size_t n, void *arg)
{
	struct cli_stream *s = arg;
	ssize_t got = s->upload(s->upload_arg, p, size * n);

	if (got < 0) {
		s->upload_err = (int)got;
		return CURL_READFUNC_ABORT;
	}
	s->sent_at = net_mono_ms();
	return (size_t)got;
}

/* ---- driving a transfer ---- */

static int head_arrived(const struct cli_stream *s)
{
	return s->head_done;
}

static int body_arrived(const struct cli_stream *s)
{
	return s->len > s->off;
}

/* Runs the transfer until ready(s), its end or deadline (monotonic ms):
 * 0, ZT_ERR_TIMEOUT or ZT_ERR_IO (libcurl's multi interface failed). */
static int drive(struct cli_stream *s, int (*ready)(const struct cli_stream *), int64_t deadline)
{
	CURLMsg *m;
	int running, left;
	int64_t wait;

	for (;;) {
		if (curl_multi_perform(s->p->multi, &running) != CURLM_OK) {
			return ZT_ERR_IO;
		}
		while ((m = curl_multi_info_read(s->p->multi, &left)) != NULL) {
			if (m->msg == CURLMSG_DONE && m->easy_handle == s->p->easy) {
				s->done = 1;
				s->result = m->data.result;
			}
		}
		if (ready(s) || s->done) {
			return 0;
		}
		wait = deadline - net_mono_ms();
		if (wait <= 0) {
			return ZT_ERR_TIMEOUT;
		}
		if (curl_multi_poll(s->p->multi, NULL, 0, wait < POLL_MAX_MS ? (int)wait : POLL_MAX_MS,
		    NULL) != CURLM_OK) {
			return ZT_ERR_IO;
		}
	}
}

/* ---- errors ---- */

static int is_tls_error(CURLcode c)
{
	return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION ||
	    c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_CACERT_BADFILE ||
	    c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	    c == CURLE_SSL_ENGINE_INITFAILED || c == CURLE_SSL_CRL_BADFILE;
}

int cli_stream_connect_error(CURL *easy, CURLcode c, struct tls_pin *pc, const char *url,
    const char *host, const char *pin, char *errbuf, size_t errsz)
{
	long proxy = 0;

	if (is_tls_error(c) && tls_pin_result(pc) == ZT_ERR_PIN) {
		snprintf(errbuf, errsz, "the broker at %s presented a certificate that does not "
		    "chain to the pinned CA %s (wrong --ca-pin, or not the real broker)", url, pin);
		return ZT_ERR_PIN;
	}
	if (is_tls_error(c)) {
		snprintf(errbuf, errsz, "TLS handshake with %s failed (is it a zt broker, and does "
		    "its certificate name %s? ZT_LOG_LEVEL=debug says more)", url, host);
		return ZT_ERR_TLS;
	}
	if (curl_easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &proxy) == CURLE_OK &&
	    proxy != 0 && proxy != 200) {
		snprintf(errbuf, errsz, "cannot reach the broker at %s: the HTTPS proxy refused "
		    "the connection (HTTP %ld)", url, proxy);
		return ZT_ERR_NET;
	}
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: no address for %s", url, host);
		return ZT_ERR_NET;
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: no address for the proxy "
		    "(HTTPS_PROXY)", url);
		return ZT_ERR_NET;
	case CURLE_COULDNT_CONNECT:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: connection refused or "
		    "no route", url);
		return ZT_ERR_NET;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: timed out", url);
		return ZT_ERR_TIMEOUT;
	case CURLE_GOT_NOTHING:
		snprintf(errbuf, errsz, "the broker closed the connection without answering");
		return ZT_ERR_PROTOCOL;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(errbuf, errsz, "malformed HTTP response from the broker");
		return ZT_ERR_PROTOCOL;
	case CURLE_SEND_ERROR:
		snprintf(errbuf, errsz, "sending the request to %s failed", url);
		return ZT_ERR_IO;
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		snprintf(errbuf, errsz, "the broker closed the connection mid-response");
		return ZT_ERR_PROTOCOL;
	case CURLE_OUT_OF_MEMORY:
		snprintf(errbuf, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	default:
		snprintf(errbuf, errsz, "cannot reach the broker at %s: %s", url,
		    curl_easy_strerror(c));
		return ZT_ERR_NET;
	}
}

/* A transfer that failed before its head arrived: one sentence for people
 * in errbuf, and the error to return. */
static int open_error(struct cli_stream *s, const char *host, const char *pin, char *errbuf,
    size_t errsz)
{
	if (s->err != 0) {
		snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
		    zt_strerror(s->err));
		return s->err;
	}
	if (s->upload_err != 0) {
		snprintf(errbuf, errsz, "reading the body to send failed: %s",
		    zt_strerror(s->upload_err));
		return s->upload_err;
	}
	return cli_stream_connect_error(s->p->easy, s->result, s->p->pc, s->url, host, pin,
	    errbuf, errsz);
}

/* How a transfer that ended after its head ended, for cli_stream_read(). */
static int body_result(const struct cli_stream *s)
{
	if (s->err != 0) {
		return s->err;
	}
	switch (s->result) {
	case CURLE_OK:
		return 0;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
		return ZT_ERR_TRUNCATED;
	case CURLE_OPERATION_TIMEDOUT:
		return ZT_ERR_TIMEOUT;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return ZT_ERR_PROTOCOL;
	case CURLE_OUT_OF_MEMORY:
		return ZT_ERR_NOMEM;
	default:
		return ZT_ERR_IO;
	}
}

/* ---- opening ---- */

/* Sets the easy handle up for req to url+path. 0 or a negative ZT_ERR_*. */
static int setup(struct cli_stream *s, const char *host, const char *port,
    const struct cli_stream_req *req)
{
	char url[URL_MAX];
	CURL *e = s->p->easy;
	int v6 = strchr(host, ':') != NULL, r, len;
	CURLcode c = CURLE_OK;

	len = snprintf(url, sizeof(url), "https://%s%s%s:%s%s", v6 ? "[" : "", host,
	    v6 ? "]" : "", port, req->path);
	if (len < 0 || (size_t)len >= sizeof(url)) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((r = build_headers(req, &s->hdrs)) != 0) {
		return r;
	}
	if (req->body != NULL) {
		c |= curl_easy_setopt(e, CURLOPT_POST, 1L);
		c |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		c |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		if (strcmp(req->method, "POST") != 0) {
			c |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		}
	} else if (req->upload != NULL) {
		s->upload = req->upload;
		s->upload_arg = req->upload_arg;
		c |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		c |= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
		c |= curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		c |= curl_easy_setopt(e, CURLOPT_READDATA, s);
		/* Larger pieces than the 64 KiB default: fewer TLS records, calls. */
		c |= curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_PIECE);
		if (strcmp(req->method, "PUT") != 0) {
			c |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		}
	} else if (strcmp(req->method, "GET") != 0) {
		c |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	c |= curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	c |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	c |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	if (c != CURLE_OK) {
		return ZT_ERR_INTERNAL;
	}
	return cli_stream_trust(e, url, s->p->pc, s->timeout_ms, s->errtext);
}

int cli_stream_trust(CURL *e, const char *url, struct tls_pin *pc, int timeout_ms,
    char *errtext)
{
	CURLcode c = CURLE_OK;

	c |= curl_easy_setopt(e, CURLOPT_URL, url);
	c |= curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	c |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errtext);
	/* Trust: only what the pinned check accepts; no CA file or directory. */
	c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	c |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	c |= curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	c |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	c |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	c |= curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, pc);
	/* Last: without it (a libcurl not built on OpenSSL) nothing is sent. */
	c |= curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	return c == CURLE_OK ? 0 : ZT_ERR_INTERNAL;
}

/* Runs the transfer until the response's head arrived: drive()'s result.
 * While a streamed body is being sent the timeout counts from its last
 * piece, so a large upload is bounded by its pace, not its length. */
static int wait_head(struct cli_stream *s)
{
	int64_t since;
	int r;

	s->sent_at = net_mono_ms();
	do {
		since = s->sent_at;
		r = drive(s, head_arrived, since + s->timeout_ms);
	} while (r == ZT_ERR_TIMEOUT && s->sent_at != since);
	return r;
}

/* Checks the URL, pin and request: 0, or ZT_ERR_INVALID with a sentence. */
static int check_args(const char *url, const char *pin, const struct cli_stream_req *req,
    int timeout_ms, char *host, char *port, char *errbuf, size_t errsz)
{
	if (cli_http_parse_url(url, host, CLI_HTTP_HOST_MAX + 1, port, CLI_HTTP_PORT_MAX) != 0) {
		snprintf(errbuf, errsz, "invalid broker URL (want https://HOST[:PORT])");
		return ZT_ERR_INVALID;
	}
	if (pin == NULL || tls_pin_valid(pin) != 0) {
		snprintf(errbuf, errsz,
		    "invalid CA pin (want sha256: and 64 lower-case hex digits)");
		return ZT_ERR_INVALID;
	}
	if (!req_valid(req) || timeout_ms <= 0) {
		snprintf(errbuf, errsz,
		    "invalid request (bad method, path, token, header or body)");
		return ZT_ERR_INVALID;
	}
	return 0;
}

int cli_stream_open(const char *url, const char *pin, const struct cli_stream_req *req,
    int timeout_ms, struct cli_stream **out, char *errbuf, size_t errsz)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX], key[KEY_MAX];
	struct cli_stream *s = NULL;
	int r;

	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = check_args(url, pin, req, timeout_ms, host, port, errbuf, errsz)) != 0) {
		goto out;
	}
	snprintf(key, sizeof(key), "%s:%s\n%s", host, port, pin);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->p = pair_take(key, host, pin)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	s->url = url;
	s->timeout_ms = timeout_ms;
	if ((r = setup(s, host, port, req)) != 0) {
		snprintf(errbuf, errsz, "cannot build the request: %s", zt_strerror(r));
		goto out;
	}
	if (curl_multi_add_handle(s->p->multi, s->p->easy) != CURLM_OK) {
		r = ZT_ERR_INTERNAL;
		snprintf(errbuf, errsz, "cannot start the request");
		goto out;
	}
	s->added = 1;
	r = wait_head(s);
	if (r == 0 && !s->head_done) {
		r = open_error(s, host, pin, errbuf, errsz);
		log_debug("request to %s failed: %s", url, s->errtext);
	} else if (r == ZT_ERR_TIMEOUT) {
		snprintf(errbuf, errsz, "cannot reach the broker at %s: timed out", url);
	} else if (r != 0) {
		snprintf(errbuf, errsz, "cannot reach the broker at %s: %s", url, zt_strerror(r));
	} else if (s->status < 200 || s->status > 599) {
		r = ZT_ERR_PROTOCOL;
		snprintf(errbuf, errsz, "malformed HTTP response from the broker: status %d",
		    s->status);
	}
	if (r != 0) {
		goto out;
	}
	s->url = NULL;
	*out = s;
	s = NULL;
out:
	cli_stream_close(s);
	return r;
}

int cli_stream_status(const struct cli_stream *s)
{
	return s->status;
}

void cli_stream_set_timeout(struct cli_stream *s, int timeout_ms)
{
	if (timeout_ms > 0) {
		s->timeout_ms = timeout_ms;
	}
}

int cli_stream_header(const struct cli_stream *s, const char *name, char *out, size_t outsz)
{
	struct curl_header *h = NULL;
	size_t vlen;

	if (outsz == 0) {
		return ZT_ERR_TOO_LARGE;
	}
	out[0] = '\0';
	if (curl_easy_header(s->p->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
	    h == NULL || h->value == NULL) {
		return ZT_ERR_NOT_FOUND;
	}
	if ((vlen = strlen(h->value)) >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(out, h->value, vlen + 1);
	return 0;
}

int cli_stream_is_type(const struct cli_stream *s, const char *mt)
{
	char v[256];
	size_t n = strlen(mt);

	if (cli_stream_header(s, "Content-Type", v, sizeof(v)) != 0 ||
	    strncasecmp(v, mt, n) != 0) {
		return 0;
	}
	return v[n] == '\0' || v[n] == ';' || v[n] == ' ' || v[n] == '\t';
}

ssize_t cli_stream_read(struct cli_stream *s, void *p, size_t n)
{
	size_t got;
	int r;

	if (s == NULL || (p == NULL && n > 0)) {
		return ZT_ERR_INVALID;
	}
	if (n == 0) {
		return 0;
	}
	if (s->off == s->len && !s->done) {
		if (s->paused) {
			/* libcurl hands over what it held back, into the empty window. */
			s->paused = 0;
			if (curl_easy_pause(s->p->easy, CURLPAUSE_CONT) != CURLE_OK) {
				return ZT_ERR_IO;
			}
		}
		if ((r = drive(s, body_arrived, net_mono_ms() + s->timeout_ms)) != 0) {
			return r;
		}
	}
	if (s->len > s->off) {
		got = s->len - s->off;
		got = got < n ? got : n;
		memcpy(p, s->window + s->off, got);
		s->off += got;
		return (ssize_t)got;
	}
	return body_result(s);
}

/* A sentence for a failed body read, and the error to return for it. */
static int read_error(int r, char *errbuf, size_t errsz)
{
	switch (r) {
	case ZT_ERR_TRUNCATED:
		snprintf(errbuf, errsz, "the broker closed the connection mid-response");
		return ZT_ERR_PROTOCOL;
	case ZT_ERR_PROTOCOL:
	case ZT_ERR_TOO_LARGE:
		snprintf(errbuf, errsz, "malformed HTTP response from the broker: %s",
		    zt_strerror(r));
		return r;
	default:
		snprintf(errbuf, errsz, "reading the broker's response failed: %s",
		    zt_strerror(r));
		return r;
	}
}

int cli_stream_read_all(struct cli_stream *s, struct buf *body, char *errbuf, size_t errsz)
{
	uint8_t chunk[16384];
	ssize_t got;
	int r;

	for (;;) {
		got = cli_stream_read(s, chunk, sizeof(chunk));
		if (got == 0) {
			r = 0;
			break;
		}
		if (got < 0) {
			r = read_error((int)got, errbuf, errsz);
			break;
		}
		if ((r = buf_put(body, chunk, (size_t)got)) != 0) {
			snprintf(errbuf, errsz, "the broker's response is larger than %zu bytes",
			    buf_max(body));
			break;
		}
	}
	crypto_wipe(chunk, sizeof(chunk));
	return r;
}

void cli_stream_close(struct cli_stream *s)
{
	if (s == NULL) {
		return;
	}
	if (s->added) {
		/* A transfer removed before its end closes its connection. */
		curl_multi_remove_handle(s->p->multi, s->p->easy);
	}
	if (s->p != NULL && s->done && s->result == CURLE_OK && s->err == 0) {
		pair_give(s->p);
	} else {
		pair_free(s->p);
	}
	free_headers(s->hdrs);
	crypto_wipe(s->window, sizeof(s->window));
	free(s);
}
