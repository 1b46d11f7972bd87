/*
 * brk_rdp.c - the desktop tools' parse and run (brk_rdp.h).
 */
#include "broker/brk_rdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/brk.h"
#include "broker/brk_desks.h"
#include "broker/brk_dial.h"
#include "broker/brk_gate.h"
#include "broker/brk_recordings.h"
#include "broker/brk_sshconn.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "resources/rdp_input.h"
#include "tunnel/desk.h"
#include "tunnel/tun.h"

/* What parse made of a call, held for run. */
struct rdp_req {
	cJSON *events;            /* input events; NULL for rdp_screenshot */
	int screenshot;           /* a screenshot after the input (always for rdp_screenshot) */
	int64_t max_width;        /* 0: full size */
	const char *typed;        /* rdp_type's text or rdp_key's keys (borrowed), for the audit */
	const char *typed_key;    /* "text" or "keys" */
};

static void req_free(void *p)
{
	struct rdp_req *q = p;

	if (q != NULL) {
		cJSON_Delete(q->events);
		free(q);
	}
}

/* An optional integer argument in [min, max], or def; err says what a bad
 * one should be. */
static int opt_int(const cJSON *args, const char *key, int64_t min, int64_t max, int64_t def,
    int64_t *out, char *err, size_t errsz)
{
	if (json_get_int_opt(args, key, min, max, def, out) != 0) {
		snprintf(err, errsz, "%s must be an integer from %lld to %lld", key, (long long)min,
		    (long long)max);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* An optional boolean argument, false when not given. */
static int opt_bool(const cJSON *args, const char *key, int *out, char *err, size_t errsz)
{
	if (json_get_bool_opt(args, key, 0, out) != 0) {
		snprintf(err, errsz, "%s must be true or false", key);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* A required coordinate. */
static int coord(const cJSON *args, const char *key, int *out, char *err, size_t errsz)
{
	int64_t v;

	if (json_get_int(args, key, 0, RDP_INPUT_COORD_MAX, &v) != 0) {
		snprintf(err, errsz, "%s must be an integer from 0 to %d, in the pixels of the last "
		    "screenshot", key, RDP_INPUT_COORD_MAX);
		return ZT_ERR_INVALID;
	}
	*out = (int)v;
	return 0;
}

/* The events of c's tool from args into q. */
static int events_of(const char *tool, const cJSON *args, struct rdp_req *q, char *err,
    size_t errsz)
{
	const char *button = NULL;
	int x = 0, y = 0, x2 = 0, y2 = 0, dbl = 0;
	int64_t dx, dy;

	if (json_get_str_opt(args, "button", 8, 0, NULL, &button) != 0) {
		snprintf(err, errsz, "button must be left, right or middle");
		return ZT_ERR_INVALID;
	}
	if (strcmp(tool, "rdp_type") == 0 || strcmp(tool, "rdp_key") == 0) {
		const int text = strcmp(tool, "rdp_type") == 0;

		q->typed_key = text ? "text" : "keys";
		if (json_get_str(args, q->typed_key, text ? RDP_INPUT_TEXT_MAX : RDP_INPUT_COMBO_MAX,
		    0, &q->typed) != 0) {
			snprintf(err, errsz, "%s must be a non-empty string of at most %d bytes",
			    q->typed_key, text ? RDP_INPUT_TEXT_MAX : RDP_INPUT_COMBO_MAX);
			return ZT_ERR_INVALID;
		}
		return text ? rdp_input_text(q->typed, q->events, err, errsz) :
		    rdp_input_keys(q->typed, q->events, err, errsz);
	}
	if (coord(args, "x", &x, err, errsz) != 0 || coord(args, "y", &y, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (strcmp(tool, "rdp_click") == 0) {
		return opt_bool(args, "double", &dbl, err, errsz) != 0 ? ZT_ERR_INVALID :
		    rdp_input_click(x, y, button, dbl ? 2 : 1, q->events, err, errsz);
	}
	if (strcmp(tool, "rdp_move") == 0) {
		return rdp_input_move(x, y, q->events, err, errsz);
	}
	if (strcmp(tool, "rdp_drag") == 0) {
		return coord(args, "to_x", &x2, err, errsz) != 0 ||
		    coord(args, "to_y", &y2, err, errsz) != 0 ? ZT_ERR_INVALID :
		    rdp_input_drag(x, y, x2, y2, button, q->events, err, errsz);
	}
	/* rdp_scroll */
	if (opt_int(args, "dx", -RDP_INPUT_NOTCHES_MAX, RDP_INPUT_NOTCHES_MAX, 0, &dx, err,
	    errsz) != 0 || opt_int(args, "dy", -RDP_INPUT_NOTCHES_MAX, RDP_INPUT_NOTCHES_MAX, 0,
	    &dy, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	return rdp_input_scroll(x, y, (int)dx, (int)dy, q->events, err, errsz);
}

int brk_rdp_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const struct { const char *tool; const char *const keys[10]; } allowed[] = {
		{ "rdp_screenshot", { "host", "max_width", NULL } },
		{ "rdp_click", { "host", "x", "y", "button", "double", "screenshot", "max_width",
		    NULL } },
		{ "rdp_move", { "host", "x", "y", "screenshot", "max_width", NULL } },
		{ "rdp_drag", { "host", "x", "y", "to_x", "to_y", "button", "screenshot",
		    "max_width", NULL } },
		{ "rdp_scroll", { "host", "x", "y", "dx", "dy", "screenshot", "max_width", NULL } },
		{ "rdp_type", { "host", "text", "screenshot", "max_width", NULL } },
		{ "rdp_key", { "host", "keys", "screenshot", "max_width", NULL } },
	};
	const char *tool = c->tool->name;
	struct rdp_req *q = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) &&
	    strcmp(allowed[i].tool, tool) != 0; i++) {
	}
	if (i == sizeof(allowed) / sizeof(allowed[0])) {
		return ZT_ERR_INTERNAL;
	}
	if (brk_gate_only_keys(c, args, allowed[i].keys, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "host", TUN_NAME_MAX, 0, &c->host) != 0) {
		snprintf(err, errsz, "host must be the name of a desktop (list_hosts shows them)");
		return ZT_ERR_INVALID;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	c->held = q;
	c->release = req_free;
	if ((r = opt_int(args, "max_width", RDP_SHOT_WIDTH_MIN, RDP_INPUT_COORD_MAX, 0,
	    &q->max_width, err, errsz)) != 0) {
		return r;
	}
	if (strcmp(tool, "rdp_screenshot") == 0) {
		q->screenshot = 1;
		return 0;
	}
	if ((r = opt_bool(args, "screenshot", &q->screenshot, err, errsz)) != 0) {
		return r;
	}
	if ((q->events = cJSON_CreateArray()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return events_of(tool, args, q, err, errsz);
}

/* One request on the desktop stream fd, its answer into *ans. 0 when the
 * answer says ok; else an error with *msg (owned by *ans or static) the
 * sentence for the caller and *code the failure's code. */
static int desk_call(int fd, cJSON *head, struct desk_frame *ans, const char **code,
    const char **msg)
{
	int r, ok = 0;

	*code = "protocol";
	*msg = "the desktop's agent broke the protocol";
	memset(ans, 0, sizeof(*ans));
	if ((r = desk_write(fd, head, NULL, 0)) != 0 ||
	    (r = desk_read(fd, BRK_RDP_CALL_MS, ans)) != 0) {
		*code = r == ZT_ERR_TIMEOUT ? "timeout" : "disconnected";
		*msg = r == ZT_ERR_TIMEOUT ? "the desktop's agent did not answer in time" :
		    "the stream to the desktop's agent ended";
		return r != 0 ? r : ZT_ERR_IO;
	}
	if (json_get_bool(ans->head, "ok", &ok) == 0 && ok) {
		return 0;
	}
	(void)json_get_str(ans->head, "code", 32, 0, code);
	(void)json_get_str(ans->head, "message", DESK_MESSAGE_MAX, 0, msg);
	return ZT_ERR_NET;
}

/* A request head {op, session: the caller}. */
static cJSON *request(const struct brk_call *c, const char *op)
{
	cJSON *h = cJSON_CreateObject();

	if (h != NULL && (cJSON_AddStringToObject(h, "op", op) == NULL ||
	    cJSON_AddStringToObject(h, "session", c->who.actor) == NULL)) {
		cJSON_Delete(h);
		h = NULL;
	}
	return h;
}

/* What the outcome event says of the input: the text or keys, or only their
 * length when the deciding role redacts input. */
static void audit_input(struct brk_call *c, const struct rdp_req *q)
{
	char key[32];

	cJSON_AddNumberToObject(c->outcome, "events", cJSON_GetArraySize(q->events));
	if (q->typed == NULL) {
		return;
	}
	if (c->dec.redact_input) {
		snprintf(key, sizeof(key), "%s_bytes", q->typed_key);
		cJSON_AddNumberToObject(c->outcome, key, (double)strlen(q->typed));
		cJSON_AddBoolToObject(c->outcome, "redacted", 1);
	} else {
		cJSON_AddStringToObject(c->outcome, q->typed_key, q->typed);
	}
}

/* The screenshot in ans (head and PNG body) into *result, kept on disk
 * and described in the outcome. */
static int screenshot_result(struct brk_call *c, const struct desk_frame *ans, cJSON **result)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1], text[256];
	int64_t w = 0, h = 0;
	double scale = 1;
	const cJSON *sc_item = cJSON_GetObjectItemCaseSensitive(ans->head, "scale");
	char *b64 = NULL;
	cJSON *sc;
	int r;

	if (json_get_int(ans->head, "width", 1, RDP_INPUT_COORD_MAX, &w) != 0 ||
	    json_get_int(ans->head, "height", 1, RDP_INPUT_COORD_MAX, &h) != 0 ||
	    !cJSON_IsNumber(sc_item) || ans->body_len == 0 || ans->body_len > BRK_RDP_PNG_MAX ||
	    memcmp(ans->body, "\x89PNG", 4) != 0) {
		return ZT_ERR_PROTOCOL;
	}
	scale = sc_item->valuedouble;
	crypto_sha256(ans->body, ans->body_len, digest);
	crypto_hex(digest, sizeof(digest), hex, sizeof(hex));
	if ((r = brk_recordings_save(c->b, c->id, ".png", ans->body, ans->body_len)) != 0) {
		return r;
	}
	if ((b64 = crypto_b64_dup(ans->body, ans->body_len)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (*result == NULL && (*result = mcp_result_new(0)) == NULL) {
		free(b64);
		return ZT_ERR_NOMEM;
	}
	snprintf(text, sizeof(text), "screenshot of %s: %lldx%lld pixels (scale %.4g of the "
	    "desktop); coordinates of later calls are in these pixels", c->host, (long long)w,
	    (long long)h, scale);
	mcp_result_add_media(*result, "image", b64, "image/png");
	mcp_result_add_text(*result, text);
	free(b64);
	if ((sc = cJSON_AddObjectToObject(*result, "structuredContent")) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddNumberToObject(sc, "width", (double)w);
	cJSON_AddNumberToObject(sc, "height", (double)h);
	cJSON_AddNumberToObject(sc, "scale", scale);
	cJSON_AddStringToObject(sc, "sha256", hex);
	cJSON_AddNumberToObject(c->outcome, "width", (double)w);
	cJSON_AddNumberToObject(c->outcome, "height", (double)h);
	cJSON_AddNumberToObject(c->outcome, "png_bytes", (double)ans->body_len);
	cJSON_AddStringToObject(c->outcome, "screenshot_sha256", hex);
	return 0;
}

/* The call failed at the desktop: a tool error naming why. */
static int failed(struct brk_call *c, const char *code, const char *msg, cJSON **result)
{
	cJSON_Delete(*result);
	c->failed = 1;
	cJSON_AddStringToObject(c->outcome, "status", code);
	cJSON_AddStringToObject(c->outcome, "error", msg);
	*result = mcp_result_error("%s on %s failed (%s): %s", c->tool->name, c->host, code, msg);
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

int brk_rdp_run(struct brk_call *c, cJSON **result)
{
	struct rdp_req *q = c->held;
	struct desk_frame ans;
	const char *code = NULL, *msg = NULL;
	char why[BRK_DIAL_WHY_MAX];
	cJSON *head = NULL;
	int fd = -1, r;

	*result = NULL;
	memset(&ans, 0, sizeof(ans));
	if (strcmp(c->resource.res.kind, "rdp") != 0) {
		snprintf(why, sizeof(why), "%s is an %s resource: %s needs a desktop (rdp)", c->host,
		    c->resource.res.kind, c->tool->name);
		return failed(c, "not_rdp", why, result);
	}
	r = brk_dial(c->b, c->host, BRK_DIAL_TIMEOUT_MS, brk_sshconn_cancelled, c, &fd, why,
	    sizeof(why));
	if (r == ZT_ERR_CANCELLED) {
		cJSON_AddStringToObject(c->outcome, "status", "cancelled");
		return r;
	}
	if (r != 0) {
		return failed(c, "unreachable", why, result);
	}
	brk_desks_touch(c->b->desks, &c->who, c->host, net_mono_ms());
	if (q->events != NULL) {
		cJSON *e = q->events->child;

		audit_input(c, q);
		/* In requests of at most BRK_RDP_EVENTS_PER_REQUEST events, in
		 * order: rdp_type's thousands would not fit one frame's head. */
		do {
			cJSON *batch;

			if ((head = request(c, "input")) == NULL ||
			    (batch = cJSON_AddArrayToObject(head, "events")) == NULL) {
				r = ZT_ERR_NOMEM;
				goto out;
			}
			for (int i = 0; e != NULL && i < BRK_RDP_EVENTS_PER_REQUEST; i++, e = e->next) {
				if (!cJSON_AddItemReferenceToArray(batch, e)) {
					r = ZT_ERR_NOMEM;
					goto out;
				}
			}
			if (desk_call(fd, head, &ans, &code, &msg) != 0) {
				r = failed(c, code, msg, result);
				goto out;
			}
			desk_frame_clear(&ans);
			cJSON_Delete(head);
			head = NULL;
		} while (e != NULL);
		if (!q->screenshot && (*result = mcp_result_new(0)) != NULL) {
			char done[128];

			snprintf(done, sizeof(done), "%s on %s: done (%d input events taken by the "
			    "desktop)", c->tool->name, c->host, cJSON_GetArraySize(q->events));
			mcp_result_add_text(*result, done);
			cJSON_AddNumberToObject(cJSON_AddObjectToObject(*result, "structuredContent"),
			    "events", cJSON_GetArraySize(q->events));
		}
	}
	if (q->screenshot) {
		if ((head = request(c, "screenshot")) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
		cJSON_AddNumberToObject(head, "max_width", (double)q->max_width);
		if (desk_call(fd, head, &ans, &code, &msg) != 0) {
			r = failed(c, code, msg, result);
			goto out;
		}
		if ((r = screenshot_result(c, &ans, result)) != 0) {
			log_warn("call %s: the screenshot of %s is unusable: %s", c->id, c->host,
			    zt_strerror(r));
			r = failed(c, "screenshot", r == ZT_ERR_PROTOCOL ? "the desktop's agent sent "
			    "no usable PNG" : "the screenshot could not be kept", result);
			goto out;
		}
		if (q->events != NULL) {
			cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(*result,
			    "structuredContent"), "events", cJSON_GetArraySize(q->events));
		}
	}
	r = *result != NULL ? 0 : ZT_ERR_NOMEM;
out:
	cJSON_Delete(head);
	desk_frame_clear(&ans);
	close(fd);
	return r;
}
