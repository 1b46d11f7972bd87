/*
 * brk_httphdr.h - parsers for the HTTP header values the MCP transport
 * acts on: Accept, Host and Origin authorities, and its own SSE event ids
 * coming back in Last-Event-ID. All input is untrusted; each parser is
 * bounded and fuzzed (fuzz/http_headers.c).
 */
#ifndef ZT_BRK_HTTPHDR_H
#define ZT_BRK_HTTPHDR_H

#include <stddef.h>
#include <stdint.h>

/* 1 if an Accept header value lists media type `type` or a wildcard
 * covering it (parameters such as ";q=0.9" ignored); NULL accepts nothing. */
int brk_hdr_accepts(const char *accept, const char *type);
/* The host of an authority ("Example.com:8443", "[::1]:80", "10.0.0.1"),
 * lower-cased, port removed, IPv6 brackets kept. 0 or ZT_ERR_INVALID. */
int brk_hdr_host(const char *authority, char *out, size_t outsz);
/* The host of an Origin value ("https://host:port"); 0 or ZT_ERR_INVALID
 * (no scheme, userinfo, a path). */
int brk_hdr_origin_host(const char *origin, char *out, size_t outsz);

/* An origin taken apart: scheme "http" or "https" (lower-cased), host as
 * brk_hdr_host() gives it, port explicit or the scheme's default. */
struct brk_origin {
	char scheme[8];
	char host[256];
	unsigned port;
};
/* Parses an Origin value "scheme://host[:port]" (no path, userinfo, query
 * or fragment; scheme http or https; port 1..65535). 0 or ZT_ERR_INVALID. */
int brk_hdr_origin(const char *origin, struct brk_origin *out);
/* 1 if both origins parse and name the same scheme, host and port
 * ("https://a.example" and "https://A.example:443" are the same). */
int brk_hdr_same_origin(const char *a, const char *b);
/* 1 if a Content-Type value is exactly the media type `type` (ASCII case
 * ignored), optionally followed by parameters after ';':
 * "application/json; charset=utf-8" is application/json,
 * "application/jsonx" and "application/json x" are not. */
int brk_hdr_media_type_is(const char *content_type, const char *type);
/* Parses a Content-Length value: 1 to 19 decimal digits, nothing else
 * (libmicrohttpd refuses the request otherwise). 0 or ZT_ERR_INVALID. */
int brk_hdr_content_length(const char *s, uint64_t *out);
/* Parses an SSE event id of the form "<stream>_<sequence>" (decimal).
 * 0 or ZT_ERR_INVALID. */
int brk_hdr_event_id(const char *s, uint64_t *stream, uint64_t *seq);

#endif
