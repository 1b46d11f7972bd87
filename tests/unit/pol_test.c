/*
 * pol_test.c - unit tests for policy/: role parsing (good and bad documents,
 * with the line each error names; commands, paths and the MFA, approval and
 * shell options), decisions with the rule that made them, tools/list and
 * host filtering, and the JSON round trip. Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"

#define MAX_ROLES 3

static const char R_RO[] =
    "kind: role\nname: ai-ops-readonly\n"
    "allow:\n  hosts: {env: staging, team: web}\n  logins: [ubuntu]\n"
    "  tools: [ssh_exec, list_hosts, file_read]\n"
    "deny:\n  tools: [file_write]\n";
static const char R_ADMIN[] =
    "kind: role\nname: admin\nallow:\n  hosts: {env: \"*\"}\n  tools: [\"*\"]\n"
    "deny:\n  hosts: {env: prod}\n  logins: [root]\n";
static const char R_DENY_PROD[] =
    "kind: role\nname: no-prod\ndeny:\n  hosts: {env: prod}\n";
static const char R_EMPTY[] =
    "kind: role\nname: empty\nallow: {}\ndeny: {}\n";
static const char R_GLOB[] =
    "kind: role\nname: glob\nallow:\n  hosts: {env: \"stag*\", team: \"w?b\"}\n"
    "  logins: [\"ub*\"]\n  tools: [\"file_*\"]\n";
static const char R_LIST[] =
    "kind: role\nname: lister\nallow: {tools: [list_hosts]}\n";
static const char R_STAR[] =
    "kind: role\nname: star\nallow: {hosts: {env: \"*\"}, tools: [ssh_exec]}\n";
static const char R_NOROOT[] =
    "kind: role\nname: noroot\ndeny: {logins: [root], tools: [ssh_exec]}\n";
static const char R_ANYLOGIN[] =
    "kind: role\nname: anylogin\nallow: {logins: [\"*\"]}\n";
static const char R_NOADM[] =
    "kind: role\nname: no-adm\ndeny: {logins: [\"adm*\", Ops]}\n";

/* Every key a role may have. */
static const char R_FULL[] =
    "kind: role\nname: full\n"
    "allow:\n  hosts: {env: prod}\n  logins: [ubuntu]\n  tools: [ssh_exec]\n"
    "  commands: [uptime, \"systemctl status *\", \"/usr/bin/df -h\"]\n"
    "  paths: [\"/var/log/**\", \"/etc/nginx/*.conf\", /]\n"
    "deny:\n  commands: [\"*rm -rf*\"]\n  paths: [\"/etc/**/shadow\"]\n"
    "options:\n  max_session_ttl: 8h\n  admin: false\n  shell: true\n"
    "  mfa: per_session\n  mfa_window: 600\n"
    "  approval:\n    by: [oncall, sre]\n    ttl: 15m\n";

static const struct pol_label L_SW[] = { { "env", "staging" }, { "team", "web" } };
static const struct pol_label L_PROD[] = { { "env", "prod" } };
static const struct pol_label L_TEAM[] = { { "team", "web" } };
static const struct pol_label L_SWX[] = { { "env", "stage2" }, { "team", "wxb" } };

#define LBL(a) (a), (sizeof(a) / sizeof((a)[0]))

struct decide_case {
	const char *roles[MAX_ROLES];
	struct pol_request req;
	int allow;
	const char *rule;
};

static const struct decide_case decide_cases[] = {
	/* 1 plain allow, the full explanation */
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu" }, 1,
	  "allow: role ai-ops-readonly allows tool ssh_exec on host web1 "
	  "(env=staging, team=web) as ubuntu" },
	/* 2 deny in the same role beats its allow */
	{ { R_RO }, { "file_write", "web1", LBL(L_SW), "ubuntu" }, 0,
	  "deny: role ai-ops-readonly denies tool file_write" },
	/* 3 wrong login */
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "root" }, 0,
	  "deny: no role allows tool ssh_exec on host web1 (env=staging, team=web) as root" },
	/* 4 wrong label value */
	{ { R_RO }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu" }, 0,
	  "deny: no role allows tool ssh_exec on host db1 (env=prod) as ubuntu" },
	/* 5 missing label: team only, env missing */
	{ { R_RO }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu" }, 0, "no role allows" },
	/* 6 tool not listed */
	{ { R_RO }, { "rdp_screenshot", "web1", LBL(L_SW), "ubuntu" }, 0, "no role allows" },
	/* 7 deny in another role beats allow */
	{ { R_ADMIN, R_DENY_PROD }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu" }, 0,
	  "deny: role no-prod denies tool ssh_exec on host db1" },
	/* 8 deny beats allow regardless of role order */
	{ { R_DENY_PROD, R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu" }, 0,
	  "deny: role no-prod" },
	/* 9 admin, env glob "*" */
	{ { R_ADMIN }, { "anything", "db1", LBL(L_PROD), "ubuntu" }, 1, "allow: role admin" },
	/* 10 admin's own deny: root on prod */
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "root" }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as root" },
	/* 11 root on staging is fine for admin */
	{ { R_ADMIN }, { "ssh_exec", "web1", LBL(L_SW), "root" }, 1, "allow: role admin" },
	/* 12 "*" requires the label to exist */
	{ { R_STAR }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu" }, 0, "no role allows" },
	/* 13 "*" with the label present */
	{ { R_STAR }, { "ssh_exec", "db1", LBL(L_PROD), "x" }, 1, "allow: role star" },
	/* 14 globs in labels, logins and tools */
	{ { R_GLOB }, { "file_read", "s2", LBL(L_SWX), "ubuntu2" }, 1, "allow: role glob" },
	/* 15 '?' matches exactly one character */
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "ub" }, 1, "allow: role glob" },
	/* 16 login glob does not match */
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "admin" }, 0, "no role allows" },
	/* 17 tool glob does not match */
	{ { R_GLOB }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu" }, 0, "no role allows" },
	/* 18 empty sections match nothing */
	{ { R_EMPTY }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu" }, 0, "no role allows" },
	/* 19 an empty deny does not block another role's allow */
	{ { R_EMPTY, R_RO }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu" }, 1,
	  "allow: role ai-ops-readonly" },
	/* 20 no roles at all */
	{ { NULL }, { "list_hosts", NULL, NULL, 0, NULL }, 0,
	  "deny: no role allows tool list_hosts" },
	/* 21 no host, no login: selectors on them do not restrict an allow */
	{ { R_RO }, { "list_hosts", NULL, NULL, 0, NULL }, 1,
	  "allow: role ai-ops-readonly allows tool list_hosts" },
	/* 22 ... and do not trigger a deny (admin denies root on prod only) */
	{ { R_ADMIN, R_LIST }, { "list_hosts", NULL, NULL, 0, NULL }, 1, "allow: role" },
	/* 23 a deny on logins+tools does not hit a login-less request */
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", NULL, NULL, 0, NULL }, 1,
	  "allow: role anylogin" },
	/* 24 ... but does hit root */
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", "h", LBL(L_SW), "root" }, 0,
	  "deny: role noroot" },
	/* 25 multiple roles: the second one allows */
	{ { R_LIST, R_GLOB }, { "file_read", "web1", LBL(L_SW), "ubuntu" }, 1,
	  "allow: role glob" },
	/* 26 multiple roles, none allows */
	{ { R_LIST, R_GLOB, R_STAR }, { "file_write", "w2", LBL(L_TEAM), "ubuntu" }, 0,
	  "deny: no role allows tool file_write on host w2 (team=web) as ubuntu" },
	/* 27 host with no labels: no parentheses */
	{ { R_LIST }, { "ssh_exec", "bare", NULL, 0, "u" }, 0,
	  "no role allows tool ssh_exec on host bare as u" },
	/* 28 an allow with only logins matches any tool on any host */
	{ { R_ANYLOGIN }, { "file_write", "bare", NULL, 0, "u" }, 1, "allow: role anylogin" },
	/* 29 the first matching allow names the role */
	{ { R_ANYLOGIN, R_ADMIN }, { "ssh_exec", "web1", LBL(L_SW), "u" }, 1,
	  "allow: role anylogin" },
	/* 30-35 a deny of a login refuses it in any case (pol_eval.c says why) */
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "ROOT" }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as ROOT" },
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "Root" }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as Root" },
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", "h", LBL(L_SW), "rOoT" }, 0,
	  "deny: role noroot denies tool ssh_exec on host h (env=staging, team=web) as rOoT" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "ADMIN" }, 0,
	  "deny: role no-adm denies tool ssh_exec on host h as ADMIN" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "ops" }, 0,
	  "deny: role no-adm denies tool ssh_exec on host h as ops" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "bdmin" }, 1,
	  "allow: role anylogin" },
	/* 36-38 an allow of a login is exact: another case is another account */
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "Ubuntu" }, 0,
	  "deny: no role allows tool ssh_exec on host web1 (env=staging, team=web) as Ubuntu" },
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "UBUNTU" }, 0, "deny: no role allows" },
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "UBUNTU2" }, 0, "deny: no role allows" },
};

static void load_roles(const char *const *yaml, struct pol_role **roles, size_t *n)
{
	char err[POL_ERR_MAX];
	size_t i;

	*n = 0;
	for (i = 0; i < MAX_ROLES && yaml[i] != NULL; i++) {
		int r = pol_role_parse(yaml[i], strlen(yaml[i]), "t.yaml", &roles[i], err,
		    sizeof(err));
		if (r != 0) {
			fail_msg("role %zu: %s", i, err);
		}
		(*n)++;
	}
}

static void free_roles(struct pol_role **roles, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pol_role_free(roles[i]);
	}
}

static void test_decide_table(void **state)
{
	struct pol_role *roles[MAX_ROLES] = { NULL };
	struct pol_decision d;
	size_t i, n;
	(void)state;

	for (i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		const struct decide_case *c = &decide_cases[i];

		load_roles(c->roles, roles, &n);
		assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &c->req,
		    &d), 0);
		if (d.allow != c->allow || strstr(d.rule, c->rule) == NULL) {
			fail_msg("case %zu: got allow=%d rule \"%s\"; want allow=%d \"%s\"",
			    i + 1, d.allow, d.rule, c->allow, c->rule);
		}
		assert_true(d.allow ? d.role[0] != '\0' : 1);
		/* What may be done may be seen. */
		assert_false(d.allow && d.host_hidden);
		free_roles(roles, n);
	}
}

/* Which denials are of a host the roles may not see (pol_decision's
 * host_hidden), so that callers answer as for a host that does not exist. */
static void test_hidden_hosts(void **state)
{
	static const struct {
		const char *roles[MAX_ROLES];
		struct pol_request req;
		int hidden;
	} cases[] = {
		/* outside every allow's hosts selector */
		{ { R_RO }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu" }, 1 },
		{ { R_STAR }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu" }, 1 },
		{ { NULL }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu" }, 1 },
		/* a deny of nothing but hosts hides them */
		{ { R_ADMIN, R_DENY_PROD }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu" }, 1 },
		/* seen, but the login or the tool is denied */
		{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "root" }, 0 },
		{ { R_RO }, { "file_write", "web1", LBL(L_SW), "ubuntu" }, 0 },
		/* a deny of hosts with logins hides nothing */
		{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "root" }, 0 },
		/* no host in the request, nothing to hide */
		{ { NULL }, { "list_hosts", NULL, NULL, 0, NULL }, 0 },
	};
	struct pol_role *roles[MAX_ROLES] = { NULL };
	struct pol_decision d;
	size_t i, n;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_roles(cases[i].roles, roles, &n);
		assert_int_equal(pol_decide((const struct pol_role *const *)roles, n,
		    &cases[i].req, &d), 0);
		if (d.host_hidden != cases[i].hidden || d.allow) {
			fail_msg("case %zu: got hidden=%d allow=%d (%s); want hidden=%d, a deny",
			    i + 1, d.host_hidden, d.allow, d.rule, cases[i].hidden);
		}
		/* The rule still says why, for the audit. */
		assert_non_null(strstr(d.rule, "deny: "));
		free_roles(roles, n);
	}
}

struct bad_case {
	const char *yaml;
	int err;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "kind: role\nname: x\nallow:\n  hosts: {env: a}\n  tool: [ssh_exec]\n",
	  ZT_ERR_INVALID,
	  "t.yaml:5: unknown key \"tool\" in allow (expected hosts, logins, tools, commands, "
	  "paths)" },
	{ "kind: role\nname: x\ncolour: red\n", ZT_ERR_INVALID,
	  "t.yaml:3: unknown key \"colour\" in role" },
	{ "kind: role\nname: x\noptions: {mfa_windw: 5m}\n", ZT_ERR_INVALID,
	  "t.yaml:3: unknown key \"mfa_windw\" in options (expected max_session_ttl, admin, "
	  "shell, mfa, mfa_window, approval)" },
	{ "kind: role\nname: x\noptions:\n  admin: yes\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.admin must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  admin: \"true\"\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.admin must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  admin: True\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.admin must be true or false" },
	{ "kind: role\nname: x\noptions:\n  admin: 1\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.admin must be true or false" },
	{ "kind: role\nname: x\noptions:\n  admin: [true]\n", ZT_ERR_TYPE,
	  "t.yaml:4: options.admin must be true or false, not a list" },
	{ "kind: role\nname: x\noptions: {admin: true, admin: false}\n", ZT_ERR_INVALID,
	  "t.yaml:3: duplicate key \"admin\" in options" },
	{ "kind: role\nname: x\nallow:\n  tools: ssh_exec\n", ZT_ERR_TYPE,
	  "t.yaml:4: allow.tools must be a list, not a string" },
	{ "kind: role\nname: x\ndeny:\n  - tools\n", ZT_ERR_TYPE,
	  "t.yaml:4: deny must be a map, not a list" },
	{ "kind: role\nname: x\nallow:\n  hosts: {env: [a]}\n", ZT_ERR_TYPE,
	  "t.yaml:4: allow.hosts must be a string, not a list" },
	{ "kind: role\nname: Bad_Name\n", ZT_ERR_INVALID, "t.yaml:2: bad name" },
	{ "kind: role\nname: -x\n", ZT_ERR_INVALID, "t.yaml:2: bad name" },
	{ "kind: role\nname: &a x\n", ZT_ERR_INVALID, "t.yaml:2: anchors are not allowed" },
	{ "kind: role\nname: x\nallow:\n  tools: &t [a]\ndeny:\n  tools: *t\n",
	  ZT_ERR_INVALID, "t.yaml:4: anchors are not allowed" },
	{ "kind: role\nname: x\ndeny: {tools: *t}\n", ZT_ERR_INVALID, "t.yaml:3: " },
	{ "kind: role\nname: !!str x\n", ZT_ERR_INVALID, "t.yaml:2: tags are not allowed" },
	{ "kind: role\nname: x\n---\nkind: role\nname: y\n", ZT_ERR_INVALID,
	  "t.yaml:3: more than one document" },
	{ "name: x\nallow: {tools: [a]}\n", ZT_ERR_INVALID, "t.yaml:3: kind is required" },
	{ "kind: rol\nname: x\n", ZT_ERR_INVALID, "t.yaml:1: kind must be \"role\"" },
	{ "kind: role\n", ZT_ERR_INVALID, "t.yaml:2: name is required" },
	{ "", ZT_ERR_INVALID, "t.yaml:1: empty document" },
	{ "kind: role\nname: x\noptions:\n  max_session_ttl: 8 hours\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.max_session_ttl: bad duration" },
	{ "kind: role\nname: x\noptions:\n  max_session_ttl: 90d\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.max_session_ttl: bad duration" },
	{ "kind: role\nname: x\nkind: role\n", ZT_ERR_INVALID,
	  "t.yaml:3: duplicate key \"kind\" in role" },
	{ "kind: role\nname: x\nallow: {hosts: {env: a, env: b}}\n", ZT_ERR_INVALID,
	  "t.yaml:3: duplicate label \"env\" in allow.hosts" },
	{ "kind: role\nname: x\nallow: {logins: []}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.logins is empty" },
	{ "kind: role\nname: x\nallow: {hosts: {env: \"a/b\"}}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.hosts: bad pattern" },
	{ "kind: role\nname: x\nallow: {tools: [\"[ab]\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.tools: bad pattern" },
	{ "kind: role\nname: x\nallow: {hosts: {\"e v\": a}}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.hosts: bad label key" },
	{ "kind: role\nname: x\nallow: {tools: [\"\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.tools must be a non-empty string" },
	{ "kind: role\nname: x\nallow: {tools: [a, b\n", ZT_ERR_INVALID,
	  "YAML syntax error" },
	{ "- a\n- b\n", ZT_ERR_TYPE, "t.yaml:1: role must be a map, not a list" },
	/* commands: globs with spaces and '/', still no '\', '[' or ']' */
	{ "kind: role\nname: x\nallow:\n  commands: uptime\n", ZT_ERR_TYPE,
	  "t.yaml:4: allow.commands must be a list, not a string" },
	{ "kind: role\nname: x\ndeny:\n  tools: [a]\n  commands: [\"a\\\\b\"]\n", ZT_ERR_INVALID,
	  "t.yaml:5: deny.commands: bad pattern (printable ASCII, wildcards '*' and '?', "
	  "no '\\', '[' or ']')" },
	{ "kind: role\nname: x\nallow: {commands: [\"ls [ab]\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.commands: bad pattern" },
	{ "kind: role\nname: x\nallow: {commands: [\"ls\\tx\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.commands: bad pattern" },
	{ "kind: role\nname: x\nallow: {commands: [{ls: x}]}\n", ZT_ERR_TYPE,
	  "t.yaml:3: allow.commands must be a string, not a map" },
	{ "kind: role\nname: x\nallow: {commands: []}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.commands is empty" },
	{ "kind: role\nname: x\nallow: {commands: [a], commands: [b]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: duplicate key \"commands\" in allow" },
	/* paths: absolute, normalised, "**" only as a whole segment */
	{ "kind: role\nname: x\nallow:\n  paths:\n    - /var/log\n    - relative\n",
	  ZT_ERR_INVALID, "t.yaml:6: allow.paths: bad path pattern: not absolute" },
	{ "kind: role\nname: x\nallow: {paths: [/a/../b]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: a \".\" or \"..\" segment" },
	{ "kind: role\nname: x\nallow: {paths: [/a/./b]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: a \".\" or \"..\" segment" },
	{ "kind: role\nname: x\nallow: {paths: [/a/..]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: a \".\" or \"..\" segment" },
	{ "kind: role\nname: x\ndeny:\n  paths: [/a//b]\n", ZT_ERR_INVALID,
	  "t.yaml:4: deny.paths: bad path pattern: an empty segment (\"//\")" },
	{ "kind: role\nname: x\nallow: {paths: [\"/a/**x\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: \"**\" within a segment" },
	{ "kind: role\nname: x\nallow: {paths: [\"/a/***\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: \"**\" within a segment" },
	{ "kind: role\nname: x\nallow: {paths: [/a/]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: it ends in '/'" },
	{ "kind: role\nname: x\nallow: {paths: [\"/a/[bc]\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: not printable ASCII" },
	{ "kind: role\nname: x\nallow: {paths: [\"/a\\\\b\"]}\n", ZT_ERR_INVALID,
	  "t.yaml:3: allow.paths: bad path pattern: not printable ASCII" },
	/* shell: a boolean, read like admin */
	{ "kind: role\nname: x\noptions:\n  shell: yes\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.shell must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  shell: \"true\"\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.shell must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  shell: {a: b}\n", ZT_ERR_TYPE,
	  "t.yaml:4: options.shell must be true or false, not a map" },
	/* mfa: a word */
	{ "kind: role\nname: x\noptions:\n  mfa: always\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.mfa must be none, per_session or per_call (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  mfa: \"per_call\"\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.mfa must be none, per_session or per_call (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  mfa: [per_call]\n", ZT_ERR_TYPE,
	  "t.yaml:4: options.mfa must be none, per_session or per_call, not a list" },
	/* mfa_window: 1m .. 24h, and only with mfa: per_session (checked once
	 * options are read, at the line of options) */
	{ "kind: role\nname: x\noptions:\n  mfa: per_session\n  mfa_window: 30s\n",
	  ZT_ERR_INVALID, "t.yaml:5: options.mfa_window: bad duration (e.g. 5m, 1h; between "
	  "1m and 24h)" },
	{ "kind: role\nname: x\noptions:\n  mfa: per_session\n  mfa_window: 2d\n",
	  ZT_ERR_INVALID, "t.yaml:5: options.mfa_window: bad duration" },
	{ "kind: role\nname: x\noptions:\n  mfa_window: 10m\n  mfa: per_call\n",
	  ZT_ERR_INVALID, "t.yaml:3: options.mfa_window needs mfa: per_session" },
	{ "kind: role\nname: x\nallow: {tools: [a]}\noptions: {mfa_window: 10m}\n",
	  ZT_ERR_INVALID, "t.yaml:4: options.mfa_window needs mfa: per_session" },
	/* approval: a map whose by names roles */
	{ "kind: role\nname: x\noptions:\n  mfa: per_call\n  approval:\n    ttl: 5m\n",
	  ZT_ERR_INVALID, "t.yaml:5: options.approval needs by" },
	{ "kind: role\nname: x\noptions: {approval: {}}\n", ZT_ERR_INVALID,
	  "t.yaml:3: options.approval needs by" },
	{ "kind: role\nname: x\noptions: {approval: [oncall]}\n", ZT_ERR_TYPE,
	  "t.yaml:3: options.approval must be a map, not a list" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: []\n", ZT_ERR_INVALID,
	  "t.yaml:5: options.approval.by is empty (name at least one role)" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: oncall\n", ZT_ERR_TYPE,
	  "t.yaml:5: options.approval.by must be a list, not a string" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [oncall, On-Call]\n",
	  ZT_ERR_INVALID, "t.yaml:5: options.approval.by: bad role name (expected "
	  "[a-z0-9][a-z0-9._-]{0,63})" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [\"sre*\"]\n", ZT_ERR_INVALID,
	  "t.yaml:5: options.approval.by: bad role name" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [sre, oncall, sre]\n",
	  ZT_ERR_INVALID, "t.yaml:5: duplicate role \"sre\" in options.approval.by" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [[sre]]\n", ZT_ERR_TYPE,
	  "t.yaml:5: options.approval.by must be a string, not a list" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [sre]\n    ttl: 25h\n",
	  ZT_ERR_INVALID, "t.yaml:6: options.approval.ttl: bad duration" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [sre]\n    ttl: {a: 1}\n",
	  ZT_ERR_TYPE, "t.yaml:6: options.approval.ttl must be a string, not a map" },
	{ "kind: role\nname: x\noptions:\n  approval:\n    by: [sre]\n    when: always\n",
	  ZT_ERR_INVALID, "t.yaml:6: unknown key \"when\" in options.approval (expected by, "
	  "ttl)" },
	{ "kind: role\nname: x\noptions: {approval: {by: [a], by: [b]}}\n", ZT_ERR_INVALID,
	  "t.yaml:3: duplicate key \"by\" in options.approval" },
	/* the fourth level exists under options.approval only */
	{ "kind: role\nname: x\nallow: {hosts: {env: {by: [a]}}}\n", ZT_ERR_TYPE,
	  "t.yaml:3: allow.hosts must be a string, not a map" },
	{ "kind: role\nname: x\noptions: {mfa: {approval: x}}\n", ZT_ERR_TYPE,
	  "t.yaml:3: options.mfa must be none, per_session or per_call, not a map" },
};

static void test_bad_table(void **state)
{
	struct pol_role *role = NULL;
	char err[POL_ERR_MAX];
	size_t i;
	int r;
	(void)state;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		r = pol_role_parse(c->yaml, strlen(c->yaml), "t.yaml", &role, err, sizeof(err));
		if (r != c->err || role != NULL || strstr(err, c->msg) == NULL) {
			fail_msg("bad case %zu: got %d \"%s\"; want %d \"%s\"", i + 1, r, err,
			    c->err, c->msg);
		}
	}
}

/* Generated documents: a list one past the limit, a string one past the
 * limit, and input over POL_ROLE_MAX. */
static void test_limits(void **state)
{
	struct pol_role *role = NULL;
	char err[POL_ERR_MAX], *doc = NULL;
	size_t len = 0, i;
	(void)state;

	doc = malloc(POL_ROLE_MAX + 2);
	assert_non_null(doc);
	len = (size_t)snprintf(doc, 64, "kind: role\nname: x\nallow:\n  tools:\n");
	for (i = 0; i < POL_MAX_ITEMS; i++) {
		len += (size_t)snprintf(doc + len, 32, "  - t%zu\n", i);
	}
	assert_int_equal(pol_role_parse(doc, len, "t.yaml", &role, err, sizeof(err)), 0);
	pol_role_free(role);
	len += (size_t)snprintf(doc + len, 32, "  - extra\n");
	assert_int_equal(pol_role_parse(doc, len, "t.yaml", &role, err, sizeof(err)),
	    ZT_ERR_TOO_LARGE);
	assert_null(role);
	assert_non_null(strstr(err, "t.yaml:69: allow.tools has more than 64 entries"));

	len = (size_t)snprintf(doc, 64, "kind: role\nname: x\nallow: {tools: [");
	memset(doc + len, 'a', POL_MAX_STR + 1);
	len += POL_MAX_STR + 1;
	len += (size_t)snprintf(doc + len, 8, "]}\n");
	assert_int_equal(pol_role_parse(doc, len, "t.yaml", &role, err, sizeof(err)),
	    ZT_ERR_TOO_LARGE);
	assert_non_null(strstr(err, "t.yaml:3: allow.tools is longer than 256 bytes"));

	memset(doc, '#', POL_ROLE_MAX + 1);
	assert_int_equal(pol_role_parse(doc, POL_ROLE_MAX + 1, "t.yaml", &role, err,
	    sizeof(err)), ZT_ERR_TOO_LARGE);
	assert_null(role);
	assert_non_null(strstr(err, "larger than"));
	free(doc);

	/* A NUL byte inside the input is refused, not truncated. */
	assert_int_not_equal(pol_role_parse("kind: role\nname: x\0y\n", 20, "t.yaml", &role,
	    err, sizeof(err)), 0);
	assert_null(role);
}

static void test_possible_visible(void **state)
{
	struct pol_role *roles[MAX_ROLES] = { NULL };
	const struct pol_role *const *rr = (const struct pol_role *const *)roles;
	const char *ro[] = { R_RO, NULL, NULL };
	const char *admin_noprod[] = { R_ADMIN, R_DENY_PROD, NULL };
	const char *empty[] = { R_EMPTY, R_NOROOT, NULL };
	const char *glob[] = { R_GLOB, R_LIST, NULL };
	size_t n;
	(void)state;

	load_roles(ro, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 1);
	assert_int_equal(pol_tool_possible(rr, n, "list_hosts"), 1);
	assert_int_equal(pol_tool_possible(rr, n, "file_write"), 0); /* denied outright */
	assert_int_equal(pol_tool_possible(rr, n, "rdp_screenshot"), 0);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_SW)), 1);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_PROD)), 0);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_TEAM)), 0);
	free_roles(roles, n);

	load_roles(admin_noprod, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "whatever"), 1);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_SW)), 1);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_PROD)), 0); /* hosts-only deny */
	assert_int_equal(pol_host_visible(rr, n, NULL, 0), 0);     /* env: "*" needs env */
	free_roles(roles, n);

	/* Empty sections allow nothing; a logins+tools deny is not unconditional. */
	load_roles(empty, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 0);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_SW)), 0);
	free_roles(roles, n);

	load_roles(glob, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "file_read"), 1);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 0);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_PROD)), 1); /* lister: any host */
	free_roles(roles, n);

	assert_int_equal(pol_tool_possible(NULL, 0, "ssh_exec"), 0);
	assert_int_equal(pol_host_visible(NULL, 0, LBL(L_SW)), 0);
	assert_int_equal(pol_tool_possible(rr, 0, NULL), 0);
}

static void test_json_round_trip(void **state)
{
	static const char *const docs[] = { R_RO, R_ADMIN, R_EMPTY, R_GLOB,
	    "kind: role\nname: t\noptions: {max_session_ttl: \"3600\"}\n"
	    "allow: {hosts: {k: \"say \\\"hi\\\"\"}}\n",
	    "kind: role\nname: a\noptions: {admin: true, max_session_ttl: 1h}\n",
	    "kind: role\nname: b\noptions: {admin: false}\n", R_FULL,
	    "kind: role\nname: c\noptions: {mfa: none, shell: false}\n"
	    "deny: {commands: [\"*rm -rf*\"], paths: [/]}\n",
	    "kind: role\nname: d\noptions: {mfa: per_session, approval: {by: [a, b, c]}}\n" };
	struct pol_role *a = NULL, *b = NULL;
	cJSON *ja = NULL, *jb = NULL, *bad = NULL;
	char err[POL_ERR_MAX], *sa = NULL, *sb = NULL;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(pol_role_parse(docs[i], strlen(docs[i]), NULL, &a, err,
		    sizeof(err)), 0);
		assert_int_equal(pol_role_to_json(a, &ja), 0);
		assert_int_equal(pol_role_from_json(ja, &b, err, sizeof(err)), 0);
		assert_int_equal(pol_role_to_json(b, &jb), 0);
		sa = cJSON_PrintUnformatted(ja);
		sb = cJSON_PrintUnformatted(jb);
		assert_string_equal(sa, sb);
		assert_string_equal(pol_role_name(a), pol_role_name(b));
		assert_int_equal(pol_role_max_session_ttl(a), pol_role_max_session_ttl(b));
		assert_int_equal(pol_role_admin(a), pol_role_admin(b));
		assert_int_equal(pol_role_mfa(a), pol_role_mfa(b));
		free(sa);
		free(sb);
		cJSON_Delete(ja);
		cJSON_Delete(jb);
		pol_role_free(a);
		pol_role_free(b);
	}
	/* The stored form is checked like YAML. */
	bad = cJSON_Parse("{\"kind\":\"role\",\"name\":\"x\",\"allow\":{\"tool\":[\"a\"]}}");
	assert_non_null(bad);
	assert_int_equal(pol_role_from_json(bad, &b, err, sizeof(err)), ZT_ERR_INVALID);
	assert_null(b);
	assert_non_null(strstr(err, "role.json:1: unknown key \"tool\" in allow"));
	cJSON_Delete(bad);
	pol_role_free(NULL);
}

static void test_examples(void **state)
{
	static const char *const files[] = { "examples/roles/ai-ops-readonly.yaml",
	    "examples/roles/admin.yaml" };
	static const char *const names[] = { "ai-ops-readonly", "admin" };
	static const int64_t ttls[] = { 8 * 3600, 12 * 3600 };
	static const int admins[] = { 0, 1 };
	struct pol_role *role = NULL;
	char err[POL_ERR_MAX], *text = NULL;
	size_t i, n;
	FILE *f = NULL;
	(void)state;

	for (i = 0; i < 2; i++) {
		f = fopen(files[i], "r");
		if (f == NULL) {
			fail_msg("cannot open %s (run from the repository root)", files[i]);
		}
		text = malloc(POL_ROLE_MAX + 1);
		assert_non_null(text);
		n = fread(text, 1, POL_ROLE_MAX + 1, f);
		fclose(f);
		if (pol_role_parse(text, n, files[i], &role, err, sizeof(err)) != 0) {
			fail_msg("%s", err);
		}
		assert_string_equal(pol_role_name(role), names[i]);
		assert_int_equal(pol_role_max_session_ttl(role), ttls[i]);
		assert_int_equal(pol_role_admin(role), admins[i]);
		pol_role_free(role);
		free(text);
	}
}

/* options.admin: absent and false both say no; only true says yes; the
 * flag survives storage, and an admin role grants no access by itself. */
static void test_admin_option(void **state)
{
	static const char *const docs[] = {
	    "kind: role\nname: plain\n",
	    "kind: role\nname: no\noptions: {admin: false}\n",
	    "kind: role\nname: yes\noptions:\n  admin: true\n",
	};
	static const int want[] = { 0, 0, 1 };
	static const struct pol_request req = { "ssh_exec", "web1", LBL(L_SW), "ubuntu" };
	const struct pol_role *one[1];
	struct pol_role *role = NULL, *back = NULL;
	struct pol_decision d;
	cJSON *j = NULL;
	char err[POL_ERR_MAX];
	size_t i;
	(void)state;

	assert_int_equal(pol_role_admin(NULL), 0);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (pol_role_parse(docs[i], strlen(docs[i]), "t.yaml", &role, err,
		    sizeof(err)) != 0) {
			fail_msg("doc %zu: %s", i, err);
		}
		assert_int_equal(pol_role_admin(role), want[i]);
		assert_int_equal(pol_role_to_json(role, &j), 0);
		assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(j, "options"), "admin")), want[i]);
		assert_int_equal(pol_role_from_json(j, &back, err, sizeof(err)), 0);
		assert_int_equal(pol_role_admin(back), want[i]);
		one[0] = back;
		assert_int_equal(pol_decide(one, 1, &req, &d), 0);
		assert_int_equal(d.allow, 0);
		cJSON_Delete(j);
		pol_role_free(back);
		pol_role_free(role);
	}
}

/* The new options as accessors and as stored JSON: durations as written,
 * booleans as JSON booleans, mfa as its word; defaults stay implicit. */
static void test_options(void **state)
{
	static const char *const bad_json[] = {
		"{\"kind\":\"role\",\"name\":\"x\",\"options\":{\"mfa\":\"always\"}}",
		"{\"kind\":\"role\",\"name\":\"x\",\"options\":{\"shell\":\"true\"}}",
		"{\"kind\":\"role\",\"name\":\"x\",\"options\":{\"mfa\":true}}",
		"{\"kind\":\"role\",\"name\":\"x\",\"options\":{\"approval\":{\"ttl\":\"5m\"}}}",
	};
	static const char R_PER_CALL[] = "kind: role\nname: x\noptions: {mfa: per_call}\n";
	struct pol_role *role = NULL, *back = NULL;
	cJSON *j = NULL, *opt = NULL, *ap = NULL, *bad = NULL;
	char err[POL_ERR_MAX];
	size_t i;
	(void)state;

	assert_int_equal(pol_role_mfa(NULL), POL_MFA_NONE);
	assert_string_equal(pol_mfa_name(POL_MFA_NONE), "none");
	assert_string_equal(pol_mfa_name(POL_MFA_PER_SESSION), "per_session");
	assert_string_equal(pol_mfa_name(POL_MFA_PER_CALL), "per_call");
	assert_string_equal(pol_mfa_name((enum pol_mfa)7), "?");

	assert_int_equal(pol_role_parse(R_FULL, strlen(R_FULL), "t.yaml", &role, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_mfa(role), POL_MFA_PER_SESSION);
	assert_int_equal(pol_role_to_json(role, &j), 0);
	opt = cJSON_GetObjectItemCaseSensitive(j, "options");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opt, "shell")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(opt, "admin")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(opt, "mfa")->valuestring,
	    "per_session");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(opt, "mfa_window")->valuestring,
	    "600");
	ap = cJSON_GetObjectItemCaseSensitive(opt, "approval");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(ap, "ttl")->valuestring, "15m");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ap, "by")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "allow"), "paths")), 3);
	assert_int_equal(pol_role_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(pol_role_mfa(back), POL_MFA_PER_SESSION);
	cJSON_Delete(j);
	pol_role_free(back);
	pol_role_free(role);

	/* An option left out stays out of the JSON (its default applies). */
	assert_int_equal(pol_role_parse(R_PER_CALL, strlen(R_PER_CALL), "t.yaml", &role, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_mfa(role), POL_MFA_PER_CALL);
	assert_int_equal(pol_role_to_json(role, &j), 0);
	opt = cJSON_GetObjectItemCaseSensitive(j, "options");
	assert_int_equal(cJSON_GetArraySize(opt), 1);
	cJSON_Delete(j);
	pol_role_free(role);

	/* Stored JSON gets every check: words, booleans, a required by. */
	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		bad = cJSON_Parse(bad_json[i]);
		assert_non_null(bad);
		if (pol_role_from_json(bad, &back, err, sizeof(err)) == 0 || back != NULL ||
		    strncmp(err, "role.json:1: options.", 21) != 0) {
			fail_msg("bad json %zu accepted or wrong error: %s", i, err);
		}
		cJSON_Delete(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_hidden_hosts),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_possible_visible),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_admin_option),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
