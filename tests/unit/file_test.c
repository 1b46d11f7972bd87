/*
 * file_test.c - whole files written atomically: content, mode 0600 whatever
 * the umask, a replaced file, no temporary left behind, clear failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/file.h"

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".x.png.", 7) == 0;
	}
	closedir(d);
	return n;
}

static void test_write_replace(void **state)
{
	char dir[] = "/tmp/zt-file-test-XXXXXX", path[64], err[256], got[16];
	struct stat st;
	mode_t old = umask(0);
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.png", dir);
	assert_int_equal(file_write_atomic(path, "first", 5, 0600, err, sizeof(err)), 0);
	assert_int_equal(file_write_atomic(path, "second", 6, 0600, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 6);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got), f), 6);
	fclose(f);
	assert_memory_equal(got, "second", 6);
	assert_int_equal(entries(dir), 1); /* no temporary file left */

	snprintf(path, sizeof(path), "%s/no/such/x", dir);
	assert_int_equal(file_write_atomic(path, "a", 1, 0600, err, sizeof(err)), ZT_ERR_IO);
	assert_non_null(strstr(err, "No such file or directory"));
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(file_write_atomic(path, "a", 1, 0600, NULL, 0), ZT_ERR_INVALID);

	snprintf(path, sizeof(path), "%s/x.png", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace),
	};

	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
