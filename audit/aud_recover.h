/*
 * aud_recover.h - after an unclean stop (kill -9, a crash, a power cut):
 * saying so in the audit log, and closing the calls, background jobs and
 * file transfer links that it shows as started but never finished.
 *
 * A call is the run of events that share a details.call_id. It is open when
 * its decision event (outcome "allowed") has no later event of the same
 * call_id: the action may have run, and nobody recorded how it ended. The
 * outcome event of a call whose decision is of type T is of type "T.result"
 * (tool.ssh_exec -> tool.ssh_exec.result). A background job is the run of
 * "job.*" events that share a details.job_id: open when its "job.start"
 * has no later "job.end". A transfer link (broker/brk_xfer.h) is open from
 * the outcome event of the call that offered it (details.link_id) until a
 * "file.transfer" event of the same link_id.
 */
#ifndef ZT_AUD_RECOVER_H
#define ZT_AUD_RECOVER_H

#include <stdint.h>

struct store;

#define AUD_RECOVER_CALLS_MAX 1024 /* calls tracked open at once during a scan */
#define AUD_CALL_ID_MAX 64         /* bytes of a call_id that is tracked */

struct aud_recover_result {
	int64_t scanned;    /* events read */
	int64_t closed;     /* open calls closed with an "interrupted" outcome */
	int64_t jobs_closed; /* open jobs closed likewise */
	int64_t links_closed; /* open transfer links closed likewise */
	int64_t unchecked;  /* decisions not tracked: more than AUD_RECOVER_CALLS_MAX
	                     * were open at once (some may have ended) */
};

/* Reads the events after after_seq (the caller keeps where the run that
 * stopped uncleanly began, so the scan covers that run and nothing older),
 * then appends:
 *   - one "broker.recover" event (actor "system", source "local", outcome
 *     "success") with reason (borrowed), after_seq, what was scanned, and
 *     the call_ids, job_ids and link_ids it closes;
 *   - for each open call, in order, "T.result" with outcome "interrupted"
 *     and the decision's actor and source; its details are the decision's
 *     (without the command text, whose command_sha256 and command_bytes
 *     stay), plus status "interrupted", allowed_seq (the decision event,
 *     which holds the whole command) and a reason;
 *   - for each open job, "job.end" with outcome "interrupted", the
 *     job.start's actor, source and details, plus status "interrupted",
 *     start_seq and a reason (the command may still run on the host: the
 *     broker's end closed its SSH connection, which sshd does not turn
 *     into a signal for a command without a terminal);
 *   - for each open link, "file.transfer" with outcome "interrupted", the
 *     offering call's outcome's actor, source and details, plus status
 *     "interrupted", result_seq and a reason.
 * Running it twice over the same events closes nothing twice: the first
 * run's outcomes close those calls. res may be NULL. 0 or a negative
 * ZT_ERR_*. */
int aud_recover(struct store *st, int64_t now_ms, int64_t after_seq, const char *reason,
    struct aud_recover_result *res);

#endif
