/*
 * log.h - leveled logging to stderr with file:line.
 *
 * Log lines are for operators; they never carry a secret (password, TOTP
 * code or secret, token, private key). Audit events are not log lines: they
 * are data written by audit/. The level check happens before the arguments
 * are formatted. Thread-safe: each line is written with a single write(2).
 *
 * One call writes one line whatever its arguments hold: in the formatted
 * message, \n, \r and \t are written as those two-character escapes, and
 * other control bytes (C0, DEL, C1 as UTF-8) and bytes that are not
 * well-formed UTF-8 as \xHH; one trailing newline is dropped. Backslashes
 * are kept as they are, so "\n" in a log line may also be those two
 * characters. A message past LOG_MSG_MAX bytes, or a line past
 * LOG_LINE_MAX, is cut and ends in "...".
 */
#ifndef ZT_LOG_H
#define ZT_LOG_H

#define LOG_MSG_MAX 2048   /* bytes of a formatted message before escaping */
#define LOG_LINE_MAX 4096  /* bytes of a written line, newline included */

enum zt_log_level { ZT_LOG_ERROR = 0, ZT_LOG_WARN, ZT_LOG_INFO, ZT_LOG_DEBUG };

/* Sets the program name shown on every line and the most verbose level shown. */
void log_init(const char *prog, enum zt_log_level level);
enum zt_log_level log_level(void);
/* Parses "error", "warn", "info" or "debug"; 0 or ZT_ERR_INVALID. */
int log_level_parse(const char *s, enum zt_log_level *out);

void log_msg(enum zt_log_level lvl, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ZT_LOG_(lvl, ...) \
	do { \
		if ((lvl) <= log_level()) { \
			log_msg((lvl), __FILE__, __LINE__, __VA_ARGS__); \
		} \
	} while (0)
#define log_error(...) ZT_LOG_(ZT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) ZT_LOG_(ZT_LOG_WARN, __VA_ARGS__)
#define log_info(...) ZT_LOG_(ZT_LOG_INFO, __VA_ARGS__)
#define log_debug(...) ZT_LOG_(ZT_LOG_DEBUG, __VA_ARGS__)

#endif
