/*
 * brk_jobtools.c - the job tools (brk_jobs.h): job_output, job_signal and
 * job_list, each on a job of the caller's own, held for the call.
 */
#include "broker/brk_jobs.h"
#include "broker/brk_jobs_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "common/err.h"
#include "common/json.h"
#include "mcp/mcp.h"
#include "resources/ssh_job.h"

/* ---- the job tools ---- */

/* Reads "job" (args may hold only keys) and holds the job: its host, login and command are the call's,
 * so the gate decides on them. */
static int parse_job(struct brk_call *c, const cJSON *args, const char *const *keys,
    char *err, size_t errsz)
{
	const char *id = NULL;
	struct brk_job *j;

	if (brk_gate_only_keys(c, args, keys, err, errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_get_str(args, "job", BRK_JOB_ID_LEN, 0, &id) != 0) {
		snprintf(err, errsz, "job must be a job id as ssh_exec or job_list gave it");
		return ZT_ERR_INVALID;
	}
	/* Another identity's job answers as one that never was. */
	if ((j = brk_job_hold(c->b->jobs, c->who.actor, id)) == NULL) {
		snprintf(err, errsz, "no job %.16s (job_list shows your jobs)", id);
		return ZT_ERR_INVALID;
	}
	c->held = j;
	c->release = brk_job_release;
	c->host = j->host;
	c->login = j->login;
	c->command = j->command;
	return 0;
}

int brk_jobs_output_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "job", "since", NULL };
	int64_t since;

	if (json_get_int_opt(args, "since", 0, INT64_MAX / 2, 0, &since) != 0) {
		snprintf(err, errsz, "since must be a byte offset (an integer from 0), as \"next\" "
		    "of the last job_output gave it");
		return ZT_ERR_INVALID;
	}
	return parse_job(c, args, keys, err, errsz);
}

/* The output from a read, with a marker for what was dropped. NULL on
 * ENOMEM. */
static char *output_text(const struct ssh_job_chunk *ch)
{
	char *text = json_text_from_bytes(ch->data, ch->len), *marked;
	size_t n;

	if (text == NULL || ch->dropped == 0) {
		return text;
	}
	n = strlen(text) + 64;
	if ((marked = malloc(n)) != NULL) {
		snprintf(marked, n, "[zt: %llu bytes dropped]\n%s",
		    (unsigned long long)ch->dropped, text);
	}
	free(text);
	return marked;
}

int brk_jobs_output_run(struct brk_call *c, cJSON **result)
{
	struct brk_job *j = c->held;
	struct ssh_job_chunk ch;
	struct ssh_job_status st;
	int64_t since = 0;
	char *text;
	cJSON *sc;

	(void)json_get_int(c->args, "since", 0, INT64_MAX / 2, &since);
	if (ssh_job_read(j->sj, (uint64_t)since, 0, &ch, &st) != 0) {
		return ZT_ERR_NOMEM;
	}
	if (st.state != SSH_JOB_RUNNING && !ch.more) {
		pthread_mutex_lock(&c->b->jobs->mu);
		j->read_at = brk_now();
		pthread_mutex_unlock(&c->b->jobs->mu);
	}
	text = output_text(&ch);
	sc = brk_job_json(j, &st);
	if (text == NULL || sc == NULL) {
		free(ch.data);
		free(text);
		cJSON_Delete(sc);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(sc, "output", text);
	cJSON_AddNumberToObject(sc, "since", (double)ch.from);
	cJSON_AddNumberToObject(sc, "next", (double)ch.next);
	cJSON_AddNumberToObject(sc, "dropped", (double)ch.dropped);
	cJSON_AddBoolToObject(sc, "more", ch.more);
	cJSON_AddStringToObject(c->outcome, "job_id", j->id);
	cJSON_AddStringToObject(c->outcome, "state", ssh_job_state_name(st.state));
	cJSON_AddNumberToObject(c->outcome, "bytes", (double)ch.len);
	free(ch.data);
	free(text);
	return mcp_result_structured(sc, result);
}

int brk_jobs_signal_parse(struct brk_call *c, const cJSON *args, char *err, size_t errsz)
{
	static const char *const keys[] = { "job", "signal", NULL };
	const char *sig = NULL;

	if (json_get_str(args, "signal", SSH_JOB_SIG_MAX, 0, &sig) != 0 ||
	    !ssh_job_signal_ok(sig)) {
		snprintf(err, errsz, "signal must be TERM, INT, KILL or HUP");
		return ZT_ERR_INVALID;
	}
	return parse_job(c, args, keys, err, errsz);
}

int brk_jobs_signal_run(struct brk_call *c, cJSON **result)
{
	struct brk_job *j = c->held;
	struct ssh_job_status st;
	const char *sig = NULL;
	char how[128];
	cJSON *d, *sc;
	int r = ZT_ERR_STOPPED;

	(void)json_get_str(c->args, "signal", SSH_JOB_SIG_MAX, 0, &sig);
	cJSON_AddStringToObject(c->outcome, "job_id", j->id);
	cJSON_AddStringToObject(c->outcome, "signal", sig);
	/* On record before it is sent (and so before the end it causes). */
	ssh_job_status(j->sj, &st);
	if (st.state == SSH_JOB_RUNNING) {
		if ((d = brk_job_details(j)) != NULL) {
			cJSON_AddStringToObject(d, "signal", sig);
			cJSON_AddStringToObject(d, "signal_call_id", c->id);
		}
		if (brk_job_record(j, "job.signal", "success", d) != 0) {
			*result = mcp_result_error(BRK_GATE_UNRECORDED);
			return *result != NULL ? 0 : ZT_ERR_NOMEM;
		}
		r = ssh_job_signal(j->sj, sig, how, sizeof(how));
	}
	if (r != 0) {
		int queued = r == ZT_ERR_TIMEOUT && strcmp(how, "queued") == 0;

		ssh_job_status(j->sj, &st);
		c->failed = 1;
		snprintf(how, sizeof(how), "%s", r == ZT_ERR_STOPPED ? "the job has ended" :
		    "the job's connection did not answer in time");
		cJSON_AddStringToObject(c->outcome, "error", how);
		cJSON_AddBoolToObject(c->outcome, "queued", queued);
		*result = mcp_result_error("job %s: %s (%s); %s", j->id, how,
		    ssh_job_state_name(st.state), queued ? "the signal is queued and may still be "
		    "sent: job_output shows the state" : "no signal was sent");
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(c->outcome, "how", how);
	(void)ssh_job_wait(j->sj, BRK_JOB_SIGNAL_WAIT_MS);
	ssh_job_status(j->sj, &st);
	if ((sc = brk_job_json(j, &st)) != NULL) {
		cJSON_AddStringToObject(sc, "sent", sig);
		cJSON_AddStringToObject(sc, "how", how);
	}
	return mcp_result_structured(sc, result);
}

int brk_jobs_list_run(struct brk_call *c, cJSON **result)
{
	struct brk_jobs *js = c->b->jobs;
	struct ssh_job_status st;
	struct brk_job *j;
	cJSON *sc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(sc, "jobs"), *o;
	int n = 0;

	if (arr == NULL) {
		cJSON_Delete(sc);
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_lock(&js->mu);
	for (j = js->head; j != NULL; j = j->next) {
		if (j->sj == NULL || strcmp(j->actor, c->who.actor) != 0) {
			continue;
		}
		ssh_job_status(j->sj, &st);
		/* Held while unlocked: neither the chore nor a start forgets it. */
		j->refs++;
		pthread_mutex_unlock(&js->mu);
		o = brk_job_json(j, &st);
		pthread_mutex_lock(&js->mu);
		j->refs--;
		if (o != NULL) {
			cJSON_AddStringToObject(o, "command", j->command);
			cJSON_AddItemToArray(arr, o);
			n++;
		}
	}
	pthread_mutex_unlock(&js->mu);
	cJSON_AddNumberToObject(c->outcome, "jobs", n);
	return mcp_result_structured(sc, result);
}
