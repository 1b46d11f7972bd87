/*
 * testutil.c - temporary directories for the unit tests (see testutil.h).
 *
 * Removal walks the tree with nftw() instead of running "rm -rf" through a
 * shell, so a path is never parsed as a command line and a symbolic link
 * planted in the tree is removed, never followed.
 *
 * tu_sql() reaches a database behind the store's back, as an attacker with
 * the file (or an older zt) would.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "common/err.h"
#include "tests/unit/testutil.h"

#define TU_TAG_MAX 32
#define TU_NOPENFD 16 /* directories nftw may hold open at once */

static int tag_valid(const char *tag)
{
	size_t i, n;

	if (tag == NULL || (n = strlen(tag)) == 0 || n > TU_TAG_MAX) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!((tag[i] >= 'a' && tag[i] <= 'z') || (tag[i] >= 'A' && tag[i] <= 'Z') ||
		    (tag[i] >= '0' && tag[i] <= '9') || tag[i] == '_' || tag[i] == '-')) {
			return 0;
		}
	}
	return 1;
}

int tu_mkdtemp(char *out, size_t outsz, const char *tag)
{
	const char *base = getenv("TMPDIR");
	int n, r;

	if (out == NULL || outsz == 0) {
		return ZT_ERR_INVALID;
	}
	out[0] = '\0';
	if (!tag_valid(tag)) {
		r = ZT_ERR_INVALID;
		goto out;
	}
	if (base == NULL || base[0] != '/') {
		base = "/tmp";
	}
	n = snprintf(out, outsz, "%s/zt-%s-XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= outsz) {
		r = ZT_ERR_TOO_LARGE;
		goto out;
	}
	if (mkdtemp(out) == NULL) {
		fprintf(stderr, "tu_mkdtemp: %s: %s\n", out, strerror(errno));
		r = ZT_ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		out[0] = '\0';
	}
	return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0) {
		fprintf(stderr, "tu_rmtree: cannot remove %s: %s\n", path, strerror(errno));
	}
	/* Keep going: remove as much as possible. */
	return 0;
}

void tu_rmtree(const char *path)
{
	if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0) {
		fprintf(stderr, "tu_rmtree: refusing to remove \"%s\"\n",
		    path != NULL ? path : "(null)");
		return;
	}
	if (nftw(path, rm_entry, TU_NOPENFD, FTW_DEPTH | FTW_PHYS) != 0) {
		fprintf(stderr, "tu_rmtree: cannot walk %s: %s\n", path, strerror(errno));
	}
}

int tu_sql(const char *path, const char *sql, char *err, size_t errsz)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_open(path, &db)) == SQLITE_OK) {
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	}
	if (err != NULL && errsz > 0) {
		snprintf(err, errsz, "%s", msg != NULL ? msg : rc != SQLITE_OK ? sqlite3_errstr(rc) :
		    "");
	}
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

char *tu_first_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		return NULL;
	}
	if ((n = getline(&line, &cap, f)) < 0) {
		free(line);
		line = NULL;
	} else if (n > 0 && line[n - 1] == '\n') {
		line[n - 1] = '\0';
	}
	fclose(f);
	return line;
}
