/*
 * json_test.c - unit tests for common/json: every refusal of json_parse
 * (size, depth, trailing bytes, NUL, bad UTF-8, \u0000, repeated keys) and
 * the typed getters' return codes, the optional getters' defaults;
 * json_canonical's encoding (one spelling per value, fixed forever) and
 * its depth bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"

/* json_parse over a C string with roomy limits. */
static int parse(const char *s, cJSON **out)
{
	return json_parse(s, strlen(s), 1 << 16, JSON_DEFAULT_DEPTH, out);
}

static void expect(const char *s, int want)
{
	cJSON *v = NULL;
	int r = parse(s, &v);

	if (r != want) {
		fail_msg("parse(%s) = %d, want %d", s, r, want);
	}
	if (want != 0) {
		assert_null(v);
	}
	cJSON_Delete(v);
}

static void test_parse_ok(void **state)
{
	(void)state;
	expect("{}", 0);
	expect("[]", 0);
	expect("1", 0);
	expect("\"x\"", 0);
	expect("null", 0);
	expect(" \t\r\n{\"a\":[1,2,{\"b\":\"c\"}]} \n\t\r", 0);
	expect("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"", 0);
	expect("\"\\u00e9\\ud83d\\ude00\"", 0);
	expect("\"\\\\u0000\"", 0); /* an escaped backslash, then text "u0000" */
	expect("\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"", 0);
}

static void test_size_limit(void **state)
{
	const char *s = "{\"a\":\"0123456789\"}";
	cJSON *v = NULL;
	(void)state;

	assert_int_equal(json_parse(s, strlen(s), strlen(s) - 1, 8, &v), ZT_ERR_TOO_LARGE);
	assert_null(v);
	assert_int_equal(json_parse(s, strlen(s), strlen(s), 8, &v), 0);
	assert_non_null(v);
	cJSON_Delete(v);
}

static void test_depth_limit(void **state)
{
	char s[256];
	cJSON *v = NULL;
	int i;
	(void)state;

	for (i = 0; i < 5; i++) {
		s[i] = '[';
		s[9 - i] = ']';
	}
	s[10] = '\0';
	assert_int_equal(json_parse(s, 10, 100, 5, &v), 0);
	cJSON_Delete(v);
	v = NULL;
	assert_int_equal(json_parse(s, 10, 100, 4, &v), ZT_ERR_TOO_LARGE);
	assert_null(v);
	assert_int_equal(json_parse("{\"a\":{\"b\":[1]}}", 15, 100, 3, &v), 0);
	cJSON_Delete(v);
	v = NULL;
	assert_int_equal(json_parse("{\"a\":{\"b\":[1]}}", 15, 100, 2, &v), ZT_ERR_TOO_LARGE);
	/* Brackets inside strings, even after escaped quotes, do not count. */
	assert_int_equal(json_parse("[\"\\\"[[[[\"]", 10, 100, 1, &v), 0);
	cJSON_Delete(v);
	v = NULL;
	assert_int_equal(json_parse("1", 1, 100, 0, &v), 0);
	cJSON_Delete(v);
	v = NULL;
	/* Far deeper than cJSON's own limit: refused before cJSON recurses. */
	{
		size_t n = 100000, k;
		char *deep = malloc(n);

		assert_non_null(deep);
		for (k = 0; k < n; k++) {
			deep[k] = k < n / 2 ? '[' : ']';
		}
		assert_int_equal(json_parse(deep, n, n, JSON_DEFAULT_DEPTH, &v), ZT_ERR_TOO_LARGE);
		free(deep);
	}
}

static void test_trailing(void **state)
{
	(void)state;
	expect("{} x", ZT_ERR_TRAILING);
	expect("{}{}", ZT_ERR_TRAILING);
	expect("1 2", ZT_ERR_TRAILING);
	expect("[1]]", ZT_ERR_TRAILING);
	expect("{}  \n", 0);
}

static void test_nul_and_controls(void **state)
{
	cJSON *v = NULL;
	(void)state;

	assert_int_equal(json_parse("{}\0", 3, 100, 4, &v), ZT_ERR_INVALID);
	assert_int_equal(json_parse("\"a\0b\"", 5, 100, 4, &v), ZT_ERR_INVALID);
	assert_null(v);
	expect("\"a\\u0000b\"", ZT_ERR_INVALID);
	expect("{\"k\\u0000\":1}", ZT_ERR_INVALID);
	expect("\"tab\there\"", ZT_ERR_INVALID);
	expect("\x01{}", ZT_ERR_INVALID);
	expect("[1,\x1f 2]", ZT_ERR_INVALID);
	expect("", ZT_ERR_INVALID);
	expect("\"unterminated", ZT_ERR_INVALID);
	expect("\"\\", ZT_ERR_INVALID);
	expect("{\"a\":}", ZT_ERR_INVALID);
}

static void test_bad_utf8(void **state)
{
	(void)state;
	expect("\"\xc0\xaf\"", ZT_ERR_INVALID);         /* overlong '/' */
	expect("\"\xe0\x80\xaf\"", ZT_ERR_INVALID);     /* overlong, 3 bytes */
	expect("\"\xf0\x80\x80\xaf\"", ZT_ERR_INVALID); /* overlong, 4 bytes */
	expect("\"\xed\xa0\x80\"", ZT_ERR_INVALID);     /* U+D800 surrogate */
	expect("\"\xed\xbf\xbf\"", ZT_ERR_INVALID);     /* U+DFFF surrogate */
	expect("\"\xf4\x90\x80\x80\"", ZT_ERR_INVALID); /* U+110000 */
	expect("\"\xf5\x80\x80\x80\"", ZT_ERR_INVALID);
	expect("\"\xff\"", ZT_ERR_INVALID);
	expect("\"\x80\"", ZT_ERR_INVALID);             /* lone continuation */
	expect("\"\xc3\"", ZT_ERR_INVALID);             /* truncated */
	expect("\"\xe2\x82\"", ZT_ERR_INVALID);
	expect("\"\xc3\x28\"", ZT_ERR_INVALID);         /* bad continuation */
	expect("\"\xed\x9f\xbf\"", 0);                  /* U+D7FF, just below */
	expect("\"\xee\x80\x80\"", 0);                  /* U+E000, just above */
	/* Escaped lone surrogates are cJSON's to refuse. */
	expect("\"\\ud800\"", ZT_ERR_INVALID);
	expect("\"\\udc00\"", ZT_ERR_INVALID);
}

static void test_number_grammar(void **state)
{
	static const char *const bad[] = { "01", "-01", "1.", "1.e5", ".5", "+1", "-", "1e",
		"1E+", "[01]", "{\"a\":00}", "1.2.3", "1e5e5", "--1", "NaN", "Infinity",
		"[-]" };
	static const char *const good[] = { "0", "-0", "0.5", "-0.5e-3", "1E+2", "10", "[0,-1]",
		"123456789012345678901234567890", "1e-400" };
	char big[80];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect(bad[i], ZT_ERR_INVALID);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect(good[i], 0);
	}
	expect("0x10", ZT_ERR_TRAILING);
	/* A number longer than cJSON reads in one go is refused, not cut. */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(big, ZT_ERR_INVALID);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect("{\"a\":1,\"a\":2}", ZT_ERR_INVALID);
	expect("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", ZT_ERR_INVALID);
	expect("[{\"a\":1},{\"a\":2}]", 0);
	expect("{\"a\":1,\"A\":2}", 0);
	expect("{\"\\u0061\":1,\"a\":2}", ZT_ERR_INVALID);
}

static void test_get_str(void **state)
{
	cJSON *v = NULL;
	const char *s = NULL;
	(void)state;

	assert_int_equal(parse("{\"s\":\"hello\",\"e\":\"\",\"n\":null,\"i\":5,"
	    "\"S\":\"x\"}", &v), 0);
	assert_int_equal(json_get_str(v, "s", 5, 0, &s), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(json_get_str(v, "s", 4, 0, &s), ZT_ERR_TOO_LARGE);
	assert_null(s);
	assert_int_equal(json_get_str(v, "e", 5, 0, &s), ZT_ERR_INVALID);
	assert_int_equal(json_get_str(v, "e", 5, 1, &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(json_get_str(v, "n", 5, 1, &s), ZT_ERR_NOT_FOUND);
	assert_int_equal(json_get_str(v, "missing", 5, 1, &s), ZT_ERR_NOT_FOUND);
	assert_int_equal(json_get_str(v, "i", 5, 1, &s), ZT_ERR_TYPE);
	/* Keys are case-sensitive. */
	assert_int_equal(json_get_str(v, "S", 5, 1, &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(json_get_str(v->child, "s", 5, 1, &s), ZT_ERR_TYPE);
	cJSON_Delete(v);
}

static void test_get_int(void **state)
{
	cJSON *v = NULL;
	int64_t i = 0;
	(void)state;

	assert_int_equal(parse("{\"a\":42,\"neg\":-7,\"f\":1.5,\"one\":1.0,\"e\":1e3,"
	    "\"big\":9007199254740991,\"big2\":9007199254740992,\"big3\":9007199254740993,"
	    "\"huge\":1e300,\"s\":\"5\",\"b\":true,\"n\":null,\"inf\":1e999}", &v), 0);
	assert_int_equal(json_get_int(v, "a", 0, 100, &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(json_get_int(v, "a", 0, 41, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "a", 43, 100, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "neg", -10, 0, &i), 0);
	assert_int_equal(i, -7);
	assert_int_equal(json_get_int(v, "neg", 0, 10, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "f", INT64_MIN, INT64_MAX, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "one", 0, 10, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(json_get_int(v, "e", 0, 1000, &i), 0);
	assert_int_equal(i, 1000);
	assert_int_equal(json_get_int(v, "big", INT64_MIN, INT64_MAX, &i), 0);
	assert_true(i == 9007199254740991LL);
	assert_int_equal(json_get_int(v, "big2", INT64_MIN, INT64_MAX, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "big3", INT64_MIN, INT64_MAX, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "huge", INT64_MIN, INT64_MAX, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "inf", INT64_MIN, INT64_MAX, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int(v, "s", 0, 10, &i), ZT_ERR_TYPE);
	assert_int_equal(json_get_int(v, "b", 0, 10, &i), ZT_ERR_TYPE);
	assert_int_equal(json_get_int(v, "n", 0, 10, &i), ZT_ERR_NOT_FOUND);
	assert_int_equal(json_get_int(v, "nope", 0, 10, &i), ZT_ERR_NOT_FOUND);
	cJSON_Delete(v);
}

static void test_get_bool_obj_arr(void **state)
{
	cJSON *v = NULL;
	const cJSON *o = NULL;
	int b = -1;
	(void)state;

	assert_int_equal(parse("{\"t\":true,\"f\":false,\"o\":{\"x\":1},\"a\":[1,2,3],"
	    "\"n\":null,\"z\":0}", &v), 0);
	assert_int_equal(json_get_bool(v, "t", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_get_bool(v, "f", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_get_bool(v, "z", &b), ZT_ERR_TYPE);
	assert_int_equal(json_get_bool(v, "n", &b), ZT_ERR_NOT_FOUND);
	assert_int_equal(json_get_obj(v, "o", &o), 0);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "x"));
	assert_int_equal(json_get_obj(v, "a", &o), ZT_ERR_TYPE);
	assert_null(o);
	assert_int_equal(json_get_obj(v, "n", &o), ZT_ERR_NOT_FOUND);
	assert_int_equal(json_get_arr(v, "a", 3, &o), 0);
	assert_int_equal(cJSON_GetArraySize(o), 3);
	assert_int_equal(json_get_arr(v, "a", 2, &o), ZT_ERR_TOO_LARGE);
	assert_int_equal(json_get_arr(v, "o", 10, &o), ZT_ERR_TYPE);
	assert_int_equal(json_get_arr(v, "missing", 10, &o), ZT_ERR_NOT_FOUND);
	cJSON_Delete(v);
}

/* Optional fields: absent takes the default; present, null included, must
 * be valid, and a refused one leaves no default behind. */
static void test_get_opt(void **state)
{
	cJSON *v = NULL;
	const char *s = "unset";
	int64_t i = -1;
	int b = -1;
	(void)state;

	assert_int_equal(parse("{\"s\":\"hi\",\"e\":\"\",\"i\":7,\"b\":false,\"n\":null}",
	    &v), 0);
	assert_int_equal(json_get_str_opt(v, "s", 8, 0, "dflt", &s), 0);
	assert_string_equal(s, "hi");
	assert_int_equal(json_get_str_opt(v, "missing", 8, 0, "dflt", &s), 0);
	assert_string_equal(s, "dflt");
	assert_int_equal(json_get_str_opt(v, "missing", 8, 0, NULL, &s), 0);
	assert_null(s);
	assert_int_equal(json_get_str_opt(v, "e", 8, 0, "dflt", &s), ZT_ERR_INVALID);
	assert_int_equal(json_get_str_opt(v, "e", 8, 1, "dflt", &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(json_get_str_opt(v, "s", 1, 0, "dflt", &s), ZT_ERR_TOO_LARGE);
	assert_int_equal(json_get_str_opt(v, "i", 8, 0, "dflt", &s), ZT_ERR_TYPE);
	assert_int_equal(json_get_str_opt(v, "n", 8, 0, "dflt", &s), ZT_ERR_TYPE);
	assert_null(s);

	assert_int_equal(json_get_int_opt(v, "i", 0, 10, 3, &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(json_get_int_opt(v, "missing", 0, 10, 3, &i), 0);
	assert_int_equal(i, 3);
	/* The default need not be in range: "not given" can mean its own thing. */
	assert_int_equal(json_get_int_opt(v, "missing", 1, 10, 0, &i), 0);
	assert_int_equal(i, 0);
	i = -1;
	assert_int_equal(json_get_int_opt(v, "i", 8, 10, 9, &i), ZT_ERR_INVALID);
	assert_int_equal(json_get_int_opt(v, "s", 0, 10, 9, &i), ZT_ERR_TYPE);
	assert_int_equal(json_get_int_opt(v, "n", 0, 10, 9, &i), ZT_ERR_TYPE);
	assert_int_equal(i, -1);

	assert_int_equal(json_get_bool_opt(v, "b", 1, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_get_bool_opt(v, "missing", 1, &b), 0);
	assert_int_equal(b, 1);
	b = -1;
	assert_int_equal(json_get_bool_opt(v, "i", 1, &b), ZT_ERR_TYPE);
	assert_int_equal(json_get_bool_opt(v, "n", 1, &b), ZT_ERR_TYPE);
	assert_int_equal(b, -1);

	/* Not an object, or no out: refused as by the plain getters. */
	assert_int_equal(json_get_int_opt(v->child, "i", 0, 10, 3, &i), ZT_ERR_TYPE);
	assert_int_equal(json_get_bool_opt(v, "b", 1, NULL), ZT_ERR_INVALID);
	assert_int_equal(json_get_str_opt(NULL, "s", 8, 0, "dflt", &s), ZT_ERR_INVALID);
	cJSON_Delete(v);
}

static void test_only_keys(void **state)
{
	static const char *const allowed[] = { "name", "port", NULL };
	cJSON *v = NULL;
	const char *bad = NULL;
	(void)state;

	assert_int_equal(parse("{\"name\":\"a\",\"port\":22}", &v), 0);
	assert_int_equal(json_only_keys(v, allowed, &bad), 0);
	assert_null(bad);
	cJSON_Delete(v);
	assert_int_equal(parse("{\"name\":\"a\",\"Port\":22,\"x\":1}", &v), 0);
	assert_int_equal(json_only_keys(v, allowed, &bad), ZT_ERR_INVALID);
	assert_string_equal(bad, "Port");
	cJSON_Delete(v);
	assert_int_equal(parse("[1]", &v), 0);
	assert_int_equal(json_only_keys(v, allowed, &bad), ZT_ERR_INVALID);
	cJSON_Delete(v);
	assert_int_equal(parse("{}", &v), 0);
	assert_int_equal(json_only_keys(v, allowed, &bad), 0);
	cJSON_Delete(v);
}

static void test_print(void **state)
{
	cJSON *v = NULL;
	char *s = NULL;
	(void)state;

	assert_int_equal(parse(" { \"a\" : [ 1 , true , null , \"x\\n\" ] } ", &v), 0);
	s = json_print(v);
	assert_non_null(s);
	assert_string_equal(s, "{\"a\":[1,true,null,\"x\\n\"]}");
	free(s);
	cJSON_Delete(v);
	assert_null(json_print(NULL));
}

/* The canonical encoding of text (parsed by cJSON, which keeps repeated
 * keys) as lower-case hex into out (owned). */
static int canonical_hex(const char *text, int max_depth, char **out)
{
	struct buf *b = buf_new(1 << 16);
	cJSON *v = cJSON_Parse(text);
	int r;

	assert_non_null(b);
	assert_non_null(v);
	*out = NULL;
	if ((r = json_canonical(b, v, max_depth)) == 0) {
		assert_non_null(*out = malloc(2 * buf_len(b) + 1));
		assert_int_equal(crypto_hex(buf_ptr(b), buf_len(b), *out, 2 * buf_len(b) + 1), 0);
	}
	cJSON_Delete(v);
	buf_free(b);
	return r;
}

/* Key order and spacing do not change the encoding, at any depth. */
static void test_canonical_key_order(void **state)
{
	static const char *const same[][2] = {
		{ "{\"a\":1,\"b\":{\"c\":[1,2],\"d\":\"x\"}}",
		  "{ \"b\" : { \"d\" : \"x\", \"c\" : [1, 2] }, \"a\" : 1 }" },
		{ "[{\"y\":null,\"x\":true}]", "[{\"x\":true,\"y\":null}]" },
		{ "{\"n\":10}", "{\"n\":1e1}" },   /* numbers as values, not as text */
		{ "{\"n\":1}", "{\"n\":1.0}" },
	};
	char *a = NULL, *b = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(canonical_hex(same[i][0], JSON_DEFAULT_DEPTH, &a), 0);
		assert_int_equal(canonical_hex(same[i][1], JSON_DEFAULT_DEPTH, &b), 0);
		if (strcmp(a, b) != 0) {
			fail_msg("%s and %s encode differently", same[i][0], same[i][1]);
		}
		free(a);
		free(b);
	}
}

/* Values that differ in value, type, order of items or field boundaries
 * never share an encoding. */
static void test_canonical_differs(void **state)
{
	static const char *const texts[] = {
		"1", "\"1\"", "1.5", "-1", "true", "false", "null", "\"\"", "\"true\"", "[]", "{}",
		"[1,2]", "[2,1]", "[[1],2]", "[1,[2]]", "[null]", "[{}]", "{\"a\":1}", "{\"a\":2}",
		"{\"b\":1}", "{\"a\":\"1\"}", "{\"a\":[1]}", "{\"a\":1,\"b\":2}",
		"[\"ab\",\"c\"]", "[\"a\",\"bc\"]", "{\"ab\":\"c\"}", "{\"a\":\"bc\"}",
		"{\"a\":1,\"a\":2}", "{\"a\":2,\"a\":1}",
	};
	enum { N = sizeof(texts) / sizeof(texts[0]) };
	char *hex[N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(canonical_hex(texts[i], JSON_DEFAULT_DEPTH, &hex[i]), 0);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(hex[i], hex[j]) == 0) {
				fail_msg("%s and %s encode alike", texts[i], texts[j]);
			}
		}
	}
	for (size_t i = 0; i < N; i++) {
		free(hex[i]);
	}
}

/* The encoding is stored (approvals are bound to its hash): this vector was
 * computed once by the encoder as it was in broker/brk_gate.c, and must
 * never change. Repeated keys are both kept, in the order written. */
static void test_canonical_vector(void **state)
{
	char *hex = NULL;

	(void)state;
	assert_int_equal(canonical_hex("{\"b\":[1,2.5,\"x\",true,false,null,{}],"
	    "\"a\":{\"z\":\"\xc3\xa9\",\"y\":-0.1},\"a\":\"dup\"}", JSON_DEFAULT_DEPTH, &hex), 0);
	assert_string_equal(hex,
	    "6f00000003" "0000000161" "6f00000002"
	    "0000000179" "6e2d302e31303030303030303030303030303030313b"
	    "000000017a" "7300000002c3a9"
	    "0000000161" "7300000003647570"
	    "0000000162" "6100000007" "6e313b" "6e322e353b" "730000000178" "74" "66" "7a"
	    "6f00000000");
	free(hex);
}

/* Nesting deeper than max_depth (the root at level 0) is refused; so is an
 * encoding that does not fit the buffer, or no buffer. */
static void test_canonical_bounds(void **state)
{
	struct buf *small = buf_new(8);
	char *hex = NULL, *deep = malloc(201);
	cJSON *v = cJSON_Parse("[1,2,3]");

	(void)state;
	assert_int_equal(canonical_hex("[[[]]]", 2, &hex), 0);
	free(hex);
	assert_int_equal(canonical_hex("[[[]]]", 1, &hex), ZT_ERR_TOO_LARGE);
	assert_null(hex);
	assert_int_equal(canonical_hex("{\"a\":{\"b\":1}}", 2, &hex), 0);
	free(hex);
	assert_int_equal(canonical_hex("{\"a\":{\"b\":1}}", 1, &hex), ZT_ERR_TOO_LARGE);
	assert_int_equal(canonical_hex("7", 0, &hex), 0);
	free(hex);
	assert_non_null(deep);
	for (int i = 0; i < 100; i++) {
		deep[i] = '[';
		deep[100 + i] = ']';
	}
	deep[200] = '\0';
	assert_int_equal(canonical_hex(deep, 64, &hex), ZT_ERR_TOO_LARGE);
	assert_int_equal(canonical_hex(deep, 99, &hex), 0);
	free(hex);
	assert_non_null(small);
	assert_non_null(v);
	assert_int_equal(json_canonical(small, v, JSON_DEFAULT_DEPTH), ZT_ERR_TOO_LARGE);
	assert_int_equal(json_canonical(NULL, v, JSON_DEFAULT_DEPTH), ZT_ERR_INVALID);
	cJSON_Delete(v);
	buf_free(small);
	free(deep);
}

/* Output bytes become JSON-safe text: valid UTF-8 kept, the rest and NULs
 * replaced by U+FFFD, one per bad byte; the result always parses back. */
static void test_text_from_bytes(void **state)
{
	static const struct { const char *in; size_t n; const char *want; } cases[] = {
		{ "", 0, "" },
		{ "plain\n", 6, "plain\n" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\0b", 3, "a\xef\xbf\xbd" "b" },
		{ "\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc3", 1, "\xef\xbf\xbd" },                   /* cut short */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },    /* overlong */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
	};
	cJSON *v = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = json_text_from_bytes(cases[i].in, cases[i].n), *printed;
		cJSON *s = NULL;

		assert_non_null(t);
		assert_string_equal(t, cases[i].want);
		assert_non_null(s = cJSON_CreateString(t));
		assert_non_null(printed = cJSON_PrintUnformatted(s));
		assert_int_equal(json_parse(printed, strlen(printed), 1024, 4, &v), 0);
		assert_string_equal(cJSON_GetStringValue(v), t);
		cJSON_Delete(v);
		cJSON_Delete(s);
		free(printed);
		free(t);
	}
}

/* Every string in the tree is zeroed in place, keys included; the tree
 * stays valid; a literal key (cJSON_AddItemToObjectCS) is left alone. */
static void test_wipe(void **state)
{
	const char *text = "{\"token\":\"ztb_secret\",\"n\":[\"pw1\",{\"otp\":\"123456\"}],"
	    "\"k\":7}";
	cJSON *v = cJSON_Parse(text), *tok, *arr, *inner, *lit;
	size_t len;

	(void)state;
	assert_non_null(v);
	lit = cJSON_CreateString("also secret");
	assert_non_null(lit);
	assert_true(cJSON_AddItemToObjectCS(v, "literal", lit));
	tok = cJSON_GetObjectItem(v, "token");
	arr = cJSON_GetObjectItem(v, "n");
	inner = cJSON_GetArrayItem(arr, 1)->child;
	len = strlen(tok->valuestring);
	json_wipe(v);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(tok->valuestring[i], 0);
	}
	assert_int_equal(tok->string[0], 0);
	assert_int_equal(cJSON_GetArrayItem(arr, 0)->valuestring[0], 0);
	assert_int_equal(inner->valuestring[0], 0);
	assert_int_equal(inner->string[0], 0);
	assert_string_equal(lit->string, "literal");
	assert_int_equal(lit->valuestring[0], 0);
	assert_true(cJSON_IsNumber(cJSON_GetArrayItem(v, 2)));
	json_delete_wiped(v);
	json_delete_wiped(NULL);
}

/* json_utf8_text: well-formed UTF-8 without a NUL, or not. */
static void test_utf8_text(void **state)
{
	(void)state;
	assert_int_equal(json_utf8_text("", 0), 1);
	assert_int_equal(json_utf8_text("plain /srv/x", 12), 1);
	assert_int_equal(json_utf8_text("caf\xc3\xa9 \xf0\x9f\x94\x91", 10), 1);
	assert_int_equal(json_utf8_text("a\0b", 3), 0);              /* a NUL */
	assert_int_equal(json_utf8_text("\xc3", 1), 0);              /* cut short */
	assert_int_equal(json_utf8_text("\xc0\xaf", 2), 0);          /* overlong '/' */
	assert_int_equal(json_utf8_text("\xed\xa0\x80", 3), 0);      /* a surrogate */
	assert_int_equal(json_utf8_text("\xff", 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_nul_and_controls),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_number_grammar),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_get_str),
		cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_get_bool_obj_arr),
		cmocka_unit_test(test_get_opt),
		cmocka_unit_test(test_only_keys),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_canonical_key_order),
		cmocka_unit_test(test_canonical_differs),
		cmocka_unit_test(test_canonical_vector),
		cmocka_unit_test(test_canonical_bounds),
		cmocka_unit_test(test_text_from_bytes),
		cmocka_unit_test(test_utf8_text),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
