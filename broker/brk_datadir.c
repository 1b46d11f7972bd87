/*
 * brk_datadir.c - creating and checking the data directory.
 */
#include "broker/brk_datadir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/brk_roles.h"
#include "common/ca.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sshca.h"
#include "store/store.h"

/* Creates path 0700 or checks that it is a private directory of ours. */
static int check_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create data directory %s: %s", path, strerror(errno));
		return ZT_ERR_IO;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("data directory %s is not a directory", path);
		return ZT_ERR_IO;
	}
	if (st.st_uid != geteuid()) {
		log_error("data directory %s belongs to uid %u, not to this user", path,
		    (unsigned)st.st_uid);
		return ZT_ERR_INVALID;
	}
	if ((st.st_mode & 077) != 0) {
		log_error("data directory %s has mode %04o; it holds CA keys: run chmod 700 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		return ZT_ERR_INVALID;
	}
	return 0;
}

int brk_datadir_open(const char *path, struct brk_datadir *dd)
{
	char db[4096];
	int r;

	memset(dd, 0, sizeof(*dd));
	if ((r = check_dir(path)) != 0) {
		return r;
	}
	if (strlen(path) > BRK_DATADIR_PATH_MAX ||
	    (size_t)snprintf(db, sizeof(db), "%s/zt.db", path) >= sizeof(db)) {
		log_error("data directory path too long");
		return ZT_ERR_INVALID;
	}
	snprintf(dd->recordings, sizeof(dd->recordings), "%s/recordings", path);
	if ((r = store_open(db, &dd->store)) != 0) {
		log_error("cannot open database %s: %s", db, zt_strerror(r));
		goto fail;
	}
	if ((r = brk_roles_new(dd->store, &dd->roles)) != 0) {
		log_error("cannot keep the roles: %s", zt_strerror(r));
		goto fail;
	}
	if ((r = ca_load_or_create(path, (int64_t)time(NULL), &dd->ca)) != 0) {
		log_error("cannot load the TLS CA in %s: %s", path, zt_strerror(r));
		goto fail;
	}
	if ((r = sshca_load_or_create(path, &dd->sshca)) != 0) {
		log_error("cannot load the SSH user CA in %s: %s", path, zt_strerror(r));
		goto fail;
	}
	return 0;
fail:
	brk_datadir_close(dd);
	return r;
}

void brk_datadir_close(struct brk_datadir *dd)
{
	sshca_free(dd->sshca);
	ca_free(dd->ca);
	brk_roles_free(dd->roles);
	store_free(dd->store);
	memset(dd, 0, sizeof(*dd));
}
