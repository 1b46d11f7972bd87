/*
 * rdp_input.h - the arguments of the rdp_* MCP tools (text to type, a key
 * combination, a click, a drag, a scroll) turned into the low-level input
 * events a remote desktop takes. Pure: no I/O, no globals, no state.
 *
 * The broker builds the list; it travels to the agent, whose FreeRDP helper
 * process sends every event to the RDP server as it is, in order (no
 * interpretation, no layout translation there): what is built here is
 * exactly what the desktop receives. Each event is a cJSON object appended
 * to the caller's array; the wire format is exactly:
 *
 *   {"t":"move","x":X,"y":Y}
 *   {"t":"button","b":"left"|"right"|"middle","down":true|false,"x":X,"y":Y}
 *   {"t":"wheel","x":X,"y":Y,"dy":N,"dx":N}  N whole notches, -20..20;
 *                                            dy > 0 scrolls down, dx > 0 right
 *   {"t":"key","sc":N,"ext":true|false,"down":true|false}
 *                                 N: a PC/XT set-1 scancode as RDP sends it,
 *                                 ext: the E0 prefix (extended key)
 *   {"t":"unicode","cp":N,"down":true|false}  N: one UTF-16 code unit
 *   {"t":"wait","ms":N}                       0..1000
 *
 * Coordinates are desktop pixels, 0..RDP_INPUT_COORD_MAX.
 *
 * Every function returns 0, ZT_ERR_INVALID or ZT_ERR_TOO_LARGE (with err,
 * errsz bytes, set to a sentence the caller can pass on: it names the bad
 * argument, key or byte offset; err may be NULL), or ZT_ERR_NOMEM. On an
 * error the array may hold a prefix of the events: the caller discards it.
 * Thread-safe (no shared state).
 */
#ifndef ZT_RDP_INPUT_H
#define ZT_RDP_INPUT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define RDP_INPUT_TEXT_MAX 4096      /* bytes of UTF-8 per rdp_input_text() */
#define RDP_INPUT_COMBO_MAX 256      /* bytes of a key combination */
#define RDP_INPUT_KEYS_MAX 8         /* key names in one combination */
#define RDP_INPUT_KEY_NAME_MAX 32    /* bytes of one key name */
#define RDP_INPUT_COORD_MAX 32767    /* largest x or y */
#define RDP_SHOT_WIDTH_MIN 64        /* smallest max_width of a screenshot */
#define RDP_INPUT_CLICKS_MAX 3       /* a triple click */
#define RDP_INPUT_NOTCHES_MAX 20     /* wheel notches either way per call */
#define RDP_INPUT_WAIT_MAX_MS 1000   /* longest wait event */
#define RDP_INPUT_DRAG_STEPS 8       /* intermediate moves of a drag */

/*
 * Types UTF-8 text (at most RDP_INPUT_TEXT_MAX bytes, well-formed). Printable
 * ASCII goes through US-layout scancodes, with left shift down/up around
 * each shifted character; "\n" is Return and "\t" is Tab; any other control
 * character (C0, DEL, C1) is refused with its code and byte offset. Every
 * other code point is sent as unicode events, down then up, one UTF-16 code
 * unit at a time (above U+FFFF: the high surrogate down, up, then the low
 * one down, up). Each key: down then up.
 */
int rdp_input_text(const char *text, cJSON *events, char *err, size_t errsz);

/*
 * Presses a key combination: '+'-separated names, case-insensitive, at most
 * RDP_INPUT_KEYS_MAX: "ctrl+alt+del", "Return", "alt+F4", "shift+Tab",
 * "super+l", "ctrl+/", "ctrl+plus". Modifiers ctrl (control), alt, shift,
 * super (win, meta, cmd), each also as name_l / name_r; keys a-z, 0-9,
 * F1-F24, Return (Enter), Escape (Esc), Tab, BackSpace, Delete (Del),
 * Insert, Home, End, Page_Up (PageUp, Prior), Page_Down (PageDown, Next),
 * Up, Down, Left, Right, space, minus, equal, bracketleft, bracketright,
 * backslash, semicolon, apostrophe, grave, comma, period, slash, Print,
 * Menu, Pause, CapsLock, NumLock, ScrollLock, KP_Enter, KP_Divide; every
 * printable ASCII punctuation character as itself ('+' as "plus"), a
 * shifted one ("!", "?") with shift added when the combination has none.
 * All keys go down in order, then up in reverse order. A key named twice
 * is refused.
 */
int rdp_input_keys(const char *combo, cJSON *events, char *err, size_t errsz);

/* Moves to (x, y), then count (1..RDP_INPUT_CLICKS_MAX) times button down
 * and up there. button: NULL (left), "left", "right" or "middle". */
int rdp_input_click(int x, int y, const char *button, int count, cJSON *events, char *err,
    size_t errsz);

/* Moves to (x, y). */
int rdp_input_move(int x, int y, cJSON *events, char *err, size_t errsz);

/* Moves to (x1, y1), button down, RDP_INPUT_DRAG_STEPS moves along the line
 * to (x2, y2) (some applications only see a drag through intermediate
 * motion), button up there. button as rdp_input_click(). */
int rdp_input_drag(int x1, int y1, int x2, int y2, const char *button, cJSON *events,
    char *err, size_t errsz);

/* Moves to (x, y), then one wheel event of dx, dy notches (each within
 * +-RDP_INPUT_NOTCHES_MAX, not both 0; dy > 0 scrolls down). */
int rdp_input_scroll(int x, int y, int dx, int dy, cJSON *events, char *err, size_t errsz);

/* A pause of ms (0..RDP_INPUT_WAIT_MAX_MS) milliseconds between events. */
int rdp_input_wait(int ms, cJSON *events, char *err, size_t errsz);

#endif
