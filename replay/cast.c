#include "cast.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "marker.h"
#include "state.h"
#include "term.h"

#define US_PER_SEC 1000000ULL
#define NS_PER_US 1000ULL
/* While a gap plays, the display's timers move: a frame this often. */
#define CAST_TICK_US (500 * 1000ULL)
/* Frames at most this often on the cast's clock, as the live display
 * draws at most 10 a second on the real one: a burst of step output is a
 * few frames, not one per line. */
#define CAST_FRAME_US (100 * 1000ULL)
/* One frame of the display (term.c draws at most 256 KiB), with room for
 * the \r each \n gains. */
#define CAST_FRAME_MAX (1024 * 1024)
/* Times are written to the microsecond: 15 significant digits print any
 * of them (up to 31 years) exactly, and the shortest way. */
#define CAST_JSON_FLAGS                                                        \
	(JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))

struct cast {
	FILE *out;
	const struct ir_cast_opts *opts;
	struct ir_ctx *ctx;
	struct ir_term *term;
	/* The display draws into mem; each call's bytes are one frame, and
	 * each frame stands alone (ir_term_fixed): one held back too soon
	 * after the last written is replaced by the next. */
	FILE *mem;
	char *mem_buf;
	size_t mem_len;
	struct ir_buf frame; /* the frame held back, as written */
	bool held;
	uint64_t held_us;
	bool shown;
	uint64_t shown_us;  /* when the last frame written was */
	struct ir_state st; /* what the markers read */
	uint64_t t_us;      /* the cast's clock at the last event */
	uint64_t last_mono; /* recorded mono of the last event */
	uint8_t head[IR_HASH_LEN];
	uint64_t head_seq;
};

static int
write_json(struct cast *c, json_t *j)
{
	char *s = j ? json_dumps(j, CAST_JSON_FLAGS) : NULL;
	int rc = 0;

	json_decref(j);
	if (!s)
		return ir_error_set(c->ctx, -ENOMEM, IR_ORIGIN_NONE, 0,
		                    "export: out of memory");
	if (fputs(s, c->out) < 0 || fputc('\n', c->out) < 0)
		rc = ir_error_set(c->ctx, -EIO, IR_ORIGIN_OS, errno,
		                  "export: write failed: %s", strerror(errno));
	free(s);
	return rc;
}

static json_t *
event(uint64_t t_us, const char *code, const char *text, size_t len)
{
	return json_pack("[f s s%]", (double)t_us / (double)US_PER_SEC, code,
	                 text, len);
}

/* Start capturing what the display draws next. */
static void
capture(struct cast *c)
{
	rewind(c->mem);
}

/* Write the frame held back, at its time or, to keep the pace, when the
 * one before it has stood CAST_FRAME_US (paced false: at its time, for a
 * marker or the end). */
static int
flush(struct cast *c, bool paced)
{
	uint64_t t = c->held_us;

	if (!c->held)
		return 0;
	if (paced && c->shown && t < c->shown_us + CAST_FRAME_US)
		t = c->shown_us + CAST_FRAME_US;
	c->held = false;
	c->shown = true;
	c->shown_us = t;
	return write_json(
	    c, event(t, "o", (const char *)c->frame.data, c->frame.len));
}

static bool
due(const struct cast *c, uint64_t t_us)
{
	return !c->shown || t_us >= c->shown_us + CAST_FRAME_US;
}

/* What the display drew since capture() is the frame at t_us (none when
 * it drew nothing).  The newlines become \r\n: a terminal's own output
 * processing does that, a player does not. */
static int
emit(struct cast *c, uint64_t t_us)
{
	long end;
	int rc = 0;

	if (fflush(c->mem))
		return -ENOMEM;
	end = ftell(c->mem);
	if (end <= 0)
		return 0;
	/* What was held back stood until now: it is written first. */
	if (c->held && due(c, t_us))
		rc = flush(c, true);
	if (rc)
		return rc;
	ir_buf_reset(&c->frame);
	for (long i = 0; i < end && !rc; i++) {
		if (c->mem_buf[i] == '\n')
			rc = ir_buf_add(&c->frame, "\r\n", 2);
		else
			rc = ir_buf_add(&c->frame, c->mem_buf + i, 1);
	}
	if (rc)
		return ir_error_set(c->ctx, -ENOMEM, IR_ORIGIN_NONE, 0,
		                    "export: a frame of the display is too "
		                    "large");
	c->held = true;
	c->held_us = t_us;
	return due(c, t_us) ? flush(c, true) : 0;
}

static int
marker(struct cast *c, uint64_t t_us, const char *label)
{
	int rc;

	capture(c);
	ir_term_marker(c->term, label, false);
	rc = emit(c, t_us);
	/* A player that stops at the marker shows the screen as of it. */
	if (!rc)
		rc = flush(c, false);
	if (!rc)
		rc = write_json(c, event(t_us, "m", label, strlen(label)));
	return rc;
}

/* The recorded gap before an event, capped at max_idle, on the cast's
 * clock; the display's timers tick across it as replay's do. */
static int
gap(struct cast *c, uint64_t mono)
{
	uint64_t rec = mono > c->last_mono ? mono - c->last_mono : 0;
	double cap = c->opts->max_idle * (double)US_PER_SEC;
	uint64_t us = rec / NS_PER_US;
	int rc = 0;

	if ((double)us > cap)
		us = (uint64_t)cap;
	for (uint64_t k = CAST_TICK_US; k < us && !rc; k += CAST_TICK_US) {
		double frac = (double)k / (double)us;

		capture(c);
		ir_term_tick(c->term,
		             c->last_mono + (uint64_t)((double)rec * frac));
		rc = emit(c, c->t_us + k);
	}
	c->t_us += us;
	if (mono > c->last_mono)
		c->last_mono = mono;
	return rc;
}

static int
cast_event(void *payload, const struct ir_event *ev, const void *raw,
           size_t len)
{
	struct cast *c = payload;
	char label[IR_MARKER_BYTES];
	bool marks;
	int rc;

	ir_sha256(c->head, raw, len);
	c->head_seq = ev->seq;
	rc = gap(c, ev->mono);
	if (rc)
		return rc;
	marks = ir_marker_label(label, sizeof(label), &c->st, ev);
	ir_state_apply(&c->st, ev);
	capture(c);
	ir_term_event(c->term, ev);
	rc = emit(c, c->t_us);
	if (!rc && marks)
		rc = marker(c, c->t_us, label);
	return rc;
}

static int
header(struct cast *c, const struct ir_incident *inc)
{
	char title[IR_MARKER_BYTES];
	int64_t ts = inc->opened / 1000000000LL;

	ir_marker_title(title, sizeof(title), inc);
	return write_json(
	    c, json_pack("{s:i, s:i, s:i, s:I, s:f, s:s, s:{s:s}}", "version",
	                 2, "width", c->opts->cols, "height", c->opts->rows,
	                 "timestamp", (json_int_t)(ts < 0 ? 0 : ts),
	                 "idle_time_limit", c->opts->max_idle, "title", title,
	                 "env", "TERM", "xterm-256color"));
}

static int
check_opts(const struct ir_cast_opts *o, struct ir_ctx *ctx)
{
	if (o->cols < IR_CAST_MIN_COLS || o->cols > IR_CAST_MAX_COLS)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "export: the width must be %d to %d "
		                    "columns",
		                    IR_CAST_MIN_COLS, IR_CAST_MAX_COLS);
	if (o->rows < IR_CAST_MIN_ROWS || o->rows > IR_CAST_MAX_ROWS)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "export: the height must be %d to %d rows",
		                    IR_CAST_MIN_ROWS, IR_CAST_MAX_ROWS);
	if (!(o->max_idle > 0) || o->max_idle > IR_CAST_MAX_IDLE)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "export: the idle cap must be above 0 and "
		                    "at most %.0f seconds",
		                    IR_CAST_MAX_IDLE);
	return 0;
}

int
ir_export_asciicast(FILE *out, struct ir_evlog *log, uint64_t id,
                    const struct ir_cast_opts *opts, struct ir_ctx *ctx)
{
	struct ir_term_opts topts = {NULL, true, true};
	struct ir_incident inc;
	struct cast *c = NULL;
	char label[IR_MARKER_BYTES];
	int rc;

	if (!out || !log || !opts)
		return -EINVAL;
	rc = check_opts(opts, ctx);
	if (rc)
		return rc;
	rc = ir_evlog_incident(log, id, &inc, ctx);
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->out = out;
	c->opts = opts;
	c->ctx = ctx;
	c->frame = (struct ir_buf)IR_BUF_INIT(CAST_FRAME_MAX);
	ir_state_init(&c->st);
	c->mem = open_memstream(&c->mem_buf, &c->mem_len);
	if (!c->mem) {
		rc = -ENOMEM;
		goto out;
	}
	topts.out = c->mem;
	c->term = ir_term_new(&topts);
	if (!c->term) {
		rc = -ENOMEM;
		goto out;
	}
	ir_term_fixed(c->term, opts->cols, opts->rows);
	rc = header(c, &inc);
	if (rc)
		goto out;
	/* The frames stream as the scan goes; the chain is checked
	 * alongside, and a break fails the export after them. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
	                   cast_event, c, ctx);
	if (rc)
		goto out;
	capture(c);
	ir_term_finish(c->term);
	rc = emit(c, c->t_us);
	if (!rc)
		rc = flush(c, false);
	if (rc || !c->head_seq)
		goto out;
	ir_marker_head(label, sizeof(label), c->head, c->head_seq);
	rc = marker(c, c->t_us, label);
	if (!rc && fflush(out))
		rc = ir_error_set(ctx, -EIO, IR_ORIGIN_OS, errno,
		                  "export: write failed: %s", strerror(errno));
out:
	if (rc == -ENOMEM) /* the first message set stands */
		rc = ir_error_set(ctx, rc, IR_ORIGIN_NONE, 0,
		                  "export: out of memory");
	ir_term_free(c->term);
	if (c->mem)
		fclose(c->mem);
	free(c->mem_buf);
	ir_buf_clear(&c->frame);
	free(c);
	return rc;
}
