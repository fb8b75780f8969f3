/*
 * Internal to report/: a small document writer with two back ends,
 * Markdown and HTML, so the report's sections are written once.  Every
 * text goes through ir_rpt_put(): log strings can never become markup.
 */
#ifndef IR_RPT_DOC_H
#define IR_RPT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "text.h"

struct ir_rpt_doc {
	FILE *out;
	enum ir_rpt_esc esc; /* IR_RPT_MD or IR_RPT_HTML */
	int depth;           /* list nesting */
	bool ordered[4];
	bool nested_ended; /* Markdown: the line is already ended */
};

void ir_rpt_doc_heading(struct ir_rpt_doc *d, int level, const char *id,
			const char *title);
void ir_rpt_doc_para(struct ir_rpt_doc *d, bool begin);
/* Escaped text. */
void ir_rpt_doc_text(struct ir_rpt_doc *d, const char *s);
void ir_rpt_doc_textf(struct ir_rpt_doc *d, const char *fmt, ...)
	IR_PRINTF(2, 3);
/* Escaped text in bold / as code-like monospace (no backticks: escaped
 * text would not survive a Markdown code span). */
void ir_rpt_doc_strong(struct ir_rpt_doc *d, const char *s);
void ir_rpt_doc_mono(struct ir_rpt_doc *d, const char *s);
/* An emphasised warning word ("OVER BUDGET", "FAILED"). */
void ir_rpt_doc_alert(struct ir_rpt_doc *d, const char *s);

void ir_rpt_doc_list(struct ir_rpt_doc *d, bool begin, bool ordered);
void ir_rpt_doc_item(struct ir_rpt_doc *d, bool begin);
/* A checklist item (unchecked). */
void ir_rpt_doc_check(struct ir_rpt_doc *d, bool begin);

void ir_rpt_doc_table(struct ir_rpt_doc *d, const char *const *headers,
		      size_t n);
void ir_rpt_doc_table_end(struct ir_rpt_doc *d);
void ir_rpt_doc_row(struct ir_rpt_doc *d, bool begin);
void ir_rpt_doc_cell(struct ir_rpt_doc *d, bool begin);
/* A whole cell of escaped text. */
void ir_rpt_doc_td(struct ir_rpt_doc *d, const char *s);
void ir_rpt_doc_tdf(struct ir_rpt_doc *d, const char *fmt, ...)
	IR_PRINTF(2, 3);

/* Raw markup of the back end (our own, never log text). */
void ir_rpt_doc_raw(struct ir_rpt_doc *d, const char *markup);

#endif
