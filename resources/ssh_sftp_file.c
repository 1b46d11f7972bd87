/*
 * ssh_sftp_file.c - the SFTP operations of many requests (ssh_sftp.h):
 * reading a range, writing through a temporary file and a rename (or in
 * place), and listing a directory a page at a time.
 */
#include "resources/ssh_sftp.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "resources/ssh_sftp_int.h"

#define TMP_TAG_LEN 8                   /* hex digits of a temporary name's tag */

static int nomem(struct ssh_sftp *s)
{
	return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_NOMEM, "out of memory");
}

/* sftp_close, which also reports a failed last write on some servers. */
static int close_file(struct ssh_sftp *s, sftp_file f, int r)
{
	if (f == NULL) {
		return r;
	}
	if (s->dead) {
		/* The socket is gone or unusable: free without asking. */
		sftp_close(f);
		return r;
	}
	if (sftp_close(f) != 0 && r == 0) {
		return sftp_failed(s, "close");
	}
	return r;
}

/* 1 if the server is an OpenSSH sftp-server (it offers fsync@openssh.com,
 * as every one since 6.5 does): it takes larger requests (ssh_sftp.h). */
static int openssh(struct ssh_sftp *s)
{
	return sftp_extension_supported(s->sftp, "fsync@openssh.com", "1") == 1;
}

/* ---- reading ---- */

/* One read request in flight: the range it asked for and libssh's id. */
struct rd_req {
	uint64_t off;
	uint32_t len;
	uint32_t id;
};

/* The read requests of one range, SSH_SFTP_READ_AHEAD at most in flight, in
 * the order sent (a ring). */
struct rd {
	struct rd_req q[SSH_SFTP_READ_AHEAD];
	size_t head, n;
};

/* Sends a read of len bytes at off and queues it. */
static int rd_send(struct ssh_sftp *s, sftp_file f, struct rd *rd, uint64_t off, uint32_t len)
{
	struct rd_req *q = &rd->q[(rd->head + rd->n) % SSH_SFTP_READ_AHEAD];
	int r, id;

	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	/* libssh reads at the handle's offset and moves it by len. */
	if (sftp_seek64(f, off) != 0 || (id = sftp_async_read_begin(f, len)) < 0) {
		return sftp_failed(s, "read");
	}
	q->off = off;
	q->len = len;
	q->id = (uint32_t)id;
	rd->n++;
	return 0;
}

/* Waits for the oldest request's reply, its bytes into buf at their
 * place (buf holds the range from base); *k is how many (0 at the end of
 * the file). libssh refuses a reply longer than asked. */
static int rd_take(struct ssh_sftp *s, sftp_file f, struct rd *rd, uint8_t *buf,
    uint64_t base, struct rd_req *done, int *k)
{
	int r;

	*done = rd->q[rd->head];
	rd->head = (rd->head + 1) % SSH_SFTP_READ_AHEAD;
	rd->n--;
	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	/* Once a reply said end of file, libssh answers 0 to every later
	 * sftp_async_read without taking its reply; a seek clears that. */
	if (sftp_seek64(f, done->off) != 0 ||
	    (*k = sftp_async_read(f, buf + (done->off - base), done->len, done->id)) < 0) {
		return sftp_failed(s, "read");
	}
	return 0;
}

/* After a failure the server refused, the replies still owed, so that
 * libssh does not keep them (a dead session frees them with itself). */
static void rd_drain(struct ssh_sftp *s, sftp_file f, struct rd *rd, uint8_t *buf,
    uint64_t base)
{
	struct ssh_sftp_err keep = s->err;
	struct rd_req done;
	int k;

	while (rd->n > 0 && !s->dead) {
		(void)rd_take(s, f, rd, buf, base, &done, &k);
	}
	s->err = keep;
}

/*
 * Reads [offset, offset + max) of f into d with up to SSH_SFTP_READ_AHEAD
 * requests of SSH_SFTP_CHUNK (SSH_SFTP_READ_CHUNK_OPENSSH) in flight (one at a time costs a round trip
 * through the tunnel per chunk). Replies come in any order of size: a
 * short one has the rest of its range asked again; an empty one marks the
 * end of the file, and the bytes are those below the lowest end seen.
 * *got: how many.
 */
static int read_range(struct ssh_sftp *s, sftp_file f, uint64_t offset, size_t max,
    uint8_t *d, size_t *got)
{
	struct rd rd = { .head = 0, .n = 0 };
	struct rd_req done;
	uint64_t next = offset, end = offset + max, eof = UINT64_MAX;
	uint32_t chunk = openssh(s) ? SSH_SFTP_READ_CHUNK_OPENSSH : SSH_SFTP_CHUNK;
	int k, r = 0;

	*got = 0;
	while (rd.n > 0 || next < end) {
		while (rd.n < SSH_SFTP_READ_AHEAD && next < end) {
			uint32_t len = end - next < chunk ? (uint32_t)(end - next) : chunk;

			if ((r = rd_send(s, f, &rd, next, len)) != 0) {
				goto out;
			}
			next += len;
		}
		if ((r = rd_take(s, f, &rd, d, offset, &done, &k)) != 0) {
			goto out;
		}
		if (k == 0) {
			eof = done.off < eof ? done.off : eof;
			end = eof < end ? eof : end;
			next = next < end ? next : end;
		} else if ((uint32_t)k < done.len && done.off + (uint32_t)k < end &&
		    (r = rd_send(s, f, &rd, done.off + (uint32_t)k, done.len - (uint32_t)k)) != 0) {
			goto out;
		}
	}
	*got = (size_t)(end - offset);
out:
	if (r != 0) {
		rd_drain(s, f, &rd, d, offset);
	}
	return r;
}

/* Opens path for reading when it is a regular file (a fifo or a device
 * would block the server's open), its attributes (fstat's) into a. */
static int open_regular(struct ssh_sftp *s, const char *path, struct ssh_sftp_attr *a,
    sftp_file *f)
{
	sftp_attributes at = NULL;
	int r;

	*f = NULL;
	if ((r = ssh_sftp_stat(s, path, 0, a)) != 0) {
		return r;
	}
	if (ssh_sftp_kind_of(a) != SSH_SFTP_FILE) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "not a regular file");
	}
	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if ((*f = sftp_open(s->sftp, path, O_RDONLY, 0)) == NULL) {
		return sftp_failed(s, "open");
	}
	if ((r = sftp_step(s)) != 0 || (at = sftp_fstat(*f)) == NULL) {
		r = r != 0 ? r : sftp_failed(s, "fstat");
	} else {
		sftp_attr_from(at, a);
		sftp_attributes_free(at);
		if (ssh_sftp_kind_of(a) != SSH_SFTP_FILE) {
			r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "not a regular file");
		}
	}
	if (r != 0) {
		(void)close_file(s, *f, r);
		*f = NULL;
	}
	return r;
}

int ssh_sftp_read(struct ssh_sftp *s, const char *path, uint64_t offset, size_t max,
    struct ssh_sftp_attr *a, uint8_t **data, size_t *n)
{
	sftp_file f = NULL;
	uint8_t *d = NULL;
	size_t got = 0;
	int r;

	*data = NULL;
	*n = 0;
	if (offset > UINT64_MAX - max) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "bad range");
	}
	if ((r = open_regular(s, path, a, &f)) != 0) {
		return r;
	}
	if (max > 0 && (d = malloc(max)) == NULL) {
		r = nomem(s);
	} else {
		r = read_range(s, f, offset, max, d, &got);
	}
	r = close_file(s, f, r);
	if (r != 0 || got == 0) {
		free(d);
		d = NULL;
		got = 0;
	}
	*data = d;
	*n = got;
	return r;
}

int ssh_sftp_read_stream(struct ssh_sftp *s, const char *path, uint64_t offset, uint64_t max,
    struct ssh_sftp_attr *a, ssh_sftp_sink_fn *sink, void *arg, uint64_t *n)
{
	sftp_file f = NULL;
	uint8_t *w = NULL;
	size_t got = 0, want;
	int r;

	*n = 0;
	if (offset > UINT64_MAX - max) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "bad range");
	}
	if ((r = open_regular(s, path, a, &f)) != 0) {
		return r;
	}
	if ((w = malloc(SSH_SFTP_STREAM_WINDOW)) == NULL) {
		r = nomem(s);
	}
	/* A window at a time: its requests drain at each end, one round trip
	 * per SSH_SFTP_STREAM_WINDOW. */
	while (r == 0 && *n < max) {
		want = max - *n < SSH_SFTP_STREAM_WINDOW ? (size_t)(max - *n) : SSH_SFTP_STREAM_WINDOW;
		if ((r = read_range(s, f, offset + *n, want, w, &got)) != 0 || got == 0) {
			break;
		}
		if ((r = sink(arg, w, got)) != 0) {
			r = sftp_fail(s, SSH_EXEC_ERROR, r, "the transfer's other end stopped");
			break;
		}
		*n += got;
		if (got < want) {
			break;                  /* the end of the file */
		}
	}
	free(w);
	return close_file(s, f, r);
}

/* ---- writing ---- */

/* The next chunk of p's content, at most max bytes, after done bytes:
 * inline data where it is, or what the source gives, filled into buf as
 * far as it gives. *chunk and *k (0 at the end). */
static int next_chunk(struct ssh_sftp *s, const struct ssh_sftp_put *p, uint64_t done,
    uint8_t *buf, size_t max, const uint8_t **chunk, size_t *k)
{
	size_t got;
	int r;

	*k = 0;
	if (p->source == NULL) {
		*chunk = p->data + done;
		*k = p->n - done < max ? p->n - done : max;
		return 0;
	}
	*chunk = buf;
	while (*k < max) {
		if ((r = p->source(p->source_arg, buf + *k, max - *k, &got)) != 0) {
			return sftp_fail(s, SSH_EXEC_ERROR, r, "the transfer's other end stopped");
		}
		if (got == 0) {
			break;
		}
		*k += got;
	}
	return 0;
}

/* Writes all of p's content to f (at its offset), then fsync@openssh.com
 * when the server offers it (and then takes requests of
 * SSH_SFTP_WRITE_CHUNK_OPENSSH). */
static int write_all(struct ssh_sftp *s, sftp_file f, const struct ssh_sftp_put *p)
{
	int fsync = openssh(s);
	size_t max = fsync ? SSH_SFTP_WRITE_CHUNK_OPENSSH : SSH_SFTP_CHUNK, k;
	uint8_t *buf = p->source != NULL ? malloc(max) : NULL;
	const uint8_t *chunk;
	uint64_t done = 0;
	ssize_t w;
	int r = 0;

	if (p->source != NULL && buf == NULL) {
		return nomem(s);
	}
	for (;;) {
		if ((r = next_chunk(s, p, done, buf, max, &chunk, &k)) != 0 || k == 0) {
			break;
		}
		if ((r = sftp_step(s)) != 0) {
			break;
		}
		/* libssh 0.10 sends the whole of k in one request. */
		if ((w = sftp_write(f, chunk, k)) < 0 || (size_t)w != k) {
			r = sftp_failed(s, "write");
			break;
		}
		done += k;
	}
	free(buf);
	if (r == 0 && fsync) {
		if ((r = sftp_step(s)) == 0 && sftp_fsync(f) != 0) {
			r = sftp_failed(s, "fsync");
		}
	}
	return r;
}

/* Opens path exclusively (never through a link, never over a file). When
 * it fails because path exists, ZT_ERR_EXISTS. */
static int create_excl(struct ssh_sftp *s, const char *path, int flags, uint32_t mode,
    sftp_file *f)
{
	struct ssh_sftp_attr a;
	struct ssh_sftp_err keep;
	int r;

	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if ((*f = sftp_open(s->sftp, path, O_WRONLY | O_CREAT | O_EXCL | flags,
	    (mode_t)mode)) != NULL) {
		return 0;
	}
	r = sftp_failed(s, "create");
	keep = s->err;
	if (!s->dead && ssh_sftp_stat(s, path, 1, &a) == 0) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_EXISTS, "it exists");
	}
	s->err = keep;
	return r;
}

/* Removes what a failed write created, keeping the failure as it was. */
static void undo(struct ssh_sftp *s, const char *path)
{
	struct ssh_sftp_err keep = s->err;
	int dead = s->dead;

	if (!dead) {
		(void)ssh_sftp_remove(s, path);
	}
	s->err = keep;
	s->dead = dead;
}

/* "dir/name", or with tag ".name.zt-TAG" in dir, into out. */
static int join(struct ssh_sftp *s, const char *dir, const char *name, const char *tag,
    char *out, size_t outsz)
{
	const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
	int n = tag != NULL ? snprintf(out, outsz, "%s%s.%s.zt-%s", dir, sep, name, tag) :
	    snprintf(out, outsz, "%s%s%s", dir, sep, name);

	if (n < 0 || (size_t)n >= outsz) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_TOO_LARGE, "path too long");
	}
	return 0;
}

/* Renames tmp to target, replacing it in one step with posix-rename when
 * the server offers it (ssh_sftp_rename.c). Otherwise SFTP's RENAME, which
 * refuses to replace: when target exists it is first moved aside to old
 * and removed after, put back if the second rename fails. *atomic: the
 * target changed in one step. */
static int rename_in(struct ssh_sftp *s, const char *tmp, const char *old, const char *target,
    int *atomic)
{
	struct ssh_sftp_attr a;
	int r;

	*atomic = 0;
	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if (sftp_extension_supported(s->sftp, "posix-rename@openssh.com", "1")) {
		if ((r = sftp_posix_rename(s, tmp, target)) == 0) {
			*atomic = 1;
		}
		return r;
	}
	if (sftp_rename(s->sftp, tmp, target) == 0) {
		*atomic = 1;
		return 0;
	}
	r = sftp_failed(s, "rename");
	if (s->dead || ssh_sftp_stat(s, target, 1, &a) != 0) {
		return r;
	}
	if ((r = sftp_step(s)) != 0 || sftp_rename(s->sftp, target, old) != 0) {
		return r != 0 ? r : sftp_failed(s, "rename aside");
	}
	if ((r = sftp_step(s)) != 0 || sftp_rename(s->sftp, tmp, target) != 0) {
		r = r != 0 ? r : sftp_failed(s, "rename");
		if (!s->dead) {
			struct ssh_sftp_err keep = s->err;

			(void)sftp_rename(s->sftp, old, target);
			s->err = keep;
		}
		return r;
	}
	undo(s, old);
	return 0;
}

/* Through a temporary file and a rename (ssh_sftp.h). */
static int write_replace(struct ssh_sftp *s, const struct ssh_sftp_put *p, const char *dir,
    const char *name, int *atomic)
{
	char tmp[SSH_SFTP_PATH_MAX + 1], old[SSH_SFTP_PATH_MAX + 1], tag[TMP_TAG_LEN + 5];
	uint8_t rnd[TMP_TAG_LEN / 2];
	sftp_file f = NULL;
	int r;

	if (crypto_random(rnd, sizeof(rnd)) != 0 || crypto_hex(rnd, sizeof(rnd), tag,
	    sizeof(tag)) != 0) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_CRYPTO, "no random bytes");
	}
	if ((r = join(s, dir, name, tag, tmp, sizeof(tmp))) != 0) {
		return r;
	}
	memcpy(tag + TMP_TAG_LEN, ".old", 5);
	if ((r = join(s, dir, name, tag, old, sizeof(old))) != 0 ||
	    (r = create_excl(s, tmp, 0, p->mode, &f)) != 0) {
		return r;
	}
	r = write_all(s, f, p);
	r = close_file(s, f, r);
	if (r == 0) {
		r = rename_in(s, tmp, old, p->path, atomic);
	}
	if (r != 0) {
		undo(s, tmp);
	}
	return r;
}

/* At the end of an existing file, or of a new one (ssh_sftp.h). */
static int write_append(struct ssh_sftp *s, const struct ssh_sftp_put *p, const char *target)
{
	sftp_file f = NULL;
	int r;

	if ((r = sftp_step(s)) != 0) {
		return r;
	}
	if ((f = sftp_open(s->sftp, target, O_WRONLY | O_APPEND, 0)) == NULL) {
		r = sftp_failed(s, "open");
		if (r != ZT_ERR_NOT_FOUND || (r = create_excl(s, target, O_APPEND, p->mode,
		    &f)) != 0) {
			return r;
		}
	}
	r = write_all(s, f, p);
	return close_file(s, f, r);
}

int ssh_sftp_write(struct ssh_sftp *s, const struct ssh_sftp_put *p, int *atomic)
{
	char dir[SSH_SFTP_PATH_MAX + 1];
	const char *slash = p != NULL && p->path != NULL ? strrchr(p->path, '/') : NULL;
	const char *name = slash != NULL ? slash + 1 : NULL;
	sftp_file f = NULL;
	int r;

	*atomic = 0;
	if (name == NULL || p->path[0] != '/' || strlen(p->path) > SSH_SFTP_PATH_MAX ||
	    name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    (p->data == NULL && p->n > 0) || (p->source != NULL && p->n > 0) ||
	    (p->flags & SSH_SFTP_APPEND && p->flags & SSH_SFTP_CREATE_ONLY)) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "bad write request");
	}
	snprintf(dir, sizeof(dir), "%.*s", slash == p->path ? 1 : (int)(slash - p->path), p->path);
	if (p->flags & SSH_SFTP_APPEND) {
		return write_append(s, p, p->path);
	}
	if (!(p->flags & SSH_SFTP_CREATE_ONLY)) {
		return write_replace(s, p, dir, name, atomic);
	}
	if ((r = create_excl(s, p->path, 0, p->mode, &f)) != 0) {
		return r;
	}
	r = close_file(s, f, write_all(s, f, p));
	if (r != 0) {
		undo(s, p->path);
	}
	return r;
}

/* ---- listing ---- */

/* The smallest names after a cursor, sorted, at most limit of them. */
struct page {
	struct ssh_sftp_entry *e;
	size_t n, limit;
	int more;
};

/* Takes a copy of name into the page if it belongs there. */
static int page_add(struct page *pg, const char *name, const struct ssh_sftp_attr *a)
{
	size_t lo = 0, hi = pg->n, mid;
	char *copy = NULL;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (strcmp(pg->e[mid].name, name) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (pg->n == pg->limit) {
		pg->more = 1;
		if (lo == pg->n) {
			return 0;
		}
		free(pg->e[pg->n - 1].name);
		pg->n--;
	}
	if ((copy = strdup(name)) == NULL) {
		return ZT_ERR_NOMEM;
	}
	memmove(&pg->e[lo + 1], &pg->e[lo], (pg->n - lo) * sizeof(pg->e[0]));
	pg->e[lo].name = copy;
	pg->e[lo].attr = *a;
	pg->n++;
	return 0;
}

/* Reads the open directory d to its end into pg. */
static int read_dir(struct ssh_sftp *s, sftp_dir d, const char *after, struct page *pg)
{
	struct ssh_sftp_attr a;
	sftp_attributes at = NULL;
	size_t scanned = 0;
	int r;

	for (;;) {
		if ((r = sftp_step(s)) != 0) {
			return r;
		}
		if ((at = sftp_readdir(s->sftp, d)) == NULL) {
			return sftp_dir_eof(d) ? 0 : sftp_failed(s, "readdir");
		}
		if (++scanned > SSH_SFTP_LIST_SCAN_MAX) {
			r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_TOO_LARGE, "the directory holds more "
			    "than %d entries", SSH_SFTP_LIST_SCAN_MAX);
		} else if (at->name == NULL || at->name[0] == '\0' || strchr(at->name, '/') != NULL ||
		    strlen(at->name) > SSH_SFTP_NAME_MAX) {
			r = sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_IO, "readdir: the host sent a bad "
			    "name");
		} else if (strcmp(at->name, ".") != 0 && strcmp(at->name, "..") != 0 &&
		    (after == NULL || strcmp(at->name, after) > 0)) {
			sftp_attr_from(at, &a);
			if ((r = page_add(pg, at->name, &a)) != 0) {
				r = nomem(s);
			}
		}
		sftp_attributes_free(at);
		if (r != 0) {
			return r;
		}
	}
}

int ssh_sftp_list(struct ssh_sftp *s, const char *dir, const char *after, size_t limit,
    struct ssh_sftp_entry **out, size_t *n, int *more)
{
	struct page pg = { NULL, 0, limit, 0 };
	sftp_dir d = NULL;
	int r;

	*out = NULL;
	*n = 0;
	*more = 0;
	if (limit == 0 || dir == NULL) {
		return sftp_fail(s, SSH_EXEC_ERROR, ZT_ERR_INVALID, "bad list request");
	}
	if ((pg.e = calloc(limit, sizeof(*pg.e))) == NULL) {
		return nomem(s);
	}
	if ((r = sftp_step(s)) != 0 || (d = sftp_opendir(s->sftp, dir)) == NULL) {
		r = r != 0 ? r : sftp_failed(s, "opendir");
		ssh_sftp_entries_free(pg.e, 0);
		return r;
	}
	r = read_dir(s, d, after, &pg);
	if (s->dead) {
		sftp_closedir(d);
	} else if (sftp_closedir(d) != 0 && r == 0) {
		r = sftp_failed(s, "closedir");
	}
	if (r != 0) {
		ssh_sftp_entries_free(pg.e, pg.n);
		return r;
	}
	*out = pg.e;
	*n = pg.n;
	*more = pg.more;
	return 0;
}

void ssh_sftp_entries_free(struct ssh_sftp_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e != NULL && i < n; i++) {
		free(e[i].name);
	}
	free(e);
}
