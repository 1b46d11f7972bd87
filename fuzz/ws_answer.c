/*
 * fuzz/ws_answer.c - libFuzzer harness for common/ws's handshake answer
 * parser (what ztctl reads from the broker before a WebSocket starts).
 *
 * Input: the bytes of an answer's head. A head that parses must have a
 * status from 100 to 599, an accept value of exactly WS_ACCEPT_LEN
 * characters or none, and parse the same once more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_answer a, b;

	if (ws_parse_answer((const char *)data, size, &a) != 0) {
		return 0;
	}
	if (a.status < 100 || a.status > 599 ||
	    (a.accept[0] != '\0' && strlen(a.accept) != WS_ACCEPT_LEN) ||
	    ws_parse_answer((const char *)data, size, &b) != 0 || memcmp(&a, &b, sizeof(a)) != 0) {
		abort();
	}
	return 0;
}
