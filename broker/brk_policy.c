/*
 * brk_policy.c - role documents between the store and policy/.
 */
#include "broker/brk_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_gate.h"
#include "broker/brk_roles.h"
#include "common/err.h"
#include "tunnel/tun.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"
#include "store/store.h"

/* The warning brk_policy_apply gives for role, into warn ("" if none). */
static void paths_warning(const struct pol_role *role, char *warn, size_t warnsz)
{
	const char *tools[16];
	size_t n = brk_tools_pathless(tools, sizeof(tools) / sizeof(tools[0])), len = 0;

	warn[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (pol_paths_unbound(role, tools[i])) {
			len += (size_t)snprintf(warn + len, warnsz - len, "%s%s", len > 0 ? ", " : "",
			    tools[i]);
			if (len >= warnsz) {
				break;
			}
		}
	}
	if (warn[0] != '\0' && len < warnsz) {
		char list[256];

		snprintf(list, sizeof(list), "%s", warn);
		snprintf(warn, warnsz, "role %s: its allow.paths bound the file tools only; it "
		    "also allows %s, which take no path (a command reads any file its login "
		    "can): give those a role of their own if paths should bound them",
		    pol_role_name(role), list);
	}
}

int brk_policy_apply(struct store *st, const void *p, size_t n, const char *fname,
    char *name, size_t namesz, char *err, size_t errsz, char *warn, size_t warnsz,
    long long now)
{
	struct pol_role *role = NULL;
	cJSON *json = NULL;
	char *text = NULL;
	int r;

	warn[0] = '\0';
	if ((r = pol_role_parse(p, n, fname, &role, err, errsz)) != 0) {
		goto out;
	}
	paths_warning(role, warn, warnsz);
	if ((r = pol_role_to_json(role, &json)) != 0 ||
	    (text = cJSON_PrintUnformatted(json)) == NULL) {
		snprintf(err, errsz, "%s: cannot encode the role", fname);
		r = r != 0 ? r : ZT_ERR_NOMEM;
		goto out;
	}
	snprintf(name, namesz, "%s", pol_role_name(role));
	if ((r = store_role_put(st, pol_role_name(role), text, (int64_t)now)) != 0) {
		snprintf(err, errsz, "%s: cannot store the role: %s", fname, zt_strerror(r));
	}
out:
	free(text);
	cJSON_Delete(json);
	pol_role_free(role);
	return r;
}

/* Appends name to the comma-separated list in out. */
static void note_missing(char *out, size_t outsz, const char *name)
{
	size_t len = strlen(out);

	snprintf(out + len, outsz - len, "%s%s", len > 0 ? "," : "", name);
}

int brk_policy_load(struct brk_roles *rc, const char *roles, struct brk_policy_set *set)
{
	char copy[STORE_ROLES_MAX + 1], *save = NULL;
	size_t max = 1;
	int r;

	memset(set, 0, sizeof(*set));
	snprintf(copy, sizeof(copy), "%s", roles != NULL ? roles : "");
	for (const char *p = copy; *p != '\0'; p++) {
		max += *p == ',';
	}
	if ((r = brk_roles_current(rc, &set->gen)) != 0) {
		return r;
	}
	if ((set->roles = calloc(max, sizeof(*set->roles))) == NULL) {
		brk_policy_release(set);
		return ZT_ERR_NOMEM;
	}
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		const struct pol_role *role = brk_roleset_find(set->gen, t);

		if (role != NULL) {
			set->roles[set->n++] = role;
		} else {
			note_missing(set->missing, sizeof(set->missing), t);
		}
	}
	return 0;
}

void brk_policy_release(struct brk_policy_set *set)
{
	brk_roleset_release(set->gen);
	free(set->roles);
	memset(set, 0, sizeof(*set));
}

int brk_policy_session_ttl(struct brk_roles *rc, const char *roles, int64_t cap, int64_t *ttl,
    char *by, size_t bysz)
{
	struct brk_policy_set set;
	int r;

	if ((r = brk_policy_load(rc, roles, &set)) != 0) {
		return r;
	}
	*ttl = cap;
	by[0] = '\0';
	for (size_t i = 0; i < set.n; i++) {
		int64_t t = pol_role_max_session_ttl(set.roles[i]);

		if (t > 0 && t < *ttl) {
			*ttl = t;
			snprintf(by, bysz, "%s", pol_role_name(set.roles[i]));
		}
	}
	brk_policy_release(&set);
	return 0;
}

int brk_policy_rights(struct brk_roles *rc, const char *roles, int *admin, int *auditor)
{
	struct brk_policy_set set;
	int r;

	*admin = 0;
	*auditor = 0;
	if ((r = brk_policy_load(rc, roles, &set)) != 0) {
		return r;
	}
	for (size_t i = 0; i < set.n; i++) {
		*admin |= pol_role_admin(set.roles[i]);
		*auditor |= pol_role_auditor(set.roles[i]);
	}
	brk_policy_release(&set);
	return 0;
}

int brk_policy_administers(struct brk_roles *rc, enum store_principal kind, const char *roles,
    int *yes, int *auditor)
{
	int admin = 0, aud = 0, r;

	r = brk_policy_rights(rc, roles, &admin, &aud);
	*yes = admin && kind == STORE_USER;
	if (auditor != NULL) {
		*auditor = aud;
	}
	return r;
}

int brk_policy_auditor(struct brk_roles *rc, enum store_principal kind, const char *roles,
    int *yes)
{
	int admin = 0, auditor = 0, r;

	r = brk_policy_administers(rc, kind, roles, &admin, &auditor);
	*yes = auditor || admin;
	return r;
}

int brk_policy_decide(struct brk_roles *rc, const char *roles, const struct pol_request *req,
    struct pol_decision *d, int64_t *gen)
{
	struct brk_policy_set set;
	int r;

	memset(d, 0, sizeof(*d));
	r = brk_policy_load(rc, roles, &set);
	if (r == 0) {
		r = pol_decide(set.roles, set.n, req, d);
		if (gen != NULL) {
			*gen = brk_roleset_generation(set.gen);
		}
	}
	brk_policy_release(&set);
	if (r != 0) {
		d->allow = 0;
		snprintf(d->rule, sizeof(d->rule), "deny: the policy could not be read (%s)",
		    zt_strerror(r));
	}
	return r;
}

int64_t brk_policy_generation(struct brk_roles *rc)
{
	struct brk_roleset *set = NULL;
	int64_t gen = -1;

	if (brk_roles_current(rc, &set) == 0) {
		gen = brk_roleset_generation(set);
		brk_roleset_release(set);
	}
	return gen;
}

void brk_policy_labels(const struct tun_label *in, size_t n, struct pol_label *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].key = in[i].key;
		out[i].value = in[i].value;
	}
}
