/*
 * brk_admin.c - the offline admin verbs (users, bots, tokens, agents, roles,
 * policy, ca, audit) and the token, agent, role and policy-test logic they
 * share with the API's admin endpoints (brk_apiadmin.c).
 */
#include "broker/brk_admin.h"

#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "audit/aud_log.h"
#include "broker/brk.h"
#include "broker/brk_agents.h"
#include "broker/brk_bots.h"
#include "broker/brk_datadir.h"
#include "broker/brk_identity.h"
#include "broker/brk_policy.h"
#include "broker/brk_users.h"
#include "common/buf.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "common/sshca.h"
#include "tunnel/tun.h"
#include "policy/pol_eval.h"
#include "policy/pol_role.h"
#include "store/store.h"

const char brk_admin_usage[] =
	"  users add NAME --roles R1,R2     add a user; prints a one-time invite (1 h)\n"
	"  users invite NAME                a new invite for a user not yet enrolled\n"
	"                                   (earlier invites stop working)\n"
	"  users reset NAME                 clear an enrolled user's password and TOTP,\n"
	"                                   revoke their sessions; prints a new invite\n"
	"  users ls                         list users\n"
	"  users lock NAME | unlock NAME    lock (revokes sessions at once) or unlock\n"
	"                                   (also lifts a block after failed logins)\n"
	"  users rm NAME                    delete a user and their sessions\n"
	"  bots add NAME --roles R1,R2 [--ttl 1h]   add a bot; prints its bearer token\n"
	"  bots token NAME [--ttl 1h] [--rotate]   a new token for a bot (--ttl at most\n"
	"                                   7d and the roles' max_session_ttl); --rotate\n"
	"                                   revokes the bot's earlier tokens with it\n"
	"  bots tokens NAME                 a bot's live tokens: ID (hash prefix), expiry\n"
	"  bots revoke NAME ID              revoke one token by its ID (12+ hex digits)\n"
	"  bots ls | bots rm NAME           list or delete bots (rm revokes tokens)\n"
	"  tokens add [--ttl 30m] [--uses 1] [--name NAME] [--labels k=v,..]\n"
	"                                   an agent join token (ttl 1m..24h, uses 1..100),\n"
	"                                   for that name only and with those labels\n"
	"  tokens ls | tokens rm PREFIX     list join tokens (hash prefixes) or remove one\n"
	"  agents ls                        known agents: name, bound key, last seen, state,\n"
	"                                   labels, and claims waiting for approval\n"
	"  agents approve NAME              apply the claims (labels, resources) an agent\n"
	"                                   advertised since its join\n"
	"  agents lock NAME | unlock NAME   cut an agent off (a running broker ends its\n"
	"                                   connections within a second) or let it back\n"
	"  agents rm NAME                   free a name bound to an agent's key (a host\n"
	"                                   rebuilt with a new key); stop its agent first\n"
	"  roles apply -f ROLE.yaml         create or replace a role (see examples/roles/)\n"
	"  roles ls | roles rm NAME         list or delete roles\n"
	"  policy test --user U|--bot B --tool T [--host H --labels k=v,..] [--login L]\n"
	"              [--command 'CMD'] [--path /P]\n"
	"                                   the decision and the rule that made it\n"
	"                                   (exit 0 allow, 1 deny)\n"
	"  ca pin                           the CA pin clients need (sha256:...)\n"
	"  ca ssh-user-pub                  the line for sshd's TrustedUserCAKeys\n"
	"  audit ls [--since 24h|TIME] [--json]   show audit events\n"
	"  audit verify                     check the audit log's hash chain\n";

/* Parsed command line: positional words and the flags admin verbs take. */
struct args {
	const char *pos[4];
	int npos;
	const char *roles, *ttl, *since, *uses, *file, *user, *bot, *tool, *host, *labels, *login,
	    *command, *path;
	const char *name;
	int json, rotate;
};

/* The flags that take a value, and where each goes. */
static const struct {
	const char *flag;
	size_t off;
} value_flags[] = {
	{ "--roles", offsetof(struct args, roles) },
	{ "--ttl", offsetof(struct args, ttl) },
	{ "--since", offsetof(struct args, since) },
	{ "--uses", offsetof(struct args, uses) },
	{ "-f", offsetof(struct args, file) },
	{ "--user", offsetof(struct args, user) },
	{ "--bot", offsetof(struct args, bot) },
	{ "--tool", offsetof(struct args, tool) },
	{ "--host", offsetof(struct args, host) },
	{ "--labels", offsetof(struct args, labels) },
	{ "--login", offsetof(struct args, login) },
	{ "--command", offsetof(struct args, command) },
	{ "--path", offsetof(struct args, path) },
	{ "--name", offsetof(struct args, name) },
};

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;

		for (size_t k = 0; k < sizeof(value_flags) / sizeof(value_flags[0]); k++) {
			if (strcmp(argv[i], value_flags[k].flag) == 0) {
				slot = (const char **)(void *)((char *)a + value_flags[k].off);
			}
		}
		if (slot == NULL && strcmp(argv[i], "--json") == 0) {
			a->json = 1;
			continue;
		}
		if (slot == NULL && strcmp(argv[i], "--rotate") == 0) {
			a->rotate = 1;
			continue;
		}
		if (slot == NULL && argv[i][0] == '-') {
			fprintf(stderr, "ztbroker admin: unknown option %s\n", argv[i]);
			return 2;
		}
		if (slot == NULL) {
			if (a->npos >= 4) {
				fprintf(stderr, "ztbroker admin: too many arguments\n");
				return 2;
			}
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "ztbroker admin: %s needs a value\n", argv[i]);
			return 2;
		}
		*slot = argv[++i];
	}
	return 0;
}

/* "admin:<unix user>" for audit events. */
static void admin_actor(char *out, size_t outsz)
{
	struct passwd *pw = getpwuid(geteuid());

	brk_identity_key("admin", pw != NULL ? pw->pw_name : "unknown", out, outsz);
}

/* Records what an admin verb did (details taken; may be NULL), by the
 * Unix user who ran it: 0, or 1 (the exit code) when it is not on record,
 * and then the verb reports nothing done. */
static int audit_admin(struct brk_datadir *dd, const char *type, cJSON *details)
{
	char actor[96];
	int r;

	admin_actor(actor, sizeof(actor));
	r = aud_record(dd->store, NULL, brk_now_ms(), &(struct aud_event){ .type = type,
	    .actor = actor, .source = "local", .outcome = "success", .details = details });
	cJSON_Delete(details);
	if (r != 0) {
		fprintf(stderr, "ztbroker admin: cannot write the audit log: %s\n", zt_strerror(r));
		return 1;
	}
	return 0;
}

/* The exit code for a shared function's error: 2 for bad input. */
static int fail_exit(int r, const char *err)
{
	fprintf(stderr, "ztbroker admin: %s\n", err);
	return r == ZT_ERR_INVALID ? 2 : 1;
}

/* Runs verb v of noun on name offline (no registry: a running broker
 * syncs within a second), audits it and prints "<what> NAME<message>".
 * The exit code. */
static int run_verb(struct brk_datadir *dd, const struct brk_admin_verb *v, const char *what,
    const char *name)
{
	char err[POL_ERR_MAX];
	cJSON *details = NULL;
	int r;

	if ((r = v->run(dd->store, NULL, name, brk_now(), &details, err, sizeof(err))) != 0) {
		return fail_exit(r, err);
	}
	if (audit_admin(dd, v->event, details) != 0) {
		return 1;
	}
	printf("%s %s%s\n", what, name, v->message);
	return 0;
}

/* users add / bots add: adds the user or bot (kind) name with roles,
 * audits and says so. 0, or the exit code. */
static int add_identity(struct brk_datadir *dd, enum store_principal kind, const char *name,
    const char *roles)
{
	const char *what = kind == STORE_BOT ? "bot" : "user";
	char err[POL_ERR_MAX], event[16];
	cJSON *d = NULL;
	int r;

	if ((r = brk_users_add(dd->store, kind, name, roles != NULL ? roles : "", brk_now(), &d,
	    err, sizeof(err))) != 0) {
		if (r == ZT_ERR_INVALID) {
			fprintf(stderr, "ztbroker admin: %ss add needs a valid NAME and --roles R1,R2: "
			    "%s\n", what, err);
			return 2;
		}
		return fail_exit(r, err);
	}
	snprintf(event, sizeof(event), "%s.add", what);
	if (audit_admin(dd, event, d) != 0) {
		return 1;
	}
	printf("%s %s added (roles: %s)\n", what, name, roles);
	return 0;
}

/* Mints an invite for user name (brk_users_invite: with reset the account
 * is reset too), audits and prints it. The exit code. */
static int issue_invite(struct brk_datadir *dd, const char *name, int reset)
{
	char err[POL_ERR_MAX], cmd[BRK_ENROL_COMMAND_MAX];
	struct brk_invite inv;
	cJSON *d = NULL;
	int r;

	if ((r = brk_users_invite(dd->store, dd->ca, name, reset, brk_now(), &inv, &d, err,
	    sizeof(err))) != 0) {
		return fail_exit(r, err);
	}
	if (audit_admin(dd, reset ? "user.reset" : "user.invite", d) != 0) {
		r = 1;
		goto out;
	}
	if ((r = brk_users_enrol_command(&inv, "https://BROKER:8443", cmd, sizeof(cmd))) != 0) {
		fprintf(stderr, "ztbroker admin: cannot show the invite\n");
		r = 1;
		goto out;
	}
	if (reset) {
		printf("user %s reset: password and TOTP cleared, %d session%s revoked\n", name,
		    inv.revoked, inv.revoked == 1 ? "" : "s");
	}
	printf("invite: %s\n", inv.token);
	printf("The invite is valid for 1 h and works once; earlier invites of %s no longer "
	    "work. %s enrols with:\n", name, name);
	printf("  %s\n", cmd);
out:
	crypto_wipe(&inv, sizeof(inv));
	crypto_wipe(cmd, sizeof(cmd));
	return r;
}

static int list_user(const struct store_user *u, void *arg)
{
	char when[32];

	(void)arg;
	dur_format_time(u->created_at, when, sizeof(when));
	printf("%-24s %-10s %-32s %s\n", u->name, brk_users_state(u, brk_now()), u->roles, when);
	return 0;
}

static int cmd_users(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "", *name = a->npos > 2 ? a->pos[2] : NULL;
	const struct brk_admin_verb *v = brk_admin_verb("users", verb);
	int r;

	if (strcmp(verb, "ls") == 0) {
		printf("%-24s %-10s %-32s %s\n", "NAME", "STATE", "ROLES", "CREATED");
		return store_user_each(dd->store, list_user, NULL) == 0 ? 0 : 1;
	}
	if (name == NULL) {
		fprintf(stderr, "ztbroker admin: users %s needs a NAME\n", verb);
		return 2;
	}
	if (strcmp(verb, "add") == 0) {
		if ((r = add_identity(dd, STORE_USER, name, a->roles)) != 0) {
			return r;
		}
		return issue_invite(dd, name, 0);
	}
	if (strcmp(verb, "invite") == 0 || strcmp(verb, "reset") == 0) {
		return issue_invite(dd, name, strcmp(verb, "reset") == 0);
	}
	if (v != NULL) {
		return run_verb(dd, v, "user", name);
	}
	fprintf(stderr, "ztbroker admin: unknown users command \"%s\"\n", verb);
	return 2;
}

/* Mints a token for bot name valid for ttl seconds (or less, as its roles
 * say), with rotate revoking the earlier ones; audits and prints it. */
static int print_bot_token(struct brk_datadir *dd, const char *name, int64_t ttl, int rotate)
{
	char when[32], err[POL_ERR_MAX], asked[32], got[32];
	struct brk_bot_minted m;
	cJSON *d = NULL;
	int r;

	if ((r = brk_bots_token(dd->store, dd->roles, name, brk_now(), ttl, rotate, &m, &d, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "ztbroker admin: %s\n", err);
		return 1;
	}
	if (audit_admin(dd, "bot.token", d) != 0) {
		r = 1;
		goto out;
	}
	dur_format_time(m.expires_at, when, sizeof(when));
	printf("token: %s\n", m.token);
	printf("id: %s\n", m.id);
	printf("expires: %s\n", when);
	if (m.capped_by[0] != '\0') {
		dur_format(ttl, asked, sizeof(asked));
		dur_format(m.ttl, got, sizeof(got));
		printf("note: the token lasts %s, not %s: role %s sets max_session_ttl %s\n", got,
		    asked, m.capped_by, got);
	}
	if (rotate) {
		printf("rotated: %d earlier token%s of %s revoked\n", m.revoked,
		    m.revoked == 1 ? "" : "s", name);
	}
	printf("Give it to the bot as \"Authorization: Bearer <token>\"; it is shown only once.\n");
out:
	crypto_wipe(&m, sizeof(m));
	return r;
}

static int list_bot(const struct store_bot *bot, void *arg)
{
	char when[32];

	(void)arg;
	dur_format_time(bot->created_at, when, sizeof(when));
	printf("%-24s %-32s %s\n", bot->name, bot->roles, when);
	return 0;
}

static int list_bot_token(const struct store_session *s, void *arg)
{
	char expires[32], created[32];

	(void)arg;
	dur_format_time(s->expires_at, expires, sizeof(expires));
	dur_format_time(s->created_at, created, sizeof(created));
	printf("%-14.*s %-22s %-22s %s\n", BRK_BOT_ID_LEN, s->token_hash, expires, created,
	    s->source);
	return 0;
}

static int cmd_bots(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "", *name = a->npos > 2 ? a->pos[2] : NULL;
	int64_t ttl = BRK_BOT_TTL_DEFAULT;
	char err[POL_ERR_MAX];
	cJSON *d = NULL;
	int r;

	if (strcmp(verb, "ls") == 0) {
		printf("%-24s %-32s %s\n", "NAME", "ROLES", "CREATED");
		return store_bot_each(dd->store, list_bot, NULL) == 0 ? 0 : 1;
	}
	if (name == NULL) {
		fprintf(stderr, "ztbroker admin: bots %s needs a NAME\n", verb);
		return 2;
	}
	if (a->ttl != NULL && dur_parse(a->ttl, 1, BRK_BOT_TTL_MAX, &ttl) != 0) {
		fprintf(stderr, "ztbroker admin: --ttl must be a duration from 1s to 7d "
		    "(e.g. 30m, 1h)\n");
		return 2;
	}
	if (a->rotate && strcmp(verb, "token") != 0) {
		fprintf(stderr, "ztbroker admin: --rotate goes with bots token\n");
		return 2;
	}
	if (strcmp(verb, "add") == 0) {
		if ((r = add_identity(dd, STORE_BOT, name, a->roles)) != 0) {
			return r;
		}
		return print_bot_token(dd, name, ttl, 0);
	}
	if (strcmp(verb, "token") == 0) {
		return print_bot_token(dd, name, ttl, a->rotate);
	}
	if (strcmp(verb, "tokens") == 0) {
		printf("%-14s %-22s %-22s %s\n", "ID", "EXPIRES", "CREATED", "SOURCE");
		if ((r = brk_bots_tokens(dd->store, name, brk_now(), list_bot_token, NULL, err,
		    sizeof(err))) != 0) {
			return fail_exit(r, err);
		}
		return 0;
	}
	if (strcmp(verb, "revoke") == 0) {
		if (a->npos != 4) {
			fprintf(stderr, "ztbroker admin: bots revoke NAME ID (the id bots tokens "
			    "shows)\n");
			return 2;
		}
		if ((r = brk_bots_revoke(dd->store, name, a->pos[3], brk_now(), &d, err,
		    sizeof(err))) != 0) {
			return fail_exit(r, err);
		}
		if (audit_admin(dd, "bot.revoke", d) != 0) {
			return 1;
		}
		printf("token %.12s of bot %s revoked\n", a->pos[3], name);
		return 0;
	}
	if (strcmp(verb, "rm") == 0) {
		return run_verb(dd, brk_admin_verb("bots", "rm"), "bot", name);
	}
	fprintf(stderr, "ztbroker admin: unknown bots command \"%s\"\n", verb);
	return 2;
}

/* Agent join tokens: ztagent's first start trades one for a certificate. */
#define ADMIN_JOIN_PORT 3025  /* the default --tunnel-listen port */

int brk_admin_join_ttl(const char *s, int64_t *out)
{
	return dur_parse(s, BRK_JOIN_TTL_MIN, BRK_JOIN_TTL_MAX, out);
}

/* --uses: a plain decimal in 1..BRK_JOIN_USES_MAX. */
static int parse_uses(const char *s, int64_t *out)
{
	char *end = NULL;
	long v;

	if (s == NULL || *s < '0' || *s > '9') {
		return ZT_ERR_INVALID;
	}
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > BRK_JOIN_USES_MAX) {
		return ZT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

/* Adds the JSON text json (written by us) to obj as key. 0 or ZT_ERR_NOMEM. */
static int add_json(cJSON *obj, const char *key, const char *json)
{
	cJSON *v = NULL;

	if (json_parse(json, strlen(json), STORE_AGENT_LABELS_MAX, JSON_DEFAULT_DEPTH, &v) != 0 ||
	    !cJSON_AddItemToObject(obj, key, v)) {
		cJSON_Delete(v);
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Labels as people write them ("k=v,k2=v2") into their stored JSON form,
 * checked as the wire format checks an agent's: 0 or ZT_ERR_INVALID with
 * err filled. */
static int labels_from_text(const char *text, char *json, size_t jsonsz, char *err,
    size_t errsz)
{
	struct tun_label l[TUN_LABELS_MAX];
	char copy[BRK_JOIN_LABELS_TEXT_MAX + 1], why[TUN_WHY_MAX];
	size_t n = 0;
	int r;

	if (strlen(text) > BRK_JOIN_LABELS_TEXT_MAX) {
		snprintf(err, errsz, "labels are longer than %d bytes", BRK_JOIN_LABELS_TEXT_MAX);
		return ZT_ERR_INVALID;
	}
	snprintf(copy, sizeof(copy), "%s", text);
	if (tun_labels_parse(copy, l, TUN_LABELS_MAX, &n) != 0 || n == 0) {
		snprintf(err, errsz, "labels take k=v,k2=v2 (1 to %d pairs)", TUN_LABELS_MAX);
		return ZT_ERR_INVALID;
	}
	if (tun_labels_check(l, n, why, sizeof(why)) != 0) {
		snprintf(err, errsz, "%s", why);
		return ZT_ERR_INVALID;
	}
	if ((r = tun_labels_json_text(l, n, json, jsonsz)) != 0) {
		snprintf(err, errsz, "cannot keep the labels: %s", zt_strerror(r));
	}
	return r;
}

/* Only the hash is stored; the audit details name the first 12 hex digits
 * of the hash, which `tokens ls` and `tokens rm` use too. */
int brk_admin_token_add(struct store *st, struct ca *ca, int64_t now, int64_t ttl,
    int64_t uses, const char *creator, const char *name, const char *labels,
    struct brk_join_minted *m, cJSON **details, char *err, size_t errsz)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct store_join_claims *claims = NULL;
	cJSON *d = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	*details = NULL;
	if (ttl < BRK_JOIN_TTL_MIN || ttl > BRK_JOIN_TTL_MAX || uses < 1 ||
	    uses > BRK_JOIN_USES_MAX) {
		snprintf(err, errsz, "a join token lives 1m to 24h and allows 1 to %d uses",
		    BRK_JOIN_USES_MAX);
		return ZT_ERR_INVALID;
	}
	if (name != NULL && !store_name_valid(name)) {
		snprintf(err, errsz, "an agent's name is 1 to 64 of [a-z0-9._-], starting with "
		    "a letter or digit");
		return ZT_ERR_INVALID;
	}
	if ((claims = calloc(1, sizeof(*claims))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	snprintf(claims->name, sizeof(claims->name), "%s", name != NULL ? name : "");
	if (labels != NULL && (r = labels_from_text(labels, claims->labels,
	    sizeof(claims->labels), err, errsz)) != 0) {
		free(claims);
		return r;
	}
	snprintf(m->name, sizeof(m->name), "%s", claims->name);
	snprintf(m->labels, sizeof(m->labels), "%s", labels != NULL ? labels : "");
	if ((r = crypto_token_new("ztj_", m->token, sizeof(m->token))) != 0 ||
	    (r = ca_pin(ca, m->pin, sizeof(m->pin))) != 0) {
		goto out;
	}
	crypto_token_hash(m->token, hash);
	if ((r = store_join_token_add(st, hash, now, now + ttl, uses, creator, claims)) != 0) {
		goto out;
	}
	snprintf(m->id, sizeof(m->id), "%.*s", BRK_JOIN_ID_LEN, hash);
	m->expires_at = now + ttl;
	m->uses = uses;
	if ((d = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(d, "expires_at", (double)m->expires_at) == NULL ||
	    cJSON_AddNumberToObject(d, "uses", (double)uses) == NULL ||
	    cJSON_AddStringToObject(d, "token", m->id) == NULL ||
	    (name != NULL && cJSON_AddStringToObject(d, "name", name) == NULL) ||
	    (labels != NULL && add_json(d, "labels", claims->labels) != 0)) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	*details = d;
	d = NULL;
out:
	cJSON_Delete(d);
	free(claims);
	if (r != 0) {
		crypto_wipe(m->token, sizeof(m->token));
		snprintf(err, errsz, "cannot mint a join token: %s", zt_strerror(r));
	}
	return r;
}

int brk_admin_join_command(const struct brk_join_minted *m, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "ztagent --broker HOST:%d --ca-pin %s --data-dir "
	    "/var/lib/ztagent --name %s --token %s", ADMIN_JOIN_PORT, m->pin,
	    m->name[0] != '\0' ? m->name : "NAME", m->token);

	return n < 0 || (size_t)n >= outsz ? ZT_ERR_TOO_LARGE : 0;
}

int brk_admin_join_text(const struct brk_join_minted *m, char *out, size_t outsz)
{
	char when[32], cmd[BRK_JOIN_TEXT_MAX], bound[BRK_JOIN_LABELS_TEXT_MAX + 160];
	int n, r;

	if ((r = brk_admin_join_command(m, cmd, sizeof(cmd))) != 0) {
		goto out;
	}
	dur_format_time(m->expires_at, when, sizeof(when));
	n = snprintf(bound, sizeof(bound), "%s%s%s%s%s", m->name[0] != '\0' ? "name: " : "",
	    m->name, m->name[0] != '\0' ? " (the only name this token joins)\n" : "",
	    m->labels[0] != '\0' ? "labels: " : "", m->labels);
	if (m->labels[0] != '\0' && n >= 0 && (size_t)n < sizeof(bound)) {
		snprintf(bound + n, sizeof(bound) - (size_t)n, " (the agent's own are not used)\n");
	}
	n = snprintf(out, outsz, "token: %s\nexpires: %s\nuses: %lld\nid: %s\n%sCA pin: %s\n"
	    "On the host, replace HOST with the broker's address%s, then run:\n  %s\n"
	    "The token is shown only once.\n", m->token, when, (long long)m->uses, m->id, bound,
	    m->pin, m->name[0] != '\0' ? "" : " and NAME with the host's name", cmd);
	r = n < 0 || (size_t)n >= outsz ? ZT_ERR_TOO_LARGE : 0;
out:
	crypto_wipe(cmd, sizeof(cmd));
	return r;
}

const char *brk_admin_token_state(const struct store_join_token *t, int64_t now)
{
	return t->uses_left <= 0 ? "used" : now >= t->expires_at ? "expired" : "valid";
}

int brk_admin_token_rm(struct store *st, const char *id, cJSON **details, char *err,
    size_t errsz)
{
	char pfx[BRK_JOIN_ID_LEN + 1];
	int r;

	*details = NULL;
	r = store_join_token_rm(st, id);
	switch (r) {
	case 0:
		snprintf(pfx, sizeof(pfx), "%.*s", BRK_JOIN_ID_LEN, id);
		if ((*details = json_object_str("token", pfx)) == NULL) {
			snprintf(err, errsz, "out of memory");
			return ZT_ERR_NOMEM;
		}
		return 0;
	case ZT_ERR_INVALID:
		snprintf(err, errsz, "a token ID is 12 to 64 lower-case hex digits, as tokens ls "
		    "shows");
		break;
	case ZT_ERR_NOT_FOUND:
		snprintf(err, errsz, "cannot remove token %.64s: not found", id);
		break;
	case ZT_ERR_EXISTS:
		snprintf(err, errsz, "%.64s names more than one token; give more digits", id);
		break;
	default:
		snprintf(err, errsz, "cannot remove token %.64s: %s", id, zt_strerror(r));
		break;
	}
	return r;
}

/* Stored labels (a JSON object's text) as "k=v,k2=v2" for people; "" for
 * "", "?" if the text is not such an object. */
static void labels_text(const char *json, char *out, size_t outsz)
{
	struct tun_label l[TUN_LABELS_MAX];
	char why[TUN_WHY_MAX];
	size_t n = 0;

	out[0] = '\0';
	if (json[0] == '\0') {
		return;
	}
	if (tun_labels_from_json_text(json, l, &n, why, sizeof(why)) != 0) {
		snprintf(out, outsz, "?");
		return;
	}
	tun_labels_format(l, n, out, outsz);
}

static int list_join_token(const struct store_join_token *t, void *arg)
{
	const int64_t *now = arg;
	char when[32], labels[TUN_LABELS_TEXT_MAX];

	dur_format_time(t->expires_at, when, sizeof(when));
	labels_text(t->claims.labels, labels, sizeof(labels));
	printf("%-14.12s %-22s %-6lld %-10s %-24s %-16s %s\n", t->token_hash, when,
	    (long long)t->uses_left, brk_admin_token_state(t, *now), t->created_by,
	    t->claims.name[0] != '\0' ? t->claims.name : "-", labels[0] != '\0' ? labels : "-");
	return 0;
}

static int cmd_tokens(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "", *arg = a->npos > 2 ? a->pos[2] : NULL;
	int64_t ttl = BRK_JOIN_TTL_DEFAULT, uses = 1, now = brk_now();
	char err[POL_ERR_MAX], actor[96], text[BRK_JOIN_TEXT_MAX];
	struct brk_join_minted m;
	cJSON *details = NULL;
	int r;

	if (strcmp(verb, "add") == 0) {
		if (arg != NULL) {
			fprintf(stderr, "ztbroker admin: tokens add takes no NAME: --name NAME "
			    "binds the token to a name\n");
			return 2;
		}
		if (a->ttl != NULL && brk_admin_join_ttl(a->ttl, &ttl) != 0) {
			fprintf(stderr, "ztbroker admin: --ttl must be a duration from 1m to 24h "
			    "(e.g. 30m, 2h)\n");
			return 2;
		}
		if (a->uses != NULL && parse_uses(a->uses, &uses) != 0) {
			fprintf(stderr, "ztbroker admin: --uses must be a number from 1 to %d\n",
			    BRK_JOIN_USES_MAX);
			return 2;
		}
		admin_actor(actor, sizeof(actor));
		r = brk_admin_token_add(dd->store, dd->ca, now, ttl, uses, actor, a->name,
		    a->labels, &m, &details, err, sizeof(err));
		if (r != 0) {
			return fail_exit(r, err);
		}
		r = audit_admin(dd, "token.add", details);
		if (r == 0 && brk_admin_join_text(&m, text, sizeof(text)) != 0) {
			fprintf(stderr, "ztbroker admin: cannot show the join token\n");
			r = 1;
		}
		if (r == 0) {
			fputs(text, stdout);
		}
		crypto_wipe(&m, sizeof(m));
		crypto_wipe(text, sizeof(text));
		return r;
	}
	if (a->ttl != NULL || a->uses != NULL || a->name != NULL || a->labels != NULL) {
		fprintf(stderr, "ztbroker admin: --ttl, --uses, --name and --labels go with "
		    "tokens add\n");
		return 2;
	}
	if (strcmp(verb, "ls") == 0) {
		printf("%-14s %-22s %-6s %-10s %-24s %-16s %s\n", "ID", "EXPIRES", "USES", "STATE",
		    "CREATOR", "NAME", "LABELS");
		return store_join_token_each(dd->store, list_join_token, &now) == 0 ? 0 : 1;
	}
	if (strcmp(verb, "rm") == 0) {
		if (arg == NULL) {
			fprintf(stderr, "ztbroker admin: tokens rm needs the ID (12 or more hex "
			    "digits) that tokens ls shows\n");
			return 2;
		}
		if ((r = brk_admin_token_rm(dd->store, arg, &details, err, sizeof(err))) != 0) {
			return fail_exit(r, err);
		}
		if (audit_admin(dd, "token.rm", details) != 0) {
			return 1;
		}
		printf("token %.12s removed\n", arg);
		return 0;
	}
	fprintf(stderr, "ztbroker admin: tokens add [--ttl 30m] [--uses 1] [--name NAME] "
	    "[--labels k=v,..] | tokens ls | tokens rm ID\n");
	return 2;
}

static int agent_rm(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	struct store_agent *row = NULL;
	int r;

	(void)now;
	*details = NULL;
	if (!store_name_valid(name)) {
		snprintf(err, errsz, "an agent's name is 1 to 64 of [a-z0-9._-], starting with "
		    "a letter or digit");
		return ZT_ERR_INVALID;
	}
	if ((row = calloc(1, sizeof(*row))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	/* The key it was bound to, for the audit. A registry may know a name
	 * the store no longer does. */
	if ((r = store_agent_get(st, name, row)) != 0 && r != ZT_ERR_NOT_FOUND) {
		snprintf(err, errsz, "cannot look agent %s up: %s", name, zt_strerror(r));
		goto out;
	}
	r = agents != NULL ? brk_agents_remove(agents, name) : store_agent_rm(st, name);
	switch (r) {
	case 0:
		if ((*details = json_object_str("agent", name)) == NULL ||
		    (row->key_pin[0] != '\0' &&
		    cJSON_AddStringToObject(*details, "key_pin", row->key_pin) == NULL)) {
			cJSON_Delete(*details);
			*details = NULL;
			snprintf(err, errsz, "out of memory");
			r = ZT_ERR_NOMEM;
		}
		break;
	case ZT_ERR_NOT_FOUND:
		snprintf(err, errsz, "no agent %s", name);
		break;
	case ZT_ERR_EXISTS:
		snprintf(err, errsz, "agent %s is online: stop it first", name);
		break;
	default:
		snprintf(err, errsz, "cannot remove agent %s: %s", name, zt_strerror(r));
		break;
	}
out:
	free(row);
	return r;
}

/* A listing under way: the JSON array, or the text, or both, as asked. */
struct agents_ls {
	struct store *st;
	cJSON *arr;                        /* NULL: not asked for */
	struct buf *text;                  /* NULL: not asked for */
	struct store_agent row;            /* scratch: an agent's stored row */
	struct brk_agent_claims pending;   /* the pending claims of the agent at hand */
};

/* The claims waiting for approval of agent ag into l->pending, from the
 * store (the registry keeps only when they began): their time, or 0 when
 * none wait (any more). */
static int64_t pending_of(struct agents_ls *l, const struct brk_agent_info *ag)
{
	if (ag->pending_at <= 0 || store_agent_get(l->st, ag->name, &l->row) != 0 ||
	    l->row.pending_at <= 0) {
		return 0;
	}
	brk_agent_claims_from_row(ag->name, &l->row.pending, &l->pending);
	return l->row.pending_at;
}

/* One resource as `agents ls` shows it: kind, name, address, the host
 * key's fingerprint or the certificate pin, its own labels. */
static int resource_text(const struct tun_resource *x, const char *prefix, struct buf *b)
{
	char fp[TUN_HOSTKEY_FP_MAX], labels[TUN_LABELS_TEXT_MAX];

	if (x->host_key[0] == '\0' || tun_hostkey_fingerprint(x->host_key, fp, sizeof(fp)) != 0) {
		snprintf(fp, sizeof(fp), "%s", x->host_key[0] != '\0' ? "?" : "");
	}
	tun_labels_format(x->labels, x->nlabels, labels, sizeof(labels));
	return buf_putf(b, "%s%-3s %-24s %-21s %s%s%s\n", prefix, x->kind, x->name, x->address,
	    fp[0] != '\0' ? fp : x->cert_pin, labels[0] != '\0' ? " " : "", labels);
}

/* Whether two resources of the same name differ (the stored lists are
 * canonical: field by field). */
static int resource_differs(const struct tun_resource *x, const struct tun_resource *y)
{
	char lx[TUN_LABELS_TEXT_MAX], ly[TUN_LABELS_TEXT_MAX];

	tun_labels_format(x->labels, x->nlabels, lx, sizeof(lx));
	tun_labels_format(y->labels, y->nlabels, ly, sizeof(ly));
	return strcmp(x->kind, y->kind) != 0 || strcmp(x->address, y->address) != 0 ||
	    strcmp(x->host_key, y->host_key) != 0 || strcmp(x->cert_pin, y->cert_pin) != 0 ||
	    strcmp(lx, ly) != 0;
}

/* The lines under an agent whose pending claims wait: the labels if they
 * differ, with the approved ones; then each resource added (+), changed
 * (~, as it would be) or removed (-). */
static int pending_text(const struct brk_agent_info *ag, const struct brk_agent_claims *p,
    int64_t since, struct buf *b)
{
	char when[32], now_l[TUN_LABELS_TEXT_MAX], was_l[TUN_LABELS_TEXT_MAX];
	const struct brk_agent_claims *ok = &ag->claims;
	const struct tun_resource *x;
	int r;

	dur_format_time(since, when, sizeof(when));
	tun_labels_format(p->labels, p->nlabels, now_l, sizeof(now_l));
	tun_labels_format(ok->labels, ok->nlabels, was_l, sizeof(was_l));
	r = buf_putf(b, "  pending since %s:", when);
	if (r == 0 && strcmp(now_l, was_l) != 0) {
		r = buf_putf(b, " labels %s (approved: %s)", now_l[0] != '\0' ? now_l : "none",
		    was_l[0] != '\0' ? was_l : "none");
	}
	r = r == 0 ? buf_putf(b, "\n") : r;
	for (size_t i = 0; r == 0 && i < p->nresources; i++) {
		x = tun_resource_find(ok->resources, ok->nresources, p->resources[i].name);
		if (x == NULL || resource_differs(x, &p->resources[i])) {
			r = resource_text(&p->resources[i], x == NULL ? "  + " : "  ~ ", b);
		}
	}
	for (size_t i = 0; r == 0 && i < ok->nresources; i++) {
		if (tun_resource_find(p->resources, p->nresources, ok->resources[i].name) == NULL) {
			r = resource_text(&ok->resources[i], "  - ", b);
		}
	}
	return r;
}

/* One agent as an object of the API's array. */
static int agent_json(const struct brk_agent_info *ag, const struct brk_agent_claims *pending,
    int64_t since, cJSON *arr)
{
	cJSON *o = cJSON_CreateObject(), *c = NULL;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	if (cJSON_AddStringToObject(o, "name", ag->name) == NULL ||
	    cJSON_AddStringToObject(o, "key_pin", ag->key_pin) == NULL ||
	    cJSON_AddBoolToObject(o, "online", ag->online) == NULL ||
	    cJSON_AddBoolToObject(o, "locked", ag->locked) == NULL ||
	    cJSON_AddNumberToObject(o, "last_seen", (double)ag->last_seen) == NULL ||
	    (c = brk_agent_claims_json(&ag->claims)) == NULL ||
	    !cJSON_AddItemToObject(o, "claims", c)) {
		cJSON_Delete(c);
		return ZT_ERR_NOMEM;
	}
	if (since > 0 && ((c = brk_agent_claims_json(pending)) == NULL ||
	    !cJSON_AddItemToObject(o, "pending", c) ||
	    cJSON_AddNumberToObject(c, "since", (double)since) == NULL)) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* One agent as the lines `agents ls` prints. */
static int agent_text(const struct brk_agent_info *ag, const struct brk_agent_claims *pending,
    int64_t since, struct buf *b)
{
	char when[32], labels[TUN_LABELS_TEXT_MAX];
	int r;

	dur_format_time(ag->last_seen, when, sizeof(when));
	tun_labels_format(ag->claims.labels, ag->claims.nlabels, labels, sizeof(labels));
	/* The pin's first 12 hex digits name the key well enough for people. */
	r = buf_putf(b, "%-24s %-20.19s %-22s %-9s %s\n", ag->name, ag->key_pin, when,
	    ag->locked ? "locked" : since > 0 ? "pending" : "approved", labels);
	for (size_t i = 0; r == 0 && i < ag->claims.nresources; i++) {
		r = resource_text(&ag->claims.resources[i], "    ", b);
	}
	return r == 0 && since > 0 ? pending_text(ag, pending, since, b) : r;
}

/* One agent into the listing, in each form asked for. */
static int list_agent(const struct brk_agent_info *ag, void *arg)
{
	struct agents_ls *l = arg;
	int64_t since = pending_of(l, ag);
	int r = 0;

	if (l->arr != NULL) {
		r = agent_json(ag, &l->pending, since, l->arr);
	}
	if (r == 0 && l->text != NULL) {
		r = agent_text(ag, &l->pending, since, l->text);
	}
	return r;
}

int brk_admin_agents_ls(struct store *st, struct brk_agents *agents, cJSON **list,
    char **text)
{
	struct agents_ls *l = calloc(1, sizeof(*l));
	int r = ZT_ERR_NOMEM;

	if (list != NULL) {
		*list = NULL;
	}
	if (text != NULL) {
		*text = NULL;
	}
	if (l == NULL) {
		return ZT_ERR_NOMEM;
	}
	l->st = st;
	if ((list != NULL && (l->arr = cJSON_CreateArray()) == NULL) ||
	    (text != NULL && ((l->text = buf_new(BRK_AGENTS_TEXT_MAX)) == NULL ||
	    buf_putf(l->text, "%-24s %-20s %-22s %-9s %s\n", "NAME", "KEY", "LAST SEEN", "STATE",
	    "LABELS") != 0))) {
		goto out;
	}
	r = agents != NULL ? brk_agents_each(agents, list_agent, l) :
	    brk_agents_stored_each(st, list_agent, l);
	if (r == 0 && text != NULL) {
		r = buf_dup_cstring(l->text, text);
	}
	if (r == 0 && list != NULL) {
		*list = l->arr;
		l->arr = NULL;
	}
out:
	cJSON_Delete(l->arr);
	buf_free(l->text);
	free(l);
	return r;
}

static int agent_approve(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	struct store_agent *row = NULL;
	struct brk_agent_claims *was = NULL;   /* [0] approved, [1] pending */
	char owner[STORE_NAME_MAX + 1], res[STORE_NAME_MAX + 1];
	cJSON *d = NULL, *c;
	int r, by_name = 0;

	(void)now;
	*details = NULL;
	if (!store_name_valid(name)) {
		snprintf(err, errsz, "an agent's name is 1 to 64 of [a-z0-9._-], starting with "
		    "a letter or digit");
		return ZT_ERR_INVALID;
	}
	if ((row = calloc(1, sizeof(*row))) == NULL || (was = calloc(2, sizeof(*was))) == NULL) {
		snprintf(err, errsz, "out of memory");
		r = ZT_ERR_NOMEM;
		goto out;
	}
	switch ((r = store_agent_approve(st, name, row))) {
	case 0:
		break;
	case ZT_ERR_NOT_FOUND:
		snprintf(err, errsz, "no agent %s", name);
		goto out;
	case ZT_ERR_INVALID:
		snprintf(err, errsz, "agent %s has no claims waiting for approval", name);
		goto out;
	case ZT_ERR_EXISTS:
		if (store_agent_resource_owner(st, row->pending.resources, name, owner, res,
		    &by_name) != 0) {
			snprintf(owner, sizeof(owner), "another agent");
			snprintf(res, sizeof(res), "a resource");
		}
		snprintf(err, errsz, by_name ? "the resource name %s that agent %s advertises is "
		    "taken by agent %s: a name belongs to one resource or agent" : "the host key "
		    "of %s that agent %s advertises is approved for agent %s: a host key belongs "
		    "to one resource", res, name, owner);
		goto out;
	default:
		snprintf(err, errsz, "cannot approve the claims of %s: %s", name, zt_strerror(r));
		goto out;
	}
	/* What changed, as the store had it: the audit names old and new. */
	brk_agent_claims_from_row(name, &row->claims, &was[0]);
	brk_agent_claims_from_row(name, &row->pending, &was[1]);
	r = ZT_ERR_NOMEM;
	if ((d = json_object_str("agent", name)) == NULL ||
	    (c = brk_agent_claims_json(&was[0])) == NULL ||
	    !cJSON_AddItemToObject(d, "old", c) ||
	    (c = brk_agent_claims_json(&was[1])) == NULL ||
	    !cJSON_AddItemToObject(d, "new", c)) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	/* A running broker's registry applies them at once. */
	if (agents != NULL) {
		brk_agents_sync(agents, name);
	}
	*details = d;
	d = NULL;
	r = 0;
out:
	cJSON_Delete(d);
	free(row);
	free(was);
	return r;
}

static int agent_set_lock(struct store *st, struct brk_agents *agents, const char *name,
    int lock, cJSON **details, char *err, size_t errsz)
{
	int r;

	*details = NULL;
	if (!store_name_valid(name)) {
		snprintf(err, errsz, "an agent's name is 1 to 64 of [a-z0-9._-], starting with "
		    "a letter or digit");
		return ZT_ERR_INVALID;
	}
	if ((r = store_agent_set_locked(st, name, lock)) != 0) {
		if (r == ZT_ERR_NOT_FOUND) {
			snprintf(err, errsz, "no agent %s", name);
		} else {
			snprintf(err, errsz, "cannot %s agent %s: %s", lock ? "lock" : "unlock",
			    name, zt_strerror(r));
		}
		return r;
	}
	/* A running broker cuts a locked agent off now: its control
	 * connection and its streams end. */
	if (agents != NULL) {
		brk_agents_sync(agents, name);
	}
	if ((*details = json_object_str("agent", name)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static int agent_lock(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)now;
	return agent_set_lock(st, agents, name, 1, details, err, errsz);
}

static int agent_unlock(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)now;
	return agent_set_lock(st, agents, name, 0, details, err, errsz);
}

static int user_lock(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)agents;
	return brk_users_set_locked(st, name, 1, now, details, err, errsz);
}

static int user_unlock(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)agents;
	return brk_users_set_locked(st, name, 0, now, details, err, errsz);
}

static int user_rm(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)agents;
	(void)now;
	return brk_users_rm(st, STORE_USER, name, details, err, errsz);
}

static int bot_rm(struct store *st, struct brk_agents *agents, const char *name,
    int64_t now, cJSON **details, char *err, size_t errsz)
{
	(void)agents;
	(void)now;
	return brk_users_rm(st, STORE_BOT, name, details, err, errsz);
}

static const struct brk_admin_verb agent_verbs[] = {
	{ "rm", "agent.unbind", "removed", " removed: its name is free for a new key", agent_rm },
	{ "approve", "agent.approve", "approved", ": its claims are approved", agent_approve },
	{ "lock", "agent.lock", "locked", " locked: a running broker cuts it off within a second",
	    agent_lock },
	{ "unlock", "agent.unlock", "unlocked", " unlocked", agent_unlock },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct brk_admin_verb user_verbs[] = {
	{ "lock", "user.lock", "locked", " locked; their sessions are revoked", user_lock },
	{ "unlock", "user.unlock", "unlocked", " unlocked", user_unlock },
	{ "rm", "user.rm", "removed", " removed", user_rm },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct brk_admin_verb bot_verbs[] = {
	{ "rm", "bot.rm", "removed", " removed; its tokens no longer work", bot_rm },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct brk_admin_verb *brk_admin_verb(const char *noun, const char *verb)
{
	const struct brk_admin_verb *t = strcmp(noun, "agents") == 0 ? agent_verbs :
	    strcmp(noun, "users") == 0 ? user_verbs : strcmp(noun, "bots") == 0 ? bot_verbs : NULL;

	for (; t != NULL && t->verb != NULL; t++) {
		if (strcmp(verb, t->verb) == 0) {
			return t;
		}
	}
	return NULL;
}

static int cmd_agents(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "", *name = a->npos > 2 ? a->pos[2] : NULL;
	const struct brk_admin_verb *v = brk_admin_verb("agents", verb);
	char *text = NULL;
	int r;

	if (strcmp(verb, "ls") == 0 && name == NULL) {
		if ((r = brk_admin_agents_ls(dd->store, NULL, NULL, &text)) != 0) {
			fprintf(stderr, "ztbroker admin: cannot list agents: %s\n", zt_strerror(r));
			return 1;
		}
		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (v == NULL || name == NULL || a->npos != 3) {
		fprintf(stderr, "ztbroker admin: agents ls | agents approve NAME | agents lock "
		    "NAME | agents unlock NAME | agents rm NAME (stop the agent first)\n");
		return 2;
	}
	return run_verb(dd, v, "agent", name);
}

static int cmd_ca(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "";
	char pin[CA_PIN_LEN + 1];

	if (strcmp(verb, "pin") == 0 && ca_pin(dd->ca, pin, sizeof(pin)) == 0) {
		printf("%s\n", pin);
		return 0;
	}
	if (strcmp(verb, "ssh-user-pub") == 0) {
		printf("%s\n", sshca_pubkey_line(dd->sshca));
		return 0;
	}
	fprintf(stderr, "ztbroker admin: ca pin | ca ssh-user-pub\n");
	return 2;
}

/* --since: a duration back from now ("24h") or a UTC time
 * "YYYY-MM-DDTHH:MM:SSZ". */
static int parse_since(const char *s, int64_t *since_ms)
{
	struct tm tm;
	int64_t d;
	const char *end;

	if (dur_parse(s, 0, INT64_MAX / 1000, &d) == 0) {
		*since_ms = brk_now_ms() - d * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		return ZT_ERR_INVALID;
	}
	*since_ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static int cmd_audit(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "";
	struct aud_verify_result res;
	int64_t since = 0;
	int r;

	if (strcmp(verb, "ls") == 0) {
		if (a->since != NULL && parse_since(a->since, &since) != 0) {
			fprintf(stderr, "ztbroker admin: --since takes a duration (24h) or a UTC "
			    "time (2026-01-31T12:00:00Z)\n");
			return 2;
		}
		return aud_print(dd->store, since, a->json, stdout) == 0 ? 0 : 1;
	}
	if (strcmp(verb, "verify") == 0) {
		memset(&res, 0, sizeof(res));
		r = aud_verify(dd->store, dd->recordings, &res);
		if (r == 0) {
			printf("audit log verified: %lld events, hash chain intact\n",
			    (long long)res.checked);
			/* Events cut off the end leave a valid chain: keep the head
			 * somewhere else and compare it next time. */
			printf("head: #%lld sha256:%s\n", (long long)res.head_seq, res.head_hash);
			return 0;
		}
		if (r == ZT_ERR_TAMPERED) {
			printf("audit log TAMPERED: first broken event is #%lld (%s); "
			    "%lld events before it verified\n", (long long)res.first_bad,
			    res.reason != NULL ? res.reason : "mismatch", (long long)res.checked);
			return 1;
		}
		fprintf(stderr, "ztbroker admin: cannot verify: %s\n", zt_strerror(r));
		return 1;
	}
	fprintf(stderr, "ztbroker admin: audit ls | audit verify\n");
	return 2;
}

static int list_role(const struct store_role_ref *ref, void *arg)
{
	char when[32];

	(void)arg;
	dur_format_time(ref->updated_at, when, sizeof(when));
	printf("%-32s %s\n", ref->name, when);
	return 0;
}

/* Reads a whole file of at most max bytes (owned). */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	size_t n;
	int r = 0;

	*out = NULL;
	if (fp == NULL) {
		return ZT_ERR_IO;
	}
	if ((p = malloc(max + 1)) == NULL) {
		fclose(fp);
		return ZT_ERR_NOMEM;
	}
	n = fread(p, 1, max + 1, fp);
	if (ferror(fp)) {
		r = ZT_ERR_IO;
	} else if (n > max) {
		r = ZT_ERR_TOO_LARGE;
	}
	fclose(fp);
	if (r != 0) {
		free(p);
		return r;
	}
	*out = p;
	*len = n;
	return 0;
}

int brk_admin_role_apply(struct store *st, const void *p, size_t n, const char *fname,
    int64_t now, char *name, size_t namesz, cJSON **details, char *err, size_t errsz)
{
	char warn[512];
	int r;

	*details = NULL;
	if ((r = brk_policy_apply(st, p, n, fname, name, namesz, err, errsz, warn, sizeof(warn),
	    (long long)now)) != 0) {
		return r;
	}
	if ((*details = json_object_str("role", name)) == NULL ||
	    (warn[0] != '\0' && cJSON_AddStringToObject(*details, "warning", warn) == NULL)) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int brk_admin_role_rm(struct store *st, const char *name, cJSON **details, char *err,
    size_t errsz)
{
	int r;

	*details = NULL;
	if ((r = store_role_rm(st, name)) != 0) {
		snprintf(err, errsz, "cannot remove role %.64s: %s", name, zt_strerror(r));
		return r;
	}
	if ((*details = json_object_str("role", name)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	return 0;
}

static int cmd_roles(struct brk_datadir *dd, const struct args *a)
{
	const char *verb = a->npos > 1 ? a->pos[1] : "", *name = a->npos > 2 ? a->pos[2] : NULL;
	char rname[STORE_NAME_MAX + 1], err[POL_ERR_MAX];
	cJSON *details = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (strcmp(verb, "ls") == 0) {
		printf("%-32s %s\n", "NAME", "UPDATED");
		return store_role_each(dd->store, list_role, NULL) == 0 ? 0 : 1;
	}
	if (strcmp(verb, "apply") == 0) {
		if (a->file == NULL) {
			fprintf(stderr, "ztbroker admin: roles apply needs -f ROLE.yaml\n");
			return 2;
		}
		if ((r = read_file(a->file, POL_ROLE_MAX, &text, &len)) != 0) {
			fprintf(stderr, "ztbroker admin: cannot read %s: %s\n", a->file,
			    zt_strerror(r));
			return 1;
		}
		r = brk_admin_role_apply(dd->store, text, len, a->file, brk_now(), rname,
		    sizeof(rname), &details, err, sizeof(err));
		free(text);
		if (r != 0) {
			fprintf(stderr, "ztbroker admin: %s\n", err);
			return 1;
		}
		if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(details, "warning")) !=
		    NULL) {
			fprintf(stderr, "ztbroker admin: warning: %s\n", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(details, "warning")));
		}
		if (audit_admin(dd, "role.apply", details) != 0) {
			return 1;
		}
		printf("role %s applied\n", rname);
		return 0;
	}
	if (strcmp(verb, "rm") == 0 && name != NULL) {
		if ((r = brk_admin_role_rm(dd->store, name, &details, err, sizeof(err))) != 0) {
			fprintf(stderr, "ztbroker admin: %s\n", err);
			return 1;
		}
		if (audit_admin(dd, "role.rm", details) != 0) {
			return 1;
		}
		printf("role %s removed\n", name);
		return 0;
	}
	fprintf(stderr, "ztbroker admin: roles apply -f FILE | roles ls | roles rm NAME\n");
	return 2;
}

/* The labels a policy test runs with: q->labels parsed, or without them the
 * effective labels of the resource q->host (from agents, or with agents
 * NULL from the store), if it is known. */
static int query_labels(struct store *st, struct brk_agents *agents,
    const struct brk_admin_query *q, struct tun_label *parsed, size_t *n, char *err,
    size_t errsz)
{
	struct brk_resource res;
	char copy[1024];

	*n = 0;
	if (q->labels == NULL) {
		if (q->host == NULL || (agents != NULL ? brk_agents_resource(agents, q->host, &res) :
		    brk_agents_stored_resource(st, q->host, &res)) != 0) {
			return 0;
		}
		/* The approved labels: what the agent advertises decides nothing. */
		memcpy(parsed, res.labels, res.nlabels * sizeof(parsed[0]));
		*n = res.nlabels;
		return 0;
	}
	if (strlen(q->labels) >= sizeof(copy)) {
		snprintf(err, errsz, "labels are longer than %zu bytes", sizeof(copy) - 1);
		return ZT_ERR_INVALID;
	}
	snprintf(copy, sizeof(copy), "%s", q->labels);
	if (tun_labels_parse(copy, parsed, TUN_LABELS_MAX, n) != 0) {
		snprintf(err, errsz, "labels take k=v,k2=v2 (at most %d)", TUN_LABELS_MAX);
		return ZT_ERR_INVALID;
	}
	return 0;
}

int brk_admin_policy_test(struct store *st, struct brk_roles *rc,
    struct brk_agents *agents, const struct brk_admin_query *q, struct pol_decision *d,
    char *missing, size_t missingsz, char *err, size_t errsz)
{
	struct tun_label parsed[BRK_LABELS_MAX];
	struct pol_label labels[BRK_LABELS_MAX];
	char roles[STORE_ROLES_MAX + 1];
	struct brk_policy_set set;
	struct pol_request req;
	struct store_user u;
	struct store_bot bot;
	size_t nlabels = 0;
	int r;

	missing[0] = '\0';
	if (q->tool == NULL || (q->user == NULL) == (q->bot == NULL)) {
		snprintf(err, errsz, "a policy test needs a tool and either a user or a bot");
		return ZT_ERR_INVALID;
	}
	if (q->path != NULL && !pol_path_normal(q->path)) {
		/* The file tools refuse such a path before any decision. */
		snprintf(err, errsz, "path must be absolute and normal (no \"..\", \".\", \"//\" "
		    "or trailing '/'), as the file tools take it");
		return ZT_ERR_INVALID;
	}
	if ((r = query_labels(st, agents, q, parsed, &nlabels, err, errsz)) != 0) {
		return r;
	}
	brk_policy_labels(parsed, nlabels, labels);
	memset(&u, 0, sizeof(u));
	memset(&bot, 0, sizeof(bot));
	r = q->user != NULL ? store_user_get(st, q->user, &u) : store_bot_get(st, q->bot, &bot);
	snprintf(roles, sizeof(roles), "%s", q->user != NULL ? u.roles : bot.roles);
	store_user_wipe(&u);
	if (r == ZT_ERR_NOT_FOUND) {
		snprintf(err, errsz, "no %s %.64s", q->user != NULL ? "user" : "bot",
		    q->user != NULL ? q->user : q->bot);
		return r;
	}
	if (r != 0) {
		snprintf(err, errsz, "cannot look the identity up: %s", zt_strerror(r));
		return r;
	}
	if ((r = brk_policy_load(rc, roles, &set)) != 0) {
		snprintf(err, errsz, "cannot load roles: %s", zt_strerror(r));
		return r;
	}
	snprintf(missing, missingsz, "%s", set.missing);
	memset(&req, 0, sizeof(req));
	req.tool = q->tool;
	req.host = q->host;
	req.labels = labels;
	req.nlabels = nlabels;
	req.login = q->login;
	req.command = q->command;
	req.path = q->path;
	req.bot = q->bot != NULL;
	r = pol_decide(set.roles, set.n, &req, d);
	brk_policy_release(&set);
	if (r != 0) {
		snprintf(err, errsz, "cannot decide: %s", zt_strerror(r));
	}
	return r;
}

static int cmd_policy(struct brk_datadir *dd, const struct args *a)
{
	char missing[STORE_ROLES_MAX + 1], err[POL_ERR_MAX];
	struct brk_admin_query q;
	struct pol_decision d;
	int r;

	if (a->npos < 2 || strcmp(a->pos[1], "test") != 0 || a->tool == NULL ||
	    (a->user == NULL) == (a->bot == NULL)) {
		fprintf(stderr, "ztbroker admin: policy test --user U|--bot B --tool T "
		    "[--host H --labels k=v,..] [--login L] [--command 'CMD'] [--path /P]\n");
		return 2;
	}
	memset(&q, 0, sizeof(q));
	q.user = a->user;
	q.bot = a->bot;
	q.tool = a->tool;
	q.host = a->host;
	q.labels = a->labels;
	q.login = a->login;
	q.command = a->command;
	q.path = a->path;
	/* No registry here: a known host's labels come from the store. */
	r = brk_admin_policy_test(dd->store, dd->roles, NULL, &q, &d, missing, sizeof(missing),
	    err, sizeof(err));
	if (r != 0) {
		return fail_exit(r, err);
	}
	if (missing[0] != '\0') {
		printf("note: roles without a document (they allow nothing): %s\n", missing);
	}
	printf("%s\n%s\n", d.allow ? "ALLOW" : "DENY", d.rule);
	if (d.allow) {
		char need[POL_APPROVERS_MAX + 128];

		pol_requirements_text(&d.req, need, sizeof(need));
		printf("requires: %s\n", need);
	}
	return d.allow ? 0 : 1;
}

int brk_admin_main(struct brk_datadir *dd, int argc, char **argv)
{
	struct args a;
	int r;

	if ((r = parse_args(argc, argv, &a)) != 0) {
		return r;
	}
	if (a.npos == 0) {
		fprintf(stderr, "usage: ztbroker admin --data-dir D COMMAND\n%s", brk_admin_usage);
		return 2;
	}
	if (strcmp(a.pos[0], "users") == 0) {
		return cmd_users(dd, &a);
	}
	if (strcmp(a.pos[0], "bots") == 0) {
		return cmd_bots(dd, &a);
	}
	if (strcmp(a.pos[0], "tokens") == 0) {
		return cmd_tokens(dd, &a);
	}
	if (strcmp(a.pos[0], "agents") == 0) {
		return cmd_agents(dd, &a);
	}
	if (strcmp(a.pos[0], "roles") == 0) {
		return cmd_roles(dd, &a);
	}
	if (strcmp(a.pos[0], "policy") == 0) {
		return cmd_policy(dd, &a);
	}
	if (strcmp(a.pos[0], "ca") == 0) {
		return cmd_ca(dd, &a);
	}
	if (strcmp(a.pos[0], "audit") == 0) {
		return cmd_audit(dd, &a);
	}
	fprintf(stderr, "ztbroker admin: unknown command \"%s\"\n%s", a.pos[0], brk_admin_usage);
	return 2;
}
