/*
 * cli_cmd_admin.c - `ztctl tokens`, `agents`, `roles` and `policy`:
 * administration through the broker's admin API (docs/api.md).
 *
 * ztctl only turns the command line into a request: the broker checks every
 * value with the same code as `ztbroker admin`, so the rules, the messages
 * and what is printed are the admin verbs'. Text that came from the broker
 * is stripped of control bytes before it reaches the terminal, and the join
 * token in the answer of `tokens add` is wiped from every buffer and JSON
 * tree that held it.
 */
#include "cli/cli_cmd_admin.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_http.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "tunnel/tun.h"
#include "policy/pol_role.h"

#define MSG_MAX 512
#define TEXT_MAX 4096     /* bytes of the instructions `tokens add` prints */
#define AGENTS_TEXT_MAX (8 * 1024 * 1024) /* bytes of what `agents ls` prints */
#define FIELD_MAX 1024    /* bytes of any other string in an answer */
#define LIST_MAX 100000   /* entries of a listing */

static const char usage_tokens[] =
    "usage: ztctl tokens add [--ttl 30m] [--uses 1] [--name NAME] [--labels k=v,..]\n"
    "                        an agent join token (ttl 1m..24h, uses 1..100), for that\n"
    "                        name only and with those labels (the agent's own are not\n"
    "                        used)\n"
    "       ztctl tokens ls | tokens rm ID   list join tokens or remove one\n";
static const char usage_agents[] =
    "usage: ztctl agents ls             known agents, and claims waiting for approval\n"
    "       ztctl agents approve NAME   apply the labels, SSH target and host key an\n"
    "                                   agent advertised since its join\n"
    "       ztctl agents lock NAME      cut an agent off at once: its connections end,\n"
    "                                   it is refused until unlocked\n"
    "       ztctl agents unlock NAME    let it back\n";
static const char usage_roles[] =
    "usage: ztctl roles apply -f ROLE.yaml   create or replace a role\n"
    "       ztctl roles ls | roles rm NAME   list or delete roles\n";
static const char usage_policy[] =
    "usage: ztctl policy test --user U|--bot B --tool T [--host H] [--labels k=v,..]\n"
    "                         [--login L] [--command 'CMD'] [--path /P]\n"
    "       the decision, the rule that made it and what it requires (MFA,\n"
    "       approval; exit 0 allow, 1 deny); without --labels, a host the broker\n"
    "       knows is tested with its own labels\n";

int cli_session_call(const char *what, const char *method, const char *path,
    const cJSON *body, cJSON **resp)
{
	char dir[CLI_PROFILE_PATH_MAX], err[MSG_MAX], c[MSG_MAX];
	struct cli_profile *p = NULL;
	const char *code = NULL, *msg = NULL;
	char *text = NULL;
	int status = 0, ret = CLI_EXIT_FAIL;

	*resp = NULL;
	if (cli_session_load(dir, sizeof(dir), &p) != CLI_EXIT_OK) {
		goto out;
	}
	if (body != NULL && (text = json_print(body)) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	if (cli_http_request(p->broker, p->ca_pin, method, path, p->token, text, &status, resp,
	    err, sizeof(err)) != 0) {
		cli_fail("%s failed: %s", what, err);
		goto out;
	}
	if (status >= 200 && status < 300) {
		ret = CLI_EXIT_OK;
		goto out;
	}
	cli_http_error(*resp, &code, &msg);
	if (msg != NULL) {
		cli_fail("%s", cli_clean(msg, 0, c, sizeof(c)));
	} else {
		cli_fail("%s failed: the broker answered HTTP %d", what, status);
	}
	cJSON_Delete(*resp);
	*resp = NULL;
out:
	free(text);
	cli_profile_free(p);
	return ret;
}

/* The options of the admin commands; each command allows some of them. */
enum {
	O_TTL = 1, O_USES, O_FILE, O_USER, O_BOT, O_TOOL, O_HOST, O_LABELS, O_LOGIN, O_COMMAND,
	O_PATH, O_NAME, O_HELP
};
#define BIT(o) (1u << (o))

struct aopts {
	const char *val[O_HELP];   /* by O_* */
	const char *pos[2];        /* the verb and its argument */
	int npos;
};

/* Parses argv (argv[0] the command) for the options in allowed. CLI_EXIT_OK
 * to go on, -1 after --help was printed, or CLI_EXIT_USAGE. */
static int parse_opts(int argc, char **argv, unsigned allowed, const char *usage,
    struct aopts *o)
{
	static const struct option longopts[] = {
		{"ttl", required_argument, NULL, O_TTL},
		{"uses", required_argument, NULL, O_USES},
		{"file", required_argument, NULL, O_FILE},
		{"user", required_argument, NULL, O_USER},
		{"bot", required_argument, NULL, O_BOT},
		{"tool", required_argument, NULL, O_TOOL},
		{"host", required_argument, NULL, O_HOST},
		{"labels", required_argument, NULL, O_LABELS},
		{"login", required_argument, NULL, O_LOGIN},
		{"command", required_argument, NULL, O_COMMAND},
		{"path", required_argument, NULL, O_PATH},
		{"name", required_argument, NULL, O_NAME},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0; /* glibc: start over for this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hf:", longopts, NULL)) != -1) {
		c = c == 'h' ? O_HELP : c == 'f' ? O_FILE : c;
		if (c == ':') {
			cli_fail("%s: option %s needs a value", argv[0], argv[optind - 1]);
			goto usage;
		}
		if (c == '?' || c < O_TTL || c > O_HELP ||
		    (BIT(c) & (allowed | BIT(O_HELP))) == 0) {
			cli_fail("%s: unknown option %s", argv[0], argv[optind - 1]);
			goto usage;
		}
		if (c == O_HELP) {
			fputs(usage, stdout);
			return -1;
		}
		o->val[c - 1] = optarg;
	}
	for (; optind < argc; optind++) {
		if (o->npos == 2) {
			cli_fail("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
			goto usage;
		}
		o->pos[o->npos++] = argv[optind];
	}
	return CLI_EXIT_OK;
usage:
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

#define OPT(o, id) ((o)->val[(id) - 1])

/* The verb is pos[0] and takes nargs more words. */
static int is_verb(const struct aopts *o, const char *verb, int nargs)
{
	return o->npos == 1 + nargs && strcmp(o->pos[0], verb) == 0;
}

static int usage_error(const char *usage)
{
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

static int tokens_add(const struct aopts *o)
{
	const char *text = NULL;
	char shown[TEXT_MAX + 1], *end = NULL;
	cJSON *body = NULL, *resp = NULL;
	long uses = 0;
	int ret = CLI_EXIT_FAIL;

	if (OPT(o, O_USES) != NULL) {
		uses = strtol(OPT(o, O_USES), &end, 10);
		if (OPT(o, O_USES)[0] < '0' || OPT(o, O_USES)[0] > '9' || *end != '\0' ||
		    uses > 1000000) {
			cli_fail("tokens add: --uses must be a number from 1 to 100");
			return usage_error(usage_tokens);
		}
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    (OPT(o, O_TTL) != NULL &&
	    cJSON_AddStringToObject(body, "ttl", OPT(o, O_TTL)) == NULL) ||
	    (OPT(o, O_USES) != NULL &&
	    cJSON_AddNumberToObject(body, "uses", (double)uses) == NULL) ||
	    (OPT(o, O_NAME) != NULL &&
	    cJSON_AddStringToObject(body, "name", OPT(o, O_NAME)) == NULL) ||
	    (OPT(o, O_LABELS) != NULL &&
	    cJSON_AddStringToObject(body, "labels", OPT(o, O_LABELS)) == NULL)) {
		cli_fail("out of memory");
		goto out;
	}
	if (cli_session_call("tokens add", "POST", "/v1/tokens", body, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	if (json_get_str(resp, "text", TEXT_MAX, 0, &text) != 0) {
		cli_fail("tokens add: the broker's answer is malformed");
		goto out;
	}
	fputs(cli_clean(text, 1, shown, sizeof(shown)), stdout);
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(shown, sizeof(shown));
	json_delete_wiped(resp);
	cJSON_Delete(body);
	return ret;
}

/* The string field key of an answer's entry, cleaned into out ("?" if it
 * is missing). */
static const char *str_of(const cJSON *e, const char *key, char *out, size_t outsz)
{
	const char *s = NULL;

	return cli_clean(json_get_str(e, key, FIELD_MAX, 1, &s) == 0 ? s : "?", 0, out, outsz);
}

/* The time field key of an answer's entry as "2026-01-31T12:00:00Z". */
static const char *time_of(const cJSON *e, const char *key, char *out, size_t outsz)
{
	int64_t t = 0;

	if (json_get_int(e, key, 0, INT64_MAX / 2, &t) != 0 ||
	    dur_format_time(t, out, outsz) != 0) {
		snprintf(out, outsz, "?");
	}
	return out;
}

/* GETs path and returns its array key (borrowed from *resp), or NULL after
 * saying why. */
static const cJSON *get_list(const char *what, const char *path, const char *key,
    cJSON **resp)
{
	const cJSON *arr = NULL;

	if (cli_session_call(what, "GET", path, NULL, resp) != CLI_EXIT_OK) {
		return NULL;
	}
	if (json_get_arr(*resp, key, LIST_MAX, &arr) != 0) {
		cli_fail("%s: the broker's answer is malformed", what);
		return NULL;
	}
	return arr;
}

static int tokens_ls(void)
{
	char id[16], when[32], state[16], by[FIELD_MAX + 1], name[FIELD_MAX + 1];
	char labels[TUN_LABELS_TEXT_MAX];
	const char *n = NULL;
	const cJSON *arr, *t;
	cJSON *resp = NULL;
	int64_t uses = 0;
	int ret = CLI_EXIT_FAIL;

	if ((arr = get_list("tokens ls", "/v1/tokens", "tokens", &resp)) == NULL) {
		goto out;
	}
	printf("%-14s %-22s %-6s %-10s %-24s %-16s %s\n", "ID", "EXPIRES", "USES", "STATE",
	    "CREATOR", "NAME", "LABELS");
	cJSON_ArrayForEach(t, arr) {
		uses = 0;
		json_get_int(t, "uses_left", INT32_MIN, INT32_MAX, &uses);
		n = NULL;
		json_get_str(t, "name", FIELD_MAX, 1, &n);
		printf("%-14.12s %-22s %-6lld %-10s %-24s %-16s %s\n",
		    str_of(t, "id", id, sizeof(id)),
		    time_of(t, "expires_at", when, sizeof(when)), (long long)uses,
		    str_of(t, "state", state, sizeof(state)),
		    str_of(t, "created_by", by, sizeof(by)),
		    cli_clean(n != NULL ? n : "-", 0, name, sizeof(name)),
		    cli_labels(t, labels, sizeof(labels))[0] != '\0' ? labels : "-");
	}
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	cJSON_Delete(resp);
	return ret;
}

/* POSTs {key: value} to path: CLI_EXIT_OK with *resp (owned), or
 * CLI_EXIT_FAIL after saying why. */
static int post_one(const char *what, const char *path, const char *key, const char *value,
    cJSON **resp)
{
	cJSON *body = cJSON_CreateObject();
	int ret = CLI_EXIT_FAIL;

	*resp = NULL;
	if (body == NULL || cJSON_AddStringToObject(body, key, value) == NULL) {
		cli_fail("out of memory");
	} else {
		ret = cli_session_call(what, "POST", path, body, resp);
	}
	cJSON_Delete(body);
	return ret;
}

/* POSTs {key: value} to path; prints "<noun> <answer's removed> removed". */
static int remove_one(const char *what, const char *path, const char *key, const char *value,
    const char *noun)
{
	char shown[FIELD_MAX + 1];
	cJSON *resp = NULL;

	if (post_one(what, path, key, value, &resp) != CLI_EXIT_OK) {
		return CLI_EXIT_FAIL;
	}
	printf("%s %s removed\n", noun, str_of(resp, "removed", shown, sizeof(shown)));
	fflush(stdout);
	cJSON_Delete(resp);
	return CLI_EXIT_OK;
}

int cli_cmd_tokens(int argc, char **argv)
{
	struct aopts o;
	int r;

	if ((r = parse_opts(argc, argv, BIT(O_TTL) | BIT(O_USES) | BIT(O_NAME) | BIT(O_LABELS),
	    usage_tokens, &o)) != 0) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (is_verb(&o, "add", 0)) {
		return tokens_add(&o);
	}
	if (OPT(&o, O_TTL) != NULL || OPT(&o, O_USES) != NULL || OPT(&o, O_NAME) != NULL ||
	    OPT(&o, O_LABELS) != NULL) {
		cli_fail("tokens: --ttl, --uses, --name and --labels go with tokens add");
		return usage_error(usage_tokens);
	}
	if (is_verb(&o, "ls", 0)) {
		return tokens_ls();
	}
	if (is_verb(&o, "rm", 1)) {
		return remove_one("tokens rm", "/v1/tokens/rm", "id", o.pos[1], "token");
	}
	return usage_error(usage_tokens);
}

/* POSTs {"name": name} to path; prints "agent NAME: done". */
static int agent_verb(const char *what, const char *path, const char *name, const char *done)
{
	char shown[FIELD_MAX + 1];
	cJSON *resp = NULL;

	if (post_one(what, path, "name", name, &resp) != CLI_EXIT_OK) {
		return CLI_EXIT_FAIL;
	}
	printf("agent %s: %s\n", cli_clean(name, 0, shown, sizeof(shown)), done);
	fflush(stdout);
	cJSON_Delete(resp);
	return CLI_EXIT_OK;
}

/* What the broker's `agents ls` prints, as it prints it. */
static int agents_ls(void)
{
	const char *text = NULL;
	char *shown = NULL;
	cJSON *resp = NULL;
	int ret = CLI_EXIT_FAIL;

	if (cli_session_call("agents ls", "GET", "/v1/agents", NULL, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	if (json_get_str(resp, "text", AGENTS_TEXT_MAX, 0, &text) != 0 ||
	    (shown = malloc(strlen(text) + 1)) == NULL) {
		cli_fail("agents ls: the broker's answer is malformed");
		goto out;
	}
	fputs(cli_clean(text, 1, shown, strlen(text) + 1), stdout);
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	free(shown);
	cJSON_Delete(resp);
	return ret;
}

int cli_cmd_agents(int argc, char **argv)
{
	struct aopts o;
	int r;

	if ((r = parse_opts(argc, argv, 0, usage_agents, &o)) != 0) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (is_verb(&o, "ls", 0)) {
		return agents_ls();
	}
	if (is_verb(&o, "approve", 1)) {
		return agent_verb("agents approve", "/v1/agents/approve", o.pos[1],
		    "its claims are approved");
	}
	if (is_verb(&o, "lock", 1)) {
		return agent_verb("agents lock", "/v1/agents/lock", o.pos[1],
		    "locked: its connections are ended");
	}
	if (is_verb(&o, "unlock", 1)) {
		return agent_verb("agents unlock", "/v1/agents/unlock", o.pos[1], "unlocked");
	}
	return usage_error(usage_agents);
}

/* Reads the role document at path (at most POL_ROLE_MAX bytes, no NUL) into
 * an owned string. 0, or CLI_EXIT_FAIL after saying why. */
static int read_role(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	char *text = NULL;
	size_t n = 0;
	int ret = CLI_EXIT_FAIL;

	*out = NULL;
	if (fp == NULL) {
		cli_fail("roles apply: cannot read %s", path);
		return CLI_EXIT_FAIL;
	}
	if ((text = malloc(POL_ROLE_MAX + 2)) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	n = fread(text, 1, POL_ROLE_MAX + 1, fp);
	if (ferror(fp)) {
		cli_fail("roles apply: cannot read %s", path);
	} else if (n > POL_ROLE_MAX) {
		cli_fail("roles apply: %s is larger than %d bytes", path, POL_ROLE_MAX);
	} else if (memchr(text, '\0', n) != NULL) {
		cli_fail("roles apply: %s holds a NUL byte", path);
	} else {
		text[n] = '\0';
		*out = text;
		text = NULL;
		ret = CLI_EXIT_OK;
	}
out:
	free(text);
	fclose(fp);
	return ret;
}

static int roles_apply(const char *path)
{
	char shown[FIELD_MAX + 1], *yaml = NULL;
	cJSON *body = NULL, *resp = NULL;
	int ret = CLI_EXIT_FAIL;

	if (read_role(path, &yaml) != CLI_EXIT_OK) {
		goto out;
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "yaml", yaml) == NULL ||
	    cJSON_AddStringToObject(body, "file", path) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	if (cli_session_call("roles apply", "POST", "/v1/roles", body, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	printf("role %s applied\n", str_of(resp, "role", shown, sizeof(shown)));
	if (cJSON_GetObjectItemCaseSensitive(resp, "warning") != NULL) {
		char warn[FIELD_MAX + 1];

		fprintf(stderr, "ztctl: warning: %s\n", str_of(resp, "warning", warn, sizeof(warn)));
	}
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	free(yaml);
	cJSON_Delete(resp);
	cJSON_Delete(body);
	return ret;
}

static int roles_ls(void)
{
	char name[FIELD_MAX + 1], when[32];
	const cJSON *arr, *role;
	cJSON *resp = NULL;
	int ret = CLI_EXIT_FAIL;

	if ((arr = get_list("roles ls", "/v1/roles", "roles", &resp)) == NULL) {
		goto out;
	}
	printf("%-32s %s\n", "NAME", "UPDATED");
	cJSON_ArrayForEach(role, arr) {
		printf("%-32s %s\n", str_of(role, "name", name, sizeof(name)),
		    time_of(role, "updated_at", when, sizeof(when)));
	}
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	cJSON_Delete(resp);
	return ret;
}

int cli_cmd_roles(int argc, char **argv)
{
	struct aopts o;
	int r;

	if ((r = parse_opts(argc, argv, BIT(O_FILE), usage_roles, &o)) != 0) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (is_verb(&o, "apply", 0) && OPT(&o, O_FILE) != NULL) {
		return roles_apply(OPT(&o, O_FILE));
	}
	if (OPT(&o, O_FILE) != NULL) {
		cli_fail("roles: -f goes with roles apply");
		return usage_error(usage_roles);
	}
	if (is_verb(&o, "ls", 0)) {
		return roles_ls();
	}
	if (is_verb(&o, "rm", 1)) {
		return remove_one("roles rm", "/v1/roles/rm", "name", o.pos[1], "role");
	}
	if (is_verb(&o, "apply", 0)) {
		cli_fail("roles apply needs -f ROLE.yaml");
	}
	return usage_error(usage_roles);
}

/* The query's fields, in the order of the O_* ids from O_USER. */
static const char *const query_keys[] = { "user", "bot", "tool", "host", "labels", "login",
	"command", "path" };

int cli_cmd_policy(int argc, char **argv)
{
	char rule[FIELD_MAX + 1], missing[FIELD_MAX + 1] = "";
	const unsigned allowed = BIT(O_USER) | BIT(O_BOT) | BIT(O_TOOL) | BIT(O_HOST) |
	    BIT(O_LABELS) | BIT(O_LOGIN) | BIT(O_COMMAND) | BIT(O_PATH);
	const cJSON *arr = NULL, *m;
	cJSON *body = NULL, *resp = NULL;
	struct aopts o;
	int r, allow = 0, ret = CLI_EXIT_FAIL;

	if ((r = parse_opts(argc, argv, allowed, usage_policy, &o)) != 0) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (!is_verb(&o, "test", 0) || OPT(&o, O_TOOL) == NULL ||
	    (OPT(&o, O_USER) == NULL) == (OPT(&o, O_BOT) == NULL)) {
		return usage_error(usage_policy);
	}
	if ((body = cJSON_CreateObject()) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	for (int id = O_USER; id <= O_PATH; id++) {
		if (OPT(&o, id) != NULL &&
		    cJSON_AddStringToObject(body, query_keys[id - O_USER], OPT(&o, id)) == NULL) {
			cli_fail("out of memory");
			goto out;
		}
	}
	if (cli_session_call("policy test", "POST", "/v1/policy/test", body, &resp) !=
	    CLI_EXIT_OK) {
		goto out;
	}
	if (json_get_bool(resp, "allow", &allow) != 0 ||
	    json_get_arr(resp, "missing_roles", LIST_MAX, &arr) != 0) {
		cli_fail("policy test: the broker's answer is malformed");
		goto out;
	}
	cJSON_ArrayForEach(m, arr) {
		size_t len = strlen(missing);

		if (cJSON_IsString(m)) {
			snprintf(missing + len, sizeof(missing) - len, "%s%s", len > 0 ? "," : "",
			    m->valuestring);
		}
	}
	if (missing[0] != '\0') {
		printf("note: roles without a document (they allow nothing): %s\n",
		    cli_clean(missing, 0, rule, sizeof(rule)));
	}
	printf("%s\n%s\n", allow ? "ALLOW" : "DENY", str_of(resp, "rule", rule, sizeof(rule)));
	if (allow) {
		printf("requires: %s\n", str_of(resp, "requires_text", rule, sizeof(rule)));
	}
	fflush(stdout);
	ret = allow ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	cJSON_Delete(resp);
	cJSON_Delete(body);
	return ret;
}
