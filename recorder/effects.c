#include "effects.h"

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
};
