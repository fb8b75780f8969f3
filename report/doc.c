#include "doc.h"

#include <stdarg.h>
#include <string.h>

static bool
html(const struct ir_rpt_doc *d)
{
	return d->esc == IR_RPT_HTML;
}

void
ir_rpt_doc_raw(struct ir_rpt_doc *d, const char *markup)
{
	fputs(markup, d->out);
}

void
ir_rpt_doc_heading(struct ir_rpt_doc *d, int level, const char *id,
		   const char *title)
{
	if (html(d)) {
		fprintf(d->out, "<h%d id=\"%s\">", level, id);
		ir_rpt_puts(d->out, d->esc, title);
		fprintf(d->out, "</h%d>\n", level);
		return;
	}
	fprintf(d->out, "%.*s ", level, "######");
	ir_rpt_puts(d->out, d->esc, title);
	fputs("\n\n", d->out);
}

void
ir_rpt_doc_para(struct ir_rpt_doc *d, bool begin)
{
	if (html(d))
		fputs(begin ? "<p>" : "</p>\n", d->out);
	else if (!begin)
		fputs("\n\n", d->out);
}

void
ir_rpt_doc_text(struct ir_rpt_doc *d, const char *s)
{
	ir_rpt_puts(d->out, d->esc, s);
}

void
ir_rpt_doc_textf(struct ir_rpt_doc *d, const char *fmt, ...)
{
	struct ir_rpt_line l = { .len = 0 };
	char tmp[IR_RPT_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ir_rpt_line_add(&l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							 : sizeof(tmp) - 1);
	ir_rpt_put(d->out, d->esc, l.s, l.len);
}

static void
wrap(struct ir_rpt_doc *d, const char *open, const char *s, const char *close)
{
	fputs(open, d->out);
	ir_rpt_puts(d->out, d->esc, s);
	fputs(close, d->out);
}

void
ir_rpt_doc_strong(struct ir_rpt_doc *d, const char *s)
{
	if (html(d))
		wrap(d, "<strong>", s, "</strong>");
	else
		wrap(d, "**", s, "**");
}

void
ir_rpt_doc_mono(struct ir_rpt_doc *d, const char *s)
{
	/* Markdown parses inline HTML's content as Markdown, so the
	 * escaped text stays text inside <code>. */
	wrap(d, "<code>", s, "</code>");
}

void
ir_rpt_doc_alert(struct ir_rpt_doc *d, const char *s)
{
	if (html(d))
		wrap(d, "<strong class=\"alert\">", s, "</strong>");
	else
		wrap(d, "**", s, "**");
}

void
ir_rpt_doc_list(struct ir_rpt_doc *d, bool begin, bool ordered)
{
	if (html(d)) {
		fputs(begin ? (ordered ? "<ol>\n" : "<ul>\n")
			    : (ordered ? "</ol>\n" : "</ul>\n"),
		      d->out);
	} else if (begin && d->depth > 0) {
		fputs("\n", d->out); /* a list inside an item */
	} else if (!begin && d->depth == 1) {
		fputs("\n", d->out);
	} else if (!begin) {
		d->nested_ended = true;
	}
	if (begin) {
		if (d->depth < 4)
			d->ordered[d->depth] = ordered;
		d->depth++;
	} else if (d->depth > 0) {
		d->depth--;
	}
}

static void
indent(struct ir_rpt_doc *d)
{
	int i;

	for (i = 1; i < d->depth; i++)
		fputs("    ", d->out);
}

void
ir_rpt_doc_item(struct ir_rpt_doc *d, bool begin)
{
	bool ordered = d->depth > 0 && d->depth <= 4 &&
		       d->ordered[d->depth - 1];

	if (html(d)) {
		fputs(begin ? "<li>" : "</li>\n", d->out);
		return;
	}
	if (begin) {
		indent(d);
		fputs(ordered ? "1. " : "- ", d->out);
	} else if (d->nested_ended) {
		d->nested_ended = false;
	} else {
		fputs("\n", d->out);
	}
}

void
ir_rpt_doc_check(struct ir_rpt_doc *d, bool begin)
{
	if (html(d)) {
		fputs(begin ? "<li class=\"check\"><input type=\"checkbox\" "
			      "disabled> "
			    : "</li>\n",
		      d->out);
		return;
	}
	if (begin) {
		indent(d);
		fputs("- [ ] ", d->out);
	} else {
		fputs("\n", d->out);
	}
}

void
ir_rpt_doc_table(struct ir_rpt_doc *d, const char *const *headers, size_t n)
{
	size_t i;

	if (html(d)) {
		fputs("<table>\n<thead><tr>", d->out);
		for (i = 0; i < n; i++)
			wrap(d, "<th>", headers[i], "</th>");
		fputs("</tr></thead>\n<tbody>\n", d->out);
		return;
	}
	fputs("|", d->out);
	for (i = 0; i < n; i++)
		wrap(d, " ", headers[i], " |");
	fputs("\n|", d->out);
	for (i = 0; i < n; i++)
		fputs(" --- |", d->out);
	fputs("\n", d->out);
}

void
ir_rpt_doc_table_end(struct ir_rpt_doc *d)
{
	fputs(html(d) ? "</tbody>\n</table>\n" : "\n", d->out);
}

void
ir_rpt_doc_row(struct ir_rpt_doc *d, bool begin)
{
	if (html(d))
		fputs(begin ? "<tr>" : "</tr>\n", d->out);
	else
		fputs(begin ? "|" : "\n", d->out);
}

void
ir_rpt_doc_cell(struct ir_rpt_doc *d, bool begin)
{
	if (html(d))
		fputs(begin ? "<td>" : "</td>", d->out);
	else
		fputs(begin ? " " : " |", d->out);
}

void
ir_rpt_doc_td(struct ir_rpt_doc *d, const char *s)
{
	ir_rpt_doc_cell(d, true);
	ir_rpt_doc_text(d, s);
	ir_rpt_doc_cell(d, false);
}

void
ir_rpt_doc_tdf(struct ir_rpt_doc *d, const char *fmt, ...)
{
	char tmp[IR_RPT_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ir_rpt_doc_cell(d, true);
	if (n >= 0)
		ir_rpt_doc_text(d, tmp);
	ir_rpt_doc_cell(d, false);
}
