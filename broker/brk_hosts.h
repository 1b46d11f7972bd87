/*
 * brk_hosts.h - the hosts a caller may see: the agents the broker knows,
 * filtered by the caller's roles (pol_host_visible), as JSON. One function
 * feeds the MCP list_hosts tool, the zt://hosts/NAME resources and
 * GET /v1/hosts, so all three always agree.
 */
#ifndef ZT_BRK_HOSTS_H
#define ZT_BRK_HOSTS_H

#include <cjson/cJSON.h>

struct brk;

/* The URI prefix of host resources. */
#define BRK_HOST_URI "zt://hosts/"

/* An array of {name, labels {k: v}, online, last_seen} for the hosts the
 * holder of roles ("a,b") may see, in name order; only (may be NULL)
 * restricts it to one host. 0 or a negative ZT_ERR_*; *out is owned. */
int brk_hosts_visible(struct brk *b, const char *roles, const char *only, cJSON **out);
/* 1 if the holder of roles could ever be allowed tool (pol_tool_possible on
 * the stored roles); 0 otherwise or on error. */
int brk_tool_possible(struct brk *b, const char *roles, const char *tool);

#endif
