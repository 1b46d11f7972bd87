/*
 * fuzz/mcp_state.c - libFuzzer harness for mcp/mcp_state.
 *
 * The input is first a state's text from a client: mcp_state_open() with
 * a fixed key, identity, request and time must answer one of its codes and
 * never crash or leak. A text it finds authentic (the seeds were sealed
 * with that key) must be the one encoding of its bytes: decoded and
 * encoded again, it comes back the same, so no second spelling of a state
 * is ever accepted.
 *
 * Then, when the input parses as JSON, it is sealed as data and opened
 * back: the same data for the same identity and request; DENIED for
 * another identity, MISMATCH for another request, EXPIRED at the end of its
 * lifetime, INVALID once one byte of it changed; what opened is the same
 * value to the last bit (alike in json_canonical's encoding, through the
 * request hash). The request hash does not change when every object's
 * members come in reverse order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1700000000
#define FUZZ_TTL 300
#define FUZZ_JSON_MAX 4096
#define FUZZ_JSON_DEPTH 12

/* The request the seeds were sealed for:
 * mcp_state_request_hash("tools/call", "echo", {"x":1}). */
static const char FUZZ_REQ[] = "tools/call";

static const uint8_t KEY[MCP_STATE_KEY_LEN] = {
	0x7a, 0x74, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6d, 0x63, 0x70, 0x2d, 0x73, 0x74, 0x61,
	0x74, 0x65, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39,
};
static const struct mcp_identity ALICE = { "user", "alice", "ops", "192.0.2.1", "c" };
static const struct mcp_identity BOB = { "user", "bob", "ops", "192.0.2.1", "c" };

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static const char *req_hash(void)
{
	static char hex[65];
	cJSON *args = NULL;

	if (hex[0] == '\0') {
		check((args = cJSON_Parse("{\"x\":1}")) != NULL);
		check(mcp_state_request_hash(FUZZ_REQ, "echo", args, hex) == 0);
		cJSON_Delete(args);
	}
	return hex;
}

/* An authentic text has one spelling: its parts decoded and encoded again
 * give it back. */
static void check_one_spelling(const char *text)
{
	const char *dot = strchr(text, '.');
	uint8_t *p = NULL, *m = NULL;
	size_t plen = 0, mlen = 0;
	char *again = NULL;

	check(dot != NULL);
	check(crypto_b64url_decode(text, (size_t)(dot - text), &p, &plen) == 0);
	check(crypto_b64url_decode(dot + 1, strlen(dot + 1), &m, &mlen) == 0);
	check((again = malloc(strlen(text) + 1)) != NULL);
	check(crypto_b64url(p, plen, again, strlen(text) + 1) == 0);
	check(strncmp(again, text, (size_t)(dot - text)) == 0 && again[dot - text] == '\0');
	check(crypto_b64url(m, mlen, again, strlen(text) + 1) == 0);
	check(strcmp(again, dot + 1) == 0);
	free(again);
	free(m);
	free(p);
}

static void open_text(const uint8_t *data, size_t size)
{
	char *text = NULL;
	cJSON *out = NULL;
	int r;

	check((text = malloc(size + 1)) != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	r = mcp_state_open(KEY, &ALICE, req_hash(), FUZZ_NOW, text, &out);
	check(r == 0 || r == ZT_ERR_INVALID || r == ZT_ERR_DENIED || r == ZT_ERR_MISMATCH ||
	    r == ZT_ERR_EXPIRED || r == ZT_ERR_NOMEM);
	check((r == 0) == (out != NULL));
	if (r == 0 || r == ZT_ERR_DENIED || r == ZT_ERR_MISMATCH || r == ZT_ERR_EXPIRED) {
		check_one_spelling(text);
	}
	check(mcp_state_why(r) != NULL);
	cJSON_Delete(out);
	free(text);
}

/* A copy of v with every object's members in reverse order. */
static cJSON *reversed(const cJSON *v)
{
	const cJSON *c = NULL, *last = v->child != NULL ? v->child->prev : NULL;
	cJSON *copy = NULL;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
		check((copy = cJSON_Duplicate(v, 0)) != NULL);
		return copy;
	}
	check((copy = cJSON_IsObject(v) ? cJSON_CreateObject() : cJSON_CreateArray()) != NULL);
	if (cJSON_IsObject(v)) {
		for (c = last; c != NULL; c = c == v->child ? NULL : c->prev) {
			check(cJSON_AddItemToObject(copy, c->string, reversed(c)));
		}
	} else {
		for (c = v->child; c != NULL; c = c->next) {
			check(cJSON_AddItemToArray(copy, reversed(c)));
		}
	}
	return copy;
}

/* 1 if a and b hash alike as a request's arguments. */
static int same_hash(const cJSON *a, const cJSON *b)
{
	char x[65], y[65];

	check(mcp_state_request_hash("prompts/get", "p", a, x) == 0);
	check(mcp_state_request_hash("prompts/get", "p", b, y) == 0);
	return strcmp(x, y) == 0;
}

static void seal_json(const uint8_t *data, size_t size)
{
	char other[65], *text = NULL;
	cJSON *v = NULL, *back = NULL, *out = NULL;
	size_t n;
	int r;

	if (json_parse(data, size, FUZZ_JSON_MAX, FUZZ_JSON_DEPTH, &v) != 0) {
		return;
	}
	r = mcp_state_seal(KEY, &ALICE, req_hash(), FUZZ_NOW, FUZZ_TTL, v, &text);
	/* INVALID: a number that would not come back to the last bit (1e999). */
	check(r == 0 || r == ZT_ERR_TOO_LARGE || r == ZT_ERR_INVALID);
	if (r == 0) {
		check(strlen(text) <= MCP_STATE_MAX);
		check(mcp_state_open(KEY, &ALICE, req_hash(), FUZZ_NOW, text, &out) == 0);
		check(cJSON_Compare(v, out, 1) && same_hash(v, out));
		cJSON_Delete(out);
		out = NULL;
		check(mcp_state_open(KEY, &BOB, req_hash(), FUZZ_NOW, text, &out) ==
		    ZT_ERR_DENIED);
		check(mcp_state_request_hash(FUZZ_REQ, "echo", v, other) == 0);
		check(strcmp(other, req_hash()) == 0 ||
		    mcp_state_open(KEY, &ALICE, other, FUZZ_NOW, text, &out) == ZT_ERR_MISMATCH);
		check(mcp_state_open(KEY, &ALICE, req_hash(), FUZZ_NOW + FUZZ_TTL, text, &out) ==
		    ZT_ERR_EXPIRED);
		n = strlen(text);
		text[size % n] = text[size % n] == 'A' ? 'B' : 'A';
		check(mcp_state_open(KEY, &ALICE, req_hash(), FUZZ_NOW, text, &out) ==
		    ZT_ERR_INVALID);
		check(out == NULL);
	}
	/* Key order is not part of a request. */
	back = reversed(v);
	check(same_hash(v, back));
	cJSON_Delete(back);
	free(text);
	cJSON_Delete(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_text(data, size);
	seal_json(data, size);
	return 0;
}
