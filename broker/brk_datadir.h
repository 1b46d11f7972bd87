/*
 * brk_datadir.h - the broker's data directory: where its keys and database
 * live.
 *
 *   D/            0700, owned by the broker's user (refused otherwise)
 *   D/zt.db       SQLite store (0600)
 *   D/tls-ca.key  TLS CA key (0600), D/tls-ca.crt
 *   D/ssh-user-ca.key  SSH user CA key (0600)
 *   D/serve.lock  held by the running serve; says whether the last run
 *                 stopped cleanly (brk_run.h)
 *   D/recordings/ 0700, made at the first recorded session: ID.cast
 *                 (0600) per session (brk_recordings.h)
 *
 * Both `ztbroker serve` and the offline `ztbroker admin` open it the same
 * way; the first open creates everything.
 */
#ifndef ZT_BRK_DATADIR_H
#define ZT_BRK_DATADIR_H

struct store;
struct brk_roles;
struct ca;
struct sshca;

#define BRK_DATADIR_PATH_MAX 4000   /* bytes of D's path */

struct brk_datadir {
	/* D/recordings, where session recordings live (may not exist yet) */
	char recordings[BRK_DATADIR_PATH_MAX + 16];
	struct store *store;
	struct brk_roles *roles;   /* the store's roles, parsed (brk_roles.h) */
	struct ca *ca;
	struct sshca *sshca;
};

/* Opens (creating if needed) the data directory at path. On error a clear
 * reason has been logged. 0 or a negative ZT_ERR_*. */
int brk_datadir_open(const char *path, struct brk_datadir *dd);
void brk_datadir_close(struct brk_datadir *dd);

#endif
