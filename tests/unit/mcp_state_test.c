/*
 * mcp_state_test.c - unit tests for mcp/mcp_state: a sealed state opens
 * for the identity and request it was issued to, until it expires, and for
 * nothing else; every change to its text is refused as forged; texts that
 * are no state at all are refused without a crash; the wire form is the one
 * mcp_state.h describes; the request hash ignores key order and nothing
 * else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp_state.h"

#define NOW 1700000000
#define TTL 300

static const uint8_t KEY[MCP_STATE_KEY_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
	0x1f, 0x20,
};

static const struct mcp_identity ALICE = { "user", "alice", "ops", "127.0.0.1", "cred-a" };

static const char DATA[] = "{\"asked\":[\"confirm\",\"reason\"],\"step\":2,\"host\":\"web1\"}";

/* The hash of tools/call ssh_exec {"host":"web1"}, the request of most
 * tests. */
static void req_hash(char out[65])
{
	cJSON *args = cJSON_Parse("{\"host\":\"web1\",\"command\":\"uptime\"}");

	assert_non_null(args);
	assert_int_equal(mcp_state_request_hash("tools/call", "ssh_exec", args, out), 0);
	cJSON_Delete(args);
}

static cJSON *parse(const char *text)
{
	cJSON *v = cJSON_Parse(text);

	assert_non_null(v);
	return v;
}

/* A state of DATA sealed for ALICE's request at NOW, valid TTL seconds. */
static char *seal_default(void)
{
	char req[65], *text = NULL;
	cJSON *data = parse(DATA);

	req_hash(req);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, data, &text), 0);
	assert_non_null(text);
	cJSON_Delete(data);
	return text;
}

/* mcp_state_open for ALICE's request at now: its code; *data NULL on
 * failure is checked here. */
static int open_as(const struct mcp_identity *who, int64_t now, const char *text, cJSON **data)
{
	char req[65];
	int r;

	req_hash(req);
	r = mcp_state_open(KEY, who, req, now, text, data);
	if (r != 0) {
		assert_null(*data);
	}
	return r;
}

static void expect_refused(const char *text, int want)
{
	cJSON *data = (cJSON *)(uintptr_t)1;
	int r = open_as(&ALICE, NOW, text, &data);

	if (r != want) {
		fail_msg("open(%.80s) = %d (%s), want %d", text != NULL ? text : "(null)", r,
		    zt_strerror(r), want);
	}
}

static void test_round_trip(void **state)
{
	struct mcp_identity again = ALICE;
	char *text = seal_default();
	cJSON *want = parse(DATA), *got = NULL;
	size_t dots = 0;

	(void)state;
	/* URL-safe text, one dot, no padding. */
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '.') {
			dots++;
			continue;
		}
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
			fail_msg("character %c in %s", *p, text);
		}
	}
	assert_int_equal(dots, 1);
	assert_true(strlen(text) <= MCP_STATE_MAX);
	assert_int_equal(open_as(&ALICE, NOW, text, &got), 0);
	assert_true(cJSON_Compare(want, got, 1));
	cJSON_Delete(got);
	/* Only kind and name bind: a new token, address or roles still open it. */
	snprintf(again.source, sizeof(again.source), "::1");
	snprintf(again.credential, sizeof(again.credential), "cred-b");
	snprintf(again.roles, sizeof(again.roles), "ops,admin");
	got = NULL;
	assert_int_equal(open_as(&again, NOW + TTL - 1, text, &got), 0);
	assert_true(cJSON_Compare(want, got, 1));
	cJSON_Delete(got);
	cJSON_Delete(want);
	free(text);
}

/* Every single-byte change anywhere in the text, each bit of it, is refused
 * as forged; so is every deletion of one byte and every truncation. */
static void test_every_byte_change_refused(void **state)
{
	char *text = seal_default(), *t = NULL;
	size_t n = strlen(text), tried = 0;

	(void)state;
	assert_non_null(t = malloc(n + 1));
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(t, text, n + 1);
			t[i] = (char)(t[i] ^ (1 << bit));
			if (t[i] == '\0') {
				continue;
			}
			tried++;
			expect_refused(t, ZT_ERR_INVALID);
		}
		memcpy(t, text, i);
		memcpy(t + i, text + i + 1, n - i);
		expect_refused(t, ZT_ERR_INVALID);
		memcpy(t, text, i);
		t[i] = '\0';
		expect_refused(t, ZT_ERR_INVALID);
	}
	assert_true(tried >= 7 * n);
	free(t);
	free(text);
}

static void test_appended_refused(void **state)
{
	static const char *const tails[] = { "-TAMPERED", "A", ".", "=", " ", "\n", "AA" };
	char *text = seal_default(), buf[MCP_STATE_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", text, tails[i]);
		expect_refused(buf, ZT_ERR_INVALID);
		snprintf(buf, sizeof(buf), "%s%s", tails[i], text);
		expect_refused(buf, ZT_ERR_INVALID);
	}
	free(text);
}

static void test_other_key_refused(void **state)
{
	uint8_t other[MCP_STATE_KEY_LEN];
	char req[65], *text = seal_default();
	cJSON *data = NULL;

	(void)state;
	memcpy(other, KEY, sizeof(other));
	other[31] ^= 0x80;
	req_hash(req);
	assert_int_equal(mcp_state_open(other, &ALICE, req, NOW, text, &data), ZT_ERR_INVALID);
	assert_null(data);
	free(text);
}

static void test_expired(void **state)
{
	char *text = seal_default();
	cJSON *data = NULL;

	(void)state;
	assert_int_equal(open_as(&ALICE, NOW + TTL - 1, text, &data), 0);
	cJSON_Delete(data);
	data = NULL;
	assert_int_equal(open_as(&ALICE, NOW + TTL, text, &data), ZT_ERR_EXPIRED);
	assert_int_equal(open_as(&ALICE, NOW + 100 * TTL, text, &data), ZT_ERR_EXPIRED);
	/* A clock that went back does not make it invalid. */
	assert_int_equal(open_as(&ALICE, NOW - 5, text, &data), 0);
	cJSON_Delete(data);
	free(text);
}

static void test_other_identity_denied(void **state)
{
	static const struct mcp_identity others[] = {
		{ "user", "bob", "ops", "127.0.0.1", "cred-a" },
		{ "bot", "alice", "ops", "127.0.0.1", "cred-a" },
		{ "user", "Alice", "ops", "127.0.0.1", "cred-a" },
		{ "user", "alice ", "ops", "127.0.0.1", "cred-a" },
		/* kind and name cannot trade bytes: "usera"/"lice" is not "user"/"alice" */
		{ "usera", "lice", "ops", "127.0.0.1", "cred-a" },
		{ "anonymous", "", "", "127.0.0.1", "" },
	};
	char *text = seal_default();
	cJSON *data = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (open_as(&others[i], NOW, text, &data) != ZT_ERR_DENIED) {
			fail_msg("%s:%s was not denied", others[i].kind, others[i].name);
		}
	}
	/* Another identity is told so even once the state expired. */
	assert_int_equal(open_as(&others[0], NOW + TTL, text, &data), ZT_ERR_DENIED);
	free(text);
}

static void test_other_request_mismatch(void **state)
{
	char other[65], *text = seal_default();
	cJSON *args = parse("{\"host\":\"web1\",\"command\":\"reboot\"}"), *data = NULL;

	(void)state;
	assert_int_equal(mcp_state_request_hash("tools/call", "ssh_exec", args, other), 0);
	assert_int_equal(mcp_state_open(KEY, &ALICE, other, NOW, text, &data), ZT_ERR_MISMATCH);
	assert_null(data);
	/* Identity is checked before the request, the request before expiry. */
	assert_int_equal(mcp_state_open(KEY, &(struct mcp_identity){ "user", "bob", "", "", "" },
	    other, NOW, text, &data), ZT_ERR_DENIED);
	assert_int_equal(mcp_state_open(KEY, &ALICE, other, NOW + TTL, text, &data),
	    ZT_ERR_MISMATCH);
	/* A malformed request hash is a caller's error, not a mismatch. */
	assert_int_equal(mcp_state_open(KEY, &ALICE, "ABCDEF", NOW, text, &data), ZT_ERR_INVALID);
	cJSON_Delete(args);
	free(text);
}

/* Texts that are no state at all: refused as malformed, without a crash. */
static void test_garbage_refused(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "...", "a", "a.", ".a", "a.b", "abc", "eyJ2IjoxfQ",
		"eyJ2IjoxfQ.", "eyJ2IjoxfQ==.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"\xff\xfe\x80.\x01\x02", "{\"v\":1}", "null", "e30.e30.e30", "e30..e30",
		"e30 .AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"e30+.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	char *text = seal_default(), *big = NULL, *two = NULL;
	const char *dot = strchr(text, '.');
	cJSON *data = NULL;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_refused(bad[i], ZT_ERR_INVALID);
	}
	expect_refused(NULL, ZT_ERR_INVALID);
	/* Two dots: payload.mac.mac, payload.payload.mac. */
	n = strlen(text);
	assert_non_null(two = malloc(2 * n + 2));
	snprintf(two, 2 * n + 2, "%s.%s", text, dot + 1);
	expect_refused(two, ZT_ERR_INVALID);
	snprintf(two, 2 * n + 2, "%.*s.%s", (int)(dot - text), text, text);
	expect_refused(two, ZT_ERR_INVALID);
	/* Over MCP_STATE_MAX: refused before anything is decoded; a text of
	 * base64url characters just past the bound as well. */
	assert_non_null(big = malloc(MCP_STATE_MAX + 2));
	memset(big, 'A', MCP_STATE_MAX + 1);
	big[MCP_STATE_MAX + 1] = '\0';
	big[100] = '.';
	expect_refused(big, ZT_ERR_INVALID);
	big[MCP_STATE_MAX] = '\0';
	expect_refused(big, ZT_ERR_INVALID);
	/* Bad arguments. */
	assert_int_equal(mcp_state_open(KEY, &ALICE, NULL, NOW, text, &data), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_open(NULL, &ALICE, NULL, NOW, text, &data), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_open(KEY, NULL, NULL, NOW, text, &data), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_open(KEY, &ALICE, NULL, NOW, text, NULL), ZT_ERR_INVALID);
	free(two);
	free(big);
	free(text);
}

/* 1 if a and b are the same value to the last bit: their canonical
 * encodings (through the request hash) are alike. */
static int same_exactly(const cJSON *a, const cJSON *b)
{
	char x[65], y[65];

	assert_int_equal(mcp_state_request_hash("m", "n", a, x), 0);
	assert_int_equal(mcp_state_request_hash("m", "n", b, y), 0);
	return strcmp(x, y) == 0;
}

/* Data of every JSON type round-trips exactly as it was. */
static void test_data_types(void **state)
{
	static const char *const values[] = {
		"null", "true", "false", "0", "-1.5", "1e300", "999999999999999", "-0.1", "0.1",
		"-0", "1700000000123", "5e-324",
		"\"\"", "\"caf\xc3\xa9 \\u2028 \\\"q\\\" \\\\ \\n\"", "[]", "{}",
		"[1,\"two\",[3,[4,{\"five\":null}]],{\"six\":[true,false]}]",
		"{\"z\":1,\"a\":{\"m\":[],\"b\":\"x\"}}",
	};
	char req[65];

	(void)state;
	req_hash(req);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cJSON *want = parse(values[i]), *got = NULL;
		char *text = NULL;

		if (mcp_state_seal(KEY, &ALICE, req, NOW, TTL, want, &text) != 0) {
			fail_msg("%s was not sealed", values[i]);
		}
		assert_int_equal(mcp_state_open(KEY, &ALICE, req, NOW, text, &got), 0);
		if (!cJSON_Compare(want, got, 1) || !same_exactly(want, got)) {
			fail_msg("%s did not come back", values[i]);
		}
		cJSON_Delete(got);
		cJSON_Delete(want);
		free(text);
	}
}

/* Numbers cJSON would not print back to the last bit are refused, not
 * changed: infinity (printed null), and those whose 15 digits read back as
 * a neighbour. */
static void test_lossy_numbers_refused(void **state)
{
	static const char *const values[] = {
		"1e999", "[-1e999]", "9007199254740991", "{\"a\":[0.30000000000000004]}",
		"1.0000000000000002",
	};
	char req[65];

	(void)state;
	req_hash(req);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cJSON *v = parse(values[i]);
		char *text = (char *)(uintptr_t)1;

		if (mcp_state_seal(KEY, &ALICE, req, NOW, TTL, v, &text) != ZT_ERR_INVALID) {
			fail_msg("%s was sealed", values[i]);
		}
		assert_null(text);
		cJSON_Delete(v);
	}
}

/* What seal refuses, and that the largest data it takes still opens. */
static void test_seal_bounds(void **state)
{
	char req[65], *text = (char *)(uintptr_t)1, *s = NULL;
	cJSON *data = parse(DATA), *deep = NULL, *dup = NULL, *big = NULL, *got = NULL;
	size_t len;
	int r;

	(void)state;
	req_hash(req);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, 0, data, &text), ZT_ERR_INVALID);
	assert_null(text);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, -1, data, &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, MCP_STATE_TTL_MAX + 1, data, &text),
	    ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, -1, TTL, data, &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, INT64_MAX - 10, TTL, data, &text),
	    ZT_ERR_INVALID);
	/* Times stay integers cJSON prints exactly: at most 15 digits. */
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, 999999999999999LL - TTL + 1, TTL, data,
	    &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, 999999999999999LL - TTL, TTL, data,
	    &text), 0);
	assert_int_equal(mcp_state_open(KEY, &ALICE, req, 999999999999999LL - 1, text, &got), 0);
	cJSON_Delete(got);
	got = NULL;
	assert_int_equal(mcp_state_open(KEY, &ALICE, req, 999999999999999LL, text, &got),
	    ZT_ERR_EXPIRED);
	free(text);
	text = NULL;
	assert_int_equal(mcp_state_seal(KEY, &ALICE, "abc", NOW, TTL, data, &text),
	    ZT_ERR_INVALID);
	for (size_t i = 0; req[i] != '\0'; i++) {
		if (req[i] >= 'a' && req[i] <= 'f') {
			char upper[65];

			memcpy(upper, req, sizeof(upper));
			upper[i] = (char)(upper[i] - 'a' + 'A');
			assert_int_equal(mcp_state_seal(KEY, &ALICE, upper, NOW, TTL, data, &text),
			    ZT_ERR_INVALID);
			break;
		}
	}
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, NULL, &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(NULL, &ALICE, req, NOW, TTL, data, &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, NULL, req, NOW, TTL, data, &text), ZT_ERR_INVALID);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, data, NULL), ZT_ERR_INVALID);
	/* The longest lifetime is allowed. */
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, MCP_STATE_TTL_MAX, data, &text), 0);
	free(text);
	text = NULL;

	/* Too deep: MCP_STATE_DEPTH levels of data seal, one more does not. */
	deep = cJSON_CreateArray();
	for (int i = 1; i < MCP_STATE_DEPTH; i++) {
		cJSON *outer = cJSON_CreateArray();

		assert_non_null(outer);
		cJSON_AddItemToArray(outer, deep);
		deep = outer;
	}
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, deep, &text), 0);
	assert_int_equal(mcp_state_open(KEY, &ALICE, req, NOW, text, &got), 0);
	assert_true(cJSON_Compare(deep, got, 1));
	cJSON_Delete(got);
	got = NULL;
	free(text);
	text = NULL;
	{
		cJSON *outer = cJSON_CreateArray();

		cJSON_AddItemToArray(outer, deep);
		deep = outer;
	}
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, deep, &text), ZT_ERR_TOO_LARGE);
	assert_null(text);

	/* A repeated key would not parse back: not sealed. */
	dup = parse("{\"a\":1}");
	cJSON_AddNumberToObject(dup, "a", 2);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, dup, &text), ZT_ERR_INVALID);

	/* Too large; then the largest string that fits seals and opens. */
	assert_non_null(s = malloc(MCP_STATE_MAX + 1));
	memset(s, 'x', MCP_STATE_MAX);
	s[MCP_STATE_MAX] = '\0';
	big = cJSON_CreateString(s);
	assert_int_equal(mcp_state_seal(KEY, &ALICE, req, NOW, TTL, big, &text), ZT_ERR_TOO_LARGE);
	cJSON_Delete(big);
	/* Base64 takes 4/3: three quarters of the bound no longer fits. */
	for (len = MCP_STATE_MAX * 3 / 4; len > 0; len--) {
		s[len] = '\0';
		big = cJSON_CreateString(s);
		r = mcp_state_seal(KEY, &ALICE, req, NOW, TTL, big, &text);
		if (r == 0) {
			break;
		}
		assert_int_equal(r, ZT_ERR_TOO_LARGE);
		cJSON_Delete(big);
	}
	assert_true(len < MCP_STATE_MAX * 3 / 4);
	assert_true(len > MCP_STATE_MAX / 2);
	assert_true(strlen(text) <= MCP_STATE_MAX);
	assert_true(strlen(text) > MCP_STATE_MAX - 4);
	assert_int_equal(mcp_state_open(KEY, &ALICE, req, NOW, text, &got), 0);
	assert_true(cJSON_Compare(big, got, 1));
	cJSON_Delete(got);
	cJSON_Delete(big);
	free(text);
	free(s);
	cJSON_Delete(dup);
	cJSON_Delete(deep);
	cJSON_Delete(data);
}

/* base64url of p[0..n) into out (owned). */
static char *b64url(const void *p, size_t n)
{
	size_t sz = n / 3 * 4 + 5;
	char *out = malloc(sz);

	assert_non_null(out);
	assert_int_equal(crypto_b64url(p, n, out, sz), 0);
	return out;
}

/* A text in the form mcp_state.h describes, MACed here with KEY: what
 * the wire form is, independently of the sealing code. */
static char *forge(const char *payload)
{
	static const char label[] = "zt-mcp-state-v1";
	size_t n = strlen(payload), mlen = 0;
	uint8_t *msg = malloc(sizeof(label) + n), mac[64];
	char *p64, *m64, *text;

	assert_non_null(msg);
	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), payload, n);
	assert_int_equal(crypto_hmac("SHA256", KEY, sizeof(KEY), msg, sizeof(label) + n, mac,
	    &mlen), 0);
	assert_int_equal(mlen, 32);
	p64 = b64url(payload, n);
	m64 = b64url(mac, mlen);
	assert_non_null(text = malloc(strlen(p64) + strlen(m64) + 2));
	sprintf(text, "%s.%s", p64, m64);
	free(p64);
	free(m64);
	free(msg);
	return text;
}

/* tmpl with $E, $W and $R replaced by exp, who and req, into out. */
static void fill(const char *tmpl, const char *exp, const char *who, const char *req, char *out,
    size_t outsz)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *v = NULL;

		if (p[0] == '$' && p[1] == 'E') {
			v = exp;
		} else if (p[0] == '$' && p[1] == 'W') {
			v = who;
		} else if (p[0] == '$' && p[1] == 'R') {
			v = req;
		}
		if (v != NULL) {
			assert_true(o + strlen(v) < outsz);
			memcpy(out + o, v, strlen(v));
			o += strlen(v);
			p++;
			continue;
		}
		assert_true(o + 1 < outsz);
		out[o++] = *p;
	}
	out[o] = '\0';
}

/* The documented wire form opens; an authentic payload that is not a
 * version-1 state (which only a key used elsewhere could have made) is
 * refused as malformed. */
static void test_wire_form(void **state)
{
	char req[65], who[65], exp[24], payload[512], *text;
	uint8_t d[32];
	cJSON *data = NULL;
	static const struct {
		const char *tmpl;
		int want;
	} cases[] = {
		{ "{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":[7]}", 0 },
		{ "{\"data\":[7],\"req\":\"$R\",\"who\":\"$W\",\"exp\":$E,\"v\":1}", 0 },
		{ "{\"v\":2,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":[7]}",
		  ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\"}", ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":1,\"x\":1}",
		  ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":\"$E\",\"who\":\"$W\",\"req\":\"$R\",\"data\":1}",
		  ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":$E.5,\"who\":\"$W\",\"req\":\"$R\",\"data\":1}",
		  ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":1,\"v\":1}",
		  ZT_ERR_INVALID },
		{ "[{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":1}]",
		  ZT_ERR_INVALID },
		{ "{\"v\":1,\"exp\":$E,\"who\":\"$W\",\"req\":\"$R\",\"data\":1} x",
		  ZT_ERR_INVALID },
	};

	(void)state;
	req_hash(req);
	crypto_sha256("user\0alice", 10, d);
	assert_int_equal(crypto_hex(d, sizeof(d), who, sizeof(who)), 0);
	snprintf(exp, sizeof(exp), "%d", NOW + TTL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fill(cases[i].tmpl, exp, who, req, payload, sizeof(payload));
		text = forge(payload);
		if (open_as(&ALICE, NOW, text, &data) != cases[i].want) {
			fail_msg("%s: not %d", payload, cases[i].want);
		}
		if (cases[i].want == 0) {
			assert_true(cJSON_IsArray(data));
			assert_int_equal(cJSON_GetArrayItem(data, 0)->valueint, 7);
		}
		cJSON_Delete(data);
		data = NULL;
		free(text);
	}
	/* And what seal writes is that form: its payload part decodes to it. */
	{
		char *sealed = seal_default();
		const char *dot = strchr(sealed, '.');
		uint8_t *plain = NULL;
		size_t n = 0;
		cJSON *p = NULL;
		const char *s = NULL;
		int64_t v = 0;

		assert_int_equal(crypto_b64url_decode(sealed, (size_t)(dot - sealed), &plain,
		    &n), 0);
		assert_int_equal(json_parse(plain, n, n, 8, &p), 0);
		assert_int_equal(json_get_int(p, "v", 1, 1, &v), 0);
		assert_int_equal(json_get_int(p, "exp", NOW + TTL, NOW + TTL, &v), 0);
		assert_int_equal(json_get_str(p, "who", 64, 0, &s), 0);
		assert_string_equal(s, who);
		assert_int_equal(json_get_str(p, "req", 64, 0, &s), 0);
		assert_string_equal(s, req);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "data"));
		cJSON_Delete(p);
		free(plain);
		free(sealed);
	}
}

static void test_request_hash(void **state)
{
	char a[65], b[65];
	cJSON *x = parse("{\"host\":\"web1\",\"opts\":{\"b\":1,\"a\":[1,2]}}");
	cJSON *y = parse("{ \"opts\" : { \"a\" : [1, 2], \"b\" : 1.0 }, \"host\" : \"web1\" }");
	cJSON *z = parse("{\"host\":\"web1\",\"opts\":{\"b\":1,\"a\":[2,1]}}");
	cJSON *empty = parse("{}");
	cJSON *deep = NULL;

	(void)state;
	assert_int_equal(mcp_state_request_hash("tools/call", "t", x, a), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(mcp_state_request_hash("tools/call", "t", y, b), 0);
	assert_string_equal(a, b);
	/* Another name, method or arguments: another hash. */
	assert_int_equal(mcp_state_request_hash("tools/call", "u", x, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(mcp_state_request_hash("prompts/get", "t", x, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(mcp_state_request_hash("tools/call", "t", z, b), 0);
	assert_string_not_equal(a, b);
	/* Fields cannot trade bytes. */
	assert_int_equal(mcp_state_request_hash("tools/call", "tx", empty, a), 0);
	assert_int_equal(mcp_state_request_hash("tools/callt", "x", empty, b), 0);
	assert_string_not_equal(a, b);
	/* No arguments are {}, no name is "". */
	assert_int_equal(mcp_state_request_hash("tools/call", "t", empty, a), 0);
	assert_int_equal(mcp_state_request_hash("tools/call", "t", NULL, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(mcp_state_request_hash("resources/read", "", empty, a), 0);
	assert_int_equal(mcp_state_request_hash("resources/read", NULL, NULL, b), 0);
	assert_string_equal(a, b);
	/* Bounds. */
	assert_int_equal(mcp_state_request_hash(NULL, "t", x, a), ZT_ERR_INVALID);
	assert_string_equal(a, "");
	deep = cJSON_CreateArray();
	for (int i = 0; i < MCP_JSON_DEPTH + 1; i++) {
		cJSON *outer = cJSON_CreateArray();

		cJSON_AddItemToArray(outer, deep);
		deep = outer;
	}
	assert_int_equal(mcp_state_request_hash("tools/call", "t", deep, a), ZT_ERR_TOO_LARGE);
	assert_string_equal(a, "");
	cJSON_Delete(deep);
	cJSON_Delete(empty);
	cJSON_Delete(z);
	cJSON_Delete(y);
	cJSON_Delete(x);
}

static void test_why(void **state)
{
	(void)state;
	assert_string_equal(mcp_state_why(ZT_ERR_INVALID), "forged or malformed");
	assert_string_equal(mcp_state_why(ZT_ERR_EXPIRED), "expired");
	assert_string_equal(mcp_state_why(ZT_ERR_DENIED), "issued to another identity");
	assert_string_equal(mcp_state_why(ZT_ERR_MISMATCH), "issued for another request");
	assert_string_equal(mcp_state_why(ZT_ERR_NOMEM), zt_strerror(ZT_ERR_NOMEM));
	assert_string_equal(zt_strerror(ZT_ERR_MISMATCH), "bound to another request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_byte_change_refused),
		cmocka_unit_test(test_appended_refused),
		cmocka_unit_test(test_other_key_refused),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_other_identity_denied),
		cmocka_unit_test(test_other_request_mismatch),
		cmocka_unit_test(test_garbage_refused),
		cmocka_unit_test(test_data_types),
		cmocka_unit_test(test_lossy_numbers_refused),
		cmocka_unit_test(test_seal_bounds),
		cmocka_unit_test(test_wire_form),
		cmocka_unit_test(test_request_hash),
		cmocka_unit_test(test_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
