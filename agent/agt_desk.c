/*
 * agt_desk.c - ztagent's desktop service (agt_desk.h): a table of warm RDP
 * sessions, each a ztrdp process spoken to over two pipes, and the loop
 * that answers a stream's requests with them.
 */
#include "agent/agt_desk.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agt_config.h"
#include "agent/agt_creds.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/net.h"
#include "tunnel/desk.h"

#define HELPER_NAME "ztrdp"
#define EXIT_WAIT_MS 2000   /* a closed helper's time to exit before SIGKILL */

extern char **environ;

struct session {
	char who[AGT_DESK_WHO_MAX + 1];
	size_t ires;                 /* its resource in cfg->resources */
	pid_t pid;                   /* the helper; 0 before it runs */
	int to, from;                /* its stdin (written here), its stdout */
	int64_t last_used;           /* net_mono_ms() */
	int busy;                    /* a request holds it */
	struct session *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct session *head;
	size_t n;
	int reaper;                  /* the idle reaper runs */
	int64_t idle_ms;
} desk = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* ---- one helper ---- */

/* Closes s's pipes and waits for its helper: EOF on its stdin ends it; one
 * that lingers is killed. Frees s. */
static void session_end(struct session *s)
{
	int64_t end = net_mono_ms() + EXIT_WAIT_MS;
	int st;

	if (s == NULL) {
		return;
	}
	if (s->to >= 0) {
		close(s->to);
	}
	if (s->from >= 0) {
		close(s->from);
	}
	while (s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == 0) {
		if (net_mono_ms() >= end) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
	}
	log_debug("desktop session of %s ended", s->who);
	free(s);
}

/* The helper's path: cfg's, else ztrdp beside this program. */
static int helper_path(const struct agt_config *cfg, char *out, size_t outsz)
{
	char self[1024];
	ssize_t n;

	if (cfg->rdp_helper != NULL) {
		snprintf(out, outsz, "%s", cfg->rdp_helper);
		return 0;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		return ZT_ERR_IO;
	}
	self[n] = '\0';
	if ((size_t)snprintf(out, outsz, "%s/%s", dirname(self), HELPER_NAME) >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	return 0;
}

/* Starts s's helper with a small environment of its own (the agent's may
 * hold a join token) and a private HOME under the data directory, where
 * FreeRDP may keep its settings, and of the agent's only ZT_RDP_DEBUG and
 * the sanitizers' settings. 0 or ZT_ERR_IO (why logged). */
static int helper_start(const struct agt_config *cfg, struct session *s)
{
	static const char *const passed[] = { "ZT_RDP_DEBUG", "ASAN_OPTIONS", "LSAN_OPTIONS",
	    "UBSAN_OPTIONS", NULL };
	char path[1024], home[1024], henv[1100];
	char *argv[] = { HELPER_NAME, NULL };
	char *envp[8] = { "PATH=/usr/bin:/bin", henv, NULL };
	size_t ne = 2;
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, r;

	if (helper_path(cfg, path, sizeof(path)) != 0) {
		log_error("cannot find the RDP helper %s", HELPER_NAME);
		return ZT_ERR_IO;
	}
	snprintf(home, sizeof(home), "%s/rdp", cfg->data_dir);
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", home, strerror(errno));
		return ZT_ERR_IO;
	}
	snprintf(henv, sizeof(henv), "HOME=%s", home);
	/* Only these of the agent's: its debug switch and the sanitizers'
	 * settings (make asan). */
	for (const char *const *k = passed; *k != NULL; k++) {
		for (char **e = environ; *e != NULL; e++) {
			if (strncmp(*e, *k, strlen(*k)) == 0 && (*e)[strlen(*k)] == '=') {
				envp[ne++] = *e;
				break;
			}
		}
	}
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		log_error("cannot make pipes for %s: %s", path, strerror(errno));
		r = ZT_ERR_IO;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	r = posix_spawn(&s->pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		log_error("cannot start the RDP helper %s: %s", path, strerror(r));
		s->pid = 0;
		r = ZT_ERR_IO;
		goto out;
	}
	s->to = in[1];
	s->from = out[0];
	in[1] = out[0] = -1;
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0) {
			close(in[i]);
		}
		if (out[i] >= 0) {
			close(out[i]);
		}
	}
	return r;
}

/* One request to s's helper: head (and body) out, its answer into *ans.
 * 0, or desk_write/desk_read's error (the helper is gone or stuck). */
static int helper_call(struct session *s, const cJSON *head, const void *body, size_t len,
    int timeout_ms, struct desk_frame *ans)
{
	int r;

	if ((r = desk_write(s->to, head, body, len)) != 0) {
		return r;
	}
	return desk_read(s->from, timeout_ms, ans);
}

/* Connects s's helper to its resource with the account of its credentials
 * file. 0 with *ans the helper's success, or an error with *ans the answer
 * to give (the helper's refusal, or the service's own). */
static int session_connect(const struct agt_config *cfg, struct session *s,
    struct desk_frame *ans)
{
	const struct tun_resource *res = &cfg->resources[s->ires];
	char host[NET_HOST_MAX], port[8], err[AGT_CONFIG_ERR_MAX];
	struct agt_rdp_creds cr;
	cJSON *head = NULL;
	int r, ok = 0;

	memset(ans, 0, sizeof(*ans));
	if (cfg->credentials[s->ires] == NULL ||
	    (r = agt_rdp_creds_load(cfg->credentials[s->ires], &cr, err, sizeof(err))) != 0) {
		log_error("desktop %s: %s", res->name, cfg->credentials[s->ires] != NULL ? err :
		    "no credentials_file");
		ans->head = desk_failure("credentials", "the agent cannot read the account of desktop %s "
		    "(its log says why)", res->name);
		return ZT_ERR_IO;
	}
	if (net_split_hostport(res->address, host, sizeof(host), port, sizeof(port)) != 0) {
		agt_rdp_creds_wipe(&cr);
		ans->head = desk_failure("protocol", "bad address %s of %s", res->address, res->name);
		return ZT_ERR_INVALID;
	}
	if ((r = helper_start(cfg, s)) != 0) {
		agt_rdp_creds_wipe(&cr);
		ans->head = desk_failure("helper", "the agent cannot start its RDP helper (its log says "
		    "why)");
		return r;
	}
	if ((head = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(head, "op", "connect");
		cJSON_AddStringToObject(head, "host", host);
		cJSON_AddNumberToObject(head, "port", atoi(port));
		cJSON_AddStringToObject(head, "username", cr.username);
		if (cr.nla_hash[0] != '\0') {
			cJSON_AddStringToObject(head, "nla_hash", cr.nla_hash);
		} else {
			cJSON_AddStringToObject(head, "password", cr.password);
		}
		cJSON_AddStringToObject(head, "domain", cr.domain);
		cJSON_AddStringToObject(head, "cert_pin", res->cert_pin);
		cJSON_AddStringToObject(head, "security", cr.nla_hash[0] != '\0' ? "nla" : "any");
		cJSON_AddNumberToObject(head, "width", AGT_DESK_WIDTH);
		cJSON_AddNumberToObject(head, "height", AGT_DESK_HEIGHT);
		cJSON_AddNumberToObject(head, "timeout_ms", AGT_DESK_CONNECT_MS);
	}
	agt_rdp_creds_wipe(&cr);
	if (head == NULL) {
		ans->head = desk_failure("helper", "out of memory");
		return ZT_ERR_NOMEM;
	}
	r = helper_call(s, head, NULL, 0, AGT_DESK_CONNECT_MS + 5000, ans);
	json_delete_wiped(head);
	if (r != 0) {
		log_warn("desktop %s: the RDP helper did not answer its connect: %s", res->name,
		    zt_strerror(r));
		ans->head = desk_failure("helper", "the RDP helper stopped while connecting to %s",
		    res->name);
		return r;
	}
	if (json_get_bool(ans->head, "ok", &ok) != 0 || !ok) {
		return ZT_ERR_NET;
	}
	log_info("desktop %s: connected for %s", res->name, s->who);
	desk_frame_clear(ans);
	return 0;
}

/* ---- the table ---- */

/* Unlinks s. Caller holds the mutex. */
static void unlink_session(struct session *s)
{
	for (struct session **pp = &desk.head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			desk.n--;
			return;
		}
	}
}

static struct session *find(const char *who, size_t ires)
{
	for (struct session *s = desk.head; s != NULL; s = s->next) {
		if (s->ires == ires && strcmp(s->who, who) == 0) {
			return s;
		}
	}
	return NULL;
}

/* Ends the sessions no request holds that were idle since before
 * idle_before (net_mono_ms() time; INT64_MAX: all of them). */
static void sweep(int64_t idle_before)
{
	struct session *gone = NULL, *s, *next;

	pthread_mutex_lock(&desk.mu);
	for (s = desk.head; s != NULL; s = next) {
		next = s->next;
		if (!s->busy && s->last_used < idle_before) {
			unlink_session(s);
			s->next = gone;
			gone = s;
		}
	}
	pthread_mutex_unlock(&desk.mu);
	for (s = gone; s != NULL; s = next) {
		next = s->next;
		session_end(s);
	}
}

/* Every second: ends sessions idle too long. A helper that died between
 * requests is found by the next request, which says so to its caller (the
 * desktop may have changed meanwhile) and leaves the one after to connect
 * again. */
static void *reaper_main(void *arg)
{
	(void)arg;
	for (;;) {
		sleep(1);
		sweep(net_mono_ms() - desk.idle_ms);
	}
	return NULL;
}

/* Takes the session of (who, ires), waiting while another request holds
 * it, or a new unconnected one (pid 0) to connect. NULL when the table is
 * full. */
static struct session *acquire(const struct agt_config *cfg, const char *who, size_t ires)
{
	struct session *s;
	pthread_t th;

	pthread_mutex_lock(&desk.mu);
	if (!desk.reaper) {
		desk.idle_ms = cfg->rdp_idle_ms > 0 ? cfg->rdp_idle_ms : AGT_DESK_IDLE_DEFAULT_MS;
		if (pthread_create(&th, NULL, reaper_main, NULL) == 0) {
			pthread_detach(th);
			desk.reaper = 1;
		}
	}
	while ((s = find(who, ires)) != NULL && s->busy) {
		pthread_cond_wait(&desk.cv, &desk.mu);
	}
	if (s == NULL && desk.n < AGT_DESK_SESSIONS_MAX && (s = calloc(1, sizeof(*s))) != NULL) {
		snprintf(s->who, sizeof(s->who), "%s", who);
		s->ires = ires;
		s->to = s->from = -1;
		s->next = desk.head;
		desk.head = s;
		desk.n++;
	}
	if (s != NULL) {
		s->busy = 1;
	}
	pthread_mutex_unlock(&desk.mu);
	return s;
}

/* Gives s back; keep 0 ends it (its helper failed, or the caller closed
 * it). */
static void release(struct session *s, int keep)
{
	pthread_mutex_lock(&desk.mu);
	s->busy = 0;
	s->last_used = net_mono_ms();
	if (!keep) {
		unlink_session(s);
	}
	pthread_cond_broadcast(&desk.cv);
	pthread_mutex_unlock(&desk.mu);
	if (!keep) {
		session_end(s);
	}
}

void agt_desk_shutdown(void)
{
	/* A session a request holds is that request's: its helper sees its
	 * pipes close when this process ends. */
	sweep(INT64_MAX);
}

/* ---- a stream's requests ---- */

/* Runs one screenshot or input request of who on its session; *ans the
 * answer to send back. */
static void run_request(const struct agt_config *cfg, size_t ires, const char *who,
    struct desk_frame *req, struct desk_frame *ans)
{
	const char *name = cfg->resources[ires].name, *code = NULL;
	struct session *s;
	int r, ok = 0;

	memset(ans, 0, sizeof(*ans));
	if ((s = acquire(cfg, who, ires)) == NULL) {
		ans->head = desk_failure("busy", "agent at its limit of %d desktop sessions",
		    AGT_DESK_SESSIONS_MAX);
		return;
	}
	if (s->pid == 0 && session_connect(cfg, s, ans) != 0) {
		release(s, 0);
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(req->head, "session");
	r = helper_call(s, req->head, req->body, req->body_len, AGT_DESK_CALL_MS, ans);
	if (r != 0) {
		log_warn("desktop %s: the RDP helper of %s stopped: %s", name, who, zt_strerror(r));
		ans->head = desk_failure("disconnected", "the desktop session on %s ended (its RDP "
		    "helper stopped); the next call connects again", name);
		release(s, 0);
		return;
	}
	(void)json_get_bool(ans->head, "ok", &ok);
	(void)json_get_str(ans->head, "code", 64, 0, &code);
	/* A failed request leaves the session usable, unless the desktop went. */
	release(s, ok || code == NULL || strcmp(code, "disconnected") != 0);
}

/* Ends who's session on ires, if there is one (waiting for a request that
 * holds it). */
static void close_session(size_t ires, const char *who)
{
	struct session *s;

	pthread_mutex_lock(&desk.mu);
	while ((s = find(who, ires)) != NULL && s->busy) {
		pthread_cond_wait(&desk.cv, &desk.mu);
	}
	if (s != NULL) {
		unlink_session(s);
	}
	pthread_mutex_unlock(&desk.mu);
	session_end(s);
}

/* 1 if who is an identity's name as the broker writes them: printable
 * ASCII, no space. */
static int who_valid(const char *who)
{
	for (const char *p = who; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~') {
			return 0;
		}
	}
	return who[0] != '\0';
}

void agt_desk_serve(const struct agt_config *cfg, size_t ires, int fd)
{
	struct desk_frame req, ans;
	const char *op = NULL, *who = NULL;
	char whobuf[AGT_DESK_WHO_MAX + 1];
	int r;

	for (;;) {
		memset(&ans, 0, sizeof(ans));
		if ((r = desk_read(fd, -1, &req)) != 0) {
			if (r != ZT_ERR_OFFLINE) {
				log_warn("desktop stream for %s ended: %s", cfg->resources[ires].name,
				    zt_strerror(r));
			}
			return;
		}
		if (json_get_str(req.head, "op", 32, 0, &op) != 0 ||
		    json_get_str(req.head, "session", AGT_DESK_WHO_MAX, 0, &who) != 0 ||
		    !who_valid(who)) {
			ans.head = desk_failure("protocol", "a request needs op and session");
		} else if (snprintf(whobuf, sizeof(whobuf), "%s", who) < 0) {
			ans.head = desk_failure("protocol", "bad session");
		} else if (strcmp(op, "close") == 0) {
			close_session(ires, whobuf);
			if ((ans.head = cJSON_CreateObject()) != NULL) {
				cJSON_AddBoolToObject(ans.head, "ok", 1);
			}
		} else if (strcmp(op, "screenshot") == 0 || strcmp(op, "input") == 0) {
			run_request(cfg, ires, whobuf, &req, &ans);
		} else {
			ans.head = desk_failure("protocol", "unknown op");
		}
		desk_frame_clear(&req);
		r = ans.head != NULL ? desk_write(fd, ans.head, ans.body, ans.body_len) :
		    ZT_ERR_NOMEM;
		desk_frame_clear(&ans);
		if (r != 0) {
			return;
		}
	}
}
