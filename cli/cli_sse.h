/*
 * cli_sse.h - an incremental, bounded Server-Sent Events parser for a
 * response body read off a stream (cli_stream.h, which has de-chunked it).
 *
 * It is fed bytes as they arrive, split anywhere, and keeps only what a
 * pending line or event needs, so `ztctl mcp` can relay an MCP Streamable
 * HTTP response event by event while it is still open. It refuses input
 * past a named limit (ZT_ERR_TOO_LARGE) instead of truncating it, and must
 * be freed after returning an error: its state is then undefined. It is not
 * thread-safe: one parser belongs to one thread at a time.
 */
#ifndef ZT_CLI_SSE_H
#define ZT_CLI_SSE_H

#include <stddef.h>
#include <stdint.h>

#define CLI_SSE_EVENT_MAX (4 * 1024 * 1024) /* bytes of one event's data */
#define CLI_SSE_FIELD_MAX 1024   /* bytes of an id or event field's value */
#define CLI_SSE_LINE_OVERHEAD 64 /* a line may be this much longer than an event */

/* ---- Server-Sent Events (the WHATWG HTML "event stream" format) ---- */

struct cli_sse;

/* One event as it is handed to the caller. data holds data_len bytes (the
 * "data" fields joined with '\n'; not NUL-terminated, and may hold any
 * byte); type is the "event" field or "message"; id is the stream's last
 * event id so far ("" when none). All are borrowed until the callback
 * returns. */
struct cli_sse_event {
	const char *type;
	const uint8_t *data;
	size_t data_len;
	const char *id;
};

/* Called for each complete event; a non-zero return stops cli_sse_feed(),
 * which returns that value. */
typedef int (*cli_sse_event_fn)(void *arg, const struct cli_sse_event *ev);

/* A parser whose events may carry at most max_event bytes of data (0 means
 * CLI_SSE_EVENT_MAX); lines may be max_event + CLI_SSE_LINE_OVERHEAD bytes
 * long. NULL on ENOMEM. */
struct cli_sse *cli_sse_new(size_t max_event);
void cli_sse_free(struct cli_sse *s);

/*
 * Parses p[0..n) and calls fn for each event completed in it. Lines end in
 * CRLF, LF or CR (a CRLF split between two calls is one line end); a
 * leading UTF-8 byte order mark is skipped; lines starting with ':' are
 * comments; a field line without ':' is a field with an empty value; one
 * space after the ':' is dropped; unknown fields are ignored; "id" values
 * holding a NUL are ignored; "retry" values that are not all digits are
 * ignored.
 *
 * An event whose data is empty is not handed to fn: it is a "priming" event
 * (MCP sends one first so the client learns an id to resume from), though
 * its id and retry fields still take effect. A blank line without data
 * likewise only records the id.
 *
 * 0, fn's non-zero return, or ZT_ERR_TOO_LARGE (a line, an event's data, or
 * an id or event value past its limit) or ZT_ERR_NOMEM.
 */
int cli_sse_feed(struct cli_sse *s, const uint8_t *p, size_t n, cli_sse_event_fn fn,
    void *arg);

/* Forgets a partly received line and event, as when a stream ended and a new
 * one (a reconnection) begins; the last event id and retry are kept. */
void cli_sse_reset(struct cli_sse *s);

/* The stream's last event id (borrowed, "" when none): what a client sends
 * as Last-Event-ID when it reconnects. */
const char *cli_sse_last_id(const struct cli_sse *s);
/* The reconnection delay the server asked for with "retry", in ms, or -1
 * when it never did. Values above 999999999 are read as 999999999. */
long cli_sse_retry_ms(const struct cli_sse *s);

#endif
