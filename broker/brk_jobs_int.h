/*
 * brk_jobs_int.h - what the two halves of the background jobs share:
 * brk_jobs.c keeps the registry, starts jobs, audits them and ends them;
 * brk_jobtools.c is the job tools (job_output, job_signal, job_list).
 * Nothing outside broker/brk_job*.c includes this file.
 */
#ifndef ZT_BRK_JOBS_INT_H
#define ZT_BRK_JOBS_INT_H

#include <pthread.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "broker/brk_gate.h"
#include "broker/brk_identity.h"
#include "broker/brk_jobs.h"
#include "broker/brk_sshconn.h"
#include "common/crypto.h"
#include "policy/pol_eval.h"
#include "store/store.h"

struct ssh_job;
struct ssh_job_status;

#define BRK_JOB_REASON_MAX (POL_RULE_MAX + 64)

struct brk_job {
	struct brk *b;
	char id[BRK_JOB_ID_LEN + 1];
	char actor[BRK_IDENTITY_KEY_MAX];
	char token_hash[STORE_HASH_HEX];
	char source[BRK_SOURCE_MAX];
	char call_id[BRK_GATE_CALL_ID_LEN + 1];
	char host[STORE_NAME_MAX + 1];
	char agent[STORE_NAME_MAX + 1];  /* host's, whose tunnel carries pc */
	char login[BRK_SSH_LOGIN_MAX + 1];
	char command_sha256[CRYPTO_SHA256_HEX_LEN + 1];
	char *command;
	int bot;
	int64_t started_at;         /* unix seconds */
	int64_t started_ms;         /* net_mono_ms time */
	int64_t limit_s;
	/* The chore's alone once started. */
	int64_t deadline_ms;
	int64_t generation;
	struct brk_pooled *pc;      /* the job's connection; closed after the end */
	struct ssh_job *sj;         /* NULL while the job starts (set under mu) */
	/* Under the registry's mu. */
	int refs;
	char reason[BRK_JOB_REASON_MAX];    /* why zt ended it; "" when it did not */
	int ended;
	int64_t ended_at;
	int64_t read_at;            /* a job_output returned its end and last byte */
	struct brk_job *next;
	struct brk_job *tmp;        /* the chore's and free's own lists */
};

struct brk_jobs {
	pthread_mutex_t mu;
	struct brk_job *head;
	int closing;                /* brk_jobs_shutdown: no job starts */
	int64_t checked_at;         /* the chore's last full check */
	int64_t generation;
};

/* The caller's (actor's) job id, held (refs) until brk_job_release, or
 * NULL: one that does not exist, is another identity's, or still starts. */
struct brk_job *brk_job_hold(struct brk_jobs *js, const char *actor, const char *id);
void brk_job_release(void *j);

/* The details every event of job j carries (job id, call id, host, login,
 * the command's SHA-256); NULL on ENOMEM. */
cJSON *brk_job_details(const struct brk_job *j);
/* Records one event of j (d taken; NULL: the details alone), durably:
 * 0 or the audit's error. */
int brk_job_record(const struct brk_job *j, const char *type, const char *outcome, cJSON *d);
/* The job's state as a tool shows it (the caller adds the rest). */
cJSON *brk_job_json(struct brk_job *j, const struct ssh_job_status *st);

#endif
