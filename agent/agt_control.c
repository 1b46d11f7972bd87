/*
 * agt_control.c - the control loop: connect, hello, heartbeats, dials,
 * backoff.
 */
#include "agent/agt_control.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agt_stream.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/tls.h"
#include "common/version.h"

/* Sleeps ms in short slices so that a stop request is honoured quickly;
 * returns 1 if asked to stop. */
static int nap(int ms, volatile sig_atomic_t *stop)
{
	struct timespec ts = { 0, 100 * 1000000L };

	for (int left = ms; left > 0 && !*stop; left -= 100) {
		nanosleep(&ts, NULL);
	}
	return *stop != 0;
}

/* Renews the certificate in the last third of its life; on failure the
 * next heartbeat tries again (the control connection itself ends only
 * when the certificate it was made with expires). */
static void renew_if_due(const struct agt_config *cfg)
{
	char err[TUN_MESSAGE_MAX + 128];
	int64_t life, left;

	/* Not before the last third of its life. */
	if (agt_cert_life(cfg->data_dir, &life, &left) != 0 || left * 3 > life) {
		return;
	}
	if (agt_renew(cfg, err, sizeof(err)) != 0) {
		log_warn("cannot renew the agent certificate yet: %s", err);
		return;
	}
	log_info("renewed the agent certificate");
}

/* Starts the stream a dial asks for; when the agent will not (a resource
 * it does not advertise: the broker's idea of it is stale, or the broker
 * is not to be trusted) or cannot (too many open, no memory) it says so at
 * once with error{id} on the control connection, so the caller hears why
 * instead of waiting out the broker's dial timeout. 0, or the error of
 * that write. */
static int dial(struct tls_conn *c, const struct agt_config *cfg, const struct tun_msg *d)
{
	const struct tun_resource *res = tun_resource_find(cfg->resources, cfg->nresources,
	    d->resource);
	struct tun_msg m;
	char why[160];
	int r = 0;

	if (res != NULL && (r = agt_stream_start(cfg, d->id, res)) == 0) {
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.type = TUN_ERROR;
	m.id = d->id;
	if (res == NULL) {
		/* Never dialled: the agent goes only where it said it would. */
		log_warn("refused dial %s: this agent advertises no resource %s", d->id,
		    d->resource);
		m.code = "unknown_resource";
		snprintf(why, sizeof(why), "this agent advertises no resource %s", d->resource);
	} else if (r == ZT_ERR_TOO_LARGE) {
		m.code = "busy";
		snprintf(why, sizeof(why), "at its limit of %d open streams", cfg->max_streams);
	} else {
		m.code = "internal";
		snprintf(why, sizeof(why), "cannot start a stream: %s", zt_strerror(r));
	}
	m.message = why;
	return agt_send(c, &m);
}

/* One connection's life: 0 when it ended (reconnect), ZT_ERR_DENIED when
 * the broker refused the agent. */
static int session(const struct agt_config *cfg, volatile sig_atomic_t *stop)
{
	struct tls_conn *c = NULL;
	struct tun_stream in;
	struct tun_msg hello, hb, reply;
	int64_t seq = 0, next_hb, last_rx;
	int r;

	memset(&reply, 0, sizeof(reply));
	if ((r = tun_stream_init(&in)) != 0) {
		return r;
	}
	if ((r = agt_connect(cfg, AGT_IO_TIMEOUT_MS, &c)) != 0) {
		log_warn("cannot reach the broker at %s:%s: %s", cfg->broker_host, cfg->broker_port,
		    zt_strerror(r));
		goto out;
	}
	memset(&hello, 0, sizeof(hello));
	hello.type = TUN_HELLO;
	hello.name = (char *)cfg->name;
	memcpy(hello.labels, cfg->labels, sizeof(hello.labels));
	hello.nlabels = cfg->nlabels;
	hello.resources = (struct tun_resource *)cfg->resources;
	hello.nresources = cfg->nresources;
	hello.version = ZT_VERSION;
	/* Wait for the broker's answer before anything else: heartbeat 0 or
	 * an error saying why the agent is refused. */
	if ((r = agt_send(c, &hello)) != 0 ||
	    (r = tun_recv(&in, agt_tls_readfn, c, &reply)) != 0) {
		goto out;
	}
	if (reply.type == TUN_ERROR) {
		/* Refusals about who the agent is are final; the broker's own
		 * trouble (internal, registry_full) is worth a retry, and so is a
		 * lock: an administrator may lift it. */
		int final = strcmp(reply.code, "internal") != 0 &&
		    strcmp(reply.code, "registry_full") != 0 && strcmp(reply.code, "locked") != 0;

		log_error("the broker refused this agent%s: %s (%s)", final ? "" : " for now",
		    reply.message, reply.code);
		r = final ? ZT_ERR_DENIED : ZT_ERR_IO;
		goto out;
	}
	tun_msg_clear(&reply);
	log_info("connected to the broker as %s", cfg->name);
	next_hb = last_rx = net_mono_ms();
	while (!*stop) {
		int64_t now = net_mono_ms();

		if (now - last_rx > AGT_SILENCE_S * 1000) {
			r = ZT_ERR_TIMEOUT; /* heartbeats went unanswered */
			break;
		}
		if (now >= next_hb) {
			renew_if_due(cfg);
			memset(&hb, 0, sizeof(hb));
			hb.type = TUN_HEARTBEAT;
			hb.seq = seq++;
			if ((r = agt_send(c, &hb)) != 0) {
				break;
			}
			next_hb = now + AGT_HEARTBEAT_S * 1000;
		}
		/* Short waits, so that a stop request is honoured quickly. */
		if ((r = tls_wait_readable(c, 200)) < 0) {
			break;
		}
		if (r == 0) {
			continue;
		}
		if ((r = tun_recv(&in, agt_tls_readfn, c, &reply)) != 0) {
			break;
		}
		last_rx = net_mono_ms();
		if (reply.type == TUN_DIAL) {
			if ((r = dial(c, cfg, &reply)) != 0) {
				break;
			}
		} else if (reply.type == TUN_ERROR) {
			log_warn("the broker closed the control connection: %s (%s)", reply.message,
			    reply.code);
			tun_msg_clear(&reply);
			break;
		} else if (reply.type != TUN_HEARTBEAT) {
			log_warn("the broker sent %s on the control connection",
			    tun_type_name(reply.type));
			r = ZT_ERR_PROTOCOL;
			break;
		}
		tun_msg_clear(&reply);
	}
	if (r < 0) {
		log_warn("control connection lost: %s", zt_strerror(r));
	}
out:
	tun_msg_clear(&reply);
	tun_stream_clear(&in);
	tls_close(c);
	return r == ZT_ERR_DENIED ? r : 0;
}

int agt_control_run(const struct agt_config *cfg, volatile sig_atomic_t *stop)
{
	int backoff_ms = 1000, r;
	uint32_t rnd = 0;

	while (!*stop) {
		time_t started = time(NULL);
		int64_t life, left;

		if (agt_cert_life(cfg->data_dir, &life, &left) == 0 && left <= 0) {
			log_error("the agent certificate expired %lld s ago: join again with a new "
			    "token", (long long)-left);
			return ZT_ERR_EXPIRED;
		}
		if ((r = session(cfg, stop)) == ZT_ERR_DENIED) {
			return r;
		}
		if (time(NULL) - started > 2 * AGT_HEARTBEAT_S) {
			backoff_ms = 1000; /* it was up for a while: start over */
		}
		crypto_random(&rnd, sizeof(rnd));
		/* +-25% jitter around the current backoff. */
		if (nap(backoff_ms * 3 / 4 + (int)(rnd % (uint32_t)(backoff_ms / 2 + 1)), stop)) {
			break;
		}
		backoff_ms = backoff_ms * 2 > AGT_BACKOFF_MAX_S * 1000 ? AGT_BACKOFF_MAX_S * 1000 :
		    backoff_ms * 2;
	}
	return 0;
}
