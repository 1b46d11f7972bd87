/*
 * cli_cmd_cp.c - `ztctl cp` (cli_cmd_cp.h): one file to or from a host,
 * through the broker's MCP endpoint and a one-time transfer link.
 *
 * The link's URL names the broker that made it; only its path is used, on
 * the profile's broker with its pinned CA, so the bearer token that goes
 * with the GET or PUT never leaves for anywhere else. A download is written
 * to a temporary file beside LOCAL (created exclusively, 0600) and renamed
 * over it only once every byte arrived; an upload is streamed from the
 * disk with its length, and the broker renames it into place on the host
 * only once the whole body arrived (docs/mcp.md, "Large files").
 */
#include "cli/cli_cmd_cp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_cmd_approve.h"
#include "cli/cli_cmd_auth.h"
#include "cli/cli_http.h"
#include "cli/cli_out.h"
#include "cli/cli_profile.h"
#include "cli/cli_progress.h"
#include "cli/cli_stream.h"
#include "cli/cli_tool.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/net.h"
#include "common/json.h"

#define ERR_MAX 2048
#define LOGIN_MAX 256
#define CHUNK (256 * 1024)
#define ANSWER_MAX 65536     /* bytes of a PUT's answer */

static const char usage[] =
    "usage: ztctl cp [LOGIN@]HOST:PATH LOCAL    (download; LOCAL may be a directory)\n"
    "       ztctl cp LOCAL [LOGIN@]HOST:PATH    (upload; PATH ending in / is a directory)\n"
    "  Copies one file through the broker: file_read or file_write with a one-time\n"
    "  transfer link, decided by your roles and audited as any call. PATH is\n"
    "  absolute; LOGIN defaults to your local user name. A call held for your MFA\n"
    "  step-up asks for a one-time code when standard input is a terminal.\n";

/* One side of the copy on the host. */
struct remote {
	char login[LOGIN_MAX];
	char host[CLI_HTTP_HOST_MAX + 1];
	const char *path;  /* in argv */
};

struct cp {
	struct cli_profile *p;
	struct cli_tool *t;
	struct remote rem;
	char rpath[PATH_MAX];  /* the remote path as sent */
	const char *local;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ztctl cp: <message>" on stderr. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ztctl cp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- arguments ---- */

/* 1 if arg is [LOGIN@]HOST:PATH: a ':' with no '/' before it, as scp reads
 * it (so ./a:b is local). */
static int is_remote(const char *arg)
{
	size_t n = strcspn(arg, ":/");

	return arg[n] == ':' && n > 0;
}

/* Splits [LOGIN@]HOST:PATH (is_remote() holds). CLI_EXIT_OK or
 * CLI_EXIT_USAGE after saying why. */
static int parse_remote(const char *arg, struct remote *r)
{
	const char *colon = strchr(arg, ':'), *at = memchr(arg, '@', (size_t)(colon - arg));
	const char *host = at != NULL ? at + 1 : arg;
	size_t llen = at != NULL ? (size_t)(at - arg) : 0, hlen = (size_t)(colon - host);

	if (hlen == 0 || hlen > CLI_HTTP_HOST_MAX || (at != NULL && (llen == 0 ||
	    llen >= sizeof(r->login)))) {
		fail("\"%.*s\" is not [LOGIN@]HOST", (int)(colon - arg), arg);
		return CLI_EXIT_USAGE;
	}
	memcpy(r->host, host, hlen);
	r->host[hlen] = '\0';
	if (at != NULL) {
		memcpy(r->login, arg, llen);
		r->login[llen] = '\0';
	} else if (cli_local_user(r->login, sizeof(r->login)) != 0) {
		fail("cannot tell your user name (set USER, or give LOGIN@HOST)");
		return CLI_EXIT_USAGE;
	}
	r->path = colon + 1;
	return CLI_EXIT_OK;
}

/* The last segment of path ("" when it ends in '/'). */
static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* ---- the tool call ---- */

/* Calls tool (file_read or file_write) with transfer "link" on the remote
 * path: CLI_EXIT_OK with *sc its structuredContent (owned) and *lpath
 * (a pointer into it) the link's path on the broker, or CLI_EXIT_FAIL
 * after saying why (a refusal's text is the broker's). */
static int call_link(struct cp *c, const char *tool, cJSON **sc, const char **lpath)
{
	char err[ERR_MAX], text[ERR_MAX];
	const cJSON *link = NULL;
	cJSON *args = cJSON_CreateObject(), *res = NULL;
	const char *url = NULL, *p;
	int ret = CLI_EXIT_FAIL;

	*sc = NULL;
	if (args == NULL || cJSON_AddStringToObject(args, "host", c->rem.host) == NULL ||
	    cJSON_AddStringToObject(args, "login", c->rem.login) == NULL ||
	    cJSON_AddStringToObject(args, "path", c->rpath) == NULL ||
	    cJSON_AddStringToObject(args, "transfer", "link") == NULL) {
		fail("out of memory");
		goto out;
	}
	if (cli_tool_call(c->t, tool, args, cli_approve_on_log, (void *)"cp", &res, err, sizeof(err)) != 0) {
		fail("%s", err);
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"))) {
		fail("%s", cli_tool_text(res, text, sizeof(text))[0] != '\0' ? text :
		    "the broker refused the call");
		goto out;
	}
	*sc = cJSON_DetachItemFromObjectCaseSensitive(res, "structuredContent");
	if (json_get_obj(*sc, "link", &link) != 0 ||
	    json_get_str(link, "url", CLI_STREAM_HEAD_MAX, 0, &url) != 0 ||
	    (p = strstr(url, "://")) == NULL || (p = strchr(p + 3, '/')) == NULL) {
		fail("the broker's answer to %s has no transfer link", tool);
		goto out;
	}
	*lpath = p;
	ret = CLI_EXIT_OK;
out:
	if (ret != CLI_EXIT_OK) {
		cJSON_Delete(*sc);
		*sc = NULL;
	}
	cJSON_Delete(args);
	cJSON_Delete(res);
	return ret;
}

/* Reads a refused link request's answer and says why. */
static void link_refused(struct cli_stream *s, const char *what)
{
	char err[ERR_MAX], c[ERR_MAX];
	const char *code = NULL, *msg = NULL;
	struct buf *b = buf_new(ANSWER_MAX);
	cJSON *resp = NULL;

	if (b != NULL && cli_stream_read_all(s, b, err, sizeof(err)) == 0 && buf_len(b) > 0 &&
	    json_parse(buf_ptr(b), buf_len(b), ANSWER_MAX, 16, &resp) == 0) {
		cli_http_error(resp, &code, &msg);
	}
	fail("the broker refused the %s (HTTP %d)%s%s", what, cli_stream_status(s),
	    msg != NULL ? ": " : "", msg != NULL ? cli_clean(msg, 0, c, sizeof(c)) : "");
	cJSON_Delete(resp);
	buf_free(b);
}

/* Opens the link: CLI_EXIT_OK with *s answered 200, or CLI_EXIT_FAIL. */
static int open_link(struct cp *c, const struct cli_stream_req *req, struct cli_stream **s)
{
	char err[ERR_MAX];

	if (cli_stream_open(c->p->broker, c->p->ca_pin, req, CLI_HTTP_TIMEOUT_MS, s, err,
	    sizeof(err)) != 0) {
		fail("the transfer failed: %s", err);
		return CLI_EXIT_FAIL;
	}
	if (cli_stream_status(*s) != 200) {
		link_refused(*s, strcmp(req->method, "GET") == 0 ? "download" : "upload");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* ---- download ---- */

/* The file to write: LOCAL, or the remote name inside it when it is a
 * directory. CLI_EXIT_OK or CLI_EXIT_FAIL / CLI_EXIT_USAGE after saying
 * why. */
static int local_target(const struct cp *c, char *out, size_t outsz)
{
	const char *base = base_of(c->rpath);
	struct stat st;
	size_t n = strlen(c->local);
	int len;

	if (stat(c->local, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (base[0] == '\0') {
			fail("%s names no file to copy", c->rpath);
			return CLI_EXIT_USAGE;
		}
		len = snprintf(out, outsz, "%s%s%s", c->local, c->local[n - 1] == '/' ? "" : "/",
		    base);
	} else if (c->local[n - 1] == '/') {
		fail("%s: no such directory", c->local);
		return CLI_EXIT_FAIL;
	} else {
		len = snprintf(out, outsz, "%s", c->local);
	}
	if (len < 0 || (size_t)len >= outsz) {
		fail("the local path is too long");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* A temporary file beside dst, created exclusively at 0600: its fd, and
 * its name in tmp; -1 after saying why (tmp is then ""). */
static int temp_beside(const char *dst, char *tmp, size_t tmpsz)
{
	const char *base = base_of(dst);
	int len, fd;

	len = snprintf(tmp, tmpsz, "%.*s.%s.ztcp-XXXXXX", (int)(base - dst), dst, base);
	if (len < 0 || (size_t)len >= tmpsz) {
		fail("the local path is too long");
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fail("cannot create a file beside %s: %s", dst, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	return fd;
}

/* Writes all of p[0..n) to fd: 0 or -1 (errno set). */
/* Streams the GET's body into fd: CLI_EXIT_OK once it ended complete
 * (want bytes, when known: >= 0), else CLI_EXIT_FAIL after saying why. */
static int receive(struct cli_stream *s, int fd, int64_t want)
{
	struct cli_progress pr;
	uint8_t *chunk = malloc(CHUNK);
	ssize_t got;
	int ret = CLI_EXIT_FAIL;

	if (chunk == NULL) {
		fail("out of memory");
		return CLI_EXIT_FAIL;
	}
	cli_progress_start(&pr, want);
	while ((got = cli_stream_read(s, chunk, CHUNK)) > 0) {
		if (net_write_all(fd, chunk, (size_t)got) != 0) {
			cli_progress_end(&pr);
			fail("cannot write the local file: %s", strerror(errno));
			goto out;
		}
		cli_progress_add(&pr, (size_t)got);
	}
	cli_progress_end(&pr);
	if (got < 0) {
		fail("the download was cut short after %lld bytes: %s", (long long)pr.done,
		    zt_strerror((int)got));
	} else if (want >= 0 && pr.done != want) {
		fail("the download ended after %lld of %lld bytes", (long long)pr.done,
		    (long long)want);
	} else {
		ret = CLI_EXIT_OK;
	}
out:
	free(chunk);
	return ret;
}

/* The mode a downloaded file gets: the remote one's permission bits (as
 * the answer's "mode", "0644"), or 0644, less the umask, as scp does. */
static mode_t mode_for(const cJSON *sc)
{
	const char *m = NULL;
	mode_t mode = 0644, mask = umask(0);
	char *end;
	long v;

	umask(mask);
	if (json_get_str(sc, "mode", 8, 0, &m) == 0 && (v = strtol(m, &end, 8)) >= 0 &&
	    *end == '\0') {
		mode = (mode_t)v & 0777;
	}
	return mode & ~mask;
}

static int download(struct cp *c)
{
	char dst[PATH_MAX], tmp[PATH_MAX + 32] = "";
	struct cli_stream_req req = { .method = "GET", .bearer = c->p->token };
	struct cli_stream *s = NULL;
	cJSON *sc = NULL;
	int64_t want = -1;
	int fd = -1, ret, r;

	snprintf(c->rpath, sizeof(c->rpath), "%s", c->rem.path);
	if ((ret = local_target(c, dst, sizeof(dst))) != CLI_EXIT_OK ||
	    (ret = call_link(c, "file_read", &sc, &req.path)) != CLI_EXIT_OK) {
		goto out;
	}
	ret = CLI_EXIT_FAIL;
	(void)json_get_int(sc, "length", 0, INT64_MAX, &want);
	if ((fd = temp_beside(dst, tmp, sizeof(tmp))) < 0) {
		goto out;
	}
	if (open_link(c, &req, &s) != CLI_EXIT_OK || receive(s, fd, want) != CLI_EXIT_OK) {
		goto out;
	}
	if (fchmod(fd, mode_for(sc)) != 0) {
		fail("cannot set the local file's mode: %s", strerror(errno));
		goto out;
	}
	r = close(fd);
	fd = -1;  /* close(2) frees the fd even when it fails */
	if (r != 0) {
		fail("cannot write the local file: %s", strerror(errno));
		goto out;
	}
	if (rename(tmp, dst) != 0) {
		fail("cannot rename the download to %s: %s", dst, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	ret = CLI_EXIT_OK;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (tmp[0] != '\0') {
		unlink(tmp);  /* LOCAL stays as it was */
	}
	cli_stream_close(s);
	cJSON_Delete(sc);
	return ret;
}

/* ---- upload ---- */

struct source {
	int fd;
	int64_t left;
	struct cli_progress pr;
};

/* cli_stream_req.upload: the next bytes of the file, never more than it
 * had when the upload began. */
static ssize_t source_read(void *arg, void *p, size_t n)
{
	struct source *src = arg;
	ssize_t got;

	if ((int64_t)n > src->left) {
		n = (size_t)src->left;
	}
	if (n == 0) {
		return 0;
	}
	while ((got = read(src->fd, p, n)) < 0 && errno == EINTR) {
		;
	}
	if (got < 0) {
		return ZT_ERR_IO;
	}
	if (got == 0) {
		return ZT_ERR_TRUNCATED;  /* the file shrank while it was sent */
	}
	src->left -= got;
	cli_progress_add(&src->pr, (size_t)got);
	return got;
}

/* Reads the PUT's answer and checks it counted size bytes. */
static int check_answer(struct cli_stream *s, int64_t size)
{
	char err[ERR_MAX];
	struct buf *b = buf_new(ANSWER_MAX);
	cJSON *resp = NULL;
	int64_t bytes = -1;
	int ret = CLI_EXIT_FAIL;

	if (b == NULL || cli_stream_read_all(s, b, err, sizeof(err)) != 0 ||
	    json_parse(buf_ptr(b), buf_len(b), ANSWER_MAX, 16, &resp) != 0 ||
	    json_get_int(resp, "bytes", 0, INT64_MAX, &bytes) != 0) {
		fail("the broker's answer to the upload is malformed");
	} else if (bytes != size) {
		fail("the broker received %lld of %lld bytes", (long long)bytes, (long long)size);
	} else {
		ret = CLI_EXIT_OK;
	}
	cJSON_Delete(resp);
	buf_free(b);
	return ret;
}

/* Opens LOCAL for the upload: the fd, its size in *size; -1 after saying
 * why. */
static int open_source(const char *local, int64_t *size)
{
	struct stat st;
	int fd = open(local, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fail("%s: %s", local, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		st.st_mode = 0;
	}
	if (!S_ISREG(st.st_mode)) {
		fail("%s: %s", local, S_ISDIR(st.st_mode) ? "is a directory (cp copies one file)" :
		    "not a regular file");
		close(fd);
		return -1;
	}
	*size = (int64_t)st.st_size;
	return fd;
}

static int upload(struct cp *c)
{
	struct source src = { .fd = -1 };
	struct cli_stream_req req = { .method = "PUT", .bearer = c->p->token,
	    .upload = source_read, .upload_arg = &src };
	const char *rp = c->rem.path;
	struct cli_stream *s = NULL;
	cJSON *sc = NULL;
	size_t n = strlen(rp);
	int ret = CLI_EXIT_FAIL, len;

	if ((src.fd = open_source(c->local, &req.upload_len)) < 0) {
		goto out;
	}
	len = snprintf(c->rpath, sizeof(c->rpath), "%s%s", rp, n > 0 && rp[n - 1] == '/' ?
	    base_of(c->local) : "");
	if (len < 0 || (size_t)len >= sizeof(c->rpath)) {
		fail("the remote path is too long");
		goto out;
	}
	if (call_link(c, "file_write", &sc, &req.path) != CLI_EXIT_OK) {
		goto out;
	}
	src.left = req.upload_len;
	cli_progress_start(&src.pr, req.upload_len);
	ret = open_link(c, &req, &s);
	cli_progress_end(&src.pr);
	if (ret == CLI_EXIT_OK) {
		ret = check_answer(s, req.upload_len);
	}
out:
	if (src.fd >= 0) {
		close(src.fd);
	}
	cli_stream_close(s);
	cJSON_Delete(sc);
	return ret;
}

/* ---- the command ---- */

/* Reads the two operands: CLI_EXIT_OK with c->rem and c->local set and
 * *down telling the direction, -1 after --help, or CLI_EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct cp *c, int *down)
{
	int i = 1, ra, rb;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return -1;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		i++;
	} else if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') {
		fail("unknown option %s", argv[1]);
		goto usage;
	}
	if (argc - i != 2 || argv[i][0] == '\0' || argv[i + 1][0] == '\0') {
		fail("want a source and a destination");
		goto usage;
	}
	ra = is_remote(argv[i]);
	rb = is_remote(argv[i + 1]);
	if (ra == rb) {
		fail("%s", ra ? "both sides are remote: copy through a local file" :
		    "one side must be remote: [LOGIN@]HOST:PATH");
		goto usage;
	}
	*down = ra;
	c->local = argv[ra ? i + 1 : i];
	if (parse_remote(argv[ra ? i : i + 1], &c->rem) != CLI_EXIT_OK) {
		goto usage;
	}
	return CLI_EXIT_OK;
usage:
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

int cli_cmd_cp(int argc, char **argv)
{
	char dir[CLI_PROFILE_PATH_MAX], err[ERR_MAX];
	struct cp c;
	int r, down = 0;

	memset(&c, 0, sizeof(c));
	if ((r = parse_args(argc, argv, &c, &down)) != CLI_EXIT_OK) {
		return r < 0 ? CLI_EXIT_OK : r;
	}
	if ((r = cli_session_load(dir, sizeof(dir), &c.p)) != CLI_EXIT_OK) {
		goto out;
	}
	if (cli_tool_open(c.p, &c.t, err, sizeof(err)) != 0) {
		fail("%s", err);
		r = CLI_EXIT_FAIL;
		goto out;
	}
	r = down ? download(&c) : upload(&c);
out:
	cli_tool_close(c.t);
	cli_profile_free(c.p);
	return r;
}
