/*
 * brk_users.c - users (and bots) as administrators manage them (brk_users.h).
 */
#include "broker/brk_users.h"

#include <stdio.h>
#include <string.h>

#include "broker/brk.h"
#include "common/err.h"
#include "common/json.h"

#define NAME_RULE "a name is 1 to 64 of [a-z0-9._-], starting with a letter or digit"

int brk_users_roles_valid(const char *roles)
{
	char copy[STORE_ROLES_MAX + 1], *save = NULL;

	if (roles == NULL || strlen(roles) > STORE_ROLES_MAX) {
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s", roles);
	if (copy[0] == '\0' || copy[strlen(copy) - 1] == ',' || strstr(copy, ",,") != NULL) {
		return 0;
	}
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (!store_name_valid(t)) {
			return 0;
		}
	}
	return 1;
}

const char *brk_users_state(const struct store_user *u, int64_t now)
{
	return u->locked ? "locked" : u->login.blocked_until > now ? "blocked" :
	    u->totp_active ? "active" : "invited";
}

/* 0 if name is a valid name of a what ("user", "bot"); else
 * ZT_ERR_INVALID with err filled. */
static int name_check(const char *what, const char *name, char *err, size_t errsz)
{
	if (!store_name_valid(name)) {
		snprintf(err, errsz, "invalid %s name: %s", what, NAME_RULE);
		return ZT_ERR_INVALID;
	}
	return 0;
}

/* The audit details {what: name}, or ZT_ERR_NOMEM with err filled. */
static int name_details(const char *what, const char *name, cJSON **details, char *err,
    size_t errsz)
{
	if ((*details = json_object_str(what, name)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	return 0;
}

int brk_users_add(struct store *st, enum store_principal kind, const char *name,
    const char *roles, int64_t now, cJSON **details, char *err, size_t errsz)
{
	const char *what = kind == STORE_BOT ? "bot" : "user";
	int64_t id = 0;
	int r;

	*details = NULL;
	if ((r = name_check(what, name, err, errsz)) != 0) {
		return r;
	}
	if (!brk_users_roles_valid(roles)) {
		snprintf(err, errsz, "roles are names of a-z, 0-9, . _ - separated by commas "
		    "(R1,R2)");
		return ZT_ERR_INVALID;
	}
	r = kind == STORE_BOT ? store_bot_add(st, name, roles, now, &id) :
	    store_user_add(st, name, roles, now, &id);
	if (r == ZT_ERR_EXISTS) {
		snprintf(err, errsz, "a user or bot named %s already exists", name);
		return r;
	}
	if (r != 0) {
		snprintf(err, errsz, "cannot add %s %s: %s", what, name, zt_strerror(r));
		return r;
	}
	if ((r = name_details(what, name, details, err, errsz)) == 0 &&
	    cJSON_AddStringToObject(*details, "roles", roles) == NULL) {
		cJSON_Delete(*details);
		*details = NULL;
		snprintf(err, errsz, "out of memory");
		r = ZT_ERR_NOMEM;
	}
	return r;
}

int brk_users_invite(struct store *st, struct ca *ca, const char *name, int reset,
    int64_t now, struct brk_invite *inv, cJSON **details, char *err, size_t errsz)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct store_user u;
	int r;

	memset(inv, 0, sizeof(*inv));
	*details = NULL;
	if ((r = name_check("user", name, err, errsz)) != 0) {
		return r;
	}
	memset(&u, 0, sizeof(u));
	r = store_user_get(st, name, &u);
	store_user_wipe(&u);
	if (r != 0) {
		snprintf(err, errsz, r == ZT_ERR_NOT_FOUND ? "no user %s" : "cannot look user %s up",
		    name);
		return r;
	}
	if ((r = crypto_token_new("zti_", inv->token, sizeof(inv->token))) != 0 ||
	    (r = ca_pin(ca, inv->pin, sizeof(inv->pin))) != 0) {
		snprintf(err, errsz, "cannot create an invite: %s", zt_strerror(r));
		goto out;
	}
	crypto_token_hash(inv->token, hash);
	inv->expires_at = now + BRK_INVITE_TTL;
	r = reset ? store_user_reset(st, name, now, hash, inv->expires_at, &inv->revoked) :
	    store_invite_add(st, hash, u.id, inv->expires_at);
	if (r == ZT_ERR_EXISTS && !reset) {
		snprintf(err, errsz, "%s is enrolled: an invite would let its holder replace the "
		    "password and TOTP. To enrol %s again, run: users reset %s (clears both and "
		    "revokes their sessions)", name, name, name);
		goto out;
	}
	if (r != 0) {
		snprintf(err, errsz, "cannot create an invite: %s", zt_strerror(r));
		goto out;
	}
	if ((r = name_details("user", name, details, err, errsz)) == 0 && reset &&
	    cJSON_AddNumberToObject(*details, "sessions_revoked", inv->revoked) == NULL) {
		cJSON_Delete(*details);
		*details = NULL;
		snprintf(err, errsz, "out of memory");
		r = ZT_ERR_NOMEM;
	}
out:
	if (r != 0) {
		crypto_wipe(inv->token, sizeof(inv->token));
	}
	return r;
}

int brk_users_enrol_command(const struct brk_invite *inv, const char *broker, char *out,
    size_t outsz)
{
	int n = snprintf(out, outsz, "ztctl enroll --broker %s --ca-pin %s --invite %s", broker,
	    inv->pin, inv->token);

	return n < 0 || (size_t)n >= outsz ? ZT_ERR_TOO_LARGE : 0;
}

int brk_users_set_locked(struct store *st, const char *name, int lock, int64_t now,
    cJSON **details, char *err, size_t errsz)
{
	int r;

	*details = NULL;
	if ((r = name_check("user", name, err, errsz)) != 0) {
		return r;
	}
	if ((r = store_user_set_locked(st, name, lock, now)) != 0) {
		if (r == ZT_ERR_NOT_FOUND) {
			snprintf(err, errsz, "no user %s", name);
		} else {
			snprintf(err, errsz, "cannot %s user %s: %s", lock ? "lock" : "unlock", name,
			    zt_strerror(r));
		}
		return r;
	}
	return name_details("user", name, details, err, errsz);
}

int brk_users_rm(struct store *st, enum store_principal kind, const char *name,
    cJSON **details, char *err, size_t errsz)
{
	const char *what = kind == STORE_BOT ? "bot" : "user";
	int r;

	*details = NULL;
	if ((r = name_check(what, name, err, errsz)) != 0) {
		return r;
	}
	r = kind == STORE_BOT ? store_bot_rm(st, name) : store_user_rm(st, name);
	if (r == ZT_ERR_NOT_FOUND) {
		snprintf(err, errsz, "no %s %s", what, name);
		return r;
	}
	if (r != 0) {
		snprintf(err, errsz, "cannot remove %s %s: %s", what, name, zt_strerror(r));
		return r;
	}
	return name_details(what, name, details, err, errsz);
}
