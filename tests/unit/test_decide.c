/* The runbook's questions and the rules that answer them. */
#include "testutil.h"

#include <string.h>

#include "decide.h"

static void
every_gated_step_has_its_question(void **state)
{
	(void)state;
	assert_string_equal(ir_question_of(IR_STEP_STOP)->question,
			    IR_Q_TRADING);
	assert_string_equal(ir_question_of(IR_STEP_BACKUP)->question,
			    IR_Q_DATA);
	assert_string_equal(ir_question_of(IR_STEP_DATABASE)->question,
			    IR_Q_DATABASE);
	assert_null(ir_question_of(IR_STEP_CHECKOUT));
}

static void
rules(void **state)
{
	struct ir_decide_input in = { .kind = "rollback" };
	struct ir_decision d;

	(void)state;
	assert_int_equal(ir_decide(IR_STEP_STOP, &in, &d), 0);
	assert_false(d.yes);
	in.trading = 2;
	in.trading_seen = "pids 7, 9";
	assert_int_equal(ir_decide(IR_STEP_STOP, &in, &d), 0);
	assert_true(d.yes);
	assert_string_equal(d.because, "pids 7, 9");

	assert_int_equal(ir_decide(IR_STEP_BACKUP, &in, &d), 0);
	assert_true(d.yes);
	in.no_backup = true;
	assert_int_equal(ir_decide(IR_STEP_BACKUP, &in, &d), 0);
	assert_false(d.yes);
	assert_string_equal(d.because, "--no-backup was given");

	/* The database: only when configured, then --with-db or
	 * on-rollback. */
	in.with_db = true;
	assert_int_equal(ir_decide(IR_STEP_DATABASE, &in, &d), 0);
	assert_false(d.yes);
	in.db_configured = true;
	assert_int_equal(ir_decide(IR_STEP_DATABASE, &in, &d), 0);
	assert_true(d.yes);
	in.with_db = false;
	assert_int_equal(ir_decide(IR_STEP_DATABASE, &in, &d), 0);
	assert_false(d.yes);
	in.db_on_rollback = true;
	assert_int_equal(ir_decide(IR_STEP_DATABASE, &in, &d), 0);
	assert_true(d.yes);
	assert_string_equal(d.because, "database.on-rollback = true");

	assert_int_equal(ir_decide(IR_STEP_HEALTH, &in, &d), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_gated_step_has_its_question),
		cmocka_unit_test(rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
