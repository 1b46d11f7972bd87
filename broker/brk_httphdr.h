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
/* Parses an SSE event id of the form "<stream>_<sequence>" (decimal).
 * 0 or ZT_ERR_INVALID. */
int brk_hdr_event_id(const char *s, uint64_t *stream, uint64_t *seq);

#endif
