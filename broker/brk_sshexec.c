/*
 * brk_sshexec.c - the ssh_exec MCP tool (brk_sshexec.h).
 */
#include "broker/brk_sshexec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_dial.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_watch.h"
#include "common/crypto.h"
#include "common/net.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp.h"
#include "resources/ssh_exec.h"
#include "store/store.h"

/* What the details of one event hold besides the command, generously: the
 * rule (POL_RULE_MAX), the reason or error, names, numbers, keys. */
#define AUDIT_REST_MAX (8 * 1024)

/* Every event of a call holds the whole command, so the audit says exactly
 * what ran: it must fit even if JSON escapes every byte to six. */
_Static_assert(6 * BRK_EXEC_COMMAND_MAX + AUDIT_REST_MAX <= AUD_DETAILS_MAX,
    "an ssh_exec command must fit whole in an audit event");
/* A warm connection never outlives its certificate. */
_Static_assert(BRK_SSH_CONN_TTL_MAX_S + BRK_SSHPOOL_MARGIN_S == SSH_CONN_CERT_AFTER,
    "a connection is retired before its certificate expires");

/* Login names as sshd accepts them: 1..32 of [A-Za-z0-9._-], not
 * starting with '-'. */
static int login_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BRK_EXEC_LOGIN_MAX || s[0] == '-') {
		return 0;
	}
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int brk_sshexec_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "command", "timeout_s", NULL };
	const char *bad = NULL;

	c->timeout_s = BRK_EXEC_TIMEOUT_DEFAULT_S;
	if (json_only_keys(args, keys, &bad) != 0) {
		snprintf(err, errsz, "unknown argument \"%.64s\"; ssh_exec takes host, login, "
		    "command and timeout_s", bad != NULL ? bad : "?");
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "host", STORE_NAME_MAX, 0, &c->host) != 0 ||
	    !store_name_valid(c->host)) {
		snprintf(err, errsz, "host must be a host name as list_hosts shows it");
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "login", BRK_EXEC_LOGIN_MAX, 0, &c->login) != 0 ||
	    !login_ok(c->login)) {
		snprintf(err, errsz, "login must be an account name: 1..%d of [A-Za-z0-9._-], not "
		    "starting with '-'", BRK_EXEC_LOGIN_MAX);
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "command", BRK_EXEC_COMMAND_MAX, 0, &c->command) != 0) {
		snprintf(err, errsz, "command must be a non-empty string of at most %d bytes",
		    BRK_EXEC_COMMAND_MAX);
		return ZT_ERR_INVALID;
	}
	if (cJSON_GetObjectItemCaseSensitive(args, "timeout_s") != NULL &&
	    json_get_int(args, "timeout_s", 1, c->b->exec_timeout_max_s, &c->timeout_s) != 0) {
		snprintf(err, errsz, "timeout_s must be an integer from 1 to %lld",
		    (long long)c->b->exec_timeout_max_s);
		return ZT_ERR_INVALID;
	}
	return 0;
}

static int is_cancelled(void *arg)
{
	return mcp_call_cancelled(((struct brk_call *)arg)->mcp);
}

static void on_progress(void *arg, size_t out_bytes, size_t err_bytes, int64_t elapsed_ms)
{
	struct brk_call *x = arg;
	char msg[128];

	snprintf(msg, sizeof(msg), "running for %llds; %zu bytes of output so far",
	    (long long)(elapsed_ms / 1000), out_bytes + err_bytes);
	mcp_call_progress(x->mcp, (double)elapsed_ms / 1000.0,
	    (double)x->timeout_s, msg);
}

/* structuredContent and its text for a command that ran. */
static cJSON *result_ok(const struct ssh_exec_result *res)
{
	cJSON *result = mcp_result_new(0), *sc = cJSON_CreateObject();
	char *out = json_text_from_bytes(res->stdout_buf != NULL ? res->stdout_buf : "",
	    res->stdout_len);
	char *err = json_text_from_bytes(res->stderr_buf != NULL ? res->stderr_buf : "",
	    res->stderr_len);
	char *text = NULL;

	if (result == NULL || sc == NULL || out == NULL || err == NULL) {
		goto fail;
	}
	cJSON_AddNumberToObject(sc, "exit_code", res->exit_code);
	cJSON_AddStringToObject(sc, "stdout", out);
	cJSON_AddStringToObject(sc, "stderr", err);
	cJSON_AddBoolToObject(sc, "truncated", res->truncated_stdout || res->truncated_stderr);
	cJSON_AddNumberToObject(sc, "duration_ms", (double)res->duration_ms);
	if ((text = cJSON_PrintUnformatted(sc)) == NULL || mcp_result_add_text(result, text) != 0) {
		goto fail;
	}
	cJSON_AddItemToObject(result, "structuredContent", sc);
	free(text);
	free(out);
	free(err);
	return result;
fail:
	free(text);
	free(out);
	free(err);
	cJSON_Delete(sc);
	cJSON_Delete(result);
	return NULL;
}

/* A warm connection of the caller's credential to the host as the login,
 * or a new one: a stream through the host's agent, then the SSH handshake
 * with a certificate minted for the connection (key id
 * "zt:<identity>:<conn id>"). 0 with *pc busy for this call; or the
 * failure, in c->outcome and (unless cancelled) *result. */
static int conn_get(struct brk_call *c, int64_t deadline_ms, struct brk_pooled **pc,
    cJSON **result)
{
	struct ssh_conn_req req;
	struct ssh_conn_info info;
	struct ssh_conn *conn = NULL;
	char why[BRK_DIAL_WHY_MAX], serial_s[24], id[BRK_SSHPOOL_ID_LEN + 1];
	uint8_t rnd[BRK_SSHPOOL_ID_LEN / 2];
	uint64_t serial = 0;
	int64_t now = brk_now();
	int fd = -1, r;

	if ((*pc = brk_sshpool_take(c->b->sshpool, c->who.token_hash, c->host, c->login,
	    c->generation, now)) != NULL) {
		return 0;
	}
	/* brk_dial refuses a locked or offline host at once, and says so. */
	r = brk_dial(c->b, c->host, BRK_DIAL_TIMEOUT_MS, is_cancelled, c, &fd, why, sizeof(why));
	if (r != 0) {
		cJSON_AddStringToObject(c->outcome, "status", r == ZT_ERR_CANCELLED ? "cancelled" :
		    "unreachable");
		cJSON_AddStringToObject(c->outcome, "error", why);
		if (r != ZT_ERR_CANCELLED) {
			c->failed = 1;
			*result = mcp_result_error("%s", why);
			r = *result != NULL ? ZT_ERR_NET : ZT_ERR_NOMEM;
		}
		return r;
	}
	while (serial == 0) {
		crypto_random(&serial, sizeof(serial));
	}
	if (crypto_random(rnd, sizeof(rnd)) != 0 || crypto_hex(rnd, sizeof(rnd), id,
	    sizeof(id)) != 0) {
		close(fd);
		return ZT_ERR_CRYPTO;
	}
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.host_key = c->agent.claims.ssh_host_key;
	req.ca = c->b->sshca;
	req.login = c->login;
	req.identity = c->who.actor;
	req.id = id;
	req.serial = serial;
	req.now = (uint64_t)now;
	req.timeout_ms = deadline_ms - net_mono_ms() > 0 ? deadline_ms - net_mono_ms() : 1;
	req.cancelled = is_cancelled;
	req.arg = c;
	if ((r = ssh_conn_open(&req, &conn, &info)) != 0) {
		close(fd);
		snprintf(serial_s, sizeof(serial_s), "%llu", (unsigned long long)info.serial);
		cJSON_AddStringToObject(c->outcome, "status", ssh_exec_status_name(info.status));
		/* Minted even when the host key was refused and it was never shown. */
		cJSON_AddStringToObject(c->outcome, "cert_serial", info.serial != 0 ? serial_s : "");
		cJSON_AddStringToObject(c->outcome, "key_id", info.key_id);
		cJSON_AddStringToObject(c->outcome, "conn_id", id);
		cJSON_AddStringToObject(c->outcome, "error", info.error);
		if (r != ZT_ERR_CANCELLED) {
			c->failed = 1;
			*result = mcp_result_error("%s on %s as %s: %s",
			    ssh_exec_status_name(info.status), c->host, c->login, info.error);
			r = *result != NULL ? r : ZT_ERR_NOMEM;
		}
		return r;
	}
	if ((*pc = brk_sshpool_add(c->b->sshpool, c->who.token_hash, c->host, c->login, id,
	    conn, fd, now + (c->b->ssh_conn_ttl > 0 ? c->b->ssh_conn_ttl :
	    BRK_SSH_CONN_TTL_MAX_S), c->generation)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int brk_sshexec_run(struct brk_call *c, cJSON **result)
{
	struct ssh_exec_req req;
	struct ssh_exec_result res;
	struct brk_pooled *pc = NULL;
	char serial_s[24];
	cJSON *o = c->outcome;
	int64_t deadline = net_mono_ms() + c->timeout_s * 1000;
	int r, tries = 0, reused;

	memset(&res, 0, sizeof(res));
again:
	if ((r = conn_get(c, deadline, &pc, result)) != 0) {
		return *result != NULL ? 0 : r;
	}
	reused = pc->uses > 1;
	memset(&req, 0, sizeof(req));
	req.command = c->command;
	req.timeout_ms = deadline - net_mono_ms() > 0 ? deadline - net_mono_ms() : 1;
	req.max_output = SSH_EXEC_MAX_OUTPUT_DEFAULT;
	req.cancelled = is_cancelled;
	req.progress = on_progress;
	req.arg = c;
	r = ssh_exec_on(pc->conn, &req, &res);
	if (r != 0 && reused && !res.started && tries++ == 0 && !mcp_call_cancelled(c->mcp)) {
		/* A warm connection that died meanwhile (sshd restarted, the
		 * tunnel dropped): nothing ran; once more on a new one. */
		log_info("ssh_exec: warm connection %s to %s died (%s); replacing it", pc->id,
		    c->host, res.error);
		brk_sshpool_give(c->b->sshpool, pc, 1, brk_now());
		ssh_exec_result_free(&res);
		memset(&res, 0, sizeof(res));
		goto again;
	}
	snprintf(serial_s, sizeof(serial_s), "%llu", (unsigned long long)res.serial);
	cJSON_AddStringToObject(o, "status", ssh_exec_status_name(res.status));
	cJSON_AddStringToObject(o, "cert_serial", res.serial != 0 ? serial_s : "");
	cJSON_AddStringToObject(o, "key_id", res.key_id);
	cJSON_AddStringToObject(o, "conn_id", pc->id);
	cJSON_AddBoolToObject(o, "conn_reused", reused);
	cJSON_AddNumberToObject(o, "exit_code", res.exit_code);
	cJSON_AddNumberToObject(o, "stdout_bytes", (double)res.stdout_total);
	cJSON_AddNumberToObject(o, "stderr_bytes", (double)res.stderr_total);
	cJSON_AddBoolToObject(o, "truncated", res.truncated_stdout || res.truncated_stderr);
	cJSON_AddNumberToObject(o, "duration_ms", (double)res.duration_ms);
	if (res.error[0] != '\0') {
		cJSON_AddStringToObject(o, "error", res.error);
	}
	/* A cancelled call (by its client, or by a revocation) leaves nothing
	 * warm behind it. */
	brk_sshpool_give(c->b->sshpool, pc, r == ZT_ERR_CANCELLED, brk_now());
	if (r == ZT_ERR_CANCELLED) {
		/* By the client, or because the identity was locked or removed:
		 * the outcome says so itself (brk_gate.c). */
		ssh_exec_result_free(&res);
		return r;
	}
	if (r != 0) {
		c->failed = 1;
		*result = mcp_result_error("%s on %s as %s: %s", ssh_exec_status_name(res.status),
		    c->host, c->login, res.error);
	} else {
		*result = result_ok(&res);
	}
	ssh_exec_result_free(&res);
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

struct sweep_arg {
	struct brk *b;
	int64_t generation;
	int full;                 /* also ask the store whether the token holds */
};

/* Whether an idle connection may serve its identity's next call: its host
 * online and not locked, the roles as they were (every round, from
 * memory and one row); its credential still valid (a store lookup: when
 * the store changed, and every BRK_SSHEXEC_CHECK_S). */
static int still_good(const struct brk_pooled *pc, void *arg)
{
	struct sweep_arg *sa = arg;
	struct store_session s;
	struct brk_agent_info ag;

	return pc->generation == sa->generation &&
	    brk_agents_get(sa->b->agents, pc->host, &ag) == 0 && ag.online && !ag.locked &&
	    (!sa->full || store_session_get(sa->b->store, pc->token_hash, sa->b->now(), &s) == 0);
}

void brk_sshexec_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	int64_t now = b->now();
	struct sweep_arg sa = { b, brk_policy_generation(b->roles),
	    brk_sshpool_due(b->sshpool, now, BRK_SSHEXEC_CHECK_S, rd->store_changed) };

	(void)arg;
	brk_sshpool_sweep(b->sshpool, now, still_good, &sa);
}
