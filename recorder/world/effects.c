#include "effects.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t
real_wall(void *self)
{
	return ir_clock_wall();
}

static uint64_t
real_mono(void *self)
{
	return ir_clock_mono();
}

static void
real_sleep(void *self, uint64_t ms)
{
	ir_sleep_ms(ms);
}

static int
real_proc_run(void *self, const struct ir_proc_opts *opts,
	      struct ir_proc_result *out, struct ir_ctx *ctx)
{
	return ir_proc_run(opts, out, ctx);
}

static int
real_proc_find(void *self, const char *pattern, pid_t *pids, size_t max,
	       size_t *n, struct ir_ctx *ctx)
{
	return ir_proc_find(pattern, pids, max, n, ctx);
}

static bool
real_group_alive(void *self, pid_t pgid)
{
	return ir_proc_group_alive(pgid);
}

static int
real_group_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	return ir_proc_group_reap(pgid, wait_ms, grace_ms);
}

static int
real_http_get(void *self, const char *url, uint64_t connect_ms,
	      uint64_t total_ms, struct ir_http_result *out,
	      struct ir_ctx *ctx)
{
	return ir_http_get(url, connect_ms, total_ms, out, ctx);
}

static int
real_http_post_json(void *self, const char *url, const char *json,
		    uint64_t timeout_ms, struct ir_ctx *ctx)
{
	return ir_http_post_json(url, json, timeout_ms, ctx);
}

static pid_t
real_pid(void *self)
{
	(void)self;
	return getpid();
}

/*
 * Crash tests: INCIDENT_TEST_CRASH_AT=STEP makes the process kill itself
 * with SIGKILL right after that step's step.started is durable, the
 * worst instant for a resume.  It acts only on a step's first attempt, so
 * a resumed run goes through even with the variable still set.
 */
static void
real_crash_point(void *self, const char *step, unsigned attempt)
{
	const char *at = getenv("INCIDENT_TEST_CRASH_AT");

	(void)self;
	if (!at || attempt != 1 || strcmp(at, step))
		return;
	kill(getpid(), SIGKILL);
}

const struct ir_effects ir_effects_real = {
	.self = NULL,
	.wall = real_wall,
	.mono = real_mono,
	.sleep_ms = real_sleep,
	.proc_run = real_proc_run,
	.proc_find = real_proc_find,
	.group_alive = real_group_alive,
	.group_reap = real_group_reap,
	.http_get = real_http_get,
	.http_post_json = real_http_post_json,
	.pid = real_pid,
	.crash_point = real_crash_point,
};

/* ---- the waiting timer -------------------------------------------------- */

#define TIMER(self) ((struct ir_effects_timer *)(self))
#define INNER(self) (TIMER(self)->inner)

static int64_t
timed_wall(void *self)
{
	return INNER(self)->wall(INNER(self)->self);
}

static uint64_t
timed_mono(void *self)
{
	return INNER(self)->mono(INNER(self)->self);
}

static void
timed_sleep(void *self, uint64_t ms)
{
	uint64_t t0 = timed_mono(self);

	INNER(self)->sleep_ms(INNER(self)->self, ms);
	TIMER(self)->wait_ns += timed_mono(self) - t0;
}

static int
timed_proc_run(void *self, const struct ir_proc_opts *opts,
	       struct ir_proc_result *out, struct ir_ctx *ctx)
{
	uint64_t t0 = timed_mono(self);
	int rc = INNER(self)->proc_run(INNER(self)->self, opts, out, ctx);

	TIMER(self)->wait_ns += timed_mono(self) - t0;
	return rc;
}

static int
timed_proc_find(void *self, const char *pattern, pid_t *pids, size_t max,
		size_t *n, struct ir_ctx *ctx)
{
	return INNER(self)->proc_find(INNER(self)->self, pattern, pids, max, n,
				      ctx);
}

static bool
timed_group_alive(void *self, pid_t pgid)
{
	return INNER(self)->group_alive(INNER(self)->self, pgid);
}

static int
timed_group_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	uint64_t t0 = timed_mono(self);
	int rc = INNER(self)->group_reap(INNER(self)->self, pgid, wait_ms,
					 grace_ms);

	TIMER(self)->wait_ns += timed_mono(self) - t0;
	return rc;
}

static int
timed_http_get(void *self, const char *url, uint64_t connect_ms,
	       uint64_t total_ms, struct ir_http_result *out,
	       struct ir_ctx *ctx)
{
	uint64_t t0 = timed_mono(self);
	int rc = INNER(self)->http_get(INNER(self)->self, url, connect_ms,
				       total_ms, out, ctx);

	TIMER(self)->wait_ns += timed_mono(self) - t0;
	return rc;
}

static int
timed_http_post_json(void *self, const char *url, const char *json,
		     uint64_t timeout_ms, struct ir_ctx *ctx)
{
	uint64_t t0 = timed_mono(self);
	int rc = INNER(self)->http_post_json(INNER(self)->self, url, json,
					     timeout_ms, ctx);

	TIMER(self)->wait_ns += timed_mono(self) - t0;
	return rc;
}

void
ir_effects_timer_init(struct ir_effects_timer *t,
		      const struct ir_effects *inner)
{
	t->inner = inner;
	t->wait_ns = 0;
	t->table.self = t;
	t->table.wall = timed_wall;
	t->table.mono = timed_mono;
	t->table.sleep_ms = timed_sleep;
	t->table.proc_run = timed_proc_run;
	t->table.proc_find = timed_proc_find;
	t->table.group_alive = timed_group_alive;
	t->table.group_reap = timed_group_reap;
	t->table.http_get = timed_http_get;
	t->table.http_post_json =
		inner->http_post_json ? timed_http_post_json : NULL;
	/* Neither waits: the inner ones as they are. */
	t->table.pid = inner->pid;
	t->table.crash_point = inner->crash_point;
}
