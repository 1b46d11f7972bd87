/*
 * brk_sshexec.c - the ssh_exec MCP tool (brk_sshexec.h).
 */
#include "broker/brk_sshexec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_front.h"
#include "broker/brk_gate.h"
#include "broker/brk_jobs.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshpool.h"
#include "common/net.h"
#include "common/err.h"
#include "common/json.h"
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

int brk_sshexec_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "host", "login", "command", "timeout_s",
	    "background", NULL };
	int background = 0;
	int64_t max_s = c->b->exec_timeout_max_s;

	c->timeout_s = BRK_EXEC_TIMEOUT_DEFAULT_S;
	if (brk_gate_only_keys(c, args, keys, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_bool_opt(args, "background", 0, &background) != 0) {
		snprintf(err, errsz, "background must be true or false");
		return ZT_ERR_INVALID;
	}
	if (background) {
		/* A job runs up to its role's limit unless timeout_s is shorter. */
		c->timeout_s = 0;
		max_s = POL_JOB_MAX_S;
	}
	if (brk_sshconn_parse_target(c, args, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "command", BRK_EXEC_COMMAND_MAX, 0, &c->command) != 0) {
		snprintf(err, errsz, "command must be a non-empty string of at most %d bytes",
		    BRK_EXEC_COMMAND_MAX);
		return ZT_ERR_INVALID;
	}
	if (json_get_int_opt(args, "timeout_s", 1, max_s, c->timeout_s, &c->timeout_s) != 0) {
		snprintf(err, errsz, "timeout_s must be an integer from 1 to %lld", (long long)max_s);
		return ZT_ERR_INVALID;
	}
	return 0;
}

static void on_progress(void *arg, size_t out_bytes, size_t err_bytes, int64_t elapsed_ms)
{
	struct brk_call *x = arg;
	char msg[128];

	snprintf(msg, sizeof(msg), "running for %llds; %zu bytes of output so far",
	    (long long)(elapsed_ms / 1000), out_bytes + err_bytes);
	brk_front_progress(x->front, (double)elapsed_ms / 1000.0, (double)x->timeout_s, msg);
}

/* structuredContent and its text for a command that ran; NULL on ENOMEM. */
static cJSON *result_ok(const struct ssh_exec_result *res)
{
	cJSON *result = NULL, *sc = cJSON_CreateObject();
	char *out = json_text_from_bytes(res->stdout_buf != NULL ? res->stdout_buf : "",
	    res->stdout_len);
	char *err = json_text_from_bytes(res->stderr_buf != NULL ? res->stderr_buf : "",
	    res->stderr_len);

	if (sc != NULL && out != NULL && err != NULL) {
		cJSON_AddNumberToObject(sc, "exit_code", res->exit_code);
		cJSON_AddStringToObject(sc, "stdout", out);
		cJSON_AddStringToObject(sc, "stderr", err);
		cJSON_AddBoolToObject(sc, "truncated", res->truncated_stdout ||
		    res->truncated_stderr);
		cJSON_AddNumberToObject(sc, "duration_ms", (double)res->duration_ms);
		(void)mcp_result_structured(sc, &result);
	} else {
		cJSON_Delete(sc);
	}
	free(out);
	free(err);
	return result;
}

int brk_sshexec_run(struct brk_call *c, cJSON **result)
{
	struct ssh_exec_req req;
	struct ssh_exec_result res;
	struct brk_pooled *pc = NULL;
	cJSON *o = c->outcome;
	int64_t deadline = net_mono_ms() + c->timeout_s * 1000;
	int r, tries = 0, background = 0;

	if (json_get_bool(c->args, "background", &background) == 0 && background) {
		return brk_jobs_start(c, result);
	}
	memset(&res, 0, sizeof(res));
again:
	if ((r = brk_sshconn_get(c, deadline, &pc, result)) != 0) {
		return *result != NULL ? 0 : r;
	}
	memset(&req, 0, sizeof(req));
	req.command = c->command;
	req.timeout_ms = deadline - net_mono_ms() > 0 ? deadline - net_mono_ms() : 1;
	req.max_output = SSH_EXEC_MAX_OUTPUT_DEFAULT;
	req.cancelled = brk_sshconn_cancelled;
	req.progress = on_progress;
	req.arg = c;
	r = ssh_exec_on(pc->conn, &req, &res);
	if (r != 0 && brk_sshconn_retry(c, pc, res.started, &tries, res.error)) {
		ssh_exec_result_free(&res);
		memset(&res, 0, sizeof(res));
		goto again;
	}
	cJSON_AddStringToObject(o, "status", ssh_exec_status_name(res.status));
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
	brk_sshconn_done(c, pc, r == ZT_ERR_CANCELLED);
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
