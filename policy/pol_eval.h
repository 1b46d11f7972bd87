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
 *   tools   the request's tool matches one of the globs;
 *   commands  the request's command line, whole, matches one of the globs
 *           (fnmatch(3), no flags: '*' also matches '/' and spaces). In an
 *           allow section of a role without options.shell: true, a command
 *           holding shell syntax (pol_shell_syntax) matches nothing, so
 *           "uptime; id" is not allowed by "uptime*". A deny section
 *           matches the command as written and with each run of blanks made
 *           one space and the ends trimmed ("rm  -rf /" is denied by
 *           "*rm -rf*");
 *   paths   the request's path matches one of the globs (pol_path_match;
 *           in a deny section ignoring ASCII case, as logins, so a host
 *           whose file system ignores case cannot be read around a deny:
 *           the path must be absolute and normal, pol_path_normal; one
 *           that is not matches nothing, so it is denied by an allow
 *           with paths and not denied by a deny). Callers decide on the
 *           path as the host resolves it (symbolic links and all), not on
 *           the text a client sent: see broker/brk_files.h;
 * Rule texts name the request whole, its command and its path quoted and
 * shortened to 160 bytes ("... as ubuntu command \"uptime; id\"", "... as
 * ubuntu path \"/etc/shadow\""). When no role allows
 * a request, the rule says the most specific reason it can: a role whose
 * allow section matched all but a command holding shell syntax (which a
 * command restriction refuses before its globs) gives "deny: role R allows no
 * shell syntax (';') in tool ssh_exec on ... command \"uptime; id\"", a
 * role that would allow a bot but for MFA gives "deny: role R requires MFA
 * (per_call), which a bot cannot give, and names no approver, for tool
 * ...", a request of the tool port_forward that a role would allow but
 * for its options gives "deny: no role of yours allows port forwarding
 * (options.port_forwarding: true) for tool port_forward on ...",
 * otherwise "deny: no role allows tool ...".
 *
 * Port forwarding: the tool named POL_TOOL_PORT_FORWARD ("port_forward",
 * `ztctl ssh -L`) is allowed only by the allow section of a role that says
 * options.port_forwarding: true. The option grants nothing by itself: that
 * section must still match the request as for any tool (hosts, logins,
 * and tools, so "tools: [port_forward]" or a glob matching it), and a role
 * without the option allows no port forwarding whatever its tools say
 * ("tools: ['*']" included). Deny sections apply as usual.
 * An absent key matches anything; a section with no keys matches nothing.
 * A request may lack a host (host == NULL, e.g. list_hosts) or a login
 * (login == NULL, e.g. list_hosts, or a tool that runs as no account) or a
 * command (command == NULL: a tool that runs none) or a path (path ==
 * NULL: a tool that touches no file). A
 * selector on a field the request lacks is satisfied in an allow section
 * (there is nothing to restrict) and not matched in a deny section (there is
 * nothing to deny). Callers therefore MUST pass the host and the login for
 * every tool that acts on a host or as a login.
 *
 * Deny beats allow across all roles; when nothing matches, the request is
 * denied. When several roles allow a request, the least demanding applies
 * (pol_demand_cmp): no approval before approval, then mfa none before
 * per_session before per_call; among equals the first in role order. The
 * decision carries that role's requirements. A bot cannot give an MFA
 * code: for a bot, a role's MFA requirement becomes a requirement of
 * approval when the role names approvers (approval.by), and the role allows
 * nothing when it names none (the rule then says why, if no other role
 * allows the request).
 * All functions are pure: no I/O, no globals, safe from any thread.
 */
#ifndef ZT_POL_EVAL_H
#define ZT_POL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "policy/pol_role.h"

#define POL_RULE_MAX 512
/* The tool that only roles with options.port_forwarding: true allow. */
#define POL_TOOL_PORT_FORWARD "port_forward"
/* Bytes of a comma-separated list of approver roles, with its NUL. */
#define POL_APPROVERS_MAX (POL_MAX_ITEMS * (POL_NAME_MAX + 1))

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
	const char *command;            /* NULL: the tool runs no command */
	int bot;                        /* the caller is a bot (cannot do MFA) */
	const char *path;               /* NULL: the tool touches no file */
};

/* What an allowed request still needs before it runs. */
struct pol_requirements {
	enum pol_mfa mfa;               /* POL_MFA_NONE for a bot (see above) */
	int64_t mfa_window;             /* seconds (per_session) */
	int approval;                   /* 1: another person must approve */
	/* The roles whose holders may approve, comma-separated ("oncall,sre"). */
	char approvers[POL_APPROVERS_MAX];
	int64_t approval_ttl;           /* seconds a request waits for an answer */
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
	/* When allow: what the deciding role requires (all zero when nothing). */
	struct pol_requirements req;
	/* When allow: how long a background command of this request may run
	 * (seconds): the deciding role's options.max_job_duration, i.e. that
	 * of the least demanding allowing role (below), not the longest of
	 * all; 0 on a deny. */
	int64_t max_job_s;
	/* When allow: 1 if the deciding role says options.record_input (a
	 * terminal session records what is typed too). */
	int record_input;
	/* When allow: 1 if the deciding role says options.redact_input (the
	 * audit of a desktop input call keeps the input's length only). */
	int redact_input;
};

/* Orders two requirement sets from least to most demanding: <0 if a asks
 * less than b, 0 if the same, >0 if more. */
int pol_demand_cmp(const struct pol_requirements *a, const struct pol_requirements *b);

/* "MFA step-up (per call); approval by a holder of oncall or sre within
 * 10m", or "nothing" when r requires nothing: for `policy test` and the
 * approval page. out gets at most outsz bytes (truncated with "..."). */
void pol_requirements_text(const struct pol_requirements *r, char *out, size_t outsz);

/* 1 if path is absolute and normal: no empty ("//"), "." or ".." segment,
 * so no trailing '/' either ("/" itself aside). Paths are checked as
 * written: the caller resolves nothing here. */
int pol_path_normal(const char *path);

/* 1 if path (absolute, already normalised by the caller) matches pattern
 * as pol_role.h describes path patterns: '*' and '?' within one segment,
 * a "**" segment any number of segments (also none). 0 otherwise (also
 * for an invalid pattern, a relative path, or one with empty, "." or ".."
 * segments, a trailing '/' included). Bounded work: at most pattern
 * segments times path segments comparisons of one segment. */
int pol_path_match(const char *pattern, const char *path);

/* 1 if command holds shell syntax that could run more or other than the
 * command a glob allowed: ; | & $ ` > < ( ) a backslash, a newline or a
 * carriage return. what (may be NULL) gets a pointer to the first such
 * byte. */
int pol_shell_syntax(const char *command, const char **what);

/* Decides req against roles[0..nroles) into *out. The first deny section that
 * matches (in role order) decides; otherwise the least demanding allowing
 * role (pol_demand_cmp; the first in role order among equals), whose
 * requirements out->req carries; otherwise a deny with the most specific
 * reason (see above). 0, or ZT_ERR_INVALID (NULL req, out or tool, a NULL
 * role or label key/value) or ZT_ERR_NOMEM (a copy of the command for deny
 * sections); on error *out says deny. */
int pol_decide(const struct pol_role *const *roles, size_t nroles,
    const struct pol_request *req, struct pol_decision *out);

/* 1 if the roles could ever allow tool: some non-empty allow section either
 * has no tools key or lists a glob matching tool (for port_forward, only
 * in a role with options.port_forwarding: true), and no deny section that
 * has only a tools key matches tool. 0 otherwise (also on NULL arguments).
 * For filtering tools/list; pol_decide still decides each call. */
int pol_tool_possible(const struct pol_role *const *roles, size_t nroles, const char *tool);

/* 1 if role's allow section names paths and allows tool (no tools key, or
 * one of its globs matches): for a tool that takes no path (ssh_exec), a
 * request has none, so those paths do not bound it (see "paths" above).
 * For warning whoever writes such a role. */
int pol_paths_unbound(const struct pol_role *role, const char *tool);
/* 1 if a host with these labels is visible: some non-empty allow section's
 * hosts selector matches them (no hosts key matches every host), and no deny
 * section that has only a hosts key matches them. 0 otherwise. */
int pol_host_visible(const struct pol_role *const *roles, size_t nroles,
    const struct pol_label *labels, size_t nlabels);

#endif
