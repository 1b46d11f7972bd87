/*
 * ssh_shell_once.c - a test-only program that drives resources/ssh_shell.c
 * against a real sshd on 127.0.0.1 (a fresh certificate, as the broker
 * mints one), so the end-to-end tests can check a terminal session without
 * the broker: steps in order, then the output and the exit as one JSON
 * object.
 *
 *   ssh_shell_once --ca-dir D --port P --host-key-file F --login L
 *       [--no-pty] [--term T] [--size COLSxROWS] [--command C]
 *       STEP...
 *
 * STEP is --send TEXT (typed as is), --expect TEXT (read until the output
 * since the last --expect holds TEXT; 10 s at most), --resize COLSxROWS or
 * --eof (end the input). After the steps it reads until the host ends
 * (10 s at most) and prints {output, stderr, exit_code, signal, error};
 * exits 0 when it printed that, 1 otherwise, 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_shell.h"
#include "tests/tools/lib/tool_ssh.h"

#define STEP_MS 10000

static void usage(void)
{
	fprintf(stderr, "usage: ssh_shell_once --ca-dir D --port P --host-key-file F --login L\n"
	    "    [--no-pty] [--term T] [--size CxR] [--command C] [--send T | --expect T |\n"
	    "    --resize CxR | --eof]...\n");
	exit(2);
}

static int dims(const char *s, int *c, int *r)
{
	return sscanf(s, "%dx%d", c, r) == 2 ? 0 : -1;
}

/* Reads what comes for up to ms into out / err; stops early when mark
 * (may be NULL) shows up in out from byte from on, or at the end. 1 when
 * it ended, 0 when not, -1 on failure. */
static int pump(struct ssh_shell *sh, struct buf *out, struct buf *err, const char *mark,
    size_t from, int64_t ms)
{
	int64_t until = net_mono_ms() + ms;
	char chunk[4096];
	ssize_t n;
	int is_err = 0;

	while (net_mono_ms() < until) {
		while ((n = ssh_shell_read(sh, chunk, sizeof(chunk), &is_err)) > 0) {
			if (buf_put(is_err ? err : out, chunk, (size_t)n) != 0) {
				return -1;
			}
		}
		if (n == SSH_SHELL_EOF) {
			return 1;
		}
		if (n < 0) {
			return -1;
		}
		if (mark != NULL && buf_len(out) > from &&
		    memmem(buf_ptr(out) + from, buf_len(out) - from, mark, strlen(mark)) != NULL) {
			return 0;
		}
		(void)ssh_shell_wait(sh, -1, 100);
	}
	return mark != NULL ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct tool_ssh_args ta = { NULL, NULL, NULL, 0 };
	struct tool_ssh t = { .fd = -1 };
	struct ssh_shell_req sr = { .pty = 1, .term = "xterm-256color", .cols = 80, .rows = 24,
	    .timeout_ms = STEP_MS };
	struct ssh_shell *sh = NULL;
	struct buf *out = buf_new(1 << 20), *err = buf_new(1 << 20);
	char error[256] = "", sig[SSH_SHELL_SIG_MAX] = "", *js;
	int i, k, first_step = argc, ended = 0, code = -1, rc = 1;
	size_t from = 0;
	cJSON *o;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-pty") == 0) {
			sr.pty = 0;
			continue;
		}
		if (strcmp(argv[i], "--send") == 0 || strcmp(argv[i], "--expect") == 0 ||
		    strcmp(argv[i], "--resize") == 0 || strcmp(argv[i], "--eof") == 0) {
			first_step = i;
			break;
		}
		if ((k = tool_ssh_arg(&ta, argc, argv, &i)) < 0) {
			usage();
		} else if (k == 1) {
			continue;
		}
		if (strcmp(argv[i], "--term") == 0) {
			sr.term = argv[++i];
		} else if (strcmp(argv[i], "--size") == 0) {
			if (dims(argv[++i], &sr.cols, &sr.rows) != 0) {
				usage();
			}
		} else if (strcmp(argv[i], "--command") == 0) {
			sr.command = argv[++i];
		} else {
			usage();
		}
	}
	if (!tool_ssh_args_ok(&ta) || out == NULL || err == NULL) {
		usage();
	}
	if (tool_ssh_open(&ta, "shell", 0, STEP_MS, &t, error, sizeof(error)) != 0) {
		/* error says why, in the JSON below */
	} else if (ssh_shell_open(t.conn, &sr, &sh, error, sizeof(error)) == 0) {
		for (i = first_step; i < argc && error[0] == '\0'; i++) {
			int c, r;

			if (strcmp(argv[i], "--eof") == 0) {
				(void)ssh_shell_send_eof(sh);
			} else if (i + 1 >= argc) {
				usage();
			} else if (strcmp(argv[i], "--send") == 0) {
				if (ssh_shell_write(sh, argv[i + 1], strlen(argv[i + 1]), STEP_MS) != 0) {
					snprintf(error, sizeof(error), "write failed");
				}
				i++;
			} else if (strcmp(argv[i], "--expect") == 0) {
				if (pump(sh, out, err, argv[i + 1], from, STEP_MS) != 0) {
					snprintf(error, sizeof(error), "did not see %s", argv[i + 1]);
				}
				from = buf_len(out);
				i++;
			} else if (strcmp(argv[i], "--resize") == 0) {
				if (dims(argv[i + 1], &c, &r) != 0 || ssh_shell_resize(sh, c, r) != 0) {
					snprintf(error, sizeof(error), "resize failed");
				}
				i++;
			} else {
				usage();
			}
		}
		if (error[0] == '\0' && (ended = pump(sh, out, err, NULL, 0, STEP_MS)) == 1) {
			code = ssh_shell_exit(sh, sig, sizeof(sig));
		} else if (error[0] == '\0') {
			snprintf(error, sizeof(error), "the host did not end the session");
		}
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		goto out;
	}
	buf_put(out, "", 1);
	buf_put(err, "", 1);
	cJSON_AddStringToObject(o, "output", (const char *)buf_ptr(out));
	cJSON_AddStringToObject(o, "stderr", (const char *)buf_ptr(err));
	cJSON_AddNumberToObject(o, "exit_code", code);
	cJSON_AddStringToObject(o, "signal", sig);
	cJSON_AddStringToObject(o, "error", error);
	if ((js = cJSON_PrintUnformatted(o)) != NULL) {
		printf("%s\n", js);
		free(js);
		rc = 0;
	}
	cJSON_Delete(o);
out:
	ssh_shell_close(sh);
	tool_ssh_close(&t);
	buf_free(out);
	buf_free(err);
	return rc;
}
