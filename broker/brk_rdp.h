/*
 * brk_rdp.h - the desktop tools (rdp_screenshot, rdp_click, rdp_move,
 * rdp_drag, rdp_scroll, rdp_type, rdp_key): their parse and run for the
 * tool table (brk_tools.c).
 *
 * parse turns a call's arguments into input events (resources/rdp_input.h)
 * held for the call; run dials the desktop's agent (brk_dial.h), whose
 * desktop service (agent/agt_desk.h) keeps one warm RDP session per
 * (caller, desktop), and speaks desktop frames (tunnel/desk.h) on the
 * stream: the input (in requests of at most BRK_RDP_EVENTS_PER_REQUEST
 * events), then, for rdp_screenshot or "screenshot": true, a
 * screenshot. The broker never holds a desktop's password: the agent does.
 *
 * A screenshot is returned as MCP image content (PNG) with
 * structuredContent {width, height, scale, sha256}; coordinates of later
 * calls are in its pixels. It is also kept as
 * <data dir>/recordings/<call id>.png (0600), its SHA-256 in the call's
 * outcome event. An input call's outcome event says what was typed or
 * pressed, or only its length when the deciding role says
 * options.redact_input: true.
 */
#ifndef ZT_BRK_RDP_H
#define ZT_BRK_RDP_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct brk_call;

#define BRK_RDP_PNG_MAX (16u * 1024 * 1024) /* bytes of a screenshot the broker takes */
#define BRK_RDP_CALL_MS 60000              /* the agent's answer (a first connect included) */
/* Input events of one request to the agent: at most ~60 bytes each
 * printed, so a request's head stays well under DESK_HEAD_MAX. */
#define BRK_RDP_EVENTS_PER_REQUEST 512

int brk_rdp_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz);
int brk_rdp_run(struct brk_call *c, cJSON **result);

#endif
