/* `incident fleet`: the operator's side (rollback, status, abort, report);
 * the agent that runs on each node is fleet_agent.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "fleet.h"
#include "gitops.h"

/* ---- rollback ---------------------------------------------------------- */

struct plan_opts {
	const char *tag, *fleet, *nodes, *waves, *reason, *unanswered;
	double max_unavailable, max_failures;
	uint64_t soak_ms, stop_budget_ms;
	bool no_wait;
};

static int
duration_opt(struct cli *cli, const char *name, const char *v, uint64_t *ms)
{
	if (ir_duration_parse(v, ms))
		return cli_usage(cli, "%s: \"%s\" is not a duration (500ms, "
				      "30s, 5m)",
				 name, v);
	return 0;
}

/* What an option of fleet rollback sets. */
static int
plan_option(struct cli *cli, struct plan_opts *o, const char *name,
	    const char *v)
{
	if (!strcmp(name, "--fleet"))
		o->fleet = v;
	else if (!strcmp(name, "--nodes"))
		o->nodes = v;
	else if (!strcmp(name, "--waves"))
		o->waves = v;
	else if (!strcmp(name, "--reason"))
		o->reason = v;
	else if (!strcmp(name, "--unanswered") && strcmp(v, "proceed") &&
		 strcmp(v, "abort"))
		return cli_usage(cli, "--unanswered: proceed (go on without a "
				      "node that did not answer the stop) or "
				      "abort");
	else if (!strcmp(name, "--unanswered"))
		o->unanswered = v;
	else if (!strcmp(name, "--soak"))
		return duration_opt(cli, name, v, &o->soak_ms);
	else if (!strcmp(name, "--stop-budget"))
		return duration_opt(cli, name, v, &o->stop_budget_ms);
	else if (!strcmp(name, "--max-unavailable") &&
		 (cli_number(v, &o->max_unavailable) || o->max_unavailable < 1))
		return cli_usage(cli, "--max-unavailable: a whole number, 1 "
				      "or more");
	else if (!strcmp(name, "--max-failures") &&
		 (cli_number(v, &o->max_failures) || o->max_failures < 0))
		return cli_usage(cli, "--max-failures: a whole number");
	return 0;
}

static int
parse_plan(struct cli *cli, struct plan_opts *o)
{
	static const char *const names[] = {
		"--fleet", "--nodes", "--waves", "--reason", "--soak",
		"--stop-budget", "--max-unavailable", "--max-failures",
		"--unanswered",
	};
	int i;

	for (i = 2; i < cli->argc; i++) {
		const char *v = NULL;
		size_t k;
		int r = 0;

		for (k = 0; !r && k < sizeof(names) / sizeof(*names); k++)
			r = cli_value(cli, &i, names[k], &v);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (r) {
			r = plan_option(cli, o, names[k - 1], v);
			if (r)
				return r;
		} else if (cli_flag(cli, &i, "--no-wait")) {
			o->no_wait = true;
		} else if (cli->argv[i][0] != '-' && !o->tag) {
			o->tag = cli->argv[i];
		} else {
			return cli_unexpected(cli, i);
		}
	}
	if (!o->tag || !o->fleet || !o->nodes)
		return cli_usage(cli, "fleet rollback needs TAG, --fleet F and "
				      "--nodes a,b,c");
	return 0;
}

/* The target commit every node's status must name: TAG in this host's
 * deploy.dir. */
static int
target_commit(struct cli *cli, const char *tag, char *out, size_t cap)
{
	char commit[IR_GIT_OID_HEX];
	struct ir_git *git = NULL;
	int rc = ir_git_open(&git, cli->cfg->deploy_dir, &cli->ctx);

	if (!rc)
		rc = ir_git_tag_commit(git, tag, commit, &cli->ctx);
	ir_git_close(git);
	if (!rc)
		snprintf(out, cap, "%s", commit);
	return rc;
}

static void
say_plan(struct cli *cli, const char *fleet, const struct ir_fleet_plan *p)
{
	char when[40];
	size_t i;

	cli_utc(when, sizeof(when), p->ts);
	fprintf(stderr, "fleet %s: plan %lld by %s at %s: roll back to %s "
			"(%.12s) in %u wave%s:",
		fleet, (long long)p->rev, p->by, when, p->tag, p->commit,
		p->n_waves, p->n_waves == 1 ? "" : "s");
	for (i = 0; i < p->n_nodes; i++)
		fprintf(stderr, "%s%s", i && p->wave_of[i] == p->wave_of[i - 1]
						? ","
						: " | ",
			p->node[i]);
	fprintf(stderr, "; max-unavailable %u, max-failures %u\n",
		p->max_unavailable, p->max_failures);
	(void)cli;
}

/* Follow the run until it is done: each change said once. */
static int
follow(struct cli *cli, struct ir_fleet *f, const char *fleet)
{
	unsigned last_wave = ~0u;
	bool said_abort = false, said_down = false;
	bool said_unknown[IR_FLEET_NODES] = { false };
	int64_t rev = 0;
	size_t i;

	for (;;) {
		struct ir_fleet_view v;
		struct ir_ctx ctx = { 0 };
		int rc = ir_fleet_read(f, &v, &rev, &ctx);

		if (rc) {
			if (!said_down)
				cli_say(cli, "fleet %s: %s (waiting)", fleet,
					ir_error_msg(&ctx, rc));
			said_down = true;
			usleep(500000);
			continue;
		}
		said_down = false;
		if (v.have_wave && v.wave != last_wave) {
			if (v.wave == 0)
				cli_say(cli, "fleet %s: phase 0: every node "
					     "stops trading",
					fleet);
			else
				cli_say(cli, "fleet %s: wave %u of %u", fleet,
					v.wave, v.plan.n_waves);
			last_wave = v.wave;
		}
		for (i = 0; i < v.plan.n_nodes; i++) {
			if (!v.node[i].unknown || said_unknown[i])
				continue;
			cli_say(cli, "fleet %s: %s counted unknown: %s", fleet,
				v.plan.node[i], v.node[i].unknown_why);
			said_unknown[i] = true;
		}
		if (v.aborted && !said_abort) {
			cli_say(cli, "fleet %s: aborted: %s", fleet,
				v.abort_why);
			said_abort = true;
		}
		if (v.done) {
			cli_say(cli, "fleet %s: %s", fleet, v.done_status);
			return strcmp(v.done_status, "succeeded")
				       ? IR_EXIT_FAILED
				       : IR_EXIT_OK;
		}
		rc = ir_fleet_wait(f, rev, 1000, &ctx);
		if (rc < 0)
			usleep(200000);
	}
}

static int
fleet_rollback(struct cli *cli)
{
	struct plan_opts o = { .max_unavailable = 1 };
	struct ir_fleet_plan p, other;
	struct ir_fleet *f = NULL;
	char why[300];
	bool won = false;
	int rc, code = parse_plan(cli, &o);

	if (code)
		return code;
	memset(&p, 0, sizeof(p));
	if (ir_fleet_plan_waves(&p, o.nodes, o.waves ? o.waves : "rest", why,
				sizeof(why)))
		return cli_usage(cli, "%s", why);
	rc = cli_fleet_open(cli, o.fleet, false, &f);
	if (!rc)
		rc = target_commit(cli, o.tag, p.commit, sizeof(p.commit));
	if (rc)
		goto out;
	snprintf(p.tag, sizeof(p.tag), "%s", o.tag);
	cli_actor(p.by, sizeof(p.by));
	p.ts = ir_clock_wall();
	p.max_unavailable = (unsigned)o.max_unavailable;
	p.max_failures = (unsigned)o.max_failures;
	p.soak_ms = o.soak_ms;
	p.stop_budget_ms = o.stop_budget_ms ? o.stop_budget_ms
					    : cli->cfg->stop_budget_ms;
	p.unanswered_abort = o.unanswered && !strcmp(o.unanswered, "abort");
	rc = ir_fleet_plan_create(f, &p, &won, &other, &cli->ctx);
	if (rc)
		goto out;
	if (!won) {
		char when[40];

		cli_utc(when, sizeof(when), other.ts);
		rc = ir_error_set(&cli->ctx, -EBUSY, IR_ORIGIN_LOCK, 0,
				  "fleet %s: refused: plan %lld by %s at %s "
				  "holds (roll back to %s); yours was not "
				  "written",
				  o.fleet, (long long)other.rev, other.by,
				  when, other.tag);
		goto out;
	}
	say_plan(cli, o.fleet, &p);
	if (cli->json) {
		json_t *j = json_object();

		json_object_set_new(j, "fleet", json_string(o.fleet));
		json_object_set_new(j, "plan", json_integer(p.rev));
		json_object_set_new(j, "tag", json_string(p.tag));
		json_object_set_new(j, "commit", json_string(p.commit));
		cli_print_json(j);
	}
	code = o.no_wait ? IR_EXIT_OK : follow(cli, f, o.fleet);
out:
	ir_fleet_close(f);
	return rc ? cli_fail(cli, rc) : code;
}

/* ---- status ------------------------------------------------------------ */

static const char *
node_state(const struct ir_fleet_view *v, size_t i)
{
	const struct ir_fleet_node_view *x = &v->node[i];

	if (x->unknown)
		return "unknown";
	if (x->reported)
		return x->status;
	if (x->in_slot)
		return "rolling back";
	if (x->stopped)
		return "stopped";
	return "waiting";
}

static json_t *
status_json(struct ir_fleet *f, const char *fleet,
	    const struct ir_fleet_view *v)
{
	json_t *j = json_object(), *nodes = json_array();
	size_t i;

	json_object_set_new(j, "fleet", json_string(fleet));
	json_object_set_new(j, "plan", json_integer(v->plan.rev));
	json_object_set_new(j, "tag", json_string(v->plan.tag));
	json_object_set_new(j, "commit", json_string(v->plan.commit));
	json_object_set_new(j, "by", json_string(v->plan.by));
	json_object_set_new(j, "wave", json_integer(v->wave));
	json_object_set_new(j, "waves", json_integer(v->plan.n_waves));
	json_object_set_new(j, "leader", json_string(v->leader));
	json_object_set_new(j, "in_flight", json_integer(v->slots_used));
	json_object_set_new(j, "max_unavailable",
			    json_integer(v->plan.max_unavailable));
	json_object_set_new(j, "unanswered",
			    json_string(ir_fleet_unanswered(&v->plan)));
	json_object_set_new(j, "failures", json_integer(ir_fleet_failures(v)));
	json_object_set_new(j, "aborted", json_boolean(v->aborted));
	if (v->aborted)
		json_object_set_new(j, "abort", json_string(v->abort_why));
	json_object_set_new(j, "done", v->done ? json_string(v->done_status)
					       : json_null());
	for (i = 0; i < v->plan.n_nodes; i++) {
		const struct ir_fleet_node_view *x = &v->node[i];
		json_t *n = json_object();

		json_object_set_new(n, "node", json_string(v->plan.node[i]));
		json_object_set_new(n, "wave",
				    json_integer(v->plan.wave_of[i]));
		json_object_set_new(n, "state",
				    json_string(node_state(v, i)));
		json_object_set_new(n, "alive", json_boolean(x->alive));
		json_object_set_new(n, "stale_status", json_boolean(x->stale));
		if (x->reported)
			json_object_set_new(n, "inc",
					    json_integer((json_int_t)x->inc));
		if (x->unknown)
			json_object_set_new(n, "why",
					    json_string(x->unknown_why));
		if (x->decided)
			json_object_set_new(n, "decision",
					    cli_fleet_decision_json(v, i));
		cli_fleet_head_json(f, v->plan.node[i], n);
		json_array_append_new(nodes, n);
	}
	json_object_set_new(j, "nodes", nodes);
	return j;
}

static void
print_status(const char *fleet, const struct ir_fleet_view *v)
{
	size_t i;

	printf("fleet %s: plan %lld by %s: roll back to %s (%.12s)\n", fleet,
	       (long long)v->plan.rev, v->plan.by, v->plan.tag, v->plan.commit);
	printf("wave %u of %u%s; leader %s; in flight %u of %u; failures "
	       "%u of %u allowed%s%s\n",
	       v->wave, v->plan.n_waves, v->wave == 0 ? " (phase 0: stop)" : "",
	       v->leader[0] ? v->leader : "(none)", v->slots_used,
	       v->plan.max_unavailable, ir_fleet_failures(v),
	       v->plan.max_failures, v->aborted ? "; ABORTED: " : "",
	       v->aborted ? v->abort_why : "");
	if (v->done)
		printf("done: %s\n", v->done_status);
	for (i = 0; i < v->plan.n_nodes; i++)
		printf("  %-16s wave %-2u %-13s%s%s%s\n", v->plan.node[i],
		       v->plan.wave_of[i], node_state(v, i),
		       v->node[i].alive ? "" : " (no heartbeat)",
		       v->node[i].stale ? " (a stale status of another plan)"
					: "",
		       v->node[i].unknown ? v->node[i].unknown_why : "");
}

/* One snapshot: a JSON object (a line of its own under --watch), or the
 * text, redrawn in place on a terminal. */
static void
show_status(struct cli *cli, struct ir_fleet *f, const char *fleet,
	    const struct ir_fleet_view *v, bool watch, int64_t rev)
{
	if (cli->json) {
		json_t *j = status_json(f, fleet, v);

		if (!watch) {
			cli_print_json(j);
			return;
		}
		json_object_set_new(j, "revision", json_integer(rev));
		json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		if (watch && cli->tty_out)
			fputs("\033[H\033[2J", stdout);
		else if (watch)
			printf("--- revision %lld\n", (long long)rev);
		print_status(fleet, v);
	}
	fflush(stdout);
}

/* --watch: a range, then a watch from its revision; each change shown
 * once, until the run is done or Ctrl-C. */
static int
fleet_status(struct cli *cli)
{
	struct ir_fleet_view v;
	struct ir_fleet *f = NULL;
	const char *fleet = NULL;
	bool watch = false, said_down = false;
	int64_t rev = 0;
	int i, rc;

	for (i = 2; i < cli->argc; i++) {
		if (cli_flag(cli, &i, "--watch"))
			watch = true;
		else if (!fleet && cli->argv[i][0] != '-')
			fleet = cli->argv[i];
		else
			return cli_usage(cli, "fleet status takes one fleet "
					      "name and --watch");
	}
	if (!fleet)
		return cli_usage(cli, "fleet status takes one fleet name");
	rc = cli_fleet_open(cli, fleet, false, &f);
	if (!rc)
		rc = ir_fleet_read(f, &v, &rev, &cli->ctx);
	if (!rc && !v.have_plan)
		rc = ir_error_set(&cli->ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
				  "fleet %s has no plan", fleet);
	if (rc)
		goto out;
	show_status(cli, f, fleet, &v, watch, rev);
	if (watch)
		cli_interrupt_arm(false);
	while (watch && !v.done) {
		struct ir_ctx ctx = { 0 };
		int64_t was = rev;
		bool ignored;

		if (cli_interrupted(NULL, &ignored))
			break;
		if (ir_fleet_wait(f, rev, 500, &ctx) < 0)
			usleep(200000);
		rc = ir_fleet_read(f, &v, &rev, &ctx);
		if (rc) {
			/* etcd away: say so once, keep watching. */
			if (!said_down)
				cli_say(cli, "fleet %s: %s (waiting)", fleet,
					ir_error_msg(&ctx, rc));
			said_down = true;
			rc = 0;
			rev = was;
			continue;
		}
		said_down = false;
		if (rev != was)
			show_status(cli, f, fleet, &v, watch, rev);
	}
	if (watch)
		cli_interrupt_disarm();
out:
	ir_fleet_close(f);
	return rc ? cli_fail(cli, rc) : IR_EXIT_OK;
}

/* ---- abort ------------------------------------------------------------- */

static int
fleet_abort(struct cli *cli)
{
	const char *fleet = cli->argc > 2 ? cli->argv[2] : NULL;
	const char *reason = "aborted by the operator";
	struct ir_fleet *f = NULL;
	char by[300];
	bool first = false;
	int i, rc;

	if (!fleet)
		return cli_usage(cli, "fleet abort takes a fleet name");
	for (i = 3; i < cli->argc; i++) {
		int r = cli_value(cli, &i, "--reason", &reason);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
	}
	cli_actor(by, sizeof(by));
	rc = cli_fleet_open(cli, fleet, false, &f);
	if (!rc)
		rc = ir_fleet_abort(f, by, reason, ir_clock_wall(), &first,
				    &cli->ctx);
	ir_fleet_close(f);
	if (rc)
		return cli_fail(cli, rc);
	cli_say(cli, "fleet %s: %s; nodes not started will not start, nodes "
		     "in flight finish their step and hold",
		fleet, first ? "aborted" : "already aborted");
	return IR_EXIT_OK;
}

int
cmd_fleet(struct cli *cli)
{
	const char *sub = cli->argc > 1 ? cli->argv[1] : "";

	if (!strcmp(sub, "rollback"))
		return fleet_rollback(cli);
	if (!strcmp(sub, "status"))
		return fleet_status(cli);
	if (!strcmp(sub, "abort"))
		return fleet_abort(cli);
	if (!strcmp(sub, "report"))
		return cli_fleet_report(cli);
	if (!strcmp(sub, "agent"))
		return cli_fleet_agent(cli);
	return cli_usage(cli, "fleet takes rollback, agent, status, abort or "
			      "report");
}
