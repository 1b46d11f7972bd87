/*
 * fuzz/json.c - libFuzzer harness for common/json.
 *
 * Parses the input with small limits, then runs every typed getter over
 * every key of every object in the tree with tight bounds, checks that a
 * getter's result agrees with the value's cJSON type, and prints the tree
 * and parses the printout again: whatever json_parse accepted, its own
 * printout must be accepted too. Then it wipes and frees the tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_SIZE 4096
#define FUZZ_MAX_DEPTH 8

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void exercise_key(const cJSON *obj, const cJSON *item)
{
	static const char *const allowed[] = { "a", "id", "name", NULL };
	const char *key = item->string, *s = NULL, *bad = NULL;
	const cJSON *sub = NULL;
	int64_t i = 0;
	int b = 0, r;

	r = json_get_str(obj, key, 8, 0, &s);
	if (cJSON_IsNull(item)) {
		check(r == ZT_ERR_NOT_FOUND);
	} else if (!cJSON_IsString(item)) {
		check(r == ZT_ERR_TYPE);
	} else if (r == 0) {
		check(s != NULL && strlen(s) <= 8 && s[0] != '\0');
	} else {
		check(r == ZT_ERR_TOO_LARGE || r == ZT_ERR_INVALID);
	}
	r = json_get_int(obj, key, -1000, 1000, &i);
	if (r == 0) {
		check(cJSON_IsNumber(item) && i >= -1000 && i <= 1000 &&
		    (double)i == item->valuedouble);
	} else if (cJSON_IsNumber(item)) {
		check(r == ZT_ERR_INVALID);
	}
	r = json_get_bool(obj, key, &b);
	check(r != 0 || cJSON_IsBool(item));
	r = json_get_obj(obj, key, &sub);
	check(r != 0 || (cJSON_IsObject(sub) && sub == item));
	r = json_get_arr(obj, key, 3, &sub);
	check(r != 0 || (cJSON_IsArray(sub) && cJSON_GetArraySize(sub) <= 3));
	r = json_only_keys(obj, allowed, &bad);
	check(r == 0 ? bad == NULL : (r == ZT_ERR_INVALID && bad != NULL));
}

static void walk(const cJSON *v)
{
	const cJSON *c = NULL;

	for (c = v->child; c != NULL; c = c->next) {
		if (cJSON_IsObject(v)) {
			exercise_key(v, c);
		}
		walk(c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *v = NULL, *again = NULL;
	char *printed = NULL;
	int r;

	r = json_parse(data, size, FUZZ_MAX_SIZE, FUZZ_MAX_DEPTH, &v);
	if (r != 0) {
		check(v == NULL);
		check(r == ZT_ERR_INVALID || r == ZT_ERR_TOO_LARGE || r == ZT_ERR_TRAILING);
		return 0;
	}
	check(v != NULL);
	walk(v);
	printed = json_print(v);
	if (printed != NULL) {
		/* Printing may lengthen numbers, so allow more room. */
		r = json_parse(printed, strlen(printed), 64 * FUZZ_MAX_SIZE, FUZZ_MAX_DEPTH,
		    &again);
		check(r == 0);
		cJSON_Delete(again);
		free(printed);
	}
	/* Wiping walks the whole tree and must leave it freeable. */
	json_delete_wiped(v);
	return 0;
}
