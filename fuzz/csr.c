/*
 * csr.c - libFuzzer target for ca_sign_csr (common/ca.c): PEM certificate
 * requests from agents. A CA is made once, at the first call, in a temporary
 * directory that is removed at once (the CA stays in memory). Seeds in
 * fuzz/corpus/csr/ are requests made with `openssl req` (P-256, Ed25519).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ca.h"
#include "common/log.h"

#define NOW ((int64_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ca *fuzz_ca(void)
{
	static struct ca *ca;
	char dir[] = "/tmp/zt-fuzz-csr-XXXXXX", path[64];

	if (ca != NULL) {
		return ca;
	}
	log_init("fuzz_csr", ZT_LOG_ERROR);
	if (mkdtemp(dir) == NULL || ca_load_or_create(dir, NOW, &ca) != 0) {
		abort();
	}
	snprintf(path, sizeof(path), "%s/tls-ca.key", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tls-ca.crt", dir);
	unlink(path);
	rmdir(dir);
	return ca;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cert = NULL;
	int r = ca_sign_csr(fuzz_ca(), (const char *)data, size, "fuzz-agent", NOW, 3600, &cert);

	if ((r == 0) != (cert != NULL)) {
		abort();
	}
	free(cert);
	return 0;
}
