/*
 * Reports computed from an incident's events: Markdown, self-contained
 * HTML with an SVG timeline, JSON (docs/report-json.md); the `show --at`
 * view and cross-incident stats.  Everything is recomputed from the log;
 * output is streamed to the caller's FILE and is byte-identical for the same
 * log in any time zone and locale.
 */
#ifndef IR_REPORT_H
#define IR_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "evlog.h"

enum ir_report_format {
	IR_REPORT_MD,
	IR_REPORT_HTML,
	IR_REPORT_JSON,
};

/* Write the report of incident id to out.  -ENOENT for an unknown
 * incident, -EBADMSG for a corrupt log (ctx names incident and seq),
 * -EIO when out fails. */
int ir_report_write(FILE *out, struct ir_evlog *log, uint64_t id,
		    enum ir_report_format fmt, struct ir_ctx *ctx) IR_WUR;

/* How a report is written. */
enum {
	/* Fold nothing: every note, observation, timeline row and output
	 * line (the report then grows with the incident).  Without it a
	 * series of one kind longer than IR_LIMIT_REPORT_FOLD keeps its first
	 * and last IR_LIMIT_REPORT_FOLD_KEEP and names the command that shows
	 * the rest (docs/guide.md, "Folding"). */
	IR_REPORT_FULL = 1,
};

/* ir_report_write() with IR_REPORT_* flags. */
int ir_report_write_flags(FILE *out, struct ir_evlog *log, uint64_t id,
			  enum ir_report_format fmt, unsigned flags,
			  struct ir_ctx *ctx) IR_WUR;

/* `incident show INC [--at +DURATION]`: what was known at at_ms after the
 * incident opened (at_ms < 0: all of it): steps done, target, last health
 * status, then the events up to that moment.  json selects JSON. */
int ir_report_show(FILE *out, struct ir_evlog *log, uint64_t id,
		   int64_t at_ms, bool json, struct ir_ctx *ctx) IR_WUR;

/* `incident timeline INC --json`: a JSON array, one object per line of
 * the timeline (seq, ts, offset_ms, type, step, text; a run of step
 * output adds last_seq, lines, dropped). */
int ir_report_timeline_json(FILE *out, struct ir_evlog *log, uint64_t id,
			    struct ir_ctx *ctx) IR_WUR;

/* `incident stats`: counts by kind and status, rollback duration median
 * and p95, per-step median against budget, steps most often over budget,
 * key times. */
int ir_report_stats(FILE *out, struct ir_evlog *log, bool json,
		    struct ir_ctx *ctx) IR_WUR;

#endif
