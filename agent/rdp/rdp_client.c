/*
 * rdp_client.c - one headless FreeRDP 2 session (see rdp_client.h).
 *
 * Software GDI paints into a BGRX32 framebuffer; BeginPaint/EndPaint tell
 * when and where the server painted. The first frame is complete once every
 * 16x16 tile has been painted at least once; later, "quiet" means no paint
 * for a few tens of milliseconds. Every server certificate, whether the
 * system's CAs vouch for it or not, is accepted for this session only when
 * its SHA-256 is the pin, and FreeRDP's certificate store lives in a private temporary directory removed at the end, so no
 * entry from elsewhere can stand in for the pin and none is kept.
 */
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/codec/color.h>
#include <freerdp/settings.h>
#include <freerdp/primitives.h>
#include <freerdp/input.h>
#include <winpr/synch.h>
#include <winpr/handle.h>
#include <winpr/wlog.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rdp/rdp_client.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/net.h"

#define TILE 16
#define WAIT_SLICE_MS 20 /* longest single wait while settling */

struct rdp_client {
	rdpContext ctx; /* must be first: FreeRDP allocates ContextSize bytes */
	freerdp *inst;
	unsigned char *seen; /* tile grid of the first frame */
	int tw, th, tiles_left;
	int64_t last_paint; /* net_mono_ms() of the latest EndPaint with damage */
	unsigned long paints;
	int connected, dead;
	int pin_failed;
	int cert_ok; /* the pinned certificate was seen: TCP and TLS worked */
	char pin[RDP_PIN_HEX + 1];
	char got_fp[RDP_PIN_HEX + 1];
	char cfgdir[64];
	HANDLE fd_event;
	int fd_event_fd;
};

static void grid_reset(struct rdp_client *c, int w, int h)
{
	free(c->seen);
	c->tw = (w + TILE - 1) / TILE;
	c->th = (h + TILE - 1) / TILE;
	c->seen = calloc((size_t)c->tw * (size_t)c->th, 1);
	c->tiles_left = c->seen ? c->tw * c->th : -1;
}

static void grid_mark(struct rdp_client *c, INT32 x, INT32 y, INT32 w, INT32 h)
{
	int x0, y0, x1, y1;

	if (w <= 0 || h <= 0 || c->seen == NULL) {
		return;
	}
	x0 = x / TILE;
	y0 = y / TILE;
	x1 = (x + w - 1) / TILE;
	y1 = (y + h - 1) / TILE;
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 >= c->tw ? c->tw - 1 : x1;
	y1 = y1 >= c->th ? c->th - 1 : y1;
	for (int ty = y0; ty <= y1; ty++) {
		for (int tx = x0; tx <= x1; tx++) {
			unsigned char *t = &c->seen[ty * c->tw + tx];

			if (!*t) {
				*t = 1;
				c->tiles_left--;
			}
		}
	}
}

static BOOL cb_begin_paint(rdpContext *context)
{
	HGDI_WND hwnd = context->gdi->primary->hdc->hwnd;

	hwnd->invalid->null = TRUE;
	hwnd->ninvalid = 0;
	return TRUE;
}

static BOOL cb_end_paint(rdpContext *context)
{
	struct rdp_client *c = (struct rdp_client *)context;
	HGDI_WND hwnd = context->gdi->primary->hdc->hwnd;

	if (hwnd->invalid->null) {
		return TRUE;
	}
	c->paints++;
	c->last_paint = net_mono_ms();
	for (INT32 i = 0; i < hwnd->ninvalid; i++) {
		grid_mark(c, hwnd->cinvalid[i].x, hwnd->cinvalid[i].y, hwnd->cinvalid[i].w,
		    hwnd->cinvalid[i].h);
	}
	return TRUE;
}

static BOOL cb_desktop_resize(rdpContext *context)
{
	rdpSettings *s = context->settings;
	UINT32 w = freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth);
	UINT32 h = freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight);

	if (!gdi_resize(context->gdi, w, h)) {
		return FALSE;
	}
	grid_reset((struct rdp_client *)context, (int)w, (int)h);
	return TRUE;
}

static BOOL cb_pre_connect(freerdp *instance)
{
	(void)instance; /* no channels: plain graphics and input only */
	return TRUE;
}

static BOOL cb_post_connect(freerdp *instance)
{
	rdpGdi *gdi;

	if (!gdi_init(instance, PIXEL_FORMAT_BGRX32)) {
		return FALSE;
	}
	gdi = instance->context->gdi;
	grid_reset((struct rdp_client *)instance->context, (int)gdi->width, (int)gdi->height);
	instance->update->BeginPaint = cb_begin_paint;
	instance->update->EndPaint = cb_end_paint;
	instance->update->DesktopResize = cb_desktop_resize;
	return TRUE;
}

static void cb_post_disconnect(freerdp *instance)
{
	gdi_free(instance);
}

static BOOL cb_authenticate(freerdp *instance, char **u, char **p, char **d)
{
	(void)instance;
	(void)u;
	(void)p;
	(void)d;
	return FALSE; /* never prompt */
}

/* The server's certificate: FreeRDP hands over the PEM of its chain, leaf
 * first; accepted for this session only when the leaf's SHA-256 (of its
 * DER) is the pin. FreeRDP asks here for every certificate, trusted by the
 * system or not (ExternalCertificateManagement): else one that verifies
 * against the system's CAs for the host name is accepted without a word,
 * and the logon happens before the pin could be checked. */
static int cb_verify_x509(freerdp *instance, const BYTE *data, size_t length, const char *host,
    UINT16 port, DWORD flags)
{
	struct rdp_client *c = (struct rdp_client *)instance->context;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *x = NULL;
	BIO *bio;

	(void)host;
	(void)port;
	(void)flags;
	c->got_fp[0] = '\0';
	if (data != NULL && length > 0 && length <= INT_MAX &&
	    (bio = BIO_new_mem_buf(data, (int)length)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32) {
		(void)crypto_hex(md, mdlen, c->got_fp, sizeof(c->got_fp));
	}
	X509_free(x);
	if (strlen(c->got_fp) != RDP_PIN_HEX || strcmp(c->got_fp, c->pin) != 0) {
		c->pin_failed = 1;
		return 0;
	}
	c->cert_ok = 1;
	return 1;
}

void rdp_client_global_init(int debug)
{
	if (!debug) {
		WLog_SetLogLevel(WLog_GetRoot(), WLOG_FATAL);
	}
	/* Skips the ~300 ms generic-vs-SIMD benchmark at the first use. */
	primitives_set_hints(PRIMITIVES_ONLY_CPU);
}

int rdp_client_new(struct rdp_client **out)
{
	freerdp *inst = freerdp_new();
	struct rdp_client *c;

	*out = NULL;
	if (inst == NULL) {
		return ZT_ERR_NOMEM;
	}
	inst->ContextSize = sizeof(struct rdp_client);
	inst->PreConnect = cb_pre_connect;
	inst->PostConnect = cb_post_connect;
	inst->PostDisconnect = cb_post_disconnect;
	inst->Authenticate = cb_authenticate;
	inst->VerifyX509Certificate = cb_verify_x509;
	if (!freerdp_context_new(inst)) {
		freerdp_free(inst);
		return ZT_ERR_NOMEM;
	}
	c = (struct rdp_client *)inst->context;
	c->inst = inst;
	c->fd_event_fd = -1;
	*out = c;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void rdp_client_free(struct rdp_client *c)
{
	freerdp *inst;

	if (c == NULL) {
		return;
	}
	inst = c->inst;
	if (c->connected) {
		freerdp_disconnect(inst);
	}
	if (c->fd_event != NULL) {
		CloseHandle(c->fd_event);
	}
	if (c->cfgdir[0] != '\0') {
		(void)nftw(c->cfgdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	free(c->seen);
	freerdp_context_free(inst);
	freerdp_free(inst);
}

int rdp_client_unicode_ok(const struct rdp_client *c)
{
	/* The server's input capability set (INPUT_FLAG_UNICODE). */
	return freerdp_settings_get_bool(c->inst->settings, FreeRDP_UnicodeInput) ? 1 : 0;
}

int rdp_client_connected(const struct rdp_client *c)
{
	return c->connected && !c->dead;
}

void rdp_client_size(const struct rdp_client *c, uint32_t *w, uint32_t *h)
{
	*w = c->ctx.gdi ? c->ctx.gdi->width : 0;
	*h = c->ctx.gdi ? c->ctx.gdi->height : 0;
}

/* Overwrites and drops a string setting that held a secret. */
static void settings_wipe(rdpSettings *s, size_t id)
{
	const char *v = freerdp_settings_get_string(s, id);

	if (v != NULL) {
		crypto_wipe((char *)v, strlen(v));
	}
	(void)freerdp_settings_set_string(s, id, NULL);
}

static int classify(struct rdp_client *c, const struct rdp_connect_opts *o, char *why, size_t whysz)
{
	UINT32 e = freerdp_get_last_error(c->inst->context);

	if (c->pin_failed) {
		snprintf(why, whysz,
		    "the server's certificate (sha256:%s) is not the pinned one (sha256:%s)",
		    c->got_fp[0] ? c->got_fp : "unknown", o->pin);
		return ZT_ERR_PIN;
	}
	/* The shadow server (and others) just close the connection when NLA
	 * fails: FreeRDP then reports a transport failure. After the pinned
	 * certificate was accepted, with NLA allowed, that is the logon. */
	if (c->cert_ok && o->security != RDP_SEC_TLS &&
	    (e == FREERDP_ERROR_CONNECT_TRANSPORT_FAILED || e == FREERDP_ERROR_CONNECT_FAILED)) {
		e = FREERDP_ERROR_AUTHENTICATION_FAILED;
	}
	switch (e) {
	case FREERDP_ERROR_AUTHENTICATION_FAILED:
	case FREERDP_ERROR_CONNECT_LOGON_FAILURE:
	case FREERDP_ERROR_CONNECT_WRONG_PASSWORD:
	case FREERDP_ERROR_CONNECT_ACCESS_DENIED:
	case FREERDP_ERROR_CONNECT_ACCOUNT_RESTRICTION:
	case FREERDP_ERROR_CONNECT_ACCOUNT_LOCKED_OUT:
	case FREERDP_ERROR_CONNECT_ACCOUNT_EXPIRED:
	case FREERDP_ERROR_CONNECT_ACCOUNT_DISABLED:
	case FREERDP_ERROR_CONNECT_PASSWORD_EXPIRED:
	case FREERDP_ERROR_CONNECT_PASSWORD_MUST_CHANGE:
	case FREERDP_ERROR_CONNECT_PASSWORD_CERTAINLY_EXPIRED:
	case FREERDP_ERROR_CONNECT_NO_OR_MISSING_CREDENTIALS:
	case FREERDP_ERROR_CONNECT_LOGON_TYPE_NOT_GRANTED:
		snprintf(why, whysz, "the RDP server at %s:%u refused the logon of %s (%s)", o->host,
		    o->port, o->username, freerdp_get_last_error_string(e));
		return ZT_ERR_AUTH;
	case FREERDP_ERROR_SECURITY_NEGO_CONNECT_FAILED:
		snprintf(why, whysz, "the RDP server at %s:%u offers no security the helper takes: "
		    "TLS or NLA, with a certificate to check against the pin (standard RDP security "
		    "has none)", o->host, o->port);
		return ZT_ERR_PROTOCOL;
	case FREERDP_ERROR_DNS_ERROR:
	case FREERDP_ERROR_DNS_NAME_NOT_FOUND:
	case FREERDP_ERROR_CONNECT_FAILED:
	case FREERDP_ERROR_CONNECT_TRANSPORT_FAILED:
		snprintf(why, whysz, "the RDP server at %s:%u is unreachable (%s)", o->host, o->port,
		    freerdp_get_last_error_string(e));
		return ZT_ERR_NET;
	default:
		snprintf(why, whysz, "the RDP connection to %s:%u failed (%s, 0x%08X)", o->host, o->port,
		    freerdp_get_last_error_string(e), e);
		return ZT_ERR_PROTOCOL;
	}
}

static int apply_settings(struct rdp_client *c, const struct rdp_connect_opts *o)
{
	rdpSettings *s = c->inst->settings;
	BOOL ok = TRUE;

	ok &= freerdp_settings_set_string(s, FreeRDP_ServerHostname, o->host);
	ok &= freerdp_settings_set_uint32(s, FreeRDP_ServerPort, o->port);
	ok &= freerdp_settings_set_string(s, FreeRDP_Username, o->username);
	if (o->domain != NULL && o->domain[0] != '\0') {
		ok &= freerdp_settings_set_string(s, FreeRDP_Domain, o->domain);
	}
	if (o->password != NULL) {
		ok &= freerdp_settings_set_string(s, FreeRDP_Password, o->password);
	} else if (o->nla_hash != NULL) {
		/* FreeRDP 2 passes an NT hash only in restricted admin mode. */
		ok &= freerdp_settings_set_string(s, FreeRDP_PasswordHash, o->nla_hash);
		ok &= freerdp_settings_set_bool(s, FreeRDP_RestrictedAdminModeRequired, TRUE);
	}
	ok &= freerdp_settings_set_bool(s, FreeRDP_AutoLogonEnabled, TRUE);
	ok &= freerdp_settings_set_string(s, FreeRDP_ConfigPath, c->cfgdir);
	ok &= freerdp_settings_set_bool(s, FreeRDP_ExternalCertificateManagement, TRUE);
	ok &= freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, o->width);
	ok &= freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, o->height);
	ok &= freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32);
	ok &= freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE);
	ok &= freerdp_settings_set_bool(s, FreeRDP_AutoReconnectionEnabled, FALSE);
	ok &= freerdp_settings_set_uint32(s, FreeRDP_TcpConnectTimeout, (UINT32)o->timeout_ms);
	/* Standard RDP security has no certificate, so no pin: never offered,
	 * whatever security asks for (the password would go to whoever
	 * answers). */
	ok &= freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE);
	ok &= freerdp_settings_set_bool(s, FreeRDP_UseRdpSecurityLayer, FALSE);
	if (o->security != RDP_SEC_ANY) {
		ok &= freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, o->security == RDP_SEC_TLS);
		ok &= freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, o->security == RDP_SEC_NLA);
		ok &= freerdp_settings_set_bool(s, FreeRDP_ExtSecurity, FALSE);
	}
	return ok ? 0 : ZT_ERR_NOMEM;
}

/* One round of servicing: waits up to wait_ms for FreeRDP's handles (and
 * fd's, when fd >= 0), then processes them. 1: fd readable; 0; OFFLINE. */
static int pump(struct rdp_client *c, int fd, int wait_ms)
{
	HANDLE handles[MAXIMUM_WAIT_OBJECTS];
	DWORD n, r;
	int fd_ready = 0;

	if (c->dead) {
		return ZT_ERR_OFFLINE;
	}
	n = freerdp_get_event_handles(c->inst->context, handles, MAXIMUM_WAIT_OBJECTS - 1);
	if (n == 0) {
		c->dead = 1;
		return ZT_ERR_OFFLINE;
	}
	if (fd >= 0) {
		if (c->fd_event == NULL || c->fd_event_fd != fd) {
			if (c->fd_event != NULL) {
				CloseHandle(c->fd_event);
			}
			c->fd_event = CreateFileDescriptorEvent(NULL, FALSE, FALSE, fd, WINPR_FD_READ);
			c->fd_event_fd = fd;
		}
		if (c->fd_event != NULL) {
			handles[n++] = c->fd_event;
		}
	}
	r = WaitForMultipleObjects(n, handles, FALSE, (DWORD)(wait_ms < 0 ? 0 : wait_ms));
	if (r == WAIT_FAILED) {
		c->dead = 1;
		return ZT_ERR_OFFLINE;
	}
	if (!freerdp_check_event_handles(c->inst->context) || freerdp_shall_disconnect(c->inst)) {
		c->dead = 1;
		return ZT_ERR_OFFLINE;
	}
	if (fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		fd_ready = poll(&pfd, 1, 0) > 0;
	}
	return fd_ready;
}

int rdp_client_wait(struct rdp_client *c, int fd, int wait_ms)
{
	return pump(c, fd, wait_ms);
}

/* Pumps until no paint has come for quiet_ms since the later of the last
 * paint and since, or max_ms have passed. 0 or ZT_ERR_OFFLINE. */
static int settle(struct rdp_client *c, int64_t since, int quiet_ms, int max_ms)
{
	int64_t start = net_mono_ms();
	int rc = pump(c, -1, 0); /* what is already pending */

	while (rc >= 0) {
		int64_t now = net_mono_ms();
		int64_t mark = c->last_paint > since ? c->last_paint : since;
		int64_t left = mark + quiet_ms - now;

		if (left <= 0 || now - start >= max_ms) {
			return 0;
		}
		if (left > start + max_ms - now) {
			left = start + max_ms - now;
		}
		rc = pump(c, -1, (int)(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS));
	}
	return rc;
}

int rdp_client_connect(struct rdp_client *c, const struct rdp_connect_opts *o, uint32_t *w,
    uint32_t *h, char *why, size_t whysz)
{
	int64_t t0 = net_mono_ms(), deadline = t0 + o->timeout_ms;
	int rc;

	why[0] = '\0';
	if (c->connected) {
		snprintf(why, whysz, "already connected");
		return ZT_ERR_PROTOCOL;
	}
	if (c->cfgdir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(c->cfgdir, sizeof(c->cfgdir), "%s/ztrdp-XXXXXX",
		    tmp != NULL && tmp[0] == '/' && strlen(tmp) < 40 ? tmp : "/tmp");
		if (mkdtemp(c->cfgdir) == NULL) {
			c->cfgdir[0] = '\0';
			snprintf(why, whysz, "cannot make a private directory for FreeRDP");
			return ZT_ERR_IO;
		}
	}
	memcpy(c->pin, o->pin, sizeof(c->pin));
	if ((rc = apply_settings(c, o)) != 0) {
		snprintf(why, whysz, "FreeRDP refused the settings");
		goto out;
	}
	if (!freerdp_connect(c->inst)) {
		rc = classify(c, o, why, whysz);
		goto out;
	}
	c->connected = 1;
	/* Only a certificate that matched the pin says who the server is:
	 * standard RDP security shows none (it is off, below; this holds
	 * whatever FreeRDP negotiated). */
	if (!c->cert_ok) {
		snprintf(why, whysz, "the RDP server at %s:%u showed no certificate to check "
		    "against the pin; refused", o->host, o->port);
		rc = ZT_ERR_PIN;
		goto out;
	}
	/* The first frame: every tile painted, then quiet. */
	while (c->tiles_left != 0 || net_mono_ms() - c->last_paint < RDP_SHOT_QUIET_MS) {
		int64_t left = deadline - net_mono_ms();

		if (left <= 0) {
			if (c->tiles_left == 0) {
				break; /* complete, just never quiet */
			}
			snprintf(why, whysz, "no full frame from %s:%u within %d ms", o->host, o->port,
			    o->timeout_ms);
			rc = ZT_ERR_TIMEOUT;
			goto out;
		}
		if (pump(c, -1, left < WAIT_SLICE_MS ? (int)left : WAIT_SLICE_MS) < 0) {
			snprintf(why, whysz, "the RDP server at %s:%u closed the session", o->host, o->port);
			rc = ZT_ERR_OFFLINE;
			goto out;
		}
	}
	rdp_client_size(c, w, h);
	rc = 0;
out:
	settings_wipe(c->inst->settings, FreeRDP_Password);
	settings_wipe(c->inst->settings, FreeRDP_PasswordHash);
	return rc;
}

int rdp_client_screenshot(struct rdp_client *c, uint32_t max_width, struct rdp_png *out, char *why,
    size_t whysz)
{
	rdpGdi *gdi = c->ctx.gdi;
	int rc;

	why[0] = '\0';
	if ((rc = settle(c, 0, RDP_SHOT_QUIET_MS, RDP_SHOT_MAX_MS)) != 0) {
		snprintf(why, whysz, "the RDP server closed the session");
		return rc;
	}
	rc = rdp_png_encode(gdi->primary_buffer, gdi->width, gdi->height, gdi->stride, max_width, out);
	if (rc != 0) {
		snprintf(why, whysz, "cannot encode the screenshot: %s", zt_strerror(rc));
	}
	return rc;
}

static BOOL send_event(struct rdp_client *c, const struct rdp_event *e)
{
	static const UINT16 buttons[] = { PTR_FLAGS_BUTTON1, PTR_FLAGS_BUTTON2, PTR_FLAGS_BUTTON3 };
	rdpInput *in = c->inst->input;
	BOOL ok = TRUE;

	switch (e->t) {
	case RDP_EV_MOVE:
		return freerdp_input_send_mouse_event(in, PTR_FLAGS_MOVE, e->x, e->y);
	case RDP_EV_BUTTON:
		return freerdp_input_send_mouse_event(in,
		    (UINT16)(buttons[e->button] | (e->down ? PTR_FLAGS_DOWN : 0)), e->x, e->y);
	case RDP_EV_WHEEL:
		ok &= freerdp_input_send_mouse_event(in, PTR_FLAGS_MOVE, e->x, e->y);
		/* 120 a notch; the rotation is 9-bit two's complement, its sign
		 * bit PTR_FLAGS_WHEEL_NEGATIVE. Positive turns scroll up (and
		 * right), so dy > 0 (down) is negative. */
		for (int i = 0; ok && i < (e->dy < 0 ? -e->dy : e->dy); i++) {
			ok &= freerdp_input_send_mouse_event(in,
			    (UINT16)(PTR_FLAGS_WHEEL | (e->dy > 0 ? 0x188 : 0x078)), e->x, e->y);
		}
		for (int i = 0; ok && i < (e->dx < 0 ? -e->dx : e->dx); i++) {
			ok &= freerdp_input_send_mouse_event(in,
			    (UINT16)(PTR_FLAGS_HWHEEL | (e->dx > 0 ? 0x078 : 0x188)), e->x, e->y);
		}
		return ok;
	case RDP_EV_KEY:
		return freerdp_input_send_keyboard_event(in,
		    (UINT16)((e->down ? KBD_FLAGS_DOWN : KBD_FLAGS_RELEASE) |
		        (e->ext ? KBD_FLAGS_EXTENDED : 0)),
		    e->code);
	case RDP_EV_UNICODE:
		return freerdp_input_send_unicode_keyboard_event(in, e->down ? 0 : KBD_FLAGS_RELEASE,
		    e->code);
	case RDP_EV_WAIT:
		return TRUE;
	}
	return FALSE;
}

int rdp_client_input(struct rdp_client *c, const struct rdp_event *evs, size_t n, char *why,
    size_t whysz)
{
	int rc = 0;

	why[0] = '\0';
	if (c->dead) {
		rc = ZT_ERR_OFFLINE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (evs[i].t == RDP_EV_WAIT) {
			int64_t end = net_mono_ms() + evs[i].ms;
			int64_t left;

			while (rc >= 0 && (left = end - net_mono_ms()) > 0) {
				rc = pump(c, -1, left < WAIT_SLICE_MS ? (int)left : WAIT_SLICE_MS);
			}
		} else if (!send_event(c, &evs[i])) {
			c->dead = 1;
			rc = ZT_ERR_OFFLINE;
		}
		if (rc < 0) {
			goto out;
		}
	}
	rc = settle(c, net_mono_ms(), RDP_INPUT_QUIET_MS, RDP_INPUT_MAX_MS);
out:
	if (rc < 0) {
		rc = ZT_ERR_OFFLINE;
		snprintf(why, whysz, "the RDP server closed the session");
	}
	return rc;
}
