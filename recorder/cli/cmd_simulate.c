/* simulate INC|--all: today's planner and rules against recordings. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simulate.h"

struct sim_walk {
	struct cli *cli;
	const struct ir_sim_opts *opts;
	json_t *arr;
	int worst; /* 0 same, 1 diverged, 2 unreplayable */
	unsigned same, diverged, unreplayable, skipped;
	int rc;
};

static json_t *
action_json(const struct ir_sim_action *a)
{
	return json_pack("{s:s, s:s, s:s}", "action", a->action, "step",
			 a->step, "detail", a->detail);
}

static json_t *
seqs_json(const uint64_t *seqs, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_integer((json_int_t)seqs[i]));
	return arr;
}

static const char *
verdict(const struct ir_sim_result *r)
{
	return r->unreplayable ? "unreplayable"
	       : r->n_div     ? "diverged"
			      : "same";
}

static json_t *
result_json(const struct ir_sim_result *r)
{
	json_t *j = json_object(), *divs = json_array();
	size_t i;

	json_object_set_new(j, "incident", json_integer((json_int_t)r->id));
	json_object_set_new(j, "kind", json_string(r->kind));
	json_object_set_new(j, "result", json_string(verdict(r)));
	json_object_set_new(j, "events", json_integer((json_int_t)r->events));
	json_object_set_new(j, "compared",
			    json_integer((json_int_t)r->compared));
	json_object_set_new(j, "commands", json_boolean(r->commands));
	if (!r->commands)
		json_object_set_new(j, "commands_why",
				    json_string(r->commands_why));
	for (i = 0; i < r->n_div; i++) {
		const struct ir_sim_divergence *d = &r->div[i];
		json_t *o = json_object();

		json_object_set_new(o, "kind",
				    json_string(ir_sim_kind_name(d->kind)));
		json_object_set_new(o, "seq", json_integer((json_int_t)d->seq));
		json_object_set_new(o, "step", json_string(d->step));
		json_object_set_new(o, "offset_ms",
				    json_integer((json_int_t)(d->mono /
							      1000000)));
		if (d->kind == IR_SIM_UNREPLAYABLE) {
			json_object_set_new(o, "why", json_string(d->why));
		} else {
			json_object_set_new(o, "recorded",
					    action_json(&d->recorded));
			json_object_set_new(o, "actual",
					    action_json(&d->actual));
		}
		json_object_set_new(o, "inputs",
				    seqs_json(d->inputs, d->n_inputs));
		json_object_set_new(o, "before",
				    seqs_json(d->before, d->n_before));
		json_array_append_new(divs, o);
	}
	json_object_set_new(j, "divergences", divs);
	return j;
}

static void
print_action(const char *label, const struct ir_sim_action *a)
{
	printf("  %-9s %s%s%s%s%s\n", label, a->action, a->step[0] ? " " : "",
	       a->step, a->detail[0] ? ": " : "", a->detail);
}

static void
print_seqs(const char *label, const uint64_t *seqs, size_t n)
{
	size_t i;

	if (!n)
		return;
	printf("  %-9s", label);
	for (i = 0; i < n; i++)
		printf(" seq %llu", (unsigned long long)seqs[i]);
	printf("\n");
}

static void
result_text(const struct ir_sim_result *r)
{
	size_t i;

	if (!r->n_div) {
		printf("INC-%llu %s: the same as today's runbook (%zu actions "
		       "compared over %zu events; commands %s%s)\n",
		       (unsigned long long)r->id, r->kind, r->compared,
		       r->events, r->commands ? "compared" : "not compared: ",
		       r->commands ? "" : r->commands_why);
		return;
	}
	for (i = 0; i < r->n_div; i++) {
		const struct ir_sim_divergence *d = &r->div[i];
		unsigned long long ms = d->mono / 1000000;

		printf("INC-%llu %s: %s at seq %llu%s%s (+%02llu:%02llu.%03llu)"
		       ": %s\n",
		       (unsigned long long)r->id, r->kind,
		       d->kind == IR_SIM_UNREPLAYABLE ? "unreplayable"
						      : "diverged",
		       (unsigned long long)d->seq, d->step[0] ? ", step " : "",
		       d->step, ms / 60000, ms / 1000 % 60, ms % 1000,
		       ir_sim_kind_name(d->kind));
		if (d->kind == IR_SIM_UNREPLAYABLE) {
			printf("  %s\n", d->why);
		} else {
			print_action("recorded:", &d->recorded);
			print_action("today:", &d->actual);
		}
		print_seqs("read:", d->inputs, d->n_inputs);
		print_seqs("after:", d->before, d->n_before);
	}
}

static int
simulate_one(struct sim_walk *w, uint64_t id)
{
	struct ir_sim_result r;
	int rc, code;

	rc = ir_simulate(w->cli->log, id, w->opts, &r, &w->cli->ctx);
	if (rc)
		return rc;
	code = r.unreplayable ? 2 : r.n_div ? 1 : 0;
	if (code > w->worst)
		w->worst = code;
	if (code == 0)
		w->same++;
	else if (code == 1)
		w->diverged++;
	else
		w->unreplayable++;
	if (w->arr)
		json_array_append_new(w->arr, result_json(&r));
	else
		result_text(&r);
	ir_sim_result_clear(&r);
	return 0;
}

static int
each(void *payload, const struct ir_incident *inc)
{
	struct sim_walk *w = payload;

	/* A mark carries out no runbook; an open incident is still being
	 * written. */
	if (!ir_sim_kind_has_runbook(inc->kind) ||
	    !strcmp(inc->status, "open")) {
		w->skipped++;
		return 0;
	}
	w->rc = simulate_one(w, inc->id);
	return w->rc ? 1 : 0;
}

int
cmd_simulate(struct cli *cli)
{
	struct ir_sim_opts opts = { 0 };
	struct sim_walk w = { .cli = cli, .opts = &opts };
	const char *inc = NULL;
	bool all = false;
	uint64_t id = 0;
	int i, rc;

	for (i = 1; i < cli->argc; i++) {
		const char *v;
		int r = cli_value(cli, &i, "--until", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r) {
			char *end;

			opts.until = strtoull(v, &end, 10);
			if (!v[0] || *end || !opts.until)
				return cli_usage(cli, "--until takes a seq, "
						      "like 12");
		} else if (cli_flag(cli, &i, "--all")) {
			all = true;
		} else if (cli_flag(cli, &i, "--keep-going")) {
			opts.keep_going = true;
		} else if (!inc && cli->argv[i][0] != '-') {
			inc = cli->argv[i];
		} else {
			return cli_unexpected(cli, i);
		}
	}
	if (all == (inc != NULL))
		return cli_usage(cli, "simulate needs one incident (INC-7, 7 "
				      "or last) or --all");
	rc = cli_open_log(cli);
	if (!rc && inc)
		rc = cli_incident_arg(cli, inc, &id);
	if (rc)
		return cli_fail(cli, rc);
	opts.cfg = cli->cfg;
	if (cli->json)
		w.arr = json_array();
	if (inc) {
		rc = simulate_one(&w, id);
	} else {
		rc = ir_evlog_incidents(cli->log, each, &w, &cli->ctx);
		if (!rc)
			rc = w.rc;
	}
	if (rc) {
		json_decref(w.arr);
		return cli_fail(cli, rc);
	}
	if (w.arr && inc)
		cli_print_json(json_incref(json_array_get(w.arr, 0)));
	if (w.arr) {
		if (!inc)
			cli_print_json(json_incref(w.arr));
		json_decref(w.arr);
	} else if (all) {
		printf("%u the same, %u diverged, %u unreplayable; %u "
		       "skipped (open, or no runbook)\n",
		       w.same, w.diverged, w.unreplayable, w.skipped);
	}
	return w.worst;
}
