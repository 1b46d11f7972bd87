/*
 * dur.c - parsing and formatting durations, formatting timestamps.
 */
#include "common/dur.h"

#include <stdio.h>
#include <string.h>
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

int dur_format(int64_t s, char *out, size_t outsz)
{
	static const struct {
		int64_t mult;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	int64_t mult = 1;
	char unit = 's';
	int n;

	for (size_t i = 0; s > 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (s % units[i].mult == 0) {
			mult = units[i].mult;
			unit = units[i].unit;
			break;
		}
	}
	if (s < 0 || (n = snprintf(out, outsz, "%lld%c", (long long)(s / mult), unit)) < 0 ||
	    (size_t)n >= outsz) {
		return ZT_ERR_INVALID;
	}
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

int dur_format_time_ms(int64_t ms, char *out, size_t outsz)
{
	int64_t secs = ms / 1000, frac = ms % 1000;
	size_t n;
	int r;

	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if ((r = dur_format_time(secs, out, outsz)) != 0) {
		return r;
	}
	n = strlen(out);
	if (n == 0 || n + 4 >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	snprintf(out + n - 1, outsz - (n - 1), ".%03dZ", (int)frac);
	return 0;
}

int64_t dur_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
