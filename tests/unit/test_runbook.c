/*
 * The executor driven with an effects table of the test's own: a world of
 * trading processes, commands and a health endpoint that the test controls,
 * and a clock that only moves when the executor sleeps.  The event log is
 * real.
 */
#include "testutil.h"

#include <signal.h>
#include <sys/stat.h>

#include "evlog.h"
#include "rec.h"
#include "runbook.h"

struct world {
	size_t trading;        /* processes matching the pattern */
	bool stubborn;         /* survives the stop command */
	bool very_stubborn;    /* survives the escalation too */
	int stop_exit;
	uint64_t mono;         /* ns */
	unsigned runs;
	char commands[8][64];
	bool alive_group;
	unsigned reaped;
	/* Interrupts: the signal arrives while the command at index
	 * interrupt_run (0-based) runs; kill asks for its group to end. */
	int interrupt_sig;
	int interrupt_run;
	bool interrupt_kill;
	int sig;   /* delivered so far */
	bool kill; /* delivered so far */
};

static int
w_interrupted(void *payload, bool *kill)
{
	struct world *w = payload;

	if (kill)
		*kill = w->kill;
	return w->sig;
}

static int64_t
w_wall(void *self)
{
	struct world *w = self;

	return 1764108000000000000LL + (int64_t)w->mono;
}

static uint64_t
w_mono(void *self)
{
	return ((struct world *)self)->mono;
}

static void
w_sleep(void *self, uint64_t ms)
{
	((struct world *)self)->mono += ms * 1000000;
}

static int
w_run(void *self, const struct ir_proc_opts *o, struct ir_proc_result *out,
      struct ir_ctx *ctx)
{
	struct world *w = self;
	int rc;

	if (w->runs < 8)
		snprintf(w->commands[w->runs], 64, "%s", o->command);
	w->runs++;
	rc = o->on_spawn(o->payload, 4242);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	if (w->interrupt_sig && (int)w->runs - 1 == w->interrupt_run) {
		w->sig = w->interrupt_sig;
		w->kill = w->interrupt_kill;
	}
	o->on_line(o->payload, IR_PROC_STDOUT, "working", 7, false);
	w->mono += 100 * 1000000ULL;
	out->pgid = 4242;
	if (o->cancel && o->cancel(o->payload)) {
		/* Killed before it did its work. */
		out->cancelled = true;
		out->exit_code = -1;
		out->signal = SIGTERM;
		return 0;
	}
	if (!strcmp(o->command, "stop-cmd")) {
		if (!w->stubborn)
			w->trading = 0;
		out->exit_code = w->stop_exit;
	} else if (!strcmp(o->command, "escalate-cmd")) {
		if (!w->very_stubborn)
			w->trading = 0;
	}
	return 0;
}

static int
w_find(void *self, const char *pattern, pid_t *pids, size_t max, size_t *n,
       struct ir_ctx *ctx)
{
	struct world *w = self;
	size_t i;

	for (i = 0; i < w->trading && i < max; i++)
		pids[i] = (pid_t)(1000 + i);
	*n = w->trading;
	w->mono += 1000000;
	return 0;
}

static bool
w_alive(void *self, pid_t pgid)
{
	return ((struct world *)self)->alive_group;
}

static int
w_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	struct world *w = self;

	w->alive_group = false;
	w->reaped++;
	return 0;
}

struct fixture {
	char *dir;
	struct world w;
	struct ir_effects fx;
	struct ir_config *cfg;
	struct ir_evlog *log;
	struct ir_ctx ctx;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_tempdir();
	f->fx.self = &f->w;
	f->fx.wall = w_wall;
	f->fx.mono = w_mono;
	f->fx.sleep_ms = w_sleep;
	f->fx.proc_run = w_run;
	f->fx.proc_find = w_find;
	f->fx.group_alive = w_alive;
	f->fx.group_reap = w_reap;
	assert_int_equal(ir_config_load(&f->cfg, NULL, &f->ctx), 0);
	free(f->cfg->stop_command);
	free(f->cfg->stop_escalate);
	f->cfg->stop_command = strdup("stop-cmd");
	f->cfg->stop_escalate = strdup("escalate-cmd");
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ir_evlog_close(f->log);
	ir_config_free(f->cfg);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

struct trace {
	char lines[64][64];
	unsigned n;
};

static void
record(void *payload, const struct ir_event *ev)
{
	struct trace *t = payload;

	if (t->n < 64)
		snprintf(t->lines[t->n++], 64, "%s%s%s", ev->type,
			 ev->step[0] ? " " : "", ev->step);
}

static bool
has(const struct trace *t, const char *line)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->lines[i], line))
			return true;
	return false;
}

static const struct ir_state *
run_stop(struct fixture *f, struct ir_rec **rec, struct trace *t)
{
	struct ir_run run = { 0 };

	assert_int_equal(ir_rec_new(rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_subscribe(*rec, record, t), 0);
	assert_int_equal(ir_rec_open(*rec, "stop", NULL, &f->ctx), 0);
	run.rec = *rec;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), 0);
	return ir_rec_state(*rec);
}

static void
stop_when_trading(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	const struct ir_state *st;

	f->w.trading = 2;
	st = run_stop(f, &rec, &t);
	assert_string_equal(st->status, "succeeded");
	assert_int_equal(f->w.runs, 1);
	assert_string_equal(f->w.commands[0], "stop-cmd");
	assert_string_equal(t.lines[0], "incident.opened");
	assert_string_equal(t.lines[1], "observation stop");
	assert_string_equal(t.lines[2], "decision stop");
	assert_string_equal(t.lines[3], "step.started stop");
	assert_true(has(&t, "step.output stop"));
	assert_true(has(&t, "step.completed stop"));
	assert_string_equal(t.lines[t.n - 1], "incident.closed");
	assert_int_equal(st->steps[IR_STEP_STOP].pgid, 4242);
	ir_rec_free(rec);
}

static void
stop_skipped_when_idle(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	const struct ir_state *st;

	st = run_stop(f, &rec, &t);
	assert_string_equal(st->status, "succeeded");
	assert_int_equal(f->w.runs, 0);
	assert_true(has(&t, "step.skipped stop"));
	assert_false(has(&t, "step.started stop"));
	ir_rec_free(rec);
}

static void
stop_escalates(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	const struct ir_state *st;

	f->w.trading = 1;
	f->w.stubborn = true;
	st = run_stop(f, &rec, &t);
	assert_string_equal(st->status, "succeeded");
	assert_int_equal(f->w.runs, 2);
	assert_string_equal(f->w.commands[1], "escalate-cmd");
	/* The stubborn process was watched for the whole stop budget. */
	assert_true(f->w.mono >= f->cfg->stop_budget_ms * 1000000ULL);
	ir_rec_free(rec);
}

static void
stop_fails_when_survivor(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	const struct ir_state *st;

	f->w.trading = 1;
	f->w.stubborn = f->w.very_stubborn = true;
	st = run_stop(f, &rec, &t);
	assert_string_equal(st->status, "failed");
	assert_true(has(&t, "step.failed stop"));
	assert_int_equal(st->steps[IR_STEP_STOP].status, IR_STEP_FAILED);
	assert_non_null(strstr(st->steps[IR_STEP_STOP].error, "still running"));
	ir_rec_free(rec);
}

/* The plan is a pure function of the state. */
static void
plan_is_pure(void **state)
{
	struct ir_state st;
	struct ir_action a;

	ir_state_init(&st);
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_NONE); /* not opened */
	st.opened = true;
	strcpy(st.kind, "rollback");
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_DECIDE);
	assert_int_equal(a.step, IR_STEP_STOP);
	st.steps[IR_STEP_STOP].decision = IR_ANSWER_NO;
	st.steps[IR_STEP_STOP].decision_session = 1;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_SKIP);
	st.steps[IR_STEP_STOP].status = IR_STEP_SKIPPED;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_DECIDE);
	assert_int_equal(a.step, IR_STEP_BACKUP);
	st.steps[IR_STEP_BACKUP].decision = IR_ANSWER_YES;
	st.steps[IR_STEP_BACKUP].decision_session = 1;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_RUN);
	/* A decision from before a crash is taken again. */
	st.session = 2;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_DECIDE);
	/* Running in an older session: recover. */
	st.steps[IR_STEP_BACKUP].status = IR_STEP_RUNNING;
	st.steps[IR_STEP_BACKUP].session = 1;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_RECOVER);
	st.steps[IR_STEP_BACKUP].status = IR_STEP_FAILED;
	a = ir_runbook_next(&st);
	assert_int_equal(a.kind, IR_ACT_CLOSE);
	assert_string_equal(a.status, "failed");
	st.closed = true;
	assert_int_equal(ir_runbook_next(&st).kind, IR_ACT_NONE);
}

/* A crash after step.started: the resumed run waits for the old process
 * group, closes the attempt as interrupted, looks again, and does not
 * repeat the stop when trading is already gone. */
static void
resume_after_crash(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL, *again = NULL;
	struct trace t = { .n = 0 };
	struct ir_run run = { 0 };
	struct ir_val *d;
	const struct ir_state *st;
	uint64_t id;

	f->w.trading = 1;
	assert_int_equal(ir_rec_new(&rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_open(rec, "stop", NULL, &f->ctx), 0);
	id = ir_rec_id(rec);
	d = ir_val_map_new();
	ir_val_set_str(d, "answer", "yes");
	ir_val_set_str(d, "question", "trading active?");
	assert_int_equal(ir_rec_emit(rec, "decision", "stop", d, &f->ctx), 0);
	d = ir_val_map_new();
	ir_val_set_uint(d, "budget_ms", 30000);
	ir_val_set_int(d, "pgid", 4242);
	assert_int_equal(ir_rec_emit(rec, "step.started", "stop", d, &f->ctx),
			 0);
	ir_rec_free(rec); /* the process dies here */

	/* Meanwhile the stop command finished on its own. */
	f->w.trading = 0;
	f->w.alive_group = true;
	assert_int_equal(ir_rec_new(&again, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_attach(again, id, &f->ctx), 0);
	assert_int_equal(ir_rec_subscribe(again, record, &t), 0);
	run.rec = again;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	assert_int_equal(ir_runbook_resume(&run, "tester@host", &f->ctx), 0);
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), 0);
	st = ir_rec_state(again);
	assert_string_equal(st->status, "succeeded");
	assert_int_equal(f->w.reaped, 1);
	assert_int_equal(f->w.runs, 0); /* never repeated blindly */
	assert_string_equal(t.lines[0], "incident.resumed");
	assert_string_equal(t.lines[1], "step.failed stop");
	assert_true(has(&t, "decision stop"));
	assert_true(has(&t, "step.skipped stop"));
	ir_rec_free(again);
}

/* An interrupt while the stop command runs: the command finishes, the
 * step completes, the interruption is recorded and nothing else begins;
 * the resume goes on from there and never repeats the stop. */
static void
interrupt_lets_the_step_finish(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL, *again = NULL;
	struct trace t = { .n = 0 };
	struct ir_run run = { 0 };
	const struct ir_state *st;
	uint64_t id;

	f->w.trading = 1;
	f->w.interrupt_sig = SIGINT;
	assert_int_equal(ir_rec_new(&rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_subscribe(rec, record, &t), 0);
	assert_int_equal(ir_rec_open(rec, "stop", NULL, &f->ctx), 0);
	id = ir_rec_id(rec);
	run.rec = rec;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	run.interrupted = w_interrupted;
	run.interrupt_payload = &f->w;
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), -EINTR);
	st = ir_rec_state(rec);
	assert_true(st->interrupted);
	assert_false(st->closed);
	assert_string_equal(st->interrupted_step, "stop");
	assert_int_equal(st->steps[IR_STEP_STOP].status, IR_STEP_DONE);
	assert_string_equal(t.lines[t.n - 1], "incident.interrupted");
	assert_true(has(&t, "step.completed stop"));
	assert_false(has(&t, "incident.closed"));
	/* The plan halts while the interruption stands. */
	assert_int_equal(ir_runbook_next(st).kind, IR_ACT_HALT);
	ir_rec_free(rec);

	f->w.sig = 0;
	t.n = 0;
	assert_int_equal(ir_rec_new(&again, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_attach(again, id, &f->ctx), 0);
	assert_int_equal(ir_rec_subscribe(again, record, &t), 0);
	run.rec = again;
	assert_int_equal(ir_runbook_resume(&run, "tester@host", &f->ctx), 0);
	assert_false(ir_rec_state(again)->interrupted);
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), 0);
	st = ir_rec_state(again);
	assert_string_equal(st->status, "succeeded");
	assert_int_equal(f->w.runs, 1); /* the stop ran once */
	ir_rec_free(again);
}

/* Interrupted with the trading process still there: no escalation
 * begins, the attempt is closed as interrupted, to run again. */
static void
interrupt_does_not_escalate(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	struct ir_run run = { 0 };
	const struct ir_state *st;

	f->w.trading = 1;
	f->w.stubborn = true;
	f->w.interrupt_sig = SIGTERM;
	assert_int_equal(ir_rec_new(&rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_subscribe(rec, record, &t), 0);
	assert_int_equal(ir_rec_open(rec, "stop", NULL, &f->ctx), 0);
	run.rec = rec;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	run.interrupted = w_interrupted;
	run.interrupt_payload = &f->w;
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), -EINTR);
	st = ir_rec_state(rec);
	assert_int_equal(f->w.runs, 1);
	assert_false(has(&t, "step.escalated stop"));
	assert_int_equal(st->steps[IR_STEP_STOP].status, IR_STEP_PENDING);
	assert_true(st->steps[IR_STEP_STOP].interrupted);
	/* It watched a moment, not the whole budget. */
	assert_true(f->w.mono < f->cfg->stop_budget_ms * 1000000ULL);
	ir_rec_free(rec);
}

/* A second SIGINT: the command's group is ended, the attempt closed as
 * interrupted and killed. */
static void
second_sigint_kills(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	struct ir_run run = { 0 };
	const struct ir_state *st;

	f->w.trading = 1;
	f->w.interrupt_sig = SIGINT;
	f->w.interrupt_kill = true;
	assert_int_equal(ir_rec_new(&rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_subscribe(rec, record, &t), 0);
	assert_int_equal(ir_rec_open(rec, "stop", NULL, &f->ctx), 0);
	run.rec = rec;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	run.interrupted = w_interrupted;
	run.interrupt_payload = &f->w;
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), -EINTR);
	st = ir_rec_state(rec);
	assert_true(has(&t, "step.failed stop"));
	assert_int_equal(st->steps[IR_STEP_STOP].status, IR_STEP_PENDING);
	assert_true(st->interrupted);
	assert_int_equal(f->w.trading, 1); /* killed before it acted */
	assert_string_equal(t.lines[t.n - 1], "incident.interrupted");
	ir_rec_free(rec);
}

/* The escalation is an event of its own, and the outcome says so. */
static void
escalation_recorded(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	const struct ir_state *st;

	f->w.trading = 1;
	f->w.stubborn = true;
	st = run_stop(f, &rec, &t);
	assert_string_equal(st->status, "succeeded");
	assert_true(has(&t, "step.escalated stop"));
	assert_true(st->steps[IR_STEP_STOP].escalated);
	ir_rec_free(rec);
}

/* An interruption halts the plan until a resume clears it. */
static void
plan_halts_when_interrupted(void **state)
{
	struct ir_state st;

	(void)state;
	ir_state_init(&st);
	st.opened = true;
	strcpy(st.kind, "rollback");
	st.interrupted = true;
	assert_int_equal(ir_runbook_next(&st).kind, IR_ACT_HALT);
	st.closed = true;
	assert_int_equal(ir_runbook_next(&st).kind, IR_ACT_NONE);
}

static void
expand_template(void **state)
{
	char *s = ir_runbook_expand("/backup/config-{ts}/{tag}",
				    "deploy-20261125-101500");

	assert_string_equal(s,
			    "/backup/config-20261125-101500/"
			    "deploy-20261125-101500");
	free(s);
}


/* ---- a whole rollback in a world of the test's own --------------------
 * git, archives, files, the report and the history are the test's too:
 * deploy_dir does not exist, so a step that went around the table to a
 * real adapter would fail the rollback. */

struct fake_git {
	char head[IR_GIT_OID_HEX];
	char checked_out[64];
	unsigned checkouts, replaced, reports, archives, added;
};

static struct fake_git fake;

#define FAKE_GIT ((struct ir_git *)&fake)

static int
g_open(void *self, const char *workdir, struct ir_git **out,
       struct ir_ctx *ctx)
{
	*out = FAKE_GIT;
	return 0;
}

static void
g_close(void *self, struct ir_git *git)
{
}

static const char *const fake_tags[] = { "deploy-1", "deploy-2", "deploy-3" };

static int
g_tags(void *self, struct ir_git *git, const char *pattern,
       struct ir_git_tag **out, size_t *n, struct ir_ctx *ctx)
{
	size_t i;

	*out = calloc(3, sizeof(**out));
	for (i = 0; i < 3; i++) {
		snprintf((*out)[i].name, sizeof((*out)[i].name), "%s",
			 fake_tags[i]);
		snprintf((*out)[i].commit, IR_GIT_OID_HEX, "c%zu", i + 1);
	}
	*n = 3;
	return 0;
}

static int
g_head(void *self, struct ir_git *git, char commit[IR_GIT_OID_HEX],
       char *subject, size_t cap, bool *detached, struct ir_ctx *ctx)
{
	snprintf(commit, IR_GIT_OID_HEX, "%s", fake.head);
	snprintf(subject, cap, "subject of %s", fake.head);
	*detached = true;
	return 0;
}

static int
g_tag_commit(void *self, struct ir_git *git, const char *tag,
	     char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (!strcmp(tag, fake_tags[i])) {
			snprintf(commit, IR_GIT_OID_HEX, "c%zu", i + 1);
			return 0;
		}
	return -ENOENT;
}

static int
g_status(void *self, struct ir_git *git, ir_git_status_fn fn, void *payload,
	 struct ir_ctx *ctx)
{
	return fn(payload, " M", "app/VERSION");
}

static int
g_diff(void *self, struct ir_git *git, struct ir_buf *out, struct ir_ctx *ctx)
{
	return ir_buf_printf(out, "diff\n");
}

static int
g_conflicts(void *self, struct ir_git *git, const char *tag,
	    const char *owned_dir, struct ir_buf *paths, size_t *n,
	    struct ir_ctx *ctx)
{
	*n = 0;
	return 0;
}

static int
g_checkout(void *self, struct ir_git *git, const char *tag, bool force,
	   const char *owned_dir, struct ir_buf *conflicts, struct ir_ctx *ctx)
{
	fake.checkouts++;
	snprintf(fake.checked_out, sizeof(fake.checked_out), "%s", tag);
	return g_tag_commit(self, git, tag, fake.head, ctx);
}

static int
g_lock_file(void *self, struct ir_git *git, const char *name, bool *exists,
	    int64_t *mtime_ns, struct ir_ctx *ctx)
{
	*exists = false;
	return 0;
}

static int
a_create(void *self, struct ir_archive_writer **out, const char *final_path,
	 const char *exclude, struct ir_ctx *ctx)
{
	fake.archives++;
	*out = (struct ir_archive_writer *)&fake;
	return 0;
}

static int
a_add_path(void *self, struct ir_archive_writer *w, const char *root,
	   const char *rel, struct ir_ctx *ctx)
{
	fake.added++;
	return 0;
}

static int
a_add_bytes(void *self, struct ir_archive_writer *w, const char *name,
	    const void *p, size_t len, struct ir_ctx *ctx)
{
	fake.added++;
	return 0;
}

static int
a_finish(void *self, struct ir_archive_writer *w, struct ir_archive_info *out,
	 struct ir_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	out->bytes = 123;
	out->files = fake.added;
	return 0;
}

static int
f_mode(void *self, const char *path, unsigned *mode)
{
	*mode = S_IFDIR | 0700;
	return 0;
}

static int
f_ok(void *self, const char *path, struct ir_ctx *ctx)
{
	return 0;
}

static int
f_list(void *self, const char *dir, ir_files_list_fn fn, void *payload,
       struct ir_ctx *ctx)
{
	return 0;
}

static int
f_diff(void *self, const char *src, const char *dst, ir_files_diff_fn fn,
       void *payload, struct ir_ctx *ctx)
{
	return fn(payload, IR_FILES_CHANGED, "risk.conf");
}

static int
f_replace(void *self, const char *src, const char *dst, struct ir_ctx *ctx)
{
	fake.replaced++;
	return 0;
}

static struct ir_val *
f_tail(void *self, const char *path, unsigned lines)
{
	struct ir_val *arr = ir_val_array_new();

	ir_val_push_str(arr, "started");
	return arr;
}

static int
h_get(void *self, const char *url, uint64_t connect_ms, uint64_t total_ms,
      struct ir_http_result *out, struct ir_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	out->status = 200;
	out->body_len = (size_t)snprintf(out->body, sizeof(out->body), "ok");
	return 0;
}

static int
r_write(void *self, uint64_t id, struct ir_ctx *ctx)
{
	fake.reports++;
	return 0;
}

static void
h_verdict(void *self, const char *tag, bool *bad, bool *good, char *why,
	  size_t cap)
{
	*bad = !strcmp(tag, "deploy-2");
	*good = false;
	if (*bad)
		snprintf(why, cap, "INC-7 rolled back from it");
}

static void
rollback_in_a_world_of_its_own(void **state)
{
	struct fixture *f = *state;
	struct ir_rec *rec = NULL;
	struct trace t = { .n = 0 };
	struct ir_run run = { 0 };
	const struct ir_state *st;

	memset(&fake, 0, sizeof(fake));
	snprintf(fake.head, sizeof(fake.head), "c3");
	f->fx.git_open = g_open;
	f->fx.git_close = g_close;
	f->fx.git_tags = g_tags;
	f->fx.git_head = g_head;
	f->fx.git_tag_commit = g_tag_commit;
	f->fx.git_status = g_status;
	f->fx.git_diff = g_diff;
	f->fx.git_conflicts = g_conflicts;
	f->fx.git_checkout = g_checkout;
	f->fx.git_lock_file = g_lock_file;
	f->fx.archive_create = a_create;
	f->fx.archive_add_path = a_add_path;
	f->fx.archive_add_bytes = a_add_bytes;
	f->fx.archive_finish = a_finish;
	f->fx.file_mode = f_mode;
	f->fx.dir_make = f_ok;
	f->fx.dir_list = f_list;
	f->fx.file_remove = f_ok;
	f->fx.files_diff = f_diff;
	f->fx.files_replace_dir = f_replace;
	f->fx.log_tail = f_tail;
	f->fx.http_get = h_get;
	f->fx.report_write = r_write;
	f->fx.verdict = h_verdict;
	free(f->cfg->deploy_dir);
	f->cfg->deploy_dir = strdup("/nonexistent/incident-test/deploy");
	free(f->cfg->health_url);
	f->cfg->health_url = strdup("http://127.0.0.1:9/status");
	f->cfg->health_expect_status = 200;
	f->w.trading = 1;

	assert_int_equal(ir_rec_new(&rec, f->log, &f->fx), 0);
	assert_int_equal(ir_rec_subscribe(rec, record, &t), 0);
	assert_int_equal(ir_rec_open(rec, "rollback", NULL, &f->ctx), 0);
	run.rec = rec;
	run.cfg = f->cfg;
	run.fx = &f->fx;
	run.data_dir = f->dir;
	assert_int_equal(ir_runbook_execute(&run, &f->ctx), 0);
	st = ir_rec_state(rec);
	assert_string_equal(st->status, "succeeded");
	/* The known-bad deploy-2 is passed over, by the history the world
	 * gave. */
	assert_string_equal(st->target, "deploy-1");
	assert_string_equal(fake.checked_out, "deploy-1");
	assert_int_equal(fake.checkouts, 1);
	assert_int_equal(fake.archives, 1);
	assert_int_equal(fake.replaced, 1);
	assert_int_equal(fake.reports, 2); /* the step's, and after close */
	assert_int_equal(f->w.runs, 2);    /* stop and start */
	assert_string_equal(f->w.commands[0], "stop-cmd");
	assert_true(has(&t, "target.chosen checkout"));
	assert_true(has(&t, "backup.created backup"));
	assert_true(has(&t, "step.completed verify"));
	assert_true(has(&t, "step.skipped database"));
	ir_rec_free(rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stop_when_trading, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stop_skipped_when_idle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stop_escalates, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_fails_when_survivor, setup,
						teardown),
		cmocka_unit_test(plan_is_pure),
		cmocka_unit_test_setup_teardown(resume_after_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(interrupt_lets_the_step_finish,
						setup, teardown),
		cmocka_unit_test_setup_teardown(interrupt_does_not_escalate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(second_sigint_kills, setup,
						teardown),
		cmocka_unit_test_setup_teardown(escalation_recorded, setup,
						teardown),
		cmocka_unit_test(plan_halts_when_interrupted),
		cmocka_unit_test(expand_template),
		cmocka_unit_test_setup_teardown(rollback_in_a_world_of_its_own,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
