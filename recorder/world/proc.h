/*
 * Processes: run a configured command under a budget with its output
 * captured line by line, and find processes by their command line.
 *
 * A command runs as `/bin/sh -c COMMAND` in its own process group, started
 * with posix_spawn.  It is gated: the shell waits on a pipe before it execs
 * the command, so the caller can make its step.started event (which names
 * the pgid) durable before anything happens.  If we die before opening the
 * gate, the command never runs.
 */
#ifndef IR_PROC_H
#define IR_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "error.h"
#include "proc_scan.h"

enum ir_proc_stream {
	IR_PROC_STDOUT = 1,
	IR_PROC_STDERR = 2,
};

struct ir_proc_opts {
	const char *command;     /* given to /bin/sh -c */
	const char *cwd;         /* working directory; NULL: ours */
	const char *const *env;  /* extra NAME=VALUE, NULL-terminated */
	uint64_t budget_ms;      /* 0: no budget */
	uint64_t grace_ms;       /* SIGTERM to SIGKILL; 0: 2000 */
	/* stdout goes to this file (created 0600, truncated) instead of
	 * on_line; stderr still goes to on_line. */
	const char *stdout_path;

	/* Called once the gated process group exists.  Return 0 to open the
	 * gate; anything else kills the group unrun and is returned. */
	int (*on_spawn)(void *payload, pid_t pgid);
	/* One line of output, without its newline, cut at
	 * IR_LIMIT_OUTPUT_LINE bytes (truncated set).  A last line without a
	 * newline is delivered too. */
	void (*on_line)(void *payload, enum ir_proc_stream stream,
			const char *line, size_t len, bool truncated);
	/* Called at least every 50 ms while the process runs. */
	void (*on_tick)(void *payload);
	/* Polled as often as on_tick while the shell runs: once it returns
	 * true, the group is ended as at the budget (SIGTERM, SIGKILL after
	 * grace_ms) and the result says cancelled.  The output is read to
	 * the end either way, so the command never writes into a pipe
	 * nobody reads.  NULL: never. */
	bool (*cancel)(void *payload);
	void *payload;
};

#define IR_PROC_OPTS_INIT { 0 }

struct ir_proc_result {
	int exit_code;       /* exit status, or -1 when killed by a signal */
	int signal;          /* the signal that ended it, 0 if none */
	bool timed_out;      /* the budget ran out and we signalled it */
	bool cancelled;      /* opts->cancel asked, and we signalled it */
	uint64_t duration_ms;
	pid_t pgid;
};

/* Run opts->command to its end (or budget).  Returns 0 when the process ran
 * and ended, whatever its exit status (see *out); -ENOENT for a missing
 * cwd, -EINVAL, -ENOMEM, or the on_spawn error. */
int ir_proc_run(const struct ir_proc_opts *opts, struct ir_proc_result *out,
		struct ir_ctx *ctx) IR_WUR;

#endif
