/*
 * brk_recordings.c - starting and ending a session's recording (file and
 * row), and who may read one (brk_recordings.h).
 */
#include "broker/brk_recordings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_identity.h"
#include "broker/brk_policy.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"

_Static_assert(BRK_REC_ID_LEN == STORE_REC_ID_LEN, "one id length for files and rows");

/* Room for "<recordings dir>/<id>.cast". */
#define REC_PATH_MAX 4096

/* Makes the recordings directory 0700 if it is missing; refuses anything
 * but a directory there (a symbolic link included). */
static int make_dir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("recordings: cannot create %s: %s", dir, strerror(errno));
		return ZT_ERR_IO;
	}
	if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		log_error("recordings: %s is not a directory", dir);
		return ZT_ERR_IO;
	}
	return 0;
}

int brk_recordings_save(struct brk *b, const char *name, const char *ext, const void *p,
    size_t n)
{
	char path[REC_PATH_MAX];
	int fd = -1, r;

	if (b->recordings_dir == NULL || name[0] == '\0' ||
	    strspn(name, "0123456789abcdefghijklmnopqrstuvwxyz") != strlen(name) ||
	    strspn(ext, ".0123456789abcdefghijklmnopqrstuvwxyz") != strlen(ext) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s%s", b->recordings_dir, name, ext) >=
	    sizeof(path)) {
		return ZT_ERR_INVALID;
	}
	if ((r = make_dir(b->recordings_dir)) != 0) {
		return r;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		log_error("recordings: cannot create %s: %s", path, strerror(errno));
		return errno == EEXIST ? ZT_ERR_EXISTS : ZT_ERR_IO;
	}
	r = net_write_all(fd, p, n) == 0 && fsync(fd) == 0 ? 0 : ZT_ERR_IO;
	if (close(fd) != 0) {
		r = ZT_ERR_IO;
	}
	if (r != 0) {
		log_error("recordings: cannot write %s: %s", path, strerror(errno));
		unlink(path);
	}
	return r;
}

static int meta_valid(const struct brk_rec_meta *m)
{
	return m != NULL && m->actor != NULL && m->host != NULL && m->login != NULL &&
	    m->tool != NULL && m->cols >= 1 && m->cols <= AUD_REC_DIM_MAX && m->rows >= 1 &&
	    m->rows <= AUD_REC_DIM_MAX;
}

/* The row of a new recording. ZT_ERR_INVALID when a field does not fit. */
static int make_row(const struct brk_rec_meta *m, const char *id, int64_t now,
    struct store_recording *row)
{
	const char *call_id = m->call_id != NULL ? m->call_id : "";

	memset(row, 0, sizeof(*row));
	if (strlen(m->actor) >= sizeof(row->actor) || strlen(m->host) >= sizeof(row->host) ||
	    strlen(m->login) >= sizeof(row->login) || strlen(m->tool) >= sizeof(row->tool) ||
	    strlen(call_id) >= sizeof(row->call_id)) {
		return ZT_ERR_INVALID;
	}
	snprintf(row->id, sizeof(row->id), "%s", id);
	snprintf(row->actor, sizeof(row->actor), "%s", m->actor);
	snprintf(row->host, sizeof(row->host), "%s", m->host);
	snprintf(row->login, sizeof(row->login), "%s", m->login);
	snprintf(row->tool, sizeof(row->tool), "%s", m->tool);
	snprintf(row->call_id, sizeof(row->call_id), "%s", call_id);
	row->started_at = now;
	row->cols = m->cols;
	row->rows = m->rows;
	return 0;
}

/* The header: "alice@web1 as ubuntu" (the actor's name without its kind). */
static void make_head(const struct brk_rec_meta *m, int64_t now, struct aud_rec_head *h)
{
	const char *colon = strchr(m->actor, ':');

	memset(h, 0, sizeof(*h));
	h->width = m->cols;
	h->height = m->rows;
	h->timestamp = now;
	snprintf(h->term, sizeof(h->term), "%s", m->term != NULL ? m->term : "");
	snprintf(h->title, sizeof(h->title), "%s@%s as %s",
	    colon != NULL ? colon + 1 : m->actor, m->host, m->login);
}

/* A fresh random id. */
static int new_id(char id[BRK_REC_ID_LEN + 1])
{
	uint8_t raw[BRK_REC_ID_LEN / 2];
	int r;

	if ((r = crypto_random(raw, sizeof(raw))) != 0) {
		return r;
	}
	return crypto_hex(raw, sizeof(raw), id, BRK_REC_ID_LEN + 1);
}

int brk_recordings_start(struct brk *b, const struct brk_rec_meta *m, struct aud_rec **rec,
    char id[BRK_REC_ID_LEN + 1])
{
	struct store_recording row;
	struct aud_rec_head h;
	char path[REC_PATH_MAX];
	int64_t now = b->now();
	int r;

	*rec = NULL;
	id[0] = '\0';
	if (!meta_valid(m) || b->recordings_dir == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((r = new_id(id)) != 0 || (r = make_row(m, id, now, &row)) != 0 ||
	    (r = aud_rec_path(b->recordings_dir, id, path, sizeof(path))) != 0 ||
	    (r = make_dir(b->recordings_dir)) != 0) {
		goto out;
	}
	make_head(m, now, &h);
	if ((r = aud_rec_open(path, &h, rec)) != 0) {
		log_error("recordings: cannot create %s: %s", path, zt_strerror(r));
		goto out;
	}
	if ((r = store_recording_add(b->store, &row)) != 0) {
		log_error("recordings: cannot add the row of %s: %s", id, zt_strerror(r));
		(void)aud_rec_close(*rec, NULL, NULL);
		*rec = NULL;
		(void)unlink(path);
	}
out:
	if (r != 0) {
		id[0] = '\0';
	}
	return r;
}

/* outcome's "recording": what the end event binds, or why it binds nothing. */
static void add_outcome(cJSON *outcome, const char *id, int r, uint64_t bytes, const char *sha)
{
	cJSON *o;

	if (outcome == NULL || (o = cJSON_AddObjectToObject(outcome, "recording")) == NULL ||
	    cJSON_AddStringToObject(o, "id", id) == NULL) {
		return;
	}
	if (r != 0) {
		(void)cJSON_AddStringToObject(o, "error", zt_strerror(r));
		return;
	}
	(void)cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	(void)cJSON_AddStringToObject(o, "sha256", sha);
}

int brk_recordings_finish(struct brk *b, const char *id, struct aud_rec *rec, int exit_status,
    cJSON *outcome)
{
	char sha[CRYPTO_SHA256_HEX_LEN + 1] = "";
	uint64_t bytes = 0;
	int r, s;

	if (id == NULL || !aud_rec_id_valid(id)) {
		(void)aud_rec_close(rec, NULL, NULL);
		return ZT_ERR_INVALID;
	}
	r = rec != NULL ? aud_rec_close(rec, &bytes, sha) : ZT_ERR_INVALID;
	if (r != 0) {
		log_error("recordings: recording %s failed: %s", id, zt_strerror(r));
		sha[0] = '\0';
	}
	s = store_recording_end(b->store, id, b->now(), (int64_t)bytes, sha, exit_status);
	if (s != 0) {
		log_error("recordings: cannot end the row of %s: %s", id, zt_strerror(s));
	}
	add_outcome(outcome, id, r, bytes, sha);
	return r;
}

int brk_recordings_may_read(struct brk *b, const struct brk_identity *who,
    const struct store_recording *r, int *err)
{
	int yes = 0, e;

	if (err != NULL) {
		*err = 0;
	}
	if (strcmp(r->actor, who->actor) == 0) {
		return 1;
	}
	e = brk_policy_auditor(b->roles, who->kind, who->roles, &yes);
	if (err != NULL) {
		*err = e;
	}
	return e == 0 && yes;
}

int brk_recordings_open(struct brk *b, const char *id, int *fd, uint64_t *size)
{
	char path[REC_PATH_MAX];
	struct stat sb;
	int r;

	*fd = -1;
	*size = 0;
	if (b->recordings_dir == NULL ||
	    (r = aud_rec_path(b->recordings_dir, id, path, sizeof(path))) != 0) {
		return ZT_ERR_NOT_FOUND;
	}
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)) < 0) {
		return errno == ENOENT ? ZT_ERR_NOT_FOUND : ZT_ERR_IO;
	}
	if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return ZT_ERR_IO;
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

/* ---- recovery ---- */

/* Ends one running recording as its file is and puts it on record. */
static int recover_one(struct store *st, const char *dir, const struct store_recording *rec,
    int64_t now)
{
	char path[REC_PATH_MAX], sha[CRYPTO_SHA256_HEX_LEN + 1] = "";
	uint64_t bytes = 0;
	cJSON *d = cJSON_CreateObject();
	int h, r;

	h = aud_rec_path(dir, rec->id, path, sizeof(path));
	if (h == 0) {
		h = aud_rec_hash(path, &bytes, sha);
	}
	if ((r = store_recording_end(st, rec->id, now, (int64_t)bytes, h == 0 ? sha : "", -1)) != 0) {
		cJSON_Delete(d);
		return r;
	}
	if (d == NULL) {
		return ZT_ERR_NOMEM;
	}
	add_outcome(d, rec->id, h, bytes, sha);
	cJSON_AddStringToObject(d, "call_id", rec->call_id);
	cJSON_AddStringToObject(d, "host", rec->host);
	cJSON_AddStringToObject(d, "login", rec->login);
	cJSON_AddStringToObject(d, "tool", rec->tool);
	r = aud_record(st, NULL, now * 1000, &(struct aud_event){ .type = "recording.recovered",
	    .actor = rec->actor, .source = "local", .outcome = "success",
	    .reason = "the broker stopped before the session ended", .details = d });
	cJSON_Delete(d);
	log_warn("recordings: %s was left running by a broker that stopped; bound as it is "
	    "(%s)", rec->id, h == 0 ? "recording.recovered" : zt_strerror(h));
	return r;
}

struct recover_arg {
	struct store *st;
	const char *dir;
	int64_t now;
	int first;                      /* the first error; the others are still tried */
};

static int recover_row(const struct store_recording *r, void *arg)
{
	struct recover_arg *ra = arg;
	int e = recover_one(ra->st, ra->dir, r, ra->now);

	ra->first = ra->first != 0 ? ra->first : e;
	return 0;
}

int brk_recordings_recover(struct store *st, const char *dir, int64_t now)
{
	/* The rows are read before the first call: recover_row may write. */
	const struct store_recording_filter f = { .running = 1, .limit = STORE_REC_LIST_MAX };
	struct recover_arg ra = { st, dir, now, 0 };
	int r = store_recording_list(st, &f, recover_row, &ra);

	return r != 0 ? r : ra.first;
}
