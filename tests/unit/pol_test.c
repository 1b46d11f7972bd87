/*
 * pol_test.c - unit tests for policy/: role parsing (good and bad documents,
 * with the line each error names), decisions with the rule that made them
 * and what they require (commands, shell syntax, MFA, approval, bots),
 * tools/list and host filtering, the JSON round trip, path matching, the
 * requirement texts and the port_forwarding option. Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 1,
	  "allow: role ai-ops-readonly allows tool ssh_exec on host web1 "
	  "(env=staging, team=web) as ubuntu" },
	/* 2 deny in the same role beats its allow */
	{ { R_RO }, { "file_write", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 0,
	  "deny: role ai-ops-readonly denies tool file_write" },
	/* 3 wrong login */
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "root", NULL, 0, NULL }, 0,
	  "deny: no role allows tool ssh_exec on host web1 (env=staging, team=web) as root" },
	/* 4 wrong label value */
	{ { R_RO }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL }, 0,
	  "deny: no role allows tool ssh_exec on host db1 (env=prod) as ubuntu" },
	/* 5 missing label: team only, env missing */
	{ { R_RO }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu", NULL, 0, NULL }, 0, "no role allows" },
	/* 6 tool not listed */
	{ { R_RO }, { "rdp_screenshot", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL },
	  0, "no role allows" },
	/* 7 deny in another role beats allow */
	{ { R_ADMIN, R_DENY_PROD }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL }, 0,
	  "deny: role no-prod denies tool ssh_exec on host db1" },
	/* 8 deny beats allow regardless of role order */
	{ { R_DENY_PROD, R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL }, 0,
	  "deny: role no-prod" },
	/* 9 admin, env glob "*" */
	{ { R_ADMIN }, { "anything", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL },
	  1, "allow: role admin" },
	/* 10 admin's own deny: root on prod */
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "root", NULL, 0, NULL }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as root" },
	/* 11 root on staging is fine for admin */
	{ { R_ADMIN }, { "ssh_exec", "web1", LBL(L_SW), "root", NULL, 0, NULL }, 1, "allow: role admin" },
	/* 12 "*" requires the label to exist */
	{ { R_STAR }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu", NULL, 0, NULL }, 0, "no role allows" },
	/* 13 "*" with the label present */
	{ { R_STAR }, { "ssh_exec", "db1", LBL(L_PROD), "x", NULL, 0, NULL }, 1, "allow: role star" },
	/* 14 globs in labels, logins and tools */
	{ { R_GLOB }, { "file_read", "s2", LBL(L_SWX), "ubuntu2", NULL, 0, NULL },
	  1, "allow: role glob" },
	/* 15 '?' matches exactly one character */
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "ub", NULL, 0, NULL }, 1, "allow: role glob" },
	/* 16 login glob does not match */
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "admin", NULL, 0, NULL }, 0, "no role allows" },
	/* 17 tool glob does not match */
	{ { R_GLOB }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 0, "no role allows" },
	/* 18 empty sections match nothing */
	{ { R_EMPTY }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 0, "no role allows" },
	/* 19 an empty deny does not block another role's allow */
	{ { R_EMPTY, R_RO }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 1,
	  "allow: role ai-ops-readonly" },
	/* 20 no roles at all */
	{ { NULL }, { "list_hosts", NULL, NULL, 0, NULL, NULL, 0, NULL }, 0,
	  "deny: no role allows tool list_hosts" },
	/* 21 no host, no login: selectors on them do not restrict an allow */
	{ { R_RO }, { "list_hosts", NULL, NULL, 0, NULL, NULL, 0, NULL }, 1,
	  "allow: role ai-ops-readonly allows tool list_hosts" },
	/* 22 ... and do not trigger a deny (admin denies root on prod only) */
	{ { R_ADMIN, R_LIST }, { "list_hosts", NULL, NULL, 0, NULL, NULL, 0, NULL }, 1, "allow: role" },
	/* 23 a deny on logins+tools does not hit a login-less request */
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", NULL, NULL, 0, NULL, NULL, 0, NULL }, 1,
	  "allow: role anylogin" },
	/* 24 ... but does hit root */
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", "h", LBL(L_SW), "root", NULL, 0, NULL }, 0,
	  "deny: role noroot" },
	/* 25 multiple roles: the second one allows */
	{ { R_LIST, R_GLOB }, { "file_read", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 1,
	  "allow: role glob" },
	/* 26 multiple roles, none allows */
	{ { R_LIST, R_GLOB, R_STAR }, { "file_write", "w2", LBL(L_TEAM), "ubuntu", NULL, 0, NULL }, 0,
	  "deny: no role allows tool file_write on host w2 (team=web) as ubuntu" },
	/* 27 host with no labels: no parentheses */
	{ { R_LIST }, { "ssh_exec", "bare", NULL, 0, "u", NULL, 0, NULL }, 0,
	  "no role allows tool ssh_exec on host bare as u" },
	/* 28 an allow with only logins matches any tool on any host */
	{ { R_ANYLOGIN }, { "file_write", "bare", NULL, 0, "u", NULL, 0, NULL },
	  1, "allow: role anylogin" },
	/* 29 the first matching allow names the role */
	{ { R_ANYLOGIN, R_ADMIN }, { "ssh_exec", "web1", LBL(L_SW), "u", NULL, 0, NULL }, 1,
	  "allow: role anylogin" },
	/* 30-35 a deny of a login refuses it in any case (pol_eval.c says why) */
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "ROOT", NULL, 0, NULL }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as ROOT" },
	{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "Root", NULL, 0, NULL }, 0,
	  "deny: role admin denies tool ssh_exec on host db1 (env=prod) as Root" },
	{ { R_NOROOT, R_ANYLOGIN }, { "ssh_exec", "h", LBL(L_SW), "rOoT", NULL, 0, NULL }, 0,
	  "deny: role noroot denies tool ssh_exec on host h (env=staging, team=web) as rOoT" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "ADMIN", NULL, 0, NULL }, 0,
	  "deny: role no-adm denies tool ssh_exec on host h as ADMIN" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "ops", NULL, 0, NULL }, 0,
	  "deny: role no-adm denies tool ssh_exec on host h as ops" },
	{ { R_NOADM, R_ANYLOGIN }, { "ssh_exec", "h", NULL, 0, "bdmin", NULL, 0, NULL }, 1,
	  "allow: role anylogin" },
	/* 36-38 an allow of a login is exact: another case is another account */
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "Ubuntu", NULL, 0, NULL }, 0,
	  "deny: no role allows tool ssh_exec on host web1 (env=staging, team=web) as Ubuntu" },
	{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "UBUNTU", NULL, 0, NULL },
	  0, "deny: no role allows" },
	{ { R_GLOB }, { "file_read", "web1", LBL(L_SW), "UBUNTU2", NULL, 0, NULL },
	  0, "deny: no role allows" },
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

/* Roles with commands and requirements (test_requirements_table). */
static const char R_CMD[] =
    "kind: role\nname: cmd\nallow: {tools: [ssh_exec], commands: [uptime, \"df -h\"]}\n";
static const char R_UPSTAR[] =
    "kind: role\nname: upstar\nallow: {tools: [ssh_exec], commands: [\"uptime*\"]}\n";
static const char R_SHELL[] =
    "kind: role\nname: sh\nallow: {tools: [ssh_exec], commands: [\"echo *\"]}\n"
    "options: {shell: true}\n";
static const char R_ECHO[] =
    "kind: role\nname: echo\nallow: {tools: [ssh_exec], commands: [\"echo *\"]}\n";
static const char R_ANYCMD[] =
    "kind: role\nname: anycmd\nallow: {tools: [ssh_exec]}\n";
static const char R_NORM[] =
    "kind: role\nname: norm\ndeny: {commands: [\"*rm -rf*\"]}\n";
static const char R_DENYUP[] =
    "kind: role\nname: denyup\ndeny: {commands: [uptime]}\n";
static const char R_APPR[] =
    "kind: role\nname: appr\nallow: {tools: [ssh_exec], commands: [\"*\"]}\n"
    "options: {approval: {by: [oncall]}}\n";
static const char R_PC[] =
    "kind: role\nname: pc\nallow: {tools: [ssh_exec]}\n"
    "options: {mfa: per_call, approval: {by: [oncall, sre], ttl: 5m}}\n";
static const char R_MFA[] =
    "kind: role\nname: mfa\nallow: {tools: [ssh_exec]}\noptions: {mfa: per_call}\n";
static const char R_SESS[] =
    "kind: role\nname: sess\nallow: {tools: [ssh_exec]}\n"
    "options: {mfa: per_session, mfa_window: 10m}\n";
static const char R_SESSDEF[] =
    "kind: role\nname: sessdef\nallow: {tools: [ssh_exec]}\noptions: {mfa: per_session}\n";
static const char R_PATHS[] =
    "kind: role\nname: paths\nallow: {tools: [file_read], paths: [\"/var/log/**\"]}\n"
    "deny: {paths: [\"/etc/**\"]}\n";

static const char R_ANYFILE[] =
    "kind: role\nname: anyfile\nallow: {tools: [\"file_*\"]}\n";

/* ssh_exec on web1 as ubuntu: a user's (U) or a bot's (B) command; a
 * user's file_read of a path (F). */
#define U(cmd) { "ssh_exec", "web1", LBL(L_SW), "ubuntu", (cmd), 0, NULL }
#define B(cmd) { "ssh_exec", "web1", LBL(L_SW), "ubuntu", (cmd), 1, NULL }
#define F(path) { "file_read", "web1", LBL(L_SW), "ubuntu", NULL, 0, (path) }
#define ON " on host web1 (env=staging, team=web) as ubuntu command "

struct req_case {
	const char *roles[MAX_ROLES];
	struct pol_request req;
	int allow;
	const char *role;               /* decision.role */
	const char *rule;               /* the whole rule, or its start with "*" */
	struct pol_requirements want;
};

/* Requirements, for the table. */
#define NOTHING { POL_MFA_NONE, 0, 0, "", 0 }
#define APPROVAL(by, ttl) { POL_MFA_NONE, 0, 1, by, ttl }

static const struct req_case req_cases[] = {
	/* 1-2 a command an allow lists, whole */
	{ { R_CMD }, U("uptime"), 1, "cmd",
	  "allow: role cmd allows tool ssh_exec" ON "\"uptime\"", NOTHING },
	{ { R_CMD }, U("df -h"), 1, "cmd", "allow: role cmd allows tool ssh_exec" ON "\"df -h\"",
	  NOTHING },
	/* 3-8 anything more is another command; shell syntax is refused
	 * before the globs, and the rule says so */
	{ { R_CMD }, U("uptime; id"), 0, "",
	  "deny: role cmd allows no shell syntax (';') in tool ssh_exec" ON "\"uptime; id\"",
	  NOTHING },
	{ { R_CMD }, U("df -h /"), 0, "", "deny: no role allows tool ssh_exec" ON "\"df -h /\"",
	  NOTHING },
	{ { R_CMD }, U("$(id)"), 0, "",
	  "deny: role cmd allows no shell syntax ('$') in tool ssh_exec" ON "\"$(id)\"", NOTHING },
	{ { R_CMD }, U("uptime\nid"), 0, "",
	  "deny: role cmd allows no shell syntax ('\\n') in tool ssh_exec" ON "\"uptime?id\"",
	  NOTHING },
	{ { R_CMD }, U("uptime && id"), 0, "", "*deny: role cmd allows no shell syntax ('&')",
	  NOTHING },
	{ { R_CMD }, U("echo `id`"), 0, "", "*deny: role cmd allows no shell syntax ('`')",
	  NOTHING },
	/* 9-17 a glob that would match, but for shell syntax: the rule says so */
	{ { R_UPSTAR }, U("uptime; id"), 0, "",
	  "deny: role upstar allows no shell syntax (';') in tool ssh_exec" ON
	  "\"uptime; id\"", NOTHING },
	{ { R_UPSTAR }, U("uptime\nid"), 0, "",
	  "*deny: role upstar allows no shell syntax ('\\n') in tool ssh_exec", NOTHING },
	{ { R_UPSTAR }, U("uptime\r"), 0, "", "*deny: role upstar allows no shell syntax ('\\r')",
	  NOTHING },
	{ { R_UPSTAR }, U("uptime && id"), 0, "", "*deny: role upstar allows no shell syntax ('&')",
	  NOTHING },
	{ { R_UPSTAR }, U("uptime `id`"), 0, "", "*deny: role upstar allows no shell syntax ('`')",
	  NOTHING },
	{ { R_UPSTAR }, U("uptime $(id)"), 0, "", "*deny: role upstar allows no shell syntax ('$')",
	  NOTHING },
	{ { R_UPSTAR }, U("uptime >/tmp/x"), 0, "",
	  "*deny: role upstar allows no shell syntax ('>')", NOTHING },
	{ { R_UPSTAR }, U("uptime | wc"), 0, "", "*deny: role upstar allows no shell syntax ('|')",
	  NOTHING },
	{ { R_UPSTAR }, U("uptime \\\n"), 0, "",
	  "deny: role upstar allows no shell syntax ('\\\\') in tool ssh_exec" ON
	  "\"uptime \\\\?\"", NOTHING },
	/* 18 arguments a glob allows */
	{ { R_UPSTAR }, U("uptime -p"), 1, "upstar", "*allow: role upstar", NOTHING },
	/* 19-20 shell: true lets the glob take shell syntax */
	{ { R_SHELL }, U("echo $HOME"), 1, "sh", "allow: role sh allows tool ssh_exec" ON
	  "\"echo $HOME\"", NOTHING },
	{ { R_ECHO }, U("echo $HOME"), 0, "",
	  "*deny: role echo allows no shell syntax ('$') in tool ssh_exec", NOTHING },
	/* 21 no commands key: any command, shell syntax included */
	{ { R_ANYCMD }, U("uptime; id"), 1, "anycmd", "*allow: role anycmd", NOTHING },
	/* 22-26 a deny also matches the command with blanks squeezed */
	{ { R_ANYCMD, R_NORM }, U("rm  -rf /"), 0, "norm",
	  "deny: role norm denies tool ssh_exec" ON "\"rm  -rf /\"", NOTHING },
	{ { R_ANYCMD, R_NORM }, U("rm\t-rf /"), 0, "norm",
	  "deny: role norm denies tool ssh_exec" ON "\"rm?-rf /\"", NOTHING },
	{ { R_ANYCMD, R_NORM }, U(" \t rm \t -rf  \t"), 0, "norm", "*deny: role norm", NOTHING },
	{ { R_ANYCMD, R_NORM }, U("cd /; rm -rf tmp"), 0, "norm", "*deny: role norm", NOTHING },
	{ { R_ANYCMD, R_NORM }, U("rm -r -f /"), 1, "anycmd", "*allow: role anycmd", NOTHING },
	/* 27-28 ... and not a request without a command; nor does an allow's
	 * commands key restrict one */
	{ { R_ANYCMD, R_NORM }, U(NULL), 1, "anycmd",
	  "allow: role anycmd allows tool ssh_exec on host web1 (env=staging, team=web) as "
	  "ubuntu", NOTHING },
	{ { R_CMD }, U(NULL), 1, "cmd", "*allow: role cmd", NOTHING },
	/* 29-30 the least demanding allowing role applies, whatever the order */
	{ { R_APPR, R_CMD }, U("uptime"), 1, "cmd", "*allow: role cmd allows", NOTHING },
	{ { R_APPR, R_CMD }, U("id"), 1, "appr", "allow: role appr allows tool ssh_exec" ON
	  "\"id\"", APPROVAL("oncall", 600) },
	/* 31 a deny beats an allow that needs nothing */
	{ { R_CMD, R_DENYUP }, U("uptime"), 0, "denyup",
	  "deny: role denyup denies tool ssh_exec" ON "\"uptime\"", NOTHING },
	/* 32-33 MFA and approval: a user gives both, a bot is approved */
	{ { R_PC }, U("uptime"), 1, "pc", "*allow: role pc",
	  { POL_MFA_PER_CALL, 0, 1, "oncall,sre", 300 } },
	{ { R_PC }, B("uptime"), 1, "pc", "*allow: role pc", APPROVAL("oncall,sre", 300) },
	/* 34-35 MFA and no approver: a bot is refused, and told why */
	{ { R_MFA }, B("uptime"), 0, "",
	  "deny: role mfa requires MFA (per_call), which a bot cannot give, and names no "
	  "approver, for tool ssh_exec" ON "\"uptime\"", NOTHING },
	{ { R_MFA }, U("uptime"), 1, "mfa", "*allow: role mfa",
	  { POL_MFA_PER_CALL, 0, 0, "", 0 } },
	/* 36-37 per_session: the window as given, or the default */
	{ { R_SESS }, U("uptime"), 1, "sess", "*allow: role sess",
	  { POL_MFA_PER_SESSION, 600, 0, "", 0 } },
	{ { R_SESSDEF }, U("uptime"), 1, "sessdef", "*allow: role sessdef",
	  { POL_MFA_PER_SESSION, 300, 0, "", 0 } },
	/* 38-41 ranking: per_session before per_call, no approval before any */
	{ { R_MFA, R_SESS }, U("uptime"), 1, "sess", "*allow: role sess",
	  { POL_MFA_PER_SESSION, 600, 0, "", 0 } },
	{ { R_PC, R_MFA }, U("uptime"), 1, "mfa", "*allow: role mfa",
	  { POL_MFA_PER_CALL, 0, 0, "", 0 } },
	{ { R_APPR, R_SESS }, U("id"), 1, "sess", "*allow: role sess",
	  { POL_MFA_PER_SESSION, 600, 0, "", 0 } },
	{ { R_APPR, R_SESS }, B("id"), 1, "appr", "*allow: role appr", APPROVAL("oncall", 600) },
	/* 42-43 a bot: a role it cannot satisfy gives way to one it can ... */
	{ { R_MFA, R_PC }, B("uptime"), 1, "pc", "*allow: role pc", APPROVAL("oncall,sre", 300) },
	{ { R_MFA, R_SESS }, B("uptime"), 0, "", "*deny: role mfa requires MFA (per_call)",
	  NOTHING },
	/* 44-45 ... and the first role that came close names the reason */
	{ { R_UPSTAR, R_MFA }, B("uptime; id"), 0, "",
	  "*deny: role upstar allows no shell syntax (';')", NOTHING },
	{ { R_MFA, R_UPSTAR }, B("uptime; id"), 0, "",
	  "*deny: role mfa requires MFA (per_call), which a bot", NOTHING },
	{ { R_CMD, R_UPSTAR }, U("uptime; id"), 0, "",
	  "*deny: role cmd allows no shell syntax (';')", NOTHING },
	/* 47 among equals, the first in role order */
	{ { R_ANYCMD, R_CMD }, U("uptime"), 1, "anycmd", "*allow: role anycmd", NOTHING },
	/* 48 a bot with a role that asks nothing */
	{ { R_UPSTAR }, B("uptime"), 1, "upstar", "*allow: role upstar", NOTHING },
	/* 49-50 a request without a path: paths restrict no allow, match no deny */
	{ { R_PATHS }, { "file_read", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 1, "paths",
	  "allow: role paths allows tool file_read on host web1 (env=staging, team=web) as "
	  "ubuntu", NOTHING },
	{ { R_PATHS }, U("uptime"), 0, "", "*deny: no role allows", NOTHING },
	/* 51-56 a request with a path: allow.paths must match, deny.paths must not */
	{ { R_PATHS }, F("/var/log/syslog"), 1, "paths", "allow: role paths allows tool "
	  "file_read on host web1 (env=staging, team=web) as ubuntu path \"/var/log/syslog\"",
	  NOTHING },
	{ { R_PATHS }, F("/var/log"), 1, "paths", "*allow: role paths", NOTHING },
	{ { R_PATHS }, F("/var/lib/x"), 0, "", "deny: no role allows tool file_read on host "
	  "web1 (env=staging, team=web) as ubuntu path \"/var/lib/x\"", NOTHING },
	{ { R_PATHS, R_ANYFILE }, F("/etc/shadow"), 0, "paths", "deny: role paths denies tool "
	  "file_read on host web1 (env=staging, team=web) as ubuntu path \"/etc/shadow\"",
	  NOTHING },
	/* a deny's paths ignore ASCII case (a host may not tell case); an
	 * allow's do not */
	{ { R_PATHS, R_ANYFILE }, F("/ETC/Shadow"), 0, "paths", "*deny: role paths denies tool",
	  NOTHING },
	{ { R_PATHS }, F("/VAR/log/syslog"), 0, "", "*deny: no role allows", NOTHING },
	/* a path that is not normal matches no allow and no deny */
	{ { R_PATHS }, F("/var/log/../../etc/shadow"), 0, "", "*deny: no role allows", NOTHING },
	{ { R_ANYFILE, R_PATHS }, F("/etc//shadow"), 1, "anyfile", "*allow: role anyfile",
	  NOTHING },
};

static void test_requirements_table(void **state)
{
	struct pol_role *roles[MAX_ROLES] = { NULL };
	struct pol_decision d;
	size_t i, n;
	int ok;
	(void)state;

	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		const struct pol_requirements *w = &c->want;

		load_roles(c->roles, roles, &n);
		assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &c->req,
		    &d), 0);
		ok = c->rule[0] == '*' ? strncmp(d.rule, c->rule + 1, strlen(c->rule + 1)) == 0 :
		    strcmp(d.rule, c->rule) == 0;
		if (d.allow != c->allow || !ok || strcmp(d.role, c->role) != 0) {
			fail_msg("case %zu: got allow=%d role \"%s\" rule \"%s\"; want allow=%d "
			    "role \"%s\" rule \"%s\"", i + 1, d.allow, d.role, d.rule, c->allow,
			    c->role, c->rule);
		}
		if (d.req.mfa != w->mfa || d.req.mfa_window != w->mfa_window ||
		    d.req.approval != w->approval || strcmp(d.req.approvers, w->approvers) != 0 ||
		    d.req.approval_ttl != w->approval_ttl) {
			fail_msg("case %zu: got mfa=%d window=%lld approval=%d by \"%s\" ttl=%lld",
			    i + 1, (int)d.req.mfa, (long long)d.req.mfa_window, d.req.approval,
			    d.req.approvers, (long long)d.req.approval_ttl);
		}
		free_roles(roles, n);
	}
}

/* The command in a rule: quoted, escaped, shortened to 160 bytes. */
static void test_rule_command(void **state)
{
	const char *yaml[] = { R_ANYCMD, NULL, NULL };
	struct pol_role *roles[MAX_ROLES] = { NULL };
	struct pol_request req = U(NULL);
	struct pol_decision d;
	char cmd[400], want[400];
	const char *q = NULL;
	size_t n;
	(void)state;

	load_roles(yaml, roles, &n);
	req.command = "say \"hi\" \\ there\x01";
	assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &req, &d), 0);
	assert_string_equal(d.rule, "allow: role anycmd allows tool ssh_exec" ON
	    "\"say \\\"hi\\\" \\\\ there?\"");

	memset(cmd, 'a', 300);
	cmd[300] = '\0';
	req.command = cmd;
	assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &req, &d), 0);
	q = strstr(d.rule, "command \"");
	assert_non_null(q);
	memset(want, 'a', 157);
	snprintf(want + 157, sizeof(want) - 157, "...\"");
	assert_string_equal(q + 9, want);

	/* Exactly 160 bytes (escapes counted) fit whole; 161 do not. */
	memset(cmd, 'b', 158);
	memcpy(cmd + 158, "\"", 2);
	req.command = cmd;
	assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &req, &d), 0);
	q = strstr(d.rule, "command \"");
	assert_int_equal(strlen(q + 9), 160 + 1);
	assert_string_equal(q + 9 + 158, "\\\"\"");
	memcpy(cmd + 158, "b\"", 3);
	assert_int_equal(pol_decide((const struct pol_role *const *)roles, n, &req, &d), 0);
	q = strstr(d.rule, "command \"");
	assert_string_equal(q + 9 + 157, "...\"");
	free_roles(roles, n);
}

static void test_shell_syntax(void **state)
{
	static const char *const bad[] = { "a;b", "a|b", "a&b", "a$b", "a`b", "a>b", "a<b",
	    "a(b", "a)b", "a\\b", "a\nb", "a\rb" };
	const char *what = NULL;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pol_shell_syntax(bad[i], &what), 1);
		assert_ptr_equal(what, bad[i] + 1);
		assert_int_equal(pol_shell_syntax(bad[i], NULL), 1);
	}
	assert_int_equal(pol_shell_syntax("ls -la /var/log/*.log 'x' \"y\" ~ # {a,b} !x", &what),
	    0);
	assert_null(what);
	assert_int_equal(pol_shell_syntax(NULL, &what), 0);
	assert_int_equal(pol_shell_syntax("", NULL), 0);
	assert_int_equal(pol_shell_syntax("uptime; id && x", &what), 1);
	assert_int_equal(*what, ';');
}

/* tools/list: a deny that names the tool among other keys hides nothing. */
static void test_possible_commands(void **state)
{
	const char *only_cmds[] = { R_ANYCMD, R_NORM, NULL };
	const char *tool_cmds[] = { R_ANYCMD,
	    "kind: role\nname: t\ndeny: {tools: [ssh_exec], commands: [\"*\"]}\n", NULL };
	const char *cmds_allow[] = { R_CMD, NULL, NULL };
	struct pol_role *roles[MAX_ROLES] = { NULL };
	const struct pol_role *const *rr = (const struct pol_role *const *)roles;
	size_t n;
	(void)state;

	load_roles(only_cmds, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 1);
	free_roles(roles, n);
	load_roles(tool_cmds, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 1);
	free_roles(roles, n);
	load_roles(cmds_allow, roles, &n);
	assert_int_equal(pol_tool_possible(rr, n, "ssh_exec"), 1);
	assert_int_equal(pol_tool_possible(rr, n, "file_read"), 0);
	assert_int_equal(pol_host_visible(rr, n, LBL(L_PROD)), 1);
	free_roles(roles, n);
}

static void test_path_match(void **state)
{
	static const struct {
		const char *pattern, *path;
		int match;
	} cases[] = {
		{ "/var/log/**", "/var/log", 1 },
		{ "/var/log/**", "/var/log/a/b/c", 1 },
		{ "/var/log/**", "/var/log/syslog", 1 },
		{ "/var/log/**", "/var/logs", 0 },
		{ "/var/log/**", "/var", 0 },
		{ "/etc/nginx/*.conf", "/etc/nginx/a.conf", 1 },
		{ "/etc/nginx/*.conf", "/etc/nginx/x/a.conf", 0 },
		{ "/etc/nginx/*.conf", "/etc/nginx/.conf", 1 },
		{ "/etc/nginx/*.conf", "/etc/nginx/a.conf.bak", 0 },
		{ "/etc/**/shadow", "/etc/shadow", 1 },
		{ "/etc/**/shadow", "/etc/a/b/shadow", 1 },
		{ "/etc/**/shadow", "/etc/a/b/shadow2", 0 },
		{ "/etc/**/shadow", "/etc/shadow/x", 0 },
		{ "/**/x/**/y", "/x/y", 1 },
		{ "/**/x/**/y", "/a/x/b/c/y", 1 },
		{ "/**/x/**/y", "/a/y/x", 0 },
		{ "/**/**/x", "/x", 1 },
		{ "/**/**/x", "/a/b/x", 1 },
		{ "/home/*/.ssh/**", "/home/alice/.ssh/authorized_keys", 1 },
		{ "/home/*/.ssh/**", "/home/alice/x/.ssh/k", 0 },
		{ "/a/?", "/a/b", 1 },
		{ "/a/?", "/a/bc", 0 },
		{ "/a/*b*c*", "/a/xbycz", 1 },
		{ "/a/*b*c*", "/a/xbyz", 0 },
		{ "/a/*", "/a/*", 1 },
		{ "/a/*", "/a", 0 },
		{ "/", "/", 1 },
		{ "/", "/a", 0 },
		{ "/**", "/", 1 },
		{ "/**", "/a/b", 1 },
		/* paths that are not normalised match nothing */
		{ "/var/log/**", "/var/log/../../etc/shadow", 0 },
		{ "/**", "relative", 0 },
		{ "/**", "", 0 },
		{ "/**", "/a//b", 0 },
		{ "/**", "/a/", 0 },
		{ "/**", "/a/./b", 0 },
		{ "/**", "/..", 0 },
		/* neither do invalid patterns */
		{ "relative/**", "/relative/x", 0 },
		{ "/a/**x", "/a/**x", 0 },
		{ "/a/[b]", "/a/[b]", 0 },
		{ "/a/", "/a", 0 },
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pol_path_match(cases[i].pattern, cases[i].path) != cases[i].match) {
			fail_msg("case %zu: %s against %s: want %d", i + 1, cases[i].pattern,
			    cases[i].path, cases[i].match);
		}
	}
	assert_int_equal(pol_path_match(NULL, "/"), 0);
	assert_int_equal(pol_path_match("/", NULL), 0);
	/* what callers check before they decide */
	assert_int_equal(pol_path_normal("/"), 1);
	assert_int_equal(pol_path_normal("/a/b.c/..d"), 1);
	assert_int_equal(pol_path_normal("/a/"), 0);
	assert_int_equal(pol_path_normal("//a"), 0);
	assert_int_equal(pol_path_normal("/a/./b"), 0);
	assert_int_equal(pol_path_normal("/a/.."), 0);
	assert_int_equal(pol_path_normal("a"), 0);
	assert_int_equal(pol_path_normal(NULL), 0);
}

/* Patterns made to backtrack, against long paths: the work stays bounded
 * (pattern segments x path segments), so this takes milliseconds. */
/* paths bound only the tools whose requests carry a path: a role whose
 * allow section has paths and allows a tool that takes none is told. */
static void test_paths_unbound(void **state)
{
	static const char mixed[] = "kind: role\nname: m\nallow:\n  tools: [ssh_exec, \"file_*\"]\n"
	    "  paths: [\"/srv/**\"]\n";
	static const char files[] = "kind: role\nname: f\nallow:\n  tools: [\"file_*\"]\n"
	    "  paths: [\"/srv/**\"]\n";
	static const char any[] = "kind: role\nname: a\nallow:\n  paths: [\"/srv/**\"]\n";
	static const char none[] = "kind: role\nname: n\nallow:\n  tools: [ssh_exec]\n";
	struct pol_role *r = NULL;
	char err[POL_ERR_MAX];

	(void)state;
	assert_int_equal(pol_role_parse(mixed, strlen(mixed), "m.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(pol_paths_unbound(r, "ssh_exec"), 1);
	assert_int_equal(pol_paths_unbound(r, "job_signal"), 0);
	pol_role_free(r);
	assert_int_equal(pol_role_parse(files, strlen(files), "f.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(pol_paths_unbound(r, "ssh_exec"), 0);
	pol_role_free(r);
	assert_int_equal(pol_role_parse(any, strlen(any), "a.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(pol_paths_unbound(r, "job_output"), 1);
	pol_role_free(r);
	assert_int_equal(pol_role_parse(none, strlen(none), "n.yaml", &r, err, sizeof(err)), 0);
	assert_int_equal(pol_paths_unbound(r, "ssh_exec"), 0);
	pol_role_free(r);
	assert_int_equal(pol_paths_unbound(NULL, "ssh_exec"), 0);
}

static void test_path_match_bounded(void **state)
{
	enum { PATH_LEN = 64 * 1024 };
	char pat[POL_MAX_STR + 1], *path = NULL;
	size_t len = 0, i;
	clock_t t0 = clock();
	(void)state;

	path = malloc(PATH_LEN + 1);
	assert_non_null(path);
	for (i = 0; i + 2 <= PATH_LEN; i += 2) {
		memcpy(path + i, "/a", 2);
	}
	path[i] = '\0';
	/* "**" segments up to the limit, then a segment no path segment is */
	while (len + 3 + 2 <= POL_MAX_STR) {
		memcpy(pat + len, "/**", 3);
		len += 3;
	}
	memcpy(pat + len, "/b", 3);
	assert_int_equal(pol_path_match(pat, path), 0);
	pat[len + 1] = 'a';
	assert_int_equal(pol_path_match(pat, path), 1);
	/* "**" and "a" alternating, ending in a "b" that never comes */
	len = 0;
	while (len + 5 + 2 <= POL_MAX_STR) {
		memcpy(pat + len, "/**/a", 5);
		len += 5;
	}
	memcpy(pat + len, "/b", 3);
	assert_int_equal(pol_path_match(pat, path), 0);
	/* stars within one long segment */
	memset(path + 1, 'a', PATH_LEN - 1);
	snprintf(pat, sizeof(pat), "/**/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
	assert_int_equal(pol_path_match(pat, path), 0);
	free(path);
	if ((double)(clock() - t0) / CLOCKS_PER_SEC > 2.0) {
		fail_msg("path matching took %.2f s", (double)(clock() - t0) / CLOCKS_PER_SEC);
	}
}

static void test_requirements_text(void **state)
{
	static const struct {
		struct pol_requirements r;
		const char *text;
	} cases[] = {
		{ NOTHING, "nothing" },
		{ { POL_MFA_PER_CALL, 0, 0, "", 0 }, "MFA step-up (per call)" },
		{ { POL_MFA_PER_SESSION, 300, 0, "", 0 }, "MFA step-up (once per 5m)" },
		{ { POL_MFA_PER_SESSION, 3600, 0, "", 0 }, "MFA step-up (once per 1h)" },
		{ { POL_MFA_PER_SESSION, 90, 0, "", 0 }, "MFA step-up (once per 90s)" },
		{ { POL_MFA_PER_SESSION, 5400, 0, "", 0 }, "MFA step-up (once per 1h30m)" },
		{ { POL_MFA_PER_SESSION, 86400, 0, "", 0 }, "MFA step-up (once per 1d)" },
		{ APPROVAL("oncall", 600), "approval by a holder of oncall within 10m" },
		{ APPROVAL("oncall,sre", 600), "approval by a holder of oncall or sre within 10m" },
		{ APPROVAL("a,b,c", 3660), "approval by a holder of a, b or c within 1h1m" },
		{ APPROVAL("a,b,c,d", 60), "approval by a holder of a, b, c or d within 1m" },
		{ { POL_MFA_PER_CALL, 0, 1, "oncall,sre", 600 },
		  "MFA step-up (per call); approval by a holder of oncall or sre within 10m" },
		{ { POL_MFA_PER_SESSION, 300, 1, "oncall", 600 },
		  "MFA step-up (once per 5m); approval by a holder of oncall within 10m" },
	};
	static const struct pol_requirements long_one = { POL_MFA_PER_CALL, 0, 1, "oncall", 600 };
	char out[128];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pol_requirements_text(&cases[i].r, out, sizeof(out));
		if (strcmp(out, cases[i].text) != 0) {
			fail_msg("case %zu: got \"%s\", want \"%s\"", i + 1, out, cases[i].text);
		}
	}
	pol_requirements_text(NULL, out, sizeof(out));
	assert_string_equal(out, "nothing");
	pol_requirements_text(&long_one, out, 12);
	assert_string_equal(out, "MFA step...");
	pol_requirements_text(&long_one, out, 2);
	assert_string_equal(out, "M");
	pol_requirements_text(&long_one, NULL, 0);
}

static void test_demand_cmp(void **state)
{
	static const struct pol_requirements order[] = {
		NOTHING,
		{ POL_MFA_PER_SESSION, 300, 0, "", 0 },
		{ POL_MFA_PER_CALL, 0, 0, "", 0 },
		APPROVAL("oncall", 600),
		{ POL_MFA_PER_SESSION, 300, 1, "oncall", 600 },
		{ POL_MFA_PER_CALL, 0, 1, "oncall", 600 },
	};
	static const struct pol_requirements other_window = { POL_MFA_PER_SESSION, 3600, 0, "", 0 };
	static const struct pol_requirements other_by = APPROVAL("sre", 60);
	size_t i, j;
	int c;
	(void)state;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		for (j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
			c = pol_demand_cmp(&order[i], &order[j]);
			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0)) {
				fail_msg("%zu vs %zu: %d", i, j, c);
			}
		}
	}
	/* Windows, approvers and ttls do not rank. */
	assert_int_equal(pol_demand_cmp(&order[1], &other_window), 0);
	assert_int_equal(pol_demand_cmp(&order[3], &other_by), 0);
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
		{ { R_RO }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL }, 1 },
		{ { R_STAR }, { "ssh_exec", "w2", LBL(L_TEAM), "ubuntu", NULL, 0, NULL }, 1 },
		{ { NULL }, { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 1 },
		/* a deny of nothing but hosts hides them */
		{ { R_ADMIN, R_DENY_PROD }, { "ssh_exec", "db1", LBL(L_PROD), "ubuntu", NULL, 0, NULL },
		  1 },
		/* seen, but the login or the tool is denied */
		{ { R_RO }, { "ssh_exec", "web1", LBL(L_SW), "root", NULL, 0, NULL }, 0 },
		{ { R_RO }, { "file_write", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL }, 0 },
		/* a deny of hosts with logins hides nothing */
		{ { R_ADMIN }, { "ssh_exec", "db1", LBL(L_PROD), "root", NULL, 0, NULL }, 0 },
		/* no host in the request, nothing to hide */
		{ { NULL }, { "list_hosts", NULL, NULL, 0, NULL, NULL, 0, NULL }, 0 },
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
	  "shell, mfa, mfa_window, approval, max_job_duration, auditor, port_forwarding, "
	  "record_input, redact_input)" },
	{ "kind: role\nname: x\noptions:\n  record_input: on\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.record_input must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  auditor: yes\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.auditor must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  auditor: \"true\"\n", ZT_ERR_INVALID,
	  "t.yaml:4: options.auditor must be true or false (unquoted)" },
	{ "kind: role\nname: x\noptions:\n  auditor: [true]\n", ZT_ERR_TYPE,
	  "t.yaml:4: options.auditor must be true or false, not a list" },
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
	struct pol_role *a = NULL, *b = NULL, *c = NULL;
	cJSON *ja = NULL, *jb = NULL, *jc = NULL, *bad = NULL;
	char err[POL_ERR_MAX], *sa = NULL, *sb = NULL, *sc = NULL, *yaml = NULL;
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
		/* The stored form as YAML for people parses as the same role. */
		assert_int_equal(pol_role_json_yaml(ja, &yaml), 0);
		assert_int_equal(pol_role_parse(yaml, strlen(yaml), "shown.yaml", &c, err,
		    sizeof(err)), 0);
		assert_int_equal(pol_role_to_json(c, &jc), 0);
		sc = cJSON_PrintUnformatted(jc);
		assert_string_equal(sa, sc);
		free(sc);
		free(yaml);
		cJSON_Delete(jc);
		pol_role_free(c);
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
	assert_int_equal(pol_role_json_yaml(cJSON_GetObjectItem(bad, "name"), &yaml),
	    ZT_ERR_INVALID);
	assert_null(yaml);
	cJSON_Delete(bad);
	pol_role_free(NULL);
}

/* The line of an error, as the API gives it to the console. */
static void test_err_line(void **state)
{
	static const char doc[] = "kind: role\nname: x\nallo:\n  tools: [a]\n";
	struct pol_role *r = NULL;
	char err[POL_ERR_MAX];
	(void)state;

	assert_int_equal(pol_role_parse(doc, strlen(doc), "ops.yaml", &r, err, sizeof(err)),
	    ZT_ERR_INVALID);
	assert_int_equal(pol_role_err_line(err, "ops.yaml"), 3);
	assert_int_equal(pol_role_err_line(err, "other.yaml"), 0);
	assert_int_equal(pol_role_parse(doc, strlen(doc), NULL, &r, err, sizeof(err)),
	    ZT_ERR_INVALID);
	assert_int_equal(pol_role_err_line(err, NULL), 3);
	assert_int_equal(pol_role_err_line("ops.yaml: cannot store the role", "ops.yaml"), 0);
	assert_int_equal(pol_role_err_line("ops.yaml:: x", "ops.yaml"), 0);
	assert_int_equal(pol_role_err_line("ops.yaml:12", "ops.yaml"), 0);
	assert_int_equal(pol_role_err_line("ops.yaml:99999999999999999999: x", "ops.yaml"), 0);
	assert_int_equal(pol_role_err_line(NULL, "ops.yaml"), 0);
}

static void test_examples(void **state)
{
	static const char *const files[] = { "examples/roles/ai-ops-readonly.yaml",
	    "examples/roles/admin.yaml", "examples/roles/file-ops.yaml" };
	static const char *const names[] = { "ai-ops-readonly", "admin", "file-ops" };
	static const int64_t ttls[] = { 8 * 3600, 12 * 3600, 8 * 3600 };
	static const int admins[] = { 0, 1, 0 };
	struct pol_role *role = NULL;
	char err[POL_ERR_MAX], *text = NULL;
	size_t i, n;
	FILE *f = NULL;
	(void)state;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
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
	static const struct pol_request req = { "ssh_exec", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL };
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

/* options.auditor: absent and false say no, true says yes; it survives
 * storage, is not admin, and allows no tool by itself. */
static void test_auditor_option(void **state)
{
	static const char *const docs[] = {
	    "kind: role\nname: plain\n",
	    "kind: role\nname: no\noptions: {auditor: false}\n",
	    "kind: role\nname: yes\noptions:\n  auditor: true\n",
	    "kind: role\nname: both\noptions: {auditor: true, admin: true}\n",
	};
	static const int want[] = { 0, 0, 1, 1 };
	static const int admin[] = { 0, 0, 0, 1 };
	static const struct pol_request req = { "ssh_shell", "web1", LBL(L_SW), "ubuntu", NULL, 0, NULL };
	const struct pol_role *one[1];
	struct pol_role *role = NULL, *back = NULL;
	struct pol_decision d;
	cJSON *j = NULL;
	char err[POL_ERR_MAX];
	size_t i;
	(void)state;

	assert_int_equal(pol_role_auditor(NULL), 0);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (pol_role_parse(docs[i], strlen(docs[i]), "t.yaml", &role, err,
		    sizeof(err)) != 0) {
			fail_msg("doc %zu: %s", i, err);
		}
		assert_int_equal(pol_role_auditor(role), want[i]);
		assert_int_equal(pol_role_admin(role), admin[i]);
		assert_int_equal(pol_role_to_json(role, &j), 0);
		assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(j, "options"), "auditor")), want[i]);
		assert_int_equal(i == 1, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(j, "options"), "auditor")));
		assert_int_equal(pol_role_from_json(j, &back, err, sizeof(err)), 0);
		assert_int_equal(pol_role_auditor(back), want[i]);
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

/* options.max_job_duration: parsed within its bounds, 1h when unset, kept
 * as written in JSON, and carried by an allow: the deciding (least
 * demanding) role's value, not the longest. */
static void test_max_job(void **state)
{
	static const char LONG[] = "kind: role\nname: long\nallow: {tools: [ssh_exec]}\n"
	    "options: {max_job_duration: 8h, mfa: per_call}\n";
	static const char SHORT[] = "kind: role\nname: short\nallow: {tools: [ssh_exec]}\n"
	    "options:\n  max_job_duration: 90s\n";
	static const char PLAIN[] = "kind: role\nname: plain\nallow: {tools: [job_list]}\n";
	struct pol_role *l = NULL, *sh = NULL, *pl = NULL, *back = NULL;
	const struct pol_role *roles[2];
	struct pol_request req = { .tool = "ssh_exec" };
	struct pol_decision d;
	char err[POL_ERR_MAX];
	cJSON *j = NULL;
	(void)state;

	assert_int_equal(pol_role_parse(LONG, strlen(LONG), "t.yaml", &l, err, sizeof(err)), 0);
	assert_int_equal(pol_role_parse(SHORT, strlen(SHORT), "t.yaml", &sh, err, sizeof(err)), 0);
	assert_int_equal(pol_role_parse(PLAIN, strlen(PLAIN), "t.yaml", &pl, err, sizeof(err)), 0);
	assert_int_equal(pol_role_max_job(l), 8 * 3600);
	assert_int_equal(pol_role_max_job(sh), 90);
	assert_int_equal(pol_role_max_job(pl), POL_JOB_DEFAULT_S);
	assert_int_equal(pol_role_max_job(NULL), 0);
	/* Both allow; the one without MFA decides, and its limit holds. */
	roles[0] = l;
	roles[1] = sh;
	assert_int_equal(pol_decide(roles, 2, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.role, "short");
	assert_int_equal(d.max_job_s, 90);
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.max_job_s, 8 * 3600);
	req.tool = "file_write";
	assert_int_equal(pol_decide(roles, 2, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_int_equal(d.max_job_s, 0);
	/* As written in JSON, and back. */
	assert_int_equal(pol_role_to_json(sh, &j), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j,
	    "options"), "max_job_duration")->valuestring, "90s");
	assert_int_equal(pol_role_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(pol_role_max_job(back), 90);
	cJSON_Delete(j);
	assert_int_equal(pol_role_to_json(pl, &j), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "options"));
	cJSON_Delete(j);
	pol_role_free(back);
	pol_role_free(pl);
	pol_role_free(sh);
	pol_role_free(l);
	/* Out of bounds. */
	assert_int_equal(pol_role_parse("kind: role\nname: x\noptions: {max_job_duration: 5s}\n",
	    51, "t.yaml", &back, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "options.max_job_duration: bad duration (e.g. 30m, 1h; "
	    "between 10s and 24h)"));
	assert_int_equal(pol_role_parse("kind: role\nname: x\noptions: {max_job_duration: 25h}\n",
	    52, "t.yaml", &back, err, sizeof(err)), ZT_ERR_INVALID);
}

/* options.port_forwarding: parsed as true or false only (unquoted), kept
 * in JSON, and required (besides a matching allow, tools included) for the
 * tool port_forward, in decisions and in tools/list. */
/* options.record_input and redact_input: the deciding role's, in the
 * decision. */
static void test_record_input(void **state)
{
	static const char REC[] = "kind: role\nname: rec\nallow: {tools: [ssh_shell]}\n"
	    "options: {record_input: true, redact_input: true}\n";
	static const char PLAIN[] = "kind: role\nname: plain\nallow: {tools: [ssh_shell]}\n";
	struct pol_request req = { .tool = "ssh_shell", .login = "ubuntu" };
	struct pol_role *rec = NULL, *plain = NULL, *back = NULL;
	const struct pol_role *roles[1];
	struct pol_decision d;
	char err[POL_ERR_MAX];
	cJSON *j = NULL;
	(void)state;

	assert_int_equal(pol_role_parse(REC, strlen(REC), "t.yaml", &rec, err, sizeof(err)), 0);
	assert_int_equal(pol_role_parse(PLAIN, strlen(PLAIN), "t.yaml", &plain, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_record_input(rec), 1);
	assert_int_equal(pol_role_record_input(plain), 0);
	roles[0] = rec;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(d.record_input, 1);
	assert_int_equal(d.redact_input, 1);
	roles[0] = plain;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(d.record_input, 0);
	assert_int_equal(d.redact_input, 0);
	/* Stored and read back as JSON, it stays. */
	assert_int_equal(pol_role_to_json(rec, &j), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "options"),
	    "record_input")));
	{
		char *text = cJSON_PrintUnformatted(j);

		assert_int_equal(pol_role_parse(text, strlen(text), "db", &back, err, sizeof(err)), 0);
		assert_int_equal(pol_role_record_input(back), 1);
		assert_int_equal(pol_role_redact_input(back), 1);
		free(text);
	}
	cJSON_Delete(j);
	pol_role_free(back);
	pol_role_free(rec);
	pol_role_free(plain);
}

static void test_port_forwarding(void **state)
{
	static const char FWD[] = "kind: role\nname: fwd\n"
	    "allow: {hosts: {env: staging}, logins: [ubuntu], tools: [port_forward, ssh_exec]}\n"
	    "options: {port_forwarding: true}\n";
	static const char NOFWD[] = "kind: role\nname: nofwd\n"
	    "allow: {hosts: {env: staging}, logins: [ubuntu], tools: [port_forward]}\n";
	static const char OFF[] = "kind: role\nname: off\nallow: {tools: [\"*\"]}\n"
	    "options:\n  port_forwarding: false\n";
	static const char NOTOOL[] = "kind: role\nname: notool\nallow: {tools: [ssh_exec]}\n"
	    "options: {port_forwarding: true}\n";
	static const char DENYFWD[] = "kind: role\nname: denyfwd\n"
	    "allow: {tools: [\"*\"]}\ndeny: {tools: [port_forward]}\n"
	    "options: {port_forwarding: true}\n";
	static const char *const bad[] = {
	    "kind: role\nname: x\noptions: {port_forwarding: yes}\n",
	    "kind: role\nname: x\noptions: {port_forwarding: \"true\"}\n",
	    "kind: role\nname: x\noptions: {port_forwarding: [true]}\n",
	};
	struct pol_request req = { POL_TOOL_PORT_FORWARD, "web1", LBL(L_SW), "ubuntu", NULL, 0,
	    NULL };
	struct pol_role *fwd = NULL, *nofwd = NULL, *off = NULL, *notool = NULL, *denyfwd = NULL;
	struct pol_role *back = NULL;
	const struct pol_role *roles[2];
	struct pol_decision d;
	char err[POL_ERR_MAX];
	cJSON *j = NULL;
	size_t i;
	(void)state;

	assert_int_equal(pol_role_parse(FWD, strlen(FWD), "t.yaml", &fwd, err, sizeof(err)), 0);
	assert_int_equal(pol_role_parse(NOFWD, strlen(NOFWD), "t.yaml", &nofwd, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_parse(OFF, strlen(OFF), "t.yaml", &off, err, sizeof(err)), 0);
	assert_int_equal(pol_role_parse(NOTOOL, strlen(NOTOOL), "t.yaml", &notool, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_parse(DENYFWD, strlen(DENYFWD), "t.yaml", &denyfwd, err,
	    sizeof(err)), 0);
	assert_int_equal(pol_role_port_forwarding(fwd), 1);
	assert_int_equal(pol_role_port_forwarding(nofwd), 0);
	assert_int_equal(pol_role_port_forwarding(off), 0);
	assert_int_equal(pol_role_port_forwarding(NULL), 0);

	/* Bad values name the option and what it takes. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pol_role_parse(bad[i], strlen(bad[i]), "t.yaml", &back, err, sizeof(err));

		if ((r != ZT_ERR_INVALID && r != ZT_ERR_TYPE) || back != NULL ||
		    strstr(err, "t.yaml:3: options.port_forwarding must be true or false") == NULL) {
			fail_msg("bad %zu: r=%d err=%s", i, r, err);
		}
	}

	/* JSON: a boolean, both ways; absent stays absent. */
	assert_int_equal(pol_role_to_json(fwd, &j), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "options"), "port_forwarding")));
	assert_int_equal(pol_role_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(pol_role_port_forwarding(back), 1);
	cJSON_Delete(j);
	pol_role_free(back);
	assert_int_equal(pol_role_to_json(off, &j), 0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "options"), "port_forwarding")));
	cJSON_Delete(j);
	assert_int_equal(pol_role_to_json(nofwd, &j), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "options"));
	cJSON_Delete(j);

	/* Allowed with the option; the option changes nothing for other tools. */
	roles[0] = fwd;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.role, "fwd");
	assert_string_equal(d.rule, "allow: role fwd allows tool port_forward on host web1 "
	    "(env=staging, team=web) as ubuntu");
	/* Not for another login or host: the section still decides. */
	req.login = "root";
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_non_null(strstr(d.rule, "deny: no role allows tool port_forward"));
	req.login = "ubuntu";

	/* Denied without it, and the rule says why. */
	roles[0] = nofwd;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_string_equal(d.role, "");
	assert_string_equal(d.rule, "deny: no role of yours allows port forwarding "
	    "(options.port_forwarding: true; role nofwd would, with it) for tool port_forward "
	    "on host web1 (env=staging, team=web) as ubuntu");
	/* Also when its tools say "*", or the option says false. */
	roles[0] = off;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_non_null(strstr(d.rule, "deny: no role of yours allows port forwarding "
	    "(options.port_forwarding: true; role off would, with it)"));
	/* ... while other tools stay allowed by it. */
	req.tool = "ssh_exec";
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	req.tool = POL_TOOL_PORT_FORWARD;

	/* The option without a tools match allows nothing: tools decide. */
	roles[0] = notool;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_non_null(strstr(d.rule, "deny: no role allows tool port_forward"));
	/* A deny still wins. */
	roles[0] = denyfwd;
	assert_int_equal(pol_decide(roles, 1, &req, &d), 0);
	assert_int_equal(d.allow, 0);
	assert_non_null(strstr(d.rule, "deny: role denyfwd denies tool port_forward"));
	/* One role with it among others without is enough. */
	roles[0] = nofwd;
	roles[1] = fwd;
	assert_int_equal(pol_decide(roles, 2, &req, &d), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.role, "fwd");

	/* tools/list agrees. */
	roles[0] = fwd;
	assert_int_equal(pol_tool_possible(roles, 1, POL_TOOL_PORT_FORWARD), 1);
	roles[0] = nofwd;
	assert_int_equal(pol_tool_possible(roles, 1, POL_TOOL_PORT_FORWARD), 0);
	roles[0] = off;
	assert_int_equal(pol_tool_possible(roles, 1, POL_TOOL_PORT_FORWARD), 0);
	assert_int_equal(pol_tool_possible(roles, 1, "ssh_exec"), 1);
	roles[0] = notool;
	assert_int_equal(pol_tool_possible(roles, 1, POL_TOOL_PORT_FORWARD), 0);
	roles[0] = denyfwd;
	assert_int_equal(pol_tool_possible(roles, 1, POL_TOOL_PORT_FORWARD), 0);
	roles[0] = nofwd;
	roles[1] = fwd;
	assert_int_equal(pol_tool_possible(roles, 2, POL_TOOL_PORT_FORWARD), 1);

	pol_role_free(denyfwd);
	pol_role_free(notool);
	pol_role_free(off);
	pol_role_free(nofwd);
	pol_role_free(fwd);
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
		cmocka_unit_test(test_err_line),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_admin_option),
		cmocka_unit_test(test_auditor_option),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_max_job),
		cmocka_unit_test(test_port_forwarding),
		cmocka_unit_test(test_record_input),
		cmocka_unit_test(test_requirements_table),
		cmocka_unit_test(test_rule_command),
		cmocka_unit_test(test_shell_syntax),
		cmocka_unit_test(test_possible_commands),
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_path_match_bounded),
		cmocka_unit_test(test_paths_unbound),
		cmocka_unit_test(test_requirements_text),
		cmocka_unit_test(test_demand_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
