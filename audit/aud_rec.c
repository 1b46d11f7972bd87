/*
 * aud_rec.c - session recordings in asciicast v2 (aud_rec.h): the writer,
 * with its UTF-8 carry and running SHA-256, and the strict line readers.
 */
#include "audit/aud_rec.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/json.h"

/* The bytes of a character a stream has begun and not finished. */
struct carry {
	uint8_t b[4];
	size_t n;
};

struct aud_rec {
	int fd;
	int err;                        /* the first failure; then every call fails */
	int64_t last_ms;
	uint64_t bytes;
	struct crypto_sha256_ctx sha;
	struct carry out, in;
};

/* ---- writing ---- */

static int put(struct aud_rec *r, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && r->err == 0) {
		if ((w = write(r->fd, p, n)) < 0) {
			if (errno != EINTR) {
				r->err = ZT_ERR_IO;
			}
			continue;
		}
		crypto_sha256_update(&r->sha, p, (size_t)w);
		r->bytes += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
	return r->err;
}

/* One JSON value as a line (v taken). */
static int put_line(struct aud_rec *r, cJSON *v)
{
	char *text = v != NULL ? cJSON_PrintUnformatted(v) : NULL;
	int rc = ZT_ERR_NOMEM;

	if (text != NULL && (rc = put(r, text, strlen(text))) == 0) {
		rc = put(r, "\n", 1);
	}
	if (text == NULL && r->err == 0) {
		r->err = rc;
	}
	free(text);
	cJSON_Delete(v);
	return r->err != 0 ? r->err : rc;
}

/* 1 if p[0..n) (n < 4) is the start of a character that more bytes could
 * finish: a lead byte of a longer sequence, then continuation bytes. */
static int unfinished(const uint8_t *p, size_t n)
{
	size_t want = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 :
	    p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;

	if (want == 0 || n >= want) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
	}
	return 1;
}

/* c's kept bytes then p[0..n) as UTF-8 text (owned, NUL-terminated; a
 * NUL byte becomes U+FFFD too, as a C string cannot hold it), keeping an
 * unfinished last character in c. NULL on ENOMEM. */
static char *to_text(struct carry *c, const uint8_t *p, size_t n)
{
	uint8_t *all = malloc(c->n + n + 1);
	char *out = NULL;
	size_t total = c->n + n, i = 0, o = 0, k;

	if (all == NULL || (out = malloc(3 * total + 1)) == NULL) {
		free(all);
		return NULL;
	}
	memcpy(all, c->b, c->n);
	if (n > 0) {
		memcpy(all + c->n, p, n);
	}
	c->n = 0;
	while (i < total) {
		if (all[i] != 0 && (k = json_utf8_seq(all + i, total - i)) > 0) {
			memcpy(out + o, all + i, k);
			o += k;
			i += k;
		} else if (total - i < 4 && unfinished(all + i, total - i)) {
			memcpy(c->b, all + i, total - i);
			c->n = total - i;
			break;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	free(all);
	return out;
}

/* [seconds, code, text] as a line. */
static int put_event(struct aud_rec *r, int64_t ms, const char *code, const char *text)
{
	cJSON *ev = cJSON_CreateArray();

	if (ms < r->last_ms) {
		ms = r->last_ms;            /* time never runs back in a recording */
	}
	r->last_ms = ms;
	if (ev != NULL && (!cJSON_AddItemToArray(ev, cJSON_CreateNumber((double)ms / 1000.0)) ||
	    !cJSON_AddItemToArray(ev, cJSON_CreateString(code)) ||
	    !cJSON_AddItemToArray(ev, cJSON_CreateString(text)))) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	return put_line(r, ev);
}

static int put_bytes(struct aud_rec *r, int64_t ms, const char *code, struct carry *c,
    const void *p, size_t n)
{
	char *text;
	int rc;

	if (r->err != 0) {
		return r->err;
	}
	if ((text = to_text(c, p, n)) == NULL) {
		return r->err = ZT_ERR_NOMEM;
	}
	rc = text[0] != '\0' ? put_event(r, ms, code, text) : 0;
	free(text);
	return rc;
}

int aud_rec_output(struct aud_rec *r, int64_t ms, const void *p, size_t n)
{
	return put_bytes(r, ms, "o", &r->out, p, n);
}

int aud_rec_input(struct aud_rec *r, int64_t ms, const void *p, size_t n)
{
	return put_bytes(r, ms, "i", &r->in, p, n);
}

int aud_rec_resize(struct aud_rec *r, int64_t ms, int width, int height)
{
	char size[32];

	if (r->err != 0) {
		return r->err;
	}
	if (width < 1 || width > AUD_REC_DIM_MAX || height < 1 || height > AUD_REC_DIM_MAX) {
		return ZT_ERR_INVALID;
	}
	snprintf(size, sizeof(size), "%dx%d", width, height);
	return put_event(r, ms, "r", size);
}

/* 1 if s is a header string zt writes: UTF-8, no control bytes. */
static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || !json_utf8_text(s, n)) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			return 0;
		}
	}
	return 1;
}

int aud_rec_open(const char *path, const struct aud_rec_head *h, struct aud_rec **out)
{
	struct aud_rec *r;
	cJSON *head, *env;
	int rc;

	*out = NULL;
	if (h->width < 1 || h->width > AUD_REC_DIM_MAX || h->height < 1 ||
	    h->height > AUD_REC_DIM_MAX || !printable(h->term, AUD_REC_TERM_MAX) ||
	    !printable(h->title, AUD_REC_TITLE_MAX)) {
		return ZT_ERR_INVALID;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || crypto_sha256_begin(&r->sha) != 0) {
		free(r);
		return ZT_ERR_NOMEM;
	}
	if ((r->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		rc = errno == EEXIST ? ZT_ERR_EXISTS : ZT_ERR_IO;
		crypto_sha256_end(&r->sha, NULL);
		free(r);
		return rc;
	}
	if ((head = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(head, "version", 2);
		cJSON_AddNumberToObject(head, "width", h->width);
		cJSON_AddNumberToObject(head, "height", h->height);
		cJSON_AddNumberToObject(head, "timestamp", (double)h->timestamp);
		if (h->term[0] != '\0' && (env = cJSON_AddObjectToObject(head, "env")) != NULL) {
			cJSON_AddStringToObject(env, "TERM", h->term);
		}
		if (h->title[0] != '\0') {
			cJSON_AddStringToObject(head, "title", h->title);
		}
	}
	if ((rc = put_line(r, head)) != 0) {
		(void)aud_rec_close(r, NULL, NULL);
		(void)unlink(path);
		return rc;
	}
	*out = r;
	return 0;
}

int aud_rec_close(struct aud_rec *r, uint64_t *bytes, char sha256[CRYPTO_SHA256_HEX_LEN + 1])
{
	int rc;

	if (r == NULL) {
		return 0;
	}
	/* An unfinished character at the end is no character. */
	if (r->out.n > 0 && r->err == 0) {
		(void)put_event(r, r->last_ms, "o", "\xef\xbf\xbd");
	}
	if (r->in.n > 0 && r->err == 0) {
		(void)put_event(r, r->last_ms, "i", "\xef\xbf\xbd");
	}
	if (r->err == 0 && fsync(r->fd) != 0) {
		r->err = ZT_ERR_IO;
	}
	if (close(r->fd) != 0 && r->err == 0) {
		r->err = ZT_ERR_IO;
	}
	if (bytes != NULL) {
		*bytes = r->bytes;
	}
	crypto_sha256_end(&r->sha, sha256);
	rc = r->err;
	free(r);
	return rc;
}

/* ---- reading ---- */

int aud_rec_parse_header(const char *p, size_t n, struct aud_rec_head *h)
{
	cJSON *v = NULL, *env;
	const char *term = NULL, *title = NULL;
	int64_t w, hh, ts = 0, version;
	int rc = ZT_ERR_INVALID;

	memset(h, 0, sizeof(*h));
	if (json_parse(p, n, AUD_REC_LINE_MAX, JSON_DEFAULT_DEPTH, &v) != 0 || !cJSON_IsObject(v) ||
	    json_get_int(v, "version", 2, 2, &version) != 0 ||
	    json_get_int(v, "width", 1, AUD_REC_DIM_MAX, &w) != 0 ||
	    json_get_int(v, "height", 1, AUD_REC_DIM_MAX, &hh) != 0) {
		goto out;
	}
	if (json_get_int_opt(v, "timestamp", 0, INT64_C(1) << 40, 0, &ts) != 0) {
		goto out;
	}
	if ((env = cJSON_GetObjectItemCaseSensitive(v, "env")) != NULL && cJSON_IsObject(env) &&
	    json_get_str_opt(env, "TERM", AUD_REC_TERM_MAX, 1, NULL, &term) != 0) {
		goto out;
	}
	if (json_get_str_opt(v, "title", AUD_REC_TITLE_MAX, 1, NULL, &title) != 0) {
		goto out;
	}
	h->width = (int)w;
	h->height = (int)hh;
	h->timestamp = ts;
	snprintf(h->term, sizeof(h->term), "%s", term != NULL ? term : "");
	snprintf(h->title, sizeof(h->title), "%s", title != NULL ? title : "");
	rc = 0;
out:
	cJSON_Delete(v);
	return rc;
}

int aud_rec_parse_event(const char *p, size_t n, cJSON **hold, struct aud_rec_event *ev)
{
	cJSON *v = NULL, *t, *code, *data;

	*hold = NULL;
	memset(ev, 0, sizeof(*ev));
	if (json_parse(p, n, AUD_REC_LINE_MAX, JSON_DEFAULT_DEPTH, &v) != 0 || !cJSON_IsArray(v) ||
	    cJSON_GetArraySize(v) != 3 || !cJSON_IsNumber(t = cJSON_GetArrayItem(v, 0)) ||
	    !isfinite(t->valuedouble) || t->valuedouble < 0 ||
	    !cJSON_IsString(code = cJSON_GetArrayItem(v, 1)) ||
	    !cJSON_IsString(data = cJSON_GetArrayItem(v, 2)) ||
	    strlen(code->valuestring) != 1 || strchr("oirm", code->valuestring[0]) == NULL) {
		cJSON_Delete(v);
		return ZT_ERR_INVALID;
	}
	ev->t = t->valuedouble;
	ev->code = code->valuestring[0];
	ev->data = data->valuestring;
	ev->len = strlen(data->valuestring);
	*hold = v;
	return 0;
}

/* ---- where recordings live ---- */

int aud_rec_id_valid(const char *id)
{
	return id != NULL && strlen(id) == AUD_REC_ID_LEN &&
	    strspn(id, "0123456789abcdef") == AUD_REC_ID_LEN;
}

int aud_rec_path(const char *dir, const char *id, char *out, size_t outsz)
{
	int n;

	if (dir == NULL || !aud_rec_id_valid(id)) {
		return ZT_ERR_INVALID;
	}
	n = snprintf(out, outsz, "%s/%s.cast", dir, id);
	return n < 0 || (size_t)n >= outsz ? ZT_ERR_TOO_LARGE : 0;
}

/* The SHA-256 (hex) of what is left to read on fd, and its byte count. */
static int hash_fd(int fd, char hex[CRYPTO_SHA256_HEX_LEN + 1], uint64_t *n)
{
	struct crypto_sha256_ctx c;
	char chunk[65536];
	ssize_t got;

	*n = 0;
	if (crypto_sha256_begin(&c) != 0) {
		return ZT_ERR_NOMEM;
	}
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			crypto_sha256_end(&c, NULL);
			return ZT_ERR_IO;
		}
		crypto_sha256_update(&c, chunk, (size_t)got);
		*n += (uint64_t)got;
	}
	crypto_sha256_end(&c, hex);
	return 0;
}

int aud_rec_hash(const char *path, uint64_t *bytes, char sha256[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct stat sb;
	int fd, r;

	*bytes = 0;
	sha256[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return errno == ENOENT ? ZT_ERR_NOT_FOUND : errno == ELOOP ? ZT_ERR_TAMPERED :
		    ZT_ERR_IO;
	}
	r = fstat(fd, &sb) != 0 ? ZT_ERR_IO : !S_ISREG(sb.st_mode) ? ZT_ERR_TAMPERED :
	    hash_fd(fd, sha256, bytes);
	close(fd);
	return r;
}

int aud_rec_check(const char *path, uint64_t bytes, const char *sha256)
{
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	struct stat sb;
	uint64_t n = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return errno == ENOENT ? ZT_ERR_NOT_FOUND : errno == ELOOP ? ZT_ERR_TAMPERED :
		    ZT_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {
		r = ZT_ERR_IO;
	} else if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != bytes) {
		r = ZT_ERR_TAMPERED;
	} else if ((r = hash_fd(fd, hex, &n)) == 0) {
		r = n == bytes && sha256 != NULL && strcmp(hex, sha256) == 0 ? 0 : ZT_ERR_TAMPERED;
	}
	close(fd);
	return r;
}
