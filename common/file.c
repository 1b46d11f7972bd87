/*
 * file.c - whole files written atomically (file.h).
 */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/net.h"

static void say(char *err, size_t errsz, const char *what, const char *path)
{
	if (err != NULL && errsz > 0) {
		snprintf(err, errsz, "cannot %s %s: %s", what, path, strerror(errno));
	}
}

int file_write_atomic(const char *path, const void *p, size_t n, mode_t mode, char *err,
    size_t errsz)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	int fd = -1, dfd, len, r = ZT_ERR_IO;

	tmp[0] = '\0';
	if (base[0] == '\0') {
		if (err != NULL && errsz > 0) {
			snprintf(err, errsz, "cannot write \"%s\": it names a directory", path);
		}
		r = ZT_ERR_INVALID;
		goto out;
	}
	len = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(base - path), path, base);
	if (len < 0 || (size_t)len >= sizeof(tmp)) {
		if (err != NULL && errsz > 0) {
			snprintf(err, errsz, "cannot write %s: the path is too long", path);
		}
		tmp[0] = '\0';
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	/* mkostemp creates the file 0600 whatever the umask. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		say(err, errsz, "create a file beside", path);
		tmp[0] = '\0';
		goto out;
	}
	if (fchmod(fd, mode) != 0 || net_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		say(err, errsz, "write", tmp);
		goto out;
	}
	len = close(fd);
	fd = -1;  /* close(2) frees the fd even when it fails */
	if (len != 0) {
		say(err, errsz, "write", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		say(err, errsz, "replace", path);
		goto out;
	}
	tmp[0] = '\0';
	/* Make the rename itself durable (best effort). */
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(base - path) : 1,
	    slash != NULL ? path : ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (tmp[0] != '\0') {
		(void)unlink(tmp);
	}
	return r;
}
