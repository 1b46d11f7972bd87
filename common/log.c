/*
 * log.c - leveled logging to stderr, one write(2) per line so that lines
 * from several threads never interleave.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"

static const char *log_prog = "zt";
static enum zt_log_level log_cur = ZT_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *prog, enum zt_log_level level)
{
	if (prog != NULL) {
		log_prog = prog;
	}
	log_cur = level;
}

enum zt_log_level log_level(void)
{
	return log_cur;
}

int log_level_parse(const char *s, enum zt_log_level *out)
{
	for (int i = 0; i <= ZT_LOG_DEBUG; i++) {
		if (s != NULL && strcmp(s, level_names[i]) == 0) {
			*out = (enum zt_log_level)i;
			return 0;
		}
	}
	return ZT_ERR_INVALID;
}

void log_msg(enum zt_log_level lvl, const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(msg, sizeof(msg), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s:%d: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, log_prog, level_names[lvl], file, line);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		return;
	}
	va_start(ap, fmt);
	m = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0) {
		return;
	}
	n += m;
	if ((size_t)n >= sizeof(msg) - 1) {
		n = (int)sizeof(msg) - 2; /* keep the newline; the line is cut */
	}
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nowhere left to report a failed log write */
	}
}
