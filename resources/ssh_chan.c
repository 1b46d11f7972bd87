/*
 * ssh_chan.c - the I/O that ssh_shell and ssh_forward share on one open
 * channel (ssh_chan.h), driven without blocking by the caller's thread.
 */
#include "resources/ssh_chan.h"

#include <poll.h>

#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_conn_int.h"

/* One read takes at most this: libssh takes a uint32_t, and a relay moves
 * bytes in bounded steps anyway. */
#define SSH_CHAN_READ_MAX 65536

int ssh_chan_init(struct ssh_chan *ch, struct ssh_conn *c)
{
	ch->conn = c;
	ch->s = ssh_conn_session(c);
	ch->sent = ch->received = 0;
	ch->open = 0;
	ch->ch = ssh_channel_new(ch->s);
	return ch->ch != NULL ? 0 : ZT_ERR_NOMEM;
}

ssize_t ssh_chan_read(struct ssh_chan *ch, void *p, size_t n, int streams, int *is_stderr)
{
	int k;

	for (int e = 0; e < streams && e <= 1; e++) {
		k = ssh_channel_read_nonblocking(ch->ch, p,
		    (uint32_t)(n > SSH_CHAN_READ_MAX ? SSH_CHAN_READ_MAX : n), e);
		if (k > 0) {
			if (is_stderr != NULL) {
				*is_stderr = e;
			}
			ch->received += (uint64_t)k;
			return k;
		}
		if (k == SSH_ERROR) {
			ssh_conn_broken(ch->conn);
			return ZT_ERR_NET;
		}
	}
	if (ssh_channel_is_closed(ch->ch) || ssh_channel_is_eof(ch->ch)) {
		return SSH_CHAN_EOF;
	}
	return 0;
}

int ssh_chan_write(struct ssh_chan *ch, const void *p, size_t n, int64_t timeout_ms)
{
	size_t done = 0;
	int k;

	ssh_set_deadline(ch->s, net_mono_ms() + timeout_ms);
	while (done < n) {
		k = ssh_channel_write(ch->ch, (const char *)p + done, (uint32_t)(n - done));
		if (k == SSH_ERROR) {
			ssh_conn_broken(ch->conn);
			return ZT_ERR_NET;
		}
		if (k == 0) {
			return ZT_ERR_TIMEOUT;
		}
		done += (size_t)k;
		ch->sent += (uint64_t)k;
	}
	return 0;
}

int ssh_chan_send_eof(struct ssh_chan *ch)
{
	if (ssh_channel_send_eof(ch->ch) != SSH_OK) {
		ssh_conn_broken(ch->conn);
		return ZT_ERR_NET;
	}
	return 0;
}

int ssh_chan_wait(struct ssh_chan *ch, int fd, int ms)
{
	struct pollfd pfd[2];
	nfds_t nfds = 1;

	/* Bytes libssh already took in are not on the socket any more. */
	if (ssh_channel_poll(ch->ch, 0) != 0 || ssh_channel_poll(ch->ch, 1) != 0 ||
	    ssh_channel_is_eof(ch->ch) || ssh_channel_is_closed(ch->ch)) {
		return 1;
	}
	pfd[0].fd = ssh_get_fd(ch->s);
	pfd[0].events = POLLIN;
	if (ssh_get_poll_flags(ch->s) & SSH_WRITE_PENDING) {
		pfd[0].events |= POLLOUT;
	}
	pfd[0].revents = 0;
	if (fd >= 0) {
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		nfds = 2;
	}
	if (poll(pfd, nfds, ms) <= 0) {
		return 0;
	}
	if (pfd[0].revents != 0) {
		return 1;
	}
	return nfds == 2 && pfd[1].revents != 0 ? 2 : 0;
}

void ssh_chan_close(struct ssh_chan *ch)
{
	if (ch->ch == NULL) {
		return;
	}
	if (ch->open) {
		ssh_set_deadline(ch->s, net_mono_ms() + SSH_CONN_POLL_MS * 10);
		ssh_channel_close(ch->ch);
	}
	ssh_channel_free(ch->ch);
	ch->ch = NULL;
}
