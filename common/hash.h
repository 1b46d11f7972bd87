/*
 * hash.h - a string hash for the buckets of in-memory tables.
 *
 * FNV-1a: quick, and it spreads keys well; but anyone can compute it, so
 * a table keyed by what clients choose must bound its chains some other
 * way (brk_quota.c never holds more keys than its total; the MCP
 * transport's session ids are random, so clients choose none of the keys
 * its table holds).
 */
#ifndef ZT_HASH_H
#define ZT_HASH_H

#include <stdint.h>

/* The hash of the NUL-terminated string s. */
uint32_t hash_str(const char *s);

#endif
