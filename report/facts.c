/* What the report concludes from the model: the decision path through the
 * runbook's tree, the checklist, and the post-mortem draft. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "decide.h"

const struct ir_rpt_check ir_rpt_checklist[IR_RPT_CHECKS] = {
	{ "Document", "create the incident report (this report)" },
	{ "Investigate", "what went wrong?" },
	{ "Fix", "address the root cause" },
	{ "Test", "verify the fix in staging" },
	{ "Redeploy", "follow the normal deploy process" },
};

const char *const ir_rpt_pm_title[IR_RPT_PM_SECTIONS] = {
	"Detection",  "Severity",	"Impact",	   "Responders",
	"Root cause", "What went well", "What went badly", "Action items",
};

const char *const ir_rpt_pm_key[IR_RPT_PM_SECTIONS] = {
	"detection",  "severity",  "impact",	 "responders",
	"root_cause", "went_well", "went_badly", "action_items",
};

static void
run_words(struct ir_rpt_line *l, const struct ir_rpt_step *s)
{
	char d[IR_RPT_DUR_LEN];

	ir_rpt_line_printf(l, "%s %s", s->name, ir_rpt_status_name(s->status));
	if (s->status == IR_RPT_COMPLETED || s->status == IR_RPT_FAILED) {
		ir_rpt_dur(d, s->duration_ms);
		ir_rpt_line_printf(l, " in %s", d);
	}
	if (s->over_budget)
		ir_rpt_line_adds(l, ", over budget");
	if (s->error)
		ir_rpt_line_printf(l, ": %s", s->error);
	if (s->why)
		ir_rpt_line_printf(l, ": %s", s->why);
	ir_rpt_line_printf(l, " (seq %llu)",
			   (unsigned long long)(s->end_seq ? s->end_seq
							   : s->seq));
}

static void
step_words(struct ir_rpt_line *l, const struct ir_rpt_model *m,
	   const char *name, bool quiet)
{
	const struct ir_rpt_step *s = ir_rpt_model_step(m, name);

	if (s)
		run_words(l, s);
	else if (!quiet)
		ir_rpt_line_printf(l, "%s not run", name);
}

void
ir_rpt_decision_path(const struct ir_rpt_model *m,
		     struct ir_rpt_node nodes[IR_RPT_NODES],
		     struct ir_rpt_line lines[IR_RPT_NODES])
{
	static const struct {
		const char *title, *action, *no_action, *question, *step;
	} tree[IR_RPT_NODES] = {
		{ "Is trading active?", "Emergency stop first",
		  "No emergency stop needed", IR_Q_TRADING, "stop" },
		{ "Is data at risk?", "Backup current state",
		  "No backup needed", IR_Q_DATA, "backup" },
		{ "Rollback to previous version", NULL, NULL, NULL,
		  "checkout" },
		{ "Verify system health", NULL, NULL, NULL, "health" },
		{ "Create incident report", NULL, NULL, NULL, "report" },
	};
	const struct ir_rpt_decision *db;
	size_t i;

	for (i = 0; i < IR_RPT_NODES; i++) {
		struct ir_rpt_line *l = &lines[i];

		memset(l, 0, sizeof(*l));
		nodes[i].title = tree[i].title;
		nodes[i].action = tree[i].action;
		nodes[i].no_action = tree[i].no_action;
		nodes[i].question = tree[i].question;
		nodes[i].step = tree[i].step;
		nodes[i].decision = tree[i].question
					    ? ir_rpt_model_decision(
						      m, tree[i].question)
					    : NULL;
		nodes[i].run = ir_rpt_model_step(m, tree[i].step);
		nodes[i].outcome = l;
	}

	step_words(&lines[0], m, "stop", false);
	step_words(&lines[1], m, "backup", false);
	if (m->backups.n) {
		const struct ir_rpt_backup *b =
			IR_RPT_AT(m->backups, struct ir_rpt_backup, 0);

		ir_rpt_line_printf(&lines[1], "; archived to %s (seq %llu)",
				   b->path ? b->path : "?",
				   (unsigned long long)b->seq);
	}

	if (m->target_seq)
		ir_rpt_line_printf(&lines[2],
				   "%s \u2192 %s chosen (seq %llu); ",
				   m->from ? m->from : "?",
				   m->to ? m->to : "?",
				   (unsigned long long)m->target_seq);
	step_words(&lines[2], m, "checkout", false);
	if (ir_rpt_model_step(m, "config")) {
		ir_rpt_line_adds(&lines[2], "; ");
		step_words(&lines[2], m, "config", true);
	}
	db = ir_rpt_model_decision(m, IR_Q_DATABASE);
	if (db)
		ir_rpt_line_printf(&lines[2],
				   "; " IR_Q_DATABASE " %s (seq %llu)",
				   db->answer ? db->answer : "?",
				   (unsigned long long)db->seq);
	if (ir_rpt_model_step(m, "database")) {
		ir_rpt_line_adds(&lines[2], "; ");
		step_words(&lines[2], m, "database", true);
	}
	if (ir_rpt_model_step(m, "start")) {
		ir_rpt_line_adds(&lines[2], "; ");
		step_words(&lines[2], m, "start", true);
	}

	step_words(&lines[3], m, "health", false);
	if (m->health.probes && m->health.last_status > 0)
		ir_rpt_line_printf(&lines[3],
				   "; last probe status %lld (seq %llu)",
				   (long long)m->health.last_status,
				   (unsigned long long)m->health.last_seq);
	else if (m->health.probes)
		ir_rpt_line_printf(&lines[3],
				   "; last probe had no answer (seq %llu)",
				   (unsigned long long)m->health.last_seq);
	if (ir_rpt_model_step(m, "verify")) {
		ir_rpt_line_adds(&lines[3], "; ");
		step_words(&lines[3], m, "verify", true);
	}

	step_words(&lines[4], m, "report", false);
}

static void
say(ir_rpt_fact_fn fn, void *payload, struct ir_rpt_line *l)
{
	fn(payload, l->s);
	memset(l, 0, sizeof(*l));
}

static bool
trading_was_idle(const struct ir_rpt_model *m)
{
	const struct ir_rpt_decision *d =
		ir_rpt_model_decision(m, IR_Q_TRADING);

	return d && d->answer && !strcmp(d->answer, "no");
}

static void
detection(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	char t[IR_RPT_TIME_LEN];

	ir_rpt_time(t, m->opened_ts);
	ir_rpt_line_printf(&l, "Incident opened at %s (seq %llu) by %s", t,
			   (unsigned long long)m->opened_seq,
			   m->actor ? m->actor : "?");
	if (m->reason && *m->reason)
		ir_rpt_line_printf(&l, ", reason: %s", m->reason);
	ir_rpt_line_adds(&l, ".");
	say(fn, payload, &l);
	fn(payload, "How the problem was noticed (alert, dashboard, person) "
		    "and when it began: to be written.");
}

/* A suggestion from the outcome and the time without trading; the
 * incident lead decides. */
static void
severity(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	bool succeeded = m->closed_seq && !strcmp(m->status, "succeeded");
	bool over = ir_rpt_model_duration(m) > m->budget_ms;
	const char *sev, *why;

	if (!strcmp(m->kind, "drill")) {
		sev = "none";
		why = "a training drill";
	} else if (trading_was_idle(m)) {
		sev = succeeded ? "SEV-3" : "SEV-2";
		why = succeeded ? "trading was not active; the rollback "
				  "succeeded"
				: "trading was not active; the rollback did "
				  "not succeed";
	} else if (m->stopped.seq && !m->healthy.seq) {
		sev = "SEV-1";
		why = "trading stopped and was not confirmed healthy again";
	} else if (!succeeded) {
		sev = "SEV-1";
		why = "the rollback did not succeed";
	} else if (over) {
		sev = "SEV-1";
		why = "trading was restored, over the rollback target";
	} else {
		sev = "SEV-2";
		why = "trading stopped and was restored within the rollback "
		      "target";
	}
	ir_rpt_line_printf(&l, "Severity: to be decided by the incident "
			       "lead (suggested from the log: %s, %s).",
			   sev, why);
	say(fn, payload, &l);
}

#define RESPONDERS_MAX 16

/* Everyone the log names as acting: who opened, resumed, wrote notes. */
static void
responders(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct who {
		const char *name;
		struct ir_rpt_line l;
	} *w = NULL;
	size_t n = 0, i, j, total = 1 + m->resumes.n + m->notes.n;

	w = calloc(RESPONDERS_MAX, sizeof(*w));
	if (!w) {
		fn(payload, "Responders: to be written.");
		return;
	}
	for (i = 0; i < total; i++) {
		const char *name, *role;
		uint64_t seq;

		if (!i) {
			name = m->actor, role = "opened the incident";
			seq = m->opened_seq;
		} else if (i <= m->resumes.n) {
			const struct ir_rpt_resume *r = IR_RPT_AT(
				m->resumes, struct ir_rpt_resume, i - 1);

			name = r->actor, role = "resumed it", seq = r->seq;
		} else {
			const struct ir_rpt_note *o =
				IR_RPT_AT(m->notes, struct ir_rpt_note,
					  i - 1 - m->resumes.n);

			name = o->author, role = "note", seq = o->seq;
		}
		if (!name || !*name)
			continue;
		for (j = 0; j < n && strcmp(w[j].name, name); j++)
			;
		if (j == n) {
			if (n == RESPONDERS_MAX)
				continue;
			w[n].name = name;
			ir_rpt_line_printf(&w[n].l, "%s:", name);
			n++;
		}
		ir_rpt_line_printf(&w[j].l, "%s %s (seq %llu)",
				   w[j].l.len > strlen(name) + 1 ? "," : "",
				   role, (unsigned long long)seq);
	}
	for (j = 0; j < n; j++) {
		ir_rpt_line_adds(&w[j].l, ".");
		say(fn, payload, &w[j].l);
	}
	free(w);
	fn(payload, "Others involved (incident lead, communications, "
		    "trading desk): to be written.");
}

static void
impact(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	char a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	char t0[IR_RPT_TIME_LEN], t1[IR_RPT_TIME_LEN];
	int64_t total = ir_rpt_model_duration(m);
	const struct ir_rpt_step *failed = NULL;
	size_t i;

	if (trading_was_idle(m)) {
		ir_rpt_line_printf(&l, "Trading was not active when the "
				       "incident began (decision seq %llu).",
				   (unsigned long long)ir_rpt_model_decision(
					   m, IR_Q_TRADING)->seq);
		say(fn, payload, &l);
	} else if (m->stopped.seq && m->healthy.seq) {
		ir_rpt_dur(a, m->healthy.ms - m->stopped.ms);
		ir_rpt_time(t0, m->stopped.ts);
		ir_rpt_time(t1, m->healthy.ts);
		ir_rpt_line_printf(&l, "Trading stopped from %s (seq %llu) to "
				       "%s (healthy again, seq %llu): %s "
				       "without trading.",
				   t0, (unsigned long long)m->stopped.seq, t1,
				   (unsigned long long)m->healthy.seq, a);
		say(fn, payload, &l);
	} else if (m->stopped.seq) {
		ir_rpt_dur(a, total - m->stopped.ms);
		ir_rpt_time(t0, m->stopped.ts);
		ir_rpt_line_printf(&l, "Trading stopped at %s (seq %llu) and "
				       "was not confirmed healthy afterwards: "
				       "at least %s without trading (until "
				       "the last event).",
				   t0, (unsigned long long)m->stopped.seq, a);
		say(fn, payload, &l);
	}
	if (m->target_seq) {
		ir_rpt_line_printf(&l, "Deployment rolled back from %s to %s",
				   m->from ? m->from : "?",
				   m->to ? m->to : "?");
		if (m->rolled_back.seq) {
			ir_rpt_offset(a, m->rolled_back.ms);
			ir_rpt_line_printf(
				&l, ", checked out at %s (seq %llu).", a,
				(unsigned long long)m->rolled_back.seq);
		} else {
			ir_rpt_line_adds(&l, " was chosen but not checked "
					     "out.");
		}
		say(fn, payload, &l);
	}
	for (i = 0; i < m->steps.n && !failed; i++)
		if (IR_RPT_AT(m->steps, struct ir_rpt_step, i)->status ==
		    IR_RPT_FAILED)
			failed = IR_RPT_AT(m->steps, struct ir_rpt_step, i);
	if (failed) {
		ir_rpt_line_printf(&l, "The %s step failed",
				   failed->name);
		if (failed->error)
			ir_rpt_line_printf(&l, ": %s", failed->error);
		ir_rpt_line_printf(&l, " (seq %llu).",
				   (unsigned long long)failed->end_seq);
		say(fn, payload, &l);
	}
	ir_rpt_dur(a, total);
	ir_rpt_dur(b, m->budget_ms);
	if (!m->closed_seq)
		ir_rpt_line_printf(&l, "The incident is still open (running "
				       "or interrupted) after %s; target %s.",
				   a, b);
	else if (total > m->budget_ms || !strcmp(m->status, "succeeded"))
		ir_rpt_line_printf(&l, "The incident closed %s after %s "
				       "against the %s target (%s).",
				   m->status, a, b,
				   total > m->budget_ms ? "over target"
							: "within target");
	else
		ir_rpt_line_printf(&l, "The incident closed %s after %s, "
				       "without a completed rollback (target "
				       "%s).",
				   m->status, a, b);
	say(fn, payload, &l);
}

static void
cause(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };

	if (m->reason && *m->reason) {
		ir_rpt_line_printf(&l, "Reason given when the incident "
				       "opened: %s",
				   m->reason);
		say(fn, payload, &l);
	}
	fn(payload, "To be written: the log records what was done, not why "
		    "the deploy went wrong.");
}

static void
well(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	size_t i, said = 0;
	char a[IR_RPT_DUR_LEN];

	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		if (s->status != IR_RPT_COMPLETED || s->over_budget)
			continue;
		ir_rpt_line_printf(&l, "%s %s",
				   l.len ? "," : "Completed within budget:",
				   s->name);
	}
	if (l.len) {
		ir_rpt_line_adds(&l, ".");
		say(fn, payload, &l);
		said++;
	}
	if (m->rolled_back.seq && m->closed_seq &&
	    ir_rpt_model_duration(m) <= m->budget_ms &&
	    !strcmp(m->status, "succeeded")) {
		ir_rpt_dur(a, ir_rpt_model_duration(m));
		ir_rpt_line_printf(&l, "Rolled back in %s, within the target.",
				   a);
		say(fn, payload, &l);
		said++;
	}
	for (i = 0; i < m->backups.n; i++) {
		const struct ir_rpt_backup *b =
			IR_RPT_AT(m->backups, struct ir_rpt_backup, i);

		ir_rpt_line_printf(&l, "State archived before any change: %s "
				       "(seq %llu).",
				   b->path ? b->path : "?",
				   (unsigned long long)b->seq);
		say(fn, payload, &l);
		said++;
	}
	if (m->healthy.seq) {
		ir_rpt_line_printf(&l, "Health confirmed (seq %llu).",
				   (unsigned long long)m->healthy.seq);
		say(fn, payload, &l);
		said++;
	}
	if (!said)
		fn(payload, "Nothing recorded: to be written.");
}

static void
badly(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	char a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	size_t i, said = 0;

	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		if (s->status == IR_RPT_FAILED) {
			ir_rpt_line_printf(&l, "Step %s failed", s->name);
			if (s->error)
				ir_rpt_line_printf(&l, ": %s", s->error);
			if (s->has_exit)
				ir_rpt_line_printf(&l, " (exit %lld)",
						   (long long)s->exit_code);
			ir_rpt_line_printf(&l, " (seq %llu).",
					   (unsigned long long)s->end_seq);
			say(fn, payload, &l);
			said++;
		} else if (s->status == IR_RPT_INTERRUPTED) {
			ir_rpt_line_printf(&l, "Step %s (attempt %lld) was "
					       "interrupted (started seq "
					       "%llu).",
					   s->name, (long long)s->attempt,
					   (unsigned long long)s->seq);
			say(fn, payload, &l);
			said++;
		}
		if (s->over_budget) {
			ir_rpt_dur(a, s->duration_ms);
			ir_rpt_dur(b, s->budget_ms);
			ir_rpt_line_printf(&l, "Step %s took %s against a "
					       "budget of %s (seq %llu).",
					   s->name, a, b,
					   (unsigned long long)s->end_seq);
			say(fn, payload, &l);
			said++;
		}
	}
	for (i = 0; i < m->resumes.n; i++) {
		const struct ir_rpt_resume *r =
			IR_RPT_AT(m->resumes, struct ir_rpt_resume, i);

		ir_rpt_line_printf(&l, "The run was interrupted and resumed "
				       "by %s (seq %llu).",
				   r->actor ? r->actor : "?",
				   (unsigned long long)r->seq);
		say(fn, payload, &l);
		said++;
	}
	if (m->health.failures) {
		ir_rpt_line_printf(&l, "%llu of %llu health probes failed.",
				   (unsigned long long)m->health.failures,
				   (unsigned long long)m->health.probes);
		say(fn, payload, &l);
		said++;
	}
	if (ir_rpt_model_duration(m) > m->budget_ms) {
		ir_rpt_dur(a, ir_rpt_model_duration(m));
		ir_rpt_dur(b, m->budget_ms);
		ir_rpt_line_printf(&l, "Took %s against the %s target.", a, b);
		say(fn, payload, &l);
		said++;
	}
	if (!said)
		fn(payload, "Nothing recorded: to be written.");
}

static void
actions(const struct ir_rpt_model *m, ir_rpt_fact_fn fn, void *payload)
{
	struct ir_rpt_line l = { .len = 0 };
	char b[IR_RPT_DUR_LEN];
	size_t i;

	if (m->from) {
		ir_rpt_line_printf(&l, "Find the root cause of the failure "
				       "in %s and fix it (owner: ?, due: ?).",
				   m->from);
		say(fn, payload, &l);
	} else {
		fn(payload, "Find the root cause and fix it (owner: ?, due: "
			    "?).");
	}
	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		if (s->status == IR_RPT_FAILED) {
			ir_rpt_line_printf(&l, "Find out why step %s failed "
					       "(seq %llu) (owner: ?).",
					   s->name,
					   (unsigned long long)s->end_seq);
			say(fn, payload, &l);
		}
		if (s->over_budget) {
			ir_rpt_dur(b, s->budget_ms);
			ir_rpt_line_printf(&l, "Bring step %s back under its "
					       "%s budget, or revise the "
					       "budget (owner: ?).",
					   s->name, b);
			say(fn, payload, &l);
		}
	}
	fn(payload, "Verify the fix in staging before redeploying (owner: "
		    "?).");
}

void
ir_rpt_postmortem(const struct ir_rpt_model *m, enum ir_rpt_pm section,
		  ir_rpt_fact_fn fn, void *payload)
{
	switch (section) {
	case IR_RPT_PM_DETECTION:
		detection(m, fn, payload);
		break;
	case IR_RPT_PM_SEVERITY:
		severity(m, fn, payload);
		break;
	case IR_RPT_PM_RESPONDERS:
		responders(m, fn, payload);
		break;
	case IR_RPT_PM_IMPACT:
		impact(m, fn, payload);
		break;
	case IR_RPT_PM_CAUSE:
		cause(m, fn, payload);
		break;
	case IR_RPT_PM_WELL:
		well(m, fn, payload);
		break;
	case IR_RPT_PM_BADLY:
		badly(m, fn, payload);
		break;
	case IR_RPT_PM_ACTIONS:
		actions(m, fn, payload);
		break;
	}
}
