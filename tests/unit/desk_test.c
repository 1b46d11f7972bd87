/*
 * desk_test.c - unit tests for tunnel/desk: frames round trip over a
 * socketpair and a pipe, the head and body limits on both sides, truncation
 * at every byte, a head that is not a JSON object, the read deadline, the
 * failure head both desktop peers answer with, and the NT hash rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "tunnel/desk.h"

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A frame's bytes: head text (not checked), body of bl bytes of 'x'. */
static size_t make(unsigned char *out, const char *head, uint32_t bl)
{
	size_t hl = strlen(head);

	put_u32(out, (uint32_t)hl);
	memcpy(out + 4, head, hl);
	put_u32(out + 4 + hl, bl);
	memset(out + 8 + hl, 'x', bl);
	return 8 + hl + bl;
}

static void round_trip(int wfd, int rfd)
{
	cJSON *h = cJSON_CreateObject();
	struct desk_frame f;
	const char body[] = "\x89PNG\r\n\x1a\n body bytes";

	assert_non_null(h);
	assert_non_null(cJSON_AddStringToObject(h, "op", "screenshot"));
	assert_non_null(cJSON_AddNumberToObject(h, "max_width", 512));
	assert_int_equal(desk_write(wfd, h, body, sizeof(body)), 0);
	assert_int_equal(desk_write(wfd, h, NULL, 0), 0);
	assert_int_equal(desk_read(rfd, 1000, &f), 0);
	assert_string_equal(cJSON_GetObjectItem(f.head, "op")->valuestring, "screenshot");
	assert_int_equal(cJSON_GetObjectItem(f.head, "max_width")->valueint, 512);
	assert_int_equal(f.body_len, sizeof(body));
	assert_memory_equal(f.body, body, sizeof(body));
	desk_frame_clear(&f);
	assert_null(f.head);
	assert_int_equal(desk_read(rfd, 1000, &f), 0);
	assert_int_equal(f.body_len, 0);
	assert_null(f.body);
	desk_frame_clear(&f);
	cJSON_Delete(h);
}

static void test_socketpair(void **state)
{
	int sv[2];
	struct desk_frame f;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	round_trip(sv[0], sv[1]);
	close(sv[0]);
	assert_int_equal(desk_read(sv[1], 1000, &f), ZT_ERR_OFFLINE);
	close(sv[1]);
}

static void test_pipe(void **state)
{
	int p[2];
	struct desk_frame f;
	cJSON *h = cJSON_CreateObject();

	(void)state;
	assert_int_equal(pipe(p), 0);
	round_trip(p[1], p[0]);
	close(p[1]);
	assert_int_equal(desk_read(p[0], 1000, &f), ZT_ERR_OFFLINE);
	close(p[0]);
	/* A closed reader: an error, not SIGPIPE (ignored, as desk.h asks). */
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(desk_write(p[1], h, NULL, 0), ZT_ERR_IO);
	close(p[1]);
	cJSON_Delete(h);
}

static void test_limits(void **state)
{
	unsigned char b[64];
	struct desk_frame f;
	size_t used = 9;
	int sv[2];
	cJSON *h = cJSON_CreateObject();
	char *big = malloc(DESK_HEAD_MAX + 1);

	(void)state;
	assert_non_null(big);
	/* Writer: a body or head over its limit. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(desk_write(sv[0], h, "x", (size_t)DESK_BODY_MAX + 1), ZT_ERR_TOO_LARGE);
	memset(big, 'a', DESK_HEAD_MAX);
	big[DESK_HEAD_MAX - 4] = '\0';
	assert_non_null(cJSON_AddStringToObject(h, "k", big));
	assert_int_equal(desk_write(sv[0], h, NULL, 0), ZT_ERR_TOO_LARGE);
	/* Reader: lengths out of bounds. */
	put_u32(b, 0);
	assert_int_equal(desk_parse(b, 8, &f, &used), ZT_ERR_PROTOCOL);
	assert_int_equal(used, 0);
	put_u32(b, DESK_HEAD_MAX + 1);
	assert_int_equal(desk_parse(b, 8, &f, &used), ZT_ERR_PROTOCOL);
	assert_int_equal(send(sv[0], b, 4, 0), 4);
	assert_int_equal(desk_read(sv[1], 1000, &f), ZT_ERR_PROTOCOL);
	make(b, "{}", 0);
	put_u32(b + 6, DESK_BODY_MAX + 1);
	assert_int_equal(desk_parse(b, 10, &f, &used), ZT_ERR_PROTOCOL);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(sv[0], b, 10, 0), 10);
	assert_int_equal(desk_read(sv[1], 1000, &f), ZT_ERR_PROTOCOL);
	close(sv[0]);
	close(sv[1]);
	free(big);
	cJSON_Delete(h);
}

static void test_truncation(void **state)
{
	unsigned char b[64];
	struct desk_frame f;
	size_t n = make(b, "{\"op\":\"close\"}", 5), used = 0;
	int sv[2];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(desk_parse(b, i, &f, &used), ZT_ERR_TRUNCATED);
		assert_null(f.head);
		/* The same prefix then EOF on a socket. */
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		if (i > 0) {
			assert_int_equal(send(sv[0], b, i, 0), (ssize_t)i);
		}
		close(sv[0]);
		assert_int_equal(desk_read(sv[1], 1000, &f), i == 0 ? ZT_ERR_OFFLINE : ZT_ERR_TRUNCATED);
		close(sv[1]);
	}
	/* Two frames back to back: the first takes exactly its bytes. */
	memcpy(b + n, b, n);
	assert_int_equal(desk_parse(b, 2 * n, &f, &used), 0);
	assert_int_equal(used, n);
	assert_int_equal(f.body_len, 5);
	desk_frame_clear(&f);
	desk_frame_clear(NULL);
}

static void test_not_object(void **state)
{
	const char *bad[] = { "[1,2]", "\"op\"", "42", "{\"op\":", "{} x", "nul", "{\"a\":\"\xff\"}" };
	unsigned char b[64];
	struct desk_frame f;
	size_t used;
	int sv[2];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = make(b, bad[i], 0);

		assert_int_equal(desk_parse(b, n, &f, &used), ZT_ERR_PROTOCOL);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(send(sv[0], b, n, 0), (ssize_t)n);
		assert_int_equal(desk_read(sv[1], 1000, &f), ZT_ERR_PROTOCOL);
		assert_null(f.head);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_timeout(void **state)
{
	unsigned char b[64];
	struct desk_frame f;
	int sv[2];
	size_t n = make(b, "{}", 3);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(desk_read(sv[1], 50, &f), ZT_ERR_TIMEOUT);
	/* Part of a frame, then silence: the deadline covers the whole frame. */
	assert_int_equal(send(sv[0], b, n - 1, 0), (ssize_t)(n - 1));
	assert_int_equal(desk_read(sv[1], 50, &f), ZT_ERR_TIMEOUT);
	assert_null(f.head);
	close(sv[0]);
	close(sv[1]);
}

static void test_failure(void **state)
{
	char *long_msg = malloc(DESK_MESSAGE_MAX + 11);
	cJSON *a = desk_failure("busy", "agent at its limit of %d desktop sessions", 16);
	char *text;

	(void)state;
	assert_non_null(a);
	text = cJSON_PrintUnformatted(a);
	assert_non_null(text);
	assert_string_equal(text, "{\"ok\":false,\"code\":\"busy\",\"message\":"
	    "\"agent at its limit of 16 desktop sessions\"}");
	free(text);
	cJSON_Delete(a);
	/* A message past the limit is cut to it. */
	assert_non_null(long_msg);
	memset(long_msg, 'm', DESK_MESSAGE_MAX + 10);
	long_msg[DESK_MESSAGE_MAX + 10] = '\0';
	a = desk_failure("protocol", "%s", long_msg);
	assert_non_null(a);
	assert_int_equal(strlen(cJSON_GetObjectItem(a, "message")->valuestring), DESK_MESSAGE_MAX);
	cJSON_Delete(a);
	free(long_msg);
}

static void test_nla_hash(void **state)
{
	(void)state;
	assert_int_equal(desk_nla_hash_valid("0123456789abcdef0123456789ABCDEF"), 0);
	assert_int_equal(desk_nla_hash_valid("0123456789abcdef0123456789abcde"), ZT_ERR_INVALID);
	assert_int_equal(desk_nla_hash_valid("0123456789abcdef0123456789abcdef0"),
	    ZT_ERR_INVALID);
	assert_int_equal(desk_nla_hash_valid("0123456789abcdef0123456789abcdeg"), ZT_ERR_INVALID);
	assert_int_equal(desk_nla_hash_valid(" 123456789abcdef0123456789abcdef"), ZT_ERR_INVALID);
	assert_int_equal(desk_nla_hash_valid(""), ZT_ERR_INVALID);
	assert_int_equal(desk_nla_hash_valid(NULL), ZT_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_failure),
		cmocka_unit_test(test_nla_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
