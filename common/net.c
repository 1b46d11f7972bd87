/*
 * net.c - address parsing, bounded connects and socket options shared by
 * every listener and dialer.
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

int net_split_hostport(const char *s, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *colon, *h = s;
	size_t hlen;
	char *end = NULL;
	long p;

	if (s == NULL) {
		return ZT_ERR_INVALID;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			return ZT_ERR_INVALID;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL) {
			return ZT_ERR_INVALID; /* bare IPv6 needs brackets */
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hostsz || hlen >= NET_HOST_MAX) {
		return ZT_ERR_INVALID;
	}
	p = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || p < 0 || p > 65535 ||
	    strlen(colon + 1) >= portsz) {
		return ZT_ERR_INVALID;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, portsz, "%ld", p);
	return 0;
}

int net_resolve_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen)
{
	char host[NET_HOST_MAX], port[8];
	struct addrinfo hints, *res = NULL;

	if (net_split_hostport(s, host, sizeof(host), port, sizeof(port)) != 0) {
		return ZT_ERR_INVALID;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
		return ZT_ERR_NET;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void net_addr_str(const struct sockaddr *sa, char *out, size_t outsz)
{
	const void *a = NULL;

	if (sa != NULL && sa->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
	if (a == NULL || inet_ntop(sa->sa_family, a, out, (socklen_t)outsz) == NULL) {
		snprintf(out, outsz, "unknown");
	}
}

void net_addr_key(const char *addr, char *out, size_t outsz)
{
	char text[INET6_ADDRSTRLEN + 4];
	struct in6_addr a;

	if (inet_pton(AF_INET6, addr, &a) != 1) {
		if (out != addr) {
			snprintf(out, outsz, "%s", addr);
		}
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a)) {
		if (inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof(text)) == NULL) {
			snprintf(text, sizeof(text), "unknown");
		}
	} else {
		memset(a.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a, text, sizeof(text) - 3) == NULL) {
			snprintf(text, sizeof(text), "unknown");
		} else {
			strcat(text, "/64");
		}
	}
	snprintf(out, outsz, "%s", text);
}

int64_t net_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void net_mono_deadline(int64_t ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ms < 0) {
		ms = 0;
	}
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void net_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

int net_wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int r;

	for (;;) {
		left = deadline - net_mono_ms();
		if (left <= 0) {
			return ZT_ERR_TIMEOUT;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0) {
			/* POLLERR/POLLHUP: let the next I/O call report what happened. */
			return 0;
		}
		if (r == 0) {
			return ZT_ERR_TIMEOUT;
		}
		if (errno != EINTR) {
			return ZT_ERR_NET;
		}
	}
}

/* One non-blocking connect to ai, bounded by the deadline. Returns the socket or
 * a negative ZT_ERR_*. */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd, r, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		return ZT_ERR_NET;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			r = ZT_ERR_NET;
			goto fail;
		}
		if ((r = net_wait_fd(fd, POLLOUT, deadline)) != 0) {
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
			log_debug("connect: %s", strerror(soerr));
			r = ZT_ERR_NET;
			goto fail;
		}
	}
	net_nodelay(fd);
	return fd;
fail:
	close(fd);
	return r;
}

int net_connect(const char *host, const char *port, int64_t deadline, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	int r, fd, err = ZT_ERR_NET;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_debug("cannot resolve %s: %s", host, gai_strerror(r));
		res = NULL;
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = connect_one(ai, deadline)) >= 0) {
			*fdp = fd;
			err = 0;
			goto out;
		}
		err = fd;
		if (err == ZT_ERR_TIMEOUT) {
			break;
		}
	}
out:
	if (res != NULL) {
		freeaddrinfo(res);
	}
	return err;
}

void net_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void net_keepalive(int fd)
{
	int one = 1, idle = NET_KEEPALIVE_IDLE_S, intvl = NET_KEEPALIVE_INTVL_S,
	    cnt = NET_KEEPALIVE_COUNT;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Writes all of p[0..n): send(MSG_NOSIGNAL) while *sock, else write();
 * with wait, EAGAIN is waited out instead of failing. */
static int write_loop(int fd, const void *p, size_t n, int *sock, int wait)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w;

		if (*sock) {
			w = send(fd, b, n, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				*sock = 0;
				continue;
			}
		} else {
			w = write(fd, b, n);
		}
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (wait && w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			(void)poll(&pfd, 1, -1);
			continue;
		}
		if (w <= 0) {
			return ZT_ERR_IO;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int net_write_all(int fd, const void *p, size_t n)
{
	int sock = 0;

	return write_loop(fd, p, n, &sock, 0);
}

int net_send_all(int fd, const void *p, size_t n, int *sock)
{
	return write_loop(fd, p, n, sock, 1);
}
