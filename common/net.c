/*
 * net.c - address parsing shared by every listener and dialer.
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

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
