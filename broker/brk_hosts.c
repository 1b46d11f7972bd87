/*
 * brk_hosts.c - visible hosts as JSON, from the agent registry and policy:
 * one host per resource an agent has approved claims for.
 */
#include "broker/brk_hosts.h"

#include <stdlib.h>
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

/* One resource, if the roles may see it (by its effective labels). */
static int add_resource(struct collect *c, const struct brk_resource *res)
{
	struct pol_label labels[BRK_LABELS_MAX];
	cJSON *h, *l;

	if (c->only != NULL && strcmp(c->only, res->res.name) != 0) {
		return 0;
	}
	brk_policy_labels(res->labels, res->nlabels, labels);
	if (!pol_host_visible(c->roles, c->nroles, labels, res->nlabels)) {
		return 0;
	}
	if ((h = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(c->arr, h)) {
		cJSON_Delete(h);
		return ZT_ERR_NOMEM;
	}
	if (cJSON_AddStringToObject(h, "name", res->res.name) == NULL ||
	    cJSON_AddStringToObject(h, "kind", res->res.kind) == NULL ||
	    cJSON_AddStringToObject(h, "agent", res->agent) == NULL ||
	    (l = cJSON_AddObjectToObject(h, "labels")) == NULL ||
	    tun_labels_to_json(res->labels, res->nlabels, l) != 0 ||
	    cJSON_AddBoolToObject(h, "online", res->online) == NULL ||
	    cJSON_AddNumberToObject(h, "last_seen", (double)res->last_seen) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static int add_host(const struct brk_agent_info *ag, void *arg)
{
	struct brk_resource res;
	int r = 0;

	for (size_t i = 0; i < ag->claims.nresources && r == 0; i++) {
		brk_resource_of(ag, i, &res);
		r = add_resource(arg, &res);
	}
	return r;
}

static int by_host_name(const void *x, const void *y)
{
	return strcmp(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)x, "name")->valuestring,
	    cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)y, "name")->valuestring);
}

/* The agents come in name order, their resources do not: sorts arr. */
static int sort_hosts(cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
	cJSON **v, *h;

	if (n < 2) {
		return 0;
	}
	if ((v = calloc(n, sizeof(*v))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	while ((h = cJSON_DetachItemFromArray(arr, 0)) != NULL) {
		v[i++] = h;
	}
	qsort(v, n, sizeof(*v), by_host_name);
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, v[i]);
	}
	free(v);
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
		if ((r = brk_agents_each(b->agents, add_host, &c)) == 0) {
			r = sort_hosts(c.arr);
		}
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
