/*
 * brk_gate.c - the steps every tool call walks (brk_gate.h).
 */
#include "broker/brk_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_approvals.h"
#include "broker/brk_front.h"
#include "broker/brk_hosts.h"
#include "broker/brk_policy.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"

/* ---- the canonical request ---- */

int brk_gate_request_hash(const char *actor, const char *tool, const cJSON *args,
    char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct buf *b = buf_new(2 * MCP_MSG_MAX);
	uint8_t digest[CRYPTO_SHA256_LEN];
	int r = ZT_ERR_NOMEM;

	out[0] = '\0';
	if (b != NULL && (r = buf_put_cstring(b, "zt-request-v1")) == 0 &&
	    (r = buf_put_cstring(b, actor)) == 0 && (r = buf_put_cstring(b, tool)) == 0 &&
	    (r = json_canonical(b, args, MCP_JSON_DEPTH)) == 0) {
		crypto_sha256(buf_ptr(b), buf_len(b), digest);
		r = crypto_hex(digest, sizeof(digest), out, CRYPTO_SHA256_HEX_LEN + 1);
	}
	buf_free(b);
	return r;
}

/* ---- audit ---- */

/* The request part every event of a call carries. NULL on ENOMEM. */
static cJSON *details(const struct brk_call *c)
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	cJSON *d = cJSON_CreateObject();

	if (d == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(d, "tool", c->tool->name);
	cJSON_AddStringToObject(d, "call_id", c->id);
	cJSON_AddStringToObject(d, "request_id", c->front->request_id);
	if (c->front->traceparent != NULL) {
		cJSON_AddStringToObject(d, "traceparent", c->front->traceparent);
	}
	if (c->front->tracestate != NULL) {
		cJSON_AddStringToObject(d, "tracestate", c->front->tracestate);
	}
	if (c->host != NULL) {
		cJSON_AddStringToObject(d, "host", c->host);
	}
	if (c->login != NULL) {
		cJSON_AddStringToObject(d, "login", c->login);
	}
	if (c->command != NULL) {
		crypto_sha256(c->command, strlen(c->command), digest);
		crypto_hex(digest, sizeof(digest), hex, sizeof(hex));
		cJSON_AddStringToObject(d, "command", c->command);
		cJSON_AddNumberToObject(d, "command_bytes", (double)strlen(c->command));
		cJSON_AddStringToObject(d, "command_sha256", hex);
	}
	if (c->path != NULL) {
		cJSON_AddStringToObject(d, "path", c->path);
	}
	if (c->request_sha256[0] != '\0') {
		cJSON_AddStringToObject(d, "request_sha256", c->request_sha256);
	}
	return d;
}

/* Records an event of the call, tool.NAME or tool.NAME.result (suffix),
 * by its caller (d is taken; NULL when the details could not be made). 0
 * or a ZT_ERR_*: a call is never on record only in part, so the caller
 * stops on an error. */
static int record_call(const struct brk_call *c, const char *suffix, const char *outcome,
    cJSON *d)
{
	char type[96];
	int r = ZT_ERR_NOMEM;

	snprintf(type, sizeof(type), "tool.%s%s", c->tool->name, suffix);
	if (d != NULL) {
		r = aud_record(c->b->store, c->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = type, .actor = c->who.actor, .source = c->who.source,
		    .outcome = outcome, .details = d });
	}
	cJSON_Delete(d);
	return r;
}

/* Audits a call that does not run (reason; the rule when a decision made
 * it) and answers with a tool error saying message. */
static int refuse(struct brk_call *c, const char *outcome, const char *reason, int with_rule,
    const char *message, cJSON **result)
{
	cJSON *d = details(c);

	if (d != NULL) {
		cJSON_AddStringToObject(d, "reason", reason);
		if (with_rule) {
			cJSON_AddStringToObject(d, "rule", c->dec.rule);
			cJSON_AddBoolToObject(d, "host_hidden", c->dec.host_hidden);
		}
	}
	if (record_call(c, "", outcome, d) != 0) {
		*result = mcp_result_error(BRK_GATE_UNRECORDED);
	} else {
		*result = mcp_result_error("%s", message);
	}
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* ---- the steps ---- */

/* The policy's request for c, with path for its path (the host's labels
 * into labels, which must outlive req). */
static void request_of(const struct brk_call *c, const char *path,
    struct pol_label labels[BRK_LABELS_MAX], struct pol_request *req)
{
	memset(req, 0, sizeof(*req));
	req->tool = c->tool->name;
	req->login = c->login;
	req->command = c->command;
	req->path = path;
	req->bot = c->who.kind == STORE_BOT;
	if (c->tool->flags & BRK_TOOL_HOST) {
		brk_policy_labels(c->resource.labels, c->resource.nlabels, labels);
		req->host = c->host;
		req->labels = labels;
		req->nlabels = c->resource.nlabels;
	}
}

static int decide(struct brk_call *c, char *unknown, size_t unknownsz, cJSON **result)
{
	struct pol_label labels[BRK_LABELS_MAX];
	struct pol_request req;

	if (c->tool->flags & BRK_TOOL_HOST) {
		/* A host the caller may not see gets this answer too, word for
		 * word: its name, its labels and even its existence stay hidden. */
		snprintf(unknown, unknownsz, "no host named %s (list_hosts shows the hosts you "
		    "may use)", c->host);
		if (brk_agents_resource(c->b->agents, c->host, &c->resource) != 0) {
			refuse(c, "denied", "unknown host", 0, unknown, result);
			return ZT_ERR_DENIED;
		}
	}
	request_of(c, c->path, labels, &req);
	brk_policy_decide(c->b->roles, c->who.roles, &req, &c->dec, &c->generation);
	if (c->dec.host_hidden) {
		refuse(c, "denied", c->dec.rule, 1, unknown, result);
		return ZT_ERR_DENIED;
	}
	if (!c->dec.allow) {
		refuse(c, "denied", c->dec.rule, 1, c->dec.rule, result);
		return ZT_ERR_DENIED;
	}
	if ((c->tool->flags & BRK_TOOL_HOST) && c->resource.label_clash[0] != '\0') {
		char why[POL_RULE_MAX];

		snprintf(why, sizeof(why), "deny: resource %s gives label %s another value than "
		    "its agent %s does (its join token's, or its own): an operator must resolve "
		    "that before it is used", c->host, c->resource.label_clash, c->resource.agent);
		refuse(c, "denied", why, 1, why, result);
		return ZT_ERR_DENIED;
	}
	return 0;
}

/* Runs the tool and audits its outcome; a result whose outcome is not on
 * record is withheld. */
static int run(struct brk_call *c, cJSON **result)
{
	const char *outcome;
	cJSON *d;
	int r;

	if ((c->outcome = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = c->tool->run(c, result);
	outcome = r == ZT_ERR_CANCELLED ? "cancelled" : c->denied ? "denied" :
	    (r != 0 || c->failed) ? "failure" : "success";
	if ((d = details(c)) != NULL) {
		const cJSON *k;

		cJSON_ArrayForEach(k, c->outcome) {
			cJSON_AddItemToObject(d, k->string, cJSON_Duplicate(k, 1));
		}
	}
	if (record_call(c, ".result", outcome, d) != 0) {
		cJSON_Delete(*result);
		*result = mcp_result_error("the call ran but its outcome could not be audited; "
		    "its result is withheld");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (r == ZT_ERR_CANCELLED) {
		cJSON_Delete(*result);
		*result = NULL;
	}
	return r;
}

/* The steps of brk_gate_call on c, set up by it. */
static int walk(struct brk_call *c, const cJSON *args, cJSON **result)
{
	struct brk *b = c->b;
	const struct brk_tool *t = c->tool;
	char err[BRK_GATE_ERR_MAX], unknown[160];
	uint8_t rnd[BRK_GATE_CALL_ID_LEN / 2];
	cJSON *d;
	int r;

	if ((r = brk_identity_load(b, c->front->credential, c->front->source, &c->who)) != 0) {
		*result = mcp_result_error("your credential no longer holds (%s): log in again",
		    brk_identity_refusal(r));
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), c->id, sizeof(c->id)) != 0) {
		return ZT_ERR_CRYPTO;
	}
	if (t->parse != NULL && t->parse(c, args, err, sizeof(err)) != 0) {
		*result = mcp_result_error("%s", err);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (t->flags & BRK_TOOL_OPEN) {
		return t->run(c, result);
	}
	if ((r = brk_gate_request_hash(c->who.actor, t->name, args, c->request_sha256)) != 0) {
		return r;
	}
	if (decide(c, unknown, sizeof(unknown), result) != 0) {
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if ((r = brk_approvals_gate(c, result)) != 0) {
		if (r == ZT_ERR_DENIED) {
			return *result != NULL ? 0 : ZT_ERR_NOMEM;
		}
		return r;
	}
	/* A call that waited runs on the roles it was decided on, by the
	 * credential that asked, or not at all; and is decided again on the
	 * host as it is now (its labels or agent may have changed). */
	if (c->approval_id[0] != '\0') {
		char roles[sizeof(c->who.roles)];
		int64_t gen = c->generation;

		memcpy(roles, c->who.roles, sizeof(roles));
		if (brk_identity_load(b, c->front->credential, c->front->source, &c->who) != 0 ||
		    strcmp(c->who.roles, roles) != 0 ||
		    brk_policy_generation(b->roles) != gen) {
			refuse(c, "denied", "the roles or the credential changed while the call "
			    "waited", 0, "the roles changed while the call waited; its approval no "
			    "longer holds and nothing ran: call again", result);
			return *result != NULL ? 0 : ZT_ERR_NOMEM;
		}
		if (decide(c, unknown, sizeof(unknown), result) != 0) {
			return *result != NULL ? 0 : ZT_ERR_NOMEM;
		}
	}
	/* The decision is on record before anything runs. */
	if ((d = details(c)) != NULL) {
		cJSON_AddStringToObject(d, "rule", c->dec.rule);
		if (c->released[0] != '\0') {
			cJSON_AddStringToObject(d, "released_by", c->released);
		}
		if (c->approval_id[0] != '\0') {
			cJSON_AddStringToObject(d, "approval_id", c->approval_id);
		}
		if (c->timeout_s > 0) {
			cJSON_AddNumberToObject(d, "timeout_s", (double)c->timeout_s);
		}
	}
	if (record_call(c, "", "allowed", d) != 0) {
		*result = mcp_result_error(BRK_GATE_UNRECORDED);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	r = run(c, result);
	cJSON_Delete(c->outcome);
	return r;
}

int brk_gate_call(struct brk *b, const struct brk_tool *t, const struct brk_front *front,
    const cJSON *args, cJSON **result)
{
	struct brk_call c;
	int r;

	*result = NULL;
	memset(&c, 0, sizeof(c));
	c.b = b;
	c.front = front;
	c.tool = t;
	c.args = args;
	r = walk(&c, args, result);
	if (c.release != NULL) {
		c.release(c.held);
	}
	return r;
}

int brk_gate_path_allowed(struct brk_call *c, const char *path)
{
	struct pol_label labels[BRK_LABELS_MAX];
	struct pol_request req;
	struct pol_decision d;

	request_of(c, path, labels, &req);
	brk_policy_decide(c->b->roles, c->who.roles, &req, &d, NULL);
	return d.allow && pol_demand_cmp(&d.req, &c->dec.req) <= 0;
}

int brk_gate_recheck_path(struct brk_call *c, const char *path, cJSON **result)
{
	struct pol_label labels[BRK_LABELS_MAX];
	struct pol_request req;
	struct pol_decision d;
	const char *why = NULL;
	/* A person approved, or stepped up for, this very call: its path. */
	int bound = c->dec.req.approval || c->dec.req.mfa == POL_MFA_PER_CALL;

	request_of(c, path, labels, &req);
	brk_policy_decide(c->b->roles, c->who.roles, &req, &d, NULL);
	if (d.allow && pol_demand_cmp(&d.req, &c->dec.req) <= 0 &&
	    (!bound || strcmp(path, c->path) == 0)) {
		return 0;
	}
	/* A path that resolves somewhere only a more demanding role allows
	 * would skip that role's MFA or approval; one that resolves elsewhere
	 * than the path a person approved would run what they did not see:
	 * refused, with the way on. */
	if (d.allow && pol_demand_cmp(&d.req, &c->dec.req) <= 0) {
		d.allow = 0;
		snprintf(d.rule, sizeof(d.rule), "refused: the call was approved (or stepped up "
		    "for) on its path as written");
		why = "; an approved call runs only on the path a person saw: call again with the "
		    "resolved path";
	} else {
		why = d.allow ? "; that path needs more (MFA or approval) than the path asked "
		    "for: call again with it" : "";
	}
	c->denied = 1;
	cJSON_AddStringToObject(c->outcome, "status", "denied");
	cJSON_AddStringToObject(c->outcome, "rule", d.rule);
	*result = mcp_result_error("%s (the host resolved %s to %s)%s", d.rule, c->path, path, why);
	return *result != NULL ? ZT_ERR_DENIED : ZT_ERR_NOMEM;
}

int brk_gate_only_keys(const struct brk_call *c, const cJSON *args, const char *const *keys,
    char *err, size_t errsz)
{
	const char *bad = NULL;
	size_t used;
	int n;

	if (json_only_keys(args, keys, &bad) == 0) {
		return 0;
	}
	n = snprintf(err, errsz, "unknown argument \"%.64s\"; %s takes", bad != NULL ? bad : "?",
	    c->tool->name);
	used = n > 0 && (size_t)n < errsz ? (size_t)n : errsz;
	for (size_t i = 0; keys[i] != NULL && used < errsz; i++) {
		n = snprintf(err + used, errsz - used, "%s%s", i == 0 ? " " :
		    keys[i + 1] == NULL ? " and " : ", ", keys[i]);
		used += n > 0 ? (size_t)n : 0;
	}
	return ZT_ERR_INVALID;
}

int brk_gate_visible(struct brk *b, const struct brk_tool *t, const char *roles)
{
	return (t->flags & BRK_TOOL_OPEN) || brk_tool_possible(b, roles, t->name);
}
