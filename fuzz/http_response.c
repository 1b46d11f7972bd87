/*
 * http_response.c - libFuzzer target for ztctl's strict HTTP response parser
 * (cli_http_parse_response).
 *
 * Each input is parsed as if the connection had closed cleanly and as if
 * more might come; on success the decoded body must fit the buffer and the
 * status be in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/cli_http.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *body = buf_new(CLI_HTTP_RESP_MAX);
	int eof, status, r;

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
	}
	buf_free(body);
	return 0;
}
