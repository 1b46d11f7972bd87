/*
 * agt_creds.h - a desktop's account, from an rdp resource's credentials
 * file (credentials_file in agt_config.h; examples/rdp-credentials.yaml):
 * a YAML map of username, password or nla_hash (the NT hash, 32 hex
 * digits; NLA only), and optionally domain. Only the agent's desktop
 * service reads it (agt_desk.h), at each connect; it is never sent to the
 * broker. Every copy the parse makes is wiped (libyaml's included).
 */
#ifndef ZT_AGT_CREDS_H
#define ZT_AGT_CREDS_H

#include <stddef.h>

#include "tunnel/desk.h"

#define AGT_CRED_MAX 256           /* bytes of a username, password, domain */
#define AGT_NLA_HASH_LEN DESK_NLA_HASH_LEN /* hex digits of an NT hash */

/* Secret: agt_rdp_creds_wipe() after use. */
struct agt_rdp_creds {
	char username[AGT_CRED_MAX];
	char password[AGT_CRED_MAX];
	char nla_hash[AGT_NLA_HASH_LEN + 1];
	char domain[AGT_CRED_MAX];
};

/*
 * Reads path: a regular file of at most AGT_CONFIG_MAX bytes that neither
 * group nor others may read or write (it holds a password). username and
 * one of password or nla_hash are required; unknown keys are refused as in
 * the configuration file. 0, or ZT_ERR_IO / ZT_ERR_DENIED / ZT_ERR_INVALID /
 * ZT_ERR_TYPE / ZT_ERR_TOO_LARGE / ZT_ERR_NOMEM with err "FILE:LINE: what is
 * wrong" (never a value). *out is wiped on error.
 */
int agt_rdp_creds_load(const char *path, struct agt_rdp_creds *out, char *err, size_t errsz);
/* The parse of agt_rdp_creds_load, on the YAML text p[0..n) named fname:
 * no I/O. Its errors, but the file's own. */
int agt_rdp_creds_parse(const void *p, size_t n, const char *fname, struct agt_rdp_creds *out,
    char *err, size_t errsz);
/* Wipes *c. NULL is a no-op. */
void agt_rdp_creds_wipe(struct agt_rdp_creds *c);

#endif
