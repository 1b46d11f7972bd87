/*
 * cli_profile_test.c - ztctl's profile: save/load round trip, file and
 * directory modes, and refusal of profiles others could read.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli_profile.h"
#include "common/err.h"
#include "tests/unit/testutil.h"

#define PIN "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct fx {
	char root[TU_DIR_MAX];
	char dir[TU_PATH_MAX];
	char file[TU_PATH_MAX + 16];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (tu_mkdtemp(f->root, sizeof(f->root), "cli-profile-test") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/zt", f->root);
	snprintf(f->file, sizeof(f->file), "%s/profile.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->root);
	free(f);
	return 0;
}

static struct cli_profile *sample(void)
{
	static const char *const roles[] = {"ops", "dev"};
	struct cli_profile *p = cli_profile_new();

	assert_non_null(p);
	assert_int_equal(cli_profile_set(&p->broker, "https://broker.example:8443"), 0);
	assert_int_equal(cli_profile_set(&p->ca_pin, PIN), 0);
	assert_int_equal(cli_profile_set(&p->user, "alice"), 0);
	assert_int_equal(cli_profile_set(&p->token, "zts_secret-token"), 0);
	assert_int_equal(cli_profile_set_roles(p, roles, 2), 0);
	p->expires_at = 1764000000;
	return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct cli_profile *p = sample(), *q = NULL;
	char err[512];

	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), 0);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	assert_string_equal(q->broker, p->broker);
	assert_string_equal(q->ca_pin, PIN);
	assert_string_equal(q->user, "alice");
	assert_string_equal(q->token, "zts_secret-token");
	assert_int_equal(q->nroles, 2);
	assert_string_equal(q->roles[0], "ops");
	assert_string_equal(q->roles[1], "dev");
	assert_int_equal(q->expires_at, 1764000000);
	cli_profile_free(q);
	q = NULL;

	/* Logged out: the session fields go, broker, pin and user stay. */
	cli_profile_clear_session(p);
	assert_null(p->token);
	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), 0);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	assert_null(q->token);
	assert_int_equal(q->nroles, 0);
	assert_int_equal(q->expires_at, 0);
	assert_string_equal(q->ca_pin, PIN);
	assert_string_equal(q->user, "alice");
	cli_profile_free(q);
	cli_profile_free(p);
	cli_profile_free(NULL);
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static void test_modes(void **state)
{
	struct fx *f = *state;
	struct cli_profile *p = sample();
	struct stat st;
	char err[512];
	mode_t old = umask(0);

	/* A fresh directory is 0700 and the file 0600 even with umask 0. */
	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), 0);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A directory that became looser is tightened on the next save. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), 0);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(f->dir), 1);
	umask(old);
	cli_profile_free(p);
}

static void test_refuses_open_profile(void **state)
{
	struct fx *f = *state;
	struct cli_profile *p = sample(), *q = NULL;
	char err[512];

	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), 0);
	assert_int_equal(chmod(f->file, 0640), 0);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_DENIED);
	assert_null(q);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "zts_secret"));
	assert_int_equal(chmod(f->file, 0604), 0);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_DENIED);
	assert_int_equal(chmod(f->file, 0600), 0);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	cli_profile_free(q);
	cli_profile_free(p);
}

static void test_missing_and_malformed(void **state)
{
	struct fx *f = *state;
	struct cli_profile *q = NULL;
	char err[512];

	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_NOT_FOUND);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": 5}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_TYPE);
	assert_non_null(strstr(err, "ca_pin"));
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": \"" PIN "\", \"x\": 1}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_INVALID);
	assert_non_null(strstr(err, "\"x\""));
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": \"sha256:00\"}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_INVALID);
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": \"" PIN "\", "
	    "\"roles\": [\"ops\", 7]}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_TYPE);
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": \"" PIN "\", "
	    "\"expires_at\": -5}", 0600);
	assert_int_not_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	write_file(f->file, "[1, 2]", 0600);
	assert_int_not_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	write_file(f->file, "{\"ca_pin\": \"" PIN "\"}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), ZT_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "broker"));
	assert_null(q);
	/* The minimal valid profile. */
	write_file(f->file, "{\"broker\": \"https://b\", \"ca_pin\": \"" PIN "\"}", 0600);
	assert_int_equal(cli_profile_load(f->dir, &q, err, sizeof(err)), 0);
	assert_null(q->token);
	assert_null(q->user);
	cli_profile_free(q);
}

static void test_save_needs_target(void **state)
{
	struct fx *f = *state;
	struct cli_profile *p = cli_profile_new();
	char err[512];

	assert_non_null(p);
	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), ZT_ERR_INVALID);
	assert_int_equal(cli_profile_set(&p->broker, "https://b"), 0);
	assert_int_equal(cli_profile_set(&p->ca_pin, "sha256:bad"), 0);
	assert_int_equal(cli_profile_save(f->dir, p, err, sizeof(err)), ZT_ERR_INVALID);
	cli_profile_free(p);
}

static void test_dir_from_env(void **state)
{
	char dir[CLI_PROFILE_PATH_MAX];

	(void)state;
	assert_int_equal(setenv("ZT_HOME", "/x/zt", 1), 0);
	assert_int_equal(cli_profile_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/x/zt");
	assert_int_equal(unsetenv("ZT_HOME"), 0);
	assert_int_equal(setenv("HOME", "/home/u", 1), 0);
	assert_int_equal(cli_profile_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/home/u/.zt");
	assert_int_equal(cli_profile_dir(dir, 5), ZT_ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_open_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_needs_target, setup, teardown),
		cmocka_unit_test(test_dir_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
