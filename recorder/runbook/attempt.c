/* Attempts: a step's events, its commands, and its interrupts. */
#include "attempt.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir_limits.h"

/* ---- attempts ---------------------------------------------------------- */

void
ir_attempt_init(struct ir_attempt *a, struct ir_run *run, enum ir_step step,
		uint64_t budget_ms, struct ir_ctx *ctx)
{
	memset(a, 0, sizeof(*a));
	a->run = run;
	a->ctx = ctx;
	a->step = step;
	a->name = ir_step_name(step);
	a->budget_ms = budget_ms;
	a->t0 = ir_rec_mono(run->rec);
}

uint64_t
ir_attempt_elapsed_ms(const struct ir_attempt *a)
{
	return (ir_rec_mono(a->run->rec) - a->t0) / 1000000;
}

/* The crash tests' hook (effects.h), once step.started is durable. */
static void
crash_point(struct ir_attempt *a, unsigned attempt)
{
	const struct ir_effects *fx = a->run->fx;

	if (fx->crash_point)
		fx->crash_point(fx->self, a->name, attempt);
}

int
ir_attempt_start(struct ir_attempt *a, const char *command, int64_t pgid)
{
	const struct ir_state *st = ir_rec_state(a->run->rec);
	struct ir_val *d;
	unsigned attempt;
	int rc;

	if (a->started)
		return 0;
	d = ir_val_map_new();
	ir_val_set_uint(d, "budget_ms", a->budget_ms);
	if (command)
		ir_val_set_str(d, "command", command);
	if (pgid > 0)
		ir_val_set_int(d, "pgid", pgid);
	attempt = st->steps[a->step].attempts + 1;
	ir_val_set_uint(d, "attempt", attempt);
	a->started = true;
	a->t0 = ir_rec_mono(a->run->rec);
	/* Durable before the step acts, whatever the step: a probe, a
	 * read, a checkout or a file written are all effects a resume must
	 * know were begun. */
	rc = ir_rec_emit(a->run->rec, "step.started", a->name, d, a->ctx);
	if (!rc)
		crash_point(a, attempt);
	return rc;
}

static void
set_duration(struct ir_attempt *a, struct ir_val *d)
{
	uint64_t ms = ir_attempt_elapsed_ms(a);

	ir_val_set_uint(d, "duration_ms", ms);
	ir_val_set_uint(d, "budget_ms", a->budget_ms);
	ir_val_set_bool(d, "over_budget", a->budget_ms && ms > a->budget_ms);
	if (a->escalated)
		ir_val_set_bool(d, "escalated", true);
}

static int
flush_dropped(struct ir_attempt *a)
{
	struct ir_val *d;

	if (!a->dropped)
		return 0;
	d = ir_val_map_new();
	ir_val_set_str(d, "stream", "err");
	ir_val_set_str(d, "line", "[output cut: per-step line cap reached]");
	ir_val_set_uint(d, "dropped", a->dropped);
	a->dropped = 0;
	return ir_rec_emit(a->run->rec, "step.output", a->name, d, a->ctx);
}

int
ir_attempt_complete(struct ir_attempt *a)
{
	struct ir_val *d;
	int rc = ir_attempt_start(a, NULL, 0);

	if (!rc)
		rc = flush_dropped(a);
	if (rc)
		return rc;
	d = ir_val_map_new();
	set_duration(a, d);
	return ir_rec_emit(a->run->rec, "step.completed", a->name, d, a->ctx);
}

/* step.failed; interrupted (and killed) mark an attempt that runs again. */
static int
fail(struct ir_attempt *a, int exit_code, bool interrupted, bool killed,
     const char *fmt, va_list ap)
{
	char msg[512];
	struct ir_val *d;
	int rc = ir_attempt_start(a, NULL, 0);

	if (!rc)
		rc = flush_dropped(a);
	if (rc)
		return rc;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	d = ir_val_map_new();
	set_duration(a, d);
	ir_val_set_str(d, "error", msg);
	if (exit_code >= -1)
		ir_val_set_int(d, "exit_code", exit_code);
	if (interrupted)
		ir_val_set_bool(d, "interrupted", true);
	if (killed)
		ir_val_set_bool(d, "killed", true);
	return ir_rec_emit(a->run->rec, "step.failed", a->name, d, a->ctx);
}

int
ir_attempt_fail(struct ir_attempt *a, int exit_code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = fail(a, exit_code, false, false, fmt, ap);
	va_end(ap);
	return rc;
}

int
ir_attempt_interrupt(struct ir_attempt *a, int exit_code, bool killed,
		     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = fail(a, exit_code, true, killed, fmt, ap);
	va_end(ap);
	return rc;
}

int
ir_step_interrupted(const struct ir_run *run, bool *kill)
{
	bool k = false;
	int sig = run->interrupted
			  ? run->interrupted(run->interrupt_payload, &k)
			  : 0;

	if (kill)
		*kill = sig && k;
	return sig;
}

int
ir_attempt_observe(struct ir_attempt *a, const char *what, struct ir_val *d)
{
	if (!d)
		d = ir_val_map_new();
	ir_val_set_str(d, "what", what);
	return ir_rec_emit(a->run->rec, "observation", a->name, d, a->ctx);
}

/* ---- commands ---------------------------------------------------------- */

struct command_run {
	struct ir_attempt *a;
	const char *command;
	const char *escalation; /* why, when this is the escalation */
};

static int
on_spawn(void *payload, pid_t pgid)
{
	struct command_run *cr = payload;
	struct ir_attempt *a = cr->a;
	struct ir_val *d;

	int rc;

	if (!a->started)
		return ir_attempt_start(a, cr->command, pgid);
	d = ir_val_map_new();
	ir_val_set_str(d, "command", cr->command);
	ir_val_set_int(d, "pgid", pgid);
	if (cr->escalation) {
		ir_val_set_uint(d, "after_ms", ir_attempt_elapsed_ms(a));
		ir_val_set_uint(d, "budget_ms", a->budget_ms);
		ir_val_set_str(d, "because", cr->escalation);
		a->escalated = true;
		rc = ir_rec_emit(a->run->rec, "step.escalated", a->name, d,
				 a->ctx);
	} else {
		rc = ir_attempt_observe(a, "process", d);
	}
	/* The gate opens only when everything before it is on disk. */
	return rc ? rc : ir_rec_flush(a->run->rec, a->ctx);
}

/* A second SIGINT ends the command's process group. */
static bool
on_cancel(void *payload)
{
	bool kill = false;

	ir_step_interrupted(((struct command_run *)payload)->a->run, &kill);
	return kill;
}

static void
on_line(void *payload, enum ir_proc_stream stream, const char *line,
	size_t len, bool truncated)
{
	struct ir_attempt *a = ((struct command_run *)payload)->a;
	struct ir_val *d;
	int rc;

	if (a->log_rc)
		return;
	if (a->lines >= IR_LIMIT_OUTPUT_LINES) {
		a->dropped++;
		return;
	}
	a->lines++;
	d = ir_val_map_new();
	ir_val_set_str(d, "stream", stream == IR_PROC_STDOUT ? "out" : "err");
	ir_val_set_strn(d, "line", line, len);
	if (truncated)
		ir_val_set_bool(d, "truncated", true);
	rc = ir_rec_emit(a->run->rec, "step.output", a->name, d, a->ctx);
	if (rc)
		a->log_rc = rc;
}

static void
on_tick(void *payload)
{
	struct ir_attempt *a = ((struct command_run *)payload)->a;
	int rc;

	if (a->log_rc)
		return;
	rc = ir_rec_tick(a->run->rec, a->ctx);
	if (rc)
		a->log_rc = rc;
}

static int
run_command(struct ir_attempt *a, const char *command, const char *escalation,
	uint64_t budget_ms, const char *stdout_path,
	struct ir_proc_result *out)
{
	const struct ir_state *st = ir_rec_state(a->run->rec);
	struct ir_proc_opts opts = IR_PROC_OPTS_INIT;
	struct command_run cr = { a, command, escalation };
	char env_id[64], env_step[64], env_from[300], env_target[300];
	const char *env[5];
	int rc;

	snprintf(env_id, sizeof(env_id), "INCIDENT_ID=INC-%llu",
		 (unsigned long long)ir_rec_id(a->run->rec));
	snprintf(env_step, sizeof(env_step), "INCIDENT_STEP=%s", a->name);
	snprintf(env_from, sizeof(env_from), "INCIDENT_FROM=%s", st->from);
	snprintf(env_target, sizeof(env_target), "INCIDENT_TARGET=%s",
		 st->target);
	env[0] = env_id;
	env[1] = env_step;
	env[2] = env_from;
	env[3] = env_target;
	env[4] = NULL;
	opts.command = command;
	opts.cwd = a->run->cfg->deploy_dir;
	opts.env = env;
	opts.budget_ms = budget_ms;
	opts.stdout_path = stdout_path;
	opts.on_spawn = on_spawn;
	opts.on_line = on_line;
	opts.on_tick = on_tick;
	opts.cancel = on_cancel;
	opts.payload = &cr;
	rc = a->run->fx->proc_run(a->run->fx->self, &opts, out, a->ctx);
	/* The output left pending rides along with the next durable event:
	 * nothing acts on the world before that. */
	if (a->log_rc)
		return a->log_rc;
	/* What the process came to, as the world said it. */
	if (!rc) {
		struct ir_val *d = ir_val_map_new();

		ir_val_set_str(d, "command", command);
		ir_val_set_int(d, "pgid", out->pgid);
		ir_val_set_int(d, "exit_code", out->exit_code);
		ir_val_set_int(d, "signal", out->signal);
		ir_val_set_bool(d, "timed_out", out->timed_out);
		ir_val_set_bool(d, "cancelled", out->cancelled);
		ir_val_set_uint(d, "duration_ms", out->duration_ms);
		rc = ir_attempt_observe(a, "result", d);
		if (rc)
			return rc;
	}
	if (rc || !out->cancelled)
		return rc;
	rc = ir_attempt_interrupt(a, out->exit_code, true,
				  "interrupted: a second SIGINT ended \"%s\" "
				  "(process group %lld)",
				  command, (long long)out->pgid);
	return rc ? rc : -EINTR;
}

int
ir_attempt_command(struct ir_attempt *a, const char *cmd, uint64_t budget_ms,
		   const char *stdout_path, struct ir_proc_result *out)
{
	return run_command(a, cmd, NULL, budget_ms, stdout_path, out);
}

int
ir_attempt_escalate(struct ir_attempt *a, const char *cmd, uint64_t budget_ms,
		    const char *because, struct ir_proc_result *out)
{
	return run_command(a, cmd, because, budget_ms, NULL, out);
}

/* ---- observations ------------------------------------------------------ */

/* ---- templates --------------------------------------------------------- */

char *
ir_runbook_expand(const char *tmpl, const char *tag)
{
	const char *ts = tag, *p;
	struct ir_buf b = IR_BUF_INIT(4096);

	if (!strncmp(tag, "deploy-", 7))
		ts = tag + 7;
	for (p = tmpl; *p; p++) {
		int rc;

		if (!strncmp(p, "{tag}", 5)) {
			rc = ir_buf_add(&b, tag, strlen(tag));
			p += 4;
		} else if (!strncmp(p, "{ts}", 4)) {
			rc = ir_buf_add(&b, ts, strlen(ts));
			p += 3;
		} else {
			rc = ir_buf_add(&b, p, 1);
		}
		if (rc) {
			ir_buf_clear(&b);
			return NULL;
		}
	}
	return ir_buf_take(&b);
}
