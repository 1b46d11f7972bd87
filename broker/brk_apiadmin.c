/*
 * brk_apiadmin.c - join tokens, agents, roles and policy tests over the
 * API, for administrators (brk_apiadmin.h).
 *
 * Each handler checks its body field by field (known keys only, typed and
 * bounded), then calls the same function of brk_admin.c that the offline
 * verb calls, and maps its ZT_ERR_* to a status: bad input 400, unknown
 * thing 404, ambiguous token ID 409, anything else 500 (logged). A join
 * token travels only in the response body: never in a log line, an error
 * message or the audit details.
 */
#include "broker/brk_apiadmin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_admin.h"
#include "broker/brk_bots.h"
#include "broker/brk_policy.h"
#include "broker/brk_files.h"
#include "broker/brk_sshexec.h"
#include "broker/brk_users.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/qr.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"
#include "store/store.h"

#define TTL_TEXT_MAX 16     /* bytes of "ttl" ("30m", "24h", "86400") */
#define FILE_NAME_MAX 255   /* bytes of "file", which names the role in errors */
#define LABELS_TEXT_MAX 1023
#define HOST_MAX 255
#define LOGIN_MAX 255

/* One field of a request body: a string (or, with is_int, an integer in
 * [min, max]). Absent optional fields leave *s / *i untouched. */
struct field {
	const char *key;
	int required;
	size_t max;           /* bytes, for strings */
	const char **s;
	int is_int;
	int64_t min, imax;
	int64_t *i;
	int *b;               /* set: a boolean, not a string */
};

#define FIELDS_MAX 8

/* Reads body's fields as described by f[0..n) (n <= FIELDS_MAX) and refuses
 * any other key: 0, or ZT_ERR_INVALID with a 400 naming the field filled in
 * resp. */
static int read_fields(const cJSON *body, const struct field *f, size_t n,
    struct brk_resp *resp)
{
	const char *allowed[FIELDS_MAX + 1], *bad = NULL;
	char expected[128] = "";
	size_t len = 0;
	int r;

	for (size_t k = 0; k < n && k < FIELDS_MAX; k++) {
		allowed[k] = f[k].key;
		len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
		    k > 0 ? ", " : "", f[k].key);
	}
	allowed[n < FIELDS_MAX ? n : FIELDS_MAX] = NULL;
	if (body != NULL && json_only_keys(body, allowed, &bad) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "unknown field \"%.64s\" "
		    "(expected %s)", bad != NULL ? bad : "?", expected);
		return ZT_ERR_INVALID;
	}
	for (size_t k = 0; k < n; k++) {
		const char *s = NULL;

		r = f[k].b != NULL ? json_get_bool(body, f[k].key, f[k].b) :
		    f[k].is_int ? json_get_int(body, f[k].key, f[k].min, f[k].imax, f[k].i) :
		    json_get_str(body, f[k].key, f[k].max, 0, &s);
		if (r == 0 && !f[k].is_int && f[k].b == NULL) {
			*f[k].s = s;
		}
		if (r == 0 || (r == ZT_ERR_NOT_FOUND && !f[k].required)) {
			continue;
		}
		if (r == ZT_ERR_NOT_FOUND) {
			brk_resp_error(resp, 400, "invalid_request", "field \"%s\" is required",
			    f[k].key);
		} else if (f[k].b != NULL) {
			brk_resp_error(resp, 400, "invalid_request", "field \"%s\" must be true or "
			    "false", f[k].key);
		} else if (f[k].is_int) {
			brk_resp_error(resp, 400, "invalid_request", "field \"%s\" must be an "
			    "integer from %lld to %lld", f[k].key, (long long)f[k].min,
			    (long long)f[k].imax);
		} else if (r == ZT_ERR_TYPE) {
			brk_resp_error(resp, 400, "invalid_request",
			    "field \"%s\" must be a string", f[k].key);
		} else if (r == ZT_ERR_TOO_LARGE) {
			brk_resp_error(resp, 400, "invalid_request", "field \"%s\" is longer than "
			    "%zu bytes", f[k].key, f[k].max);
		} else {
			brk_resp_error(resp, 400, "invalid_request",
			    "field \"%s\" must not be empty", f[k].key);
		}
		return ZT_ERR_INVALID;
	}
	return 0;
}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* The response for a failed brk_admin_* call: 400 for bad input (code
 * bad_input_code), 404, 409, or a logged 500. */
static void admin_error(struct brk_resp *resp, int r, const char *bad_input_code,
    const char *err)
{
	switch (r) {
	case ZT_ERR_INVALID:
	case ZT_ERR_TYPE:
	case ZT_ERR_TOO_LARGE:
		brk_resp_error(resp, 400, bad_input_code, "%s", err);
		break;
	case ZT_ERR_NOT_FOUND:
		brk_resp_error(resp, 404, "not_found", "%s", err);
		break;
	case ZT_ERR_EXISTS:
		brk_resp_error(resp, 409, "ambiguous", "%s", err);
		break;
	default:
		log_error("admin API: %s", err);
		brk_resp_error(resp, 500, "internal", "internal error");
		break;
	}
}

/* resp = 200 with a new empty object; NULL on ENOMEM (resp is then 500). */
static cJSON *ok_object(struct brk_resp *resp)
{
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	if (resp->json == NULL) {
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
	}
	return resp->json;
}

int brk_apiadmin_authorize(struct brk *b, const struct brk_identity *who,
    struct brk_resp *resp)
{
	int r, admin = 0;

	if (who->kind == STORE_BOT) {
		brk_resp_error(resp, 403, "forbidden", "bot %s may not administer the broker: bots "
		    "never mint join tokens or change policy, whatever their roles say", who->name);
		return ZT_ERR_DENIED;
	}
	if ((r = brk_policy_administers(b->roles, who->kind, who->roles, &admin, NULL)) != 0) {
		log_error("cannot load the roles of %s: %s", who->name, zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return r;
	}
	if (!admin) {
		brk_resp_error(resp, 403, "forbidden", "user %s is not an administrator: that "
		    "takes a role with options: {admin: true}", who->name);
		return ZT_ERR_DENIED;
	}
	return 0;
}

int brk_apiadmin_audit(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const char *event, const cJSON *details,
    const struct brk_resp *resp)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
	const int ok = resp->status >= 200 && resp->status < 300;
	struct aud_event ev = {
		.type = event, .actor = who->actor, .source = req->source,
		.outcome = ok ? "success" : resp->status == 403 ? "denied" : "failure",
		/* A failure names its error's message, and nothing else. */
		.reason = ok ? NULL :
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message")),
		.details = ok ? details : NULL,
	};

	return aud_record(b->store, b->agg, brk_now_ms(), &ev);
}

/* POST /v1/tokens {"ttl": "30m", "uses": 1, "name": "web1",
 * "labels": "env=prod,team=web"} */
static void token_add(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *ttl_text = NULL, *name = NULL, *labels = NULL;
	int64_t ttl = BRK_JOIN_TTL_DEFAULT, uses = 1;
	const struct field f[] = {
		{ "ttl", 0, TTL_TEXT_MAX, &ttl_text, 0, 0, 0, NULL, NULL },
		{ "uses", 0, 0, NULL, 1, 1, BRK_JOIN_USES_MAX, &uses, NULL },
		{ "name", 0, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
		{ "labels", 0, BRK_JOIN_LABELS_TEXT_MAX, &labels, 0, 0, 0, NULL, NULL },
	};
	char err[POL_ERR_MAX], cmd[BRK_JOIN_TEXT_MAX], text[BRK_JOIN_TEXT_MAX];
	struct brk_join_minted m;
	cJSON *o;
	int r;

	(void)req;
	memset(&m, 0, sizeof(m));
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	if (ttl_text != NULL && brk_admin_join_ttl(ttl_text, &ttl) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"ttl\" must be a duration "
		    "from 1m to 24h (e.g. 30m, 2h)");
		return;
	}
	r = brk_admin_token_add(b->store, b->ca, b->now(), ttl, uses, who->actor, name, labels, &m,
	    details, err, sizeof(err));
	if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
		return;
	}
	if (brk_admin_join_command(&m, cmd, sizeof(cmd)) != 0 ||
	    brk_admin_join_text(&m, text, sizeof(text)) != 0 || (o = ok_object(resp)) == NULL ||
	    cJSON_AddStringToObject(o, "token", m.token) == NULL ||
	    cJSON_AddStringToObject(o, "id", m.id) == NULL ||
	    cJSON_AddNumberToObject(o, "expires_at", (double)m.expires_at) == NULL ||
	    cJSON_AddNumberToObject(o, "uses", (double)m.uses) == NULL ||
	    cJSON_AddStringToObject(o, "ca_pin", m.pin) == NULL ||
	    cJSON_AddStringToObject(o, "command", cmd) == NULL ||
	    cJSON_AddStringToObject(o, "text", text) == NULL) {
		brk_resp_error(resp, 500, "internal", "internal error: cannot show the join token");
	}
	crypto_wipe(&m, sizeof(m));
	crypto_wipe(cmd, sizeof(cmd));
	crypto_wipe(text, sizeof(text));
}

/* A listing being made: the array, and the time states are judged at. */
struct list {
	cJSON *arr;
	int64_t now;
};

/* A new object at the end of l's array; NULL on ENOMEM. */
static cJSON *list_item(struct list *l)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(l->arr, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* 200 with {key: [...]}, the array filled by each (a store_*_each over
 * the list); a 500 when that fails. */
static void answer_list(struct brk *b, struct brk_resp *resp, const char *key,
    int (*each)(struct store *st, struct list *l))
{
	struct list l;
	cJSON *o;

	if ((o = ok_object(resp)) == NULL) {
		return;
	}
	l.now = b->now();
	if ((l.arr = cJSON_AddArrayToObject(o, key)) == NULL || each(b->store, &l) != 0) {
		log_error("admin API: cannot list %s", key);
		brk_resp_error(resp, 500, "internal", "internal error");
	}
}

/* GET /v1/tokens, /v1/roles, /v1/users and /v1/bots, which read nothing
 * of the request: the listing of what the path ends with. */
static void list_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details);

static int add_token(const struct store_join_token *t, void *arg)
{
	struct list *l = arg;
	cJSON *o = list_item(l);
	char id[BRK_JOIN_ID_LEN + 1];

	if (o == NULL) {
		return ZT_ERR_NOMEM;
	}
	snprintf(id, sizeof(id), "%.*s", BRK_JOIN_ID_LEN, t->token_hash);
	if (cJSON_AddStringToObject(o, "id", id) == NULL ||
	    cJSON_AddNumberToObject(o, "created_at", (double)t->created_at) == NULL ||
	    cJSON_AddNumberToObject(o, "expires_at", (double)t->expires_at) == NULL ||
	    cJSON_AddNumberToObject(o, "uses_left", (double)t->uses_left) == NULL ||
	    cJSON_AddStringToObject(o, "state", brk_admin_token_state(t, l->now)) == NULL ||
	    cJSON_AddStringToObject(o, "created_by", t->created_by) == NULL ||
	    (t->claims.name[0] != '\0' &&
	    cJSON_AddStringToObject(o, "name", t->claims.name) == NULL) ||
	    (t->claims.labels[0] != '\0' &&
	    cJSON_AddRawToObject(o, "labels", t->claims.labels) == NULL)) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Lists every join token into l (answer_list). 0 or a ZT_ERR_*. */
static int each_token(struct store *st, struct list *l)
{
	return store_join_token_each(st, add_token, l);
}

/* A removal: the body {key: "..."} names what rm removes; the answer is
 * {"removed": what the audit details name}. */
static void remove_named(struct brk *b, const cJSON *body, struct brk_resp *resp,
    cJSON **details, const char *key, size_t max,
    int (*rm)(struct store *, const char *, cJSON **, char *, size_t))
{
	const char *name = NULL;
	const struct field f[] = {
		{ key, 1, max, &name, 0, 0, 0, NULL, NULL },
	};
	char err[POL_ERR_MAX];
	cJSON *o;
	int r;

	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	if ((r = rm(b->store, name, details, err, sizeof(err))) != 0) {
		admin_error(resp, r, "invalid_request", err);
		return;
	}
	if ((o = ok_object(resp)) != NULL) {
		cJSON_AddStringToObject(o, "removed", cJSON_GetStringValue((*details)->child));
	}
}

/* POST /v1/tokens/rm {"id": "0123456789ab"} */
static void token_rm(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	(void)req;
	(void)who;
	remove_named(b, body, resp, details, "id", STORE_HASH_HEX - 1, brk_admin_token_rm);
}

/* True if s is printable ASCII (it is echoed in error messages). */
static int printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e) {
			return 0;
		}
	}
	return 1;
}

/* POST /v1/roles {"yaml": "kind: role\n...", "file": "role.yaml"} */
static void role_apply(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *yaml = NULL, *file = "role.yaml";
	const struct field f[] = {
		{ "yaml", 1, POL_ROLE_MAX, &yaml, 0, 0, 0, NULL, NULL },
		{ "file", 0, FILE_NAME_MAX, &file, 0, 0, 0, NULL, NULL },
	};
	char name[STORE_NAME_MAX + 1], err[POL_ERR_MAX];
	size_t line;
	cJSON *o;
	int r;

	(void)req;
	(void)who;
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	if (!printable(file)) {
		brk_resp_error(resp, 400, "invalid_request", "field \"file\" must be printable "
		    "ASCII");
		return;
	}
	r = brk_admin_role_apply(b->store, yaml, strlen(yaml), file, b->now(), name,
	    sizeof(name), details, err, sizeof(err));
	if (r != 0) {
		admin_error(resp, r, "invalid_role", err);
		/* The line, for pages that point at it. */
		if (resp->status == 400 && (line = pol_role_err_line(err, file)) > 0) {
			cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(resp->json, "error"),
			    "line", (double)line);
		}
		return;
	}
	if ((o = ok_object(resp)) != NULL) {
		const char *warn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*details,
		    "warning"));

		cJSON_AddStringToObject(o, "role", name);
		if (warn != NULL) {
			cJSON_AddStringToObject(o, "warning", warn);
		}
	}
}

static int add_role(const struct store_role_ref *ref, void *arg)
{
	struct list *l = arg;
	cJSON *o = list_item(l);

	if (o == NULL || cJSON_AddStringToObject(o, "name", ref->name) == NULL ||
	    cJSON_AddNumberToObject(o, "updated_at", (double)ref->updated_at) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Lists every role into l (answer_list). 0 or a ZT_ERR_*. */
static int each_role(struct store *st, struct list *l)
{
	return store_role_each(st, add_role, l);
}

/* POST /v1/roles/rm {"name": "ops"} */
static void role_rm(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	(void)req;
	(void)who;
	remove_named(b, body, resp, details, "name", STORE_NAME_MAX, brk_admin_role_rm);
}

/* POST /v1/policy/test {"user"|"bot", "tool", "host", "labels", "login",
 * "command", "path"} */
static void policy_test(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	struct brk_admin_query q;
	const struct field f[] = {
		{ "user", 0, STORE_NAME_MAX, &q.user, 0, 0, 0, NULL, NULL },
		{ "bot", 0, STORE_NAME_MAX, &q.bot, 0, 0, 0, NULL, NULL },
		{ "tool", 1, POL_MAX_STR, &q.tool, 0, 0, 0, NULL, NULL },
		{ "host", 0, HOST_MAX, &q.host, 0, 0, 0, NULL, NULL },
		{ "labels", 0, LABELS_TEXT_MAX, &q.labels, 0, 0, 0, NULL, NULL },
		{ "login", 0, LOGIN_MAX, &q.login, 0, 0, 0, NULL, NULL },
		{ "command", 0, BRK_EXEC_COMMAND_MAX, &q.command, 0, 0, 0, NULL, NULL },
		{ "path", 0, BRK_FILE_PATH_MAX, &q.path, 0, 0, 0, NULL, NULL },
	};
	char missing[STORE_ROLES_MAX + 1], err[POL_ERR_MAX], need[POL_APPROVERS_MAX + 128];
	struct pol_decision d;
	cJSON *o, *dt;
	int r;

	(void)req;
	(void)who;
	memset(&q, 0, sizeof(q));
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	r = brk_admin_policy_test(b->store, b->roles, b->agents, &q, &d, missing, sizeof(missing),
	    err, sizeof(err));
	if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
		return;
	}
	if ((o = ok_object(resp)) == NULL) {
		return;
	}
	cJSON_AddBoolToObject(o, "allow", d.allow);
	cJSON_AddStringToObject(o, "rule", d.rule);
	cJSON_AddStringToObject(o, "role", d.role);
	cJSON_AddItemToObject(o, "missing_roles", brk_roles_json(missing));
	if (d.allow) {
		cJSON *rq = cJSON_AddObjectToObject(o, "requires");

		pol_requirements_text(&d.req, need, sizeof(need));
		cJSON_AddStringToObject(o, "requires_text", need);
		cJSON_AddStringToObject(rq, "mfa", pol_mfa_name(d.req.mfa));
		if (d.req.mfa == POL_MFA_PER_SESSION) {
			cJSON_AddNumberToObject(rq, "mfa_window_s", (double)d.req.mfa_window);
		}
		if (d.req.approval) {
			cJSON_AddItemToObject(rq, "approval_by", brk_roles_json(d.req.approvers));
			cJSON_AddNumberToObject(rq, "approval_ttl_s", (double)d.req.approval_ttl);
		}
	}
	/* The audit names the question and the answer. */
	if ((dt = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(dt, q.user != NULL ? "user" : "bot",
		    q.user != NULL ? q.user : q.bot);
		cJSON_AddStringToObject(dt, "tool", q.tool);
		if (q.host != NULL) {
			cJSON_AddStringToObject(dt, "host", q.host);
		}
		if (q.login != NULL) {
			cJSON_AddStringToObject(dt, "login", q.login);
		}
		if (q.command != NULL) {
			cJSON_AddStringToObject(dt, "command", q.command);
		}
		if (q.path != NULL) {
			cJSON_AddStringToObject(dt, "path", q.path);
		}
		cJSON_AddBoolToObject(dt, "allow", d.allow);
	}
	*details = dt;
}

/* GET /v1/agents: {"agents": [...], "text": what `agents ls` prints}.
 * Both forms are made: the answer carries both (docs/api.md), the array
 * for programs and the text for ztctl, which prints it as is. */
static void agent_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	cJSON *o, *list = NULL;
	char *text = NULL;
	int r;

	(void)req;
	(void)who;
	(void)body;
	(void)details;
	if ((r = brk_admin_agents_ls(b->store, b->agents, &list, &text)) != 0) {
		log_error("admin API: cannot list agents: %s", zt_strerror(r));
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	if ((o = ok_object(resp)) == NULL) {
		cJSON_Delete(list);
	} else if (!cJSON_AddItemToObject(o, "agents", list)) {
		cJSON_Delete(list);
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
	} else if (cJSON_AddStringToObject(o, "text", text) == NULL) {
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
	}
	free(text);
}

/* POST /v1/NOUN/VERB {"name": "web1"}: the verb of brk_admin.h that the
 * path names (agents approve, lock, unlock; users lock, unlock, rm; bots
 * rm); the answer names what was done, {"approved" (or "locked", ...):
 * "web1"}. */
static void named_verb(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *verb = strrchr(req->path, '/') + 1, *name = NULL;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
	};
	const struct brk_admin_verb *v = NULL;
	char noun[16], err[POL_ERR_MAX];
	cJSON *o;
	int r, n;

	(void)who;
	/* "/v1/" NOUN "/" VERB, as brk_api.c routes it. */
	n = (int)(verb - 1 - (req->path + 4));
	if (n > 0 && (size_t)n < sizeof(noun)) {
		snprintf(noun, sizeof(noun), "%.*s", n, req->path + 4);
		v = brk_admin_verb(noun, verb);
	}
	if (v == NULL) {
		log_error("admin API: %s names no admin verb", req->path);
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	r = v->run(b->store, b->agents, name, b->now(), details, err, sizeof(err));
	if (r == ZT_ERR_EXISTS) {
		brk_resp_error(resp, 409, "conflict", "%s", err);
	} else if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
	} else if ((o = ok_object(resp)) != NULL) {
		cJSON_AddStringToObject(o, v->done, name);
	}
}

/* One user of a listing (arg: struct list): 0 or ZT_ERR_NOMEM. */
static int add_user(const struct store_user *u, void *arg)
{
	struct list *l = arg;
	cJSON *o = list_item(l);

	if (o == NULL || cJSON_AddStringToObject(o, "name", u->name) == NULL ||
	    !cJSON_AddItemToObject(o, "roles", brk_roles_json(u->roles)) ||
	    cJSON_AddStringToObject(o, "state", brk_users_state(u, l->now)) == NULL ||
	    cJSON_AddNumberToObject(o, "created_at", (double)u->created_at) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Lists every user into l (answer_list). 0 or a ZT_ERR_*. */
static int each_user(struct store *st, struct list *l)
{
	return store_user_each(st, add_user, l);
}

/* Mints an invite for user name (a reset with reset) and answers it:
 * {"user", "invite", "expires_at", "ca_pin", "command", "qr_svg"}, the
 * QR code holding the command. On success *details are the invite's audit
 * details, unless *details holds some already (user.add's): they stay. */
static void answer_invite(struct brk *b, const char *name, int reset, struct brk_resp *resp,
    cJSON **details)
{
	char err[POL_ERR_MAX], cmd[BRK_ENROL_COMMAND_MAX];
	struct brk_invite inv;
	char *svg = NULL;
	cJSON *o, *d = NULL;
	int r;

	r = brk_users_invite(b->store, b->ca, name, reset, b->now(), &inv, &d, err, sizeof(err));
	if (r == ZT_ERR_EXISTS) {
		brk_resp_error(resp, 409, "already_enrolled", "%s", err);
		goto out;
	}
	if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
		goto out;
	}
	if (brk_users_enrol_command(&inv, b->base_url, cmd, sizeof(cmd)) != 0 ||
	    qr_svg(cmd, &svg) != 0 || (o = ok_object(resp)) == NULL ||
	    cJSON_AddStringToObject(o, "user", name) == NULL ||
	    cJSON_AddStringToObject(o, "invite", inv.token) == NULL ||
	    cJSON_AddNumberToObject(o, "expires_at", (double)inv.expires_at) == NULL ||
	    cJSON_AddStringToObject(o, "ca_pin", inv.pin) == NULL ||
	    cJSON_AddStringToObject(o, "command", cmd) == NULL ||
	    cJSON_AddStringToObject(o, "qr_svg", svg) == NULL ||
	    (reset && cJSON_AddNumberToObject(o, "sessions_revoked", inv.revoked) == NULL)) {
		/* The invite is stored: a new one retires it. The answer made
		 * so far may hold it. */
		json_wipe(resp->json);
		brk_resp_error(resp, 500, "internal", "internal error: cannot show the invite");
		goto out;
	}
	if (*details == NULL) {
		*details = d;
		d = NULL;
	}
out:
	cJSON_Delete(d);
	if (svg != NULL) {
		crypto_wipe(svg, strlen(svg));
	}
	free(svg);
	crypto_wipe(&inv, sizeof(inv));
	crypto_wipe(cmd, sizeof(cmd));
}

/* Adds the user or bot (kind) name with roles: 0 with *details set, or
 * the error answered in resp. */
static int add_identity(struct brk *b, enum store_principal kind, const char *name,
    const char *roles, struct brk_resp *resp, cJSON **details)
{
	char err[POL_ERR_MAX];
	int r;

	r = brk_users_add(b->store, kind, name, roles, b->now(), details, err, sizeof(err));
	if (r == ZT_ERR_EXISTS) {
		brk_resp_error(resp, 409, "exists", "%s", err);
	} else if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
	}
	return r;
}

/* Takes back the identity add_identity added when what was to come with it
 * (its invite or token) could not be answered, so that the failure the
 * audit records is the whole truth: nothing was added. */
static void undo_add(struct brk *b, enum store_principal kind, const char *name,
    const struct brk_resp *resp)
{
	char err[POL_ERR_MAX];
	cJSON *d = NULL;
	int r;

	if (resp->status >= 200 && resp->status < 300) {
		return;
	}
	if ((r = brk_users_rm(b->store, kind, name, &d, err, sizeof(err))) != 0) {
		log_error("cannot take back %s %s after a failed add: %s", kind == STORE_BOT ?
		    "bot" : "user", name, zt_strerror(r));
	}
	cJSON_Delete(d);
}

/* POST /v1/users {"name": "alice", "roles": "ops,oncall"}: the user and
 * its first invite. */
static void user_add(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *name = NULL, *roles = NULL;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
		{ "roles", 1, STORE_ROLES_MAX, &roles, 0, 0, 0, NULL, NULL },
	};

	(void)req;
	(void)who;
	if (read_fields(body, f, NFIELDS(f), resp) == 0 &&
	    add_identity(b, STORE_USER, name, roles, resp, details) == 0) {
		answer_invite(b, name, 0, resp, details);
		undo_add(b, STORE_USER, name, resp);
	}
}

/* POST /v1/users/invite and /v1/users/reset {"name": "alice"} */
static void user_invite(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *name = NULL;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
	};

	(void)who;
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	answer_invite(b, name, strcmp(strrchr(req->path, '/'), "/reset") == 0, resp, details);
}

/* One bot of a listing (arg: struct list): 0 or ZT_ERR_NOMEM. */
static int add_bot(const struct store_bot *bot, void *arg)
{
	struct list *l = arg;
	cJSON *o = list_item(l);

	if (o == NULL || cJSON_AddStringToObject(o, "name", bot->name) == NULL ||
	    !cJSON_AddItemToObject(o, "roles", brk_roles_json(bot->roles)) ||
	    cJSON_AddNumberToObject(o, "created_at", (double)bot->created_at) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Lists every bot into l (answer_list). 0 or a ZT_ERR_*. */
static int each_bot(struct store *st, struct list *l)
{
	return store_bot_each(st, add_bot, l);
}

static void list_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	static const struct {
		const char *path;
		const char *key;
		int (*each)(struct store *, struct list *);
	} lists[] = {
		{ "/v1/tokens", "tokens", each_token },
		{ "/v1/roles", "roles", each_role },
		{ "/v1/users", "users", each_user },
		{ "/v1/bots", "bots", each_bot },
	};

	(void)who;
	(void)body;
	(void)details;
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		if (strcmp(req->path, lists[k].path) == 0) {
			answer_list(b, resp, lists[k].key, lists[k].each);
			return;
		}
	}
	log_error("admin API: %s names no listing", req->path);
	brk_resp_error(resp, 500, "internal", "internal error");
}

/* Mints a token of bot name (brk_bots_token) valid ttl_text ("1h"; NULL:
 * the default) and answers it: {"bot", "token", "id", "expires_at", and
 * "ttl_capped_by", "revoked" when they apply}. On success *details are the
 * token's audit details, unless *details holds some already (bot.add's):
 * they stay, and name the token too. */
static void answer_bot_token(struct brk *b, const char *name, const char *ttl_text, int rotate,
    struct brk_resp *resp, cJSON **details)
{
	int64_t ttl = BRK_BOT_TTL_DEFAULT;
	struct brk_bot_minted m;
	char err[POL_ERR_MAX];
	cJSON *o, *d = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	if (ttl_text != NULL && dur_parse(ttl_text, 1, BRK_BOT_TTL_MAX, &ttl) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"ttl\" must be a duration "
		    "from 1s to 7d (e.g. 30m, 1h)");
		goto out;
	}
	if ((r = brk_bots_token(b->store, b->roles, name, b->now(), ttl, rotate, &m, &d, err,
	    sizeof(err))) != 0) {
		admin_error(resp, r, "invalid_request", err);
		goto out;
	}
	if ((o = ok_object(resp)) == NULL ||
	    cJSON_AddStringToObject(o, "bot", name) == NULL ||
	    cJSON_AddStringToObject(o, "token", m.token) == NULL ||
	    cJSON_AddStringToObject(o, "id", m.id) == NULL ||
	    cJSON_AddNumberToObject(o, "expires_at", (double)m.expires_at) == NULL ||
	    (m.capped_by[0] != '\0' &&
	    cJSON_AddStringToObject(o, "ttl_capped_by", m.capped_by) == NULL) ||
	    (rotate && cJSON_AddNumberToObject(o, "revoked", m.revoked) == NULL)) {
		json_wipe(resp->json);
		brk_resp_error(resp, 500, "internal", "internal error: cannot show the token");
		goto out;
	}
	if (*details == NULL) {
		*details = d;
		d = NULL;
	} else if (cJSON_AddStringToObject(*details, "session", m.id) == NULL) {
		json_wipe(resp->json);
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
	}
out:
	cJSON_Delete(d);
	crypto_wipe(&m, sizeof(m));
}

/* POST /v1/bots {"name": "ops-ai", "roles": "ai-ops", "ttl": "1h"}: the
 * bot and its first token. */
static void bot_add(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *name = NULL, *roles = NULL, *ttl = NULL;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
		{ "roles", 1, STORE_ROLES_MAX, &roles, 0, 0, 0, NULL, NULL },
		{ "ttl", 0, TTL_TEXT_MAX, &ttl, 0, 0, 0, NULL, NULL },
	};
	int64_t secs;

	(void)req;
	(void)who;
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	/* A bad ttl adds no bot. */
	if (ttl != NULL && dur_parse(ttl, 1, BRK_BOT_TTL_MAX, &secs) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"ttl\" must be a duration "
		    "from 1s to 7d (e.g. 30m, 1h)");
		return;
	}
	if (add_identity(b, STORE_BOT, name, roles, resp, details) == 0) {
		answer_bot_token(b, name, ttl, 0, resp, details);
		undo_add(b, STORE_BOT, name, resp);
	}
}

/* POST /v1/bots/token {"name": "ops-ai", "ttl": "1h", "rotate": true} */
static void bot_token(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *name = NULL, *ttl = NULL;
	int rotate = 0;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL, NULL },
		{ "ttl", 0, TTL_TEXT_MAX, &ttl, 0, 0, 0, NULL, NULL },
		{ "rotate", 0, 0, NULL, 0, 0, 0, NULL, &rotate },
	};

	(void)req;
	(void)who;
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	answer_bot_token(b, name, ttl, rotate, resp, details);
}

/* GET /v1/roles/NAME: {"name", "updated_at"?, "yaml"} */
static void role_get(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const char *name = req->path + strlen("/v1/roles/");
	char *doc = NULL, *yaml = NULL;
	cJSON *j = NULL, *o;
	int r;

	(void)who;
	(void)body;
	if (!store_name_valid(name) || (r = store_role_get(b->store, name, &doc)) ==
	    ZT_ERR_NOT_FOUND) {
		brk_resp_error(resp, 404, "not_found", "no such role");
		return;
	}
	if (r != 0 || json_parse(doc, strlen(doc), 4 * POL_ROLE_MAX, JSON_DEFAULT_DEPTH, &j) != 0 ||
	    pol_role_json_yaml(j, &yaml) != 0) {
		log_error("admin API: cannot show role %s", name);
		brk_resp_error(resp, 500, "internal", "internal error");
	} else if ((o = ok_object(resp)) != NULL &&
	    (cJSON_AddStringToObject(o, "name", name) == NULL ||
	    cJSON_AddStringToObject(o, "yaml", yaml) == NULL)) {
		brk_resp_error(resp, 500, "internal", "internal error: out of memory");
	} else {
		*details = json_object_str("role", name);
	}
	free(doc);
	free(yaml);
	cJSON_Delete(j);
}

const struct brk_apiadmin_op brk_apiadmin_token_add = { "token.add", token_add };
const struct brk_apiadmin_op brk_apiadmin_token_ls = { "token.ls", list_ls };
const struct brk_apiadmin_op brk_apiadmin_token_rm = { "token.rm", token_rm };
const struct brk_apiadmin_op brk_apiadmin_role_apply = { "role.apply", role_apply };
const struct brk_apiadmin_op brk_apiadmin_role_ls = { "role.ls", list_ls };
const struct brk_apiadmin_op brk_apiadmin_role_rm = { "role.rm", role_rm };
const struct brk_apiadmin_op brk_apiadmin_policy_test = { "policy.test", policy_test };
const struct brk_apiadmin_op brk_apiadmin_agent_ls = { "agent.ls", agent_ls };
const struct brk_apiadmin_op brk_apiadmin_role_get = { "role.get", role_get };
const struct brk_apiadmin_op brk_apiadmin_user_ls = { "user.ls", list_ls };
const struct brk_apiadmin_op brk_apiadmin_user_add = { "user.add", user_add };
const struct brk_apiadmin_op brk_apiadmin_user_invite = { "user.invite", user_invite };
const struct brk_apiadmin_op brk_apiadmin_user_reset = { "user.reset", user_invite };
const struct brk_apiadmin_op brk_apiadmin_bot_ls = { "bot.ls", list_ls };
const struct brk_apiadmin_op brk_apiadmin_bot_add = { "bot.add", bot_add };
const struct brk_apiadmin_op brk_apiadmin_bot_token = { "bot.token", bot_token };
/* Their events are the verbs' (brk_admin_test checks they agree). */
const struct brk_apiadmin_op brk_apiadmin_agent_approve = { "agent.approve", named_verb };
const struct brk_apiadmin_op brk_apiadmin_agent_lock = { "agent.lock", named_verb };
const struct brk_apiadmin_op brk_apiadmin_agent_unlock = { "agent.unlock", named_verb };
const struct brk_apiadmin_op brk_apiadmin_user_lock = { "user.lock", named_verb };
const struct brk_apiadmin_op brk_apiadmin_user_unlock = { "user.unlock", named_verb };
const struct brk_apiadmin_op brk_apiadmin_user_rm = { "user.rm", named_verb };
const struct brk_apiadmin_op brk_apiadmin_bot_rm = { "bot.rm", named_verb };
