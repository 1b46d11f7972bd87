/*
 * brk_policy.h - roles as the broker keeps them: applying role documents to
 * the store, and loading the roles an identity names for a decision.
 *
 * The decisions themselves are policy/ (pure code); this module is the
 * glue to storage that the admin verbs, and later the MCP tool gate, use.
 * Roles come parsed from a brk_roles (brk_roles.h), so a decision parses
 * nothing unless a role changed.
 */
#ifndef ZT_BRK_POLICY_H
#define ZT_BRK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct brk_roles;
struct brk_roleset;
struct pol_role;

/* Parses one role document (YAML) from p[0..n) and stores it, replacing a
 * role of the same name. name receives the role's name; err a message
 * naming fname and the line on failure; warn (warnsz bytes, "" when none)
 * what the role allows that its author may not expect: paths that bound
 * the file tools only, in a section that also allows ssh_exec. 0 or a
 * negative ZT_ERR_*. */
int brk_policy_apply(struct store *st, const void *p, size_t n, const char *fname,
    char *name, size_t namesz, char *err, size_t errsz, char *warn, size_t warnsz,
    long long now);
/* The roles an identity holds, as one generation of rc parsed them. */
struct brk_policy_set {
	struct brk_roleset *gen;   /* holds roles[] */
	const struct pol_role **roles;
	size_t n;
	/* The names without a stored document, comma-separated: skipped (a
	 * role nobody defined allows nothing). */
	char missing[STORE_ROLES_MAX + 1];
};
/* The stored roles named in roles ("a,b") into *set, held until
 * brk_policy_release(): 0 or brk_roles_current's error (then *set holds
 * nothing, and release is a no-op). */
int brk_policy_load(struct brk_roles *rc, const char *roles, struct brk_policy_set *set);
void brk_policy_release(struct brk_policy_set *set);
/* The longest a session (a login or a bot token) of an identity holding
 * roles ("a,b") may last: the smallest options.max_session_ttl among the
 * stored documents of those roles, or cap (seconds) if that is smaller or
 * no role sets one. by (bysz bytes) gets the name of the role that set
 * *ttl, or "" when cap did. 0, or brk_policy_load's error (the caller then
 * mints nothing: a policy that cannot be read grants no session). */
int brk_policy_session_ttl(struct brk_roles *rc, const char *roles, int64_t cap, int64_t *ttl,
    char *by, size_t bysz);
/* The standing rights the stored roles named in roles ("a,b") grant: *admin
 * is 1 if one says options.admin: true, *auditor if one says
 * options.auditor: true (pol_role.h). Who may use them is the caller's
 * rule (brk_policy_auditor; bots never administer). 0, or brk_policy_load's
 * error (both 0). */
int brk_policy_rights(struct brk_roles *rc, const char *roles, int *admin, int *auditor);
/* Whether an identity of kind holding roles administers the broker: *yes
 * is 1 for a user holding a role that says options.admin: true, never for
 * a bot, whatever its roles say. auditor (may be NULL) gets whether one of
 * the roles is an auditor role. 0 or brk_policy_load's error (both 0). */
int brk_policy_administers(struct brk_roles *rc, enum store_principal kind, const char *roles,
    int *yes, int *auditor);
/* Whether an identity of kind holding roles reads the audit log and every
 * recording of a session: *yes is 1 for a holder of an auditor role (a
 * user, or a bot exporting the audit log), and for a user who administers
 * (an administrator sees everything an auditor sees). 0 or
 * brk_policy_load's error (then *yes is 0). */
int brk_policy_auditor(struct brk_roles *rc, enum store_principal kind, const char *roles,
    int *yes);
/* Loads the roles named in roles and decides req (policy/pol_eval.h) into
 * *d; gen (may be NULL) gets the role generation it decided on. On any
 * error *d is a deny whose rule says the policy could not be read. 0 or a
 * negative ZT_ERR_*. */
struct pol_request;
struct pol_decision;
int brk_policy_decide(struct brk_roles *rc, const char *roles, const struct pol_request *req,
    struct pol_decision *d, int64_t *gen);
/* The role generation stored now, or -1 when it cannot be read. */
int64_t brk_policy_generation(struct brk_roles *rc);
/* The policy's view of n labels as agents advertise them: out[i] points
 * into in[i] (borrowed; in must outlive out). */
struct tun_label;
struct pol_label;
void brk_policy_labels(const struct tun_label *in, size_t n, struct pol_label *out);

#endif
