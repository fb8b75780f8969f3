/* Internal to report/: the report of a drill (drill_report.c). */
#ifndef IR_RPT_DRILL_REPORT_H
#define IR_RPT_DRILL_REPORT_H

#include <stdio.h>

#include "error.h"
#include "evlog.h"
#include "report.h"

int ir_rpt_drill(FILE *out, struct ir_evlog *log, uint64_t id,
		 enum ir_report_format fmt, struct ir_ctx *ctx) IR_WUR;

#endif
