/*
 * pump.c - two-way copy between a TLS connection and a socket (pump.h).
 *
 * Each turn of the loop tries every step that has room or data, without
 * waiting; OpenSSL and the socket say what they would need (readable,
 * writable) when a step cannot proceed. Only a turn in which nothing moved
 * sleeps in poll(), on exactly those needs.
 */
#include "tunnel/pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/net.h"

struct half {
	uint8_t buf[PUMP_BUF];
	size_t len;
	int eof;       /* the source ended */
	int done;      /* the end was passed on to the sink */
};

struct pump {
	SSL *ssl;
	int fd;
	struct half down;  /* ssl -> fd */
	struct half up;    /* fd -> ssl */
	short ssl_ev, fd_ev;
	int moved;
};

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 ? 0 : ZT_ERR_IO;
}

/* Records what OpenSSL needs before the call that returned ret can go on:
 * 0 to wait, or an error when the connection failed. */
static int ssl_need(struct pump *p, int ret)
{
	switch (SSL_get_error(p->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		p->ssl_ev |= POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		p->ssl_ev |= POLLOUT;
		return 0;
	case SSL_ERROR_SYSCALL:
		return ZT_ERR_IO;
	default:
		return ZT_ERR_TLS;
	}
}

/* TLS -> down buffer -> socket. */
static int step_down(struct pump *p)
{
	struct half *h = &p->down;
	int n, r;

	if (!h->eof && h->len < sizeof(h->buf)) {
		n = SSL_read(p->ssl, h->buf + h->len, (int)(sizeof(h->buf) - h->len));
		if (n > 0) {
			h->len += (size_t)n;
			p->moved = 1;
		} else if (SSL_get_error(p->ssl, n) == SSL_ERROR_ZERO_RETURN) {
			h->eof = 1;
			p->moved = 1;
		} else if ((r = ssl_need(p, n)) != 0) {
			return r;
		}
	}
	if (h->len > 0) {
		ssize_t w = send(p->fd, h->buf, h->len, MSG_NOSIGNAL);

		if (w > 0) {
			memmove(h->buf, h->buf + w, h->len - (size_t)w);
			h->len -= (size_t)w;
			p->moved = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			p->fd_ev |= POLLOUT;
		} else {
			return ZT_ERR_IO;
		}
	}
	if (h->eof && h->len == 0 && !h->done) {
		shutdown(p->fd, SHUT_WR);
		h->done = 1;
		p->moved = 1;
	}
	return 0;
}

/* Socket -> up buffer -> TLS. */
static int step_up(struct pump *p)
{
	struct half *h = &p->up;
	int n, r;

	if (!h->eof && h->len < sizeof(h->buf)) {
		ssize_t got = recv(p->fd, h->buf + h->len, sizeof(h->buf) - h->len, 0);

		if (got > 0) {
			h->len += (size_t)got;
			p->moved = 1;
		} else if (got == 0) {
			h->eof = 1;
			p->moved = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			p->fd_ev |= POLLIN;
		} else {
			return ZT_ERR_IO;
		}
	}
	if (h->len > 0) {
		/* A retry after WANT_* passes the same bytes again, maybe more:
		 * allowed with ACCEPT_MOVING_WRITE_BUFFER and a length that
		 * never shrinks. */
		n = SSL_write(p->ssl, h->buf, (int)h->len);
		if (n > 0) {
			memmove(h->buf, h->buf + n, h->len - (size_t)n);
			h->len -= (size_t)n;
			p->moved = 1;
		} else if ((r = ssl_need(p, n)) != 0) {
			return r;
		}
	}
	if (h->eof && h->len == 0 && !h->done) {
		n = SSL_shutdown(p->ssl);
		if (n >= 0) {
			h->done = 1;
			p->moved = 1;
		} else if ((r = ssl_need(p, n)) != 0) {
			return r;
		}
	}
	return 0;
}

int pump_run(SSL *ssl, int fd, int stop_fd, const void *pre, size_t npre)
{
	struct pump *p = NULL;
	int64_t linger_until = -1;
	int r = 0;

	if (ssl == NULL || fd < 0 || npre > PUMP_BUF || (npre > 0 && pre == NULL)) {
		return ZT_ERR_INVALID;
	}
	/* Two PUMP_BUF buffers: on the heap, not on a thread's stack. */
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	p->ssl = ssl;
	p->fd = fd;
	if (npre > 0) {
		memcpy(p->down.buf, pre, npre);
		p->down.len = npre;
	}
	if (nonblocking(SSL_get_fd(ssl)) != 0 || nonblocking(fd) != 0) {
		r = ZT_ERR_IO;
		goto out;
	}
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	for (;;) {
		struct pollfd pfd[3];
		int timeout = -1;

		p->ssl_ev = p->fd_ev = 0;
		p->moved = 0;
		if ((r = step_down(p)) != 0 || (r = step_up(p)) != 0) {
			goto out;
		}
		if (p->down.done && p->up.done) {
			break;
		}
		if ((p->down.done || p->up.done) && linger_until < 0) {
			linger_until = net_mono_ms() + PUMP_LINGER_MS;
		}
		if (p->moved) {
			continue;
		}
		if (linger_until >= 0) {
			int64_t left = linger_until - net_mono_ms();

			if (left <= 0) {
				r = ZT_ERR_TIMEOUT;
				goto out;
			}
			timeout = (int)left;
		}
		/* A descriptor with nothing to wait for is left out (fd -1):
		 * poll() would report its hang-up over and over. */
		pfd[0].fd = p->ssl_ev != 0 ? SSL_get_fd(ssl) : -1;
		pfd[0].events = p->ssl_ev;
		pfd[1].fd = p->fd_ev != 0 ? fd : -1;
		pfd[1].events = p->fd_ev;
		pfd[2].fd = stop_fd;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR) {
			r = ZT_ERR_IO;
			goto out;
		}
		if (pfd[2].revents != 0) {
			r = ZT_ERR_CANCELLED;
			goto out;
		}
	}
out:
	ERR_clear_error();
	free(p);
	return r;
}
