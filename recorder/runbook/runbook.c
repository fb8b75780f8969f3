#include "runbook.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir_limits.h"
#include "jsontext.h"
#include "steps.h"
#include "wrap.h"

static const enum ir_step rollback_steps[] = {
	IR_STEP_STOP,     IR_STEP_BACKUP, IR_STEP_CHECKOUT,
	IR_STEP_CONFIG,   IR_STEP_DATABASE, IR_STEP_START,
	IR_STEP_HEALTH,   IR_STEP_VERIFY, IR_STEP_REPORT,
};
/* A deploy archives first, then stops the running version gracefully. */
static const enum ir_step deploy_steps[] = {
	IR_STEP_BACKUP,  IR_STEP_STOP,   IR_STEP_CHECKOUT, IR_STEP_CONFIG,
	IR_STEP_MIGRATE, IR_STEP_START,  IR_STEP_HEALTH,   IR_STEP_SOAK,
	IR_STEP_VERIFY,  IR_STEP_REPORT,
};
static const enum ir_step stop_steps[] = { IR_STEP_STOP };
static const enum ir_step backup_steps[] = { IR_STEP_BACKUP };
static const enum ir_step restore_steps[] = { IR_STEP_RESTORE };

const enum ir_step *
ir_runbook_steps(const char *kind, size_t *n)
{
#define RET(a)                                                                \
	do {                                                                  \
		*n = sizeof(a) / sizeof(*(a));                                \
		return a;                                                     \
	} while (0)
	if (!strcmp(kind, "rollback"))
		RET(rollback_steps);
	if (!strcmp(kind, "deploy"))
		RET(deploy_steps);
	if (!strcmp(kind, "stop"))
		RET(stop_steps);
	if (!strcmp(kind, "backup"))
		RET(backup_steps);
	if (!strcmp(kind, "restore"))
		RET(restore_steps);
#undef RET
	*n = 0;
	return NULL;
}

static bool
gated(enum ir_step step)
{
	return step == IR_STEP_STOP || step == IR_STEP_BACKUP ||
	       step == IR_STEP_DATABASE;
}

struct ir_action
ir_runbook_next(const struct ir_state *st)
{
	struct ir_action a = { IR_ACT_NONE, IR_STEP_NONE, NULL };
	const enum ir_step *steps;
	size_t n, i;

	if (!st->opened || st->closed)
		return a;
	if (st->interrupted) {
		a.kind = IR_ACT_HALT;
		return a;
	}
	steps = ir_runbook_steps(st->kind, &n);
	for (i = 0; i < n; i++) {
		const struct ir_step_state *s = &st->steps[steps[i]];

		a.step = steps[i];
		switch (s->status) {
		case IR_STEP_DONE:
		case IR_STEP_SKIPPED:
			continue;
		case IR_STEP_FAILED:
			a.kind = IR_ACT_CLOSE;
			a.status = "failed";
			return a;
		case IR_STEP_RUNNING:
			/* Running in this session cannot be seen between
			 * actions; running in an older one was cut off. */
			a.kind = s->session < st->session ? IR_ACT_RECOVER
							  : IR_ACT_CLOSE;
			a.status = "failed";
			return a;
		case IR_STEP_PENDING:
			/* A decision is about the world now: one from before
			 * a crash is taken again. */
			if (gated(steps[i]) &&
			    (s->decision == IR_ANSWER_NONE ||
			     s->decision_session < st->session))
				a.kind = IR_ACT_DECIDE;
			else if (gated(steps[i]) && s->decision == IR_ANSWER_NO)
				a.kind = IR_ACT_SKIP;
			else
				a.kind = IR_ACT_RUN;
			return a;
		}
	}
	a.kind = IR_ACT_CLOSE;
	a.step = IR_STEP_NONE;
	a.status = n ? "succeeded" : "failed";
	return a;
}

/*
 * Tell every [notify "name"] webhook how the incident ended.  The URL is a
 * secret: the log records the name and the outcome, never the URL.  A
 * webhook that fails does not change the incident's status.
 */
static int
notify(struct ir_run *run, const char *status, uint64_t ms,
       struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	struct ir_jtext body = { NULL, 0, 0, false };
	char id[32];
	size_t i;
	int rc = 0;

	if (!run->cfg->n_notify || !run->fx->http_post_json)
		return 0;
	snprintf(id, sizeof(id), "INC-%llu",
		 (unsigned long long)ir_rec_id(run->rec));
	ir_jtext_lit(&body, "{\"incident\":");
	ir_jtext_str(&body, id, strlen(id));
	ir_jtext_lit(&body, ",\"kind\":");
	ir_jtext_str(&body, st->kind, strlen(st->kind));
	ir_jtext_lit(&body, ",\"status\":");
	ir_jtext_str(&body, status, strlen(status));
	ir_jtext_lit(&body, ",\"from\":");
	ir_jtext_str(&body, st->from, strlen(st->from));
	ir_jtext_lit(&body, ",\"to\":");
	ir_jtext_str(&body, st->target, strlen(st->target));
	ir_jtext_lit(&body, ",\"duration_ms\":");
	ir_jtext_u64(&body, ms);
	/* The close's checkpoint: a copy of the root off the machine. */
	if (st->checkpointed) {
		char hex[65];

		ir_hex(hex, st->checkpoint_root, sizeof(st->checkpoint_root));
		ir_jtext_lit(&body, ",\"checkpoint\":{\"size\":");
		ir_jtext_u64(&body, st->checkpoint_size);
		ir_jtext_lit(&body, ",\"root\":");
		ir_jtext_str(&body, hex, strlen(hex));
		ir_jtext_lit(&body, "}");
	}
	ir_jtext_lit(&body, "}");
	ir_jtext_put(&body, "", 1);
	if (body.failed) {
		ir_jtext_clear(&body);
		return -ENOMEM;
	}
	for (i = 0; i < run->cfg->n_notify && !rc; i++) {
		struct ir_ctx local = { 0 };
		struct ir_val *d = ir_val_map_new();
		int sent = run->fx->http_post_json(run->fx->self,
						   run->cfg->notify[i].url,
						   body.p, 3000, &local);

		ir_val_set_str(d, "what", "notify");
		ir_val_set_str(d, "name", run->cfg->notify[i].name);
		ir_val_set_bool(d, "ok", !sent);
		if (sent)
			ir_val_set_str(d, "error", ir_error_msg(&local, sent));
		rc = ir_rec_emit(run->rec, "observation", NULL, d, ctx);
	}
	ir_jtext_clear(&body);
	return rc;
}

static int
close_incident(struct ir_run *run, const char *status, uint64_t wait_ns,
	       struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	struct ir_val *d = ir_val_map_new();
	uint64_t ms = ir_rec_mono(run->rec) / 1000000;
	int rc;

	ir_val_set_str(d, "status", status);
	ir_val_set_uint(d, "duration_ms", ms);
	/* Of this process's run: the time spent waiting on commands, sleeps
	 * and health requests.  The rest is the tool's own overhead. */
	ir_val_set_uint(d, "wait_ms", wait_ns / 1000000);
	if (st->budget_ms) {
		ir_val_set_uint(d, "budget_ms", st->budget_ms);
		ir_val_set_bool(d, "over_budget", ms > st->budget_ms);
	}
	rc = ir_rec_emit(run->rec, "incident.closed", NULL, d, ctx);
	if (!rc)
		rc = notify(run, status, ms, ctx);
	/* The webhooks' observations (the close's checkpoint went in with
	 * the close). */
	if (!rc)
		rc = ir_rec_flush(run->rec, ctx);
	if (rc)
		return rc;
	/* The report step wrote the report before the close; write it again
	 * so it holds the whole incident. */
	if (run->fx->report_write &&
	    (!strcmp(st->kind, "rollback") || !strcmp(st->kind, "deploy"))) {
		struct ir_ctx ignored = { 0 };

		if (run->fx->report_write(run->fx->self, ir_rec_id(run->rec),
					  &ignored))
			ignored.err.code = 0; /* the step's copy stands */
	}
	return 0;
}

int
ir_runbook_resume(struct ir_run *run, const char *actor, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const char *interrupted = st->interrupted_step;
	struct ir_val *d = ir_val_map_new();
	int i;

	for (i = 0; i < IR_STEP__COUNT; i++)
		if (st->steps[i].status == IR_STEP_RUNNING)
			interrupted = ir_step_name((enum ir_step)i);
	ir_val_set_str(d, "interrupted_step", interrupted);
	ir_val_set_str(d, "actor", actor);
	ir_val_set_int(d, "pid", run->fx->pid ? run->fx->pid(run->fx->self) : 0);
	return ir_rec_emit(run->rec, "incident.resumed", NULL, d, ctx);
}

static const char *
signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "signal";
	}
}

/* What became of the step the interrupt came during. */
static const char *
outcome(const struct ir_state *st, enum ir_step step)
{
	const struct ir_step_state *s = &st->steps[step];

	switch (s->status) {
	case IR_STEP_DONE:
		return "completed";
	case IR_STEP_FAILED:
		return "failed";
	case IR_STEP_SKIPPED:
		return "skipped";
	case IR_STEP_RUNNING:
		return "running";
	case IR_STEP_PENDING:
		break;
	}
	return s->attempts && s->session == st->session ? "interrupted"
							 : "not started";
}

/*
 * incident.interrupted: which step the interrupt came during and what
 * became of it, the step that was not begun, and a fresh look at the
 * trading process, so that the operator (and the log) know whether
 * trading runs while the incident waits.
 */
static int
record_interrupt(struct ir_run *run, enum ir_step step, bool killed,
		 struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	struct ir_action next = ir_runbook_next(st);
	struct ir_val *d = ir_val_map_new();
	struct ir_ctx local = { 0 };
	pid_t pids[IR_LIMIT_PIDS];
	size_t n = 0, i;
	int sig = ir_step_interrupted(run, NULL), found;

	ir_val_set_str(d, "signal", signal_name(sig));
	ir_val_set_int(d, "signo", sig);
	if (step != IR_STEP_NONE) {
		ir_val_set_str(d, "step", ir_step_name(step));
		ir_val_set_str(d, "outcome", outcome(st, step));
	}
	if (next.kind != IR_ACT_CLOSE && next.step != IR_STEP_NONE)
		ir_val_set_str(d, "next_step", ir_step_name(next.step));
	else if (next.kind == IR_ACT_CLOSE)
		ir_val_set_str(d, "next_step", "close");
	ir_val_set_bool(d, "killed", killed);
	ir_val_set_str(d, "pattern", run->cfg->stop_process);
	found = run->fx->proc_find(run->fx->self, run->cfg->stop_process, pids,
				   IR_LIMIT_PIDS, &n, &local);
	if (found) {
		ir_val_set_str(d, "trading_error", ir_error_msg(&local, found));
	} else {
		struct ir_val *arr = ir_val_array_new();

		for (i = 0; i < n && i < IR_LIMIT_PIDS; i++)
			ir_val_push_int(arr, pids[i]);
		ir_val_set_take(d, "pids", arr);
		ir_val_set_uint(d, "trading", n);
	}
	return ir_rec_emit(run->rec, "incident.interrupted", NULL, d, ctx);
}

int
ir_runbook_execute(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_effects *outer = run->fx;
	struct ir_effects_timer timer;
	enum ir_step last = IR_STEP_NONE;
	bool killed = false;
	int rc = 0;

	ir_effects_timer_init(&timer, outer);
	run->fx = &timer.wrap.table;
	while (!rc) {
		const struct ir_state *st = ir_rec_state(run->rec);
		struct ir_action a;

		/* Between actions: the one under way has finished. */
		if (!st->closed && !st->interrupted &&
		    ir_step_interrupted(run, NULL)) {
			rc = record_interrupt(run, last, killed, ctx);
			if (rc)
				break;
		}
		a = ir_runbook_next(st);
		switch (a.kind) {
		case IR_ACT_NONE:
			rc = ir_rec_flush(run->rec, ctx);
			run->fx = outer;
			return rc;
		case IR_ACT_HALT:
			rc = ir_rec_flush(run->rec, ctx);
			run->fx = outer;
			return rc ? rc
				  : ir_error_set(ctx, -EINTR, IR_ORIGIN_RUN, 0,
						 "interrupted");
		case IR_ACT_CLOSE:
			rc = close_incident(run, a.status, timer.wait_ns, ctx);
			break;
		case IR_ACT_DECIDE:
			rc = ir_step_decide(run, a.step, ctx);
			break;
		case IR_ACT_SKIP:
			rc = ir_step_skip(run, a.step, ctx);
			break;
		case IR_ACT_RUN:
			rc = ir_step_run(run, a.step, ctx);
			break;
		case IR_ACT_RECOVER:
			rc = ir_step_recover(run, a.step, ctx);
			break;
		}
		/* The step's command was killed on request; its attempt is
		 * closed and the interrupt is recorded next. */
		if (rc == -EINTR && ir_step_interrupted(run, NULL)) {
			killed = true;
			rc = 0;
		}
		last = a.step;
		/* No commit here: what an action recorded rides with the
		 * next durable event, before the next effect (rec.c). */
	}
	run->fx = outer;
	return rc;
}

int
ir_runbook_target(struct ir_run *run, const char *tag, struct ir_target *t,
		  struct ir_ctx *ctx)
{
	return ir_checkout_target(run, tag, t, ctx);
}

int
ir_runbook_conflicts(struct ir_run *run, const char *tag,
		     struct ir_buf *paths, size_t *n, struct ir_ctx *ctx)
{
	return ir_checkout_conflicts(run, tag, paths, n, ctx);
}
