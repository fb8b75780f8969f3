/*
 * The runbook executor.  The next action is a pure function of the state
 * (ir_runbook_next); the executor carries it out through the effects table
 * and the recorder, folds what was appended, and asks again.  A crash at
 * any instant leaves a log from which ir_runbook_execute() resumes.
 */
#ifndef IR_RUNBOOK_H
#define IR_RUNBOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "effects.h"
#include "error.h"
#include "rec.h"
#include "state.h"
#include "target.h"
#include "attempt.h"

enum ir_action_kind {
	IR_ACT_NONE,    /* nothing to do: the incident is closed */
	IR_ACT_DECIDE,  /* observe and record the decision gating step */
	IR_ACT_SKIP,    /* the decision said no: record step.skipped */
	IR_ACT_RUN,     /* carry out step */
	IR_ACT_RECOVER, /* step was running when its process died */
	IR_ACT_CLOSE,   /* close the incident with status */
	IR_ACT_HALT,    /* interrupted in this session: stop, leave it open */
};

struct ir_action {
	enum ir_action_kind kind;
	enum ir_step step;
	const char *status; /* IR_ACT_CLOSE: "succeeded" or "failed" */
};

/* The steps of an incident kind, in order; *n gets their count. */
const enum ir_step *ir_runbook_steps(const char *kind, size_t *n);

/* The next action for this state.  Pure: same state, same action. */
struct ir_action ir_runbook_next(const struct ir_state *st);

/* The rollback target and why, for `tag` (NULL: chosen by the rules of
 * DESIGN.md, "Known-good and known-bad"), as the checkout step would
 * choose it now (see target.h). */
int ir_runbook_target(struct ir_run *run, const char *tag,
		      struct ir_target *t, struct ir_ctx *ctx) IR_WUR;

/* What the checkout of tag would find in the way in deploy_dir: the
 * conflicting local changes (those under config.dir aside, see DESIGN.md
 * "Local changes and the checkout"), one path per line appended to paths,
 * their count in *n.  The checkout step applies the same rule. */
int ir_runbook_conflicts(struct ir_run *run, const char *tag,
			 struct ir_buf *paths, size_t *n,
			 struct ir_ctx *ctx) IR_WUR;

/* Carry out actions until the incident is closed.  0 when it closed (see
 * the state for its status); -EINTR when run->interrupted said so: the
 * action under way was let finish (its command ended, unless a kill was
 * asked for), incident.interrupted was recorded, no further action began
 * and the incident stays open; another negative errno when the log could
 * not be written (the incident stays open and can be resumed). */
int ir_runbook_execute(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;

/* Record incident.resumed for an attached incident: waits for nothing; the
 * interrupted step is recovered by the next action. */
int ir_runbook_resume(struct ir_run *run, const char *actor,
		      struct ir_ctx *ctx) IR_WUR;

#endif
