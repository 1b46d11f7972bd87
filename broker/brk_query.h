/*
 * brk_query.h - typed, bounded getters for a /v1 request's query string
 * (req->query, already split and bounded by brk_form). Each refusal is a
 * 400 invalid_request in resp that names the argument.
 */
#ifndef ZT_BRK_QUERY_H
#define ZT_BRK_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct brk_req;
struct brk_resp;

/* The value of key (borrowed from req; NULL when absent) into *out: 0, or
 * ZT_ERR_INVALID with the 400 in resp for a query that is not one or a
 * value that is empty or over max bytes. */
int brk_query_str(const struct brk_req *req, const char *key, size_t max, const char **out,
    struct brk_resp *resp);
/* A decimal integer in [min, max] (min >= 0: no sign is taken), def when
 * absent: 0 or ZT_ERR_INVALID with the 400 in resp. */
int brk_query_int(const struct brk_req *req, const char *key, int64_t min, int64_t max,
    int64_t def, int64_t *out, struct brk_resp *resp);
/* One of the words in choices (a NULL-ended list), or its index def when
 * absent, into *out as an index: 0 or ZT_ERR_INVALID with the 400. */
int brk_query_word(const struct brk_req *req, const char *key, const char *const *choices,
    int def, int *out, struct brk_resp *resp);

#endif
