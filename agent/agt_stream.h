/*
 * agt_stream.h - ztagent's streams: the answer to a dial from the broker.
 *
 * For dial{id, resource} the agent connects to the address of that
 * resource, one it advertised (agt_control.c refuses a dial for any other
 * with error{id, "unknown_resource", ...}: no address the broker names is
 * ever dialled), then opens a new mutual-TLS connection to the broker and sends
 * accept{id} followed by the stream's bytes (tunnel/pump.h), or error{id,
 * code, message} when the target cannot be reached. Each stream runs in its
 * own detached thread, at most cfg->max_streams (--max-streams) at once; a
 * dial past that is refused at once on the control connection with
 * error{id, "busy", ...} (agt_control.c).
 */
#ifndef ZT_AGT_STREAM_H
#define ZT_AGT_STREAM_H

#include "agent/agt_join.h"

#define AGT_STREAMS_DEFAULT 256
#define AGT_STREAMS_MAX 4096
#define AGT_TARGET_TIMEOUT_MS 5000

/* Starts the stream for one dial (id as received, copied; res one of
 * cfg->resources, which outlives the stream). Returns at once: 0, or
 * ZT_ERR_TOO_LARGE (cfg->max_streams are open) / ZT_ERR_NOMEM; then the
 * caller tells the broker. */
int agt_stream_start(const struct agt_config *cfg, const char *id,
    const struct tun_resource *res);

#endif
