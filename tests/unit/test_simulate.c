/* simulate: a recorded rollback against today's planner, and against
 * planted changes to the planner, the rules and the target's record. */
#include "testutil.h"

#include "effects.h"
#include "evlog.h"
#include "rec.h"
#include "simulate.h"

struct fx {
	char *dir;
	struct ir_evlog *log;
	uint64_t id;
	uint64_t decide_backup_seq, target_seq, decide_stop_seq, stop_seq;
};

/* The configuration the recording was made under: its hash, its stop. */
#define RECORDED_CONFIG                                                      \
	"0101010101010101010101010101010101010101010101010101010101010101"
#define RECORDED_STOP "./scripts/emergency_stop.sh"

static void
emit(struct ir_rec *rec, const char *type, const char *step,
     struct ir_val *d)
{
	struct ir_ctx ctx = { 0 };

	assert_int_equal(ir_rec_emit(rec, type, step, d, &ctx), 0);
}

static struct ir_val *
map2(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct ir_val *d = ir_val_map_new();

	if (k1)
		ir_val_set_str(d, k1, v1);
	if (k2)
		ir_val_set_str(d, k2, v2);
	return d;
}

static void
run_step(struct ir_rec *rec, const char *step)
{
	struct ir_val *d = ir_val_map_new();

	ir_val_set_uint(d, "attempt", 1);
	emit(rec, "step.started", step, d);
	emit(rec, "step.completed", step, NULL);
}

static struct ir_val *
tag(const char *name, const char *commit, bool bad)
{
	struct ir_val *m = map2("tag", name, "commit", commit);

	ir_val_set_bool(m, "known_bad", bad);
	return m;
}

/* A rollback as the executor records it, from deploy-3 to deploy-2. */
static void
record_rollback(struct fx *f, const char *recorded_to)
{
	struct ir_ctx ctx = { 0 };
	struct ir_rec *rec = NULL;
	struct ir_val *d, *tags, *skipped;

	assert_int_equal(ir_rec_new(&rec, f->log, &ir_effects_real), 0);
	d = ir_val_map_new();
	ir_val_set_take(d, "options", ir_val_map_new());
	ir_val_set_str(d, "config", RECORDED_CONFIG);
	assert_int_equal(ir_rec_open(rec, "rollback", d, &ctx), 0);
	f->id = ir_rec_id(rec);

	d = map2("what", "process", "pattern", "trading_node");
	ir_val_set_uint(d, "count", 1);
	emit(rec, "observation", "stop", d);
	f->decide_stop_seq = ir_rec_state(rec)->last_seq + 1;
	emit(rec, "decision", "stop",
	     map2("question", "trading active?", "answer", "yes"));
	f->stop_seq = ir_rec_state(rec)->last_seq + 1;
	d = map2("command", RECORDED_STOP, NULL, NULL);
	ir_val_set_uint(d, "attempt", 1);
	emit(rec, "step.started", "stop", d);
	emit(rec, "step.completed", "stop", NULL);
	f->decide_backup_seq = ir_rec_state(rec)->last_seq + 1;
	emit(rec, "decision", "backup",
	     map2("question", "data at risk?", "answer", "yes"));
	run_step(rec, "backup");

	d = ir_val_map_new();
	ir_val_set_uint(d, "attempt", 1);
	emit(rec, "step.started", "checkout", d);
	d = map2("what", "tags", "head", "c3");
	tags = ir_val_array_new();
	ir_val_push_take(tags, tag("deploy-1", "c1", false));
	ir_val_push_take(tags, tag("deploy-2", "c2", false));
	ir_val_push_take(tags, tag("deploy-3", "c3", false));
	ir_val_set_take(d, "tags", tags);
	emit(rec, "observation", "checkout", d);
	f->target_seq = ir_rec_state(rec)->last_seq + 1;
	d = map2("from", "deploy-3", "to", recorded_to);
	skipped = ir_val_array_new();
	ir_val_set_take(d, "skipped", skipped);
	ir_val_set_str(d, "to_commit", "c2");
	emit(rec, "target.chosen", "checkout", d);
	emit(rec, "step.completed", "checkout", NULL);
	emit(rec, "step.skipped", "config", map2("why", "no backup", NULL, NULL));

	d = map2("what", "config", NULL, NULL);
	ir_val_set_bool(d, "database_restore", false);
	ir_val_set_bool(d, "on_rollback", false);
	emit(rec, "observation", "database", d);
	emit(rec, "decision", "database",
	     map2("question", "restore database?", "answer", "no"));
	emit(rec, "step.skipped", "database", NULL);
	run_step(rec, "start");
	run_step(rec, "health");
	run_step(rec, "verify");
	run_step(rec, "report");
	emit(rec, "incident.closed", NULL, map2("status", "succeeded", NULL,
						NULL));
	ir_rec_free(rec);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ir_ctx ctx = { 0 };

	f->dir = tu_tempdir();
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &ctx), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ir_evlog_close(f->log);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void
simulate(struct fx *f, const struct ir_sim_opts *o, struct ir_sim_result *r)
{
	struct ir_ctx ctx = { 0 };

	assert_int_equal(ir_simulate(f->log, f->id, o, r, &ctx), 0);
}

static void
today_is_the_same(void **state)
{
	struct fx *f = *state;
	struct ir_sim_result r;

	record_rollback(f, "deploy-2");
	simulate(f, NULL, &r);
	assert_false(r.unreplayable);
	assert_int_equal(r.n_div, 0);
	/* 3 decisions, 8 runs (config's skip at its run), 1 skip, the
	 * target, the close. */
	assert_int_equal(r.compared, 14);
	assert_string_equal(r.kind, "rollback");
	ir_sim_result_clear(&r);
}

/* A planner that forgot the backup's question: runs it at once. */
static struct ir_action
no_backup_question(const struct ir_state *st)
{
	struct ir_action a = ir_runbook_next(st);

	if (a.kind == IR_ACT_DECIDE && a.step == IR_STEP_BACKUP)
		a.kind = IR_ACT_RUN;
	return a;
}

/* A planner that closes after the stop. */
static struct ir_action
stop_only(const struct ir_state *st)
{
	struct ir_action a = ir_runbook_next(st);

	if (st->steps[IR_STEP_STOP].status == IR_STEP_DONE) {
		a.kind = IR_ACT_CLOSE;
		a.step = IR_STEP_NONE;
		a.status = "succeeded";
	}
	return a;
}

static void
planted_planner_is_named_at_its_seq(void **state)
{
	struct fx *f = *state;
	struct ir_sim_opts o = { .plan = no_backup_question };
	struct ir_sim_result r;

	record_rollback(f, "deploy-2");
	simulate(f, &o, &r);
	assert_int_equal(r.n_div, 1);
	assert_int_equal(r.div[0].kind, IR_SIM_MISMATCH);
	assert_int_equal(r.div[0].seq, f->decide_backup_seq);
	assert_string_equal(r.div[0].step, "backup");
	assert_string_equal(r.div[0].recorded.action, "decide");
	assert_string_equal(r.div[0].recorded.detail, "data at risk? yes");
	assert_string_equal(r.div[0].actual.action, "run");
	assert_string_equal(r.div[0].actual.step, "backup");
	assert_int_equal(r.div[0].n_before, IR_SIM_BEFORE);
	assert_int_equal(r.div[0].before[IR_SIM_BEFORE - 1],
			 f->decide_backup_seq - 1);
	ir_sim_result_clear(&r);

	/* Closing early: the recording's next action is one today's
	 * plan does not make; with --keep-going every later one too. */
	o.plan = stop_only;
	simulate(f, &o, &r);
	assert_int_equal(r.n_div, 1);
	assert_int_equal(r.div[0].kind, IR_SIM_MISSING);
	assert_int_equal(r.div[0].seq, f->decide_backup_seq);
	assert_string_equal(r.div[0].actual.action, "close");
	ir_sim_result_clear(&r);
	o.keep_going = true;
	simulate(f, &o, &r);
	assert_true(r.n_div > 5);
	assert_int_equal(r.div[r.n_div - 1].kind, IR_SIM_MISSING);
	ir_sim_result_clear(&r);

	/* --until before the change: the same. */
	o.keep_going = false;
	o.until = f->decide_backup_seq - 1;
	simulate(f, &o, &r);
	assert_int_equal(r.n_div, 0);
	ir_sim_result_clear(&r);
}

static int
never_trading(enum ir_step step, const struct ir_decide_input *in,
	      struct ir_decision *out)
{
	int rc = ir_decide(step, in, out);

	if (step == IR_STEP_STOP)
		out->yes = false;
	return rc;
}

static void
planted_rule_is_an_answer_divergence(void **state)
{
	struct fx *f = *state;
	struct ir_sim_opts o = { .decide = never_trading };
	struct ir_sim_result r;

	record_rollback(f, "deploy-2");
	simulate(f, &o, &r);
	assert_int_equal(r.n_div, 1);
	assert_int_equal(r.div[0].kind, IR_SIM_ANSWER);
	assert_int_equal(r.div[0].seq, f->decide_stop_seq);
	assert_string_equal(r.div[0].recorded.detail, "trading active? yes");
	assert_non_null(strstr(r.div[0].actual.detail, "trading active? no"));
	assert_int_equal(r.div[0].n_inputs, 1);
	assert_int_equal(r.div[0].inputs[0], f->decide_stop_seq - 1);
	ir_sim_result_clear(&r);
}

static void
another_target_is_a_mismatch(void **state)
{
	struct fx *f = *state;
	struct ir_sim_result r;

	/* The recording went to deploy-1; its own tags say deploy-2. */
	record_rollback(f, "deploy-1");
	simulate(f, NULL, &r);
	assert_int_equal(r.n_div, 1);
	assert_int_equal(r.div[0].kind, IR_SIM_MISMATCH);
	assert_int_equal(r.div[0].seq, f->target_seq);
	assert_string_equal(r.div[0].recorded.detail, "deploy-1");
	assert_string_equal(r.div[0].actual.detail, "deploy-2");
	ir_sim_result_clear(&r);
}

/* Today's code under the recording's configuration names another stop
 * command: a mismatch at the stop's step.started.  Under an edited
 * configuration commands are not compared. */
static void
another_command_is_a_mismatch(void **state)
{
	struct fx *f = *state;
	struct ir_config cfg = { 0 };
	struct ir_sim_opts o = { .cfg = &cfg };
	struct ir_sim_result r;

	memset(cfg.sha256, 1, sizeof(cfg.sha256));
	cfg.have_file = true;
	cfg.stop_command = RECORDED_STOP;
	record_rollback(f, "deploy-2");
	simulate(f, &o, &r);
	assert_true(r.commands);
	assert_int_equal(r.n_div, 0);
	ir_sim_result_clear(&r);

	cfg.stop_command = "./scripts/stop_gently.sh";
	simulate(f, &o, &r);
	assert_true(r.commands);
	assert_int_equal(r.n_div, 1);
	assert_int_equal(r.div[0].kind, IR_SIM_MISMATCH);
	assert_int_equal(r.div[0].seq, f->stop_seq);
	assert_string_equal(r.div[0].step, "stop");
	assert_string_equal(r.div[0].recorded.detail,
			    "command " RECORDED_STOP);
	assert_string_equal(r.div[0].actual.detail,
			    "command ./scripts/stop_gently.sh");
	ir_sim_result_clear(&r);

	cfg.sha256[0] = 2;
	simulate(f, &o, &r);
	assert_false(r.commands);
	assert_non_null(strstr(r.commands_why, "another configuration"));
	assert_int_equal(r.n_div, 0);
	ir_sim_result_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(today_is_the_same, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			planted_planner_is_named_at_its_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(
			planted_rule_is_an_answer_divergence, setup, teardown),
		cmocka_unit_test_setup_teardown(another_target_is_a_mismatch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(another_command_is_a_mismatch,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
