/*
 * json.c - parsing untrusted JSON with bounds, and typed getters over cJSON.
 *
 * cJSON is a forgiving parser, so everything it would let through that zt
 * does not want is refused before it runs: the size limit, NUL bytes,
 * invalid UTF-8 (overlong forms, surrogates, code points past U+10FFFF), raw
 * control characters, nesting deeper than the caller's limit (counted by a
 * pre-scan that knows about strings and escapes, so cJSON's own recursion is
 * bounded too), and the escape \u0000, which cJSON would decode into a
 * silently truncated C string. After parsing, bytes other than whitespace
 * after the value are refused, and so are objects with a repeated key: two
 * parsers that pick different copies of a key are a classic way to smuggle
 * a field past a check.
 *
 * The getters turn "what is this field" into one return code that callers
 * can map to an error naming the field. Keys are matched case-sensitively.
 *
 * json_canonical() gives a tree one byte spelling to hash (what an approval
 * or an MCP request state is bound to): typed, length-prefixed, keys sorted.
 */
#include "common/json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"

/* Largest integer a double holds exactly together with all smaller ones
 * (2^53 - 1); anything past it may already have been rounded by strtod. */
#define JSON_INT_EXACT_MAX 9007199254740991.0

size_t json_utf8_seq(const void *bytes, size_t n)
{
	const uint8_t *p = bytes;
	size_t k, need;
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		return 1;
	}
	/* lo..hi bounds the first continuation byte; the others are always
	 * 80..BF. These ranges exclude overlongs (E0, F0), surrogates (ED)
	 * and code points above U+10FFFF (F4). */
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0) {
			lo = 0xa0;
		} else if (c == 0xed) {
			hi = 0x9f;
		}
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0) {
			lo = 0x90;
		} else if (c == 0xf4) {
			hi = 0x8f;
		}
	} else {
		return 0;
	}
	if (n - 1 < need || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (k = 2; k <= need; k++) {
		if (p[k] < 0x80 || p[k] > 0xbf) {
			return 0;
		}
	}
	return need + 1;
}

int json_utf8_text(const void *bytes, size_t n)
{
	const uint8_t *p = bytes;
	size_t k;

	for (size_t i = 0; i < n; i += k) {
		if (p[i] == 0 || (k = json_utf8_seq(p + i, n - i)) == 0) {
			return 0;
		}
	}
	return 1;
}

/* 1 if p[0..n) is well-formed UTF-8, else 0. */
static int json_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = json_utf8_seq(p + i, n - i)) == 0) {
			return 0;
		}
		i += k;
	}
	return 1;
}

char *json_text_from_bytes(const void *p, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	const uint8_t *q = p;
	size_t i = 0, o = 0, k;
	char *out;

	/* Each byte becomes at most 3 (one replacement character). */
	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(n * 3 + 1)) == NULL) {
		return NULL;
	}
	while (i < n) {
		k = q[i] == 0 ? 0 : json_utf8_seq(q + i, n - i);
		if (k == 0) {
			memcpy(out + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, q + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static int json_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * Length of the RFC 8259 number at p[0..n), or 0 if it is not one. cJSON
 * hands numbers to strtod(), which also takes "01", "1." and "-01"; a
 * second parser reading the same text differently is how checks get
 * bypassed, so only the strict grammar gets through.
 */
static size_t json_number_len(const uint8_t *p, size_t n)
{
	size_t i = 0, start;

	if (i < n && p[i] == '-') {
		i++;
	}
	if (i < n && p[i] == '0') {
		i++;
	} else if (i < n && json_isdigit(p[i])) {
		while (i < n && json_isdigit(p[i])) {
			i++;
		}
	} else {
		return 0;
	}
	if (i < n && p[i] == '.') {
		start = ++i;
		while (i < n && json_isdigit(p[i])) {
			i++;
		}
		if (i == start) {
			return 0;
		}
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-')) {
			i++;
		}
		start = i;
		while (i < n && json_isdigit(p[i])) {
			i++;
		}
		if (i == start) {
			return 0;
		}
	}
	/* Anything number-like straight after means the grammar was broken
	 * (a leading zero, a second point, a stray sign). */
	if (i < n && (json_isdigit(p[i]) || p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
	    p[i] == '+' || p[i] == '-')) {
		return 0;
	}
	return i;
}

/*
 * Walks the text once outside cJSON: refuses raw control characters, the
 * \u0000 escape, an unterminated escape and numbers outside the JSON
 * grammar (ZT_ERR_INVALID), and nesting of objects and arrays deeper than
 * max_depth (ZT_ERR_TOO_LARGE). Brackets inside strings do not count.
 */
static int json_prescan(const uint8_t *p, size_t n, int max_depth)
{
	size_t i, k;
	int depth = 0, in_str = 0;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (in_str) {
			if (c == '"') {
				in_str = 0;
			} else if (c == '\\') {
				if (i + 1 >= n) {
					return ZT_ERR_INVALID;
				}
				if (p[i + 1] == 'u' && n - i >= 6 &&
				    memcmp(p + i + 2, "0000", 4) == 0) {
					return ZT_ERR_INVALID;
				}
				i++;
			} else if (c < 0x20) {
				return ZT_ERR_INVALID;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			break;
		case '{':
		case '[':
			if (++depth > max_depth) {
				return ZT_ERR_TOO_LARGE;
			}
			break;
		case '}':
		case ']':
			/* Unbalanced closers are left for cJSON to refuse. */
			if (depth > 0) {
				depth--;
			}
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (c < 0x20) {
				return ZT_ERR_INVALID;
			}
			if (c == '-' || json_isdigit(c)) {
				/* cJSON reads at most 63 characters of a number. */
				k = json_number_len(p + i, n - i);
				if (k == 0 || k > 63) {
					return ZT_ERR_INVALID;
				}
				i += k - 1;
			}
			break;
		}
	}
	return in_str ? ZT_ERR_INVALID : 0;
}

static int json_cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 0 if no object in the tree at v repeats a key, else ZT_ERR_INVALID (or
 * ZT_ERR_NOMEM). Recursion is bounded by the depth limit checked before. */
static int json_check_unique(const cJSON *v)
{
	const cJSON *c = NULL;
	const char **keys = NULL;
	size_t n = 0, i;
	int r = 0;

	for (c = v->child; c != NULL; c = c->next) {
		if ((r = json_check_unique(c)) != 0) {
			return r;
		}
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2) {
		return 0;
	}
	if ((keys = calloc(n, sizeof(*keys))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	i = 0;
	for (c = v->child; c != NULL; c = c->next) {
		if (c->string == NULL) {
			r = ZT_ERR_INVALID;
			goto out;
		}
		keys[i++] = c->string;
	}
	qsort(keys, n, sizeof(*keys), json_cmp_keys);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			r = ZT_ERR_INVALID;
			goto out;
		}
	}
	r = 0;
out:
	free(keys);
	return r;
}

int json_parse(const void *p, size_t n, size_t max_size, int max_depth, cJSON **out)
{
	const uint8_t *in = p;
	const char *end = NULL;
	char *copy = NULL;
	cJSON *v = NULL;
	size_t i;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((p == NULL && n != 0) || max_depth < 0) {
		return ZT_ERR_INVALID;
	}
	if (n > max_size) {
		return ZT_ERR_TOO_LARGE;
	}
	if (n == 0 || memchr(in, '\0', n) != NULL || !json_utf8_valid(in, n)) {
		return ZT_ERR_INVALID;
	}
	if ((r = json_prescan(in, n, max_depth)) != 0) {
		return r;
	}
	/* cJSON gets its own NUL-terminated copy so that no code path in it can
	 * read past the caller's bytes. */
	if ((copy = malloc(n + 1)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	memcpy(copy, in, n);
	copy[n] = '\0';
	if ((v = cJSON_ParseWithLengthOpts(copy, n, &end, 0)) == NULL) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (end == NULL || end < copy || end > copy + n) {
		r = ZT_ERR_INTERNAL;
		goto out;
	}
	for (i = (size_t)(end - copy); i < n; i++) {
		if (copy[i] != ' ' && copy[i] != '\t' && copy[i] != '\n' && copy[i] != '\r') {
			r = ZT_ERR_TRAILING;
			goto out;
		}
	}
	if ((r = json_check_unique(v)) != 0) {
		goto out;
	}
	*out = v;
	v = NULL;
	r = 0;
out:
	cJSON_Delete(v);
	free(copy);
	return r;
}

/*
 * Looks up field key of obj and checks its type with is(): 0 with *v set,
 * ZT_ERR_NOT_FOUND (absent or JSON null), ZT_ERR_TYPE (obj is not an object
 * or the field has another type) or ZT_ERR_INVALID (NULL arguments).
 */
static int json_field(const cJSON *obj, const char *key, cJSON_bool (*is)(const cJSON *const),
    const cJSON **v)
{
	const cJSON *f = NULL;

	*v = NULL;
	if (obj == NULL || key == NULL) {
		return ZT_ERR_INVALID;
	}
	if (!cJSON_IsObject(obj)) {
		return ZT_ERR_TYPE;
	}
	f = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (f == NULL || cJSON_IsNull(f)) {
		return ZT_ERR_NOT_FOUND;
	}
	if (!is(f)) {
		return ZT_ERR_TYPE;
	}
	*v = f;
	return 0;
}

int json_get_str(const cJSON *obj, const char *key, size_t maxlen, int allow_empty,
    const char **out)
{
	const cJSON *v = NULL;
	size_t len;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = json_field(obj, key, cJSON_IsString, &v)) != 0) {
		return r;
	}
	if (v->valuestring == NULL) {
		return ZT_ERR_TYPE;
	}
	len = strlen(v->valuestring);
	if (len > maxlen) {
		return ZT_ERR_TOO_LARGE;
	}
	if (len == 0 && !allow_empty) {
		return ZT_ERR_INVALID;
	}
	*out = v->valuestring;
	return 0;
}

int json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *v = NULL;
	double d;
	int64_t i;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = json_field(obj, key, cJSON_IsNumber, &v)) != 0) {
		return r;
	}
	d = v->valuedouble;
	/* The range test comes first: it makes the cast below defined. */
	if (!isfinite(d) || d > JSON_INT_EXACT_MAX || d < -JSON_INT_EXACT_MAX) {
		return ZT_ERR_INVALID;
	}
	i = (int64_t)d;
	if ((double)i != d) {
		return ZT_ERR_INVALID;
	}
	if (i < min || i > max) {
		return ZT_ERR_INVALID;
	}
	*out = i;
	return 0;
}

int json_get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = NULL;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = json_field(obj, key, cJSON_IsBool, &v)) != 0) {
		return r;
	}
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 0;
}

/* What an optional getter answers after its plain getter said r: 0 with
 * *absent set when the key is not there at all, else r (a JSON null, which
 * the plain getters call absent, becomes ZT_ERR_TYPE). */
static int json_opt(int r, const cJSON *obj, const char *key, int *absent)
{
	*absent = 0;
	if (r != ZT_ERR_NOT_FOUND) {
		return r;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
		return ZT_ERR_TYPE;
	}
	*absent = 1;
	return 0;
}

int json_get_str_opt(const cJSON *obj, const char *key, size_t maxlen, int allow_empty,
    const char *dflt, const char **out)
{
	int absent, r = json_opt(json_get_str(obj, key, maxlen, allow_empty, out), obj, key,
	    &absent);

	if (r == 0 && absent) {
		*out = dflt;
	}
	return r;
}

int json_get_int_opt(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t dflt,
    int64_t *out)
{
	int absent, r = json_opt(json_get_int(obj, key, min, max, out), obj, key, &absent);

	if (r == 0 && absent) {
		*out = dflt;
	}
	return r;
}

int json_get_bool_opt(const cJSON *obj, const char *key, int dflt, int *out)
{
	int absent, r = json_opt(json_get_bool(obj, key, out), obj, key, &absent);

	if (r == 0 && absent) {
		*out = dflt;
	}
	return r;
}

int json_get_obj(const cJSON *obj, const char *key, const cJSON **out)
{
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	return json_field(obj, key, cJSON_IsObject, out);
}

int json_get_arr(const cJSON *obj, const char *key, size_t max_items, const cJSON **out)
{
	const cJSON *v = NULL, *c = NULL;
	size_t n = 0;
	int r;

	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	*out = NULL;
	if ((r = json_field(obj, key, cJSON_IsArray, &v)) != 0) {
		return r;
	}
	for (c = v->child; c != NULL; c = c->next) {
		if (++n > max_items) {
			return ZT_ERR_TOO_LARGE;
		}
	}
	*out = v;
	return 0;
}

int json_only_keys(const cJSON *obj, const char *const *allowed, const char **bad)
{
	const cJSON *c = NULL;
	size_t i;
	int found;

	if (bad != NULL) {
		*bad = NULL;
	}
	if (obj == NULL || !cJSON_IsObject(obj)) {
		return ZT_ERR_INVALID;
	}
	for (c = obj->child; c != NULL; c = c->next) {
		found = 0;
		for (i = 0; allowed != NULL && allowed[i] != NULL; i++) {
			if (c->string != NULL && strcmp(c->string, allowed[i]) == 0) {
				found = 1;
				break;
			}
		}
		if (!found) {
			if (bad != NULL) {
				*bad = c->string;
			}
			return ZT_ERR_INVALID;
		}
	}
	return 0;
}

cJSON *json_object_str(const char *key, const char *value)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && cJSON_AddStringToObject(o, key, value) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

char *json_print(const cJSON *v)
{
	if (v == NULL) {
		return NULL;
	}
	/* cJSON's API is not const-correct; printing does not modify v. */
	return cJSON_PrintUnformatted((cJSON *)(uintptr_t)v);
}

/* ---- canonical encoding ---- */

static int canon_value(struct buf *out, const cJSON *v, int depth, int max_depth);

struct canon_member {
	const cJSON *v;
	size_t pos;        /* its place in the object as written */
};

static int canon_by_key(const void *a, const void *b)
{
	const struct canon_member *x = a, *y = b;
	int c = strcmp(x->v->string, y->v->string);

	/* Duplicate keys keep their order: both are encoded, so neither hides. */
	return c != 0 ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

static int canon_object(struct buf *out, const cJSON *o, int depth, int max_depth)
{
	struct canon_member *kids = NULL;
	const cJSON *k;
	size_t n = 0, i = 0;
	int r;

	cJSON_ArrayForEach(k, o) {
		n++;
	}
	if (n > 0 && (kids = calloc(n, sizeof(*kids))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_ArrayForEach(k, o) {
		kids[i].v = k;
		kids[i].pos = i;
		i++;
	}
	if (n > 1) {
		qsort(kids, n, sizeof(*kids), canon_by_key);
	}
	r = buf_put_u8(out, 'o');
	if (r == 0) {
		r = buf_put_u32(out, (uint32_t)n);
	}
	for (i = 0; r == 0 && i < n; i++) {
		if ((r = buf_put_cstring(out, kids[i].v->string)) == 0) {
			r = canon_value(out, kids[i].v, depth + 1, max_depth);
		}
	}
	free(kids);
	return r;
}

/* One value at level depth, typed and length-prefixed (json.h). */
static int canon_value(struct buf *out, const cJSON *v, int depth, int max_depth)
{
	const cJSON *k;
	uint32_t n = 0;
	int r;

	if (depth > max_depth) {
		return ZT_ERR_TOO_LARGE;
	}
	if (cJSON_IsObject(v)) {
		return canon_object(out, v, depth, max_depth);
	}
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(k, v) {
			n++;
		}
		if ((r = buf_put_u8(out, 'a')) != 0 || (r = buf_put_u32(out, n)) != 0) {
			return r;
		}
		cJSON_ArrayForEach(k, v) {
			if ((r = canon_value(out, k, depth + 1, max_depth)) != 0) {
				return r;
			}
		}
		return 0;
	}
	if (cJSON_IsString(v)) {
		return (r = buf_put_u8(out, 's')) != 0 ? r : buf_put_cstring(out, v->valuestring);
	}
	if (cJSON_IsNumber(v)) {
		return (r = buf_put_u8(out, 'n')) != 0 ? r : buf_putf(out, "%.17g;", v->valuedouble);
	}
	return buf_put_u8(out, cJSON_IsTrue(v) ? 't' : cJSON_IsFalse(v) ? 'f' : 'z');
}

int json_canonical(struct buf *out, const cJSON *v, int max_depth)
{
	if (out == NULL) {
		return ZT_ERR_INVALID;
	}
	return canon_value(out, v, 0, max_depth);
}

/* Wipes v's own strings and its children's; not v's siblings. */
static void wipe_item(cJSON *v)
{
	/* A reference points at memory cJSON does not own (maybe read-only). */
	if ((v->type & cJSON_IsReference) != 0) {
		return;
	}
	if (v->valuestring != NULL) {
		crypto_wipe(v->valuestring, strlen(v->valuestring));
	}
	/* A key cJSON does not own (cJSON_StringIsConst) is a literal. */
	if (v->string != NULL && (v->type & cJSON_StringIsConst) == 0) {
		crypto_wipe(v->string, strlen(v->string));
	}
	for (cJSON *c = v->child; c != NULL; c = c->next) {
		wipe_item(c);
	}
}

void json_wipe(cJSON *v)
{
	if (v != NULL) {
		wipe_item(v);
	}
}

void json_delete_wiped(cJSON *v)
{
	json_wipe(v);
	cJSON_Delete(v);
}
