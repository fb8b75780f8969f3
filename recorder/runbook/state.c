#include "state.h"

#include <stdio.h>
#include <string.h>

#include "checkpoint.h"

static const char *const step_names[IR_STEP__COUNT] = {
	[IR_STEP_STOP] = "stop",
	[IR_STEP_BACKUP] = "backup",
	[IR_STEP_CHECKOUT] = "checkout",
	[IR_STEP_CONFIG] = "config",
	[IR_STEP_DATABASE] = "database",
	[IR_STEP_START] = "start",
	[IR_STEP_HEALTH] = "health",
	[IR_STEP_VERIFY] = "verify",
	[IR_STEP_REPORT] = "report",
	[IR_STEP_RESTORE] = "restore",
	[IR_STEP_MIGRATE] = "migrate",
	[IR_STEP_SOAK] = "soak",
};

const char *
ir_step_name(enum ir_step step)
{
	if ((int)step < 0 || step >= IR_STEP__COUNT)
		return NULL;
	return step_names[step];
}

enum ir_step
ir_step_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < IR_STEP__COUNT; i++)
		if (!strcmp(step_names[i], name))
			return (enum ir_step)i;
	return IR_STEP_NONE;
}

void
ir_state_init(struct ir_state *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->status, sizeof(st->status), "open");
	st->session = 1;
}

static void
copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void
apply_opened(struct ir_state *st, const struct ir_event *ev)
{
	const struct ir_val *opts = ir_val_get(ev->data, "options");

	st->opened = true;
	st->opened_ts = ev->ts;
	copy(st->kind, sizeof(st->kind), ir_val_get_str(ev->data, "kind"));
	st->budget_ms = (uint64_t)ir_val_get_int(ev->data, "budget_ms", 0);
	st->owner_pid = ir_val_get_int(ev->data, "pid", 0);
	copy(st->opt_tag, sizeof(st->opt_tag), ir_val_get_str(opts, "tag"));
	copy(st->opt_archive, sizeof(st->opt_archive),
	     ir_val_get_str(opts, "archive"));
	copy(st->opt_to, sizeof(st->opt_to), ir_val_get_str(opts, "to"));
	copy(st->opt_sha256, sizeof(st->opt_sha256),
	     ir_val_get_str(opts, "sha256"));
	st->opt_force = ir_val_get_bool(opts, "force", false);
	st->opt_with_db = ir_val_get_bool(opts, "with_db", false);
	st->opt_no_backup = ir_val_get_bool(opts, "no_backup", false);
}

void
ir_state_apply(struct ir_state *st, const struct ir_event *ev)
{
	enum ir_step step = ir_step_from_name(ev->step);
	struct ir_step_state *s = step == IR_STEP_NONE ? NULL : &st->steps[step];
	const char *t = ev->type;

	st->last_seq = ev->seq;
	st->last_mono = ev->mono;
	st->last_ts = ev->ts;
	if (!strcmp(t, "incident.opened")) {
		apply_opened(st, ev);
	} else if (!strcmp(t, "incident.resumed")) {
		size_t i;

		st->session++;
		st->owner_pid = ir_val_get_int(ev->data, "pid", 0);
		st->interrupted = false;
		st->interrupted_step[0] = '\0';
		/* Whatever was running belonged to the dead process. */
		for (i = 0; i < IR_STEP__COUNT; i++)
			if (st->steps[i].status == IR_STEP_RUNNING)
				st->steps[i].interrupted = true;
	} else if (!strcmp(t, "incident.interrupted")) {
		st->interrupted = true;
		copy(st->interrupted_step, sizeof(st->interrupted_step),
		     ir_val_get_str(ev->data, "step"));
	} else if (!strcmp(t, "incident.closed")) {
		st->closed = true;
		copy(st->status, sizeof(st->status),
		     ir_val_get_str(ev->data, "status"));
	} else if (!strcmp(t, "target.chosen")) {
		copy(st->from, sizeof(st->from), ir_val_get_str(ev->data, "from"));
		copy(st->target, sizeof(st->target),
		     ir_val_get_str(ev->data, "to"));
		copy(st->from_commit, sizeof(st->from_commit),
		     ir_val_get_str(ev->data, "from_commit"));
		copy(st->target_commit, sizeof(st->target_commit),
		     ir_val_get_str(ev->data, "to_commit"));
	} else if (!strcmp(t, "checkpoint")) {
		const uint8_t *root;

		if (ir_checkpoint_of_event(ev, &st->checkpoint_size, &root)) {
			st->checkpointed = true;
			memcpy(st->checkpoint_root, root,
			       sizeof(st->checkpoint_root));
		}
	} else if (!strcmp(t, "backup.created")) {
		copy(st->backup_path, sizeof(st->backup_path),
		     ir_val_get_str(ev->data, "path"));
	} else if (!strcmp(t, "observation")) {
		const char *what = ir_val_get_str(ev->data, "what");

		if (what && !strcmp(what, "http"))
			st->last_http_status =
				(long)ir_val_get_int(ev->data, "status", 0);
		/* A later command of a running step (the escalation) names
		 * its own process group. */
		if (s && s->status == IR_STEP_RUNNING &&
		    ir_val_get_int(ev->data, "pgid", 0) > 0)
			s->pgid = ir_val_get_int(ev->data, "pgid", 0);
	} else if (s && !strcmp(t, "step.escalated")) {
		s->escalated = true;
		if (ir_val_get_int(ev->data, "pgid", 0) > 0)
			s->pgid = ir_val_get_int(ev->data, "pgid", 0);
	} else if (s && !strcmp(t, "decision")) {
		const char *a = ir_val_get_str(ev->data, "answer");

		s->decision = a && !strcmp(a, "yes") ? IR_ANSWER_YES
						     : IR_ANSWER_NO;
		s->decision_session = st->session;
	} else if (s && !strcmp(t, "step.started")) {
		s->status = IR_STEP_RUNNING;
		s->attempts++;
		s->session = st->session;
		s->interrupted = false;
		s->escalated = false;
		s->pgid = ir_val_get_int(ev->data, "pgid", 0);
		s->budget_ms = (uint64_t)ir_val_get_int(ev->data, "budget_ms", 0);
		s->started_mono = ev->mono;
		s->started_ts = ev->ts;
		s->started_seq = ev->seq;
		s->error[0] = '\0';
	} else if (s && !strcmp(t, "step.completed")) {
		s->status = IR_STEP_DONE;
	} else if (s && !strcmp(t, "step.failed")) {
		/* An attempt closed because it was interrupted may be retried;
		 * the step is pending again. */
		if (ir_val_get_bool(ev->data, "interrupted", false)) {
			s->status = IR_STEP_PENDING;
			s->interrupted = true;
		} else {
			s->status = IR_STEP_FAILED;
		}
		copy(s->error, sizeof(s->error),
		     ir_val_get_str(ev->data, "error"));
	} else if (s && !strcmp(t, "step.skipped")) {
		s->status = IR_STEP_SKIPPED;
	}
}
