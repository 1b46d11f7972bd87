/*
 * proc.h - hardening of a process that holds private keys (ztbroker with
 * its CAs, ztagent with its agent key).
 *
 * A core dump or a debugger attached by another process of the same user
 * would copy those keys out of memory. proc_harden() shuts both doors for
 * the life of the process: it is made non-dumpable (prctl PR_SET_DUMPABLE
 * 0: no core dump of any kind, not even to a core_pattern pipe, and no
 * ptrace attach or /proc/PID/mem for processes without CAP_SYS_PTRACE),
 * and its core size limit, soft and hard, becomes 0. The limit is inherited
 * across fork and execve (which resets the dumpable flag), so a helper the
 * process starts writes no core file either. What it does not cover: root,
 * and swap (the keys are not mlock()ed).
 */
#ifndef ZT_PROC_H
#define ZT_PROC_H

/* Call at the start of main, before any key is loaded. 0, or ZT_ERR_IO
 * (then the process must not go on: it would run unhardened). */
int proc_harden(void);

#endif
