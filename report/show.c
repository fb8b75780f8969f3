/* `incident show INC [--at +DURATION]`: the incident as known at a moment,
 * then its events up to that moment. */
#include "report.h"

#include <string.h>

#include "jsonval.h"
#include "rjson.h"

#define NS_PER_MS 1000000

static void
put(FILE *out, const char *s)
{
	ir_rpt_puts(out, IR_RPT_TEXT, s);
}

/* Whether the moment asked for lies after the incident closed: then it is
 * shown as closed, with its own duration, not the moment's. */
static bool
past_end(const struct ir_rpt_model *m)
{
	return m->at_ns >= 0 && m->closed_seq &&
	       m->at_ns / NS_PER_MS > m->closed_ms;
}

/* Milliseconds of the moment: the cut, or all that is known. */
static int64_t
moment_ms(const struct ir_rpt_model *m)
{
	return m->at_ns >= 0 && !past_end(m) ? m->at_ns / NS_PER_MS
					      : ir_rpt_model_duration(m);
}

static void
key_line(FILE *out, const char *name, const struct ir_rpt_key *k)
{
	char o[IR_RPT_DUR_LEN];

	fprintf(out, "  %-12s ", name);
	if (!k->seq) {
		fputs("not yet\n", out);
		return;
	}
	ir_rpt_offset(o, k->ms);
	fprintf(out, "%s (seq %llu, %s)\n", o, (unsigned long long)k->seq,
		k->what);
}

static void
state_text(FILE *out, const struct ir_rpt_model *m)
{
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN], a[IR_RPT_DUR_LEN],
		b[IR_RPT_DUR_LEN];
	int64_t at = moment_ms(m);
	size_t i;

	fprintf(out, "INC-%llu ", (unsigned long long)m->id);
	put(out, m->kind);
	if (past_end(m)) {
		ir_rpt_offset(o, m->closed_ms);
		ir_rpt_offset(a, m->at_ns / NS_PER_MS);
		fputs(" had closed (", out);
		put(out, m->status);
		fprintf(out, ") at %s, before %s; showing it as closed\n", o,
			a);
	} else if (m->at_ns >= 0) {
		ir_rpt_offset(o, at);
		ir_rpt_time(t, ir_rpt_add(m->opened_ts, m->at_ns));
		fprintf(out, " as known at %s (%s)\n", o, t);
	} else {
		fputs(" (all events)\n", out);
	}
	fputs("  status       ", out);
	if (m->closed_seq) {
		ir_rpt_printf(out, IR_RPT_TEXT, "%s (seq %llu)", m->status,
			      (unsigned long long)m->closed_seq);
		fputs("\n", out);
	} else {
		fprintf(out, "open%s\n",
			m->closed_later ? " at that moment (closed later)"
					: "");
	}
	if (m->reason) {
		fputs("  reason       ", out);
		put(out, m->reason);
		fputs("\n", out);
	}
	fputs("  target       ", out);
	if (m->target_seq) {
		put(out, m->from ? m->from : "?");
		if (m->from_commit)
			ir_rpt_printf(out, IR_RPT_TEXT, " (%.12s)",
				      m->from_commit);
		fputs(" \u2192 ", out);
		put(out, m->to ? m->to : "?");
		if (m->to_commit)
			ir_rpt_printf(out, IR_RPT_TEXT, " (%.12s)",
				      m->to_commit);
		fprintf(out, " (seq %llu)\n",
			(unsigned long long)m->target_seq);
	} else {
		fputs("not chosen yet\n", out);
	}
	ir_rpt_dur(a, at);
	ir_rpt_dur(b, m->budget_ms);
	fprintf(out, "  elapsed      %s of the %s target%s\n", a, b,
		at > m->budget_ms ? " (OVER)" : "");
	key_line(out, "stopped", &m->stopped);
	key_line(out, "rolled back", &m->rolled_back);
	key_line(out, "healthy", &m->healthy);
	fputs("  last health  ", out);
	if (m->health.probes) {
		ir_rpt_offset(o, m->health.last_ms);
		fprintf(out, "status %lld at %s (seq %llu)\n",
			(long long)m->health.last_status, o,
			(unsigned long long)m->health.last_seq);
	} else {
		fputs("no probe yet\n", out);
	}
	fputs("steps:\n", out);
	if (!m->steps.n)
		fputs("  none yet\n", out);
	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		ir_rpt_offset(o, s->start_ms);
		fputs("  ", out);
		ir_rpt_printf(out, IR_RPT_TEXT, "%-9s", s->name);
		fprintf(out, " #%lld %-11s %s  ", (long long)s->attempt,
			ir_rpt_status_name(s->status), o);
		if (s->duration_ms >= 0) {
			ir_rpt_dur(a, s->duration_ms);
			fputs(a, out);
		} else if (s->status == IR_RPT_RUNNING) {
			ir_rpt_dur(a, at - s->start_ms);
			fprintf(out, "%s so far", a);
		} else {
			fputs("-", out);
		}
		if (s->budget_ms >= 0) {
			ir_rpt_dur(b, s->budget_ms);
			fprintf(out, " of %s", b);
		}
		if (s->over_budget)
			fputs(" OVER BUDGET", out);
		if (s->error) {
			fputs(": ", out);
			put(out, s->error);
		}
		if (s->why) {
			fputs(": ", out);
			put(out, s->why);
		}
		fputs("\n", out);
	}
}

static void
text_event(void *payload, const struct ir_event *ev)
{
	FILE *out = payload;
	struct ir_rpt_line l = { .len = 0 };
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN];

	ir_rpt_time(t, ev->ts);
	ir_rpt_offset(o, (int64_t)(ev->mono / NS_PER_MS));
	ir_rpt_describe(&l, ev);
	fprintf(out, "  %6llu  %s  %s  ", (unsigned long long)ev->seq, t, o);
	ir_rpt_printf(out, IR_RPT_TEXT, "%-16s %-8s ", ev->type,
		      ev->step[0] ? ev->step : "-");
	ir_rpt_put(out, IR_RPT_TEXT, l.s, l.len);
	fputs("\n", out);
}

static void
text_run(void *payload, const struct ir_rpt_run *run)
{
	FILE *out = payload;
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN];

	ir_rpt_time(t, run->first_ts);
	ir_rpt_offset(o, run->first_ms);
	fprintf(out, "  %6llu  %s  %s  ", (unsigned long long)run->first_seq,
		t, o);
	ir_rpt_printf(out, IR_RPT_TEXT, "%-16s %-8s ", "step.output",
		      run->step[0] ? run->step : "-");
	fprintf(out, "%llu line%s", (unsigned long long)run->count,
		run->count == 1 ? "" : "s");
	if (run->last_seq != run->first_seq)
		fprintf(out, " (seq %llu-%llu)",
			(unsigned long long)run->first_seq,
			(unsigned long long)run->last_seq);
	if (run->dropped)
		fprintf(out, ", %llu dropped",
			(unsigned long long)run->dropped);
	if (run->last.len) {
		fputs("; last: ", out);
		ir_rpt_put(out, IR_RPT_TEXT, (const char *)run->last.data,
			   run->last.len);
	}
	fputs("\n", out);
}

static int
show_text(FILE *out, const struct ir_rpt_model *m, struct ir_evlog *log,
	  struct ir_ctx *ctx)
{
	struct ir_rpt_timeline tl = {
		.m = m, .event = text_event, .run = text_run, .payload = out
	};
	char o[IR_RPT_DUR_LEN];
	int rc;

	state_text(out, m);
	ir_rpt_offset(o, moment_ms(m));
	if (m->at_ns >= 0 && !past_end(m))
		fprintf(out, "events up to %s:\n", o);
	else
		fputs("events:\n", out);
	rc = ir_rpt_timeline(&tl, log, ctx);
	return rc ? rc : ir_rpt_flush(out, ctx);
}

/* show --json: {"state": {...}, "events": [...]}, the events streamed. */
struct json_walk {
	FILE *out;
	const struct ir_rpt_model *m;
	size_t n;
	bool oom;
};

static int
json_event(void *payload, const struct ir_event *ev, const void *raw,
	   size_t len)
{
	struct json_walk *w = payload;
	json_t *j;
	int rc = 0;

	(void)raw;
	(void)len;
	if (ev->seq > w->m->last_seq)
		return 1;
	if (w->m->at_ns >= 0 && ev->mono > (uint64_t)w->m->at_ns)
		return 0;
	j = ir_jsonval_event(ev);
	if (!j || !ir_rpt_jclean(j)) {
		json_decref(j);
		w->oom = true;
		return -ENOMEM;
	}
	fputs(w->n++ ? ",\n" : "\n", w->out);
	if (json_dumpf(j, w->out, JSON_SORT_KEYS | JSON_COMPACT))
		rc = -EIO;
	json_decref(j);
	return rc;
}

static json_t *
state_json(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	char t[IR_RPT_TIME_LEN], name[32];
	json_t *o = json_object(), *h;

	snprintf(name, sizeof(name), "INC-%llu", (unsigned long long)m->id);
	ir_rpt_jset(b, o, "id", json_integer((json_int_t)m->id));
	ir_rpt_jset(b, o, "incident", json_string(name));
	ir_rpt_jset(b, o, "kind", ir_rpt_jstr(m->kind));
	ir_rpt_jset(b, o, "at_ms", m->at_ns >= 0
					   ? json_integer(m->at_ns / NS_PER_MS)
					   : json_null());
	ir_rpt_time(t, ir_rpt_add(m->opened_ts,
				    m->at_ns >= 0 ? m->at_ns : 0));
	ir_rpt_jset(b, o, "at", m->at_ns >= 0 ? json_string(t) : json_null());
	ir_rpt_jset(b, o, "open", json_boolean(!m->closed_seq));
	ir_rpt_jset(b, o, "status", ir_rpt_jstr(m->status));
	ir_rpt_jset(b, o, "closed_later", json_boolean(m->closed_later));
	ir_rpt_jset(b, o, "past_end", json_boolean(past_end(m)));
	ir_rpt_jset(b, o, "closed_ms", m->closed_seq
					       ? json_integer(m->closed_ms)
					       : json_null());
	ir_rpt_jset(b, o, "reason", ir_rpt_jstr(m->reason));
	ir_rpt_jset(b, o, "budget_ms", json_integer(m->budget_ms));
	ir_rpt_jset(b, o, "elapsed_ms", json_integer(moment_ms(m)));
	ir_rpt_jset(b, o, "target", ir_rpt_json_target(b, m));
	ir_rpt_jset(b, o, "steps", ir_rpt_json_steps(b, m));
	ir_rpt_jset(b, o, "metrics", ir_rpt_json_metrics(b, m));
	ir_rpt_jset(b, o, "events", json_integer((json_int_t)m->events));
	if (m->health.probes) {
		h = json_object();
		ir_rpt_jset(b, h, "status",
			    json_integer(m->health.last_status));
		ir_rpt_jset(b, h, "seq", ir_rpt_jseq(m->health.last_seq));
		ir_rpt_jset(b, h, "offset_ms",
			    json_integer(m->health.last_ms));
	} else {
		h = json_null();
	}
	ir_rpt_jset(b, o, "last_health", h);
	return o;
}

static int
show_json(FILE *out, const struct ir_rpt_model *m, struct ir_evlog *log,
	  struct ir_ctx *ctx)
{
	struct ir_rpt_jb b = { false };
	struct json_walk w = { out, m, 0, false };
	json_t *state = state_json(&b, m);
	int rc;

	if (b.oom) {
		json_decref(state);
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
				    "out of memory");
	}
	fputs("{\"state\":", out);
	rc = json_dumpf(state, out, JSON_SORT_KEYS | JSON_COMPACT) ? -EIO : 0;
	json_decref(state);
	if (rc)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0,
				    "cannot write the JSON output");
	fputs(",\n\"events\":[", out);
	rc = ir_evlog_scan(log, m->id, 1, IR_EVLOG_DECODE, json_event, &w, ctx);
	if (rc == -ENOMEM || rc == -EIO)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0,
				    "INC-%llu: cannot write the events",
				    (unsigned long long)m->id);
	if (rc)
		return rc;
	fputs("\n]}\n", out);
	return ir_rpt_flush(out, ctx);
}

int
ir_report_show(FILE *out, struct ir_evlog *log, uint64_t id, int64_t at_ms,
	       bool json, struct ir_ctx *ctx)
{
	struct ir_rpt_model m;
	int64_t at_ns = -1;
	int rc;

	if (!out || !log)
		return -EINVAL;
	if (at_ms >= 0)
		at_ns = at_ms > INT64_MAX / NS_PER_MS ? INT64_MAX
						      : at_ms * NS_PER_MS;
	rc = ir_rpt_model_build(&m, log, id, at_ns, ctx);
	if (!rc)
		rc = json ? show_json(out, &m, log, ctx)
			  : show_text(out, &m, log, ctx);
	ir_rpt_model_clear(&m);
	return rc;
}
