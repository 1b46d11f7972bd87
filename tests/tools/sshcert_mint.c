/*
 * sshcert_mint.c - a test-only program that mints an OpenSSH user
 * certificate with zt's SSH CA (common/sshca.c), so the end-to-end tests can
 * prove the encoding against real ssh-keygen, ssh and sshd.
 *
 *   sshcert_mint --ca-dir D --pub
 *       prints the CA's public key line (creating D and the CA if absent)
 *   sshcert_mint --ca-dir D --principal P [--principal P2 ...]
 *       --valid-after UNIX --valid-before UNIX --key-id ID --serial N --out PREFIX
 *       writes PREFIX (the private key, OpenSSH format, 0600) and
 *       PREFIX-cert.pub (the certificate line), with only permit-pty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sshca.h"

static void usage(void)
{
	fprintf(stderr, "usage: sshcert_mint --ca-dir D --pub\n"
	    "       sshcert_mint --ca-dir D --principal P [--principal P2] --valid-after UNIX\n"
	    "           --valid-before UNIX --key-id ID --serial N --out PREFIX\n");
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "sshcert_mint: %s: not a number: %s\n", opt, s);
		exit(2);
	}
	return (uint64_t)v;
}

/* Writes a new file (replacing none) with the given mode. */
static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), ok;

	ok = fd >= 0 && dprintf(fd, "%s", text) >= 0;
	if ((fd >= 0 && close(fd) != 0) || !ok) {
		fprintf(stderr, "sshcert_mint: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sshcert cert;
	struct sshca *ca = NULL;
	const char *dir = NULL, *out = NULL;
	char *priv = NULL, *line = NULL, *certline = NULL, path[4096];
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	int pub = 0, have_after = 0, have_before = 0, r, rc = 1;

	log_init("sshcert_mint", ZT_LOG_WARN);
	memset(&cert, 0, sizeof(cert));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--pub") == 0) {
			pub = 1;
			continue;
		}
		if (v == NULL) {
			usage();
		}
		i++;
		if (strcmp(a, "--ca-dir") == 0) {
			dir = v;
		} else if (strcmp(a, "--principal") == 0) {
			if (cert.nprincipals == SSHCERT_MAX_PRINCIPALS) {
				usage();
			}
			cert.principals[cert.nprincipals++] = v;
		} else if (strcmp(a, "--valid-after") == 0) {
			cert.valid_after = parse_u64(a, v);
			have_after = 1;
		} else if (strcmp(a, "--valid-before") == 0) {
			cert.valid_before = parse_u64(a, v);
			have_before = 1;
		} else if (strcmp(a, "--key-id") == 0) {
			cert.key_id = v;
		} else if (strcmp(a, "--serial") == 0) {
			cert.serial = parse_u64(a, v);
		} else if (strcmp(a, "--out") == 0) {
			out = v;
		} else {
			usage();
		}
	}
	if (dir == NULL || (!pub && (out == NULL || cert.key_id == NULL || !have_after ||
	    !have_before))) {
		usage();
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "sshcert_mint: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if ((r = sshca_load_or_create(dir, &ca)) != 0) {
		fprintf(stderr, "sshcert_mint: CA in %s: %s\n", dir, zt_strerror(r));
		goto out;
	}
	if (pub) {
		printf("%s\n", sshca_pubkey_line(ca));
		rc = 0;
		goto out;
	}
	cert.extensions = SSHCERT_EXT_PERMIT_PTY;
	if ((r = sshkey_generate(cert.pubkey, &priv)) != 0 ||
	    (r = sshca_sign(ca, &cert, cert.key_id, &blob, &bloblen, &line)) != 0) {
		fprintf(stderr, "sshcert_mint: %s\n", zt_strerror(r));
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s-cert.pub", out) >= sizeof(path) ||
	    asprintf(&certline, "%s\n", line) < 0) {
		fprintf(stderr, "sshcert_mint: path too long or out of memory\n");
		goto out;
	}
	if (write_file(out, priv, 0600) != 0 || write_file(path, certline, 0644) != 0) {
		goto out;
	}
	rc = 0;
out:
	crypto_free_str(priv);
	free(certline);
	free(line);
	free(blob);
	sshca_free(ca);
	return rc;
}
