/*
 * fuzz/web_form.c - libFuzzer harness for what the broker takes from a
 * browser's URL: the held call's id in /approve/ID (brk_console.h), and
 * the bounded form the query arguments are kept in (brk_form_add), fed
 * here in any order, size and offset.
 *
 * Input: a path line, then records [key length][key][offset: 2 bytes]
 * [size: 2 bytes][data]. Whatever comes, a form stays within its bounds,
 * every kept value is NUL-terminated at its length, and a bad form gives
 * no value at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_api.h"
#include "broker/brk_console.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], id[STORE_APPROVAL_ID_LEN + 1], key[300];
	struct brk_form f;
	const uint8_t *nl = memchr(data, '\n', size < sizeof(path) ? size : sizeof(path) - 1);
	size_t n = nl != NULL ? (size_t)(nl - data) : 0, i = nl != NULL ? n + 1 : 0;

	memcpy(path, data, n);
	path[n] = '\0';
	if (brk_console_approval(path, id) == 0) {
		check(strlen(id) == STORE_APPROVAL_ID_LEN && brk_console_path(path));
		check(strspn(id, "0123456789abcdef") == STORE_APPROVAL_ID_LEN);
	}
	memset(&f, 0, sizeof(f));
	while (i < size) {
		size_t klen = data[i++], off, len;

		if (i + klen + 4 > size) {
			break;
		}
		memcpy(key, data + i, klen);
		key[klen] = '\0';
		i += klen;
		off = (size_t)data[i] << 8 | data[i + 1];
		len = (size_t)data[i + 2] << 8 | data[i + 3];
		i += 4;
		if (len > size - i) {
			len = size - i;
		}
		(void)brk_form_add(&f, key, off, (const char *)data + i, len);
		i += len;
	}
	check(f.n <= BRK_FORM_FIELDS);
	for (size_t k = 0; k < f.n; k++) {
		check(f.len[k] <= BRK_FORM_VALUE_MAX && f.value[k][f.len[k]] == '\0');
		check(strlen(f.key[k]) < BRK_FORM_KEY_MAX);
		check(f.bad || brk_form_get(&f, f.key[k]) != NULL);
	}
	check(!f.bad || brk_form_get(&f, f.n > 0 ? f.key[0] : "x") == NULL);
	return 0;
}
