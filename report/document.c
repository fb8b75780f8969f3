/* The report's sections, written once for Markdown and HTML through the
 * document writer (doc.h). */
#include "document.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ir_limits.h"

static void
offset(char out[IR_RPT_DUR_LEN], int64_t ms)
{
	ir_rpt_offset(out, ms);
}

static void
title(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	char t[128];

	snprintf(t, sizeof(t), "INC-%llu: %s incident report",
		 (unsigned long long)m->id, m->kind[0] ? m->kind : "unknown");
	ir_rpt_doc_heading(d, 1, "top", t);
}

static void
field(struct ir_rpt_doc *d, const char *name, const char *value)
{
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, name);
	ir_rpt_doc_td(d, value && *value ? value : "-");
	ir_rpt_doc_row(d, false);
}

static void
tag_field(struct ir_rpt_doc *d, const char *name, const char *tag,
	  const char *commit, uint64_t seq)
{
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, name);
	ir_rpt_doc_cell(d, true);
	if (tag) {
		ir_rpt_doc_text(d, tag);
		if (commit && *commit) {
			ir_rpt_doc_text(d, " at commit ");
			ir_rpt_doc_mono(d, commit);
		}
		ir_rpt_doc_textf(d, " (seq %llu)", (unsigned long long)seq);
	} else {
		ir_rpt_doc_text(d, "not chosen");
	}
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
}

static void
summary(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Field", "Value" };
	char t[IR_RPT_TIME_LEN], a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	int64_t total = ir_rpt_model_duration(m);

	ir_rpt_doc_heading(d, 2, "summary", "Summary");
	ir_rpt_doc_table(d, head, 2);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Incident");
	ir_rpt_doc_tdf(d, "INC-%llu", (unsigned long long)m->id);
	ir_rpt_doc_row(d, false);
	field(d, "Kind", m->kind);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Status");
	ir_rpt_doc_cell(d, true);
	if (m->closed_seq) {
		if (strcmp(m->status, "succeeded"))
			ir_rpt_doc_alert(d, m->status);
		else
			ir_rpt_doc_text(d, m->status);
	} else {
		ir_rpt_doc_alert(d, "open");
		ir_rpt_doc_text(d, " (not closed: still running, or "
				   "interrupted and not resumed)");
	}
	if (m->resumes.n)
		ir_rpt_doc_textf(d, "; resumed %zu time%s", m->resumes.n,
				 m->resumes.n == 1 ? "" : "s");
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
	field(d, "Reason", m->reason);
	if (m->caused_by) {
		char link[64];

		snprintf(link, sizeof(link), "INC-%llu (a deploy that failed)",
			 (unsigned long long)m->caused_by);
		field(d, "Caused by", link);
	}
	if (m->rolled_back_by) {
		char link[64];

		snprintf(link, sizeof(link), "INC-%llu",
			 (unsigned long long)m->rolled_back_by);
		field(d, "Rolled back by", link);
	}
	field(d, "Actor", m->actor);
	field(d, "Host", m->host);
	ir_rpt_time(t, m->opened_ts);
	field(d, "Opened (UTC)", t);
	if (m->closed_seq)
		ir_rpt_time(t, m->closed_ts);
	field(d, "Closed (UTC)", m->closed_seq ? t : "not closed");
	tag_field(d, "From", m->from, m->from_commit, m->target_seq);
	tag_field(d, "To", m->to, m->to_commit, m->target_seq);
	if (m->skipped)
		field(d, "Known-bad skipped", m->skipped);
	ir_rpt_dur(a, total);
	ir_rpt_dur(b, m->budget_ms);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Duration");
	ir_rpt_doc_cell(d, true);
	ir_rpt_doc_textf(d, "%s%s of the %s target (%lld%%): ", a,
			 m->closed_seq ? "" : " so far", b,
			 (long long)(total * 100 / m->budget_ms));
	/* "within target" is said of a rollback that succeeded only. */
	if (total > m->budget_ms) {
		ir_rpt_doc_alert(d, "over target");
	} else if (m->closed_seq && strcmp(m->status, "succeeded")) {
		ir_rpt_doc_alert(d, m->status);
		ir_rpt_doc_textf(d, " after %s", a);
	} else {
		ir_rpt_doc_text(d, "within target");
	}
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
	ir_rpt_time(t, ir_rpt_add(m->opened_ts, IR_RPT_POSTMORTEM_NS));
	field(d, "Post-mortem due (UTC)", t);
	ir_rpt_doc_table_end(d);
}

static void
key_row(struct ir_rpt_doc *d, const char *name, const struct ir_rpt_key *k)
{
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN];

	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, name);
	if (!k->seq) {
		ir_rpt_doc_td(d, "not reached");
		ir_rpt_doc_td(d, "-");
		ir_rpt_doc_td(d, "-");
	} else {
		offset(o, k->ms);
		ir_rpt_time(t, k->ts);
		ir_rpt_doc_td(d, o);
		ir_rpt_doc_td(d, t);
		ir_rpt_doc_tdf(d, "seq %llu (%s)", (unsigned long long)k->seq,
			       k->what);
	}
	ir_rpt_doc_row(d, false);
}

static void
key_times(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Milestone", "After opening",
					    "At (UTC)", "From event" };

	ir_rpt_doc_heading(d, 2, "key-times", "Key times");
	ir_rpt_doc_table(d, head, 4);
	key_row(d, "Trading stopped", &m->stopped);
	key_row(d, "Rolled back", &m->rolled_back);
	key_row(d, "Healthy", &m->healthy);
	if (m->soak_failed.seq)
		key_row(d, "Soak failed", &m->soak_failed);
	key_row(d, "Closed", &m->closed);
	ir_rpt_doc_table_end(d);
}

static void
dropped(struct ir_rpt_doc *d, uint64_t n, const char *what)
{
	if (!n)
		return;
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_textf(d, "%llu more %s not listed (report limit %d).",
			 (unsigned long long)n, what, IR_LIMIT_REPORT_ITEMS);
	ir_rpt_doc_para(d, false);
}

/* What folding left out and the command that shows it all, the same
 * words in every section and format. */
static void
fold_words(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
	   const char *what, const struct ir_rpt_fold *f, bool lines)
{
	char cmd[IR_RPT_SHOWN_BY_LEN];

	ir_rpt_shown_by(cmd, m, lines);
	ir_rpt_doc_textf(d, "\u2026 %llu more %s folded (seq %llu",
			 (unsigned long long)f->count, what,
			 (unsigned long long)f->first_seq);
	if (f->last_seq != f->first_seq)
		ir_rpt_doc_textf(d, "-%llu", (unsigned long long)f->last_seq);
	ir_rpt_doc_text(d, "): ");
	ir_rpt_doc_mono(d, cmd);
	ir_rpt_doc_text(d, " shows them all");
}

static void
decision_path(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Seq",	"Offset",   "Step",
					    "Question", "Answer", "Because" };
	struct ir_rpt_node nodes[IR_RPT_NODES];
	struct ir_rpt_line lines[IR_RPT_NODES];
	char o[IR_RPT_DUR_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "decisions", "Decision path");
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_text(d, "The runbook's decision tree, with the answer "
			   "taken at each node and what was observed.");
	ir_rpt_doc_para(d, false);
	ir_rpt_decision_path(m, nodes, lines);
	ir_rpt_doc_list(d, true, true);
	for (i = 0; i < IR_RPT_NODES; i++) {
		const struct ir_rpt_node *n = &nodes[i];

		ir_rpt_doc_item(d, true);
		ir_rpt_doc_strong(d, n->title);
		if (n->question && n->decision) {
			ir_rpt_doc_text(d, " ");
			ir_rpt_doc_strong(d, n->decision->answer
						     ? n->decision->answer
						     : "?");
			ir_rpt_doc_textf(
				d, " (seq %llu)",
				(unsigned long long)n->decision->seq);
			if (n->decision->because) {
				ir_rpt_doc_text(d, ", because: ");
				ir_rpt_doc_text(d, n->decision->because);
			}
		} else if (n->question) {
			ir_rpt_doc_text(d, " no decision recorded");
		}
		if (n->action) {
			bool no = n->decision && n->decision->answer &&
				  !strcmp(n->decision->answer, "no");

			ir_rpt_doc_text(d, " \u2192 ");
			ir_rpt_doc_text(d, no ? n->no_action : n->action);
		}
		ir_rpt_doc_text(d, ": ");
		ir_rpt_doc_text(d, n->outcome->s);
		ir_rpt_doc_item(d, false);
	}
	ir_rpt_doc_list(d, false, true);
	if (!m->decisions.n)
		return;
	ir_rpt_doc_heading(d, 3, "decisions-all", "Every decision");
	ir_rpt_doc_table(d, head, 6);
	for (i = 0; i < m->decisions.n; i++) {
		const struct ir_rpt_decision *x =
			IR_RPT_AT(m->decisions, struct ir_rpt_decision, i);

		offset(o, x->at_ms);
		ir_rpt_doc_row(d, true);
		ir_rpt_doc_tdf(d, "%llu", (unsigned long long)x->seq);
		ir_rpt_doc_td(d, o);
		ir_rpt_doc_td(d, x->step[0] ? x->step : "-");
		ir_rpt_doc_td(d, x->question ? x->question : "?");
		ir_rpt_doc_td(d, x->answer ? x->answer : "?");
		ir_rpt_doc_td(d, x->because ? x->because : "-");
		ir_rpt_doc_row(d, false);
	}
	ir_rpt_doc_table_end(d);
	dropped(d, m->decisions.dropped, "decisions");
}

static void
correction(struct ir_rpt_doc *d, const struct ir_rpt_note *n)
{
	ir_rpt_doc_text(d, " ");
	ir_rpt_doc_alert(d, "Corrected");
	ir_rpt_doc_textf(d, " by note seq %llu (%s): ",
			 (unsigned long long)n->seq,
			 n->author ? n->author : "?");
	ir_rpt_doc_text(d, n->text);
}

static void
corrections(struct ir_rpt_doc *d, const struct ir_rpt_model *m, uint64_t seq)
{
	const struct ir_rpt_note *n;
	size_t i;

	for (i = 0; (n = ir_rpt_model_correction(m, seq, i)); i++)
		correction(d, n);
}

static void
step_detail(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
	    const struct ir_rpt_step *s)
{
	ir_rpt_doc_cell(d, true);
	if (s->end_seq && s->end_seq != s->seq)
		ir_rpt_doc_textf(d, "seq %llu-%llu",
				 (unsigned long long)s->seq,
				 (unsigned long long)s->end_seq);
	else
		ir_rpt_doc_textf(d, "seq %llu", (unsigned long long)s->seq);
	if (s->error) {
		ir_rpt_doc_text(d, "; error: ");
		ir_rpt_doc_text(d, s->error);
	}
	if (s->has_exit)
		ir_rpt_doc_textf(d, "; exit %lld", (long long)s->exit_code);
	if (s->why) {
		ir_rpt_doc_text(d, "; ");
		ir_rpt_doc_text(d, s->why);
	}
	if (s->output_lines)
		ir_rpt_doc_textf(d, "; %llu output line%s",
				 (unsigned long long)s->output_lines,
				 s->output_lines == 1 ? "" : "s");
	if (s->dropped)
		ir_rpt_doc_textf(d, " (%llu more dropped)",
				 (unsigned long long)s->dropped);
	if (s->command) {
		ir_rpt_doc_text(d, "; ");
		ir_rpt_doc_mono(d, s->command);
	}
	corrections(d, m, s->seq);
	if (s->end_seq != s->seq)
		corrections(d, m, s->end_seq);
	ir_rpt_doc_cell(d, false);
}

static void
steps(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Step",   "Attempt", "Start",
					    "Duration", "Budget", "Status",
					    "Over budget", "Detail" };
	char a[IR_RPT_DUR_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "steps", "Steps");
	if (!m->steps.n) {
		ir_rpt_doc_para(d, true);
		ir_rpt_doc_text(d, "No step ran.");
		ir_rpt_doc_para(d, false);
		return;
	}
	ir_rpt_doc_table(d, head, 8);
	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		ir_rpt_doc_row(d, true);
		ir_rpt_doc_td(d, s->name[0] ? s->name : "?");
		ir_rpt_doc_tdf(d, "%lld", (long long)s->attempt);
		offset(a, s->start_ms);
		ir_rpt_doc_td(d, a);
		if (s->duration_ms >= 0)
			ir_rpt_dur(a, s->duration_ms);
		ir_rpt_doc_td(d, s->duration_ms >= 0 ? a : "-");
		if (s->budget_ms >= 0)
			ir_rpt_dur(a, s->budget_ms);
		ir_rpt_doc_td(d, s->budget_ms >= 0 ? a : "-");
		ir_rpt_doc_cell(d, true);
		if (s->status == IR_RPT_FAILED ||
		    s->status == IR_RPT_INTERRUPTED)
			ir_rpt_doc_alert(d, ir_rpt_status_name(s->status));
		else
			ir_rpt_doc_text(d, ir_rpt_status_name(s->status));
		ir_rpt_doc_cell(d, false);
		ir_rpt_doc_cell(d, true);
		if (s->over_budget)
			ir_rpt_doc_alert(d, "OVER BUDGET");
		else
			ir_rpt_doc_text(d, s->status == IR_RPT_SKIPPED ? "-"
								       : "no");
		ir_rpt_doc_cell(d, false);
		step_detail(d, m, s);
		ir_rpt_doc_row(d, false);
	}
	ir_rpt_doc_table_end(d);
	dropped(d, m->steps.dropped, "step runs");
}

static void
health(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	const struct ir_rpt_health *h = &m->health;
	char a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	int64_t *copy;

	ir_rpt_doc_heading(d, 3, "health", "Health probes");
	ir_rpt_doc_para(d, true);
	if (!h->probes) {
		ir_rpt_doc_text(d, "No health probe was recorded.");
		ir_rpt_doc_para(d, false);
		return;
	}
	ir_rpt_doc_textf(d, "%llu probe%s of ", (unsigned long long)h->probes,
			 h->probes == 1 ? "" : "s");
	ir_rpt_doc_mono(d, h->url ? h->url : "?");
	offset(a, h->first_ms);
	offset(b, h->last_ms);
	ir_rpt_doc_textf(d, ": first status %lld at %s (seq %llu), last "
			    "status %lld at %s (seq %llu); %llu failed.",
			 (long long)h->first_status, a,
			 (unsigned long long)h->first_seq,
			 (long long)h->last_status, b,
			 (unsigned long long)h->last_seq,
			 (unsigned long long)h->failures);
	/* The median sorts a copy: the model stays as it was read. */
	copy = h->nlatency ? malloc(h->nlatency * sizeof(*copy)) : NULL;
	if (copy) {
		memcpy(copy, h->latency_us, h->nlatency * sizeof(*copy));
		ir_rpt_us(a, ir_rpt_percentile(copy, h->nlatency, 50));
		ir_rpt_us(b, h->max_latency_us);
		ir_rpt_doc_textf(d, " Latency median %s, max %s (%zu samples).",
				 a, b, h->nlatency);
		free(copy);
	}
	if (h->last_error) {
		ir_rpt_doc_text(d, " Last error: ");
		ir_rpt_doc_text(d, h->last_error);
	}
	ir_rpt_doc_para(d, false);
}

/* The row in place of what folding left out of kind k: the items table
 * (seq, offset, step, what) or the timeline (seq, time, offset, event,
 * step), the words in the last column. */
static void
fold_row(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
	 const struct ir_rpt_kind *k, const struct ir_rpt_fold *f)
{
	struct ir_rpt_line l = { .len = 0 };

	ir_rpt_kind_name(&l, k);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "\u2026");
	ir_rpt_doc_td(d, "-");
	ir_rpt_doc_td(d, "-");
	if (k->is_item) {
		ir_rpt_doc_td(d, k->other ? "(others)" : k->what);
	} else {
		ir_rpt_doc_td(d, k->other ? "(others)" : k->type);
		ir_rpt_doc_td(d, k->step[0] ? k->step : "-");
	}
	ir_rpt_doc_cell(d, true);
	fold_words(d, m, l.s, f, false);
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
}

static void
observations(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Seq", "Offset", "Step", "What",
					    "Seen" };
	const struct ir_rpt_logtail *t = &m->logtail;
	const struct ir_rpt_kind *folds[IR_LIMIT_REPORT_KINDS + 1];
	char o[IR_RPT_DUR_LEN];
	size_t i, f = 0, nfolds;

	ir_rpt_doc_heading(d, 2, "observations", "Observations");
	health(d, m);
	ir_rpt_doc_heading(d, 3, "seen", "Processes, HEAD and other records");
	if (!m->items.n) {
		ir_rpt_doc_para(d, true);
		ir_rpt_doc_text(d, "None recorded.");
		ir_rpt_doc_para(d, false);
	} else {
		ir_rpt_doc_table(d, head, 5);
		nfolds = ir_rpt_kind_folds(folds, &m->item_kinds);
		for (i = 0; i <= m->items.n; i++) {
			const struct ir_rpt_item *it =
				i < m->items.n ? IR_RPT_AT(m->items,
							   struct ir_rpt_item,
							   i)
					       : NULL;

			for (; f < nfolds &&
			       (!it || folds[f]->s.fold.first_seq < it->seq);
			     f++)
				fold_row(d, m, folds[f], &folds[f]->s.fold);
			if (!it)
				break;
			offset(o, it->at_ms);
			ir_rpt_doc_row(d, true);
			ir_rpt_doc_tdf(d, "%llu", (unsigned long long)it->seq);
			ir_rpt_doc_td(d, o);
			ir_rpt_doc_td(d, it->step[0] ? it->step : "-");
			ir_rpt_doc_td(d, it->what);
			ir_rpt_doc_td(d, it->summary);
			ir_rpt_doc_row(d, false);
		}
		ir_rpt_doc_table_end(d);
		dropped(d, m->items.dropped, "records");
	}
	ir_rpt_doc_heading(d, 3, "log-tail", "Log tail");
	ir_rpt_doc_para(d, true);
	if (!t->seq) {
		ir_rpt_doc_text(d, "No log tail was recorded.");
		ir_rpt_doc_para(d, false);
		return;
	}
	offset(o, t->at_ms);
	ir_rpt_doc_text(d, "From ");
	ir_rpt_doc_mono(d, t->path ? t->path : "?");
	ir_rpt_doc_textf(d, " at %s (seq %llu), %llu lines%s:", o,
			 (unsigned long long)t->seq,
			 (unsigned long long)t->total,
			 t->total > t->n ? ", the last shown" : "");
	ir_rpt_doc_para(d, false);
	ir_rpt_doc_list(d, true, false);
	for (i = 0; i < t->n; i++) {
		ir_rpt_doc_item(d, true);
		ir_rpt_doc_mono(d, t->lines[i]);
		ir_rpt_doc_item(d, false);
	}
	ir_rpt_doc_list(d, false, false);
}

static void
backups(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Seq", "Archive", "Size", "Files",
					    "SHA-256" };
	char b[IR_RPT_DUR_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "backups", "Backups");
	if (!m->backups.n) {
		ir_rpt_doc_para(d, true);
		ir_rpt_doc_text(d, "No backup was created.");
		ir_rpt_doc_para(d, false);
		return;
	}
	ir_rpt_doc_table(d, head, 5);
	for (i = 0; i < m->backups.n; i++) {
		const struct ir_rpt_backup *x =
			IR_RPT_AT(m->backups, struct ir_rpt_backup, i);

		ir_rpt_doc_row(d, true);
		ir_rpt_doc_tdf(d, "%llu", (unsigned long long)x->seq);
		ir_rpt_doc_cell(d, true);
		ir_rpt_doc_mono(d, x->path ? x->path : "?");
		ir_rpt_doc_cell(d, false);
		ir_rpt_bytes(b, x->bytes);
		ir_rpt_doc_tdf(d, "%s (%lld bytes)", b, (long long)x->bytes);
		ir_rpt_doc_tdf(d, "%lld", (long long)x->files);
		ir_rpt_doc_cell(d, true);
		ir_rpt_doc_mono(d, x->sha256 ? x->sha256 : "?");
		ir_rpt_doc_cell(d, false);
		ir_rpt_doc_row(d, false);
	}
	ir_rpt_doc_table_end(d);
	dropped(d, m->backups.dropped, "backups");
}

static void
resumes(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	char o[IR_RPT_DUR_LEN];
	size_t i;

	if (!m->resumes.n)
		return;
	ir_rpt_doc_heading(d, 2, "resumes", "Interruptions and resumes");
	ir_rpt_doc_list(d, true, false);
	for (i = 0; i < m->resumes.n; i++) {
		const struct ir_rpt_resume *r =
			IR_RPT_AT(m->resumes, struct ir_rpt_resume, i);

		offset(o, r->at_ms);
		ir_rpt_doc_item(d, true);
		ir_rpt_doc_textf(d, "seq %llu at %s: resumed by ",
				 (unsigned long long)r->seq, o);
		ir_rpt_doc_text(d, r->actor ? r->actor : "?");
		ir_rpt_doc_textf(d, " (pid %lld); interrupted in step ",
				 (long long)r->pid);
		ir_rpt_doc_text(d, r->step && *r->step ? r->step : "none");
		ir_rpt_doc_item(d, false);
	}
	ir_rpt_doc_list(d, false, false);
}

static void
notes(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	char o[IR_RPT_DUR_LEN], t[IR_RPT_TIME_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "notes", "Notes");
	if (!m->notes.n) {
		ir_rpt_doc_para(d, true);
		ir_rpt_doc_text(d, "No notes.");
		ir_rpt_doc_para(d, false);
		return;
	}
	ir_rpt_doc_list(d, true, false);
	for (i = 0; i < m->notes.n; i++) {
		const struct ir_rpt_note *n =
			IR_RPT_AT(m->notes, struct ir_rpt_note, i);

		if (m->note_series.fold.count &&
		    i == ir_rpt_series_head(&m->note_series)) {
			ir_rpt_doc_item(d, true);
			fold_words(d, m, "notes", &m->note_series.fold, false);
			ir_rpt_doc_item(d, false);
		}
		offset(o, n->at_ms);
		ir_rpt_time(t, n->ts);
		ir_rpt_doc_item(d, true);
		ir_rpt_doc_textf(d, "seq %llu at %s (%s), ",
				 (unsigned long long)n->seq, o, t);
		ir_rpt_doc_strong(d, n->author ? n->author : "?");
		ir_rpt_doc_text(d, ": ");
		ir_rpt_doc_text(d, n->text);
		if (n->corrects) {
			ir_rpt_doc_list(d, true, false);
			ir_rpt_doc_item(d, true);
			ir_rpt_doc_alert(d, "Corrects");
			ir_rpt_doc_textf(d, " seq %llu: ",
					 (unsigned long long)n->corrects);
			ir_rpt_doc_text(d, n->corrected
						   ? n->corrected
						   : "(no such earlier event)");
			ir_rpt_doc_item(d, false);
			ir_rpt_doc_list(d, false, false);
		}
		ir_rpt_doc_item(d, false);
	}
	ir_rpt_doc_list(d, false, false);
	dropped(d, m->notes.dropped, "notes");
}

static void
checklist(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	char t[IR_RPT_TIME_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "checklist", "Post-rollback checklist");
	ir_rpt_time(t, ir_rpt_add(m->opened_ts, IR_RPT_POSTMORTEM_NS));
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_text(d, "Post-mortem due by ");
	ir_rpt_doc_strong(d, t);
	ir_rpt_doc_text(d, " (within 24 hours of the opening).");
	ir_rpt_doc_para(d, false);
	ir_rpt_doc_list(d, true, false);
	for (i = 0; i < IR_RPT_CHECKS; i++) {
		ir_rpt_doc_check(d, true);
		ir_rpt_doc_strong(d, ir_rpt_checklist[i].name);
		ir_rpt_doc_text(d, ": ");
		ir_rpt_doc_text(d, ir_rpt_checklist[i].what);
		ir_rpt_doc_check(d, false);
	}
	ir_rpt_doc_list(d, false, false);
}

static void
fact_item(void *payload, const char *text)
{
	struct ir_rpt_doc *d = payload;

	ir_rpt_doc_item(d, true);
	ir_rpt_doc_text(d, text);
	ir_rpt_doc_item(d, false);
}

static void
postmortem(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const ids[IR_RPT_PM_SECTIONS] = {
		"pm-detection", "pm-severity", "pm-impact", "pm-responders",
		"pm-cause",     "pm-well",     "pm-badly",  "pm-actions",
	};
	int i;

	ir_rpt_doc_heading(d, 2, "postmortem", "Post-mortem (draft)");
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_text(d, "Pre-filled with the facts the log holds; the rest "
			   "is for the people who were there.");
	ir_rpt_doc_para(d, false);
	for (i = 0; i < IR_RPT_PM_SECTIONS; i++) {
		ir_rpt_doc_heading(d, 3, ids[i], ir_rpt_pm_title[i]);
		ir_rpt_doc_list(d, true, false);
		ir_rpt_postmortem(m, (enum ir_rpt_pm)i, fact_item, d);
		ir_rpt_doc_list(d, false, false);
	}
}

static void
integrity(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	static const char *const head[] = { "Field", "Value" };
	char hex[IR_SHA256_HEX];
	size_t i;

	ir_rpt_doc_heading(d, 2, "integrity", "Integrity");
	ir_rpt_doc_table(d, head, 2);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Events");
	ir_rpt_doc_tdf(d, "%llu (%llu lines of step output)",
		       (unsigned long long)m->events,
		       (unsigned long long)m->outputs);
	ir_rpt_doc_row(d, false);
	field(d, "Hash chain",
	      m->verified ? "verified: every event's prev matches the event "
			    "before, and the head matches the incident header"
			  : "NOT verified");
	ir_hex(hex, m->head, IR_HASH_LEN);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Head (SHA-256)");
	ir_rpt_doc_cell(d, true);
	ir_rpt_doc_mono(d, hex);
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
	if (m->checkpoint_seq) {
		/* The root as signed: with the note (incident checkpoint),
		 * verify --checkpoint holds the log to it. */
		ir_hex(hex, m->checkpoint_root, IR_HASH_LEN);
		ir_rpt_doc_row(d, true);
		ir_rpt_doc_td(d, "Signed checkpoint");
		ir_rpt_doc_cell(d, true);
		ir_rpt_doc_textf(d, "seq %llu (%s): the log's first %llu "
				 "events, root ",
				 (unsigned long long)m->checkpoint_seq,
				 m->checkpoint_what,
				 (unsigned long long)m->checkpoint_size);
		ir_rpt_doc_mono(d, hex);
		ir_rpt_doc_cell(d, false);
		ir_rpt_doc_row(d, false);
	}
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Events by type");
	ir_rpt_doc_cell(d, true);
	for (i = 0; i < m->ntypes; i++)
		ir_rpt_doc_textf(d, "%s%s %llu", i ? ", " : "",
				 m->types[i].type,
				 (unsigned long long)m->types[i].n);
	if (m->types_other)
		ir_rpt_doc_textf(d, ", other types %llu",
				 (unsigned long long)m->types_other);
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_table_end(d);
}

/* The timeline, written while the second scan reads. */
static void
tl_event(void *payload, const struct ir_event *ev)
{
	struct ir_rpt_doc_run *r = payload;
	struct ir_rpt_doc *d = r->doc;
	struct ir_rpt_line l = { .len = 0 };
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN];

	ir_rpt_time(t, ev->ts);
	offset(o, (int64_t)(ev->mono / 1000000));
	ir_rpt_describe(&l, ev);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_tdf(d, "%llu", (unsigned long long)ev->seq);
	ir_rpt_doc_td(d, t);
	ir_rpt_doc_td(d, o);
	ir_rpt_doc_td(d, ev->type);
	ir_rpt_doc_td(d, ev->step[0] ? ev->step : "-");
	ir_rpt_doc_cell(d, true);
	ir_rpt_doc_text(d, l.s);
	corrections(d, r->m, ev->seq);
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
}

/* Lines kept of a run: HTML inside its <pre>, Markdown as code spans
 * one to a line of the cell. */
static void
run_lines(struct ir_rpt_doc *d, const struct ir_buf *b, bool *first)
{
	struct ir_rpt_run view = { .lines = *b };
	const char *line;
	size_t off = 0, len;
	char stream;

	while (ir_rpt_run_line(&view, &off, &stream, &line, &len)) {
		if (d->esc == IR_RPT_HTML) {
			ir_rpt_doc_raw(d, stream == 'e' ? "<span class=\"err\">"
							: "<span>");
			ir_rpt_put(d->out, d->esc, line, len);
			ir_rpt_doc_raw(d, "</span>\n");
			continue;
		}
		ir_rpt_doc_raw(d, *first ? "<code>" : "<br><code>");
		ir_rpt_put(d->out, d->esc, line, len);
		ir_rpt_doc_raw(d, "</code>");
		*first = false;
	}
}

static void
tl_fold(void *payload, const struct ir_rpt_kind *k, const struct ir_rpt_fold *f)
{
	struct ir_rpt_doc_run *r = payload;

	fold_row(r->doc, r->m, k, f);
}

static void
tl_run(void *payload, const struct ir_rpt_run *run)
{
	struct ir_rpt_doc_run *r = payload;
	struct ir_rpt_doc *d = r->doc;
	char t[IR_RPT_TIME_LEN], o[IR_RPT_DUR_LEN];
	bool first = true;
	size_t i;

	ir_rpt_time(t, run->first_ts);
	offset(o, run->first_ms);
	ir_rpt_doc_row(d, true);
	if (run->first_seq == run->last_seq)
		ir_rpt_doc_tdf(d, "%llu", (unsigned long long)run->first_seq);
	else
		ir_rpt_doc_tdf(d, "%llu-%llu",
			       (unsigned long long)run->first_seq,
			       (unsigned long long)run->last_seq);
	ir_rpt_doc_td(d, t);
	ir_rpt_doc_td(d, o);
	ir_rpt_doc_tdf(d, "step.output x%llu", (unsigned long long)run->count);
	ir_rpt_doc_td(d, run->step[0] ? run->step : "-");
	ir_rpt_doc_cell(d, true);
	ir_rpt_doc_textf(d, "%llu line%s (%llu on stderr",
			 (unsigned long long)run->count,
			 run->count == 1 ? "" : "s",
			 (unsigned long long)run->err_lines);
	if (run->dropped)
		ir_rpt_doc_textf(d, ", %llu more dropped by the recorder",
				 (unsigned long long)run->dropped);
	ir_rpt_doc_text(d, ")");
	for (i = 0; i < r->m->notes.n; i++) {
		const struct ir_rpt_note *n =
			IR_RPT_AT(r->m->notes, struct ir_rpt_note, i);

		if (n->corrects >= run->first_seq &&
		    n->corrects <= run->last_seq)
			correction(d, n);
	}
	if (d->esc == IR_RPT_HTML) {
		ir_rpt_doc_raw(d, "<details><summary>show the output");
		if (run->folded.count)
			ir_rpt_doc_textf(d, " (first and last %d lines)",
					 IR_LIMIT_REPORT_FOLD_KEEP);
		ir_rpt_doc_raw(d, "</summary><pre>");
	} else if (run->nlines) {
		ir_rpt_doc_text(d, ": ");
	}
	run_lines(d, &run->lines, &first);
	if (run->folded.count) {
		if (d->esc == IR_RPT_HTML)
			ir_rpt_doc_raw(d, "<span class=\"fold\">");
		else
			ir_rpt_doc_raw(d, "<br>");
		fold_words(d, r->m, "lines", &run->folded, true);
		ir_rpt_doc_raw(d, d->esc == IR_RPT_HTML ? "</span>\n" : "");
	}
	run_lines(d, &run->tail, &first);
	if (d->esc == IR_RPT_HTML)
		ir_rpt_doc_raw(d, "</pre></details>");
	ir_rpt_doc_cell(d, false);
	ir_rpt_doc_row(d, false);
}

static int
timeline(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
	 struct ir_evlog *log, struct ir_ctx *ctx)
{
	static const char *const head[] = { "Seq",   "Time (UTC)", "Offset",
					    "Event", "Step",	   "Detail" };
	struct ir_rpt_doc_run r = { d, m };
	struct ir_rpt_timeline tl = {
		.m = m,
		.event = tl_event,
		.run = tl_run,
		.fold = tl_fold,
		.payload = &r,
		.mode = m->full ? IR_RPT_TL_FULL : IR_RPT_TL_FOLDED,
	};
	int rc;

	ir_rpt_doc_heading(d, 2, "timeline", "Timeline");
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_text(d, "Every event, with consecutive output lines of a "
			   "step collapsed into one row.");
	if (!m->full)
		ir_rpt_doc_textf(d, " Rows of one kind (event type, step, "
				    "observation), the notes, the "
				    "observations of one kind and the lines "
				    "of one run are folded past %d to their "
				    "first and last %d; ",
				 IR_LIMIT_REPORT_FOLD,
				 IR_LIMIT_REPORT_FOLD_KEEP);
	else
		ir_rpt_doc_text(d, " Nothing is folded (--full).");
	if (!m->full) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "incident report INC-%llu --full",
			 (unsigned long long)m->id);
		ir_rpt_doc_mono(d, cmd);
		ir_rpt_doc_text(d, " keeps everything.");
	}
	ir_rpt_doc_para(d, false);
	ir_rpt_doc_table(d, head, 6);
	rc = ir_rpt_timeline(&tl, log, ctx);
	ir_rpt_doc_table_end(d);
	return rc;
}

int
ir_rpt_document(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
		struct ir_evlog *log, ir_rpt_doc_hook after_steps,
		struct ir_ctx *ctx)
{
	title(d, m);
	summary(d, m);
	key_times(d, m);
	decision_path(d, m);
	steps(d, m);
	if (after_steps)
		after_steps(d, m);
	observations(d, m);
	backups(d, m);
	resumes(d, m);
	notes(d, m);
	checklist(d, m);
	postmortem(d, m);
	integrity(d, m);
	return timeline(d, m, log, ctx);
}

int
ir_rpt_markdown(FILE *out, const struct ir_rpt_model *m, struct ir_evlog *log,
		struct ir_ctx *ctx)
{
	struct ir_rpt_doc d = { .out = out, .esc = IR_RPT_MD };
	int rc = ir_rpt_document(&d, m, log, NULL, ctx);

	return rc ? rc : ir_rpt_flush(out, ctx);
}
