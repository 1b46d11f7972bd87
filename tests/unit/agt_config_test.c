/*
 * agt_config_test.c - ztagent's configuration file: a good file loads
 * whole; every kind of mistake is refused with the file and line at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/agt_config.h"
#include "agent/agt_creds.h"
#include "common/err.h"
#include "tests/unit/testutil.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP2qyDHLEEub3ST40VqlPpWFyhqa31UWKFJhzaJrpLng"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIEUVXKVnyNnu3yt5nttLUgBHMaIo4updmlznL+c+OUo"
#define PIN0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"

struct fx {
	char dir[TU_DIR_MAX];
	char path[TU_PATH_MAX];        /* the config file */
	char key[TU_PATH_MAX];         /* a host key file holding KEY1 */
	struct agt_config_file f;
	char err[AGT_CONFIG_ERR_MAX];
};

static int setup(void **state)
{
	static struct fx fx;
	FILE *fp = NULL;

	memset(&fx, 0, sizeof(fx));
	if (tu_mkdtemp(fx.dir, sizeof(fx.dir), "agtconf") != 0) {
		return -1;
	}
	snprintf(fx.path, sizeof(fx.path), "%s/agent.yaml", fx.dir);
	snprintf(fx.key, sizeof(fx.key), "%s/host.pub", fx.dir);
	if ((fp = fopen(fx.key, "w")) == NULL) {
		return -1;
	}
	fprintf(fp, "%s root@host\n", KEY1);
	fclose(fp);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tu_rmtree(fx->dir);
	return 0;
}

/* Writes text as the config file (mode 0600) and loads it. */
static int load(struct fx *fx, const char *text)
{
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(fx->path, 0600), 0);
	return agt_config_load(fx->path, &fx->f, fx->err, sizeof(fx->err));
}

/* Asserts that err is "PATH:LINE: " followed by text containing want. */
static void assert_err(const struct fx *fx, size_t line, const char *want)
{
	char prefix[TU_PATH_MAX + 32];

	snprintf(prefix, sizeof(prefix), "%s:%zu: ", fx->path, line);
	if (strncmp(fx->err, prefix, strlen(prefix)) != 0 || strstr(fx->err, want) == NULL) {
		fail_msg("error \"%s\", expected \"%s...%s\"", fx->err, prefix, want);
	}
}

static void test_good_file(void **state)
{
	struct fx *fx = *state;
	char text[2048];

	snprintf(text, sizeof(text),
	    "# web1 and its database\n"
	    "broker: zt.example.com:3025\n"
	    "ca_pin: " PIN0 "\n"
	    "data_dir: /var/lib/ztagent\n"
	    "name: web1\n"
	    "labels: {env: staging, team: web}\n"
	    "max_streams: 64\n"
	    "resources:\n"
	    "  - name: web1\n"
	    "    kind: ssh\n"
	    "    address: 127.0.0.1:22\n"
	    "    host_key_file: %s\n"
	    "  - name: web1-db\n"
	    "    kind: ssh\n"
	    "    address: \"[::1]:2222\"\n"
	    "    host_key: " KEY2 "\n"
	    "    labels:\n"
	    "      tier: db\n"
	    "  - name: win1\n"
	    "    kind: rdp\n"
	    "    address: 10.0.0.5:3389\n"
	    "    cert_pin: " PIN0 "\n"
	    "    credentials_file: /etc/zt/win1.yaml\n", fx->key);
	assert_int_equal(load(fx, text), 0);
	assert_string_equal(fx->f.broker, "zt.example.com:3025");
	assert_string_equal(fx->f.ca_pin, PIN0);
	assert_string_equal(fx->f.data_dir, "/var/lib/ztagent");
	assert_string_equal(fx->f.name, "web1");
	assert_true(fx->f.has_labels);
	assert_int_equal(fx->f.nlabels, 2);
	assert_string_equal(fx->f.labels[1].key, "team");
	assert_string_equal(fx->f.labels[1].value, "web");
	assert_int_equal(fx->f.max_streams, 64);
	assert_int_equal(fx->f.nresources, 3);
	/* The key file's first two words, its comment dropped. */
	assert_string_equal(fx->f.resources[0].host_key, KEY1);
	assert_string_equal(fx->f.key_file[0], "");
	assert_string_equal(fx->f.resources[1].address, "[::1]:2222");
	assert_string_equal(fx->f.resources[1].host_key, KEY2);
	assert_int_equal(fx->f.resources[1].nlabels, 1);
	assert_string_equal(fx->f.resources[1].labels[0].value, "db");
	assert_string_equal(fx->f.resources[2].kind, "rdp");
	assert_string_equal(fx->f.resources[2].cert_pin, PIN0);
	assert_string_equal(fx->f.resources[2].host_key, "");

	/* Every key is optional; a file of scalars has no resources. */
	assert_int_equal(load(fx, "name: web2\n"), 0);
	assert_string_equal(fx->f.name, "web2");
	assert_int_equal(fx->f.nresources, 0);
	assert_false(fx->f.has_labels);
}

static void test_unknown_key_names_its_line(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(load(fx, "name: web1\n\nbrokers: x:1\n"), ZT_ERR_INVALID);
	assert_err(fx, 3, "unknown key \"brokers\" in the file (expected broker, ca_pin, ");
	assert_int_equal(fx->f.name[0], '\0'); /* nothing half-read is left */

	assert_int_equal(load(fx, "resources:\n  - name: a\n    kind: ssh\n    adress: h:22\n"),
	    ZT_ERR_INVALID);
	assert_err(fx, 4, "unknown key \"adress\" in resources[0]");

	/* The token is a secret: the reason says where it goes instead. */
	assert_int_equal(load(fx, "name: web1\ntoken: ztj_abc\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "ZT_JOIN_TOKEN");
}

static void test_wrong_type(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(load(fx, "name: web1\nlabels: env=dev\n"), ZT_ERR_TYPE);
	assert_err(fx, 2, "labels must be a map, not a string");
	assert_int_equal(load(fx, "resources:\n  name: a\n"), ZT_ERR_TYPE);
	assert_err(fx, 2, "resources must be a list, not a map");
	assert_int_equal(load(fx, "resources:\n  - web1\n"), ZT_ERR_TYPE);
	assert_err(fx, 2, "resources[0] must be a map, not a string");
	assert_int_equal(load(fx, "name:\n"), ZT_ERR_INVALID);
	assert_err(fx, 1, "name must be a non-empty string");
	assert_int_equal(load(fx, "[a, b]\n"), ZT_ERR_TYPE);
	assert_err(fx, 1, "must be a map of settings, not a list");
}

static void test_bad_values(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(load(fx, "max_streams: 0\n"), ZT_ERR_INVALID);
	assert_err(fx, 1, "max_streams must be a number from 1 to");
	assert_int_equal(load(fx, "broker: zt.example.com\n"), ZT_ERR_INVALID);
	assert_err(fx, 1, "broker must be HOST:PORT");
	assert_int_equal(load(fx, "name: Web1\n"), ZT_ERR_INVALID);
	assert_err(fx, 1, "name must be");
	assert_int_equal(load(fx, "labels:\n  env: dev\n  env: prod\n"), ZT_ERR_INVALID);
	assert_err(fx, 3, "labels:");
	/* The wire's own checker, at the line of the resource at fault. */
	assert_int_equal(load(fx, "resources:\n  - name: a\n    kind: ssh\n    address: h:22\n"
	    "    host_key: " KEY1 "\n  - name: b\n    kind: ssh\n    address: nowhere\n"
	    "    host_key: " KEY2 "\n"), ZT_ERR_INVALID);
	assert_err(fx, 6, "resources[1].address: host:port");
	assert_int_equal(load(fx, "resources:\n  - name: w\n    kind: vnc\n    address: h:1\n"),
	    ZT_ERR_INVALID);
	assert_err(fx, 2, "resources[0].kind");
	assert_int_equal(load(fx, "name: &n web1\nbroker: *n\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "aliases are not allowed");
	assert_int_equal(load(fx, "name: !!str web1\nmax_streams: !!int 3\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "tags are not allowed");
	assert_int_equal(load(fx, "name: web1\n---\nname: web2\n"), ZT_ERR_INVALID);
	assert_err(fx, 3, "a second document");
	assert_int_equal(load(fx, "name: web1\nlabels: {a: [}\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "YAML syntax error");
}

static void test_duplicates(void **state)
{
	struct fx *fx = *state;
	char text[1024];

	snprintf(text, sizeof(text), "resources:\n"
	    "  - name: web1\n    kind: ssh\n    address: h:22\n    host_key_file: %s\n"
	    "  - name: web1\n    kind: ssh\n    address: h:23\n    host_key: " KEY2 "\n",
	    fx->key);
	assert_int_equal(load(fx, text), ZT_ERR_INVALID);
	assert_err(fx, 6, "resources[1].name: appears twice");
	assert_int_equal(load(fx, "name: a\nname: b\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "duplicate key \"name\" in the file");
}

static void test_missing_host_key(void **state)
{
	struct fx *fx = *state;
	char text[1024];

	assert_int_equal(load(fx, "resources:\n  - name: web1\n    kind: ssh\n"
	    "    address: h:22\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "resource web1 (ssh) needs host_key_file (or host_key)");
	assert_int_equal(load(fx, "resources:\n  - kind: ssh\n    address: h:22\n"),
	    ZT_ERR_INVALID);
	assert_err(fx, 2, "resources[0] needs name");
	/* A key file that is not there: the line of host_key_file. */
	snprintf(text, sizeof(text), "resources:\n  - name: web1\n    kind: ssh\n"
	    "    address: h:22\n    host_key_file: %s/nosuch.pub\n", fx->dir);
	assert_int_equal(load(fx, text), ZT_ERR_IO);
	assert_err(fx, 5, "cannot read the host key");
	assert_int_equal(load(fx, "resources:\n  - name: web1\n    kind: ssh\n"
	    "    address: h:22\n    host_key_file: host.pub\n"), ZT_ERR_INVALID);
	assert_err(fx, 5, "host_key_file must be an absolute path");
	snprintf(text, sizeof(text), "resources:\n  - name: web1\n    kind: ssh\n"
	    "    address: h:22\n    host_key_file: %s\n    host_key: " KEY1 "\n", fx->key);
	assert_int_equal(load(fx, text), ZT_ERR_INVALID);
	assert_err(fx, 2, "host_key and host_key_file both given");
}

static void test_file_itself(void **state)
{
	struct fx *fx = *state;
	char want[TU_PATH_MAX + 64];

	assert_int_equal(load(fx, "name: web1\n"), 0);
	assert_int_equal(chmod(fx->path, 0620), 0);
	assert_int_equal(agt_config_load(fx->path, &fx->f, fx->err, sizeof(fx->err)),
	    ZT_ERR_DENIED);
	snprintf(want, sizeof(want), "%s: writable by group or others", fx->path);
	assert_non_null(strstr(fx->err, want));
	assert_int_equal(agt_config_load(fx->dir, &fx->f, fx->err, sizeof(fx->err)), ZT_ERR_IO);
	assert_int_equal(load(fx, ""), ZT_ERR_INVALID);
	assert_err(fx, 1, "empty");
}

/* The shipped example loads (its host_key_file read as KEY1 here). */
static void test_example(void **state)
{
	struct fx *fx = *state;
	static char text[AGT_CONFIG_MAX];
	FILE *fp = fopen("examples/agent.yaml", "r");
	size_t n;

	assert_non_null(fp);
	n = fread(text, 1, sizeof(text), fp);
	fclose(fp);
	assert_int_equal(agt_config_parse(text, n, "examples/agent.yaml", &fx->f, fx->err,
	    sizeof(fx->err)), 0);
	assert_int_equal(fx->f.nresources, 3);
	assert_string_equal(fx->f.key_file[0], "/etc/ssh/ssh_host_ed25519_key.pub");
	snprintf(fx->f.key_file[0], sizeof(fx->f.key_file[0]), "%s", fx->key);
	assert_int_equal(agt_config_resolve(&fx->f, "examples/agent.yaml", fx->err,
	    sizeof(fx->err)), 0);
	assert_string_equal(fx->f.resources[0].host_key, KEY1);
	assert_string_equal(fx->f.resources[2].kind, "rdp");
}

static void test_streams_parse(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(agt_streams_parse("1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(agt_streams_parse("4096", &n), 0);
	for (const char *const *s = (const char *const[]){ "0", "4097", "-1", "+2", " 2", "2x",
	    "", NULL }; *s != NULL; s++) {
		assert_int_equal(agt_streams_parse(*s, &n), ZT_ERR_INVALID);
	}
}

/* Writes text with mode as a credentials file and loads it. */
static int creds(struct fx *fx, const char *text, mode_t mode, struct agt_rdp_creds *c)
{
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(fx->path, mode), 0);
	return agt_rdp_creds_load(fx->path, c, fx->err, sizeof(fx->err));
}

/* A desktop's credentials file: read whole when private, refused when
 * group or others may read it, and no error repeats a value. */
static void test_rdp_creds(void **state)
{
	struct fx *fx = *state;
	struct agt_rdp_creds c;

	assert_int_equal(creds(fx, "username: alice\npassword: s3cret-pw\ndomain: CORP\n", 0600,
	    &c), 0);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.password, "s3cret-pw");
	assert_string_equal(c.domain, "CORP");
	assert_string_equal(c.nla_hash, "");
	agt_rdp_creds_wipe(&c);
	assert_string_equal(c.password, "");
	assert_int_equal(creds(fx, "username: a\nnla_hash: 0123456789abcdef0123456789ABCDEF\n",
	    0400, &c), 0);
	assert_int_equal(strlen(c.nla_hash), 32);
	assert_int_equal(creds(fx, "username: a\npassword: s3cret-pw\n", 0640, &c),
	    ZT_ERR_DENIED);
	assert_non_null(strstr(fx->err, "chmod 600"));
	assert_string_equal(c.password, "");
	assert_int_equal(creds(fx, "username: a\npassword: s3cret-pw\nnla_hash: "
	    "0123456789abcdef0123456789abcdef\n", 0600, &c), ZT_ERR_INVALID);
	assert_int_equal(creds(fx, "username: a\n", 0600, &c), ZT_ERR_INVALID);
	assert_int_equal(creds(fx, "password: s3cret-pw\n", 0600, &c), ZT_ERR_INVALID);
	assert_int_equal(creds(fx, "username: a\nnla_hash: s3cret-pw\n", 0600, &c),
	    ZT_ERR_INVALID);
	assert_null(strstr(fx->err, "s3cret"));
	assert_int_equal(creds(fx, "username: a\npasword: s3cret-pw\n", 0600, &c),
	    ZT_ERR_INVALID);
	assert_err(fx, 2, "unknown key \"pasword\"");
	assert_null(strstr(fx->err, "s3cret"));
	/* An rdp resource without one is refused. */
	assert_int_equal(load(fx, "resources:\n  - name: win1\n    kind: rdp\n"
	    "    address: 10.0.0.5:3389\n    cert_pin: " PIN0 "\n"), ZT_ERR_INVALID);
	assert_err(fx, 2, "needs credentials_file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_names_its_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_host_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example, setup, teardown),
		cmocka_unit_test(test_streams_parse),
		cmocka_unit_test_setup_teardown(test_rdp_creds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
