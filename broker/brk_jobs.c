/*
 * brk_jobs.c - the broker's background jobs (brk_jobs.h): a list under one
 * mutex; each job's command and output live in its resources/ssh_job.
 */
#include "broker/brk_jobs.h"
#include "broker/brk_jobs_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_gate.h"
#include "broker/brk_policy.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_watch.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "mcp/mcp.h"
#include "resources/ssh_job.h"

struct brk_jobs *brk_jobs_new(void)
{
	struct brk_jobs *js = calloc(1, sizeof(*js));

	if (js != NULL) {
		pthread_mutex_init(&js->mu, NULL);
		js->generation = -2;
	}
	return js;
}

/* Frees a job that nobody can reach any more: its command ended (or never
 * started), its connection closes. */
static void job_free(struct brk_job *j)
{
	if (j == NULL) {
		return;
	}
	ssh_job_free(j->sj);
	if (j->pc != NULL) {
		brk_sshpool_give(NULL, j->pc, 1, brk_now());
	}
	free(j->command);
	free(j);
}

static void unlink_job(struct brk_jobs *js, struct brk_job *j)
{
	struct brk_job **pp;

	pthread_mutex_lock(&js->mu);
	for (pp = &js->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	pthread_mutex_unlock(&js->mu);
}

/* The caller's job id, held for the call (the gate releases it), or NULL:
 * one that does not exist, is another identity's, or still starts. */
struct brk_job *brk_job_hold(struct brk_jobs *js, const char *actor, const char *id)
{
	struct brk_job *j;

	pthread_mutex_lock(&js->mu);
	for (j = js->head; j != NULL; j = j->next) {
		if (j->sj != NULL && strcmp(j->id, id) == 0 && strcmp(j->actor, actor) == 0) {
			j->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&js->mu);
	return j;
}

void brk_job_release(void *arg)
{
	struct brk_job *j = arg;

	pthread_mutex_lock(&j->b->jobs->mu);
	j->refs--;
	pthread_mutex_unlock(&j->b->jobs->mu);
}

/* ---- audit ---- */

/* What every event of a job says. NULL on ENOMEM. */
cJSON *brk_job_details(const struct brk_job *j)
{
	cJSON *d = cJSON_CreateObject();

	if (d != NULL) {
		cJSON_AddStringToObject(d, "job_id", j->id);
		cJSON_AddStringToObject(d, "call_id", j->call_id);
		cJSON_AddStringToObject(d, "host", j->host);
		cJSON_AddStringToObject(d, "login", j->login);
		cJSON_AddStringToObject(d, "command_sha256", j->command_sha256);
	}
	return d;
}

/* Records event type of j (d taken). 0 or aud_record's error. */
int brk_job_record(const struct brk_job *j, const char *type, const char *outcome, cJSON *d)
{
	int r = ZT_ERR_NOMEM;

	if (d != NULL) {
		r = aud_record(j->b->store, j->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = type, .actor = j->actor, .source = j->source, .outcome = outcome,
		    .details = d });
	}
	cJSON_Delete(d);
	return r;
}

/* job.end of a job whose command never ran (error says why). */
static void record_not_started(const struct brk_job *j, const char *error)
{
	cJSON *d = brk_job_details(j);

	if (d != NULL) {
		cJSON_AddStringToObject(d, "state", "not_started");
		cJSON_AddStringToObject(d, "error", error);
	}
	(void)brk_job_record(j, "job.end", "failure", d);
}

/* The pump's end (resources/ssh_job.h): on record before anyone sees it. */
static void on_end(struct ssh_job *sj, const struct ssh_job_status *st, void *arg)
{
	struct brk_job *j = arg;
	struct brk_jobs *js = j->b->jobs;
	char reason[BRK_JOB_REASON_MAX];
	cJSON *d = brk_job_details(j);

	(void)sj;
	pthread_mutex_lock(&js->mu);
	memcpy(reason, j->reason, sizeof(reason));
	pthread_mutex_unlock(&js->mu);
	if (d != NULL) {
		cJSON_AddStringToObject(d, "state", ssh_job_state_name(st->state));
		if (st->state == SSH_JOB_EXITED) {
			cJSON_AddNumberToObject(d, "exit_code", st->exit_code);
		}
		if (st->signal[0] != '\0') {
			cJSON_AddStringToObject(d, "signal", st->signal);
		}
		cJSON_AddStringToObject(d, "reason", reason[0] != '\0' ? reason :
		    st->state == SSH_JOB_LOST ? "the connection was lost" : "the command ended");
		if (st->state == SSH_JOB_LOST) {
			/* No kill reached sshd, which does not signal a command
			 * without a terminal when its connection drops. */
			cJSON_AddStringToObject(d, "warning", "the command may still run on the "
			    "host: its connection was lost before a kill could reach it");
		}
		if (st->error[0] != '\0') {
			cJSON_AddStringToObject(d, "error", st->error);
		}
		cJSON_AddNumberToObject(d, "stdout_bytes", (double)st->stdout_bytes);
		cJSON_AddNumberToObject(d, "stderr_bytes", (double)st->stderr_bytes);
		cJSON_AddNumberToObject(d, "duration_ms", (double)(net_mono_ms() - j->started_ms));
		cJSON_AddStringToObject(d, "conn_id", j->pc != NULL ? j->pc->id : "");
	}
	if (brk_job_record(j, "job.end", st->state == SSH_JOB_LOST ? "failure" : "success", d) != 0) {
		log_error("job %s: its end could not be audited", j->id);
	}
	pthread_mutex_lock(&js->mu);
	j->ended = 1;
	j->ended_at = brk_now();
	pthread_mutex_unlock(&js->mu);
}

/* ---- start ---- */

static struct brk_job *job_new(struct brk_call *c)
{
	struct brk_job *j = calloc(1, sizeof(*j));
	uint8_t rnd[BRK_JOB_ID_LEN / 2], digest[CRYPTO_SHA256_LEN];

	if (j == NULL || (j->command = strdup(c->command)) == NULL ||
	    crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), j->id, sizeof(j->id)) != 0) {
		if (j != NULL) {
			free(j->command);
		}
		free(j);
		return NULL;
	}
	j->b = c->b;
	snprintf(j->actor, sizeof(j->actor), "%s", c->who.actor);
	snprintf(j->token_hash, sizeof(j->token_hash), "%s", c->who.token_hash);
	snprintf(j->source, sizeof(j->source), "%s", c->who.source);
	snprintf(j->call_id, sizeof(j->call_id), "%s", c->id);
	snprintf(j->host, sizeof(j->host), "%s", c->host);
	snprintf(j->agent, sizeof(j->agent), "%s", c->resource.agent);
	snprintf(j->login, sizeof(j->login), "%s", c->login);
	crypto_sha256(c->command, strlen(c->command), digest);
	crypto_hex(digest, sizeof(digest), j->command_sha256, sizeof(j->command_sha256));
	j->bot = c->who.kind == STORE_BOT;
	j->generation = c->generation;
	j->started_at = brk_now();
	j->started_ms = net_mono_ms();
	j->limit_s = c->dec.max_job_s > 0 ? c->dec.max_job_s : POL_JOB_DEFAULT_S;
	if (c->timeout_s > 0 && c->timeout_s < j->limit_s) {
		j->limit_s = c->timeout_s;
	}
	j->deadline_ms = j->started_ms + j->limit_s * 1000;
	return j;
}

/* Adds j when the limits allow it, making room among the actor's kept
 * jobs (*evict: a finished one to free, or NULL). 0, or ZT_ERR_BUSY with
 * why (whysz bytes). */
static int admit(struct brk_jobs *js, struct brk_job *j, struct brk_job **evict, char *why,
    size_t whysz)
{
	struct brk_job *k, *oldest = NULL, **pp;
	int mine = 0, kept = 0, all = 0, r = 0;

	*evict = NULL;
	pthread_mutex_lock(&js->mu);
	for (k = js->head; k != NULL; k = k->next) {
		int own = strcmp(k->actor, j->actor) == 0;

		kept += own;
		if (!k->ended) {
			all++;
			mine += own;
		} else if (own && k->refs == 0 && (oldest == NULL || k->ended_at < oldest->ended_at)) {
			oldest = k;
		}
	}
	if (js->closing) {
		snprintf(why, whysz, "the broker is stopping: no job starts");
		r = ZT_ERR_BUSY;
	} else if (mine >= BRK_JOBS_PER_IDENTITY) {
		snprintf(why, whysz, "you have %d jobs running, the most one identity may run at "
		    "once: wait for one to end or end one (job_list, job_signal)", mine);
		r = ZT_ERR_BUSY;
	} else if (all >= BRK_JOBS_MAX) {
		snprintf(why, whysz, "the broker runs %d jobs, the most it runs at once: try again "
		    "later", all);
		r = ZT_ERR_BUSY;
	} else {
		if (kept >= BRK_JOBS_KEPT_PER_IDENTITY && oldest != NULL) {
			for (pp = &js->head; *pp != NULL; pp = &(*pp)->next) {
				if (*pp == oldest) {
					*pp = oldest->next;
					break;
				}
			}
			*evict = oldest;
		}
		j->next = js->head;
		js->head = j;
	}
	pthread_mutex_unlock(&js->mu);
	return r;
}

/* A start that failed (error for the caller and the outcome): the job
 * leaves the list; its end is on record when its start was. */
static int start_failed(struct brk_call *c, struct brk_job *j, int recorded, const char *error,
    cJSON **result)
{
	if (recorded) {
		record_not_started(j, error);
	}
	unlink_job(c->b->jobs, j);
	job_free(j);
	if (*result == NULL) {
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "error", error);
		*result = mcp_result_error("%s", error);
	}
	return *result != NULL ? 0 : ZT_ERR_NOMEM;
}

/* job.start, on record before the command starts. */
static int record_start(const struct brk_job *j)
{
	cJSON *d = brk_job_details(j);

	if (d != NULL) {
		cJSON_AddStringToObject(d, "command", j->command);
		cJSON_AddNumberToObject(d, "command_bytes", (double)strlen(j->command));
		cJSON_AddNumberToObject(d, "limit_s", (double)j->limit_s);
	}
	return brk_job_record(j, "job.start", "success", d);
}

/* The job's state as a tool shows it (the caller adds the rest). */
cJSON *brk_job_json(struct brk_job *j, const struct ssh_job_status *st)
{
	cJSON *o = cJSON_CreateObject();
	char reason[BRK_JOB_REASON_MAX];
	int64_t ended_at;

	if (o == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&j->b->jobs->mu);
	memcpy(reason, j->reason, sizeof(reason));
	ended_at = j->ended ? j->ended_at : 0;
	pthread_mutex_unlock(&j->b->jobs->mu);
	cJSON_AddStringToObject(o, "job", j->id);
	cJSON_AddStringToObject(o, "host", j->host);
	cJSON_AddStringToObject(o, "login", j->login);
	cJSON_AddStringToObject(o, "state", ssh_job_state_name(st->state));
	if (st->state == SSH_JOB_EXITED) {
		cJSON_AddNumberToObject(o, "exit_code", st->exit_code);
	}
	if (st->signal[0] != '\0') {
		cJSON_AddStringToObject(o, "signal", st->signal);
	}
	if (st->state != SSH_JOB_RUNNING && reason[0] != '\0') {
		cJSON_AddStringToObject(o, "reason", reason);
	}
	if (st->error[0] != '\0') {
		cJSON_AddStringToObject(o, "error", st->error);
	}
	cJSON_AddNumberToObject(o, "started_at", (double)j->started_at);
	if (ended_at > 0 && st->state != SSH_JOB_RUNNING) {
		cJSON_AddNumberToObject(o, "ended_at", (double)ended_at);
	}
	cJSON_AddNumberToObject(o, "limit_s", (double)j->limit_s);
	cJSON_AddNumberToObject(o, "stdout_bytes", (double)st->stdout_bytes);
	cJSON_AddNumberToObject(o, "stderr_bytes", (double)st->stderr_bytes);
	return o;
}

/* Asks j's pump to kill it, for reason (the first reason holds). */
static void stop_job(struct brk_jobs *js, struct brk_job *j, const char *reason)
{
	pthread_mutex_lock(&js->mu);
	if (!j->ended && j->reason[0] == '\0') {
		snprintf(j->reason, sizeof(j->reason), "%s", reason);
	}
	pthread_mutex_unlock(&js->mu);
	ssh_job_stop(j->sj);
}

int brk_jobs_start(struct brk_call *c, cJSON **result)
{
	struct brk_job *j = job_new(c), *evict = NULL;
	struct ssh_job_status st;
	struct ssh_job *sj = NULL;
	struct brk_pooled *pc = NULL;
	int64_t deadline = net_mono_ms() + BRK_JOB_START_MS;
	char why[SSH_CONN_ERROR_MAX + 64];
	int r, tries = 0, closing;

	*result = NULL;
	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	if (admit(c->b->jobs, j, &evict, why, sizeof(why)) != 0) {
		job_free(j);
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "error", why);
		*result = mcp_result_error("%s", why);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	job_free(evict);
	cJSON_AddStringToObject(c->outcome, "job_id", j->id);
	cJSON_AddNumberToObject(c->outcome, "limit_s", (double)j->limit_s);
	if (record_start(j) != 0) {
		return start_failed(c, j, 0, BRK_GATE_UNRECORDED, result);
	}
again:
	if ((r = brk_sshconn_get(c, deadline, &pc, result)) != 0) {
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->outcome,
		    "error"));

		if (r == ZT_ERR_CANCELLED) {
			(void)start_failed(c, j, 1, "cancelled", result);
			return r;
		}
		return start_failed(c, j, 1, e != NULL ? e : "no connection", result);
	}
	j->pc = pc;
	r = ssh_job_start(pc->conn, c->command, 0, deadline - net_mono_ms() > 0 ?
	    deadline - net_mono_ms() : 1, on_end, j, &sj, why, sizeof(why));
	if (r != 0) {
		j->pc = NULL;
		if (brk_sshconn_retry(c, pc, 0, &tries, why)) {
			goto again;
		}
		brk_sshconn_done(c, pc, 1);
		return start_failed(c, j, 1, why, result);
	}
	brk_sshconn_keep(c, pc);
	pthread_mutex_lock(&c->b->jobs->mu);
	j->sj = sj;
	closing = c->b->jobs->closing;
	pthread_mutex_unlock(&c->b->jobs->mu);
	if (closing) {
		/* brk_jobs_shutdown ran while it started, and did not see it. */
		stop_job(c->b->jobs, j, "the broker is stopping");
		(void)ssh_job_wait(sj, BRK_JOBS_CUT_MS);
	}
	ssh_job_status(sj, &st);
	return mcp_result_structured(brk_job_json(j, &st), result);
}

/* ---- ending jobs ---- */

/* Why zt must end running job j now, into why ("" when it may go on).
 * full: also the credential and the roles (store lookups). */
static void check(struct brk *b, struct brk_job *j, int full, int64_t gen, char *why,
    size_t whysz)
{
	struct pol_label labels[BRK_LABELS_MAX];
	struct pol_request req;
	struct pol_decision dec;
	struct brk_resource res;
	struct store_session s;
	int r;

	why[0] = '\0';
	if (net_mono_ms() >= j->deadline_ms) {
		snprintf(why, whysz, "its time limit (%llds) passed",
		    (long long)((j->deadline_ms - j->started_ms) / 1000));
		return;
	}
	if ((r = brk_agents_resource(b->agents, j->host, &res)) != 0 || !res.online ||
	    res.locked) {
		snprintf(why, whysz, "host %s %s", j->host, r != 0 ? "is gone" : res.locked ?
		    "was locked" : "went offline");
		return;
	}
	if (!full) {
		return;
	}
	if ((r = store_session_get(b->store, j->token_hash, b->now(), &s)) != 0) {
		snprintf(why, whysz, "the credential that started it no longer holds (%s)",
		    brk_identity_refusal(r));
		return;
	}
	/* Decided again at each full check, not only when the roles changed:
	 * the host's labels may have changed too (claims approved). */
	brk_policy_labels(res.labels, res.nlabels, labels);
	memset(&req, 0, sizeof(req));
	req.tool = "ssh_exec";
	req.host = j->host;
	req.labels = labels;
	req.nlabels = res.nlabels;
	req.login = j->login;
	req.command = j->command;
	req.bot = j->bot;
	brk_policy_decide(b->roles, s.roles, &req, &dec, NULL);
	if (!dec.allow) {
		snprintf(why, whysz, "the roles no longer allow it (%s)", dec.rule);
		return;
	}
	j->generation = gen;
	if (j->started_ms + dec.max_job_s * 1000 < j->deadline_ms) {
		j->deadline_ms = j->started_ms + dec.max_job_s * 1000;
	}
}

void brk_jobs_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct brk_jobs *js = b->jobs;
	struct brk_job *j, **pp, *run = NULL, *gone = NULL;
	struct brk_pooled *closing = NULL, *pc;
	int64_t now = b->now(), gen = brk_policy_generation(b->roles);
	char why[BRK_JOB_REASON_MAX];
	int full;

	(void)arg;
	if (js == NULL) {
		return;
	}
	if ((full = rd->store_changed || gen != js->generation ||
	    now - js->checked_at >= BRK_SSHCONN_CHECK_S)) {
		js->checked_at = now;
		js->generation = gen;
	}
	pthread_mutex_lock(&js->mu);
	for (pp = &js->head; (j = *pp) != NULL;) {
		if (j->sj == NULL || (!j->ended && j->reason[0] != '\0')) {
			pp = &j->next;
			continue;
		}
		if (!j->ended) {
			j->refs++;
			j->tmp = run;
			run = j;
		} else if (j->pc != NULL) {
			/* Its pump is done with the connection. */
			j->pc->next = closing;
			closing = j->pc;
			j->pc = NULL;
		} else if (j->refs == 0 && (now - j->ended_at >= BRK_JOBS_KEEP_S ||
		    (j->read_at > 0 && now - j->read_at >= BRK_JOBS_READ_KEEP_S))) {
			*pp = j->next;
			j->tmp = gone;
			gone = j;
			continue;
		}
		pp = &j->next;
	}
	pthread_mutex_unlock(&js->mu);
	for (j = run; j != NULL; j = j->tmp) {
		check(b, j, full, gen, why, sizeof(why));
		if (why[0] != '\0') {
			log_info("job %s of %s on %s: ending it: %s", j->id, j->actor, j->host, why);
			stop_job(js, j, why);
		}
		brk_job_release(j);
	}
	while ((pc = closing) != NULL) {
		closing = pc->next;
		brk_sshpool_give(NULL, pc, 1, now);
	}
	while ((j = gone) != NULL) {
		gone = j->tmp;
		job_free(j);
	}
}

/* 1 if j runs through one of the n agents (agents NULL: any). */
static int of_agents(const struct brk_job *j, const char *const *agents, size_t n)
{
	for (size_t i = 0; agents != NULL && i < n; i++) {
		if (strcmp(j->agent, agents[i]) == 0) {
			return 1;
		}
	}
	return agents == NULL;
}

/* Kills the running jobs of the n agents (agents NULL: every job, and
 * none starts after), and waits for their ends, wait_ms in all. The
 * reason is why as is for every job, or "host <its host> <why>" for the
 * jobs of agents. Each pump kills its command in its own thread, all at
 * once, over its connection. */
static void end_jobs(struct brk_jobs *js, const char *const *agents, size_t n, const char *why,
    int64_t wait_ms)
{
	struct brk_job *j, *run = NULL;
	char reason[BRK_JOB_REASON_MAX];
	int64_t deadline = net_mono_ms() + wait_ms, left;

	pthread_mutex_lock(&js->mu);
	js->closing |= agents == NULL;
	for (j = js->head; j != NULL; j = j->next) {
		if (j->sj != NULL && !j->ended && of_agents(j, agents, n)) {
			j->refs++;
			j->tmp = run;
			run = j;
		}
	}
	pthread_mutex_unlock(&js->mu);
	for (j = run; j != NULL; j = j->tmp) {
		if (agents == NULL) {
			snprintf(reason, sizeof(reason), "%s", why);
		} else {
			snprintf(reason, sizeof(reason), "host %s %s", j->host, why);
		}
		log_info("job %s of %s on %s: ending it: %s", j->id, j->actor, j->host, reason);
		stop_job(js, j, reason);
	}
	for (j = run; j != NULL; j = j->tmp) {
		left = deadline - net_mono_ms();
		if (!ssh_job_wait(j->sj, left > 0 ? left : 0)) {
			log_error("job %s: no end %lld ms after its kill (%s)", j->id,
			    (long long)wait_ms, why);
		}
		brk_job_release(j);
	}
}

void brk_jobs_cut(const char *const *agents, size_t n, const char *why, void *arg)
{
	if (arg != NULL && agents != NULL) {
		end_jobs(arg, agents, n, why, BRK_JOBS_CUT_MS);
	}
}

void brk_jobs_shutdown(struct brk_jobs *js)
{
	if (js != NULL) {
		end_jobs(js, NULL, 0, "the broker is stopping", BRK_JOB_START_MS);
	}
}

void brk_jobs_free(struct brk_jobs *js)
{
	struct brk_job *j, *next;

	if (js == NULL) {
		return;
	}
	brk_jobs_shutdown(js);
	for (j = js->head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&js->mu);
	free(js);
}
