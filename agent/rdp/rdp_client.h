/*
 * rdp_client.h - one FreeRDP 2 session of the RDP helper (ztrdp): connect
 * with a pinned certificate, keep the framebuffer current (software GDI,
 * BGRX32), tell when paints have gone quiet, take screenshots and send
 * input. Headless: no channels, no prompts, nothing stored on disk.
 *
 * Errors are 0 or negative ZT_ERR_* with a sentence for people in why:
 * ZT_ERR_PIN (the certificate is not the pinned one), ZT_ERR_AUTH (logon
 * refused), ZT_ERR_NET (unreachable), ZT_ERR_TIMEOUT (no full first frame
 * in time), ZT_ERR_OFFLINE (the server dropped the session), ZT_ERR_IO (no
 * private directory for FreeRDP's certificate store), ZT_ERR_PROTOCOL
 * (anything else). A refused NLA logon is told from an unreachable server
 * by whether the pinned certificate was seen: servers that just close the
 * connection on a bad password leave FreeRDP with a transport error. Not thread-safe: one thread drives one client.
 */
#ifndef ZT_RDP_CLIENT_H
#define ZT_RDP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/rdp/rdp_png.h"

#define RDP_WHY_MAX 512
#define RDP_PIN_HEX 64 /* hex digits of a SHA-256 certificate pin */

enum rdp_security { RDP_SEC_ANY = 0, RDP_SEC_NLA, RDP_SEC_TLS };

struct rdp_connect_opts {
	const char *host;
	uint16_t port;
	const char *username;
	const char *password;  /* or nla_hash; borrowed, not kept past connect */
	const char *nla_hash;  /* 32 hex digits: the NT hash (pass-the-hash) */
	const char *domain;
	char pin[RDP_PIN_HEX + 1]; /* lowercase hex SHA-256 of the DER certificate */
	enum rdp_security security;
	uint32_t width, height;
	int timeout_ms;
};

/* One input event, in desktop pixels (already scaled and clamped). */
enum rdp_ev_type { RDP_EV_MOVE, RDP_EV_BUTTON, RDP_EV_WHEEL, RDP_EV_KEY, RDP_EV_UNICODE, RDP_EV_WAIT };
struct rdp_event {
	enum rdp_ev_type t;
	uint16_t x, y;
	int button;   /* RDP_EV_BUTTON: 0 left, 1 right, 2 middle */
	int down;     /* RDP_EV_BUTTON, RDP_EV_KEY, RDP_EV_UNICODE */
	int dx, dy;   /* RDP_EV_WHEEL: notches */
	uint16_t code; /* RDP_EV_KEY: scancode; RDP_EV_UNICODE: UTF-16 code unit */
	int ext;      /* RDP_EV_KEY: extended key */
	int ms;       /* RDP_EV_WAIT */
};

struct rdp_client;

/* Once per process, before the first client: CPU primitives (no benchmark
 * at the first connect) and FreeRDP's logging (FATAL only unless debug). */
void rdp_client_global_init(int debug);
int rdp_client_new(struct rdp_client **out);
/* Disconnects (if connected) and frees; NULL-safe. */
void rdp_client_free(struct rdp_client *c);
/* Connects and waits for a full first frame. 0 and the desktop's size in
 * *w, *h; on failure the client stays unconnected (a new client is needed
 * for another try). */
int rdp_client_connect(struct rdp_client *c, const struct rdp_connect_opts *o, uint32_t *w,
    uint32_t *h, char *why, size_t whysz);
int rdp_client_connected(const struct rdp_client *c);
/* Services the connection for at most wait_ms, returning early when fd is
 * readable: 1 (fd readable), 0 (time passed), ZT_ERR_OFFLINE (the server
 * dropped the session). */
int rdp_client_wait(struct rdp_client *c, int fd, int wait_ms);
/* 1 if the server takes Unicode key events (its input capabilities say
 * so; FreeRDP's shadow server does not, and drops a session that sends
 * one), else 0. */
int rdp_client_unicode_ok(const struct rdp_client *c);
/* Desktop size. */
void rdp_client_size(const struct rdp_client *c, uint32_t *w, uint32_t *h);
/* Processes what is pending, waits until no paint has come for
 * RDP_SHOT_QUIET_MS (at most RDP_SHOT_MAX_MS), then encodes the framebuffer
 * (rdp_png_encode). 0, ZT_ERR_OFFLINE, or rdp_png_encode's errors. */
#define RDP_SHOT_QUIET_MS 30
#define RDP_SHOT_MAX_MS 250
int rdp_client_screenshot(struct rdp_client *c, uint32_t max_width, struct rdp_png *out,
    char *why, size_t whysz);
/* Sends evs[0..n) in order (waits pump the connection), then waits until
 * no paint has come for RDP_INPUT_QUIET_MS since the last event (at most
 * RDP_INPUT_MAX_MS), so that a screenshot right after shows the effect.
 * 0, ZT_ERR_OFFLINE. */
#define RDP_INPUT_QUIET_MS 50
#define RDP_INPUT_MAX_MS 500
int rdp_client_input(struct rdp_client *c, const struct rdp_event *evs, size_t n, char *why,
    size_t whysz);

#endif
