/*
 * proc.c - no core dumps and no same-user debugger for processes that
 * hold keys (proc.h).
 */
#include "common/proc.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/err.h"

int proc_harden(void)
{
	const struct rlimit none = { 0, 0 };

	/* Both: the flag alone is reset by execve, the limit alone does not
	 * stop a core_pattern pipe or a debugger. */
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		return ZT_ERR_IO;
	}
	return 0;
}
