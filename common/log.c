/*
 * log.c - leveled logging to stderr, one write(2) per line so that lines
 * from several threads never interleave, and one line per call whatever
 * the arguments: a URL, a name or a peer's message that holds a newline or
 * a terminal escape is written escaped, so it cannot forge a line of its
 * own or drive the terminal of whoever reads the log.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/json.h"

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

/* Writes msg[0..n) to out (outsz bytes, *len of them used) with every
 * byte that could end the line or drive a terminal written as an escape:
 * \n, \r, \t, and \xHH for the other C0 controls, DEL, the C1 controls
 * (U+0080..U+009F, which terminals may obey like ESC sequences) and bytes
 * that are not well-formed UTF-8. Stops before an item that does not fit,
 * so that no escape or character is cut in half. Returns the bytes of msg
 * written. */
static size_t escape(const char *msg, size_t n, char *out, size_t outsz, size_t *len)
{
	const unsigned char *p = (const unsigned char *)msg;
	char esc[4 * 4 + 1];
	size_t i = 0, k, m;

	while (i < n) {
		unsigned char c = p[i];

		k = c < 0x80 ? 1 : json_utf8_seq(p + i, n - i);
		if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			m = 2;
		} else if (c < 0x20 || c == 0x7f || k == 0 || (c == 0xc2 && p[i + 1] < 0xa0)) {
			k = k == 0 ? 1 : k;
			m = 0;
			for (size_t j = 0; j < k; j++) {
				m += (size_t)snprintf(esc + m, sizeof(esc) - m, "\\x%02x",
				    p[i + j]);
			}
		} else {
			memcpy(esc, p + i, k);
			m = k;
		}
		if (*len + m > outsz) {
			break;
		}
		memcpy(out + *len, esc, m);
		*len += m;
		i += k;
	}
	return i;
}

void log_msg(enum zt_log_level lvl, const char *file, int line, const char *fmt, ...)
{
	static const char cut[] = "...";
	char msg[LOG_MSG_MAX], out[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t len, n;
	int r, whole;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s:%d: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, log_prog, level_names[lvl], file, line);
	if (r < 0 || (size_t)r >= sizeof(out) / 2) {
		return;
	}
	len = (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r < 0) {
		return;
	}
	whole = (size_t)r < sizeof(msg);
	n = whole ? (size_t)r : sizeof(msg) - 1;
	if (n > 0 && msg[n - 1] == '\n') {
		n--; /* the line's own newline comes below */
	}
	/* Room stays for the mark of a cut line and the newline. */
	if (escape(msg, n, out, sizeof(out) - sizeof(cut), &len) < n || !whole) {
		memcpy(out + len, cut, sizeof(cut) - 1);
		len += sizeof(cut) - 1;
	}
	out[len++] = '\n';
	if (write(STDERR_FILENO, out, len) < 0) {
		/* nowhere left to report a failed log write */
	}
}
