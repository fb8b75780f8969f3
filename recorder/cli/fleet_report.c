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
	json_t *warn = json_array(), *decisions = json_array();
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
		if (x->unknown)
			json_object_set_new(n, "why",
					    json_string(x->unknown_why));
		cli_fleet_head_json(f, v->plan.node[i], n);
		json_array_append_new(nodes, n);
		if (x->decided) {
			json_t *dj = cli_fleet_decision_json(v, i);

			json_object_set_new(dj, "node",
					    json_string(v->plan.node[i]));
			json_array_append_new(decisions, dj);
		}
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
	json_object_set_new(j, "decisions", decisions);
	json_object_set_new(j, "timeline", tl);
	return j;
}

/* The report's one body, written as Markdown or as a standalone HTML
 * page: the same headings, tables and words in both. */
struct fdoc {
	FILE *out;
	bool html;
};

/* Text as it stands in a cell or paragraph: HTML escaped, and in
 * Markdown a table's "|" kept from splitting the cell. */
static void
fd_text(const struct fdoc *d, const char *s)
{
	for (; s && *s; s++) {
		if (d->html && *s == '<')
			fputs("&lt;", d->out);
		else if (d->html && *s == '>')
			fputs("&gt;", d->out);
		else if (d->html && *s == '&')
			fputs("&amp;", d->out);
		else if (d->html && *s == '"')
			fputs("&quot;", d->out);
		else if (!d->html && *s == '|')
			fputs("\\|", d->out);
		else
			fputc(*s, d->out);
	}
}

static void
fd_heading(const struct fdoc *d, int level, const char *s)
{
	if (d->html) {
		fprintf(d->out, "<h%d>", level);
		fd_text(d, s);
		fprintf(d->out, "</h%d>\n", level);
	} else {
		fprintf(d->out, "\n%.*s ", level, "######");
		fd_text(d, s);
		fputs("\n\n", d->out);
	}
}

/* Emphasis (kind 'b') or code ('c') around s, inside a paragraph. */
static void
fd_mark(const struct fdoc *d, char kind, const char *s)
{
	fputs(d->html ? (kind == 'b' ? "<b>" : "<code>")
		      : (kind == 'b' ? "**" : "`"),
	      d->out);
	fd_text(d, s);
	fputs(d->html ? (kind == 'b' ? "</b>" : "</code>")
		      : (kind == 'b' ? "**" : "`"),
	      d->out);
}

static void
fd_row(const struct fdoc *d, const char *const *cell, size_t n, bool head)
{
	size_t i;

	fputs(d->html ? "<tr>" : "|", d->out);
	for (i = 0; i < n; i++) {
		fputs(d->html ? (head ? "<th>" : "<td>") : " ", d->out);
		fd_text(d, cell[i]);
		fputs(d->html ? (head ? "</th>" : "</td>") : " |", d->out);
	}
	fputs(d->html ? "</tr>\n" : "\n", d->out);
	if (head && !d->html) {
		fputc('|', d->out);
		for (i = 0; i < n; i++)
			fputs(" --- |", d->out);
		fputc('\n', d->out);
	}
}

static void
fd_table(const struct fdoc *d, bool open)
{
	if (d->html)
		fputs(open ? "<table>\n" : "</table>\n", d->out);
}

static const char *
jget(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void
report_doc(const struct fdoc *d, const json_t *j)
{
	static const char *const node_head[] = { "node", "wave", "status",
						 "incident", "mirrored head" };
	static const char *const tl_head[] = { "time", "+s", "node", "event",
					       "type", "step" };
	const json_t *x;
	int64_t t0 = json_integer_value(json_object_get(j, "planned"));
	char title[200], a[48], b[48], c[48];
	size_t i;

	snprintf(title, sizeof(title), "Fleet %s, plan %lld", jget(j, "fleet"),
		 (long long)json_integer_value(json_object_get(j, "plan")));
	if (d->html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		      "charset=\"utf-8\"/><title>",
		      d->out);
		fd_text(d, title);
		fputs("</title><style>body{font-family:sans-serif;margin:2em}"
		      "table{border-collapse:collapse}td,th{border:1px solid "
		      "#ccc;padding:2px 6px;text-align:left}</style></head>"
		      "<body>\n",
		      d->out);
		fd_heading(d, 1, title);
		fputs("<p>", d->out);
	} else {
		fprintf(d->out, "# ");
		fd_text(d, title);
		fputs("\n\n", d->out);
	}
	fputs("Roll back to ", d->out);
	fd_mark(d, 'b', jget(j, "tag"));
	snprintf(a, sizeof(a), "%.12s", jget(j, "commit"));
	fputs(" (", d->out);
	fd_mark(d, 'c', a);
	fputs("), planned by ", d->out);
	fd_text(d, jget(j, "by"));
	fputs(": ", d->out);
	fd_mark(d, 'b', jget(j, "status"));
	fputs(".", d->out);
	if (json_object_get(j, "abort")) {
		fputs(d->html ? "</p>\n<p>Aborted: " : "\n\nAborted: ", d->out);
		fd_text(d, jget(j, "abort"));
	}
	fputs(d->html ? "</p>\n" : "\n", d->out);
	fd_heading(d, 2, "Nodes");
	fd_table(d, true);
	fd_row(d, node_head, 5, true);
	json_array_foreach (json_object_get(j, "nodes"), i, x) {
		const char *cell[5];
		char head[20];

		snprintf(a, sizeof(a), "%lld",
			 (long long)json_integer_value(json_object_get(x, "wave")));
		if (json_integer_value(json_object_get(x, "inc")))
			snprintf(b, sizeof(b), "INC-%lld",
				 (long long)json_integer_value(
					 json_object_get(x, "inc")));
		else
			snprintf(b, sizeof(b), "-");
		snprintf(head, sizeof(head), "%.16s", jget(x, "head"));
		cell[0] = jget(x, "node");
		cell[1] = a;
		cell[2] = jget(x, "status");
		cell[3] = b;
		cell[4] = head;
		fd_row(d, cell, 5, false);
	}
	fd_table(d, false);
	if (json_array_size(json_object_get(j, "decisions"))) {
		static const char *const dhead[] = { "node", "question",
						     "answer", "decided by" };

		/* The operator's decisions the leader carried out. */
		fd_heading(d, 2, "Decisions");
		fd_table(d, true);
		fd_row(d, dhead, 4, true);
		json_array_foreach (json_object_get(j, "decisions"), i, x) {
			char by[400];
			const char *cell[4];

			snprintf(by, sizeof(by), "%s (%s)", jget(x, "by"),
				 jget(x, "rule"));
			cell[0] = jget(x, "node");
			cell[1] = jget(x, "question");
			cell[2] = jget(x, "answer");
			cell[3] = by;
			fd_row(d, cell, 4, false);
		}
		fd_table(d, false);
	}
	fd_heading(d, 2, "Clocks");
	if (!json_array_size(json_object_get(j, "warnings"))) {
		fputs(d->html ? "<p>" : "", d->out);
		fd_text(d, "No clock skew shows in the waves' order.");
		fputs(d->html ? "</p>\n" : "\n", d->out);
	}
	fputs(d->html && json_array_size(json_object_get(j, "warnings"))
		      ? "<ul>\n"
		      : "",
	      d->out);
	json_array_foreach (json_object_get(j, "warnings"), i, x) {
		fputs(d->html ? "<li>" : "- ", d->out);
		fd_text(d, json_string_value(x));
		fputs(d->html ? "</li>\n" : "\n", d->out);
	}
	fputs(d->html && json_array_size(json_object_get(j, "warnings"))
		      ? "</ul>\n"
		      : "",
	      d->out);
	fd_heading(d, 2, "Timeline");
	fd_table(d, true);
	fd_row(d, tl_head, 6, true);
	json_array_foreach (json_object_get(j, "timeline"), i, x) {
		int64_t ts = json_integer_value(json_object_get(x, "ts"));
		const char *cell[6];
		char when[40];

		cli_utc(when, sizeof(when), ts);
		snprintf(a, sizeof(a), "%.3f", (double)(ts - t0) / 1e9);
		snprintf(b, sizeof(b), "INC-%lld#%lld",
			 (long long)json_integer_value(json_object_get(x, "inc")),
			 (long long)json_integer_value(json_object_get(x, "seq")));
		snprintf(c, sizeof(c), "%s", jget(x, "step"));
		cell[0] = when;
		cell[1] = a;
		cell[2] = jget(x, "node");
		cell[3] = b;
		cell[4] = jget(x, "type");
		cell[5] = c;
		fd_row(d, cell, 6, false);
	}
	fd_table(d, false);
	if (d->html)
		fputs("</body></html>\n", d->out);
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
	if (strcmp(format, "md") && strcmp(format, "json") &&
	    strcmp(format, "html"))
		return cli_usage(cli, "--format is md, html or json");
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
	if (!strcmp(format, "json")) {
		json_dumpf(j, o.f, JSON_INDENT(2));
		fputc('\n', o.f);
	} else {
		struct fdoc doc = { o.f, !strcmp(format, "html") };

		report_doc(&doc, j);
	}
	rc = cli_output_close(cli, &o, 0);
out:
	json_decref(j);
	ir_fleet_digests_clear(&d);
	ir_fleet_close(f);
	return rc ? cli_fail(cli, rc) : IR_EXIT_OK;
}
