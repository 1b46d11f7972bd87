/*
 * brk_fwd.h - a forwarded TCP connection: `ztctl ssh -L` over /ws/tcp
 * (brk_ws.h, brk_term.h).
 *
 * ztctl accepts a local connection and opens one WebSocket for it; its
 * opening message is {"host", "login", "to_host", "to_port"}. The call
 * goes through the gate as tool port_forward (policy/pol_eval.h: only a
 * role with options.port_forwarding: true allows it), decided on the
 * host's labels and the login, with MFA and approvals as for any call; the
 * destination is in the call's arguments, so an approval binds it, and in
 * both of its audit events. The broker opens a connection whose
 * certificate permits forwarding (never a warm one), a direct-tcpip
 * channel to to_host:to_port as the host sees it, then relays: binary
 * messages both ways, {"type":"eof"} from the client when its side
 * stopped sending. The forward ends when the far end closes, the client
 * goes, or, as a terminal's, the credential, the host or the roles no
 * longer allow it; the end event says how many bytes went each way.
 */
#ifndef ZT_BRK_FWD_H
#define ZT_BRK_FWD_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct brk;
struct brk_call;
struct brk_ws;

/* The /ws/tcp route (brk_ws_handler). */
void brk_fwd_serve(struct brk *b, struct brk_ws *ws);

/* The tool table's entry port_forward (BRK_TOOL_TERM). */
int brk_fwd_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_fwd_run(struct brk_call *c, cJSON **result);

#endif
