/*
 * cli_out.c - failure lines and printable text for ztctl (cli_out.h).
 */
#include "cli/cli_out.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/err.h"
#include "common/json.h"
#include "tunnel/tun.h"

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

const char *cli_labels(const cJSON *entry, char *out, size_t outsz)
{
	struct tun_label l[TUN_LABELS_MAX];
	const cJSON *o = NULL;
	char why[TUN_WHY_MAX];
	size_t n = 0;
	int r;

	out[0] = '\0';
	if ((r = json_get_obj(entry, "labels", &o)) == ZT_ERR_NOT_FOUND) {
		return out;
	}
	if (r != 0 || tun_labels_from_json(o, l, &n, why, sizeof(why)) != 0) {
		snprintf(out, outsz, "?");
		return out;
	}
	tun_labels_format(l, n, out, outsz);
	return out;
}
