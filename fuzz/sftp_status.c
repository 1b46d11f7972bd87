/*
 * sftp_status.c - libFuzzer target for sftp_status_parse
 * (resources/ssh_sftp_rename.c), the one SFTP reply zt parses itself: a
 * server's STATUS to posix-rename. Any bytes must be refused cleanly or
 * give a status code; a reply that parses must have been a STATUS to the
 * request id.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "resources/ssh_sftp_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_sftp_status", ZT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t code = 0;

	if (sftp_status_parse(data, size, 1, &code) == 0 &&
	    (size < 9 || data[0] != 101 || data[1] != 0 || data[2] != 0 || data[3] != 0 ||
	    data[4] != 1)) {
		abort();
	}
	return 0;
}
