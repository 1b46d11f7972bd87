/*
 * brk_httphdr.c - bounded parsers for header values (see brk_httphdr.h).
 */
#include "broker/brk_httphdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

int brk_hdr_accepts(const char *accept, const char *type)
{
	const char *p = accept;
	size_t tl = strlen(type);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',') {
			p++;
		}
		if (strncasecmp(p, type, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' ||
		    p[tl] == ';' || p[tl] == ' ')) {
			return 1;
		}
		if (strncmp(p, "*/*", 3) == 0 && (p[3] == '\0' || p[3] == ',' || p[3] == ';' ||
		    p[3] == ' ')) {
			return 1;
		}
		p = strchr(p, ',');
	}
	return 0;
}

int brk_hdr_host(const char *in, char *out, size_t outsz)
{
	const char *end;
	size_t n;

	if (in == NULL) {
		return ZT_ERR_INVALID;
	}
	if (in[0] == '[') {
		end = strchr(in, ']');
		if (end == NULL) {
			return ZT_ERR_INVALID;
		}
		end++;
		if (*end != '\0' && *end != ':') {
			return ZT_ERR_INVALID;
		}
	} else {
		end = strchr(in, ':');
		if (end == NULL) {
			end = in + strlen(in);
		}
	}
	n = (size_t)(end - in);
	if (n == 0 || n >= outsz) {
		return ZT_ERR_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		/* Hosts are names, IPv4 or bracketed IPv6: nothing else. */
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '[' || ch == ']' ||
		    ch == ':')) {
			return ZT_ERR_INVALID;
		}
		out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	out[n] = '\0';
	return 0;
}

int brk_hdr_origin_host(const char *origin, char *out, size_t outsz)
{
	const char *auth;
	char tmp[300];
	size_t n;

	if (origin == NULL || (auth = strstr(origin, "://")) == NULL) {
		return ZT_ERR_INVALID;
	}
	auth += 3;
	n = strlen(auth);
	if (n == 0 || n >= sizeof(tmp) || strpbrk(auth, "/@?#") != NULL) {
		return ZT_ERR_INVALID;
	}
	memcpy(tmp, auth, n + 1);
	return brk_hdr_host(tmp, out, outsz);
}

int brk_hdr_origin(const char *origin, struct brk_origin *out)
{
	const char *auth, *colon;
	char *end = NULL;
	size_t sl;
	unsigned long port;

	memset(out, 0, sizeof(*out));
	if (origin == NULL || (auth = strstr(origin, "://")) == NULL) {
		return ZT_ERR_INVALID;
	}
	sl = (size_t)(auth - origin);
	if (sl == 4 && strncasecmp(origin, "http", 4) == 0) {
		snprintf(out->scheme, sizeof(out->scheme), "http");
		out->port = 80;
	} else if (sl == 5 && strncasecmp(origin, "https", 5) == 0) {
		snprintf(out->scheme, sizeof(out->scheme), "https");
		out->port = 443;
	} else {
		return ZT_ERR_INVALID;
	}
	if (brk_hdr_origin_host(origin, out->host, sizeof(out->host)) != 0) {
		return ZT_ERR_INVALID;
	}
	auth += 3;
	/* The port follows the host: after "]" for IPv6, else after ":". */
	if (auth[0] == '[') {
		colon = strchr(auth, ']');
		colon = colon != NULL ? colon + 1 : NULL;
	} else {
		colon = strchr(auth, ':');
	}
	if (colon != NULL && *colon == ':') {
		if (colon[1] < '0' || colon[1] > '9' || strlen(colon + 1) > 5) {
			return ZT_ERR_INVALID;
		}
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535) {
			return ZT_ERR_INVALID;
		}
		out->port = (unsigned)port;
	}
	return 0;
}

int brk_hdr_same_origin(const char *a, const char *b)
{
	struct brk_origin x, y;

	return brk_hdr_origin(a, &x) == 0 && brk_hdr_origin(b, &y) == 0 &&
	    strcmp(x.scheme, y.scheme) == 0 && strcmp(x.host, y.host) == 0 && x.port == y.port;
}

int brk_hdr_media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (ct == NULL || strncasecmp(ct, type, n) != 0) {
		return 0;
	}
	ct += n;
	while (*ct == ' ' || *ct == '\t') {
		ct++;
	}
	return *ct == '\0' || *ct == ';';
}

int brk_hdr_content_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 19 || strspn(s, "0123456789") != n) {
		return ZT_ERR_INVALID;
	}
	for (; *s != '\0'; s++) {
		v = v * 10 + (uint64_t)(*s - '0'); /* 19 digits fit in 64 bits */
	}
	*out = v;
	return 0;
}

int brk_hdr_event_id(const char *s, uint64_t *stream, uint64_t *seq)
{
	char *end = NULL;

	if (s == NULL || *s < '0' || *s > '9') {
		return ZT_ERR_INVALID;
	}
	errno = 0;
	*stream = strtoull(s, &end, 10);
	if (*end != '_' || errno != 0 || end[1] < '0' || end[1] > '9') {
		return ZT_ERR_INVALID;
	}
	s = end + 1;
	*seq = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? ZT_ERR_INVALID : 0;
}
