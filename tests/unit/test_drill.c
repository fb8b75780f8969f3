/* A drill's score: the weights, timeliness against par, hints, the HSEEP
 * ratings and the pass rule (pure functions of the marks). */
#include "testutil.h"

#include "drill.h"

#define PAR 75000

static struct ir_drill_mark
mark(enum ir_drill_q q, enum ir_drill_verdict v, uint64_t latency)
{
	struct ir_drill_mark m = { q, v, latency, PAR, 0 };

	return m;
}

/* The four decisions of a rollback, each right within par. */
static void
rollback(struct ir_drill_mark m[4], uint64_t latency)
{
	m[0] = mark(IR_DRILL_STOP, IR_DRILL_CORRECT, latency);
	m[1] = mark(IR_DRILL_BACKUP, IR_DRILL_CORRECT, latency);
	m[2] = mark(IR_DRILL_TARGET, IR_DRILL_CORRECT, latency);
	m[3] = mark(IR_DRILL_DATABASE, IR_DRILL_CORRECT, latency);
}

static void
all_right_in_time_is_100(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, PAR);
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 100);
	assert_int_equal(s.possible, 100);
	assert_true(s.pass);
	assert_int_equal(s.rating[IR_DRILL_STOP], 'P');
	assert_int_equal(s.points[IR_DRILL_TARGET], 30);
}

static void
timeliness_falls_to_zero_at_three_par(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, 3 * PAR);
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 80); /* the answers' 80, no time points */
	assert_int_equal(s.rating[IR_DRILL_STOP], 'S');
	rollback(m, 2 * PAR);
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.points[IR_DRILL_STOP], 25 + 3); /* 2.5, rounded */
	rollback(m, 3 * PAR + 1);
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.rating[IR_DRILL_BACKUP], 'M');
	assert_true(s.pass); /* slow is not wrong */
}

static void
hints_cost_three_and_many_make_m(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, 0);
	m[1].hints = 3;
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 91);
	assert_int_equal(s.hints, 3);
	assert_int_equal(s.rating[IR_DRILL_BACKUP], 'M');
	assert_int_equal(s.rating[IR_DRILL_STOP], 'P');
}

static void
forbidden_fails_whatever_the_score(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, 0);
	m[3].verdict = IR_DRILL_FORBIDDEN; /* 80 left: enough, but */
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 80);
	assert_true(s.forbidden);
	assert_false(s.pass);
	assert_int_equal(s.rating[IR_DRILL_DATABASE], 'U');
}

static void
u_on_stop_or_target_fails(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, 0);
	m[0].verdict = IR_DRILL_WRONG;
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 70);
	assert_false(s.pass);
	rollback(m, 0);
	m[1].verdict = IR_DRILL_WRONG; /* the backup: 80 and no U that counts */
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.score, 80);
	assert_true(s.pass);
	rollback(m, 0);
	m[2].verdict = IR_DRILL_UNANSWERED;
	ir_drill_score(m, 4, &s);
	assert_false(s.pass);
}

static void
partial_is_half_and_s(void **state)
{
	struct ir_drill_mark m[4];
	struct ir_drill_score s;

	(void)state;
	rollback(m, 0);
	m[2].verdict = IR_DRILL_PARTIAL;
	ir_drill_score(m, 4, &s);
	assert_int_equal(s.points[IR_DRILL_TARGET], 12 + 5);
	assert_int_equal(s.rating[IR_DRILL_TARGET], 'S');
	assert_int_equal(s.score, 87);
}

static void
a_stop_incident_scales_to_100(void **state)
{
	struct ir_drill_mark m[2];
	struct ir_drill_score s;

	(void)state;
	m[0] = mark(IR_DRILL_STOP, IR_DRILL_CORRECT, 0);
	m[1] = mark(IR_DRILL_ESCALATE, IR_DRILL_CORRECT, 0);
	ir_drill_score(m, 2, &s);
	assert_int_equal(s.possible, 25 + 5 + 10 + 5);
	assert_int_equal(s.score, 100);
	assert_int_equal(ir_drill_par_ms(0, 4), 75000);
	assert_int_equal(ir_drill_par_ms(60000, 2), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_right_in_time_is_100),
		cmocka_unit_test(timeliness_falls_to_zero_at_three_par),
		cmocka_unit_test(hints_cost_three_and_many_make_m),
		cmocka_unit_test(forbidden_fails_whatever_the_score),
		cmocka_unit_test(u_on_stop_or_target_fails),
		cmocka_unit_test(partial_is_half_and_s),
		cmocka_unit_test(a_stop_incident_scales_to_100),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
