/*
 * tool_ssh.c - the options and the SSH connection that the test-only
 * resource programs share (tool_ssh.h).
 */
#include "tests/tools/lib/tool_ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/net.h"
#include "tests/unit/testutil.h"

int tool_ssh_arg(struct tool_ssh_args *a, int argc, char **argv, int *i)
{
	static const char *const names[] = { "--ca-dir", "--port", "--host-key-file", "--login",
	    NULL };
	const char *v = NULL;
	int k;

	if (*i + 1 >= argc) {
		return -1;
	}
	for (k = 0; names[k] != NULL && strcmp(argv[*i], names[k]) != 0; k++) {
	}
	if (names[k] == NULL) {
		return 0;
	}
	v = argv[++*i];
	switch (k) {
	case 0:
		a->ca_dir = v;
		break;
	case 1:
		a->port = strtoul(v, NULL, 10);
		break;
	case 2:
		a->hk_file = v;
		break;
	default:
		a->login = v;
		break;
	}
	return 1;
}

int tool_ssh_args_ok(const struct tool_ssh_args *a)
{
	return a->ca_dir != NULL && a->hk_file != NULL && a->login != NULL && a->port > 0 &&
	    a->port <= 65535;
}

int tool_ssh_open(const struct tool_ssh_args *a, const char *id, int port_forwarding,
    int64_t timeout_ms, struct tool_ssh *t, char *error, size_t errorsz)
{
	struct ssh_conn_req cr;
	struct ssh_conn_info info;
	char portstr[8];
	int r;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (sshca_load_or_create(a->ca_dir, &t->ca) != 0 ||
	    (t->host_key = tu_first_line(a->hk_file)) == NULL) {
		snprintf(error, errorsz, "cannot load the CA or the host key");
		return ZT_ERR_IO;
	}
	snprintf(portstr, sizeof(portstr), "%lu", a->port);
	if ((r = net_connect("127.0.0.1", portstr, net_mono_ms() + timeout_ms, &t->fd)) != 0) {
		t->fd = -1;
		snprintf(error, errorsz, "cannot connect to port %lu", a->port);
		return r;
	}
	memset(&cr, 0, sizeof(cr));
	cr.fd = t->fd;
	cr.host_key = t->host_key;
	cr.ca = t->ca;
	cr.login = a->login;
	cr.identity = "user:e2e";
	cr.id = id;
	cr.serial = (uint64_t)time(NULL) * 1000 + (uint64_t)getpid() % 1000;
	cr.now = (uint64_t)time(NULL);
	cr.timeout_ms = timeout_ms;
	cr.port_forwarding = port_forwarding;
	if ((r = ssh_conn_open(&cr, &t->conn, &info)) != 0) {
		snprintf(error, errorsz, "%s", info.error);
	}
	return r;
}

void tool_ssh_close(struct tool_ssh *t)
{
	ssh_conn_close(t->conn);
	t->conn = NULL;
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	free(t->host_key);
	t->host_key = NULL;
	sshca_free(t->ca);
	t->ca = NULL;
}
