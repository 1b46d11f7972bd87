/*
 * brk_xfer_int.h - what the two halves of the transfer links share
 * (brk_xfer.h): brk_xfer.c keeps the links, runs each transfer on a thread
 * of its own and audits it; brk_xferhttp.c is the HTTPS side of a link
 * (taking it, streaming a GET's answer, feeding a PUT's body). Between
 * them, each transfer has a bounded ring of bytes under its own lock: the
 * thread blocks on it, the HTTPS side never does (it runs on
 * libmicrohttpd's event loop: it suspends its connection instead, and the
 * thread wakes it). Nothing outside broker/brk_xfer*.c includes this
 * file.
 */
#ifndef ZT_BRK_XFER_INT_H
#define ZT_BRK_XFER_INT_H

#include <pthread.h>
#include <stdint.h>

#include "broker/brk_gate.h"
#include "broker/brk_identity.h"
#include "broker/brk_xfer.h"
#include "common/crypto.h"
#include "store/store.h"

#define XFER_RING (4 * 1024 * 1024)   /* bytes between the two sides */
/* After a stop, the transfer's SFTP session stays usable this long, so
 * that a write can remove its temporary file; then it is cut. */
#define XFER_GRACE_MS 2000

enum xfer_state { XFER_OFFERED, XFER_RUNNING, XFER_ENDED };

struct brk_xfer {
	struct brk_xfers *reg;
	struct brk *b;
	int refs;                       /* under the registry's lock */
	enum xfer_state state;          /* under the registry's lock */
	char id[BRK_XFER_ID_LEN + 1];
	/* What the call bound (brk_xfer.h). */
	char call_id[BRK_GATE_CALL_ID_LEN + 1];
	char tool[32];
	char token_hash[STORE_HASH_HEX];
	char actor[BRK_IDENTITY_KEY_MAX];
	char source[BRK_SOURCE_MAX];    /* the call's client; then the taker's */
	char host[STORE_NAME_MAX + 1];
	char login[STORE_NAME_MAX + 1];
	char *path, *resolved;
	struct brk_xfer_what w;         /* w.resolved is resolved */
	struct brk_pooled *pc;
	int64_t expires_ms;             /* the link, net_mono_ms() time */
	int64_t started_ms;
	pthread_t thread;
	/* The ring and both sides' state: under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* the thread waits here */
	uint8_t *ring;
	size_t head, len;
	int eof;                        /* a PUT's body ended complete */
	int stop;                       /* end it: why says why */
	int64_t stop_ms;                /* when, net_mono_ms() time */
	char why[96];
	int ended;                      /* the thread is done, its event recorded (or not) */
	int ok;                         /* it moved everything, and that is on record */
	int atomic;                     /* a write replaced the target in one step */
	uint64_t moved;
	int64_t progress_ms;            /* the last byte moved, net_mono_ms() time */
	char sha256[CRYPTO_SHA256_HEX_LEN + 1];
	char error[256];
	/* The HTTPS side: called under mu when the ring or the end changed. */
	void (*wake)(void *arg);
	void *wake_arg;
	struct brk_xfer *next;          /* in the registry */
};

/* The link id's transfer in the direction asked, for who's credential:
 * starts its thread and returns it (a reference the caller drops with
 * brk_xfer_unref); the taker's address becomes the source of its end
 * event. ZT_ERR_NOT_FOUND (no such link, taken, expired, another
 * credential's or the other direction), ZT_ERR_CANCELLED (shutting
 * down), ZT_ERR_NOMEM. The caller sets wake under x->mu before anything
 * can change: the thread waits for x->wake_arg... no, for the first byte. */
int brk_xfer_take(struct brk_xfers *reg, const char *id, enum brk_xfer_dir dir,
    const struct brk_identity *who, struct brk_xfer **out);
void brk_xfer_unref(struct brk_xfer *x);

/* Under x->mu: stops x for why (the first reason stays). */
void brk_xfer_stop_locked(struct brk_xfer *x, const char *why);

/* Under x->mu: ring bytes, copied in (at most what fits) or out; each
 * returns how many. */
size_t brk_xfer_ring_put(struct brk_xfer *x, const uint8_t *p, size_t n);
size_t brk_xfer_ring_get(struct brk_xfer *x, uint8_t *p, size_t max);

#endif
