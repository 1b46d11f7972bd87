/*
 * brk_audittail.c - /ws/audit, the audit log's live tail
 * (brk_audittail.h). The opening message becomes the query of a GET
 * /v1/audit (a brk_form), so the filter is read, bounded and narrowed to
 * what the caller may see by brk_auditlog_filter, and each round is a
 * page of brk_auditlog_page after the last event looked at.
 */
#include "broker/brk_audittail.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_auditapi.h"
#include "broker/brk_auditlog.h"
#include "broker/brk_identity.h"
#include "broker/brk_ws.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"

/* The opening message's keys: GET /v1/audit's filter and since. */
static const char *const keys[] = { "from", "to", "actor", "type", "outcome", "host", "q",
    "since", NULL };

/* Tells the client {"type": type, key: text} (text NULL: key: n), best
 * effort. */
static void tell(struct brk_ws *ws, const char *type, const char *key, const char *text,
    int64_t n)
{
	cJSON *j = cJSON_CreateObject();

	if (j != NULL && cJSON_AddStringToObject(j, "type", type) != NULL &&
	    (text != NULL ? cJSON_AddStringToObject(j, key, text) :
	    cJSON_AddNumberToObject(j, key, (double)n)) != NULL) {
		(void)brk_ws_send_json(ws, j);
	}
	cJSON_Delete(j);
}

/* The message of the API error in resp, or "internal error". */
static const char *resp_message(const struct brk_resp *resp)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

	return cJSON_IsString(m) ? m->valuestring : "internal error";
}

/* Reads the client's opening message into form (as a query string's
 * arguments would be). 0, or ZT_ERR_INVALID with err. */
static int read_open(struct brk_ws *ws, struct brk_form *form, char *err, size_t errsz)
{
	const char *bad = NULL, *v;
	const cJSON *k;
	cJSON *j = NULL;
	char num[24];

	if (brk_ws_recv_object(ws, BRK_AUDITTAIL_OPEN_TIMEOUT_MS, "filter", 2, &j, err,
	    errsz) != 0) {
		return ZT_ERR_INVALID;
	}
	if (json_only_keys(j, keys, &bad) != 0) {
		snprintf(err, errsz, "the filter takes from, to, actor, type, outcome, host, q "
		    "and since; not %.64s", bad != NULL ? bad : "?");
		cJSON_Delete(j);
		return ZT_ERR_INVALID;
	}
	cJSON_ArrayForEach(k, j) {
		v = cJSON_IsString(k) ? k->valuestring : NULL;
		if (cJSON_IsNumber(k) && k->valuedouble > -1e15 && k->valuedouble < 1e15 &&
		    (double)(long long)k->valuedouble == k->valuedouble) {
			snprintf(num, sizeof(num), "%lld", (long long)k->valuedouble);
			v = num;
		}
		if (v == NULL || brk_form_add(form, k->string, 0, v, strlen(v)) != 0) {
			snprintf(err, errsz, "filter field %s must be a string or a whole number "
			    "of at most %d bytes, given once", k->string, BRK_FORM_VALUE_MAX);
			cJSON_Delete(j);
			return ZT_ERR_INVALID;
		}
	}
	cJSON_Delete(j);
	return 0;
}

/* Why the tail of who, reading every event or not (yes), may not go on,
 * or NULL: the credential no longer holds, or that right changed. */
static const char *why_end(struct brk *b, const struct brk_identity *who, int yes)
{
	struct brk_identity now;
	struct brk_resp resp;
	const char *why = NULL;
	int r, y = 0;

	memset(&resp, 0, sizeof(resp));
	if ((r = brk_identity_load(b, who->token_hash, who->source, &now)) != 0) {
		why = brk_identity_refusal(r);
	} else if (brk_auditapi_auditor(b, &now, &y, &resp) != 0) {
		why = "internal error";
	} else if (y != yes) {
		why = "the roles changed what this caller may read";
	}
	brk_resp_clear(&resp);
	crypto_wipe(&now, sizeof(now));
	return why;
}

/* Sends event e (an object of the array it is in) as one message, its
 * details left out when the message would be too large. 0 or ZT_ERR_NET
 * (or ZT_ERR_NOMEM). */
static int send_event(struct brk_ws *ws, cJSON *e)
{
	cJSON *j = cJSON_CreateObject();
	char *text = NULL;
	int r = ZT_ERR_NOMEM;

	if (j == NULL || cJSON_AddStringToObject(j, "type", "event") == NULL ||
	    !cJSON_AddItemReferenceToObject(j, "event", e) ||
	    (text = cJSON_PrintUnformatted(j)) == NULL) {
		goto out;
	}
	if (strlen(text) > BRK_WS_MSG_MAX) {
		free(text);
		text = NULL;
		if (!cJSON_ReplaceItemInObjectCaseSensitive(e, "details", cJSON_CreateNull()) ||
		    cJSON_AddTrueToObject(e, "truncated") == NULL ||
		    (text = cJSON_PrintUnformatted(j)) == NULL) {
			goto out;
		}
	}
	r = brk_ws_send(ws, WS_OP_TEXT, text, strlen(text));
out:
	free(text);
	cJSON_Delete(j);
	return r;
}

/* One round: the events after q->since that pass, sent; q moves past
 * the rows looked at. *more says another round is due at once. 0 or an
 * error (the store's, ZT_ERR_NET). */
static int round_once(struct brk *b, struct brk_ws *ws, struct brk_audit_query *q, int *more)
{
	cJSON *events, *e;
	int64_t head = 0, next = q->since;
	int r;

	*more = 0;
	if ((r = store_audit_head(b->store, &head)) != 0 || head <= q->since) {
		return r;
	}
	if ((events = cJSON_CreateArray()) == NULL) {
		return ZT_ERR_NOMEM;
	}
	r = brk_auditlog_page(b, q, events, &next, more);
	cJSON_ArrayForEach(e, events) {
		if (r == 0) {
			r = send_event(ws, e);
		}
	}
	cJSON_Delete(events);
	/* A last page looked at every row up to head (all committed when head
	 * was read), matching or not: the next round starts past them, so a
	 * filter that matches nothing new scans nothing again. */
	if (r == 0 && !*more && next < head) {
		next = head;
	}
	q->since = q->f.after_seq = next;
	return r;
}

/* The tail itself, once the filter is read: until the connection ends,
 * or why_end says. Returns why it ended (for the client), or NULL when
 * the client went away. */
static const char *follow(struct brk *b, struct brk_ws *ws, const struct brk_identity *who,
    struct brk_audit_query *q)
{
	struct ws_event ev;
	int64_t left, next_round = 0, next_check = net_mono_ms() + BRK_AUDITTAIL_CHECK_MS;
	const char *why;
	int more = 0, r;

	for (;;) {
		if (brk_ws_stopping(ws)) {
			return "the broker is stopping";
		}
		/* Waits for the next round, answering pings and seeing a close;
		 * what the client sends meanwhile is dropped. */
		while (!more && (left = next_round - net_mono_ms()) > 0) {
			if (brk_ws_recv(ws, (int)left, &ev) < 0) {
				return brk_ws_stopping(ws) ? "the broker is stopping" : NULL;
			}
		}
		next_round = net_mono_ms() + BRK_AUDITTAIL_POLL_MS;
		if (net_mono_ms() >= next_check) {
			next_check = net_mono_ms() + BRK_AUDITTAIL_CHECK_MS;
			if ((why = why_end(b, who, q->yes)) != NULL) {
				return why;
			}
		}
		if ((r = round_once(b, ws, q, &more)) != 0) {
			if (r != ZT_ERR_NET) {
				log_error("%s: audit tail: %s", who->actor, zt_strerror(r));
			}
			return r == ZT_ERR_NET ? NULL : "internal error";
		}
	}
}

void brk_audittail_serve(struct brk *b, struct brk_ws *ws)
{
	struct brk_identity who = *brk_ws_who(ws);
	struct brk_form form;
	struct brk_req req;
	struct brk_resp resp;
	struct brk_audit_query q;
	char err[160];
	const char *why;

	memset(&form, 0, sizeof(form));
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = "GET";
	req.path = BRK_WS_PATH "audit";
	req.source = who.source;
	req.query = &form;
	if (read_open(ws, &form, err, sizeof(err)) != 0) {
		tell(ws, "error", "message", err, 0);
		brk_ws_close(ws, WS_CLOSE_POLICY, "");
		goto out;
	}
	if (brk_auditlog_filter(b, &req, &who, &q, &resp) != 0) {
		tell(ws, "error", "message", resp_message(&resp), 0);
		brk_ws_close(ws, WS_CLOSE_POLICY, "");
		goto out;
	}
	/* Without since, from now on. */
	if ((brk_form_get(&form, "since") == NULL && store_audit_head(b->store, &q.since) != 0) ||
	    brk_auditlog_record(b, &req, &who, &q, "tail", -1) != 0) {
		tell(ws, "error", "message", "internal error: the read cannot be put on record", 0);
		brk_ws_close(ws, WS_CLOSE_INTERNAL, "");
		goto out;
	}
	q.f.after_seq = q.since;
	tell(ws, "live", "since", NULL, q.since);
	log_info("%s: audit tail from #%lld", who.actor, (long long)q.since);
	if ((why = follow(b, ws, &who, &q)) != NULL) {
		tell(ws, "end", "reason", why, 0);
	}
out:
	brk_resp_clear(&resp);
	crypto_wipe(&who, sizeof(who));
}
