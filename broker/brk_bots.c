/*
 * brk_bots.c - bot tokens (brk_bots.h).
 */
#include "broker/brk_bots.h"

#include <stdio.h>
#include <string.h>

#include "broker/brk_policy.h"
#include "common/err.h"

/* Looks bot name up: 0, or an error with err filled. */
static int bot_get(struct store *st, const char *name, struct store_bot *bot, char *err,
    size_t errsz)
{
	int r = store_bot_get(st, name, bot);

	if (r != 0) {
		snprintf(err, errsz, r == ZT_ERR_NOT_FOUND ? "no bot %.64s" :
		    "cannot look bot %.64s up", name);
	}
	return r;
}

int brk_bots_token(struct store *st, struct brk_roles *rc, const char *name, int64_t now,
    int64_t ttl, int rotate, struct brk_bot_minted *m, cJSON **details, char *err,
    size_t errsz)
{
	struct store_session s;
	struct store_bot bot;
	cJSON *d = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	memset(&s, 0, sizeof(s));
	*details = NULL;
	if (ttl < 1 || ttl > BRK_BOT_TTL_MAX) {
		snprintf(err, errsz, "a bot token lives 1s to 7d");
		return ZT_ERR_INVALID;
	}
	if ((r = bot_get(st, name, &bot, err, errsz)) != 0) {
		return r;
	}
	if ((r = brk_policy_session_ttl(rc, bot.roles, ttl, &m->ttl, m->capped_by,
	    sizeof(m->capped_by))) != 0) {
		snprintf(err, errsz, "cannot read the roles of bot %s: %s", name, zt_strerror(r));
		return r;
	}
	if ((r = crypto_token_new("ztb_", m->token, sizeof(m->token))) != 0) {
		snprintf(err, errsz, "cannot make a token: %s", zt_strerror(r));
		goto out;
	}
	crypto_token_hash(m->token, s.token_hash);
	s.kind = STORE_BOT;
	s.principal_id = bot.id;
	s.created_at = now;
	s.expires_at = now + m->ttl;
	snprintf(s.source, sizeof(s.source), "local");
	r = rotate ? store_session_replace(st, &s) : store_session_add(st, &s);
	if (r < 0) {
		snprintf(err, errsz, "cannot store the token: %s", zt_strerror(r));
		goto out;
	}
	m->revoked = rotate ? r : 0;
	r = 0;
	/* The hash prefix names the token in later events; it cannot be
	 * turned back into the token. */
	snprintf(m->id, sizeof(m->id), "%.*s", BRK_BOT_ID_LEN, s.token_hash);
	m->expires_at = s.expires_at;
	if ((d = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(d, "bot", name) == NULL ||
	    cJSON_AddNumberToObject(d, "expires_at", (double)m->expires_at) == NULL ||
	    cJSON_AddStringToObject(d, "session", m->id) == NULL ||
	    (m->capped_by[0] != '\0' &&
	    cJSON_AddStringToObject(d, "ttl_capped_by", m->capped_by) == NULL) ||
	    (rotate && cJSON_AddNumberToObject(d, "revoked", m->revoked) == NULL)) {
		snprintf(err, errsz, "out of memory");
		r = ZT_ERR_NOMEM;
		goto out;
	}
	*details = d;
	d = NULL;
out:
	cJSON_Delete(d);
	if (r != 0) {
		crypto_wipe(m->token, sizeof(m->token));
	}
	return r;
}

int brk_bots_revoke(struct store *st, const char *name, const char *id, int64_t now,
    cJSON **details, char *err, size_t errsz)
{
	struct store_bot bot;
	cJSON *d = NULL;
	int r;

	*details = NULL;
	if ((r = bot_get(st, name, &bot, err, errsz)) != 0) {
		return r;
	}
	switch ((r = store_session_revoke_prefix(st, STORE_BOT, bot.id, id, now))) {
	case 0:
		break;
	case ZT_ERR_INVALID:
		snprintf(err, errsz, "a token's id is 12 to 64 lower-case hex digits (bots tokens "
		    "%s lists them)", name);
		return r;
	case ZT_ERR_NOT_FOUND:
		snprintf(err, errsz, "bot %s has no live token %.64s", name, id);
		return r;
	case ZT_ERR_EXISTS:
		snprintf(err, errsz, "several tokens of bot %s start with %.64s: give more digits",
		    name, id);
		return r;
	default:
		snprintf(err, errsz, "cannot revoke the token: %s", zt_strerror(r));
		return r;
	}
	if ((d = cJSON_CreateObject()) == NULL || cJSON_AddStringToObject(d, "bot", name) == NULL ||
	    cJSON_AddStringToObject(d, "session", id) == NULL) {
		cJSON_Delete(d);
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	*details = d;
	return 0;
}

int brk_bots_tokens(struct store *st, const char *name, int64_t now,
    int (*fn)(const struct store_session *s, void *arg), void *arg, char *err, size_t errsz)
{
	struct store_bot bot;
	int r;

	if ((r = bot_get(st, name, &bot, err, errsz)) != 0) {
		return r;
	}
	if ((r = store_session_each(st, STORE_BOT, bot.id, now, fn, arg)) < 0) {
		snprintf(err, errsz, "cannot list the tokens: %s", zt_strerror(r));
	}
	return r;
}
