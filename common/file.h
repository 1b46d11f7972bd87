/*
 * file.h - the one way zt writes a whole file that may be read at any
 * moment: into a temporary file beside it (created exclusively, 0600
 * whatever the umask), flushed to disk, then renamed over the target, so
 * a reader sees the old file or the new one, never a part, and a failure
 * leaves the target as it was.
 */
#ifndef ZT_FILE_H
#define ZT_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes p[0..n) to path atomically with the permission bits mode (0600 for
 * anything that may hold a secret; applied as given, not less the umask).
 * 0, ZT_ERR_INVALID (path ends in '/'), ZT_ERR_TOO_LARGE (path too long) or
 * ZT_ERR_IO, with a sentence naming the file and the system's reason in err
 * (errsz bytes; may be NULL).
 */
int file_write_atomic(const char *path, const void *p, size_t n, mode_t mode, char *err,
    size_t errsz);

#endif
