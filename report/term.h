/*
 * The terminal renderer: the live progress display of a running incident,
 * fed one event at a time as the recorder appends them (and by
 * `incident replay` with recorded timing), and the `timeline` view.
 */
#ifndef IR_TERM_H
#define IR_TERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "error.h"
#include "evlog.h"

struct ir_term;

struct ir_term_opts {
	FILE *out;  /* stderr for the live display */
	bool tty;   /* redraw in place (else plain lines, one per change) */
	bool color; /* ANSI colour (never when NO_COLOR is set) */
};

/* NULL when out of memory. */
struct ir_term *ir_term_new(const struct ir_term_opts *opts);
void ir_term_free(struct ir_term *t);

/* Consume one event (in seq order). */
void ir_term_event(struct ir_term *t, const struct ir_event *ev);

/* Time passes (mono: ns since the incident opened): on a TTY, redraw the
 * running step's timer against its budget and the whole budget. */
void ir_term_tick(struct ir_term *t, uint64_t mono);

/* The incident is over (or the caller stops feeding): final redraw. */
void ir_term_finish(struct ir_term *t);

/* Render for a fixed terminal of cols x rows (an asciicast's) from now on:
 * lines are cut to cols and the block to rows whatever the real terminal
 * or $COLUMNS say, and every event or tick redraws (never held back by the
 * real clock), so the same calls give the same bytes.  cols is at least
 * 20, rows at least 5. */
void ir_term_fixed(struct ir_term *t, int cols, int rows);

/* A marker (report/marker.h) was reached: on a TTY the line under the
 * header becomes "▸ label" (dimmed), plain output gets one line; with
 * paused, saying that space goes on (on a TTY, call again without it once
 * the pause is over).  The label is sanitized again here. */
void ir_term_marker(struct ir_term *t, const char *label, bool paused);

/* `incident timeline INC`: every event with UTC time and +offset, step
 * output collapsed with a count.  -EBADMSG (ctx names incident and seq)
 * when the hash chain is broken; lines already written stand. */
int ir_term_timeline(FILE *out, struct ir_evlog *log, uint64_t id,
		     bool color, struct ir_ctx *ctx) IR_WUR;

#endif
