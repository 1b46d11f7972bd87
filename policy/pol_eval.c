/*
 * pol_eval.c - deciding a request against roles, and saying which rule
 * decided it. Pure functions over parsed roles (policy/pol_priv.h).
 */
#include "policy/pol_eval.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "policy/pol_priv.h"

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

/* is_deny: a selector on a field the request lacks never matches a deny and
 * never restricts an allow (see pol_eval.h).
 *
 * Logins in a deny match whatever the case: an account database may not
 * care (AD or LDAP through sssd, Windows OpenSSH), so "ROOT" can be root,
 * and a deny that such a spelling walks past denies nothing. Logins in an
 * allow stay exact: on an ordinary Linux host "Admin" and "admin" are two
 * accounts, and an allow of one must not grant the other. So a login that
 * differs from an allowed one only in case is denied, never let through. */
static int section_match(const struct pol_section *sec, const struct pol_request *req,
    int is_deny)
{
	if (!sec->has_hosts && !sec->has_logins && !sec->has_tools) {
		return 0;
	}
	if (sec->has_tools && !any_match(sec->tools, sec->ntools, req->tool, 0)) {
		return 0;
	}
	if (sec->has_hosts) {
		if (req->host == NULL) {
			if (is_deny) {
				return 0;
			}
		} else if (!hosts_match(sec, req->labels, req->nlabels)) {
			return 0;
		}
	}
	if (sec->has_logins) {
		if (req->login == NULL) {
			if (is_deny) {
				return 0;
			}
		} else if (!any_match(sec->logins, sec->nlogins, req->login,
		    is_deny ? FNM_CASEFOLD : 0)) {
			return 0;
		}
	}
	return 1;
}

/* Appends s to the rule text, non-printable bytes as '?', "..." on overflow. */
static void rule_add(struct pol_decision *d, const char *s)
{
	size_t len = strlen(d->rule);

	for (; *s != '\0'; s++) {
		if (len + 1 >= sizeof(d->rule)) {
			memcpy(d->rule + sizeof(d->rule) - 4, "...", 4);
			return;
		}
		d->rule[len++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	}
	d->rule[len] = '\0';
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
}

static void decide_by(struct pol_decision *out, const struct pol_role *role, int allow,
    const struct pol_request *req)
{
	out->allow = allow;
	snprintf(out->role, sizeof(out->role), "%s", role->name);
	rule_add(out, allow ? "allow: role " : "deny: role ");
	rule_add(out, role->name);
	rule_add(out, allow ? " allows" : " denies");
	rule_request(out, req);
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
	size_t i;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(out, 0, sizeof(*out));
	if (!request_ok(roles, nroles, req)) {
		snprintf(out->rule, sizeof(out->rule), "deny: invalid request");
		return ZT_ERR_INVALID;
	}
	out->host_hidden = req->host != NULL &&
	    !pol_host_visible(roles, nroles, req->labels, req->nlabels);
	for (i = 0; i < nroles; i++) {
		if (section_match(&roles[i]->deny, req, 1)) {
			decide_by(out, roles[i], 0, req);
			return 0;
		}
	}
	for (i = 0; i < nroles; i++) {
		if (section_match(&roles[i]->allow, req, 0)) {
			decide_by(out, roles[i], 1, req);
			return 0;
		}
	}
	rule_add(out, "deny: no role allows");
	rule_request(out, req);
	return 0;
}

static int section_empty(const struct pol_section *sec)
{
	return !sec->has_hosts && !sec->has_logins && !sec->has_tools;
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
 * section made only of the selector's key matches it. */
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
		keys = sec->has_hosts + sec->has_logins + sec->has_tools;
		if (keys == 1 && selector_match(sec, sel) == 1) {
			return 0;
		}
		sec = &roles[i]->allow;
		if (!section_empty(sec) && selector_match(sec, sel) != 0) {
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
