/*
 * dur.h - durations as people type them: "90s", "30m", "12h", "7d", or a
 * bare number of seconds; and the same back for people to read.
 */
#ifndef ZT_DUR_H
#define ZT_DUR_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into seconds within [min_s, max_s]. 0, ZT_ERR_INVALID (not a
 * duration, or out of bounds). */
int dur_parse(const char *s, int64_t min_s, int64_t max_s, int64_t *out);
/* Formats s seconds (>= 0) the way dur_parse reads them, in the largest
 * unit that divides it: "8h", "90m", "45s", "7d". 0 or ZT_ERR_INVALID
 * (negative, or out too small). */
int dur_format(int64_t s, char *out, size_t outsz);
/* Formats unix time t as "2026-11-24T15:04:05Z" into out (21 bytes). */
int dur_format_time(int64_t t, char *out, size_t outsz);
/* Formats ms, unix time in milliseconds, as "2026-11-24T15:04:05.123Z"
 * into out (25 bytes). 0, ZT_ERR_INVALID or ZT_ERR_TOO_LARGE. */
int dur_format_time_ms(int64_t ms, char *out, size_t outsz);
/* The wall clock as unix time in milliseconds. */
int64_t dur_now_ms(void);

#endif
