/*
 * cli_out.c - failure lines and printable text for ztctl (cli_out.h).
 */
#include "cli/cli_out.h"

#include <stdarg.h>
#include <stdio.h>

void cli_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ztctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_clean(const char *s, int keep_nl, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++) {
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) || (keep_nl && s[i] == '\n') ? s[i] : '?';
	}
	out[i] = '\0';
	return out;
}
