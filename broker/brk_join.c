/*
 * brk_join.c - turning a join token and a CSR into an agent certificate.
 */
#include "broker/brk_join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_identity.h"
#include "common/ca.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

/* Fills reply with an error message; returns r. */
static int refuse(struct tun_msg *reply, int r, const char *code, const char *message)
{
	memset(reply, 0, sizeof(*reply));
	reply->type = TUN_ERROR;
	reply->code = strdup(code);
	reply->message = strdup(message);
	return r;
}

/* Records a join (aud_record): the token by its hash's prefix, and the SSH
 * target the agent gave. Refusals before a token is accepted (unknown,
 * expired, used up) cost the client nothing and can come without end:
 * they are aggregated, once per kind and period. The rest (a certificate
 * issued, a token spent on a bad CSR) are bounded by the tokens an
 * administrator minted and are each written durably. 0 or aud_record's
 * error. */
static int record_join(struct brk *b, const struct tun_msg *m, const char *source,
    const char *outcome, const char *reason, const char *token_hash,
    enum aud_aggregate aggregate)
{
	char actor[BRK_IDENTITY_KEY_MAX], pfx[13];
	cJSON *d = cJSON_CreateObject();
	int r;

	brk_identity_key("agent", m->name != NULL ? m->name : "?", actor, sizeof(actor));
	snprintf(pfx, sizeof(pfx), "%.12s", token_hash);
	cJSON_AddStringToObject(d, "token", pfx);
	if (m->nresources > 0) {
		cJSON *arr = cJSON_AddArrayToObject(d, "resources");

		for (size_t i = 0; arr != NULL && i < m->nresources; i++) {
			cJSON_AddItemToArray(arr, cJSON_CreateString(m->resources[i].name));
		}
	}
	r = aud_record(b->store, b->agg, brk_now_ms(), &(struct aud_event){ .type = "agent.join",
	    .actor = actor, .source = source, .outcome = outcome, .reason = reason, .details = d,
	    .aggregate = aggregate });
	cJSON_Delete(d);
	return r;
}

static int64_t cert_ttl(const struct brk *b)
{
	return b->agent_cert_ttl > 0 ? b->agent_cert_ttl : BRK_AGENT_CERT_TTL;
}

/* What a token's refusal is called on the wire, and told to the agent. */
static const char *refusal_code(int r)
{
	return r == ZT_ERR_EXPIRED ? "token_expired" : r == ZT_ERR_REPLAY ? "token_used" :
	    r == ZT_ERR_NOT_FOUND ? "token_unknown" : r == ZT_ERR_DENIED ? "token_name" :
	    "internal";
}

static const char *refusal_message(int r)
{
	return r == ZT_ERR_EXPIRED ? "join token expired: ask an administrator for a new one" :
	    r == ZT_ERR_REPLAY ? "join token already used" :
	    r == ZT_ERR_NOT_FOUND ? "unknown join token" :
	    r == ZT_ERR_DENIED ? "this join token is for another name" : "internal error";
}

/* Keeps the labels the token granted, and whether it named the agent,
 * for the agent's next hello, which comes on another connection with the
 * certificate's key (brk_agents.h says what they become there). */
static int keep_labels(struct brk *b, const char *name, const char *cert,
    const struct store_join_claims *claims)
{
	char pin[CA_PIN_LEN + 1];
	int r;

	if (claims->labels[0] == '\0') {
		return 0;
	}
	if ((r = ca_pin_of_pem(cert, pin, sizeof(pin))) == 0) {
		r = store_agent_join_put(b->store, name, pin, claims->labels,
		    claims->name[0] != '\0', b->now());
	}
	return r;
}

int brk_join(struct brk *b, const struct tun_msg *m, const char *source, struct tun_msg *reply)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct store_join_claims *claims = NULL;
	char *cert = NULL;
	int r;

	memset(reply, 0, sizeof(*reply));
	if (m->type != TUN_JOIN || m->token == NULL || m->csr == NULL || m->name == NULL) {
		return refuse(reply, ZT_ERR_PROTOCOL, "bad_request", "expected a join message");
	}
	if ((claims = calloc(1, sizeof(*claims))) == NULL) {
		return refuse(reply, ZT_ERR_NOMEM, "internal", "internal error");
	}
	crypto_token_hash(m->token, hash);
	r = store_join_token_use(b->store, hash, b->now(), m->name, claims);
	if (r != 0) {
		/* The broker's own trouble is rare and worth each record. The
		 * join is refused whatever the record says. */
		(void)record_join(b, m, source, "failure", refusal_code(r), hash,
		    strcmp(refusal_code(r), "internal") != 0 ? AUD_AGGREGATE : AUD_EACH);
		refuse(reply, r, refusal_code(r), refusal_message(r));
		goto out;
	}
	r = ca_sign_csr(b->ca, m->csr, strlen(m->csr), m->name, b->now(), cert_ttl(b), &cert);
	if (r != 0) {
		/* The token is spent: a bad CSR must not let one token be tried
		 * again and again. */
		(void)record_join(b, m, source, "failure", "bad_csr", hash, AUD_EACH);
		refuse(reply, r, "bad_csr", "the certificate request was refused");
		goto out;
	}
	/* No certificate without the token's labels on record: its first
	 * hello would otherwise have its own approved. */
	if ((r = keep_labels(b, m->name, cert, claims)) != 0) {
		log_error("cannot keep the labels of the join of %s: %s", m->name, zt_strerror(r));
		(void)record_join(b, m, source, "failure", "internal", hash, AUD_EACH);
		free(cert);
		refuse(reply, r, "internal", "internal error");
		goto out;
	}
	reply->type = TUN_JOIN_OK;
	reply->cert = cert;
	reply->ca = strdup(ca_cert_pem(b->ca));
	if (reply->ca == NULL) {
		tun_msg_clear(reply);
		r = refuse(reply, ZT_ERR_NOMEM, "internal", "internal error");
		goto out;
	}
	/* No certificate leaves without its record. */
	if ((r = record_join(b, m, source, "success", NULL, hash, AUD_EACH)) != 0) {
		tun_msg_clear(reply);
		refuse(reply, r, "internal", "internal error");
		goto out;
	}
	log_info("agent %s joined from %s%s", m->name, source,
	    claims->labels[0] != '\0' ? " with the labels of its token" : "");
out:
	free(claims);
	return r;
}

/* Whether the store says agent name is locked: 0, ZT_ERR_LOCKED, or the
 * store's error (a renewal is then refused: revocation fails closed). A
 * name the store no longer knows is not locked; the caller checked that
 * the registry knows it. */
static int locked(struct brk *b, const char *name)
{
	struct store_agent *row = calloc(1, sizeof(*row));
	int r;

	if (row == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = store_agent_get(b->store, name, row);
	r = r == 0 && row->locked ? ZT_ERR_LOCKED : r == ZT_ERR_NOT_FOUND ? 0 : r;
	free(row);
	return r;
}

int brk_renew(struct brk *b, const struct tun_msg *m, const char *name, const char *key_pin,
    const char *source, struct tun_msg *reply)
{
	char actor[BRK_IDENTITY_KEY_MAX], pin[CA_PIN_LEN + 1];
	struct aud_event ev = { .type = "agent.renew", .source = source, .outcome = "failure" };
	const char *code = NULL;
	char *cert = NULL;
	int r;

	memset(reply, 0, sizeof(*reply));
	brk_identity_key("agent", name, actor, sizeof(actor));
	ev.actor = actor;
	if (m->type != TUN_RENEW || m->csr == NULL) {
		return refuse(reply, ZT_ERR_PROTOCOL, "bad_request", "expected a renew message");
	}
	if ((r = locked(b, name)) != 0) {
		/* A locked agent may ask again and again. Refused whatever the
		 * record says, as are the failures below. */
		if (r == ZT_ERR_LOCKED) {
			ev.reason = "locked";
			ev.aggregate = AUD_AGGREGATE;
			(void)aud_record(b->store, b->agg, brk_now_ms(), &ev);
		}
		return r == ZT_ERR_LOCKED ? refuse(reply, r, "locked",
		    "agent locked by an administrator") : refuse(reply, r, "internal",
		    "internal error");
	}
	r = ca_sign_csr(b->ca, m->csr, strlen(m->csr), name, b->now(), cert_ttl(b), &cert);
	if (r != 0) {
		code = "bad_csr";
	} else if ((r = ca_pin_of_pem(cert, pin, sizeof(pin))) != 0) {
		code = "internal";
	} else if (strcmp(pin, key_pin) != 0) {
		r = ZT_ERR_DENIED;
		code = "key_changed";
	}
	if (code != NULL) {
		free(cert);
		ev.reason = code;
		(void)aud_record(b->store, b->agg, brk_now_ms(), &ev);
		return refuse(reply, r, code, strcmp(code, "key_changed") == 0 ?
		    "a renewal keeps the key: join again with a token to use a new key" :
		    "the certificate request was refused");
	}
	reply->type = TUN_JOIN_OK;
	reply->cert = cert;
	if ((reply->ca = strdup(ca_cert_pem(b->ca))) == NULL) {
		tun_msg_clear(reply);
		return refuse(reply, ZT_ERR_NOMEM, "internal", "internal error");
	}
	/* No certificate leaves without its record. */
	ev.outcome = "success";
	if ((r = aud_record(b->store, b->agg, brk_now_ms(), &ev)) != 0) {
		tun_msg_clear(reply);
		return refuse(reply, r, "internal", "internal error");
	}
	log_info("agent %s renewed its certificate from %s", name, source);
	return 0;
}
