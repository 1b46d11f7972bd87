/*
 * dur.c - parsing durations and formatting timestamps.
 */
#include "common/dur.h"

#include <stdio.h>
#include <time.h>

#include "common/err.h"

int dur_parse(const char *s, int64_t min_s, int64_t max_s, int64_t *out)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (s == NULL || *s < '0' || *s > '9') {
		return ZT_ERR_INVALID;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10) {
			return ZT_ERR_INVALID;
		}
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0': mult = 1; break;
	case 's': mult = 1; p++; break;
	case 'm': mult = 60; p++; break;
	case 'h': mult = 3600; p++; break;
	case 'd': mult = 86400; p++; break;
	default: return ZT_ERR_INVALID;
	}
	if (*p != '\0' || v > INT64_MAX / mult) {
		return ZT_ERR_INVALID;
	}
	v *= mult;
	if (v < min_s || v > max_s) {
		return ZT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

int dur_format_time(int64_t t, char *out, size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		return ZT_ERR_INVALID;
	}
	return 0;
}
