/*
 * ssh_exec_once.c - a test-only program that runs one command through
 * resources/ssh_exec.c against a real sshd on 127.0.0.1 and prints the result
 * as one JSON object, so the end-to-end tests can drive ssh_exec_run().
 *
 *   ssh_exec_once --ca-dir D --port P --host-key-file F --login L --timeout-ms T
 *       [--max-output N] [--cancel-after-ms M] [--identity I] [--call-id C]
 *       [--serial S] -- COMMAND
 *
 * Prints {status, exit_code, stdout, stderr, truncated_stdout, truncated_stderr,
 * duration_ms, serial, key_id, error, progress_calls, progress_last_out} and exits 0
 * whenever it printed it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/net.h"
#include "common/sshca.h"
#include "resources/ssh_exec.h"
#include "tests/unit/testutil.h"

struct cancel_state {
	struct timespec start;
	long after_ms;          /* < 0: never cancel */
	int progress_calls;
	size_t last_out;        /* stdout bytes at the last progress call */
};

static void usage(void)
{
	fprintf(stderr, "usage: ssh_exec_once --ca-dir D --port P --host-key-file F --login L\n"
	    "    --timeout-ms T [--max-output N] [--cancel-after-ms M] [--identity I]\n"
	    "    [--call-id C] [--serial S] -- COMMAND\n");
	exit(2);
}

static unsigned long long num(const char *s)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		usage();
	}
	return v;
}

static int cancel_cb(void *arg)
{
	struct cancel_state *c = arg;
	struct timespec now;
	long ms;

	if (c->after_ms < 0) {
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - c->start.tv_sec) * 1000 + (now.tv_nsec - c->start.tv_nsec) / 1000000;
	return ms >= c->after_ms;
}

static void progress_cb(void *arg, size_t out_bytes, size_t err_bytes, int64_t elapsed_ms)
{
	struct cancel_state *c = arg;

	(void)err_bytes;
	(void)elapsed_ms;
	c->progress_calls++;
	c->last_out = out_bytes;
}

int main(int argc, char **argv)
{
	const char *ca_dir = NULL, *hk_file = NULL, *login = NULL, *command = NULL;
	const char *identity = "user:e2e", *call_id = NULL;
	unsigned long long port = 0, timeout_ms = 0, max_output = 0, serial = 0;
	long cancel_after = -1;
	struct sshca *ca = NULL;
	struct ssh_exec_req req;
	struct ssh_exec_result res;
	struct cancel_state cs;
	char *hk = NULL, *js = NULL, cid[64], portstr[8];
	cJSON *o = NULL;
	int i, r, fd = -1, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 2 != argc) {
				usage();
			}
			command = argv[i + 1];
			break;
		}
		if (i + 1 >= argc) {
			usage();
		}
		if (strcmp(argv[i], "--ca-dir") == 0) {
			ca_dir = argv[++i];
		} else if (strcmp(argv[i], "--port") == 0) {
			port = num(argv[++i]);
		} else if (strcmp(argv[i], "--host-key-file") == 0) {
			hk_file = argv[++i];
		} else if (strcmp(argv[i], "--login") == 0) {
			login = argv[++i];
		} else if (strcmp(argv[i], "--timeout-ms") == 0) {
			timeout_ms = num(argv[++i]);
		} else if (strcmp(argv[i], "--max-output") == 0) {
			max_output = num(argv[++i]);
		} else if (strcmp(argv[i], "--cancel-after-ms") == 0) {
			cancel_after = (long)num(argv[++i]);
		} else if (strcmp(argv[i], "--identity") == 0) {
			identity = argv[++i];
		} else if (strcmp(argv[i], "--call-id") == 0) {
			call_id = argv[++i];
		} else if (strcmp(argv[i], "--serial") == 0) {
			serial = num(argv[++i]);
		} else {
			usage();
		}
	}
	if (ca_dir == NULL || hk_file == NULL || login == NULL || command == NULL ||
	    port == 0 || port > 65535 || timeout_ms == 0) {
		usage();
	}
	if (call_id == NULL) {
		snprintf(cid, sizeof(cid), "%ld-%ld", (long)getpid(), (long)time(NULL));
		call_id = cid;
	}
	if (serial == 0) {
		serial = (unsigned long long)time(NULL) * 1000 + (unsigned long long)getpid() % 1000;
	}
	if (sshca_load_or_create(ca_dir, &ca) != 0) {
		fprintf(stderr, "ssh_exec_once: cannot load CA from %s\n", ca_dir);
		goto out;
	}
	if ((hk = tu_first_line(hk_file)) == NULL) {
		fprintf(stderr, "ssh_exec_once: cannot read %s\n", hk_file);
		goto out;
	}
	snprintf(portstr, sizeof(portstr), "%llu", port);
	if ((r = net_connect("127.0.0.1", portstr, net_mono_ms() + (int64_t)timeout_ms, &fd)) != 0) {
		fprintf(stderr, "ssh_exec_once: connect to port %llu: %s\n", port, zt_strerror(r));
		fd = -1;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.host_key = hk;
	req.ca = ca;
	req.login = login;
	req.command = command;
	req.identity = identity;
	req.call_id = call_id;
	req.serial = serial;
	req.now = (uint64_t)time(NULL);
	req.timeout_ms = (int64_t)timeout_ms;
	req.max_output = (size_t)max_output;
	memset(&cs, 0, sizeof(cs));
	clock_gettime(CLOCK_MONOTONIC, &cs.start);
	cs.after_ms = cancel_after;
	req.cancelled = cancel_cb;
	req.progress = progress_cb;
	req.arg = &cs;
	(void)ssh_exec_run(&req, &res);
	if ((o = cJSON_CreateObject()) == NULL) {
		ssh_exec_result_free(&res);
		goto out;
	}
	cJSON_AddStringToObject(o, "status", ssh_exec_status_name(res.status));
	cJSON_AddNumberToObject(o, "exit_code", res.exit_code);
	cJSON_AddStringToObject(o, "stdout", res.stdout_buf ? res.stdout_buf : "");
	cJSON_AddStringToObject(o, "stderr", res.stderr_buf ? res.stderr_buf : "");
	cJSON_AddNumberToObject(o, "stdout_len", (double)res.stdout_len);
	cJSON_AddNumberToObject(o, "stderr_len", (double)res.stderr_len);
	cJSON_AddBoolToObject(o, "truncated_stdout", res.truncated_stdout);
	cJSON_AddBoolToObject(o, "truncated_stderr", res.truncated_stderr);
	cJSON_AddNumberToObject(o, "duration_ms", (double)res.duration_ms);
	cJSON_AddNumberToObject(o, "serial", (double)res.serial);
	cJSON_AddStringToObject(o, "key_id", res.key_id);
	cJSON_AddStringToObject(o, "error", res.error);
	cJSON_AddNumberToObject(o, "progress_calls", cs.progress_calls);
	cJSON_AddNumberToObject(o, "progress_last_out", (double)cs.last_out);
	ssh_exec_result_free(&res);
	if ((js = cJSON_PrintUnformatted(o)) == NULL) {
		goto out;
	}
	printf("%s\n", js);
	rc = 0;
out:
	cJSON_Delete(o);
	free(js);
	free(hk);
	if (fd >= 0) {
		close(fd);
	}
	sshca_free(ca);
	return rc;
}
