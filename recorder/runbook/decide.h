/*
 * The runbook's questions and the rule that answers each: a pure function
 * of what was observed (recorded before the decision) and of the
 * incident's options.  The executor, the report's facts and `simulate`
 * read the one table; the answer comes from ir_decide() today (a trainee
 * or a recording can stand in for it: the inputs are all in the log).
 */
#ifndef IR_DECIDE_H
#define IR_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* The questions' words, as the log records them (compile-time constants
 * for the tables that quote them). */
#define IR_Q_TRADING "trading active?"
#define IR_Q_DATA "data at risk?"
#define IR_Q_DATABASE "restore database?"
#define IR_Q_ESCALATE "escalate?"

struct ir_question {
	enum ir_step step;
	const char *question;
	const char *gate; /* the observation it reads (what), or NULL */
};

/* Every question: the gated steps' (one each) and the stop's
 * escalation, asked inside the step. */
extern const struct ir_question ir_questions[];
extern const size_t ir_n_questions;

/* The question gating step (its first in the table), or NULL. */
const struct ir_question *ir_question_of(enum ir_step step);

/* What the rules read. */
struct ir_decide_input {
	const char *kind;          /* the incident's */
	size_t trading;            /* stop: processes matching stop.process */
	const char *trading_seen;  /* stop: "pids 12, 14 match ..." */
	bool no_backup;            /* backup: --no-backup */
	bool db_configured;        /* database: database.restore is set */
	bool with_db;              /* database: --with-db */
	bool db_on_rollback;       /* database: database.on-rollback */
};

struct ir_decision {
	bool yes;
	char because[512];
};

/* The answer to step's question.  -EINVAL for a step with none. */
int ir_decide(enum ir_step step, const struct ir_decide_input *in,
	      struct ir_decision *out);

#endif
