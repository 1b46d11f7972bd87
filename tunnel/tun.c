/*
 * tun.c - the agent tunnel's wire protocol: an incremental frame reader,
 * the frame encoder, and the control messages with their field rules.
 *
 * Every message type is a list of fields from one table; each field names
 * its JSON key, where it lives in struct tun_msg, its length limit and its
 * syntax check. The decoder and the encoder walk the same table, so a
 * message one side can send is one the other side accepts.
 */
#include "tunnel/tun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/name.h"
#include "common/tls.h"

/* ---- frames ---- */

struct tun_reader {
	uint8_t hdr[TUN_HDR_LEN];
	size_t nhdr;          /* header bytes seen of the current frame */
	size_t want;          /* body length, once the header is complete */
	struct buf *body;     /* at most TUN_FRAME_MAX bytes */
	int ready;            /* body holds a complete frame */
	int err;              /* sticky error; 0 while healthy */
};

int tun_reader_new(struct tun_reader **out)
{
	struct tun_reader *r = NULL;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r->body = buf_new(TUN_FRAME_MAX)) == NULL) {
		free(r);
		return ZT_ERR_NOMEM;
	}
	*out = r;
	return 0;
}

void tun_reader_free(struct tun_reader *r)
{
	if (r == NULL) {
		return;
	}
	buf_free(r->body);
	crypto_wipe(r, sizeof(*r));
	free(r);
}

int tun_reader_feed(struct tun_reader *r, const void *p, size_t n, size_t *used)
{
	const uint8_t *in = p;
	size_t off = 0, take;
	int ret = 0;

	if (used != NULL) {
		*used = 0;
	}
	if (r == NULL || used == NULL || (p == NULL && n != 0)) {
		return ZT_ERR_INVALID;
	}
	if (r->err != 0) {
		return r->err;
	}
	if (r->ready) {
		buf_reset(r->body);
		r->ready = 0;
		r->nhdr = 0;
		r->want = 0;
	}
	if (r->nhdr < TUN_HDR_LEN) {
		take = TUN_HDR_LEN - r->nhdr;
		take = take < n ? take : n;
		if (take == 0) {
			goto out;
		}
		memcpy(r->hdr + r->nhdr, in, take);
		r->nhdr += take;
		off += take;
		if (r->nhdr < TUN_HDR_LEN) {
			goto out;
		}
		r->want = (size_t)r->hdr[0] << 24 | (size_t)r->hdr[1] << 16 |
		    (size_t)r->hdr[2] << 8 | (size_t)r->hdr[3];
		if (r->want == 0) {
			ret = r->err = ZT_ERR_PROTOCOL;
			goto out;
		}
		if (r->want > TUN_FRAME_MAX) {
			ret = r->err = ZT_ERR_TOO_LARGE;
			goto out;
		}
	}
	take = r->want - buf_len(r->body);
	take = take < n - off ? take : n - off;
	if (take > 0 && (ret = buf_put(r->body, in + off, take)) != 0) {
		r->err = ret;
		goto out;
	}
	off += take;
	if (buf_len(r->body) == r->want) {
		r->ready = 1;
		ret = 1;
	}
out:
	*used = off;
	return ret;
}

int tun_reader_frame(const struct tun_reader *r, const uint8_t **p, size_t *n)
{
	if (r == NULL || p == NULL || n == NULL) {
		return ZT_ERR_INVALID;
	}
	*p = NULL;
	*n = 0;
	if (!r->ready) {
		return ZT_ERR_NOT_FOUND;
	}
	*p = buf_ptr(r->body);
	*n = buf_len(r->body);
	return 0;
}

int tun_reader_eof(const struct tun_reader *r)
{
	if (r == NULL) {
		return ZT_ERR_INVALID;
	}
	if (r->err != 0) {
		return r->err;
	}
	return r->ready || r->nhdr == 0 ? 0 : ZT_ERR_TRUNCATED;
}

int tun_frame_encode(const cJSON *msg, struct buf *out)
{
	uint8_t *frame = NULL;
	char *json = NULL;
	size_t len = 0;
	int r;

	if (msg == NULL || out == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((json = json_print(msg)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	len = strlen(json);
	if (len == 0 || len > TUN_FRAME_MAX) {
		r = len == 0 ? ZT_ERR_INVALID : ZT_ERR_TOO_LARGE;
		goto out;
	}
	if ((frame = malloc(TUN_HDR_LEN + len)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	frame[0] = (uint8_t)(len >> 24);
	frame[1] = (uint8_t)(len >> 16);
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	memcpy(frame + TUN_HDR_LEN, json, len);
	/* One put: all or nothing. */
	r = buf_put(out, frame, TUN_HDR_LEN + len);
out:
	/* A join frame carries a token. */
	if (frame != NULL) {
		crypto_free_secret(frame, TUN_HDR_LEN + len);
	}
	crypto_free_str(json);
	return r;
}

/* ---- field syntax ---- */

static int all_of(const char *s, const char *extra, int upper)
{
	for (; *s != '\0'; s++) {
		int c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') || (c != 0 && strchr(extra, c) != NULL)) {
			continue;
		}
		return 0;
	}
	return 1;
}

static int token_ok(const char *s)
{
	return strncmp(s, "ztj_", 4) == 0 && s[4] != '\0' && all_of(s + 4, "_-", 1);
}

static int pem_ok(const char *s, const char *label)
{
	char begin[64], end[64];

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	for (const char *c = s; *c != '\0'; c++) {
		if ((*c < 0x20 || *c > 0x7e) && *c != '\n' && *c != '\r') {
			return 0;
		}
	}
	return strncmp(s, begin, strlen(begin)) == 0 && strstr(s, end) != NULL;
}

static int csr_ok(const char *s)
{
	return pem_ok(s, "CERTIFICATE REQUEST");
}

static int cert_ok(const char *s)
{
	return pem_ok(s, "CERTIFICATE");
}

static int name_ok(const char *s)
{
	return name_valid(s, TUN_NAME_MAX);
}

/* "host:port": a DNS name or IPv4 address, or "[IPv6]"; port 1..65535
 * without a leading zero. */
static int target_ok(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;
	char host[TUN_TARGET_MAX + 1];
	size_t hl;
	long port = 0;

	if (colon == NULL || colon == s || colon[1] == '\0' || colon[1] == '0' ||
	    strlen(colon + 1) > 5) {
		return 0;
	}
	for (p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return 0;
		}
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535) {
		return 0;
	}
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host)) {
		return 0;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		if (hl < 4 || host[hl - 1] != ']') {
			return 0;
		}
		host[hl - 1] = '\0';
		return strchr(host + 1, ':') != NULL &&
		    strspn(host + 1, "0123456789abcdefABCDEF:.") == hl - 2;
	}
	return hl <= 253 && host[0] != '-' && host[0] != '.' && all_of(host, ".-", 1);
}

/* The blob of "ssh-ed25519 <base64>" into *blob (owned) and *bloblen, if
 * it is string "ssh-ed25519", string of 32 bytes, nothing after: 0,
 * ZT_ERR_INVALID (not such a key) or ZT_ERR_NOMEM. */
static int hostkey_decode(const char *s, uint8_t **blob, size_t *bloblen)
{
	static const char pfx[] = "ssh-ed25519 ";
	struct buf *b = NULL;
	const uint8_t *p = NULL;
	size_t n = 0;
	int r = ZT_ERR_INVALID;

	*blob = NULL;
	if (s == NULL || strncmp(s, pfx, sizeof(pfx) - 1) != 0 ||
	    !all_of(s + sizeof(pfx) - 1, "+/=", 1) ||
	    crypto_b64_decode(s + sizeof(pfx) - 1, strlen(s + sizeof(pfx) - 1), blob,
	    bloblen) != 0) {
		return ZT_ERR_INVALID;
	}
	if ((b = buf_from(*blob, *bloblen)) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	if (buf_get_string_peek(b, &p, &n) != 0 || n != 11 || memcmp(p, "ssh-ed25519", 11) != 0 ||
	    buf_get_string_peek(b, &p, &n) != 0 || n != 32 || buf_get_end(b) != 0) {
		goto out;
	}
	r = 0;
out:
	buf_free(b);
	if (r != 0) {
		free(*blob);
		*blob = NULL;
	}
	return r;
}

static int hostkey_ok(const char *s)
{
	uint8_t *blob = NULL;
	size_t n = 0;
	int ok = hostkey_decode(s, &blob, &n) == 0;

	free(blob);
	return ok;
}

static int version_ok(const char *s)
{
	return all_of(s, "._+-", 1);
}

static int id_ok(const char *s)
{
	return all_of(s, "_-", 1);
}

static int kind_ok(const char *s)
{
	return strcmp(s, "ssh") == 0 || strcmp(s, "rdp") == 0;
}

static int code_ok(const char *s)
{
	return all_of(s, "_.", 0);
}

static int message_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static int label_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= TUN_LABEL_MAX && all_of(s, "._-", 1);
}

/* ---- the field table ---- */

enum fkind { FK_STR, FK_INT, FK_LABELS, FK_RESOURCES };

struct tun_field {
	const char *key;
	enum fkind kind;
	size_t off;                 /* of the char * or int64_t in struct tun_msg */
	size_t max;                 /* bytes of a string */
	int (*ok)(const char *s);   /* syntax of a string */
	int optional;
};

#define STR(k, m, f) { #k, FK_STR, offsetof(struct tun_msg, k), m, f, 0 }

enum {
	F_TOKEN, F_CSR, F_NAME, F_LABELS, F_RESOURCES, F_CERT, F_CA,
	F_VERSION, F_SEQ, F_ID, F_RESOURCE, F_CODE, F_MESSAGE, F_ERR_ID, F_END = -1
};

static const struct tun_field fields[] = {
	[F_TOKEN] = STR(token, TUN_TOKEN_MAX, token_ok),
	[F_CSR] = STR(csr, TUN_CSR_MAX, csr_ok),
	[F_NAME] = STR(name, TUN_NAME_MAX, name_ok),
	[F_LABELS] = { "labels", FK_LABELS, 0, 0, NULL, 1 },
	[F_RESOURCES] = { "resources", FK_RESOURCES, 0, 0, NULL, 0 },
	[F_CERT] = STR(cert, TUN_PEM_MAX, cert_ok),
	[F_CA] = STR(ca, TUN_PEM_MAX, cert_ok),
	[F_VERSION] = STR(version, TUN_VERSION_MAX, version_ok),
	[F_SEQ] = { "seq", FK_INT, offsetof(struct tun_msg, seq), 0, NULL, 0 },
	[F_ID] = STR(id, TUN_ID_MAX, id_ok),
	[F_RESOURCE] = STR(resource, TUN_NAME_MAX, name_ok),
	[F_CODE] = STR(code, TUN_CODE_MAX, code_ok),
	[F_MESSAGE] = STR(message, TUN_MESSAGE_MAX, message_ok),
	[F_ERR_ID] = { "id", FK_STR, offsetof(struct tun_msg, id), TUN_ID_MAX, id_ok, 1 },
};

#define TUN_FIELDS_MAX 7

static const struct tun_type_def {
	enum tun_type type;
	const char *name;
	int f[TUN_FIELDS_MAX];      /* indices into fields[], F_END-terminated */
} types[] = {
	{ TUN_JOIN, "join", { F_TOKEN, F_CSR, F_NAME, F_LABELS, F_RESOURCES, F_END } },
	{ TUN_JOIN_OK, "join_ok", { F_CERT, F_CA, F_END } },
	{ TUN_HELLO, "hello", { F_NAME, F_LABELS, F_RESOURCES, F_VERSION, F_END } },
	{ TUN_HEARTBEAT, "heartbeat", { F_SEQ, F_END } },
	{ TUN_DIAL, "dial", { F_ID, F_RESOURCE, F_END } },
	{ TUN_ACCEPT, "accept", { F_ID, F_END } },
	{ TUN_ERROR, "error", { F_CODE, F_MESSAGE, F_ERR_ID, F_END } },
	{ TUN_RENEW, "renew", { F_CSR, F_END } },
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static const struct tun_type_def *type_by_id(enum tun_type t)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		if (types[i].type == t) {
			return &types[i];
		}
	}
	return NULL;
}

const char *tun_type_name(enum tun_type t)
{
	const struct tun_type_def *d = type_by_id(t);

	return d != NULL ? d->name : "?";
}

static char **str_slot(struct tun_msg *m, const struct tun_field *f)
{
	return (char **)(void *)((uint8_t *)m + f->off);
}

static char *const *str_cslot(const struct tun_msg *m, const struct tun_field *f)
{
	return (char *const *)(const void *)((const uint8_t *)m + f->off);
}

/* The one check both directions share: 0, ZT_ERR_INVALID, ZT_ERR_TOO_LARGE. */
static int str_check(const struct tun_field *f, const char *s)
{
	size_t len = strlen(s);

	if (len > f->max) {
		return ZT_ERR_TOO_LARGE;
	}
	if (len == 0 || !f->ok(s)) {
		return ZT_ERR_INVALID;
	}
	return 0;
}

int tun_labels_check(const struct tun_label *l, size_t n, char *why, size_t whysz)
{
	if (n > TUN_LABELS_MAX) {
		snprintf(why, whysz, "labels: more than %d pairs", TUN_LABELS_MAX);
		return ZT_ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < n; i++) {
		if (!label_ok(l[i].key) || !label_ok(l[i].value)) {
			snprintf(why, whysz, "labels: keys and values are 1..%d of "
			    "[A-Za-z0-9._-]", TUN_LABEL_MAX);
			return ZT_ERR_INVALID;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l[i].key, l[j].key) == 0) {
				snprintf(why, whysz, "labels: a key appears twice");
				return ZT_ERR_INVALID;
			}
		}
	}
	return 0;
}

/* Copies a label key or value if it fits; otherwise the string is too long. */
static int label_copy(char dst[TUN_LABEL_MAX + 1], const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (s == NULL) {
		return ZT_ERR_TYPE;
	}
	if (len > TUN_LABEL_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

int tun_labels_from_json(const cJSON *obj, struct tun_label *l, size_t *n, char *why,
    size_t whysz)
{
	const cJSON *c;
	size_t k = 0;
	int r;

	*n = 0;
	if (!cJSON_IsObject(obj)) {
		snprintf(why, whysz, "labels: not an object");
		return ZT_ERR_TYPE;
	}
	for (c = obj->child; c != NULL; c = c->next) {
		if (k >= TUN_LABELS_MAX) {
			snprintf(why, whysz, "labels: more than %d pairs", TUN_LABELS_MAX);
			return ZT_ERR_TOO_LARGE;
		}
		if (!cJSON_IsString(c) || c->valuestring == NULL) {
			snprintf(why, whysz, "labels: values are strings");
			return ZT_ERR_TYPE;
		}
		if ((r = label_copy(l[k].key, c->string)) != 0 ||
		    (r = label_copy(l[k].value, c->valuestring)) != 0) {
			snprintf(why, whysz, "labels: a key or value is over %d bytes",
			    TUN_LABEL_MAX);
			return r;
		}
		k++;
	}
	if ((r = tun_labels_check(l, k, why, whysz)) != 0) {
		return r;
	}
	*n = k;
	return 0;
}

int tun_labels_from_json_text(const char *text, struct tun_label *l, size_t *n, char *why,
    size_t whysz)
{
	cJSON *o = NULL;
	int r;

	*n = 0;
	if ((r = json_parse(text, strlen(text), TUN_LABELS_JSON_MAX, 1, &o)) != 0) {
		snprintf(why, whysz, "labels: not a JSON object of at most %d bytes",
		    TUN_LABELS_JSON_MAX);
		return r;
	}
	r = tun_labels_from_json(o, l, n, why, whysz);
	cJSON_Delete(o);
	return r;
}

static int labels_decode(const cJSON *obj, struct tun_msg *m)
{
	const cJSON *lab = NULL;
	int r;

	r = json_get_obj(obj, "labels", &lab);
	if (r == ZT_ERR_NOT_FOUND) {
		return 0;
	}
	if (r != 0) {
		snprintf(m->why, sizeof(m->why), "labels: not an object");
		return r;
	}
	return tun_labels_from_json(lab, m->labels, &m->nlabels, m->why, sizeof(m->why));
}

static const char *err_word(int r)
{
	switch (r) {
	case ZT_ERR_NOT_FOUND:
		return "missing";
	case ZT_ERR_TYPE:
		return "wrong type";
	case ZT_ERR_TOO_LARGE:
		return "too long";
	default:
		return "invalid";
	}
}

/* Copies up to 32 safe characters of an unknown key into why. */
static void why_key(char *why, size_t whysz, const char *key)
{
	char k[33];
	size_t i;

	for (i = 0; key != NULL && key[i] != '\0' && i < sizeof(k) - 1; i++) {
		int c = (unsigned char)key[i];

		k[i] = (c >= 0x21 && c <= 0x7e && c != '"') ? (char)c : '?';
	}
	k[i] = '\0';
	snprintf(why, whysz, "unknown key \"%s\"", k);
}

/*
 * cJSON keeps every copy of a repeated key and its getters see the first;
 * another parser might see the last, so a repeated key is refused. Called
 * after json_only_keys(): with only allowed keys left, more members than
 * allowed keys means a repeat, and the pairwise check stays small.
 */
static int no_duplicate_keys(const cJSON *obj, size_t nallowed)
{
	const cJSON *a, *b;
	size_t n = 0;

	for (a = obj->child; a != NULL; a = a->next) {
		if (++n > nallowed) {
			return ZT_ERR_INVALID;
		}
	}
	for (a = obj->child; a != NULL; a = a->next) {
		for (b = a->next; b != NULL; b = b->next) {
			if (strcmp(a->string, b->string) == 0) {
				return ZT_ERR_INVALID;
			}
		}
	}
	return 0;
}

/* ---- resources ---- */

static const char *const resource_keys[] = { "name", "kind", "address", "host_key",
    "cert_pin", "labels", NULL };

/* One resource's fields: 0, ZT_ERR_INVALID or ZT_ERR_TOO_LARGE, why
 * naming the field of resource i. */
static int resource_check(const struct tun_resource *x, size_t i, char *why, size_t whysz)
{
	const int ssh = strcmp(x->kind, "ssh") == 0;
	const char *bad = NULL;
	char lwhy[TUN_WHY_MAX];
	int r = ZT_ERR_INVALID;

	if (!name_ok(x->name)) {
		bad = "name: 1..64 of [a-z0-9._-], starting with a letter or digit";
	} else if (!kind_ok(x->kind)) {
		bad = "kind: \"ssh\" or \"rdp\"";
	} else if (!target_ok(x->address)) {
		bad = "address: host:port";
	} else if (ssh && (x->host_key[0] == '\0' || !hostkey_ok(x->host_key))) {
		bad = "host_key: an ssh resource needs \"ssh-ed25519 <base64>\"";
	} else if (ssh && x->cert_pin[0] != '\0') {
		bad = "cert_pin: only for rdp";
	} else if (!ssh && tls_pin_valid(x->cert_pin) != 0) {
		bad = "cert_pin: an rdp resource needs \"sha256:<64 hex>\"";
	} else if (!ssh && x->host_key[0] != '\0') {
		bad = "host_key: only for ssh";
	} else if (x->nlabels > TUN_RESOURCE_LABELS_MAX) {
		bad = "labels: too many pairs";
		r = ZT_ERR_TOO_LARGE;
	} else if ((r = tun_labels_check(x->labels, x->nlabels, lwhy, sizeof(lwhy))) != 0) {
		bad = lwhy;
	} else {
		return 0;
	}
	snprintf(why, whysz, "resources[%zu].%s", i, bad);
	return r;
}

int tun_resources_check(const struct tun_resource *r, size_t n, char *why, size_t whysz)
{
	int e;

	if (n == 0 || r == NULL) {
		snprintf(why, whysz, "resources: at least one");
		return ZT_ERR_INVALID;
	}
	if (n > TUN_RESOURCES_MAX) {
		snprintf(why, whysz, "resources: more than %d", TUN_RESOURCES_MAX);
		return ZT_ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < n; i++) {
		if ((e = resource_check(&r[i], i, why, whysz)) != 0) {
			return e;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r[i].name, r[j].name) == 0) {
				snprintf(why, whysz, "resources[%zu].name: appears twice", i);
				return ZT_ERR_INVALID;
			}
		}
	}
	return 0;
}

/* An optional string member into dst[dstsz]: 0 (absent: ""), ZT_ERR_TYPE,
 * ZT_ERR_TOO_LARGE. */
static int resource_str(const cJSON *o, const char *key, char *dst, size_t dstsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	dst[0] = '\0';
	if (v == NULL) {
		return 0;
	}
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		return ZT_ERR_TYPE;
	}
	if (strlen(v->valuestring) >= dstsz) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

/* One member of the array into x: only known keys, each once. */
static int resource_from_json(const cJSON *o, size_t i, struct tun_resource *x, char *why,
    size_t whysz)
{
	struct tun_label l[TUN_LABELS_MAX];
	char lwhy[TUN_WHY_MAX];
	const cJSON *lab;
	const char *bad = NULL;
	size_t k;
	int r;

	memset(x, 0, sizeof(*x));
	if (!cJSON_IsObject(o)) {
		snprintf(why, whysz, "resources[%zu]: not an object", i);
		return ZT_ERR_TYPE;
	}
	if ((r = json_only_keys(o, resource_keys, &bad)) != 0) {
		why_key(lwhy, sizeof(lwhy), bad);
		snprintf(why, whysz, "resources[%zu]: %s", i, lwhy);
		return r;
	}
	if (no_duplicate_keys(o, 6) != 0) {
		snprintf(why, whysz, "resources[%zu]: a key appears twice", i);
		return ZT_ERR_INVALID;
	}
	for (k = 0; k < 5; k++) {
		static const size_t off[] = { offsetof(struct tun_resource, name),
		    offsetof(struct tun_resource, kind), offsetof(struct tun_resource, address),
		    offsetof(struct tun_resource, host_key),
		    offsetof(struct tun_resource, cert_pin) };
		static const size_t sz[] = { TUN_NAME_MAX + 1, TUN_KIND_MAX + 1, TUN_TARGET_MAX + 1,
		    TUN_HOSTKEY_MAX + 1, TUN_CERT_PIN_MAX + 1 };

		if ((r = resource_str(o, resource_keys[k], (char *)x + off[k], sz[k])) != 0) {
			snprintf(why, whysz, "resources[%zu].%s: %s", i, resource_keys[k],
			    err_word(r));
			return r;
		}
	}
	if ((lab = cJSON_GetObjectItemCaseSensitive(o, "labels")) != NULL) {
		if ((r = tun_labels_from_json(lab, l, &k, lwhy, sizeof(lwhy))) != 0) {
			snprintf(why, whysz, "resources[%zu].%s", i, lwhy);
			return r;
		}
		if (k > TUN_RESOURCE_LABELS_MAX) {
			snprintf(why, whysz, "resources[%zu].labels: more than %d pairs", i,
			    TUN_RESOURCE_LABELS_MAX);
			return ZT_ERR_TOO_LARGE;
		}
		memcpy(x->labels, l, k * sizeof(l[0]));
		x->nlabels = k;
	}
	return 0;
}

int tun_resources_from_json(const cJSON *arr, struct tun_resource *r, size_t *n, char *why,
    size_t whysz)
{
	const cJSON *o;
	size_t k = 0;
	int e;

	*n = 0;
	if (!cJSON_IsArray(arr)) {
		snprintf(why, whysz, "resources: not an array");
		return ZT_ERR_TYPE;
	}
	for (o = arr->child; o != NULL; o = o->next) {
		if (k >= TUN_RESOURCES_MAX) {
			snprintf(why, whysz, "resources: more than %d", TUN_RESOURCES_MAX);
			return ZT_ERR_TOO_LARGE;
		}
		if ((e = resource_from_json(o, k, &r[k], why, whysz)) != 0) {
			return e;
		}
		k++;
	}
	if ((e = tun_resources_check(r, k, why, whysz)) != 0) {
		return e;
	}
	*n = k;
	return 0;
}

int tun_resources_from_json_text(const char *text, struct tun_resource *r, size_t *n,
    char *why, size_t whysz)
{
	cJSON *o = NULL;
	int e;

	*n = 0;
	if ((e = json_parse(text, strlen(text), TUN_RESOURCES_JSON_MAX, 3, &o)) != 0) {
		snprintf(why, whysz, "resources: not a JSON array of at most %d bytes",
		    TUN_RESOURCES_JSON_MAX);
		return e;
	}
	e = tun_resources_from_json(o, r, n, why, whysz);
	cJSON_Delete(o);
	return e;
}

int tun_resources_to_json(const struct tun_resource *r, size_t n, cJSON *arr)
{
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject(), *l = NULL;

		if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
		    cJSON_AddStringToObject(o, "name", r[i].name) == NULL ||
		    cJSON_AddStringToObject(o, "kind", r[i].kind) == NULL ||
		    cJSON_AddStringToObject(o, "address", r[i].address) == NULL ||
		    (r[i].host_key[0] != '\0' &&
		    cJSON_AddStringToObject(o, "host_key", r[i].host_key) == NULL) ||
		    (r[i].cert_pin[0] != '\0' &&
		    cJSON_AddStringToObject(o, "cert_pin", r[i].cert_pin) == NULL) ||
		    (r[i].nlabels > 0 && ((l = cJSON_AddObjectToObject(o, "labels")) == NULL ||
		    tun_labels_to_json(r[i].labels, r[i].nlabels, l) != 0))) {
			return ZT_ERR_NOMEM;
		}
	}
	return 0;
}

static int by_resource_name(const void *x, const void *y)
{
	return strcmp(((const struct tun_resource *)x)->name,
	    ((const struct tun_resource *)y)->name);
}

static int by_label_key(const void *x, const void *y)
{
	return strcmp(((const struct tun_label *)x)->key, ((const struct tun_label *)y)->key);
}

int tun_resources_json_text(const struct tun_resource *r, size_t n, char *out, size_t outsz)
{
	struct tun_resource *sorted = NULL;
	cJSON *arr = NULL;
	char *text = NULL;
	int e = 0;

	if (n > TUN_RESOURCES_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	if ((sorted = calloc(n > 0 ? n : 1, sizeof(*sorted))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (n > 0) {
		memcpy(sorted, r, n * sizeof(*sorted));
	}
	if (n > 1) {
		qsort(sorted, n, sizeof(*sorted), by_resource_name);
	}
	for (size_t i = 0; i < n && e == 0; i++) {
		char key[TUN_HOSTKEY_MAX + 1];

		if (sorted[i].host_key[0] != '\0' && (e = tun_hostkey_canonical(sorted[i].host_key,
		    key, sizeof(key))) == 0) {
			memcpy(sorted[i].host_key, key, sizeof(key));
		}
		if (sorted[i].nlabels > 1) {
			qsort(sorted[i].labels, sorted[i].nlabels, sizeof(sorted[i].labels[0]),
			    by_label_key);
		}
	}
	if (e != 0) {
		goto out;
	}
	if ((arr = cJSON_CreateArray()) == NULL || tun_resources_to_json(sorted, n, arr) != 0 ||
	    (text = json_print(arr)) == NULL) {
		e = ZT_ERR_NOMEM;
	} else if (snprintf(out, outsz, "%s", text) >= (int)outsz) {
		e = ZT_ERR_TOO_LARGE;
	}
out:
	free(text);
	cJSON_Delete(arr);
	free(sorted);
	return e;
}

const struct tun_resource *tun_resource_find(const struct tun_resource *r, size_t n,
    const char *name)
{
	for (size_t i = 0; r != NULL && name != NULL && i < n; i++) {
		if (strcmp(r[i].name, name) == 0) {
			return &r[i];
		}
	}
	return NULL;
}

static int resources_decode(const cJSON *obj, struct tun_msg *m)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "resources");

	if (arr == NULL) {
		snprintf(m->why, sizeof(m->why), "resources: missing");
		return ZT_ERR_NOT_FOUND;
	}
	if ((m->resources = calloc(TUN_RESOURCES_MAX, sizeof(*m->resources))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	return tun_resources_from_json(arr, m->resources, &m->nresources, m->why,
	    sizeof(m->why));
}

int tun_msg_from_json(const cJSON *obj, struct tun_msg *m)
{
	const char *allowed[TUN_FIELDS_MAX + 2], *tname = NULL, *s = NULL, *bad = NULL;
	const struct tun_type_def *d = NULL;
	const struct tun_field *f;
	size_t i, na = 0;
	int r;

	if (m == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(m, 0, sizeof(*m));
	if (obj == NULL || !cJSON_IsObject(obj)) {
		snprintf(m->why, sizeof(m->why), "message: not a JSON object");
		r = ZT_ERR_TYPE;
		goto out;
	}
	if ((r = json_get_str(obj, "type", 16, 0, &tname)) != 0) {
		snprintf(m->why, sizeof(m->why), "type: %s", err_word(r));
		r = r == ZT_ERR_TOO_LARGE ? ZT_ERR_PROTOCOL : r;
		goto out;
	}
	for (i = 0; i < N_TYPES; i++) {
		if (strcmp(types[i].name, tname) == 0) {
			d = &types[i];
		}
	}
	if (d == NULL) {
		snprintf(m->why, sizeof(m->why), "type: unknown message type");
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	allowed[na++] = "type";
	for (i = 0; d->f[i] != F_END; i++) {
		allowed[na++] = fields[d->f[i]].key;
	}
	allowed[na] = NULL;
	if ((r = json_only_keys(obj, allowed, &bad)) != 0) {
		why_key(m->why, sizeof(m->why), bad);
		goto out;
	}
	if ((r = no_duplicate_keys(obj, na)) != 0) {
		snprintf(m->why, sizeof(m->why), "message: a key appears twice");
		goto out;
	}
	for (i = 0; d->f[i] != F_END; i++) {
		f = &fields[d->f[i]];
		if (f->kind == FK_LABELS) {
			if ((r = labels_decode(obj, m)) != 0) {
				goto out;
			}
			continue;
		}
		if (f->kind == FK_RESOURCES) {
			if ((r = resources_decode(obj, m)) != 0) {
				goto out;
			}
			continue;
		}
		if (f->kind == FK_INT) {
			r = json_get_int(obj, f->key, 0, TUN_SEQ_MAX, (int64_t *)(void *)((uint8_t *)m +
			    f->off));
			if (r != 0) {
				snprintf(m->why, sizeof(m->why), "%s: %s", f->key,
				    r == ZT_ERR_INVALID ? "not an integer in 0..10^15-1" : err_word(r));
				goto out;
			}
			continue;
		}
		if (f->optional && cJSON_GetObjectItemCaseSensitive(obj, f->key) == NULL) {
			continue;
		}
		r = json_get_str(obj, f->key, f->max, 0, &s);
		if (r == 0) {
			r = str_check(f, s);
		}
		if (r != 0) {
			snprintf(m->why, sizeof(m->why), "%s: %s", f->key, err_word(r));
			goto out;
		}
		if ((*str_slot(m, f) = strdup(s)) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
	}
	m->type = d->type;
out:
	if (r != 0) {
		char why[TUN_WHY_MAX];

		memcpy(why, m->why, sizeof(why));
		tun_msg_clear(m);
		memcpy(m->why, why, sizeof(why));
	}
	return r;
}

int tun_msg_decode(const void *p, size_t n, struct tun_msg *m)
{
	cJSON *root = NULL, *tok = NULL;
	int r;

	if (m == NULL) {
		return ZT_ERR_INVALID;
	}
	memset(m, 0, sizeof(*m));
	if ((r = json_parse(p, n, TUN_FRAME_MAX, TUN_JSON_DEPTH, &root)) != 0) {
		snprintf(m->why, sizeof(m->why), "frame: not a bounded JSON value (%s)",
		    zt_strerror(r));
		return r;
	}
	r = tun_msg_from_json(root, m);
	/* The tree's copy of a join token is wiped before it is freed. */
	tok = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "token") : NULL;
	if (cJSON_IsString(tok) && tok->valuestring != NULL) {
		crypto_wipe(tok->valuestring, strlen(tok->valuestring));
	}
	cJSON_Delete(root);
	return r;
}

void tun_msg_clear(struct tun_msg *m)
{
	if (m == NULL) {
		return;
	}
	crypto_free_str(m->token);
	free(m->csr);
	free(m->name);
	free(m->resources);
	free(m->cert);
	free(m->ca);
	free(m->version);
	free(m->id);
	free(m->resource);
	free(m->code);
	free(m->message);
	memset(m, 0, sizeof(*m));
}

int tun_msg_to_json(const struct tun_msg *m, cJSON **out)
{
	const struct tun_type_def *d = NULL;
	const struct tun_field *f;
	cJSON *o = NULL, *lab = NULL, *arr = NULL;
	char why[TUN_WHY_MAX];
	const char *s;
	int r = 0;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if (m == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((d = type_by_id(m->type)) == NULL) {
		return ZT_ERR_PROTOCOL;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "type", d->name) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; d->f[i] != F_END; i++) {
		f = &fields[d->f[i]];
		if (f->kind == FK_LABELS) {
			if (m->nlabels == 0) {
				continue;
			}
			if ((r = tun_labels_check(m->labels, m->nlabels, why, sizeof(why))) != 0) {
				goto out;
			}
			if ((lab = cJSON_AddObjectToObject(o, "labels")) == NULL ||
			    tun_labels_to_json(m->labels, m->nlabels, lab) != 0) {
				r = ZT_ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if (f->kind == FK_RESOURCES) {
			if ((r = tun_resources_check(m->resources, m->nresources, why,
			    sizeof(why))) != 0) {
				goto out;
			}
			if ((arr = cJSON_AddArrayToObject(o, "resources")) == NULL ||
			    tun_resources_to_json(m->resources, m->nresources, arr) != 0) {
				r = ZT_ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if (f->kind == FK_INT) {
			if (m->seq < 0 || m->seq > TUN_SEQ_MAX) {
				r = ZT_ERR_INVALID;
				goto out;
			}
			if (cJSON_AddNumberToObject(o, f->key, (double)m->seq) == NULL) {
				r = ZT_ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if ((s = *str_cslot(m, f)) == NULL) {
			if (f->optional) {
				continue;
			}
			r = ZT_ERR_NOT_FOUND;
			goto out;
		}
		if ((r = str_check(f, s)) != 0) {
			goto out;
		}
		if (cJSON_AddStringToObject(o, f->key, s) == NULL) {
			r = ZT_ERR_NOMEM;
			goto out;
		}
	}
	*out = o;
	o = NULL;
out:
	cJSON_Delete(o);
	return r;
}

int tun_msg_encode(const struct tun_msg *m, struct buf *out)
{
	cJSON *o = NULL, *tok;
	int r;

	if ((r = tun_msg_to_json(m, &o)) != 0) {
		return r;
	}
	r = tun_frame_encode(o, out);
	tok = cJSON_GetObjectItemCaseSensitive(o, "token");
	if (cJSON_IsString(tok) && tok->valuestring != NULL) {
		crypto_wipe(tok->valuestring, strlen(tok->valuestring));
	}
	cJSON_Delete(o);
	return r;
}

/* ---- message streams ---- */

int tun_stream_init(struct tun_stream *s)
{
	memset(s, 0, sizeof(*s));
	return tun_reader_new(&s->rd);
}

void tun_stream_clear(struct tun_stream *s)
{
	tun_reader_free(s->rd);
	crypto_wipe(s->chunk, sizeof(s->chunk));
	memset(s, 0, sizeof(*s));
}

int tun_recv(struct tun_stream *s, long (*readfn)(void *arg, void *p, size_t n), void *arg,
    struct tun_msg *m)
{
	const uint8_t *f;
	size_t used = 0, flen = 0;
	long n;
	int r;

	for (;;) {
		if (s->off == s->len) {
			n = readfn(arg, s->chunk, sizeof(s->chunk));
			if (n <= 0) {
				return n == 0 ? ZT_ERR_TRUNCATED : (int)n;
			}
			s->len = (size_t)n;
			s->off = 0;
		}
		r = tun_reader_feed(s->rd, s->chunk + s->off, s->len - s->off, &used);
		if (r < 0) {
			return r;
		}
		s->off += used;
		if (r == 1) {
			if ((r = tun_reader_frame(s->rd, &f, &flen)) != 0) {
				return r;
			}
			return tun_msg_decode(f, flen, m);
		}
	}
}

size_t tun_stream_rest(const struct tun_stream *s, const uint8_t **p)
{
	*p = s->chunk + s->off;
	return s->len - s->off;
}

int tun_send(const struct tun_msg *m, int (*writefn)(void *arg, const void *p, size_t n),
    void *arg)
{
	struct buf *out = buf_new(TUN_HDR_LEN + TUN_FRAME_MAX);
	int r;

	if (out == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = tun_msg_encode(m, out)) == 0) {
		r = writefn(arg, buf_ptr(out), buf_len(out));
	}
	buf_free(out); /* wipes: a join carries its token */
	return r;
}

int tun_labels_parse(char *s, struct tun_label *labels, size_t max, size_t *n)
{
	char *save = NULL;

	for (char *t = strtok_r(s, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');

		if (eq == NULL || eq == t || eq[1] == '\0' || *n >= max ||
		    (size_t)(eq - t) > TUN_LABEL_MAX || strlen(eq + 1) > TUN_LABEL_MAX) {
			return ZT_ERR_INVALID;
		}
		*eq = '\0';
		snprintf(labels[*n].key, sizeof(labels[*n].key), "%s", t);
		snprintf(labels[*n].value, sizeof(labels[*n].value), "%s", eq + 1);
		(*n)++;
	}
	return 0;
}

int tun_labels_to_json(const struct tun_label *l, size_t n, cJSON *obj)
{
	for (size_t i = 0; i < n; i++) {
		if (cJSON_AddStringToObject(obj, l[i].key, l[i].value) == NULL) {
			return ZT_ERR_NOMEM;
		}
	}
	return 0;
}

static int by_key(const void *x, const void *y)
{
	return strcmp(((const struct tun_label *)x)->key, ((const struct tun_label *)y)->key);
}

int tun_labels_json_text(const struct tun_label *l, size_t n, char *out, size_t outsz)
{
	struct tun_label sorted[TUN_LABELS_MAX];
	cJSON *o = NULL;
	char *text = NULL;
	int r = 0;

	if (n > TUN_LABELS_MAX) {
		return ZT_ERR_TOO_LARGE;
	}
	memcpy(sorted, l, n * sizeof(sorted[0]));
	/* qsort() must not see a NULL array, which an empty set may be. */
	if (n > 1) {
		qsort(sorted, n, sizeof(sorted[0]), by_key);
	}
	if ((o = cJSON_CreateObject()) == NULL || tun_labels_to_json(sorted, n, o) != 0 ||
	    (text = json_print(o)) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (snprintf(out, outsz, "%s", text) >= (int)outsz) {
		r = ZT_ERR_TOO_LARGE;
	}
	free(text);
	cJSON_Delete(o);
	return r;
}

int tun_labels_format(const struct tun_label *l, size_t n, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + len, outsz - len, "%s%s=%s", i > 0 ? "," : "", l[i].key,
		    l[i].value);

		if (w < 0 || (size_t)w >= outsz - len) {
			out[len] = '\0'; /* cut at the last whole pair */
			return ZT_ERR_TOO_LARGE;
		}
		len += (size_t)w;
	}
	return 0;
}

int tun_hostkey_canonical(const char *key, char *out, size_t outsz)
{
	uint8_t *blob = NULL;
	char *b64 = NULL;
	size_t n = 0;
	int r;

	if ((r = hostkey_decode(key, &blob, &n)) != 0) {
		return r;
	}
	if ((b64 = crypto_b64_dup(blob, n)) == NULL) {
		r = ZT_ERR_NOMEM;
	} else if (snprintf(out, outsz, "ssh-ed25519 %s", b64) >= (int)outsz) {
		r = ZT_ERR_TOO_LARGE;
	}
	free(b64);
	free(blob);
	return r;
}

int tun_hostkey_fingerprint(const char *key, char *out, size_t outsz)
{
	uint8_t *blob = NULL, sum[CRYPTO_SHA256_LEN];
	char *b64 = NULL;
	size_t n = 0;
	int r;

	if ((r = hostkey_decode(key, &blob, &n)) != 0) {
		return r;
	}
	crypto_sha256(blob, n, sum);
	if ((b64 = crypto_b64_dup(sum, sizeof(sum))) == NULL) {
		r = ZT_ERR_NOMEM;
	} else {
		b64[strcspn(b64, "=")] = '\0'; /* as ssh-keygen -l prints it */
		if (snprintf(out, outsz, "SHA256:%s", b64) >= (int)outsz) {
			r = ZT_ERR_TOO_LARGE;
		}
	}
	free(b64);
	free(blob);
	return r;
}
