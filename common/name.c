/*
 * name.c - the rule for names (name.h).
 */
#include "common/name.h"

int name_valid(const char *s, size_t max)
{
	size_t i;

	if (s == NULL) {
		return 0;
	}
	for (i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char)s[i];

		if (i >= max) {
			return 0;
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			continue;
		}
		if (i > 0 && (c == '.' || c == '_' || c == '-')) {
			continue;
		}
		return 0;
	}
	return i > 0;
}
