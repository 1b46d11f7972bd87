/*
 * pol_eval.c - deciding a request against roles, and saying which rule
 * decided it and what the deciding role still requires (MFA, approval).
 * Pure functions over parsed roles (policy/pol_priv.h); also the path
 * matcher the file tools' paths go through, and the texts `policy test`
 * prints.
 */
#include "policy/pol_eval.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "policy/pol_priv.h"

/* Bytes of a command or a path as rule texts quote it, escapes and "..."
 * included. */
#define RULE_COMMAND_MAX 160

static int glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

/* flags: fnmatch(3) flags, 0 or FNM_CASEFOLD. */
static int any_match(char *const *pats, size_t n, const char *s, int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fnmatch(pats[i], s, flags) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Every selector needs the label to exist and its value to match. */
static int hosts_match(const struct pol_section *sec, const struct pol_label *labels,
    size_t nlabels)
{
	size_t i, j;

	for (i = 0; i < sec->nhosts; i++) {
		for (j = 0; j < nlabels; j++) {
			if (strcmp(labels[j].key, sec->hkey[i]) == 0) {
				break;
			}
		}
		if (j == nlabels || !glob_match(sec->hval[i], labels[j].value)) {
			return 0;
		}
	}
	return 1;
}

int pol_shell_syntax(const char *command, const char **what)
{
	const char *p = NULL;

	if (what != NULL) {
		*what = NULL;
	}
	if (command == NULL || *(p = command + strcspn(command, ";|&$`><()\\\n\r")) == '\0') {
		return 0;
	}
	if (what != NULL) {
		*what = p;
	}
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The command with each run of blanks made one space and the ends trimmed,
 * for deny sections: an author who writes "*rm -rf*" means "rm  -rf" and
 * "rm\t-rf" too. *out is NULL when that changes nothing, else a copy the
 * caller frees. 0 or ZT_ERR_NOMEM. */
static int blanks_squeezed(const char *cmd, char **out)
{
	size_t i, len = strlen(cmd), n = 0;
	char *copy = NULL;

	*out = NULL;
	for (i = 0; i < len; i++) {
		if (cmd[i] == '\t' || (is_blank(cmd[i]) &&
		    (i == 0 || i + 1 == len || is_blank(cmd[i + 1])))) {
			break;
		}
	}
	if (i == len) {
		return 0;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	for (i = 0; i < len; i++) {
		if (!is_blank(cmd[i])) {
			copy[n++] = cmd[i];
		} else if (n > 0 && copy[n - 1] != ' ') {
			copy[n++] = ' ';
		}
	}
	if (n > 0 && copy[n - 1] == ' ') {
		n--;
	}
	copy[n] = '\0';
	*out = copy;
	return 0;
}

/* A request as sections see it: the command also squeezed (see above). */
struct eval_req {
	const struct pol_request *req;
	const char *squeezed;           /* NULL: no command, or nothing to squeeze */
};

enum match {
	MATCH_NO,
	MATCH_YES,
	MATCH_SHELL,                    /* an allow matched but for shell syntax */
};

/* The commands key: the whole command line against the globs. A deny also
 * tries the squeezed command; an allow takes no shell syntax unless the
 * role says shell: true, since a glob such as "uptime*" is written for
 * arguments, not for "uptime; id". */
static enum match commands_match(const struct pol_section *sec, const struct eval_req *er,
    int is_deny, int shell_ok)
{
	const char *cmd = er->req->command;

	if (!sec->has_commands) {
		return MATCH_YES;
	}
	if (cmd == NULL) {
		return is_deny ? MATCH_NO : MATCH_YES;
	}
	if (is_deny) {
		return any_match(sec->commands, sec->ncommands, cmd, 0) ||
		    (er->squeezed != NULL &&
		    any_match(sec->commands, sec->ncommands, er->squeezed, 0)) ?
		    MATCH_YES : MATCH_NO;
	}
	/* Shell syntax is refused before the globs: the rule then says why,
	 * also for "uptime; id" against "uptime". */
	if (!shell_ok && pol_shell_syntax(cmd, NULL)) {
		return MATCH_SHELL;
	}
	return any_match(sec->commands, sec->ncommands, cmd, 0) ? MATCH_YES : MATCH_NO;
}

static int path_match(const char *pattern, const char *path, int fold);

/* A deny's path globs ignore ASCII case, as its logins do: on a host whose
 * file system does not tell case (macOS, Windows), a deny of a ".ssh"
 * directory must also refuse ".SSH". */
static int paths_match(const struct pol_section *sec, const char *path, int is_deny)
{
	size_t i;

	for (i = 0; i < sec->npaths; i++) {
		if (path_match(sec->paths[i], path, is_deny)) {
			return 1;
		}
	}
	return 0;
}

static int section_empty(const struct pol_section *sec)
{
	return !sec->has_hosts && !sec->has_logins && !sec->has_tools && !sec->has_commands &&
	    !sec->has_paths;
}

/* is_deny: a selector on a field the request lacks never matches a deny and
 * never restricts an allow (see pol_eval.h).
 *
 * Logins in a deny match whatever the case: an account database may not
 * care (AD or LDAP through sssd, Windows OpenSSH), so "ROOT" can be root,
 * and a deny that such a spelling walks past denies nothing. Logins in an
 * allow stay exact: on an ordinary Linux host "Admin" and "admin" are two
 * accounts, and an allow of one must not grant the other. So a login that
 * differs from an allowed one only in case is denied, never let through.
 *
 * The commands key is tried last, so MATCH_SHELL means every other key
 * matched. */
static enum match section_match(const struct pol_section *sec, const struct eval_req *er,
    int is_deny, int shell_ok)
{
	const struct pol_request *req = er->req;

	if (section_empty(sec)) {
		return MATCH_NO;
	}
	if (sec->has_tools && !any_match(sec->tools, sec->ntools, req->tool, 0)) {
		return MATCH_NO;
	}
	if (sec->has_hosts) {
		if (req->host == NULL) {
			if (is_deny) {
				return MATCH_NO;
			}
		} else if (!hosts_match(sec, req->labels, req->nlabels)) {
			return MATCH_NO;
		}
	}
	if (sec->has_logins) {
		if (req->login == NULL) {
			if (is_deny) {
				return MATCH_NO;
			}
		} else if (!any_match(sec->logins, sec->nlogins, req->login,
		    is_deny ? FNM_CASEFOLD : 0)) {
			return MATCH_NO;
		}
	}
	if (sec->has_paths) {
		if (req->path == NULL) {
			if (is_deny) {
				return MATCH_NO;
			}
		} else if (!paths_match(sec, req->path, is_deny)) {
			return MATCH_NO;
		}
	}
	return commands_match(sec, er, is_deny, shell_ok);
}

/* Appends s[0..n) to buf (sz bytes, NUL-terminated), non-printable bytes as
 * '?', ending in "..." when it does not fit. */
static void text_addn(char *buf, size_t sz, const char *s, size_t n)
{
	size_t len = strlen(buf), i;

	for (i = 0; i < n && s[i] != '\0'; i++) {
		if (len + 1 >= sz) {
			if (sz >= 4) {
				memcpy(buf + sz - 4, "...", 4);
			} else {
				buf[len] = '\0';
			}
			return;
		}
		buf[len++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	buf[len] = '\0';
}

static void text_add(char *buf, size_t sz, const char *s)
{
	text_addn(buf, sz, s, strlen(s));
}

static void rule_add(struct pol_decision *d, const char *s)
{
	text_add(d->rule, sizeof(d->rule), s);
}

/* " what \"cmd\"": a command or a path in double quotes, '"' and '\'
 * escaped with a backslash, shortened to RULE_COMMAND_MAX bytes between the
 * quotes. */
static void rule_quoted(struct pol_decision *d, const char *what, const char *cmd)
{
	char q[RULE_COMMAND_MAX + 1];
	size_t i, total = 0, len = 0, need;

	for (i = 0; cmd[i] != '\0'; i++) {
		total += (cmd[i] == '"' || cmd[i] == '\\') ? 2 : 1;
	}
	for (i = 0; cmd[i] != '\0'; i++) {
		need = (cmd[i] == '"' || cmd[i] == '\\') ? 2 : 1;
		if (len + need > (total > RULE_COMMAND_MAX ? RULE_COMMAND_MAX - 3 :
		    RULE_COMMAND_MAX)) {
			break;
		}
		if (need == 2) {
			q[len++] = '\\';
		}
		q[len++] = (cmd[i] >= 0x20 && cmd[i] < 0x7f) ? cmd[i] : '?';
	}
	q[len] = '\0';
	rule_add(d, " ");
	rule_add(d, what);
	rule_add(d, " \"");
	rule_add(d, q);
	if (total > RULE_COMMAND_MAX) {
		rule_add(d, "...");
	}
	rule_add(d, "\"");
}

static void rule_request(struct pol_decision *d, const struct pol_request *req)
{
	size_t i;

	rule_add(d, " tool ");
	rule_add(d, req->tool);
	if (req->host != NULL) {
		rule_add(d, " on host ");
		rule_add(d, req->host);
		for (i = 0; i < req->nlabels; i++) {
			rule_add(d, i == 0 ? " (" : ", ");
			rule_add(d, req->labels[i].key);
			rule_add(d, "=");
			rule_add(d, req->labels[i].value);
		}
		if (req->nlabels > 0) {
			rule_add(d, ")");
		}
	}
	if (req->login != NULL) {
		rule_add(d, " as ");
		rule_add(d, req->login);
	}
	if (req->command != NULL) {
		rule_quoted(d, "command", req->command);
	}
	if (req->path != NULL) {
		rule_quoted(d, "path", req->path);
	}
}

static void decide_by(struct pol_decision *out, const struct pol_role *role, int allow,
    const struct pol_request *req)
{
	out->allow = allow;
	out->max_job_s = allow ? pol_role_max_job(role) : 0;
	out->record_input = allow && pol_role_record_input(role);
	out->redact_input = allow && pol_role_redact_input(role);
	snprintf(out->role, sizeof(out->role), "%s", role->name);
	rule_add(out, allow ? "allow: role " : "deny: role ");
	rule_add(out, role->name);
	rule_add(out, allow ? " allows" : " denies");
	rule_request(out, req);
}

/* 0 when role r allows tool through no allow section: port_forward needs
 * options.port_forwarding: true besides a matching section (pol_eval.h). */
static int role_may_allow(const struct pol_role *r, const char *tool)
{
	return r->port_forwarding || strcmp(tool, POL_TOOL_PORT_FORWARD) != 0;
}

/* Why no role allowed, when one came close: the first such role. */
struct near_miss {
	const struct pol_role *role;    /* NULL: none came close */
	const char *shell_at;           /* the shell syntax; NULL: see below */
	int port_forwarding;            /* 1: the role lacks options.port_forwarding;
					 * 0 (and no shell_at): MFA for a bot */
};

static void decide_near_miss(struct pol_decision *out, const struct near_miss *nm,
    const struct pol_request *req)
{
	char what[8];

	/* out->role stays "": the role named did not decide, it only came
	 * closest to allowing. */
	if (nm->port_forwarding) {
		rule_add(out, "deny: no role of yours allows port forwarding "
		    "(options.port_forwarding: true; role ");
		rule_add(out, nm->role->name);
		rule_add(out, " would, with it) for");
		rule_request(out, req);
		return;
	}
	rule_add(out, "deny: role ");
	rule_add(out, nm->role->name);
	if (nm->shell_at != NULL) {
		switch (*nm->shell_at) {
		case '\n': snprintf(what, sizeof(what), "'\\n'"); break;
		case '\r': snprintf(what, sizeof(what), "'\\r'"); break;
		case '\\': snprintf(what, sizeof(what), "'\\\\'"); break;
		default: snprintf(what, sizeof(what), "'%c'", *nm->shell_at); break;
		}
		rule_add(out, " allows no shell syntax (");
		rule_add(out, what);
		rule_add(out, ") in");
	} else {
		rule_add(out, " requires MFA (");
		rule_add(out, pol_mfa_name(nm->role->mfa));
		rule_add(out, "), which a bot cannot give, and names no approver, for");
	}
	rule_request(out, req);
}

/* What role r asks before an allowed call runs, into *out. 0, or -1 when
 * the caller cannot give it: a bot cannot answer an MFA prompt, so for a
 * bot a role's approvers stand in for its MFA, and without approvers the
 * role allows the bot nothing. */
static int role_requirements(const struct pol_role *r, int bot, struct pol_requirements *out)
{
	size_t i, len = 0, n;

	memset(out, 0, sizeof(*out));
	out->mfa = r->mfa;
	if (r->mfa == POL_MFA_PER_SESSION) {
		out->mfa_window = r->mfa_window;
	}
	if (r->approval) {
		out->approval = 1;
		out->approval_ttl = r->approval_ttl;
		/* At most POL_MAX_ITEMS names of at most POL_NAME_MAX bytes, each
		 * with a comma or the NUL: POL_APPROVERS_MAX holds them all. */
		for (i = 0; i < r->napprovers; i++) {
			n = strlen(r->approvers[i]);
			if (len + (i > 0) + n >= sizeof(out->approvers)) {
				break;
			}
			if (i > 0) {
				out->approvers[len++] = ',';
			}
			memcpy(out->approvers + len, r->approvers[i], n + 1);
			len += n;
		}
	}
	if (bot && out->mfa != POL_MFA_NONE) {
		if (!out->approval) {
			return -1;
		}
		out->mfa = POL_MFA_NONE;
		out->mfa_window = 0;
	}
	return 0;
}

/* Ranks follow the enum's order: none, per_session, per_call. */
int pol_demand_cmp(const struct pol_requirements *a, const struct pol_requirements *b)
{
	int aa = a != NULL && a->approval, ba = b != NULL && b->approval;
	int am = a != NULL ? (int)a->mfa : 0, bm = b != NULL ? (int)b->mfa : 0;

	if (aa != ba) {
		return aa - ba;
	}
	return (am > bm) - (am < bm);
}

/* "5m", "1h30m", "1d", or whole seconds ("90s") when not whole minutes. */
static void dur_compact(int64_t s, char *out, size_t outsz)
{
	static const struct {
		int64_t mult;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	size_t i, len = 0;
	int n;

	out[0] = '\0';
	if (s <= 0 || s % 60 != 0) {
		snprintf(out, outsz, "%llds", (long long)s);
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s >= units[i].mult) {
			n = snprintf(out + len, outsz - len, "%lld%c",
			    (long long)(s / units[i].mult), units[i].unit);
			if (n < 0 || (size_t)n >= outsz - len) {
				return;
			}
			len += (size_t)n;
			s %= units[i].mult;
		}
	}
}

void pol_requirements_text(const struct pol_requirements *r, char *out, size_t outsz)
{
	char dur[32];
	const char *p = NULL, *comma = NULL;
	size_t names = 1, i;

	if (out == NULL || outsz == 0) {
		return;
	}
	out[0] = '\0';
	if (r == NULL || (r->mfa == POL_MFA_NONE && !r->approval)) {
		text_add(out, outsz, "nothing");
		return;
	}
	if (r->mfa == POL_MFA_PER_CALL) {
		text_add(out, outsz, "MFA step-up (per call)");
	} else if (r->mfa == POL_MFA_PER_SESSION) {
		text_add(out, outsz, "MFA step-up (once per ");
		if (r->mfa_window > 0) {
			dur_compact(r->mfa_window, dur, sizeof(dur));
			text_add(out, outsz, dur);
		} else {
			text_add(out, outsz, "session");
		}
		text_add(out, outsz, ")");
	}
	if (!r->approval) {
		return;
	}
	if (r->mfa != POL_MFA_NONE) {
		text_add(out, outsz, "; ");
	}
	text_add(out, outsz, "approval");
	if (r->approvers[0] != '\0') {
		for (p = r->approvers; (p = strchr(p, ',')) != NULL; p++) {
			names++;
		}
		text_add(out, outsz, " by a holder of ");
		for (i = 0, p = r->approvers; i < names; i++, p = comma + 1) {
			if ((comma = strchr(p, ',')) == NULL) {
				comma = p + strlen(p);
			}
			if (i > 0) {
				text_add(out, outsz, i + 1 == names ? " or " : ", ");
			}
			text_addn(out, outsz, p, (size_t)(comma - p));
		}
	}
	if (r->approval_ttl > 0) {
		dur_compact(r->approval_ttl, dur, sizeof(dur));
		text_add(out, outsz, " within ");
		text_add(out, outsz, dur);
	}
}

/*
 * Path matching works on segments. A cursor points at the '/' before a
 * segment, or at the terminating NUL when no segment is left; "/" itself
 * has none.
 */
static const char *seg_first(const char *p)
{
	return p[1] == '\0' ? p + 1 : p;
}

static size_t seg_len(const char *cur)
{
	return strcspn(cur + 1, "/");
}

static const char *seg_next(const char *cur)
{
	return cur + 1 + seg_len(cur);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* One segment against a pattern segment: '*' any run, '?' any one byte,
 * anything else itself (ignoring ASCII case when fold is set; path
 * patterns hold no '[' or '\'), as fnmatch(3) with FNM_PATHNAME does
 * within a segment. Keeping only the last '*' to
 * retry from bounds the work to about plen * slen steps. */
static int seg_match(const char *p, size_t plen, const char *s, size_t slen, int fold)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < plen && (p[pi] == '?' || p[pi] == s[si] ||
		    (fold && ascii_lower(p[pi]) == ascii_lower(s[si])))) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < plen && p[pi] == '*') {
		pi++;
	}
	return pi == plen;
}

int pol_path_normal(const char *path)
{
	const char *cur = NULL;
	size_t n;

	if (path == NULL || path[0] != '/') {
		return 0;
	}
	for (cur = seg_first(path); *cur != '\0'; cur = seg_next(cur)) {
		n = seg_len(cur);
		if (n == 0 || (n == 1 && cur[1] == '.') ||
		    (n == 2 && cur[1] == '.' && cur[2] == '.')) {
			return 0;
		}
	}
	return 1;
}

/*
 * The usual wildcard walk with "**" as the star and each other pattern
 * segment matching exactly one path segment: on a mismatch, only the last
 * "**" seen takes one more segment and the walk resumes after it. That is
 * enough, because every non-"**" segment consumes exactly one segment, and
 * it keeps runs of "**" segments and long paths to at most (pattern
 * segments x path segments) segment comparisons, without recursion.
 */
static int path_match(const char *pattern, const char *path, int fold)
{
	const char *pc = NULL, *sc = NULL, *star = NULL, *mark = NULL;
	size_t pn;

	if (pattern == NULL || path == NULL || pol_path_pattern_error(pattern) != NULL ||
	    !pol_path_normal(path)) {
		return 0;
	}
	pc = seg_first(pattern);
	sc = seg_first(path);
	while (*sc != '\0') {
		pn = *pc != '\0' ? seg_len(pc) : 0;
		if (*pc != '\0' && pn == 2 && pc[1] == '*' && pc[2] == '*') {
			star = pc;
			mark = sc;
			pc = seg_next(pc);
		} else if (*pc != '\0' && seg_match(pc + 1, pn, sc + 1, seg_len(sc), fold)) {
			pc = seg_next(pc);
			sc = seg_next(sc);
		} else if (star != NULL) {
			pc = seg_next(star);
			mark = seg_next(mark);
			sc = mark;
		} else {
			return 0;
		}
	}
	while (*pc != '\0' && seg_len(pc) == 2 && pc[1] == '*' && pc[2] == '*') {
		pc = seg_next(pc);
	}
	return *pc == '\0';
}

int pol_path_match(const char *pattern, const char *path)
{
	return path_match(pattern, path, 0);
}

static int request_ok(const struct pol_role *const *roles, size_t nroles,
    const struct pol_request *req)
{
	size_t i;

	if (req == NULL || req->tool == NULL || (roles == NULL && nroles > 0) ||
	    (req->labels == NULL && req->nlabels > 0)) {
		return 0;
	}
	for (i = 0; i < nroles; i++) {
		if (roles[i] == NULL) {
			return 0;
		}
	}
	for (i = 0; i < req->nlabels; i++) {
		if (req->labels[i].key == NULL || req->labels[i].value == NULL) {
			return 0;
		}
	}
	return 1;
}

int pol_decide(const struct pol_role *const *roles, size_t nroles,
    const struct pol_request *req, struct pol_decision *out)
{
	struct pol_requirements rq;
	struct near_miss nm = { NULL, NULL, 0 };
	struct eval_req er = { req, NULL };
	char *squeezed = NULL;
	const char *shell_at = NULL;
	size_t i, best = 0;
	int found = 0, r = 0;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	if (!request_ok(roles, nroles, req)) {
		snprintf(out->rule, sizeof(out->rule), "deny: invalid request");
		return ZT_ERR_INVALID;
	}
	if (req->command != NULL && (r = blanks_squeezed(req->command, &squeezed)) != 0) {
		snprintf(out->rule, sizeof(out->rule), "deny: out of memory");
		return r;
	}
	er.squeezed = squeezed;
	out->host_hidden = req->host != NULL &&
	    !pol_host_visible(roles, nroles, req->labels, req->nlabels);
	for (i = 0; i < nroles; i++) {
		if (section_match(&roles[i]->deny, &er, 1, 0) == MATCH_YES) {
			decide_by(out, roles[i], 0, req);
			goto out;
		}
	}
	/* Every allowing role is a way in; the caller gets the easiest one. */
	for (i = 0; i < nroles; i++) {
		switch (section_match(&roles[i]->allow, &er, 0, roles[i]->shell)) {
		case MATCH_NO:
			continue;
		case MATCH_SHELL:
			if (nm.role == NULL) {
				(void)pol_shell_syntax(req->command, &shell_at);
				nm.role = roles[i];
				nm.shell_at = shell_at;
			}
			continue;
		case MATCH_YES:
			break;
		}
		if (!role_may_allow(roles[i], req->tool)) {
			if (nm.role == NULL) {
				nm.role = roles[i];
				nm.port_forwarding = 1;
			}
			continue;
		}
		if (role_requirements(roles[i], req->bot, &rq) != 0) {
			if (nm.role == NULL) {
				nm.role = roles[i];
			}
			continue;
		}
		if (!found || pol_demand_cmp(&rq, &out->req) < 0) {
			found = 1;
			best = i;
			out->req = rq;
		}
	}
	if (found) {
		decide_by(out, roles[best], 1, req);
	} else if (nm.role != NULL) {
		decide_near_miss(out, &nm, req);
	} else {
		rule_add(out, "deny: no role allows");
		rule_request(out, req);
	}
out:
	free(squeezed);
	return 0;
}

/* One selector of a section: the tools key against a tool, or the hosts key
 * against a host's labels (for filtering lists, where the rest is unknown). */
struct selector {
	const char *tool;               /* NULL: the hosts key */
	const struct pol_label *labels;
	size_t nlabels;
};

/* -1 when the section lacks the selector's key, else whether it matches. */
static int selector_match(const struct pol_section *sec, const struct selector *sel)
{
	if (sel->tool != NULL) {
		return sec->has_tools ? any_match(sec->tools, sec->ntools, sel->tool, 0) : -1;
	}
	return sec->has_hosts ? hosts_match(sec, sel->labels, sel->nlabels) : -1;
}

/* 1 if some non-empty allow section could match the selector and no deny
 * section made only of the selector's key matches it. A deny with any
 * other key (commands, say) depends on the call, so it hides nothing. */
static int could_allow(const struct pol_role *const *roles, size_t nroles,
    const struct selector *sel)
{
	const struct pol_section *sec = NULL;
	int possible = 0, keys;
	size_t i;

	if (roles == NULL && nroles > 0) {
		return 0;
	}
	for (i = 0; i < nroles; i++) {
		if (roles[i] == NULL) {
			return 0;
		}
		sec = &roles[i]->deny;
		keys = sec->has_hosts + sec->has_logins + sec->has_tools + sec->has_commands +
		    sec->has_paths;
		if (keys == 1 && selector_match(sec, sel) == 1) {
			return 0;
		}
		sec = &roles[i]->allow;
		if (!section_empty(sec) && selector_match(sec, sel) != 0 &&
		    (sel->tool == NULL || role_may_allow(roles[i], sel->tool))) {
			possible = 1;
		}
	}
	return possible;
}

int pol_tool_possible(const struct pol_role *const *roles, size_t nroles, const char *tool)
{
	struct selector sel = { tool, NULL, 0 };

	if (tool == NULL) {
		return 0;
	}
	return could_allow(roles, nroles, &sel);
}

int pol_paths_unbound(const struct pol_role *role, const char *tool)
{
	const struct pol_section *a;

	if (role == NULL || tool == NULL) {
		return 0;
	}
	a = &role->allow;
	return a->has_paths && (!a->has_tools || any_match(a->tools, a->ntools, tool, 0));
}

int pol_host_visible(const struct pol_role *const *roles, size_t nroles,
    const struct pol_label *labels, size_t nlabels)
{
	struct selector sel = { NULL, labels, nlabels };
	size_t i;

	if (labels == NULL && nlabels > 0) {
		return 0;
	}
	for (i = 0; i < nlabels; i++) {
		if (labels[i].key == NULL || labels[i].value == NULL) {
			return 0;
		}
	}
	return could_allow(roles, nroles, &sel);
}
