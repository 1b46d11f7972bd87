/*
 * brk_run.c - the serve lock and recovery after an unclean stop
 * (brk_run.h).
 */
#include "broker/brk_run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit/aud_event.h"
#include "audit/aud_recover.h"
#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

#define RUN_TEXT_MAX 32 /* bytes of the file: a decimal seq and a newline */

struct brk_run {
	int fd;
	char path[4096];
};

/* What the file says about the previous run: 0 when it stopped cleanly
 * (empty), 1 with *seq when it did not, 2 when it did not and the seq is
 * unreadable (a crash while the file was being written at start). */
static int previous_run(int fd, int64_t *seq)
{
	char text[RUN_TEXT_MAX + 1], *end = NULL;
	ssize_t n = pread(fd, text, RUN_TEXT_MAX, 0);

	if (n <= 0) {
		return 0;
	}
	text[n] = '\0';
	errno = 0;
	*seq = strtoll(text, &end, 10);
	return errno != 0 || end == text || *end != '\n' || *seq < 0 ? 2 : 1;
}

/* Writes the audit head into the file, durably, before serving starts. */
static int record_start(struct brk_run *run, struct store *st)
{
	char text[RUN_TEXT_MAX];
	int64_t head;
	int n, r;

	if ((r = store_audit_head(st, &head)) != 0) {
		return r;
	}
	n = snprintf(text, sizeof(text), "%" PRId64 "\n", head);
	if (ftruncate(run->fd, 0) != 0 || pwrite(run->fd, text, (size_t)n, 0) != n ||
	    fsync(run->fd) != 0) {
		log_error("cannot write %s: %s", run->path, strerror(errno));
		return ZT_ERR_IO;
	}
	return 0;
}

static int recover(struct brk_run *run, struct store *st, int64_t now_ms)
{
	struct aud_recover_result res;
	int64_t seq = 0;
	int how = previous_run(run->fd, &seq), r;

	if (how == 0) {
		return 0;
	}
	/* An unreadable seq can only come from a crash while the file was
	 * written, before that run served anything: nothing to scan. */
	if (how == 2 && (r = store_audit_head(st, &seq)) != 0) {
		return r;
	}
	r = aud_recover(st, now_ms, seq, how == 1 ? "the previous run of ztbroker serve did not "
	    "stop cleanly" : "the previous run of ztbroker serve did not stop cleanly; "
	    BRK_RUN_FILE " was unreadable, so no call was checked", &res);
	if (r == 0) {
		log_warn("the previous run did not stop cleanly: %lld audit events checked; "
		    "calls without an outcome, now closed as interrupted: %lld; jobs "
		    "without an end, likewise: %lld; transfer links, likewise: %lld",
		    (long long)res.scanned, (long long)res.closed, (long long)res.jobs_closed,
		    (long long)res.links_closed);
	}
	return r;
}

/* No call waits at start: requests a previous run left pending are ended
 * (a crash skips the shutdown that withdraws them one by one). */
static int withdraw_pending(struct store *st, int64_t now_ms)
{
	static const char why[] = "the broker restarted: the held call ended with it";
	int64_t n = 0;
	cJSON *d;
	int r;

	if ((r = store_approval_end_pending(st, why, now_ms / 1000, &n)) != 0 || n == 0) {
		return r;
	}
	if ((d = cJSON_CreateObject()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddNumberToObject(d, "requests", (double)n);
	r = aud_record(st, NULL, now_ms, &(struct aud_event){ .type = "approval.withdrawn",
	    .actor = "broker", .source = "local", .outcome = "success", .reason = why,
	    .details = d });
	cJSON_Delete(d);
	log_warn("%lld held calls of the previous run withdrawn", (long long)n);
	return r;
}

/* Closes the file, which releases the lock; its contents stay. */
static void release(struct brk_run *run)
{
	if (run->fd >= 0) {
		close(run->fd);
	}
	free(run);
}

int brk_run_begin(const char *dir, struct store *st, int64_t now_ms, struct brk_run **out)
{
	struct brk_run *run = calloc(1, sizeof(*run));
	int r = ZT_ERR_IO;

	*out = NULL;
	if (run == NULL) {
		return ZT_ERR_NOMEM;
	}
	run->fd = -1;
	if ((size_t)snprintf(run->path, sizeof(run->path), "%s/%s", dir, BRK_RUN_FILE) >=
	    sizeof(run->path)) {
		log_error("data directory path too long");
		r = ZT_ERR_INVALID;
		goto fail;
	}
	if ((run->fd = open(run->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		log_error("cannot open %s: %s", run->path, strerror(errno));
		goto fail;
	}
	if (flock(run->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			log_error("another ztbroker serve is running on %s (it holds %s)", dir,
			    run->path);
			r = ZT_ERR_EXISTS;
		} else {
			log_error("cannot lock %s: %s", run->path, strerror(errno));
		}
		goto fail;
	}
	if ((r = recover(run, st, now_ms)) != 0 || (r = withdraw_pending(st, now_ms)) != 0 ||
	    (r = record_start(run, st)) != 0) {
		goto fail;
	}
	*out = run;
	return 0;
fail:
	release(run);
	return r;
}

void brk_run_end(struct brk_run *run)
{
	if (run == NULL) {
		return;
	}
	if (ftruncate(run->fd, 0) != 0 || fsync(run->fd) != 0) {
		log_error("cannot mark the stop clean in %s: %s", run->path, strerror(errno));
	}
	release(run);
}
