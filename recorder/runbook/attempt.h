/*
 * What a step works with: the run (the executor's context: recorder,
 * configuration, the world table and the interrupt hook) and one attempt of a
 * step, whose events it records.  Below the steps and the runbook.
 */
#ifndef IR_ATTEMPT_H
#define IR_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "effects.h"
#include "error.h"
#include "proc.h"
#include "rec.h"
#include "state.h"

struct ir_run {
	struct ir_rec *rec;
	const struct ir_config *cfg;
	const struct ir_effects *fx;
	const char *data_dir;
	/* Interrupts (the CLI's SIGINT, SIGTERM, SIGHUP): the first signal
	 * that came, 0 while none has; *kill (may be NULL) is set when the
	 * running command's process group is to be ended too (a second
	 * SIGINT).  Polled between actions and while a step waits; must not
	 * block.  NULL: never interrupted. */
	int (*interrupted)(void *payload, bool *kill);
	void *interrupt_payload;
};

/* One attempt of a step in progress. */
struct ir_attempt {
	struct ir_run *run;
	struct ir_ctx *ctx;
	enum ir_step step;
	const char *name;
	uint64_t budget_ms;
	uint64_t t0;        /* recorder mono at start, ns */
	bool started;       /* step.started recorded */
	int log_rc;         /* first failure to write the log */
	uint64_t lines;     /* output lines recorded */
	uint64_t dropped;   /* output lines past the cap */
	const char *command;
	bool escalated;     /* step.escalated recorded */
};

/* Begin an attempt; nothing is recorded yet. */
void ir_attempt_init(struct ir_attempt *a, struct ir_run *run,
		     enum ir_step step, uint64_t budget_ms,
		     struct ir_ctx *ctx);
/* Record step.started (once), naming command and pgid if any. */
int ir_attempt_start(struct ir_attempt *a, const char *command,
		     int64_t pgid) IR_WUR;
/* Close the attempt: step.completed, or step.failed with error (a printf
 * format) when error is not NULL.  exit_code < -1 is left out. */
int ir_attempt_complete(struct ir_attempt *a) IR_WUR;
int ir_attempt_fail(struct ir_attempt *a, int exit_code, const char *fmt,
		    ...) IR_WUR IR_PRINTF(3, 4);
/* Close the attempt as interrupted (step.failed with interrupted: true;
 * the step is pending again and runs anew on resume); killed: its command
 * was ended on request. */
int ir_attempt_interrupt(struct ir_attempt *a, int exit_code, bool killed,
			 const char *fmt, ...) IR_WUR IR_PRINTF(4, 5);
/* ms since the attempt started. */
uint64_t ir_attempt_elapsed_ms(const struct ir_attempt *a);
/* Record an observation (data taken; "what" is set here). */
int ir_attempt_observe(struct ir_attempt *a, const char *what,
		       struct ir_val *data) IR_WUR;

/* Run a configured command as part of the attempt: step.started (or, when
 * already started, an observation naming the new process group) is durable
 * before it runs; output is recorded as step.output.  The process result
 * goes to *out.  0 when it ran (whatever its exit status); -EINTR when
 * an interrupt asked for its process group to be killed, which was done
 * and recorded (the attempt is closed as interrupted). */
int ir_attempt_command(struct ir_attempt *a, const char *command,
		       uint64_t budget_ms, const char *stdout_path,
		       struct ir_proc_result *out) IR_WUR;
/* The same for the stop step's escalation: step.escalated (command,
 * after_ms, pgid, because) is durable before it runs, and the attempt's
 * outcome will say escalated. */
int ir_attempt_escalate(struct ir_attempt *a, const char *command,
			uint64_t budget_ms, const char *because,
			struct ir_proc_result *out) IR_WUR;

/* The first interrupt's signal, 0 when none came (see struct ir_run);
 * *kill (may be NULL): the running command is to be ended. */
int ir_step_interrupted(const struct ir_run *run, bool *kill);

/* Fill {tag} and {ts} in a config.backup template; caller frees. */
char *ir_runbook_expand(const char *tmpl, const char *tag);

#endif
