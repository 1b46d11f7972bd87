/*
 * brk_gate_test.c - the canonical request an approval is bound to: the
 * same call hashes alike however its JSON was written, and any change to
 * what it would do, or to who asks, changes the hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/brk_gate.h"
#include "common/err.h"

static void hash(const char *actor, const char *tool, const char *args, char *out)
{
	cJSON *j = cJSON_Parse(args);

	assert_non_null(j);
	assert_int_equal(brk_gate_request_hash(actor, tool, j, out), 0);
	assert_int_equal(strlen(out), CRYPTO_SHA256_HEX_LEN);
	cJSON_Delete(j);
}

static void test_same_call_same_hash(void **state)
{
	char a[CRYPTO_SHA256_HEX_LEN + 1], b[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	hash("user:alice", "ssh_exec",
	    "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}", a);
	hash("user:alice", "ssh_exec",
	    "{ \"command\": \"uptime\", \"login\": \"ubuntu\",\n \"host\": \"web1\" }", b);
	assert_string_equal(a, b);
	/* Nested objects are sorted too; numbers as values, not as text. */
	hash("user:alice", "t", "{\"o\":{\"b\":1,\"a\":[1,{\"y\":2,\"x\":3}]},\"n\":10}", a);
	hash("user:alice", "t", "{\"n\":1e1,\"o\":{\"a\":[1,{\"x\":3,\"y\":2}],\"b\":1.0}}", b);
	assert_string_equal(a, b);
}

static void test_any_change_changes_hash(void **state)
{
	static const char *const base =
	    "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\"}";
	static const struct {
		const char *actor, *tool, *args;
	} other[] = {
		{ "user:bob", "ssh_exec", NULL },
		{ "bot:alice", "ssh_exec", NULL },
		{ "user:alice", "file_read", NULL },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime \"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web2\",\"login\":\"ubuntu\",\"command\":\"uptime\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"root\",\"command\":\"uptime\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\",\"timeout_s\":5}" },
		/* A string that looks like the number, and a key moved into a value. */
		{ "user:alice", "t", "{\"n\":\"10\"}" },
		{ "user:alice", "ssh_exec",
		  "{\"host\":\"web1\",\"login\":\"ubuntu\",\"command\":\"uptime\",\"command\":\"id\"}" },
		/* Field boundaries cannot be shifted: "ab"+"c" is not "a"+"bc". */
		{ "user:alice", "ssh_execx", NULL },
	};
	char a[CRYPTO_SHA256_HEX_LEN + 1], b[CRYPTO_SHA256_HEX_LEN + 1];

	(void)state;
	hash("user:alice", "ssh_exec", base, a);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		hash(other[i].actor, other[i].tool, other[i].args != NULL ? other[i].args : base, b);
		if (strcmp(a, b) == 0) {
			fail_msg("case %zu hashes like the base call", i);
		}
	}
	hash("user:alice", "t", "{\"n\":10}", a);
	hash("user:alice", "t", "{\"n\":\"10\"}", b);
	assert_string_not_equal(a, b);
	hash("user:a", "lice", "{}", a);
	hash("user:al", "ice", "{}", b);
	assert_string_not_equal(a, b);
}

static void test_depth_is_bounded(void **state)
{
	char out[CRYPTO_SHA256_HEX_LEN + 1], *text = malloc(4000);
	cJSON *j;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < 100; i++) {
		text[n++] = '[';
	}
	for (int i = 0; i < 100; i++) {
		text[n++] = ']';
	}
	text[n] = '\0';
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_int_equal(brk_gate_request_hash("user:a", "t", j, out), ZT_ERR_TOO_LARGE);
	assert_string_equal(out, "");
	cJSON_Delete(j);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_call_same_hash),
		cmocka_unit_test(test_any_change_changes_hash),
		cmocka_unit_test(test_depth_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
