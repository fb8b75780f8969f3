/* `incident report`: fold the log once, then render. */
#include "report.h"

#include <string.h>

#include "drill_report.h"
#include "model.h"

int
ir_report_write(FILE *out, struct ir_evlog *log, uint64_t id,
		enum ir_report_format fmt, struct ir_ctx *ctx)
{
	return ir_report_write_flags(out, log, id, fmt, 0, ctx);
}

int
ir_report_write_flags(FILE *out, struct ir_evlog *log, uint64_t id,
		      enum ir_report_format fmt, unsigned flags,
		      struct ir_ctx *ctx)
{
	struct ir_rpt_model m;
	int rc;

	if (!out || !log)
		return -EINVAL;
	if (fmt != IR_REPORT_MD && fmt != IR_REPORT_HTML &&
	    fmt != IR_REPORT_JSON)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "unknown report format");
	{
		struct ir_incident inc;

		rc = ir_evlog_incident(log, id, &inc, ctx);
		if (rc)
			return rc;
		/* A drill is reported as its score, not as a runbook. */
		if (!strcmp(inc.kind, "drill"))
			return ir_rpt_drill(out, log, id, fmt, ctx);
	}
	rc = ir_rpt_model_build_full(&m, log, id, -1, flags & IR_REPORT_FULL,
				     ctx);
	if (rc)
		goto out;
	switch (fmt) {
	case IR_REPORT_MD:
		rc = ir_rpt_markdown(out, &m, log, ctx);
		break;
	case IR_REPORT_HTML:
		rc = ir_rpt_html(out, &m, log, ctx);
		break;
	case IR_REPORT_JSON:
		rc = ir_rpt_json(out, &m, ctx);
		break;
	}
out:
	ir_rpt_model_clear(&m);
	return rc;
}
