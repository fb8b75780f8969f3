/*
 * The report model, after the fold (model.c): releasing it, and the
 * lookups the renderers make in it.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
list_free(struct ir_rpt_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static void
notes_free(struct ir_rpt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ir_rpt_note *n = IR_RPT_AT(*l, struct ir_rpt_note, i);

		free(n->author);
		free(n->text);
		free(n->corrected);
	}
	list_free(l);
}

void
ir_rpt_model_clear(struct ir_rpt_model *m)
{
	size_t i;

	if (!m)
		return;
	free(m->runs);
	m->runs = NULL;
	m->nruns = m->caprun = 0;
	free(m->reason);
	free(m->actor);
	free(m->host);
	free(m->version);
	free(m->config);
	free(m->from);
	free(m->to);
	free(m->from_commit);
	free(m->to_commit);
	free(m->target_why);
	free(m->skipped);
	for (i = 0; i < m->steps.n; i++) {
		struct ir_rpt_step *s = IR_RPT_AT(m->steps, struct ir_rpt_step,
						  i);

		free(s->command);
		free(s->error);
		free(s->why);
	}
	for (i = 0; i < m->decisions.n; i++) {
		struct ir_rpt_decision *d =
			IR_RPT_AT(m->decisions, struct ir_rpt_decision, i);

		free(d->question);
		free(d->answer);
		free(d->because);
	}
	notes_free(&m->notes);
	notes_free(&m->corrections);
	for (i = 0; i < m->backups.n; i++) {
		struct ir_rpt_backup *b =
			IR_RPT_AT(m->backups, struct ir_rpt_backup, i);

		free(b->path);
		free(b->sha256);
	}
	for (i = 0; i < m->resumes.n; i++) {
		struct ir_rpt_resume *r =
			IR_RPT_AT(m->resumes, struct ir_rpt_resume, i);

		free(r->step);
		free(r->actor);
	}
	for (i = 0; i < m->items.n; i++)
		free(IR_RPT_AT(m->items, struct ir_rpt_item, i)->summary);
	list_free(&m->steps);
	list_free(&m->decisions);
	list_free(&m->notes);
	list_free(&m->backups);
	list_free(&m->resumes);
	list_free(&m->items);
	free(m->kinds.v);
	free(m->item_kinds.v);
	free(m->health.url);
	free(m->health.last_error);
	free(m->health.latency_us);
	for (i = 0; i < m->logtail.n; i++)
		free(m->logtail.lines[i]);
	free(m->logtail.path);
	ir_buf_clear(&m->last_raw);
	memset(m, 0, sizeof(*m));
}

int64_t
ir_rpt_model_duration(const struct ir_rpt_model *m)
{
	if (m->closed_seq)
		return m->closed_duration_ms;
	return m->last_ms;
}

const struct ir_rpt_step *
ir_rpt_model_step(const struct ir_rpt_model *m, const char *name)
{
	size_t i;

	for (i = m->steps.n; i-- > 0;) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

const struct ir_rpt_decision *
ir_rpt_model_decision(const struct ir_rpt_model *m, const char *question)
{
	size_t i;

	for (i = 0; i < m->decisions.n; i++) {
		const struct ir_rpt_decision *d =
			IR_RPT_AT(m->decisions, struct ir_rpt_decision, i);

		if (d->question && !strcmp(d->question, question))
			return d;
	}
	return NULL;
}

const struct ir_rpt_note *
ir_rpt_model_correction(const struct ir_rpt_model *m, uint64_t seq, size_t i)
{
	size_t k;

	for (k = 0; k < m->corrections.n; k++) {
		const struct ir_rpt_note *n =
			IR_RPT_AT(m->corrections, struct ir_rpt_note, k);

		if (n->corrects == seq && !i--)
			return n;
	}
	return NULL;
}

void
ir_rpt_shown_by(char out[IR_RPT_SHOWN_BY_LEN], const struct ir_rpt_model *m,
		bool lines)
{
	snprintf(out, IR_RPT_SHOWN_BY_LEN, "incident %s INC-%llu",
		 lines ? "export" : "timeline", (unsigned long long)m->id);
}

void
ir_rpt_kind_name(struct ir_rpt_line *l, const struct ir_rpt_kind *k)
{
	if (k->other) {
		ir_rpt_line_adds(l, "events of other kinds");
		return;
	}
	if (k->is_item) {
		ir_rpt_line_printf(l, "%s records", k->what);
		return;
	}
	if (!strcmp(k->type, "step.output"))
		ir_rpt_line_printf(l, "runs of %s", k->type);
	else
		ir_rpt_line_printf(l, "%s%s%s%s events", k->type,
				   k->what[0] ? " (" : "", k->what,
				   k->what[0] ? ")" : "");
	if (k->step[0])
		ir_rpt_line_printf(l, " of step %s", k->step);
}

static int
cmp_fold(const void *a, const void *b)
{
	uint64_t x = (*(const struct ir_rpt_kind *const *)a)->s.fold.first_seq;
	uint64_t y = (*(const struct ir_rpt_kind *const *)b)->s.fold.first_seq;

	return (x > y) - (x < y);
}

size_t
ir_rpt_kind_folds(const struct ir_rpt_kind **out, const struct ir_rpt_kinds *ks)
{
	size_t i, n = 0;

	if (!ks->v)
		return 0;
	for (i = 0; i < ks->n; i++)
		if (ks->v[i].s.fold.count)
			out[n++] = &ks->v[i];
	if (ks->v[IR_LIMIT_REPORT_KINDS].s.fold.count)
		out[n++] = &ks->v[IR_LIMIT_REPORT_KINDS];
	qsort(out, n, sizeof(*out), cmp_fold);
	return n;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
ir_rpt_percentile(int64_t *v, size_t n, unsigned pct)
{
	size_t rank;

	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_i64);
	if (pct == 50 && n % 2 == 0)
		return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
	/* nearest rank: the smallest value with pct% at or below it */
	rank = ((size_t)pct * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

int
ir_rpt_flush(FILE *out, struct ir_ctx *ctx)
{
	if (fflush(out) || ferror(out))
		return ir_error_set(ctx, -EIO, IR_ORIGIN_OS, errno,
				    "cannot write the report: %s",
				    strerror(errno ? errno : EIO));
	return 0;
}
