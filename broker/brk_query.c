/*
 * brk_query.c - the query string's typed getters (brk_query.h): one place
 * where a /v1 argument's bounds are checked and the refusal names it; and
 * the bounded form the arguments are kept in (brk_api.h's brk_form).
 */
#include "broker/brk_query.h"

#include <stdlib.h>
#include <string.h>

#include "broker/brk_api.h"
#include "common/err.h"

/* ---- the bounded form the arguments are kept in ---- */

int brk_form_add(struct brk_form *f, const char *key, uint64_t off, const char *data,
    size_t size)
{
	size_t i;

	if (f->bad) {
		return ZT_ERR_INVALID;
	}
	if (key == NULL || strlen(key) >= BRK_FORM_KEY_MAX || (size > 0 && data == NULL) ||
	    memchr(data != NULL ? data : "", '\0', size) != NULL) {
		goto bad;
	}
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key) == 0) {
			break;
		}
	}
	if (i == f->n) {
		/* A new field starts at offset 0; a repeated key starts over. */
		if (off != 0 || f->n == BRK_FORM_FIELDS) {
			goto bad;
		}
		memcpy(f->key[i], key, strlen(key) + 1);
		f->len[i] = 0;
		f->value[i][0] = '\0';
		f->n++;
	} else if (off == 0 || off != f->len[i]) {
		goto bad; /* a key given twice, or a piece out of order */
	}
	if (size > BRK_FORM_VALUE_MAX - f->len[i]) {
		goto bad;
	}
	memcpy(f->value[i] + f->len[i], data != NULL ? data : "", size);
	f->len[i] += size;
	f->value[i][f->len[i]] = '\0';
	return 0;
bad:
	f->bad = 1;
	return ZT_ERR_INVALID;
}

const char *brk_form_get(const struct brk_form *f, const char *key)
{
	if (f == NULL || f->bad) {
		return NULL;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key) == 0) {
			return f->value[i];
		}
	}
	return NULL;
}

/* ---- typed getters ---- */

int brk_query_str(const struct brk_req *req, const char *key, size_t max, const char **out,
    struct brk_resp *resp)
{
	*out = NULL;
	if (req->query != NULL && req->query->bad) {
		brk_resp_error(resp, 400, "invalid_request", "malformed query string (a key "
		    "repeated, too many or too long)");
		return ZT_ERR_INVALID;
	}
	*out = brk_form_get(req->query, key);
	if (*out != NULL && (**out == '\0' || strlen(*out) > max)) {
		brk_resp_error(resp, 400, "invalid_request", "query argument %s must be 1 to %zu "
		    "bytes", key, max);
		return ZT_ERR_INVALID;
	}
	return 0;
}

int brk_query_int(const struct brk_req *req, const char *key, int64_t min, int64_t max,
    int64_t def, int64_t *out, struct brk_resp *resp)
{
	const char *v = NULL;
	char *end = NULL;
	long long n;
	int r;

	*out = def;
	if ((r = brk_query_str(req, key, 20, &v, resp)) != 0 || v == NULL) {
		return r;
	}
	n = strtoll(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || n < min || n > max) {
		brk_resp_error(resp, 400, "invalid_request", "query argument %s must be an "
		    "integer from %lld to %lld", key, (long long)min, (long long)max);
		return ZT_ERR_INVALID;
	}
	*out = n;
	return 0;
}

int brk_query_word(const struct brk_req *req, const char *key, const char *const *choices,
    int def, int *out, struct brk_resp *resp)
{
	const char *v = NULL;
	int r;

	*out = def;
	if ((r = brk_query_str(req, key, 32, &v, resp)) != 0 || v == NULL) {
		return r;
	}
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	brk_resp_error(resp, 400, "invalid_request", "query argument %s has an unknown value",
	    key);
	return ZT_ERR_INVALID;
}
