/*
 * file_cursor.c - libFuzzer target for brk_file_cursor_decode
 * (broker/brk_files.c), the cursor a file_list caller hands back. Any
 * string must be refused cleanly or decode to a name without NUL or '/'
 * that encodes back to the very same cursor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_files.h"
#include "common/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_file_cursor", ZT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[SSH_SFTP_NAME_MAX + 1], again[BRK_FILE_CURSOR_MAX + 1];
	char *s = NULL;

	if (size > 2 * BRK_FILE_CURSOR_MAX || (s = malloc(size + 1)) == NULL) {
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	if (brk_file_cursor_decode(s, "/srv", name, sizeof(name)) == 0) {
		if (name[0] == '\0' || strchr(name, '/') != NULL ||
		    brk_file_cursor_encode("/srv", name, again, sizeof(again)) != 0 ||
		    strcmp(again, s) != 0) {
			abort();
		}
	}
	free(s);
	return 0;
}
