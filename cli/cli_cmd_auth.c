/*
 * cli_cmd_auth.c - `ztctl enroll`, `login`, `status` and `logout`.
 *
 * These talk to the broker's /v1 API (docs/api.md) through cli_http and keep
 * the session in the profile (cli_profile). Every failure ends in exactly one
 * "ztctl: ..." line on stderr, carrying the broker's own message when it
 * sent one. Text that came from the broker is stripped of control bytes
 * before it reaches the terminal, and passwords, codes and tokens are wiped
 * from every buffer and JSON tree that held them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_cmd_auth.h"
#include "cli/cli_http.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_prompt.h"
#include "cli/cli_qr.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/tls.h"
#include "common/totp.h"
#include "tunnel/tun.h"

#define MSG_MAX 512
#define NAME_MAX_LEN 256
#define TOKEN_MAX_LEN 512
#define OTP_LINE_MAX 64
#define ENROLL_TRIES 3 /* one-time codes asked for on a terminal */
#define TOTP_CODE_BUF (TOTP_DIGITS + 1)

enum opt_id {
	OPT_BROKER = 1 << 0,
	OPT_PIN = 1 << 1,
	OPT_INVITE = 1 << 2,
	OPT_USER = 1 << 3,
	OPT_OTP = 1 << 4,
	OPT_PWSTDIN = 1 << 5,
	OPT_HELP = 1 << 6,
	OPT_NAMES = 1 << 7,
};

struct opts {
	const char *broker;
	const char *ca_pin;
	const char *invite;
	const char *user;
	const char *otp;
	int password_stdin;
	int names;
};

static const char *const usage_enroll =
    "usage: ztctl enroll --broker URL --ca-pin PIN --invite CODE [--password-stdin]\n";
static const char *const usage_login =
    "usage: ztctl login [--broker URL] [--ca-pin PIN] [--user NAME] [--password-stdin]\n"
    "                   [--otp CODE]\n"
    "       (--broker, --ca-pin and --user default to the saved profile's)\n";
static const char *const usage_status = "usage: ztctl status\n";
static const char *const usage_logout = "usage: ztctl logout\n";
static const char *const usage_ls =
    "usage: ztctl ls [-q | --names]\n"
    "       (-q: only the host names, one a line, for scripts and shell completion)\n";

/* Parses argv for the options in allowed (OPT_* bits). CLI_EXIT_OK to go on,
 * -1 after --help was printed, or CLI_EXIT_USAGE. */
static int parse_opts(int argc, char **argv, unsigned allowed, const char *usage, struct opts *o)
{
	static const struct option longopts[] = {
		{"broker", required_argument, NULL, OPT_BROKER},
		{"ca-pin", required_argument, NULL, OPT_PIN},
		{"invite", required_argument, NULL, OPT_INVITE},
		{"user", required_argument, NULL, OPT_USER},
		{"otp", required_argument, NULL, OPT_OTP},
		{"password-stdin", no_argument, NULL, OPT_PWSTDIN},
		{"help", no_argument, NULL, OPT_HELP},
		{"names", no_argument, NULL, OPT_NAMES},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0; /* glibc: start over for this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
		if (c == 'h') {
			c = OPT_HELP;
		} else if (c == 'q') {
			c = OPT_NAMES;
		}
		if (c == ':') {
			cli_fail("%s: option %s needs a value", argv[0], argv[optind - 1]);
			goto usage;
		}
		if (c == '?' || ((unsigned)c & (allowed | OPT_HELP)) == 0) {
			cli_fail("%s: unknown option %s", argv[0], argv[optind - 1]);
			goto usage;
		}
		switch (c) {
		case OPT_BROKER: o->broker = optarg; break;
		case OPT_PIN: o->ca_pin = optarg; break;
		case OPT_INVITE: o->invite = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_OTP: o->otp = optarg; break;
		case OPT_PWSTDIN: o->password_stdin = 1; break;
		case OPT_NAMES: o->names = 1; break;
		case OPT_HELP: fputs(usage, stdout); return -1;
		default: goto usage;
		}
	}
	if (optind < argc) {
		cli_fail("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
		goto usage;
	}
	return CLI_EXIT_OK;
usage:
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

/* Checks the broker URL and pin before anything is sent. */
static int check_target(const char *broker, const char *pin)
{
	char host[CLI_HTTP_HOST_MAX + 1], port[CLI_HTTP_PORT_MAX];

	if (cli_http_parse_url(broker, host, sizeof(host), port, sizeof(port)) != 0) {
		cli_fail("invalid broker URL (want https://HOST[:PORT], default port %s)",
		    CLI_HTTP_DEFAULT_PORT);
		return CLI_EXIT_USAGE;
	}
	if (tls_pin_valid(pin) != 0) {
		cli_fail("invalid CA pin (want sha256: followed by 64 lower-case hex digits, "
		    "as printed by ztbroker)");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* One API call for the command named what. body (may be NULL) is serialized,
 * sent and wiped. 0 when a response arrived (any status); otherwise the error
 * was printed, followed by suffix (may be NULL). */
static int call(const char *what, const char *suffix, const char *broker, const char *pin,
    const char *method, const char *path, const char *bearer, const cJSON *body, int *status,
    cJSON **resp)
{
	char err[MSG_MAX];
	char *text = NULL;
	int r;

	*resp = NULL;
	if (body != NULL && (text = json_print(body)) == NULL) {
		cli_fail("out of memory");
		return ZT_ERR_NOMEM;
	}
	r = cli_http_request(broker, pin, method, path, bearer, text, status, resp, err,
	    sizeof(err));
	crypto_free_str(text);
	if (r != 0) {
		cli_fail("%s failed: %s%s", what, err, suffix != NULL ? suffix : "");
	}
	return r;
}

/* Prints the broker's refusal (its message if it sent one), then suffix
 * (may be NULL). Broker messages already say what failed. */
static int refused(const char *what, const char *suffix, int status, const cJSON *resp)
{
	const char *code, *msg;
	char c[MSG_MAX];

	if (suffix == NULL) {
		suffix = "";
	}
	cli_http_error(resp, &code, &msg);
	if (msg != NULL) {
		cli_fail("%s%s", cli_clean(msg, 0, c, sizeof(c)), suffix);
	} else if (code != NULL) {
		cli_fail("%s failed: %s (HTTP %d)%s", what, cli_clean(code, 0, c, sizeof(c)), status,
		    suffix);
	} else {
		cli_fail("%s failed: the broker answered HTTP %d%s", what, status, suffix);
	}
	return CLI_EXIT_FAIL;
}

static int is_error(const cJSON *resp, const char *code)
{
	const char *c, *m;

	cli_http_error(resp, &c, &m);
	return c != NULL && strcmp(c, code) == 0;
}

static void fmt_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		snprintf(out, outsz, "%lld", (long long)t);
	}
}

/* Names a failed cli_ask() for what ("password") in one line: eof_msg when
 * the input ended before anything was given, else the reason. */
static void ask_failed(int r, const char *what, const char *eof_msg)
{
	if (r == ZT_ERR_TRUNCATED) {
		cli_fail("%s", eof_msg);
	} else {
		cli_fail("cannot read the %s: %s", what, zt_strerror(r));
	}
}

/* The password from stdin (one line) or the terminal (asked twice when
 * confirm is set). */
static int get_password(int from_stdin, int confirm, char *pw, size_t pwsz)
{
	char again[CLI_PROMPT_MAX];
	int r, ret = CLI_EXIT_FAIL;

	r = cli_ask(confirm ? "New password: " : "Password: ", 0, from_stdin, pw, pwsz);
	if (r == ZT_ERR_NOT_FOUND) {
		cli_fail("no terminal to ask for the password on: use --password-stdin");
		goto out;
	}
	if (r == ZT_ERR_TOO_LARGE) {
		cli_fail("password too long (at most %d bytes)", CLI_PROMPT_MAX - 1);
		goto out;
	}
	if (r != 0) {
		ask_failed(r, "password", "no password given (end of input)");
		goto out;
	}
	if (pw[0] == '\0') {
		cli_fail("empty password");
		goto out;
	}
	if (!from_stdin && confirm) {
		if ((r = cli_prompt_tty("New password (again): ", 0, again, sizeof(again))) != 0) {
			cli_fail("cannot read the password: %s", zt_strerror(r));
			goto out;
		}
		if (strcmp(pw, again) != 0) {
			cli_fail("the two passwords differ");
			goto out;
		}
	}
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(again, sizeof(again));
	if (ret != CLI_EXIT_OK) {
		crypto_wipe(pw, pwsz);
	}
	return ret;
}

/* Keeps the digits of a code typed as "123 456"; exactly 6 are wanted. */
static int normalize_otp(const char *in, char out[TOTP_CODE_BUF])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-') {
			continue;
		}
		if (*in < '0' || *in > '9' || n >= 6) {
			return ZT_ERR_INVALID;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == 6 ? 0 : ZT_ERR_INVALID;
}

/* A one-time code: given on the command line, asked on the terminal when
 * stdin is one, else the next line of stdin. */
static int get_otp(const char *given, char out[TOTP_CODE_BUF])
{
	char line[OTP_LINE_MAX];
	int r, ret = CLI_EXIT_FAIL;

	if (given != NULL) {
		if (normalize_otp(given, out) != 0) {
			cli_fail("--otp: the one-time code must be 6 digits");
			return CLI_EXIT_USAGE;
		}
		return CLI_EXIT_OK;
	}
	r = cli_ask("One-time code: ", 1, !isatty(STDIN_FILENO), line, sizeof(line));
	if (r != 0) {
		ask_failed(r, "one-time code", "no one-time code given (end of standard input)");
		goto out;
	}
	if (normalize_otp(line, out) != 0) {
		cli_fail("the one-time code must be 6 digits");
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(line, sizeof(line));
	return ret;
}

/* Collects the "roles" array of resp (role names). */
static int get_roles(const cJSON *resp, const char **roles, size_t *n)
{
	const cJSON *arr = NULL, *it;

	*n = 0;
	if (json_get_arr(resp, "roles", CLI_PROFILE_ROLES_MAX, &arr) != 0) {
		return ZT_ERR_PROTOCOL;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    strlen(it->valuestring) > NAME_MAX_LEN) {
			return ZT_ERR_PROTOCOL;
		}
		roles[(*n)++] = it->valuestring;
	}
	return 0;
}

static void join_roles(const char *const *roles, size_t n, char *out, size_t outsz)
{
	char c[NAME_MAX_LEN + 1];
	size_t i, len = 0;
	int w;

	out[0] = '\0';
	if (n == 0) {
		snprintf(out, outsz, "none");
		return;
	}
	for (i = 0; i < n; i++) {
		w = snprintf(out + len, outsz - len, "%s%s", i > 0 ? "," : "",
		    cli_clean(roles[i], 0, c, sizeof(c)));
		if (w < 0 || (size_t)w >= outsz - len) {
			return;
		}
		len += (size_t)w;
	}
}

/* Only base32 reaches the terminal as a secret. */
static int is_base32(const char *s)
{
	if (*s == '\0') {
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7') || *s == '=')) {
			return 0;
		}
	}
	return 1;
}

static int is_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e) {
			return 0;
		}
	}
	return 1;
}

static int load_profile(const char *dir, struct cli_profile **p)
{
	char err[MSG_MAX];
	int r;

	r = cli_profile_load(dir, p, err, sizeof(err));
	if (r != 0 && r != ZT_ERR_NOT_FOUND) {
		cli_fail("%s", err);
	}
	return r;
}

static int enroll_confirm(const struct opts *o, const char *user)
{
	char otp[TOTP_CODE_BUF], c[NAME_MAX_LEN + 1];
	cJSON *body = NULL, *resp = NULL;
	int status = 0, tries, ret = CLI_EXIT_FAIL, r, tty = isatty(STDIN_FILENO);

	for (tries = 0; tries < (tty ? ENROLL_TRIES : 1); tries++) {
		if ((r = get_otp(NULL, otp)) != CLI_EXIT_OK) {
			ret = r;
			goto out;
		}
		json_delete_wiped(body);
		cJSON_Delete(resp);
		resp = NULL;
		if ((body = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(body, "invite", o->invite) == NULL ||
		    cJSON_AddStringToObject(body, "otp", otp) == NULL) {
			cli_fail("out of memory");
			goto out;
		}
		if (call("enrolment", NULL, o->broker, o->ca_pin, "POST", "/v1/enroll", NULL, body,
		    &status, &resp) != 0) {
			goto out;
		}
		if (status == 200) {
			break;
		}
		if (tty && tries + 1 < ENROLL_TRIES &&
		    (is_error(resp, "invalid_otp") || is_error(resp, "otp_replayed"))) {
			refused("enrolment", "; try again with the next code", status, resp);
			continue;
		}
		ret = refused("enrolment", NULL, status, resp);
		goto out;
	}
	if (status != 200) {
		goto out;
	}
	printf("enrolled as %s; now run: ztctl login --broker %s --ca-pin %s --user %s\n",
	    cli_clean(user, 0, c, sizeof(c)), o->broker, o->ca_pin, c);
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(otp, sizeof(otp));
	json_delete_wiped(body);
	cJSON_Delete(resp);
	return ret;
}

int cli_cmd_enroll(int argc, char **argv)
{
	char pw[CLI_PROMPT_MAX], c[NAME_MAX_LEN + 1];
	const char *user = NULL, *secret = NULL, *uri = NULL;
	cJSON *body = NULL, *resp = NULL;
	char *user_copy = NULL;
	struct opts o;
	int status, r, ret = CLI_EXIT_FAIL;

	memset(pw, 0, sizeof(pw));
	if ((r = parse_opts(argc, argv, OPT_BROKER | OPT_PIN | OPT_INVITE | OPT_PWSTDIN,
	    usage_enroll, &o)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (o.broker == NULL || o.ca_pin == NULL || o.invite == NULL) {
		cli_fail("enroll needs --broker, --ca-pin and --invite");
		fputs(usage_enroll, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((r = check_target(o.broker, o.ca_pin)) != CLI_EXIT_OK) {
		return r;
	}
	if (get_password(o.password_stdin || !isatty(STDIN_FILENO), 1, pw, sizeof(pw)) != 0) {
		goto out;
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "invite", o.invite) == NULL ||
	    cJSON_AddStringToObject(body, "password", pw) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	crypto_wipe(pw, sizeof(pw));
	if (call("enrolment", NULL, o.broker, o.ca_pin, "POST", "/v1/enroll", NULL, body, &status,
	    &resp) != 0) {
		goto out;
	}
	if (status != 200) {
		ret = refused("enrolment", NULL, status, resp);
		goto out;
	}
	if (json_get_str(resp, "user", NAME_MAX_LEN, 0, &user) != 0 ||
	    json_get_str(resp, "totp_secret", TOTP_B32_MAX, 0, &secret) != 0 ||
	    json_get_str(resp, "otpauth_uri", TOTP_URI_MAX, 0, &uri) != 0 ||
	    !is_base32(secret) || strncmp(uri, "otpauth://", 10) != 0 || !is_printable(uri)) {
		cli_fail("enrolment failed: the broker's answer lacks a valid TOTP secret");
		goto out;
	}
	/* The secret goes to stdout on purpose: the user must copy it into an
	 * authenticator. It is shown once, here, and never stored by ztctl. */
	printf("Add this account to your authenticator app: scan the QR code below,\n"
	    "or open the otpauth URI, or type the secret by hand.\n");
	printf("user: %s\n", cli_clean(user, 0, c, sizeof(c)));
	printf("otpauth_uri: %s\n", uri);
	printf("totp_secret: %s\n", secret);
	if (cli_qr_print(stdout, uri, isatty(STDOUT_FILENO)) != 0) {
		fprintf(stderr, "ztctl: cannot draw the QR code; use the secret above\n");
	}
	printf("Then enter the code the app shows to finish enrolment.\n");
	fflush(stdout);
	if ((user_copy = strdup(user)) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	json_delete_wiped(resp);
	resp = NULL;
	ret = enroll_confirm(&o, user_copy);
out:
	crypto_wipe(pw, sizeof(pw));
	json_delete_wiped(body);
	json_delete_wiped(resp);
	free(user_copy);
	return ret;
}

int cli_cmd_login(int argc, char **argv)
{
	char pw[CLI_PROMPT_MAX], otp[TOTP_CODE_BUF], dir[CLI_PROFILE_PATH_MAX], err[MSG_MAX];
	char when[64], rolestr[MSG_MAX], c[NAME_MAX_LEN + 1];
	const char *roles[CLI_PROFILE_ROLES_MAX], *token = NULL, *user = NULL;
	struct cli_profile *old = NULL, *p = NULL;
	cJSON *body = NULL, *resp = NULL;
	int64_t expires = 0;
	size_t nroles = 0;
	struct opts o;
	int status, r, ret = CLI_EXIT_FAIL;

	memset(pw, 0, sizeof(pw));
	memset(otp, 0, sizeof(otp));
	if ((r = parse_opts(argc, argv, OPT_BROKER | OPT_PIN | OPT_USER | OPT_OTP | OPT_PWSTDIN,
	    usage_login, &o)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (cli_profile_dir(dir, sizeof(dir)) != 0) {
		cli_fail("cannot find the profile directory: set ZT_HOME or HOME");
		goto out;
	}
	/* Missing options come from the saved profile, if there is one. */
	if (o.broker == NULL || o.ca_pin == NULL || o.user == NULL) {
		r = load_profile(dir, &old);
		if (r != 0 && r != ZT_ERR_NOT_FOUND) {
			goto out;
		}
		if (r == 0) {
			o.broker = o.broker != NULL ? o.broker : old->broker;
			o.ca_pin = o.ca_pin != NULL ? o.ca_pin : old->ca_pin;
			o.user = o.user != NULL ? o.user : old->user;
		}
	}
	if (o.broker == NULL || o.ca_pin == NULL || o.user == NULL) {
		cli_fail("login needs --broker, --ca-pin and --user (no saved profile has them)");
		fputs(usage_login, stderr);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((r = check_target(o.broker, o.ca_pin)) != CLI_EXIT_OK) {
		ret = r;
		goto out;
	}
	if (o.otp != NULL && (r = get_otp(o.otp, otp)) != CLI_EXIT_OK) {
		ret = r;
		goto out;
	}
	if (get_password(o.password_stdin || !isatty(STDIN_FILENO), 0, pw, sizeof(pw)) != 0) {
		goto out;
	}
	if (o.otp == NULL && get_otp(NULL, otp) != CLI_EXIT_OK) {
		goto out;
	}
	if ((body = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(body, "user", o.user) == NULL ||
	    cJSON_AddStringToObject(body, "password", pw) == NULL ||
	    cJSON_AddStringToObject(body, "otp", otp) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	crypto_wipe(pw, sizeof(pw));
	crypto_wipe(otp, sizeof(otp));
	if (call("login", NULL, o.broker, o.ca_pin, "POST", "/v1/login", NULL, body, &status,
	    &resp) != 0) {
		goto out;
	}
	if (status != 200) {
		ret = refused("login", NULL, status, resp);
		goto out;
	}
	if (json_get_str(resp, "token", TOKEN_MAX_LEN, 0, &token) != 0 || !is_printable(token) ||
	    json_get_str(resp, "user", NAME_MAX_LEN, 0, &user) != 0 ||
	    json_get_int(resp, "expires_at", 0, INT64_MAX, &expires) != 0 ||
	    get_roles(resp, roles, &nroles) != 0) {
		cli_fail("login failed: the broker's answer is malformed");
		goto out;
	}
	if ((p = cli_profile_new()) == NULL || cli_profile_set(&p->broker, o.broker) != 0 ||
	    cli_profile_set(&p->ca_pin, o.ca_pin) != 0 || cli_profile_set(&p->user, user) != 0 ||
	    cli_profile_set(&p->token, token) != 0 ||
	    cli_profile_set_roles(p, roles, nroles) != 0) {
		cli_fail("out of memory");
		goto out;
	}
	p->expires_at = expires;
	if (cli_profile_save(dir, p, err, sizeof(err)) != 0) {
		cli_fail("logged in, but cannot save the session: %s", err);
		goto out;
	}
	fmt_time(expires, when, sizeof(when));
	join_roles(roles, nroles, rolestr, sizeof(rolestr));
	printf("logged in as %s (roles: %s), session expires at %s\n",
	    cli_clean(user, 0, c, sizeof(c)), rolestr, when);
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	crypto_wipe(pw, sizeof(pw));
	crypto_wipe(otp, sizeof(otp));
	json_delete_wiped(body);
	json_delete_wiped(resp);
	cli_profile_free(old);
	cli_profile_free(p);
	return ret;
}

/* "not logged in" with the login command to run, filled from the profile. */
static void not_logged_in(const struct cli_profile *p)
{
	char c[NAME_MAX_LEN + 1];

	cli_fail("not logged in: run ztctl login --broker %s --ca-pin %s --user %s",
	    p != NULL ? p->broker : "URL", p != NULL ? p->ca_pin : "PIN",
	    p != NULL && p->user != NULL ? cli_clean(p->user, 0, c, sizeof(c)) : "NAME");
}

/* The reason a broker refused the session token, for people. */
static const char *token_refusal(const cJSON *resp)
{
	if (is_error(resp, "token_expired")) {
		return "the session has expired";
	}
	if (is_error(resp, "token_revoked")) {
		return "the session was revoked (logged out, or by an administrator)";
	}
	if (is_error(resp, "invalid_token")) {
		return "the broker does not know this session";
	}
	if (is_error(resp, "missing_token")) {
		return "no session token was sent";
	}
	return NULL;
}

int cli_session_load(char *dir, size_t dirsz, struct cli_profile **p)
{
	int r;

	*p = NULL;
	if (cli_profile_dir(dir, dirsz) != 0) {
		cli_fail("cannot find the profile directory: set ZT_HOME or HOME");
		return CLI_EXIT_FAIL;
	}
	if ((r = load_profile(dir, p)) == ZT_ERR_NOT_FOUND) {
		not_logged_in(NULL);
		return CLI_EXIT_FAIL;
	}
	if (r != 0) {
		return CLI_EXIT_FAIL;
	}
	if ((*p)->token == NULL) {
		not_logged_in(*p);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* GETs path with the saved session for the command named what: 0 with
 * *p and *resp (a 200 answer) set, both owned by the caller even on
 * failure; CLI_EXIT_FAIL after printing why (not logged in, the broker
 * unreachable, the token refused with the login command to run). */
static int session_get(const char *what, const char *path, struct cli_profile **p,
    cJSON **resp)
{
	char dir[CLI_PROFILE_PATH_MAX], c[NAME_MAX_LEN + 1];
	const char *why;
	int status;

	*resp = NULL;
	if (cli_session_load(dir, sizeof(dir), p) != CLI_EXIT_OK ||
	    call(what, NULL, (*p)->broker, (*p)->ca_pin, "GET", path, (*p)->token, NULL, &status,
	    resp) != 0) {
		return CLI_EXIT_FAIL;
	}
	if (status == 200) {
		return CLI_EXIT_OK;
	}
	if ((why = token_refusal(*resp)) != NULL) {
		cli_fail("%s: run ztctl login --broker %s --ca-pin %s --user %s", why, (*p)->broker,
		    (*p)->ca_pin,
		    (*p)->user != NULL ? cli_clean((*p)->user, 0, c, sizeof(c)) : "NAME");
	} else {
		refused(what, NULL, status, *resp);
	}
	return CLI_EXIT_FAIL;
}

int cli_cmd_status(int argc, char **argv)
{
	char when[64], mfa[64], rolestr[MSG_MAX];
	char c[NAME_MAX_LEN + 1];
	const char *roles[CLI_PROFILE_ROLES_MAX], *kind = NULL, *name = NULL;
	struct cli_profile *p = NULL;
	cJSON *resp = NULL;
	int64_t expires = 0, mfa_at = 0;
	size_t nroles = 0;
	struct opts o;
	int r, ret = CLI_EXIT_FAIL;

	if ((r = parse_opts(argc, argv, 0, usage_status, &o)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (session_get("status", "/v1/whoami", &p, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	if (json_get_str(resp, "kind", NAME_MAX_LEN, 0, &kind) != 0 ||
	    json_get_str(resp, "name", NAME_MAX_LEN, 0, &name) != 0 ||
	    json_get_int(resp, "expires_at", 0, INT64_MAX, &expires) != 0 ||
	    get_roles(resp, roles, &nroles) != 0) {
		cli_fail("status: the broker's answer is malformed");
		goto out;
	}
	r = json_get_int(resp, "mfa_verified_at", 0, INT64_MAX, &mfa_at);
	fmt_time(expires, when, sizeof(when));
	join_roles(roles, nroles, rolestr, sizeof(rolestr));
	printf("user:    %s", cli_clean(name, 0, c, sizeof(c)));
	printf(" (%s)\n", cli_clean(kind, 0, c, sizeof(c)));
	printf("roles:   %s\n", rolestr);
	printf("expires: %s\n", when);
	if (r == 0 && mfa_at > 0) {
		fmt_time(mfa_at, mfa, sizeof(mfa));
		printf("mfa:     verified at %s\n", mfa);
	}
	printf("broker:  %s\n", p->broker);
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	cJSON_Delete(resp);
	cli_profile_free(p);
	return ret;
}

/* One resource of GET /v1/hosts as a table row: name, kind, its agent,
 * its agent's state, its effective labels; or only its name. */
static void print_host(const cJSON *h, int name_only)
{
	const char *name = NULL, *kind = NULL, *agent = NULL;
	char c[NAME_MAX_LEN + 1], k[8], a[NAME_MAX_LEN + 1], lb[TUN_LABELS_TEXT_MAX];
	int online = 0;

	if (json_get_str(h, "name", NAME_MAX_LEN, 0, &name) != 0) {
		return;
	}
	if (name_only) {
		printf("%s\n", cli_clean(name, 0, c, sizeof(c)));
		return;
	}
	if (json_get_str(h, "kind", sizeof(k) - 1, 0, &kind) != 0) {
		kind = "?";
	}
	if (json_get_str(h, "agent", NAME_MAX_LEN, 0, &agent) != 0) {
		agent = "?";
	}
	json_get_bool(h, "online", &online);
	printf("%-24s %-5s %-24s %-8s %s\n", cli_clean(name, 0, c, sizeof(c)),
	    cli_clean(kind, 0, k, sizeof(k)), cli_clean(agent, 0, a, sizeof(a)),
	    online ? "online" : "offline", cli_labels(h, lb, sizeof(lb)));
}

int cli_cmd_ls(int argc, char **argv)
{
	struct cli_profile *p = NULL;
	const cJSON *hosts, *h;
	cJSON *resp = NULL;
	struct opts o;
	int r, ret = CLI_EXIT_FAIL;

	if ((r = parse_opts(argc, argv, OPT_NAMES, usage_ls, &o)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (session_get("ls", "/v1/hosts", &p, &resp) != CLI_EXIT_OK) {
		goto out;
	}
	if (json_get_arr(resp, "hosts", 100000, &hosts) != 0) {
		cli_fail("ls: the broker's answer is malformed");
		goto out;
	}
	if (!o.names) {
		printf("%-24s %-5s %-24s %-8s %s\n", "NAME", "KIND", "AGENT", "STATE", "LABELS");
	}
	cJSON_ArrayForEach(h, hosts) {
		print_host(h, o.names);
	}
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	cJSON_Delete(resp);
	cli_profile_free(p);
	return ret;
}

#define KEPT "; the session token is kept in the profile"

int cli_cmd_logout(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX], err[MSG_MAX];
	struct cli_profile *p = NULL;
	const char *why = NULL, *code = NULL, *msg = NULL;
	cJSON *resp = NULL;
	struct opts o;
	int status, r, ret = CLI_EXIT_FAIL;

	if ((r = parse_opts(argc, argv, 0, usage_logout, &o)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if ((ret = cli_session_load(dir, sizeof(dir), &p)) != CLI_EXIT_OK) {
		goto out;
	}
	ret = CLI_EXIT_FAIL;
	/* Unless the broker revoked the session or says it is void, keep the
	 * token so that logout can be retried. */
	if (call("logout", KEPT, p->broker, p->ca_pin, "POST", "/v1/logout", p->token, NULL,
	    &status, &resp) != 0) {
		goto out;
	}
	if (status != 200 && (why = token_refusal(resp)) == NULL) {
		refused("logout", KEPT, status, resp);
		goto out;
	}
	cli_profile_clear_session(p);
	if (cli_profile_save(dir, p, err, sizeof(err)) != 0) {
		cli_fail("cannot remove the session from the profile: %s", err);
		goto out;
	}
	if (why != NULL) {
		cli_http_error(resp, &code, &msg);
		printf("the session was already invalid on the broker (%s); removed it from the "
		    "profile\n", code);
	} else {
		printf("logged out\n");
	}
	fflush(stdout);
	ret = CLI_EXIT_OK;
out:
	cJSON_Delete(resp);
	cli_profile_free(p);
	return ret;
}
