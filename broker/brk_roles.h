/*
 * brk_roles.h - the stored roles, parsed once per change.
 *
 * Every decision needs the roles its identity holds, parsed (policy/
 * pol_role.h). Parsing them from the store for each call cost a query and
 * a JSON parse per role, twice per tool call. Instead a brk_roles keeps
 * every stored role parsed, as one immutable generation, and reads them
 * again only when the store's role generation (store_role_generation(),
 * raised by any change of a role, by any process) differs from the one it
 * parsed: a lookup of one row per use. A generation is shared read-only
 * and counted, so a decision that holds one finishes on the roles it
 * started with while a change makes the next.
 *
 * Thread-safe: the broker shares one among its threads.
 */
#ifndef ZT_BRK_ROLES_H
#define ZT_BRK_ROLES_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct pol_role;
struct brk_roles;
struct brk_roleset;

/* A cache over st (borrowed; it outlives the cache), empty until used:
 * 0 or ZT_ERR_NOMEM. */
int brk_roles_new(struct store *st, struct brk_roles **out);
/* Frees rc; generations still held stay valid until released. NULL is a
 * no-op. */
void brk_roles_free(struct brk_roles *rc);
/* The roles as stored now, held until brk_roleset_release(): 0, or
 * ZT_ERR_DB, ZT_ERR_NOMEM, ZT_ERR_INVALID (a stored role that does not
 * parse: nothing is decided on part of the policy). */
int brk_roles_current(struct brk_roles *rc, struct brk_roleset **out);
void brk_roleset_release(struct brk_roleset *set);
/* The store's role generation set was read at. */
int64_t brk_roleset_generation(const struct brk_roleset *set);
/* The role named name in set, or NULL when none is stored. */
const struct pol_role *brk_roleset_find(const struct brk_roleset *set, const char *name);

#endif
