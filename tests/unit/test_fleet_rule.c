/* The fleet's rules (recorder/fleet/fleet_rule.c): pure functions of a
 * snapshot of the fleet's keys. */
#include "testutil.h"

#include <errno.h>
#include <string.h>

#include "fleet_rule.h"

#define MS 1000000LL

/* Five nodes in waves 1, 2, rest; plan revision 40. */
static struct ir_fleet_view
fleet(void)
{
	struct ir_fleet_view v;
	char why[200];
	size_t i;

	memset(&v, 0, sizeof(v));
	assert_int_equal(ir_fleet_plan_waves(&v.plan, "a,b,c,d,e", "1,2,rest",
					     why, sizeof(why)),
			 0);
	v.have_plan = true;
	v.plan.rev = 40;
	snprintf(v.plan.commit, sizeof(v.plan.commit), "c0ffee");
	v.plan.max_unavailable = 2;
	v.plan.max_failures = 0;
	v.plan.stop_budget_ms = 5000;
	v.plan.soak_ms = 1000;
	v.have_wave = true;
	for (i = 0; i < 5; i++)
		v.node[i].alive = true;
	return v;
}

static void
report(struct ir_fleet_view *v, size_t i, const char *status)
{
	v->node[i].reported = true;
	snprintf(v->node[i].status, sizeof(v->node[i].status), "%s", status);
}

static void
waves_from_the_command_line(void **state)
{
	struct ir_fleet_plan p;
	char why[200];

	(void)state;
	assert_int_equal(ir_fleet_plan_waves(&p, "a,b,c,d,e", "1,2,rest", why,
					     sizeof(why)),
			 0);
	assert_int_equal(p.n_waves, 3);
	assert_int_equal(p.wave_of[0], 1);
	assert_int_equal(p.wave_of[2], 2);
	assert_int_equal(p.wave_of[4], 3);
	assert_int_equal(ir_fleet_plan_waves(&p, "a,b,c", "1,1", why,
					     sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "covers 2 of the 3"));
	assert_int_equal(ir_fleet_plan_waves(&p, "a,b", "rest,1", why,
					     sizeof(why)),
			 -EINVAL);
	assert_int_equal(ir_fleet_plan_waves(&p, "a,a", "rest", why,
					     sizeof(why)),
			 -EINVAL);
	assert_int_equal(ir_fleet_plan_waves(&p, "a,b;c", "rest", why,
					     sizeof(why)),
			 -EINVAL);
}

static void
phase0_waits_for_every_stop(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;
	size_t i;

	(void)state;
	v.wave = 0;
	v.wave_ts = 1000 * MS;
	for (i = 0; i < 4; i++)
		v.node[i].stopped = true;
	ir_fleet_next(&v, 2000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT);
	/* Past the stop budget: the silent node is counted unknown, the
	 * operator's decision (--unanswered proceed) carried out. */
	ir_fleet_next(&v, 7000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_MARK_UNKNOWN);
	assert_int_equal(n.node, 4);
	assert_true(n.decision);
	assert_non_null(strstr(n.question, "did not answer the stop"));
	assert_non_null(strstr(n.why, "--unanswered proceed"));
	/* With --unanswered abort, the run is aborted instead. */
	v.plan.unanswered_abort = true;
	ir_fleet_next(&v, 7000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_ABORT);
	assert_int_equal(n.node, 4);
	assert_true(n.decision);
	assert_non_null(strstr(n.why, "--unanswered abort"));
	v.plan.unanswered_abort = false;
	v.node[4].stopped = true;
	ir_fleet_next(&v, 2000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_START_WAVE);
	assert_int_equal(n.wave, 1);
}

static void
a_wave_advances_on_statuses_of_this_plan(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;

	(void)state;
	v.wave = 2;
	report(&v, 0, "succeeded");
	report(&v, 1, "succeeded");
	v.node[2].in_slot = true;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT);
	v.node[2].in_slot = false;
	report(&v, 2, "succeeded");
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_WAVE_DONE);
	v.wave_done = true;
	v.wave_done_ts = 10 * MS;
	ir_fleet_next(&v, 500 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT); /* soaking */
	ir_fleet_next(&v, 1100 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_START_WAVE);
	assert_int_equal(n.wave, 3);
}

static void
a_stale_status_does_not_advance(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;

	(void)state;
	v.wave = 1;
	/* fleet_read() sets stale, not reported, for a status of another
	 * plan revision or another target commit. */
	v.node[0].stale = true;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT);
	assert_false(ir_fleet_node_finished(&v, 0));
	/* And the node still rolls back. */
	v.node[0].stopped = true;
	assert_int_equal(ir_fleet_node_next(&v, 0, false, false),
			 IR_FLEET_NODE_ROLLBACK);
}

static void
a_silent_node_is_unknown_and_fails_the_run(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;

	(void)state;
	v.wave = 1;
	v.node[0].alive = false;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_MARK_UNKNOWN);
	assert_int_equal(n.node, 0);
	v.node[0].unknown = true;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_ABORT);
	assert_non_null(strstr(n.why, "--max-failures 0"));
	/* With one failure allowed, the wave is done. */
	v.plan.max_failures = 1;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_WAVE_DONE);
}

static void
an_abort_ends_once_no_slot_is_held(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;

	(void)state;
	v.wave = 2;
	v.aborted = true;
	v.slots_used = 1;
	v.node[1].in_slot = true;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT);
	/* Nodes not started never start. */
	v.node[2].stopped = true;
	assert_int_equal(ir_fleet_node_next(&v, 2, true, false),
			 IR_FLEET_NODE_IDLE);
	v.slots_used = 0;
	ir_fleet_next(&v, 0, &n);
	assert_int_equal(n.act, IR_FLEET_FINISH);
	assert_string_equal(n.status, "aborted");
}

static void
a_node_stops_first_and_rolls_back_once(void **state)
{
	struct ir_fleet_view v = fleet();

	(void)state;
	v.wave = 0;
	assert_int_equal(ir_fleet_node_next(&v, 3, false, false),
			 IR_FLEET_NODE_STOP);
	/* Under an abort too: the stop is the safety action. */
	v.aborted = true;
	assert_int_equal(ir_fleet_node_next(&v, 3, false, false),
			 IR_FLEET_NODE_STOP);
	v.aborted = false;
	v.node[3].stopped = true;
	assert_int_equal(ir_fleet_node_next(&v, 3, true, false),
			 IR_FLEET_NODE_IDLE);
	v.wave = 3;
	assert_int_equal(ir_fleet_node_next(&v, 3, true, false),
			 IR_FLEET_NODE_ROLLBACK);
	assert_int_equal(ir_fleet_node_next(&v, 3, true, true),
			 IR_FLEET_NODE_IDLE);
	v.node[3].unknown = true;
	assert_int_equal(ir_fleet_node_next(&v, 3, true, false),
			 IR_FLEET_NODE_IDLE);
}

static void
the_last_wave_finishes(void **state)
{
	struct ir_fleet_view v = fleet();
	struct ir_fleet_next n;
	size_t i;

	(void)state;
	v.wave = 3;
	for (i = 0; i < 5; i++)
		report(&v, i, "succeeded");
	v.wave_done = true;
	v.wave_done_ts = 0;
	ir_fleet_next(&v, 2000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_FINISH);
	assert_string_equal(n.status, "succeeded");
	v.done = true;
	ir_fleet_next(&v, 2000 * MS, &n);
	assert_int_equal(n.act, IR_FLEET_WAIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(waves_from_the_command_line),
		cmocka_unit_test(phase0_waits_for_every_stop),
		cmocka_unit_test(a_wave_advances_on_statuses_of_this_plan),
		cmocka_unit_test(a_stale_status_does_not_advance),
		cmocka_unit_test(a_silent_node_is_unknown_and_fails_the_run),
		cmocka_unit_test(an_abort_ends_once_no_slot_is_held),
		cmocka_unit_test(a_node_stops_first_and_rolls_back_once),
		cmocka_unit_test(the_last_wave_finishes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
