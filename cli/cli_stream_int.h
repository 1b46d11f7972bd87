/*
 * cli_stream_int.h - what cli_stream.c shares with the other users of its
 * libcurl set-up (cli_ws.c): the pinned trust, and the sentence for a
 * connection that failed.
 */
#ifndef ZT_CLI_STREAM_INT_H
#define ZT_CLI_STREAM_INT_H

#include <curl/curl.h>

struct tls_pin;

/* Sets easy e up for url (HTTPS, HTTP/1.1) trusting only what pc (the
 * pinned broker CA, common/tls.h) accepts, timeout_ms to connect, errors
 * in errtext (CURL_ERROR_SIZE bytes). 0 or ZT_ERR_INTERNAL. */
int cli_stream_trust(CURL *e, const char *url, struct tls_pin *pc, int timeout_ms,
    char *errtext);
/* A connection to the broker at url (host, pin) that failed with c: one
 * sentence for people in errbuf, and the error to return (ZT_ERR_PIN,
 * ZT_ERR_TLS, ZT_ERR_NET, ZT_ERR_TIMEOUT, ZT_ERR_PROTOCOL, ZT_ERR_IO,
 * ZT_ERR_NOMEM). */
int cli_stream_connect_error(CURL *easy, CURLcode c, struct tls_pin *pc, const char *url,
    const char *host, const char *pin, char *errbuf, size_t errsz);

#endif
