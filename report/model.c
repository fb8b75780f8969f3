#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ir_limits.h"
#include "text.h"

#define NS_PER_MS 1000000
/* Durations from the log beyond a century are nonsense; capping them keeps
 * every sum and product below far from overflow. */
#define MS_MAX (100LL * 366 * 24 * 3600 * 1000)

const char *
ir_rpt_status_name(enum ir_rpt_status s)
{
	switch (s) {
	case IR_RPT_RUNNING:
		return "running";
	case IR_RPT_COMPLETED:
		return "completed";
	case IR_RPT_FAILED:
		return "failed";
	case IR_RPT_SKIPPED:
		return "skipped";
	case IR_RPT_INTERRUPTED:
		return "interrupted";
	}
	return "unknown";
}

/* A zeroed new slot at the end of list, NULL when the list is full
 * (counted as dropped) or memory ran out (m->oom). */
static void *
list_add(struct ir_rpt_model *m, struct ir_rpt_list *list, size_t size)
{
	char *p;

	if (list->n >= IR_LIMIT_REPORT_ITEMS) {
		list->dropped++;
		return NULL;
	}
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		void *items = realloc(list->items, cap * size);

		if (!items) {
			m->oom = true;
			return NULL;
		}
		list->items = items;
		list->cap = cap;
	}
	p = (char *)list->items + list->n++ * size;
	memset(p, 0, size);
	return p;
}

static char *
dup_str(struct ir_rpt_model *m, const char *s)
{
	return ir_rpt_strdup(s, IR_LIMIT_REPORT_TEXT, &m->oom);
}

static char *
dup_field(struct ir_rpt_model *m, const struct ir_val *data, const char *key)
{
	return dup_str(m, ir_val_get_str(data, key));
}

/* A duration or budget from data: -1 when absent or negative. */
static int64_t
data_ms(const struct ir_val *data, const char *key)
{
	int64_t v = ir_val_get_int(data, key, -1);

	if (v < 0)
		return -1;
	return v > MS_MAX ? MS_MAX : v;
}

static void
copy_name(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static int64_t
ms_of(uint64_t mono)
{
	return (int64_t)(mono / NS_PER_MS);
}

static void
count_type(struct ir_rpt_model *m, const char *type)
{
	size_t i;

	for (i = 0; i < m->ntypes; i++)
		if (!strcmp(m->types[i].type, type)) {
			m->types[i].n++;
			return;
		}
	if (m->ntypes == IR_RPT_TYPES) {
		m->types_other++;
		return;
	}
	copy_name(m->types[m->ntypes].type, sizeof(m->types[0].type), type);
	m->types[m->ntypes++].n = 1;
}

/* The latest run of step name that has not closed, or NULL.  Output comes
 * in long runs of one step: the hint makes the common case O(1). */
static struct ir_rpt_step *
open_step(struct ir_rpt_model *m, const char *name)
{
	struct ir_rpt_step *s;
	size_t i;

	if (m->hint < m->steps.n) {
		s = IR_RPT_AT(m->steps, struct ir_rpt_step, m->hint);
		if (!s->closed && !strcmp(s->name, name))
			return s;
	}
	for (i = m->steps.n; i-- > 0;) {
		s = IR_RPT_AT(m->steps, struct ir_rpt_step, i);
		if (!s->closed && !strcmp(s->name, name)) {
			m->hint = i;
			return s;
		}
	}
	return NULL;
}

static size_t
runs_of(const struct ir_rpt_model *m, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < m->steps.n; i++)
		if (!strcmp(IR_RPT_AT(m->steps, struct ir_rpt_step, i)->name,
			    name))
			n++;
	return n;
}

static void
on_started(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_step *s = open_step(m, ev->step);
	int64_t attempt;

	if (s)
		s->superseded = true; /* started again: that run is over */
	attempt = ir_val_get_int(ev->data, "attempt",
				 (int64_t)runs_of(m, ev->step) + 1);
	s = list_add(m, &m->steps, sizeof(*s));
	if (!s)
		return;
	m->hint = m->steps.n - 1;
	copy_name(s->name, sizeof(s->name), ev->step);
	s->attempt = attempt;
	s->status = IR_RPT_RUNNING;
	s->seq = ev->seq;
	s->start_ms = ms_of(ev->mono);
	s->end_ms = -1;
	s->duration_ms = -1;
	s->budget_ms = data_ms(ev->data, "budget_ms");
	s->command = dup_field(m, ev->data, "command");
}

static void
on_closing(struct ir_rpt_model *m, const struct ir_event *ev, bool ok)
{
	struct ir_rpt_step *s = open_step(m, ev->step);
	const struct ir_val *exit_code;
	int64_t dur = data_ms(ev->data, "duration_ms");

	if (!s) {
		/* Closing a run we never saw start (its start was lost or
		 * is beyond the cap): a row of its own. */
		s = list_add(m, &m->steps, sizeof(*s));
		if (!s)
			return;
		copy_name(s->name, sizeof(s->name), ev->step);
		s->attempt = (int64_t)runs_of(m, ev->step);
		s->seq = ev->seq;
		s->start_ms = dur >= 0 ? ms_of(ev->mono) - dur
				       : ms_of(ev->mono);
		s->budget_ms = -1;
	}
	s->closed = true;
	s->status = ok ? IR_RPT_COMPLETED : IR_RPT_FAILED;
	s->end_seq = ev->seq;
	s->end_ms = ms_of(ev->mono);
	s->duration_ms = dur >= 0 ? dur : s->end_ms - s->start_ms;
	if (s->budget_ms < 0)
		s->budget_ms = data_ms(ev->data, "budget_ms");
	s->over_budget = ir_val_get_bool(
		ev->data, "over_budget",
		s->budget_ms >= 0 && s->duration_ms > s->budget_ms);
	if (!ok) {
		s->error = dup_field(m, ev->data, "error");
		exit_code = ir_val_get(ev->data, "exit_code");
		s->has_exit = ir_val_as_int(exit_code, &s->exit_code);
	}
	if (ok && !strcmp(ev->step, "stop") && !m->stopped.seq)
		m->stopped = (struct ir_rpt_key){ ev->seq, s->end_ms, ev->ts,
						  "stop completed" };
	if (ok && !strcmp(ev->step, "checkout") && !m->rolled_back.seq)
		m->rolled_back = (struct ir_rpt_key){ ev->seq, s->end_ms,
						      ev->ts,
						      "checkout completed" };
	if (ok && !strcmp(ev->step, "health") && !m->healthy.seq)
		m->healthy = (struct ir_rpt_key){ ev->seq, s->end_ms, ev->ts,
						  "health completed" };
}

static void
on_skipped(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_step *s = list_add(m, &m->steps, sizeof(*s));

	if (!s)
		return;
	copy_name(s->name, sizeof(s->name), ev->step);
	s->attempt = (int64_t)runs_of(m, ev->step);
	s->status = IR_RPT_SKIPPED;
	s->closed = true;
	s->seq = s->end_seq = ev->seq;
	s->start_ms = s->end_ms = ms_of(ev->mono);
	s->duration_ms = 0;
	s->budget_ms = -1;
	s->why = dup_field(m, ev->data, "why");
	if (!strcmp(ev->step, "stop") && !m->stopped.seq)
		m->stopped = (struct ir_rpt_key){ ev->seq, s->end_ms, ev->ts,
						  "stop skipped" };
}

static void
add_item(struct ir_rpt_model *m, const struct ir_event *ev, const char *what)
{
	struct ir_rpt_item *it = list_add(m, &m->items, sizeof(*it));
	struct ir_rpt_line l = { .len = 0 };

	if (!it)
		return;
	it->seq = ev->seq;
	it->at_ms = ms_of(ev->mono);
	copy_name(it->step, sizeof(it->step), ev->step);
	copy_name(it->what, sizeof(it->what), what);
	ir_rpt_describe(&l, ev);
	it->summary = dup_str(m, l.s);
}

static void
on_http(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_health *h = &m->health;
	int64_t status = ir_val_get_int(ev->data, "status", 0);
	int64_t lat = data_ms(ev->data, "latency_us");
	const char *err = ir_val_get_str(ev->data, "error");
	const char *why = ir_val_get_str(ev->data, "why");
	const struct ir_val *verdict = ir_val_get(ev->data, "healthy");
	bool failed = status <= 0 || status >= 400 || (err && *err);

	/* The health rule's own verdict and reason where the probe recorded
	 * them (a 200 without the expected body is a failure too). */
	if (verdict && verdict->type == IR_VAL_BOOL) {
		failed = !verdict->as.b;
		if (why && *why)
			err = why;
	}
	if (!h->probes++) {
		h->first_seq = ev->seq;
		h->first_ms = ms_of(ev->mono);
		h->first_status = status;
		h->url = dup_field(m, ev->data, "url");
	}
	h->last_seq = ev->seq;
	h->last_ms = ms_of(ev->mono);
	h->last_status = status;
	if (failed) {
		h->failures++;
		if (err && *err) {
			free(h->last_error);
			h->last_error = dup_str(m, err);
		}
	}
	if (lat < 0)
		return;
	if (lat > h->max_latency_us)
		h->max_latency_us = lat;
	if (h->nlatency >= IR_LIMIT_REPORT_SAMPLES)
		return;
	if (!h->latency_us) {
		h->latency_us = malloc(IR_LIMIT_REPORT_SAMPLES *
				       sizeof(*h->latency_us));
		if (!h->latency_us) {
			m->oom = true;
			return;
		}
	}
	h->latency_us[h->nlatency++] = lat;
}

static void
on_log(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_logtail *t = &m->logtail;
	const struct ir_val *lines = ir_val_get(ev->data, "lines");
	size_t i, first = 0;

	for (i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->path);
	t->n = 0;
	t->seq = ev->seq;
	t->at_ms = ms_of(ev->mono);
	t->path = dup_field(m, ev->data, "path");
	t->total = 0;
	if (!lines || lines->type != IR_VAL_ARRAY)
		return;
	t->total = lines->as.arr.len;
	if (t->total > IR_RPT_LOG_LINES)
		first = t->total - IR_RPT_LOG_LINES;
	for (i = first; i < lines->as.arr.len; i++) {
		const struct ir_val *v = &lines->as.arr.items[i];

		t->lines[t->n++] = dup_str(m, v->type == IR_VAL_STR
						      ? v->as.str.ptr
						      : "");
	}
}

static void
on_observation(struct ir_rpt_model *m, const struct ir_event *ev)
{
	const char *what = ir_val_get_str(ev->data, "what");
	struct ir_rpt_step *s = ev->step[0] ? open_step(m, ev->step) : NULL;

	m->observations++;
	if (s)
		s->observations++;
	if (what && !strcmp(what, "http"))
		on_http(m, ev);
	else if (what && !strcmp(what, "log"))
		on_log(m, ev);
	else
		add_item(m, ev, what ? what : "observation");
}

static void
on_opened(struct ir_rpt_model *m, const struct ir_event *ev)
{
	/* A second opening (a damaged or odd log) replaces the first. */
	free(m->reason);
	free(m->actor);
	free(m->host);
	free(m->version);
	free(m->config);
	m->opened_seq = ev->seq;
	m->opened_ts = ev->ts;
	copy_name(m->kind, sizeof(m->kind), ir_val_get_str(ev->data, "kind"));
	m->reason = dup_field(m, ev->data, "reason");
	m->actor = dup_field(m, ev->data, "actor");
	m->host = dup_field(m, ev->data, "host");
	m->version = dup_field(m, ev->data, "version");
	m->config = dup_field(m, ev->data, "config");
	m->pid = ir_val_get_int(ev->data, "pid", -1);
	m->budget_ms = data_ms(ev->data, "budget_ms");
	if (m->budget_ms <= 0)
		m->budget_ms = IR_RPT_BUDGET_MS;
}

static void
on_target(struct ir_rpt_model *m, const struct ir_event *ev)
{
	const struct ir_val *skipped = ir_val_get(ev->data, "skipped");
	struct ir_rpt_line l = { .len = 0 };
	size_t i;

	free(m->from);
	free(m->to);
	free(m->from_commit);
	free(m->to_commit);
	free(m->target_why);
	free(m->skipped);
	m->target_seq = ev->seq;
	m->target_ms = ms_of(ev->mono);
	m->from = dup_field(m, ev->data, "from");
	m->to = dup_field(m, ev->data, "to");
	m->from_commit = dup_field(m, ev->data, "from_commit");
	m->to_commit = dup_field(m, ev->data, "to_commit");
	m->target_why = dup_field(m, ev->data, "why");
	m->skipped = NULL;
	if (!skipped || skipped->type != IR_VAL_ARRAY || !skipped->as.arr.len)
		return;
	for (i = 0; i < skipped->as.arr.len; i++) {
		const struct ir_val *v = &skipped->as.arr.items[i];
		const char *tag = v->type == IR_VAL_STR
					  ? v->as.str.ptr
					  : ir_val_get_str(v, "tag");
		const char *why = ir_val_get_str(v, "why");

		ir_rpt_line_printf(&l, "%s%s%s%s%s", i ? ", " : "",
				   tag ? tag : "?", why ? " (" : "",
				   why ? why : "", why ? ")" : "");
	}
	m->skipped = dup_str(m, l.s);
}

static void
on_decision(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_decision *d = list_add(m, &m->decisions, sizeof(*d));

	if (!d)
		return;
	d->seq = ev->seq;
	d->at_ms = ms_of(ev->mono);
	copy_name(d->step, sizeof(d->step), ev->step);
	d->question = dup_field(m, ev->data, "question");
	d->answer = dup_field(m, ev->data, "answer");
	d->because = dup_field(m, ev->data, "because");
}

static void
on_note(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_note *n = list_add(m, &m->notes, sizeof(*n));
	int64_t corrects = ir_val_get_int(ev->data, "corrects", 0);

	if (!n)
		return;
	n->seq = ev->seq;
	n->at_ms = ms_of(ev->mono);
	n->ts = ev->ts;
	n->author = dup_field(m, ev->data, "author");
	n->text = dup_field(m, ev->data, "text");
	n->corrects = corrects > 0 ? (uint64_t)corrects : 0;
}

static void
on_backup(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_backup *b = list_add(m, &m->backups, sizeof(*b));

	if (!b)
		return;
	b->seq = ev->seq;
	b->at_ms = ms_of(ev->mono);
	b->path = dup_field(m, ev->data, "path");
	b->sha256 = dup_field(m, ev->data, "sha256");
	b->bytes = ir_val_get_int(ev->data, "bytes", -1);
	b->files = ir_val_get_int(ev->data, "files", -1);
}

static void
on_resumed(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_resume *r = list_add(m, &m->resumes, sizeof(*r));
	size_t i;

	/* Whatever ran when the process died was interrupted, even if the
	 * resumed process closes it afterwards. */
	for (i = 0; i < m->steps.n; i++) {
		struct ir_rpt_step *s = IR_RPT_AT(m->steps, struct ir_rpt_step,
						  i);

		if (!s->closed)
			s->superseded = true;
	}
	if (!r)
		return;
	r->seq = ev->seq;
	r->at_ms = ms_of(ev->mono);
	r->step = dup_field(m, ev->data, "interrupted_step");
	r->actor = dup_field(m, ev->data, "actor");
	r->pid = ir_val_get_int(ev->data, "pid", -1);
}

static void
on_closed(struct ir_rpt_model *m, const struct ir_event *ev)
{
	m->closed_seq = ev->seq;
	m->closed_ts = ev->ts;
	m->closed_ms = ms_of(ev->mono);
	m->closed_duration_ms = data_ms(ev->data, "duration_ms");
	if (m->closed_duration_ms < 0)
		m->closed_duration_ms = m->closed_ms;
	copy_name(m->status, sizeof(m->status),
		  ir_val_get_str(ev->data, "status"));
	if (!m->status[0])
		copy_name(m->status, sizeof(m->status), "closed");
	m->closed = (struct ir_rpt_key){ ev->seq, m->closed_ms, ev->ts,
					 "incident.closed" };
}

static void
index_output(struct ir_rpt_model *m, const struct ir_event *ev,
	     const struct ir_output_view *out)
{
	struct ir_rpt_runidx *r = m->nruns ? &m->runs[m->nruns - 1] : NULL;

	if (m->runs_overflow)
		return;
	if (!r || r->last_seq + 1 != ev->seq || strcmp(r->step, ev->step)) {
		if (m->nruns == IR_LIMIT_REPORT_RUNS) {
			m->runs_overflow = true;
			return;
		}
		if (m->nruns == m->caprun) {
			size_t cap = m->caprun ? m->caprun * 2 : 16;
			struct ir_rpt_runidx *runs =
				realloc(m->runs, cap * sizeof(*runs));

			if (!runs) {
				m->oom = true;
				return;
			}
			m->runs = runs;
			m->caprun = cap;
		}
		r = &m->runs[m->nruns++];
		memset(r, 0, sizeof(*r));
		memcpy(r->step, ev->step, sizeof(r->step));
		r->first_seq = ev->seq;
		r->first_ts = ev->ts;
		r->first_ms = (int64_t)(ev->mono / 1000000);
	}
	r->last_seq = ev->seq;
	r->last_ms = (int64_t)(ev->mono / 1000000);
	r->count++;
	if (out->err && out->line)
		r->err_lines++;
	if (out->dropped > 0)
		r->dropped += (uint64_t)out->dropped;
}

static void
on_output(struct ir_rpt_model *m, const struct ir_event *ev,
	  const struct ir_output_view *out)
{
	struct ir_rpt_step *s = open_step(m, ev->step);

	index_output(m, ev, out);
	m->outputs++;
	if (!s)
		return;
	s->output_lines++;
	if (out->dropped > 0)
		s->dropped += (uint64_t)out->dropped;
}

static int
fold_event(struct ir_rpt_model *m, const struct ir_event *ev,
	   const void *raw, size_t len, const struct ir_output_view *out);

/*
 * The scan hands us the stored bytes only (IR_EVLOG_RAW): one pass reads
 * the fixed fields and, for step.output, the line in place; only the
 * other events, a handful in a long incident, are decoded into values.
 * The chain is checked here against what the scan computed.
 */
static int
fold(void *payload, const struct ir_event *key, const void *raw, size_t len)
{
	struct ir_rpt_model *m = payload;
	struct ir_event_head h;
	struct ir_output_view out;
	struct ir_event ev = { 0 };
	int rc = ir_codec_peek_output(&h, &out, raw, len);

	rc = ir_evlog_check_raw(m->id, key, &h, rc, m->ctx);
	if (rc)
		return rc;
	if (out.is_output) {
		ev.seq = h.seq;
		ev.ts = h.ts;
		ev.mono = h.mono;
		memcpy(ev.type, h.type, sizeof(ev.type));
		memcpy(ev.step, h.step, sizeof(ev.step));
		return fold_event(m, &ev, raw, len, &out);
	}
	rc = ir_codec_decode(&ev, raw, len);
	if (rc)
		return rc == -ENOMEM ? rc
				     : ir_error_set(m->ctx, -EBADMSG,
						    IR_ORIGIN_NONE, 0,
						    "INC-%llu seq %llu: record "
						    "does not decode",
						    (unsigned long long)m->id,
						    (unsigned long long)h.seq);
	rc = fold_event(m, &ev, raw, len, &out);
	ir_event_clear(&ev);
	return rc;
}

static int
fold_event(struct ir_rpt_model *m, const struct ir_event *ev,
	   const void *raw, size_t len, const struct ir_output_view *out)
{
	const char *t = ev->type;

	/* Always advance the head: the chain is verified over all events
	 * even when a moment leaves some out. */
	ir_buf_reset(&m->last_raw);
	if (ir_buf_add(&m->last_raw, raw, len))
		return -ENOMEM;
	m->last_seq = ev->seq;
	if (m->at_ns >= 0 && ev->mono > (uint64_t)m->at_ns) {
		if (!strcmp(t, "incident.closed"))
			m->closed_later = true;
		return 0;
	}
	m->events++;
	if (ev->ts > m->last_ts || m->events == 1)
		m->last_ts = ev->ts;
	if (ms_of(ev->mono) > m->last_ms)
		m->last_ms = ms_of(ev->mono);
	count_type(m, t);
	if (out->is_output)
		on_output(m, ev, out);
	else if (!strcmp(t, "observation"))
		on_observation(m, ev);
	else if (!strcmp(t, "step.started"))
		on_started(m, ev);
	else if (!strcmp(t, "step.completed"))
		on_closing(m, ev, true);
	else if (!strcmp(t, "step.failed"))
		on_closing(m, ev, false);
	else if (!strcmp(t, "step.skipped"))
		on_skipped(m, ev);
	else if (!strcmp(t, "incident.opened"))
		on_opened(m, ev);
	else if (!strcmp(t, "target.chosen"))
		on_target(m, ev);
	else if (!strcmp(t, "decision"))
		on_decision(m, ev);
	else if (!strcmp(t, "note"))
		on_note(m, ev);
	else if (!strcmp(t, "backup.created"))
		on_backup(m, ev);
	else if (!strcmp(t, "incident.resumed"))
		on_resumed(m, ev);
	else if (!strcmp(t, "incident.closed"))
		on_closed(m, ev);
	else
		add_item(m, ev, t); /* archive.deleted, restore.completed,
				     * and types we do not know */
	return m->oom ? -ENOMEM : 0;
}

/* Runs that never closed: running, unless something after them shows the
 * process that ran them is gone. */
static void
finish_steps(struct ir_rpt_model *m)
{
	size_t i;

	for (i = 0; i < m->steps.n; i++) {
		struct ir_rpt_step *s = IR_RPT_AT(m->steps, struct ir_rpt_step,
						  i);

		if (s->closed)
			continue;
		s->status = s->superseded || m->closed_seq
				    ? IR_RPT_INTERRUPTED
				    : IR_RPT_RUNNING;
	}
}

static int
find_corrected(void *payload, const struct ir_event *ev, const void *raw,
	       size_t len)
{
	struct ir_rpt_line *l = payload;

	(void)raw;
	(void)len;
	ir_rpt_line_printf(l, "%s%s%s: ", ev->type, ev->step[0] ? " " : "",
			   ev->step);
	ir_rpt_describe(l, ev);
	return 1;
}

static int
describe_corrections(struct ir_rpt_model *m, struct ir_evlog *log,
		     struct ir_ctx *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < m->notes.n; i++) {
		struct ir_rpt_note *n = IR_RPT_AT(m->notes, struct ir_rpt_note,
						  i);
		struct ir_rpt_line l = { .len = 0 };

		if (!n->corrects || n->corrects >= n->seq)
			continue;
		rc = ir_evlog_scan(log, m->id, n->corrects, IR_EVLOG_DECODE,
				   find_corrected, &l, ctx);
		if (rc)
			return rc;
		n->corrected = dup_str(m, l.s);
		if (m->oom)
			return -ENOMEM;
	}
	return 0;
}

int
ir_rpt_model_build(struct ir_rpt_model *m, struct ir_evlog *log, uint64_t id,
		   int64_t at_ns, struct ir_ctx *ctx)
{
	struct ir_incident inc;
	int rc;

	memset(m, 0, sizeof(*m));
	m->id = id;
	m->at_ns = at_ns;
	m->budget_ms = IR_RPT_BUDGET_MS;
	copy_name(m->status, sizeof(m->status), "open");
	rc = ir_evlog_incident(log, id, &inc, ctx);
	if (rc)
		return rc;
	copy_name(m->kind, sizeof(m->kind), inc.kind);
	m->opened_ts = inc.opened;
	m->ctx = ctx;
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_RAW | IR_EVLOG_CHAIN, fold, m,
			   ctx);
	m->ctx = NULL;
	if (rc == -ENOMEM || m->oom)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
				    "INC-%llu: out of memory for the report",
				    (unsigned long long)id);
	if (rc)
		return rc;
	m->verified = true;
	ir_sha256(m->head, m->last_raw.data, m->last_raw.len);
	ir_buf_clear(&m->last_raw);
	finish_steps(m);
	return describe_corrections(m, log, ctx);
}
