/*
 * cli_sse.c - the Server-Sent Events parser that `ztctl mcp` reads an MCP
 * Streamable HTTP response with (libcurl has de-chunked it already).
 *
 * A byte-driven state machine, so the bytes may arrive split anywhere (a
 * TLS record, a chunk, a line, a CRLF), and it never holds more than one
 * pending line or event. Runs of plain bytes (a data field's value) are
 * copied in one go rather than byte by byte, since an MCP event may carry
 * megabytes of JSON on one line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_sse.h"
#include "common/buf.h"
#include "common/err.h"

/* ---- Server-Sent Events ---- */

enum line_state {
	LS_START,       /* nothing of the line seen yet */
	LS_NAME,        /* the field name, up to ':' */
	LS_VALUE_START, /* just after ':' (one space is dropped) */
	LS_VALUE,
	LS_COMMENT,
};

enum field { F_IGNORE, F_DATA, F_ID, F_EVENT, F_RETRY };

#define NAME_MAX_LEN 5   /* "retry", the longest field name we know */
#define RETRY_MAX 999999999L

struct cli_sse {
	size_t max_event;
	size_t line_max;
	enum line_state st;
	enum field field;
	int after_cr;        /* the last byte was a CR: a following LF ends nothing */
	int bom;             /* BOM bytes matched; 3 once past the stream's start */
	size_t line_len;
	char name[NAME_MAX_LEN + 1];
	size_t name_len;     /* NAME_MAX_LEN + 1: longer than any name we know */
	char val[CLI_SSE_FIELD_MAX + 1];
	size_t val_len;
	int val_nul;
	struct buf *data;    /* "value\n" per data line */
	char type[CLI_SSE_FIELD_MAX + 1];
	char id_buf[CLI_SSE_FIELD_MAX + 1];  /* the last event ID buffer */
	char last_id[CLI_SSE_FIELD_MAX + 1]; /* the stream's last event ID */
	long retry_ms;
};

static const uint8_t bom_bytes[3] = { 0xef, 0xbb, 0xbf };

struct cli_sse *cli_sse_new(size_t max_event)
{
	struct cli_sse *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->max_event = max_event != 0 ? max_event : CLI_SSE_EVENT_MAX;
	s->line_max = s->max_event + CLI_SSE_LINE_OVERHEAD;
	s->retry_ms = -1;
	/* Room for the data and the '\n' that ends its last line. */
	if ((s->data = buf_new(s->max_event + 1)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void cli_sse_free(struct cli_sse *s)
{
	if (s == NULL) {
		return;
	}
	buf_free(s->data);
	free(s);
}

static void line_clear(struct cli_sse *s)
{
	s->st = LS_START;
	s->field = F_IGNORE;
	s->line_len = 0;
	s->name_len = 0;
	s->val_len = 0;
	s->val_nul = 0;
}

void cli_sse_reset(struct cli_sse *s)
{
	if (s == NULL) {
		return;
	}
	line_clear(s);
	s->after_cr = 0;
	s->bom = 0;
	buf_reset(s->data);
	s->type[0] = '\0';
	/* An id seen in the unfinished event does not count. */
	memcpy(s->id_buf, s->last_id, sizeof(s->id_buf));
}

const char *cli_sse_last_id(const struct cli_sse *s)
{
	return s->last_id;
}

long cli_sse_retry_ms(const struct cli_sse *s)
{
	return s->retry_ms;
}

static enum field field_of(const struct cli_sse *s)
{
	static const struct {
		const char *name;
		enum field f;
	} known[] = {
		{"data", F_DATA}, {"id", F_ID}, {"event", F_EVENT}, {"retry", F_RETRY},
	};
	size_t i;

	for (i = 0; s->name_len <= NAME_MAX_LEN && i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].name) == s->name_len &&
		    memcmp(known[i].name, s->name, s->name_len) == 0) {
			return known[i].f;
		}
	}
	return F_IGNORE;
}

static int value_bytes(struct cli_sse *s, const uint8_t *p, size_t n)
{
	switch (s->field) {
	case F_DATA:
		return buf_put(s->data, p, n);
	case F_ID:
	case F_EVENT:
	case F_RETRY:
		if (n > CLI_SSE_FIELD_MAX - s->val_len) {
			return ZT_ERR_TOO_LARGE;
		}
		if (memchr(p, '\0', n) != NULL) {
			s->val_nul = 1;
		}
		memcpy(s->val + s->val_len, p, n);
		s->val_len += n;
		return 0;
	default:
		return 0;
	}
}

/* Bytes of a line, none of them CR or LF. */
static int line_bytes(struct cli_sse *s, const uint8_t *p, size_t n)
{
	size_t k;

	if (n > s->line_max - s->line_len) {
		return ZT_ERR_TOO_LARGE;
	}
	s->line_len += n;
	while (n > 0) {
		switch (s->st) {
		case LS_START:
			s->st = p[0] == ':' ? LS_COMMENT : LS_NAME;
			break;
		case LS_NAME:
			for (k = 0; k < n && p[k] != ':'; k++) {
				if (s->name_len <= NAME_MAX_LEN) {
					if (s->name_len < NAME_MAX_LEN) {
						s->name[s->name_len] = (char)p[k];
					}
					s->name_len++;
				}
			}
			p += k;
			n -= k;
			if (n > 0) {
				p++;
				n--;
				s->field = field_of(s);
				s->st = LS_VALUE_START;
			}
			break;
		case LS_VALUE_START:
			if (p[0] == ' ') {
				p++;
				n--;
			}
			s->st = LS_VALUE;
			break;
		case LS_VALUE:
			return value_bytes(s, p, n);
		case LS_COMMENT:
			return 0;
		}
	}
	return 0;
}

static int dispatch(struct cli_sse *s, cli_sse_event_fn fn, void *arg)
{
	struct cli_sse_event ev;
	size_t len = buf_len(s->data);
	int r = 0;

	memcpy(s->last_id, s->id_buf, sizeof(s->last_id));
	/* Every data line ended in '\n'; the last one is not part of the data.
	 * Empty data (a priming event) is not an event for the caller. */
	if (len > 1 && fn != NULL) {
		ev.type = s->type[0] != '\0' ? s->type : "message";
		ev.data = buf_ptr(s->data);
		ev.data_len = len - 1;
		ev.id = s->last_id;
		r = fn(arg, &ev);
	}
	buf_reset(s->data);
	s->type[0] = '\0';
	return r;
}

static void set_retry(struct cli_sse *s)
{
	long v = 0;
	size_t i;

	if (s->val_len == 0) {
		return;
	}
	for (i = 0; i < s->val_len; i++) {
		if (s->val[i] < '0' || s->val[i] > '9') {
			return;
		}
		v = v * 10 + (s->val[i] - '0');
		if (v > RETRY_MAX) {
			v = RETRY_MAX;
		}
	}
	s->retry_ms = v;
}

static int end_line(struct cli_sse *s, cli_sse_event_fn fn, void *arg)
{
	int r = 0;

	if (s->st == LS_NAME) {
		/* A field without ':' has an empty value. */
		s->field = field_of(s);
	}
	switch (s->st) {
	case LS_START:
		return dispatch(s, fn, arg);
	case LS_COMMENT:
		break;
	default:
		switch (s->field) {
		case F_DATA:
			r = buf_put(s->data, "\n", 1);
			break;
		case F_ID:
			if (!s->val_nul) {
				memcpy(s->id_buf, s->val, s->val_len);
				s->id_buf[s->val_len] = '\0';
			}
			break;
		case F_EVENT:
			memcpy(s->type, s->val, s->val_len);
			s->type[s->val_len] = '\0';
			break;
		case F_RETRY:
			set_retry(s);
			break;
		default:
			break;
		}
		break;
	}
	line_clear(s);
	return r;
}

static int feed_lines(struct cli_sse *s, const uint8_t *p, size_t n, cli_sse_event_fn fn,
    void *arg)
{
	size_t i = 0, j;
	int r;

	while (i < n) {
		if (s->after_cr) {
			s->after_cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		if (p[i] == '\r' || p[i] == '\n') {
			s->after_cr = p[i] == '\r';
			i++;
			if ((r = end_line(s, fn, arg)) != 0) {
				return r;
			}
			continue;
		}
		for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++) {
			;
		}
		if ((r = line_bytes(s, p + i, j - i)) != 0) {
			return r;
		}
		i = j;
	}
	return 0;
}

int cli_sse_feed(struct cli_sse *s, const uint8_t *p, size_t n, cli_sse_event_fn fn,
    void *arg)
{
	size_t matched;
	int r;

	if (s == NULL || (p == NULL && n > 0)) {
		return ZT_ERR_INVALID;
	}
	/* A byte order mark may open the stream, and may arrive split. */
	while (s->bom < 3 && n > 0) {
		if (p[0] == bom_bytes[s->bom]) {
			s->bom++;
			p++;
			n--;
			continue;
		}
		/* Not a BOM after all: what looked like its start is text. */
		matched = (size_t)s->bom;
		s->bom = 3;
		if (matched > 0 && (r = feed_lines(s, bom_bytes, matched, fn, arg)) != 0) {
			return r;
		}
	}
	return feed_lines(s, p, n, fn, arg);
}
