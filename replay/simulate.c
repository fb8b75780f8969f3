/* simulate: today's planner and rules against a recorded incident. */
#include "simulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "state.h"
#include "target.h"

const char *
ir_sim_kind_name(enum ir_sim_kind kind)
{
	static const char *const names[] = { "missing", "extra", "mismatch",
					     "answer", "unreplayable" };

	return kind <= IR_SIM_UNREPLAYABLE ? names[kind] : "?";
}

bool
ir_sim_kind_has_runbook(const char *kind)
{
	size_t n = 0;

	return ir_runbook_steps(kind, &n) && n;
}

/* Every event of the incident, decoded and kept. */
struct sim {
	const struct ir_sim_opts *o;
	struct ir_sim_result *r;
	const struct ir_event_list *e;
	size_t k; /* the event being looked at */
	struct ir_state st;
};

static const char *
act_name(enum ir_action_kind kind)
{
	switch (kind) {
	case IR_ACT_DECIDE:
		return "decide";
	case IR_ACT_SKIP:
		return "skip";
	case IR_ACT_RUN:
		return "run";
	case IR_ACT_RECOVER:
		return "recover";
	case IR_ACT_CLOSE:
		return "close";
	case IR_ACT_HALT:
		return "halt";
	default:
		return "none";
	}
}

static void
set_action(struct ir_sim_action *a, const char *action, const char *step,
	   const char *detail)
{
	snprintf(a->action, sizeof(a->action), "%s", action);
	snprintf(a->step, sizeof(a->step), "%s", step ? step : "");
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
}

static struct ir_sim_divergence *
diverge(struct sim *s, enum ir_sim_kind kind)
{
	const struct ir_event *ev = &s->e->ev[s->k];
	struct ir_sim_divergence *d, *grown;
	size_t i;

	grown = realloc(s->r->div, (s->r->n_div + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	s->r->div = grown;
	d = &grown[s->r->n_div++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->seq = ev->seq;
	d->mono = ev->mono;
	snprintf(d->step, sizeof(d->step), "%s", ev->step);
	for (i = s->k > IR_SIM_BEFORE ? s->k - IR_SIM_BEFORE : 0; i < s->k;
	     i++)
		d->before[d->n_before++] = s->e->ev[i].seq;
	if (kind == IR_SIM_UNREPLAYABLE)
		s->r->unreplayable = true;
	return d;
}

static void
add_input(struct ir_sim_divergence *d, uint64_t seq)
{
	if (d && seq && d->n_inputs < IR_SIM_INPUTS)
		d->inputs[d->n_inputs++] = seq;
}

/* The latest observation `what` of step since the step's last
 * step.started (or since the incident opened, for a decision). */
static const struct ir_event *
last_observation(const struct sim *s, const char *what, const char *step)
{
	size_t i;

	for (i = s->k; i-- > 0;) {
		const struct ir_event *ev = &s->e->ev[i];

		if (!strcmp(ev->step, step) && !strcmp(ev->type, "step.started"))
			return NULL;
		if (!strcmp(ev->type, "observation") && !strcmp(ev->step, step) &&
		    ir_val_get_str(ev->data, "what") &&
		    !strcmp(ir_val_get_str(ev->data, "what"), what))
			return ev;
	}
	return NULL;
}

/* The event that last changed what the planner sees: the previous action
 * or outcome. */
static uint64_t
last_input(const struct sim *s)
{
	size_t i;

	for (i = s->k; i-- > 0;) {
		const char *t = s->e->ev[i].type;

		if (strcmp(t, "observation") && strcmp(t, "step.output") &&
		    strcmp(t, "note"))
			return s->e->ev[i].seq;
	}
	return 0;
}

static void
describe_plan(struct ir_sim_action *a, const struct ir_action *p)
{
	set_action(a, act_name(p->kind),
		   p->step == IR_STEP_NONE ? "" : ir_step_name(p->step),
		   p->kind == IR_ACT_CLOSE ? p->status : "");
}

/* The recording made action (kind, step) here: is it today's plan? */
static int
compare_action(struct sim *s, enum ir_action_kind kind, enum ir_step step,
	       const char *detail)
{
	struct ir_action p = s->o->plan ? s->o->plan(&s->st)
					: ir_runbook_next(&s->st);
	const char *status = kind == IR_ACT_CLOSE ? detail : NULL;
	struct ir_sim_divergence *d;
	enum ir_sim_kind why;

	s->r->compared++;
	if (p.kind == kind && (kind == IR_ACT_CLOSE || p.step == step) &&
	    (!status || (p.status && !strcmp(p.status, status))))
		return 0;
	if (kind != IR_ACT_CLOSE &&
	    (p.kind == IR_ACT_CLOSE || p.kind == IR_ACT_NONE))
		why = IR_SIM_MISSING;
	else if (kind == IR_ACT_CLOSE && p.kind != IR_ACT_CLOSE)
		why = IR_SIM_EXTRA;
	else
		why = IR_SIM_MISMATCH;
	d = diverge(s, why);
	if (!d)
		return -ENOMEM;
	set_action(&d->recorded, act_name(kind),
		   step == IR_STEP_NONE ? "" : ir_step_name(step), detail);
	describe_plan(&d->actual, &p);
	add_input(d, last_input(s));
	return 1;
}

static int
unreplayable(struct sim *s, const char *why)
{
	struct ir_sim_divergence *d = diverge(s, IR_SIM_UNREPLAYABLE);

	if (!d)
		return -ENOMEM;
	snprintf(d->why, sizeof(d->why), "%s", why);
	return 1;
}

/* A gating decision: the action first, then the answer by today's rule
 * over the recorded inputs. */
static int
compare_decision(struct sim *s, enum ir_step step)
{
	const struct ir_event *ev = &s->e->ev[s->k], *obs = NULL;
	const char *answer = ir_val_get_str(ev->data, "answer");
	const char *question = ir_val_get_str(ev->data, "question");
	struct ir_decide_input in = { .kind = s->st.kind };
	struct ir_sim_divergence *d;
	struct ir_decision out;
	char detail[600];
	int rc;

	snprintf(detail, sizeof(detail), "%s %s", question ? question : "?",
		 answer ? answer : "?");
	rc = compare_action(s, IR_ACT_DECIDE, step, detail);
	if (rc)
		return rc;
	switch (step) {
	case IR_STEP_STOP:
		obs = last_observation(s, "process", ev->step);
		if (!obs)
			return unreplayable(s, "the stop decision was recorded "
					    "without the process observation "
					    "it read");
		in.trading = (size_t)ir_val_get_int(obs->data, "count", 0);
		break;
	case IR_STEP_BACKUP:
		in.no_backup = s->st.opt_no_backup;
		break;
	case IR_STEP_DATABASE:
		obs = last_observation(s, "config", ev->step);
		if (!obs)
			return unreplayable(s, "the database decision was "
					    "recorded before the config "
					    "observation (an older log): its "
					    "inputs are not in the log");
		in.db_configured = ir_val_get_bool(obs->data,
						   "database_restore", false);
		in.db_on_rollback = ir_val_get_bool(obs->data, "on_rollback",
						    false);
		in.with_db = s->st.opt_with_db;
		break;
	default:
		return 0;
	}
	rc = (s->o->decide ? s->o->decide : ir_decide)(step, &in, &out);
	if (rc)
		return unreplayable(s, "no rule answers this question today");
	if (answer && !strcmp(answer, out.yes ? "yes" : "no"))
		return 0;
	d = diverge(s, IR_SIM_ANSWER);
	if (!d)
		return -ENOMEM;
	set_action(&d->recorded, "decide", ev->step, detail);
	snprintf(detail, sizeof(detail), "%s %s (%s)",
		 question ? question : "?", out.yes ? "yes" : "no",
		 out.because);
	set_action(&d->actual, "decide", ev->step, detail);
	if (obs)
		add_input(d, obs->seq);
	return 1;
}

static void
target_text(char *buf, size_t cap, const char *to, const struct ir_val *sk)
{
	size_t used, i;

	used = (size_t)snprintf(buf, cap, "%s", to ? to : "");
	for (i = 0; sk && sk->type == IR_VAL_ARRAY && i < sk->as.arr.len &&
		    used < cap;
	     i++) {
		const char *tag = ir_val_get_str(&sk->as.arr.items[i], "tag");

		used += (size_t)snprintf(buf + used, cap - used, "%s%s",
					 i ? ", " : " (skipped ",
					 tag ? tag : "?");
	}
	if (i && used + 1 < cap)
		snprintf(buf + used, cap - used, ")");
}

/* target.chosen against today's choice over the recorded tags. */
static int
compare_target(struct sim *s)
{
	const struct ir_event *ev = &s->e->ev[s->k], *obs;
	struct ir_target_input in;
	struct ir_tag_input *tags = NULL, asked;
	struct ir_sim_divergence *d;
	struct ir_ctx ctx = { 0 };
	struct ir_target t;
	char rec[600], now[600];
	int rc;

	s->r->compared++;
	obs = last_observation(s, "tags", ev->step);
	if (!obs || ir_target_read(obs->data, &in, &tags, &asked))
		return unreplayable(s, "target.chosen was recorded without "
				    "the tags it read (an older log, or tags "
				    "left out): the target cannot be chosen "
				    "again from the log, and today's "
				    "repository is not read");
	rc = ir_target_choose(&in, &t, &ctx);
	free(tags);
	target_text(rec, sizeof(rec), ir_val_get_str(ev->data, "to"),
		    ir_val_get(ev->data, "skipped"));
	if (rc)
		snprintf(now, sizeof(now), "none: %s", ctx.err.msg);
	else
		target_text(now, sizeof(now), t.to, t.skipped);
	ir_val_free(t.skipped);
	if (!strcmp(rec, now))
		return 0;
	d = diverge(s, IR_SIM_MISMATCH);
	if (!d)
		return -ENOMEM;
	set_action(&d->recorded, "choose", ev->step, rec);
	set_action(&d->actual, "choose", ev->step, now);
	add_input(d, obs->seq);
	return 1;
}

/* Where the recording acted, compare; everything else is an input. */
/* The command today's configuration runs for the step (NULL: none). */
static const char *
today_command(const struct ir_config *cfg, const char *kind, enum ir_step step,
	      bool escalation)
{
	bool deploy = !strcmp(kind, "deploy");

	switch (step) {
	case IR_STEP_STOP:
		if (escalation)
			return cfg->stop_escalate;
		return deploy ? cfg->deploy_stop : cfg->stop_command;
	case IR_STEP_MIGRATE:
		return cfg->deploy_migrate;
	case IR_STEP_DATABASE:
		return cfg->database_restore;
	case IR_STEP_START:
		return cfg->start_command;
	default:
		return NULL;
	}
}

/* A step started (or escalated) with a command: is it the one today's
 * configuration names for the step? */
static int
compare_command(struct sim *s, enum ir_step step, bool escalation)
{
	const struct ir_event *ev = &s->e->ev[s->k];
	const char *recorded = ir_val_get_str(ev->data, "command");
	const char *today;
	struct ir_sim_divergence *d;
	char detail[600];

	if (!s->r->commands || !recorded || step == IR_STEP_NONE)
		return 0;
	today = today_command(s->o->cfg, s->st.kind, step, escalation);
	if (!today || !strcmp(today, recorded))
		return 0;
	d = diverge(s, IR_SIM_MISMATCH);
	if (!d)
		return -ENOMEM;
	snprintf(detail, sizeof(detail), "command %s", recorded);
	set_action(&d->recorded, escalation ? "escalate" : "run", ev->step,
		   detail);
	snprintf(detail, sizeof(detail), "command %s", today);
	set_action(&d->actual, escalation ? "escalate" : "run", ev->step,
		   detail);
	snprintf(d->why, sizeof(d->why),
		 "today's code runs another command for this step under the "
		 "same configuration");
	return 1;
}

/* Commands are compared only under the configuration they were recorded
 * with: a changed file is no change of the code. */
static void
commands_gate(struct sim *s, const struct ir_event *opened)
{
	const char *rec = ir_val_get_str(opened->data, "config");
	char hex[IR_SHA256_HEX];

	if (!s->o->cfg) {
		snprintf(s->r->commands_why, sizeof(s->r->commands_why),
			 "no configuration given");
		return;
	}
	ir_hex(hex, s->o->cfg->sha256, sizeof(s->o->cfg->sha256));
	if (!s->o->cfg->have_file)
		hex[0] = '\0';
	s->r->commands = rec && !strcmp(rec, hex);
	if (!s->r->commands)
		snprintf(s->r->commands_why, sizeof(s->r->commands_why),
			 "recorded under another configuration (%.12s, today "
			 "%.12s)",
			 rec && rec[0] ? rec : "none", hex[0] ? hex : "none");
}

static int
look(struct sim *s)
{
	const struct ir_event *ev = &s->e->ev[s->k];
	enum ir_step step = ir_step_from_name(ev->step);
	const struct ir_step_state *ss =
		step != IR_STEP_NONE ? &s->st.steps[step] : NULL;
	const struct ir_question *q = ir_question_of(step);
	const char *question = ir_val_get_str(ev->data, "question");
	char detail[64];

	if (!strcmp(ev->type, "decision")) {
		/* Only the gating question is the planner's; the escalation
		 * is asked inside the running stop. */
		if (q && question && !strcmp(question, q->question) && ss &&
		    ss->status == IR_STEP_PENDING)
			return compare_decision(s, step);
		return 0;
	}
	/* A step may find at its run that there is nothing to do (the
	 * config step with no backup of the target's config). */
	if (!strcmp(ev->type, "step.skipped"))
		return compare_action(s, ss && ss->decision == IR_ANSWER_NO
						 ? IR_ACT_SKIP
						 : IR_ACT_RUN,
				      step, "skipped");
	if (!strcmp(ev->type, "step.started")) {
		int rc;

		snprintf(detail, sizeof(detail), "attempt %lld",
			 (long long)ir_val_get_int(ev->data, "attempt", 1));
		rc = compare_action(s, IR_ACT_RUN, step, detail);
		return rc ? rc : compare_command(s, step, false);
	}
	if (!strcmp(ev->type, "step.escalated"))
		return compare_command(s, step, true);
	if (!strcmp(ev->type, "step.failed") && ss &&
	    ss->status == IR_STEP_RUNNING && ss->session < s->st.session &&
	    ir_val_get_bool(ev->data, "interrupted", false))
		return compare_action(s, IR_ACT_RECOVER, step, "");
	if (!strcmp(ev->type, "target.chosen"))
		return compare_target(s);
	if (!strcmp(ev->type, "incident.closed")) {
		const char *status = ir_val_get_str(ev->data, "status");

		/* `incident abort` closes from outside the runbook. */
		if (status && !strcmp(status, "aborted"))
			return 0;
		return compare_action(s, IR_ACT_CLOSE, IR_STEP_NONE,
				      status ? status : "");
	}
	return 0;
}

int
ir_simulate(struct ir_evlog *log, uint64_t id, const struct ir_sim_opts *opts,
	    struct ir_sim_result *out, struct ir_ctx *ctx)
{
	struct ir_sim_opts defaults = { 0 };
	struct ir_event_list e = { .drop_output = true };
	struct ir_ctx scan = { 0 };
	struct sim s = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = id;
	s.o = opts ? opts : &defaults;
	s.r = out;
	s.e = &e;
	ir_state_init(&s.st);
	/* Output lines are no input of the fold or the rules: only their
	 * place is kept, so a chatty incident costs no more than a quiet
	 * one. */
	rc = ir_evlog_load(log, id, &e, &scan);
	if (rc == -ENOMEM || rc == -ENOENT) {
		ir_event_list_clear(&e);
		if (ctx && scan.err.code)
			ctx->err = scan.err;
		return rc;
	}
	out->events = e.n;
	if (e.n && ir_val_get_str(e.ev[0].data, "kind"))
		snprintf(out->kind, sizeof(out->kind), "%s",
			 ir_val_get_str(e.ev[0].data, "kind"));
	if (rc || !e.n || strcmp(e.ev[0].type, "incident.opened")) {
		s.k = 0;
		rc = unreplayable(&s, rc ? ir_error_msg(&scan, rc)
					 : "the incident has no "
					   "incident.opened");
		ir_event_list_clear(&e);
		return rc < 0 ? rc : 0;
	}
	for (s.k = 0; s.k < e.n; s.k++) {
		const struct ir_event *ev = &e.ev[s.k];

		if (s.o->until && ev->seq > s.o->until)
			break;
		if (s.k == 0) {
			commands_gate(&s, ev);
			if (!ir_sim_kind_has_runbook(out->kind)) {
				rc = unreplayable(&s, "an incident of this "
						  "kind carries out no "
						  "runbook");
				break;
			}
		} else {
			rc = look(&s);
		}
		if (rc < 0 || out->unreplayable ||
		    (rc > 0 && !s.o->keep_going))
			break;
		ir_state_apply(&s.st, ev);
		rc = 0;
	}
	ir_event_list_clear(&e);
	return rc < 0 ? rc : 0;
}

void
ir_sim_result_clear(struct ir_sim_result *r)
{
	free(r->div);
	r->div = NULL;
	r->n_div = 0;
}
