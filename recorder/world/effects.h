/*
 * Effects: everything that touches the world goes through this table, so
 * the same executor serves a real rollback, a resume, and a test driving it
 * with a table of its own.  ir_effects_real is the table over posix_spawn,
 * /proc, libgit2, libcurl, libarchive and the clocks.
 */
#ifndef IR_EFFECTS_H
#define IR_EFFECTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ir_archive.h"
#include "error.h"
#include "health.h"
#include "proc.h"

struct ir_effects {
	void *self;

	/* Clocks, ns; sleep, ms. */
	int64_t (*wall)(void *self);
	uint64_t (*mono)(void *self);
	void (*sleep_ms)(void *self, uint64_t ms);

	/* Processes (see proc.h). */
	int (*proc_run)(void *self, const struct ir_proc_opts *opts,
			struct ir_proc_result *out, struct ir_ctx *ctx);
	int (*proc_find)(void *self, const char *pattern, pid_t *pids,
			 size_t max, size_t *n, struct ir_ctx *ctx);
	bool (*group_alive)(void *self, pid_t pgid);
	int (*group_reap)(void *self, pid_t pgid, uint64_t wait_ms,
			  uint64_t grace_ms);

	/* HTTP (see health.h). */
	int (*http_get)(void *self, const char *url, uint64_t connect_ms,
			uint64_t total_ms, struct ir_http_result *out,
			struct ir_ctx *ctx);
	/* A webhook POST (see health.h); NULL: notifications are off. */
	int (*http_post_json)(void *self, const char *url, const char *json,
			      uint64_t timeout_ms, struct ir_ctx *ctx);

	/* Identity: the pid the log records (NULL: 0). */
	pid_t (*pid)(void *self);
	/* The crash tests' hook, called once a step's step.started is
	 * durable (NULL: none).  The real one kills the process with
	 * SIGKILL when INCIDENT_TEST_CRASH_AT names the step and this is
	 * its first attempt. */
	void (*crash_point)(void *self, const char *step, unsigned attempt);
};

/* The table that acts on the real world. */
extern const struct ir_effects ir_effects_real;



/*
 * A table that forwards to `inner` and adds up the time spent waiting on
 * the world: child processes, sleeps, HTTP requests, group reaping.  What
 * is left of an incident's wall time is the tool's own overhead.
 */
struct ir_effects_timer {
	struct ir_effects table; /* use this one */
	const struct ir_effects *inner;
	uint64_t wait_ns;
};

void ir_effects_timer_init(struct ir_effects_timer *t,
			   const struct ir_effects *inner);
#endif
