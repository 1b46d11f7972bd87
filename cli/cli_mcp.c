/*
 * cli_mcp.c - `ztctl mcp`: relays an AI client's MCP messages between
 * standard input/output and the broker's Streamable HTTP endpoint.
 *
 * Threads. The main thread reads standard input line by line. initialize
 * and notifications/initialized are relayed on it, in order, so that the
 * session id and the negotiated protocol version are known before anything
 * else is sent. Every other message is relayed by a thread of its own
 * (at most CLI_MCP_INFLIGHT_MAX at once), so a long tools/call never holds
 * up the client's notifications/cancelled or its answer to an elicitation
 * that arrive meanwhile. After notifications/initialized one more thread
 * keeps the session's standalone GET stream open for messages the broker
 * starts itself. All share one mutex (profile, session, counters) and one
 * for standard output, so each message is written whole, on one line.
 *
 * A request's answer is plain JSON or an SSE stream. The stream is parsed
 * as it arrives (cli_sse.c) and each event's message written at once; if it
 * ends before the response to the request came (the broker closed it on
 * purpose for polling, or the network dropped it) the relay resumes it with
 * GET and Last-Event-ID after the delay the broker asked for. If the broker
 * forgot the session (404 after an idle hour or a restart), the shim
 * replays the client's initialize and initialized messages once, quietly,
 * and retries: AI clients keep their stdio servers for days.
 *
 * The profile is read again whenever no usable session is at hand or the
 * broker refused the token, so `ztctl login` in a terminal fixes a running
 * shim without restarting the AI client.
 *
 * A client of protocol revision 2026-07-28 has no session: each of its
 * requests carries its version in params._meta, and is relayed on its own
 * thread without a session id, with the headers that revision asks for
 * (MCP-Protocol-Version, Mcp-Method, Mcp-Name). Both eras share the kept-
 * alive connections to the broker; a stateless stream is never resumed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_http.h"
#include "cli/cli_mcp.h"
#include "cli/cli_profile.h"
#include "cli/cli_sse.h"
#include "cli/cli_stream.h"
#include "cli/cli_tool.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

#define MCP_PATH "/mcp"
#define JSON_DEPTH 64
#define ERR_MAX 1024          /* bytes of an error sentence */
#define ERR_BODY_MAX 65536    /* bytes of an HTTP error's body we read */
#define SID_MAX 256           /* bytes of an Mcp-Session-Id */
#define VERSION_MAX 64        /* bytes of a protocol version */
#define READ_CHUNK 16384
#define IN_CHUNK 65536
#define RETRY_DEFAULT_MS 1000 /* before resuming a stream, unless told */
#define RETRY_MAX_MS 30000
#define BACKOFF_MAX_MS 60000
#define IDLE_MAX_MS 120000    /* silence on a stream (the broker pings every 15 s) */
#define DRAIN_MS 2000         /* after the response, the rest of its stream at most */
#define RESUME_TRIES 5        /* failed attempts in a row to resume a stream */
#define POST_DRAIN_MS 1000    /* of CLI_MCP_DRAIN_MS, waiting for relays before DELETE */
#define DELETE_TIMEOUT_MS 400

/* A relay thread. Threads are joined, not detached, so that each one has
 * finished (and OpenSSL has freed its per-thread state) before the shim
 * frees what they share or the process exits. */
struct thr {
	struct thr *next;
	pthread_t t;
	int done;
	struct shim *sh;
	void *(*fn)(void *);
	void *arg;
};

struct shim {
	int in_fd;
	FILE *out;                 /* on a copy of the output descriptor */
	char dir[CLI_PROFILE_PATH_MAX];
	pthread_mutex_t mu;        /* guards the fields below up to out_mu */
	pthread_cond_t cv;         /* a relay ended, a session renewed, stopping */
	struct cli_profile *prof;  /* NULL until one could be loaded */
	int reload;                /* read the profile again before the next use */
	char sid[SID_MAX + 1];     /* "" until initialize was answered */
	char version[VERSION_MAX + 1];
	uint64_t gen;              /* counts sessions: a change means a new sid */
	char *init_msg;            /* the client's initialize, for a renewal */
	char *initialized_msg;     /* its notifications/initialized */
	int renewing;
	int standalone;            /* the GET stream's thread was started */
	int standalone_running;    /* and has not ended */
	int workers;               /* relay threads running (the GET one too) */
	struct thr *threads;       /* started and not yet joined */
	int stopping;              /* input ended: no new connections, no waits */
	pthread_mutex_t out_mu;    /* one message at a time on out */
	int out_broken;
};

/* What a relay needs to reach the broker, copied out under sh->mu. */
struct target {
	char *broker, *pin, *token;
	char sid[SID_MAX + 1];
	char version[VERSION_MAX + 1];
	const char *mcp_method, *mcp_name;  /* a stateless request's (its job's) */
	uint64_t gen;
};

/* One message from the client to relay. */
struct job {
	struct shim *sh;
	char *text;
	size_t len;
	cJSON *id;      /* a request's id; NULL for notifications and responses */
	int is_init;    /* an initialize request */
	int quiet;      /* a renewal's replay: nothing goes to the client */
	/* A stateless request (2026-07-28): its version, method and name for
	 * the headers; it goes without a session. NULL otherwise. */
	char *ver, *method, *name;
};

/* State of one SSE response being relayed. */
struct relay_ctx {
	struct shim *sh;
	const struct job *j;  /* NULL on the standalone stream */
	const char *sid;      /* the Mcp-Session-Id the response carried */
	uint64_t gen;         /* the session the standalone stream belongs to */
	int done;             /* the response to j's request arrived */
	size_t events;        /* messages relayed from this connection */
	/* The response itself, held back until its stream is closed: the
	 * client sends its next request as soon as it sees it, and that one
	 * should find this connection back in the pool (cli_stream.h). */
	uint8_t *held;
	size_t held_len;
};

/* snprintf for sentences to people, where a sentence cut short at outsz
 * (a profile holding kilobyte-long names) is acceptable. */
static void say(char *out, size_t outsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

/* Waits on sh->cv (caller holds sh->mu) until deadline (net_mono_ms() time). */
static void wait_until(struct shim *sh, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - net_mono_ms();

	if (left <= 0) {
		return;
	}
	net_mono_deadline(left, &ts);
	(void)pthread_cond_timedwait(&sh->cv, &sh->mu, &ts);
}

/* Sleeps ms unless the shim is stopping: 1 if it is. */
static int nap(struct shim *sh, long ms)
{
	int64_t deadline = net_mono_ms() + ms;
	int stopping;

	pthread_mutex_lock(&sh->mu);
	while (!sh->stopping && net_mono_ms() < deadline) {
		wait_until(sh, deadline);
	}
	stopping = sh->stopping;
	pthread_mutex_unlock(&sh->mu);
	return stopping;
}

static int stopping(struct shim *sh)
{
	int s;

	pthread_mutex_lock(&sh->mu);
	s = sh->stopping;
	pthread_mutex_unlock(&sh->mu);
	return s;
}

/* 1 if the session is no longer the one numbered gen. */
static int session_changed(struct shim *sh, uint64_t gen)
{
	int changed;

	pthread_mutex_lock(&sh->mu);
	changed = sh->gen != gen;
	pthread_mutex_unlock(&sh->mu);
	return changed;
}

/* ---- standard output ---- */

/* Writes one message and its newline, whole, and flushes them. */
static void out_line(struct shim *sh, const char *p, size_t n)
{
	pthread_mutex_lock(&sh->out_mu);
	if (!sh->out_broken && (fwrite(p, 1, n, sh->out) != n || putc('\n', sh->out) == EOF ||
	    fflush(sh->out) != 0)) {
		sh->out_broken = 1;
		log_warn("mcp: cannot write to standard output (the client went away?)");
	}
	pthread_mutex_unlock(&sh->out_mu);
}

/* Writes a message received from the broker: as it came when it is on one
 * line already, else re-serialized compactly. */
static void out_message(struct shim *sh, const uint8_t *p, size_t n, const cJSON *msg)
{
	char *text;

	if (memchr(p, '\n', n) == NULL && memchr(p, '\r', n) == NULL) {
		out_line(sh, (const char *)p, n);
		return;
	}
	if ((text = cJSON_PrintUnformatted(msg)) == NULL) {
		log_error("mcp: out of memory; a message from the broker was dropped");
		return;
	}
	out_line(sh, text, strlen(text));
	free(text);
}

/* A JSON-RPC error response for id (NULL: null), with data (copied) if not
 * NULL. */
static void out_error(struct shim *sh, const cJSON *id, int code, const char *message,
    const cJSON *data)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
	char *text = NULL;

	if (o == NULL || e == NULL) {
		cJSON_Delete(e);
		goto out;
	}
	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id != NULL ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	if (data != NULL) {
		cJSON_AddItemToObject(e, "data", cJSON_Duplicate(data, 1));
	}
	cJSON_AddItemToObject(o, "error", e);
	text = cJSON_PrintUnformatted(o);
out:
	if (text != NULL) {
		out_line(sh, text, strlen(text));
	} else {
		log_error("mcp: out of memory; an error response was dropped");
	}
	free(text);
	cJSON_Delete(o);
}

/* An error for a relayed message: a response when it was a request, else
 * only a log line (a notification has no one to answer). */
static void job_error(const struct job *j, int code, const char *message)
{
	if (j->quiet) {
		log_warn("mcp: renewing the session failed: %s", message);
	} else if (j->id != NULL) {
		out_error(j->sh, j->id, code, message, NULL);
	} else {
		log_warn("mcp: a notification or response was not delivered: %s", message);
	}
}

/* ---- the profile and the session ---- */

/* "ztctl login --broker ... --ca-pin ... --user ..." with what is known. */
static void login_cmd(const struct cli_profile *p, char *out, size_t outsz)
{
	snprintf(out, outsz, "ztctl login --broker %s --ca-pin %s --user %s",
	    p != NULL && p->broker != NULL ? p->broker : "https://BROKER[:PORT]",
	    p != NULL && p->ca_pin != NULL ? p->ca_pin : "sha256:<the broker's CA pin>",
	    p != NULL && p->user != NULL ? p->user : "NAME");
}

/* Loads the profile again if needed; caller holds sh->mu. 0 when there is
 * a session that has not expired, else a sentence for the client in why. */
static int session_usable(struct shim *sh, char *why, size_t whysz)
{
	char cmd[CLI_PROFILE_STR_MAX * 3 + 64], err[ERR_MAX], when[32];
	struct cli_profile *p = NULL;
	time_t now = time(NULL), t;
	struct tm tm;
	int r;

	if (sh->prof == NULL || sh->reload || sh->prof->token == NULL ||
	    sh->prof->expires_at <= (int64_t)now) {
		r = cli_profile_load(sh->dir, &p, err, sizeof(err));
		if (r == 0) {
			if (sh->prof != NULL && (strcmp(sh->prof->broker, p->broker) != 0 ||
			    strcmp(sh->prof->ca_pin, p->ca_pin) != 0)) {
				/* Logged in to another broker: its sessions are not ours. */
				sh->sid[0] = '\0';
				sh->version[0] = '\0';
				sh->gen++;
			}
			cli_profile_free(sh->prof);
			sh->prof = p;
			sh->reload = 0;
		} else if (r == ZT_ERR_NOT_FOUND) {
			cli_profile_free(sh->prof);
			sh->prof = NULL;
		} else {
			login_cmd(sh->prof, cmd, sizeof(cmd));
			say(why, whysz, "Cannot use the zt profile: %s. Fix it, or log in again "
			    "in a terminal with: %s", err, cmd);
			return ZT_ERR_AUTH;
		}
	}
	login_cmd(sh->prof, cmd, sizeof(cmd));
	if (sh->prof == NULL || sh->prof->token == NULL) {
		say(why, whysz, "Not logged in to zt. Log in in a terminal with: %s (then "
		    "try again)", cmd);
		return ZT_ERR_AUTH;
	}
	if (sh->prof->expires_at <= (int64_t)now) {
		t = (time_t)sh->prof->expires_at;
		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC",
		    &tm) == 0) {
			snprintf(when, sizeof(when), "some time ago");
		}
		say(why, whysz, "The zt session%s%s expired (%s). Log in again in a terminal "
		    "with: %s (then try again)", sh->prof->user != NULL ? " of " : "",
		    sh->prof->user != NULL ? sh->prof->user : "", when, cmd);
		return ZT_ERR_EXPIRED;
	}
	return 0;
}

static void target_clear(struct target *t)
{
	free(t->broker);
	free(t->pin);
	if (t->token != NULL) {
		crypto_wipe(t->token, strlen(t->token));
		free(t->token);
	}
	memset(t, 0, sizeof(*t));
}

/* Copies what a relay needs. 0, or a negative ZT_ERR_* with the sentence
 * for the client in why. */
static int target_get(struct shim *sh, struct target *t, char *why, size_t whysz)
{
	int r;

	memset(t, 0, sizeof(*t));
	pthread_mutex_lock(&sh->mu);
	if ((r = session_usable(sh, why, whysz)) != 0) {
		goto out;
	}
	if ((t->broker = strdup(sh->prof->broker)) == NULL ||
	    (t->pin = strdup(sh->prof->ca_pin)) == NULL ||
	    (t->token = strdup(sh->prof->token)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(why, whysz, "ztctl is out of memory");
		goto out;
	}
	memcpy(t->sid, sh->sid, sizeof(t->sid));
	memcpy(t->version, sh->version, sizeof(t->version));
	t->gen = sh->gen;
	r = 0;
out:
	pthread_mutex_unlock(&sh->mu);
	if (r != 0) {
		target_clear(t);
	}
	return r;
}

/* 1 if s is 1..max visible ASCII bytes (what a session id or a protocol
 * version may be). */
static int visible(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (n >= max || s[n] < 0x21 || s[n] > 0x7e) {
			return 0;
		}
	}
	return n > 0;
}

/* Records what an initialize response says: the session id (from the HTTP
 * header) and the protocol version (from the result). */
static void record_session(struct shim *sh, const char *sid, const cJSON *msg)
{
	const cJSON *result = NULL;
	const char *version = NULL;

	if (json_get_obj(msg, "result", &result) != 0) {
		return;
	}
	if (json_get_str(result, "protocolVersion", VERSION_MAX, 0, &version) != 0 ||
	    !visible(version, VERSION_MAX)) {
		log_warn("mcp: the broker's initialize result has no usable protocolVersion");
		version = NULL;
	}
	if (sid[0] != '\0' && !visible(sid, SID_MAX)) {
		log_warn("mcp: the broker sent a malformed Mcp-Session-Id; ignored");
		sid = "";
	}
	pthread_mutex_lock(&sh->mu);
	snprintf(sh->sid, sizeof(sh->sid), "%s", sid);
	snprintf(sh->version, sizeof(sh->version), "%s", version != NULL ? version : "");
	sh->gen++;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	log_debug("mcp: session %s, protocol version %s", sid[0] != '\0' ? "assigned" : "none",
	    version != NULL ? version : "unknown");
}

/* ---- talking to the broker ---- */

/* Opens method /mcp with the headers the session calls for. body is a
 * POST's message; last_id resumes a stream (GET). */
static int open_mcp(const struct target *t, const char *method, const char *body, size_t len,
    const char *last_id, struct cli_stream **s, char *err, size_t errsz)
{
	struct cli_mcp_headers hd = { t->sid, t->version, t->mcp_method, t->mcp_name, last_id };

	return cli_tool_http(t->broker, t->pin, t->token, &hd, method, body, len,
	    strcmp(method, "DELETE") == 0 ? DELETE_TIMEOUT_MS : CLI_HTTP_TIMEOUT_MS, s, err, errsz);
}

/* 401: the token was refused. Says why and how to log in again, and makes
 * the next message read the profile again. */
static void auth_refused(struct shim *sh, const struct job *j, struct cli_stream *s)
{
	char cmd[CLI_PROFILE_STR_MAX * 3 + 64], why[ERR_MAX * 2];
	const char *code = NULL, *message = NULL;
	cJSON *resp = NULL;

	cli_tool_read_json(s, ERR_BODY_MAX, &resp);
	cli_http_error(resp, &code, &message);
	pthread_mutex_lock(&sh->mu);
	sh->reload = 1;
	login_cmd(sh->prof, cmd, sizeof(cmd));
	pthread_mutex_unlock(&sh->mu);
	say(why, sizeof(why), "The zt broker refused the session (%s%s%s). Log in again in "
	    "a terminal with: %s (then try again)", code != NULL ? code : "HTTP 401",
	    message != NULL ? ": " : "", message != NULL ? message : "", cmd);
	if (j != NULL) {
		job_error(j, CLI_MCP_ERR_LOGIN, why);
	} else {
		log_warn("mcp: %s", why);
	}
	cJSON_Delete(resp);
}

/* An HTTP error status: passes on the JSON-RPC error the body carries, with
 * the request's id, or says what the broker answered. */
static void http_refused(const struct job *j, struct cli_stream *s, int status)
{
	const cJSON *e = NULL, *data = NULL;
	const char *message = NULL, *code = NULL;
	char why[ERR_MAX];
	cJSON *resp = NULL;
	int64_t c = 0;

	cli_tool_read_json(s, ERR_BODY_MAX, &resp);
	if (json_get_obj(resp, "error", &e) == 0 &&
	    json_get_int(e, "code", INT32_MIN, INT32_MAX, &c) == 0 &&
	    json_get_str(e, "message", ERR_MAX, 1, &message) == 0) {
		if (j->id != NULL && !j->quiet) {
			(void)json_get_obj(e, "data", &data);
			out_error(j->sh, j->id, (int)c, message, data);
		} else {
			log_warn("mcp: the broker answered HTTP %d: %s", status, message);
		}
		goto out;
	}
	cli_http_error(resp, &code, &message);
	say(why, sizeof(why), "The zt broker answered HTTP %d%s%s", status,
	    message != NULL ? ": " : "", message != NULL ? message : "");
	job_error(j, CLI_MCP_ERR_BROKER, why);
out:
	cJSON_Delete(resp);
}

/* One message from the broker: written to the client (unless quiet); the
 * response to the job's request ends the job. */
static void on_message(struct relay_ctx *c, const uint8_t *data, size_t len)
{
	const struct job *j = c->j;
	const cJSON *id;
	cJSON *msg = NULL;

	if (json_parse(data, len, CLI_MCP_LINE_MAX, JSON_DEPTH, &msg) != 0 ||
	    !cJSON_IsObject(msg)) {
		log_warn("mcp: the broker sent a message that is not a JSON object; dropped");
		goto out;
	}
	c->events++;
	if (j != NULL && j->id != NULL && !cJSON_HasObjectItem(msg, "method") &&
	    (id = cJSON_GetObjectItemCaseSensitive(msg, "id")) != NULL &&
	    cJSON_Compare(id, j->id, 1) &&
	    (cJSON_HasObjectItem(msg, "result") || cJSON_HasObjectItem(msg, "error"))) {
		c->done = 1;
		if (j->is_init) {
			/* Before the client sees the answer, so that whatever it
			 * sends next carries the session. */
			record_session(c->sh, c->sid, msg);
		}
	}
	if (c->done && c->held == NULL && j != NULL && !j->quiet &&
	    (c->held = malloc(len)) != NULL) {
		memcpy(c->held, data, len);
		c->held_len = len;
	} else if (j == NULL || !j->quiet) {
		out_message(c->sh, data, len, msg);
	}
out:
	cJSON_Delete(msg);
}

/* Passes on the response held back (relay_ctx), once its stream is
 * closed. */
static void release_held(struct relay_ctx *c)
{
	cJSON *msg = NULL;

	if (c->held == NULL) {
		return;
	}
	if (json_parse(c->held, c->held_len, CLI_MCP_LINE_MAX, JSON_DEPTH, &msg) == 0) {
		out_message(c->sh, c->held, c->held_len, msg);
	}
	cJSON_Delete(msg);
	free(c->held);
	c->held = NULL;
}

static int on_event(void *arg, const struct cli_sse_event *ev)
{
	if (strcmp(ev->type, "message") != 0) {
		log_debug("mcp: ignored an SSE event of type %s", ev->type);
		return 0;
	}
	on_message(arg, ev->data, ev->data_len);
	return 0;
}

/* Feeds a stream's body to the SSE parser until it ends, the job's
 * response went out, or it fails. 0 when the body ended cleanly (or the
 * response came), else a negative ZT_ERR_*. */
static int pump(struct relay_ctx *c, struct cli_stream *s, struct cli_sse *p)
{
	uint8_t chunk[READ_CHUNK];
	int64_t idle_since = net_mono_ms();
	ssize_t got;
	int r;

	for (;;) {
		got = cli_stream_read(s, chunk, sizeof(chunk));
		if (got == ZT_ERR_TIMEOUT) {
			if (net_mono_ms() - idle_since >= IDLE_MAX_MS) {
				log_warn("mcp: no word from the broker for %d s; reconnecting",
				    IDLE_MAX_MS / 1000);
				return ZT_ERR_TIMEOUT;
			}
			if (c->j == NULL && (stopping(c->sh) || session_changed(c->sh, c->gen))) {
				return 0;
			}
			continue;
		}
		if (got <= 0) {
			return (int)got;
		}
		idle_since = net_mono_ms();
		if ((r = cli_sse_feed(p, chunk, (size_t)got, on_event, c)) != 0) {
			log_warn("mcp: the broker's event stream is unusable: %s", zt_strerror(r));
			return r;
		}
		if (c->done) {
			break;
		}
	}
	/* The broker ends a request's stream right after its response: read
	 * that end, so that the connection goes back to the pool; DRAIN_MS at
	 * most, else it is closed with the stream. */
	cli_stream_set_timeout(s, DRAIN_MS);
	for (int64_t until = net_mono_ms() + DRAIN_MS; net_mono_ms() < until;) {
		got = cli_stream_read(s, chunk, sizeof(chunk));
		if (got > 0) {
			(void)cli_sse_feed(p, chunk, (size_t)got, on_event, c);
		} else if (got != ZT_ERR_TIMEOUT) {
			break;
		}
	}
	return 0;
}

/* The delay before resuming a stream: what the broker asked for, bounded. */
static long retry_delay(const struct cli_sse *p)
{
	long ms = cli_sse_retry_ms(p);

	if (ms < 0) {
		return RETRY_DEFAULT_MS;
	}
	return ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

/* Relays a request's SSE response (*sp, taken), resuming it with GET and
 * Last-Event-ID until the response came. */
static void relay_sse(struct shim *sh, const struct job *j, const struct target *t,
    const char *sid, struct cli_stream **sp)
{
	struct relay_ctx c = { sh, j, sid, t->gen, 0, 0, NULL, 0 };
	struct cli_sse *p = cli_sse_new(CLI_MCP_LINE_MAX);
	struct target t2;
	char err[ERR_MAX], why[ERR_MAX * 2];
	long delay;
	int r, fails = 0, status;

	if (p == NULL) {
		job_error(j, CLI_MCP_ERR_BROKER, "ztctl is out of memory");
		return;
	}
	for (;;) {
		r = pump(&c, *sp, p);
		cli_stream_close(*sp);
		*sp = NULL;
		release_held(&c);
		if (c.done || j->id == NULL) {
			break;
		}
		if (r == ZT_ERR_TOO_LARGE || r == ZT_ERR_NOMEM || r == ZT_ERR_PROTOCOL) {
			snprintf(err, sizeof(err), "The zt broker's answer could not be read: %s",
			    zt_strerror(r));
			job_error(j, CLI_MCP_ERR_BROKER, err);
			break;
		}
		/* The stream ended before the response: resume it (a stateless
		 * request's stream cannot be). */
		if (cli_sse_last_id(p)[0] == '\0' || j->ver != NULL) {
			job_error(j, CLI_MCP_ERR_BROKER, "The zt broker's stream ended before the "
			    "response, without an event id to resume from");
			break;
		}
		delay = retry_delay(p);
		if (fails > 0) {
			delay = delay > (500L << fails) ? delay : (500L << fails);
		}
		if (nap(sh, delay)) {
			break;
		}
		if ((r = target_get(sh, &t2, err, sizeof(err))) != 0) {
			job_error(j, CLI_MCP_ERR_LOGIN, err);
			break;
		}
		/* The stream belongs to the session the request went to (an
		 * initialize: the one its answer created). */
		snprintf(t2.sid, sizeof(t2.sid), "%s", j->is_init ? sid : t->sid);
		memcpy(t2.version, t->version, sizeof(t2.version));
		r = open_mcp(&t2, "GET", NULL, 0, cli_sse_last_id(p), sp, err, sizeof(err));
		target_clear(&t2);
		status = r == 0 ? cli_stream_status(*sp) : 0;
		if (r == 0 && status == 200 && cli_stream_is_type(*sp, "text/event-stream")) {
			log_debug("mcp: resumed a stream after event %s", cli_sse_last_id(p));
			cli_sse_reset(p);
			fails = 0;
			continue;
		}
		if (r == 0 && status == 401) {
			auth_refused(sh, j, *sp);
			break;
		}
		if (r == 0 && status >= 400 && status < 500) {
			http_refused(j, *sp, status);
			break;
		}
		cli_stream_close(*sp);
		*sp = NULL;
		if (++fails >= RESUME_TRIES) {
			say(why, sizeof(why), "The zt broker's stream ended before the response "
			    "and could not be resumed: %s", r != 0 ? err : "unexpected answer");
			job_error(j, CLI_MCP_ERR_BROKER, why);
			break;
		}
		log_info("mcp: resuming a stream failed (%s); trying again",
		    r != 0 ? err : "unexpected answer");
	}
	cli_stream_close(*sp);
	*sp = NULL;
	cli_sse_free(p);
}

static int renew_session(struct shim *sh, uint64_t gen);

/* Relays one message with POST and passes on what comes back. */
static void relay(struct job *j)
{
	struct shim *sh = j->sh;
	char err[ERR_MAX], sid[SID_MAX + 1];
	struct relay_ctx c;
	struct cli_stream *s = NULL;
	struct target t;
	int attempt, status = 0, r;
	struct buf *b = NULL;

	memset(&t, 0, sizeof(t));
	for (attempt = 0; attempt < 2; attempt++) {
		cli_stream_close(s);
		s = NULL;
		target_clear(&t);
		if (target_get(sh, &t, err, sizeof(err)) != 0) {
			job_error(j, CLI_MCP_ERR_LOGIN, err);
			goto out;
		}
		if (j->is_init) {
			/* A new session: no id or version of an old one. */
			t.sid[0] = '\0';
			t.version[0] = '\0';
		}
		if (j->ver != NULL) {
			/* Stateless: its own version and names, no session. */
			t.sid[0] = '\0';
			snprintf(t.version, sizeof(t.version), "%s", j->ver);
			t.mcp_method = j->method;
			t.mcp_name = j->name;
		}
		if (open_mcp(&t, "POST", j->text, j->len, NULL, &s, err, sizeof(err)) != 0) {
			job_error(j, CLI_MCP_ERR_BROKER, err);
			goto out;
		}
		status = cli_stream_status(s);
		/* The broker forgot the session: start a new one, once. */
		if (status != 404 || t.sid[0] == '\0' || j->quiet ||
		    renew_session(sh, t.gen) != 0) {
			break;
		}
	}
	if (status == 401) {
		auth_refused(sh, j, s);
		goto out;
	}
	if (status < 200 || status > 299) {
		http_refused(j, s, status);
		goto out;
	}
	if (cli_stream_header(s, "Mcp-Session-Id", sid, sizeof(sid)) != 0) {
		sid[0] = '\0';
	}
	if (cli_stream_is_type(s, "text/event-stream")) {
		relay_sse(sh, j, &t, sid, &s);
		goto out;
	}
	if ((b = buf_new(CLI_MCP_LINE_MAX)) == NULL) {
		job_error(j, CLI_MCP_ERR_BROKER, "ztctl is out of memory");
		goto out;
	}
	if ((r = cli_stream_read_all(s, b, err, sizeof(err))) != 0) {
		job_error(j, CLI_MCP_ERR_BROKER, err);
		goto out;
	}
	/* Back to the pool before the client sees the answer (relay_ctx). */
	cli_stream_close(s);
	s = NULL;
	if (buf_len(b) == 0) {
		/* 202 for a notification or a response; nothing to pass on. */
		if (j->id != NULL) {
			job_error(j, CLI_MCP_ERR_BROKER, "The zt broker accepted the request "
			    "but sent no response");
		}
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.sh = sh;
	c.j = j;
	c.sid = sid;
	on_message(&c, buf_ptr(b), buf_len(b));
	release_held(&c);
	if (j->id != NULL && !c.done) {
		job_error(j, CLI_MCP_ERR_BROKER, "The zt broker's answer is not the response to "
		    "this request");
	}
out:
	buf_free(b);
	cli_stream_close(s);
	target_clear(&t);
}

/* The broker answered 404 to the session gen: replays the client's
 * initialize and notifications/initialized, unless another thread did
 * already. 0 when there is a session to retry with. */
static int renew_session(struct shim *sh, uint64_t gen)
{
	struct job init, note;
	int r = ZT_ERR_NOT_FOUND;

	memset(&init, 0, sizeof(init));
	memset(&note, 0, sizeof(note));
	pthread_mutex_lock(&sh->mu);
	while (sh->renewing && !sh->stopping) {
		pthread_cond_wait(&sh->cv, &sh->mu);
	}
	if (sh->gen != gen) {
		r = 0; /* renewed meanwhile */
		goto unlock;
	}
	if (sh->stopping || sh->init_msg == NULL ||
	    (init.text = strdup(sh->init_msg)) == NULL ||
	    (sh->initialized_msg != NULL && (note.text = strdup(sh->initialized_msg)) == NULL)) {
		goto unlock;
	}
	sh->renewing = 1;
	pthread_mutex_unlock(&sh->mu);

	log_info("mcp: the broker no longer knows the MCP session; starting a new one");
	init.sh = sh;
	init.len = strlen(init.text);
	init.is_init = 1;
	init.quiet = 1;
	if (json_parse(init.text, init.len, CLI_MCP_LINE_MAX, JSON_DEPTH, &init.id) == 0) {
		cJSON *id = cJSON_DetachItemFromObjectCaseSensitive(init.id, "id");

		cJSON_Delete(init.id);
		init.id = id;
	}
	relay(&init);
	pthread_mutex_lock(&sh->mu);
	r = sh->gen != gen && sh->sid[0] != '\0' ? 0 : ZT_ERR_NOT_FOUND;
	pthread_mutex_unlock(&sh->mu);
	if (r == 0 && note.text != NULL) {
		note.sh = sh;
		note.len = strlen(note.text);
		note.quiet = 1;
		relay(&note);
	}
	pthread_mutex_lock(&sh->mu);
	sh->renewing = 0;
	pthread_cond_broadcast(&sh->cv);
unlock:
	pthread_mutex_unlock(&sh->mu);
	free(init.text);
	free(note.text);
	cJSON_Delete(init.id);
	return r;
}

/* ---- threads ---- */

static void job_free(struct job *j)
{
	if (j == NULL) {
		return;
	}
	free(j->text);
	free(j->ver);
	free(j->method);
	free(j->name);
	cJSON_Delete(j->id);
	free(j);
}

static void *relay_main(void *arg)
{
	struct job *j = arg;

	relay(j);
	job_free(j);
	return NULL;
}

static long next_backoff(long ms)
{
	return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* The session's standalone GET stream: messages the broker starts itself. */
static void *standalone_main(void *arg)
{
	struct shim *sh = arg;
	struct cli_sse *p = cli_sse_new(CLI_MCP_LINE_MAX);
	struct cli_stream *s = NULL;
	struct relay_ctx c;
	struct target t;
	char err[ERR_MAX];
	uint64_t gen = 0;
	long backoff = RETRY_DEFAULT_MS, delay;
	int resume = 0, r, status;

	while (p != NULL && !stopping(sh)) {
		if (target_get(sh, &t, err, sizeof(err)) != 0) {
			/* Logged out meanwhile: wait for a login. */
			log_debug("mcp: standalone stream waits: %s", err);
			if (nap(sh, BACKOFF_MAX_MS)) {
				break;
			}
			continue;
		}
		if (t.sid[0] == '\0') {
			target_clear(&t);
			break;
		}
		if (t.gen != gen) {
			/* A new session: its stream starts afresh. */
			gen = t.gen;
			resume = 0;
			cli_sse_free(p);
			if ((p = cli_sse_new(CLI_MCP_LINE_MAX)) == NULL) {
				target_clear(&t);
				break;
			}
		}
		r = open_mcp(&t, "GET", NULL, 0, resume ? cli_sse_last_id(p) : NULL, &s, err,
		    sizeof(err));
		status = r == 0 ? cli_stream_status(s) : 0;
		if (r == 0 && status == 405) {
			log_debug("mcp: the broker offers no standalone stream");
			target_clear(&t);
			break;
		}
		if (r == 0 && status == 404 && renew_session(sh, t.gen) == 0) {
			backoff = RETRY_DEFAULT_MS;
		} else if (r == 0 && status == 401) {
			auth_refused(sh, NULL, s);
		} else if (r == 0 && status == 200 && cli_stream_is_type(s, "text/event-stream")) {
			memset(&c, 0, sizeof(c));
			c.sh = sh;
			c.gen = gen;
			cli_sse_reset(p);
			log_debug("mcp: standalone stream open");
			r = pump(&c, s, p);
			/* A stream the broker ended is over; one that broke is resumed. */
			resume = r != 0 && cli_sse_last_id(p)[0] != '\0';
			delay = retry_delay(p);
			if (c.events == 0) {
				delay = delay > backoff ? delay : backoff;
				backoff = next_backoff(backoff);
			} else {
				backoff = RETRY_DEFAULT_MS;
			}
			cli_stream_close(s);
			s = NULL;
			target_clear(&t);
			if (nap(sh, delay)) {
				break;
			}
			continue;
		} else {
			log_info("mcp: the standalone stream failed (%s); trying again",
			    r != 0 ? err : "unexpected answer");
		}
		cli_stream_close(s);
		s = NULL;
		target_clear(&t);
		if (nap(sh, backoff)) {
			break;
		}
		backoff = next_backoff(backoff);
	}
	cli_stream_close(s);
	cli_sse_free(p);
	pthread_mutex_lock(&sh->mu);
	sh->standalone_running = 0;
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

static void *thr_main(void *arg)
{
	struct thr *th = arg;
	struct shim *sh = th->sh;

	th->fn(th->arg);
	pthread_mutex_lock(&sh->mu);
	th->done = 1;
	sh->workers--;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* Joins the threads that have finished. */
static void reap(struct shim *sh)
{
	struct thr **pp, *th, *done = NULL;

	pthread_mutex_lock(&sh->mu);
	for (pp = &sh->threads; (th = *pp) != NULL;) {
		if (th->done) {
			*pp = th->next;
			th->next = done;
			done = th;
		} else {
			pp = &th->next;
		}
	}
	pthread_mutex_unlock(&sh->mu);
	for (; done != NULL; done = th) {
		th = done->next;
		pthread_join(done->t, NULL);
		free(done);
	}
}

/* Starts fn(arg) in a thread counted in sh->workers, waiting while
 * CLI_MCP_INFLIGHT_MAX are running. ZT_ERR_INTERNAL or ZT_ERR_NOMEM if no
 * thread could be made (arg is then still the caller's). */
static int spawn(struct shim *sh, void *(*fn)(void *), void *arg)
{
	struct thr *th = calloc(1, sizeof(*th));

	reap(sh);
	if (th == NULL) {
		return ZT_ERR_NOMEM;
	}
	th->sh = sh;
	th->fn = fn;
	th->arg = arg;
	pthread_mutex_lock(&sh->mu);
	while (sh->workers >= CLI_MCP_INFLIGHT_MAX) {
		pthread_cond_wait(&sh->cv, &sh->mu);
	}
	if (pthread_create(&th->t, NULL, thr_main, th) != 0) {
		pthread_mutex_unlock(&sh->mu);
		free(th);
		return ZT_ERR_INTERNAL;
	}
	sh->workers++;
	th->next = sh->threads;
	sh->threads = th;
	pthread_mutex_unlock(&sh->mu);
	return 0;
}

/* ---- the client's messages ---- */

/* Keeps a copy of text in *slot (for a renewal). */
static void remember(struct shim *sh, char **slot, const char *text)
{
	char *copy = strdup(text);

	pthread_mutex_lock(&sh->mu);
	free(*slot);
	*slot = copy;
	pthread_mutex_unlock(&sh->mu);
}

/* A message of the stateless era (2026-07-28) carries its version in
 * params._meta: then j gets it, the method and the name its Mcp-Name
 * header carries (a tool's or prompt's name, a resource's uri, a task's
 * id). 0, or ZT_ERR_NOMEM. */
static int stateless_job(struct job *j, const cJSON *msg, const char *method)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(meta,
	    "io.modelcontextprotocol/protocolVersion"), *nm = NULL;
	static const char *const keys[] = { "name", "uri", "taskId" };

	if (!cJSON_IsString(ver) || !visible(ver->valuestring, VERSION_MAX)) {
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && nm == NULL; i++) {
		nm = cJSON_GetObjectItemCaseSensitive(params, keys[i]);
		nm = cJSON_IsString(nm) ? nm : NULL;
	}
	if ((j->ver = strdup(ver->valuestring)) == NULL || (j->method = strdup(method)) == NULL ||
	    (nm != NULL && (j->name = strdup(nm->valuestring)) == NULL)) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static void handle_line(struct shim *sh, char *line, size_t n)
{
	struct job *j = NULL;
	const cJSON *method, *id;
	char why[ERR_MAX];
	cJSON *msg = NULL;
	int usable, run_here = 0, start_stream = 0;

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r')) {
		n--;
	}
	while (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		line++;
		n--;
	}
	if (n == 0) {
		return;
	}
	if (json_parse(line, n, CLI_MCP_LINE_MAX, JSON_DEPTH, &msg) != 0) {
		out_error(sh, NULL, -32700, "Parse error: the line is not JSON", NULL);
		return;
	}
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	if (!cJSON_IsObject(msg) || (method != NULL && !cJSON_IsString(method)) ||
	    (method == NULL && id == NULL)) {
		out_error(sh, NULL, -32600, "Invalid Request: expected one JSON-RPC message object",
		    NULL);
		goto out;
	}
	pthread_mutex_lock(&sh->mu);
	usable = session_usable(sh, why, sizeof(why)) == 0;
	pthread_mutex_unlock(&sh->mu);
	if (!usable) {
		if (method != NULL && id != NULL) {
			out_error(sh, id, CLI_MCP_ERR_LOGIN, why, NULL);
		} else {
			log_info("mcp: dropped a notification or response: not logged in");
		}
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->text = strndup(line, n)) == NULL ||
	    (method != NULL && id != NULL && (j->id = cJSON_Duplicate(id, 1)) == NULL)) {
		if (method != NULL && id != NULL) {
			out_error(sh, id, CLI_MCP_ERR_BROKER, "ztctl is out of memory", NULL);
		}
		goto out;
	}
	j->sh = sh;
	j->len = n;
	if (method != NULL && stateless_job(j, msg, method->valuestring) != 0) {
		if (id != NULL) {
			out_error(sh, id, CLI_MCP_ERR_BROKER, "ztctl is out of memory", NULL);
		}
		goto out;
	}
	if (j->ver != NULL) {
		/* Stateless: no session to wait for, nothing in order. */
	} else if (method != NULL && strcmp(method->valuestring, "initialize") == 0 &&
	    id != NULL) {
		j->is_init = 1;
		run_here = 1;
		remember(sh, &sh->init_msg, j->text);
	} else if (method != NULL && id == NULL &&
	    strcmp(method->valuestring, "notifications/initialized") == 0) {
		run_here = 1;
		start_stream = 1;
		remember(sh, &sh->initialized_msg, j->text);
	}
	if (run_here) {
		/* In order, on this thread: what follows needs the session. */
		relay(j);
	} else if (spawn(sh, relay_main, j) == 0) {
		j = NULL;
	} else {
		relay(j);
	}
	if (start_stream) {
		pthread_mutex_lock(&sh->mu);
		start_stream = !sh->standalone && sh->sid[0] != '\0';
		sh->standalone |= start_stream;
		sh->standalone_running |= start_stream;
		pthread_mutex_unlock(&sh->mu);
		if (start_stream && spawn(sh, standalone_main, sh) != 0) {
			log_warn("mcp: cannot start the standalone stream's thread");
			pthread_mutex_lock(&sh->mu);
			sh->standalone_running = 0;
			pthread_mutex_unlock(&sh->mu);
		}
	}
out:
	job_free(j);
	cJSON_Delete(msg);
}

/* Reads standard input to its end, handing each line over; a line longer
 * than CLI_MCP_LINE_MAX is answered with -32600 and skipped. */
static void read_input(struct shim *sh)
{
	static const char too_long[] = "Invalid Request: message longer than the limit of 4 MiB";
	char *line = malloc(CLI_MCP_LINE_MAX + 1), *in = malloc(IN_CHUNK), *nl;
	size_t len = 0, off, seg;
	int skipping = 0;
	ssize_t got;

	if (line == NULL || in == NULL) {
		log_error("mcp: out of memory");
		goto out;
	}
	for (;;) {
		got = read(sh->in_fd, in, IN_CHUNK);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			if (got < 0) {
				log_warn("mcp: reading standard input failed: %s", strerror(errno));
			}
			break;
		}
		for (off = 0; off < (size_t)got; off += seg) {
			nl = memchr(in + off, '\n', (size_t)got - off);
			seg = nl != NULL ? (size_t)(nl - (in + off)) : (size_t)got - off;
			if (!skipping && seg > CLI_MCP_LINE_MAX - len) {
				skipping = 1;
			}
			if (!skipping) {
				memcpy(line + len, in + off, seg);
				len += seg;
			}
			if (nl == NULL) {
				continue;
			}
			seg++; /* the newline */
			if (skipping) {
				out_error(sh, NULL, -32600, too_long, NULL);
			} else {
				handle_line(sh, line, len);
			}
			len = 0;
			skipping = 0;
		}
	}
	if (skipping) {
		out_error(sh, NULL, -32600, too_long, NULL);
	} else if (len > 0) {
		handle_line(sh, line, len);
	}
out:
	free(line);
	free(in);
}

/* Ends the broker's session, if there is one. */
static void end_session(struct shim *sh)
{
	struct cli_stream *s = NULL;
	struct target t;
	char err[ERR_MAX];

	if (target_get(sh, &t, err, sizeof(err)) != 0) {
		return;
	}
	if (t.sid[0] != '\0') {
		if (open_mcp(&t, "DELETE", NULL, 0, NULL, &s, err, sizeof(err)) != 0) {
			log_debug("mcp: ending the session: %s", err);
		} else {
			log_debug("mcp: session ended (HTTP %d)", cli_stream_status(s));
		}
	}
	cli_stream_close(s);
	target_clear(&t);
}

int cli_mcp_run(int in_fd, int out_fd, const char *dir)
{
	struct shim *sh = calloc(1, sizeof(*sh));
	pthread_condattr_t ca;
	int64_t t0, deadline;
	int left, fd = -1;

	if (sh == NULL || strlen(dir) >= sizeof(sh->dir) || (fd = dup(out_fd)) < 0 ||
	    (sh->out = fdopen(fd, "w")) == NULL) {
		log_error("mcp: cannot set up: %s", sh == NULL ? "out of memory" : strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		free(sh);
		return CLI_EXIT_FAIL;
	}
	sh->in_fd = in_fd;
	memcpy(sh->dir, dir, strlen(dir) + 1);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_mutex_init(&sh->out_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->cv, &ca);
	pthread_condattr_destroy(&ca);

	read_input(sh);

	/* The client is gone: let relays under way finish briefly, end the
	 * session (which also ends its streams), then wait for the rest. */
	t0 = net_mono_ms();
	deadline = t0 + CLI_MCP_DRAIN_MS;
	pthread_mutex_lock(&sh->mu);
	sh->stopping = 1;
	pthread_cond_broadcast(&sh->cv);
	while (sh->workers > sh->standalone_running && net_mono_ms() < t0 + POST_DRAIN_MS) {
		wait_until(sh, t0 + POST_DRAIN_MS);
	}
	pthread_mutex_unlock(&sh->mu);
	end_session(sh);
	pthread_mutex_lock(&sh->mu);
	while (sh->workers > 0 && net_mono_ms() < deadline) {
		wait_until(sh, deadline);
	}
	left = sh->workers;
	pthread_mutex_unlock(&sh->mu);
	reap(sh);
	if (left > 0) {
		/* A relay is stuck on a broker that stopped answering: do not keep
		 * the client waiting, and do not free what it still uses. Holding
		 * the output lock means no message is cut mid-line. */
		log_info("mcp: %d relay(s) still running at exit", left);
		pthread_mutex_lock(&sh->out_mu);
		_exit(CLI_EXIT_OK);
	}
	fclose(sh->out);
	cli_profile_free(sh->prof);
	free(sh->init_msg);
	free(sh->initialized_msg);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->out_mu);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
	return CLI_EXIT_OK;
}

/* ---- ztctl mcp config ---- */

/* s as a JSON string literal (quoted, escaped); caller frees. */
static char *json_quote(const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	char *text = v != NULL ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	return text;
}

static int mcp_config(void)
{
	char self[PATH_MAX], dir[CLI_PROFILE_PATH_MAX], err[ERR_MAX], url[CLI_PROFILE_STR_MAX + 8];
	char cmd[CLI_PROFILE_STR_MAX * 3 + 64];
	struct cli_profile *p = NULL;
	char *qself = NULL, *qurl = NULL;
	ssize_t n;
	int r = CLI_EXIT_FAIL;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		snprintf(self, sizeof(self), "ztctl");
	} else {
		self[n] = '\0';
	}
	if (cli_profile_dir(dir, sizeof(dir)) != 0 ||
	    cli_profile_load(dir, &p, err, sizeof(err)) != 0) {
		p = NULL;
	}
	snprintf(url, sizeof(url), "%s", p != NULL ? p->broker : "https://BROKER:8443");
	if (url[0] != '\0' && url[strlen(url) - 1] == '/') {
		url[strlen(url) - 1] = '\0';
	}
	strncat(url, MCP_PATH, sizeof(url) - strlen(url) - 1);
	if ((qself = json_quote(self)) == NULL || (qurl = json_quote(url)) == NULL) {
		fprintf(stderr, "ztctl: out of memory\n");
		goto out;
	}
	login_cmd(p, cmd, sizeof(cmd));
	printf("`ztctl mcp` is an MCP server on standard input and output that relays to the zt\n"
	    "broker as the user logged in with ztctl. Log in first, and again when the session\n"
	    "expires (the AI client then shows an error saying so):\n\n  %s\n\n", cmd);
	printf("Claude Desktop (claude_desktop_config.json), Claude Code (.mcp.json),\n"
	    "Cursor (.cursor/mcp.json) and most other clients:\n\n"
	    "{\n  \"mcpServers\": {\n    \"zt\": {\n      \"command\": %s,\n"
	    "      \"args\": [\"mcp\"]\n    }\n  }\n}\n\n", qself);
	printf("VS Code (.vscode/mcp.json):\n\n"
	    "{\n  \"servers\": {\n    \"zt\": {\n      \"type\": \"stdio\",\n"
	    "      \"command\": %s,\n      \"args\": [\"mcp\"]\n    }\n  }\n}\n\n", qself);
	printf("Without ztctl, clients that speak MCP Streamable HTTP can reach the broker\n"
	    "directly with a bearer token (for bots: `ztbroker admin bots add`). The broker's\n"
	    "certificate comes from zt's own CA, which the client must trust (for clients\n"
	    "built on Node: NODE_EXTRA_CA_CERTS=tls-ca.crt from the broker's data dir):\n\n"
	    "{\n  \"mcpServers\": {\n    \"zt\": {\n      \"type\": \"http\",\n"
	    "      \"url\": %s,\n      \"headers\": { \"Authorization\": \"Bearer ${ZT_TOKEN}\" }\n"
	    "    }\n  }\n}\n", qurl);
	r = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(qself);
	free(qurl);
	cli_profile_free(p);
	return r;
}

static const char *const usage_mcp =
    "usage: ztctl mcp            serve MCP on standard input/output (for AI clients)\n"
    "       ztctl mcp config     print configuration snippets for AI clients\n";

int cli_cmd_mcp(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX];

	if (argc == 2 && strcmp(argv[1], "config") == 0) {
		return mcp_config();
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_mcp, stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 1) {
		fputs(usage_mcp, stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_profile_dir(dir, sizeof(dir)) != 0) {
		/* Still serve: every request is told how to log in. */
		snprintf(dir, sizeof(dir), "/nonexistent");
	}
	return cli_mcp_run(STDIN_FILENO, STDOUT_FILENO, dir);
}
