/*
 * brk_join.h - an agent's join: a one-time token and a CSR in, a
 * short-lived agent certificate out; and its renewal before expiry.
 *
 * The tunnel listener hands each decoded `join` message here. The token is
 * consumed atomically (store_join_token_use: unknown, expired and replayed
 * tokens are refused, and audited through b->agg, once per kind, address
 * and period, since anyone can send them without end); the CSR's own
 * signature must verify,
 * and the certificate is issued by the broker's TLS CA for the agent's
 * name (CN) with clientAuth only, valid b->agent_cert_ttl (default
 * BRK_AGENT_CERT_TTL). No certificate, issued or renewed, leaves without
 * its audit event: one that cannot be written (aud_record) turns the reply
 * into the refusal "internal". Pure request handling: no sockets, so it is
 * unit-tested on a real store and CA.
 */
#ifndef ZT_BRK_JOIN_H
#define ZT_BRK_JOIN_H

#include "tunnel/tun.h"

struct brk;

#define BRK_AGENT_CERT_TTL (12 * 3600)

/* Handles a join (m->type == TUN_JOIN) from source. A token bound to a
 * name joins that name only; the labels a token grants are kept, with
 * whether the token named the agent (store_agent_join_put), for the
 * agent's next hello, where they win over its own: approved for a new
 * name, or for a known one that the token named; otherwise claimed, and
 * held for approval (brk_agents.h). On 0, *reply is a join_ok (cert,
 * ca); otherwise *reply is an error message whose code says why ("token_unknown",
 * "token_expired", "token_used", "token_name", "bad_csr", "internal") and
 * the return value is the negative ZT_ERR_*. The caller clears *reply. */
int brk_join(struct brk *b, const struct tun_msg *m, const char *source, struct tun_msg *reply);

/* Handles a renew (m->type == TUN_RENEW) from the agent name whose valid
 * certificate, presented over mutual TLS, carries the key key_pin (the
 * caller checked both, and that name is bound to that key). The CSR must
 * be for the same key: a renewal extends a key's life, it never moves a
 * name to another key, and a locked agent gets none (its refusals are
 * audited through b->agg). Replies and returns as brk_join; error codes
 * "bad_csr", "key_changed", "locked", "internal". Audited as agent.renew. */
int brk_renew(struct brk *b, const struct tun_msg *m, const char *name, const char *key_pin,
    const char *source, struct tun_msg *reply);

#endif
