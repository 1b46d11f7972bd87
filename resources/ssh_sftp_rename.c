/*
 * ssh_sftp_rename.c - posix-rename@openssh.com, the one SFTP request zt
 * speaks itself (ssh_sftp_int.h).
 *
 * Replacing a file in one step needs rename(2) on the host. SFTP v3's
 * RENAME refuses an existing target, and OpenSSH offers the extension
 * posix-rename@openssh.com for exactly this, but libssh 0.10.6 has no
 * client for it (its sftp_rename sends RENAME only) and no public way to
 * send an extended request on its session. So, when the server offers the
 * extension, zt opens a second "sftp" subsystem channel on the same
 * connection and sends three packets itself: INIT (version 3), then, after
 * the server's VERSION, one EXTENDED request; one STATUS answers it. The
 * replies are untrusted bytes: each is at most SFTP_SMALL_PACKET_MAX,
 * read whole, and parsed through the bounded buffer (common/buf.h) by
 * sftp_status_parse, which has a libFuzzer target. Every read and write
 * runs under the session's watchdog (ssh_sftp.h), so the deadline and
 * cancellation bound it as they bound libssh's calls.
 */
#include "resources/ssh_sftp_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "resources/ssh_conn_int.h"

#define FXP_INIT 1
#define FXP_VERSION 2
#define FXP_STATUS 101
#define FXP_EXTENDED 200
#define SFTP_SMALL_PACKET_MAX 65536
#define RENAME_ID 1

int sftp_status_parse(const uint8_t *p, size_t n, uint32_t id, uint32_t *code)
{
	struct buf *b = buf_from(p, n);
	const uint8_t *s = NULL;
	size_t sn = 0;
	uint32_t got = 0;
	uint8_t type = 0;
	int r;

	if (b == NULL) {
		return ZT_ERR_NOMEM;
	}
	if ((r = buf_get_u8(b, &type)) != 0 || (r = buf_get_u32(b, &got)) != 0 ||
	    (r = buf_get_u32(b, code)) != 0) {
		goto out;
	}
	if (type != FXP_STATUS || got != id) {
		r = ZT_ERR_PROTOCOL;
		goto out;
	}
	/* The message and language tag: OpenSSH sends both; v3 servers may
	 * send neither. Their text is not used. */
	if (buf_len(b) > 0 && ((r = buf_get_string_peek(b, &s, &sn)) != 0 ||
	    (r = buf_get_string_peek(b, &s, &sn)) != 0 || (r = buf_get_end(b)) != 0)) {
		goto out;
	}
	r = 0;
out:
	buf_free(b);
	return r;
}

/* A channel failure: the watchdog's reason, a lost connection, or the
 * channel's own (the connection stays usable). */
static int chan_failed(struct ssh_sftp *s, const char *what)
{
	int r;

	if (!ssh_is_connected(s->s)) {
		return sftp_failed(s, what);
	}
	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	return sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_NET, "%s: %s", what,
	    ssh_get_error(s->s));
}

/* Reads exactly n bytes of ch: 0, or the failure. */
static int read_all(struct ssh_sftp *s, ssh_channel ch, uint8_t *p, size_t n)
{
	while (n > 0) {
		int r, got;

		if ((r = sftp_step(s)) != 0) {
			return r;
		}
		got = ssh_channel_read(ch, p, (uint32_t)n, 0);
		if (got <= 0) {
			return chan_failed(s, "posix-rename: read");
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Writes one packet (its length first) on ch: 0, or the failure. */
static int send_packet(struct ssh_sftp *s, ssh_channel ch, const struct buf *body)
{
	uint8_t hdr[4];
	size_t n = buf_len(body);
	int r;

	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if (ssh_channel_write(ch, hdr, sizeof(hdr)) != (int)sizeof(hdr) ||
	    ssh_channel_write(ch, buf_ptr(body), (uint32_t)n) != (int)n) {
		return chan_failed(s, "posix-rename: write");
	}
	return 0;
}

/* Reads one packet of at most SFTP_SMALL_PACKET_MAX bytes into *out
 * (owned) and *n: 0, or the failure. */
static int recv_packet(struct ssh_sftp *s, ssh_channel ch, uint8_t **out, size_t *n)
{
	uint8_t hdr[4];
	uint32_t len;
	int r;

	*out = NULL;
	if ((r = read_all(s, ch, hdr, sizeof(hdr))) != 0) {
		return r;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > SFTP_SMALL_PACKET_MAX) {
		ssh_conn_broken(s->conn);
		return sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_PROTOCOL,
		    "posix-rename: a reply of %u bytes", len);
	}
	if ((*out = malloc(len)) == NULL) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
	}
	if ((r = read_all(s, ch, *out, len)) != 0) {
		free(*out);
		*out = NULL;
		return r;
	}
	*n = len;
	return 0;
}

/* The exchange on an open subsystem channel: 0, or the failure. */
static int exchange(struct ssh_sftp *s, ssh_channel ch, const char *from, const char *to)
{
	struct buf *b = buf_new(2 * SSH_SFTP_PATH_MAX + 128);
	uint8_t *reply = NULL;
	uint32_t code = 0;
	size_t n = 0;
	int r;

	if (b == NULL) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
	}
	if (buf_put_u8(b, FXP_INIT) != 0 || buf_put_u32(b, 3) != 0) {
		r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = send_packet(s, ch, b)) != 0 || (r = recv_packet(s, ch, &reply, &n)) != 0) {
		goto out;
	}
	if (reply[0] != FXP_VERSION) {
		ssh_conn_broken(s->conn);
		r = sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_PROTOCOL,
		    "posix-rename: the server did not answer INIT with VERSION");
		goto out;
	}
	free(reply);
	reply = NULL;
	buf_reset(b);
	if (buf_put_u8(b, FXP_EXTENDED) != 0 || buf_put_u32(b, RENAME_ID) != 0 ||
	    buf_put_cstring(b, "posix-rename@openssh.com") != 0 || buf_put_cstring(b, from) != 0 ||
	    buf_put_cstring(b, to) != 0) {
		r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_TOO_LARGE, "path too long");
		goto out;
	}
	if ((r = send_packet(s, ch, b)) != 0 || (r = recv_packet(s, ch, &reply, &n)) != 0) {
		goto out;
	}
	if (sftp_status_parse(reply, n, RENAME_ID, &code) != 0) {
		ssh_conn_broken(s->conn);
		r = sftp_fail(s, SSH_EXEC_CONNECT_FAILED, ZT_ERR_PROTOCOL,
		    "posix-rename: a malformed reply");
		goto out;
	}
	if (code != SSH_FX_OK) {
		s->err.fx = code;
		r = sftp_fail(s, SSH_EXEC_ERROR, code == SSH_FX_NO_SUCH_FILE ? ZT_ERR_NOT_FOUND :
		    code == SSH_FX_PERMISSION_DENIED ? ZT_ERR_DENIED : ZT_ERR_IO,
		    "rename: the host refused (SFTP status %u)", code);
	}
out:
	free(reply);
	buf_free(b);
	return r;
}

int sftp_posix_rename(struct ssh_sftp *s, const char *from, const char *to)
{
	ssh_channel ch;
	int r;

	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if ((ch = ssh_channel_new(s->s)) == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_subsystem(ch, "sftp") != SSH_OK) {
		r = chan_failed(s, "posix-rename: channel");
	} else {
		r = exchange(s, ch, from, to);
	}
	if (ch != NULL) {
		if (!s->dead) {
			ssh_channel_close(ch);
		}
		ssh_channel_free(ch);
	}
	return r;
}
