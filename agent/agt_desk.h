/*
 * agt_desk.h - ztagent's desktop service: the RDP sessions it keeps warm
 * for the broker, one FreeRDP helper process (ztrdp) each.
 *
 * A dial for an rdp resource does not reach the desktop's address as a
 * byte stream: its stream carries desktop frames (tunnel/desk.h), and this
 * service answers them. A request names the session it is for:
 *
 *   {"op":"screenshot","session":WHO,"max_width":N}   -> {"ok":true,...} + PNG
 *   {"op":"input","session":WHO,"events":[...]}        -> {"ok":true,...}
 *   {"op":"close","session":WHO}                       -> {"ok":true}
 *
 * WHO is the broker's identity of the caller ("user:alice"). There is one
 * session per (WHO, resource): the first request starts ztrdp, reads the
 * resource's credentials file (agt_creds.h) and connects; later ones go
 * to the same helper, so a screenshot costs a frame, not a connection. A
 * session ends when it has been idle for cfg->rdp_idle_ms, on "close" (the
 * broker sends it when the identity is locked or removed), or when its
 * helper or the desktop goes away; the next request then connects again.
 * Requests of one session run one at a time.
 *
 * The helper gets the account on its stdin, never on its command line or in
 * its environment; it inherits no descriptor but its pipes; its stderr is
 * the agent's. Answers are the helper's ({"ok":false,"code":...} when it
 * failed: certificate, auth, unreachable, timeout, disconnected, protocol),
 * or the service's own: "busy" (too many sessions), "credentials" (the file
 * cannot be read; the reason goes to the agent's log only), "helper" (ztrdp
 * cannot be started). Thread-safe.
 */
#ifndef ZT_AGT_DESK_H
#define ZT_AGT_DESK_H

#include "agent/agt_join.h"

#define AGT_DESK_IDLE_DEFAULT_MS (5 * 60 * 1000)
#define AGT_DESK_SESSIONS_MAX 64        /* warm sessions of one agent at once */
#define AGT_DESK_WHO_MAX 160            /* bytes of a session's identity */
#define AGT_DESK_CONNECT_MS 15000       /* a desktop's connect and first frame */
#define AGT_DESK_CALL_MS 30000          /* one request to a connected helper */
#define AGT_DESK_WIDTH 1024             /* the desktop size asked for */
#define AGT_DESK_HEIGHT 768

/* Answers the requests on fd (one stream of the broker's, for resource
 * res, the ires-th of cfg->resources) until the broker closes it or breaks
 * the framing. Does not close fd. Returns when the stream ends. */
void agt_desk_serve(const struct agt_config *cfg, size_t ires, int fd);

/* Ends every session no request holds (at the agent's exit). */
void agt_desk_shutdown(void);

#endif
