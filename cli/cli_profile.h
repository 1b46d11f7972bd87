/*
 * cli_profile.h - ztctl's saved profile: which broker, its CA pin, and the
 * current session.
 *
 * The profile lives in $ZT_HOME (default $HOME/.zt), a directory kept at mode
 * 0700, as profile.json (mode 0600):
 *   {"broker": "https://...", "ca_pin": "sha256:...", "user": "alice",
 *    "token": "zts_...", "roles": ["ops"], "expires_at": 1764000000}
 * broker and ca_pin are required; the session fields are absent when logged
 * out. Saving writes a temporary file and renames it, so a crash never
 * leaves half a profile. Loading refuses a file that group or other may
 * access, or that another user owns, and checks every field's type.
 */
#ifndef ZT_CLI_PROFILE_H
#define ZT_CLI_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define CLI_PROFILE_FILE "profile.json"
#define CLI_PROFILE_MAX (64 * 1024)  /* bytes of profile.json */
#define CLI_PROFILE_ROLES_MAX 64
#define CLI_PROFILE_STR_MAX 1024     /* bytes of any string field */
#define CLI_PROFILE_PATH_MAX 4096

struct cli_profile {
	char *broker;     /* required */
	char *ca_pin;     /* required */
	char *user;       /* NULL when unknown */
	char *token;      /* NULL when logged out; a secret */
	char **roles;     /* nroles strings */
	size_t nroles;
	int64_t expires_at; /* unix seconds; 0 when logged out */
};

/* The profile directory into out: $ZT_HOME, or $HOME/.zt. 0, ZT_ERR_NOT_FOUND
 * (neither variable set) or ZT_ERR_TOO_LARGE. */
int cli_profile_dir(char *out, size_t outsz);

/* The local user's name, as ssh takes it for a default login: $USER,
 * else the password file's, into out. 0 or ZT_ERR_NOT_FOUND (none, or
 * longer than outsz - 1). */
int cli_local_user(char *out, size_t outsz);

/* A new empty profile (all NULL/0); NULL on ENOMEM. */
struct cli_profile *cli_profile_new(void);
/* Wipes the token and frees; NULL is a no-op. */
void cli_profile_free(struct cli_profile *p);
/* Forgets the session (token wiped, user kept, roles and expiry cleared). */
void cli_profile_clear_session(struct cli_profile *p);
/* Replaces a string field (*field is one of p's strings) with a copy of v
 * (NULL clears it); the old value is wiped. 0 or ZT_ERR_NOMEM. */
int cli_profile_set(char **field, const char *v);
/* Replaces the roles with copies of roles[0..n). 0, ZT_ERR_NOMEM or
 * ZT_ERR_TOO_LARGE (n > CLI_PROFILE_ROLES_MAX). */
int cli_profile_set_roles(struct cli_profile *p, const char *const *roles, size_t n);

/* Loads dir/profile.json into *out (caller frees). ZT_ERR_NOT_FOUND when there
 * is none; otherwise errors come with one sentence for people in errbuf:
 * ZT_ERR_DENIED (group/other permission bits, or another owner), ZT_ERR_IO,
 * ZT_ERR_TOO_LARGE, ZT_ERR_INVALID / ZT_ERR_TYPE (bad JSON or field). */
int cli_profile_load(const char *dir, struct cli_profile **out, char *errbuf, size_t errsz);

/* Creates dir (0700, or tightens it to 0700 when it is ours and looser) and
 * atomically replaces dir/profile.json (0600) with p. broker and ca_pin must
 * be set. 0 or a negative ZT_ERR_* with a sentence in errbuf. */
int cli_profile_save(const char *dir, const struct cli_profile *p, char *errbuf, size_t errsz);

#endif
