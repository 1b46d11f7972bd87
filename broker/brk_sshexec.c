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
#include "broker/brk_agents.h"
#include "broker/brk_api.h"
#include "broker/brk_dial.h"
#include "broker/brk_hosts.h"
#include "broker/brk_mcp.h"
#include "broker/brk_policy.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"
#include "policy/pol_eval.h"
#include "resources/ssh_exec.h"
#include "store/store.h"

#define TOOL "ssh_exec"
/* What the details of one event hold besides the command, generously: the
 * rule (POL_RULE_MAX), the reason or error, names, numbers, keys. */
#define AUDIT_REST_MAX (8 * 1024)

/* Every event of a call holds the whole command, so the audit says exactly
 * what ran: it must fit even if JSON escapes every byte to six. */
_Static_assert(6 * BRK_EXEC_COMMAND_MAX + AUDIT_REST_MAX <= AUD_DETAILS_MAX,
    "an ssh_exec command must fit whole in an audit event");

/* One call's context, for the callbacks and the audit helpers. */
struct exec_call {
	struct brk *b;
	struct mcp_call *call;
	char actor[BRK_IDENTITY_KEY_MAX]; /* "bot:name" */
	char call_id[17];          /* 64 random bits, hex */
	const char *host, *login, *command;
	char command_sha256[CRYPTO_SHA256_HEX_LEN + 1];
	int64_t timeout_s;
};

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

/* Reads and checks the arguments; on a problem *result is the tool error. */
static int parse_args(struct exec_call *x, const cJSON *args, cJSON **result)
{
	static const char *const keys[] = { "host", "login", "command", "timeout_s", NULL };
	uint8_t digest[CRYPTO_SHA256_LEN];
	const char *bad = NULL;

	x->timeout_s = BRK_EXEC_TIMEOUT_DEFAULT_S;
	if (json_only_keys(args, keys, &bad) != 0) {
		*result = mcp_result_error("unknown argument \"%.64s\"; ssh_exec takes host, login, "
		    "command and timeout_s", bad != NULL ? bad : "?");
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "host", STORE_NAME_MAX, 0, &x->host) != 0 ||
	    !store_name_valid(x->host)) {
		*result = mcp_result_error("host must be a host name as list_hosts shows it");
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "login", BRK_EXEC_LOGIN_MAX, 0, &x->login) != 0 ||
	    !login_ok(x->login)) {
		*result = mcp_result_error("login must be an account name: 1..%d of "
		    "[A-Za-z0-9._-], not starting with '-'", BRK_EXEC_LOGIN_MAX);
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "command", BRK_EXEC_COMMAND_MAX, 0, &x->command) != 0) {
		*result = mcp_result_error("command must be a non-empty string of at most %d bytes",
		    BRK_EXEC_COMMAND_MAX);
		return ZT_ERR_INVALID;
	}
	crypto_sha256(x->command, strlen(x->command), digest);
	crypto_hex(digest, sizeof(digest), x->command_sha256, sizeof(x->command_sha256));
	if (cJSON_GetObjectItemCaseSensitive(args, "timeout_s") != NULL &&
	    json_get_int(args, "timeout_s", 1, x->b->exec_timeout_max_s, &x->timeout_s) != 0) {
		*result = mcp_result_error("timeout_s must be an integer from 1 to %lld",
		    (long long)x->b->exec_timeout_max_s);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* The request part every audit event of the call carries: the whole
 * command, its length and its SHA-256 (to match it against other records). */
static cJSON *details(const struct exec_call *x)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL) {
		return NULL;
	}
	cJSON_AddStringToObject(d, "tool", TOOL);
	cJSON_AddStringToObject(d, "call_id", x->call_id);
	cJSON_AddStringToObject(d, "request_id", mcp_call_id(x->call));
	cJSON_AddStringToObject(d, "host", x->host);
	cJSON_AddStringToObject(d, "login", x->login);
	cJSON_AddStringToObject(d, "command", x->command);
	cJSON_AddNumberToObject(d, "command_bytes", (double)strlen(x->command));
	cJSON_AddStringToObject(d, "command_sha256", x->command_sha256);
	return d;
}

/* Appends an event (d is taken); an audit failure is an error: nothing
 * runs unaudited. */
static int audit(const struct exec_call *x, const char *type, const char *outcome, cJSON *d)
{
	int r = d != NULL ? brk_mcp_audit(x->b, x->call, type, outcome, d) : ZT_ERR_NOMEM;

	cJSON_Delete(d);
	return r;
}

/* Audits a call that did not run (reason; dec, when a policy decision
 * refused it, adds its rule) and makes the tool error (message). */
static int refuse(struct exec_call *x, const char *outcome, const char *reason,
    const struct pol_decision *dec, const char *message, cJSON **result)
{
	cJSON *d = details(x);

	if (d != NULL) {
		cJSON_AddStringToObject(d, "reason", reason);
		if (dec != NULL) {
			cJSON_AddStringToObject(d, "rule", dec->rule);
			cJSON_AddBoolToObject(d, "host_hidden", dec->host_hidden);
		}
	}
	if (audit(x, "tool.ssh_exec", outcome, d) != 0) {
		*result = mcp_result_error("the audit log cannot be written; nothing was run");
	} else {
		*result = mcp_result_error("%s", message);
	}
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

static int is_cancelled(void *arg)
{
	return mcp_call_cancelled(((struct exec_call *)arg)->call);
}

static void on_progress(void *arg, size_t out_bytes, size_t err_bytes, int64_t elapsed_ms)
{
	struct exec_call *x = arg;
	char msg[128];

	snprintf(msg, sizeof(msg), "running for %llds; %zu bytes of output so far",
	    (long long)(elapsed_ms / 1000), out_bytes + err_bytes);
	mcp_call_progress(x->call, (double)elapsed_ms / 1000.0,
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

/* Dials, runs, audits the outcome and builds the result. */
static int run(struct exec_call *x, const struct brk_agent_info *ag, cJSON **result)
{
	struct ssh_exec_req req;
	struct ssh_exec_result res;
	char why[BRK_DIAL_WHY_MAX];
	uint64_t serial = 0;
	cJSON *d;
	int fd = -1, r;

	memset(&res, 0, sizeof(res));
	r = brk_dial(x->b, x->host, BRK_DIAL_TIMEOUT_MS, is_cancelled, x, &fd, why, sizeof(why));
	if (r == ZT_ERR_CANCELLED) {
		refuse(x, "cancelled", why, NULL, why, result);
		return ZT_ERR_CANCELLED;
	}
	if (r != 0) {
		return refuse(x, "failure", why, NULL, why, result);
	}
	while (serial == 0) {
		crypto_random(&serial, sizeof(serial));
	}
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.host_key = ag->claims.ssh_host_key;
	req.ca = x->b->sshca;
	req.login = x->login;
	req.command = x->command;
	req.identity = x->actor;
	req.call_id = x->call_id;
	req.serial = serial;
	req.now = (uint64_t)brk_now();
	req.timeout_ms = x->timeout_s * 1000;
	req.max_output = SSH_EXEC_MAX_OUTPUT_DEFAULT;
	req.cancelled = is_cancelled;
	req.progress = on_progress;
	req.arg = x;
	r = ssh_exec_run(&req, &res);
	close(fd);

	if ((d = details(x)) != NULL) {
		char serial_s[24];

		snprintf(serial_s, sizeof(serial_s), "%llu", (unsigned long long)res.serial);
		cJSON_AddStringToObject(d, "status", ssh_exec_status_name(res.status));
		/* Minted even when the host key was refused and it was never shown. */
		cJSON_AddStringToObject(d, "cert_serial", res.serial != 0 ? serial_s : "");
		cJSON_AddStringToObject(d, "key_id", res.key_id);
		cJSON_AddNumberToObject(d, "exit_code", res.exit_code);
		cJSON_AddNumberToObject(d, "stdout_bytes", (double)res.stdout_total);
		cJSON_AddNumberToObject(d, "stderr_bytes", (double)res.stderr_total);
		cJSON_AddBoolToObject(d, "truncated", res.truncated_stdout || res.truncated_stderr);
		cJSON_AddNumberToObject(d, "duration_ms", (double)res.duration_ms);
		if (res.error[0] != '\0') {
			cJSON_AddStringToObject(d, "error", res.error);
		}
	}
	/* A cancellation (by the client, or because the identity was locked or
	 * removed) says so in the outcome itself, not only in status. */
	if (audit(x, "tool.ssh_exec.result", r == 0 ? "success" : r == ZT_ERR_CANCELLED ?
	    "cancelled" : "failure", d) != 0) {
		ssh_exec_result_free(&res);
		*result = mcp_result_error("the command ran but its outcome could not be audited; "
		    "its output is withheld");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (r == ZT_ERR_CANCELLED) {
		ssh_exec_result_free(&res);
		return r; /* no response to a cancelled request */
	}
	if (r != 0) {
		*result = mcp_result_error("%s on %s as %s: %s", ssh_exec_status_name(res.status),
		    x->host, x->login, res.error);
	} else {
		*result = result_ok(&res);
	}
	ssh_exec_result_free(&res);
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

static int tool_ssh_exec(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const struct mcp_identity *who = mcp_call_identity(call);
	struct exec_call x;
	struct brk_agent_info ag;
	struct pol_label labels[TUN_LABELS_MAX];
	struct pol_request preq;
	struct pol_decision dec;
	char unknown[160];
	uint8_t rnd[8];
	cJSON *d;

	memset(&x, 0, sizeof(x));
	x.b = arg;
	x.call = call;
	brk_identity_key(who->kind, who->name, x.actor, sizeof(x.actor));
	if (crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), x.call_id, sizeof(x.call_id)) != 0) {
		return ZT_ERR_CRYPTO;
	}
	if (parse_args(&x, args, result) != 0) {
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	/* A host the caller may not see gets this answer too, word for word:
	 * its name, its labels and even its existence stay hidden. */
	snprintf(unknown, sizeof(unknown), "no host named %s (list_hosts shows the hosts you may "
	    "use)", x.host);
	if (brk_agents_get(x.b->agents, x.host, &ag) != 0) {
		return refuse(&x, "denied", "unknown host", NULL, unknown, result);
	}
	brk_policy_labels(ag.claims.labels, ag.claims.nlabels, labels);
	memset(&preq, 0, sizeof(preq));
	preq.tool = TOOL;
	preq.host = x.host;
	preq.labels = labels;
	preq.nlabels = ag.claims.nlabels;
	preq.login = x.login;
	brk_policy_decide(x.b->roles, who->roles, &preq, &dec);
	if (dec.host_hidden) {
		return refuse(&x, "denied", dec.rule, &dec, unknown, result);
	}
	if (!dec.allow) {
		return refuse(&x, "denied", dec.rule, &dec, dec.rule, result);
	}
	/* The decision is on record before anything runs. */
	if ((d = details(&x)) != NULL) {
		cJSON_AddStringToObject(d, "rule", dec.rule);
		cJSON_AddNumberToObject(d, "timeout_s", (double)x.timeout_s);
	}
	if (audit(&x, "tool.ssh_exec", "allowed", d) != 0) {
		*result = mcp_result_error("the audit log cannot be written; nothing was run");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	/* brk_dial refuses a locked or offline host at once, and says so. */
	return run(&x, &ag, result);
}

static int ssh_exec_visible(const struct mcp_identity *who, void *arg)
{
	return brk_tool_possible(arg, who->roles, TOOL);
}

int brk_sshexec_register(struct mcp_server *srv, struct brk *b)
{
	const struct mcp_tool t = {
		.name = TOOL,
		.title = "Run a command over SSH",
		.description = "Runs one command on a host as a login, over SSH through the host's "
		    "zt agent, with a certificate made for this call alone. Your roles decide which "
		    "hosts, logins and commands you may use; list_hosts shows the hosts. Returns "
		    "exit_code, stdout and stderr (each capped at 1 MiB; truncated says if output "
		    "was cut). A non-zero exit code is a result, not an error.",
		.input_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"host\":{\"type\":\"string\",\"description\":\"the host's name\"},"
		    "\"login\":{\"type\":\"string\",\"description\":\"the account to run as\"},"
		    "\"command\":{\"type\":\"string\",\"description\":\"the command line, run by "
		    "the login's shell\"},"
		    "\"timeout_s\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"seconds "
		    "before the command is killed (default 60)\"}},"
		    "\"required\":[\"host\",\"login\",\"command\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"exit_code\":{\"type\":\"integer\"},\"stdout\":{\"type\":\"string\"},"
		    "\"stderr\":{\"type\":\"string\"},\"truncated\":{\"type\":\"boolean\"},"
		    "\"duration_ms\":{\"type\":\"integer\"}},"
		    "\"required\":[\"exit_code\",\"stdout\",\"stderr\",\"truncated\","
		    "\"duration_ms\"]}",
		.annotations = "{\"readOnlyHint\":false,\"destructiveHint\":true,"
		    "\"idempotentHint\":false,\"openWorldHint\":true}",
		.visible = ssh_exec_visible,
		.handler = tool_ssh_exec,
		.arg = b,
	};

	return mcp_server_add_tool(srv, &t);
}
