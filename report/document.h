/*
 * Internal to report/: the Markdown and HTML reports share their sections
 * (document.c); HTML adds its page, style and SVG timeline (html.c).
 */
#ifndef IR_RPT_DOCUMENT_H
#define IR_RPT_DOCUMENT_H

#include "doc.h"
#include "model.h"

/* What the timeline callbacks need. */
struct ir_rpt_doc_run {
	struct ir_rpt_doc *doc;
	const struct ir_rpt_model *m;
};

typedef void (*ir_rpt_doc_hook)(struct ir_rpt_doc *d,
				const struct ir_rpt_model *m);

/* Write every section of the report, after_steps (if any) right after the
 * step table, the timeline last (a second scan).  Errors of the scan. */
int ir_rpt_document(struct ir_rpt_doc *d, const struct ir_rpt_model *m,
		    struct ir_evlog *log, ir_rpt_doc_hook after_steps,
		    struct ir_ctx *ctx) IR_WUR;

#endif
