#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
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
	/* Folded, the items hold at most FOLD of each kind: all of them. */
	size_t limit = list == &m->items ? (IR_LIMIT_REPORT_KINDS + 1) *
						   IR_LIMIT_REPORT_FOLD
					 : IR_LIMIT_REPORT_ITEMS;
	char *p;

	if (list->n >= limit && !m->full) {
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

_Static_assert(IR_LIMIT_REPORT_FOLD == 2 * IR_LIMIT_REPORT_FOLD_KEEP,
	       "a folded series keeps its first and its last KEEP");
#define KEEP IR_LIMIT_REPORT_FOLD_KEEP

size_t
ir_rpt_series_head(const struct ir_rpt_series *s)
{
	return s->n < KEEP ? (size_t)s->n : KEEP;
}

size_t
ir_rpt_series_tail(const struct ir_rpt_series *s)
{
	if (s->n <= KEEP)
		return 0;
	return s->n - KEEP < KEEP ? (size_t)(s->n - KEEP) : KEEP;
}

const struct ir_rpt_runidx *
ir_rpt_series_tail_at(const struct ir_rpt_series *s, size_t i)
{
	size_t start = s->n >= 2 * KEEP ? (size_t)((s->n - KEEP) % KEEP) : 0;

	return &s->tail[(start + i) % KEEP];
}

/* One more entry of the series: true when it is one of the first KEEP
 * (the caller keeps what it needs of it), else it goes to the tail ring
 * and the entry it pushes out is folded. */
static bool
series_add(struct ir_rpt_series *s, const struct ir_rpt_runidx *e)
{
	struct ir_rpt_runidx *slot;

	if (s->n < KEEP) {
		s->head[s->n++] = *e;
		return true;
	}
	slot = &s->tail[(s->n - KEEP) % KEEP];
	if (s->n >= 2 * KEEP) {
		if (!s->fold.count++)
			s->fold.first_seq = slot->first_seq;
		s->fold.last_seq = slot->last_seq;
	}
	*slot = *e;
	s->n++;
	return false;
}

static bool
same_kind(const struct ir_rpt_kind *k, const char *type, const char *step,
	  const char *what)
{
	return !strcmp(k->type, type) && !strcmp(k->step, step) &&
	       !strcmp(k->what, what);
}

/* The kind (type, step, what) in ks, made on first sight; beyond
 * IR_LIMIT_REPORT_KINDS the one slot for all others.  NULL: out of
 * memory.  Long series of one kind make the hint the common case. */
static struct ir_rpt_kind *
kind_of(struct ir_rpt_model *m, struct ir_rpt_kinds *ks, const char *type,
	const char *step, const char *what)
{
	struct ir_rpt_kind *k;
	size_t i;

	if (!ks->v) {
		ks->v = calloc(IR_LIMIT_REPORT_KINDS + 1, sizeof(*ks->v));
		if (!ks->v) {
			m->oom = true;
			return NULL;
		}
		ks->v[IR_LIMIT_REPORT_KINDS].other = true;
		ks->v[IR_LIMIT_REPORT_KINDS].is_item = ks == &m->item_kinds;
	}
	if (ks->n && same_kind(&ks->v[ks->hint], type, step, what))
		return &ks->v[ks->hint];
	for (i = 0; i < ks->n; i++)
		if (same_kind(&ks->v[i], type, step, what)) {
			ks->hint = i;
			return &ks->v[i];
		}
	if (ks->n == IR_LIMIT_REPORT_KINDS)
		return &ks->v[IR_LIMIT_REPORT_KINDS];
	k = &ks->v[ks->n];
	k->is_item = ks == &m->item_kinds;
	copy_name(k->type, sizeof(k->type), type);
	copy_name(k->step, sizeof(k->step), step);
	copy_name(k->what, sizeof(k->what), what);
	ks->hint = ks->n++;
	return k;
}

static struct ir_rpt_runidx
entry_of(const struct ir_event *ev)
{
	return (struct ir_rpt_runidx){
		.first_seq = ev->seq,
		.last_seq = ev->seq,
		.count = 1,
		.first_ts = ev->ts,
		.first_ms = ms_of(ev->mono),
		.last_ms = ms_of(ev->mono),
	};
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
	if (!ok && !strcmp(ev->step, "soak") && !m->soak_failed.seq &&
	    !ir_val_get_bool(ev->data, "interrupted", false))
		m->soak_failed = (struct ir_rpt_key){ ev->seq, s->end_ms,
						      ev->ts, "soak failed" };
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

/* What an item is listed as: an observation's what, else the type. */
static const char *
item_what(const struct ir_event *ev)
{
	const char *what;

	if (strcmp(ev->type, "observation"))
		return ev->type;
	what = ir_val_get_str(ev->data, "what");
	return what ? what : "observation";
}

static void
keep_item(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_item *it = list_add(m, &m->items, sizeof(*it));
	struct ir_rpt_line l = { .len = 0 };
	const char *what = item_what(ev);

	if (!it)
		return;
	it->seq = ev->seq;
	it->at_ms = ms_of(ev->mono);
	copy_name(it->step, sizeof(it->step), ev->step);
	copy_name(it->what, sizeof(it->what), what);
	ir_rpt_describe(&l, ev);
	it->summary = dup_str(m, l.s);
}

/* Items fold by what: the first KEEP of each are kept now, the last
 * ones read again when the scan is over (read_tails). */
static void
add_item(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_runidx e = entry_of(ev);
	struct ir_rpt_kind *k;

	if (!m->full && !m->summary) {
		k = kind_of(m, &m->item_kinds, "", "", item_what(ev));
		if (!k || !series_add(&k->s, &e))
			return;
	}
	keep_item(m, ev);
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
	if (what && !strcmp(what, "rolled_back_by"))
		m->rolled_back_by = (uint64_t)ir_val_get_int(ev->data,
							     "incident", 0);
	if (what && !strcmp(what, "http"))
		on_http(m, ev);
	else if (what && !strcmp(what, "log"))
		on_log(m, ev);
	else
		add_item(m, ev);
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
	m->caused_by = (uint64_t)ir_val_get_int(ev->data, "caused_by", 0);
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
keep_note(struct ir_rpt_model *m, struct ir_rpt_list *list,
	  const struct ir_event *ev)
{
	struct ir_rpt_note *n = list_add(m, list, sizeof(*n));
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

/* Notes fold as one series; a note that corrects an event is also kept
 * among the corrections, which never fold (the event it corrects may be
 * shown).  ev->data is NULL for a folded note fold() did not decode. */
static void
on_note(struct ir_rpt_model *m, const struct ir_event *ev)
{
	struct ir_rpt_runidx e = entry_of(ev);

	if (ir_val_get_int(ev->data, "corrects", 0) > 0)
		keep_note(m, &m->corrections, ev);
	if (m->full || m->summary || series_add(&m->note_series, &e))
		keep_note(m, &m->notes, ev);
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
on_checkpoint(struct ir_rpt_model *m, const struct ir_event *ev)
{
	const char *what = ir_val_get_str(ev->data, "what");
	const uint8_t *root;

	if (ir_checkpoint_of_event(ev, &m->checkpoint_size, &root)) {
		m->checkpoint_seq = ev->seq;
		memcpy(m->checkpoint_root, root, IR_HASH_LEN);
		snprintf(m->checkpoint_what, sizeof(m->checkpoint_what), "%s",
			 what ? what : "");
	}
	add_item(m, ev);
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

/* The run of output being read is over: into the index the timeline's
 * second scan uses, and its kind's series. */
static void
commit_run(struct ir_rpt_model *m)
{
	struct ir_rpt_runidx *r = &m->cur_run;
	struct ir_rpt_kind *k;

	if (!r->count)
		return;
	if (!m->full && !m->summary) {
		k = kind_of(m, &m->kinds, "step.output", r->step, "");
		if (k)
			series_add(&k->s, r);
	}
	if (m->runs_overflow)
		goto out;
	if (m->nruns == IR_LIMIT_REPORT_RUNS) {
		m->runs_overflow = true;
		goto out;
	}
	if (m->nruns == m->caprun) {
		size_t cap = m->caprun ? m->caprun * 2 : 16;
		struct ir_rpt_runidx *runs =
			realloc(m->runs, cap * sizeof(*runs));

		if (!runs) {
			m->oom = true;
			goto out;
		}
		m->runs = runs;
		m->caprun = cap;
	}
	m->runs[m->nruns++] = *r;
out:
	r->count = 0;
}

static void
index_output(struct ir_rpt_model *m, const struct ir_event *ev,
	     const struct ir_output_view *out)
{
	struct ir_rpt_runidx *r = &m->cur_run;

	if (!r->count || r->last_seq + 1 != ev->seq ||
	    strcmp(r->step, ev->step)) {
		commit_run(m);
		memset(r, 0, sizeof(*r));
		r->is_run = true;
		memcpy(r->step, ev->step, sizeof(r->step));
		r->first_seq = ev->seq;
		r->first_ts = ev->ts;
		r->first_ms = ms_of(ev->mono);
	}
	r->last_seq = ev->seq;
	r->last_ms = ms_of(ev->mono);
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

/* A note folding will leave out needs no decoding: its seq, times and
 * kind are in the fixed fields.  One that may correct an event (its
 * bytes hold the key "corrects") is decoded all the same. */
static bool
light_note(const struct ir_rpt_model *m, const struct ir_event_head *h,
	   const void *raw, size_t len)
{
	static const char key[] = "\xa8" "corrects";

	return !m->full && !m->summary && m->note_series.n >= KEEP &&
	       !strcmp(h->type, "note") &&
	       !memmem(raw, len, key, sizeof(key) - 1);
}

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
	if (out.is_output || light_note(m, &h, raw, len)) {
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
	if (!m->full && !m->summary && !out->is_output) {
		struct ir_rpt_runidx e = entry_of(ev);
		struct ir_rpt_kind *k = kind_of(
			m, &m->kinds, t, ev->step,
			strcmp(t, "observation") ? "" : item_what(ev));

		if (k)
			series_add(&k->s, &e);
	}
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
	else if (!strcmp(t, "checkpoint"))
		on_checkpoint(m, ev);
	else
		add_item(m, ev); /* archive.deleted, restore.completed,
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
describe_list(struct ir_rpt_model *m, struct ir_rpt_list *list,
	      struct ir_evlog *log, struct ir_ctx *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < list->n; i++) {
		struct ir_rpt_note *n = IR_RPT_AT(*list, struct ir_rpt_note, i);
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

static int
describe_corrections(struct ir_rpt_model *m, struct ir_evlog *log,
		     struct ir_ctx *ctx)
{
	int rc = describe_list(m, &m->notes, log, ctx);

	return rc ? rc : describe_list(m, &m->corrections, log, ctx);
}

/* Read again the last entries of the folded notes and observations. */
struct tail_read {
	struct ir_rpt_model *m;
	bool note;
};

static int
tail_one(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	struct tail_read *t = payload;

	(void)raw;
	(void)len;
	if (t->note)
		keep_note(t->m, &t->m->notes, ev);
	else
		keep_item(t->m, ev);
	return 1;
}

static int
read_series_tail(struct ir_rpt_model *m, const struct ir_rpt_series *s,
		 bool note, struct ir_evlog *log, struct ir_ctx *ctx)
{
	struct tail_read t = { m, note };
	size_t i;
	int rc;

	for (i = 0; i < ir_rpt_series_tail(s); i++) {
		rc = ir_evlog_scan(log, m->id,
				   ir_rpt_series_tail_at(s, i)->first_seq,
				   IR_EVLOG_DECODE, tail_one, &t, ctx);
		if (rc)
			return rc;
	}
	return m->oom ? -ENOMEM : 0;
}

static int
cmp_item(const void *a, const void *b)
{
	uint64_t x = ((const struct ir_rpt_item *)a)->seq;
	uint64_t y = ((const struct ir_rpt_item *)b)->seq;

	return (x > y) - (x < y);
}

static int
read_tails(struct ir_rpt_model *m, struct ir_evlog *log, struct ir_ctx *ctx)
{
	size_t i;
	int rc = read_series_tail(m, &m->note_series, true, log, ctx);

	for (i = 0; !rc && m->item_kinds.v && i <= IR_LIMIT_REPORT_KINDS; i++)
		rc = read_series_tail(m, &m->item_kinds.v[i].s, false, log,
				      ctx);
	if (!rc && m->items.n)
		qsort(m->items.items, m->items.n, sizeof(struct ir_rpt_item),
		      cmp_item);
	return rc;
}

int
ir_rpt_model_build(struct ir_rpt_model *m, struct ir_evlog *log, uint64_t id,
		   int64_t at_ns, struct ir_ctx *ctx)
{
	return ir_rpt_model_build_full(m, log, id, at_ns, false, ctx);
}

static int
build(struct ir_rpt_model *m, struct ir_evlog *log, uint64_t id,
      int64_t at_ns, bool full, bool summary, struct ir_ctx *ctx)
{
	struct ir_incident inc;
	int rc;

	memset(m, 0, sizeof(*m));
	m->id = id;
	m->full = full;
	m->summary = summary;
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
	if (!rc)
		commit_run(m);
	if (!rc && !m->oom)
		rc = read_tails(m, log, ctx);
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

int
ir_rpt_model_build_full(struct ir_rpt_model *m, struct ir_evlog *log,
			uint64_t id, int64_t at_ns, bool full,
			struct ir_ctx *ctx)
{
	return build(m, log, id, at_ns, full, false, ctx);
}

int
ir_rpt_model_build_summary(struct ir_rpt_model *m, struct ir_evlog *log,
			   uint64_t id, struct ir_ctx *ctx)
{
	return build(m, log, id, -1, false, true, ctx);
}
