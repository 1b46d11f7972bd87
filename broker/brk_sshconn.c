/*
 * brk_sshconn.c - a gated call's SSH connection (brk_sshconn.h).
 */
#include "broker/brk_sshconn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_dial.h"
#include "broker/brk_front.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_watch.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "resources/ssh_conn.h"
#include "store/store.h"

/* A warm connection never outlives its certificate. */
_Static_assert(BRK_SSH_CONN_TTL_MAX_S + BRK_SSHPOOL_MARGIN_S == SSH_CONN_CERT_AFTER,
    "a connection is retired before its certificate expires");

/* Login names as sshd accepts them: 1..32 of [A-Za-z0-9._-], not
 * starting with '-'. */
static int login_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BRK_SSH_LOGIN_MAX || s[0] == '-') {
		return 0;
	}
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int brk_sshconn_parse_target(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	if (json_get_str(args, "host", STORE_NAME_MAX, 0, &c->host) != 0 ||
	    !store_name_valid(c->host)) {
		snprintf(err, errsz, "host must be a host name as list_hosts shows it");
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "login", BRK_SSH_LOGIN_MAX, 0, &c->login) != 0 ||
	    !login_ok(c->login)) {
		snprintf(err, errsz, "login must be an account name: 1..%d of [A-Za-z0-9._-], not "
		    "starting with '-'", BRK_SSH_LOGIN_MAX);
		return ZT_ERR_INVALID;
	}
	return 0;
}

int brk_sshconn_cancelled(void *arg)
{
	return brk_front_cancelled(((struct brk_call *)arg)->front);
}

int brk_sshconn_get(struct brk_call *c, int64_t deadline_ms, struct brk_pooled **pc,
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

	if (!c->port_forwarding && (*pc = brk_sshpool_take(c->b->sshpool, c->who.token_hash,
	    c->host, c->login, c->generation, now)) != NULL) {
		if (strcmp((*pc)->host_key, c->resource.res.host_key) == 0) {
			return 0;
		}
		/* Opened to the sshd the name had before: closed, not reused. */
		brk_sshpool_give(c->b->sshpool, *pc, 1, now);
		*pc = NULL;
	}
	if (strcmp(c->resource.res.kind, "ssh") != 0) {
		cJSON_AddStringToObject(c->outcome, "status", "unreachable");
		cJSON_AddStringToObject(c->outcome, "error", "not an ssh resource");
		c->failed = 1;
		*result = mcp_result_error("%s is an %s resource: this tool needs an ssh one",
		    c->host, c->resource.res.kind);
		return *result != NULL ? ZT_ERR_INVALID : ZT_ERR_NOMEM;
	}
	/* brk_dial refuses a locked or offline host at once, and says so. */
	r = brk_dial(c->b, c->host, BRK_DIAL_TIMEOUT_MS, brk_sshconn_cancelled, c, &fd, why, sizeof(why));
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
	req.host_key = c->resource.res.host_key;
	req.ca = c->b->sshca;
	req.login = c->login;
	req.identity = c->who.actor;
	req.id = id;
	req.serial = serial;
	req.now = (uint64_t)now;
	req.timeout_ms = deadline_ms - net_mono_ms() > 0 ? deadline_ms - net_mono_ms() : 1;
	req.cancelled = brk_sshconn_cancelled;
	req.arg = c;
	req.port_forwarding = c->port_forwarding;
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
	if ((*pc = brk_sshpool_add(c->b->sshpool, c->who.token_hash, c->who.actor, c->host,
	    c->login, id, conn, fd, now + (c->b->ssh_conn_ttl > 0 ? c->b->ssh_conn_ttl :
	    BRK_SSH_CONN_TTL_MAX_S), c->generation)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	snprintf((*pc)->host_key, sizeof((*pc)->host_key), "%s", c->resource.res.host_key);
	return 0;
}

int brk_sshconn_retry(struct brk_call *c, struct brk_pooled *pc, int started, int *tries,
    const char *error)
{
	if (pc->uses <= 1 || started || *tries > 0 || brk_front_cancelled(c->front)) {
		return 0;
	}
	(*tries)++;
	log_info("%s: warm connection %s to %s died (%s); replacing it", c->tool->name, pc->id,
	    c->host, error);
	brk_sshpool_give(c->b->sshpool, pc, 1, brk_now());
	return 1;
}

/* What the outcome says of the connection a call used. */
static void conn_outcome(struct brk_call *c, const struct brk_pooled *pc)
{
	char serial_s[24];

	snprintf(serial_s, sizeof(serial_s), "%llu",
	    (unsigned long long)ssh_conn_serial(pc->conn));
	cJSON_AddStringToObject(c->outcome, "conn_id", pc->id);
	cJSON_AddBoolToObject(c->outcome, "conn_reused", pc->uses > 1);
	cJSON_AddStringToObject(c->outcome, "cert_serial", serial_s);
	cJSON_AddStringToObject(c->outcome, "key_id", ssh_conn_key_id(pc->conn));
}

void brk_sshconn_done(struct brk_call *c, struct brk_pooled *pc, int discard)
{
	conn_outcome(c, pc);
	brk_sshpool_give(c->b->sshpool, pc, discard, brk_now());
}

void brk_sshconn_lend(struct brk_call *c, struct brk_pooled *pc)
{
	conn_outcome(c, pc);
}

void brk_sshconn_keep(struct brk_call *c, struct brk_pooled *pc)
{
	conn_outcome(c, pc);
	brk_sshpool_detach(c->b->sshpool, pc);
}

struct sweep_arg {
	struct brk *b;
	int64_t generation;
	int full;                 /* also ask the store whether the token holds */
};

const char *brk_sshconn_why(struct brk *b, const struct brk_pooled *pc, int64_t generation,
    int full)
{
	struct store_session s;
	struct brk_resource res;

	if (pc->generation != generation) {
		return "roles changed";
	}
	if (brk_agents_resource(b->agents, pc->host, &res) != 0) {
		return "host removed";
	}
	if (res.locked) {
		return "host locked";
	}
	if (strcmp(res.res.host_key, pc->host_key) != 0) {
		return "host key changed";
	}
	if (!res.online) {
		return "host offline";
	}
	if (full && store_session_get(b->store, pc->token_hash, b->now(), &s) != 0) {
		return "credential no longer valid";
	}
	return NULL;
}

static const char *why_close(const struct brk_pooled *pc, void *arg)
{
	struct sweep_arg *sa = arg;

	return brk_sshconn_why(sa->b, pc, sa->generation, sa->full);
}

/* Puts a connection the housekeeping closes on record, and why. */
static void on_closed(const struct brk_pooled *pc, const char *why, void *arg)
{
	struct sweep_arg *sa = arg;
	cJSON *d = cJSON_CreateObject();

	if (d == NULL) {
		return;
	}
	cJSON_AddStringToObject(d, "conn_id", pc->id);
	cJSON_AddStringToObject(d, "host", pc->host);
	cJSON_AddStringToObject(d, "login", pc->login);
	cJSON_AddStringToObject(d, "key_id", ssh_conn_key_id(pc->conn));
	cJSON_AddNumberToObject(d, "calls", pc->uses);
	aud_record(sa->b->store, NULL, brk_now_ms(), &(struct aud_event){ .type = "ssh.conn.closed",
	    .actor = pc->actor, .source = "local", .outcome = "success", .reason = why,
	    .details = d });
	cJSON_Delete(d);
}

void brk_sshconn_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	int64_t now = b->now();
	struct sweep_arg sa = { b, brk_policy_generation(b->roles),
	    brk_sshpool_due(b->sshpool, now, BRK_SSHCONN_CHECK_S, rd->store_changed) };

	(void)arg;
	brk_sshpool_sweep(b->sshpool, now, why_close, on_closed, &sa);
}
