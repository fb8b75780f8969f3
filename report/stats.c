/* `incident stats`: what the recorded incidents say together. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "ir_limits.h"
#include "rjson.h"

#define NAMES 16
#define STEPS 32
#define TOP_OVER 5

/* A bounded sample for medians: the first IR_LIMIT_REPORT_SAMPLES values
 * (incidents are walked newest first, so the newest). */
struct sample {
	int64_t *v;
	size_t n, cap;
};

struct count {
	char name[16];
	uint64_t n;
};

struct step_stats {
	char name[16];
	struct sample dur;
	int64_t budget_ms; /* the newest recorded budget, -1 none */
	uint64_t runs, over, failed, skipped;
};

struct stats {
	uint64_t incidents, unreadable;
	uint64_t drills; /* left out: training, not incidents */
	struct count kinds[NAMES], statuses[NAMES];
	uint64_t other_kinds, other_statuses;
	struct sample rollback;
	uint64_t rollback_over;
	struct sample to_stopped, to_rolled_back, to_healthy;
	struct step_stats steps[STEPS];
	size_t nsteps;
	uint64_t other_steps;
};

static const char *const runbook_steps[] = {
	"stop",	  "backup", "checkout", "config", "database",
	"start",  "health", "verify",	"report",
};

static int
sample_add(struct sample *s, int64_t v)
{
	if (s->n >= IR_LIMIT_REPORT_SAMPLES)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		int64_t *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static void
count_name(struct count *c, uint64_t *other, const char *name)
{
	size_t i;

	for (i = 0; i < NAMES && c[i].name[0]; i++)
		if (!strcmp(c[i].name, name)) {
			c[i].n++;
			return;
		}
	if (i == NAMES || !name[0]) {
		(*other)++;
		return;
	}
	snprintf(c[i].name, sizeof(c[i].name), "%s", name);
	c[i].n = 1;
}

static struct step_stats *
step_of(struct stats *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nsteps; i++)
		if (!strcmp(st->steps[i].name, name))
			return &st->steps[i];
	if (st->nsteps == STEPS) {
		st->other_steps++;
		return NULL;
	}
	snprintf(st->steps[i].name, sizeof(st->steps[i].name), "%s", name);
	st->steps[i].budget_ms = -1;
	st->nsteps++;
	return &st->steps[i];
}

static int
add_incident(struct stats *st, const struct ir_rpt_model *m)
{
	size_t i;
	int rc = 0;

	count_name(st->kinds, &st->other_kinds, m->kind);
	count_name(st->statuses, &st->other_statuses, m->status);
	if (!strcmp(m->kind, "rollback") && !strcmp(m->status, "succeeded")) {
		rc = sample_add(&st->rollback, ir_rpt_model_duration(m));
		if (ir_rpt_model_duration(m) > m->budget_ms)
			st->rollback_over++;
	}
	if (!rc && m->stopped.seq)
		rc = sample_add(&st->to_stopped, m->stopped.ms);
	if (!rc && m->rolled_back.seq)
		rc = sample_add(&st->to_rolled_back, m->rolled_back.ms);
	if (!rc && m->healthy.seq)
		rc = sample_add(&st->to_healthy, m->healthy.ms);
	for (i = 0; !rc && i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);
		struct step_stats *x = step_of(st, s->name);

		if (!x)
			continue;
		x->runs++;
		if (s->budget_ms >= 0 && x->budget_ms < 0)
			x->budget_ms = s->budget_ms;
		if (s->over_budget)
			x->over++;
		if (s->status == IR_RPT_FAILED)
			x->failed++;
		if (s->status == IR_RPT_SKIPPED)
			x->skipped++;
		if ((s->status == IR_RPT_COMPLETED ||
		     s->status == IR_RPT_FAILED) &&
		    s->duration_ms >= 0)
			rc = sample_add(&x->dur, s->duration_ms);
	}
	return rc;
}

struct ids {
	uint64_t *v;
	size_t n, cap;
	uint64_t drills;
};

static int
collect(void *payload, const struct ir_incident *inc)
{
	struct ids *ids = payload;

	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		uint64_t *p = realloc(ids->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ids->v = p;
		ids->cap = cap;
	}
	ids->v[ids->n++] = inc->id;
	return 0;
}

/* Scan each incident after the walk: LMDB allows one read transaction per
 * thread, and the walk holds one. */
static int
gather(struct stats *st, struct ir_evlog *log, struct ir_ctx *ctx)
{
	struct ids ids = { NULL, 0, 0, 0 };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(runbook_steps) / sizeof(runbook_steps[0]); i++)
		(void)step_of(st, runbook_steps[i]);
	rc = ir_evlog_incidents(log, collect, &ids, ctx);
	for (i = 0; !rc && i < ids.n; i++) {
		struct ir_rpt_model m;

		rc = ir_rpt_model_build_summary(&m, log, ids.v[i], ctx);
		if (rc == -EBADMSG) {
			/* One damaged incident must not hide the rest:
			 * counted, and `incident verify` names it. */
			st->unreadable++;
			ir_error_clear(ctx);
			rc = 0;
		} else if (!rc && !strcmp(m.kind, "drill")) {
			/* A drill is training: it stays out of every figure.
			 * Its kind is its incident.opened's (the model's),
			 * never the header's alone. */
			ids.drills++;
		} else if (!rc) {
			st->incidents++;
			rc = add_incident(st, &m);
		}
		ir_rpt_model_clear(&m);
	}
	free(ids.v);
	st->drills = ids.drills;
	if (rc == -ENOMEM)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0,
				    "out of memory for the statistics");
	return rc;
}

static void
stats_clear(struct stats *st)
{
	size_t i;

	free(st->rollback.v);
	free(st->to_stopped.v);
	free(st->to_rolled_back.v);
	free(st->to_healthy.v);
	for (i = 0; i < st->nsteps; i++)
		free(st->steps[i].dur.v);
}

static int64_t
pct(struct sample *s, unsigned p)
{
	return ir_rpt_percentile(s->v, s->n, p);
}

/* Steps most often over budget, worst first (ties in runbook order). */
static size_t
worst(const struct stats *st, size_t out[TOP_OVER])
{
	size_t idx[STEPS], i, j, n = 0;

	for (i = 0; i < st->nsteps; i++) {
		if (!st->steps[i].over)
			continue;
		for (j = n; j > 0 && st->steps[idx[j - 1]].over <
					     st->steps[i].over;
		     j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
		n++;
	}
	for (i = 0; i < n && i < TOP_OVER; i++)
		out[i] = idx[i];
	return i;
}

static int
cmp_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Most frequent first, ties by name. */
static void
counts_text(FILE *out, const char *label, const struct count *c,
	    uint64_t other)
{
	struct count sorted[NAMES];
	size_t i, n = 0;

	while (n < NAMES && c[n].name[0])
		n++;
	memcpy(sorted, c, n * sizeof(*c));
	qsort(sorted, n, sizeof(*sorted), cmp_count);
	fprintf(out, "%-12s", label);
	for (i = 0; i < n; i++)
		ir_rpt_printf(out, IR_RPT_TEXT, "%s%s %llu", i ? ", " : " ",
			      sorted[i].name, (unsigned long long)sorted[i].n);
	if (other)
		fprintf(out, ", other %llu", (unsigned long long)other);
	if (!n && !other)
		fputs(" none", out);
	fputs("\n", out);
}

static void
median_text(FILE *out, const char *label, struct sample *s)
{
	char d[IR_RPT_DUR_LEN];

	if (!s->n) {
		fprintf(out, " %s -", label);
		return;
	}
	ir_rpt_dur(d, pct(s, 50));
	fprintf(out, " %s %s (n=%zu)", label, d, s->n);
}

static void
stats_text(FILE *out, struct stats *st)
{
	char a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	size_t top[TOP_OVER], n, i;

	fprintf(out, "%-12s %llu", "incidents",
		(unsigned long long)st->incidents);
	if (st->unreadable)
		fprintf(out, " (%llu unreadable: run incident verify)",
			(unsigned long long)st->unreadable);
	if (st->drills)
		fprintf(out, " (%llu drill%s left out)",
			(unsigned long long)st->drills,
			st->drills == 1 ? "" : "s");
	fputs("\n", out);
	counts_text(out, "by kind", st->kinds, st->other_kinds);
	counts_text(out, "by status", st->statuses, st->other_statuses);
	fprintf(out, "%-12s", "rollback");
	if (st->rollback.n) {
		ir_rpt_dur(a, pct(&st->rollback, 50));
		ir_rpt_dur(b, pct(&st->rollback, 95));
		fprintf(out, " %zu succeeded: median %s, p95 %s; %llu over "
			     "the target\n",
			st->rollback.n, a, b,
			(unsigned long long)st->rollback_over);
	} else {
		fputs(" no succeeded rollback\n", out);
	}
	fprintf(out, "%-12s", "key times");
	median_text(out, "median to stopped", &st->to_stopped);
	fputs(",", out);
	median_text(out, "rolled back", &st->to_rolled_back);
	fputs(",", out);
	median_text(out, "healthy", &st->to_healthy);
	fputs("\n", out);
	fprintf(out, "%-12s %5s %10s %10s %5s %6s %7s\n", "step", "runs",
		"median", "budget", "over", "failed", "skipped");
	for (i = 0; i < st->nsteps; i++) {
		struct step_stats *x = &st->steps[i];

		if (!x->runs)
			continue;
		if (x->dur.n)
			ir_rpt_dur(a, pct(&x->dur, 50));
		if (x->budget_ms >= 0)
			ir_rpt_dur(b, x->budget_ms);
		ir_rpt_printf(out, IR_RPT_TEXT, "%-12s", x->name);
		fprintf(out, " %5llu %10s %10s %5llu %6llu %7llu\n",
			(unsigned long long)x->runs, x->dur.n ? a : "-",
			x->budget_ms >= 0 ? b : "-",
			(unsigned long long)x->over,
			(unsigned long long)x->failed,
			(unsigned long long)x->skipped);
	}
	n = worst(st, top);
	fputs("most often over budget:", out);
	for (i = 0; i < n; i++)
		ir_rpt_printf(out, IR_RPT_TEXT, "%s %s %llu of %llu",
			      i ? "," : "", st->steps[top[i]].name,
			      (unsigned long long)st->steps[top[i]].over,
			      (unsigned long long)st->steps[top[i]].runs);
	fputs(n ? "\n" : " none\n", out);
}

static json_t *
counts_json(struct ir_rpt_jb *b, const struct count *c, uint64_t other)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < NAMES && c[i].name[0]; i++)
		ir_rpt_jset_key(b, o, c[i].name,
				json_integer((json_int_t)c[i].n));
	if (other)
		ir_rpt_jset(b, o, "(other)", json_integer((json_int_t)other));
	return o;
}

static void
median_json(struct ir_rpt_jb *b, json_t *o, const char *name,
	    struct sample *s)
{
	char key[64];

	snprintf(key, sizeof(key), "time_to_%s_median_ms", name);
	ir_rpt_jset(b, o, key, ir_rpt_jms(pct(s, 50)));
	snprintf(key, sizeof(key), "time_to_%s_count", name);
	ir_rpt_jset(b, o, key, json_integer((json_int_t)s->n));
}

static json_t *
stats_json(struct ir_rpt_jb *b, struct stats *st)
{
	json_t *o = json_object(), *r = json_object(), *k = json_object();
	json_t *steps = json_array(), *top = json_array();
	size_t idx[TOP_OVER], n, i;

	ir_rpt_jset(b, o, "incidents", json_integer((json_int_t)st->incidents));
	ir_rpt_jset(b, o, "unreadable",
		    json_integer((json_int_t)st->unreadable));
	ir_rpt_jset(b, o, "drills", json_integer((json_int_t)st->drills));
	ir_rpt_jset(b, o, "by_kind",
		    counts_json(b, st->kinds, st->other_kinds));
	ir_rpt_jset(b, o, "by_status",
		    counts_json(b, st->statuses, st->other_statuses));
	ir_rpt_jset(b, r, "count", json_integer((json_int_t)st->rollback.n));
	ir_rpt_jset(b, r, "median_ms", ir_rpt_jms(pct(&st->rollback, 50)));
	ir_rpt_jset(b, r, "p95_ms", ir_rpt_jms(pct(&st->rollback, 95)));
	ir_rpt_jset(b, r, "over_budget",
		    json_integer((json_int_t)st->rollback_over));
	ir_rpt_jset(b, o, "rollback", r);
	median_json(b, k, "stopped", &st->to_stopped);
	median_json(b, k, "rolled_back", &st->to_rolled_back);
	median_json(b, k, "healthy", &st->to_healthy);
	ir_rpt_jset(b, o, "key_times", k);
	for (i = 0; i < st->nsteps; i++) {
		struct step_stats *x = &st->steps[i];
		json_t *s;

		if (!x->runs)
			continue;
		s = json_object();
		ir_rpt_jset(b, s, "step", ir_rpt_jstr(x->name));
		ir_rpt_jset(b, s, "runs", json_integer((json_int_t)x->runs));
		ir_rpt_jset(b, s, "median_ms", ir_rpt_jms(pct(&x->dur, 50)));
		ir_rpt_jset(b, s, "budget_ms", ir_rpt_jms(x->budget_ms));
		ir_rpt_jset(b, s, "over_budget",
			    json_integer((json_int_t)x->over));
		ir_rpt_jset(b, s, "failed",
			    json_integer((json_int_t)x->failed));
		ir_rpt_jset(b, s, "skipped",
			    json_integer((json_int_t)x->skipped));
		ir_rpt_jpush(b, steps, s);
	}
	ir_rpt_jset(b, o, "steps", steps);
	n = worst(st, idx);
	for (i = 0; i < n; i++) {
		json_t *s = json_object();

		ir_rpt_jset(b, s, "step", ir_rpt_jstr(st->steps[idx[i]].name));
		ir_rpt_jset(b, s, "over_budget",
			    json_integer((json_int_t)st->steps[idx[i]].over));
		ir_rpt_jset(b, s, "runs",
			    json_integer((json_int_t)st->steps[idx[i]].runs));
		ir_rpt_jpush(b, top, s);
	}
	ir_rpt_jset(b, o, "most_over_budget", top);
	return o;
}

int
ir_report_stats(FILE *out, struct ir_evlog *log, bool json,
		struct ir_ctx *ctx)
{
	struct stats st;
	struct ir_rpt_jb b = { false };
	json_t *j = NULL;
	int rc;

	if (!out || !log)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	rc = gather(&st, log, ctx);
	if (rc)
		goto out;
	if (!json) {
		stats_text(out, &st);
		rc = ir_rpt_flush(out, ctx);
		goto out;
	}
	j = stats_json(&b, &st);
	if (b.oom) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
				  "out of memory for the statistics");
		goto out;
	}
	rc = ir_rpt_json_dump(out, j, IR_RPT_JSON_FLAGS, ctx);
	if (!rc)
		rc = ir_rpt_flush(out, ctx);
out:
	json_decref(j);
	stats_clear(&st);
	return rc;
}
