/*
 * cli_progress.c - the transfer progress line of ztctl (cli_progress.h).
 */
#include "cli/cli_progress.h"

#include <stdio.h>
#include <unistd.h>

#include "common/net.h"

#define MIB (1024.0 * 1024.0)

void cli_progress_start(struct cli_progress *p, int64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->shown = 0;
	p->total = total;
	p->done = 0;
	p->t0_ms = net_mono_ms();
	p->last_ms = 0;
}

/* Draws the line: "  12.0 MiB / 64.0 MiB  18%  40.1 MiB/s". */
static void draw(struct cli_progress *p, int64_t now)
{
	double secs = (double)(now - p->t0_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->done / MIB / secs : 0;

	if (p->total >= 0) {
		fprintf(stderr, "\r%8.1f MiB / %.1f MiB %3d%% %7.1f MiB/s\033[K",
		    (double)p->done / MIB, (double)p->total / MIB,
		    p->total > 0 ? (int)(p->done * 100 / p->total) : 100, rate);
	} else {
		fprintf(stderr, "\r%8.1f MiB %7.1f MiB/s\033[K", (double)p->done / MIB, rate);
	}
	fflush(stderr);
	p->shown = 1;
	p->last_ms = now;
}

void cli_progress_add(struct cli_progress *p, size_t n)
{
	int64_t now;

	p->done += (int64_t)n;
	if (!p->on) {
		return;
	}
	now = net_mono_ms();
	if (now - p->last_ms >= 1000 / CLI_PROGRESS_HZ) {
		draw(p, now);
	}
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = 0;
}
