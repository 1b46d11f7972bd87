/*
 * fuzz/pol_role.c - libFuzzer harness for policy/pol_role and pol_eval.
 *
 * Parses the input as a role. A refused input must leave no role and an
 * error message naming the input; an accepted role must survive the JSON
 * round trip unchanged, and the YAML written back for people (the admin
 * API's GET /v1/roles/NAME) must parse as the same role; and it decides a
 * few fixed requests without crashing. A refused input's line, as the API
 * gives it, is within the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void decide_some(const struct pol_role *role)
{
	static const struct pol_label labels[] = { { "env", "staging" }, { "team", "web" } };
	const struct pol_role *const roles[] = { role, role };
	const struct pol_request reqs[] = {
		{ "ssh_exec", "web1", labels, 2, "ubuntu", "uptime", 0 },
		{ "ssh_exec", "web1", labels, 2, "ubuntu", "uptime; id", 0 },
		{ "ssh_exec", "web1", labels, 2, "ubuntu", "  rm   -rf / ", 1 },
		{ "file_write", "db1", labels, 1, "root", NULL, 1 },
		{ "list_hosts", NULL, NULL, 0, NULL, NULL, 0 },
	};
	struct pol_decision d;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		check(pol_decide(roles, 2, &reqs[i], &d) == 0);
		check(d.allow == 0 || d.allow == 1);
		check(strlen(d.rule) < sizeof(d.rule));
		check(!d.allow || strncmp(d.rule, "allow: ", 7) == 0);
		/* A bot is never asked for MFA: its role's approvers stand in. */
		check(!d.allow || !reqs[i].bot || d.req.mfa == POL_MFA_NONE);
		check(!d.req.approval || d.req.approvers[0] != '\0');
		pol_requirements_text(&d.req, text, sizeof(text));
		check(strlen(text) < sizeof(text));
	}
	(void)pol_path_match("/var/log/**", "/var/log/a/b");
	(void)pol_tool_possible(roles, 2, "ssh_exec");
	(void)pol_host_visible(roles, 2, labels, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_role *a = NULL, *b = NULL, *c = NULL;
	cJSON *ja = NULL, *jb = NULL, *jc = NULL;
	char err[POL_ERR_MAX], *sa = NULL, *sb = NULL, *sc = NULL, *yaml = NULL;
	int r;

	r = pol_role_parse(data, size, "f.yaml", &a, err, sizeof(err));
	if (r != 0) {
		check(a == NULL);
		check(r == ZT_ERR_INVALID || r == ZT_ERR_TYPE || r == ZT_ERR_TOO_LARGE ||
		    r == ZT_ERR_NOMEM);
		check(strncmp(err, "f.yaml", 6) == 0);
		check(pol_role_err_line(err, "f.yaml") <= size + 1);
		return 0;
	}
	check(a != NULL && pol_role_name(a)[0] != '\0');
	decide_some(a);
	check(pol_role_to_json(a, &ja) == 0);
	r = pol_role_from_json(ja, &b, err, sizeof(err));
	check(r == 0);
	check(pol_role_to_json(b, &jb) == 0);
	sa = cJSON_PrintUnformatted(ja);
	sb = cJSON_PrintUnformatted(jb);
	check(sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
	check(pol_role_max_session_ttl(a) == pol_role_max_session_ttl(b));
	check(pol_role_json_yaml(ja, &yaml) == 0);
	r = pol_role_parse(yaml, strlen(yaml), "y.yaml", &c, err, sizeof(err));
	check(r == 0);
	check(pol_role_to_json(c, &jc) == 0);
	sc = cJSON_PrintUnformatted(jc);
	check(sc != NULL && strcmp(sa, sc) == 0);
	free(sc);
	free(yaml);
	cJSON_Delete(jc);
	pol_role_free(c);
	free(sa);
	free(sb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	pol_role_free(a);
	pol_role_free(b);
	return 0;
}
