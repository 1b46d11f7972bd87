/*
 * cli_tool.c - ztctl's own MCP client: a session on the broker's /mcp and
 * tool calls on it (cli_tool.h).
 *
 * One request at a time: each POST's answer is read to its end before the
 * next is sent, so the session needs no threads. An answer that is an SSE
 * stream is parsed as it arrives (cli_sse.c); the stream may stay open a
 * long time while the broker holds the call for a person, and may be ended
 * by the broker before the answer (SEP-1699 polling), in which case it is
 * resumed with GET and Last-Event-ID, as `ztctl mcp` does.
 */
#include "cli/cli_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_http.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_sse.h"
#include "cli/cli_stream.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

#define MCP_PATH "/mcp"
#define JSON_DEPTH 64
#define ERR_BODY_MAX 65536     /* bytes of an HTTP error's body we read */
#define READ_CHUNK 16384
#define DRAIN_MS 2000          /* the rest of a stream after its answer, at most */
#define DELETE_TIMEOUT_MS 2000
#define RETRY_DEFAULT_MS 1000  /* before resuming a stream, unless told */
#define RETRY_MAX_MS 30000
#define MSG_MAX 1024           /* bytes of a broker message we quote */

struct cli_tool {
	const struct cli_profile *p;   /* borrowed */
	char sid[CLI_TOOL_SID_MAX + 1];
	char version[CLI_TOOL_VERSION_MAX + 1];
	int64_t next_id;
};

/* Waiting for the answer to request id on a stream. */
struct wait {
	int64_t id;
	cli_tool_log_fn log;
	void *arg;
	cJSON *answer;  /* the response message once it came; owned */
};

/* 1 if v may go in a header value: set, not empty, no control bytes. */
static int header_safe(const char *v)
{
	if (v == NULL || v[0] == '\0') {
		return 0;
	}
	for (; *v != '\0'; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			return 0;
		}
	}
	return 1;
}

int cli_tool_http(const char *broker, const char *pin, const char *token,
    const struct cli_mcp_headers *hd, const char *method, const char *body, size_t len,
    int timeout_ms, struct cli_stream **s, char *err, size_t errsz)
{
	struct cli_stream_header h[7];
	struct cli_stream_req req;
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	if (strcmp(method, "POST") == 0) {
		h[n++] = (struct cli_stream_header){ "Content-Type", "application/json" };
		h[n++] = (struct cli_stream_header){ "Accept",
		    "application/json, text/event-stream" };
		req.body = body;
		req.body_len = len;
	} else if (strcmp(method, "GET") == 0) {
		h[n++] = (struct cli_stream_header){ "Accept", "text/event-stream" };
	}
	if (header_safe(hd->sid)) {
		h[n++] = (struct cli_stream_header){ "Mcp-Session-Id", hd->sid };
	}
	if (header_safe(hd->version)) {
		h[n++] = (struct cli_stream_header){ "MCP-Protocol-Version", hd->version };
	}
	if (header_safe(hd->mcp_method)) {
		h[n++] = (struct cli_stream_header){ "Mcp-Method", hd->mcp_method };
	}
	if (header_safe(hd->mcp_name)) {
		h[n++] = (struct cli_stream_header){ "Mcp-Name", hd->mcp_name };
	}
	if (header_safe(hd->last_id)) {
		h[n++] = (struct cli_stream_header){ "Last-Event-ID", hd->last_id };
	}
	req.method = method;
	req.path = MCP_PATH;
	req.bearer = token;
	req.headers = h;
	req.nheaders = n;
	return cli_stream_open(broker, pin, &req, timeout_ms, s, err, errsz);
}

/* method on this session's /mcp; see cli_tool_http(). */
static int open_mcp(const struct cli_tool *t, const char *method, const char *body,
    const char *last_id, int timeout_ms, struct cli_stream **s, char *err, size_t errsz)
{
	struct cli_mcp_headers hd = { t->sid, t->version, NULL, NULL, last_id };

	return cli_tool_http(t->p->broker, t->p->ca_pin, t->p->token, &hd, method, body,
	    body != NULL ? strlen(body) : 0, timeout_ms, s, err, errsz);
}

/* ---- reading answers ---- */

void cli_tool_read_json(struct cli_stream *s, size_t max, cJSON **out)
{
	char err[MSG_MAX];
	struct buf *b = buf_new(max);

	*out = NULL;
	if (b == NULL) {
		return;
	}
	if (cli_stream_read_all(s, b, err, sizeof(err)) != 0) {
		log_debug("mcp: %s", err);
	} else if (buf_len(b) > 0 &&
	    json_parse(buf_ptr(b), buf_len(b), max, JSON_DEPTH, out) != 0) {
		*out = NULL;
	}
	buf_free(b);
}

/* A refused POST or GET (status not 2xx): one sentence in err and the
 * error to return. 401 says to log in again. */
static int refused(const struct cli_tool *t, struct cli_stream *s, int status, char *err,
    size_t errsz)
{
	const char *code = NULL, *msg = NULL;
	const cJSON *e = NULL;
	char c[MSG_MAX];
	cJSON *resp = NULL;
	int r = ZT_ERR_PROTOCOL;

	cli_tool_read_json(s, ERR_BODY_MAX, &resp);
	cli_http_error(resp, &code, &msg);
	if (msg == NULL && json_get_obj(resp, "error", &e) == 0 &&
	    json_get_str(e, "message", MSG_MAX, 1, &msg) != 0) {
		msg = NULL;  /* a JSON-RPC error's message is taken as the broker's */
	}
	if (status == 401) {
		snprintf(err, errsz, "the broker refused the session (%s): run ztctl login "
		    "--broker %s --ca-pin %s --user %s", code != NULL ? code : "HTTP 401",
		    t->p->broker, t->p->ca_pin, t->p->user != NULL ? t->p->user : "NAME");
		r = ZT_ERR_AUTH;
	} else if (msg != NULL) {
		snprintf(err, errsz, "the broker answered HTTP %d: %s", status,
		    cli_clean(msg, 0, c, sizeof(c)));
		r = status == 403 ? ZT_ERR_DENIED : ZT_ERR_PROTOCOL;
	} else {
		snprintf(err, errsz, "the broker answered HTTP %d", status);
	}
	cJSON_Delete(resp);
	return r;
}

/* One message from the broker: a log notification goes to w->log, the
 * response to w->id is kept (1 is returned then, to stop the parser). */
static int on_message(struct wait *w, const uint8_t *data, size_t len)
{
	const cJSON *id, *params = NULL;
	const char *method = NULL;
	cJSON *msg = NULL;

	if (json_parse(data, len, CLI_TOOL_MSG_MAX, JSON_DEPTH, &msg) != 0 ||
	    !cJSON_IsObject(msg)) {
		log_warn("mcp: the broker sent a message that is not a JSON object; dropped");
		cJSON_Delete(msg);
		return 0;
	}
	if (json_get_str(msg, "method", 256, 0, &method) == 0) {
		if (strcmp(method, "notifications/message") == 0 && w->log != NULL &&
		    json_get_obj(msg, "params", &params) == 0) {
			w->log(w->arg, params);
		}
		cJSON_Delete(msg);
		return 0;
	}
	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	if (w->answer == NULL && cJSON_IsNumber(id) && (int64_t)id->valuedouble == w->id &&
	    (cJSON_HasObjectItem(msg, "result") || cJSON_HasObjectItem(msg, "error"))) {
		w->answer = msg;
		return 1;
	}
	cJSON_Delete(msg);
	return 0;
}

static int on_event(void *arg, const struct cli_sse_event *ev)
{
	if (strcmp(ev->type, "message") != 0) {
		return 0;
	}
	return on_message(arg, ev->data, ev->data_len);
}

/* Reads what follows the answer on its stream (the broker ends it right
 * after), DRAIN_MS at most, so the connection goes back to the pool. */
static void drain(struct cli_stream *s)
{
	uint8_t chunk[READ_CHUNK];
	int64_t until = net_mono_ms() + DRAIN_MS;
	ssize_t got;

	cli_stream_set_timeout(s, DRAIN_MS);
	while (net_mono_ms() < until && (got = cli_stream_read(s, chunk, sizeof(chunk))) > 0) {
		;
	}
}

/* Feeds a stream to the parser until the answer came, the stream ended
 * (0) or failed (a negative ZT_ERR_*). */
static int pump(struct cli_stream *s, struct cli_sse *p, struct wait *w)
{
	uint8_t chunk[READ_CHUNK];
	int64_t idle_since = net_mono_ms();
	ssize_t got;
	int r;

	for (;;) {
		got = cli_stream_read(s, chunk, sizeof(chunk));
		if (got == ZT_ERR_TIMEOUT && net_mono_ms() - idle_since < CLI_TOOL_IDLE_MS) {
			continue;
		}
		if (got <= 0) {
			return (int)got;
		}
		idle_since = net_mono_ms();
		if ((r = cli_sse_feed(p, chunk, (size_t)got, on_event, w)) < 0) {
			return r;
		}
		if (w->answer != NULL) {
			drain(s);
			return 0;
		}
	}
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0) {
		;
	}
}

/* Resumes a stream that ended before its answer: the new stream in *sp,
 * or a negative ZT_ERR_* with a sentence in err. */
static int resume(const struct cli_tool *t, const struct cli_sse *p, struct cli_stream **sp,
    char *err, size_t errsz)
{
	long ms = cli_sse_retry_ms(p);
	int fails, r, status;

	if (cli_sse_last_id(p)[0] == '\0') {
		snprintf(err, errsz, "the broker's stream ended before the answer, without an "
		    "event id to resume from");
		return ZT_ERR_PROTOCOL;
	}
	ms = ms < 0 ? RETRY_DEFAULT_MS : ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
	for (fails = 0; fails < CLI_TOOL_RESUMES; fails++) {
		nap_ms(fails == 0 ? ms : ms > (500L << fails) ? ms : (500L << fails));
		if ((r = open_mcp(t, "GET", NULL, cli_sse_last_id(p), CLI_HTTP_TIMEOUT_MS, sp, err,
		    errsz)) != 0) {
			continue;
		}
		status = cli_stream_status(*sp);
		if (status == 200 && cli_stream_is_type(*sp, "text/event-stream")) {
			return 0;
		}
		if (status >= 400 && status < 500) {
			r = refused(t, *sp, status, err, errsz);
			cli_stream_close(*sp);
			*sp = NULL;
			return r;
		}
		snprintf(err, errsz, "the broker answered a resumption with HTTP %d", status);
		cli_stream_close(*sp);
		*sp = NULL;
	}
	return r != 0 ? r : ZT_ERR_PROTOCOL;
}

/* Reads the answer to w->id from an SSE response (*sp, taken), resuming
 * the stream until it came. 0 or a negative ZT_ERR_* with a sentence. */
static int sse_answer(const struct cli_tool *t, struct cli_stream **sp, struct wait *w,
    char *err, size_t errsz)
{
	struct cli_sse *p = cli_sse_new(CLI_TOOL_MSG_MAX);
	int r;

	if (p == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	for (;;) {
		r = pump(*sp, p, w);
		cli_stream_close(*sp);
		*sp = NULL;
		if (w->answer != NULL) {
			r = 0;
			break;
		}
		if (r == ZT_ERR_TIMEOUT) {
			snprintf(err, errsz, "no word from the broker for %d s",
			    CLI_TOOL_IDLE_MS / 1000);
			break;
		}
		if (r == ZT_ERR_TOO_LARGE || r == ZT_ERR_NOMEM || r == ZT_ERR_PROTOCOL) {
			snprintf(err, errsz, "the broker's answer could not be read: %s",
			    zt_strerror(r));
			break;
		}
		if ((r = resume(t, p, sp, err, errsz)) != 0) {
			break;
		}
		cli_sse_reset(p);
	}
	cli_sse_free(p);
	return r;
}

/* Reads the answer to w->id from a plain JSON response. */
static int json_answer(struct cli_stream *s, struct wait *w, char *err, size_t errsz)
{
	char *text = NULL;
	cJSON *msg = NULL;

	cli_tool_read_json(s, CLI_TOOL_MSG_MAX, &msg);
	if (msg != NULL && (text = cJSON_PrintUnformatted(msg)) != NULL) {
		(void)on_message(w, (const uint8_t *)text, strlen(text));
	}
	free(text);
	cJSON_Delete(msg);
	if (w->answer == NULL) {
		snprintf(err, errsz, "the broker's answer is not the call's response");
		return ZT_ERR_PROTOCOL;
	}
	return 0;
}

/* POSTs one message. For a request (w != NULL) reads its response into
 * w->answer; a notification must be accepted (202). A new session's id is
 * recorded from the answer's header. 0 or a negative ZT_ERR_*. */
static int post(struct cli_tool *t, const char *body, struct wait *w, char *err, size_t errsz)
{
	struct cli_stream *s = NULL;
	cJSON *junk = NULL;
	int r, status;

	if ((r = open_mcp(t, "POST", body, NULL, CLI_HTTP_TIMEOUT_MS, &s, err, errsz)) != 0) {
		return r;
	}
	status = cli_stream_status(s);
	if (status < 200 || status > 299) {
		r = refused(t, s, status, err, errsz);
	} else if (w == NULL) {
		cli_tool_read_json(s, ERR_BODY_MAX, &junk);  /* 202 has none: the connection is kept */
		cJSON_Delete(junk);
		r = 0;
	} else {
		if (t->sid[0] == '\0' && cli_stream_header(s, "Mcp-Session-Id", t->sid,
		    sizeof(t->sid)) != 0) {
			t->sid[0] = '\0';
		}
		if (cli_stream_is_type(s, "text/event-stream")) {
			r = sse_answer(t, &s, w, err, errsz);
		} else {
			r = json_answer(s, w, err, errsz);
		}
	}
	cli_stream_close(s);
	return r;
}

/* ---- requests ---- */

/* Sends request method with params (taken) and takes its result: 0 with
 * *result (owned), or a negative ZT_ERR_* with a sentence. */
static int request(struct cli_tool *t, const char *method, cJSON *params, cli_tool_log_fn log,
    void *arg, cJSON **result, char *err, size_t errsz)
{
	struct wait w = { ++t->next_id, log, arg, NULL };
	const cJSON *e = NULL;
	const char *msg = NULL;
	cJSON *o = cJSON_CreateObject();
	char *text = NULL, c[MSG_MAX];
	int r = ZT_ERR_NOMEM;

	*result = NULL;
	if (o == NULL || params == NULL || cJSON_AddStringToObject(o, "jsonrpc", "2.0") == NULL ||
	    cJSON_AddNumberToObject(o, "id", (double)w.id) == NULL ||
	    cJSON_AddStringToObject(o, "method", method) == NULL) {
		snprintf(err, errsz, "out of memory");
		cJSON_Delete(params);
		goto out;
	}
	cJSON_AddItemToObject(o, "params", params);
	if ((text = cJSON_PrintUnformatted(o)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((r = post(t, text, &w, err, errsz)) != 0) {
		goto out;
	}
	if (json_get_obj(w.answer, "error", &e) == 0) {
		r = ZT_ERR_DENIED;
		snprintf(err, errsz, "the broker refused %s: %s", method,
		    json_get_str(e, "message", MSG_MAX, 1, &msg) == 0 ? cli_clean(msg, 0, c, sizeof(c)) :
		    "no reason given");
		goto out;
	}
	if ((*result = cJSON_DetachItemFromObjectCaseSensitive(w.answer, "result")) == NULL ||
	    !cJSON_IsObject(*result)) {
		cJSON_Delete(*result);
		*result = NULL;
		r = ZT_ERR_PROTOCOL;
		snprintf(err, errsz, "the broker's answer to %s has no result", method);
		goto out;
	}
	r = 0;
out:
	free(text);
	cJSON_Delete(o);
	cJSON_Delete(w.answer);
	return r;
}

int cli_tool_open(const struct cli_profile *p, struct cli_tool **out, char *err, size_t errsz)
{
	static const char initialized[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
	struct cli_tool *t = NULL;
	cJSON *params = NULL, *result = NULL;
	const char *v = NULL;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (params = cJSON_Parse("{\"protocolVersion\":\"" CLI_TOOL_PROTOCOL "\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"ztctl\",\"version\":\"1\"}}")) == NULL) {
		free(t);
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	t->p = p;
	if ((r = request(t, "initialize", params, NULL, NULL, &result, err, errsz)) != 0) {
		goto out;
	}
	if (json_get_str(result, "protocolVersion", CLI_TOOL_VERSION_MAX, 0, &v) != 0 ||
	    t->sid[0] == '\0') {
		r = ZT_ERR_PROTOCOL;
		snprintf(err, errsz, "the broker's initialize answer has no session or version");
		goto out;
	}
	snprintf(t->version, sizeof(t->version), "%s", v);
	if ((r = post(t, initialized, NULL, err, errsz)) != 0) {
		goto out;
	}
	*out = t;
	t = NULL;
out:
	cJSON_Delete(result);
	cli_tool_close(t);
	return r;
}

int cli_tool_call(struct cli_tool *t, const char *name, const cJSON *args, cli_tool_log_fn log,
    void *arg, cJSON **result, char *err, size_t errsz)
{
	cJSON *params = cJSON_CreateObject();

	if (params != NULL && (cJSON_AddStringToObject(params, "name", name) == NULL ||
	    !cJSON_AddItemToObject(params, "arguments", cJSON_Duplicate(args, 1)))) {
		cJSON_Delete(params);
		params = NULL;
	}
	return request(t, "tools/call", params, log, arg, result, err, errsz);
}

void cli_tool_close(struct cli_tool *t)
{
	struct cli_stream *s = NULL;
	char err[MSG_MAX];
	cJSON *resp = NULL;

	if (t == NULL) {
		return;
	}
	if (t->sid[0] != '\0' &&
	    open_mcp(t, "DELETE", NULL, NULL, DELETE_TIMEOUT_MS, &s, err, sizeof(err)) == 0) {
		cli_tool_read_json(s, ERR_BODY_MAX, &resp);
		cJSON_Delete(resp);
	}
	cli_stream_close(s);
	free(t);
}

const char *cli_tool_text(const cJSON *result, char *out, size_t outsz)
{
	const cJSON *content = NULL, *c;
	const char *type, *text;
	size_t n = 0;

	out[0] = '\0';
	if (json_get_arr(result, "content", 1000, &content) != 0) {
		return out;
	}
	cJSON_ArrayForEach(c, content) {
		type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type"));
		text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "text"));
		if (type == NULL || strcmp(type, "text") != 0 || text == NULL || n + 3 >= outsz) {
			continue;
		}
		if (n > 0) {
			memcpy(out + n, "; ", 3);
			n += 2;
		}
		cli_clean(text, 0, out + n, outsz - n);
		n += strlen(out + n);
	}
	return out;
}
