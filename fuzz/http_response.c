/*
 * http_response.c - libFuzzer target for ztctl's strict HTTP response parser
 * (cli_http_parse_response).
 *
 * Each input is parsed as if the connection had closed cleanly and as if
 * more might come; on success the decoded body must fit the buffer and the
 * status be in range. The head alone (cli_http_parse_head, what the
 * streaming reader uses) must agree with the whole-response parser, and
 * header look-ups must stay inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/cli_http.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_head(const uint8_t *data, size_t size, int whole, int status)
{
	static const char *const names[] = { "content-type", "mcp-session-id", "x", NULL };
	struct cli_http_head h;
	const uint8_t *v;
	size_t vlen, i;

	if (cli_http_parse_head(data, size, CLI_HTTP_RESP_MAX, &h) != 0) {
		/* A complete response has a complete head. */
		if (whole == 0) {
			abort();
		}
		return;
	}
	if (h.head_len > size || h.status < 200 || h.status > 599 ||
	    (whole == 0 && h.status != status)) {
		abort();
	}
	for (i = 0; names[i] != NULL; i++) {
		if (cli_http_head_value(data, h.head_len, names[i], &v, &vlen) == 0 &&
		    (v < data || v + vlen > data + h.head_len)) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *body = buf_new(CLI_HTTP_RESP_MAX);
	int eof, status, r, whole = -1, whole_status = 0;

	if (body == NULL) {
		return 0;
	}
	for (eof = 0; eof <= 1; eof++) {
		status = 0;
		r = cli_http_parse_response(data, size, eof, &status, body);
		if (r == 0 && (status < 200 || status > 599 || buf_len(body) > size)) {
			abort();
		}
		if (r != 0 && buf_len(body) != 0) {
			abort();
		}
		if (r == 0) {
			whole = 0;
			whole_status = status;
		}
	}
	check_head(data, size, whole, whole_status);
	buf_free(body);
	return 0;
}
