/*
 * brk_xfer.c - the transfer links (brk_xfer.h): offering a link from a
 * file tool's call, taking it, the transfer's thread (SFTP on one side,
 * the ring on the other), its end on record, and the housekeeping.
 */
#include "broker/brk_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/aud_event.h"
#include "broker/brk.h"
#include "broker/brk_policy.h"
#include "broker/brk_sshconn.h"
#include "broker/brk_sshpool.h"
#include "broker/brk_watch.h"
#include "broker/brk_xfer_int.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "resources/ssh_sftp.h"

struct brk_xfers {
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* a transfer ended (shutdown waits) */
	struct brk_xfer *head;          /* offered and running */
	size_t n;
	int running;                    /* threads not yet done */
	int closed;
	int64_t checked_ms;             /* the last full check of credentials */
};

struct brk_xfers *brk_xfers_new(void)
{
	struct brk_xfers *reg = calloc(1, sizeof(*reg));

	if (reg != NULL) {
		pthread_mutex_init(&reg->mu, NULL);
		net_cond_init(&reg->cv);
	}
	return reg;
}

/* ---- one transfer ---- */

static void xfer_free(struct brk_xfer *x)
{
	free(x->path);
	free(x->resolved);
	free(x->ring);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

void brk_xfer_unref(struct brk_xfer *x)
{
	struct brk_xfers *reg;
	int last;

	if (x == NULL) {
		return;
	}
	reg = x->reg;
	pthread_mutex_lock(&reg->mu);
	last = --x->refs == 0;
	pthread_mutex_unlock(&reg->mu);
	if (last) {
		xfer_free(x);
	}
}

size_t brk_xfer_ring_put(struct brk_xfer *x, const uint8_t *p, size_t n)
{
	size_t done = 0, at, k;

	while (done < n && x->len < XFER_RING) {
		at = (x->head + x->len) % XFER_RING;
		k = XFER_RING - at < XFER_RING - x->len ? XFER_RING - at : XFER_RING - x->len;
		k = k < n - done ? k : n - done;
		memcpy(x->ring + at, p + done, k);
		x->len += k;
		done += k;
	}
	return done;
}

size_t brk_xfer_ring_get(struct brk_xfer *x, uint8_t *p, size_t max)
{
	size_t done = 0, k;

	while (done < max && x->len > 0) {
		k = XFER_RING - x->head < x->len ? XFER_RING - x->head : x->len;
		k = k < max - done ? k : max - done;
		memcpy(p + done, x->ring + x->head, k);
		x->head = (x->head + k) % XFER_RING;
		x->len -= k;
		done += k;
	}
	return done;
}

/* Under x->mu: tells the HTTPS side something changed. */
static void wake(struct brk_xfer *x)
{
	if (x->wake != NULL) {
		x->wake(x->wake_arg);
	}
}

void brk_xfer_stop_locked(struct brk_xfer *x, const char *why)
{
	if (!x->stop) {
		x->stop = 1;
		x->stop_ms = net_mono_ms();
		snprintf(x->why, sizeof(x->why), "%s", why);
	}
	pthread_cond_broadcast(&x->cv);
}

static void xfer_stop(struct brk_xfer *x, const char *why)
{
	pthread_mutex_lock(&x->mu);
	brk_xfer_stop_locked(x, why);
	pthread_mutex_unlock(&x->mu);
}

/* ---- the audit ---- */

/* "file.transfer" for x: ended how ("ok", "failed", "cancelled",
 * "expired"), with error when not ok. 0 or aud_record's error. */
static int record_end(struct brk_xfer *x, const char *how, const char *error)
{
	cJSON *d = cJSON_CreateObject();
	int r = ZT_ERR_NOMEM;

	if (d != NULL) {
		cJSON_AddStringToObject(d, "link_id", x->id);
		cJSON_AddStringToObject(d, "call_id", x->call_id);
		cJSON_AddStringToObject(d, "tool", x->tool);
		cJSON_AddStringToObject(d, "direction", x->w.dir == BRK_XFER_READ ? "read" : "write");
		cJSON_AddStringToObject(d, "host", x->host);
		cJSON_AddStringToObject(d, "login", x->login);
		cJSON_AddStringToObject(d, "path", x->path);
		cJSON_AddStringToObject(d, "path_resolved", x->resolved);
		cJSON_AddStringToObject(d, "conn_id", x->pc != NULL ? x->pc->id : "");
		if (x->w.dir == BRK_XFER_READ) {
			cJSON_AddNumberToObject(d, "offset", (double)x->w.offset);
		} else {
			cJSON_AddBoolToObject(d, "atomic", x->atomic);
		}
		cJSON_AddNumberToObject(d, "bytes", (double)x->moved);
		if (x->sha256[0] != '\0') {
			cJSON_AddStringToObject(d, "sha256", x->sha256);
		}
		cJSON_AddStringToObject(d, "status", how);
		if (error != NULL) {
			cJSON_AddStringToObject(d, "error", error);
		}
		if (x->started_ms > 0) {
			cJSON_AddNumberToObject(d, "duration_ms",
			    (double)(net_mono_ms() - x->started_ms));
		}
		r = aud_record(x->b->store, x->b->agg, brk_now_ms(), &(struct aud_event){
		    .type = "file.transfer", .actor = x->actor, .source = x->source,
		    .outcome = strcmp(how, "ok") == 0 ? "success" : "failure", .details = d });
	}
	cJSON_Delete(d);
	return r;
}

/* ---- offering and taking ---- */

/* Unlinks x from the registry (under its lock); the registry's reference
 * is the caller's to drop. */
static void unlink_locked(struct brk_xfers *reg, struct brk_xfer *x)
{
	for (struct brk_xfer **p = &reg->head; *p != NULL; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			reg->n--;
			x->next = NULL;
			return;
		}
	}
}

static int copy_what(struct brk_xfer *x, const struct brk_call *c, const struct brk_xfer_what *w)
{
	uint8_t rnd[BRK_XFER_ID_LEN / 2];

	x->w = *w;
	snprintf(x->call_id, sizeof(x->call_id), "%s", c->id);
	snprintf(x->tool, sizeof(x->tool), "%s", c->tool->name);
	snprintf(x->token_hash, sizeof(x->token_hash), "%s", c->who.token_hash);
	snprintf(x->actor, sizeof(x->actor), "%s", c->who.actor);
	snprintf(x->source, sizeof(x->source), "%s", c->who.source);
	snprintf(x->host, sizeof(x->host), "%s", c->host);
	snprintf(x->login, sizeof(x->login), "%s", c->login);
	if ((x->path = strdup(c->path)) == NULL || (x->resolved = strdup(w->resolved)) == NULL ||
	    crypto_random(rnd, sizeof(rnd)) != 0 ||
	    crypto_hex(rnd, sizeof(rnd), x->id, sizeof(x->id)) != 0) {
		return ZT_ERR_NOMEM;
	}
	x->w.resolved = x->resolved;
	return 0;
}

int brk_xfer_offer(struct brk_call *c, const struct brk_xfer_what *w, char *url, size_t urlsz,
    char *err, size_t errsz)
{
	struct brk_xfers *reg = c->b->xfers;
	struct brk_xfer *x = NULL, *o;
	size_t mine = 0;
	int r;

	if (reg == NULL || c->pc == NULL) {
		snprintf(err, errsz, "this broker offers no transfer links");
		return ZT_ERR_CANCELLED;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	pthread_mutex_init(&x->mu, NULL);
	net_cond_init(&x->cv);
	x->reg = reg;
	x->b = c->b;
	if ((r = copy_what(x, c, w)) != 0) {
		xfer_free(x);
		return r;
	}
	pthread_mutex_lock(&reg->mu);
	for (o = reg->head; o != NULL; o = o->next) {
		mine += strcmp(o->actor, x->actor) == 0;
	}
	if (reg->closed) {
		snprintf(err, errsz, "the broker is stopping");
		r = ZT_ERR_CANCELLED;
	} else if (mine >= BRK_XFER_PER_IDENTITY || reg->n >= BRK_XFER_MAX) {
		snprintf(err, errsz, "too many transfer links open (%s %d); use or let expire "
		    "one first", mine >= BRK_XFER_PER_IDENTITY ? "per identity" : "in all",
		    mine >= BRK_XFER_PER_IDENTITY ? BRK_XFER_PER_IDENTITY : BRK_XFER_MAX);
		r = ZT_ERR_RATE_LIMITED;
	} else {
		x->pc = c->pc;
		c->pc = NULL;
		x->refs = 1;            /* the registry's */
		x->state = XFER_OFFERED;
		x->expires_ms = net_mono_ms() + BRK_XFER_LINK_TTL_S * 1000;
		x->next = reg->head;
		reg->head = x;
		reg->n++;
		snprintf(url, urlsz, "%s%s%s", c->b->base_url, BRK_XFER_PATH, x->id);
		cJSON_AddStringToObject(c->outcome, "link_id", x->id);
	}
	pthread_mutex_unlock(&reg->mu);
	if (r != 0) {
		xfer_free(x);
	}
	return r;
}

static void *xfer_thread(void *arg);

int brk_xfer_take(struct brk_xfers *reg, const char *id, enum brk_xfer_dir dir,
    const struct brk_identity *who, struct brk_xfer **out)
{
	struct brk_xfer *x;
	int r = ZT_ERR_NOT_FOUND;

	*out = NULL;
	pthread_mutex_lock(&reg->mu);
	for (x = reg->head; x != NULL; x = x->next) {
		if (strcmp(x->id, id) == 0) {
			break;
		}
	}
	if (reg->closed) {
		r = ZT_ERR_CANCELLED;
	} else if (x != NULL && x->state == XFER_OFFERED && x->w.dir == dir &&
	    crypto_ct_equal(x->token_hash, who->token_hash, sizeof(x->token_hash)) &&
	    net_mono_ms() < x->expires_ms) {
		/* A take whose thread could not start leaves the ring for the next. */
		if (x->ring == NULL && (x->ring = malloc(XFER_RING)) == NULL) {
			r = ZT_ERR_NOMEM;
		} else {
			snprintf(x->source, sizeof(x->source), "%s", who->source);
			x->state = XFER_RUNNING;
			x->started_ms = x->progress_ms = net_mono_ms();
			x->refs += 2;   /* the thread's and the taker's */
			reg->running++;
			if (pthread_create(&x->thread, NULL, xfer_thread, x) != 0) {
				x->refs -= 2;
				reg->running--;
				x->state = XFER_OFFERED;
				r = ZT_ERR_NOMEM;
			} else {
				pthread_detach(x->thread);
				*out = x;
				r = 0;
			}
		}
	}
	pthread_mutex_unlock(&reg->mu);
	return r;
}

/* ---- the transfer's thread ---- */

struct run {
	struct brk_xfer *x;
	struct crypto_sha256_ctx sha;
};

/* For the SFTP session: a stop cuts it after XFER_GRACE_MS. The ring's
 * waits end at once (sink, source), and a write removes its temporary
 * file in the grace. */
static int cancelled(void *arg)
{
	struct brk_xfer *x = arg;
	int cut;

	pthread_mutex_lock(&x->mu);
	cut = x->stop && net_mono_ms() - x->stop_ms >= XFER_GRACE_MS;
	pthread_mutex_unlock(&x->mu);
	return cut;
}

/* A read's bytes into the ring, waiting for room (ssh_sftp_sink_fn). */
static int sink(void *arg, const uint8_t *d, size_t n)
{
	struct run *rn = arg;
	struct brk_xfer *x = rn->x;
	size_t done = 0, k;

	crypto_sha256_update(&rn->sha, d, n);
	pthread_mutex_lock(&x->mu);
	while (done < n && !x->stop) {
		if (x->len == XFER_RING) {
			pthread_cond_wait(&x->cv, &x->mu);
			continue;
		}
		k = brk_xfer_ring_put(x, d + done, n - done);
		done += k;
		x->moved += k;
		x->progress_ms = net_mono_ms();
		wake(x);
	}
	pthread_mutex_unlock(&x->mu);
	return done == n ? 0 : ZT_ERR_CANCELLED;
}

/* A write's bytes out of the ring, waiting for them (ssh_sftp_source_fn). */
static int source(void *arg, uint8_t *buf, size_t max, size_t *got)
{
	struct run *rn = arg;
	struct brk_xfer *x = rn->x;
	int r = 0;

	*got = 0;
	pthread_mutex_lock(&x->mu);
	while (x->len == 0 && !x->eof && !x->stop) {
		pthread_cond_wait(&x->cv, &x->mu);
	}
	if (x->stop) {
		r = ZT_ERR_CANCELLED;
	} else {
		*got = brk_xfer_ring_get(x, buf, max);
		x->moved += *got;
		x->progress_ms = net_mono_ms();
		wake(x);                /* room again for a suspended body */
	}
	pthread_mutex_unlock(&x->mu);
	if (*got > 0) {
		crypto_sha256_update(&rn->sha, buf, *got);
	}
	return r;
}

/* The SFTP side: 0, or the failure into x->error. */
static int run_sftp(struct brk_xfer *x, struct run *rn)
{
	struct ssh_sftp_req req = { .deadline_ms = x->started_ms + BRK_XFER_MAX_S * 1000LL,
	    .cancelled = cancelled, .arg = x };
	struct ssh_sftp_err e;
	struct ssh_sftp *s = NULL;
	struct ssh_sftp_attr a;
	struct ssh_sftp_put p;
	uint64_t n = 0;
	int r;

	if ((r = ssh_sftp_open(x->pc->conn, &req, &s, &e)) != 0) {
		snprintf(x->error, sizeof(x->error), "%s", e.error);
		return r;
	}
	if (x->w.dir == BRK_XFER_READ) {
		r = ssh_sftp_read_stream(s, x->resolved, x->w.offset, x->w.length, &a, sink, rn, &n);
	} else {
		memset(&p, 0, sizeof(p));
		p.path = x->resolved;
		p.mode = x->w.mode;
		p.flags = x->w.flags;
		p.source = source;
		p.source_arg = rn;
		r = ssh_sftp_write(s, &p, &x->atomic);
	}
	if (r != 0) {
		snprintf(x->error, sizeof(x->error), "%s", ssh_sftp_error(s)->error);
	}
	ssh_sftp_close(s);
	return r;
}

static void *xfer_thread(void *arg)
{
	struct brk_xfer *x = arg;
	struct brk_xfers *reg = x->reg;
	struct run rn = { .x = x };
	struct brk_pooled *pc;
	const char *how = "ok";
	int r, recorded, last;

	r = crypto_sha256_begin(&rn.sha) != 0 ? ZT_ERR_NOMEM : run_sftp(x, &rn);
	crypto_sha256_end(&rn.sha, r == 0 ? x->sha256 : NULL);
	pthread_mutex_lock(&x->mu);
	if (r != 0 && x->stop) {
		how = "cancelled";
		snprintf(x->error, sizeof(x->error), "%s", x->why);
	} else if (r != 0) {
		how = "failed";
	}
	pthread_mutex_unlock(&x->mu);
	recorded = record_end(x, how, r != 0 ? x->error : NULL) == 0;
	if (!recorded) {
		log_error("transfer %s: its end could not be recorded", x->id);
	}
	/* Out of the registry first: the housekeeping reads x->pc there. */
	pthread_mutex_lock(&reg->mu);
	x->state = XFER_ENDED;
	unlink_locked(reg, x);
	pc = x->pc;
	x->pc = NULL;
	pthread_mutex_unlock(&reg->mu);
	/* A failed transfer leaves nothing of its connection warm. */
	brk_sshpool_give(x->b->sshpool, pc, r != 0, brk_now());
	pthread_mutex_lock(&x->mu);
	x->ok = r == 0 && recorded;
	if (r == 0 && !recorded) {
		snprintf(x->error, sizeof(x->error), "%s", BRK_GATE_UNRECORDED);
	}
	x->ended = 1;
	pthread_cond_broadcast(&x->cv);
	wake(x);
	pthread_mutex_unlock(&x->mu);
	/* The registry's reference and the thread's, with the count that
	 * shutdown waits on: after this the thread touches nothing of reg. */
	pthread_mutex_lock(&reg->mu);
	x->refs -= 2;
	last = x->refs == 0;
	reg->running--;
	pthread_cond_broadcast(&reg->cv);
	pthread_mutex_unlock(&reg->mu);
	if (last) {
		xfer_free(x);
	}
	return NULL;
}

/* ---- housekeeping ---- */

/* Takes the expired links out of the registry into *out (their
 * references with them); with all, every link not taken. */
static void take_expired(struct brk_xfers *reg, int64_t now, int all, struct brk_xfer **out)
{
	struct brk_xfer **p = &reg->head, *x;

	while ((x = *p) != NULL) {
		if (x->state == XFER_OFFERED && (all || now >= x->expires_ms)) {
			*p = x->next;
			reg->n--;
			x->state = XFER_ENDED;
			x->next = *out;
			*out = x;
		} else {
			p = &x->next;
		}
	}
}

/* Records and frees links that were never taken. */
static void expire(struct brk_xfer *list, const char *why)
{
	struct brk_xfer *x, *next;

	for (x = list; x != NULL; x = next) {
		next = x->next;
		(void)record_end(x, "expired", why);
		brk_sshpool_give(x->b->sshpool, x->pc, 0, brk_now());
		x->pc = NULL;
		brk_xfer_unref(x);
	}
}

void brk_xfer_chore(struct brk *b, const struct brk_watch_round *rd, void *arg)
{
	struct brk_xfers *reg = b->xfers;
	struct brk_xfer *list = NULL, *x;
	int64_t now = net_mono_ms(), gen = brk_policy_generation(b->roles);
	const char *why;
	int full;

	(void)arg;
	if (reg == NULL) {
		return;
	}
	pthread_mutex_lock(&reg->mu);
	take_expired(reg, now, 0, &list);
	full = rd->store_changed || now - reg->checked_ms >= BRK_SSHCONN_CHECK_S * 1000;
	if (full) {
		reg->checked_ms = now;
	}
	/* The running ones: the store lookups under the registry's lock are
	 * few (BRK_XFER_MAX at most) and short. */
	for (x = reg->head; x != NULL; x = x->next) {
		if (x->state != XFER_RUNNING || x->pc == NULL) {
			continue;
		}
		why = brk_sshconn_why(b, x->pc, gen, full);
		pthread_mutex_lock(&x->mu);
		if (why == NULL && now - x->progress_ms > BRK_XFER_STALL_S * 1000) {
			why = "no byte moved for a minute";
		}
		if (why != NULL) {
			brk_xfer_stop_locked(x, why);
		}
		pthread_mutex_unlock(&x->mu);
	}
	pthread_mutex_unlock(&reg->mu);
	expire(list, "the link was not used in time");
}

void brk_xfers_shutdown(struct brk_xfers *reg)
{
	struct brk_xfer *list = NULL, *x;

	if (reg == NULL) {
		return;
	}
	pthread_mutex_lock(&reg->mu);
	reg->closed = 1;
	take_expired(reg, 0, 1, &list);
	for (x = reg->head; x != NULL; x = x->next) {
		xfer_stop(x, "the broker is stopping");
	}
	while (reg->running > 0) {
		pthread_cond_wait(&reg->cv, &reg->mu);
	}
	pthread_mutex_unlock(&reg->mu);
	expire(list, "the broker is stopping");
}

void brk_xfers_free(struct brk_xfers *reg)
{
	if (reg == NULL) {
		return;
	}
	brk_xfers_shutdown(reg);
	pthread_cond_destroy(&reg->cv);
	pthread_mutex_destroy(&reg->mu);
	free(reg);
}
