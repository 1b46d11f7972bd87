/*
 * rdp_main.c - ztrdp, the RDP helper: one process drives one RDP session
 * for ztagent (agent/agt_desk.c), so FreeRDP's logging and crashes stay out
 * of the agent.
 *
 * Requests come as desktop-protocol frames (tunnel/desk.h) on stdin, one
 * answer frame per request, in order, on stdout: connect, screenshot (a PNG
 * body), input, close. Between requests the helper keeps servicing the RDP
 * connection. stderr carries only its own short log lines (FreeRDP's only
 * with ZT_RDP_DEBUG=1); nothing secret is on argv or in any output. Exit
 * status: 0 after close or EOF, 1 after the server dropped the session, 2
 * after a malformed frame (the stream cannot be trusted to be in step).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rdp/rdp_client.h"
#include "common/err.h"
#include "common/proc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "common/tls.h"
#include "common/version.h"
#include "resources/rdp_input.h"
#include "tunnel/desk.h"

#define REQ_WAIT_MS 10000     /* for the rest of a request once its first byte came */
#define IDLE_SLICE_MS 1000    /* servicing between requests */
#define HOST_MAX 255
#define USER_MAX 256
#define PASSWORD_MAX 512
#define DESK_DIM_MIN 200
#define DESK_DIM_MAX 8192
#define CONNECT_TIMEOUT_MAX 120000
#define EVENTS_MAX 10000
#define WAIT_EVENT_MAX_MS 1000
#define WHEEL_NOTCHES_MAX 20

struct helper {
	int out;               /* the answer stream (stdout's original fd) */
	struct rdp_client *c;
	int connected;
	double scale;          /* of the last screenshot */
};

static int answer(struct helper *h, cJSON *head, const void *body, size_t len)
{
	int rc;

	if (head == NULL) {
		return ZT_ERR_NOMEM;
	}
	rc = desk_write(h->out, head, body, len);
	cJSON_Delete(head);
	return rc;
}

/* An answer of a head alone: a failure (desk_failure; NULL is ZT_ERR_NOMEM). */
static int reply(struct helper *h, cJSON *head)
{
	return answer(h, head, NULL, 0);
}

static const char *code_of(int rc)
{
	switch (rc) {
	case ZT_ERR_PIN:
		return "certificate";
	case ZT_ERR_AUTH:
		return "auth";
	case ZT_ERR_NET:
		return "unreachable";
	case ZT_ERR_TIMEOUT:
		return "timeout";
	case ZT_ERR_OFFLINE:
		return "disconnected";
	default:
		return "protocol";
	}
}

/* The connect request as options; a sentence naming the bad field in why. */
static int parse_connect(const cJSON *req, struct rdp_connect_opts *o, char *why, size_t whysz)
{
	const char *sec = NULL, *pin = NULL;
	int64_t port, w, hgt, t;

	memset(o, 0, sizeof(*o));
	if (json_get_str(req, "host", HOST_MAX, 0, &o->host) != 0) {
		snprintf(why, whysz, "connect needs host (a string)");
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_int_opt(req, "port", 1, 65535, 3389, &port) != 0) {
		snprintf(why, whysz, "port must be an integer in 1..65535");
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_str(req, "username", USER_MAX, 0, &o->username) != 0) {
		snprintf(why, whysz, "connect needs username (a string)");
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_str_opt(req, "password", PASSWORD_MAX, 1, NULL, &o->password) != 0 ||
	    json_get_str_opt(req, "nla_hash", DESK_NLA_HASH_LEN, 0, NULL, &o->nla_hash) != 0 ||
	    (o->password == NULL) == (o->nla_hash == NULL)) {
		snprintf(why, whysz, "connect needs password or nla_hash (strings), not both");
		return ZT_ERR_PROTOCOL;
	}
	if (o->nla_hash != NULL && desk_nla_hash_valid(o->nla_hash) != 0) {
		snprintf(why, whysz, "nla_hash must be %d hex digits", DESK_NLA_HASH_LEN);
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_str_opt(req, "domain", USER_MAX, 1, "", &o->domain) != 0) {
		snprintf(why, whysz, "domain must be a string");
		return ZT_ERR_PROTOCOL;
	}
	/* The agent sends the pin its resource list holds, which the tunnel
	 * already checked the same way (lower-case hex). */
	if (json_get_str(req, "cert_pin", TLS_PIN_LEN, 0, &pin) != 0 || tls_pin_valid(pin) != 0) {
		snprintf(why, whysz, "connect needs cert_pin as sha256:<64 lower-case hex digits>");
		return ZT_ERR_PROTOCOL;
	}
	memcpy(o->pin, pin + TLS_PIN_LEN - RDP_PIN_HEX, RDP_PIN_HEX);
	if (json_get_str_opt(req, "security", 8, 0, "any", &sec) != 0) {
		snprintf(why, whysz, "security must be nla, tls or any");
		return ZT_ERR_PROTOCOL;
	}
	if (strcmp(sec, "nla") == 0) {
		o->security = RDP_SEC_NLA;
	} else if (strcmp(sec, "tls") == 0) {
		o->security = RDP_SEC_TLS;
	} else if (strcmp(sec, "any") == 0) {
		o->security = RDP_SEC_ANY;
	} else {
		snprintf(why, whysz, "security must be nla, tls or any");
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_int_opt(req, "width", DESK_DIM_MIN, DESK_DIM_MAX, 1024, &w) != 0 ||
	    json_get_int_opt(req, "height", DESK_DIM_MIN, DESK_DIM_MAX, 768, &hgt) != 0) {
		snprintf(why, whysz, "width and height must be integers in %d..%d", DESK_DIM_MIN,
		    DESK_DIM_MAX);
		return ZT_ERR_PROTOCOL;
	}
	if (json_get_int_opt(req, "timeout_ms", 100, CONNECT_TIMEOUT_MAX, 10000, &t) != 0) {
		snprintf(why, whysz, "timeout_ms must be an integer in 100..%d", CONNECT_TIMEOUT_MAX);
		return ZT_ERR_PROTOCOL;
	}
	o->port = (uint16_t)port;
	o->width = (uint32_t)w;
	o->height = (uint32_t)hgt;
	o->timeout_ms = (int)t;
	return 0;
}

static int op_connect(struct helper *h, const cJSON *req)
{
	struct rdp_connect_opts o;
	char why[RDP_WHY_MAX];
	int64_t t0 = net_mono_ms();
	uint32_t w = 0, hgt = 0;
	cJSON *a;
	int rc;

	if (h->connected) {
		return reply(h, desk_failure("protocol", "this session is already connected"));
	}
	if (parse_connect(req, &o, why, sizeof(why)) != 0) {
		return reply(h, desk_failure("protocol", "%s", why));
	}
	rc = rdp_client_connect(h->c, &o, &w, &hgt, why, sizeof(why));
	if (rc != 0) {
		log_info("connect to %s:%u as %s failed: %s", o.host, o.port, o.username, why);
		/* FreeRDP keeps state from a failed try: the next one starts over. */
		rdp_client_free(h->c);
		h->c = NULL;
		if (rdp_client_new(&h->c) != 0) {
			(void)reply(h, desk_failure(code_of(rc), "%s", why));
			return ZT_ERR_NOMEM;
		}
		return reply(h, desk_failure(code_of(rc), "%s", why));
	}
	h->connected = 1;
	h->scale = 1.0;
	log_info("connected to %s:%u as %s: %ux%u in %lld ms", o.host, o.port, o.username, w, hgt,
	    (long long)(net_mono_ms() - t0));
	a = cJSON_CreateObject();
	if (a != NULL && (!cJSON_AddTrueToObject(a, "ok") || !cJSON_AddNumberToObject(a, "width", w) ||
	        !cJSON_AddNumberToObject(a, "height", hgt) ||
	        !cJSON_AddNumberToObject(a, "connect_ms", (double)(net_mono_ms() - t0)))) {
		cJSON_Delete(a);
		a = NULL;
	}
	return answer(h, a, NULL, 0);
}

static int op_screenshot(struct helper *h, const cJSON *req)
{
	struct rdp_png png = { 0 };
	char why[RDP_WHY_MAX];
	int64_t t0 = net_mono_ms(), mw;
	cJSON *a;
	int rc;

	/* What the broker takes (a bound: past the desktop's width is full size). */
	if (json_get_int_opt(req, "max_width", 0, RDP_INPUT_COORD_MAX, 0, &mw) != 0) {
		return reply(h, desk_failure("protocol", "max_width must be an integer in 0..%d",
		    RDP_INPUT_COORD_MAX));
	}
	rc = rdp_client_screenshot(h->c, (uint32_t)mw, &png, why, sizeof(why));
	if (rc != 0) {
		return rc == ZT_ERR_OFFLINE ? rc : reply(h, desk_failure("protocol", "%s", why));
	}
	h->scale = png.scale;
	a = cJSON_CreateObject();
	if (a != NULL && (!cJSON_AddTrueToObject(a, "ok") ||
	        !cJSON_AddNumberToObject(a, "width", png.width) ||
	        !cJSON_AddNumberToObject(a, "height", png.height) ||
	        !cJSON_AddNumberToObject(a, "scale", png.scale) ||
	        !cJSON_AddStringToObject(a, "format", "png") ||
	        !cJSON_AddNumberToObject(a, "ms", (double)(net_mono_ms() - t0)))) {
		cJSON_Delete(a);
		a = NULL;
	}
	rc = answer(h, a, png.data, png.len);
	rdp_png_clear(&png);
	return rc;
}

/* x, y of e (screenshot pixels, as far as the broker takes them) in desktop
 * pixels, clamped. */
static int event_xy(const struct helper *h, const cJSON *e, struct rdp_event *ev)
{
	uint32_t w, hgt;
	int64_t x, y;
	double dx, dy;

	if (json_get_int(e, "x", 0, RDP_INPUT_COORD_MAX, &x) != 0 ||
	    json_get_int(e, "y", 0, RDP_INPUT_COORD_MAX, &y) != 0) {
		return ZT_ERR_PROTOCOL;
	}
	rdp_client_size(h->c, &w, &hgt);
	dx = (double)x / h->scale;
	dy = (double)y / h->scale;
	ev->x = (uint16_t)(dx >= w ? w - 1 : dx);
	ev->y = (uint16_t)(dy >= hgt ? hgt - 1 : dy);
	return 0;
}

/* One event of an input request; ZT_ERR_PROTOCOL when it is not one. */
static int parse_event(const struct helper *h, const cJSON *e, struct rdp_event *ev)
{
	const char *t = NULL, *b = NULL;
	int64_t v;
	int down;

	memset(ev, 0, sizeof(*ev));
	if (!cJSON_IsObject(e) || json_get_str(e, "t", 16, 0, &t) != 0) {
		return ZT_ERR_PROTOCOL;
	}
	if (strcmp(t, "move") == 0) {
		ev->t = RDP_EV_MOVE;
		return event_xy(h, e, ev);
	}
	if (strcmp(t, "button") == 0) {
		ev->t = RDP_EV_BUTTON;
		if (json_get_str(e, "b", 8, 0, &b) != 0 || json_get_bool(e, "down", &down) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		ev->down = down;
		if (strcmp(b, "left") == 0) {
			ev->button = 0;
		} else if (strcmp(b, "right") == 0) {
			ev->button = 1;
		} else if (strcmp(b, "middle") == 0) {
			ev->button = 2;
		} else {
			return ZT_ERR_PROTOCOL;
		}
		return event_xy(h, e, ev);
	}
	if (strcmp(t, "wheel") == 0) {
		int64_t wx, wy;

		ev->t = RDP_EV_WHEEL;
		if (json_get_int_opt(e, "dy", -WHEEL_NOTCHES_MAX, WHEEL_NOTCHES_MAX, 0, &wy) != 0 ||
		    json_get_int_opt(e, "dx", -WHEEL_NOTCHES_MAX, WHEEL_NOTCHES_MAX, 0, &wx) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		ev->dx = (int)wx;
		ev->dy = (int)wy;
		return event_xy(h, e, ev);
	}
	if (strcmp(t, "key") == 0) {
		ev->t = RDP_EV_KEY;
		if (json_get_int(e, "sc", 1, 255, &v) != 0 || json_get_bool(e, "down", &down) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		ev->code = (uint16_t)v;
		ev->down = down;
		if (json_get_bool_opt(e, "ext", 0, &ev->ext) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		return 0;
	}
	if (strcmp(t, "unicode") == 0) {
		ev->t = RDP_EV_UNICODE;
		if (json_get_int(e, "cp", 1, 0xffff, &v) != 0 || json_get_bool(e, "down", &down) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		ev->code = (uint16_t)v;
		ev->down = down;
		return 0;
	}
	if (strcmp(t, "wait") == 0) {
		ev->t = RDP_EV_WAIT;
		if (json_get_int(e, "ms", 0, WAIT_EVENT_MAX_MS, &v) != 0) {
			return ZT_ERR_PROTOCOL;
		}
		ev->ms = (int)v;
		return 0;
	}
	return ZT_ERR_PROTOCOL;
}

static int op_input(struct helper *h, const cJSON *req)
{
	const cJSON *arr = NULL, *e;
	struct rdp_event *evs = NULL;
	char why[RDP_WHY_MAX];
	int64_t t0 = net_mono_ms();
	size_t n = 0, i = 0;
	cJSON *a;
	int rc;

	if (json_get_arr(req, "events", EVENTS_MAX, &arr) != 0) {
		return reply(h, desk_failure("protocol", "input needs events (an array of at most %d)",
		    EVENTS_MAX));
	}
	n = (size_t)cJSON_GetArraySize(arr);
	evs = calloc(n ? n : 1, sizeof(*evs));
	if (evs == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_ArrayForEach(e, arr) {
		if (parse_event(h, e, &evs[i]) != 0) {
			rc = reply(h, desk_failure("protocol", "event %zu is not a valid input event", i));
			goto out;
		}
		if (evs[i].t == RDP_EV_UNICODE && !rdp_client_unicode_ok(h->c)) {
			rc = reply(h, desk_failure("protocol",
			    "event %zu: this RDP server does not take unicode key events", i));
			goto out;
		}
		i++;
	}
	rc = rdp_client_input(h->c, evs, n, why, sizeof(why));
	if (rc != 0) {
		goto out; /* ZT_ERR_OFFLINE: the caller answers */
	}
	a = cJSON_CreateObject();
	if (a != NULL && (!cJSON_AddTrueToObject(a, "ok") ||
	        !cJSON_AddNumberToObject(a, "ms", (double)(net_mono_ms() - t0)))) {
		cJSON_Delete(a);
		a = NULL;
	}
	rc = answer(h, a, NULL, 0);
out:
	free(evs);
	return rc;
}

/* Handles one request. 0 to go on, 1 to exit 0 (close), or an error:
 * ZT_ERR_OFFLINE (the session dropped: answered here, exit 1), others
 * (the answer stream failed: exit 2). */
static int handle(struct helper *h, const cJSON *req)
{
	const char *op = NULL;
	int rc;

	if (json_get_str(req, "op", 32, 0, &op) != 0) {
		return reply(h, desk_failure("protocol", "a request needs op (a string)"));
	}
	if (strcmp(op, "close") == 0) {
		cJSON *a = cJSON_CreateObject();

		if (a != NULL && !cJSON_AddTrueToObject(a, "ok")) {
			cJSON_Delete(a);
			a = NULL;
		}
		rc = answer(h, a, NULL, 0);
		return rc != 0 ? rc : 1;
	}
	if (strcmp(op, "connect") == 0) {
		return op_connect(h, req);
	}
	if (strcmp(op, "screenshot") != 0 && strcmp(op, "input") != 0) {
		return reply(h, desk_failure("protocol", "unknown op"));
	}
	if (!h->connected) {
		return reply(h, desk_failure("protocol", "not connected"));
	}
	if (!rdp_client_connected(h->c)) {
		rc = ZT_ERR_OFFLINE;
	} else if (strcmp(op, "screenshot") == 0) {
		rc = op_screenshot(h, req);
	} else {
		rc = op_input(h, req);
	}
	if (rc == ZT_ERR_OFFLINE) {
		(void)reply(h, desk_failure("disconnected", "the RDP server closed the session"));
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct helper h = { .out = -1, .scale = 1.0 };
	const char *dbg = getenv("ZT_RDP_DEBUG");
	int debug = dbg != NULL && strcmp(dbg, "1") == 0;
	int status = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("ztrdp %s\n", ZT_VERSION);
		return 0;
	}
	/* It holds a desktop's password while it connects, and the session
	 * after: no core file, no ptrace by the agent's user (execve cleared
	 * the agent's own flag). */
	if (proc_harden() != 0) {
		fprintf(stderr, "ztrdp: cannot make this process non-dumpable\n");
		return 2;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: ztrdp [--version] (requests come on stdin)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("ztrdp", debug ? ZT_LOG_DEBUG : ZT_LOG_INFO);
	/* Answers go to a private copy of stdout; fd 1 becomes stderr, so a
	 * stray printf in a library cannot break the frame stream. */
	h.out = dup(1);
	if (h.out < 0 || dup2(2, 1) < 0) {
		log_error("cannot set up the answer stream");
		return 2;
	}
	rdp_client_global_init(debug);
	if (rdp_client_new(&h.c) != 0) {
		log_error("out of memory");
		return 2;
	}
	for (;;) {
		struct desk_frame f;
		int rc;

		if (h.connected && rdp_client_connected(h.c)) {
			/* Keep the session alive until a request comes. */
			rc = rdp_client_wait(h.c, 0, IDLE_SLICE_MS);
			if (rc == 0) {
				continue;
			}
			if (rc < 0) {
				log_info("the RDP server closed the session");
			}
		}
		rc = desk_read(0, h.connected && rdp_client_connected(h.c) ? REQ_WAIT_MS : -1, &f);
		if (rc == ZT_ERR_OFFLINE) {
			status = 0;
			break;
		}
		if (rc != 0) {
			log_warn("bad request frame: %s", zt_strerror(rc));
			(void)reply(&h, desk_failure("protocol", "malformed request frame (%s)",
			    zt_strerror(rc)));
			status = 2;
			break;
		}
		rc = handle(&h, f.head);
		/* A connect head held a password. */
		json_wipe(f.head);
		desk_frame_clear(&f);
		if (rc == 1) {
			status = 0;
			break;
		}
		if (rc == ZT_ERR_OFFLINE) {
			status = 1;
			break;
		}
		if (rc != 0) {
			log_error("cannot answer: %s", zt_strerror(rc));
			status = 2;
			break;
		}
	}
	rdp_client_free(h.c);
	close(h.out);
	return status;
}
