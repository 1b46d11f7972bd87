/*
 * brk_query.c - the query string's typed getters (brk_query.h): one place
 * where a /v1 argument's bounds are checked and the refusal names it.
 */
#include "broker/brk_query.h"

#include <stdlib.h>
#include <string.h>

#include "broker/brk_api.h"
#include "common/err.h"

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
