/*
 * Internal to report/: strings from the log made safe for each output
 * (terminal, HTML, Markdown, JSON), and times, durations and sizes written
 * by integer arithmetic so that the output never depends on the time zone
 * or the locale.
 */
#ifndef IR_RPT_TEXT_H
#define IR_RPT_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"

enum ir_rpt_esc {
	IR_RPT_TEXT, /* terminal: controls and ANSI sequences defused */
	IR_RPT_HTML, /* and & < > " ' as entities, "://" broken up */
	IR_RPT_MD,   /* and < > & as entities, \ ` * _ [ ] | ~ escaped */
};

/* Write len bytes that came from the log to out, made safe for esc: ANSI
 * CSI sequences are dropped, other control characters, invalid UTF-8 bytes
 * and C1 / bidirectional-override code points are shown as \xNN or \uNNNN;
 * newlines and tabs become spaces (HTML keeps them). */
void ir_rpt_put(FILE *out, enum ir_rpt_esc esc, const char *s, size_t len);
/* The same for a NUL-terminated string; NULL writes nothing. */
void ir_rpt_puts(FILE *out, enum ir_rpt_esc esc, const char *s);
/* The same for formatted text (our own words around log values). */
void ir_rpt_printf(FILE *out, enum ir_rpt_esc esc, const char *fmt, ...)
	IR_PRINTF(3, 4);

/* A clean, valid UTF-8 copy of s for JSON (newlines and tabs kept, jansson
 * escapes them), appended to out.  -ENOMEM. */
int ir_rpt_clean(struct ir_buf *out, const char *s, size_t len) IR_WUR;

/* A copy of s cut to at most max bytes at a UTF-8 boundary, "…" marking a
 * cut; NULL for NULL or out of memory (*oom set then). */
char *ir_rpt_strdup(const char *s, size_t max, bool *oom);

/* a + b, saturating: times and durations come from the log. */
int64_t ir_rpt_add(int64_t a, int64_t b);

/* "2024-05-01T12:34:56.789Z" from ns since the epoch (UTC, gmtime_r). */
#define IR_RPT_TIME_LEN 40
void ir_rpt_time(char out[IR_RPT_TIME_LEN], int64_t ns);

/* Durations in ms: "850ms", "12.345s", "4m05.123s", "5m", "1h02m03s". */
#define IR_RPT_DUR_LEN 40
void ir_rpt_dur(char out[IR_RPT_DUR_LEN], int64_t ms);
/* Offsets from the opening: "+01:23.456", "+1:02:03.456". */
void ir_rpt_offset(char out[IR_RPT_DUR_LEN], int64_t ms);
/* Sizes: "512 B", "1.5 KiB", "20.0 MiB". */
void ir_rpt_bytes(char out[IR_RPT_DUR_LEN], int64_t bytes);
/* Microseconds as milliseconds with three decimals: "12.345ms". */
void ir_rpt_us(char out[IR_RPT_DUR_LEN], int64_t us);

/* One line of text with a hard length: appends past the end are cut at a
 * UTF-8 boundary and marked "…".  Used for one-line event summaries. */
#define IR_RPT_LINE_MAX 1024
struct ir_rpt_line {
	char s[IR_RPT_LINE_MAX + 4];
	size_t len;
	bool cut;
};

void ir_rpt_line_add(struct ir_rpt_line *l, const char *s, size_t n);
void ir_rpt_line_adds(struct ir_rpt_line *l, const char *s);
void ir_rpt_line_printf(struct ir_rpt_line *l, const char *fmt, ...)
	IR_PRINTF(2, 3);

#endif
