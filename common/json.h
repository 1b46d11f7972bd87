/*
 * json.h - parsing untrusted JSON with bounds, and typed, length-checked
 * getters over cJSON.
 *
 * json_parse() refuses input over a size limit, nesting deeper than a depth
 * limit, invalid UTF-8, embedded NULs, and anything after the value. Getters
 * return 0, ZT_ERR_NOT_FOUND (absent; JSON null counts as absent),
 * ZT_ERR_TYPE (present with the wrong type) or ZT_ERR_TOO_LARGE / ZT_ERR_INVALID
 * (out of the caller's bounds), so callers can name the field in a clear
 * error. Returned strings are borrowed from the cJSON tree.
 */
#ifndef ZT_JSON_H
#define ZT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define JSON_DEFAULT_DEPTH 32

/* Parses p[0..n) into *out (caller frees with cJSON_Delete).
 * 0, ZT_ERR_TOO_LARGE (n > max_size, or nesting > max_depth),
 * ZT_ERR_INVALID (not JSON, bad UTF-8, NUL byte), ZT_ERR_TRAILING. */
int json_parse(const void *p, size_t n, size_t max_size, int max_depth, cJSON **out);

/* String field, at most maxlen bytes, non-empty unless allow_empty. */
int json_get_str(const cJSON *obj, const char *key, size_t maxlen, int allow_empty,
    const char **out);
/* Integer field: a JSON number with no fraction in [min, max]. */
int json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int json_get_bool(const cJSON *obj, const char *key, int *out);
/*
 * Optional fields: a key that is not there gives *out = dflt and 0; one
 * that is there must be valid, as for the getters above. JSON null is not
 * absent here but ZT_ERR_TYPE, so a null given for an optional field is
 * refused as any other wrong value is, never taken for the default.
 */
int json_get_str_opt(const cJSON *obj, const char *key, size_t maxlen, int allow_empty,
    const char *dflt, const char **out);
int json_get_int_opt(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t dflt,
    int64_t *out);
int json_get_bool_opt(const cJSON *obj, const char *key, int dflt, int *out);
/* Object or array fields (borrowed). */
int json_get_obj(const cJSON *obj, const char *key, const cJSON **out);
int json_get_arr(const cJSON *obj, const char *key, size_t max_items, const cJSON **out);
/* Refuses keys of obj not in the NULL-terminated list; *bad names the first
 * unknown key (borrowed). 0 or ZT_ERR_INVALID. */
int json_only_keys(const cJSON *obj, const char *const *allowed, const char **bad);

/* A new object {key: value} (owned); NULL on ENOMEM. The audit details of
 * most admin verbs ({"user": "alice"}). */
cJSON *json_object_str(const char *key, const char *value);
/* Compact serialization, caller frees; NULL on ENOMEM. */
char *json_print(const cJSON *v);

/* ---- canonical encoding ---- */

/*
 * Appends to out the canonical encoding of v: one spelling per value, so
 * that a hash of it names what a tree says, not how it was written. Every
 * value is typed and length-prefixed: 'o' u32 count, then per member its
 * key (u32 length + bytes) and value, members sorted by key (bytewise);
 * 'a' u32 count, then the items; 's' u32 length + bytes; 'n' the number
 * printed "%.17g;"; 't', 'f'; 'z' for null (and for NULL or a raw item).
 * Integers are big-endian (buf_put_u32). Duplicate keys are all kept, in the
 * order written, so that neither copy can hide behind the other. The
 * encoding is stored (approvals are bound to its hash): it must never
 * change.
 *
 * max_depth bounds the recursion: v is at level 0, its members and items at
 * level 1, and so on; a value deeper than level max_depth is refused.
 * 0, ZT_ERR_TOO_LARGE (nested too deep, or out full), ZT_ERR_NOMEM or
 * ZT_ERR_INVALID (out NULL); on error out holds a partial encoding, for the
 * caller to discard.
 */
struct buf;
int json_canonical(struct buf *out, const cJSON *v, int max_depth);
/* Overwrites every string in the tree, values and keys, with zero bytes (the
 * tree stays valid: its strings become empty). For trees that held secrets:
 * passwords in request bodies, tokens in responses. */
void json_wipe(cJSON *v);
/* json_wipe(), then cJSON_Delete(). NULL is fine. */
void json_delete_wiped(cJSON *v);
/* Bytes from outside (a command's output) as a JSON-safe string: a
 * NUL-terminated copy in which every byte that is not part of well-formed
 * UTF-8, and every NUL, became U+FFFD. Owned; NULL on ENOMEM. */
char *json_text_from_bytes(const void *p, size_t n);
/* The length (1..4) of the well-formed UTF-8 sequence (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF) that starts
 * p[0..n), n > 0; 0 if none does. */
size_t json_utf8_seq(const void *p, size_t n);
/* 1 if p[0..n) is well-formed UTF-8 (as json_utf8_seq) without a NUL: text
 * a JSON string carries as it is. */
int json_utf8_text(const void *p, size_t n);

#endif
