/*
 * brk_hosts.c - visible hosts as JSON, from the agent registry and policy.
 */
#include "broker/brk_hosts.h"

#include <string.h>

#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "broker/brk_api.h"
#include "broker/brk_policy.h"
#include "common/err.h"
#include "common/log.h"
#include "policy/pol_eval.h"
#include "store/store.h"

struct collect {
	const struct pol_role *const *roles;
	size_t nroles;
	const char *only;
	cJSON *arr;
};

static int add_host(const struct brk_agent_info *ag, void *arg)
{
	struct collect *c = arg;
	struct pol_label labels[TUN_LABELS_MAX];
	cJSON *h, *l;

	if (c->only != NULL && strcmp(c->only, ag->name) != 0) {
		return 0;
	}
	brk_policy_labels(ag->claims.labels, ag->claims.nlabels, labels);
	if (!pol_host_visible(c->roles, c->nroles, labels, ag->claims.nlabels)) {
		return 0;
	}
	if ((h = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(c->arr, h)) {
		cJSON_Delete(h);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(h, "name", ag->name);
	if ((l = cJSON_AddObjectToObject(h, "labels")) == NULL ||
	    tun_labels_to_json(ag->claims.labels, ag->claims.nlabels, l) != 0) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddBoolToObject(h, "online", ag->online);
	cJSON_AddNumberToObject(h, "last_seen", (double)ag->last_seen);
	return 0;
}

int brk_hosts_visible(struct brk *b, const char *roles, const char *only, cJSON **out,
    struct pol_decision *dec)
{
	struct brk_policy_set set;
	struct pol_request req;
	struct pol_decision d;
	struct collect c;
	int r;

	*out = NULL;
	if ((r = brk_policy_load(b->roles, roles, &set)) != 0) {
		log_error("cannot load roles %s: %s", roles, zt_strerror(r));
		return r;
	}
	memset(&req, 0, sizeof(req));
	req.tool = BRK_HOSTS_TOOL;
	memset(&c, 0, sizeof(c));
	c.roles = set.roles;
	c.nroles = set.n;
	c.only = only;
	if ((r = pol_decide(c.roles, c.nroles, &req, &d)) == 0 && !d.allow) {
		r = ZT_ERR_DENIED;
	}
	if (dec != NULL) {
		*dec = d;
	}
	if (r != 0) {
		brk_policy_release(&set);
		return r;
	}
	if ((c.arr = cJSON_CreateArray()) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (b->agents != NULL) {
		r = brk_agents_each(b->agents, add_host, &c);
	}
	brk_policy_release(&set);
	if (r != 0) {
		cJSON_Delete(c.arr);
		return r;
	}
	*out = c.arr;
	return 0;
}

int brk_tool_possible(struct brk *b, const char *roles, const char *tool)
{
	struct brk_policy_set set;
	int ok;

	if (brk_policy_load(b->roles, roles, &set) != 0) {
		return 0;
	}
	ok = pol_tool_possible(set.roles, set.n, tool);
	brk_policy_release(&set);
	return ok == 1;
}

void brk_hosts_api(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    struct brk_resp *resp)
{
	struct pol_decision dec;
	cJSON *hosts = NULL;
	int r;

	(void)req;
	if ((r = brk_hosts_visible(b, who->roles, NULL, &hosts, &dec)) == ZT_ERR_DENIED) {
		brk_resp_error(resp, 403, "forbidden", "%s", dec.rule);
		return;
	}
	if (r != 0) {
		brk_resp_error(resp, 500, "internal", "internal error");
		return;
	}
	resp->status = 200;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "hosts", hosts);
}
