/*
 * net_test.c - the per-address key: IPv4 as it is, IPv6 by its /64,
 * IPv4-mapped IPv6 as IPv4, anything else copied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/net.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
