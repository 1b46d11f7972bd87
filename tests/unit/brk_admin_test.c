/*
 * brk_admin_test.c - the administration logic shared by `ztbroker admin`
 * and the admin API, on a real store and CA: join token bounds, the text
 * people are shown, token states, removal by id, role documents that are
 * applied or refused without a trace, policy tests, the agents listing
 * and the agent verbs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_admin.h"
#include "broker/brk_agents.h"
#include "broker/brk_apiadmin.h"
#include "broker/brk_roles.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

#define NOW 1800000000

struct fx {
	char dir[TU_DIR_MAX];
	struct store *st;
	struct brk_roles *rc;
	struct ca *ca;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char db[TU_PATH_MAX];

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-admin"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->st), 0);
	assert_int_equal(brk_roles_new(f->st, &f->rc), 0);
	assert_int_equal(ca_load_or_create(f->dir, NOW, &f->ca), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	brk_roles_free(f->rc);
	store_free(f->st);
	ca_free(f->ca);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void test_ttl_and_state(void **state)
{
	struct store_join_token t;
	int64_t ttl = 0;
	(void)state;

	assert_int_equal(brk_admin_join_ttl("30m", &ttl), 0);
	assert_int_equal(ttl, 1800);
	assert_int_equal(brk_admin_join_ttl("1m", &ttl), 0);
	assert_int_equal(brk_admin_join_ttl("24h", &ttl), 0);
	assert_int_equal(ttl, 86400);
	assert_int_equal(brk_admin_join_ttl("59s", &ttl), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_join_ttl("25h", &ttl), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_join_ttl("soon", &ttl), ZT_ERR_INVALID);

	memset(&t, 0, sizeof(t));
	t.expires_at = NOW + 10;
	t.uses_left = 1;
	assert_string_equal(brk_admin_token_state(&t, NOW), "valid");
	assert_string_equal(brk_admin_token_state(&t, NOW + 10), "expired");
	t.uses_left = 0;
	assert_string_equal(brk_admin_token_state(&t, NOW), "used"); /* before expired */
}

/* A token as brk_admin_token_add would have minted it, at NOW. */
static void minted(struct brk_join_minted *m, int64_t uses)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->token, sizeof(m->token), "ztj_T");
	snprintf(m->id, sizeof(m->id), "0123456789ab");
	snprintf(m->pin, sizeof(m->pin), "sha256:P");
	m->expires_at = NOW;
	m->uses = uses;
}

/* The instructions, to the byte: ztctl prints the broker's copy as is. */
static void test_join_text(void **state)
{
	static const char want[] =
	    "token: ztj_T\nexpires: 2027-01-15T08:00:00Z\nuses: 3\nid: 0123456789ab\n"
	    "CA pin: sha256:P\n"
	    "On the host, replace HOST with the broker's address and NAME with the host's "
	    "name, then run:\n"
	    "  ztagent --broker HOST:3025 --ca-pin sha256:P --data-dir /var/lib/ztagent "
	    "--name NAME --token ztj_T\n"
	    "The token is shown only once.\n";
	struct brk_join_minted m;
	char out[BRK_JOIN_TEXT_MAX], small[64];
	(void)state;

	minted(&m, 3);
	assert_int_equal(brk_admin_join_text(&m, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(brk_admin_join_command(&m, out, sizeof(out)), 0);
	assert_string_equal(out, "ztagent --broker HOST:3025 --ca-pin sha256:P --data-dir "
	    "/var/lib/ztagent --name NAME --token ztj_T");
	assert_int_equal(brk_admin_join_text(&m, small, sizeof(small)), ZT_ERR_TOO_LARGE);
	assert_int_equal(brk_admin_join_command(&m, small, sizeof(small)), ZT_ERR_TOO_LARGE);
}

/* A token bound to a name and labels says so, and names the agent. */
static void test_join_text_bound(void **state)
{
	static const char want[] =
	    "token: ztj_T\nexpires: 2027-01-15T08:00:00Z\nuses: 1\nid: 0123456789ab\n"
	    "name: web1 (the only name this token joins)\n"
	    "labels: env=prod,team=web (the agent's own are not used)\n"
	    "CA pin: sha256:P\n"
	    "On the host, replace HOST with the broker's address, then run:\n"
	    "  ztagent --broker HOST:3025 --ca-pin sha256:P --data-dir /var/lib/ztagent "
	    "--name web1 --token ztj_T\n"
	    "The token is shown only once.\n";
	struct brk_join_minted m;
	char out[BRK_JOIN_TEXT_MAX];
	(void)state;

	minted(&m, 1);
	snprintf(m.name, sizeof(m.name), "web1");
	snprintf(m.labels, sizeof(m.labels), "env=prod,team=web");
	assert_int_equal(brk_admin_join_text(&m, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

struct seen {
	int n;
	struct store_join_token t;
};

static int count_token(const struct store_join_token *t, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->t = *t;
	return 0;
}

/* A minted token is stored only as its hash, under its creator; the audit
 * details name its id, never the token; removal goes by that id. */
static void test_token_add_rm(void **state)
{
	struct fx *f = *state;
	char err[POL_ERR_MAX], hash[CRYPTO_SHA256_HEX_LEN + 1], *text = NULL, pin[CA_PIN_LEN + 1];
	struct brk_join_minted m;
	struct seen s;
	cJSON *d = NULL;

	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 0, 1, "user:ada", NULL, NULL,
	    &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 60, 101, "user:ada", NULL, NULL,
	    &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_null(d);
	assert_non_null(strstr(err, "1 to 100 uses"));

	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 2, "user:ada", NULL, NULL,
	    &m, &d, err, sizeof(err)), 0);
	assert_int_equal(strncmp(m.token, "ztj_", 4), 0);
	crypto_token_hash(m.token, hash);
	assert_int_equal(strncmp(m.id, hash, 12), 0);
	assert_int_equal(strlen(m.id), 12);
	assert_int_equal(ca_pin(f->ca, pin, sizeof(pin)), 0);
	assert_string_equal(m.pin, pin);
	assert_int_equal(m.expires_at, NOW + 600);
	text = cJSON_PrintUnformatted(d);
	assert_null(strstr(text, m.token));
	assert_non_null(strstr(text, m.id));
	free(text);
	cJSON_Delete(d);
	d = NULL;

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_join_token_each(f->st, count_token, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.t.token_hash, hash);
	assert_string_equal(s.t.created_by, "user:ada");
	assert_int_equal(s.t.uses_left, 2);

	assert_int_equal(brk_admin_token_rm(f->st, "xyz", &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "12 to 64 lower-case hex digits"));
	assert_int_equal(brk_admin_token_rm(f->st, "000000000000", &d, err, sizeof(err)),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(brk_admin_token_rm(f->st, m.id, &d, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "token")), m.id);
	cJSON_Delete(d);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_join_token_each(f->st, count_token, &s), 0);
	assert_int_equal(s.n, 0);

	/* Bound to a name and labels, which are checked as an agent's are. */
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 1, "user:ada", "Web 1", NULL,
	    &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 1, "user:ada", "web1",
	    "env=prod,env=dev", &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "a key appears twice"));
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 1, "user:ada", "web1",
	    "env=pr*d", &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 1, "user:ada", "web1",
	    "env", &m, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(brk_admin_token_add(f->st, f->ca, NOW, 600, 1, "user:ada", "web1",
	    "env=prod,team=web", &m, &d, err, sizeof(err)), 0);
	assert_string_equal(m.name, "web1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "name")), "web1");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(d,
	    "labels"), "team")), "web");
	cJSON_Delete(d);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_join_token_each(f->st, count_token, &s), 0);
	assert_string_equal(s.t.claims.name, "web1");
	assert_string_equal(s.t.claims.labels, "{\"env\":\"prod\",\"team\":\"web\"}");
	crypto_wipe(&m, sizeof(m));
}

/* A refused document leaves the stored role as it was. */
static void test_roles(void **state)
{
	static const char good[] = "kind: role\nname: ops\nallow: {tools: [list_hosts]}\n";
	static const char bad[] = "kind: role\nname: ops\nallow:\n  tool: [ssh_exec]\n";
	struct fx *f = *state;
	char err[POL_ERR_MAX], name[STORE_NAME_MAX + 1], *before = NULL, *after = NULL;
	cJSON *d = NULL;

	assert_int_equal(brk_admin_role_apply(f->st, good, strlen(good), "ops.yaml", NOW, name,
	    sizeof(name), &d, err, sizeof(err)), 0);
	assert_string_equal(name, "ops");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "role")), "ops");
	cJSON_Delete(d);
	assert_int_equal(store_role_get(f->st, "ops", &before), 0);

	assert_int_equal(brk_admin_role_apply(f->st, bad, strlen(bad), "ops.yaml", NOW + 5, name,
	    sizeof(name), &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_null(d);
	assert_string_equal(err, "ops.yaml:4: unknown key \"tool\" in allow (expected hosts, "
	    "logins, tools, commands, paths)");
	assert_int_equal(store_role_get(f->st, "ops", &after), 0);
	assert_string_equal(before, after);
	free(before);
	free(after);

	assert_int_equal(brk_admin_role_rm(f->st, "ops", &d, err, sizeof(err)), 0);
	cJSON_Delete(d);
	assert_int_equal(brk_admin_role_rm(f->st, "ops", &d, err, sizeof(err)), ZT_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "cannot remove role ops"));
}

static void test_policy(void **state)
{
	static const char ro[] = "kind: role\nname: ro\nallow:\n  hosts: {env: staging}\n"
	    "  tools: [ssh_exec]\n";
	struct fx *f = *state;
	char err[POL_ERR_MAX], name[STORE_NAME_MAX + 1], missing[STORE_ROLES_MAX + 1];
	struct brk_admin_query q;
	struct pol_decision d;
	cJSON *det = NULL;
	int64_t id = 0;

	assert_int_equal(brk_admin_role_apply(f->st, ro, strlen(ro), "ro.yaml", NOW, name,
	    sizeof(name), &det, err, sizeof(err)), 0);
	cJSON_Delete(det);
	assert_int_equal(store_bot_add(f->st, "ai", "ro,ghost", NOW, &id), 0);

	memset(&q, 0, sizeof(q));
	q.bot = "ai";
	q.tool = "ssh_exec";
	q.host = "web1";
	q.labels = "env=staging";
	assert_int_equal(brk_admin_policy_test(f->st, f->rc, NULL, &q, &d, missing,
	    sizeof(missing), err, sizeof(err)), 0);
	assert_int_equal(d.allow, 1);
	assert_string_equal(d.rule,
	    "allow: role ro allows tool ssh_exec on host web1 (env=staging)");
	assert_string_equal(missing, "ghost");

	/* Without labels and without an agent registry the host has none. */
	q.labels = NULL;
	assert_int_equal(brk_admin_policy_test(f->st, f->rc, NULL, &q, &d, missing,
	    sizeof(missing), err, sizeof(err)), 0);
	assert_int_equal(d.allow, 0);

	q.labels = "env";
	assert_int_equal(brk_admin_policy_test(f->st, f->rc, NULL, &q, &d, missing,
	    sizeof(missing), err, sizeof(err)), ZT_ERR_INVALID);
	q.labels = NULL;
	q.user = "ai";
	assert_int_equal(brk_admin_policy_test(f->st, f->rc, NULL, &q, &d, missing,
	    sizeof(missing), err, sizeof(err)), ZT_ERR_INVALID);
	q.bot = NULL;
	assert_int_equal(brk_admin_policy_test(f->st, f->rc, NULL, &q, &d, missing,
	    sizeof(missing), err, sizeof(err)), ZT_ERR_NOT_FOUND);
	assert_string_equal(err, "no user ai");
}

#define PIN_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HOSTKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

/* A hello of web1 with the label env=value. */
static int hello_web1(struct brk_agents *a, const char *value, uint64_t *gen,
    struct brk_hello *h)
{
	static struct tun_resource res;
	struct tun_msg m;

	memset(&m, 0, sizeof(m));
	memset(&res, 0, sizeof(res));
	snprintf(res.name, sizeof(res.name), "web1");
	snprintf(res.kind, sizeof(res.kind), "ssh");
	snprintf(res.address, sizeof(res.address), "127.0.0.1:22");
	snprintf(res.host_key, sizeof(res.host_key), "%s", HOSTKEY);
	m.type = TUN_HELLO;
	m.name = "web1";
	m.resources = &res;
	m.nresources = 1;
	m.nlabels = 1;
	snprintf(m.labels[0].key, sizeof(m.labels[0].key), "env");
	snprintf(m.labels[0].value, sizeof(m.labels[0].value), "%s", value);
	return brk_agents_online(a, &m, PIN_A, NOW, -1, gen, h);
}

/* The listing, from a running registry and offline from the store alike:
 * an agent's approved claims, and the claims that wait, read from the
 * store. */
static void test_agents_ls(void **state)
{
	struct fx *f = *state;
	struct brk_agents *a = brk_agents_new(f->st);
	struct brk_hello *h = calloc(1, sizeof(*h));
	const cJSON *ag, *p;
	cJSON *list = NULL;
	char *text = NULL, *offline = NULL, fp[TUN_HOSTKEY_FP_MAX];
	uint64_t gen = 0;

	assert_non_null(a);
	assert_non_null(h);
	assert_int_equal(hello_web1(a, "dev", &gen, h), 0);
	brk_agents_offline(a, "web1", gen);
	assert_int_equal(hello_web1(a, "prod", &gen, h), 0);
	assert_int_equal(h->claims, BRK_CLAIMS_PENDING);

	assert_int_equal(brk_admin_agents_ls(f->st, a, &list, &text), 0);
	assert_non_null(strstr(text, "\nweb1 "));
	assert_non_null(strstr(text, " pending   env=dev\n    ssh web1 "));
	assert_non_null(strstr(text, "\n  pending since "));
	assert_non_null(strstr(text, ": labels env=prod (approved: env=dev)\n"));
	ag = cJSON_GetArrayItem(list, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ag, "online")));
	p = cJSON_GetObjectItem(ag, "pending");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(p, "labels"), "env")), "prod");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "since")), NOW);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(ag, "claims"), "labels")->child), "dev");
	assert_int_equal(tun_hostkey_fingerprint(HOSTKEY, fp, sizeof(fp)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(p, "resources"), 0), "host_key")), fp);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(ag, "claims"), "resources"), 0), "host_key")),
	    fp);
	assert_non_null(strstr(text, "\n    ssh web1 "));
	cJSON_Delete(list);

	/* Each form alone is the same as with the other. */
	assert_int_equal(brk_admin_agents_ls(f->st, a, NULL, &offline), 0);
	assert_string_equal(offline, text);
	free(offline);
	assert_int_equal(brk_admin_agents_ls(f->st, a, &list, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	cJSON_Delete(list);

	/* Offline, the same lines. */
	assert_int_equal(brk_admin_agents_ls(f->st, NULL, &list, &offline), 0);
	assert_string_equal(offline, text);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "online")));
	cJSON_Delete(list);
	free(offline);
	free(text);

	/* Approved meanwhile in the store: nothing waits, whatever the
	 * registry last saw. */
	assert_int_equal(store_agent_approve(f->st, "web1", NULL), 0);
	assert_int_equal(brk_admin_agents_ls(f->st, a, &list, &text), 0);
	assert_non_null(strstr(text, " approved  env=dev\n"));
	assert_null(strstr(text, "pending since"));
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "pending"));
	cJSON_Delete(list);
	free(text);
	brk_agents_free(a);
	free(h);
}

/* One table of agent verbs serves the offline verbs and the API: each
 * verb runs, and the API's routes audit under the verbs' events. */
static void test_agent_verbs(void **state)
{
	static const struct {
		const struct brk_apiadmin_op *op;
		const char *verb;
	} api[] = {
		{ &brk_apiadmin_agent_approve, "approve" },
		{ &brk_apiadmin_agent_lock, "lock" },
		{ &brk_apiadmin_agent_unlock, "unlock" },
	};
	struct fx *f = *state;
	const struct brk_admin_verb *v;
	struct store_agent row;
	char err[POL_ERR_MAX];
	cJSON *d = NULL;
	uint64_t gen = 0;
	struct brk_hello *h = calloc(1, sizeof(*h));
	struct brk_agents *a = brk_agents_new(f->st);

	assert_non_null(h);
	assert_non_null(a);
	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		assert_non_null(v = brk_admin_verb("agents", api[i].verb));
		assert_string_equal(api[i].op->event, v->event);
	}
	assert_null(brk_admin_verb("agents", "ls"));
	assert_null(brk_admin_verb("agents", "Lock"));
	assert_null(brk_admin_verb("bots", "lock"));
	assert_null(brk_admin_verb("nouns", "lock"));
	assert_non_null(v = brk_admin_verb("users", "lock"));
	assert_string_equal(v->event, brk_apiadmin_user_lock.event);
	assert_non_null(v = brk_admin_verb("users", "rm"));
	assert_string_equal(v->event, brk_apiadmin_user_rm.event);
	assert_non_null(v = brk_admin_verb("bots", "rm"));
	assert_string_equal(v->event, brk_apiadmin_bot_rm.event);

	assert_int_equal(hello_web1(a, "dev", &gen, h), 0);
	v = brk_admin_verb("agents", "lock");
	assert_int_equal(v->run(f->st, a, "web1", 0, &d, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "agent")), "web1");
	cJSON_Delete(d);
	assert_int_equal(brk_agents_locked(a, "web1"), 1);
	assert_int_equal(v->run(f->st, a, "nobody", 0, &d, err, sizeof(err)), ZT_ERR_NOT_FOUND);
	assert_string_equal(err, "no agent nobody");
	assert_int_equal(v->run(f->st, NULL, "Not A Name", 0, &d, err, sizeof(err)), ZT_ERR_INVALID);
	v = brk_admin_verb("agents", "unlock");
	assert_int_equal(v->run(f->st, NULL, "web1", 0, &d, err, sizeof(err)), 0);
	cJSON_Delete(d);
	assert_int_equal(store_agent_get(f->st, "web1", &row), 0);
	assert_int_equal(row.locked, 0);
	v = brk_admin_verb("agents", "approve");
	assert_int_equal(v->run(f->st, a, "web1", 0, &d, err, sizeof(err)), ZT_ERR_INVALID);
	assert_string_equal(err, "agent web1 has no claims waiting for approval");
	v = brk_admin_verb("agents", "rm");
	assert_int_equal(v->run(f->st, a, "web1", 0, &d, err, sizeof(err)), ZT_ERR_EXISTS);
	brk_agents_offline(a, "web1", gen);
	assert_int_equal(v->run(f->st, a, "web1", 0, &d, err, sizeof(err)), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "key_pin")), PIN_A);
	cJSON_Delete(d);
	assert_int_equal(store_agent_get(f->st, "web1", &row), ZT_ERR_NOT_FOUND);
	brk_agents_free(a);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_and_state),
		cmocka_unit_test(test_join_text),
		cmocka_unit_test(test_join_text_bound),
		cmocka_unit_test_setup_teardown(test_token_add_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agents_ls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_verbs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
