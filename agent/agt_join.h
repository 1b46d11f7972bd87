/*
 * agt_join.h - ztagent's certificate: on first start its own key, a CSR,
 * and a one-time join token exchanged for a short-lived agent certificate;
 * later, renewals of that certificate for the same key, before it expires
 * (over mutual TLS with the current one: no token).
 *
 * Files in the agent's data directory D (0700):
 *   D/agent.key  P-256 key, made here, never leaves the host (0600)
 *   D/agent.crt  the certificate the broker issued (0600)
 *   D/ca.crt     the broker's CA, as pinned
 * The broker is reached over TLS pinned to the CA pin (common/tls.h); the
 * token is sent once, inside TLS, and never logged.
 */
#ifndef ZT_AGT_JOIN_H
#define ZT_AGT_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/tun.h"

struct agt_config {
	const char *broker_host;
	const char *broker_port;
	const char *ca_pin;
	const char *data_dir;
	const char *name;
	struct tun_label labels[TUN_LABELS_MAX];
	size_t nlabels;
	/* What the agent advertises and the only places it dials. */
	struct tun_resource resources[TUN_RESOURCES_MAX];
	size_t nresources;
	int max_streams;               /* streams open at once, 1..AGT_STREAMS_MAX */
	/* The desktop service (agt_desk.h): per resource, an rdp resource's
	 * credentials file (NULL for others); the idle timeout; the helper. */
	const char *credentials[TUN_RESOURCES_MAX];
	int64_t rdp_idle_ms;
	const char *rdp_helper;
};

/* A TLS connection to the broker pinned to its CA, presenting the agent
 * certificate and key from cfg->data_dir (control, stream and renewal
 * connections). 0 or tls_connect_pinned_cert()'s error. */
struct tls_conn;
int agt_connect(const struct agt_config *cfg, int timeout_ms, struct tls_conn **c);

/* Frame I/O over a pinned TLS connection, shared with the control loop:
 * agt_send writes one message; agt_tls_readfn is tun_recv()'s readfn. */
int agt_send(struct tls_conn *c, const struct tun_msg *m);
long agt_tls_readfn(void *arg, void *p, size_t n);

/* 1 if D/agent.crt exists. */
int agt_joined(const char *data_dir);
/* Makes the key if needed, sends join with token and saves the issued
 * certificate. On failure err says why, with the broker's reason when it
 * gave one ("join token already used"). 0 or a negative ZT_ERR_*. */
int agt_join(const struct agt_config *cfg, const char *token, char *err, size_t errsz);
/* Renews D/agent.crt for the same key; err says why not. 0 or a negative
 * ZT_ERR_* (ZT_ERR_DENIED: the broker refused). */
int agt_renew(const struct agt_config *cfg, char *err, size_t errsz);
/* The whole life of D/agent.crt and what is left of it, in seconds (left
 * <= 0 once it expired). 0, ZT_ERR_IO (unreadable), ZT_ERR_INVALID (not a
 * certificate). */
int agt_cert_life(const char *data_dir, int64_t *life, int64_t *left);

#endif
