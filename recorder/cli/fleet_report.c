/*
 * `incident fleet report F`: one timeline of every node, from the digests
 * the agents mirrored into etcd (type, step, ts, SHA-256: no output line
 * ever leaves a node), ordered by time and host, with each node's
 * mirrored head and the clock skew the waves' order gives away: a node of
 * wave k took its slot after every node of wave k-1 reported (etcd orders
 * that), so its rollback cannot have opened before theirs closed unless
 * the clocks disagree.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fleet.h"

/* The first and last ts of node i's rollback incident among the digests. */
struct span {
	int64_t first, last;
	bool seen;
};

static int
by_time_then_host(const void *x, const void *y)
{
	const struct ir_fleet_digest *a = x, *b = y;
	int c;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	c = strcmp(a->node, b->node);
	if (c)
		return c;
	if (a->inc != b->inc)
		return a->inc < b->inc ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
spans(const struct ir_fleet_view *v, const struct ir_fleet_digests *d,
      struct span *out)
{
	size_t i, k;

	memset(out, 0, sizeof(*out) * v->plan.n_nodes);
	for (k = 0; k < d->n; k++) {
		int n = ir_fleet_plan_node(&v->plan, d->d[k].node);

		if (n < 0 || !v->node[n].inc || d->d[k].inc != v->node[n].inc)
			continue;
		i = (size_t)n;
		if (!out[i].seen || d->d[k].ts < out[i].first)
			out[i].first = d->d[k].ts;
		if (!out[i].seen || d->d[k].ts > out[i].last)
			out[i].last = d->d[k].ts;
		out[i].seen = true;
	}
}

/* The skew warnings, as text lines into w (a JSON array of strings). */
static void
skew(const struct ir_fleet_view *v, const struct span *s, json_t *w)
{
	const struct ir_fleet_plan *p = &v->plan;
	size_t i, j;

	for (i = 0; i < p->n_nodes; i++) {
		if (!s[i].seen || p->wave_of[i] < 2)
			continue;
		for (j = 0; j < p->n_nodes; j++) {
			char line[400];

			if (!s[j].seen || p->wave_of[j] != p->wave_of[i] - 1 ||
			    s[i].first >= s[j].last)
				continue;
			snprintf(line, sizeof(line),
				 "clock skew: %s (wave %u) opened its rollback "
				 "%lld ms before %s (wave %u) closed its own, "
				 "though it started after it: their clocks "
				 "differ by at least that",
				 p->node[i], p->wave_of[i],
				 (long long)((s[j].last - s[i].first) / 1000000),
				 p->node[j], p->wave_of[j]);
			json_array_append_new(w, json_string(line));
		}
	}
}

static json_t *
report_json(struct ir_fleet *f, const char *fleet,
	    const struct ir_fleet_view *v, const struct ir_fleet_digests *d)
{
	json_t *j = json_object(), *nodes = json_array(), *tl = json_array();
	json_t *warn = json_array();
	struct span s[IR_FLEET_NODES];
	size_t i;

	spans(v, d, s);
	skew(v, s, warn);
	json_object_set_new(j, "fleet", json_string(fleet));
	json_object_set_new(j, "plan", json_integer(v->plan.rev));
	json_object_set_new(j, "tag", json_string(v->plan.tag));
	json_object_set_new(j, "commit", json_string(v->plan.commit));
	json_object_set_new(j, "by", json_string(v->plan.by));
	json_object_set_new(j, "planned", json_integer(v->plan.ts));
	json_object_set_new(j, "status", v->done ? json_string(v->done_status)
						 : json_string("running"));
	if (v->aborted)
		json_object_set_new(j, "abort", json_string(v->abort_why));
	for (i = 0; i < v->plan.n_nodes; i++) {
		const struct ir_fleet_node_view *x = &v->node[i];
		json_t *n = json_object();

		json_object_set_new(n, "node", json_string(v->plan.node[i]));
		json_object_set_new(n, "wave",
				    json_integer(v->plan.wave_of[i]));
		json_object_set_new(n, "status",
				    json_string(x->unknown ? "unknown"
					       : x->reported ? x->status
							     : "none"));
		if (x->inc)
			json_object_set_new(n, "inc",
					    json_integer((json_int_t)x->inc));
		cli_fleet_head_json(f, v->plan.node[i], n);
		json_array_append_new(nodes, n);
	}
	for (i = 0; i < d->n; i++) {
		const struct ir_fleet_digest *x = &d->d[i];
		json_t *e = json_object();

		json_object_set_new(e, "ts", json_integer(x->ts));
		json_object_set_new(e, "node", json_string(x->node));
		json_object_set_new(e, "inc", json_integer((json_int_t)x->inc));
		json_object_set_new(e, "seq", json_integer((json_int_t)x->seq));
		json_object_set_new(e, "type", json_string(x->type));
		if (x->step[0])
			json_object_set_new(e, "step", json_string(x->step));
		json_object_set_new(e, "sha256", json_string(x->sha256));
		json_array_append_new(tl, e);
	}
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "warnings", warn);
	json_object_set_new(j, "timeline", tl);
	return j;
}

static void
report_md(FILE *out, const json_t *j)
{
	const json_t *x;
	int64_t t0 = json_integer_value(json_object_get(j, "planned"));
	size_t i;

	fprintf(out, "# Fleet %s, plan %lld\n\n",
		json_string_value(json_object_get(j, "fleet")),
		(long long)json_integer_value(json_object_get(j, "plan")));
	fprintf(out, "Roll back to **%s** (`%.12s`), planned by %s: **%s**.\n",
		json_string_value(json_object_get(j, "tag")),
		json_string_value(json_object_get(j, "commit")),
		json_string_value(json_object_get(j, "by")),
		json_string_value(json_object_get(j, "status")));
	if (json_object_get(j, "abort"))
		fprintf(out, "\nAborted: %s\n",
			json_string_value(json_object_get(j, "abort")));
	fprintf(out, "\n## Nodes\n\n| node | wave | status | incident | "
		     "mirrored head |\n| --- | --- | --- | --- | --- |\n");
	json_array_foreach (json_object_get(j, "nodes"), i, x) {
		const char *head = json_string_value(json_object_get(x, "head"));

		fprintf(out, "| %s | %lld | %s | INC-%lld | `%.16s` |\n",
			json_string_value(json_object_get(x, "node")),
			(long long)json_integer_value(json_object_get(x, "wave")),
			json_string_value(json_object_get(x, "status")),
			(long long)json_integer_value(json_object_get(x, "inc")),
			head ? head : "");
	}
	fprintf(out, "\n## Clocks\n\n");
	if (!json_array_size(json_object_get(j, "warnings")))
		fprintf(out, "No clock skew shows in the waves' order.\n");
	json_array_foreach (json_object_get(j, "warnings"), i, x)
		fprintf(out, "- %s\n", json_string_value(x));
	fprintf(out, "\n## Timeline\n\n| time | +s | node | event | type | "
		     "step |\n| --- | --- | --- | --- | --- | --- |\n");
	json_array_foreach (json_object_get(j, "timeline"), i, x) {
		int64_t ts = json_integer_value(json_object_get(x, "ts"));
		const char *step = json_string_value(json_object_get(x, "step"));
		char when[40];

		cli_utc(when, sizeof(when), ts);
		fprintf(out, "| %s | %.3f | %s | INC-%lld#%lld | %s | %s |\n",
			when, (double)(ts - t0) / 1e9,
			json_string_value(json_object_get(x, "node")),
			(long long)json_integer_value(json_object_get(x, "inc")),
			(long long)json_integer_value(json_object_get(x, "seq")),
			json_string_value(json_object_get(x, "type")),
			step ? step : "");
	}
}

int
cli_fleet_report(struct cli *cli)
{
	const char *fleet = cli->argc > 2 ? cli->argv[2] : NULL;
	const char *format = "md", *path = "-";
	struct ir_fleet_digests d = { 0 };
	struct cli_output o = { 0 };
	struct ir_fleet_view v;
	struct ir_fleet *f = NULL;
	json_t *j = NULL;
	int i, rc;

	if (!fleet || fleet[0] == '-')
		return cli_usage(cli, "fleet report takes a fleet name");
	for (i = 3; i < cli->argc; i++) {
		int r = cli_value(cli, &i, "--format", &format);

		if (!r)
			r = cli_value(cli, &i, "-o", &path);
		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
	}
	if (strcmp(format, "md") && strcmp(format, "json"))
		return cli_usage(cli, "--format is md or json");
	rc = cli_fleet_open(cli, fleet, false, &f);
	if (!rc)
		rc = ir_fleet_read(f, &v, NULL, &cli->ctx);
	if (!rc && !v.have_plan)
		rc = ir_error_set(&cli->ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
				  "fleet %s has no plan", fleet);
	if (!rc)
		rc = ir_fleet_digests_read(f, NULL, &d, &cli->ctx);
	if (rc)
		goto out;
	qsort(d.d, d.n, sizeof(*d.d), by_time_then_host);
	j = report_json(f, fleet, &v, &d);
	rc = cli_output_open(cli, &o, path);
	if (rc)
		goto out;
	if (!strcmp(format, "json"))
		json_dumpf(j, o.f, JSON_INDENT(2));
	else
		report_md(o.f, j);
	if (!strcmp(format, "json"))
		fputc('\n', o.f);
	rc = cli_output_close(cli, &o, 0);
out:
	json_decref(j);
	ir_fleet_digests_clear(&d);
	ir_fleet_close(f);
	return rc ? cli_fail(cli, rc) : IR_EXIT_OK;
}
