/*
 * Export of an incident as an asciicast (v2: newline-delimited JSON, a
 * header, then [seconds, "o", text] output and [seconds, "m", label]
 * marker events), rendered by the live display of `incident replay` into
 * a fixed-size terminal, with the recorded times: the same log and
 * options give the same bytes.
 */
#ifndef IR_CAST_H
#define IR_CAST_H

#include <stdio.h>

#include "error.h"
#include "evlog.h"

#define IR_CAST_MIN_COLS 20
#define IR_CAST_MAX_COLS 500
#define IR_CAST_MIN_ROWS 5
#define IR_CAST_MAX_ROWS 200
#define IR_CAST_MAX_IDLE 86400.0 /* seconds: a cap above this is no cap */

struct ir_cast_opts {
	int cols;        /* the terminal's width and height */
	int rows;
	double max_idle; /* seconds (> 0): a longer gap is cut to this */
};

#define IR_CAST_OPTS_INIT { 100, 30, 2.0 }

/* Write incident id to out as an asciicast.  The header's timestamp is
 * the incident's opening, its env TERM only; the frames are in colour
 * whatever NO_COLOR says (the player's terminal decides).  -EINVAL (ctx
 * says which) for options out of the ranges above; -EBADMSG (ctx names
 * incident and seq) for a tampered incident: the output streams, so the
 * lines before the fault have been written, and the exit status is what
 * tells; -EIO when writing fails, -ENOMEM. */
int ir_export_asciicast(FILE *out, struct ir_evlog *log, uint64_t id,
                        const struct ir_cast_opts *opts,
                        struct ir_ctx *ctx) IR_WUR;

#endif
