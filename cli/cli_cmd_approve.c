/*
 * cli_cmd_approve.c - `ztctl approvals`, `approve` and `deny`
 * (cli_cmd_approve.h). The call is shown before the code is asked, so the
 * person approves what they saw; everything from the broker is cleaned of
 * control bytes before it reaches the terminal (a command can hold any).
 */
#include "cli/cli_cmd_approve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_args.h"
#include "cli/cli_cmd_admin.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_out.h"
#include "cli/cli_prompt.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/json.h"

#define FIELD_MAX 16384   /* bytes of a string in an answer (a command) */
#define LIST_MAX 100000
#define OTP_MAX 16
#define LOG_MAX 2048      /* bytes of a log message as printed */
#define STEP_UP_TRIES 3
#define STEP_UP_NEED "MFA step-up by the caller"

static const char usage_approvals[] =
    "usage: ztctl approvals ls\n"
    "  Lists the held calls you may answer: your own that wait for your MFA\n"
    "  step-up, and others' that wait for approval by a role you hold.\n";
static const char usage_approve[] =
    "usage: ztctl approve ID [--for DURATION] [--otp CODE | --otp-stdin]\n"
    "  Shows the held call ID and answers it with a fresh one-time code: a step-up\n"
    "  for your own call, or your approval of another's. --for grants the same\n"
    "  request again without asking for that long (at most the role's approval.ttl).\n";
static const char usage_deny[] =
    "usage: ztctl deny ID [--reason TEXT]\n"
    "  Denies the held call ID (or withdraws your own); it fails with your reason.\n";

enum { A_FOR = 1, A_OTP, A_OTP_STDIN, A_REASON, A_HELP };


/* Parses argv for the options in allowed (bits of 1 << A_*) and one ID:
 * cli_args_parse. */
static int parse(int argc, char **argv, unsigned allowed, const char *usage,
    struct cli_args *a)
{
	static const struct option longopts[] = {
		{"for", required_argument, NULL, A_FOR},
		{"otp", required_argument, NULL, A_OTP},
		{"otp-stdin", no_argument, NULL, A_OTP_STDIN},
		{"reason", required_argument, NULL, A_REASON},
		{"help", no_argument, NULL, A_HELP},
		{NULL, 0, NULL, 0},
	};

	return cli_args_parse(argc, argv, longopts, A_HELP, allowed,
	    "which request? (ztctl approvals ls shows them)", usage, a);
}

#define ARG(a, id) CLI_ARG(a, id)

static const char *str_of(const cJSON *e, const char *key, char *out, size_t outsz)
{
	const char *s = NULL;

	return cli_clean(json_get_str(e, key, FIELD_MAX, 1, &s) == 0 ? s : "", 0, out, outsz);
}

static const char *left_of(const cJSON *e, char *out, size_t outsz)
{
	int64_t t = 0, now = (int64_t)time(NULL);

	if (json_get_int(e, "expires_at", 0, INT64_MAX / 2, &t) != 0 || t <= now ||
	    dur_format(t - now, out, outsz) != 0) {
		snprintf(out, outsz, "expired");
	}
	return out;
}

/* The held calls I may answer (an array borrowed from *resp), or NULL. */
static const cJSON *pending(const char *what, cJSON **resp)
{
	const cJSON *arr = NULL;

	if (cli_session_call(what, "GET", "/v1/approvals", NULL, resp) != CLI_EXIT_OK) {
		return NULL;
	}
	if (json_get_arr(*resp, "approvals", LIST_MAX, &arr) != 0) {
		cli_fail("%s: the broker's answer is malformed", what);
		return NULL;
	}
	return arr;
}

int cli_cmd_approvals(int argc, char **argv)
{
	char id[40], caller[100], tool[80], host[80], login[80], cmd[FIELD_MAX], left[16],
	    answer[16];
	const cJSON *list, *e;
	cJSON *resp = NULL;
	struct cli_args a;
	int r;

	if ((r = parse(argc, argv, 0, usage_approvals, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (strcmp(a.word, "ls") != 0) {
		cli_fail("approvals: unknown verb \"%s\"", cli_clean(a.word, 0, id, sizeof(id)));
		fputs(usage_approvals, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((list = pending("approvals", &resp)) == NULL) {
		cJSON_Delete(resp);
		return CLI_EXIT_FAIL;
	}
	printf("%-32s %-20s %-9s %-10s %-10s %-8s %-8s %s\n", "ID", "CALLER", "TOOL", "HOST",
	    "LOGIN", "ANSWER", "EXPIRES", "COMMAND");
	cJSON_ArrayForEach(e, list) {
		printf("%-32s %-20s %-9s %-10s %-10s %-8s %-8s %s\n", str_of(e, "id", id, sizeof(id)),
		    str_of(e, "caller", caller, sizeof(caller)), str_of(e, "tool", tool, sizeof(tool)),
		    str_of(e, "host", host, sizeof(host)), str_of(e, "login", login, sizeof(login)),
		    str_of(e, "answer", answer, sizeof(answer)), left_of(e, left, sizeof(left)),
		    str_of(e, "command", cmd, sizeof(cmd)));
	}
	fflush(stdout);
	cJSON_Delete(resp);
	return CLI_EXIT_OK;
}

/* Prints the held call id as the broker describes it; 0 if it is among
 * the ones I may answer. */
static int show(const char *what, const char *id)
{
	char buf[FIELD_MAX], left[16];
	const cJSON *list, *e;
	cJSON *resp = NULL;
	int found = -1;

	if ((list = pending(what, &resp)) == NULL) {
		cJSON_Delete(resp);
		return -1;
	}
	cJSON_ArrayForEach(e, list) {
		const char *eid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));

		if (eid == NULL || strcmp(eid, id) != 0) {
			continue;
		}
		printf("caller:   %s\n", str_of(e, "caller", buf, sizeof(buf)));
		printf("tool:     %s\n", str_of(e, "tool", buf, sizeof(buf)));
		printf("host:     %s\n", str_of(e, "host", buf, sizeof(buf)));
		printf("login:    %s\n", str_of(e, "login", buf, sizeof(buf)));
		if (cJSON_GetObjectItemCaseSensitive(e, "command") != NULL) {
			printf("command:  %s\n", str_of(e, "command", buf, sizeof(buf)));
		}
		printf("rule:     %s\n", str_of(e, "rule", buf, sizeof(buf)));
		printf("needs:    %s\n", str_of(e, "needs", buf, sizeof(buf)));
		printf("you:      %s\n", strcmp(str_of(e, "answer", buf, sizeof(buf)), "step-up") == 0 ?
		    "step up (MFA) for your own call" : "approve another's call");
		printf("expires:  in %s\n", left_of(e, left, sizeof(left)));
		found = 0;
	}
	fflush(stdout);
	cJSON_Delete(resp);
	return found;
}

int cli_approve_send(const char *what, const char *id, const char *otp_given, int otp_stdin,
    const char *window, int *stepped_up)
{
	char otp[OTP_MAX + 2];
	const char *answered;
	cJSON *body = NULL, *resp = NULL;
	int ret = CLI_EXIT_FAIL;

	*stepped_up = 0;
	otp[0] = '\0';
	if (otp_given != NULL) {
		snprintf(otp, sizeof(otp), "%s", otp_given);
	} else if (cli_ask("one-time code: ", 1, otp_stdin, otp, sizeof(otp)) != 0) {
		cli_fail("%s: no one-time code given; nothing was approved", what);
		goto out;
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "id", id) == NULL ||
	    cJSON_AddStringToObject(body, "otp", otp) == NULL ||
	    (window != NULL && cJSON_AddStringToObject(body, "for", window) == NULL)) {
		cli_fail("%s: out of memory", what);
		goto out;
	}
	if (cli_session_call(what, "POST", "/v1/approvals/approve", body, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	answered = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "answered"));
	*stepped_up = answered != NULL && strcmp(answered, "step-up") == 0;
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(otp, sizeof(otp));
	json_delete_wiped(body);
	cJSON_Delete(resp);
	return ret;
}

void cli_approve_on_log(void *arg, const cJSON *params)
{
	const char *what = arg;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(params, "data");
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "message"));
	const char *needs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "needs"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data,
	    "approval_id"));
	char c[LOG_MAX];
	int i, stepped_up = 0;

	if (msg == NULL) {
		msg = cJSON_GetStringValue(data);
	}
	fflush(stdout);
	if (msg != NULL) {
		fprintf(stderr, "ztctl %s: %s\n", what, cli_clean(msg, 0, c, sizeof(c)));
	}
	if (id == NULL || needs == NULL || strstr(needs, STEP_UP_NEED) == NULL ||
	    !isatty(STDIN_FILENO)) {
		return;
	}
	for (i = 0; i < STEP_UP_TRIES; i++) {
		if (cli_approve_send(what, id, NULL, 0, NULL, &stepped_up) == CLI_EXIT_OK) {
			fprintf(stderr, "ztctl %s: stepped up; the call goes on\n", what);
			return;
		}
	}
	fprintf(stderr, "ztctl %s: the call still waits: answer it with ztctl approve %s\n", what,
	    cli_clean(id, 0, c, sizeof(c)));
}

int cli_cmd_approve(int argc, char **argv)
{
	char c[OTP_MAX + 2];
	struct cli_args a;
	int r, stepped_up = 0;

	if ((r = parse(argc, argv, (1u << A_FOR) | (1u << A_OTP) | (1u << A_OTP_STDIN),
	    usage_approve, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (ARG(&a, A_OTP) != NULL && ARG(&a, A_OTP_STDIN) != NULL) {
		cli_fail("approve: --otp and --otp-stdin exclude each other");
		return CLI_EXIT_USAGE;
	}
	if (show("approve", a.word) != 0) {
		cli_fail("approve: no held call %s that you may answer (ztctl approvals ls)",
		    cli_clean(a.word, 0, c, sizeof(c)));
		return CLI_EXIT_FAIL;
	}
	if (cli_approve_send("approve", a.word, ARG(&a, A_OTP), ARG(&a, A_OTP_STDIN) != NULL,
	    ARG(&a, A_FOR), &stepped_up) != CLI_EXIT_OK) {
		return CLI_EXIT_FAIL;
	}
	printf("%s: %s; the call goes on%s\n", a.word, stepped_up ? "stepped up" : "approved",
	    ARG(&a, A_FOR) != NULL ? " (the same request is granted for the window)" : "");
	return CLI_EXIT_OK;
}

int cli_cmd_deny(int argc, char **argv)
{
	cJSON *body = NULL, *resp = NULL;
	struct cli_args a;
	int r, ret = CLI_EXIT_FAIL;

	if ((r = parse(argc, argv, 1u << A_REASON, usage_deny, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "id", a.word) == NULL ||
	    (ARG(&a, A_REASON) != NULL &&
	    cJSON_AddStringToObject(body, "reason", ARG(&a, A_REASON)) == NULL)) {
		cli_fail("deny: out of memory");
		goto out;
	}
	if (cli_session_call("deny", "POST", "/v1/approvals/deny", body, &resp) == CLI_EXIT_OK) {
		printf("%s: denied; the call fails and nothing runs\n", a.word);
		ret = CLI_EXIT_OK;
	}
out:
	cJSON_Delete(body);
	cJSON_Delete(resp);
	return ret;
}
