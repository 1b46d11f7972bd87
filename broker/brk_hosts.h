/*
 * brk_hosts.h - the hosts a caller may see: the agents the broker knows,
 * filtered by the caller's roles, as JSON. One function feeds every way to
 * the inventory (the MCP list_hosts tool, resources/list, resources/read of
 * zt://hosts/NAME, GET /v1/hosts), so all of them ask the same two
 * questions and always agree: may this identity see the inventory at all
 * (the policy decision for the tool list_hosts, without host or login),
 * and then which hosts (pol_host_visible). A role that denies list_hosts,
 * or allows no tool list_hosts, sees no host through any of them.
 */
#ifndef ZT_BRK_HOSTS_H
#define ZT_BRK_HOSTS_H

#include <cjson/cJSON.h>

struct brk;
struct pol_decision;

/* The URI prefix of host resources. */
#define BRK_HOST_URI "zt://hosts/"
/* The tool whose decision opens the inventory. */
#define BRK_HOSTS_TOOL "list_hosts"

/* An array of {name, kind, agent, labels {k: v} (effective: the agent's,
 * and the resource's own of other keys), online (its agent's), last_seen} for
 * the hosts (resources) the holder of roles ("a,b") may see, in name
 * order; only (may be NULL)
 * restricts it to one host. dec (may be NULL) receives the decision on the
 * inventory as a whole. 0 with *out owned; ZT_ERR_DENIED when the roles
 * may not see the inventory (dec->rule says why; *out is NULL); or another
 * negative ZT_ERR_*. */
int brk_hosts_visible(struct brk *b, const char *roles, const char *only, cJSON **out,
    struct pol_decision *dec);
/* 1 if the holder of roles could ever be allowed tool (pol_tool_possible on
 * the stored roles); 0 otherwise or on error. */
int brk_tool_possible(struct brk *b, const char *roles, const char *tool);

#endif
