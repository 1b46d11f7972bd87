/*
 * bench_libssh_exec.c - a benchmark-only program (make bench, bench/ssh_exec.mjs)
 * that measures resources/ssh_exec.c on its own: no MCP, no broker, no tunnel.
 * Each call opens a fresh TCP connection to sshd on 127.0.0.1 and runs
 * ssh_exec_run() on it, so a call pays what the broker's SSH leg pays: a new
 * Ed25519 key, a certificate signed by the CA, key exchange, authentication,
 * one exec channel.
 *
 *   bench_libssh_exec --ca-dir D --port P --host-key-file F --login L
 *       --calls N [--concurrency C] [--warmup W] [--timeout-ms T] -- COMMAND
 *
 * W sequential calls first (not measured), then N calls spread over C
 * threads. Prints one JSON line {calls, concurrency, wall_ms, latencies_ms,
 * failed, timed_out, first_error} (latencies in call order, milliseconds,
 * null for a call that failed) and exits 0. A call fails when it does not
 * end with status "ok" and exit code 0; one that ran out of T is counted as
 * timed out instead. The run goes on, so that a peer's failures under load
 * are counted rather than hidden. A failed warm-up call exits 1 (the setup
 * is wrong); usage errors exit 2.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/net.h"
#include "common/sshca.h"
#include "resources/ssh_exec.h"
#include "tests/unit/testutil.h"

#define BENCH_CALLS_MAX 100000
#define BENCH_THREADS_MAX 256
#define BENCH_ERROR_MAX 512

/* Shared by the worker threads; mu guards next, the counts and error. */
struct bench {
	const struct sshca *ca;
	const char *port, *host_key, *login, *command;
	int64_t timeout_ms;
	unsigned long calls;
	double *lat_ms;            /* calls entries, one per call index */
	pthread_mutex_t mu;
	unsigned long next;        /* next call index to run */
	unsigned long failed;      /* calls that failed, timed out ones excluded */
	unsigned long timed_out;
	char error[BENCH_ERROR_MAX];  /* the first failure's reason, "" if none */
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_libssh_exec --ca-dir D --port P --host-key-file F --login L\n"
	    "    --calls N [--concurrency C] [--warmup W] [--timeout-ms T] -- COMMAND\n");
	exit(2);
}

static unsigned long num(const char *s, unsigned long min, unsigned long max)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		usage();
	}
	return v;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Counts a failure (a time-out if r is ZT_ERR_TIMEOUT); keeps the first
 * one's reason. */
static void bench_fail(struct bench *b, unsigned long i, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void bench_fail(struct bench *b, unsigned long i, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	pthread_mutex_lock(&b->mu);
	if (r == ZT_ERR_TIMEOUT) {
		b->timed_out++;
	} else {
		b->failed++;
	}
	if (b->error[0] == '\0') {
		n = snprintf(b->error, sizeof(b->error), "call %lu: ", i);
		va_start(ap, fmt);
		vsnprintf(b->error + n, sizeof(b->error) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&b->mu);
}

/* One call on a fresh connection; 0 when the command ran and exited 0. */
static int one_call(struct bench *b, unsigned long i, double *ms)
{
	struct ssh_exec_req req;
	struct ssh_exec_result res;
	char call_id[64];
	double t0 = now_ms();
	int fd = -1, r;

	memset(&res, 0, sizeof(res));
	if ((r = net_connect("127.0.0.1", b->port, net_mono_ms() + b->timeout_ms, &fd)) != 0) {
		bench_fail(b, i, r, "connect to 127.0.0.1:%s: %s", b->port, zt_strerror(r));
		return r;
	}
	snprintf(call_id, sizeof(call_id), "bench-%ld-%lu", (long)getpid(), i);
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.host_key = b->host_key;
	req.ca = b->ca;
	req.login = b->login;
	req.command = b->command;
	req.identity = "bench";
	req.call_id = call_id;
	/* Unique per process and call; sshd only logs it. */
	req.serial = ((uint64_t)getpid() << 32) | (uint64_t)(i + 1);
	req.now = (uint64_t)time(NULL);
	req.timeout_ms = b->timeout_ms;
	r = ssh_exec_run(&req, &res);
	close(fd);
	*ms = now_ms() - t0;
	if (r != 0 || res.status != SSH_EXEC_OK || res.exit_code != 0) {
		r = r != 0 ? r : ZT_ERR_INVALID;
		bench_fail(b, i, r, "status %s, exit code %d: %.300s", ssh_exec_status_name(res.status),
		    res.exit_code, res.error[0] != '\0' ? res.error :
		    res.stderr_buf != NULL ? res.stderr_buf : "");
	}
	ssh_exec_result_free(&res);
	return r;
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	unsigned long i;
	double ms = 0;

	for (;;) {
		pthread_mutex_lock(&b->mu);
		if (b->next >= b->calls) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		i = b->next++;
		pthread_mutex_unlock(&b->mu);
		b->lat_ms[i] = one_call(b, i, &ms) == 0 ? ms : -1.0;
	}
	return NULL;
}

/* The result line (owned) or NULL. */
static char *result_json(const struct bench *b, unsigned long conc, double wall_ms)
{
	cJSON *o = NULL, *a = NULL;
	char *js = NULL;
	unsigned long i;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(o, "calls", (double)b->calls) == NULL ||
	    cJSON_AddNumberToObject(o, "concurrency", (double)conc) == NULL ||
	    cJSON_AddNumberToObject(o, "wall_ms", wall_ms) == NULL ||
	    cJSON_AddNumberToObject(o, "failed", (double)b->failed) == NULL ||
	    cJSON_AddNumberToObject(o, "timed_out", (double)b->timed_out) == NULL ||
	    (b->error[0] != '\0' ? cJSON_AddStringToObject(o, "first_error", b->error) :
	    cJSON_AddNullToObject(o, "first_error")) == NULL ||
	    (a = cJSON_AddArrayToObject(o, "latencies_ms")) == NULL) {
		goto out;
	}
	for (i = 0; i < b->calls; i++) {
		/* Microsecond resolution is plenty and keeps the line short. */
		cJSON *n = b->lat_ms[i] < 0 ? cJSON_CreateNull() :
		    cJSON_CreateNumber((double)(long long)(b->lat_ms[i] * 1000.0) / 1000.0);

		if (n == NULL || !cJSON_AddItemToArray(a, n)) {
			cJSON_Delete(n);
			goto out;
		}
	}
	js = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return js;
}

int main(int argc, char **argv)
{
	const char *ca_dir = NULL, *hk_file = NULL;
	unsigned long conc = 1, warmup = 0, port = 0, i, started = 0;
	struct sshca *ca = NULL;
	struct bench b;
	pthread_t th[BENCH_THREADS_MAX];
	char port_s[24], *hk = NULL, *js = NULL;
	double t0, wall = 0, ms = 0;
	int rc = 1;

	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.mu, NULL);
	b.timeout_ms = 30000;
	for (i = 1; i < (unsigned long)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			if (i + 2 != (unsigned long)argc || argv[i + 1][0] == '\0') {
				usage();
			}
			b.command = argv[i + 1];
			break;
		}
		if (i + 1 >= (unsigned long)argc) {
			usage();
		}
		if (strcmp(a, "--ca-dir") == 0) {
			ca_dir = argv[++i];
		} else if (strcmp(a, "--port") == 0) {
			port = num(argv[++i], 1, 65535);
		} else if (strcmp(a, "--host-key-file") == 0) {
			hk_file = argv[++i];
		} else if (strcmp(a, "--login") == 0) {
			b.login = argv[++i];
		} else if (strcmp(a, "--calls") == 0) {
			b.calls = num(argv[++i], 1, BENCH_CALLS_MAX);
		} else if (strcmp(a, "--concurrency") == 0) {
			conc = num(argv[++i], 1, BENCH_THREADS_MAX);
		} else if (strcmp(a, "--warmup") == 0) {
			warmup = num(argv[++i], 0, BENCH_CALLS_MAX);
		} else if (strcmp(a, "--timeout-ms") == 0) {
			b.timeout_ms = (int64_t)num(argv[++i], 1, 3600000);
		} else {
			usage();
		}
	}
	if (ca_dir == NULL || hk_file == NULL || b.login == NULL || b.command == NULL ||
	    port == 0 || b.calls == 0) {
		usage();
	}
	snprintf(port_s, sizeof(port_s), "%lu", port);
	b.port = port_s;
	if (sshca_load_or_create(ca_dir, &ca) != 0) {
		fprintf(stderr, "bench_libssh_exec: cannot load the CA from %s\n", ca_dir);
		goto out;
	}
	b.ca = ca;
	if ((hk = tu_first_line(hk_file)) == NULL) {
		fprintf(stderr, "bench_libssh_exec: cannot read %s\n", hk_file);
		goto out;
	}
	b.host_key = hk;
	if ((b.lat_ms = calloc(b.calls, sizeof(*b.lat_ms))) == NULL) {
		fprintf(stderr, "bench_libssh_exec: out of memory\n");
		goto out;
	}
	for (i = 0; i < warmup; i++) {
		if (one_call(&b, b.calls + i, &ms) != 0) {
			fprintf(stderr, "bench_libssh_exec: warm-up %s\n", b.error);
			goto out;
		}
	}
	t0 = now_ms();
	for (started = 0; started < conc; started++) {
		if (pthread_create(&th[started], NULL, worker, &b) != 0) {
			break;
		}
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
	}
	wall = now_ms() - t0;
	if (started < conc) {
		/* The calls ran, but not at the concurrency asked for. */
		fprintf(stderr, "bench_libssh_exec: started %lu of %lu threads\n", started, conc);
		goto out;
	}
	if ((js = result_json(&b, conc, wall)) == NULL) {
		fprintf(stderr, "bench_libssh_exec: out of memory\n");
		goto out;
	}
	printf("%s\n", js);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	free(js);
	free(b.lat_ms);
	free(hk);
	sshca_free(ca);
	pthread_mutex_destroy(&b.mu);
	return rc;
}
