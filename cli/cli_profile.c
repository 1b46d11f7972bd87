/*
 * cli_profile.c - loading and saving ztctl's profile ($ZT_HOME/profile.json).
 *
 * The profile holds a bearer token, so it is treated like an SSH private
 * key: the directory is 0700, the file 0600 and owned by us, and a file that
 * others could read is refused rather than used (its token may already have
 * leaked; the message says how to fix the mode). Writes go to a temporary
 * file in the same directory that is fsynced and renamed over the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_profile.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/file.h"
#include "common/net.h"
#include "common/json.h"
#include "common/tls.h"

int cli_profile_dir(char *out, size_t outsz)
{
	const char *zh = getenv("ZT_HOME"), *home = getenv("HOME");
	int n;

	if (zh != NULL && zh[0] != '\0') {
		n = snprintf(out, outsz, "%s", zh);
	} else if (home != NULL && home[0] != '\0') {
		n = snprintf(out, outsz, "%s/.zt", home);
	} else {
		return ZT_ERR_NOT_FOUND;
	}
	return n < 0 || (size_t)n >= outsz ? ZT_ERR_TOO_LARGE : 0;
}

struct cli_profile *cli_profile_new(void)
{
	return calloc(1, sizeof(struct cli_profile));
}

static void free_roles(struct cli_profile *p)
{
	size_t i;

	for (i = 0; i < p->nroles; i++) {
		free(p->roles[i]);
	}
	free(p->roles);
	p->roles = NULL;
	p->nroles = 0;
}

void cli_profile_clear_session(struct cli_profile *p)
{
	if (p == NULL) {
		return;
	}
	crypto_free_str(p->token);
	p->token = NULL;
	free_roles(p);
	p->expires_at = 0;
}

void cli_profile_free(struct cli_profile *p)
{
	if (p == NULL) {
		return;
	}
	cli_profile_clear_session(p);
	free(p->broker);
	free(p->ca_pin);
	free(p->user);
	free(p);
}

int cli_profile_set(char **field, const char *v)
{
	char *copy = NULL;

	if (v != NULL && (copy = strdup(v)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	crypto_free_str(*field);
	*field = copy;
	return 0;
}

int cli_profile_set_roles(struct cli_profile *p, const char *const *roles, size_t n)
{
	char **v = NULL;
	size_t i;

	if (n > CLI_PROFILE_ROLES_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(roles[i])) == NULL) {
			while (i > 0) {
				free(v[--i]);
			}
			free(v);
			return ZT_ERR_NOMEM;
		}
	}
	free_roles(p);
	p->roles = v;
	p->nroles = n;
	return 0;
}

/* An optional string field copied into *dst; required ones must be present. */
static int get_str(const cJSON *obj, const char *key, int required, char **dst, char *errbuf,
    size_t errsz, const char *path)
{
	const char *v = NULL;
	int r;

	r = json_get_str(obj, key, CLI_PROFILE_STR_MAX, 0, &v);
	if (r == ZT_ERR_NOT_FOUND && !required) {
		return 0;
	}
	if (r != 0) {
		snprintf(errbuf, errsz, "%s: field \"%s\" is %s", path, key,
		    r == ZT_ERR_NOT_FOUND ? "missing" : "not a valid string");
		return r;
	}
	return cli_profile_set(dst, v);
}

static int profile_from_json(const cJSON *obj, struct cli_profile *p, char *errbuf, size_t errsz,
    const char *path)
{
	static const char *const keys[] = {"broker", "ca_pin", "user", "token", "roles",
	    "expires_at", NULL};
	const char *roles[CLI_PROFILE_ROLES_MAX];
	const cJSON *arr = NULL, *it;
	const char *bad = NULL;
	size_t n = 0;
	int r;

	if (!cJSON_IsObject(obj)) {
		snprintf(errbuf, errsz, "%s: not a JSON object", path);
		return ZT_ERR_TYPE;
	}
	if (json_only_keys(obj, keys, &bad) != 0) {
		snprintf(errbuf, errsz, "%s: unknown field \"%s\"", path, bad != NULL ? bad : "?");
		return ZT_ERR_INVALID;
	}
	if ((r = get_str(obj, "broker", 1, &p->broker, errbuf, errsz, path)) != 0 ||
	    (r = get_str(obj, "ca_pin", 1, &p->ca_pin, errbuf, errsz, path)) != 0 ||
	    (r = get_str(obj, "user", 0, &p->user, errbuf, errsz, path)) != 0 ||
	    (r = get_str(obj, "token", 0, &p->token, errbuf, errsz, path)) != 0) {
		return r;
	}
	if (tls_pin_valid(p->ca_pin) != 0) {
		snprintf(errbuf, errsz, "%s: field \"ca_pin\" is not a valid pin", path);
		return ZT_ERR_INVALID;
	}
	r = json_get_int(obj, "expires_at", 0, INT64_MAX, &p->expires_at);
	if (r != 0 && r != ZT_ERR_NOT_FOUND) {
		snprintf(errbuf, errsz, "%s: field \"expires_at\" is not a valid time", path);
		return r;
	}
	r = json_get_arr(obj, "roles", CLI_PROFILE_ROLES_MAX, &arr);
	if (r == ZT_ERR_NOT_FOUND) {
		return 0;
	}
	if (r != 0) {
		snprintf(errbuf, errsz, "%s: field \"roles\" is not a list of at most %d names", path,
		    CLI_PROFILE_ROLES_MAX);
		return r;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    strlen(it->valuestring) > CLI_PROFILE_STR_MAX || n >= CLI_PROFILE_ROLES_MAX) {
			snprintf(errbuf, errsz, "%s: field \"roles\" holds something other than "
			    "role names", path);
			return ZT_ERR_TYPE;
		}
		roles[n++] = it->valuestring;
	}
	return cli_profile_set_roles(p, roles, n);
}

int cli_profile_load(const char *dir, struct cli_profile **out, char *errbuf, size_t errsz)
{
	char path[CLI_PROFILE_PATH_MAX];
	struct cli_profile *p = NULL;
	struct stat st;
	cJSON *obj = NULL;
	char *text = NULL;
	size_t len = 0;
	ssize_t got;
	int fd = -1, r, n;

	*out = NULL;
	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir, CLI_PROFILE_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		r = ZT_ERR_TOO_LARGE;
		snprintf(errbuf, errsz, "profile path too long");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = errno == ENOENT ? ZT_ERR_NOT_FOUND : ZT_ERR_IO;
		snprintf(errbuf, errsz, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = ZT_ERR_IO;
		snprintf(errbuf, errsz, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = ZT_ERR_DENIED;
		snprintf(errbuf, errsz, "%s belongs to another user (uid %u); refusing to use it",
		    path, (unsigned)st.st_uid);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = ZT_ERR_DENIED;
		snprintf(errbuf, errsz, "%s is accessible by group or others (mode %04o); it holds "
		    "a session token: run chmod 600 %s and consider ztctl logout", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size > CLI_PROFILE_MAX) {
		r = ZT_ERR_TOO_LARGE;
		snprintf(errbuf, errsz, "%s is larger than %d bytes", path, CLI_PROFILE_MAX);
		goto out;
	}
	if ((text = malloc(CLI_PROFILE_MAX + 1)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	/* Read to EOF; one byte more than the limit tells a file that grew. */
	for (;;) {
		got = read(fd, text + len, CLI_PROFILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			r = ZT_ERR_IO;
			snprintf(errbuf, errsz, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0) {
			break;
		}
		len += (size_t)got;
		if (len > CLI_PROFILE_MAX) {
			r = ZT_ERR_TOO_LARGE;
			snprintf(errbuf, errsz, "%s is larger than %d bytes", path, CLI_PROFILE_MAX);
			goto out;
		}
	}
	if ((r = json_parse(text, len, CLI_PROFILE_MAX, JSON_DEFAULT_DEPTH, &obj)) != 0) {
		snprintf(errbuf, errsz, "%s is not valid JSON (%s)", path, zt_strerror(r));
		goto out;
	}
	if ((p = cli_profile_new()) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	if ((r = profile_from_json(obj, p, errbuf, errsz, path)) != 0) {
		goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (text != NULL) {
		crypto_free_secret(text, CLI_PROFILE_MAX + 1);
	}
	if (obj != NULL) {
		/* The tree holds the token too. */
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "token");

		if (cJSON_IsString(t)) {
			crypto_wipe(t->valuestring, strlen(t->valuestring));
		}
		cJSON_Delete(obj);
	}
	cli_profile_free(p);
	return r;
}

/* Creates dir 0700, or tightens an existing one of ours to 0700. */
static int ensure_dir(const char *dir, char *errbuf, size_t errsz)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(errbuf, errsz, "cannot create %s: %s", dir, strerror(errno));
		return ZT_ERR_IO;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errsz, "%s is not a directory", dir);
		return ZT_ERR_IO;
	}
	if (st.st_uid != geteuid()) {
		snprintf(errbuf, errsz, "%s belongs to another user (uid %u)", dir,
		    (unsigned)st.st_uid);
		return ZT_ERR_DENIED;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
		snprintf(errbuf, errsz, "cannot make %s private (chmod 700): %s", dir,
		    strerror(errno));
		return ZT_ERR_IO;
	}
	return 0;
}

static cJSON *profile_to_json(const struct cli_profile *p)
{
	cJSON *obj = NULL, *roles;
	size_t i;

	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "broker", p->broker) == NULL ||
	    cJSON_AddStringToObject(obj, "ca_pin", p->ca_pin) == NULL) {
		goto fail;
	}
	if (p->user != NULL && cJSON_AddStringToObject(obj, "user", p->user) == NULL) {
		goto fail;
	}
	if (p->token != NULL) {
		if (cJSON_AddStringToObject(obj, "token", p->token) == NULL ||
		    (roles = cJSON_AddArrayToObject(obj, "roles")) == NULL ||
		    cJSON_AddNumberToObject(obj, "expires_at", (double)p->expires_at) == NULL) {
			goto fail;
		}
		for (i = 0; i < p->nroles; i++) {
			if (!cJSON_AddItemToArray(roles, cJSON_CreateString(p->roles[i]))) {
				goto fail;
			}
		}
	}
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

int cli_profile_save(const char *dir, const struct cli_profile *p, char *errbuf, size_t errsz)
{
	char path[CLI_PROFILE_PATH_MAX];
	cJSON *obj = NULL, *t;
	char *text = NULL;
	int r, n;

	if (errsz > 0) {
		errbuf[0] = '\0';
	}
	if (p == NULL || p->broker == NULL || tls_pin_valid(p->ca_pin) != 0) {
		r = ZT_ERR_INVALID;
		snprintf(errbuf, errsz, "a profile needs a broker URL and a valid CA pin");
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir, CLI_PROFILE_FILE);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		r = ZT_ERR_TOO_LARGE;
		snprintf(errbuf, errsz, "profile path too long");
		goto out;
	}
	if ((r = ensure_dir(dir, errbuf, errsz)) != 0) {
		goto out;
	}
	if ((obj = profile_to_json(p)) == NULL || (text = cJSON_Print(obj)) == NULL) {
		r = ZT_ERR_NOMEM;
		snprintf(errbuf, errsz, "out of memory");
		goto out;
	}
	/* The text's NUL becomes the file's last newline. */
	n = (int)strlen(text);
	text[n] = '\n';
	r = file_write_atomic(path, text, (size_t)n + 1, 0600, errbuf, errsz);
	text[n] = '\0';
out:
	crypto_free_str(text);
	if (obj != NULL) {
		t = cJSON_GetObjectItemCaseSensitive(obj, "token");
		if (cJSON_IsString(t)) {
			crypto_wipe(t->valuestring, strlen(t->valuestring));
		}
		cJSON_Delete(obj);
	}
	return r;
}

int cli_local_user(char *out, size_t outsz)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if ((u == NULL || u[0] == '\0') && (pw = getpwuid(getuid())) != NULL) {
		u = pw->pw_name;
	}
	if (u == NULL || u[0] == '\0' || strlen(u) >= outsz) {
		return ZT_ERR_NOT_FOUND;
	}
	snprintf(out, outsz, "%s", u);
	return 0;
}
