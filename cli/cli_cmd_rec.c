/*
 * cli_cmd_rec.c - `ztctl recordings ls` and `ztctl play` (cli_cmd_rec.h).
 *
 * The list is cleaned of control bytes before it reaches the terminal. A
 * replay is the other way round: its point is to show the terminal what
 * the session's terminal showed, escapes included, as asciinema does; so
 * only the output events ("o") are written, raw, and what was typed ("i")
 * never is. The recording is read strictly (aud_rec_parse_header/_event)
 * as it arrives, one bounded line at a time: a malformed line stops the
 * replay with its number.
 */
#include "cli/cli_cmd_rec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/aud_rec.h"
#include "cli/cli_args.h"
#include "cli/cli_cmd_admin.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_http.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_stream.h"
#include "common/buf.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "common/name.h"

#define FIELD_MAX 256
#define LIST_MAX 100000
#define SPEED_MAX 1000.0

static const char usage_recordings[] =
    "usage: ztctl recordings ls [--host H] [--user U] [--json]\n"
    "  Lists recorded interactive sessions, newest first: your own, or everyone's\n"
    "  for an auditor or administrator. --json prints the broker's answer.\n";
static const char usage_play[] =
    "usage: ztctl play ID [--speed N]\n"
    "  Replays recording ID's output on this terminal (escapes included, as the\n"
    "  session showed them; what was typed is never shown), N times as fast\n"
    "  (N > 0, default 1). A pause is cut to 2 s at most.\n";

enum { O_HOST = 1, O_USER, O_JSON, O_SPEED, O_HELP };


#define ARG(a, o) CLI_ARG(a, o)

/* Options (bits of 1 << O_*) and one word: cli_args_parse. */
static int parse(int argc, char **argv, unsigned allowed, const char *usage,
    struct cli_args *a)
{
	static const struct option longopts[] = {
		{"host", required_argument, NULL, O_HOST},
		{"user", required_argument, NULL, O_USER},
		{"json", no_argument, NULL, O_JSON},
		{"speed", required_argument, NULL, O_SPEED},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};

	return cli_args_parse(argc, argv, longopts, O_HELP, allowed, "missing argument", usage, a);
}

/* ---- recordings ls ---- */

static const char *str_of(const cJSON *e, const char *key, char *out, size_t outsz)
{
	const char *s = NULL;

	return cli_clean(json_get_str(e, key, FIELD_MAX, 1, &s) == 0 ? s : "?", 0, out, outsz);
}

static int64_t int_of(const cJSON *e, const char *key)
{
	int64_t v = -1;

	return json_get_int(e, key, -1, INT64_MAX / 2, &v) == 0 ? v : -1;
}

/* One row of the table. */
static void print_recording(const cJSON *e)
{
	char id[40], user[FIELD_MAX], host[FIELD_MAX], login[FIELD_MAX], started[24], dur[24],
	    ex[16];
	int64_t t0 = int_of(e, "started_at"), t1 = int_of(e, "ended_at");
	int64_t code = int_of(e, "exit_status");
	time_t tt = (time_t)t0;
	struct tm tm;

	if (t0 < 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		snprintf(started, sizeof(started), "?");
	}
	if (t1 <= 0) {
		snprintf(dur, sizeof(dur), "running");
		snprintf(ex, sizeof(ex), "-");
	} else {
		if (t1 < t0 || dur_format(t1 - t0, dur, sizeof(dur)) != 0) {
			snprintf(dur, sizeof(dur), "?");
		}
		snprintf(ex, sizeof(ex), code >= 0 ? "%lld" : "?", (long long)code);
	}
	printf("%-32s %-16s %-16s %-12s %-19s %-9s %10lld %s\n", str_of(e, "id", id, sizeof(id)),
	    str_of(e, "user", user, sizeof(user)), str_of(e, "host", host, sizeof(host)),
	    str_of(e, "login", login, sizeof(login)), started, dur, (long long)int_of(e, "bytes"),
	    ex);
}

/* "/v1/recordings?host=H&user=U": names need no escaping (checked). */
static int list_path(const struct cli_args *a, char *path, size_t pathsz)
{
	const char *host = ARG(a, O_HOST), *user = ARG(a, O_USER);
	size_t n;

	if ((host != NULL && !name_valid(host, 64)) || (user != NULL && !name_valid(user, 64))) {
		cli_fail("recordings: --host and --user take names ([a-z0-9][a-z0-9._-]*)");
		return CLI_EXIT_USAGE;
	}
	n = (size_t)snprintf(path, pathsz, "/v1/recordings");
	if (host != NULL) {
		n += (size_t)snprintf(path + n, pathsz - n, "?host=%s", host);
	}
	if (user != NULL) {
		snprintf(path + n, pathsz - n, "%cuser=%s", host != NULL ? '&' : '?', user);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_recordings(int argc, char **argv)
{
	const cJSON *list = NULL, *e;
	cJSON *resp = NULL;
	char path[256], *text = NULL;
	struct cli_args a;
	int r;

	if ((r = parse(argc, argv, 1u << O_HOST | 1u << O_USER | 1u << O_JSON, usage_recordings,
	    &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if (strcmp(a.word, "ls") != 0) {
		cli_fail("recordings: unknown verb (ls)");
		fputs(usage_recordings, stderr);
		return CLI_EXIT_USAGE;
	}
	if ((r = list_path(&a, path, sizeof(path))) != CLI_EXIT_OK) {
		return r;
	}
	if ((r = cli_session_call("recordings ls", "GET", path, NULL, &resp)) != CLI_EXIT_OK) {
		return r;
	}
	r = CLI_EXIT_FAIL;
	if (json_get_arr(resp, "recordings", LIST_MAX, &list) != 0) {
		cli_fail("recordings ls: the broker's answer is malformed");
	} else if (ARG(&a, O_JSON) != NULL) {
		if ((text = json_print(resp)) != NULL) {
			printf("%s\n", text);
			r = CLI_EXIT_OK;
		}
	} else {
		printf("%-32s %-16s %-16s %-12s %-19s %-9s %10s %s\n", "ID", "USER", "HOST", "LOGIN",
		    "STARTED (UTC)", "DURATION", "BYTES", "EXIT");
		cJSON_ArrayForEach(e, list) {
			print_recording(e);
		}
		r = CLI_EXIT_OK;
	}
	fflush(stdout);
	free(text);
	cJSON_Delete(resp);
	return r;
}

/* ---- play ---- */

struct player {
	double speed;
	double last_t;      /* the time of the last event played */
	size_t lineno;
	int header_read;
};

static void pause_for(double s)
{
	struct timespec ts;

	if (s > CLI_PLAY_IDLE_MAX_S) {
		s = CLI_PLAY_IDLE_MAX_S;
	}
	if (s <= 0) {
		return;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* One line of the recording (no newline): the header first, then events. */
static int play_line(struct player *pl, const char *p, size_t n)
{
	struct aud_rec_head h;
	struct aud_rec_event ev;
	cJSON *hold = NULL;

	pl->lineno++;
	if (!pl->header_read) {
		if (aud_rec_parse_header(p, n, &h) != 0) {
			cli_fail("play: line 1: not an asciicast v2 header");
			return CLI_EXIT_FAIL;
		}
		pl->header_read = 1;
		return CLI_EXIT_OK;
	}
	if (n == 0) {
		return CLI_EXIT_OK;
	}
	if (aud_rec_parse_event(p, n, &hold, &ev) != 0) {
		cli_fail("play: line %zu: not an asciicast v2 event", pl->lineno);
		return CLI_EXIT_FAIL;
	}
	if (ev.t > pl->last_t) {
		fflush(stdout);
		pause_for((ev.t - pl->last_t) / pl->speed);
		pl->last_t = ev.t;
	}
	if (ev.code == 'o') {
		fwrite(ev.data, 1, ev.len, stdout);
	} else if (ev.code == 'r') {
		char size[32];

		fflush(stdout);
		fprintf(stderr, "[ztctl play: the terminal was resized to %s]\n",
		    cli_clean(ev.data, 0, size, sizeof(size)));
	}
	cJSON_Delete(hold);
	return ferror(stdout) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* Plays the body of s as it arrives, line by line (each at most
 * AUD_REC_LINE_MAX bytes). */
static int play_stream(struct cli_stream *s, struct player *pl)
{
	char *line = malloc(AUD_REC_LINE_MAX + 1), chunk[16384];
	size_t len = 0;
	ssize_t got;
	int r = CLI_EXIT_OK;

	if (line == NULL) {
		cli_fail("out of memory");
		return CLI_EXIT_FAIL;
	}
	while (r == CLI_EXIT_OK && (got = cli_stream_read(s, chunk, sizeof(chunk))) != 0) {
		if (got < 0) {
			cli_fail("play: reading the recording failed: %s", zt_strerror((int)got));
			r = CLI_EXIT_FAIL;
			break;
		}
		for (ssize_t i = 0; i < got && r == CLI_EXIT_OK; i++) {
			if (chunk[i] == '\n') {
				line[len] = '\0';
				r = play_line(pl, line, len);
				len = 0;
			} else if (len == AUD_REC_LINE_MAX) {
				cli_fail("play: line %zu: longer than %d bytes", pl->lineno + 1,
				    AUD_REC_LINE_MAX);
				r = CLI_EXIT_FAIL;
			} else {
				line[len++] = chunk[i];
			}
		}
	}
	if (r == CLI_EXIT_OK && len > 0) {
		line[len] = '\0';
		r = play_line(pl, line, len);
	}
	if (r == CLI_EXIT_OK && !pl->header_read) {
		cli_fail("play: the recording is empty");
		r = CLI_EXIT_FAIL;
	}
	fflush(stdout);
	free(line);
	return r;
}

/* The broker's refusal of a non-200 answer, as one line. */
static int refused(struct cli_stream *s, const char *id)
{
	char err[256], c[512];
	struct buf *body = buf_new(CLI_HTTP_RESP_MAX);
	const char *code = NULL, *msg = NULL;
	cJSON *resp = NULL;
	int status = cli_stream_status(s);

	if (status == 404) {
		cli_fail("play: no recording %s that you may read", id);
	} else if (body != NULL && cli_stream_read_all(s, body, err, sizeof(err)) == 0 &&
	    json_parse(buf_ptr(body), buf_len(body), CLI_HTTP_RESP_MAX, JSON_DEFAULT_DEPTH,
	    &resp) == 0 && (cli_http_error(resp, &code, &msg), msg != NULL)) {
		cli_fail("play: %s", cli_clean(msg, 0, c, sizeof(c)));
	} else {
		cli_fail("play: the broker answered HTTP %d", status);
	}
	cJSON_Delete(resp);
	buf_free(body);
	return CLI_EXIT_FAIL;
}

static int parse_speed(const char *s, double *speed)
{
	char *end = NULL;

	*speed = 1.0;
	if (s == NULL) {
		return CLI_EXIT_OK;
	}
	errno = 0;
	*speed = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*speed) || *speed <= 0 ||
	    *speed > SPEED_MAX) {
		cli_fail("play: --speed takes a number above 0 (at most %g)", SPEED_MAX);
		fputs(usage_play, stderr);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_cmd_play(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX], path[64], err[256], idc[64];
	struct player pl = { .speed = 1.0 };
	struct cli_profile *p = NULL;
	struct cli_stream *s = NULL;
	struct cli_stream_req req;
	struct cli_args a;
	int r;

	if ((r = parse(argc, argv, 1u << O_SPEED, usage_play, &a)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if ((r = parse_speed(ARG(&a, O_SPEED), &pl.speed)) != CLI_EXIT_OK) {
		return r;
	}
	if (!aud_rec_id_valid(a.word)) {
		cli_fail("play: %s is not a recording id (32 lower-case hex digits; ztctl "
		    "recordings ls shows them)", cli_clean(a.word, 0, idc, sizeof(idc)));
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_session_load(dir, sizeof(dir), &p)) != CLI_EXIT_OK) {
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/recordings/%s", a.word);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.bearer = p->token;
	if (cli_stream_open(p->broker, p->ca_pin, &req, CLI_HTTP_TIMEOUT_MS, &s, err,
	    sizeof(err)) != 0) {
		cli_fail("play failed: %s", err);
		r = CLI_EXIT_FAIL;
		goto out;
	}
	r = cli_stream_status(s) == 200 ? play_stream(s, &pl) : refused(s, a.word);
out:
	cli_stream_close(s);
	cli_profile_free(p);
	return r;
}
