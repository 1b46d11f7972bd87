/*
 * qr_test.c - unit tests for common/qr: the grid with its quiet zone, the
 * SVG (well formed, one path, no text of the input in it), and refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/qr.h"

static void test_grid(void **state)
{
	struct qr *q = NULL;
	int size, dark = 0;
	(void)state;

	assert_int_equal(qr_encode("ztctl enroll --invite zti_x", &q), 0);
	size = qr_size(q);
	/* Version 2 or more: 25 modules and up, plus the quiet zone. */
	assert_true(size >= 25 + 2 * QR_QUIET);
	for (int i = 0; i < size; i++) {
		assert_int_equal(qr_dark(q, i, 0), 0);
		assert_int_equal(qr_dark(q, 0, i), 0);
		assert_int_equal(qr_dark(q, i, size - 1), 0);
	}
	assert_int_equal(qr_dark(q, -1, 5), 0);
	assert_int_equal(qr_dark(q, size, 5), 0);
	/* A finder pattern's corner is dark. */
	assert_int_equal(qr_dark(q, QR_QUIET, QR_QUIET), 1);
	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++) {
			dark += qr_dark(q, x, y);
		}
	}
	assert_true(dark > 0 && dark < size * size);
	qr_free(q);
	qr_free(NULL);
}

static void test_svg(void **state)
{
	char *svg = NULL, head[128];
	struct qr *q = NULL;
	(void)state;

	assert_int_equal(qr_svg("<script>&\"'", &svg), 0);
	assert_int_equal(qr_encode("<script>&\"'", &q), 0);
	snprintf(head, sizeof(head), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\"",
	    qr_size(q), qr_size(q));
	assert_memory_equal(svg, head, strlen(head));
	assert_non_null(strstr(svg, "<path stroke=\"#000\" d=\"M"));
	assert_string_equal(svg + strlen(svg) - 9, "\"/></svg>");
	assert_null(strstr(svg, "script"));
	assert_null(strchr(svg, '&'));
	assert_null(strchr(svg, '\''));
	free(svg);
	qr_free(q);
}

static void test_refusals(void **state)
{
	char *big = malloc(QR_TEXT_MAX + 2), *svg = NULL;
	struct qr *q = NULL;
	(void)state;

	assert_non_null(big);
	assert_int_equal(qr_encode("", &q), ZT_ERR_INVALID);
	assert_null(q);
	assert_int_equal(qr_encode(NULL, &q), ZT_ERR_INVALID);
	memset(big, 'a', QR_TEXT_MAX + 1);
	big[QR_TEXT_MAX + 1] = '\0';
	assert_int_equal(qr_svg(big, &svg), ZT_ERR_INVALID);
	assert_null(svg);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
