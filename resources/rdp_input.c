/*
 * rdp_input.c - tool arguments to RDP input events (see rdp_input.h).
 *
 * One table names every key the tools can press, with its set-1 scancode
 * as RDP sends it (FreeRDP's RDP_SCANCODE_* values) and, for keys that type
 * a character on a US layout, that character with and without shift. Key
 * combinations look keys up by name; text looks them up by character, so a
 * key is described once for both.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/json.h"
#include "resources/rdp_input.h"

#define SC_SHIFT_L 0x2A
#define SC_SHIFT_R 0x36

struct rdp_key {
	const char *names;  /* space-separated, compared case-insensitively */
	unsigned char sc;   /* set-1 scancode */
	unsigned char ext;  /* sent with the E0 prefix */
	char ch;            /* typed without shift on a US layout; 0: none */
	char shifted;       /* typed with shift; 0: none */
};

/* Letters and digits are found by their character, so their names are that
 * character too. */
static const struct rdp_key keys[] = {
	{ "escape esc", 0x01, 0, 0, 0 },
	{ "1", 0x02, 0, '1', '!' },
	{ "2", 0x03, 0, '2', '@' },
	{ "3", 0x04, 0, '3', '#' },
	{ "4", 0x05, 0, '4', '$' },
	{ "5", 0x06, 0, '5', '%' },
	{ "6", 0x07, 0, '6', '^' },
	{ "7", 0x08, 0, '7', '&' },
	{ "8", 0x09, 0, '8', '*' },
	{ "9", 0x0A, 0, '9', '(' },
	{ "0", 0x0B, 0, '0', ')' },
	{ "minus", 0x0C, 0, '-', '_' },
	{ "equal", 0x0D, 0, '=', '+' },
	{ "backspace", 0x0E, 0, 0, 0 },
	{ "tab", 0x0F, 0, '\t', 0 },
	{ "q", 0x10, 0, 'q', 'Q' },
	{ "w", 0x11, 0, 'w', 'W' },
	{ "e", 0x12, 0, 'e', 'E' },
	{ "r", 0x13, 0, 'r', 'R' },
	{ "t", 0x14, 0, 't', 'T' },
	{ "y", 0x15, 0, 'y', 'Y' },
	{ "u", 0x16, 0, 'u', 'U' },
	{ "i", 0x17, 0, 'i', 'I' },
	{ "o", 0x18, 0, 'o', 'O' },
	{ "p", 0x19, 0, 'p', 'P' },
	{ "bracketleft", 0x1A, 0, '[', '{' },
	{ "bracketright", 0x1B, 0, ']', '}' },
	{ "return enter", 0x1C, 0, '\n', 0 },
	{ "ctrl control ctrl_l control_l", 0x1D, 0, 0, 0 },
	{ "a", 0x1E, 0, 'a', 'A' },
	{ "s", 0x1F, 0, 's', 'S' },
	{ "d", 0x20, 0, 'd', 'D' },
	{ "f", 0x21, 0, 'f', 'F' },
	{ "g", 0x22, 0, 'g', 'G' },
	{ "h", 0x23, 0, 'h', 'H' },
	{ "j", 0x24, 0, 'j', 'J' },
	{ "k", 0x25, 0, 'k', 'K' },
	{ "l", 0x26, 0, 'l', 'L' },
	{ "semicolon", 0x27, 0, ';', ':' },
	{ "apostrophe quote", 0x28, 0, '\'', '"' },
	{ "grave backquote", 0x29, 0, '`', '~' },
	{ "shift shift_l", SC_SHIFT_L, 0, 0, 0 },
	{ "backslash", 0x2B, 0, '\\', '|' },
	{ "z", 0x2C, 0, 'z', 'Z' },
	{ "x", 0x2D, 0, 'x', 'X' },
	{ "c", 0x2E, 0, 'c', 'C' },
	{ "v", 0x2F, 0, 'v', 'V' },
	{ "b", 0x30, 0, 'b', 'B' },
	{ "n", 0x31, 0, 'n', 'N' },
	{ "m", 0x32, 0, 'm', 'M' },
	{ "comma", 0x33, 0, ',', '<' },
	{ "period", 0x34, 0, '.', '>' },
	{ "slash", 0x35, 0, '/', '?' },
	{ "shift_r", SC_SHIFT_R, 0, 0, 0 },
	{ "kp_multiply", 0x37, 0, 0, 0 },
	{ "alt alt_l", 0x38, 0, 0, 0 },
	{ "space", 0x39, 0, ' ', 0 },
	{ "capslock caps_lock", 0x3A, 0, 0, 0 },
	{ "f1", 0x3B, 0, 0, 0 },
	{ "f2", 0x3C, 0, 0, 0 },
	{ "f3", 0x3D, 0, 0, 0 },
	{ "f4", 0x3E, 0, 0, 0 },
	{ "f5", 0x3F, 0, 0, 0 },
	{ "f6", 0x40, 0, 0, 0 },
	{ "f7", 0x41, 0, 0, 0 },
	{ "f8", 0x42, 0, 0, 0 },
	{ "f9", 0x43, 0, 0, 0 },
	{ "f10", 0x44, 0, 0, 0 },
	{ "numlock num_lock", 0x45, 0, 0, 0 },
	{ "scrolllock scroll_lock", 0x46, 0, 0, 0 },
	{ "kp_subtract", 0x4A, 0, 0, 0 },
	{ "kp_add", 0x4E, 0, 0, 0 },
	{ "f11", 0x57, 0, 0, 0 },
	{ "f12", 0x58, 0, 0, 0 },
	{ "f13", 0x64, 0, 0, 0 },
	{ "f14", 0x65, 0, 0, 0 },
	{ "f15", 0x66, 0, 0, 0 },
	{ "f16", 0x67, 0, 0, 0 },
	{ "f17", 0x68, 0, 0, 0 },
	{ "f18", 0x69, 0, 0, 0 },
	{ "f19", 0x6A, 0, 0, 0 },
	{ "f20", 0x6B, 0, 0, 0 },
	{ "f21", 0x6C, 0, 0, 0 },
	{ "f22", 0x6D, 0, 0, 0 },
	{ "f23", 0x6E, 0, 0, 0 },
	{ "f24", 0x6F, 0, 0, 0 },
	/* Extended keys: the E0 prefix tells them from their twins. */
	{ "kp_enter", 0x1C, 1, 0, 0 },
	{ "ctrl_r control_r", 0x1D, 1, 0, 0 },
	{ "kp_divide", 0x35, 1, 0, 0 },
	{ "print printscreen print_screen", 0x37, 1, 0, 0 },
	{ "alt_r altgr", 0x38, 1, 0, 0 },
	{ "pause break", 0x46, 1, 0, 0 },
	{ "home", 0x47, 1, 0, 0 },
	{ "up", 0x48, 1, 0, 0 },
	{ "page_up pageup prior", 0x49, 1, 0, 0 },
	{ "left", 0x4B, 1, 0, 0 },
	{ "right", 0x4D, 1, 0, 0 },
	{ "end", 0x4F, 1, 0, 0 },
	{ "down", 0x50, 1, 0, 0 },
	{ "page_down pagedown next", 0x51, 1, 0, 0 },
	{ "insert", 0x52, 1, 0, 0 },
	{ "delete del", 0x53, 1, 0, 0 },
	{ "super super_l win win_l meta meta_l cmd cmd_l", 0x5B, 1, 0, 0 },
	{ "super_r win_r meta_r cmd_r", 0x5C, 1, 0, 0 },
	{ "menu", 0x5D, 1, 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define KEYS_HINT "keys are named like Return, ctrl+c, alt+F4"

static void say(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* The key that types c (ASCII) on a US layout; *shift says whether it
 * needs shift. NULL if none does. */
static const struct rdp_key *key_for_char(int c, int *shift)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].ch != 0 && keys[i].ch == c) {
			*shift = 0;
			return &keys[i];
		}
		if (keys[i].shifted != 0 && keys[i].shifted == c) {
			*shift = 1;
			return &keys[i];
		}
	}
	return NULL;
}

/* 1 if name[0..n) is one of the space-separated words of names. */
static int names_have(const char *names, const char *name, size_t n)
{
	const char *w = names, *end;
	size_t wn;

	while (*w != '\0') {
		end = strchr(w, ' ');
		wn = end != NULL ? (size_t)(end - w) : strlen(w);
		if (wn == n && strncasecmp(w, name, n) == 0) {
			return 1;
		}
		if (end == NULL) {
			break;
		}
		w = end + 1;
	}
	return 0;
}

/* The key named name[0..n): a table name, "plus", or one printable ASCII
 * character (letters in either case mean the same key). */
static const struct rdp_key *key_for_name(const char *name, size_t n, int *shift)
{
	size_t i;
	int c;

	*shift = 0;
	if (n == 1) {
		c = (unsigned char)name[0];
		if (c <= ' ' || c > '~') {
			return NULL;
		}
		if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
		}
		return key_for_char(c, shift);
	}
	if (n == 4 && strncasecmp(name, "plus", 4) == 0) {
		return key_for_char('+', shift);
	}
	for (i = 0; i < NKEYS; i++) {
		if (names_have(keys[i].names, name, n)) {
			return &keys[i];
		}
	}
	return NULL;
}

/* A new event object {"t": type}; NULL on ENOMEM. */
static cJSON *ev_new(const char *type)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && cJSON_AddStringToObject(o, "t", type) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Appends o (taken, NULL meaning an allocation failed) to events. */
static int ev_push(cJSON *events, cJSON *o)
{
	if (o == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (!cJSON_AddItemToArray(events, o)) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	return 0;
}

/* ev_push() of o once every field was added (ok), else ZT_ERR_NOMEM. */
static int ev_finish(cJSON *events, cJSON *o, int ok)
{
	if (!ok) {
		cJSON_Delete(o);
		return ZT_ERR_NOMEM;
	}
	return ev_push(events, o);
}

static int ev_key(cJSON *events, int sc, int ext, int down)
{
	cJSON *o = ev_new("key");

	return ev_finish(events, o, o != NULL && cJSON_AddNumberToObject(o, "sc", sc) != NULL &&
	    cJSON_AddBoolToObject(o, "ext", ext) != NULL &&
	    cJSON_AddBoolToObject(o, "down", down) != NULL);
}

static int ev_unicode(cJSON *events, unsigned unit, int down)
{
	cJSON *o = ev_new("unicode");

	return ev_finish(events, o, o != NULL && cJSON_AddNumberToObject(o, "cp", unit) != NULL &&
	    cJSON_AddBoolToObject(o, "down", down) != NULL);
}

static int ev_move(cJSON *events, int x, int y)
{
	cJSON *o = ev_new("move");

	return ev_finish(events, o, o != NULL && cJSON_AddNumberToObject(o, "x", x) != NULL &&
	    cJSON_AddNumberToObject(o, "y", y) != NULL);
}

static int ev_button(cJSON *events, const char *b, int down, int x, int y)
{
	cJSON *o = ev_new("button");

	return ev_finish(events, o, o != NULL && cJSON_AddStringToObject(o, "b", b) != NULL &&
	    cJSON_AddBoolToObject(o, "down", down) != NULL &&
	    cJSON_AddNumberToObject(o, "x", x) != NULL &&
	    cJSON_AddNumberToObject(o, "y", y) != NULL);
}

static int ev_wheel(cJSON *events, int x, int y, int dx, int dy)
{
	cJSON *o = ev_new("wheel");

	return ev_finish(events, o, o != NULL && cJSON_AddNumberToObject(o, "x", x) != NULL &&
	    cJSON_AddNumberToObject(o, "y", y) != NULL &&
	    cJSON_AddNumberToObject(o, "dy", dy) != NULL &&
	    cJSON_AddNumberToObject(o, "dx", dx) != NULL);
}

/* One key down then up, with left shift around it when shift. */
static int type_key(cJSON *events, const struct rdp_key *k, int shift)
{
	int rc = 0;

	if (shift && (rc = ev_key(events, SC_SHIFT_L, 0, 1)) != 0) {
		return rc;
	}
	if ((rc = ev_key(events, k->sc, k->ext, 1)) != 0 ||
	    (rc = ev_key(events, k->sc, k->ext, 0)) != 0) {
		return rc;
	}
	if (shift) {
		rc = ev_key(events, SC_SHIFT_L, 0, 0);
	}
	return rc;
}

/* One UTF-16 code unit down then up. */
static int type_unit(cJSON *events, unsigned unit)
{
	int rc = ev_unicode(events, unit, 1);

	return rc != 0 ? rc : ev_unicode(events, unit, 0);
}

/* The code point of the well-formed n-byte UTF-8 sequence at p. */
static unsigned utf8_decode(const unsigned char *p, size_t n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
	case 3:
		return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
	default:
		return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
		    (p[3] & 0x3Fu);
	}
}

int rdp_input_text(const char *text, cJSON *events, char *err, size_t errsz)
{
	const unsigned char *p = (const unsigned char *)text;
	const struct rdp_key *k;
	size_t len, off, n;
	unsigned cp;
	int rc = 0, shift;

	if (text == NULL || events == NULL) {
		say(err, errsz, "no text to type");
		return ZT_ERR_INVALID;
	}
	len = strnlen(text, RDP_INPUT_TEXT_MAX + 1);
	if (len > RDP_INPUT_TEXT_MAX) {
		say(err, errsz, "text is longer than %d bytes; type it in several calls",
		    RDP_INPUT_TEXT_MAX);
		return ZT_ERR_TOO_LARGE;
	}
	if (len == 0) {
		say(err, errsz, "text is empty");
		return ZT_ERR_INVALID;
	}
	for (off = 0; off < len; off += n) {
		n = json_utf8_seq(p + off, len - off);
		if (n == 0) {
			say(err, errsz, "text is not valid UTF-8 at byte offset %zu", off);
			return ZT_ERR_INVALID;
		}
		cp = utf8_decode(p + off, n);
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) {
			say(err, errsz, "text holds the control character U+%04X at byte offset %zu%s; "
			    "only \"\\n\" (Return) and \"\\t\" (Tab) are typed", cp, off,
			    cp == '\r' ? " (a carriage return)" : "");
			return ZT_ERR_INVALID;
		}
		if (cp < 0x80) {
			k = key_for_char((int)cp, &shift);
			if (k == NULL) {
				/* Every printable ASCII character is in the table. */
				say(err, errsz, "no key types U+%04X", cp);
				return ZT_ERR_INTERNAL;
			}
			rc = type_key(events, k, shift);
		} else if (cp < 0x10000) {
			rc = type_unit(events, cp);
		} else {
			cp -= 0x10000;
			rc = type_unit(events, 0xD800 + (cp >> 10));
			if (rc == 0) {
				rc = type_unit(events, 0xDC00 + (cp & 0x3FF));
			}
		}
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* 1 if p[0..n) is printable ASCII, so an error may quote it. */
static int printable(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < ' ' || p[i] > '~') {
			return 0;
		}
	}
	return 1;
}

struct press {
	unsigned char sc, ext;
};

/* Appends a key to the list, refusing a key pressed twice. */
static int press_add(struct press *list, size_t *n, int sc, int ext)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (list[i].sc == sc && list[i].ext == ext) {
			return ZT_ERR_EXISTS;
		}
	}
	list[*n].sc = (unsigned char)sc;
	list[*n].ext = (unsigned char)ext;
	(*n)++;
	return 0;
}

int rdp_input_keys(const char *combo, cJSON *events, char *err, size_t errsz)
{
	const struct rdp_key *found[RDP_INPUT_KEYS_MAX];
	int need_shift[RDP_INPUT_KEYS_MAX];
	size_t name_off[RDP_INPUT_KEYS_MAX], name_len[RDP_INPUT_KEYS_MAX];
	/* each key, plus at most one shift added for shifted characters */
	struct press list[RDP_INPUT_KEYS_MAX + 1];
	size_t len, off, end, a, b, count = 0, n = 0, i;
	int rc = 0, has_shift = 0, shift_added = 0;

	if (combo == NULL || events == NULL) {
		say(err, errsz, "no keys to press; " KEYS_HINT);
		return ZT_ERR_INVALID;
	}
	len = strnlen(combo, RDP_INPUT_COMBO_MAX + 1);
	if (len > RDP_INPUT_COMBO_MAX) {
		say(err, errsz, "keys is longer than %d bytes", RDP_INPUT_COMBO_MAX);
		return ZT_ERR_TOO_LARGE;
	}
	for (off = 0; off <= len; off = end + 1) {
		end = off;
		while (end < len && combo[end] != '+') {
			end++;
		}
		/* Spaces around names are forgiven: "ctrl + c". */
		for (a = off; a < end && combo[a] == ' '; a++) {
		}
		for (b = end; b > a && combo[b - 1] == ' '; b--) {
		}
		if (count == RDP_INPUT_KEYS_MAX) {
			say(err, errsz, "more than %d keys at once", RDP_INPUT_KEYS_MAX);
			return ZT_ERR_TOO_LARGE;
		}
		if (a == b) {
			say(err, errsz, "no key name at byte offset %zu of the keys (\"+\" itself is "
			    "\"plus\", the space bar \"space\"); " KEYS_HINT, off);
			return ZT_ERR_INVALID;
		}
		found[count] = NULL;
		if (b - a <= RDP_INPUT_KEY_NAME_MAX) {
			found[count] = key_for_name(combo + a, b - a, &need_shift[count]);
		}
		if (found[count] == NULL) {
			if (b - a <= RDP_INPUT_KEY_NAME_MAX && printable(combo + a, b - a)) {
				say(err, errsz, "unknown key \"%.*s\"; " KEYS_HINT, (int)(b - a),
				    combo + a);
			} else {
				say(err, errsz, "unknown key at byte offset %zu of the keys; " KEYS_HINT,
				    a);
			}
			return ZT_ERR_INVALID;
		}
		if (found[count]->sc == SC_SHIFT_L || found[count]->sc == SC_SHIFT_R) {
			has_shift = 1;
		}
		name_off[count] = a;
		name_len[count] = b - a;
		count++;
	}
	for (i = 0; i < count; i++) {
		/* "ctrl+!" means ctrl+shift+1 unless the combination holds a shift. */
		if (need_shift[i] && !has_shift && !shift_added) {
			rc = press_add(list, &n, SC_SHIFT_L, 0);
			shift_added = 1;
		}
		if (rc == 0) {
			rc = press_add(list, &n, found[i]->sc, found[i]->ext);
		}
		if (rc != 0) {
			say(err, errsz, "key \"%.*s\" is pressed twice in one combination",
			    (int)name_len[i], combo + name_off[i]);
			return ZT_ERR_INVALID;
		}
	}
	for (i = 0; i < n; i++) {
		if ((rc = ev_key(events, list[i].sc, list[i].ext, 1)) != 0) {
			return rc;
		}
	}
	for (i = n; i > 0; i--) {
		if ((rc = ev_key(events, list[i - 1].sc, list[i - 1].ext, 0)) != 0) {
			return rc;
		}
	}
	return 0;
}

/* The button name on the wire for button (NULL: left); NULL if unknown. */
static const char *button_name(const char *button)
{
	static const char *const names[] = { "left", "right", "middle" };
	size_t i;

	if (button == NULL) {
		return names[0];
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(button, names[i]) == 0) {
			return names[i];
		}
	}
	return NULL;
}

static int check_button(const char *button, const char **b, char *err, size_t errsz)
{
	*b = button_name(button);
	if (*b == NULL) {
		say(err, errsz, "button must be left, right or middle");
		return ZT_ERR_INVALID;
	}
	return 0;
}

static int check_xy(const char *xname, int x, const char *yname, int y, char *err, size_t errsz)
{
	if (x < 0 || x > RDP_INPUT_COORD_MAX) {
		say(err, errsz, "%s is %d; coordinates are 0..%d", xname, x, RDP_INPUT_COORD_MAX);
		return ZT_ERR_INVALID;
	}
	if (y < 0 || y > RDP_INPUT_COORD_MAX) {
		say(err, errsz, "%s is %d; coordinates are 0..%d", yname, y, RDP_INPUT_COORD_MAX);
		return ZT_ERR_INVALID;
	}
	return 0;
}

int rdp_input_move(int x, int y, cJSON *events, char *err, size_t errsz)
{
	int rc;

	if (events == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((rc = check_xy("x", x, "y", y, err, errsz)) != 0) {
		return rc;
	}
	return ev_move(events, x, y);
}

int rdp_input_click(int x, int y, const char *button, int count, cJSON *events, char *err,
    size_t errsz)
{
	const char *b = NULL;
	int rc, i;

	if (events == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((rc = check_xy("x", x, "y", y, err, errsz)) != 0 ||
	    (rc = check_button(button, &b, err, errsz)) != 0) {
		return rc;
	}
	if (count < 1 || count > RDP_INPUT_CLICKS_MAX) {
		say(err, errsz, "click count is %d; 1..%d", count, RDP_INPUT_CLICKS_MAX);
		return ZT_ERR_INVALID;
	}
	if ((rc = ev_move(events, x, y)) != 0) {
		return rc;
	}
	for (i = 0; i < count; i++) {
		if ((rc = ev_button(events, b, 1, x, y)) != 0 ||
		    (rc = ev_button(events, b, 0, x, y)) != 0) {
			return rc;
		}
	}
	return 0;
}

int rdp_input_drag(int x1, int y1, int x2, int y2, const char *button, cJSON *events,
    char *err, size_t errsz)
{
	const char *b = NULL;
	int rc, i;

	if (events == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((rc = check_xy("x1", x1, "y1", y1, err, errsz)) != 0 ||
	    (rc = check_xy("x2", x2, "y2", y2, err, errsz)) != 0 ||
	    (rc = check_button(button, &b, err, errsz)) != 0) {
		return rc;
	}
	if ((rc = ev_move(events, x1, y1)) != 0 || (rc = ev_button(events, b, 1, x1, y1)) != 0) {
		return rc;
	}
	for (i = 1; i <= RDP_INPUT_DRAG_STEPS; i++) {
		/* within int: coordinates are at most 32767, steps a handful */
		rc = ev_move(events, x1 + (x2 - x1) * i / RDP_INPUT_DRAG_STEPS,
		    y1 + (y2 - y1) * i / RDP_INPUT_DRAG_STEPS);
		if (rc != 0) {
			return rc;
		}
	}
	return ev_button(events, b, 0, x2, y2);
}

int rdp_input_scroll(int x, int y, int dx, int dy, cJSON *events, char *err, size_t errsz)
{
	int rc;

	if (events == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((rc = check_xy("x", x, "y", y, err, errsz)) != 0) {
		return rc;
	}
	if (dx < -RDP_INPUT_NOTCHES_MAX || dx > RDP_INPUT_NOTCHES_MAX) {
		say(err, errsz, "dx is %d; at most %d notches either way", dx, RDP_INPUT_NOTCHES_MAX);
		return ZT_ERR_INVALID;
	}
	if (dy < -RDP_INPUT_NOTCHES_MAX || dy > RDP_INPUT_NOTCHES_MAX) {
		say(err, errsz, "dy is %d; at most %d notches either way", dy, RDP_INPUT_NOTCHES_MAX);
		return ZT_ERR_INVALID;
	}
	if (dx == 0 && dy == 0) {
		say(err, errsz, "dx and dy are both 0: nothing to scroll");
		return ZT_ERR_INVALID;
	}
	if ((rc = ev_move(events, x, y)) != 0) {
		return rc;
	}
	return ev_wheel(events, x, y, dx, dy);
}

int rdp_input_wait(int ms, cJSON *events, char *err, size_t errsz)
{
	cJSON *o;

	if (events == NULL) {
		return ZT_ERR_INVALID;
	}
	if (ms < 0 || ms > RDP_INPUT_WAIT_MAX_MS) {
		say(err, errsz, "wait is %d ms; 0..%d", ms, RDP_INPUT_WAIT_MAX_MS);
		return ZT_ERR_INVALID;
	}
	o = ev_new("wait");
	return ev_finish(events, o, o != NULL && cJSON_AddNumberToObject(o, "ms", ms) != NULL);
}
