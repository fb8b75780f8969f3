/*
 * The runbook's steps (internal to the executor).  Each step records its
 * own events; a step that fails says so in the log and returns 0.  A
 * non-zero return means the log itself could not be written.
 */
#ifndef IR_STEPS_H
#define IR_STEPS_H

#include "attempt.h"
#include "buf.h"
#include "target.h"

int ir_step_decide(struct ir_run *run, enum ir_step step,
		   struct ir_ctx *ctx) IR_WUR;
int ir_step_skip(struct ir_run *run, enum ir_step step,
		 struct ir_ctx *ctx) IR_WUR;
int ir_step_run(struct ir_run *run, enum ir_step step,
		struct ir_ctx *ctx) IR_WUR;
int ir_step_recover(struct ir_run *run, enum ir_step step,
		    struct ir_ctx *ctx) IR_WUR;

/* The processes matching stop.process right now, as an observation;
 * *count gets how many. */
int ir_observe_trading(struct ir_attempt *a, size_t *count) IR_WUR;

/* Observation of HEAD ("<short sha> <subject>") for the verify step. */
int ir_step_verify_git(struct ir_attempt *a) IR_WUR;

/* The checkout step's target choice and local-changes rule, for the
 * runbook's ir_runbook_target() and ir_runbook_conflicts(). */
int ir_checkout_target(struct ir_run *run, const char *tag,
		       struct ir_target *t, struct ir_ctx *ctx) IR_WUR;
int ir_checkout_conflicts(struct ir_run *run, const char *tag,
			  struct ir_buf *paths, size_t *n,
			  struct ir_ctx *ctx) IR_WUR;

/* Steps in their own files. */
int ir_step_checkout(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_config(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_backup(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_restore(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_health(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_verify(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_soak(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;
int ir_step_report(struct ir_run *run, struct ir_ctx *ctx) IR_WUR;

#endif
