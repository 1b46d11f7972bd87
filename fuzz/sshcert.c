/*
 * sshcert.c - libFuzzer target for sshcert_parse (common/sshca.c), the
 * strict parser of OpenSSH user certificates. Seeds in fuzz/corpus/sshcert/
 * are certificates signed by sshca_sign; a mutated one must be refused
 * cleanly (and only a correctly signed one accepted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/sshca.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_sshcert", ZT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert cert;
	char *strings = NULL;
	size_t total = 0;

	if (sshcert_parse(data, size, &cert, &strings) == 0) {
		/* Every string handed out must be a readable C string. */
		total += strlen(cert.key_id);
		for (size_t i = 0; i < cert.nprincipals; i++) {
			total += strlen(cert.principals[i]);
		}
		if (cert.force_command != NULL) {
			total += strlen(cert.force_command);
		}
		if (cert.source_address != NULL) {
			total += strlen(cert.source_address);
		}
		if (cert.nprincipals == 0 || cert.nprincipals > SSHCERT_MAX_PRINCIPALS ||
		    total > size) {
			abort();
		}
	} else if (strings != NULL) {
		abort();
	}
	free(strings);
	return 0;
}
