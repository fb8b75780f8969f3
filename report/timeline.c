/* The second scan: the full timeline, written as it is read, with runs of
 * step output collapsed so a million lines cost one row. */
#include "model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir_limits.h"

struct walk {
	const struct ir_rpt_timeline *tl;
	struct ir_rpt_run run;
	bool in_run;
	size_t max_lines; /* kept of a run */
	int rc;
};

static void
flush_run(struct walk *w)
{
	if (!w->in_run)
		return;
	w->tl->run(w->tl->payload, &w->run);
	w->in_run = false;
	ir_buf_reset(&w->run.lines);
	ir_buf_reset(&w->run.last);
	ir_buf_reset(&w->run.tail);
	w->run.ntail = 0;
	w->run.folded = (struct ir_rpt_fold){ 0 };
}

static int
keep_line(struct ir_buf *b, char stream, const char *p, size_t len)
{
	uint32_t n;
	int rc;

	if (len > IR_LIMIT_REPORT_TEXT)
		len = IR_LIMIT_REPORT_TEXT;
	n = (uint32_t)len;
	rc = ir_buf_add(b, &stream, 1);
	if (!rc)
		rc = ir_buf_add(b, &n, sizeof(n));
	if (!rc)
		rc = ir_buf_add(b, p, len);
	return rc;
}

bool
ir_rpt_run_line(const struct ir_rpt_run *run, size_t *off, char *stream,
		const char **line, size_t *len)
{
	uint32_t n;

	if (*off + 1 + sizeof(n) > run->lines.len)
		return false;
	*stream = (char)run->lines.data[*off];
	memcpy(&n, run->lines.data + *off + 1, sizeof(n));
	*line = (const char *)run->lines.data + *off + 1 + sizeof(n);
	*len = n;
	*off += 1 + sizeof(n) + n;
	return true;
}

static int
add_output(struct walk *w, const struct ir_event_head *ev,
	   const struct ir_output_view *out)
{
	struct ir_rpt_run *r = &w->run;
	char s = out->err ? 'e' : 'o';
	int64_t dropped = out->dropped;
	int rc;

	if (!w->in_run) {
		memcpy(r->step, ev->step, sizeof(r->step));
		r->first_seq = ev->seq;
		r->first_ts = ev->ts;
		r->first_ms = (int64_t)(ev->mono / 1000000);
		r->count = r->dropped = r->err_lines = 0;
		r->nlines = 0;
		w->in_run = true;
	}
	r->count++;
	r->last_seq = ev->seq;
	r->last_ms = (int64_t)(ev->mono / 1000000);
	if (dropped > 0)
		r->dropped += (uint64_t)dropped;
	if (!out->line)
		return 0;
	if (s == 'e')
		r->err_lines++;
	if (r->nlines < w->max_lines) {
		rc = keep_line(&r->lines, s, out->line, out->line_len);
		if (rc)
			return rc;
		r->nlines++;
	}
	ir_buf_reset(&r->last);
	r->last_stream = s;
	return ir_buf_add(&r->last, out->line,
			  out->line_len > IR_LIMIT_REPORT_TEXT
				  ? IR_LIMIT_REPORT_TEXT
				  : out->line_len);
}

/* Output is read in place (one pass, no value tree); only the other
 * events are decoded. */
static int
visit(void *payload, const struct ir_event *key, const void *raw, size_t len)
{
	struct walk *w = payload;
	const struct ir_rpt_model *m = w->tl->m;
	struct ir_event_head h;
	struct ir_output_view out;
	struct ir_event ev = { 0 };
	int rc;

	/* What the first scan saw, no more: a note appended meanwhile
	 * waits for the next report. */
	if (key->seq > m->last_seq)
		return 1;
	rc = ir_codec_peek_output(&h, &out, raw, len);
	if (rc)
		return -EBADMSG;
	if (m->at_ns >= 0 && h.mono > (uint64_t)m->at_ns)
		return 0;
	if (out.is_output) {
		if (w->in_run && strcmp(w->run.step, h.step))
			flush_run(w);
		w->rc = add_output(w, &h, &out);
		return w->rc;
	}
	flush_run(w);
	rc = ir_codec_decode(&ev, raw, len);
	if (rc)
		return rc == -ENOMEM ? rc : -EBADMSG;
	w->tl->event(w->tl->payload, &ev);
	ir_event_clear(&ev);
	return 0;
}

/* ---- with the first pass's index of output runs ---------------------------
 * The events between runs are read one by one; of a run only its first
 * IR_LIMIT_REPORT_RUN_LINES lines and its last one, the counts coming from
 * the index.  A million lines of output cost a few hundred reads. */

struct range {
	struct walk *w;
	uint64_t to;   /* last seq to read */
	bool lines;    /* keep output lines (inside a run) */
	bool last;     /* only the run's last line */
	bool tail;     /* into the run's tail (folded) */
};

static int
range_visit(void *payload, const struct ir_event *key, const void *raw,
	    size_t len)
{
	struct range *r = payload;
	struct walk *w = r->w;
	const struct ir_rpt_model *m = w->tl->m;
	struct ir_event_head h;
	struct ir_output_view out;
	struct ir_event ev = { 0 };
	int rc;

	if (key->seq > r->to)
		return 1;
	rc = ir_codec_peek_output(&h, &out, raw, len);
	if (rc)
		return -EBADMSG;
	if (out.is_output) {
		struct ir_rpt_run *run = &w->run;
		char s = out.err ? 'e' : 'o';

		if (!r->lines || !out.line)
			return 0;
		if (r->tail) {
			rc = keep_line(&run->tail, s, out.line, out.line_len);
			if (rc)
				return rc;
			run->ntail++;
		} else if (!r->last && run->nlines < w->max_lines) {
			rc = keep_line(&run->lines, s, out.line, out.line_len);
			if (rc)
				return rc;
			run->nlines++;
		}
		ir_buf_reset(&run->last);
		run->last_stream = s;
		return ir_buf_add(&run->last, out.line,
				  out.line_len > IR_LIMIT_REPORT_TEXT
					  ? IR_LIMIT_REPORT_TEXT
					  : out.line_len);
	}
	if (m->at_ns >= 0 && h.mono > (uint64_t)m->at_ns)
		return 0;
	rc = ir_codec_decode(&ev, raw, len);
	if (rc)
		return rc == -ENOMEM ? rc : -EBADMSG;
	w->tl->event(w->tl->payload, &ev);
	ir_event_clear(&ev);
	return 0;
}

static int
read_range(struct walk *w, struct ir_evlog *log, uint64_t from, uint64_t to,
	   bool lines, bool last, struct ir_ctx *ctx)
{
	struct range r = { w, to, lines, last, false };

	if (from > to)
		return 0;
	return ir_evlog_scan(log, w->tl->m->id, from, IR_EVLOG_RAW,
			     range_visit, &r, ctx);
}

static void
start_run(struct walk *w, const struct ir_rpt_runidx *x)
{
	struct ir_rpt_run *run = &w->run;

	memcpy(run->step, x->step, sizeof(run->step));
	run->first_seq = x->first_seq;
	run->last_seq = x->last_seq;
	run->first_ts = x->first_ts;
	run->first_ms = x->first_ms;
	run->last_ms = x->last_ms;
	run->count = x->count;
	run->dropped = x->dropped;
	run->err_lines = x->err_lines;
	run->nlines = 0;
	w->in_run = true;
}

static int
indexed(struct walk *w, struct ir_evlog *log, struct ir_ctx *ctx)
{
	const struct ir_rpt_model *m = w->tl->m;
	uint64_t next = 1;
	size_t i;
	int rc = 0;

	for (i = 0; i < m->nruns && !rc; i++) {
		const struct ir_rpt_runidx *x = &m->runs[i];
		uint64_t kept = x->count < w->max_lines ? x->count
							: w->max_lines;

		rc = read_range(w, log, next, x->first_seq - 1, false, false,
				ctx);
		if (rc)
			break;
		start_run(w, x);
		rc = read_range(w, log, x->first_seq, x->first_seq + kept - 1,
				true, false, ctx);
		if (!rc && kept < x->count)
			rc = read_range(w, log, x->last_seq, x->last_seq, true,
					true, ctx);
		if (!rc)
			flush_run(w);
		next = x->last_seq + 1;
	}
	if (!rc)
		rc = read_range(w, log, next, m->last_seq, false, false, ctx);
	return rc;
}

/* ---- folded: only the rows the model's kinds kept ---------------------------
 * Each row is read on its own (a few hundred look-ups at most); a run
 * longer than IR_LIMIT_REPORT_FOLD is read as its first and last lines. */

struct row {
	uint64_t seq;
	const struct ir_rpt_kind *k;
	const struct ir_rpt_runidx *x; /* NULL: the kind's fold */
};

static int
cmp_row(const void *a, const void *b)
{
	uint64_t x = ((const struct row *)a)->seq;
	uint64_t y = ((const struct row *)b)->seq;

	return (x > y) - (x < y);
}

static int
folded_run(struct walk *w, struct ir_evlog *log,
	   const struct ir_rpt_runidx *x, struct ir_ctx *ctx)
{
	struct range tail = { w, x->last_seq, true, false, true };
	uint64_t from = x->last_seq - IR_LIMIT_REPORT_FOLD_KEEP + 1;
	int rc;

	start_run(w, x);
	if (x->count <= IR_LIMIT_REPORT_FOLD) {
		rc = read_range(w, log, x->first_seq, x->last_seq, true,
				false, ctx);
	} else {
		rc = read_range(w, log, x->first_seq,
				x->first_seq + IR_LIMIT_REPORT_FOLD_KEEP - 1,
				true, false, ctx);
		if (!rc)
			rc = ir_evlog_scan(log, w->tl->m->id, from,
					   IR_EVLOG_RAW, range_visit, &tail,
					   ctx);
		w->run.folded = (struct ir_rpt_fold){
			x->count - IR_LIMIT_REPORT_FOLD,
			x->first_seq + IR_LIMIT_REPORT_FOLD_KEEP,
			x->last_seq - IR_LIMIT_REPORT_FOLD_KEEP,
		};
	}
	if (!rc)
		flush_run(w);
	return rc;
}

static int
add_rows(struct row *rows, const struct ir_rpt_kind *k)
{
	const struct ir_rpt_series *s = &k->s;
	size_t i, n = 0;

	for (i = 0; i < ir_rpt_series_head(s); i++)
		rows[n++] = (struct row){ s->head[i].first_seq, k,
					  &s->head[i] };
	for (i = 0; i < ir_rpt_series_tail(s); i++) {
		const struct ir_rpt_runidx *x = ir_rpt_series_tail_at(s, i);

		rows[n++] = (struct row){ x->first_seq, k, x };
	}
	if (s->fold.count)
		rows[n++] = (struct row){ s->fold.first_seq, k, NULL };
	return (int)n;
}

static int
folded(struct walk *w, struct ir_evlog *log, struct ir_ctx *ctx)
{
	const struct ir_rpt_kinds *ks = &w->tl->m->kinds;
	struct row *rows;
	size_t i, n = 0;
	int rc = 0;

	if (!ks->v)
		return 0;
	rows = calloc((IR_LIMIT_REPORT_KINDS + 1) * (IR_LIMIT_REPORT_FOLD + 1),
		      sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < ks->n; i++)
		n += (size_t)add_rows(rows + n, &ks->v[i]);
	n += (size_t)add_rows(rows + n, &ks->v[IR_LIMIT_REPORT_KINDS]);
	qsort(rows, n, sizeof(*rows), cmp_row);
	for (i = 0; i < n && !rc; i++) {
		const struct row *r = &rows[i];

		if (!r->x)
			w->tl->fold(w->tl->payload, r->k, &r->k->s.fold);
		else if (r->x->is_run)
			rc = folded_run(w, log, r->x, ctx);
		else
			rc = read_range(w, log, r->seq, r->seq, false, false,
					ctx);
	}
	free(rows);
	return rc;
}

int
ir_rpt_timeline(const struct ir_rpt_timeline *tl, struct ir_evlog *log,
		struct ir_ctx *ctx)
{
	struct walk w = { .tl = tl };
	int rc;

	w.max_lines = tl->mode == IR_RPT_TL_FULL ? SIZE_MAX
						 : IR_LIMIT_REPORT_RUN_LINES;
	if (tl->mode == IR_RPT_TL_FOLDED)
		rc = folded(&w, log, ctx);
	else if (!tl->m->runs_overflow)
		rc = indexed(&w, log, ctx);
	else
		rc = ir_evlog_scan(log, tl->m->id, 1, IR_EVLOG_RAW, visit, &w,
				   ctx);
	if (!rc)
		flush_run(&w);
	ir_buf_clear(&w.run.lines);
	ir_buf_clear(&w.run.last);
	ir_buf_clear(&w.run.tail);
	if (rc == -ENOMEM)
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, 0,
				    "INC-%llu: out of memory for the timeline",
				    (unsigned long long)tl->m->id);
	return rc;
}
