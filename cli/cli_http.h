/*
 * cli_http.h - ztctl's HTTPS client for the broker's JSON API.
 *
 * Each request is one exchange of cli_stream.h (libcurl, TLS that trusts
 * only the pinned broker CA, kept-alive connections). Responses are bounded
 * (CLI_HTTP_RESP_MAX for the body, CLI_HTTP_HEADERS_MAX and
 * CLI_HTTP_HEADER_COUNT_MAX for the head) and their bodies parsed with the
 * bounded JSON parser. The bearer token is never written to an error
 * message or a log line.
 */
#ifndef ZT_CLI_HTTP_H
#define ZT_CLI_HTTP_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define CLI_HTTP_DEFAULT_PORT "8443"
#define CLI_HTTP_RESP_MAX (1024 * 1024) /* bytes of a response body */
#define CLI_HTTP_HEADERS_MAX 16384      /* bytes of the status line and headers */
#define CLI_HTTP_HEADER_COUNT_MAX 64    /* header and trailer lines */
#define CLI_HTTP_TIMEOUT_MS 15000       /* connect to head, and each body read */
#define CLI_HTTP_HOST_MAX 255
#define CLI_HTTP_PORT_MAX 6             /* "65535" + NUL */

/* Parses a broker URL strictly: "https://" HOST [":" PORT] ["/"], where HOST is
 * a DNS name, an IPv4 address or an IPv6 address in brackets, and PORT is
 * 1..65535 (default 8443). Refuses other schemes (http://), userinfo, paths,
 * queries and fragments. Writes the host without brackets. 0 or
 * ZT_ERR_INVALID (ZT_ERR_TOO_LARGE when host does not fit). */
int cli_http_parse_url(const char *url, char *host, size_t hostsz, char *port, size_t portsz);

/*
 * Sends one request to the broker at url (see cli_http_parse_url), trusting
 * only the CA with the given pin. method is "GET" or "POST"; path starts with
 * "/". bearer (may be NULL) is sent as "Authorization: Bearer ..."; json_body
 * (may be NULL) as the request body.
 *
 * Returns 0 when a complete HTTP response arrived, whatever its status: *status
 * is set and *resp holds the parsed JSON body (NULL when the body was empty;
 * caller frees with cJSON_Delete). Otherwise a negative ZT_ERR_* with one
 * sentence for people in errbuf (ZT_ERR_PIN when the broker's CA does not
 * match the pin, ZT_ERR_NET/ZT_ERR_TIMEOUT when it cannot be reached,
 * ZT_ERR_PROTOCOL for a malformed or non-JSON response).
 */
int cli_http_request(const char *url, const char *pin, const char *method, const char *path,
    const char *bearer, const char *json_body, int *status, cJSON **resp, char *errbuf,
    size_t errsz);

/* The broker's error object {"error": {"code", "message"}} in resp, if any:
 * borrowed strings, or NULL (both may be NULL). */
void cli_http_error(const cJSON *resp, const char **code, const char **message);

#endif
