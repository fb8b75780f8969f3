/*
 * The pieces the terminal views share (term.c: the live display and
 * `incident timeline`): a line builder that sanitizes everything it is
 * given and cuts at the width, duration and time formatters no locale can
 * change, readers of event data, and one event described as one line
 * (term_describe.c).  Private to report/.
 */
#ifndef IR_TERM_LINE_H
#define IR_TERM_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "error.h"
#include "value.h"

#define IR_TLINE_STEP_COL 10 /* width of the step column */
/* A line that is not cut to a terminal's width (piped or redirected
 * output) still has this hard cap: room for the longest fields the log
 * holds (4 KiB each) several times over. */
#define IR_TLINE_MAX_COLS 16384
/* A line holds at most IR_TLINE_MAX_COLS characters of up to 4 bytes, plus
 * colour codes; IR_TLINE_SPARE stays free for the cut mark and a reset. */
#define IR_TLINE_BYTES (4 * IR_TLINE_MAX_COLS + 256)
#define IR_TLINE_SPARE 16
#define IR_TLINE_PIDS_SHOWN 8
#define IR_NS_PER_MS 1000000ULL
#define IR_NS_PER_SEC 1000000000LL

enum ir_tone {
	IR_TONE_OFF,
	IR_TONE_GREEN,
	IR_TONE_RED,
	IR_TONE_YELLOW,
	IR_TONE_DIM,
	IR_TONE_BOLD,
};

/*
 * One output line, built piece by piece.  Every byte that goes in passes
 * the sanitizer, so text from the log (step output above all) can never
 * reach the terminal as a control sequence; the line is cut to the width
 * with a mark, so a redraw never wraps.
 */
struct ir_tline {
	char buf[IR_TLINE_BYTES];
	size_t len;
	size_t last; /* where the last visible character starts */
	int cols;
	int width; /* visible columns allowed */
	bool color;
	bool colored;      /* a colour code was written */
	enum ir_tone tone; /* the one in effect */
	enum ir_tone base; /* what IR_TONE_OFF returns to */
	bool full;
};

/* What ir_tline_describe() needs beyond the event. */
struct ir_tline_desc {
	uint64_t budget_ms; /* for incident.closed */
	uint64_t probe;     /* number of an http probe, 0: unknown */
	bool body;          /* show an http body */
};

/* Start an empty line of `width` columns (the last one stays free). */
void ir_tline_init(struct ir_tline *l, int width, bool color);
/* Text that follows is in tone t (no codes without colour). */
void ir_tline_tone(struct ir_tline *l, enum ir_tone t);
/* The tone that IR_TONE_OFF returns to. */
void ir_tline_base(struct ir_tline *l, enum ir_tone t);
/* Append n bytes of text from anywhere, sanitized: controls and invalid
 * UTF-8 become '?'; cut with a mark at the width. */
void ir_tline_add(struct ir_tline *l, const void *p, size_t n);
/* Printable ASCII the caller made (digits, spaces, its own words): copied
 * without the sanitizer's scan where it fits, else as ir_tline_add(). */
void ir_tline_ascii(struct ir_tline *l, const char *s, size_t n);
/* An integer in decimal, as "%llu" writes it. */
void ir_tline_u64(struct ir_tline *l, uint64_t v);
void ir_tline_puts(struct ir_tline *l, const char *s);
void ir_tline_printf(struct ir_tline *l, const char *fmt, ...) IR_PRINTF(2, 3);
/* Pad with spaces up to column col. */
void ir_tline_pad(struct ir_tline *l, int col);
/* Close the line: a colour still on is reset, the text NUL-ended. */
void ir_tline_end(struct ir_tline *l);
/* End the line and write it with a newline; -EIO when the write fails. */
int ir_tline_write(FILE *out, struct ir_tline *l);
/* A measured duration: "430 ms", "12.3s", "1m05s", "1h02m". */
void ir_tline_dur(char *out, size_t cap, uint64_t ms);
/* A running timer: tenths below a minute ("0.4s"). */
void ir_tline_timer(char *out, size_t cap, uint64_t ms);
/* A budget as configured: "30s", "5m", "1m30s", "250ms", "1h". */
void ir_tline_budget(char *out, size_t cap, uint64_t ms);
/* Offset since the incident opened: "+MM:SS.mmm", "+H:MM:SS.mmm". */
void ir_tline_offset(char *out, size_t cap, uint64_t ns);
void ir_tline_bytes(char *out, size_t cap, uint64_t b);
/* ISO 8601 UTC with milliseconds, whatever TZ says. */
void ir_tline_utc(char *out, size_t cap, int64_t ns);
/* A non-empty string field of an event's data. */
bool ir_tline_val_str(const struct ir_val *m, const char *key, const char **p,
                      size_t *n);
bool ir_tline_val_u64(const struct ir_val *m, const char *key, uint64_t *out);
bool ir_tline_val_is(const struct ir_val *m, const char *key, const char *want);
/* Add " <before>value<after>" for a string field that is present. */
bool ir_tline_field(struct ir_tline *l, const struct ir_val *m, const char *key,
                    const char *before, const char *after);
/* Inline, the first byte compared first: the views ask it of every event
 * for each kind they know. */
static inline bool
ir_tline_is_type(const struct ir_event *ev, const char *type)
{
	return ev->type[0] == type[0] && !strcmp(ev->type, type);
}
/* An http observation (a health probe). */
bool ir_tline_is_probe(const struct ir_event *ev);
/* One event as the rest of one line (term_describe.c). */
void ir_tline_describe(struct ir_tline *l, const struct ir_event *ev,
                       const struct ir_tline_desc *x);
/* A line of output: "| " and the line, yellow for stderr, marked when it
 * was cut; from its decoded data or read in place. */
void ir_tline_output(struct ir_tline *l, const struct ir_output_view *out);
/* A note's text, author and what it corrects: the rest of its line, from
 * its decoded data or read in place. */
void ir_tline_note(struct ir_tline *l, const struct ir_note_view *note);
/* The step column: the step, or what kind of event stands there. */
void ir_tline_column(struct ir_tline *l, const struct ir_event *ev);

#endif
