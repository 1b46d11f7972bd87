/*
 * pol_eval.h - deciding a request against an identity's roles, and
 * explaining the decision.
 *
 * A role has at most one allow and one deny section. A section matches a
 * request when every key present in it matches:
 *   hosts   every label selector matches one of the host's labels: the label
 *           must exist and its value match the glob; "*" therefore requires
 *           the label to exist (with any value);
 *   logins  the request's login matches one of the globs: exactly in an
 *           allow section, ignoring ASCII case in a deny section (so
 *           "deny: logins: [root]" also refuses ROOT and Root, and
 *           "allow: logins: [ubuntu]" does not allow Ubuntu);
 *   tools   the request's tool matches one of the globs.
 * An absent key matches anything; a section with no keys matches nothing.
 * A request may lack a host (host == NULL, e.g. list_hosts) or a login
 * (login == NULL, e.g. list_hosts, or a tool that runs as no account). A
 * selector on a field the request lacks is satisfied in an allow section
 * (there is nothing to restrict) and not matched in a deny section (there is
 * nothing to deny). Callers therefore MUST pass the host and the login for
 * every tool that acts on a host or as a login.
 *
 * Deny beats allow across all roles; when nothing matches, the request is
 * denied. All functions are pure: no I/O, no globals, safe from any thread.
 */
#ifndef ZT_POL_EVAL_H
#define ZT_POL_EVAL_H

#include <stddef.h>

#include "policy/pol_role.h"

#define POL_RULE_MAX 512

struct pol_label {
	const char *key;
	const char *value;
};

struct pol_request {
	const char *tool;               /* required */
	const char *host;               /* NULL: the tool acts on no one host */
	const struct pol_label *labels; /* the host's labels (ignored if no host) */
	size_t nlabels;
	const char *login;              /* NULL: the tool uses no login */
};

struct pol_decision {
	int allow;                      /* 1 allow, 0 deny */
	char role[POL_NAME_MAX + 1];    /* the deciding role, "" when none matched */
	/* e.g. "deny: role ai-ops-readonly denies tool file_write on host web1
	 * (env=staging) as ubuntu" or "deny: no role allows tool ssh_exec on host
	 * db1 (env=prod) as root"; non-printable bytes are shown as '?', and an
	 * over-long text ends in "...". */
	char rule[POL_RULE_MAX];
	/* 1 when req names a host these roles may not see (pol_host_visible):
	 * always a deny. Callers then answer exactly as for a host that does
	 * not exist, so that hidden hosts cannot be discovered, and keep the
	 * rule (which names the host's labels) for the audit only. */
	int host_hidden;
};

/* Decides req against roles[0..nroles) into *out. The first deny section that
 * matches (in role order) decides; otherwise the first allow section;
 * otherwise "no role allows". 0, or ZT_ERR_INVALID (NULL req, out or tool, a
 * NULL role or label key/value); on error *out says deny. */
int pol_decide(const struct pol_role *const *roles, size_t nroles,
    const struct pol_request *req, struct pol_decision *out);

/* 1 if the roles could ever allow tool: some non-empty allow section either
 * has no tools key or lists a glob matching tool, and no deny section that
 * has only a tools key matches tool. 0 otherwise (also on NULL arguments).
 * For filtering tools/list; pol_decide still decides each call. */
int pol_tool_possible(const struct pol_role *const *roles, size_t nroles, const char *tool);

/* 1 if a host with these labels is visible: some non-empty allow section's
 * hosts selector matches them (no hosts key matches every host), and no deny
 * section that has only a hosts key matches them. 0 otherwise. */
int pol_host_visible(const struct pol_role *const *roles, size_t nroles,
    const struct pol_label *labels, size_t nlabels);

#endif
