/*
 * fuzz/agt_config.c - libFuzzer harness for agent/agt_config (ztagent's
 * configuration file).
 *
 * Parses the input as a configuration file. A refused input must leave
 * nothing behind and an error naming the input; an accepted one must hold
 * values within their bounds, and its resources, with a fixed host key in
 * place of each host_key_file (no file is read), must either pass the wire's
 * checker or be refused naming the input. The same bytes are then parsed
 * as a desktop's credentials file (agt_rdp_creds_parse): accepted, it holds
 * a username and exactly one of password or nla_hash; refused, nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agt_config.h"
#include "agent/agt_creds.h"
#include "agent/agt_stream.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP2qyDHLEEub3ST40VqlPpWFyhqa31UWKFJhzaJrpLng"

static void check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* The bytes as a credentials file. */
static void creds(const uint8_t *data, size_t size)
{
	struct agt_rdp_creds c;
	char err[AGT_CONFIG_ERR_MAX];
	int r = agt_rdp_creds_parse(data, size, "c.yaml", &c, err, sizeof(err));

	if (r != 0) {
		check(strncmp(err, "c.yaml", 6) == 0);
		check(c.username[0] == '\0' && c.password[0] == '\0' && c.nla_hash[0] == '\0');
		return;
	}
	check(c.username[0] != '\0');
	check((c.password[0] != '\0') != (c.nla_hash[0] != '\0'));
	check(c.nla_hash[0] == '\0' || strlen(c.nla_hash) == AGT_NLA_HASH_LEN);
	agt_rdp_creds_wipe(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agt_config_file f;
	char err[AGT_CONFIG_ERR_MAX], why[TUN_WHY_MAX];
	size_t i;
	int r;

	creds(data, size);
	r = agt_config_parse(data, size, "f.yaml", &f, err, sizeof(err));
	if (r != 0) {
		check(r == ZT_ERR_INVALID || r == ZT_ERR_TYPE || r == ZT_ERR_TOO_LARGE ||
		    r == ZT_ERR_NOMEM);
		check(strncmp(err, "f.yaml", 6) == 0);
		check(f.nresources == 0 && f.name[0] == '\0');
		return 0;
	}
	check(f.nlabels <= TUN_LABELS_MAX && f.nresources <= TUN_RESOURCES_MAX);
	check(f.max_streams >= 0 && f.max_streams <= AGT_STREAMS_MAX);
	check(tun_labels_check(f.labels, f.nlabels, why, sizeof(why)) == 0);
	for (i = 0; i < f.nresources; i++) {
		if (f.key_file[i][0] != '\0') {
			check(f.key_file[i][0] == '/' && f.resources[i].host_key[0] == '\0');
			memcpy(f.resources[i].host_key, KEY, sizeof(KEY));
			f.key_file[i][0] = '\0';
		}
	}
	r = agt_config_resolve(&f, "f.yaml", err, sizeof(err));
	if (r == 0) {
		check(f.nresources == 0 ||
		    tun_resources_check(f.resources, f.nresources, why, sizeof(why)) == 0);
	} else {
		check(strncmp(err, "f.yaml:", 7) == 0);
	}
	return 0;
}
