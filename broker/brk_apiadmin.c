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
#include "broker/brk_policy.h"
#include "broker/brk_files.h"
#include "broker/brk_sshexec.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
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

		r = f[k].is_int ? json_get_int(body, f[k].key, f[k].min, f[k].imax, f[k].i) :
		    json_get_str(body, f[k].key, f[k].max, 0, &s);
		if (r == 0 && !f[k].is_int) {
			*f[k].s = s;
		}
		if (r == 0 || (r == ZT_ERR_NOT_FOUND && !f[k].required)) {
			continue;
		}
		if (r == ZT_ERR_NOT_FOUND) {
			brk_resp_error(resp, 400, "invalid_request", "field \"%s\" is required",
			    f[k].key);
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
	int r, admin = 0, auditor = 0;

	if (who->kind == STORE_BOT) {
		brk_resp_error(resp, 403, "forbidden", "bot %s may not administer the broker: bots "
		    "never mint join tokens or change policy, whatever their roles say", who->name);
		return ZT_ERR_DENIED;
	}
	if ((r = brk_policy_rights(b->roles, who->roles, &admin, &auditor)) != 0) {
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
		{ "ttl", 0, TTL_TEXT_MAX, &ttl_text, 0, 0, 0, NULL },
		{ "uses", 0, 0, NULL, 1, 1, BRK_JOIN_USES_MAX, &uses },
		{ "name", 0, STORE_NAME_MAX, &name, 0, 0, 0, NULL },
		{ "labels", 0, BRK_JOIN_LABELS_TEXT_MAX, &labels, 0, 0, 0, NULL },
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

struct token_list {
	cJSON *arr;
	int64_t now;
};

static int add_token(const struct store_join_token *t, void *arg)
{
	struct token_list *l = arg;
	cJSON *o = cJSON_CreateObject();
	char id[BRK_JOIN_ID_LEN + 1];

	if (o == NULL || !cJSON_AddItemToArray(l->arr, o)) {
		cJSON_Delete(o);
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

/* GET /v1/tokens */
static void token_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	struct token_list l;
	cJSON *o;

	(void)req;
	(void)who;
	(void)body;
	(void)details;
	if ((o = ok_object(resp)) == NULL) {
		return;
	}
	l.now = b->now();
	if ((l.arr = cJSON_AddArrayToObject(o, "tokens")) == NULL ||
	    store_join_token_each(b->store, add_token, &l) != 0) {
		log_error("admin API: cannot list join tokens");
		brk_resp_error(resp, 500, "internal", "internal error");
	}
}

/* A removal: the body {key: "..."} names what rm removes; the answer is
 * {"removed": what the audit details name}. */
static void remove_named(struct brk *b, const cJSON *body, struct brk_resp *resp,
    cJSON **details, const char *key, size_t max,
    int (*rm)(struct store *, const char *, cJSON **, char *, size_t))
{
	const char *name = NULL;
	const struct field f[] = {
		{ key, 1, max, &name, 0, 0, 0, NULL },
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
		{ "yaml", 1, POL_ROLE_MAX, &yaml, 0, 0, 0, NULL },
		{ "file", 0, FILE_NAME_MAX, &file, 0, 0, 0, NULL },
	};
	char name[STORE_NAME_MAX + 1], err[POL_ERR_MAX];
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
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arg, o)) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	if (cJSON_AddStringToObject(o, "name", ref->name) == NULL ||
	    cJSON_AddNumberToObject(o, "updated_at", (double)ref->updated_at) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* GET /v1/roles */
static void role_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	cJSON *o, *arr;

	(void)req;
	(void)who;
	(void)body;
	(void)details;
	if ((o = ok_object(resp)) == NULL) {
		return;
	}
	if ((arr = cJSON_AddArrayToObject(o, "roles")) == NULL ||
	    store_role_each(b->store, add_role, arr) != 0) {
		log_error("admin API: cannot list roles");
		brk_resp_error(resp, 500, "internal", "internal error");
	}
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
		{ "user", 0, STORE_NAME_MAX, &q.user, 0, 0, 0, NULL },
		{ "bot", 0, STORE_NAME_MAX, &q.bot, 0, 0, 0, NULL },
		{ "tool", 1, POL_MAX_STR, &q.tool, 0, 0, 0, NULL },
		{ "host", 0, HOST_MAX, &q.host, 0, 0, 0, NULL },
		{ "labels", 0, LABELS_TEXT_MAX, &q.labels, 0, 0, 0, NULL },
		{ "login", 0, LOGIN_MAX, &q.login, 0, 0, 0, NULL },
		{ "command", 0, BRK_EXEC_COMMAND_MAX, &q.command, 0, 0, 0, NULL },
		{ "path", 0, BRK_FILE_PATH_MAX, &q.path, 0, 0, 0, NULL },
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

/* POST /v1/agents/approve, /lock and /unlock {"name": "web1"}: the agent
 * verb (brk_admin.h) that the path ends with; {"approved" (or "locked",
 * "unlocked"): "web1"}. */
static void agent_verb(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp,
    cJSON **details)
{
	const struct brk_admin_agent_verb *v = brk_admin_agent_verb(strrchr(req->path, '/') + 1);
	const char *name = NULL;
	const struct field f[] = {
		{ "name", 1, STORE_NAME_MAX, &name, 0, 0, 0, NULL },
	};
	char err[POL_ERR_MAX];
	cJSON *o;
	int r;

	(void)who;
	if (v == NULL) {
		log_error("admin API: %s names no agent verb", req->path);
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	if (read_fields(body, f, NFIELDS(f), resp) != 0) {
		return;
	}
	r = v->run(b->store, b->agents, name, details, err, sizeof(err));
	if (r == ZT_ERR_EXISTS) {
		brk_resp_error(resp, 409, "conflict", "%s", err);
	} else if (r != 0) {
		admin_error(resp, r, "invalid_request", err);
	} else if ((o = ok_object(resp)) != NULL) {
		cJSON_AddStringToObject(o, v->done, name);
	}
}

const struct brk_apiadmin_op brk_apiadmin_token_add = { "token.add", token_add };
const struct brk_apiadmin_op brk_apiadmin_token_ls = { "token.ls", token_ls };
const struct brk_apiadmin_op brk_apiadmin_token_rm = { "token.rm", token_rm };
const struct brk_apiadmin_op brk_apiadmin_role_apply = { "role.apply", role_apply };
const struct brk_apiadmin_op brk_apiadmin_role_ls = { "role.ls", role_ls };
const struct brk_apiadmin_op brk_apiadmin_role_rm = { "role.rm", role_rm };
const struct brk_apiadmin_op brk_apiadmin_policy_test = { "policy.test", policy_test };
const struct brk_apiadmin_op brk_apiadmin_agent_ls = { "agent.ls", agent_ls };
/* Their events are the verbs' (brk_admin_test checks they agree). */
const struct brk_apiadmin_op brk_apiadmin_agent_approve = { "agent.approve", agent_verb };
const struct brk_apiadmin_op brk_apiadmin_agent_lock = { "agent.lock", agent_verb };
const struct brk_apiadmin_op brk_apiadmin_agent_unlock = { "agent.unlock", agent_verb };
