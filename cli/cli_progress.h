/*
 * cli_progress.h - a one-line progress report for a transfer on standard
 * error: bytes done of the total, percent, rate. Shown only when standard
 * error is a terminal, redrawn at most CLI_PROGRESS_HZ times a second, and
 * cleared at the end, so nothing of it stays in a log or a pipe.
 */
#ifndef ZT_CLI_PROGRESS_H
#define ZT_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define CLI_PROGRESS_HZ 10

struct cli_progress {
	int on;          /* standard error is a terminal */
	int shown;       /* a line is on the screen */
	int64_t total;   /* bytes; < 0 when unknown */
	int64_t done;
	int64_t t0_ms;   /* when it started (net_mono_ms) */
	int64_t last_ms; /* when it was last drawn */
};

/* Starts a report of total bytes (< 0: unknown). */
void cli_progress_start(struct cli_progress *p, int64_t total);
/* Counts n more bytes and redraws the line if it is due. */
void cli_progress_add(struct cli_progress *p, size_t n);
/* Clears the line (if one was drawn). */
void cli_progress_end(struct cli_progress *p);

#endif
