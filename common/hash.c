/*
 * hash.c - FNV-1a over a string (hash.h).
 */
#include "common/hash.h"

uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		h = (h ^ *p) * 16777619u;
	}
	return h;
}
