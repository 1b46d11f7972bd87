/*
 * pol_priv.h - the inside of struct pol_role, shared by pol_role.c (which
 * builds it) and pol_eval.c (which reads it). Not part of any contract:
 * nothing outside policy/ includes this file.
 */
#ifndef ZT_POL_PRIV_H
#define ZT_POL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "policy/pol_role.h"

struct pol_section {
	int present;                      /* the section key appeared */
	int has_hosts, has_logins, has_tools;
	char *hkey[POL_MAX_ITEMS];        /* label selectors: key = glob */
	char *hval[POL_MAX_ITEMS];
	size_t nhosts;
	char *logins[POL_MAX_ITEMS];
	size_t nlogins;
	char *tools[POL_MAX_ITEMS];
	size_t ntools;
};

struct pol_role {
	char name[POL_NAME_MAX + 1];
	struct pol_section allow, deny;
	int64_t max_session_ttl;          /* seconds, 0 = unset */
	char *ttl_text;                   /* as written, NULL = unset */
	int admin_set;                    /* options.admin appeared */
	int admin;                        /* its value */
};

#endif
