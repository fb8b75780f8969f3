/* The runbook's steps as the planner names them: decide, skip, run and
 * recover; the stop, database and start steps (the others have files of
 * their own). */
#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide.h"
#include "ir_limits.h"

/* After an interrupt, how long the stop still watches the trading process
 * go once its command has ended. */
#define INTERRUPT_SETTLE_MS 1000

static int
find_trading(struct ir_run *run, pid_t *pids, size_t *n, struct ir_ctx *ctx)
{
	return run->fx->proc_find(run->fx->self, run->cfg->stop_process, pids,
				  IR_LIMIT_PIDS, n, ctx);
}

static void
describe_pids(char *buf, size_t cap, const pid_t *pids, size_t n,
	      const char *pattern)
{
	size_t used, i;

	if (!n) {
		snprintf(buf, cap, "no process matches \"%s\"", pattern);
		return;
	}
	used = (size_t)snprintf(buf, cap, "%zu process%s match%s \"%s\" (pid",
				n, n == 1 ? "" : "es", n == 1 ? "es" : "",
				pattern);
	for (i = 0; i < n && i < IR_LIMIT_PIDS && used < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%ld",
					 i ? ", " : " ", (long)pids[i]);
	if (used < cap)
		snprintf(buf + used, cap - used, ")");
}

/* Record what a scan for the trading process found. */
static int
record_trading(struct ir_attempt *a, const pid_t *pids, size_t n)
{
	struct ir_val *d = ir_val_map_new(), *arr = ir_val_array_new();
	size_t i;

	for (i = 0; i < n && i < IR_LIMIT_PIDS; i++)
		ir_val_push_int(arr, pids[i]);
	ir_val_set_str(d, "pattern", a->run->cfg->stop_process);
	ir_val_set_take(d, "pids", arr);
	ir_val_set_uint(d, "count", n);
	return ir_attempt_observe(a, "process", d);
}

int
ir_observe_trading(struct ir_attempt *a, size_t *count)
{
	pid_t pids[IR_LIMIT_PIDS];
	size_t n = 0;
	int rc;

	rc = find_trading(a->run, pids, &n, a->ctx);
	if (rc)
		return rc;
	*count = n;
	return record_trading(a, pids, n);
}

static int
decision(struct ir_run *run, enum ir_step step, const char *question,
	 bool yes, const char *because, struct ir_ctx *ctx)
{
	struct ir_val *d = ir_val_map_new();

	ir_val_set_str(d, "question", question);
	ir_val_set_str(d, "answer", yes ? "yes" : "no");
	ir_val_set_str(d, "because", because);
	return ir_rec_emit(run->rec, "decision", ir_step_name(step), d, ctx);
}

/* ---- decisions and skips ----------------------------------------------- */

int
ir_step_decide(struct ir_run *run, enum ir_step step, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const struct ir_config *cfg = run->cfg;
	const struct ir_question *q = ir_question_of(step);
	struct ir_decide_input in = { .kind = st->kind };
	struct ir_decision ans;
	struct ir_attempt a;
	struct ir_val *d;
	char seen[512];
	pid_t pids[IR_LIMIT_PIDS];
	size_t n = 0;
	int rc;

	if (!q)
		return -EINVAL;
	ir_attempt_init(&a, run, step, 0, ctx);
	/* What the rule reads is recorded before the answer. */
	switch (step) {
	case IR_STEP_STOP:
		rc = find_trading(run, pids, &n, ctx);
		if (rc) {
			/* A bad pattern: the step fails, the log says why. */
			ir_attempt_init(&a, run, step, cfg->stop_budget_ms, ctx);
			return ir_attempt_fail(&a, -2, "cannot look for the "
					       "trading process: %s",
					       ir_error_msg(ctx, rc));
		}
		rc = record_trading(&a, pids, n);
		if (rc)
			return rc;
		describe_pids(seen, sizeof(seen), pids, n, cfg->stop_process);
		in.trading = n;
		in.trading_seen = seen;
		break;
	case IR_STEP_BACKUP:
		in.no_backup = st->opt_no_backup;
		break;
	case IR_STEP_DATABASE:
		in.db_configured = cfg->database_restore != NULL;
		in.with_db = st->opt_with_db;
		in.db_on_rollback = cfg->database_on_rollback;
		d = ir_val_map_new();
		ir_val_set_bool(d, "database_restore", in.db_configured);
		ir_val_set_bool(d, "on_rollback", in.db_on_rollback);
		rc = ir_attempt_observe(&a, "config", d);
		if (rc)
			return rc;
		break;
	default:
		return -EINVAL;
	}
	rc = ir_decide(step, &in, &ans);
	if (rc)
		return rc;
	return decision(run, step, q->question, ans.yes, ans.because, ctx);
}

int
ir_step_skip(struct ir_run *run, enum ir_step step, struct ir_ctx *ctx)
{
	const char *why;
	struct ir_val *d = ir_val_map_new();

	switch (step) {
	case IR_STEP_STOP:
		why = "trading is not active: no process matches the pattern";
		break;
	case IR_STEP_BACKUP:
		why = "--no-backup: the state is not archived";
		break;
	case IR_STEP_DATABASE:
		why = "database restore not requested";
		break;
	default:
		why = "not needed";
		break;
	}
	ir_val_set_str(d, "why", why);
	return ir_rec_emit(run->rec, "step.skipped", ir_step_name(step), d,
			   ctx);
}

/* ---- stop -------------------------------------------------------------- */

/* Poll until no trading process is left or budget_ms has passed since the
 * attempt began; records the final observation. */
static int
watch_until_gone(struct ir_attempt *a, uint64_t deadline_ms, size_t *left)
{
	pid_t pids[IR_LIMIT_PIDS];
	uint64_t delay = 1;
	size_t n = 0;
	int rc;

	for (;;) {
		uint64_t elapsed;

		rc = find_trading(a->run, pids, &n, a->ctx);
		if (rc)
			return rc;
		elapsed = ir_attempt_elapsed_ms(a);
		if (!n || elapsed >= deadline_ms)
			break;
		/* Interrupted: the command has ended; give its signal a moment
		 * to take effect, not the whole budget. */
		if (ir_step_interrupted(a->run, NULL) &&
		    deadline_ms > elapsed + INTERRUPT_SETTLE_MS)
			deadline_ms = elapsed + INTERRUPT_SETTLE_MS;
		/* The real world wakes the moment the processes seen are
		 * gone, so it waits for them 50 ms at a time; the scan after
		 * is the one that counts (a new one may have come).  Without
		 * that: look again at once, then less often (1, 2, 4 ... 50
		 * ms; a scan of /proc costs about 1 ms). */
		if (a->run->fx->proc_wait_gone)
			a->run->fx->proc_wait_gone(
				a->run->fx->self, pids,
				n < IR_LIMIT_PIDS ? n : IR_LIMIT_PIDS, 50);
		else
			a->run->fx->sleep_ms(a->run->fx->self, delay);
		delay = delay * 2 > 50 ? 50 : delay * 2;
		rc = ir_rec_tick(a->run->rec, a->ctx);
		if (rc)
			return rc;
	}
	/* The last scan is the observation: no second look. */
	*left = n;
	return record_trading(a, pids, n);
}

static int
run_stop(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	const struct ir_state *st = ir_rec_state(run->rec);
	/* A deploy stops the running version gracefully (deploy.stop); the
	 * emergency stop closes positions. */
	bool deploy = !strcmp(st->kind, "deploy");
	const char *command = deploy ? cfg->deploy_stop : cfg->stop_command;
	uint64_t budget = deploy ? cfg->deploy_stop_budget_ms
				 : cfg->stop_budget_ms;
	struct ir_proc_result res;
	struct ir_attempt a;
	size_t left = 0;
	char because[512];
	int rc;

	ir_attempt_init(&a, run, IR_STEP_STOP, budget, ctx);
	rc = ir_attempt_command(&a, command, budget, NULL, &res);
	if (rc == -ENOENT || rc == -EACCES)
		return ir_attempt_fail(&a, -2, "cannot run \"%s\": %s",
				       command, ir_error_msg(ctx, rc));
	if (rc)
		return rc;
	rc = watch_until_gone(&a, budget, &left);
	if (rc)
		return rc;
	/* After an interrupt no new command begins: the escalation waits
	 * for the resume, which runs the stop again. */
	if ((left || res.timed_out) && !ir_step_interrupted(run, NULL)) {
		snprintf(because, sizeof(because),
			 res.timed_out ? "the stop command was cut off at its "
					 "budget; %zu trading process(es) left"
				       : "%zu trading process(es) outlived the "
					 "stop budget",
			 left);
		rc = decision(run, IR_STEP_STOP, IR_Q_ESCALATE, true, because,
			      ctx);
		if (!rc)
			rc = ir_attempt_escalate(&a, cfg->stop_escalate,
						 budget, because, &res);
		if (!rc)
			rc = watch_until_gone(&a, ir_attempt_elapsed_ms(&a) +
							  budget,
					      &left);
		if (rc)
			return rc;
	}
	if (left && ir_step_interrupted(run, NULL))
		return ir_attempt_interrupt(
			&a, res.exit_code, false,
			"interrupted with %zu trading process(es) still "
			"running%s",
			left,
			a.escalated ? " after the escalation" : "; not escalated");
	if (left)
		return ir_attempt_fail(&a, res.exit_code,
				       "%zu trading process(es) still running",
				       left);
	return ir_attempt_complete(&a);
}

/* ---- database ---------------------------------------------------------- */

/*
 * A command whose outcome a crash leaves unknown (a database restore, a
 * migration): run once; an attempt cut off is not repeated blindly.
 */
static int
run_once(struct ir_run *run, enum ir_step step, const char *command,
	 uint64_t budget_ms, const char *what, const char *then,
	 struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	struct ir_proc_result res;
	struct ir_attempt a;
	int rc;

	ir_attempt_init(&a, run, step, budget_ms, ctx);
	if (st->steps[step].interrupted)
		return ir_attempt_fail(&a, -2,
				       "the %s was interrupted and its outcome "
				       "is unknown; it is not repeated "
				       "blindly: check the database, then %s",
				       what, then);
	rc = ir_attempt_command(&a, command, budget_ms, NULL, &res);
	if (rc == -ENOENT || rc == -EACCES)
		return ir_attempt_fail(&a, -2, "cannot run \"%s\": %s",
				       command, ir_error_msg(ctx, rc));
	if (rc)
		return rc;
	if (res.timed_out)
		return ir_attempt_fail(&a, res.exit_code,
				       "%s cut off at its budget", what);
	if (res.exit_code)
		return ir_attempt_fail(&a, res.exit_code, "%s failed", what);
	return ir_attempt_complete(&a);
}

static int
run_database(struct ir_run *run, struct ir_ctx *ctx)
{
	return run_once(run, IR_STEP_DATABASE, run->cfg->database_restore,
			run->cfg->database_budget_ms, "database restore",
			"start services by hand or roll back again", ctx);
}

/* ---- migrate (deploy) --------------------------------------------------- */

static int
run_migrate(struct ir_run *run, struct ir_ctx *ctx)
{
	if (!run->cfg->deploy_migrate) {
		struct ir_val *d = ir_val_map_new();

		ir_val_set_str(d, "why", "deploy.migrate is not set");
		return ir_rec_emit(run->rec, "step.skipped", "migrate", d, ctx);
	}
	return run_once(run, IR_STEP_MIGRATE, run->cfg->deploy_migrate,
			run->cfg->deploy_migrate_budget_ms, "migration",
			"deploy again or roll back", ctx);
}

/* ---- start ------------------------------------------------------------- */

static int
run_start(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	struct ir_proc_result res;
	struct ir_attempt a;
	size_t running = 0;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_START, cfg->start_budget_ms, ctx);
	/* After a crash the node may already be up: never start a second
	 * one.  The look comes first, so that step.started can name the
	 * process group of the start command when there is one. */
	rc = ir_observe_trading(&a, &running);
	if (rc)
		return rc;
	if (running) {
		rc = ir_attempt_start(&a, NULL, 0);
		return rc ? rc : ir_attempt_complete(&a);
	}
	rc = ir_attempt_command(&a, cfg->start_command, cfg->start_budget_ms,
				NULL, &res);
	if (rc == -ENOENT || rc == -EACCES)
		return ir_attempt_fail(&a, -2, "cannot run \"%s\": %s",
				       cfg->start_command,
				       ir_error_msg(ctx, rc));
	if (rc)
		return rc;
	if (res.timed_out)
		return ir_attempt_fail(&a, res.exit_code,
				       "start command cut off at its budget");
	if (res.exit_code)
		return ir_attempt_fail(&a, res.exit_code,
				       "start command failed (exit %d)",
				       res.exit_code);
	rc = ir_observe_trading(&a, &running);
	if (rc)
		return rc;
	return ir_attempt_complete(&a);
}

/* ---- dispatch ---------------------------------------------------------- */

int
ir_step_run(struct ir_run *run, enum ir_step step, struct ir_ctx *ctx)
{
	switch (step) {
	case IR_STEP_STOP:
		return run_stop(run, ctx);
	case IR_STEP_BACKUP:
		return ir_step_backup(run, ctx);
	case IR_STEP_CHECKOUT:
		return ir_step_checkout(run, ctx);
	case IR_STEP_CONFIG:
		return ir_step_config(run, ctx);
	case IR_STEP_DATABASE:
		return run_database(run, ctx);
	case IR_STEP_START:
		return run_start(run, ctx);
	case IR_STEP_HEALTH:
		return ir_step_health(run, ctx);
	case IR_STEP_VERIFY:
		return ir_step_verify(run, ctx);
	case IR_STEP_REPORT:
		return ir_step_report(run, ctx);
	case IR_STEP_RESTORE:
		return ir_step_restore(run, ctx);
	case IR_STEP_MIGRATE:
		return run_migrate(run, ctx);
	case IR_STEP_SOAK:
		return ir_step_soak(run, ctx);
	default:
		return -EINVAL;
	}
}

/*
 * The step was running when the process that ran it died.  Its process
 * group (named in step.started) is waited for within what is left of its
 * budget, then killed; the attempt is closed as interrupted, and the step
 * runs again, each one first checking whether its effect already holds.
 */
int
ir_step_recover(struct ir_run *run, enum ir_step step, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const struct ir_step_state *s = &st->steps[step];
	uint64_t spent_ms = (st->last_mono - s->started_mono) / 1000000;
	uint64_t wait_ms = s->budget_ms > spent_ms ? s->budget_ms - spent_ms : 0;
	struct ir_val *d = ir_val_map_new();
	bool was_alive = false;

	if (s->pgid > 0 && run->fx->group_alive(run->fx->self, (pid_t)s->pgid)) {
		was_alive = true;
		if (run->fx->group_reap(run->fx->self, (pid_t)s->pgid, wait_ms,
					2000))
			ir_val_set_bool(d, "survived_kill", true);
	}
	ir_val_set_uint(d, "duration_ms",
			(ir_rec_mono(run->rec) - s->started_mono) / 1000000);
	ir_val_set_uint(d, "budget_ms", s->budget_ms);
	ir_val_set_str(d, "error",
		       was_alive ? "interrupted by a crash; its process group "
				   "was waited for, then ended"
				 : "interrupted by a crash");
	ir_val_set_bool(d, "interrupted", true);
	return ir_rec_emit(run->rec, "step.failed", ir_step_name(step), d, ctx);
}
