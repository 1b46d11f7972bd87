/*
 * http_headers.c - libFuzzer target for the MCP transport's header parsers
 * (broker/brk_httphdr.h): Accept, Content-Type, Content-Length, Host,
 * Origin and Last-Event-ID values.
 *
 * The input is one NUL-free header value; every parser sees it. Results
 * are checked for the properties callers rely on: a parsed host is
 * non-empty, lower-case and fits the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_httphdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_host(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n >= 256) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if (h[i] >= 'A' && h[i] <= 'Z') {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), host[256];
	struct brk_origin o;
	uint64_t a, b;

	if (s == NULL || size > 8192) {
		free(s);
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	(void)brk_hdr_accepts(s, "text/event-stream");
	(void)brk_hdr_accepts(s, "application/json");
	if (brk_hdr_host(s, host, sizeof(host)) == 0) {
		check_host(host);
	}
	if (brk_hdr_origin_host(s, host, sizeof(host)) == 0) {
		check_host(host);
	}
	if (brk_hdr_origin(s, &o) == 0) {
		check_host(o.host);
		if (o.port == 0 || o.port > 65535 || !brk_hdr_same_origin(s, s)) {
			abort();
		}
	}
	(void)brk_hdr_media_type_is(s, "application/json");
	(void)brk_hdr_content_length(s, &a);
	(void)brk_hdr_event_id(s, &a, &b);
	free(s);
	return 0;
}
