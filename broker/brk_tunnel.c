/*
 * brk_tunnel.c - the agent tunnel listener: TLS 1.3, tun.h frames; joins,
 * control connections and streams.
 */
#include "broker/brk_tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "broker/brk.h"
#include "audit/aud_event.h"
#include "broker/brk_agents.h"
#include "broker/brk_dial.h"
#include "broker/brk_identity.h"
#include "broker/brk_join.h"
#include "broker/brk_quota.h"
#include "common/ca.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "tunnel/pump.h"
#include "common/tls.h"
#include "tunnel/tun.h"

/* After running out of descriptors, accepting pauses for this long,
 * doubling up to the most while it goes on. */
#define ACCEPT_PAUSE_MIN_MS 50
#define ACCEPT_PAUSE_MAX_MS 1000
/* Refusals the acceptor makes without end (out of descriptors, too many
 * handshakes) are logged at most once per period, with their count. */
#define REFUSAL_LOG_PERIOD_MS 60000

/* A warning that may come without end, logged once per period. */
struct quiet_log {
	int64_t next_ms;         /* net_mono_ms() when the next one may be logged */
	unsigned long count;     /* occasions since the last one logged */
};

struct brk_tunnel {
	struct brk *b;
	SSL_CTX *ctx;
	int fd;
	int stop_pipe[2];
	pthread_t acceptor;
	int started;
	int64_t handshake_ms;
	/* Connections still in their handshake, per client address. */
	struct brk_quota *handshakes;
	/* Touched by the acceptor thread only. */
	struct quiet_log emfile_log, busy_log;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int conns;                   /* every connection, under mu */
	/* The connections still in their handshake, under mu: the only ones
	 * with a deadline, so the only ones the acceptor walks. */
	struct conn *handshaking;
};

struct conn {
	struct brk_tunnel *t;
	int fd;                      /* closed only once off t->handshaking */
	char source[64];
	char key[64];                /* its address as t->handshakes counts it */
	/* Under t->mu: the net_mono_ms() time by which the handshake (TLS and
	 * the first message) must be done, 0 once it is (the connection is
	 * then off t->handshaking); cut is set when the acceptor shut the
	 * socket down because that time passed. */
	int64_t deadline;
	int cut;
	struct conn *prev, *next;    /* on t->handshaking */
};

/* Whether a warning of q is due now; *n receives the occasions it covers. */
static int quiet_due(struct quiet_log *q, unsigned long *n)
{
	int64_t now = net_mono_ms();

	q->count++;
	if (now < q->next_ms) {
		return 0;
	}
	*n = q->count;
	q->count = 0;
	q->next_ms = now + REFUSAL_LOG_PERIOD_MS;
	return 1;
}

/* Loads a PEM chain (leaf first) and key into ctx. */
static int load_identity(SSL_CTX *ctx, const char *chain_pem, const char *key_pem)
{
	BIO *bio = BIO_new_mem_buf(chain_pem, -1), *kbio = BIO_new_mem_buf(key_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	int r = ZT_ERR_TLS, first = 1;

	if (bio == NULL || kbio == NULL) {
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (first ? SSL_CTX_use_certificate(ctx, x) != 1 :
		    SSL_CTX_add1_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto out;
		}
		first = 0;
		X509_free(x);
	}
	ERR_clear_error(); /* the end of the PEM stream */
	key = PEM_read_bio_PrivateKey(kbio, NULL, NULL, NULL);
	if (first || key == NULL || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		ca_openssl_fail("tunnel: loading the server certificate");
	}
	EVP_PKEY_free(key);
	BIO_free(bio);
	BIO_free(kbio);
	return r;
}

/* readfn for tun_recv() over an SSL connection. */
static long ssl_readfn(void *arg, void *p, size_t n)
{
	int got = SSL_read(arg, p, (int)(n > INT32_MAX ? INT32_MAX : n));

	return got > 0 ? got : got == 0 ? 0 : ZT_ERR_IO;
}

/* writefn for tun_send() over an SSL connection (frames fit in an int). */
static int ssl_writefn(void *arg, const void *p, size_t n)
{
	return SSL_write(arg, p, (int)n) == (int)n ? 0 : ZT_ERR_IO;
}

static int write_msg(SSL *ssl, const struct tun_msg *m)
{
	return tun_send(m, ssl_writefn, ssl);
}

static void refuse(SSL *ssl, const char *code, const char *message)
{
	struct tun_msg m;

	memset(&m, 0, sizeof(m));
	m.type = TUN_ERROR;
	m.code = (char *)code;
	m.message = (char *)message;
	write_msg(ssl, &m);
}

#define LOCKED_MESSAGE "agent locked by an administrator"

/* The agent a mutual-TLS peer is: its verified certificate's CN into name
 * and its key's pin into pin; *ends (if not NULL) is when the certificate
 * expires, on the net_mono_ms() clock. 0, or ZT_ERR_AUTH (no valid
 * certificate). */
static int peer_agent(SSL *ssl, char name[TUN_NAME_MAX + 1], char pin[TLS_PIN_LEN + 1],
    int64_t *ends)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	int days = 0, secs = 0;

	name[0] = pin[0] = '\0';
	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name,
	    TUN_NAME_MAX + 1) <= 0 || tls_pin_of_x509(cert, pin, TLS_PIN_LEN + 1) != 0 ||
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) != 1) {
		return ZT_ERR_AUTH;
	}
	if (ends != NULL) {
		*ends = net_mono_ms() + ((int64_t)days * 86400 + secs) * 1000;
	}
	return 0;
}

/* A peer whose certificate names an agent bound to its key: 0, or
 * ZT_ERR_AUTH after a warning naming what the connection tried. */
static int known_agent(struct conn *c, SSL *ssl, const char *what, char name[TUN_NAME_MAX + 1],
    char pin[TLS_PIN_LEN + 1])
{
	if (peer_agent(ssl, name, pin, NULL) != 0 ||
	    !brk_agents_bound_to(c->t->b->agents, name, pin)) {
		log_warn("tunnel: %s sent %s without the certificate of a known agent", c->source,
		    what);
		return ZT_ERR_AUTH;
	}
	return 0;
}

/* The agent name could not open the stream of dial e->id (its target
 * refused, it is busy, or it advertises no such resource): the dialler
 * hears why at once. */
static void dial_failed(struct brk_tunnel *t, const char *name, const struct tun_msg *e)
{
	log_info("agent %s could not open stream %s: %s (%s)", name, e->id, e->message, e->code);
	brk_dials_fail(t->b->dials, e->id, name, e->code, e->message);
}

/* Sends the dials queued for this control connection. */
static int send_dials(struct brk_tunnel *t, SSL *ssl, const char *name, uint64_t gen)
{
	struct brk_agent_dial d[BRK_AGENTS_DIALS];
	size_t n = brk_agents_take_dials(t->b->agents, name, gen, d, BRK_AGENTS_DIALS);
	struct tun_msg m;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		memset(&m, 0, sizeof(m));
		m.type = TUN_DIAL;
		m.id = d[i].id;
		m.resource = d[i].resource;
		r = write_msg(ssl, &m);
	}
	return r;
}

/* Waits for the next thing to do on a control connection: 1 a message to
 * read, 0 the doorbell rang (dials were sent), or an error: ZT_ERR_TIMEOUT
 * (silent past the deadline), ZT_ERR_CANCELLED (the broker stops),
 * ZT_ERR_LOCKED (an operator locked the agent). */
static int control_wait(struct conn *c, SSL *ssl, struct tun_stream *in, int wake_fd,
    int64_t deadline, const char *name, uint64_t gen)
{
	struct pollfd pfd[3] = { { c->fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 },
	    { c->t->stop_pipe[0], POLLIN, 0 } };
	const uint8_t *rest;
	int64_t left = deadline - net_mono_ms();
	char drain[64];

	if (tun_stream_rest(in, &rest) > 0 || SSL_has_pending(ssl)) {
		return 1;
	}
	if (left <= 0) {
		return ZT_ERR_TIMEOUT;
	}
	if (poll(pfd, 3, (int)left) < 0 && errno != EINTR) {
		return ZT_ERR_IO;
	}
	if (pfd[2].revents != 0) {
		return ZT_ERR_CANCELLED;
	}
	if (pfd[1].revents != 0) {
		while (read(wake_fd, drain, sizeof(drain)) > 0) {
			/* emptied */
		}
		if (send_dials(c->t, ssl, name, gen) != 0) {
			return ZT_ERR_IO;
		}
		/* The doorbell also rings when an operator locks the agent. */
		if (brk_agents_locked(c->t->b->agents, name)) {
			return ZT_ERR_LOCKED;
		}
	}
	return pfd[0].revents != 0 ? 1 : 0;
}

/* agent.connect's details: what the hello advertised (host key as its
 * fingerprint) and how it compared with the approved claims. NULL on
 * ENOMEM. */
static cJSON *connect_details(const struct brk_hello *h, int r)
{
	static const char *const compared[] = {
		[BRK_CLAIMS_APPROVED] = "approved", [BRK_CLAIMS_FIRST] = "first",
		[BRK_CLAIMS_PENDING] = "pending", [BRK_CLAIMS_STILL_PENDING] = "pending",
	};
	cJSON *d = cJSON_CreateObject(), *adv = brk_agent_claims_json(&h->advertised);

	if (d == NULL || adv == NULL || !cJSON_AddItemToObject(d, "advertised", adv)) {
		cJSON_Delete(adv);
		cJSON_Delete(d);
		return NULL;
	}
	if (((r == 0 || h->host_key_changed) &&
	    cJSON_AddStringToObject(d, "claims", compared[h->claims]) == NULL) ||
	    (h->token_labels && cJSON_AddBoolToObject(d, "token_labels", 1) == NULL)) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* agent.claims's details: a change of claims refused (recorded as
 * pending, or a resource that clashes with another agent's: host_key_of
 * or resource_of names that agent), with the old and new values. NULL on
 * ENOMEM. */
static cJSON *claims_details(const struct brk_hello *h)
{
	const int taken = h->key_owner[0] != '\0';
	cJSON *d = cJSON_CreateObject(), *v;

	if (d == NULL || (v = brk_agent_claims_json(&h->before.claims)) == NULL ||
	    !cJSON_AddItemToObject(d, "old", v) ||
	    (v = brk_agent_claims_json(taken ? &h->advertised : &h->pending)) == NULL ||
	    !cJSON_AddItemToObject(d, "new", v) ||
	    (taken && (cJSON_AddStringToObject(d, h->clash_by_name ? "resource_of" :
	    "host_key_of", h->key_owner) == NULL ||
	    cJSON_AddStringToObject(d, "resource", h->clash) == NULL))) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* Audits a hello as brk_agents_online() answered it (r, h), and says no
 * to a refused agent. Returns r; or, for an agent let in whose events
 * must be on record and are not, aud_record's error (it is then refused,
 * and the caller takes it offline again). */
static int answer_hello(struct conn *c, SSL *ssl, const char *name, int r,
    const struct brk_hello *h)
{
	const char *reason = NULL, *code = NULL, *msg = NULL;
	char actor[BRK_IDENTITY_KEY_MAX], why[TUN_MESSAGE_MAX];
	struct aud_event ev = { .type = "agent.connect", .actor = actor, .source = c->source,
	    .outcome = r == 0 ? "success" : "failure" };
	cJSON *d = NULL;
	int unrecorded = 0;

	switch (r) {
	case 0:
		break;
	case ZT_ERR_EXISTS:
		reason = "name bound to another agent's key";
		code = "name_taken";
		msg = "another agent holds this name";
		break;
	case ZT_ERR_DENIED:
		if (h->key_owner[0] != '\0' && h->clash_by_name) {
			snprintf(why, sizeof(why), "resource name %s is taken by agent %s", h->clash,
			    h->key_owner);
			reason = why;
			code = "resource_taken";
			msg = "a resource name is another agent's, or another agent's resource has "
			    "this agent's name";
		} else if (h->key_owner[0] != '\0') {
			snprintf(why, sizeof(why), "the SSH host key of %s is approved for agent %s",
			    h->clash, h->key_owner);
			reason = why;
			code = "host_key_taken";
			msg = "this SSH host key belongs to another agent";
		} else {
			reason = "its SSH host key changed: waiting for approval";
			code = "host_key_changed";
			msg = "the SSH host key differs from the approved one: an administrator "
			    "must approve it (agents approve NAME) before this agent is let in";
		}
		break;
	case ZT_ERR_LOCKED:
		reason = "locked by an administrator";
		code = "locked";
		msg = LOCKED_MESSAGE;
		break;
	case ZT_ERR_TOO_LARGE:
		reason = "registry full";
		code = "registry_full";
		msg = "too many agents";
		break;
	default:
		reason = "binding could not be checked";
		code = "internal";
		msg = "the broker cannot check this agent now; retry later";
		break;
	}
	brk_identity_key("agent", name, actor, sizeof(actor));
	/* Details that cannot be made (ENOMEM) leave an event that says less. */
	if (h->claims == BRK_CLAIMS_PENDING || h->key_owner[0] != '\0') {
		cJSON *cd = claims_details(h);

		unrecorded = aud_record(c->t->b->store, c->t->b->agg, brk_now_ms(),
		    &(struct aud_event){ .type = "agent.claims", .actor = actor,
		    .source = c->source, .outcome = h->key_owner[0] != '\0' ? "denied" : "pending",
		    .details = cd }) != 0;
		cJSON_Delete(cd);
	}
	if (r == ZT_ERR_LOCKED) {
		/* A locked agent may knock without end. */
		ev.reason = "locked";
		ev.aggregate = AUD_AGGREGATE;
	} else {
		ev.reason = reason;
		ev.details = d = connect_details(h, r);
	}
	unrecorded |= aud_record(c->t->b->store, c->t->b->agg, brk_now_ms(), &ev) != 0;
	cJSON_Delete(d);
	/* A refusal goes out whatever the record says; an agent is let in
	 * only when what must be on record is. */
	if (r == 0 && unrecorded) {
		r = ZT_ERR_IO;
		reason = "its connection cannot be recorded";
		code = "internal";
		msg = "the broker cannot take this connection now; retry later";
	}
	if (r != 0) {
		log_warn("tunnel: agent %s from %s refused: %s", name, c->source, reason);
		refuse(ssl, code, msg);
	}
	return r;
}

/* A control connection: the agent's certificate must name the agent of the
 * hello and carry the key its name is bound to, and its claims must be
 * ones it may make (brk_agents.h); then heartbeats, echoed, and dials,
 * sent when brk_dial() rings the doorbell, until the connection ends,
 * falls silent or the broker stops. Only this thread touches ssl. */
static void serve_control(struct conn *c, SSL *ssl, struct tun_stream *in,
    const struct tun_msg *hello)
{
	struct brk_tunnel *t = c->t;
	char cn[TUN_NAME_MAX + 1], pin[TLS_PIN_LEN + 1];
	int wake[2] = { -1, -1 };
	struct brk_hello *h = NULL;
	struct tun_msg m;
	int64_t deadline, cert_ends = 0;
	uint64_t gen = 0;
	char actor[BRK_IDENTITY_KEY_MAX];
	struct aud_event ev = { .type = "agent.connect", .actor = actor, .source = c->source,
	    .outcome = "failure" };
	int r;

	memset(&m, 0, sizeof(m));
	brk_identity_key("agent", hello->name, actor, sizeof(actor));
	/* Refusals, and the end: nothing waits for these events. */
	if (peer_agent(ssl, cn, pin, &cert_ends) != 0) {
		ev.reason = "no agent certificate";
		(void)aud_record(t->b->store, t->b->agg, brk_now_ms(), &ev);
		refuse(ssl, "certificate_required", "join first: hello needs the agent certificate");
		return;
	}
	if (strcmp(cn, hello->name) != 0) {
		ev.reason = "certificate issued for another name";
		(void)aud_record(t->b->store, t->b->agg, brk_now_ms(), &ev);
		refuse(ssl, "name_mismatch", "the certificate was issued for another name");
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL || pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		refuse(ssl, "internal", "the broker cannot take this connection now");
		goto out;
	}
	r = brk_agents_online(t->b->agents, hello, pin, brk_now(), wake[1], &gen, h);
	if (answer_hello(c, ssl, hello->name, r, h) != 0) {
		if (r == 0) {
			/* Let in, but not on record: out again, as at the end. */
			brk_agents_offline(t->b->agents, hello->name, gen);
			brk_dials_fail_agent(t->b->dials, hello->name);
		}
		goto out;
	}
	log_info("agent %s online from %s (%zu resource%s%s)", hello->name, c->source,
	    hello->nresources, hello->nresources == 1 ? "" : "s",
	    h->claims == BRK_CLAIMS_PENDING || h->claims == BRK_CLAIMS_STILL_PENDING ?
	    "; its new claims wait for approval" : "");
	net_keepalive(c->fd);
	/* The answer to hello: heartbeat 0 means accepted (a refusal is an
	 * error frame), so the agent never writes into a closing connection. */
	memset(&m, 0, sizeof(m));
	m.type = TUN_HEARTBEAT;
	r = write_msg(ssl, &m);
	deadline = net_mono_ms() + BRK_TUNNEL_SILENCE_S * 1000;
	while (r == 0) {
		/* A control connection lives no longer than its certificate: the
		 * agent renews it before then and reconnects with the new one. */
		r = control_wait(c, ssl, in, wake[0], deadline < cert_ends ? deadline : cert_ends,
		    hello->name, gen);
		if (r == ZT_ERR_TIMEOUT && net_mono_ms() >= cert_ends) {
			refuse(ssl, "certificate_expired", "the agent certificate expired");
			r = ZT_ERR_EXPIRED;
		}
		if (r == ZT_ERR_LOCKED) {
			refuse(ssl, "locked", LOCKED_MESSAGE);
		}
		if (r <= 0) {
			continue; /* 0: the doorbell; go on waiting */
		}
		if ((r = tun_recv(in, ssl_readfn, ssl, &m)) != 0) {
			break;
		}
		if (m.type == TUN_HEARTBEAT) {
			brk_agents_seen(t->b->agents, hello->name, gen, brk_now());
			deadline = net_mono_ms() + BRK_TUNNEL_SILENCE_S * 1000;
			r = write_msg(ssl, &m);
		} else if (m.type == TUN_ERROR && m.id != NULL) {
			dial_failed(t, hello->name, &m); /* busy: it started no stream */
		} else {
			log_warn("tunnel: agent %s sent %s on its control connection", hello->name,
			    tun_type_name(m.type));
			r = ZT_ERR_PROTOCOL;
		}
		tun_msg_clear(&m);
	}
	tun_msg_clear(&m);
	/* Offline first, so that no new dial queues; then fail the waiting. */
	brk_agents_offline(t->b->agents, hello->name, gen);
	brk_dials_fail_agent(t->b->dials, hello->name);
	ev.type = "agent.disconnect";
	ev.outcome = "success";
	ev.reason = r == ZT_ERR_LOCKED ? "locked by an administrator" : zt_strerror(r);
	(void)aud_record(t->b->store, t->b->agg, brk_now_ms(), &ev);
	log_info("agent %s offline (%s)", hello->name,
	    r == ZT_ERR_LOCKED ? "locked by an administrator" : zt_strerror(r));
out:
	free(h);
	if (wake[0] >= 0) {
		close(wake[0]);
		close(wake[1]);
	}
}

/* A stream connection: accept{id} from the agent a waiting dial was sent
 * to, then the stream's bytes, pumped into the dialler's socket. It is
 * registered with the agent, so that locking the agent ends it. */
static void serve_stream(struct conn *c, SSL *ssl, struct tun_stream *in,
    const struct tun_msg *accept)
{
	struct brk_tunnel *t = c->t;
	struct brk_agent_stream *reg = NULL;
	char name[TUN_NAME_MAX + 1], pin[TLS_PIN_LEN + 1];
	const uint8_t *rest;
	size_t nrest = tun_stream_rest(in, &rest);
	int fd = -1, r;

	if (known_agent(c, ssl, "accept", name, pin) != 0) {
		refuse(ssl, "certificate_required", "streams need the agent certificate");
		return;
	}
	if ((r = brk_agents_stream_add(t->b->agents, name, c->fd, &reg)) != 0) {
		if (r == ZT_ERR_LOCKED) {
			char actor[BRK_IDENTITY_KEY_MAX];

			/* Once per kind, address and period: it may try without end,
			 * and is refused whatever the record says. */
			brk_identity_key("agent", name, actor, sizeof(actor));
			(void)aud_record(t->b->store, t->b->agg, brk_now_ms(), &(struct aud_event){
			    .type = "agent.stream", .actor = actor, .source = c->source,
			    .outcome = "failure", .reason = "locked", .aggregate = AUD_AGGREGATE });
			brk_dials_fail(t->b->dials, accept->id, name, "locked", LOCKED_MESSAGE);
			refuse(ssl, "locked", LOCKED_MESSAGE);
		} else {
			refuse(ssl, "internal", "the broker cannot take this stream now");
		}
		return;
	}
	if (brk_dials_claim(t->b->dials, accept->id, name, &fd) != 0) {
		log_warn("tunnel: agent %s accepted a dial that is not waiting for it", name);
		refuse(ssl, "unknown_dial", "no such dial is waiting for this agent");
		goto out;
	}
	net_keepalive(c->fd);
	r = pump_run(ssl, fd, t->stop_pipe[0], rest, nrest);
	log_debug("stream %s of agent %s ended: %s", accept->id, name, zt_strerror(r));
	close(fd);
out:
	brk_agents_stream_end(t->b->agents, reg);
}

/* renew: a new certificate for the key of a known agent's valid one. */
static void serve_renew(struct conn *c, SSL *ssl, const struct tun_msg *m)
{
	char name[TUN_NAME_MAX + 1], pin[TLS_PIN_LEN + 1];
	struct tun_msg reply;

	if (known_agent(c, ssl, "renew", name, pin) != 0) {
		refuse(ssl, "certificate_required", "renewing needs the current agent certificate");
		return;
	}
	brk_renew(c->t->b, m, name, pin, c->source, &reply);
	write_msg(ssl, &reply);
	tun_msg_clear(&reply);
}

/* error{id} as a stream connection's first frame: the agent's target
 * refused the stream. */
static void stream_failed(struct conn *c, SSL *ssl, const struct tun_msg *e)
{
	char name[TUN_NAME_MAX + 1], pin[TLS_PIN_LEN + 1];

	if (known_agent(c, ssl, "a dial's error", name, pin) != 0) {
		return;
	}
	dial_failed(c->t, name, e);
}

/* The handshake of c is over (its first message arrived, or it ended):
 * it leaves the handshakes the acceptor watches, and no longer counts
 * against its address. Once only: later calls do nothing. */
static void handshake_over(struct conn *c)
{
	struct brk_tunnel *t = c->t;
	int was;

	pthread_mutex_lock(&t->mu);
	if ((was = c->deadline != 0)) {
		*(c->prev != NULL ? &c->prev->next : &t->handshaking) = c->next;
		if (c->next != NULL) {
			c->next->prev = c->prev;
		}
		c->prev = c->next = NULL;
		c->deadline = 0;
	}
	pthread_mutex_unlock(&t->mu);
	if (was) {
		brk_quota_give(t->handshakes, c->key);
	}
}

/* Why a handshake failed, for the log: its deadline, or the peer. */
static const char *handshake_failure(struct conn *c)
{
	int cut;

	pthread_mutex_lock(&c->t->mu);
	cut = c->cut;
	pthread_mutex_unlock(&c->t->mu);
	return cut ? "did not finish its handshake in time" : "failed its handshake";
}

static void serve_conn(struct conn *c)
{
	struct brk_tunnel *t = c->t;
	struct tun_msg m, reply;
	struct tun_stream in;
	struct timeval tv = { BRK_TUNNEL_IO_TIMEOUT_S, 0 };
	SSL *ssl = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	memset(&reply, 0, sizeof(reply));
	if (tun_stream_init(&in) != 0) {
		return;
	}
	/* Each read and write has its own timeout; the acceptor bounds the
	 * handshake as a whole (t->handshake_ms). */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(ssl, c->fd) != 1 ||
	    SSL_accept(ssl) != 1) {
		log_info("tunnel: %s %s (TLS)", c->source, handshake_failure(c));
		goto out;
	}
	if ((r = tun_recv(&in, ssl_readfn, ssl, &m)) != 0) {
		if (r == ZT_ERR_IO || r == ZT_ERR_TRUNCATED) {
			log_info("tunnel: %s %s (no first message)", c->source,
			    handshake_failure(c));
			goto out;
		}
		log_warn("tunnel: %s sent no valid message (%s%s%s); closing", c->source,
		    zt_strerror(r), m.why[0] != '\0' ? ": " : "", m.why);
		refuse(ssl, "bad_message", "expected one valid tunnel message");
		goto out;
	}
	handshake_over(c);
	if (m.type == TUN_JOIN) {
		brk_join(t->b, &m, c->source, &reply);
		write_msg(ssl, &reply);
	} else if (m.type == TUN_HELLO) {
		serve_control(c, ssl, &in, &m);
	} else if (m.type == TUN_ACCEPT) {
		serve_stream(c, ssl, &in, &m);
	} else if (m.type == TUN_RENEW) {
		serve_renew(c, ssl, &m);
	} else if (m.type == TUN_ERROR && m.id != NULL) {
		stream_failed(c, ssl, &m);
	} else {
		log_warn("tunnel: %s opened with %s", c->source, tun_type_name(m.type));
		refuse(ssl, "unexpected", "a connection starts with join, hello, accept, renew or "
		    "error");
	}
	SSL_shutdown(ssl);
out:
	tun_stream_clear(&in);
	tun_msg_clear(&m);
	tun_msg_clear(&reply);
	SSL_free(ssl);
	ERR_clear_error();
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct brk_tunnel *t = c->t;

	serve_conn(c);
	handshake_over(c); /* if it ended in its handshake */
	/* Off the handshakes: nothing else touches the descriptor now. */
	close(c->fd);
	pthread_mutex_lock(&t->mu);
	t->conns--;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	free(c);
	return NULL;
}

/* Shuts down the connections whose handshake outlived its deadline (their
 * threads then fail and end); returns the milliseconds until the next
 * deadline, or -1 if none. */
static int cut_late(struct brk_tunnel *t)
{
	int64_t now = net_mono_ms(), next = -1;

	pthread_mutex_lock(&t->mu);
	for (struct conn *c = t->handshaking; c != NULL; c = c->next) {
		if (c->cut) {
			continue;
		}
		if (c->deadline <= now) {
			shutdown(c->fd, SHUT_RDWR);
			c->cut = 1;
		} else if (next < 0 || c->deadline - now < next) {
			next = c->deadline - now;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return next < 0 ? -1 : next > INT32_MAX ? INT32_MAX : (int)next;
}

/* Refuses an accepted connection the broker has no room for, logging it
 * once per period. */
static void turn_away(struct brk_tunnel *t, int fd, const char *source, const char *why)
{
	unsigned long n = 0;

	close(fd);
	if (quiet_due(&t->busy_log, &n)) {
		log_warn("tunnel: refused a connection from %s: %s (%lu refused since the last "
		    "such message)", source, why, n);
	}
}

/* Hands an accepted connection to a thread of its own, if its address
 * may start one more handshake and the listener one more connection. */
static void admit(struct brk_tunnel *t, int fd, const struct sockaddr *sa)
{
	pthread_attr_t attr;
	pthread_t th;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		turn_away(t, fd, "?", "out of memory");
		return;
	}
	c->t = t;
	c->fd = fd;
	net_addr_str(sa, c->source, sizeof(c->source));
	net_addr_key(c->source, c->key, sizeof(c->key));
	if (brk_quota_take(t->handshakes, c->key) != 0) {
		turn_away(t, fd, c->source, "too many of its connections are in their handshake");
		free(c);
		return;
	}
	pthread_mutex_lock(&t->mu);
	if (t->conns >= BRK_TUNNEL_CONNS) {
		pthread_mutex_unlock(&t->mu);
		brk_quota_give(t->handshakes, c->key);
		turn_away(t, fd, c->source, "too many connections");
		free(c);
		return;
	}
	c->deadline = net_mono_ms() + t->handshake_ms;
	c->next = t->handshaking;
	if (t->handshaking != NULL) {
		t->handshaking->prev = c;
	}
	t->handshaking = c;
	t->conns++;
	pthread_mutex_unlock(&t->mu);
	net_nodelay(fd);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, conn_thread, c) != 0) {
		log_warn("tunnel: cannot start a thread for %s", c->source);
		shutdown(fd, SHUT_RDWR);
		conn_thread(c); /* its clean-up: the handshake fails at once */
	}
	pthread_attr_destroy(&attr);
}

/* One thread accepts, and cuts the handshakes that outlive their deadline.
 * When the process runs out of descriptors (or the kernel of memory),
 * accept() fails while the connection stays queued, so polling again at
 * once would spin: accepting pauses instead, longer while it goes on, and
 * the condition is logged once per period. */
static void *accept_thread(void *arg)
{
	struct brk_tunnel *t = arg;
	struct pollfd pfd[2] = { { t->stop_pipe[0], POLLIN, 0 }, { t->fd, POLLIN, 0 } };
	int64_t resume = 0;
	int pause_ms = ACCEPT_PAUSE_MIN_MS;

	for (;;) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int64_t now;
		int timeout = cut_late(t), paused, fd;
		unsigned long n = 0;

		now = net_mono_ms();
		paused = resume > now;
		if (paused && (timeout < 0 || resume - now < timeout)) {
			timeout = (int)(resume - now);
		}
		pfd[1].revents = 0;
		if (poll(pfd, paused ? 1 : 2, timeout) < 0 && errno != EINTR) {
			log_error("tunnel: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents != 0) {
			break;
		}
		if ((pfd[1].revents & POLLIN) == 0) {
			continue;
		}
		fd = accept4(t->fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
		if (fd >= 0) {
			pause_ms = ACCEPT_PAUSE_MIN_MS;
			admit(t, fd, (struct sockaddr *)&sa);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			resume = net_mono_ms() + pause_ms;
			if (quiet_due(&t->emfile_log, &n)) {
				log_warn("tunnel: cannot accept connections: %s; pausing (%lu "
				    "times since the last such message)", strerror(errno), n);
			}
			pause_ms = pause_ms * 2 > ACCEPT_PAUSE_MAX_MS ? ACCEPT_PAUSE_MAX_MS :
			    pause_ms * 2;
		}
	}
	return NULL;
}

int brk_tunnel_start(struct brk *b, const char *listen_addr, int64_t handshake_ms,
    const char *chain_pem, const char *key_pem, struct brk_tunnel **out, unsigned *port)
{
	struct brk_tunnel *t = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	X509_STORE *store;
	X509 *cax = NULL;
	BIO *bio = NULL;
	int one = 1, r;

	*out = NULL;
	if ((r = net_resolve_listen(listen_addr, &sa, &salen)) != 0) {
		log_error("cannot use tunnel listen address %s", listen_addr);
		return r;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	t->b = b;
	t->fd = -1;
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	t->handshake_ms = handshake_ms > 0 ? handshake_ms : BRK_TUNNEL_HANDSHAKE_S * 1000;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	r = ZT_ERR_NOMEM;
	if ((t->handshakes = brk_quota_new(BRK_TUNNEL_HANDSHAKES_ADDR,
	    BRK_TUNNEL_HANDSHAKES)) == NULL) {
		goto fail;
	}
	r = ZT_ERR_TLS;
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1 ||
	    (r = load_identity(t->ctx, chain_pem, key_pem)) != 0) {
		goto fail;
	}
	/* Agents present their certificate on control and stream
	 * connections; joins come without one. Only our CA is trusted. */
	store = SSL_CTX_get_cert_store(t->ctx);
	bio = BIO_new_mem_buf(ca_cert_pem(b->ca), -1);
	cax = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	if (cax == NULL || X509_STORE_add_cert(store, cax) != 1) {
		r = ZT_ERR_TLS;
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	r = ZT_ERR_NET;
	if ((t->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(t->fd, (struct sockaddr *)&sa, salen) != 0 || listen(t->fd, 64) != 0 ||
	    pipe(t->stop_pipe) != 0) {
		log_error("cannot listen for agents on %s: %s", listen_addr, strerror(errno));
		goto fail;
	}
	salen = sizeof(sa);
	getsockname(t->fd, (struct sockaddr *)&sa, &salen);
	*port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)(void *)&sa)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&sa)->sin6_port);
	if (pthread_create(&t->acceptor, NULL, accept_thread, t) != 0) {
		goto fail;
	}
	t->started = 1;
	X509_free(cax);
	BIO_free(bio);
	*out = t;
	return 0;
fail:
	X509_free(cax);
	BIO_free(bio);
	brk_tunnel_stop(t);
	return r;
}

void brk_tunnel_stop(struct brk_tunnel *t)
{
	if (t == NULL) {
		return;
	}
	if (t->started) {
		if (write(t->stop_pipe[1], "x", 1) != 1) {
			log_warn("tunnel: cannot wake the acceptor");
		}
		pthread_join(t->acceptor, NULL);
	}
	pthread_mutex_lock(&t->mu);
	/* Handshakes waiting for a slow peer end now too. */
	for (struct conn *c = t->handshaking; c != NULL; c = c->next) {
		shutdown(c->fd, SHUT_RDWR);
	}
	while (t->conns > 0) {
		pthread_cond_wait(&t->cv, &t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	if (t->fd >= 0) {
		close(t->fd);
	}
	for (int i = 0; i < 2; i++) {
		if (t->stop_pipe[i] >= 0) {
			close(t->stop_pipe[i]);
		}
	}
	SSL_CTX_free(t->ctx);
	brk_quota_free(t->handshakes);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
