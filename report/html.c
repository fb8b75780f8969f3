/* The HTML report: one self-contained page (inline style, inline SVG, no
 * script, nothing fetched; a Content-Security-Policy says so to the
 * browser too). */
#include "document.h"

#include <string.h>

/* SVG geometry, in user units. */
#define SVG_W 960
#define SVG_LABEL 120
#define SVG_RIGHT 24
#define SVG_PLOT (SVG_W - SVG_LABEL - SVG_RIGHT)
#define SVG_LANE_Y 34 /* the marker lane */
#define SVG_TOP 52    /* first step row */
#define SVG_ROW 22
#define SVG_BAR 14

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"color:#1d232a;background:#fff;margin:0}"
	"main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}"
	"h1{font-size:1.6em;margin:.4em 0}"
	"h2{font-size:1.25em;border-bottom:1px solid #d0d7de;"
	"padding-bottom:.2em;margin-top:1.6em}"
	"h3{font-size:1.05em}"
	"table{border-collapse:collapse;margin:.5em 0 1em;width:100%}"
	/* Cells break at spaces; only a token too long for any line (a
	 * hash, a path in code) may break inside, and it does not make the
	 * column narrower than a word. */
	"th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;"
	"vertical-align:top;word-break:normal;overflow-wrap:break-word;"
	"hyphens:manual}"
	"td code{overflow-wrap:anywhere}"
	"th{background:#f3f5f7}"
	"code,pre{font:12px/1.4 ui-monospace,'SFMono-Regular',Menlo,"
	"Consolas,monospace}"
	"pre{background:#f6f8fa;padding:6px;max-height:30em;overflow:auto;"
	"white-space:pre-wrap}"
	".alert{color:#b42318}"
	".err{color:#b42318}"
	".fold{color:#57606a;font-style:italic}"
	"nav a{margin-right:.9em}"
	"li.check{list-style:none}"
	"svg{width:100%;height:auto;border:1px solid #d0d7de;"
	"background:#fcfcfd}"
	"svg text{font:11px system-ui,sans-serif;fill:#1d232a}"
	".budget{fill:#eef1f4;stroke:#9aa5b1;stroke-dasharray:3 2}"
	".target{stroke:#b42318;stroke-width:1.5;stroke-dasharray:6 3}"
	".tick{stroke:#d0d7de}"
	".failure{stroke:#d92d20;stroke-width:2.5;fill:none}"
	"@media print{pre{max-height:none}details{display:block}}";

/* The colours of the chart, in one place: the style rules and the
 * legend both come from this table, so the legend cannot disagree with
 * the drawing.  The first five are the bars' classes (a step's status,
 * ir_rpt_status_name()). */
static const struct swatch {
	const char *cls;
	const char *fill;
	const char *label;
} swatches[] = {
	{ "completed", "#2e8b57", "completed" },
	{ "failed", "#d92d20", "failed" },
	{ "skipped", "#9aa5b1", "skipped" },
	{ "running", "#2f6fde", "running" },
	{ "interrupted", "#c4320a", "interrupted" },
	{ "overrun", "#f08c84", "over budget" },
	{ "decision", "#6941c6", "decision" },
	{ "note", "#e9a100", "note" },
};

#define SVG_LEGEND 26 /* the legend's row under the axis */
#define LEGEND_CHAR 6 /* a label's advance per character, roughly */

static void
swatch_style(FILE *out)
{
	size_t i;

	for (i = 0; i < sizeof(swatches) / sizeof(swatches[0]); i++)
		fprintf(out, ".%s{fill:%s}", swatches[i].cls,
			swatches[i].fill);
}

struct plot {
	FILE *out;
	int64_t span_ms;
};

static long long
px(const struct plot *p, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms > p->span_ms)
		ms = p->span_ms;
	return SVG_LABEL + (long long)(ms * SVG_PLOT / p->span_ms);
}

static void
svg_title(FILE *out, const char *fmt, const char *text)
{
	fputs("<title>", out);
	ir_rpt_puts(out, IR_RPT_HTML, fmt);
	ir_rpt_puts(out, IR_RPT_HTML, text);
	fputs("</title>", out);
}

static int64_t
span_of(const struct ir_rpt_model *m)
{
	int64_t span = m->budget_ms, end;
	size_t i;

	if (ir_rpt_model_duration(m) > span)
		span = ir_rpt_model_duration(m);
	if (m->last_ms > span)
		span = m->last_ms;
	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		end = s->start_ms + (s->duration_ms > s->budget_ms
					     ? s->duration_ms
					     : s->budget_ms);
		if (end > span)
			span = end;
	}
	return span > 1000 ? span : 1000;
}

static void
axis(const struct plot *p, int bottom)
{
	static const int64_t steps[] = {
		1000,	 2000,	  5000,	   10000,   15000,   30000,
		60000,	 120000,  300000,  600000,  900000,  1800000,
		3600000, 7200000, 21600000, 43200000, 86400000,
	};
	int64_t step = steps[0], t;
	char d[IR_RPT_DUR_LEN];
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (p->span_ms / step <= 10)
			break;
	}
	for (t = 0; t <= p->span_ms; t += step) {
		ir_rpt_dur(d, t);
		fprintf(p->out,
			"<line class=\"tick\" x1=\"%lld\" y1=\"%d\" "
			"x2=\"%lld\" y2=\"%d\"/>"
			"<text x=\"%lld\" y=\"%d\" text-anchor=\"middle\">%s"
			"</text>\n",
			px(p, t), SVG_LANE_Y - 12, px(p, t), bottom, px(p, t),
			bottom + 14, t ? d : "0");
	}
}

static void
step_bar(const struct plot *p, const struct ir_rpt_step *s, int y)
{
	struct ir_rpt_line l = { .len = 0 };
	char a[IR_RPT_DUR_LEN], b[IR_RPT_DUR_LEN];
	int64_t dur = s->duration_ms >= 0 ? s->duration_ms : 0;
	long long x0 = px(p, s->start_ms), w;

	if (s->status == IR_RPT_RUNNING || s->status == IR_RPT_INTERRUPTED)
		dur = (s->end_ms >= 0 ? s->end_ms : p->span_ms) - s->start_ms;
	fprintf(p->out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		SVG_LABEL - 6, y + SVG_BAR - 3);
	ir_rpt_puts(p->out, IR_RPT_HTML, s->name);
	if (s->attempt > 1)
		fprintf(p->out, " #%lld", (long long)s->attempt);
	fputs("</text>", p->out);
	if (s->budget_ms > 0)
		fprintf(p->out,
			"<rect class=\"budget\" x=\"%lld\" y=\"%d\" "
			"width=\"%lld\" height=\"%d\"/>",
			x0, y - 2, px(p, s->start_ms + s->budget_ms) - x0,
			SVG_BAR + 4);
	w = px(p, s->start_ms + dur) - x0;
	fprintf(p->out,
		"<rect class=\"%s\" x=\"%lld\" y=\"%d\" width=\"%lld\" "
		"height=\"%d\">",
		ir_rpt_status_name(s->status), x0, y, w > 2 ? w : 2, SVG_BAR);
	ir_rpt_dur(a, dur);
	ir_rpt_line_printf(&l, "%s %s", s->name, ir_rpt_status_name(s->status));
	if (s->status == IR_RPT_COMPLETED || s->status == IR_RPT_FAILED)
		ir_rpt_line_printf(&l, " in %s", a);
	if (s->budget_ms >= 0) {
		ir_rpt_dur(b, s->budget_ms);
		ir_rpt_line_printf(&l, " of %s budget", b);
	}
	if (s->over_budget)
		ir_rpt_line_adds(&l, ", OVER BUDGET");
	if (s->error)
		ir_rpt_line_printf(&l, ": %s", s->error);
	ir_rpt_line_printf(&l, " (seq %llu)", (unsigned long long)s->seq);
	svg_title(p->out, "", l.s);
	fputs("</rect>", p->out);
	if (s->over_budget && s->budget_ms >= 0 && dur > s->budget_ms)
		fprintf(p->out,
			"<rect class=\"overrun\" x=\"%lld\" y=\"%d\" "
			"width=\"%lld\" height=\"%d\"/>",
			px(p, s->start_ms + s->budget_ms), y,
			px(p, s->start_ms + dur) -
				px(p, s->start_ms + s->budget_ms),
			SVG_BAR);
	if (s->status == IR_RPT_FAILED) {
		long long x = px(p, s->start_ms + dur);

		fprintf(p->out,
			"<path class=\"failure\" "
			"d=\"M%lld %dl8 8m0 -8l-8 8\"/>",
			x - 4, y + 3);
	}
	fputs("\n", p->out);
}

static void
markers(const struct plot *p, const struct ir_rpt_model *m)
{
	struct ir_rpt_line l;
	size_t i;

	fprintf(p->out,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">events</text>\n",
		SVG_LABEL - 6, SVG_LANE_Y + 4);
	for (i = 0; i < m->decisions.n; i++) {
		const struct ir_rpt_decision *d =
			IR_RPT_AT(m->decisions, struct ir_rpt_decision, i);
		long long x = px(p, d->at_ms);

		memset(&l, 0, sizeof(l));
		ir_rpt_line_printf(&l, "decision (seq %llu): %s %s",
				   (unsigned long long)d->seq,
				   d->question ? d->question : "?",
				   d->answer ? d->answer : "?");
		if (d->because)
			ir_rpt_line_printf(&l, ", because: %s", d->because);
		fprintf(p->out,
			"<path class=\"decision\" d=\"M%lld %dl6 6l-6 6l-6 "
			"-6z\">",
			x, SVG_LANE_Y - 6);
		svg_title(p->out, "", l.s);
		fputs("</path>\n", p->out);
	}
	for (i = 0; i < m->notes.n; i++) {
		const struct ir_rpt_note *n =
			IR_RPT_AT(m->notes, struct ir_rpt_note, i);

		memset(&l, 0, sizeof(l));
		ir_rpt_line_printf(&l, "note (seq %llu) by %s: %s",
				   (unsigned long long)n->seq,
				   n->author ? n->author : "?",
				   n->text ? n->text : "");
		fprintf(p->out,
			"<circle class=\"note\" cx=\"%lld\" cy=\"%d\" r=\"5\">",
			px(p, n->at_ms), SVG_LANE_Y);
		svg_title(p->out, "", l.s);
		fputs("</circle>\n", p->out);
	}
	for (i = 0; i < m->steps.n; i++) {
		const struct ir_rpt_step *s =
			IR_RPT_AT(m->steps, struct ir_rpt_step, i);

		if (s->status != IR_RPT_FAILED)
			continue;
		memset(&l, 0, sizeof(l));
		ir_rpt_line_printf(&l, "%s failed (seq %llu)", s->name,
				   (unsigned long long)s->end_seq);
		if (s->error)
			ir_rpt_line_printf(&l, ": %s", s->error);
		fprintf(p->out,
			"<path class=\"failure\" d=\"M%lld %dl10 10m0 "
			"-10l-10 10\">",
			px(p, s->end_ms) - 5, SVG_LANE_Y - 5);
		svg_title(p->out, "", l.s);
		fputs("</path>\n", p->out);
	}
}

/* A legend row at y: each swatch drawn with the class the chart uses,
 * then the budget box, the target line and the failure cross. */
static void
legend(FILE *out, int y)
{
	int x = 12, k;
	size_t i;

	fputs("<g class=\"legend\">", out);
	for (i = 0; i < sizeof(swatches) / sizeof(swatches[0]); i++) {
		const struct swatch *sw = &swatches[i];

		if (!strcmp(sw->cls, "decision"))
			fprintf(out, "<path class=\"decision\" "
				     "d=\"M%d %dl6 6l-6 6l-6 -6z\"/>",
				x + 6, y);
		else if (!strcmp(sw->cls, "note"))
			fprintf(out, "<circle class=\"note\" cx=\"%d\" "
				     "cy=\"%d\" r=\"5\"/>",
				x + 6, y + 6);
		else
			fprintf(out, "<rect class=\"%s\" x=\"%d\" y=\"%d\" "
				     "width=\"14\" height=\"12\"/>",
				sw->cls, x, y);
		fprintf(out, "<text x=\"%d\" y=\"%d\">%s</text>", x + 18,
			y + 10, sw->label);
		x += 18 + LEGEND_CHAR * (int)strlen(sw->label) + 12;
	}
	fprintf(out, "<rect class=\"budget\" x=\"%d\" y=\"%d\" "
		     "width=\"14\" height=\"12\"/><text x=\"%d\" "
		     "y=\"%d\">budget</text>",
		x, y, x + 18, y + 10);
	x += 18 + LEGEND_CHAR * 6 + 12;
	fprintf(out, "<line class=\"target\" x1=\"%d\" y1=\"%d\" "
		     "x2=\"%d\" y2=\"%d\"/><text x=\"%d\" "
		     "y=\"%d\">target</text>",
		x + 6, y - 2, x + 6, y + 14, x + 14, y + 10);
	k = x + 14 + LEGEND_CHAR * 6 + 12;
	fprintf(out, "<path class=\"failure\" d=\"M%d %dl10 10m0 -10l-10 "
		     "10\"/><text x=\"%d\" y=\"%d\">failure</text></g>\n",
		k, y + 1, k + 16, y + 10);
}

static void
svg(struct ir_rpt_doc *d, const struct ir_rpt_model *m)
{
	struct plot p = { d->out, span_of(m) };
	int rows = (int)m->steps.n;
	int bottom = SVG_TOP + rows * SVG_ROW;
	char b[IR_RPT_DUR_LEN];
	long long tx;
	size_t i;

	ir_rpt_doc_heading(d, 3, "chart", "Steps against their budgets");
	fprintf(d->out,
		"<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"steps as bars against their budgets\">\n",
		SVG_W, bottom + 22 + SVG_LEGEND);
	axis(&p, bottom);
	tx = px(&p, m->budget_ms);
	ir_rpt_dur(b, m->budget_ms);
	fprintf(d->out,
		"<line class=\"target\" x1=\"%lld\" y1=\"%d\" x2=\"%lld\" "
		"y2=\"%d\"/><text x=\"%lld\" y=\"%d\" "
		"text-anchor=\"end\">%s target</text>\n",
		tx, SVG_LANE_Y - 20, tx, bottom, tx - 4, SVG_LANE_Y - 16, b);
	markers(&p, m);
	for (i = 0; i < m->steps.n; i++)
		step_bar(&p, IR_RPT_AT(m->steps, struct ir_rpt_step, i),
			 SVG_TOP + (int)i * SVG_ROW);
	legend(d->out, bottom + 22);
	fputs("</svg>\n", d->out);
	ir_rpt_doc_para(d, true);
	ir_rpt_doc_text(d, "Dashed boxes are budgets, bars what each step "
			   "took, coloured as the legend under the chart "
			   "shows. Diamonds are decisions, dots notes, "
			   "crosses failures; the red dashed line is the "
			   "rollback target.");
	ir_rpt_doc_para(d, false);
}

static void
nav(FILE *out)
{
	static const char *const links[][2] = {
		{ "summary", "Summary" },	   { "key-times", "Key times" },
		{ "decisions", "Decisions" },	   { "steps", "Steps" },
		{ "observations", "Observations" }, { "backups", "Backups" },
		{ "notes", "Notes" },		   { "checklist", "Checklist" },
		{ "postmortem", "Post-mortem" },   { "integrity", "Integrity" },
		{ "timeline", "Timeline" },
	};
	size_t i;

	fputs("<nav>", out);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		fprintf(out, "<a href=\"#%s\">%s</a>", links[i][0],
			links[i][1]);
	fputs("</nav>\n", out);
}

int
ir_rpt_html(FILE *out, const struct ir_rpt_model *m, struct ir_evlog *log,
	    struct ir_ctx *ctx)
{
	struct ir_rpt_doc d = { .out = out, .esc = IR_RPT_HTML };
	int rc;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, "
	      "initial-scale=1\">\n",
	      out);
	fprintf(out, "<title>INC-%llu: ", (unsigned long long)m->id);
	ir_rpt_puts(out, IR_RPT_HTML, m->kind);
	fprintf(out, " incident report</title>\n<style>%s", style);
	swatch_style(out);
	fputs("</style>\n</head>\n<body>\n<main>\n", out);
	nav(out);
	rc = ir_rpt_document(&d, m, log, svg, ctx);
	fputs("</main>\n</body>\n</html>\n", out);
	if (rc)
		return rc;
	return ir_rpt_flush(out, ctx);
}
