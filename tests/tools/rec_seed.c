/*
 * rec_seed.c - a test-only program that records a session the way the
 * broker's interactive sessions do (broker/brk_recordings.h), so the
 * end-to-end tests of recordings can run before sessions exist over
 * WebSocket: it opens the broker's data directory (SQLite WAL: the broker
 * may be serving meanwhile, as with `ztbroker admin`), starts a recording,
 * writes output (and one input event, never played), ends it and records
 * the session's end event with the outcome brk_recordings_finish filled.
 *
 *   rec_seed DATADIR ACTOR HOST LOGIN TEXT...
 *       each TEXT is one output event, 50 ms after the one before
 *
 * Prints {"id": ID, "seq": SEQ} (the end event's seq) on stdout.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_datadir.h"
#include "broker/brk_recordings.h"
#include "common/err.h"
#include "common/log.h"
#include "store/store.h"

/* Writes the events, ends the recording and puts its end on record. */
static int record_session(struct brk *b, const struct brk_rec_meta *m, char **texts, int n,
    char id[BRK_REC_ID_LEN + 1])
{
	struct aud_rec *rec = NULL;
	cJSON *outcome = NULL;
	int64_t ms = 0;
	int r;

	if ((r = brk_recordings_start(b, m, &rec, id)) != 0) {
		return r;
	}
	(void)aud_rec_input(rec, ms, "secret typed\r", 13);
	for (int i = 0; i < n && r == 0; i++) {
		ms += 50;
		r = aud_rec_output(rec, ms, texts[i], strlen(texts[i]));
	}
	outcome = cJSON_CreateObject();
	r = brk_recordings_finish(b, id, rec, 0, outcome);
	if (r == 0 && outcome == NULL) {
		r = ZT_ERR_NOMEM;
	}
	if (r == 0) {
		r = aud_record(b->store, NULL, brk_now_ms(), &(struct aud_event){
		    .type = "tool.ssh_shell.result", .actor = m->actor, .source = "local",
		    .outcome = "success", .details = outcome });
	}
	cJSON_Delete(outcome);
	return r;
}

int main(int argc, char **argv)
{
	struct brk_datadir dd;
	struct brk b;
	char id[BRK_REC_ID_LEN + 1] = "";
	int64_t seq = 0;
	int r;

	if (argc < 6) {
		fprintf(stderr, "usage: rec_seed DATADIR ACTOR HOST LOGIN TEXT...\n");
		return 2;
	}
	log_init("rec_seed", ZT_LOG_WARN);
	if (brk_datadir_open(argv[1], &dd) != 0) {
		return 1;
	}
	memset(&b, 0, sizeof(b));
	b.store = dd.store;
	b.roles = dd.roles;
	b.recordings_dir = dd.recordings;
	b.now = brk_now;
	r = record_session(&b, &(struct brk_rec_meta){ .actor = argv[2], .host = argv[3],
	    .login = argv[4], .tool = "ssh_shell", .call_id = "seed", .cols = 80, .rows = 24,
	    .term = "xterm-256color", .record_input = 1 }, argv + 5, argc - 5, id);
	if (r == 0) {
		r = store_audit_head(dd.store, &seq);
	}
	brk_datadir_close(&dd);
	if (r != 0) {
		fprintf(stderr, "rec_seed: %s\n", zt_strerror(r));
		return 1;
	}
	printf("{\"id\": \"%s\", \"seq\": %lld}\n", id, (long long)seq);
	return 0;
}
