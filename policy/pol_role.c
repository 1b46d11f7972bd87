/*
 * pol_role.c - parsing one role YAML document with libyaml's event API.
 *
 * The parser walks events in step with the schema (recursive descent over a
 * fixed shape: three levels of maps, a fourth only under options.approval),
 * so anything unexpected - an unknown key, a list where a map belongs, an
 * anchor - stops the walk at its own line before libyaml reads further.
 * JSON (pol_role_from_json) is YAML flow style, so the same walk loads
 * stored roles and every check lives in one place; the one difference is
 * that JSON has no unquoted words, so there options.mfa may be a string.
 */
#include "policy/pol_role.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/dur.h"
#include "common/err.h"
#include "policy/pol_priv.h"

/* A role printed as JSON may be longer than its YAML (quotes, escapes). */
#define POL_JSON_MAX (4 * POL_ROLE_MAX)

struct rp {
	yaml_parser_t parser;
	yaml_event_t ev;
	int have_ev;
	const char *fname;
	char *err;
	size_t errsz;
	struct pol_role *role;
	int json;                       /* reading pol_role_to_json's output */
	size_t key_line;                /* line of the key whose value is read */
};

/* The schema: each map's keys, in the order errors list them. The enums
 * index the arrays. */
enum { TOP_KIND, TOP_NAME, TOP_ALLOW, TOP_DENY, TOP_OPTIONS };
static const char *const top_keys[] = { "kind", "name", "allow", "deny", "options", NULL };
enum { SEC_HOSTS, SEC_LOGINS, SEC_TOOLS, SEC_COMMANDS, SEC_PATHS };
static const char *const sec_keys[] = { "hosts", "logins", "tools", "commands", "paths",
    NULL };
enum { OPT_TTL, OPT_ADMIN, OPT_SHELL, OPT_MFA, OPT_MFA_WINDOW, OPT_APPROVAL, OPT_JOB,
    OPT_AUDITOR, OPT_PORT_FWD, OPT_RECORD_INPUT, OPT_REDACT_INPUT };
static const char *const opt_keys[] = { "max_session_ttl", "admin", "shell", "mfa",
    "mfa_window", "approval", "max_job_duration", "auditor", "port_forwarding",
    "record_input", "redact_input", NULL };
enum { APPR_BY, APPR_TTL };
static const char *const appr_keys[] = { "by", "ttl", NULL };

/* Words of options values, indexed by their meaning (pol_mfa, booleans). */
static const char *const mfa_words[] = { "none", "per_session", "per_call", NULL };
static const char *const bool_words[] = { "false", "true", NULL };

/* What list entries must look like. */
enum item_kind {
	ITEM_GLOB,                      /* label values, logins, tools */
	ITEM_COMMAND,                   /* like a glob, with '/' */
	ITEM_PATH,                      /* pol_path_pattern_error */
	ITEM_ROLE,                      /* a role name, no wildcards */
};

/* Copies s for an error message: bounded, non-printable bytes as '?'. */
static void safe_copy(char *dst, size_t dstsz, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < dstsz; i++) {
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	dst[i] = '\0';
}

static size_t ev_line(const struct rp *s)
{
	return s->have_ev ? s->ev.start_mark.line + 1 : s->parser.mark.line + 1;
}

/* Formats "FILE:LINE: message" into the caller's buffer and returns code. */
static int rp_vfail(struct rp *s, size_t line, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int rp_fail(struct rp *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rp_fail_at(struct rp *s, size_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rp_vfail(struct rp *s, size_t line, int code, const char *fmt, va_list ap)
{
	char msg[POL_ERR_MAX];

	if (s->err != NULL && s->errsz > 0) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		snprintf(s->err, s->errsz, "%s:%zu: %s", s->fname, line, msg);
	}
	return code;
}

/* At the current event's line. */
static int rp_fail(struct rp *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = rp_vfail(s, ev_line(s), code, fmt, ap);
	va_end(ap);
	return code;
}

/* At a line read earlier: for checks made once a whole map has been read. */
static int rp_fail_at(struct rp *s, size_t line, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = rp_vfail(s, line, code, fmt, ap);
	va_end(ap);
	return code;
}

static const char *ev_kind(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT: return "a string";
	case YAML_SEQUENCE_START_EVENT: return "a list";
	case YAML_MAPPING_START_EVENT: return "a map";
	case YAML_DOCUMENT_START_EVENT: return "a document";
	default: return "end of input";
	}
}

/* Reads the next event, refusing aliases, anchors and explicit tags. */
static int rp_next(struct rp *s)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	int implicit = 1;

	if (s->have_ev) {
		yaml_event_delete(&s->ev);
		s->have_ev = 0;
	}
	if (!yaml_parser_parse(&s->parser, &s->ev)) {
		if (s->parser.error == YAML_MEMORY_ERROR) {
			return ZT_ERR_NOMEM;
		}
		if (s->err != NULL && s->errsz > 0) {
			snprintf(s->err, s->errsz, "%s:%zu: YAML syntax error: %s", s->fname,
			    s->parser.problem_mark.line + 1,
			    s->parser.problem != NULL ? s->parser.problem : "unknown");
		}
		return ZT_ERR_INVALID;
	}
	s->have_ev = 1;
	switch (s->ev.type) {
	case YAML_ALIAS_EVENT:
		return rp_fail(s, ZT_ERR_INVALID, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		anchor = s->ev.data.scalar.anchor;
		tag = s->ev.data.scalar.tag;
		implicit = s->ev.data.scalar.plain_implicit || s->ev.data.scalar.quoted_implicit;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = s->ev.data.sequence_start.anchor;
		tag = s->ev.data.sequence_start.tag;
		implicit = s->ev.data.sequence_start.implicit;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = s->ev.data.mapping_start.anchor;
		tag = s->ev.data.mapping_start.tag;
		implicit = s->ev.data.mapping_start.implicit;
		break;
	default:
		break;
	}
	if (anchor != NULL) {
		return rp_fail(s, ZT_ERR_INVALID, "anchors are not allowed");
	}
	if (tag != NULL || !implicit) {
		return rp_fail(s, ZT_ERR_INVALID, "tags are not allowed");
	}
	return 0;
}

/* The current event as a string of 1..POL_MAX_STR bytes without NUL
 * (borrowed from the event). */
static int rp_str(struct rp *s, const char *what, const char **out)
{
	const char *v = NULL;
	size_t len;

	if (s->ev.type != YAML_SCALAR_EVENT) {
		return rp_fail(s, ZT_ERR_TYPE, "%s must be a string, not %s", what,
		    ev_kind(s->ev.type));
	}
	v = (const char *)s->ev.data.scalar.value;
	len = s->ev.data.scalar.length;
	if (len > POL_MAX_STR) {
		return rp_fail(s, ZT_ERR_TOO_LARGE, "%s is longer than %d bytes", what,
		    POL_MAX_STR);
	}
	if (len == 0 || memchr(v, '\0', len) != NULL) {
		return rp_fail(s, ZT_ERR_INVALID, "%s must be a non-empty string", what);
	}
	*out = v;
	return 0;
}

static int key_index(const char *key, const char *const *keys)
{
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		if (strcmp(key, keys[i]) == 0) {
			return i;
		}
	}
	return -1;
}

static int unknown_key(struct rp *s, const char *key, const char *where,
    const char *const *keys)
{
	char shown[POL_NAME_MAX + 1], expected[192];
	size_t i, len = 0;

	expected[0] = '\0';
	/* Stops at the first key that would not fit (len never passes the end). */
	for (i = 0; keys[i] != NULL && len < sizeof(expected); i++) {
		int n = snprintf(expected + len, sizeof(expected) - len, "%s%s",
		    i > 0 ? ", " : "", keys[i]);

		len = n < 0 ? sizeof(expected) : len + (size_t)n;
	}
	safe_copy(shown, sizeof(shown), key);
	return rp_fail(s, ZT_ERR_INVALID, "unknown key \"%s\" in %s (expected %s)", shown,
	    where, expected);
}

static int valid_name(const char *s, int upper)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z');

		if (!ok && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
			return 0;
		}
	}
	return i >= 1 && i <= POL_NAME_MAX;
}

/* Printable ASCII without '\', '[' or ']' (so '*' and '?' are the only
 * wildcards), and without '/' unless slash_ok. */
static int valid_pattern(const char *s, int slash_ok)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e || (*s == '/' && !slash_ok) || *s == '\\' ||
		    *s == '[' || *s == ']') {
			return 0;
		}
	}
	return 1;
}

const char *pol_path_pattern_error(const char *p)
{
	const char *seg = NULL;
	size_t len;

	if (p == NULL || p[0] != '/') {
		return "not absolute (it must start with '/')";
	}
	if (!valid_pattern(p, 1)) {
		return "not printable ASCII without '\\', '[' or ']'";
	}
	if (strcmp(p, "/") == 0) {
		return NULL;
	}
	for (seg = p + 1;; seg += len + 1) {
		len = strcspn(seg, "/");
		if (len == 0) {
			return seg[0] == '\0' ? "it ends in '/'" : "an empty segment (\"//\")";
		}
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			return "a \".\" or \"..\" segment";
		}
		if (len != 2 && memmem(seg, len, "**", 2) != NULL) {
			return "\"**\" within a segment (only a whole segment)";
		}
		if (seg[len] == '\0') {
			return NULL;
		}
	}
}

/* One list entry (or label value) of the given kind, copied into *out. */
static int rp_item(struct rp *s, const char *what, enum item_kind kind, char **out)
{
	const char *v = NULL, *why = NULL;
	int r;

	if ((r = rp_str(s, what, &v)) != 0) {
		return r;
	}
	switch (kind) {
	case ITEM_GLOB:
	case ITEM_COMMAND:
		if (!valid_pattern(v, kind == ITEM_COMMAND)) {
			return rp_fail(s, ZT_ERR_INVALID, "%s: bad pattern (printable ASCII, "
			    "wildcards '*' and '?', no %s'\\', '[' or ']')", what,
			    kind == ITEM_COMMAND ? "" : "'/', ");
		}
		break;
	case ITEM_PATH:
		if ((why = pol_path_pattern_error(v)) != NULL) {
			return rp_fail(s, ZT_ERR_INVALID, "%s: bad path pattern: %s", what, why);
		}
		break;
	case ITEM_ROLE:
		if (!valid_name(v, 0)) {
			return rp_fail(s, ZT_ERR_INVALID, "%s: bad role name (expected "
			    "[a-z0-9][a-z0-9._-]{0,63})", what);
		}
		break;
	}
	if ((*out = strdup(v)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* Expects the current event to start a collection of the given type. */
static int rp_expect(struct rp *s, yaml_event_type_t t, const char *what)
{
	if (s->ev.type != t) {
		return rp_fail(s, ZT_ERR_TYPE, "%s must be %s, not %s", what, ev_kind(t),
		    ev_kind(s->ev.type));
	}
	return 0;
}

/* A list of entries of one kind; the current event is the value. Role
 * names may not repeat (an approver named twice is a slip, not a rule). */
static int rp_list(struct rp *s, const char *what, enum item_kind kind, char **items,
    size_t *n)
{
	size_t i;
	int r;

	if ((r = rp_expect(s, YAML_SEQUENCE_START_EVENT, what)) != 0) {
		return r;
	}
	for (;;) {
		if ((r = rp_next(s)) != 0) {
			return r;
		}
		if (s->ev.type == YAML_SEQUENCE_END_EVENT) {
			break;
		}
		if (*n >= POL_MAX_ITEMS) {
			return rp_fail(s, ZT_ERR_TOO_LARGE, "%s has more than %d entries", what,
			    POL_MAX_ITEMS);
		}
		if ((r = rp_item(s, what, kind, &items[*n])) != 0) {
			return r;
		}
		(*n)++;
		for (i = 0; kind == ITEM_ROLE && i + 1 < *n; i++) {
			if (strcmp(items[i], items[*n - 1]) == 0) {
				return rp_fail(s, ZT_ERR_INVALID, "duplicate role \"%s\" in %s",
				    items[i], what);
			}
		}
	}
	if (*n == 0) {
		return rp_fail(s, ZT_ERR_INVALID, "%s is empty (%s)", what,
		    kind == ITEM_ROLE ? "name at least one role" : "omit the key to match any");
	}
	return 0;
}

/* hosts: a map of label key -> value glob; the current event is the value. */
static int rp_hosts(struct rp *s, const char *what, struct pol_section *sec)
{
	const char *k = NULL;
	size_t i;
	int r;

	if ((r = rp_expect(s, YAML_MAPPING_START_EVENT, what)) != 0) {
		return r;
	}
	for (;;) {
		if ((r = rp_next(s)) != 0) {
			return r;
		}
		if (s->ev.type == YAML_MAPPING_END_EVENT) {
			break;
		}
		if ((r = rp_str(s, "a label key", &k)) != 0) {
			return r;
		}
		if (!valid_name(k, 1)) {
			return rp_fail(s, ZT_ERR_INVALID, "%s: bad label key (expected "
			    "[A-Za-z0-9][A-Za-z0-9._-]{0,63})", what);
		}
		for (i = 0; i < sec->nhosts; i++) {
			if (strcmp(sec->hkey[i], k) == 0) {
				return rp_fail(s, ZT_ERR_INVALID, "duplicate label \"%s\" in %s",
				    k, what);
			}
		}
		if (sec->nhosts >= POL_MAX_ITEMS) {
			return rp_fail(s, ZT_ERR_TOO_LARGE, "%s has more than %d labels", what,
			    POL_MAX_ITEMS);
		}
		if ((sec->hkey[sec->nhosts] = strdup(k)) == NULL) {
			return ZT_ERR_NOMEM;
		}
		sec->nhosts++;
		if ((r = rp_next(s)) != 0 ||
		    (r = rp_item(s, what, ITEM_GLOB, &sec->hval[sec->nhosts - 1])) != 0) {
			return r;
		}
	}
	if (sec->nhosts == 0) {
		return rp_fail(s, ZT_ERR_INVALID, "%s is empty (omit the key to match any)", what);
	}
	return 0;
}

/*
 * Walks a map whose keys come from keys[], refusing unknown and duplicate
 * ones; for each key, reads the value's first event and calls fn(s, index,
 * arg) with it current (and s->key_line the key's line). fn consumes the
 * whole value. Only value functions open further maps or lists, so the
 * schema alone fixes how deep a document may nest.
 */
typedef int (*rp_value_fn)(struct rp *s, int idx, void *arg);

static int rp_map(struct rp *s, const char *where, const char *const *keys, rp_value_fn fn,
    void *arg)
{
	unsigned seen = 0;
	int r, idx;

	if ((r = rp_expect(s, YAML_MAPPING_START_EVENT, where)) != 0) {
		return r;
	}
	for (;;) {
		const char *k = NULL;

		if ((r = rp_next(s)) != 0) {
			return r;
		}
		if (s->ev.type == YAML_MAPPING_END_EVENT) {
			return 0;
		}
		if ((r = rp_str(s, "a key", &k)) != 0) {
			return r;
		}
		if ((idx = key_index(k, keys)) < 0) {
			return unknown_key(s, k, where, keys);
		}
		if (seen & (1u << idx)) {
			return rp_fail(s, ZT_ERR_INVALID, "duplicate key \"%s\" in %s", keys[idx],
			    where);
		}
		seen |= 1u << idx;
		s->key_line = ev_line(s);
		if ((r = rp_next(s)) != 0 || (r = fn(s, idx, arg)) != 0) {
			return r;
		}
	}
}

struct sec_arg {
	struct pol_section *sec;
	const char *name;
};

static int sec_value(struct rp *s, int idx, void *arg)
{
	struct sec_arg *a = arg;
	struct pol_section *sec = a->sec;
	char what[32];

	snprintf(what, sizeof(what), "%s.%s", a->name, sec_keys[idx]);
	switch (idx) {
	case SEC_HOSTS:
		sec->has_hosts = 1;
		return rp_hosts(s, what, sec);
	case SEC_LOGINS:
		sec->has_logins = 1;
		return rp_list(s, what, ITEM_GLOB, sec->logins, &sec->nlogins);
	case SEC_TOOLS:
		sec->has_tools = 1;
		return rp_list(s, what, ITEM_GLOB, sec->tools, &sec->ntools);
	case SEC_COMMANDS:
		sec->has_commands = 1;
		return rp_list(s, what, ITEM_COMMAND, sec->commands, &sec->ncommands);
	default:
		sec->has_paths = 1;
		return rp_list(s, what, ITEM_PATH, sec->paths, &sec->npaths);
	}
}

/* One of words[], written plain (unquoted): "true" in quotes is a string
 * that only looks like a boolean, and YAML readers disagree on such
 * strings. Its index goes to *out. expected lists the words for messages.
 * JSON has no plain words but true and false, so a stored role may give a
 * non-boolean word as a JSON string (json_string_ok). */
static int rp_word(struct rp *s, const char *what, const char *const *words,
    const char *expected, int json_string_ok, int *out)
{
	const char *v = NULL;
	int idx, style_ok;

	if (s->ev.type != YAML_SCALAR_EVENT) {
		return rp_fail(s, ZT_ERR_TYPE, "%s must be %s, not %s", what, expected,
		    ev_kind(s->ev.type));
	}
	v = (const char *)s->ev.data.scalar.value;
	style_ok = s->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
	    (s->json && json_string_ok &&
	    s->ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	if (!style_ok || strlen(v) != s->ev.data.scalar.length ||
	    (idx = key_index(v, words)) < 0) {
		return rp_fail(s, ZT_ERR_INVALID, "%s must be %s (unquoted)", what, expected);
	}
	*out = idx;
	return 0;
}

/* options.admin, auditor, shell, port_forwarding, record_input and redact_input: true
 * or false. */
static int rp_bool(struct rp *s, const char *what, int *set, int *val)
{
	int r;

	if ((r = rp_word(s, what, bool_words, "true or false", 0, val)) == 0) {
		*set = 1;
	}
	return r;
}

/* A duration (common/dur.h) within [min_s, max_s]: seconds to *secs, the
 * text as written to *text (kept for pol_role_to_json). hint gives
 * examples and the bounds for the message. */
static int rp_dur(struct rp *s, const char *what, int64_t min_s, int64_t max_s,
    const char *hint, int64_t *secs, char **text)
{
	const char *v = NULL;
	int r;

	if ((r = rp_str(s, what, &v)) != 0) {
		return r;
	}
	if (dur_parse(v, min_s, max_s, secs) != 0) {
		return rp_fail(s, ZT_ERR_INVALID, "%s: bad duration (%s)", what, hint);
	}
	if ((*text = strdup(v)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

#define WINDOW_HINT "e.g. 5m, 1h; between 1m and 24h"

static int appr_value(struct rp *s, int idx, void *arg)
{
	struct pol_role *role = arg;

	if (idx == APPR_BY) {
		return rp_list(s, "options.approval.by", ITEM_ROLE, role->approvers,
		    &role->napprovers);
	}
	return rp_dur(s, "options.approval.ttl", POL_WINDOW_MIN_S, POL_WINDOW_MAX_S,
	    WINDOW_HINT, &role->approval_ttl, &role->approval_ttl_text);
}

/* options.approval: a map whose by is required. */
static int rp_approval(struct rp *s, struct pol_role *role)
{
	size_t line = s->key_line;
	int r;

	role->approval = 1;
	if ((r = rp_map(s, "options.approval", appr_keys, appr_value, role)) != 0) {
		return r;
	}
	if (role->napprovers == 0) {
		return rp_fail_at(s, line, ZT_ERR_INVALID, "options.approval needs by (the "
		    "roles whose holders may approve)");
	}
	if (role->approval_ttl_text == NULL) {
		role->approval_ttl = POL_APPROVAL_TTL_DEFAULT_S;
	}
	return 0;
}

static int opt_value(struct rp *s, int idx, void *arg)
{
	struct pol_role *role = arg;
	int mfa = 0, r;

	switch (idx) {
	case OPT_TTL:
		return rp_dur(s, "options.max_session_ttl", POL_TTL_MIN_S, POL_TTL_MAX_S,
		    "e.g. 30m, 8h, 7d; between 1m and 30d", &role->max_session_ttl,
		    &role->ttl_text);
	case OPT_ADMIN:
		return rp_bool(s, "options.admin", &role->admin_set, &role->admin);
	case OPT_AUDITOR:
		return rp_bool(s, "options.auditor", &role->auditor_set, &role->auditor);
	case OPT_SHELL:
		return rp_bool(s, "options.shell", &role->shell_set, &role->shell);
	case OPT_MFA:
		if ((r = rp_word(s, "options.mfa", mfa_words, "none, per_session or per_call",
		    1, &mfa)) != 0) {
			return r;
		}
		role->mfa_set = 1;
		role->mfa = (enum pol_mfa)mfa;
		return 0;
	case OPT_MFA_WINDOW:
		return rp_dur(s, "options.mfa_window", POL_WINDOW_MIN_S, POL_WINDOW_MAX_S,
		    WINDOW_HINT, &role->mfa_window, &role->mfa_window_text);
	case OPT_JOB:
		return rp_dur(s, "options.max_job_duration", POL_JOB_MIN_S, POL_JOB_MAX_S,
		    "e.g. 30m, 1h; between 10s and 24h", &role->max_job, &role->max_job_text);
	case OPT_PORT_FWD:
		return rp_bool(s, "options.port_forwarding", &role->port_forwarding_set,
		    &role->port_forwarding);
	case OPT_RECORD_INPUT:
		return rp_bool(s, "options.record_input", &role->record_input_set,
		    &role->record_input);
	case OPT_REDACT_INPUT:
		return rp_bool(s, "options.redact_input", &role->redact_input_set,
		    &role->redact_input);
	default:
		return rp_approval(s, role);
	}
}

/* options; the checks between keys wait until the whole map is read, so
 * the order of keys does not matter, and name the line of options. */
static int rp_options(struct rp *s, struct pol_role *role)
{
	size_t line = s->key_line;
	int r;

	if ((r = rp_map(s, "options", opt_keys, opt_value, role)) != 0) {
		return r;
	}
	if (role->mfa_window_text != NULL && role->mfa != POL_MFA_PER_SESSION) {
		return rp_fail_at(s, line, ZT_ERR_INVALID, "options.mfa_window needs "
		    "mfa: per_session (it sets how long a step-up lasts)");
	}
	if (role->mfa == POL_MFA_PER_SESSION && role->mfa_window_text == NULL) {
		role->mfa_window = POL_MFA_WINDOW_DEFAULT_S;
	}
	return 0;
}

static int top_value(struct rp *s, int idx, void *arg)
{
	struct pol_role *role = s->role;
	struct sec_arg a;
	const char *v = NULL;
	int r;

	switch (idx) {
	case TOP_KIND:
		if ((r = rp_str(s, "kind", &v)) != 0) {
			return r;
		}
		if (strcmp(v, "role") != 0) {
			return rp_fail(s, ZT_ERR_INVALID, "kind must be \"role\"");
		}
		*(int *)arg = 1;
		return 0;
	case TOP_NAME:
		if ((r = rp_str(s, "name", &v)) != 0) {
			return r;
		}
		if (!valid_name(v, 0)) {
			return rp_fail(s, ZT_ERR_INVALID, "bad name (expected "
			    "[a-z0-9][a-z0-9._-]{0,63})");
		}
		memcpy(role->name, v, strlen(v) + 1);
		return 0;
	case TOP_ALLOW:
	case TOP_DENY:
		a.sec = idx == TOP_ALLOW ? &role->allow : &role->deny;
		a.name = top_keys[idx];
		a.sec->present = 1;
		return rp_map(s, a.name, sec_keys, sec_value, &a);
	default:
		return rp_options(s, role);
	}
}

static int rp_document(struct rp *s)
{
	int r, seen_kind;

	if ((r = rp_next(s)) != 0) {
		return r;
	}
	if (s->ev.type != YAML_STREAM_START_EVENT) {
		return rp_fail(s, ZT_ERR_INTERNAL, "no stream start");
	}
	if ((r = rp_next(s)) != 0) {
		return r;
	}
	if (s->ev.type != YAML_DOCUMENT_START_EVENT) {
		return rp_fail(s, ZT_ERR_INVALID, "empty document (kind and name are required)");
	}
	if ((r = rp_next(s)) != 0) {
		return r;
	}
	if (s->ev.type == YAML_SCALAR_EVENT && s->ev.data.scalar.length == 0) {
		return rp_fail(s, ZT_ERR_INVALID, "empty document (kind and name are required)");
	}
	/* kind's value is checked in top_value; here only its presence. */
	seen_kind = 0;
	if ((r = rp_map(s, "role", top_keys, top_value, &seen_kind)) != 0) {
		return r;
	}
	if (!seen_kind) {
		return rp_fail(s, ZT_ERR_INVALID, "kind is required (kind: role)");
	}
	if (s->role->name[0] == '\0') {
		return rp_fail(s, ZT_ERR_INVALID, "name is required");
	}
	if ((r = rp_next(s)) != 0) {
		return r;
	}
	/* DOCUMENT_END, then nothing but the end of the stream. */
	if ((r = rp_next(s)) != 0) {
		return r;
	}
	if (s->ev.type != YAML_STREAM_END_EVENT) {
		return rp_fail(s, ZT_ERR_INVALID, "more than one document");
	}
	return 0;
}

static void list_free(char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i]);
	}
}

static void section_clear(struct pol_section *sec)
{
	list_free(sec->hkey, sec->nhosts);
	list_free(sec->hval, sec->nhosts);
	list_free(sec->logins, sec->nlogins);
	list_free(sec->tools, sec->ntools);
	list_free(sec->commands, sec->ncommands);
	list_free(sec->paths, sec->npaths);
}

void pol_role_free(struct pol_role *r)
{
	if (r == NULL) {
		return;
	}
	section_clear(&r->allow);
	section_clear(&r->deny);
	free(r->ttl_text);
	free(r->mfa_window_text);
	list_free(r->approvers, r->napprovers);
	free(r->approval_ttl_text);
	free(r->max_job_text);
	free(r);
}

/* json: p is pol_role_to_json's output (a larger limit, JSON strings for
 * words; see the top of this file). */
static int role_parse(const void *p, size_t n, int json, const char *fname,
    struct pol_role **out, char *err, size_t errsz)
{
	const size_t max = json ? POL_JSON_MAX : POL_ROLE_MAX;
	struct rp s;
	int r = ZT_ERR_INTERNAL;

	memset(&s, 0, sizeof(s));
	s.json = json;
	s.fname = fname != NULL ? fname : "role";
	s.err = err;
	s.errsz = errsz;
	if (out != NULL) {
		*out = NULL;
	}
	if (err != NULL && errsz > 0) {
		err[0] = '\0';
	}
	if (out == NULL || (p == NULL && n > 0)) {
		return rp_fail(&s, ZT_ERR_INVALID, "bad arguments");
	}
	if (n > max) {
		return rp_fail(&s, ZT_ERR_TOO_LARGE, "role is larger than %zu bytes", max);
	}
	if ((s.role = calloc(1, sizeof(*s.role))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!yaml_parser_initialize(&s.parser)) {
		pol_role_free(s.role);
		return ZT_ERR_NOMEM;
	}
	yaml_parser_set_input_string(&s.parser, n > 0 ? p : (const void *)"", n);
	if ((r = rp_document(&s)) != 0) {
		goto out;
	}
	*out = s.role;
	s.role = NULL;
	r = 0;
out:
	if (r == ZT_ERR_NOMEM && err != NULL && errsz > 0) {
		snprintf(err, errsz, "%s: out of memory", s.fname);
	}
	if (s.have_ev) {
		yaml_event_delete(&s.ev);
	}
	yaml_parser_delete(&s.parser);
	pol_role_free(s.role);
	return r;
}

int pol_role_parse(const void *p, size_t n, const char *fname, struct pol_role **out,
    char *err, size_t errsz)
{
	return role_parse(p, n, 0, fname, out, err, errsz);
}

const char *pol_role_name(const struct pol_role *r)
{
	return r != NULL ? r->name : "";
}

int64_t pol_role_max_job(const struct pol_role *r)
{
	return r == NULL ? 0 : r->max_job_text != NULL ? r->max_job : POL_JOB_DEFAULT_S;
}

int64_t pol_role_max_session_ttl(const struct pol_role *r)
{
	return r != NULL ? r->max_session_ttl : 0;
}

int pol_role_admin(const struct pol_role *r)
{
	return r != NULL && r->admin;
}

int pol_role_auditor(const struct pol_role *r)
{
	return r != NULL && r->auditor;
}

int pol_role_port_forwarding(const struct pol_role *r)
{
	return r != NULL && r->port_forwarding;
}

int pol_role_record_input(const struct pol_role *r)
{
	return r != NULL && r->record_input;
}

int pol_role_redact_input(const struct pol_role *r)
{
	return r != NULL && r->redact_input;
}

enum pol_mfa pol_role_mfa(const struct pol_role *r)
{
	return r != NULL ? r->mfa : POL_MFA_NONE;
}

const char *pol_mfa_name(enum pol_mfa m)
{
	return (unsigned)m < sizeof(mfa_words) / sizeof(mfa_words[0]) - 1 ? mfa_words[m] : "?";
}

static cJSON *list_json(char *const *items, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(items[i]))) {
			cJSON_Delete(a);
			a = NULL;
		}
	}
	return a;
}

static cJSON *section_json(const struct pol_section *sec)
{
	cJSON *o = cJSON_CreateObject(), *h = NULL;
	size_t i;

	if (o == NULL) {
		return NULL;
	}
	if (sec->has_hosts) {
		if ((h = cJSON_AddObjectToObject(o, "hosts")) == NULL) {
			goto fail;
		}
		for (i = 0; i < sec->nhosts; i++) {
			if (cJSON_AddStringToObject(h, sec->hkey[i], sec->hval[i]) == NULL) {
				goto fail;
			}
		}
	}
	if (sec->has_logins &&
	    !cJSON_AddItemToObject(o, "logins", list_json(sec->logins, sec->nlogins))) {
		goto fail;
	}
	if (sec->has_tools &&
	    !cJSON_AddItemToObject(o, "tools", list_json(sec->tools, sec->ntools))) {
		goto fail;
	}
	if (sec->has_commands &&
	    !cJSON_AddItemToObject(o, "commands", list_json(sec->commands, sec->ncommands))) {
		goto fail;
	}
	if (sec->has_paths &&
	    !cJSON_AddItemToObject(o, "paths", list_json(sec->paths, sec->npaths))) {
		goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* options, when the role gives any, as the author wrote them. */
static int options_json(const struct pol_role *r, cJSON *o)
{
	cJSON *opt = NULL, *ap = NULL;

	if (r->ttl_text == NULL && !r->admin_set && !r->auditor_set && !r->shell_set &&
	    !r->mfa_set && r->mfa_window_text == NULL && !r->approval &&
	    r->max_job_text == NULL && !r->port_forwarding_set && !r->record_input_set &&
	    !r->redact_input_set) {
		return 0;
	}
	if ((opt = cJSON_AddObjectToObject(o, "options")) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r->ttl_text != NULL &&
	    cJSON_AddStringToObject(opt, "max_session_ttl", r->ttl_text) == NULL) ||
	    (r->admin_set && cJSON_AddBoolToObject(opt, "admin", r->admin) == NULL) ||
	    (r->auditor_set && cJSON_AddBoolToObject(opt, "auditor", r->auditor) == NULL) ||
	    (r->shell_set && cJSON_AddBoolToObject(opt, "shell", r->shell) == NULL) ||
	    (r->mfa_set && cJSON_AddStringToObject(opt, "mfa", pol_mfa_name(r->mfa)) == NULL) ||
	    (r->mfa_window_text != NULL &&
	    cJSON_AddStringToObject(opt, "mfa_window", r->mfa_window_text) == NULL) ||
	    (r->max_job_text != NULL &&
	    cJSON_AddStringToObject(opt, "max_job_duration", r->max_job_text) == NULL) ||
	    (r->port_forwarding_set &&
	    cJSON_AddBoolToObject(opt, "port_forwarding", r->port_forwarding) == NULL) ||
	    (r->record_input_set &&
	    cJSON_AddBoolToObject(opt, "record_input", r->record_input) == NULL) ||
	    (r->redact_input_set &&
	    cJSON_AddBoolToObject(opt, "redact_input", r->redact_input) == NULL)) {
		return ZT_ERR_NOMEM;
	}
	if (!r->approval) {
		return 0;
	}
	if ((ap = cJSON_AddObjectToObject(opt, "approval")) == NULL ||
	    !cJSON_AddItemToObject(ap, "by", list_json(r->approvers, r->napprovers)) ||
	    (r->approval_ttl_text != NULL &&
	    cJSON_AddStringToObject(ap, "ttl", r->approval_ttl_text) == NULL)) {
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int pol_role_to_json(const struct pol_role *r, cJSON **out)
{
	cJSON *o = NULL;
	int ret = ZT_ERR_NOMEM;

	if (out != NULL) {
		*out = NULL;
	}
	if (r == NULL || out == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "kind", "role") == NULL ||
	    cJSON_AddStringToObject(o, "name", r->name) == NULL) {
		goto out;
	}
	if (r->allow.present && !cJSON_AddItemToObject(o, "allow", section_json(&r->allow))) {
		goto out;
	}
	if (r->deny.present && !cJSON_AddItemToObject(o, "deny", section_json(&r->deny))) {
		goto out;
	}
	if ((ret = options_json(r, o)) != 0) {
		goto out;
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	cJSON_Delete(o);
	return ret;
}

size_t pol_role_err_line(const char *err, const char *fname)
{
	const char *f = fname != NULL ? fname : "role", *p;
	size_t n = strlen(f), line = 0;

	if (err == NULL || strncmp(err, f, n) != 0 || err[n] != ':') {
		return 0;
	}
	/* rp_vfail's "%zu": digits, then ':'; an absurd count is none. */
	for (p = err + n + 1; *p >= '0' && *p <= '9' && line < POL_ROLE_MAX; p++) {
		line = line * 10 + (size_t)(*p - '0');
	}
	return p > err + n + 1 && *p == ':' && line <= POL_ROLE_MAX ? line : 0;
}

int pol_role_from_json(const cJSON *j, struct pol_role **out, char *err, size_t errsz)
{
	char *text = NULL;
	int r;

	if (out != NULL) {
		*out = NULL;
	}
	if (j == NULL || out == NULL) {
		if (err != NULL && errsz > 0) {
			snprintf(err, errsz, "role.json: bad arguments");
		}
		return ZT_ERR_INVALID;
	}
	if ((text = cJSON_PrintUnformatted(j)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = role_parse(text, strlen(text), 1, "role.json", out, err, errsz);
	free(text);
	return r;
}
