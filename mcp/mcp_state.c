/*
 * mcp_state.c - sealed request state (mcp_state.h).
 *
 * Sealing prints the payload and, before anything is MACed, parses the
 * printout back with the bounds open() uses, so that whatever is sealed
 * also opens, to exactly the data it was given. Opening takes the text
 * apart with nothing but the strict base64url decoder (each byte string
 * has one encoding, so a changed character never decodes to the same
 * bytes) and compares MACs in constant time; only an authentic payload
 * reaches the JSON parser, and even that one goes through json_parse's
 * bounds.
 */
#include "mcp/mcp_state.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"

/* Domain separation: the MAC and the request hash say what they are for,
 * so neither can pass for another use of the same key or hash. */
#define STATE_MAC_LABEL "zt-mcp-state-v1"
#define STATE_REQ_LABEL "zt-mcp-request-v1"
#define STATE_VERSION 1
/* Base64url of an HMAC-SHA256 (32 bytes, unpadded). */
#define STATE_MAC_B64_LEN 43
/* Times are JSON integers, and cJSON prints a number with 15 significant
 * digits whenever those read back close enough: integers of at most 15
 * digits (until the year 31 million) are the ones printed exactly. */
#define STATE_TIME_MAX 999999999999999LL
/* The canonical encoding of sealed data, to compare it with what the
 * printout reads back as (json_canonical: at most a few times the JSON). */
#define STATE_CANON_MAX (8 * (size_t)MCP_STATE_MAX)
/* The canonical request may be larger than the message it came in (every
 * value gains a type and a length): twice the largest message. */
#define STATE_REQ_ENC_MAX (2 * (size_t)MCP_MSG_MAX)

static const char *const payload_keys[] = { "v", "exp", "who", "req", "data", NULL };

/* The hex SHA-256 of who's kind, a NUL and its name: the identity a state
 * is bound to. ZT_ERR_INVALID when either is not terminated. */
static int who_hash(const struct mcp_identity *who, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256_ctx c;
	size_t kl = strnlen(who->kind, sizeof(who->kind));
	size_t nl = strnlen(who->name, sizeof(who->name));
	int r;

	out[0] = '\0';
	if (kl == sizeof(who->kind) || nl == sizeof(who->name)) {
		return ZT_ERR_INVALID;
	}
	if ((r = crypto_sha256_begin(&c)) != 0) {
		return r;
	}
	crypto_sha256_update(&c, who->kind, kl + 1);   /* with its NUL */
	crypto_sha256_update(&c, who->name, nl);
	crypto_sha256_end(&c, out);
	return out[0] != '\0' ? 0 : ZT_ERR_CRYPTO;
}

/* HMAC-SHA256(key, label 0x00 payload) into mac. */
static int state_mac(const uint8_t key[MCP_STATE_KEY_LEN], const void *payload, size_t n,
    uint8_t mac[64])
{
	uint8_t *msg = NULL;
	size_t len = 0;
	int r;

	if ((msg = malloc(sizeof(STATE_MAC_LABEL) + n)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	memcpy(msg, STATE_MAC_LABEL, sizeof(STATE_MAC_LABEL));    /* with its NUL */
	memcpy(msg + sizeof(STATE_MAC_LABEL), payload, n);
	r = crypto_hmac("SHA256", key, MCP_STATE_KEY_LEN, msg, sizeof(STATE_MAC_LABEL) + n, mac,
	    &len);
	if (r == 0 && len != CRYPTO_SHA256_LEN) {
		r = ZT_ERR_CRYPTO;
	}
	free(msg);
	return r;
}

int mcp_state_request_hash(const char *method, const char *name, const cJSON *args,
    char out[65])
{
	uint8_t digest[CRYPTO_SHA256_LEN];
	struct buf *b = NULL;
	cJSON empty;
	int r = ZT_ERR_NOMEM;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	out[0] = '\0';
	if (method == NULL) {
		return ZT_ERR_INVALID;
	}
	/* No arguments hash as {}: a client may leave them out or send none. */
	if (args == NULL) {
		memset(&empty, 0, sizeof(empty));
		empty.type = cJSON_Object;
		args = &empty;
	}
	if ((b = buf_new(STATE_REQ_ENC_MAX)) != NULL &&
	    (r = buf_put_cstring(b, STATE_REQ_LABEL)) == 0 &&
	    (r = buf_put_cstring(b, method)) == 0 &&
	    (r = buf_put_cstring(b, name != NULL ? name : "")) == 0 &&
	    (r = json_canonical(b, args, MCP_JSON_DEPTH)) == 0) {
		crypto_sha256(buf_ptr(b), buf_len(b), digest);
		r = crypto_hex(digest, sizeof(digest), out, CRYPTO_SHA256_HEX_LEN + 1);
	}
	buf_free(b);
	return r;
}

/* data in json_canonical's encoding into *out (owned): ZT_ERR_TOO_LARGE
 * when it nests deeper than MCP_STATE_DEPTH, before any recursion past
 * that. */
static int canonical(const cJSON *data, struct buf **out)
{
	int r;

	if ((*out = buf_new(STATE_CANON_MAX)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = json_canonical(*out, data, MCP_STATE_DEPTH)) != 0) {
		buf_free(*out);
		*out = NULL;
	}
	return r;
}

/* Characters of the unpadded base64url of n bytes. */
static size_t b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int mcp_state_seal(const uint8_t key[MCP_STATE_KEY_LEN], const struct mcp_identity *who,
    const char *req_hash, int64_t now, int ttl_s, const cJSON *data, char **out)
{
	char who_hex[CRYPTO_SHA256_HEX_LEN + 1], *payload = NULL, *text = NULL;
	struct buf *given = NULL, *back = NULL;
	uint8_t mac[64];
	cJSON *p = NULL, *copy = NULL, *check = NULL;
	size_t plen, elen, tlen;
	int r = ZT_ERR_INVALID;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if (key == NULL || who == NULL || data == NULL || !crypto_sha256_hex_valid(req_hash) ||
	    ttl_s < 1 || ttl_s > MCP_STATE_TTL_MAX || now < 0 || now > STATE_TIME_MAX - ttl_s) {
		return ZT_ERR_INVALID;
	}
	/* First, bounded: data too deep is refused before anything recurses
	 * into it (copying, printing). */
	if ((r = who_hash(who, who_hex)) != 0 || (r = canonical(data, &given)) != 0) {
		goto out;
	}
	r = ZT_ERR_NOMEM;
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(p, "v", STATE_VERSION) == NULL ||
	    cJSON_AddNumberToObject(p, "exp", (double)(now + ttl_s)) == NULL ||
	    cJSON_AddStringToObject(p, "who", who_hex) == NULL ||
	    cJSON_AddStringToObject(p, "req", req_hash) == NULL ||
	    (copy = cJSON_Duplicate(data, 1)) == NULL ||
	    !cJSON_AddItemToObject(p, "data", copy)) {
		cJSON_Delete(copy);
		goto out;
	}
	if ((payload = json_print(p)) == NULL) {
		goto out;
	}
	plen = strlen(payload);
	/* What open() would refuse is not sealed: too long, too deep, a
	 * repeated key. */
	if ((r = json_parse(payload, plen, MCP_STATE_MAX, MCP_STATE_DEPTH + 1, &check)) != 0) {
		goto out;
	}
	/* Nor what would come back changed: cJSON prints NaN and infinity as
	 * null, and some numbers (2^53 - 1, 0.1 + 0.2) with 15 digits that
	 * read back as a neighbour. */
	if ((r = canonical(cJSON_GetObjectItemCaseSensitive(check, "data"), &back)) != 0) {
		goto out;
	}
	if (buf_len(back) != buf_len(given) ||
	    memcmp(buf_ptr(back), buf_ptr(given), buf_len(given)) != 0) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	elen = b64url_len(plen);
	tlen = elen + 1 + STATE_MAC_B64_LEN;
	if (tlen > MCP_STATE_MAX) {
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = state_mac(key, payload, plen, mac)) != 0) {
		goto out;
	}
	if ((text = malloc(tlen + 1)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if ((r = crypto_b64url(payload, plen, text, elen + 1)) != 0) {
		goto out;
	}
	text[elen] = '.';
	if ((r = crypto_b64url(mac, CRYPTO_SHA256_LEN, text + elen + 1, tlen - elen)) != 0) {
		goto out;
	}
	*out = text;
	text = NULL;
	r = 0;
out:
	free(text);
	cJSON_Delete(check);
	free(payload);
	cJSON_Delete(p);
	buf_free(back);
	buf_free(given);
	return r;
}

/*
 * The authentic payload p's fields: 0 with *who, *req borrowed from p, *exp
 * and *data (borrowed); ZT_ERR_INVALID if it is not a payload of this
 * version (a key that sealed something else).
 */
static int payload_fields(const cJSON *p, const char **who, const char **req, int64_t *exp,
    cJSON **data)
{
	int64_t v = 0;

	if (json_only_keys(p, payload_keys, NULL) != 0 ||
	    json_get_int(p, "v", STATE_VERSION, STATE_VERSION, &v) != 0 ||
	    json_get_int(p, "exp", 0, STATE_TIME_MAX, exp) != 0 ||
	    json_get_str(p, "who", CRYPTO_SHA256_HEX_LEN, 0, who) != 0 ||
	    json_get_str(p, "req", CRYPTO_SHA256_HEX_LEN, 0, req) != 0 ||
	    (*data = cJSON_GetObjectItemCaseSensitive(p, "data")) == NULL) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

int mcp_state_open(const uint8_t key[MCP_STATE_KEY_LEN], const struct mcp_identity *who,
    const char *req_hash, int64_t now, const char *text, cJSON **data)
{
	char who_hex[CRYPTO_SHA256_HEX_LEN + 1];
	const char *dot = NULL, *mac_text = NULL, *p_who = NULL, *p_req = NULL;
	uint8_t *payload = NULL, *mac = NULL, want[64];
	size_t n, plen = 0, mlen = 0;
	int64_t exp = 0;
	cJSON *p = NULL, *d = NULL;
	int r = ZT_ERR_INVALID;

	if (data == NULL) {
		return ZT_ERR_INVALID;
	}
	*data = NULL;
	if (key == NULL || who == NULL || text == NULL || !crypto_sha256_hex_valid(req_hash)) {
		return ZT_ERR_INVALID;
	}
	n = strnlen(text, MCP_STATE_MAX + 1);
	if (n == 0 || n > MCP_STATE_MAX) {
		return ZT_ERR_INVALID;
	}
	if ((dot = memchr(text, '.', n)) == NULL) {
		return ZT_ERR_INVALID;
	}
	mac_text = dot + 1;
	if (memchr(mac_text, '.', n - (size_t)(mac_text - text)) != NULL ||
	    n - (size_t)(mac_text - text) != STATE_MAC_B64_LEN) {
		return ZT_ERR_INVALID;
	}
	if ((r = crypto_b64url_decode(mac_text, STATE_MAC_B64_LEN, &mac, &mlen)) != 0 ||
	    (r = crypto_b64url_decode(text, (size_t)(dot - text), &payload, &plen)) != 0) {
		goto out;
	}
	r = ZT_ERR_INVALID;
	if (mlen != CRYPTO_SHA256_LEN || plen == 0) {
		goto out;
	}
	if ((r = state_mac(key, payload, plen, want)) != 0) {
		goto out;
	}
	if (!crypto_ct_equal(want, mac, CRYPTO_SHA256_LEN)) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	/* Authentic: the server wrote this payload. */
	if ((r = json_parse(payload, plen, MCP_STATE_MAX, MCP_STATE_DEPTH + 1, &p)) != 0) {
		r = r == ZT_ERR_NOMEM ? r : ZT_ERR_INVALID;
		goto out;
	}
	if ((r = payload_fields(p, &p_who, &p_req, &exp, &d)) != 0 ||
	    (r = who_hash(who, who_hex)) != 0) {
		goto out;
	}
	if (strcmp(p_who, who_hex) != 0) {
		r = ZT_ERR_DENIED;
	} else if (strcmp(p_req, req_hash) != 0) {
		r = ZT_ERR_MISMATCH;
	} else if (now >= exp) {
		r = ZT_ERR_EXPIRED;
	} else {
		*data = cJSON_DetachItemViaPointer(p, d);
		r = 0;
	}
out:
	/* The MAC this payload would need: of use to nobody but a forger. */
	crypto_wipe(want, sizeof(want));
	cJSON_Delete(p);
	free(payload);
	free(mac);
	return r;
}

const char *mcp_state_why(int err)
{
	switch (err) {
	case ZT_ERR_INVALID:
		return "forged or malformed";
	case ZT_ERR_DENIED:
		return "issued to another identity";
	case ZT_ERR_MISMATCH:
		return "issued for another request";
	case ZT_ERR_EXPIRED:
		return "expired";
	}
	return zt_strerror(err);
}
