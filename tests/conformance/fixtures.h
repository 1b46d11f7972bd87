/*
 * fixtures.h - the tools, resources, prompts and completion that the
 * official MCP conformance suite calls by name (see SCENARIOS.md), for the
 * test-only conformance server. Not part of zt.
 */
#ifndef ZT_TESTS_CONFORMANCE_FIXTURES_H
#define ZT_TESTS_CONFORMANCE_FIXTURES_H

#include "mcp/mcp.h"

/* Registers every fixture on srv (before any session exists): 0 or a
 * negative ZT_ERR_* from the registration that failed. */
int fixtures_register(struct mcp_server *srv);
/* The fixtures of protocol revision 2026-07-28 (fixtures26.c); called by
 * fixtures_register(). */
int fixtures26_register(struct mcp_server *srv);
/* The tools of the tasks extension's scenarios (fixtures_tasks.c); called
 * by fixtures26_register(). */
int fixtures_tasks_register(struct mcp_server *srv);
/* *result: a successful tool result with one text block made from fmt.
 * 0, or ZT_ERR_NOMEM. */
int fixture_text(cJSON **result, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
