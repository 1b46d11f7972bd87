/*
 * ssh_forward_once.c - a test-only program that drives
 * resources/ssh_forward.c against a real sshd on 127.0.0.1 (a fresh
 * certificate, as the broker mints one), so the end-to-end tests can check
 * a forward without the broker: it opens a direct-tcpip channel to
 * TO_HOST:TO_PORT as the host sees it, writes all of its stdin through,
 * ends its side, and writes to stdout what comes back until the far end
 * closes.
 *
 *   ssh_forward_once --ca-dir D --port P --host-key-file F --login L
 *       --to-port N [--to-host H] [--no-permit] [--refused-first M]
 *
 * --no-permit leaves permit-port-forwarding out of the certificate.
 * --refused-first M first opens a forward to 127.0.0.1:M on the same
 * connection, which the host must refuse, to show the connection is still
 * usable after a refusal.
 * Exits 0 when the far end closed after the bytes came back (stderr then
 * says "sent N received M"); otherwise stderr says "ssh_forward_once:
 * <what>: <message>" and it exits 3 when the host refused the
 * forward (ZT_ERR_DENIED), 4 when the request was bad (ZT_ERR_INVALID),
 * 1 on any other failure, 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/net.h"
#include "resources/ssh_forward.h"
#include "tests/tools/lib/tool_ssh.h"

#define STEP_MS 10000
#define INPUT_MAX (64 << 20)    /* bytes of stdin taken */
#define CHUNK (32 << 10)        /* bytes written between reads */

static void usage(void)
{
	fprintf(stderr, "usage: ssh_forward_once --ca-dir D --port P --host-key-file F --login L\n"
	    "    --to-port N [--to-host H] [--no-permit] [--refused-first M]\n");
	exit(2);
}

/* All of stdin into in. 0, or -1 when it is over INPUT_MAX or unreadable. */
static int slurp(struct buf *in)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(0, chunk, sizeof(chunk))) > 0) {
		if (buf_put(in, chunk, (size_t)n) != 0) {
			return -1;
		}
	}
	return n == 0 ? 0 : -1;
}

/* Takes what arrived into out, without waiting. 1 at the far end's EOF,
 * 0 when nothing more is there now, or a ZT_ERR_*. */
static int drain(struct ssh_forward *f, struct buf *out)
{
	char chunk[65536];
	ssize_t n;

	while ((n = ssh_forward_read(f, chunk, sizeof(chunk))) > 0) {
		if (buf_put(out, chunk, (size_t)n) != 0) {
			return ZT_ERR_TOO_LARGE;
		}
	}
	return n == SSH_FORWARD_EOF ? 1 : (int)n;
}

/* Writes in[] through in chunks, reading between them so that neither
 * window fills, then ends its side and reads until the far end's EOF
 * (STEP_MS without progress at most). 0 or a ZT_ERR_* with error. */
static int relay(struct ssh_forward *f, const struct buf *in, struct buf *out, char *error,
    size_t errorsz)
{
	size_t sent = 0, len = buf_len(in), k;
	int64_t idle_until = 0;
	int r, eof_sent = 0;

	for (;;) {
		if (sent < len) {
			k = len - sent < CHUNK ? len - sent : CHUNK;
			if ((r = ssh_forward_write(f, buf_ptr(in) + sent, k, STEP_MS)) != 0) {
				snprintf(error, errorsz, "write failed after %zu bytes", sent);
				return r;
			}
			sent += k;
		} else if (!eof_sent) {
			if ((r = ssh_forward_send_eof(f)) != 0) {
				snprintf(error, errorsz, "sending EOF failed");
				return r;
			}
			eof_sent = 1;
			idle_until = net_mono_ms() + STEP_MS;
		}
		if ((r = drain(f, out)) == 1) {
			return 0;
		}
		if (r < 0) {
			snprintf(error, errorsz, "read failed after %zu bytes", buf_len(out));
			return r;
		}
		if (!eof_sent) {
			continue;
		}
		if (ssh_forward_wait(f, -1, 100) == 1) {
			idle_until = net_mono_ms() + STEP_MS;
		} else if (net_mono_ms() > idle_until) {
			snprintf(error, errorsz, "the far end did not close (%zu bytes back)",
			    buf_len(out));
			return ZT_ERR_TIMEOUT;
		}
	}
}

/* Opens a forward to 127.0.0.1:port that the host must refuse. 0 when it
 * did, else ZT_ERR_INTERNAL (or what failed) with error. */
static int refused_first(struct ssh_conn *c, int port, char *error, size_t errorsz)
{
	struct ssh_forward *f = NULL;
	int r = ssh_forward_open(c, "127.0.0.1", port, NULL, 0, STEP_MS, &f, error, errorsz);

	ssh_forward_close(f);
	if (r == ZT_ERR_DENIED) {
		error[0] = '\0';
		return 0;
	}
	if (r == 0) {
		snprintf(error, errorsz, "the forward to port %d was not refused", port);
		return ZT_ERR_INTERNAL;
	}
	return r;
}

static int exit_code(int r)
{
	return r == 0 ? 0 : r == ZT_ERR_DENIED ? 3 : r == ZT_ERR_INVALID ? 4 : 1;
}

int main(int argc, char **argv)
{
	struct tool_ssh_args ta = { NULL, NULL, NULL, 0 };
	struct tool_ssh t = { .fd = -1 };
	struct ssh_forward *f = NULL;
	struct buf *in = buf_new(INPUT_MAX), *out = buf_new(INPUT_MAX);
	const char *to_host = "127.0.0.1";
	char error[512] = "";
	long to_port = 0, refused_port = 0;
	int i, k, permit = 1, r = ZT_ERR_INTERNAL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-permit") == 0) {
			permit = 0;
			continue;
		}
		if ((k = tool_ssh_arg(&ta, argc, argv, &i)) < 0) {
			usage();
		} else if (k == 1) {
			continue;
		}
		if (strcmp(argv[i], "--to-port") == 0) {
			to_port = strtol(argv[++i], NULL, 10);
			to_port = to_port < -1 || to_port > 65536 ? -1 : to_port;
		} else if (strcmp(argv[i], "--refused-first") == 0) {
			refused_port = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--to-host") == 0) {
			to_host = argv[++i];
		} else {
			usage();
		}
	}
	if (!tool_ssh_args_ok(&ta) || in == NULL || out == NULL) {
		usage();
	}
	if (slurp(in) != 0) {
		snprintf(error, sizeof(error), "cannot read stdin (at most %d bytes)", INPUT_MAX);
		goto out;
	}
	if ((r = tool_ssh_open(&ta, "forward", permit, STEP_MS, &t, error, sizeof(error))) != 0 ||
	    (refused_port > 0 && (r = refused_first(t.conn, (int)refused_port, error,
	    sizeof(error))) != 0) ||
	    (r = ssh_forward_open(t.conn, to_host, (int)to_port, NULL, 0, STEP_MS, &f, error,
	    sizeof(error))) != 0 ||
	    (r = relay(f, in, out, error, sizeof(error))) != 0) {
		goto out;
	}
	if (fwrite(buf_ptr(out), 1, buf_len(out), stdout) != buf_len(out) || fflush(stdout) != 0) {
		snprintf(error, sizeof(error), "cannot write stdout");
		r = ZT_ERR_IO;
		goto out;
	}
	fprintf(stderr, "sent %llu received %llu\n", (unsigned long long)ssh_forward_sent(f),
	    (unsigned long long)ssh_forward_received(f));
out:
	if (r != 0) {
		/* zt_strerror names ZT_ERR_DENIED for policy; here the host refused. */
		fprintf(stderr, "ssh_forward_once: %s: %s\n",
		    r == ZT_ERR_DENIED ? "refused by the host" : zt_strerror(r), error);
	}
	ssh_forward_close(f);
	tool_ssh_close(&t);
	buf_free(in);
	buf_free(out);
	return exit_code(r);
}
