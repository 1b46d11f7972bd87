/*
 * pol_role.h - roles: one YAML document naming what an identity may and may
 * not do, parsed from untrusted bytes into an opaque, validated struct.
 *
 *   kind: role                      # required, exactly "role"
 *   name: ai-ops-readonly           # required, [a-z0-9][a-z0-9._-]{0,63}
 *   allow:                          # optional rule
 *     hosts: { env: staging, team: "w*" }   # label selectors (globs)
 *     logins: [ubuntu]                       # globs
 *     tools: [ssh_exec, "file_*"]            # globs
 *     commands: ["uptime", "systemctl status *"]   # globs, whole command line
 *     paths: ["/var/log/app-*.log", "/etc/nginx"]  # path globs (below)
 *   deny:                           # optional rule, same keys as allow
 *     tools: [file_write]
 *     commands: ["*rm -rf*"]
 *   options:
 *     max_session_ttl: 8h           # common/dur.h syntax, 1 minute .. 30 days
 *     admin: true                   # true or false, unquoted (default false)
 *     auditor: true                 # reads the audit log and every session
 *                                   # recording; allows no tool by itself
 *                                   # (true or false, default false)
 *     shell: true                   # allow.commands may use shell syntax
 *                                   # (default false; pol_eval.h)
 *     mfa: per_call                 # none (default) | per_session | per_call
 *     mfa_window: 5m                # per_session only: how long a step-up
 *                                   # lasts, 1m .. 24h (default 5m)
 *     approval:                     # another person approves each call
 *       by: [oncall]                # role names whose holders may approve
 *       ttl: 10m                    # how long a request waits, 1m .. 24h
 *                                   # (default 10m)
 *     max_job_duration: 1h          # how long a background command (ssh_exec
 *                                   # background: true) may run before zt
 *                                   # kills it, 10s .. 24h (default 1h)
 *     port_forwarding: true         # the role's allow may allow the tool
 *                                   # port_forward (`ztctl ssh -L`): true or
 *                                   # false, unquoted (default false; its
 *                                   # allow.tools must still match it,
 *                                   # pol_eval.h)
 *     record_input: true            # a terminal session this role allows
 *                                   # records what is typed too, not only
 *                                   # what is shown (default false)
 *     redact_input: true            # the audit of a desktop input call
 *                                   # (rdp_type, rdp_key) this role allows
 *                                   # keeps the input's length, not the
 *                                   # input (default false)
 *
 * Limits: input at most POL_ROLE_MAX bytes, at most POL_MAX_ITEMS entries in
 * each list or map, strings at most POL_MAX_STR bytes and never empty. The
 * schema fixes the nesting (three levels, four under options.approval): any
 * other structure is a type error as soon as it starts, so nesting cannot
 * grow. Anchors, aliases, tags
 * and a second document are refused; so are duplicate keys, unknown keys
 * (named with their line) and empty lists or maps (ambiguous: omit the key
 * to mean "any").
 *
 * Patterns (label values, logins, tools) are printable ASCII without '/',
 * '\', '[' or ']': the only wildcards are '*' and '?', matched with
 * fnmatch(3) and no flags. Command patterns are printable ASCII (spaces and
 * '/' allowed) without '\', '[' or ']'. Path patterns are absolute ("/..."),
 * printable ASCII without '\', '[', ']', empty segments ("//"), "." or ".."
 * segments; '*' and '?' match within one segment and a whole "**" segment
 * matches any number of segments. Label keys are
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63}; approver names are role names.
 * Option values that are words (true, false, none, per_session, per_call)
 * are unquoted. mfa_window without mfa: per_session is an error (it would
 * mean nothing); so is approval without by.
 * How rules decide is in policy/pol_eval.h.
 *
 * Errors are written to a caller-provided buffer as "FILE:LINE: message"
 * (LINE counts from 1). A struct pol_role is immutable after parsing, so it
 * may be shared between threads for reading.
 */
#ifndef ZT_POL_ROLE_H
#define ZT_POL_ROLE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define POL_ROLE_MAX (64 * 1024)  /* bytes of one role document */
#define POL_MAX_ITEMS 64          /* entries in one list or map */
#define POL_MAX_STR 256           /* bytes of one string */
#define POL_NAME_MAX 64           /* bytes of a role name or a label key */
#define POL_TTL_MIN_S 60
#define POL_TTL_MAX_S (30 * 86400)
#define POL_WINDOW_MIN_S 60            /* mfa_window and approval.ttl */
#define POL_WINDOW_MAX_S 86400
#define POL_MFA_WINDOW_DEFAULT_S 300
#define POL_APPROVAL_TTL_DEFAULT_S 600
#define POL_JOB_MIN_S 10               /* options.max_job_duration */
#define POL_JOB_MAX_S 86400
#define POL_JOB_DEFAULT_S 3600
#define POL_ERR_MAX 256           /* enough room for any error message */

struct pol_role;

/* Parses one role document p[0..n). fname names the input in errors (NULL:
 * "role"). On success *out owns a new role (free with pol_role_free). On
 * failure *out is NULL, err (errsz bytes, may be 0) says what and where, and
 * the return is ZT_ERR_TOO_LARGE (input over POL_ROLE_MAX, a list or map over
 * POL_MAX_ITEMS, a string over POL_MAX_STR), ZT_ERR_TYPE (a value of the wrong
 * kind: scalar, list or map), ZT_ERR_INVALID (anything else: YAML syntax,
 * unknown or duplicate or missing key, bad name, pattern or duration, anchor,
 * alias, tag, second document) or ZT_ERR_NOMEM. */
int pol_role_parse(const void *p, size_t n, const char *fname, struct pol_role **out,
    char *err, size_t errsz);

/* No-op on NULL. */
void pol_role_free(struct pol_role *r);

/* The role's name (borrowed, lives as long as r). */
const char *pol_role_name(const struct pol_role *r);

/* options.max_session_ttl in seconds, or 0 when the role sets none. */
int64_t pol_role_max_session_ttl(const struct pol_role *r);

/* options.max_job_duration in seconds; POL_JOB_DEFAULT_S when unset (0
 * for NULL). */
int64_t pol_role_max_job(const struct pol_role *r);

/* options.mfa; POL_MFA_NONE when unset (also for NULL). */
enum pol_mfa { POL_MFA_NONE = 0, POL_MFA_PER_SESSION, POL_MFA_PER_CALL };
enum pol_mfa pol_role_mfa(const struct pol_role *r);
/* "none", "per_session", "per_call" ("?" for any other value). */
const char *pol_mfa_name(enum pol_mfa m);

/* 1 if the role says options.admin: true, else 0 (also for NULL). Holders
 * of such a role administer the broker (join tokens, roles, policy tests
 * over the API); the broker never grants that to bots, whatever their
 * roles say. */
int pol_role_admin(const struct pol_role *r);

/* 1 if the role says options.auditor: true, else 0 (also for NULL).
 * Holders of such a role read the audit log and every recording of a
 * session (GET /v1/audit, /v1/recordings), and nothing else: it allows no
 * tool and administers nothing. The broker treats administrators as
 * auditors too (brk_policy_auditor). */
int pol_role_auditor(const struct pol_role *r);

/* 1 if the role says options.port_forwarding: true, else 0 (also for
 * NULL): only then may its allow section allow the tool port_forward
 * (POL_TOOL_PORT_FORWARD, pol_eval.h). */
int pol_role_port_forwarding(const struct pol_role *r);
/* 1 if the role says options.record_input: true, else 0 (also for NULL). */
int pol_role_record_input(const struct pol_role *r);
/* 1 if the role says options.redact_input: true, else 0 (also for NULL). */
int pol_role_redact_input(const struct pol_role *r);

/* The role as a JSON object with the same keys as the YAML (for storage and
 * listing; durations stay the text the author wrote, admin, auditor, shell,
 * port_forwarding, record_input and redact_input JSON booleans, mfa its word as a JSON string). *out is owned by
 * the caller (cJSON_Delete). 0, ZT_ERR_INVALID (NULL argument), ZT_ERR_NOMEM. */
int pol_role_to_json(const struct pol_role *r, cJSON **out);

/* The line an error of pol_role_parse names ("FILE:LINE: message" with
 * FILE fname, or "role" for NULL), or 0 when err names none (the
 * document's size, out of memory). For callers that point at the line
 * (the web console marks it). */
size_t pol_role_err_line(const char *err, const char *fname);

/* The stored JSON form of a role (pol_role_to_json's, as the store keeps
 * it) as a YAML document in block style that pol_role_parse reads back as
 * the same role: strings plain where YAML allows and quoted otherwise,
 * option words (true, mfa's per_call, ...) plain. For people to read and
 * edit. *out is owned (free it). 0, ZT_ERR_INVALID (j is not such an
 * object), ZT_ERR_TOO_LARGE (over 4 * POL_ROLE_MAX bytes) or
 * ZT_ERR_NOMEM. In policy/pol_role_yaml.c. */
int pol_role_json_yaml(const cJSON *j, char **out);

/* Loads a role from the JSON pol_role_to_json made, with every check of
 * pol_role_parse (JSON is read as YAML flow style, where options.mfa may be
 * a string; errors name "role.json").
 * Same returns as pol_role_parse. */
int pol_role_from_json(const cJSON *j, struct pol_role **out, char *err, size_t errsz);

#endif
