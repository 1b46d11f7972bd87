/*
 * cli_fwd.c - local ports forwarded through the broker (cli_fwd.h).
 */
#include "cli/cli_fwd.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli_cmd_approve.h"
#include "cli/cli_out.h"
#include "cli/cli_ws.h"
#include "common/crypto.h"
#include "common/err.h"

#define OPEN_TIMEOUT_MS 15000
#define CHUNK (32 * 1024)

#define CONNS_MAX 256                   /* forwarded connections at once */

struct cli_fwds {
	struct cli_fwd_spec specs[CLI_FWD_MAX];
	int fds[CLI_FWD_MAX];
	size_t n;
	char *broker, *pin, *token, *host, *login;
	int may_ask;
	/* The forwards running, and whether they should end. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t running;
	int stopping;
};

/* One accepted connection and what it is forwarded to. */
struct conn {
	const struct cli_fwds *f;
	const struct cli_fwd_spec *spec;
	int fd;
};

/* ---- the spec ---- */

/* The next field of a spec: up to ':' (an [IPv6] in brackets whole) into
 * out; *p moves past it. 0 or ZT_ERR_INVALID. */
static int field(const char **p, char *out, size_t outsz)
{
	const char *s = *p, *end;
	size_t n;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			return ZT_ERR_INVALID;
		}
		s++;
		n = (size_t)(end - s);
		end++;
	} else {
		end = strchr(s, ':');
		end = end != NULL ? end : s + strlen(s);
		n = (size_t)(end - s);
	}
	if (n == 0 || n >= outsz || (*end != ':' && *end != '\0')) {
		return ZT_ERR_INVALID;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	*p = *end == ':' ? end + 1 : end;
	return 0;
}

static int port_of(const char *s, int *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) {
		return ZT_ERR_INVALID;
	}
	*port = (int)v;
	return 0;
}

int cli_fwd_parse(const char *text, struct cli_fwd_spec *out)
{
	char f[4][256];
	const char *p = text;
	int n = 0;

	memset(out, 0, sizeof(*out));
	while (*p != '\0' && n < 4) {
		if (field(&p, f[n], sizeof(f[n])) != 0) {
			return ZT_ERR_INVALID;
		}
		n++;
	}
	if (*p != '\0' || n < 3) {
		return ZT_ERR_INVALID;
	}
	snprintf(out->bind, sizeof(out->bind), "%s", n == 4 ? f[0] : "127.0.0.1");
	if (port_of(f[n - 3], &out->port) != 0 || port_of(f[n - 1], &out->to_port) != 0 ||
	    strlen(f[n - 2]) >= sizeof(out->to_host)) {
		return ZT_ERR_INVALID;
	}
	snprintf(out->to_host, sizeof(out->to_host), "%s", f[n - 2]);
	return 0;
}

/* ---- a forward ---- */

static int stopping(const struct cli_fwds *f)
{
	int s;

	pthread_mutex_lock((pthread_mutex_t *)&f->mu);
	s = f->stopping;
	pthread_mutex_unlock((pthread_mutex_t *)&f->mu);
	return s;
}

/* The caller's code for held request id, one prompt at a time. */
static void ask_code(const char *id)
{
	static pthread_mutex_t prompt = PTHREAD_MUTEX_INITIALIZER;
	int stepped_up;

	if (id != NULL) {
		pthread_mutex_lock(&prompt);
		(void)cli_approve_send("ssh", id, NULL, 0, NULL, &stepped_up);
		pthread_mutex_unlock(&prompt);
	}
}

/* The request, then the broker's answer until it runs. 0, or an error
 * printed. */
static int start(struct conn *c, struct cli_ws *ws)
{
	char clean[512];
	cJSON *j = cJSON_CreateObject();
	struct ws_event ev;
	int r;

	if (j == NULL) {
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(j, "host", c->f->host);
	cJSON_AddStringToObject(j, "login", c->f->login);
	cJSON_AddStringToObject(j, "to_host", c->spec->to_host);
	cJSON_AddNumberToObject(j, "to_port", c->spec->to_port);
	r = cli_ws_send_json(ws, j);
	cJSON_Delete(j);
	for (int waited = 0; r == 0 && waited < 60000 && !stopping(c->f); waited += 500) {
		const char *type = NULL, *msg;

		if ((r = cli_ws_recv(ws, 500, &ev)) != 1) {
			continue;
		}
		if (cli_ws_control(&ev, &j, &type) != 0) {
			r = 0;
			continue;
		}
		msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
		if (strcmp(type, "started") == 0) {
			cJSON_Delete(j);
			return 0;
		}
		if (msg != NULL) {
			fprintf(stderr, "ztctl: forward to %s:%d: %s\r\n", c->spec->to_host,
			    c->spec->to_port, cli_clean(msg, 0, clean, sizeof(clean)));
		}
		r = strcmp(type, "held") == 0 ? 0 : ZT_ERR_DENIED;
		if (r == 0 && c->f->may_ask &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "self_stepup"))) {
			ask_code(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id")));
		}
		cJSON_Delete(j);
	}
	return r != 0 ? r : ZT_ERR_TIMEOUT;
}

/* Bytes both ways until either side ends, or ztctl does. */
static void relay(struct conn *c, struct cli_ws *ws)
{
	uint8_t buf[CHUNK];
	int local_open = 1;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = cli_ws_fd(ws), .events = POLLIN },
			{ .fd = local_open ? c->fd : -1, .events = POLLIN },
		};
		struct ws_event ev;
		int r;

		while ((r = cli_ws_recv(ws, 0, &ev)) == 1) {
			if (ev.kind == WS_BINARY) {
				for (size_t done = 0; done < ev.len;) {
					ssize_t w = send(c->fd, ev.data + done, ev.len - done, MSG_NOSIGNAL);

					if (w <= 0) {
						return;
					}
					done += (size_t)w;
				}
			}
		}
		if (r < 0) {
			return;         /* the far end closed, or the broker ended it */
		}
		if (stopping(c->f)) {
			return;
		}
		if (poll(p, 2, 200) <= 0 || !(p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			continue;
		}
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			if (cli_ws_send(ws, WS_OP_BINARY, buf, (size_t)n) != 0) {
				return;
			}
		} else if (n == 0 || errno != EINTR) {
			local_open = 0;
			if (cli_ws_send(ws, WS_OP_TEXT, "{\"type\":\"eof\"}", 14) != 0) {
				return;
			}
		}
	}
}

static void *forward(void *arg)
{
	struct conn *c = arg;
	struct cli_fwds *f = (struct cli_fwds *)c->f;
	struct cli_ws *ws = NULL;
	char err[512];

	if (cli_ws_open(c->f->broker, c->f->pin, "/ws/tcp", c->f->token, OPEN_TIMEOUT_MS, &ws,
	    NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "ztctl: forward to %s:%d: %s\r\n", c->spec->to_host, c->spec->to_port,
		    err);
	} else if (start(c, ws) == 0) {
		relay(c, ws);
	}
	cli_ws_close(ws);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&f->mu);
	if (--f->running == 0) {
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* ---- listening ---- */

static int listen_on(const struct cli_fwd_spec *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1;

	snprintf(port, sizeof(port), "%d", s->port);
	if (getaddrinfo(s->bind, port, &hints, &ai) != 0) {
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int cli_fwds_listen(const struct cli_fwd_spec *specs, size_t n,
    const struct cli_fwd_target *to, struct cli_fwds **out, char *err, size_t errsz)
{
	struct cli_fwds *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f != NULL) {
		pthread_mutex_init(&f->mu, NULL);
		pthread_cond_init(&f->cv, NULL);
		f->may_ask = to->may_ask;
	}
	if (f == NULL || n > CLI_FWD_MAX || (f->broker = strdup(to->broker)) == NULL ||
	    (f->pin = strdup(to->pin)) == NULL || (f->token = strdup(to->token)) == NULL ||
	    (f->host = strdup(to->host)) == NULL || (f->login = strdup(to->login)) == NULL) {
		cli_fwds_close(f);
		snprintf(err, errsz, "out of memory");
		return ZT_ERR_NOMEM;
	}
	for (; f->n < n; f->n++) {
		f->specs[f->n] = specs[f->n];
		if ((f->fds[f->n] = listen_on(&specs[f->n])) < 0) {
			snprintf(err, errsz, "cannot listen on %s port %d: %s", specs[f->n].bind,
			    specs[f->n].port, strerror(errno));
			cli_fwds_close(f);
			return ZT_ERR_NET;
		}
	}
	*out = f;
	return 0;
}

size_t cli_fwds_pollfds(const struct cli_fwds *f, struct pollfd *p, size_t max)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n && i < max; i++) {
		p[i] = (struct pollfd){ .fd = f->fds[i], .events = POLLIN };
	}
	return i;
}

void cli_fwds_accept(struct cli_fwds *f, int fd)
{
	pthread_attr_t at;
	pthread_t t;
	struct conn *c;
	int cfd;

	for (size_t i = 0; i < f->n; i++) {
		if (f->fds[i] != fd || (cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			return;
		}
		*c = (struct conn){ .f = f, .spec = &f->specs[i], .fd = cfd };
		pthread_mutex_lock(&f->mu);
		if (f->running >= CONNS_MAX) {
			pthread_mutex_unlock(&f->mu);
			fprintf(stderr, "ztctl: %d forwarded connections already; refused one\r\n",
			    CONNS_MAX);
			close(cfd);
			free(c);
			continue;
		}
		f->running++;
		pthread_mutex_unlock(&f->mu);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, forward, c) != 0) {
			close(cfd);
			free(c);
			pthread_mutex_lock(&f->mu);
			f->running--;
			pthread_mutex_unlock(&f->mu);
		}
		pthread_attr_destroy(&at);
	}
}

void cli_fwds_close(struct cli_fwds *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		close(f->fds[i]);
	}
	/* The forwards running end within a poll's wait (relay). */
	pthread_mutex_lock(&f->mu);
	f->stopping = 1;
	while (f->running > 0) {
		pthread_cond_wait(&f->cv, &f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f->broker);
	free(f->pin);
	crypto_free_str(f->token);
	free(f->host);
	free(f->login);
	free(f);
}
