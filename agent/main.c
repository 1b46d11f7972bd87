/*
 * main.c - ztagent: joins a zt broker with a one-time token on first
 * start, then keeps its outbound control connection up until SIGTERM or
 * SIGINT (agt_control.c). Streams to the SSH target come next.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agt_control.h"
#include "agent/agt_join.h"
#include "agent/agt_stream.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proc.h"
#include "common/tls.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char usage[] =
	"usage: ztagent --broker HOST:PORT --ca-pin sha256:... --data-dir D --name NAME\n"
	"               [--labels k=v,k2=v2] [--ssh 127.0.0.1:22]\n"
	"               [--ssh-host-key /etc/ssh/ssh_host_ed25519_key.pub]\n"
	"               [--max-streams 256]\n"
	"               [--token ztj_...]   (or the environment variable ZT_JOIN_TOKEN)\n";

/* The "type base64" part of an OpenSSH public key file. */
static int read_host_key(const char *path, char *out, size_t outsz)
{
	FILE *fp = fopen(path, "r");
	char line[1024], *sp;

	if (fp == NULL) {
		return ZT_ERR_IO;
	}
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return ZT_ERR_INVALID;
	}
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	sp = strchr(line, ' ');
	if (sp != NULL && (sp = strchr(sp + 1, ' ')) != NULL) {
		*sp = '\0'; /* drop the comment */
	}
	if (strlen(line) >= outsz) {
		return ZT_ERR_TOO_LARGE;
	}
	snprintf(out, outsz, "%s", line);
	return 0;
}

/* --max-streams: 1..AGT_STREAMS_MAX, digits only. */
static int parse_streams(const char *s, int *out)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9') {
		return ZT_ERR_INVALID;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > AGT_STREAMS_MAX) {
		return ZT_ERR_INVALID;
	}
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "ca-pin", required_argument, NULL, 'p' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "labels", required_argument, NULL, 'l' },
		{ "ssh", required_argument, NULL, 's' },
		{ "ssh-host-key", required_argument, NULL, 'k' },
		{ "token", required_argument, NULL, 't' },
		{ "max-streams", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agt_config cfg;
	char host[NET_HOST_MAX], port[8], err[512];
	const char *broker = NULL, *token = getenv("ZT_JOIN_TOKEN");
	const char *host_key_file = "/etc/ssh/ssh_host_ed25519_key.pub";
	const char *ssh = "127.0.0.1:22";
	struct tun_resource *res = &cfg.resources[0];
	char why[TUN_WHY_MAX];
	struct stat st;
	int c, r;

	/* Before the agent key is read: no core file may hold it. */
	if (proc_harden() != 0) {
		fprintf(stderr, "ztagent: cannot switch off core dumps (prctl, setrlimit)\n");
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_streams = AGT_STREAMS_DEFAULT;
	log_init("ztagent", ZT_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	/* From the start: a stop requested while joining ends the agent right
	 * after the join instead of killing it halfway. */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': broker = optarg; break;
		case 'p': cfg.ca_pin = optarg; break;
		case 'd': cfg.data_dir = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'l':
			if (tun_labels_parse(optarg, cfg.labels, TUN_LABELS_MAX, &cfg.nlabels) != 0) {
				fprintf(stderr, "ztagent: --labels takes k=v,k2=v2 (at most %d, each "
				    "at most %d bytes)\n", TUN_LABELS_MAX, TUN_LABEL_MAX);
				return 2;
			}
			break;
		case 's': ssh = optarg; break;
		case 'k': host_key_file = optarg; break;
		case 't': token = optarg; break;
		case 'm':
			if (parse_streams(optarg, &cfg.max_streams) != 0) {
				fprintf(stderr, "ztagent: --max-streams takes a number from 1 to %d\n",
				    AGT_STREAMS_MAX);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (broker == NULL || cfg.ca_pin == NULL || cfg.data_dir == NULL || cfg.name == NULL ||
	    optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (net_split_hostport(broker, host, sizeof(host), port, sizeof(port)) != 0 ||
	    tls_pin_valid(cfg.ca_pin) != 0) {
		fprintf(stderr, "ztagent: --broker takes HOST:PORT and --ca-pin sha256:<64 hex>\n");
		return 2;
	}
	cfg.broker_host = host;
	cfg.broker_port = port;
	if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "ztagent: cannot create %s: %s\n", cfg.data_dir, strerror(errno));
		return 1;
	}
	if (stat(cfg.data_dir, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 077) != 0) {
		fprintf(stderr, "ztagent: %s must be a directory only its owner can read "
		    "(chmod 700)\n", cfg.data_dir);
		return 1;
	}
	/* The short form: one SSH resource named after the agent. */
	snprintf(res->name, sizeof(res->name), "%s", cfg.name);
	snprintf(res->kind, sizeof(res->kind), "ssh");
	snprintf(res->address, sizeof(res->address), "%s", ssh);
	cfg.nresources = 1;
	if ((r = read_host_key(host_key_file, res->host_key, sizeof(res->host_key))) != 0) {
		fprintf(stderr, "ztagent: cannot read the SSH host key %s: %s\n", host_key_file,
		    zt_strerror(r));
		return 1;
	}
	if (tun_resources_check(cfg.resources, cfg.nresources, why, sizeof(why)) != 0) {
		fprintf(stderr, "ztagent: %s\n", why);
		return 2;
	}
	if (agt_joined(cfg.data_dir)) {
		int64_t life, left;

		if ((r = agt_cert_life(cfg.data_dir, &life, &left)) != 0) {
			fprintf(stderr, "ztagent: cannot read %s/agent.crt: %s\n", cfg.data_dir,
			    zt_strerror(r));
			return 1;
		}
		if (left > 0) {
			printf("ztagent: joined earlier (%s/agent.crt); no new token needed\n",
			    cfg.data_dir);
			goto run;
		}
		if (token == NULL) {
			fprintf(stderr, "ztagent: the agent certificate %s/agent.crt expired %lld s "
			    "ago: join again with a new token (--token or ZT_JOIN_TOKEN; "
			    "ztctl tokens add or ztbroker admin tokens add)\n", cfg.data_dir,
			    (long long)-left);
			return 2;
		}
		printf("ztagent: the agent certificate expired; joining again with the token\n");
	} else if (token == NULL) {
		fprintf(stderr, "ztagent: first start needs a join token: --token or "
		    "ZT_JOIN_TOKEN (ztbroker admin tokens add)\n");
		return 2;
	}
	if (agt_join(&cfg, token, err, sizeof(err)) != 0) {
		fprintf(stderr, "ztagent: %s\n", err);
		return 1;
	}
	printf("ztagent: joined as %s; certificate in %s/agent.crt\n", cfg.name, cfg.data_dir);
run:
	fflush(stdout);
	if ((r = agt_control_run(&cfg, &stop_flag)) == ZT_ERR_EXPIRED) {
		fprintf(stderr, "ztagent: the agent certificate expired; join again with a new "
		    "token (ztctl tokens add)\n");
		return 1;
	}
	if (r != 0) {
		fprintf(stderr, "ztagent: the broker refused this agent; see the log above\n");
		return 1;
	}
	return 0;
}
