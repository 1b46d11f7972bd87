/*
 * name.h - the one rule for the names zt gives things (users, bots, agents,
 * hosts, roles): [a-z0-9][a-z0-9._-]*, at most a given length.
 */
#ifndef ZT_NAME_H
#define ZT_NAME_H

#include <stddef.h>

/* 1 if s is a name of 1..max bytes (NULL is not). */
int name_valid(const char *s, size_t max);

#endif
