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
	int has_hosts, has_logins, has_tools, has_commands, has_paths;
	char *hkey[POL_MAX_ITEMS];        /* label selectors: key = glob */
	char *hval[POL_MAX_ITEMS];
	size_t nhosts;
	char *logins[POL_MAX_ITEMS];
	size_t nlogins;
	char *tools[POL_MAX_ITEMS];
	size_t ntools;
	char *commands[POL_MAX_ITEMS];
	size_t ncommands;
	char *paths[POL_MAX_ITEMS];
	size_t npaths;
};

struct pol_role {
	char name[POL_NAME_MAX + 1];
	struct pol_section allow, deny;
	int64_t max_session_ttl;          /* seconds, 0 = unset */
	char *ttl_text;                   /* as written, NULL = unset */
	int admin_set;                    /* options.admin appeared */
	int admin;                        /* its value */
	int auditor_set;                  /* options.auditor appeared */
	int auditor;                      /* its value */
	int shell_set;                    /* options.shell appeared */
	int shell;                        /* its value */
	int mfa_set;                      /* options.mfa appeared */
	enum pol_mfa mfa;
	int64_t mfa_window;               /* seconds; the default when per_session */
	char *mfa_window_text;            /* as written, NULL = unset */
	int approval;                     /* options.approval appeared */
	char *approvers[POL_MAX_ITEMS];   /* approval.by, role names */
	size_t napprovers;
	int64_t approval_ttl;             /* seconds; the default when approval */
	char *approval_ttl_text;          /* as written, NULL = unset */
	int64_t max_job;                  /* seconds; the default when unset */
	char *max_job_text;               /* as written, NULL = unset */
	int port_forwarding_set;          /* options.port_forwarding appeared */
	int port_forwarding;              /* its value */
	int record_input_set;             /* options.record_input appeared */
	int record_input;                 /* its value */
	int redact_input_set;             /* options.redact_input appeared */
	int redact_input;                 /* its value */
};

/* NULL if p is a valid path pattern (pol_role.h), else why not (a static
 * string for an error message). */
const char *pol_path_pattern_error(const char *p);

#endif
