/*
 * agt_config.h - ztagent's configuration file (ztagent --config FILE).
 *
 * A YAML map of settings, the same as the command line's, plus the list of
 * resources the agent advertises (docs/agents.md, examples/agent.yaml):
 *
 *   broker        "HOST:PORT" of the broker's tunnel port
 *   ca_pin        "sha256:<64 hex>", the broker's CA
 *   data_dir      the agent's data directory
 *   name          the agent's name
 *   labels        a map of label key -> value (as --labels)
 *   max_streams   1..AGT_STREAMS_MAX (as --max-streams)
 *   resources     a list of 1..TUN_RESOURCES_MAX maps:
 *     name, kind ("ssh" or "rdp"), address ("host:port"),
 *     host_key_file (an absolute path to an OpenSSH public key file) or
 *     host_key ("ssh-ed25519 <base64>"), ssh only;
 *     cert_pin ("sha256:<64 hex>"), rdp only;
 *     credentials_file (an absolute path), rdp only: the desktop's
 *       account, read by the agent at each connect (agt_creds.h),
 *       never sent anywhere but to the desktop;
 *     labels (a map, at most TUN_RESOURCE_LABELS_MAX pairs)
 *   rdp_idle_timeout  how long a desktop session with nothing to do stays
 *                 connected (a duration, 10s..24h; default 5m; agt_desk.h)
 *   rdp_helper    the FreeRDP helper program (an absolute path; default
 *                 ztrdp beside the ztagent binary)
 *
 * Every key is optional in the file (the command line may give it); a
 * resource needs name, kind, address and its kind's key (an rdp one its
 * credentials_file too). Unknown keys,
 * repeated keys, values of the wrong type or syntax, anchors, aliases,
 * tags and a second document are refused with "FILE:LINE: what is wrong".
 * Resources are checked by tun_resources_check(), the wire's own rule, so a
 * file that loads is a list the broker accepts. The file holds no secret:
 * a `token` key is refused (the join token goes in ZT_JOIN_TOKEN or
 * --token), and so is a file that group or others may write (whoever
 * writes it chooses where the agent dials).
 *
 * A library module: errors are returned, never printed; no globals.
 */
#ifndef ZT_AGT_CONFIG_H
#define ZT_AGT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"
#include "tunnel/tun.h"

#define AGT_CONFIG_MAX 65536       /* bytes of a configuration file */
#define AGT_CONFIG_PATH_MAX 1024   /* data_dir, host_key_file, credentials_file */
#define AGT_CONFIG_ERR_MAX 512     /* room for an error message */

/* What a file sets; "" / 0 for what it does not. A plain value (no heap):
 * zero it, or let agt_config_parse() do so. */
struct agt_config_file {
	char broker[TUN_TARGET_MAX + 1];
	char ca_pin[TLS_PIN_LEN + 1];
	char data_dir[AGT_CONFIG_PATH_MAX];
	char name[TUN_NAME_MAX + 1];
	struct tun_label labels[TUN_LABELS_MAX];
	size_t nlabels;
	int has_labels;                /* labels: given (maybe empty) */
	int max_streams;
	int64_t rdp_idle_ms;           /* 0: unset */
	char rdp_helper[AGT_CONFIG_PATH_MAX];
	struct tun_resource resources[TUN_RESOURCES_MAX];
	size_t nresources;
	/* Per resource: the host_key_file still to read ("" for none), the
	 * line of that key, and the line of the resource, for errors. */
	char key_file[TUN_RESOURCES_MAX][AGT_CONFIG_PATH_MAX];
	/* Per resource: an rdp resource's credentials_file ("" for others). */
	char cred_file[TUN_RESOURCES_MAX][AGT_CONFIG_PATH_MAX];
	size_t key_line[TUN_RESOURCES_MAX];
	size_t line[TUN_RESOURCES_MAX];
};

/*
 * Parses the YAML text p[0..n) (at most AGT_CONFIG_MAX bytes) into *f,
 * named fname in errors. No I/O: host_key_file values are recorded in
 * f->key_file for agt_config_resolve(). 0, or ZT_ERR_INVALID / ZT_ERR_TYPE
 * / ZT_ERR_TOO_LARGE / ZT_ERR_NOMEM with err "FILE:LINE: what is wrong"
 * (never longer than errsz, which AGT_CONFIG_ERR_MAX suffices for).
 */
int agt_config_parse(const void *p, size_t n, const char *fname,
    struct agt_config_file *f, char *err, size_t errsz);
/*
 * Reads each resource's host_key_file (clearing it) and checks the list
 * with tun_resources_check(), resource by resource in file order, so an
 * error names the line of the resource at fault. A file without resources
 * passes. 0, or ZT_ERR_IO / ZT_ERR_INVALID / ZT_ERR_TOO_LARGE with err as
 * above.
 */
int agt_config_resolve(struct agt_config_file *f, const char *fname, char *err,
    size_t errsz);
/*
 * Opens path (a regular file, at most AGT_CONFIG_MAX bytes, not writable by
 * group or others), then agt_config_parse() and agt_config_resolve().
 * 0 or their errors; ZT_ERR_IO / ZT_ERR_DENIED with err "FILE: why" for
 * a file that cannot be read or is writable by others.
 */
int agt_config_load(const char *path, struct agt_config_file *f, char *err, size_t errsz);

/* The "type base64" part of the first line of an OpenSSH public key file
 * (the comment dropped), into out. 0, ZT_ERR_IO (cannot open),
 * ZT_ERR_INVALID (empty), ZT_ERR_TOO_LARGE (longer than outsz). */
int agt_host_key_read(const char *path, char *out, size_t outsz);
/* A stream limit as typed (--max-streams, max_streams): digits only,
 * 1..AGT_STREAMS_MAX. 0 or ZT_ERR_INVALID. */
int agt_streams_parse(const char *s, int *out);

#endif
