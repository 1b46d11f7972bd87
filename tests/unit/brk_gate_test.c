/*
 * brk_gate_test.c - the gate every tool call walks, through the real MCP
 * engine and the broker's tool table on a real SQLite store: what each
 * kind of call answers and which audit events it leaves (table-driven);
 * and the canonical request an approval is bound to: the same call hashes
 * alike however its JSON was written, and any change to what it would do,
 * or to who asks, changes the hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit/aud_agg.h"
#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "broker/brk_dial.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_roles.h"
#include "common/crypto.h"
#include "common/err.h"
#include "mcp/mcp.h"
#include "store/store.h"
#include "testutil.h"

#define NOW 1800000000

static int64_t fake_now(void)
{
	return NOW;
}

/* ---- a broker with its tool table behind the MCP engine ---- */

struct fx {
	char dir[TU_DIR_MAX];
	struct brk b;
	struct brk_tools *tools;
	struct mcp_server *srv;
	struct mcp_session *s;
	struct mcp_identity who;
	char token_hash[STORE_HASH_HEX];
	char *last;          /* the last message the engine sent */
	struct mcp_sink sink;
};

static int sink_send(void *arg, const char *json)
{
	struct fx *f = arg;

	free(f->last);
	f->last = strdup(json);
	return 0;
}

static void apply(struct fx *f, const char *doc)
{
	char err[256], warn[512], name[STORE_NAME_MAX + 1];

	assert_int_equal(brk_policy_apply(f->b.store, doc, strlen(doc), "role.yaml", name,
	    sizeof(name), err, sizeof(err), warn, sizeof(warn), NOW), 0);
}

static void dispatch(struct fx *f, const char *json)
{
	struct mcp_msg m;
	char *err = NULL;

	assert_int_equal(mcp_decode(json, strlen(json), &m, &err), 0);
	assert_int_equal(mcp_session_dispatch(f->s, &f->who, &m, &f->sink), 0);
	mcp_msg_clear(&m);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_agent_claims claims;
	struct store_session sess;
	char db[TU_PATH_MAX], token[CRYPTO_TOKEN_MAX];
	int64_t id = 0;

	assert_non_null(f);
	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "brk-gate"), 0);
	snprintf(db, sizeof(db), "%s/zt.db", f->dir);
	assert_int_equal(store_open(db, &f->b.store), 0);
	assert_int_equal(brk_roles_new(f->b.store, &f->b.roles), 0);
	f->b.now = fake_now;
	f->b.exec_timeout_max_s = 600;
	f->b.agg = aud_agg_new(BRK_AUDIT_AGG_PERIOD_MS);
	f->b.dials = brk_dials_new();
	snprintf(f->b.base_url, sizeof(f->b.base_url), "https://127.0.0.1:8443");
	apply(f, "kind: role\nname: ops\nallow:\n  hosts: {env: staging}\n  logins: [ubuntu]\n"
	    "  tools: [ssh_exec, list_hosts]\n  commands: [uptime]\n");
	/* web1 is known (offline): its agent joined once. */
	memset(&claims, 0, sizeof(claims));
	snprintf(claims.labels, sizeof(claims.labels), "{\"env\":\"staging\"}");
	snprintf(claims.resources, sizeof(claims.resources), "[{\"name\":\"web1\","
	    "\"kind\":\"ssh\",\"address\":\"127.0.0.1:22\",\"host_key\":\"%s\"}]",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl");
	assert_int_equal(store_agent_bind(f->b.store, "web1", "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000", &claims, NOW, NULL),
	    0);
	/* zz9's resource zz-db says env=prod where its agent says staging. */
	snprintf(claims.resources, sizeof(claims.resources), "[{\"name\":\"zz-db\","
	    "\"kind\":\"ssh\",\"address\":\"127.0.0.1:22\",\"host_key\":\"%s\","
	    "\"labels\":{\"env\":\"prod\"}}]",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHfz7YpGhMmh8Y9WcGJmqu0Ayj2MKHEDnjNnO3FqTuHt");
	assert_int_equal(store_agent_bind(f->b.store, "zz9", "sha256:"
	    "2222222222222222222222222222222222222222222222222222222222222222", &claims, NOW, NULL),
	    0);
	assert_non_null(f->b.agents = brk_agents_new(f->b.store));
	/* The caller: bot ci, role ops, with a live token. */
	assert_int_equal(store_bot_add(f->b.store, "ci", "ops", NOW, &id), 0);
	assert_int_equal(crypto_token_new("ztb_", token, sizeof(token)), 0);
	memset(&sess, 0, sizeof(sess));
	crypto_token_hash(token, sess.token_hash);
	sess.kind = STORE_BOT;
	sess.principal_id = id;
	sess.created_at = NOW;
	sess.expires_at = NOW + 3600;
	assert_int_equal(store_session_add(f->b.store, &sess), 0);
	snprintf(f->token_hash, sizeof(f->token_hash), "%s", sess.token_hash);
	snprintf(f->who.kind, sizeof(f->who.kind), "bot");
	snprintf(f->who.name, sizeof(f->who.name), "ci");
	snprintf(f->who.roles, sizeof(f->who.roles), "ops");
	snprintf(f->who.source, sizeof(f->who.source), "192.0.2.7");
	snprintf(f->who.credential, sizeof(f->who.credential), "%s", sess.token_hash);
	assert_non_null(f->srv = mcp_server_new("zt", "test", NULL));
	assert_non_null(f->tools = brk_tools_new(&f->b));
	assert_int_equal(brk_tools_register(f->tools, f->srv), 0);
	assert_non_null(f->s = mcp_session_new(f->srv, &f->who));
	f->sink.send = sink_send;
	f->sink.arg = f;
	dispatch(f, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":"
	    "{\"name\":\"t\",\"version\":\"1\"}}}");
	dispatch(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mcp_session_close(f->s);
	mcp_session_unref(f->s);
	mcp_server_free(f->srv);
	brk_tools_free(f->tools);
	brk_agents_free(f->b.agents);
	brk_dials_free(f->b.dials);
	brk_roles_free(f->b.roles);
	aud_agg_free(f->b.agg);
	store_free(f->b.store);
	free(f->last);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* The audit events after seq `after`, as "type outcome" lines, and the
 * details of the last one. */
struct events {
	char text[1024];
	char last_details[4096];
	char sha[8][CRYPTO_SHA256_HEX_LEN + 1];
	size_t n;
};

static int add_event(const struct store_audit_row *row, void *arg)
{
	struct events *e = arg;
	cJSON *d = cJSON_Parse(row->details);
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(d, "request_sha256"));
	size_t len = strlen(e->text);

	snprintf(e->text + len, sizeof(e->text) - len, "%s%s %s", len > 0 ? "; " : "", row->type,
	    row->outcome);
	snprintf(e->last_details, sizeof(e->last_details), "%s", row->details);
	if (e->n < 8) {
		snprintf(e->sha[e->n++], sizeof(e->sha[0]), "%s", h != NULL ? h : "");
	}
	cJSON_Delete(d);
	return 0;
}

/* Calls tool with args (JSON text); returns the CallToolResult's text and
 * isError, and the events the call left. */
static void call_tool(struct fx *f, const char *tool, const char *args, int *is_error,
    char *text, size_t textsz, struct events *ev)
{
	char req[1024];
	int64_t head = 0;
	cJSON *resp, *result;

	assert_int_equal(store_audit_head(f->b.store, &head), 0);
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":%s}}", tool, args);
	dispatch(f, req);
	assert_non_null(resp = cJSON_Parse(f->last));
	result = cJSON_GetObjectItem(resp, "result");
	if (result == NULL) {
		fail_msg("%s %s: no result: %s", tool, args, f->last);
	}
	*is_error = cJSON_IsTrue(cJSON_GetObjectItem(result, "isError"));
	snprintf(text, textsz, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(result, "content"), 0), "text")));
	cJSON_Delete(resp);
	memset(ev, 0, sizeof(*ev));
	assert_int_equal(store_audit_each(f->b.store, head, 0, add_event, ev), 0);
}

static const struct gate_case {
	const char *tool, *args;
	int is_error;
	const char *text;      /* a prefix of the answer's text */
	const char *events;    /* "type outcome; ..." the call left */
} gate_cases[] = {
	/* open: no decision, no audit */
	{ "whoami", "{}", 0, "bot ci (roles: ops)", "" },
	/* allowed: the decision, then the outcome */
	{ "list_hosts", "{}", 0, "[{\"name\":\"web1\"",
	  "tool.list_hosts allowed; tool.list_hosts.result success" },
	/* bad arguments: a clear error, nothing asked, nothing audited */
	{ "ssh_exec", "{}", 1, "host must be a host name", "" },
	{ "ssh_exec", "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\","
	  "\"x\":1}", 1, "unknown argument \"x\"", "" },
	{ "ssh_exec", "{\"host\":\"web1\",\"login\":\"-oProxy\",\"command\":\"uptime\"}",
	  1, "login must be an account name", "" },
	/* refused: audited with the rule; an unknown host as a hidden one */
	{ "ssh_exec", "{\"host\":\"nosuch\",\"login\":\"ubuntu\",\"command\":\"uptime\"}",
	  1, "no host named nosuch (list_hosts shows", "tool.ssh_exec denied" },
	{ "ssh_exec", "{\"host\":\"web1\",\"login\":\"root\",\"command\":\"uptime\"}", 1,
	  "deny: no role allows tool ssh_exec on host web1 (env=staging) as root command "
	  "\"uptime\"", "tool.ssh_exec denied" },
	{ "ssh_exec", "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime; id\"}",
	  1, "deny: role ops allows no shell syntax (';')", "tool.ssh_exec denied" },
	/* a resource whose own label contradicts its agent's: refused, named */
	{ "ssh_exec", "{\"host\":\"zz-db\",\"login\":\"ubuntu\",\"command\":\"uptime\"}",
	  1, "deny: resource zz-db gives label env another value than its agent zz9 does",
	  "tool.ssh_exec denied" },
	/* allowed, then the work fails (the agent is offline): both recorded */
	{ "ssh_exec", "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}", 1,
	  "host offline: the agent of web1 is not connected",
	  "tool.ssh_exec allowed; tool.ssh_exec.result failure" },
};

static void test_gate_table(void **state)
{
	struct fx *f = *state;
	char text[1024], want[CRYPTO_SHA256_HEX_LEN + 1];
	struct events ev;
	int is_error;

	for (size_t i = 0; i < sizeof(gate_cases) / sizeof(gate_cases[0]); i++) {
		const struct gate_case *c = &gate_cases[i];

		call_tool(f, c->tool, c->args, &is_error, text, sizeof(text), &ev);
		if (is_error != c->is_error || strncmp(text, c->text, strlen(c->text)) != 0 ||
		    strcmp(ev.text, c->events) != 0) {
			fail_msg("case %zu (%s %s): got isError=%d \"%s\" events \"%s\"; want "
			    "isError=%d \"%s\" events \"%s\"", i, c->tool, c->args, is_error, text,
			    ev.text, c->is_error, c->text, c->events);
		}
		/* Every event of a call carries the hash of its canonical request. */
		if (ev.n > 0) {
			cJSON *args = cJSON_Parse(c->args);

			assert_int_equal(brk_gate_request_hash("bot:ci", c->tool, args, want), 0);
			cJSON_Delete(args);
			for (size_t k = 0; k < ev.n; k++) {
				assert_string_equal(ev.sha[k], want);
			}
		}
	}
}

/* The identity is read again for each call: a token revoked since the
 * session began ends the call before anything is asked. */
static void test_gate_revoked_credential(void **state)
{
	struct fx *f = *state;
	char text[1024];
	struct events ev;
	int is_error;

	assert_int_equal(store_session_revoke(f->b.store, f->token_hash, NOW), 0);
	call_tool(f, "ssh_exec", "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":"
	    "\"uptime\"}", &is_error, text, sizeof(text), &ev);
	assert_true(is_error);
	assert_string_equal(text, "your credential no longer holds (token revoked): log in again");
	assert_string_equal(ev.text, "");
}

/* A role that wants a person: the call is held (approval.requested), and
 * when its client cancels it the request is withdrawn and nothing runs. */
static void *held_call(void *arg)
{
	struct fx *f = arg;

	dispatch(f, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"ssh_exec\",\"arguments\":{\"host\":\"web1\",\"login\":\"ubuntu\","
	    "\"command\":\"uptime\"}}}");
	return NULL;
}

static void test_gate_held_call_withdrawn(void **state)
{
	struct fx *f = *state;
	struct events ev;
	pthread_t t;
	int64_t head = 0;

	apply(f, "kind: role\nname: ops\nallow:\n  hosts: {env: staging}\n  logins: [ubuntu]\n"
	    "  tools: [ssh_exec]\noptions:\n  approval: {by: [oncall], ttl: 1m}\n");
	assert_int_equal(store_audit_head(f->b.store, &head), 0);
	assert_int_equal(pthread_create(&t, NULL, held_call, f), 0);
	for (int i = 0; i < 200; i++) {
		memset(&ev, 0, sizeof(ev));
		assert_int_equal(store_audit_each(f->b.store, head, 0, add_event, &ev), 0);
		if (strcmp(ev.text, "approval.requested success") == 0) {
			break;
		}
		usleep(25000);
	}
	assert_string_equal(ev.text, "approval.requested success");
	dispatch(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
	    "{\"requestId\":8}}");
	assert_int_equal(pthread_join(t, NULL), 0);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(store_audit_each(f->b.store, head, 0, add_event, &ev), 0);
	assert_string_equal(ev.text, "approval.requested success; approval.withdrawn success");
}

/* Holds a call (a role that wants an approval), makes change() while it
 * waits, approves it, and leaves in *ev the events the call left. */
static void held_then_approved(struct fx *f, void (*change)(struct fx *f), struct events *ev)
{
	pthread_t t;
	int64_t head = 0;
	cJSON *d;
	const char *id;

	apply(f, "kind: role\nname: ops\nallow:\n  hosts: {env: staging}\n  logins: [ubuntu]\n"
	    "  tools: [ssh_exec]\noptions:\n  approval: {by: [oncall], ttl: 1m}\n");
	assert_int_equal(store_audit_head(f->b.store, &head), 0);
	assert_int_equal(pthread_create(&t, NULL, held_call, f), 0);
	for (int i = 0; i < 200; i++) {
		memset(ev, 0, sizeof(*ev));
		assert_int_equal(store_audit_each(f->b.store, head, 0, add_event, ev), 0);
		if (strcmp(ev->text, "approval.requested success") == 0) {
			break;
		}
		usleep(25000);
	}
	assert_string_equal(ev->text, "approval.requested success");
	assert_non_null(d = cJSON_Parse(ev->last_details));
	assert_non_null(id = cJSON_GetStringValue(cJSON_GetObjectItem(d, "approval_id")));
	change(f);
	assert_int_equal(store_approval_approve(f->b.store, id, "user:bob", NOW, 0), 0);
	cJSON_Delete(d);
	assert_int_equal(pthread_join(t, NULL), 0);
	memset(ev, 0, sizeof(*ev));
	assert_int_equal(store_audit_each(f->b.store, head, 0, add_event, ev), 0);
}

static void move_to_prod(struct fx *f)
{
	assert_int_equal(store_agent_set_labels(f->b.store, "web1", "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "{\"env\":\"prod\"}", NULL), 0);
	assert_int_equal(brk_agents_sync(f->b.agents, "web1"), 0);
}

static void revoke_token(struct fx *f)
{
	assert_int_equal(store_session_revoke(f->b.store, f->token_hash, NOW), 0);
}

/* A call that waited is decided again when it is released: on the host
 * as it is then (one moved out of the caller's reach is refused, whatever
 * the approval said), and for a credential that still holds. */
static void test_gate_released_call_decided_again(void **state)
{
	struct fx *f = *state;
	struct events ev;

	held_then_approved(f, move_to_prod, &ev);
	assert_string_equal(ev.text, "approval.requested success; tool.ssh_exec denied");
	assert_non_null(strstr(ev.last_details, "\"host_hidden\":true"));
	assert_non_null(strstr(f->last, "no host named web1"));
}

static void test_gate_released_call_credential_revoked(void **state)
{
	struct fx *f = *state;
	struct events ev;

	held_then_approved(f, revoke_token, &ev);
	assert_string_equal(ev.text, "approval.requested success; tool.ssh_exec denied");
	assert_non_null(strstr(ev.last_details, "the roles or the credential changed"));
	assert_non_null(strstr(f->last, "its approval no longer holds and nothing ran"));
}

static void hash(const char *actor, const char *tool, const char *args, char *out)
{
	cJSON *j = cJSON_Parse(args);

	assert_non_null(j);
	assert_int_equal(brk_gate_request_hash(actor, tool, j, out), 0);
	assert_int_equal(strlen(out), CRYPTO_SHA256_HEX_LEN);
	cJSON_Delete(j);
}

/* A file_read call of role files' holder on host (found in agents) for
 * path, allowed with no requirement, as run sees it. */
static void file_call(struct fx *f, struct brk_agents *agents, const char *host,
    const char *path, struct brk_call *c)
{
	static const struct brk_tool file_read = { .name = "file_read", .flags = BRK_TOOL_HOST };

	memset(c, 0, sizeof(*c));
	c->b = &f->b;
	c->tool = &file_read;
	c->host = host;
	c->login = "ubuntu";
	c->path = path;
	snprintf(c->who.roles, sizeof(c->who.roles), "files");
	c->who.kind = STORE_BOT;
	assert_int_equal(brk_agents_resource(agents, host, &c->resource), 0);
	c->dec.allow = 1;
}

/* A file tool's path as its host resolved it: decided again; one a link
 * redirected elsewhere than the path a person approved is refused even
 * where the roles would allow it; so is one the roles deny. */
static void test_recheck_path(void **state)
{
	struct fx *f = *state;
	struct brk_call c;
	cJSON *result = NULL;

	apply(f, "kind: role\nname: files\nallow:\n  hosts: {env: staging}\n"
	    "  logins: [ubuntu]\n  tools: [file_read]\n  paths: [\"/srv/**\"]\n");
	file_call(f, f->b.agents, "web1", "/srv/app/current/x", &c);
	for (int approved = 0; approved <= 1; approved++) {
		c.dec.req.approval = approved;
		assert_non_null(c.outcome = cJSON_CreateObject());
		assert_int_equal(brk_gate_recheck_path(&c, "/srv/app/current/x", &result), 0);
		/* Elsewhere in the allowed tree: fine unless a person approved. */
		assert_int_equal(brk_gate_recheck_path(&c, "/srv/app/v2/x", &result),
		    approved ? ZT_ERR_DENIED : 0);
		if (approved) {
			char *text = cJSON_PrintUnformatted(result);

			assert_non_null(strstr(text, "call again with the resolved path"));
			free(text);
			cJSON_Delete(result);
			result = NULL;
		}
		assert_int_equal(brk_gate_recheck_path(&c, "/etc/shadow", &result), ZT_ERR_DENIED);
		assert_int_equal(c.denied, 1);
		cJSON_Delete(result);
		result = NULL;
		cJSON_Delete(c.outcome);
		c.denied = 0;
	}
}

/* The most labels a resource can have (its agent's 32 and 8 of its own)
 * all reach the decision, on every path that decides (under ASan, an
 * array too small for them is an error). */
static void test_recheck_path_most_labels(void **state)
{
	struct fx *f = *state;
	struct store_agent_claims claims;
	struct brk_agents *agents;
	struct brk_call c;
	cJSON *result = NULL;
	size_t n;

	memset(&claims, 0, sizeof(claims));
	n = (size_t)snprintf(claims.labels, sizeof(claims.labels), "{");
	for (int i = 0; i < TUN_LABELS_MAX; i++) {
		n += (size_t)snprintf(claims.labels + n, sizeof(claims.labels) - n,
		    "%s\"a%02d\":\"v\"", i > 0 ? "," : "", i);
	}
	snprintf(claims.labels + n, sizeof(claims.labels) - n, "}");
	n = (size_t)snprintf(claims.resources, sizeof(claims.resources), "[{\"name\":\"big1\","
	    "\"kind\":\"ssh\",\"address\":\"127.0.0.1:22\",\"host_key\":\"%s\",\"labels\":{",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBzGgMFVRnkVMpj1KIIlfZt7/0hnSNOPK7ru9/LZJ4W1");
	for (int i = 0; i < TUN_RESOURCE_LABELS_MAX; i++) {
		n += (size_t)snprintf(claims.resources + n, sizeof(claims.resources) - n,
		    "%s\"r%02d\":\"v\"", i > 0 ? "," : "", i);
	}
	snprintf(claims.resources + n, sizeof(claims.resources) - n, "}}]");
	assert_int_equal(store_agent_bind(f->b.store, "big1", "sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111", &claims, NOW, NULL),
	    0);
	assert_non_null(agents = brk_agents_new(f->b.store));
	apply(f, "kind: role\nname: files\nallow:\n  hosts: {a31: v, r07: v}\n"
	    "  logins: [ubuntu]\n  tools: [file_read]\n  paths: [\"/srv/**\"]\n");
	file_call(f, agents, "big1", "/srv/x", &c);
	assert_int_equal(c.resource.nlabels, TUN_LABELS_MAX + TUN_RESOURCE_LABELS_MAX);
	assert_non_null(c.outcome = cJSON_CreateObject());
	/* Allowed only if the last label of each kind reached the decision. */
	assert_int_equal(brk_gate_recheck_path(&c, "/srv/x", &result), 0);
	cJSON_Delete(c.outcome);
	brk_agents_free(agents);
}

static void test_same_call_same_hash(void **state)
{
	char a[CRYPTO_SHA256_HEX_LEN + 1], b[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	hash("user:alice", "ssh_exec",
	    "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}", a);
	hash("user:alice", "ssh_exec",
	    "{ \"command\": \"uptime\", \"login\": \"ubuntu\",\n \"host\": \"web1\" }", b);
	assert_string_equal(a, b);
	/* Nested objects are sorted too; numbers as values, not as text. */
	hash("user:alice", "t", "{\"o\":{\"b\":1,\"a\":[1,{\"y\":2,\"x\":3}]},\"n\":10}", a);
	hash("user:alice", "t", "{\"n\":1e1,\"o\":{\"a\":[1,{\"x\":3,\"y\":2}],\"b\":1.0}}", b);
	assert_string_equal(a, b);
}

/* Approvals in the store refer to these hashes: they are fixed forever
 * (computed once by the encoder as it was in brk_gate.c). */
static void test_hash_is_stable(void **state)
{
	char a[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	hash("user:alice", "ssh_exec",
	    "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}", a);
	assert_string_equal(a, "42c23fcee4587cadd288f39f384a6fc6dc47cdfdffeffed456fbd07e952b4e8d");
	hash("user:alice", "ssh_exec", "{\"b\":[1,2.5,\"x\",true,false,null,{}],"
	    "\"a\":{\"z\":\"\xc3\xa9\",\"y\":-0.1},\"a\":\"dup\"}", a);
	assert_string_equal(a, "1ddfa1736155b3b2e8c423121306a1d9d0f6a6d26fd8e0fabcb4e352bbb79581");
}

static void test_any_change_changes_hash(void **state)
{
	static const char *const base =
	    "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}";
	static const struct {
		const char *actor, *tool, *args;
	} other[] = {
		{ "user:bob", "ssh_exec", NULL },
		{ "bot:alice", "ssh_exec", NULL },
		{ "user:alice", "file_read", NULL },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime \"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web2\",\"login\":\"ubuntu\",\"command\":\"uptime\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"root\",\"command\":\"uptime\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\",\"timeout_s\":5}" },
		/* A string that looks like the number, and a key moved into a value. */
		{ "user:alice", "t", "{\"n\":\"10\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\",\"command\":\"id\"}" },
		/* Field boundaries cannot be shifted: "ab"+"c" is not "a"+"bc". */
		{ "user:alice", "ssh_execx", NULL },
	};
	char a[CRYPTO_SHA256_HEX_LEN + 1], b[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	hash("user:alice", "ssh_exec", base, a);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		hash(other[i].actor, other[i].tool, other[i].args != NULL ? other[i].args : base, b);
		if (strcmp(a, b) == 0) {
			fail_msg("case %zu hashes like the base call", i);
		}
	}
	hash("user:alice", "t", "{\"n\":10}", a);
	hash("user:alice", "t", "{\"n\":\"10\"}", b);
	assert_string_not_equal(a, b);
	hash("user:a", "lice", "{}", a);
	hash("user:al", "ice", "{}", b);
	assert_string_not_equal(a, b);
}

static void test_depth_is_bounded(void **state)
{
	char out[CRYPTO_SHA256_HEX_LEN + 1], *text = malloc(4000);
	cJSON *j;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < 100; i++) {
		text[n++] = '[';
	}
	for (int i = 0; i < 100; i++) {
		text[n++] = ']';
	}
	text[n] = '\0';
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_int_equal(brk_gate_request_hash("user:a", "t", j, out), ZT_ERR_TOO_LARGE);
	assert_string_equal(out, "");
	cJSON_Delete(j);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gate_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_path_most_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_revoked_credential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_held_call_withdrawn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_released_call_decided_again, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gate_released_call_credential_revoked, setup,
		    teardown),
		cmocka_unit_test(test_same_call_same_hash),
		cmocka_unit_test(test_any_change_changes_hash),
		cmocka_unit_test(test_hash_is_stable),
		cmocka_unit_test(test_depth_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
