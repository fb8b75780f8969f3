/*
 * `rollback --dry-run`: the executor itself, run over the planning world
 * (plan.h) with a recorder that writes nothing (ir_rec_plan).  Every
 * decision, target choice and step below is the real run's code; the
 * plan printed is what the planned incident's events say, with the
 * configuration's details beside them (docs/guide.md, "The plan as
 * JSON").  The pre-flight's refusal (preflight.c) is said as well, and
 * makes the exit code 2.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonval.h"
#include "plan.h"
#include "runbook.h"

/* What the planned incident did, gathered from its events. */
struct plan {
	uint64_t id;                  /* the incident's number */
	char from[256], to[256];      /* as the planned incident chose */
	json_t *step[IR_STEP__COUNT]; /* the steps it reached */
	json_t *deleted;              /* archive.deleted paths */
	char status[16];              /* incident.closed */
};

static json_t *
step_obj(struct plan *pl, const char *name)
{
	enum ir_step s = ir_step_from_name(name);

	if (s == IR_STEP_NONE)
		return NULL;
	if (!pl->step[s]) {
		pl->step[s] = json_object();
		json_object_set_new(pl->step[s], "step", json_string(name));
		json_object_set_new(pl->step[s], "run", json_false());
	}
	return pl->step[s];
}

static void
set_val(json_t *obj, const char *key, const struct ir_val *v)
{
	if (v)
		json_object_set_new(obj, key, ir_jsonval_from(v));
}

static void
observed(json_t *s, const struct ir_val *d)
{
	const char *what = ir_val_get_str(d, "what");

	if (!what)
		return;
	if (!strcmp(what, "process") && !json_object_get(s, "processes"))
		json_object_set_new(s, "processes",
				    json_integer((json_int_t)ir_val_get_int(
					    d, "count", 0)));
	if (!strcmp(what, "file")) {
		const struct ir_val *ch = ir_val_get(d, "changes");

		set_val(s, "missing", ir_val_get(d, "missing"));
		if (ir_val_get_str(d, "source"))
			json_object_set_new(
				s, "source",
				json_string(ir_val_get_str(d, "source")));
		if (ch) {
			set_val(s, "changes", ch);
			json_object_set_new(
				s, "changes_total",
				json_integer((json_int_t)(
					ir_val_get_int(d, "added", 0) +
					ir_val_get_int(d, "changed", 0) +
					ir_val_get_int(d, "removed", 0))));
		}
	}
}

static void
plan_event(void *payload, const struct ir_event *ev)
{
	struct plan *pl = payload;
	const struct ir_val *d = ev->data;
	json_t *s = ev->step[0] ? step_obj(pl, ev->step) : NULL;

	if (!strcmp(ev->type, "incident.closed")) {
		snprintf(pl->status, sizeof(pl->status), "%s",
			 ir_val_get_str(d, "status") ? ir_val_get_str(d, "status")
						     : "");
		return;
	}
	if (!strcmp(ev->type, "archive.deleted")) {
		json_array_append_new(pl->deleted,
				      json_string(ir_val_get_str(d, "path")));
		return;
	}
	if (!s)
		return;
	if (!strcmp(ev->type, "decision") && !json_object_get(s, "question")) {
		json_object_set_new(s, "question",
				    json_string(ir_val_get_str(d, "question")));
		json_object_set_new(s, "answer",
				    json_string(ir_val_get_str(d, "answer")));
		json_object_set_new(s, "because",
				    json_string(ir_val_get_str(d, "because")));
	} else if (!strcmp(ev->type, "step.started")) {
		json_object_set_new(s, "run", json_true());
		if (ir_val_get_str(d, "command"))
			json_object_set_new(
				s, "command",
				json_string(ir_val_get_str(d, "command")));
	} else if (!strcmp(ev->type, "step.skipped")) {
		if (ir_val_get_str(d, "path"))
			json_object_set_new(
				s, "source",
				json_string(ir_val_get_str(d, "path")));
		json_object_set_new(s, "outcome", json_string("skipped"));
		json_object_set_new(s, "why",
				    json_string(ir_val_get_str(d, "why")));
	} else if (!strcmp(ev->type, "step.completed")) {
		json_object_set_new(s, "outcome", json_string("completed"));
	} else if (!strcmp(ev->type, "step.failed")) {
		json_object_set_new(s, "outcome", json_string("failed"));
		json_object_set_new(s, "error",
				    json_string(ir_val_get_str(d, "error")));
	} else if (!strcmp(ev->type, "backup.created")) {
		json_object_set_new(s, "archive_path",
				    json_string(ir_val_get_str(d, "path")));
	} else if (!strcmp(ev->type, "observation")) {
		observed(s, d);
	}
}

/* Run the executor over the planning world: a new incident, or the open
 * one resumed.  Nothing reaches the log or the world. */
static int
plan_run(struct cli *cli, const struct run_opts *o, uint64_t open_id,
	 struct plan *pl)
{
	const struct ir_config *cfg = cli->cfg;
	struct ir_world_plan world;
	struct ir_rec *rec = NULL;
	struct ir_run run = { 0 };
	char actor[300];
	int rc;

	ir_world_plan_init(&world, cli_world(cli), cfg->health_expect_status,
			   cfg->health_expect_body);
	rc = ir_rec_new(&rec, cli->log, &world.wrap.table);
	if (rc)
		return rc;
	ir_rec_plan(rec);
	rc = ir_rec_subscribe(rec, plan_event, pl);
	run.rec = rec;
	run.cfg = cfg;
	run.fx = &world.wrap.table;
	run.data_dir = cli->data_dir;
	if (!rc && open_id) {
		rc = ir_rec_attach(rec, open_id, &cli->ctx);
		/* The steps done before the interrupt are not planned again:
		 * the plan shows what the resume would still do. */
		for (int i = 0; !rc && i < IR_STEP__COUNT; i++)
			if (pl->step[i]) {
				json_decref(pl->step[i]);
				pl->step[i] = NULL;
			}
		cli_actor(actor, sizeof(actor));
		if (!rc)
			rc = ir_runbook_resume(&run, actor, &cli->ctx);
	} else if (!rc) {
		rc = ir_rec_open(rec, o->kind, cli_incident_data(cli, o),
				 &cli->ctx);
	}
	if (!rc)
		rc = ir_runbook_execute(&run, &cli->ctx);
	pl->id = ir_rec_id(rec);
	snprintf(pl->from, sizeof(pl->from), "%s", ir_rec_state(rec)->from);
	snprintf(pl->to, sizeof(pl->to), "%s", ir_rec_state(rec)->target);
	ir_rec_free(rec);
	return rc;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The configuration's details of each step, beside what the plan did. */
static void
add_config(struct cli *cli, const struct run_opts *o, uint64_t id, json_t *s,
	   enum ir_step step)
{
	const struct ir_config *cfg = cli->cfg;
	json_t *paths;
	size_t i;

	switch (step) {
	case IR_STEP_STOP:
		json_object_set_new(s, "match", json_string(cfg->stop_process));
		if (!json_object_get(s, "command"))
			json_object_set_new(s, "command",
					    str_or_null(cfg->stop_command));
		json_object_set_new(s, "escalate",
				    str_or_null(cfg->stop_escalate));
		json_object_set_new(
			s, "budget_ms",
			json_integer((json_int_t)(strcmp(o->kind, "deploy")
							  ? cfg->stop_budget_ms
							  : cfg->deploy_stop_budget_ms)));
		if (!json_object_get(s, "processes"))
			json_object_set_new(s, "processes", json_integer(0));
		break;
	case IR_STEP_BACKUP:
		paths = json_array();
		for (i = 0; i < cfg->n_backup_paths; i++)
			json_array_append_new(paths,
					      json_string(cfg->backup_paths[i]));
		json_object_set_new(s, "paths", paths);
		json_object_set_new(s, "database_dump",
				    json_boolean(cfg->database_dump != NULL));
		json_object_set_new(s, "into", json_sprintf("%s/archives/",
							    cli->data_dir));
		break;
	case IR_STEP_CHECKOUT:
		json_object_set_new(s, "force", json_boolean(o->force));
		break;
	case IR_STEP_CONFIG:
		json_object_set_new(s, "path", json_string(cfg->config_dir));
		/* A folder is diffed; an archive is extracted whole. */
		json_object_set_new(
			s, "archive",
			json_boolean(json_is_true(json_object_get(s, "run")) &&
				     !json_object_get(s, "changes")));
		if (!json_object_get(s, "changes"))
			json_object_set_new(s, "changes", json_array());
		if (!json_object_get(s, "changes_total"))
			json_object_set_new(s, "changes_total",
					    json_integer(0));
		break;
	case IR_STEP_DATABASE:
		json_object_set_new(
			s, "command",
			str_or_null(json_is_true(json_object_get(s, "run"))
					    ? cfg->database_restore
					    : NULL));
		break;
	case IR_STEP_START:
		json_object_set_new(s, "command",
				    str_or_null(cfg->start_command));
		json_object_set_new(s, "budget_ms",
				    json_integer(
					    (json_int_t)cfg->start_budget_ms));
		break;
	case IR_STEP_HEALTH:
		json_object_set_new(s, "url", str_or_null(cfg->health_url));
		json_object_set_new(s, "expect_status",
				    json_integer(cfg->health_expect_status));
		json_object_set_new(s, "expect_body",
				    str_or_null(cfg->health_expect_body));
		break;
	case IR_STEP_VERIFY:
		json_object_set_new(s, "log", str_or_null(cfg->verify_log));
		json_object_set_new(s, "lines",
				    json_integer(cfg->verify_lines));
		break;
	case IR_STEP_REPORT:
		json_object_set_new(s, "path",
				    json_sprintf("%s/reports/INC-%llu.md",
						 cli->data_dir,
						 (unsigned long long)id));
		break;
	default:
		break;
	}
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static void
print_list(const json_t *arr, const char *mark, size_t max)
{
	size_t i;

	for (i = 0; i < json_array_size(arr) && i < max; i++)
		printf("    %s%s\n", mark,
		       json_string_value(json_array_get(arr, i)));
	if (json_array_size(arr) > max)
		printf("    ... and %zu more\n", json_array_size(arr) - max);
}

static void
print_checkout(const struct cli_preflight *p, const struct run_opts *o,
	       const json_t *s)
{
	const struct ir_target *t = &p->t;
	size_t i;

	printf("%.7s -> %.7s): %s", t->from_commit, t->to_commit, t->why);
	if (t->note[0])
		printf("\n             note: %s", t->note);
	for (i = 0; t->skipped && i < t->skipped->as.arr.len; i++) {
		const struct ir_val *m = &t->skipped->as.arr.items[i];

		printf("\n             skipped %s: %s", ir_val_get_str(m, "tag"),
		       ir_val_get_str(m, "why"));
	}
	if (p->n_conflicts)
		printf("\n             local changes in the way (%s): %zu",
		       o->force ? "--force overwrites them after the backup"
				: "the rollback refuses",
		       p->n_conflicts);
}

/* One step of the plan as text: what it would do, as the planned run
 * did it. */
static void
print_step(struct cli *cli, const struct run_opts *o,
	   const struct cli_preflight *p, unsigned n, const json_t *s)
{
	const struct ir_config *cfg = cli->cfg;
	const char *name = jstr(s, "step"), *outcome = jstr(s, "outcome");
	bool run = json_is_true(json_object_get(s, "run"));
	enum ir_step step = ir_step_from_name(name);

	printf("%u. %-9s ", n, name);
	if (json_object_get(s, "question"))
		printf("%s %s (%s)%s", jstr(s, "question"), jstr(s, "answer"),
		       jstr(s, "because"), run ? "\n             " : "");
	switch (step) {
	case IR_STEP_STOP:
		if (run)
			printf("would run: %s (budget %llus), escalate: %s",
			       jstr(s, "command"),
			       (unsigned long long)json_integer_value(
				       json_object_get(s, "budget_ms")) /
				       1000,
			       cfg->stop_escalate);
		break;
	case IR_STEP_MIGRATE:
		if (run)
			printf("would run: %s", jstr(s, "command"));
		break;
	case IR_STEP_SOAK:
		if (run) {
			char every[32], soak[32];

			ir_duration_format(every, sizeof(every),
					   cfg->deploy_soak_interval_ms);
			ir_duration_format(soak, sizeof(soak),
					   cfg->deploy_soak_ms);
			printf("GET %s every %s for %s", cfg->health_url,
			       every, soak);
		}
		break;
	case IR_STEP_BACKUP:
		if (!run)
			break;
		printf("would archive:");
		for (size_t i = 0; i < cfg->n_backup_paths; i++)
			printf(" %s", cfg->backup_paths[i]);
		printf(" + git state%s into %s",
		       cfg->database_dump ? " + database dump" : "",
		       jstr(s, "archive_path"));
		break;
	case IR_STEP_CHECKOUT:
		printf("%s -> %s (", p->t.from[0] ? p->t.from : "HEAD",
		       p->t.to);
		print_checkout(p, o, s);
		break;
	case IR_STEP_CONFIG:
		if (!run)
			break;
		printf("%s from %s; ", cfg->config_dir, jstr(s, "source"));
		if (json_is_true(json_object_get(s, "archive")))
			printf("(an archive: extracted over %s)",
			       cfg->config_dir);
		else if (!json_array_size(json_object_get(s, "changes")))
			printf("changes: none (already identical)");
		else
			printf("changes:");
		break;
	case IR_STEP_DATABASE:
	case IR_STEP_START:
		if (run)
			printf("would run: %s", jstr(s, "command"));
		if (run && step == IR_STEP_START)
			printf(" (budget %llus)",
			       (unsigned long long)cfg->start_budget_ms / 1000);
		break;
	case IR_STEP_HEALTH:
		printf("GET %s until %ld%s%s%s", cfg->health_url,
		       cfg->health_expect_status,
		       cfg->health_expect_body ? " and body contains \"" : "",
		       cfg->health_expect_body ? cfg->health_expect_body : "",
		       cfg->health_expect_body ? "\"" : "");
		break;
	case IR_STEP_VERIFY:
		printf("HEAD, last %u lines of %s, one more GET",
		       cfg->verify_lines, cfg->verify_log);
		break;
	case IR_STEP_REPORT:
		printf("%s", jstr(s, "path"));
		break;
	default:
		break;
	}
	if (!strcmp(outcome, "skipped") && json_object_get(s, "question"))
		printf(": skipped");
	else if (!strcmp(outcome, "skipped"))
		printf("skipped: %s%s%s%s", jstr(s, "why"),
		       jstr(s, "source")[0] ? " (" : "", jstr(s, "source"),
		       jstr(s, "source")[0] ? ")" : "");
	else if (!strcmp(outcome, "not reached"))
		/* After what the step would do, where it says so. */
		printf("%snot reached",
		       run || step == IR_STEP_CHECKOUT ||
				       step == IR_STEP_HEALTH ||
				       step == IR_STEP_VERIFY ||
				       step == IR_STEP_REPORT
			       ? "; "
			       : "");
	printf("\n");
	if (step == IR_STEP_CONFIG)
		print_list(json_object_get(s, "changes"), "", 50);
	if (step == IR_STEP_CHECKOUT)
		print_list(json_object_get(s, "conflicts"), "! ", 50);
	if (json_object_get(s, "missing"))
		print_list(json_object_get(s, "missing"), "missing: ", 50);
	if (!strcmp(outcome, "failed"))
		printf("             would fail: %s\n", jstr(s, "error"));
}

/* The plan, with nothing changed; exit 2 when the run would refuse. */
int
cli_dry_run(struct cli *cli, struct run_opts *o, uint64_t open_id)
{
	struct plan pl = { .deleted = json_array() };
	json_t *j = json_object(), *steps = json_array(), *sk = json_array();
	json_t *cf = json_array();
	struct cli_preflight p;
	const enum ir_step *order;
	const char *c;
	size_t n, i;
	int rc;

	/* A resume, like the rollback's own, has no pre-flight: its target
	 * is the one the incident chose. */
	memset(&p, 0, sizeof(p));
	rc = open_id ? 0 : cli_preflight(cli, o, &p);
	if (!rc)
		rc = plan_run(cli, o, open_id, &pl);
	if (!rc && open_id) {
		snprintf(p.t.from, sizeof(p.t.from), "%s", pl.from);
		snprintf(p.t.to, sizeof(p.t.to), "%s", pl.to);
		snprintf(p.t.why, sizeof(p.t.why), "chosen by INC-%llu",
			 (unsigned long long)open_id);
	}
	if (rc) {
		cli_preflight_clear(&p);
		for (i = 0; i < IR_STEP__COUNT; i++)
			json_decref(pl.step[i]);
		json_decref(pl.deleted);
		json_decref(j);
		json_decref(steps);
		json_decref(sk);
		json_decref(cf);
		return cli_fail(cli, rc);
	}
	for (i = 0; p.t.skipped && i < p.t.skipped->as.arr.len; i++) {
		const struct ir_val *m = &p.t.skipped->as.arr.items[i];

		json_array_append_new(
			sk, json_pack("{s:s, s:s}", "tag",
				      ir_val_get_str(m, "tag"), "why",
				      ir_val_get_str(m, "why")));
	}
	c = p.conflicts.len ? (const char *)p.conflicts.data : "";
	while (*c) {
		const char *nl = strchr(c, '\n');
		size_t len = nl ? (size_t)(nl - c) : strlen(c);

		json_array_append_new(cf, json_stringn(c, len));
		c += len + (nl ? 1 : 0);
	}
	if (!cli->json) {
		printf("dry run: nothing will be changed\n\n");
		if (open_id)
			printf("would resume interrupted INC-%llu\n\n",
			       (unsigned long long)open_id);
	}
	order = ir_runbook_steps(o->kind, &n);
	for (i = 0; i < n; i++) {
		json_t *s = pl.step[order[i]];

		if (!s) {
			if (open_id)
				continue; /* done before the interrupt */
			s = json_pack("{s:s, s:b, s:s}", "step",
				      ir_step_name(order[i]), "run", 0,
				      "outcome", "not reached");
		} else {
			pl.step[order[i]] = NULL;
		}
		add_config(cli, o, pl.id, s, order[i]);
		if (order[i] == IR_STEP_CHECKOUT)
			json_object_set(s, "conflicts", cf);
		if (!cli->json)
			print_step(cli, o, &p, (unsigned)i + 1, s);
		json_array_append_new(steps, s);
	}
	if (!cli->json) {
		print_list(pl.deleted, "would delete (retention): ", 20);
		printf("\nthe planned run would end: %s\n",
		       pl.status[0] ? pl.status : "open");
		if (p.blocked[0])
			printf("\nwould refuse: %s\n", p.blocked);
	}
	json_object_set_new(j, "dry_run", json_true());
	json_object_set_new(j, "deploy_dir", json_string(cli->cfg->deploy_dir));
	json_object_set_new(j, "resume", open_id ? json_integer((json_int_t)open_id)
						 : json_null());
	json_object_set_new(j, "incident", json_integer((json_int_t)pl.id));
	json_object_set_new(j, "from", json_string(p.t.from));
	json_object_set_new(j, "from_commit", json_string(p.t.from_commit));
	json_object_set_new(j, "to", json_string(p.t.to));
	json_object_set_new(j, "to_commit", json_string(p.t.to_commit));
	json_object_set_new(j, "why", json_string(p.t.why));
	json_object_set_new(j, "note", json_string(p.t.note));
	json_object_set_new(j, "known_bad", json_boolean(p.t.known_bad));
	json_object_set_new(j, "skipped", sk);
	json_object_set_new(j, "conflicts", cf);
	json_object_set_new(j, "deleted", pl.deleted);
	json_object_set_new(j, "status", json_string(pl.status));
	json_object_set_new(j, "steps", steps);
	json_object_set_new(j, "blocked",
			    p.blocked[0] ? json_string(p.blocked) : json_null());
	if (cli->json)
		cli_print_json(j);
	else
		json_decref(j);
	if (p.blocked[0]) {
		cli_refuse(cli, p.blocked);
		cli_preflight_clear(&p);
		return IR_EXIT_USAGE;
	}
	cli_preflight_clear(&p);
	/* As the real run would end: a planned failure is exit 1. */
	return strcmp(pl.status, "failed") ? IR_EXIT_OK : IR_EXIT_FAILED;
}
