/*
 * brk_admin.h - `ztbroker admin`: offline administration on the data
 * directory, for bootstrap and recovery. Works whether or not a broker is
 * serving the same directory (SQLite WAL). Every change is audited with the
 * actor "admin:<unix user>" and source "local".
 */
#ifndef ZT_BRK_ADMIN_H
#define ZT_BRK_ADMIN_H

struct brk_datadir;

/* Runs one admin command (argv[0] is the first word after the data dir,
 * e.g. "users"). Returns the process exit code: 0 done, 1 failed, 2 usage. */
int brk_admin_main(struct brk_datadir *dd, int argc, char **argv);
/* The usage text of the admin commands. */
extern const char brk_admin_usage[];

#endif
