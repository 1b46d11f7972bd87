/*
 * fuzz/rdp_input.c - libFuzzer harness for resources/rdp_input: the text of
 * rdp_type and the keys of rdp_key come from the AI as they are.
 *
 * The input, NUL-terminated, goes through rdp_input_text() and
 * rdp_input_keys(). Either refuses with an error code from the contract and
 * a sentence, or builds events that must hold to the wire format: known
 * types, scancodes of one byte, UTF-16 code units, every key and code unit
 * that went down coming up again. Text that was accepted must have been
 * well-formed UTF-8 within the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "resources/rdp_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static int num(const cJSON *o, const char *key, double lo, double hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	check(cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
	    v->valuedouble == (double)v->valueint);
	return v->valueint;
}

static int flag(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	check(cJSON_IsBool(v));
	return cJSON_IsTrue(v);
}

/* Checks every event; keys and code units must come up as often as they
 * went down (held[] counts what is down). */
static void check_events(const cJSON *events)
{
	static int held[2][128];
	static int units[0x10000];
	const cJSON *e, *t;
	int sc, ext, cp, down, net = 0;

	/* Each count stays 0 or 1 and downs equal ups overall, so every count
	 * ends at 0 (and the tables are clean for the next input) without a
	 * walk over them. */
	cJSON_ArrayForEach(e, events) {
		t = cJSON_GetObjectItemCaseSensitive(e, "t");
		check(cJSON_IsString(t));
		if (strcmp(t->valuestring, "key") == 0) {
			sc = num(e, "sc", 1, 127);
			ext = flag(e, "ext");
			down = flag(e, "down");
			net += down ? 1 : -1;
			held[ext][sc] += down ? 1 : -1;
			check(held[ext][sc] == 0 || held[ext][sc] == 1);
		} else if (strcmp(t->valuestring, "unicode") == 0) {
			cp = num(e, "cp", 0x80, 0xFFFF);
			down = flag(e, "down");
			net += down ? 1 : -1;
			units[cp] += down ? 1 : -1;
			check(units[cp] == 0 || units[cp] == 1);
		} else {
			abort(); /* text and keys make no mouse events */
		}
	}
	check(net == 0);
}

static void run(int (*fn)(const char *, cJSON *, char *, size_t), const char *arg, int is_text)
{
	cJSON *events = cJSON_CreateArray();
	char err[256];
	int r;

	if (events == NULL) {
		return;
	}
	err[0] = '\0';
	r = fn(arg, events, err, sizeof(err));
	if (r == 0) {
		check_events(events);
		check(cJSON_GetArraySize(events) > 0);
		if (is_text) {
			check(strlen(arg) <= RDP_INPUT_TEXT_MAX && json_utf8_text(arg, strlen(arg)));
		} else {
			check(strlen(arg) <= RDP_INPUT_COMBO_MAX);
			check(cJSON_GetArraySize(events) <= 2 * (RDP_INPUT_KEYS_MAX + 1));
		}
	} else {
		check(r == ZT_ERR_INVALID || r == ZT_ERR_TOO_LARGE || r == ZT_ERR_NOMEM);
		/* a sentence to pass on, and text a JSON string can carry */
		check(err[0] != '\0' && json_utf8_text(err, strlen(err)));
	}
	cJSON_Delete(events);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL) {
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	run(rdp_input_text, s, 1);
	run(rdp_input_keys, s, 0);
	free(s);
	return 0;
}
