/*
 * cli_ws.c - a WebSocket to the broker over libcurl's connect-only mode
 * (cli_ws.h).
 */
#include "cli/cli_ws.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli_http.h"
#include "cli/cli_stream_int.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "common/tls.h"

#define IN_MAX (CLI_WS_MSG_MAX + WS_HEAD_MAX)
#define BODY_MAX 65536                  /* bytes of a refusal's body read */
#define SEND_TIMEOUT_MS 30000

struct cli_ws {
	CURL *easy;
	struct tls_pin *pc;
	int fd;
	struct ws_reader *rd;
	uint8_t *in;                    /* received, not yet read: in[0..in_len) */
	size_t in_len;
	int ended;
	uint16_t close_code;
	char errtext[CURL_ERROR_SIZE];
};

/* ---- bytes ---- */

/* Sends all of p[0..n). 0 or ZT_ERR_NET. */
static int send_all(struct cli_ws *w, const void *p, size_t n)
{
	int64_t deadline = net_mono_ms() + SEND_TIMEOUT_MS;
	size_t done = 0;

	while (done < n) {
		size_t sent = 0;
		CURLcode c = curl_easy_send(w->easy, (const uint8_t *)p + done, n - done, &sent);

		if (c == CURLE_AGAIN) {
			struct pollfd pf = { .fd = w->fd, .events = POLLOUT };
			int64_t left = deadline - net_mono_ms();

			if (left <= 0 || poll(&pf, 1, (int)left) < 0) {
				return ZT_ERR_NET;
			}
			continue;
		}
		if (c != CURLE_OK) {
			return ZT_ERR_NET;
		}
		done += sent;
	}
	return 0;
}

/* Takes what arrived into w->in, waiting up to ms for something: the
 * count (0: nothing in time), or ZT_ERR_NET when the connection ended. */
static ssize_t fill(struct cli_ws *w, int ms)
{
	for (int waited = 0;; waited = 1) {
		size_t got = 0;
		CURLcode c;

		if (w->in_len == IN_MAX) {
			return ZT_ERR_NET;      /* a frame past any message's size */
		}
		c = curl_easy_recv(w->easy, w->in + w->in_len, IN_MAX - w->in_len, &got);
		if (c == CURLE_OK && got > 0) {
			w->in_len += got;
			return (ssize_t)got;
		}
		if (c != CURLE_AGAIN) {
			return ZT_ERR_NET;
		}
		if (waited || ms <= 0) {
			return 0;
		}
		struct pollfd pf = { .fd = w->fd, .events = POLLIN };

		if (poll(&pf, 1, ms) <= 0) {
			return 0;
		}
	}
}

/* ---- frames ---- */

int cli_ws_send(struct cli_ws *w, enum ws_opcode op, const void *p, size_t n)
{
	uint8_t key[4], *f;
	size_t h;
	int r;

	if (w->ended || crypto_random(key, sizeof(key)) != 0 ||
	    (f = malloc(WS_HEAD_MAX + n)) == NULL) {
		return ZT_ERR_NET;
	}
	h = ws_frame_head(f, 1, op, n, key);
	if (n > 0) {
		memcpy(f + h, p, n);
		ws_mask(f + h, n, key, 0);
	}
	if ((r = send_all(w, f, h + n)) != 0) {
		w->ended = 1;
	}
	crypto_wipe(f, h + n);
	free(f);
	return r;
}

int cli_ws_send_json(struct cli_ws *w, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	int r;

	if (text == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = cli_ws_send(w, WS_OP_TEXT, text, strlen(text));
	free(text);
	return r;
}

int cli_ws_recv(struct cli_ws *w, int ms, struct ws_event *ev)
{
	int64_t deadline = net_mono_ms() + (ms > 0 ? ms : 0);

	for (;;) {
		size_t used = 0;
		int64_t left;

		if (w->ended) {
			return ZT_ERR_NET;
		}
		if (w->in_len > 0) {
			if (ws_read(w->rd, w->in, w->in_len, &used, ev) != 0) {
				w->ended = 1;
				return ZT_ERR_NET;
			}
			memmove(w->in, w->in + used, w->in_len - used);
			w->in_len -= used;
			if (used > 0) {
				if (ev->kind == WS_TEXT || ev->kind == WS_BINARY) {
					return 1;
				}
				if (ev->kind == WS_PING) {
					(void)cli_ws_send(w, WS_OP_PONG, ev->data, ev->len);
				} else if (ev->kind == WS_CLOSE) {
					w->close_code = ev->close_code;
					(void)cli_ws_send(w, WS_OP_CLOSE, "\x03\xe8", 2);
					w->ended = 1;
					return ZT_ERR_NET;
				}
				continue;
			}
		}
		left = deadline - net_mono_ms();
		ssize_t n = fill(w, left > 0 ? (int)left : 0);

		if (n < 0) {
			w->ended = 1;
			return ZT_ERR_NET;
		}
		if (n == 0) {
			return 0;
		}
	}
}

int cli_ws_control(const struct ws_event *ev, cJSON **out, const char **type)
{
	*out = NULL;
	*type = NULL;
	if (ev->kind != WS_TEXT || json_parse(ev->data, ev->len, CLI_WS_MSG_MAX, 8, out) != 0 ||
	    json_get_str(*out, "type", 16, 0, type) != 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return ZT_ERR_INVALID;
	}
	return 0;
}

uint16_t cli_ws_close_code(const struct cli_ws *w)
{
	return w->close_code;
}

int cli_ws_fd(const struct cli_ws *w)
{
	return w->fd;
}

void cli_ws_close(struct cli_ws *w)
{
	uint8_t p[WS_CONTROL_MAX];

	if (w == NULL) {
		return;
	}
	if (!w->ended && w->easy != NULL && w->fd >= 0) {
		(void)cli_ws_send(w, WS_OP_CLOSE, p, ws_close_payload(p, WS_CLOSE_NORMAL, ""));
	}
	curl_easy_cleanup(w->easy);
	tls_pin_free(w->pc);
	ws_reader_free(w->rd);
	if (w->in != NULL) {
		crypto_wipe(w->in, IN_MAX);
	}
	free(w->in);
	free(w);
}

/* ---- the handshake ---- */

/* The broker's refusal: its JSON error's message after the head (what is
 * in w->in past head_len, and the rest of the body as announced). */
static int refusal(struct cli_ws *w, const struct ws_answer *a, size_t head_len,
    char *errbuf, size_t errsz)
{
	const char *code = NULL, *msg = NULL;
	size_t want = a->content_length > BODY_MAX ? BODY_MAX : (size_t)a->content_length;
	int status = a->status;
	cJSON *j = NULL;

	while (w->in_len - head_len < want && fill(w, 2000) > 0) {
	}
	if (w->in_len - head_len >= want && want > 0) {
		(void)json_parse(w->in + head_len, want, BODY_MAX, 8, &j);
	}
	cli_http_error(j, &code, &msg);
	snprintf(errbuf, errsz, "the broker refused the session (HTTP %d): %s", status,
	    msg != NULL ? msg : "no reason given");
	cJSON_Delete(j);
	return status == 401 ? ZT_ERR_AUTH : ZT_ERR_DENIED;
}

/* Sends the opening handshake and reads the answer's head. */
static int handshake(struct cli_ws *w, const char *host, const char *port, const char *path,
    const char *bearer, int timeout_ms, int *status, char *errbuf, size_t errsz)
{
	char key[WS_KEY_LEN + 1], want[WS_ACCEPT_LEN + 1];
	struct ws_answer a;
	int64_t deadline = net_mono_ms() + timeout_ms;
	struct buf *req = buf_new(WS_ANSWER_MAX);
	int v6 = strchr(host, ':') != NULL, r;
	char *end = NULL;
	size_t head_len;

	if (req == NULL || ws_client_key(key) != 0 || ws_accept_for(key, want) != 0) {
		buf_free(req);
		snprintf(errbuf, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	r = buf_putf(req, "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nAuthorization: Bearer %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", path, v6 ? "[" : "", host, v6 ? "]" : "", port,
	    bearer, key);
	if (r == 0) {
		r = send_all(w, buf_ptr(req), buf_len(req));
	}
	buf_free(req);              /* wipes: it holds the token */
	if (r != 0) {
		snprintf(errbuf, errsz, "sending the request to the broker failed");
		return ZT_ERR_NET;
	}
	while ((end = memmem(w->in, w->in_len, "\r\n\r\n", 4)) == NULL) {
		int64_t left = deadline - net_mono_ms();

		if (w->in_len >= WS_ANSWER_MAX || left <= 0 || fill(w, (int)left) < 0) {
			snprintf(errbuf, errsz, "the broker did not answer the WebSocket handshake");
			return ZT_ERR_PROTOCOL;
		}
	}
	head_len = (size_t)(end - (char *)w->in) + 4;
	if (ws_parse_answer((const char *)w->in, head_len, &a) != 0) {
		snprintf(errbuf, errsz, "malformed HTTP response from the broker");
		return ZT_ERR_PROTOCOL;
	}
	*status = a.status;
	if (a.status != 101) {
		return refusal(w, &a, head_len, errbuf, errsz);
	}
	if (strcmp(a.accept, want) != 0) {
		snprintf(errbuf, errsz, "the broker's WebSocket handshake is wrong");
		return ZT_ERR_PROTOCOL;
	}
	memmove(w->in, w->in + head_len, w->in_len - head_len);
	w->in_len -= head_len;
	return 0;
}

/* Connects (proxy, TLS, pin) in libcurl's connect-only mode. */
static int connect_raw(struct cli_ws *w, const char *url, const char *host,
    const char *port, const char *pin, int timeout_ms, char *errbuf, size_t errsz)
{
	char curl_url[CLI_HTTP_HOST_MAX + 32];
	int v6 = strchr(host, ':') != NULL;
	curl_socket_t fd = CURL_SOCKET_BAD;
	CURLcode c;

	snprintf(curl_url, sizeof(curl_url), "https://%s%s%s:%s/", v6 ? "[" : "", host,
	    v6 ? "]" : "", port);
	if ((w->easy = curl_easy_init()) == NULL || tls_pin_new(host, pin, &w->pc) != 0 ||
	    cli_stream_trust(w->easy, curl_url, w->pc, timeout_ms, w->errtext) != 0 ||
	    curl_easy_setopt(w->easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
		snprintf(errbuf, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	if ((c = curl_easy_perform(w->easy)) != CURLE_OK) {
		log_debug("connecting to %s failed: %s", url, w->errtext);
		return cli_stream_connect_error(w->easy, c, w->pc, url, host, pin, errbuf, errsz);
	}
	if (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		snprintf(errbuf, errsz, "cannot reach the broker at %s", url);
		return ZT_ERR_NET;
	}
	w->fd = (int)fd;
	return 0;
}

int cli_ws_open(const char *url, const char *pin, const char *path, const char *bearer,
    int timeout_ms, struct cli_ws **out, int *status, char *errbuf, size_t errsz)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];
	struct cli_ws *w;
	int st = 0, r;

	*out = NULL;
	if (status != NULL) {
		*status = 0;
	}
	if (cli_http_parse_url(url, host, sizeof(host), port, sizeof(port)) != 0 ||
	    pin == NULL || tls_pin_valid(pin) != 0) {
		snprintf(errbuf, errsz, "invalid broker URL or CA pin in the profile");
		return ZT_ERR_INVALID;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL || (w->in = malloc(IN_MAX)) == NULL ||
	    (w->rd = ws_reader_new(0, CLI_WS_MSG_MAX)) == NULL) {
		cli_ws_close(w);
		snprintf(errbuf, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	w->fd = -1;
	if ((r = connect_raw(w, url, host, port, pin, timeout_ms, errbuf, errsz)) != 0 ||
	    (r = handshake(w, host, port, path, bearer, timeout_ms, &st, errbuf, errsz)) != 0) {
		w->ended = 1;
		cli_ws_close(w);
	} else {
		*out = w;
	}
	if (status != NULL) {
		*status = st;
	}
	return r;
}
