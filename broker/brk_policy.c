/*
 * brk_policy.c - role documents between the store and policy/.
 */
#include "broker/brk_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/tun.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"
#include "store/store.h"

int brk_policy_apply(struct store *st, const void *p, size_t n, const char *fname,
    char *name, size_t namesz, char *err, size_t errsz, long long now)
{
	struct pol_role *role = NULL;
	cJSON *json = NULL;
	char *text = NULL;
	int r;

	if ((r = pol_role_parse(p, n, fname, &role, err, errsz)) != 0) {
		goto out;
	}
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

int brk_policy_load(struct store *st, const char *roles, struct pol_role ***out, size_t *n,
    char *missing, size_t missingsz)
{
	char copy[STORE_ROLES_MAX + 1], *save = NULL, *doc = NULL, err[128];
	struct pol_role **arr = NULL;
	size_t cap = 0;
	cJSON *json = NULL;
	int r = 0;

	*out = NULL;
	*n = 0;
	missing[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", roles != NULL ? roles : "");
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		struct pol_role *role = NULL;

		r = store_role_get(st, t, &doc);
		if (r == ZT_ERR_NOT_FOUND) {
			note_missing(missing, missingsz, t);
			r = 0;
			continue;
		}
		if (r != 0) {
			goto fail;
		}
		json = cJSON_Parse(doc);
		r = json != NULL ? pol_role_from_json(json, &role, err, sizeof(err)) : ZT_ERR_INVALID;
		cJSON_Delete(json);
		json = NULL;
		free(doc);
		doc = NULL;
		if (r != 0) {
			goto fail;
		}
		if (*n == cap) {
			struct pol_role **grown;

			cap = cap == 0 ? 4 : cap * 2;
			if ((grown = realloc(arr, cap * sizeof(*arr))) == NULL) {
				pol_role_free(role);
				r = ZT_ERR_NOMEM;
				goto fail;
			}
			arr = grown;
		}
		arr[(*n)++] = role;
	}
	*out = arr;
	return 0;
fail:
	brk_policy_free(arr, *n);
	*n = 0;
	return r;
}

void brk_policy_free(struct pol_role **roles, size_t n)
{
	for (size_t i = 0; roles != NULL && i < n; i++) {
		pol_role_free(roles[i]);
	}
	free(roles);
}

int brk_policy_session_ttl(struct store *st, const char *roles, int64_t cap, int64_t *ttl,
    char *by, size_t bysz)
{
	char missing[STORE_ROLES_MAX + 1];
	struct pol_role **set = NULL;
	size_t n = 0;
	int r;

	if ((r = brk_policy_load(st, roles, &set, &n, missing, sizeof(missing))) != 0) {
		return r;
	}
	*ttl = cap;
	by[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int64_t t = pol_role_max_session_ttl(set[i]);

		if (t > 0 && t < *ttl) {
			*ttl = t;
			snprintf(by, bysz, "%s", pol_role_name(set[i]));
		}
	}
	brk_policy_free(set, n);
	return 0;
}

int brk_policy_decide(struct store *st, const char *roles, const struct pol_request *req,
    struct pol_decision *d)
{
	char missing[STORE_ROLES_MAX + 1];
	struct pol_role **set = NULL;
	size_t n = 0;
	int r;

	memset(d, 0, sizeof(*d));
	r = brk_policy_load(st, roles, &set, &n, missing, sizeof(missing));
	if (r == 0) {
		r = pol_decide((const struct pol_role *const *)set, n, req, d);
	}
	brk_policy_free(set, n);
	if (r != 0) {
		d->allow = 0;
		snprintf(d->rule, sizeof(d->rule), "deny: the policy could not be read (%s)",
		    zt_strerror(r));
	}
	return r;
}

void brk_policy_labels(const struct tun_label *in, size_t n, struct pol_label *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].key = in[i].key;
		out[i].value = in[i].value;
	}
}
