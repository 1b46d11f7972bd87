/*
 * agt_control.h - ztagent's control connection: mutual TLS with the agent
 * certificate (pinned to the broker's CA), a hello advertising the agent's
 * name, labels and SSH target, then a heartbeat every AGT_HEARTBEAT_S that
 * the broker echoes, and the broker's dials at any time (each starts a
 * stream, agt_stream.h). At each heartbeat it renews its certificate once
 * two thirds of its life are gone. When the connection fails or the broker
 * is silent for AGT_SILENCE_S, the agent reconnects after an exponential
 * backoff (1 s doubling to AGT_BACKOFF_MAX_S) with +-25% jitter, so that a
 * restarted broker is not met by every agent at the same instant; it stops
 * once its certificate expired (the broker was out of reach for the last
 * third of its life): only a new join token brings it back. An agent an
 * administrator locked is refused (and its connection ended) with
 * "locked": it keeps retrying with the same backoff, so an unlock lets it
 * back without a restart.
 */
#ifndef ZT_AGT_CONTROL_H
#define ZT_AGT_CONTROL_H

#include <signal.h>

#include "agent/agt_join.h"

#define AGT_HEARTBEAT_S 10
#define AGT_SILENCE_S 30
#define AGT_BACKOFF_MAX_S 30
#define AGT_IO_TIMEOUT_MS 15000

/* Runs until *stop becomes non-zero (a signal handler sets it). Returns 0,
 * ZT_ERR_DENIED when the broker refused the agent for good (its name is
 * bound to another agent's key, the certificate is not accepted, or its
 * claims are refused), or ZT_ERR_EXPIRED when the agent certificate
 * expired. */
int agt_control_run(const struct agt_config *cfg, volatile sig_atomic_t *stop);

#endif
