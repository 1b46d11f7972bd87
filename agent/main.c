/*
 * main.c - ztagent: reads its settings (the command line over an optional
 * --config file, agt_config.c), joins a zt broker with a one-time token on
 * first start, then keeps its outbound control connection up until SIGTERM
 * or SIGINT (agt_control.c), dialling the resources it advertises.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agt_config.h"
#include "agent/agt_desk.h"
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
	"usage: ztagent [--config /etc/zt/agent.yaml]\n"
	"               --broker HOST:PORT --ca-pin sha256:... --data-dir D --name NAME\n"
	"               [--labels k=v,k2=v2] [--ssh 127.0.0.1:22]\n"
	"               [--ssh-host-key /etc/ssh/ssh_host_ed25519_key.pub]\n"
	"               [--max-streams 256]\n"
	"               [--token ztj_...]   (or the environment variable ZT_JOIN_TOKEN)\n"
	"The file may set what the flags do (the flags win) and list resources\n"
	"instead of --ssh/--ssh-host-key; broker, ca-pin, data-dir and name are\n"
	"needed from one or the other (docs/agents.md).\n";

/* What the command line says; NULL / 0 for what it does not. */
struct flags {
	const char *config, *broker, *ca_pin, *data_dir, *name, *ssh, *host_key_file, *token;
	int has_labels, has_streams;
};

/* Settings the command line does not give come from the file: its scalars,
 * its labels, and its resources, which replace the --ssh short form (so
 * the two together are refused). 0, or the exit code. */
static int apply_file(const struct flags *fl, const struct agt_config_file *file,
    struct agt_config *cfg, const char **broker)
{
	if (*broker == NULL && file->broker[0] != '\0') {
		*broker = file->broker;
	}
	if (cfg->ca_pin == NULL && file->ca_pin[0] != '\0') {
		cfg->ca_pin = file->ca_pin;
	}
	if (cfg->data_dir == NULL && file->data_dir[0] != '\0') {
		cfg->data_dir = file->data_dir;
	}
	if (cfg->name == NULL && file->name[0] != '\0') {
		cfg->name = file->name;
	}
	if (!fl->has_labels && file->has_labels) {
		memcpy(cfg->labels, file->labels, sizeof(file->labels));
		cfg->nlabels = file->nlabels;
	}
	if (!fl->has_streams && file->max_streams > 0) {
		cfg->max_streams = file->max_streams;
	}
	if (file->nresources > 0) {
		if (fl->ssh != NULL || fl->host_key_file != NULL) {
			fprintf(stderr, "ztagent: --ssh and --ssh-host-key are the short form of one "
			    "resource, and %s lists resources: add it there\n", fl->config);
			return 2;
		}
		memcpy(cfg->resources, file->resources, sizeof(file->resources));
		cfg->nresources = file->nresources;
		for (size_t i = 0; i < file->nresources; i++) {
			cfg->credentials[i] = file->cred_file[i][0] != '\0' ? file->cred_file[i] : NULL;
		}
	}
	if (file->rdp_idle_ms > 0) {
		cfg->rdp_idle_ms = file->rdp_idle_ms;
	}
	if (file->rdp_helper[0] != '\0') {
		cfg->rdp_helper = file->rdp_helper;
	}
	return 0;
}

/* The short form: one SSH resource named after the agent. 0, or the exit
 * code. */
static int short_form(const struct flags *fl, struct agt_config *cfg)
{
	const char *key_file = fl->host_key_file != NULL ? fl->host_key_file :
	    "/etc/ssh/ssh_host_ed25519_key.pub";
	struct tun_resource *res = &cfg->resources[0];
	int r;

	snprintf(res->name, sizeof(res->name), "%s", cfg->name);
	snprintf(res->kind, sizeof(res->kind), "ssh");
	snprintf(res->address, sizeof(res->address), "%s",
	    fl->ssh != NULL ? fl->ssh : "127.0.0.1:22");
	cfg->nresources = 1;
	if ((r = agt_host_key_read(key_file, res->host_key, sizeof(res->host_key))) != 0) {
		fprintf(stderr, "ztagent: cannot read the SSH host key %s: %s\n", key_file,
		    zt_strerror(r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
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
	/* Static: some 40 KiB, and main's settings live as long as the agent. */
	static struct agt_config_file file;
	struct agt_config cfg;
	struct flags fl = { .token = getenv("ZT_JOIN_TOKEN") };
	char host[NET_HOST_MAX], port[8], err[AGT_CONFIG_ERR_MAX];
	const char *broker = NULL, *token = NULL;
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
		case 'c': fl.config = optarg; break;
		case 'b': fl.broker = optarg; break;
		case 'p': fl.ca_pin = optarg; break;
		case 'd': fl.data_dir = optarg; break;
		case 'n': fl.name = optarg; break;
		case 'l':
			fl.has_labels = 1;
			if (tun_labels_parse(optarg, cfg.labels, TUN_LABELS_MAX, &cfg.nlabels) != 0) {
				fprintf(stderr, "ztagent: --labels takes k=v,k2=v2 (at most %d, each "
				    "at most %d bytes)\n", TUN_LABELS_MAX, TUN_LABEL_MAX);
				return 2;
			}
			break;
		case 's': fl.ssh = optarg; break;
		case 'k': fl.host_key_file = optarg; break;
		case 't': fl.token = optarg; break;
		case 'm':
			fl.has_streams = 1;
			if (agt_streams_parse(optarg, &cfg.max_streams) != 0) {
				fprintf(stderr, "ztagent: --max-streams takes a number from 1 to %d\n",
				    AGT_STREAMS_MAX);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	broker = fl.broker;
	token = fl.token;
	cfg.ca_pin = fl.ca_pin;
	cfg.data_dir = fl.data_dir;
	cfg.name = fl.name;
	if (fl.config != NULL) {
		if (agt_config_load(fl.config, &file, err, sizeof(err)) != 0) {
			fprintf(stderr, "ztagent: %s\n", err);
			return 2;
		}
		if ((r = apply_file(&fl, &file, &cfg, &broker)) != 0) {
			return r;
		}
	}
	if (broker == NULL || cfg.ca_pin == NULL || cfg.data_dir == NULL || cfg.name == NULL) {
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
	if (cfg.nresources == 0 && (r = short_form(&fl, &cfg)) != 0) {
		return r;
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
	r = agt_control_run(&cfg, &stop_flag);
	/* The desktops' helpers end with their sessions, not at their leisure. */
	agt_desk_shutdown();
	if (r == ZT_ERR_EXPIRED) {
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
