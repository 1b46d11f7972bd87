/*
 * testutil.h - helpers shared by the unit tests and the test-only
 * programs (tests/tools): a private temporary directory per test and its
 * removal afterwards, SQL run on a store's file behind its back, and a
 * file's first line.
 *
 * Test code only; never linked into ztbroker or ztctl.
 */
#ifndef ZT_TESTUTIL_H
#define ZT_TESTUTIL_H

#include <stddef.h>

/* Room for a directory made by tu_mkdtemp() and a file name under it. */
#define TU_DIR_MAX 192
#define TU_PATH_MAX (TU_DIR_MAX + 64)

/* Creates a fresh directory, mode 0700, named "$TMPDIR/zt-<tag>-XXXXXX"
 * ("/tmp" when TMPDIR is unset or not absolute) and writes its path to out.
 * tag is 1 to 32 of [A-Za-z0-9_-]. 0, ZT_ERR_INVALID (bad tag or
 * arguments), ZT_ERR_TOO_LARGE (the path does not fit in outsz) or
 * ZT_ERR_IO (mkdtemp failed); out is an empty string on failure. */
int tu_mkdtemp(char *out, size_t outsz, const char *tag);

/* Removes path and everything below it without following symbolic links
 * (nftw, depth first). NULL, "" and "/" are refused. Failures are reported
 * on stderr, naming the entry; the test goes on. */
void tu_rmtree(const char *path);

/* Runs sql on the SQLite file at path through a connection of its own
 * (not the store's): the SQLite result code; err (may be NULL) gets
 * SQLite's message. */
int tu_sql(const char *path, const char *sql, char *err, size_t errsz);

/* The first line of path without its newline (owned), or NULL when it
 * cannot be read. */
char *tu_first_line(const char *path);

#endif
