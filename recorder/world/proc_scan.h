/*
 * Processes seen through /proc: found by their command line, and process
 * groups watched until they are gone.
 */
#ifndef IR_PROC_SCAN_H
#define IR_PROC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Find processes whose full command line (arguments joined by spaces)
 * matches the POSIX extended regex `pattern`, as pgrep -f does.  Our own
 * process and pid 1 are never reported.  Up to max pids go to pids, the
 * count of all matches to *n.  -EINVAL (with a message) for a bad regex. */
int ir_proc_find(const char *pattern, pid_t *pids, size_t max, size_t *n,
		 struct ir_ctx *ctx) IR_WUR;

/* Sleep up to ms, ending early once every one of pids has exited (told
 * by a pidfd per process, poll(): no polling of /proc).  A pid that has
 * no process already counts as gone; where pidfds are missing (Linux
 * before 5.3) it is a plain sleep. */
void ir_proc_wait_gone(const pid_t *pids, size_t n, uint64_t ms);

/* Whether any process is left in group pgid. */
bool ir_proc_group_alive(pid_t pgid);

/* Wait until group pgid is gone (it need not be our child), polling;
 * after wait_ms send SIGTERM, after grace_ms more SIGKILL.  0 when gone,
 * -ETIMEDOUT if it survived SIGKILL for another second. */
int ir_proc_group_reap(pid_t pgid, uint64_t wait_ms, uint64_t grace_ms) IR_WUR;

/* Reaping a group (proc.c, proc_scan.c): how often it is polled, and how
 * long after SIGKILL before giving up on it. */
#define IR_PROC_REAP_POLL_MS 20
#define IR_PROC_REAP_KILL_WAIT_MS 1000

#endif
