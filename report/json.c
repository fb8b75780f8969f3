/* The JSON report (docs/report-json.md) and the JSON pieces `show` and
 * `stats` share with it. */
#include "rjson.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void
ir_rpt_jset(struct ir_rpt_jb *b, json_t *o, const char *key, json_t *v)
{
	if (!v || !o || json_object_set_new(o, key, v))
		b->oom = true;
}

void
ir_rpt_jset_key(struct ir_rpt_jb *b, json_t *o, const char *key, json_t *v)
{
	struct ir_buf k = IR_BUF_INIT(0);

	if (ir_rpt_clean(&k, key, strlen(key))) {
		json_decref(v);
		b->oom = true;
	} else {
		ir_rpt_jset(b, o, (const char *)k.data, v);
	}
	ir_buf_clear(&k);
}

void
ir_rpt_jpush(struct ir_rpt_jb *b, json_t *a, json_t *v)
{
	if (!v || !a || json_array_append_new(a, v))
		b->oom = true;
}

static json_t *
jstrn(const char *s, size_t len)
{
	struct ir_buf clean = IR_BUF_INIT(0);
	json_t *j = NULL;

	if (!ir_rpt_clean(&clean, s, len))
		j = json_stringn((const char *)clean.data, clean.len);
	ir_buf_clear(&clean);
	return j;
}

json_t *
ir_rpt_jstr(const char *s)
{
	return s ? jstrn(s, strlen(s)) : json_null();
}

json_t *
ir_rpt_jms(int64_t ms)
{
	return ms >= 0 ? json_integer(ms) : json_null();
}

json_t *
ir_rpt_jseq(uint64_t seq)
{
	return seq ? json_integer((json_int_t)seq) : json_null();
}

/* An object whose keys need cleaning is rebuilt: renaming in place would
 * disturb the iteration. */
static bool
clean_keys(json_t *v)
{
	struct ir_buf k = IR_BUF_INIT(0);
	const char *key;
	json_t *val, *copy = NULL;
	bool ok = true, dirty = false;

	json_object_foreach(v, key, val)
	{
		ir_buf_reset(&k);
		if (ir_rpt_clean(&k, key, strlen(key))) {
			ok = false;
			break;
		}
		if (strcmp((const char *)k.data, key))
			dirty = true;
	}
	if (!ok || !dirty)
		goto out;
	copy = json_object();
	if (!copy) {
		ok = false;
		goto out;
	}
	json_object_foreach(v, key, val)
	{
		ir_buf_reset(&k);
		if (ir_rpt_clean(&k, key, strlen(key)) ||
		    json_object_set(copy, (const char *)k.data, val)) {
			ok = false;
			goto out;
		}
	}
	ok = !json_object_clear(v) && !json_object_update(v, copy);
out:
	json_decref(copy);
	ir_buf_clear(&k);
	return ok;
}

bool
ir_rpt_jclean(json_t *v)
{
	const char *key;
	json_t *val, *c;
	size_t i;
	int rc;

	switch (json_typeof(v)) {
	case JSON_STRING:
		c = jstrn(json_string_value(v), json_string_length(v));
		if (!c)
			return false;
		rc = json_string_setn(v, json_string_value(c),
				      json_string_length(c));
		json_decref(c);
		return rc == 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, val)
			if (!ir_rpt_jclean(val))
				return false;
		return true;
	case JSON_OBJECT:
		json_object_foreach(v, key, val)
			if (!ir_rpt_jclean(val))
				return false;
		return clean_keys(v);
	default:
		return true;
	}
}

json_t *
ir_rpt_json_steps(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);
		json_t *o = json_object();

		ir_rpt_jset(b, o, "step", ir_rpt_jstr(s->name));
		ir_rpt_jset(b, o, "attempt", json_integer(s->attempt));
		ir_rpt_jset(b, o, "status",
			    json_string(ir_rpt_status_name(s->status)));
		ir_rpt_jset(b, o, "start_ms", json_integer(s->start_ms));
		ir_rpt_jset(b, o, "duration_ms", ir_rpt_jms(s->duration_ms));
		ir_rpt_jset(b, o, "budget_ms", ir_rpt_jms(s->budget_ms));
		ir_rpt_jset(b, o, "over_budget",
			    json_boolean(s->over_budget));
		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(s->seq));
		ir_rpt_jset(b, o, "end_seq", ir_rpt_jseq(s->end_seq));
		ir_rpt_jset(b, o, "error", ir_rpt_jstr(s->error));
		ir_rpt_jset(b, o, "exit_code",
			    s->has_exit ? json_integer(s->exit_code)
					: json_null());
		ir_rpt_jset(b, o, "why", ir_rpt_jstr(s->why));
		ir_rpt_jset(b, o, "command", ir_rpt_jstr(s->command));
		ir_rpt_jset(b, o, "output_lines",
			    json_integer((json_int_t)s->output_lines));
		ir_rpt_jset(b, o, "dropped_lines",
			    json_integer((json_int_t)s->dropped));
		ir_rpt_jpush(b, a, o);
	}
	if (!a)
		b->oom = true;
	return a;
}

static void
metric(struct ir_rpt_jb *b, json_t *o, const char *name,
       const struct ir_rpt_key *k)
{
	char key[64];

	snprintf(key, sizeof(key), "time_to_%s_ms", name);
	ir_rpt_jset(b, o, key, k->seq ? json_integer(k->ms) : json_null());
	snprintf(key, sizeof(key), "time_to_%s_seq", name);
	ir_rpt_jset(b, o, key, ir_rpt_jseq(k->seq));
}

json_t *
ir_rpt_json_metrics(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *o = json_object();

	metric(b, o, "stopped", &m->stopped);
	metric(b, o, "rolled_back", &m->rolled_back);
	metric(b, o, "healthy", &m->healthy);
	metric(b, o, "soak_failed", &m->soak_failed);
	metric(b, o, "closed", &m->closed);
	return o;
}

json_t *
ir_rpt_json_target(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *o;

	if (!m->target_seq)
		return json_null();
	o = json_object();
	ir_rpt_jset(b, o, "from", ir_rpt_jstr(m->from));
	ir_rpt_jset(b, o, "to", ir_rpt_jstr(m->to));
	ir_rpt_jset(b, o, "from_commit", ir_rpt_jstr(m->from_commit));
	ir_rpt_jset(b, o, "to_commit", ir_rpt_jstr(m->to_commit));
	ir_rpt_jset(b, o, "why", ir_rpt_jstr(m->target_why));
	ir_rpt_jset(b, o, "skipped", ir_rpt_jstr(m->skipped));
	ir_rpt_jset(b, o, "seq", ir_rpt_jseq(m->target_seq));
	ir_rpt_jset(b, o, "offset_ms", json_integer(m->target_ms));
	return o;
}

static json_t *
decisions(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->decisions.n; i++) {
		const struct ir_rpt_decision *d =
			IR_RPT_AT(m->decisions, struct ir_rpt_decision, i);
		json_t *o = json_object();

		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(d->seq));
		ir_rpt_jset(b, o, "offset_ms", json_integer(d->at_ms));
		ir_rpt_jset(b, o, "step",
			    d->step[0] ? ir_rpt_jstr(d->step) : json_null());
		ir_rpt_jset(b, o, "question", ir_rpt_jstr(d->question));
		ir_rpt_jset(b, o, "answer", ir_rpt_jstr(d->answer));
		ir_rpt_jset(b, o, "because", ir_rpt_jstr(d->because));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
decision_path(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	struct ir_rpt_node nodes[IR_RPT_NODES];
	struct ir_rpt_line lines[IR_RPT_NODES];
	json_t *a = json_array();
	size_t i;

	ir_rpt_decision_path(m, nodes, lines);
	for (i = 0; i < IR_RPT_NODES; i++) {
		const struct ir_rpt_node *n = &nodes[i];
		const struct ir_rpt_decision *d = n->decision;
		json_t *o = json_object();

		ir_rpt_jset(b, o, "node", json_string(n->title));
		ir_rpt_jset(b, o, "action",
			    n->action ? json_string(n->action) : json_null());
		ir_rpt_jset(b, o, "no_action",
			    n->no_action ? json_string(n->no_action)
					 : json_null());
		ir_rpt_jset(b, o, "question", n->question
						      ? json_string(n->question)
						      : json_null());
		ir_rpt_jset(b, o, "step", json_string(n->step));
		ir_rpt_jset(b, o, "answer",
			    d ? ir_rpt_jstr(d->answer) : json_null());
		ir_rpt_jset(b, o, "because",
			    d ? ir_rpt_jstr(d->because) : json_null());
		ir_rpt_jset(b, o, "seq", d ? ir_rpt_jseq(d->seq) : json_null());
		ir_rpt_jset(b, o, "status",
			    n->run ? json_string(ir_rpt_status_name(
					     n->run->status))
				   : json_string("not run"));
		ir_rpt_jset(b, o, "outcome", ir_rpt_jstr(n->outcome->s));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
health(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	const struct ir_rpt_health *h = &m->health;
	json_t *o = json_object();
	int64_t median = -1;
	int64_t *copy = NULL;

	if (h->nlatency) {
		copy = malloc(h->nlatency * sizeof(*copy));
		if (!copy) {
			b->oom = true;
		} else {
			memcpy(copy, h->latency_us,
			       h->nlatency * sizeof(*copy));
			median = ir_rpt_percentile(copy, h->nlatency, 50);
			free(copy);
		}
	}
	ir_rpt_jset(b, o, "probes", json_integer((json_int_t)h->probes));
	ir_rpt_jset(b, o, "failures", json_integer((json_int_t)h->failures));
	ir_rpt_jset(b, o, "url", ir_rpt_jstr(h->url));
	ir_rpt_jset(b, o, "first_status",
		    h->probes ? json_integer(h->first_status) : json_null());
	ir_rpt_jset(b, o, "first_seq", ir_rpt_jseq(h->first_seq));
	ir_rpt_jset(b, o, "last_status",
		    h->probes ? json_integer(h->last_status) : json_null());
	ir_rpt_jset(b, o, "last_seq", ir_rpt_jseq(h->last_seq));
	ir_rpt_jset(b, o, "latency_median_us", ir_rpt_jms(median));
	ir_rpt_jset(b, o, "latency_max_us",
		    h->nlatency ? json_integer(h->max_latency_us)
				: json_null());
	ir_rpt_jset(b, o, "latency_samples",
		    json_integer((json_int_t)h->nlatency));
	ir_rpt_jset(b, o, "last_error", ir_rpt_jstr(h->last_error));
	return o;
}

static json_t *
items(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->items.n; i++) {
		const struct ir_rpt_item *it =
			IR_RPT_AT(m->items, struct ir_rpt_item, i);
		json_t *o = json_object();

		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(it->seq));
		ir_rpt_jset(b, o, "offset_ms", json_integer(it->at_ms));
		ir_rpt_jset(b, o, "step",
			    it->step[0] ? ir_rpt_jstr(it->step) : json_null());
		ir_rpt_jset(b, o, "what", ir_rpt_jstr(it->what));
		ir_rpt_jset(b, o, "summary", ir_rpt_jstr(it->summary));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
log_tail(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	const struct ir_rpt_logtail *t = &m->logtail;
	json_t *o, *lines;
	size_t i;

	if (!t->seq)
		return json_null();
	o = json_object();
	lines = json_array();
	for (i = 0; i < t->n; i++)
		ir_rpt_jpush(b, lines, ir_rpt_jstr(t->lines[i]));
	ir_rpt_jset(b, o, "seq", ir_rpt_jseq(t->seq));
	ir_rpt_jset(b, o, "path", ir_rpt_jstr(t->path));
	ir_rpt_jset(b, o, "total_lines", json_integer((json_int_t)t->total));
	ir_rpt_jset(b, o, "lines", lines);
	return o;
}

static json_t *
backups(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->backups.n; i++) {
		const struct ir_rpt_backup *x =
			IR_RPT_AT(m->backups, struct ir_rpt_backup, i);
		json_t *o = json_object();

		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(x->seq));
		ir_rpt_jset(b, o, "offset_ms", json_integer(x->at_ms));
		ir_rpt_jset(b, o, "path", ir_rpt_jstr(x->path));
		ir_rpt_jset(b, o, "bytes", ir_rpt_jms(x->bytes));
		ir_rpt_jset(b, o, "files", ir_rpt_jms(x->files));
		ir_rpt_jset(b, o, "sha256", ir_rpt_jstr(x->sha256));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
notes(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	char t[IR_RPT_TIME_LEN];
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->notes.n; i++) {
		const struct ir_rpt_note *n =
			IR_RPT_AT(m->notes, struct ir_rpt_note, i);
		json_t *o = json_object();

		ir_rpt_time(t, n->ts);
		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(n->seq));
		ir_rpt_jset(b, o, "offset_ms", json_integer(n->at_ms));
		ir_rpt_jset(b, o, "time", json_string(t));
		ir_rpt_jset(b, o, "author", ir_rpt_jstr(n->author));
		ir_rpt_jset(b, o, "text", ir_rpt_jstr(n->text));
		ir_rpt_jset(b, o, "corrects", ir_rpt_jseq(n->corrects));
		ir_rpt_jset(b, o, "corrected", ir_rpt_jstr(n->corrected));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
resumes(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->resumes.n; i++) {
		const struct ir_rpt_resume *r =
			IR_RPT_AT(m->resumes, struct ir_rpt_resume, i);
		json_t *o = json_object();

		ir_rpt_jset(b, o, "seq", ir_rpt_jseq(r->seq));
		ir_rpt_jset(b, o, "offset_ms", json_integer(r->at_ms));
		ir_rpt_jset(b, o, "interrupted_step", ir_rpt_jstr(r->step));
		ir_rpt_jset(b, o, "actor", ir_rpt_jstr(r->actor));
		ir_rpt_jset(b, o, "pid", ir_rpt_jms(r->pid));
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static void
fact(void *payload, const char *text)
{
	void **p = payload;

	ir_rpt_jpush(p[0], p[1], ir_rpt_jstr(text));
}

static json_t *
postmortem(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < IR_RPT_PM_SECTIONS; i++) {
		json_t *a = json_array();
		void *p[2] = { b, a };

		ir_rpt_postmortem(m, (enum ir_rpt_pm)i, fact, p);
		ir_rpt_jset(b, o, ir_rpt_pm_key[i], a);
	}
	return o;
}

static json_t *
checklist(struct ir_rpt_jb *b)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < IR_RPT_CHECKS; i++) {
		const struct ir_rpt_check *c = &ir_rpt_checklist[i];
		json_t *o = json_object();

		ir_rpt_jset(b, o, "item", json_string(c->name));
		ir_rpt_jset(b, o, "what", json_string(c->what));
		ir_rpt_jset(b, o, "done", json_false());
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

static json_t *
integrity(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	char hex[IR_SHA256_HEX];
	json_t *o = json_object(), *types = json_object();
	size_t i;

	ir_hex(hex, m->head, IR_HASH_LEN);
	for (i = 0; i < m->ntypes; i++)
		ir_rpt_jset_key(b, types, m->types[i].type,
				json_integer((json_int_t)m->types[i].n));
	if (m->types_other)
		ir_rpt_jset(b, types, "(other)",
			    json_integer((json_int_t)m->types_other));
	ir_rpt_jset(b, o, "events", json_integer((json_int_t)m->events));
	ir_rpt_jset(b, o, "head", json_string(hex));
	ir_rpt_jset(b, o, "verified", json_boolean(m->verified));
	if (m->checkpoint_seq) {
		json_t *c = json_object();

		ir_hex(hex, m->checkpoint_root, IR_HASH_LEN);
		ir_rpt_jset(b, c, "seq",
			    json_integer((json_int_t)m->checkpoint_seq));
		ir_rpt_jset(b, c, "size",
			    json_integer((json_int_t)m->checkpoint_size));
		ir_rpt_jset(b, c, "root", json_string(hex));
		ir_rpt_jset(b, c, "what", json_string(m->checkpoint_what));
		ir_rpt_jset(b, o, "checkpoint", c);
	}
	ir_rpt_jset(b, o, "output_lines", json_integer((json_int_t)m->outputs));
	ir_rpt_jset(b, o, "by_type", types);
	return o;
}

static json_t *
truncated(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *o = json_object();

	ir_rpt_jset(b, o, "steps", json_integer((json_int_t)m->steps.dropped));
	ir_rpt_jset(b, o, "decisions",
		    json_integer((json_int_t)m->decisions.dropped));
	ir_rpt_jset(b, o, "notes", json_integer((json_int_t)m->notes.dropped));
	ir_rpt_jset(b, o, "backups",
		    json_integer((json_int_t)m->backups.dropped));
	ir_rpt_jset(b, o, "resumes",
		    json_integer((json_int_t)m->resumes.dropped));
	ir_rpt_jset(b, o, "observations",
		    json_integer((json_int_t)m->items.dropped));
	return o;
}

static json_t *
fold_obj(struct ir_rpt_jb *b, const struct ir_rpt_model *m,
	 const struct ir_rpt_fold *f, bool lines)
{
	char cmd[IR_RPT_SHOWN_BY_LEN];
	json_t *o = json_object();

	ir_rpt_shown_by(cmd, m, lines);
	ir_rpt_jset(b, o, "count", json_integer((json_int_t)f->count));
	ir_rpt_jset(b, o, "first_seq", ir_rpt_jseq(f->first_seq));
	ir_rpt_jset(b, o, "last_seq", ir_rpt_jseq(f->last_seq));
	ir_rpt_jset(b, o, "shown_by", json_string(cmd));
	return o;
}

static json_t *
kind_folds(struct ir_rpt_jb *b, const struct ir_rpt_model *m,
	   const struct ir_rpt_kinds *ks)
{
	const struct ir_rpt_kind *folds[IR_LIMIT_REPORT_KINDS + 1];
	size_t i, n = ir_rpt_kind_folds(folds, ks);
	json_t *a = json_array();

	for (i = 0; i < n; i++) {
		const struct ir_rpt_kind *k = folds[i];
		json_t *o = fold_obj(b, m, &k->s.fold, false);
		struct ir_rpt_line l = { .len = 0 };

		ir_rpt_kind_name(&l, k);
		ir_rpt_jset(b, o, "kind", ir_rpt_jstr(l.s));
		if (!k->is_item) {
			ir_rpt_jset(b, o, "type",
				    k->other ? json_null()
					     : ir_rpt_jstr(k->type));
			ir_rpt_jset(b, o, "step",
				    k->step[0] ? ir_rpt_jstr(k->step)
					       : json_null());
		}
		ir_rpt_jset(b, o, "what", k->what[0] ? ir_rpt_jstr(k->what)
						     : json_null());
		ir_rpt_jpush(b, a, o);
	}
	return a;
}

/* The runs the timeline shows whose lines it folds. */
static void
run_fold(struct ir_rpt_jb *b, const struct ir_rpt_model *m, json_t *a,
	 const struct ir_rpt_runidx *x)
{
	struct ir_rpt_fold f;
	json_t *o;

	if (!x->is_run || x->count <= IR_LIMIT_REPORT_FOLD)
		return;
	f = (struct ir_rpt_fold){ x->count - IR_LIMIT_REPORT_FOLD,
				  x->first_seq + IR_LIMIT_REPORT_FOLD_KEEP,
				  x->last_seq - IR_LIMIT_REPORT_FOLD_KEEP };
	o = fold_obj(b, m, &f, true);
	ir_rpt_jset(b, o, "step", x->step[0] ? ir_rpt_jstr(x->step)
					     : json_null());
	ir_rpt_jset(b, o, "run_first_seq", ir_rpt_jseq(x->first_seq));
	ir_rpt_jset(b, o, "run_last_seq", ir_rpt_jseq(x->last_seq));
	ir_rpt_jset(b, o, "lines", json_integer((json_int_t)x->count));
	ir_rpt_jpush(b, a, o);
}

static int
cmp_run_fold(const void *x, const void *y)
{
	uint64_t a = json_integer_value(
		json_object_get(*(json_t *const *)x, "run_first_seq"));
	uint64_t c = json_integer_value(
		json_object_get(*(json_t *const *)y, "run_first_seq"));

	return (a > c) - (a < c);
}

static json_t *
output_folds(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	const struct ir_rpt_kinds *ks = &m->kinds;
	json_t *a = json_array(), *sorted[(IR_LIMIT_REPORT_KINDS + 1) *
					  IR_LIMIT_REPORT_FOLD];
	size_t i, j, n;

	for (i = 0; ks->v && i <= IR_LIMIT_REPORT_KINDS; i++) {
		const struct ir_rpt_series *s = &ks->v[i].s;

		if (i >= ks->n && i < IR_LIMIT_REPORT_KINDS)
			continue;
		for (j = 0; j < ir_rpt_series_head(s); j++)
			run_fold(b, m, a, &s->head[j]);
		for (j = 0; j < ir_rpt_series_tail(s); j++)
			run_fold(b, m, a, ir_rpt_series_tail_at(s, j));
	}
	/* In the order of the timeline. */
	n = json_array_size(a);
	for (i = 0; i < n; i++)
		sorted[i] = json_incref(json_array_get(a, i));
	qsort(sorted, n, sizeof(*sorted), cmp_run_fold);
	json_array_clear(a);
	for (i = 0; i < n; i++)
		ir_rpt_jpush(b, a, sorted[i]);
	return a;
}

/* What the Markdown and HTML reports fold, and this one with them: the
 * notes and observations arrays keep the same entries. */
static json_t *
folded(struct ir_rpt_jb *b, const struct ir_rpt_model *m)
{
	json_t *o = json_object();

	ir_rpt_jset(b, o, "full", json_boolean(m->full));
	ir_rpt_jset(b, o, "threshold", json_integer(IR_LIMIT_REPORT_FOLD));
	ir_rpt_jset(b, o, "kept", json_integer(IR_LIMIT_REPORT_FOLD_KEEP));
	ir_rpt_jset(b, o, "notes",
		    m->note_series.fold.count
			    ? fold_obj(b, m, &m->note_series.fold, false)
			    : json_null());
	ir_rpt_jset(b, o, "observations", kind_folds(b, m, &m->item_kinds));
	ir_rpt_jset(b, o, "timeline", kind_folds(b, m, &m->kinds));
	ir_rpt_jset(b, o, "output", output_folds(b, m));
	return o;
}

int
ir_rpt_json_dump(FILE *out, json_t *v, size_t flags, struct ir_ctx *ctx)
{
	if (json_dumpf(v, out, flags) || fputc('\n', out) == EOF)
		return ir_error_set(ctx, -EIO, IR_ORIGIN_OS, 0,
				    "cannot write the JSON output");
	return 0;
}

int
ir_rpt_json(FILE *out, const struct ir_rpt_model *m, struct ir_ctx *ctx)
{
	struct ir_rpt_jb b = { false };
	char t[IR_RPT_TIME_LEN], name[32];
	int64_t total = ir_rpt_model_duration(m);
	json_t *o = json_object();
	int rc;

	snprintf(name, sizeof(name), "INC-%llu", (unsigned long long)m->id);
	ir_rpt_jset(&b, o, "format", json_string("incident-report"));
	ir_rpt_jset(&b, o, "version", json_integer(1));
	ir_rpt_jset(&b, o, "id", json_integer((json_int_t)m->id));
	ir_rpt_jset(&b, o, "incident", json_string(name));
	ir_rpt_jset(&b, o, "kind", ir_rpt_jstr(m->kind));
	ir_rpt_jset(&b, o, "status", ir_rpt_jstr(m->status));
	ir_rpt_jset(&b, o, "open", json_boolean(!m->closed_seq));
	ir_rpt_jset(&b, o, "reason", ir_rpt_jstr(m->reason));
	ir_rpt_jset(&b, o, "caused_by",
		    m->caused_by ? json_integer((json_int_t)m->caused_by)
				 : json_null());
	ir_rpt_jset(&b, o, "rolled_back_by",
		    m->rolled_back_by
			    ? json_integer((json_int_t)m->rolled_back_by)
			    : json_null());
	ir_rpt_jset(&b, o, "actor", ir_rpt_jstr(m->actor));
	ir_rpt_jset(&b, o, "host", ir_rpt_jstr(m->host));
	ir_rpt_time(t, m->opened_ts);
	ir_rpt_jset(&b, o, "opened", json_string(t));
	ir_rpt_jset(&b, o, "opened_ns", json_integer(m->opened_ts));
	if (m->closed_seq)
		ir_rpt_time(t, m->closed_ts);
	ir_rpt_jset(&b, o, "closed",
		    m->closed_seq ? json_string(t) : json_null());
	ir_rpt_jset(&b, o, "closed_ns",
		    m->closed_seq ? json_integer(m->closed_ts) : json_null());
	ir_rpt_jset(&b, o, "from", ir_rpt_jstr(m->from));
	ir_rpt_jset(&b, o, "to", ir_rpt_jstr(m->to));
	ir_rpt_jset(&b, o, "from_commit", ir_rpt_jstr(m->from_commit));
	ir_rpt_jset(&b, o, "to_commit", ir_rpt_jstr(m->to_commit));
	ir_rpt_jset(&b, o, "target", ir_rpt_json_target(&b, m));
	ir_rpt_jset(&b, o, "duration_ms", json_integer(total));
	ir_rpt_jset(&b, o, "budget_ms", json_integer(m->budget_ms));
	ir_rpt_jset(&b, o, "over_budget", json_boolean(total > m->budget_ms));
	ir_rpt_time(t, ir_rpt_add(m->opened_ts, IR_RPT_POSTMORTEM_NS));
	ir_rpt_jset(&b, o, "postmortem_due", json_string(t));
	ir_rpt_jset(&b, o, "steps", ir_rpt_json_steps(&b, m));
	ir_rpt_jset(&b, o, "decisions", decisions(&b, m));
	ir_rpt_jset(&b, o, "decision_path", decision_path(&b, m));
	ir_rpt_jset(&b, o, "metrics", ir_rpt_json_metrics(&b, m));
	ir_rpt_jset(&b, o, "health", health(&b, m));
	ir_rpt_jset(&b, o, "observations", items(&b, m));
	ir_rpt_jset(&b, o, "log_tail", log_tail(&b, m));
	ir_rpt_jset(&b, o, "backups", backups(&b, m));
	ir_rpt_jset(&b, o, "notes", notes(&b, m));
	ir_rpt_jset(&b, o, "resumes", resumes(&b, m));
	ir_rpt_jset(&b, o, "checklist", checklist(&b));
	ir_rpt_jset(&b, o, "postmortem", postmortem(&b, m));
	ir_rpt_jset(&b, o, "integrity", integrity(&b, m));
	ir_rpt_jset(&b, o, "truncated", truncated(&b, m));
	ir_rpt_jset(&b, o, "folded", folded(&b, m));
	if (b.oom) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
				  "INC-%llu: out of memory for the JSON "
				  "report",
				  (unsigned long long)m->id);
		goto out;
	}
	rc = ir_rpt_json_dump(out, o, IR_RPT_JSON_FLAGS, ctx);
	if (!rc)
		rc = ir_rpt_flush(out, ctx);
out:
	json_decref(o);
	return rc;
}
