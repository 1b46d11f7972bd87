/*
 * brk_approvals.c - holding a call for a person, and the answers
 * (brk_approvals.h).
 */
#include "broker/brk_approvals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_console.h"
#include "broker/brk_front.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_query.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"
#include "store/store.h"

/* ---- shared ---- */

/* The event's details for request a: its id, the held call's, the
 * request hash, the call itself. NULL on ENOMEM. */
static cJSON *details(const struct store_approval *a)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(d, "approval_id", a->id);
	cJSON_AddStringToObject(d, "call_id", a->call_id);
	cJSON_AddStringToObject(d, "caller", a->actor);
	cJSON_AddStringToObject(d, "tool", a->tool);
	if (a->host[0] != '\0') {
		cJSON_AddStringToObject(d, "host", a->host);
	}
	if (a->login[0] != '\0') {
		cJSON_AddStringToObject(d, "login", a->login);
	}
	if (a->command != NULL) {
		cJSON_AddStringToObject(d, "command", a->command);
	}
	cJSON_AddStringToObject(d, "request_sha256", a->request_sha256);
	return d;
}

/* Records ev with details d (taken; NULL when they could not be made): 0
 * or aud_record's error, ZT_ERR_NOMEM without details. Every event of this
 * module must be on record before its answer is given. */
static int record(struct brk *b, struct aud_event *ev, cJSON *d)
{
	int r = ZT_ERR_NOMEM;

	if (d != NULL) {
		ev->details = d;
		r = aud_record(b->store, b->agg, brk_now_ms(), ev);
	}
	cJSON_Delete(d);
	return r;
}

/* 1 if the comma-separated lists share a name. */
static int lists_meet(const char *a, const char *b)
{
	char name[STORE_NAME_MAX + 2];

	while (*a != '\0') {
		size_t n = strcspn(a, ",");

		if (n > 0 && n <= STORE_NAME_MAX) {
			const char *p = b;

			memcpy(name, a, n);
			name[n] = '\0';
			while (*p != '\0') {
				size_t m = strcspn(p, ",");

				if (m == n && memcmp(p, name, n) == 0) {
					return 1;
				}
				p += m + (p[m] == ',');
			}
		}
		a += n + (a[n] == ',');
	}
	return 0;
}

/* What is still missing of a, in words: "an MFA step-up by the caller;
 * approval by a holder of oncall". */
static void missing_text(const struct store_approval *a, char *out, size_t outsz)
{
	int mfa = a->need_mfa && a->mfa_at == 0, appr = a->need_approval && a->approved_at == 0;

	snprintf(out, outsz, "%s%s%s%s", mfa ? "an MFA step-up by the caller" : "",
	    mfa && appr ? "; " : "", appr ? "approval by a holder of " : "",
	    appr ? a->approvers : "");
}

/* Where request id is answered: its route in the web console. */
static void page_url(struct brk *b, const char *id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s" BRK_CONSOLE_APPROVAL_ROUTE "%s", b->base_url, id);
}

/* ---- holding a call ---- */

struct settled_arg {
	struct brk *b;
	const char *id;
};

/* 1 once request id is no longer pending (answered, or past its time). */
static int settled(void *arg)
{
	struct settled_arg *sa = arg;
	struct store_approval a;
	int done;

	if (store_approval_get(sa->b->store, sa->id, &a) != 0) {
		return 1;
	}
	done = strcmp(a.state, "pending") != 0 || a.expires_at <= sa->b->now();
	store_approval_clear(&a);
	return done;
}

/* Tells the caller where to answer, through the call's front door
 * (brk_front.h): 0, or ZT_ERR_CANCELLED when the person declined, or
 * ASKED with *question the answer to send now (a front that asks in
 * rounds: the call comes back with the answer). */
#define ASKED 1
static int tell(struct brk_call *c, const struct store_approval *a, const char *url,
    cJSON **question)
{
	struct settled_arg sa = { c->b, a->id };
	char msg[STORE_APPROVERS_MAX + 1024], need[STORE_APPROVERS_MAX + 64];
	struct brk_held h;
	int r;

	missing_text(a, need, sizeof(need));
	snprintf(msg, sizeof(msg), "zt holds this call (%s on %s) until it gets %s: open %s or "
	    "run `ztctl approve %s`", c->tool->name, c->host != NULL ? c->host : "the broker",
	    need, url, a->id);
	h = (struct brk_held){ .id = a->id, .url = url, .needs = need, .message = msg,
	    .self_stepup = a->need_mfa && !a->need_approval,
	    .wait_ms = (int)((a->expires_at - c->b->now()) * 1000) };
	if ((r = brk_front_ask(c->front, &h, question)) != 0) {
		return r > 0 ? ASKED : r;
	}
	return brk_front_held(c->front, &h, settled, &sa);
}

/* Ends a pending request that will not run and audits it: 0, or
 * aud_record's error (the call then says so: nothing ran either way). */
static int end(struct brk_call *c, struct store_approval *a, const char *state,
    const char *why)
{
	char type[32];

	if (store_approval_end(c->b->store, a->id, state, "", why, c->b->now()) != 0) {
		return 0; /* answered meanwhile: its answer is on record */
	}
	snprintf(type, sizeof(type), "approval.%s", state);
	return record(c->b, &(struct aud_event){ .type = type, .actor = c->who.actor,
	    .source = c->who.source, .outcome = "success", .reason = why }, details(a));
}

/* Waits for request a to be answered: 0 approved, ZT_ERR_DENIED with the
 * tool error, ZT_ERR_CANCELLED. */
static int wait_answer(struct brk_call *c, struct store_approval *a, cJSON **result)
{
	int64_t next_progress = 0, start = c->b->now();
	struct store_approval now;
	char text[128];
	int r;

	for (;;) {
		int64_t t = c->b->now();

		if ((r = store_approval_get(c->b->store, a->id, &now)) != 0) {
			return r;
		}
		if (strcmp(now.state, "approved") == 0) {
			r = store_approval_use(c->b->store, a->id) == 0 ? 0 : ZT_ERR_DENIED;
			if (r != 0) {
				*result = mcp_result_error("this call's approval was already used; "
				    "nothing ran");
			}
			snprintf(c->released, sizeof(c->released), "%s", now.approved_at != 0 ?
			    now.approved_by : "step-up");
			store_approval_clear(&now);
			return r;
		}
		if (strcmp(now.state, "denied") == 0) {
			*result = mcp_result_error("denied by %s%s%s; nothing ran", now.answered_by,
			    now.reason[0] != '\0' ? ": " : "", now.reason);
			store_approval_clear(&now);
			return ZT_ERR_DENIED;
		}
		store_approval_clear(&now);
		if (brk_policy_generation(c->b->roles) != a->generation) {
			*result = end(c, a, "withdrawn", "the roles changed while the call waited") != 0 ?
			    mcp_result_error(BRK_GATE_UNRECORDED) : mcp_result_error("the roles changed "
			    "while the call waited; the request no longer holds and nothing ran: call "
			    "again");
			return ZT_ERR_DENIED;
		}
		if (t >= a->expires_at) {
			char ttl[16] = "?";

			dur_format(a->expires_at - a->created_at, ttl, sizeof(ttl));
			if (end(c, a, "expired", "no answer in time") != 0) {
				*result = mcp_result_error(BRK_GATE_UNRECORDED);
			} else {
				*result = mcp_result_error("the call waited %s for %s and got no "
				    "answer; it fails closed: nothing ran", ttl, a->need_approval ?
				    "an approval" : "an MFA step-up");
			}
			return ZT_ERR_DENIED;
		}
		if (t * 1000 >= next_progress) {
			snprintf(text, sizeof(text), "waiting for %s (approval %s): %llds left",
			    a->need_approval ? "approval" : "an MFA step-up", a->id,
			    (long long)(a->expires_at - t));
			brk_front_progress(c->front, (double)(t - start),
			    (double)(a->expires_at - start), text);
			next_progress = t * 1000 + BRK_APPROVAL_PROGRESS_MS;
		}
		if (brk_front_sleep(c->front, BRK_APPROVAL_POLL_MS) != 0) {
			/* Cancelled: the client waits for no answer. */
			(void)end(c, a, "withdrawn", "the client cancelled the call");
			return ZT_ERR_CANCELLED;
		}
	}
}

/* A new pending request for c, stored and audited. */
static int request(struct brk_call *c, int need_mfa, int need_approval,
    struct store_approval *a)
{
	const struct pol_requirements *req = &c->dec.req;
	uint8_t rnd[STORE_APPROVAL_ID_LEN / 2];
	cJSON *d;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = crypto_random(rnd, sizeof(rnd))) != 0 ||
	    (r = crypto_hex(rnd, sizeof(rnd), a->id, sizeof(a->id))) != 0) {
		return r;
	}
	snprintf(a->call_id, sizeof(a->call_id), "%s", c->id);
	snprintf(a->actor, sizeof(a->actor), "%s", c->who.actor);
	snprintf(a->token_hash, sizeof(a->token_hash), "%s", c->who.token_hash);
	snprintf(a->tool, sizeof(a->tool), "%s", c->tool->name);
	snprintf(a->host, sizeof(a->host), "%s", c->host != NULL ? c->host : "");
	snprintf(a->login, sizeof(a->login), "%s", c->login != NULL ? c->login : "");
	a->command = (char *)c->command;  /* borrowed for the insert and the events */
	if ((a->args = json_print(c->args)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	snprintf(a->request_sha256, sizeof(a->request_sha256), "%s", c->request_sha256);
	a->generation = c->generation;
	snprintf(a->rule, sizeof(a->rule), "%s", c->dec.rule);
	a->need_mfa = need_mfa ? (int)req->mfa : 0;
	a->need_approval = need_approval;
	snprintf(a->approvers, sizeof(a->approvers), "%s", req->approvers);
	a->grant_max = req->approval_ttl;
	a->created_at = c->b->now();
	a->expires_at = a->created_at + (need_approval ? req->approval_ttl : BRK_STEPUP_TTL_S);
	snprintf(a->state, sizeof(a->state), "pending");
	if ((r = store_approval_add(c->b->store, a)) == 0) {
		char need[STORE_APPROVERS_MAX + 64];

		missing_text(a, need, sizeof(need));
		if ((d = details(a)) != NULL) {
			cJSON_AddStringToObject(d, "rule", a->rule);
			cJSON_AddStringToObject(d, "needs", need);
			cJSON_AddNumberToObject(d, "expires_at", (double)a->expires_at);
		}
		r = record(c->b, &(struct aud_event){ .type = "approval.requested",
		    .actor = c->who.actor, .source = c->who.source, .outcome = "success" }, d);
	}
	return r;
}

/* A call that comes back, in rounds, for the request (id) it was held
 * on: the request must be this call's (the caller and the canonical
 * request) and still open; then as after an accepted page, it waits for
 * the answer. Returns as brk_approvals_gate(). */
static int resume(struct brk_call *c, const char *id, int declined, cJSON **result)
{
	struct store_approval a;
	int r;

	memset(&a, 0, sizeof(a));
	if (store_approval_get(c->b->store, id, &a) != 0 || strcmp(a.actor, c->who.actor) != 0 ||
	    strcmp(a.request_sha256, c->request_sha256) != 0) {
		store_approval_clear(&a);
		*result = mcp_result_error("approval request %s is not this call's; nothing ran: "
		    "call again without its requestState", id);
		return *result != NULL ? ZT_ERR_DENIED : ZT_ERR_NOMEM;
	}
	snprintf(c->approval_id, sizeof(c->approval_id), "%s", a.id);
	if (a.generation != c->generation &&
	    (strcmp(a.state, "pending") == 0 || strcmp(a.state, "approved") == 0)) {
		/* Asked and answered under other roles: what they required
		 * may not be what these require. */
		r = end(c, &a, "withdrawn", "the roles changed while the call waited");
		*result = r != 0 ? mcp_result_error(BRK_GATE_UNRECORDED) : mcp_result_error(
		    "the roles changed while the call waited; the request no longer holds and "
		    "nothing ran: call again");
		store_approval_clear(&a);
		return *result != NULL ? ZT_ERR_DENIED : ZT_ERR_NOMEM;
	}
	if (strcmp(a.state, "pending") != 0 && strcmp(a.state, "approved") != 0) {
		*result = mcp_result_error("approval request %s is %s; nothing ran%s", a.id, a.state,
		    strcmp(a.state, "used") == 0 ? ": its call ran already" : "");
		store_approval_clear(&a);
		return *result != NULL ? ZT_ERR_DENIED : ZT_ERR_NOMEM;
	}
	if (declined) {
		r = end(c, &a, "withdrawn", "the client declined the approval page");
		*result = r != 0 ? mcp_result_error(BRK_GATE_UNRECORDED) :
		    mcp_result_error("the approval was declined; nothing ran");
		r = ZT_ERR_DENIED;
	} else {
		r = wait_answer(c, &a, result);
	}
	brk_front_held_done(c->front, a.id);
	store_approval_clear(&a);
	if (r == ZT_ERR_CANCELLED && *result != NULL) {
		return ZT_ERR_DENIED;
	}
	return r;
}

int brk_approvals_gate(struct brk_call *c, cJSON **result)
{
	const struct pol_requirements *req = &c->dec.req;
	struct store_approval a;
	char url[sizeof(c->b->base_url) + 64], grant[STORE_APPROVAL_ID_LEN + 1];
	int64_t t = c->b->now();
	const char *back = NULL;
	int need_mfa, need_approval, declined = 0, r;

	need_mfa = req->mfa == POL_MFA_PER_CALL || (req->mfa == POL_MFA_PER_SESSION &&
	    (c->who.mfa_verified_at == 0 || t - c->who.mfa_verified_at >= req->mfa_window));
	need_approval = req->approval;
	if ((back = brk_front_resumed(c->front, &declined)) != NULL && (need_mfa || need_approval)) {
		return resume(c, back, declined, result);
	}
	if (need_approval && store_approval_grant(c->b->store, c->request_sha256, c->generation,
	    t, grant) == 0) {
		need_approval = 0;
		snprintf(c->released, sizeof(c->released), "grant %s", grant);
	}
	if (!need_mfa && !need_approval) {
		if (c->released[0] == '\0' && req->mfa == POL_MFA_PER_SESSION) {
			snprintf(c->released, sizeof(c->released), "session step-up");
		}
		return 0;
	}
	if ((r = request(c, need_mfa, need_approval, &a)) != 0) {
		a.command = NULL;
		store_approval_clear(&a);
		*result = mcp_result_error("the call needs a person's answer, but the request "
		    "cannot be recorded (%s); nothing ran", zt_strerror(r));
		return *result != NULL ? ZT_ERR_DENIED : ZT_ERR_NOMEM;
	}
	snprintf(c->approval_id, sizeof(c->approval_id), "%s", a.id);
	page_url(c->b, a.id, url, sizeof(url));
	if ((r = tell(c, &a, url, result)) == ASKED) {
		/* Pending, with no one waiting until the client comes back. */
		a.command = NULL;
		store_approval_clear(&a);
		return ZT_ERR_DENIED;
	}
	if (r == ZT_ERR_CANCELLED) {
		if (brk_front_cancelled(c->front)) {
			(void)end(c, &a, "withdrawn", "the client cancelled the call");
		} else if (end(c, &a, "withdrawn", "the client declined the approval page") != 0) {
			*result = mcp_result_error(BRK_GATE_UNRECORDED);
		} else {
			*result = mcp_result_error("the approval was declined; nothing ran");
		}
	} else if (r == 0) {
		r = wait_answer(c, &a, result);
	} else {
		(void)end(c, &a, "withdrawn", "the broker could not tell the client");
	}
	brk_front_held_done(c->front, a.id);
	a.command = NULL;
	store_approval_clear(&a);
	if (r == ZT_ERR_CANCELLED && *result != NULL) {
		return ZT_ERR_DENIED;
	}
	return r;
}

/* ---- answering ---- */

/* The request id of a body, loaded into *a; or an error in resp. */
static int load(struct brk *b, const cJSON *body, const char *const *keys,
    struct store_approval *a, struct brk_resp *resp)
{
	const char *id = NULL, *bad = NULL;
	int r;

	if (json_only_keys(body, keys, &bad) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "unknown field \"%.64s\"", bad);
		return ZT_ERR_INVALID;
	}
	if (json_get_str(body, "id", STORE_APPROVAL_ID_LEN, 0, &id) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"id\" must be an approval id");
		return ZT_ERR_INVALID;
	}
	if ((r = store_approval_get(b->store, id, a)) != 0) {
		if (r == ZT_ERR_NOT_FOUND) {
			brk_resp_error(resp, 404, "not_found", "no approval request %s", id);
		} else {
			brk_resp_error(resp, 500, "internal", "internal error");
		}
		return r;
	}
	if (strcmp(a->state, "pending") != 0 || a->expires_at <= b->now() ||
	    brk_policy_generation(b->roles) != a->generation) {
		brk_resp_error(resp, 409, "not_pending", "approval request %s is %s", a->id,
		    strcmp(a->state, "pending") != 0 ? a->state : a->expires_at <= b->now() ?
		    "expired" : "void: the roles changed since the call was held");
		store_approval_clear(a);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* What who may do with pending request a: 'S' step up (own call, MFA
 * missing), 'A' approve (another's call, approval missing, an approver
 * role held), 0 nothing. */
static int may(const struct brk_identity *who, const struct store_approval *a)
{
	if (strcmp(who->actor, a->actor) == 0) {
		return a->need_mfa && a->mfa_at == 0 ? 'S' : 0;
	}
	if (who->kind == STORE_USER && a->need_approval && a->approved_at == 0 &&
	    lists_meet(who->roles, a->approvers)) {
		return 'A';
	}
	return 0;
}

static cJSON *request_json(struct brk *b, const struct store_approval *a, int answer)
{
	char url[sizeof(b->base_url) + 64], need[STORE_APPROVERS_MAX + 64];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		return NULL;
	}
	page_url(b, a->id, url, sizeof(url));
	missing_text(a, need, sizeof(need));
	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "caller", a->actor);
	cJSON_AddStringToObject(o, "tool", a->tool);
	cJSON_AddStringToObject(o, "host", a->host);
	cJSON_AddStringToObject(o, "login", a->login);
	if (a->command != NULL) {
		cJSON_AddStringToObject(o, "command", a->command);
	}
	cJSON_AddItemToObject(o, "arguments", cJSON_Parse(a->args));
	cJSON_AddStringToObject(o, "rule", a->rule);
	cJSON_AddStringToObject(o, "needs", need);
	cJSON_AddStringToObject(o, "answer", answer == 'S' ? "step-up" : answer == 'A' ?
	    "approve" : "none");
	cJSON_AddNumberToObject(o, "created_at", (double)a->created_at);
	cJSON_AddNumberToObject(o, "expires_at", (double)a->expires_at);
	cJSON_AddNumberToObject(o, "grant_max_s", (double)a->grant_max);
	cJSON_AddStringToObject(o, "url", url);
	return o;
}

/* 1 if who may see request a (answered or not): its caller, and the
 * holders of one of its approver roles. */
static int visible(const struct brk_identity *who, const struct store_approval *a)
{
	return strcmp(who->actor, a->actor) == 0 || (who->kind == STORE_USER &&
	    a->need_approval && lists_meet(who->roles, a->approvers));
}

/* Adds to o how request a (no longer pending: answered, or past its
 * time) ended: state ("used": approved, and the call ran; "approved":
 * not run yet; "denied", "withdrawn", "expired"), who answered and when,
 * the reason, a grant's end. */
static void add_outcome(const struct store_approval *a, cJSON *o)
{
	const char *state = a->state, *by = a->answered_by;
	int64_t at = a->answered_at;

	if (strcmp(state, "pending") == 0) {
		/* Past its time, and its call not yet told (or gone). */
		state = "expired";
		at = a->expires_at;
	} else if (strcmp(state, "approved") == 0 || strcmp(state, "used") == 0) {
		/* An approval by another, else the caller's own step-up. */
		by = a->approved_at != 0 ? a->approved_by : a->actor;
		at = a->approved_at > a->mfa_at ? a->approved_at : a->mfa_at;
	}
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "answered_by", by);
	cJSON_AddNumberToObject(o, "answered_at", (double)at);
	cJSON_AddStringToObject(o, "reason", a->reason);
	if (a->grant_until > 0) {
		cJSON_AddNumberToObject(o, "grant_until", (double)a->grant_until);
	}
}

struct ls_arg {
	struct brk *b;
	const struct brk_identity *who;
	int64_t generation;      /* requests of another are void */
	cJSON *list;
	int n;                   /* history: entries listed so far */
};

static int ls_one(const struct store_approval *a, void *arg)
{
	struct ls_arg *la = arg;
	int answer = a->generation == la->generation ? may(la->who, a) : 0;

	if (answer != 0 && !cJSON_AddItemToArray(la->list, request_json(la->b, a, answer))) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* A history entry: a request who may see, up to BRK_APPROVAL_HISTORY_MAX. */
static int history_one(const struct store_approval *a, void *arg)
{
	struct ls_arg *la = arg;
	cJSON *o;

	if (la->n >= BRK_APPROVAL_HISTORY_MAX || !visible(la->who, a)) {
		return 0;
	}
	if ((o = request_json(la->b, a, 0)) == NULL || !cJSON_AddItemToArray(la->list, o)) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	add_outcome(a, o);
	la->n++;
	return 0;
}

void brk_approvals_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp)
{
	static const char *const states[] = { "pending", "history", NULL };
	struct ls_arg la = { b, who, brk_policy_generation(b->roles), NULL, 0 };
	int64_t now = b->now();
	int state = 0, r;

	if (brk_query_word(req, "state", states, 0, &state, resp) != 0) {
		return;
	}
	if ((la.list = cJSON_CreateArray()) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (state == 0) {
		r = store_approval_each_pending(b->store, now, ls_one, &la);
	} else {
		r = store_approval_each_ended(b->store, now, now - BRK_APPROVAL_HISTORY_S,
		    history_one, &la);
	}
	if (r != 0) {
		cJSON_Delete(la.list);
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "approvals", la.list);
}

void brk_approvals_approve(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp)
{
	static const char *const keys[] = { "id", "otp", "for", NULL };
	const char *otp = NULL, *for_text = NULL;
	struct store_approval a;
	int64_t now, grant = 0;
	cJSON *d;
	int answer, r;

	if (load(b, body, keys, &a, resp) != 0) {
		return;
	}
	if ((answer = may(who, &a)) == 0) {
		brk_resp_error(resp, 403, "forbidden", strcmp(who->actor, a.actor) == 0 ?
		    "you cannot approve your own call: it needs approval by a holder of %s" :
		    "approving this call takes a role among %s", a.approvers);
		goto out;
	}
	if (json_get_str(body, "otp", 16, 0, &otp) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"otp\" must be a one-time "
		    "code from your authenticator");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "for") != NULL &&
	    (answer != 'A' || json_get_str(body, "for", 16, 0, &for_text) != 0 ||
	    dur_parse(for_text, 1, a.grant_max, &grant) != 0)) {
		char max[16] = "?";

		dur_format(a.grant_max, max, sizeof(max));
		brk_resp_error(resp, 400, "invalid_request", answer == 'A' ? "field \"for\" must "
		    "be a duration of at most %s (the role's approval.ttl)" : "a step-up is no grant: "
		    "\"for\" is for approvers", max);
		goto out;
	}
	if (brk_auth_stepup(b, req, who, otp, answer == 'S' ? "mfa.stepup" : "approval.approved",
	    resp) != 0) {
		goto out;
	}
	now = b->now();
	r = answer == 'S' ? store_approval_stepup(b->store, a.id, now) :
	    store_approval_approve(b->store, a.id, who->actor, now, grant > 0 ? now + grant : 0);
	if (r == 0 && answer == 'S') {
		/* A fresh proof on the caller's credential: per_session calls of
		 * the next mfa_window need no other. */
		(void)store_session_set_mfa(b->store, a.token_hash, now);
	}
	if (r != 0) {
		brk_resp_error(resp, r == ZT_ERR_NOT_FOUND ? 409 : 500, r == ZT_ERR_NOT_FOUND ?
		    "not_pending" : "internal", r == ZT_ERR_NOT_FOUND ? "approval request %s was "
		    "answered or expired meanwhile" : "internal error", a.id);
		goto out;
	}
	if ((d = details(&a)) != NULL && grant > 0) {
		cJSON_AddNumberToObject(d, "grant_until", (double)(now + grant));
	}
	if (record(b, &(struct aud_event){ .type = answer == 'S' ? "mfa.stepup" :
	    "approval.approved", .actor = who->actor, .source = req->source,
	    .outcome = "success" }, d) != 0) {
		brk_resp_unrecorded(resp);
		goto out;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "id", a.id);
	cJSON_AddStringToObject(resp->json, "answered", answer == 'S' ? "step-up" : "approved");
	if (grant > 0) {
		cJSON_AddNumberToObject(resp->json, "grant_until", (double)(now + grant));
	}
out:
	store_approval_clear(&a);
}

void brk_approvals_deny(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp)
{
	static const char *const keys[] = { "id", "reason", NULL };
	const char *reason = "";
	struct store_approval a;
	cJSON *d;
	int own, r;

	if (load(b, body, keys, &a, resp) != 0) {
		return;
	}
	own = strcmp(who->actor, a.actor) == 0;
	if (!own && may(who, &a) != 'A') {
		brk_resp_error(resp, 403, "forbidden", "denying this call takes a role among %s",
		    a.approvers);
		goto out;
	}
	if (json_get_str_opt(body, "reason", STORE_REASON_MAX - 1, 1, "", &reason) != 0) {
		brk_resp_error(resp, 400, "invalid_request", "field \"reason\" must be a text of at "
		    "most %d bytes", STORE_REASON_MAX - 1);
		goto out;
	}
	if ((r = store_approval_end(b->store, a.id, "denied", who->actor, reason,
	    b->now())) != 0) {
		brk_resp_error(resp, r == ZT_ERR_NOT_FOUND ? 409 : 500, r == ZT_ERR_NOT_FOUND ?
		    "not_pending" : "internal", "approval request %s was answered or expired "
		    "meanwhile", a.id);
		goto out;
	}
	if ((d = details(&a)) != NULL) {
		cJSON_AddStringToObject(d, "reason", reason);
		cJSON_AddBoolToObject(d, "by_caller", own);
	}
	if (record(b, &(struct aud_event){ .type = "approval.denied", .actor = who->actor,
	    .source = req->source, .outcome = "success" }, d) != 0) {
		brk_resp_unrecorded(resp);
		goto out;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "id", a.id);
	cJSON_AddStringToObject(resp->json, "answered", "denied");
out:
	store_approval_clear(&a);
}
