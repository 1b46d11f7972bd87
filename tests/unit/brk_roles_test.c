/*
 * brk_roles_test.c - the parsed roles on a real SQLite store: parsed once
 * while nothing changes, read again after any change (also by another
 * connection, as `ztbroker admin` makes them), a generation held across a
 * change stays whole, and a decision names what a role says now.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_policy.h"
#include "broker/brk_roles.h"
#include "common/err.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"
#include "store/store.h"
#include "testutil.h"

#define NOW 1700000000

struct fx {
	char dir[TU_DIR_MAX];
	char db[TU_PATH_MAX];
	struct store *st;
	struct brk_roles *rc;
};

static void apply(struct store *st, const char *doc)
{
	char err[256], warn[512], name[STORE_NAME_MAX + 1];

	assert_int_equal(brk_policy_apply(st, doc, strlen(doc), "role.yaml", name, sizeof(name),
	    err, sizeof(err), warn, sizeof(warn), NOW), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-roles"), 0);
	snprintf(f->db, sizeof(f->db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(f->db, &f->st), 0);
	assert_int_equal(brk_roles_new(f->st, &f->rc), 0);
	apply(f->st, "kind: role\nname: ops\nallow:\n  tools: [list_hosts]\n");
	apply(f->st, "kind: role\nname: dev\nallow:\n  tools: [whoami]\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_roles_free(f->rc);
	store_free(f->st);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Whether the roles named in roles allow tool, as decided now. */
static int allows(struct fx *f, const char *roles, const char *tool)
{
	struct pol_request req;
	struct pol_decision d;

	memset(&req, 0, sizeof(req));
	req.tool = tool;
	assert_int_equal(brk_policy_decide(f->rc, roles, &req, &d, NULL), 0);
	return d.allow;
}

static void test_parsed_once_until_a_change(void **state)
{
	struct fx *f = *state;
	struct brk_roleset *a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(brk_roles_current(f->rc, &a), 0);
	assert_int_equal(brk_roles_current(f->rc, &b), 0);
	/* Nothing changed: the very same parsed roles, no second parse. */
	assert_ptr_equal(a, b);
	assert_non_null(brk_roleset_find(a, "ops"));
	assert_non_null(brk_roleset_find(a, "dev"));
	assert_null(brk_roleset_find(a, "ghost"));
	assert_string_equal(pol_role_name(brk_roleset_find(a, "dev")), "dev");
	brk_roleset_release(b);
	/* A change makes a new generation; the one held stays whole. */
	apply(f->st, "kind: role\nname: ops\nallow:\n  tools: [ssh_exec]\n");
	assert_int_equal(brk_roles_current(f->rc, &c), 0);
	assert_ptr_not_equal(a, c);
	assert_non_null(brk_roleset_find(a, "ops"));
	assert_string_equal(pol_role_name(brk_roleset_find(a, "ops")), "ops");
	brk_roleset_release(a);
	brk_roleset_release(c);
}

static void test_decisions_follow_changes(void **state)
{
	struct fx *f = *state;
	struct store *other = NULL;
	struct brk_policy_set set;

	assert_true(allows(f, "ops", "list_hosts"));
	assert_false(allows(f, "ops", "ssh_exec"));
	/* Changed through this connection. */
	apply(f->st, "kind: role\nname: ops\nallow:\n  tools: [ssh_exec]\n");
	assert_true(allows(f, "ops", "ssh_exec"));
	assert_false(allows(f, "ops", "list_hosts"));
	/* Removed through another connection, as `ztbroker admin roles rm`
	 * while the broker serves. */
	assert_int_equal(store_open(f->db, &other), 0);
	assert_int_equal(store_role_rm(other, "ops"), 0);
	store_free(other);
	assert_false(allows(f, "ops", "ssh_exec"));
	assert_int_equal(brk_policy_load(f->rc, "ops,dev,ghost", &set), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(pol_role_name(set.roles[0]), "dev");
	assert_string_equal(set.missing, "ops,ghost");
	brk_policy_release(&set);
}

/* A stored document that does not parse fails every decision closed, with
 * the reason in the rule; once mended, decisions work again. */
static void test_unreadable_role_denies(void **state)
{
	struct fx *f = *state;
	struct pol_request req;
	struct pol_decision d;
	struct brk_roleset *s = NULL;

	assert_true(allows(f, "dev", "whoami"));
	assert_int_equal(store_role_put(f->st, "dev", "{\"broken\":", NOW), 0);
	memset(&req, 0, sizeof(req));
	req.tool = "whoami";
	assert_int_equal(brk_policy_decide(f->rc, "dev", &req, &d, NULL), ZT_ERR_INVALID);
	assert_false(d.allow);
	assert_non_null(strstr(d.rule, "could not be read"));
	assert_int_equal(brk_roles_current(f->rc, &s), ZT_ERR_INVALID);
	assert_null(s);
	apply(f->st, "kind: role\nname: dev\nallow:\n  tools: [whoami]\n");
	assert_true(allows(f, "dev", "whoami"));
}

/* Who reads the audit log and recordings: an auditor role's holder (a bot
 * too), an administrator (a user only), nobody else; it follows changes. */
static void test_auditor_rights(void **state)
{
	struct fx *f = *state;
	int admin = 0, auditor = 0, yes = 1;

	apply(f->st, "kind: role\nname: aud\noptions: {auditor: true}\n");
	apply(f->st, "kind: role\nname: boss\noptions: {admin: true}\n");
	assert_int_equal(brk_policy_rights(f->rc, "ops,aud", &admin, &auditor), 0);
	assert_int_equal(admin, 0);
	assert_int_equal(auditor, 1);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_USER, "ops", &yes), 0);
	assert_int_equal(yes, 0);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_USER, "dev,aud", &yes), 0);
	assert_int_equal(yes, 1);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_BOT, "aud", &yes), 0);
	assert_int_equal(yes, 1);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_USER, "boss", &yes), 0);
	assert_int_equal(yes, 1);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_BOT, "boss", &yes), 0);
	assert_int_equal(yes, 0);
	assert_int_equal(brk_policy_auditor(f->rc, STORE_USER, "nosuchrole", &yes), 0);
	assert_int_equal(yes, 0);
	apply(f->st, "kind: role\nname: aud\noptions: {auditor: false}\n");
	assert_int_equal(brk_policy_auditor(f->rc, STORE_USER, "aud", &yes), 0);
	assert_int_equal(yes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parsed_once_until_a_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions_follow_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_role_denies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auditor_rights, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
