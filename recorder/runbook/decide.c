/* The runbook's questions and their rules. */
#include "decide.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const struct ir_question ir_questions[] = {
	{ IR_STEP_STOP, IR_Q_TRADING, "process" },
	{ IR_STEP_BACKUP, IR_Q_DATA, NULL },
	{ IR_STEP_DATABASE, IR_Q_DATABASE, "config" },
	{ IR_STEP_STOP, IR_Q_ESCALATE, "process" },
};
const size_t ir_n_questions = sizeof(ir_questions) / sizeof(*ir_questions);

const struct ir_question *
ir_question_of(enum ir_step step)
{
	size_t i;

	for (i = 0; i < ir_n_questions; i++)
		if (ir_questions[i].step == step)
			return &ir_questions[i];
	return NULL;
}

static int
answer(struct ir_decision *out, bool yes, const char *because)
{
	out->yes = yes;
	snprintf(out->because, sizeof(out->because), "%s", because);
	return 0;
}

int
ir_decide(enum ir_step step, const struct ir_decide_input *in,
	  struct ir_decision *out)
{
	switch (step) {
	case IR_STEP_STOP:
		return answer(out, in->trading > 0,
			      in->trading_seen ? in->trading_seen : "");
	case IR_STEP_BACKUP:
		if (in->no_backup)
			return answer(out, false, "--no-backup was given");
		if (!strcmp(in->kind, "backup"))
			return answer(out, true, "a backup was asked for");
		return answer(out, true,
			      !strcmp(in->kind, "deploy")
				      ? "the deploy is about to change the "
					"deployment; archiving the state first"
				      : "the rollback is about to change the "
					"deployment; archiving the state first");
	case IR_STEP_DATABASE:
		if (!in->db_configured)
			return answer(out, false,
				      "database.restore is not configured");
		if (in->with_db)
			return answer(out, true, "--with-db was given");
		if (in->db_on_rollback)
			return answer(out, true, "database.on-rollback = true");
		return answer(out, false,
			      "neither --with-db nor database.on-rollback");
	default:
		return -EINVAL;
	}
}
