/*
 * brk_run.h - one `ztbroker serve` at a time per data directory, and a
 * record of a run that did not stop cleanly.
 *
 * D/serve.lock (0600) is held with flock(2) while serve runs and holds the
 * seq of the last audit event before the run began serving; when serve
 * stops through its own shutdown (every worker finished and audited its
 * call), the file is emptied. At the next start:
 *   - held by a live process: another serve uses this data directory, and
 *     this one refuses to start;
 *   - not empty: the previous run ended without its shutdown (kill -9, a
 *     crash, a power cut): aud_recover() writes broker.recover and an
 *     "interrupted" outcome for each call it left open, reading only the
 *     events after the seq the file holds;
 *   - empty or absent: nothing to recover.
 * Either way, approval requests a previous run left pending are ended as
 * withdrawn (no call waits for them any more; approval.withdrawn).
 */
#ifndef ZT_BRK_RUN_H
#define ZT_BRK_RUN_H

#include <stdint.h>

struct store;
struct brk_run;

#define BRK_RUN_FILE "serve.lock"

/* Call after the data directory is open and before anything can take a
 * request. On 0, *out holds the lock until brk_run_end(). ZT_ERR_EXISTS:
 * another serve holds it; other ZT_ERR_*: the file or the audit log could
 * not be used. Failures are logged; serve must not go on. */
int brk_run_begin(const char *dir, struct store *st, int64_t now_ms, struct brk_run **out);
/* After serve's own shutdown: marks the stop clean and releases the lock.
 * NULL is a no-op. */
void brk_run_end(struct brk_run *run);

#endif
