/*
 * rdp_input_test.c - the events the rdp_* tools send a remote desktop:
 * exact lists for text, key combinations and the mouse, and every refusal
 * with the sentence that tells the caller what to fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "resources/rdp_input.h"

/* Scancodes in the expected lists, in decimal as cJSON prints them. */
#define KEY(sc, ext, down) "{\"t\":\"key\",\"sc\":" #sc ",\"ext\":" #ext ",\"down\":" #down "}"
#define UNI(cp, down) "{\"t\":\"unicode\",\"cp\":" #cp ",\"down\":" #down "}"
#define TAP(sc, ext) KEY(sc, ext, true) "," KEY(sc, ext, false)
#define SHIFT_DOWN KEY(42, false, true)
#define SHIFT_UP KEY(42, false, false)

static char err[256];

/* The events fn built from arg, compact JSON; asserts it returned 0. */
static char *events_of(int (*fn)(const char *, cJSON *, char *, size_t), const char *arg)
{
	cJSON *ev = cJSON_CreateArray();
	char *s;
	int rc;

	assert_non_null(ev);
	err[0] = '\0';
	rc = fn(arg, ev, err, sizeof(err));
	if (rc != 0) {
		fail_msg("\"%s\": %s (%s)", arg, zt_strerror(rc), err);
	}
	s = cJSON_PrintUnformatted(ev);
	assert_non_null(s);
	cJSON_Delete(ev);
	return s;
}

static void expect_events(int (*fn)(const char *, cJSON *, char *, size_t), const char *arg,
    const char *want)
{
	char *got = events_of(fn, arg);

	assert_string_equal(got, want);
	free(got);
}

/* fn refuses arg with rc and a sentence holding needle. */
static void expect_refused(int (*fn)(const char *, cJSON *, char *, size_t), const char *arg,
    int rc, const char *needle)
{
	cJSON *ev = cJSON_CreateArray();

	assert_non_null(ev);
	err[0] = '\0';
	assert_int_equal(fn(arg, ev, err, sizeof(err)), rc);
	if (strstr(err, needle) == NULL) {
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	}
	cJSON_Delete(ev);
}

static void test_text_ascii(void **state)
{
	(void)state;
	/* A: shift around a; b; newline: Return. */
	expect_events(rdp_input_text, "Ab\n",
	    "[" SHIFT_DOWN "," TAP(30, false) "," SHIFT_UP "," TAP(48, false) "," TAP(28, false) "]");
	/* Tab, space, and punctuation with and without shift. */
	expect_events(rdp_input_text, "\t /?",
	    "[" TAP(15, false) "," TAP(57, false) "," TAP(53, false) "," SHIFT_DOWN "," TAP(53, false)
	    "," SHIFT_UP "]");
}

static void test_text_every_printable_ascii(void **state)
{
	char one[2] = { 0, 0 };
	char *s;
	int c;

	(void)state;
	for (c = ' '; c <= '~'; c++) {
		one[0] = (char)c;
		s = events_of(rdp_input_text, one);
		/* a key, through scancodes: never a unicode event */
		assert_null(strstr(s, "unicode"));
		free(s);
	}
}

static void test_text_unicode(void **state)
{
	(void)state;
	/* é is U+00E9 */
	expect_events(rdp_input_text, "\xc3\xa9", "[" UNI(233, true) "," UNI(233, false) "]");
	/* U+1F600 as the surrogates D83D DE00, each down then up */
	expect_events(rdp_input_text, "\xf0\x9f\x98\x80",
	    "[" UNI(55357, true) "," UNI(55357, false) "," UNI(56832, true) "," UNI(56832, false) "]");
	/* mixed: scancodes for ASCII, unicode for the rest (U+20AC) */
	expect_events(rdp_input_text, "a\xe2\x82\xac",
	    "[" TAP(30, false) "," UNI(8364, true) "," UNI(8364, false) "]");
}

static void test_text_refused(void **state)
{
	char *big;

	(void)state;
	expect_refused(rdp_input_text, "a\xc3(", ZT_ERR_INVALID, "not valid UTF-8 at byte offset 1");
	expect_refused(rdp_input_text, "\xc0\xaf", ZT_ERR_INVALID, "offset 0");       /* overlong */
	expect_refused(rdp_input_text, "ab\xed\xa0\x80", ZT_ERR_INVALID, "offset 2"); /* surrogate */
	expect_refused(rdp_input_text, "xyz\xe2\x82", ZT_ERR_INVALID, "offset 3");    /* cut short */
	expect_refused(rdp_input_text, "\xff", ZT_ERR_INVALID, "UTF-8");
	expect_refused(rdp_input_text, "a\rb", ZT_ERR_INVALID, "U+000D at byte offset 1");
	expect_refused(rdp_input_text, "\x1b[A", ZT_ERR_INVALID, "U+001B at byte offset 0");
	expect_refused(rdp_input_text, "ok\x7f", ZT_ERR_INVALID, "U+007F at byte offset 2");
	expect_refused(rdp_input_text, "\xc2\x85", ZT_ERR_INVALID, "U+0085"); /* C1: NEL */
	expect_refused(rdp_input_text, "", ZT_ERR_INVALID, "empty");

	big = malloc(RDP_INPUT_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', RDP_INPUT_TEXT_MAX);
	big[RDP_INPUT_TEXT_MAX] = '\0';
	free(events_of(rdp_input_text, big)); /* exactly the limit */
	big[RDP_INPUT_TEXT_MAX] = 'a';
	big[RDP_INPUT_TEXT_MAX + 1] = '\0';
	expect_refused(rdp_input_text, big, ZT_ERR_TOO_LARGE, "4096 bytes");
	free(big);
}

static void test_keys(void **state)
{
	(void)state;
	/* down in order, up in reverse; Delete is an extended key */
	expect_events(rdp_input_keys, "ctrl+alt+del",
	    "[" KEY(29, false, true) "," KEY(56, false, true) "," KEY(83, true, true) ","
	    KEY(83, true, false) "," KEY(56, false, false) "," KEY(29, false, false) "]");
	expect_events(rdp_input_keys, "shift+Tab", "[" KEY(42, false, true) "," KEY(15, false, true)
	    "," KEY(15, false, false) "," KEY(42, false, false) "]");
	expect_events(rdp_input_keys, "Return", "[" TAP(28, false) "]");
	expect_events(rdp_input_keys, "KP_Enter", "[" TAP(28, true) "]");
	expect_events(rdp_input_keys, "F5", "[" TAP(63, false) "]");
	expect_events(rdp_input_keys, "F24", "[" TAP(111, false) "]");
	expect_events(rdp_input_keys, "7", "[" TAP(8, false) "]");
	/* super and its aliases: left Windows key, extended */
	expect_events(rdp_input_keys, "super+l", "[" KEY(91, true, true) "," KEY(38, false, true) ","
	    KEY(38, false, false) "," KEY(91, true, false) "]");
	expect_events(rdp_input_keys, "ctrl_r", "[" TAP(29, true) "]");
	/* punctuation as itself; '+' as plus (shift+equal), shift added */
	expect_events(rdp_input_keys, "ctrl+/", "[" KEY(29, false, true) "," KEY(53, false, true) ","
	    KEY(53, false, false) "," KEY(29, false, false) "]");
	expect_events(rdp_input_keys, "ctrl+plus", "[" KEY(29, false, true) "," SHIFT_DOWN ","
	    KEY(13, false, true) "," KEY(13, false, false) "," SHIFT_UP "," KEY(29, false, false) "]");
	/* a shift already named is not pressed twice */
	expect_events(rdp_input_keys, "shift+!", "[" SHIFT_DOWN "," KEY(2, false, true) ","
	    KEY(2, false, false) "," SHIFT_UP "]");
}

static void test_keys_aliases_and_case(void **state)
{
	static const char *const same[][2] = {
		{ "ctrl+alt+del", "CTRL+Alt+Delete" },
		{ "ctrl+alt+del", "control + alt + DEL" },
		{ "Return", "enter" },
		{ "Escape", "esc" },
		{ "Page_Down", "PageDown" },
		{ "Page_Down", "next" },
		{ "Page_Up", "pageup" },
		{ "super+l", "win+L" },
		{ "super+l", "cmd+l" },
		{ "super+l", "META+l" },
		{ "ctrl+a", "ctrl+A" },
		{ "alt+F4", "alt_l+f4" },
		{ "ctrl+minus", "ctrl+-" },
	};
	char *a, *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		a = events_of(rdp_input_keys, same[i][0]);
		b = events_of(rdp_input_keys, same[i][1]);
		if (strcmp(a, b) != 0) {
			fail_msg("\"%s\" and \"%s\" differ: %s vs %s", same[i][0], same[i][1], a, b);
		}
		free(a);
		free(b);
	}
}

static void test_keys_refused(void **state)
{
	char *s;
	char longname[RDP_INPUT_KEY_NAME_MAX + 2];
	char big[RDP_INPUT_COMBO_MAX + 2];

	(void)state;
	expect_refused(rdp_input_keys, "ctrl+foo", ZT_ERR_INVALID,
	    "unknown key \"foo\"; keys are named like Return, ctrl+c, alt+F4");
	expect_refused(rdp_input_keys, "ctrl+\xff", ZT_ERR_INVALID, "unknown key at byte offset 5");
	expect_refused(rdp_input_keys, "ctrl+", ZT_ERR_INVALID, "no key name at byte offset 5");
	expect_refused(rdp_input_keys, "", ZT_ERR_INVALID, "no key name at byte offset 0");
	expect_refused(rdp_input_keys, "ctrl++", ZT_ERR_INVALID, "\"plus\"");
	expect_refused(rdp_input_keys, "a+A", ZT_ERR_INVALID, "key \"A\" is pressed twice");
	expect_refused(rdp_input_keys, "ctrl+ctrl_l", ZT_ERR_INVALID, "pressed twice");
	expect_refused(rdp_input_keys, "F25", ZT_ERR_INVALID, "unknown key \"F25\"");

	/* 8 keys are fine, 9 are not */
	s = events_of(rdp_input_keys, "a+b+c+d+e+f+g+h");
	assert_non_null(strstr(s, "\"sc\":35,\"ext\":false,\"down\":false"));
	free(s);
	expect_refused(rdp_input_keys, "a+b+c+d+e+f+g+h+i", ZT_ERR_TOO_LARGE, "more than 8 keys");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_refused(rdp_input_keys, longname, ZT_ERR_INVALID, "unknown key at byte offset 0");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = 'a';
	expect_refused(rdp_input_keys, big, ZT_ERR_TOO_LARGE, "longer than 256 bytes");
}

static char *print_free(cJSON *ev)
{
	char *s = cJSON_PrintUnformatted(ev);

	assert_non_null(s);
	cJSON_Delete(ev);
	return s;
}

static void test_mouse(void **state)
{
	cJSON *ev;
	char *s;

	(void)state;
	ev = cJSON_CreateArray();
	assert_int_equal(rdp_input_click(10, 20, "right", 2, ev, err, sizeof(err)), 0);
	s = print_free(ev);
	assert_string_equal(s, "[{\"t\":\"move\",\"x\":10,\"y\":20},"
	    "{\"t\":\"button\",\"b\":\"right\",\"down\":true,\"x\":10,\"y\":20},"
	    "{\"t\":\"button\",\"b\":\"right\",\"down\":false,\"x\":10,\"y\":20},"
	    "{\"t\":\"button\",\"b\":\"right\",\"down\":true,\"x\":10,\"y\":20},"
	    "{\"t\":\"button\",\"b\":\"right\",\"down\":false,\"x\":10,\"y\":20}]");
	free(s);

	ev = cJSON_CreateArray();
	assert_int_equal(rdp_input_click(0, RDP_INPUT_COORD_MAX, NULL, 1, ev, NULL, 0), 0);
	s = print_free(ev);
	assert_non_null(strstr(s, "\"b\":\"left\""));
	free(s);

	ev = cJSON_CreateArray();
	assert_int_equal(rdp_input_move(5, 6, ev, err, sizeof(err)), 0);
	s = print_free(ev);
	assert_string_equal(s, "[{\"t\":\"move\",\"x\":5,\"y\":6}]");
	free(s);

	ev = cJSON_CreateArray();
	assert_int_equal(rdp_input_scroll(7, 8, 0, -3, ev, err, sizeof(err)), 0);
	s = print_free(ev);
	assert_string_equal(s, "[{\"t\":\"move\",\"x\":7,\"y\":8},"
	    "{\"t\":\"wheel\",\"x\":7,\"y\":8,\"dy\":-3,\"dx\":0}]");
	free(s);

	ev = cJSON_CreateArray();
	assert_int_equal(rdp_input_wait(250, ev, err, sizeof(err)), 0);
	s = print_free(ev);
	assert_string_equal(s, "[{\"t\":\"wait\",\"ms\":250}]");
	free(s);
}

static void test_drag(void **state)
{
	cJSON *ev = cJSON_CreateArray(), *e;
	char *s;
	int i;

	(void)state;
	assert_int_equal(rdp_input_drag(0, 100, 80, 20, "middle", ev, err, sizeof(err)), 0);
	assert_int_equal(cJSON_GetArraySize(ev), RDP_INPUT_DRAG_STEPS + 3);
	s = cJSON_PrintUnformatted(cJSON_GetArrayItem(ev, 1));
	assert_string_equal(s, "{\"t\":\"button\",\"b\":\"middle\",\"down\":true,\"x\":0,\"y\":100}");
	free(s);
	for (i = 1; i <= RDP_INPUT_DRAG_STEPS; i++) {
		e = cJSON_GetArrayItem(ev, i + 1);
		assert_string_equal(cJSON_GetObjectItem(e, "t")->valuestring, "move");
		assert_int_equal(cJSON_GetObjectItem(e, "x")->valueint, 10 * i);
		assert_int_equal(cJSON_GetObjectItem(e, "y")->valueint, 100 - 10 * i);
	}
	s = cJSON_PrintUnformatted(cJSON_GetArrayItem(ev, RDP_INPUT_DRAG_STEPS + 2));
	assert_string_equal(s, "{\"t\":\"button\",\"b\":\"middle\",\"down\":false,\"x\":80,\"y\":20}");
	free(s);
	cJSON_Delete(ev);
}

static void test_mouse_refused(void **state)
{
	cJSON *ev = cJSON_CreateArray();

	(void)state;
	assert_int_equal(rdp_input_click(-1, 0, NULL, 1, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "x is -1; coordinates are 0..32767"));
	assert_int_equal(rdp_input_click(0, RDP_INPUT_COORD_MAX + 1, NULL, 1, ev, err, sizeof(err)),
	    ZT_ERR_INVALID);
	assert_non_null(strstr(err, "y is 32768"));
	assert_int_equal(rdp_input_click(1, 1, "LEFT", 1, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "left, right or middle"));
	assert_int_equal(rdp_input_click(1, 1, NULL, 0, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(rdp_input_click(1, 1, NULL, 4, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "click count is 4"));
	assert_int_equal(rdp_input_drag(1, 1, 40000, 1, NULL, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "x2 is 40000"));
	assert_int_equal(rdp_input_scroll(1, 1, 21, 0, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "dx is 21"));
	assert_int_equal(rdp_input_scroll(1, 1, 0, -21, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(rdp_input_scroll(1, 1, 0, 0, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "nothing to scroll"));
	assert_int_equal(rdp_input_wait(1001, ev, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(rdp_input_wait(-1, ev, NULL, 0), ZT_ERR_INVALID);
	assert_int_equal(rdp_input_move(0, 0, NULL, err, sizeof(err)), ZT_ERR_INVALID);
	/* nothing was appended by any refusal above */
	assert_int_equal(cJSON_GetArraySize(ev), 0);
	cJSON_Delete(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_ascii),
		cmocka_unit_test(test_text_every_printable_ascii),
		cmocka_unit_test(test_text_unicode),
		cmocka_unit_test(test_text_refused),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_keys_aliases_and_case),
		cmocka_unit_test(test_keys_refused),
		cmocka_unit_test(test_mouse),
		cmocka_unit_test(test_drag),
		cmocka_unit_test(test_mouse_refused),
	};

	return cmocka_run_group_tests_name("rdp_input", tests, NULL, NULL);
}
