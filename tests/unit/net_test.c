/*
 * net_test.c - the per-address key: IPv4 as it is, IPv6 by its /64,
 * IPv4-mapped IPv6 as IPv4, anything else copied; and the two write-all
 * loops: net_write_all as it always was, net_send_all on sockets, pipes
 * and non-blocking fds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/net.h"

#define BIG (4u * 1024 * 1024) /* far past a socket's or a pipe's buffer */

static void test_addr_key(void **state)
{
	static const char *const cases[][2] = {
		{ "192.0.2.7", "192.0.2.7" },
		{ "2001:db8:1:2::1", "2001:db8:1:2::/64" },
		/* Any address of one /64 is the same client. */
		{ "2001:db8:1:2:ffff:eeee:dddd:cccc", "2001:db8:1:2::/64" },
		{ "2001:db8:1:3::1", "2001:db8:1:3::/64" },
		{ "::1", "::/64" },
		{ "::ffff:192.0.2.7", "192.0.2.7" },
		{ "unknown", "unknown" },
		{ "", "" },
	};
	char out[NET_ADDR_KEY_MAX], small[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		net_addr_key(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
	/* In place, and cut (NUL-terminated) when out is small. */
	strcpy(out, "2001:db8::5");
	net_addr_key(out, out, sizeof(out));
	assert_string_equal(out, "2001:db8::/64");
	net_addr_key("2001:db8:1:2::1", small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

struct drain {
	int fd;
	size_t got;
	unsigned sum;
};

/* Reads fd to EOF slowly enough that a writer meets a full buffer. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[4096];
	ssize_t r;

	usleep(50 * 1000);
	while ((r = read(d->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			d->sum = d->sum * 31 + buf[i];
		}
		d->got += (size_t)r;
	}
	return NULL;
}

static unsigned sum_of(const unsigned char *p, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		sum = sum * 31 + p[i];
	}
	return sum;
}

/* Writes BIG bytes with net_send_all (or net_write_all) to w while a thread
 * drains r: all of them arrive, in order. */
static int pump(int w, int r, int send_all, int *sock)
{
	unsigned char *p = malloc(BIG);
	struct drain d = { .fd = r };
	pthread_t th;
	int rc;

	assert_non_null(p);
	for (size_t i = 0; i < BIG; i++) {
		p[i] = (unsigned char)(i * 7 + i / 251);
	}
	assert_int_equal(pthread_create(&th, NULL, drain_main, &d), 0);
	rc = send_all ? net_send_all(w, p, BIG, sock) : net_write_all(w, p, BIG);
	close(w);
	pthread_join(th, NULL);
	if (rc == 0) {
		assert_int_equal(d.got, BIG);
		assert_int_equal(d.sum, sum_of(p, BIG));
	}
	free(p);
	return rc;
}

static void test_send_all(void **state)
{
	int sv[2], p[2], sock = 1;

	(void)state;
	/* A non-blocking socket: EAGAIN is waited out. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(pump(sv[0], sv[1], 1, &sock), 0);
	assert_int_equal(sock, 1);
	close(sv[1]);
	/* A non-blocking pipe: found not to be a socket, then the same. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(pump(p[1], p[0], 1, &sock), 0);
	assert_int_equal(sock, 0);
	close(p[0]);
	/* A socket whose peer closed: an error, not SIGPIPE (left at its
	 * default here, so a signal would end the test). */
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	sock = 1;
	assert_int_equal(net_send_all(sv[0], "x", 1, &sock), ZT_ERR_IO);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

static void test_write_all(void **state)
{
	unsigned char buf[4096] = { 0 };
	int p[2];

	(void)state;
	/* Blocking: all of it. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pump(p[1], p[0], 0, NULL), 0);
	close(p[0]);
	/* Non-blocking and full: EAGAIN is an error here, as it always was. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(net_write_all(p[1], buf, 1), 0);
	while (write(p[1], buf, sizeof(buf)) > 0) {
	}
	assert_int_equal(net_write_all(p[1], buf, 1), ZT_ERR_IO);
	assert_int_equal(errno, EAGAIN);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_send_all),
		cmocka_unit_test(test_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
