/*
 * agt_stream.c - one thread per stream: target, accept, pump (agt_stream.h).
 */
#include "agent/agt_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agt_control.h"
#include "agent/agt_desk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "tunnel/pump.h"
#include "common/tls.h"

struct stream {
	const struct agt_config *cfg;
	char id[TUN_ID_MAX + 1];
	const struct tun_resource *res;   /* one of cfg->resources */
};

/* A desktop stream's service end (agt_desk.h), on its own thread. */
struct desk_end {
	const struct agt_config *cfg;
	size_t ires;
	int fd;
};

static void *desk_main(void *arg)
{
	struct desk_end *d = arg;

	agt_desk_serve(d->cfg, d->ires, d->fd);
	close(d->fd);
	free(d);
	return NULL;
}

/* The target of an rdp resource is the desktop service, not its address:
 * *fd is one end of a socket pair whose other end a new thread serves. */
static int connect_desk(const struct agt_config *cfg, const struct tun_resource *res, int *fd,
    char *why, size_t whysz)
{
	struct desk_end *d = NULL;
	pthread_t th;
	int sv[2];

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(d);
		snprintf(why, whysz, "the desktop service of %s cannot start", res->name);
		return ZT_ERR_IO;
	}
	d->cfg = cfg;
	d->ires = (size_t)(res - cfg->resources);
	d->fd = sv[1];
	if (pthread_create(&th, NULL, desk_main, d) != 0) {
		close(sv[0]);
		close(sv[1]);
		free(d);
		snprintf(why, whysz, "the desktop service of %s cannot start", res->name);
		return ZT_ERR_NOMEM;
	}
	pthread_detach(th);
	*fd = sv[0];
	return 0;
}

static atomic_int running;

/* Connects to the address of an advertised resource. */
static int connect_target(const struct tun_resource *res, int *fd, char *why, size_t whysz)
{
	char host[NET_HOST_MAX], port[8];
	int r;

	if (net_split_hostport(res->address, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(why, whysz, "bad address %s of %s", res->address, res->name);
		return ZT_ERR_INVALID;
	}
	if ((r = net_connect(host, port, net_mono_ms() + AGT_TARGET_TIMEOUT_MS, fd)) != 0) {
		snprintf(why, whysz, "cannot connect to %s (%s): %s", res->address, res->name,
		    zt_strerror(r));
	}
	return r;
}

static void run(struct stream *s)
{
	const struct agt_config *cfg = s->cfg;
	char why[TUN_MESSAGE_MAX / 2] = "";
	struct tls_conn *c = NULL;
	struct tun_msg m;
	int fd = -1, r, rt;

	if (strcmp(s->res->kind, "rdp") == 0) {
		rt = connect_desk(cfg, s->res, &fd, why, sizeof(why));
	} else {
		rt = connect_target(s->res, &fd, why, sizeof(why));
	}
	if ((r = agt_connect(cfg, AGT_IO_TIMEOUT_MS, &c)) != 0) {
		log_warn("stream %s: cannot reach the broker: %s", s->id, zt_strerror(r));
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.id = s->id;
	if (rt != 0) {
		log_warn("stream %s: %s", s->id, why);
		m.type = TUN_ERROR;
		m.code = "dial_failed";
		m.message = why;
		agt_send(c, &m);
		goto out;
	}
	m.type = TUN_ACCEPT;
	if ((r = agt_send(c, &m)) != 0) {
		goto out;
	}
	if (strcmp(s->res->kind, "rdp") != 0) {
		net_keepalive(fd);
	}
	r = pump_run(tls_ssl(c), fd, -1, NULL, 0);
	log_debug("stream %s ended: %s", s->id, zt_strerror(r));
out:
	tls_close(c);
	if (fd >= 0) {
		close(fd);
	}
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;

	run(s);
	free(s);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

int agt_stream_start(const struct agt_config *cfg, const char *id,
    const struct tun_resource *res)
{
	struct stream *s = NULL;
	pthread_attr_t attr;
	pthread_t th;
	int r = 0;

	if (atomic_fetch_add(&running, 1) >= cfg->max_streams) {
		atomic_fetch_sub(&running, 1);
		log_warn("stream %s refused: at the limit of %d open streams", id, cfg->max_streams);
		return ZT_ERR_TOO_LARGE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		atomic_fetch_sub(&running, 1);
		return ZT_ERR_NOMEM;
	}
	s->cfg = cfg;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->res = res;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, stream_main, s) != 0) {
		free(s);
		atomic_fetch_sub(&running, 1);
		r = ZT_ERR_NOMEM;
	}
	pthread_attr_destroy(&attr);
	return r;
}
