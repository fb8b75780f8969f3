#include "term.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "runbook.h"
#include "term_line.h"
#include "value.h"

#define TERM_MAX_STEPS 16
#define TERM_RECENT 4 /* output lines under the step list */
#define TERM_MIN_COLS 20
#define TERM_DEFAULT_COLS 100
#define TERM_MAX_COLS 1000 /* a terminal wider than this is cut here */
#define TERM_FRAME_BYTES (256 * 1024)
#define TERM_REDRAW_NS (100 * 1000 * 1000ULL) /* at most 10 frames/s */
#define TERM_PROBE_EVERY 10 /* plain mode: every Nth health probe */
#define TERM_MIN_ROWS 5
#define TERM_MARKER_BYTES 512

typedef unsigned long long ull;


enum step_state { ST_PENDING, ST_RUNNING, ST_DONE, ST_FAILED, ST_SKIPPED };

struct step {
	char name[16];
	enum step_state state;
	uint64_t started; /* mono ns */
	uint64_t budget_ms;
	uint64_t duration_ms;
	bool over_budget;
	uint64_t probes;         /* health probes since the step started */
	struct ir_event *detail; /* TTY: what the row shows after the timer */
};

struct ir_term {
	struct ir_term_opts opts;
	int width; /* plain mode and timeline; ir_term_fixed: every mode */
	int rows;  /* ir_term_fixed: lines the block may take; 0: no limit */
	bool fixed;
	char kind[16];
	uint64_t budget_ms; /* the whole rollback; 0: unknown */
	uint64_t now;       /* mono ns: the latest event or tick */
	bool opened, closed, resumed;
	uint64_t duration_ms;
	struct step steps[TERM_MAX_STEPS];
	size_t nsteps;

	/* TTY: what the block shows besides the steps. */
	struct ir_event *opened_ev, *closed_ev, *decision, *note;
	struct ir_event *recent[TERM_RECENT];
	size_t recent_next;
	char marker[TERM_MARKER_BYTES]; /* the last marker, "" before one */
	bool paused;
	struct ir_buf frame;
	int drawn; /* lines of the frame on screen */
	bool ever_drawn, dirty;
	uint64_t drawn_at; /* real clock, ns */

	/* Plain mode: a health probe held back to keep the output short. */
	struct ir_event *probe;
	uint64_t probe_n;
	int64_t probe_status;

	struct ir_tline line;
};

/* ---- state --------------------------------------------------------- */

static void
event_free(struct ir_event *ev)
{
	if (!ev)
		return;
	ir_event_clear(ev);
	free(ev);
}

/* *slot becomes a copy of ev (NULL if memory ran out: the display then
 * shows less, it never fails the run). */
static void
keep(struct ir_event **slot, const struct ir_event *ev)
{
	struct ir_event *copy = malloc(sizeof(*copy));

	if (copy) {
		*copy = *ev;
		copy->data = NULL;
		if (ev->data) {
			copy->data = ir_val_dup(ev->data);
			if (!copy->data) {
				free(copy);
				copy = NULL;
			}
		}
	}
	event_free(*slot);
	*slot = copy;
}

static uint64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)IR_NS_PER_SEC +
	       (uint64_t)ts.tv_nsec;
}

/* Lines are cut to the width on a terminal only (a redraw must never
 * wrap; a plain line on a terminal reads better whole on one row).  Piped
 * or redirected output is kept whole: the end of a line is often the
 * reason something failed. */
static int
term_width(FILE *out, bool redraw)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int fd = out ? fileno(out) : -1;
	bool tty = fd >= 0 && isatty(fd);
	long cols = 0;

	if (!redraw && !tty)
		return IR_TLINE_MAX_COLS + 1; /* ir_tline_init keeps one */
	if (tty && !ioctl(fd, TIOCGWINSZ, &ws))
		cols = ws.ws_col;
	if (!cols && env) {
		char *end;

		cols = strtol(env, &end, 10);
		if (end == env || *end)
			cols = 0;
	}
	if (cols <= 0)
		cols = TERM_DEFAULT_COLS;
	if (cols < TERM_MIN_COLS)
		cols = TERM_MIN_COLS;
	if (cols > TERM_MAX_COLS)
		cols = TERM_MAX_COLS;
	return (int)cols;
}

static struct step *
step_get(struct ir_term *t, const char *name, bool add)
{
	struct step *st;

	if (!name[0])
		return NULL;
	for (size_t i = 0; i < t->nsteps; i++)
		if (!strncmp(t->steps[i].name, name, sizeof(st->name)))
			return &t->steps[i];
	if (!add || t->nsteps == TERM_MAX_STEPS)
		return NULL;
	st = &t->steps[t->nsteps++];
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%.*s", (int)sizeof(st->name) - 1,
	         name);
	return st;
}

static void
steps_for_kind(struct ir_term *t, const struct ir_val *d)
{
	const char *kind = ir_val_get_str(d, "kind");
	const enum ir_step *steps;
	size_t n = 0;

	if (!kind)
		return;
	/* A drill shows the rollback it replays. */
	steps = ir_runbook_steps(strcmp(kind, "drill") ? kind : "rollback", &n);
	for (size_t i = 0; i < n; i++)
		step_get(t, ir_step_name(steps[i]), true);
}

/* Fold one event into what the display knows.  Copies of events are kept
 * only for the TTY block. */
static void
update(struct ir_term *t, const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	bool tty = t->opts.tty;
	struct step *st =
	    step_get(t, ev->step, !ir_tline_is_type(ev, "decision"));
	const char *p;
	size_t n;
	uint64_t u;

	if (ev->mono > t->now)
		t->now = ev->mono;
	if (ir_tline_is_type(ev, "incident.opened")) {
		t->opened = true;
		if (ir_tline_val_str(d, "kind", &p, &n))
			snprintf(t->kind, sizeof(t->kind), "%.*s",
			         (int)(n < sizeof(t->kind) ? n : 15), p);
		if (!ir_tline_val_u64(d, "budget_ms", &t->budget_ms))
			t->budget_ms = 0;
		steps_for_kind(t, d);
		if (tty)
			keep(&t->opened_ev, ev);
	} else if (ir_tline_is_type(ev, "step.started") && st) {
		st->state = ST_RUNNING;
		st->started = ev->mono;
		st->budget_ms = ir_tline_val_u64(d, "budget_ms", &u) ? u : 0;
		st->duration_ms = 0;
		st->over_budget = false;
		st->probes = 0;
		event_free(st->detail);
		st->detail = NULL;
	} else if ((ir_tline_is_type(ev, "step.completed") ||
	            ir_tline_is_type(ev, "step.failed")) &&
	           st) {
		st->state =
		    ir_tline_is_type(ev, "step.failed") ? ST_FAILED : ST_DONE;
		if (!ir_tline_val_u64(d, "duration_ms", &st->duration_ms))
			st->duration_ms =
			    ev->mono > st->started
			        ? (ev->mono - st->started) / IR_NS_PER_MS
			        : 0;
		st->over_budget = ir_val_get_bool(d, "over_budget", false);
		if (tty && st->state == ST_FAILED)
			keep(&st->detail, ev);
	} else if (ir_tline_is_type(ev, "step.skipped") && st) {
		st->state = ST_SKIPPED;
		if (tty)
			keep(&st->detail, ev);
	} else if (ir_tline_is_type(ev, "step.output")) {
		if (tty) {
			keep(&t->recent[t->recent_next], ev);
			t->recent_next = (t->recent_next + 1) % TERM_RECENT;
		}
	} else if (ir_tline_is_type(ev, "observation") ||
	           ir_tline_is_type(ev, "target.chosen") ||
	           ir_tline_is_type(ev, "backup.created") ||
	           ir_tline_is_type(ev, "restore.completed")) {
		if (st && ir_tline_is_probe(ev))
			st->probes++;
		if (st && tty)
			keep(&st->detail, ev);
	} else if (ir_tline_is_type(ev, "decision")) {
		if (tty)
			keep(&t->decision, ev);
	} else if (ir_tline_is_type(ev, "note")) {
		if (tty)
			keep(&t->note, ev);
	} else if (ir_tline_is_type(ev, "incident.resumed")) {
		t->resumed = true;
	} else if (ir_tline_is_type(ev, "incident.closed")) {
		t->closed = true;
		if (!ir_tline_val_u64(d, "duration_ms", &t->duration_ms))
			t->duration_ms = ev->mono / IR_NS_PER_MS;
		if (tty)
			keep(&t->closed_ev, ev);
	}
}

/* ---- plain mode: one line per change ------------------------------- */

static void
plain_line(struct ir_term *t, const struct ir_event *ev, uint64_t probe)
{
	struct ir_tline *l = &t->line;
	struct ir_tline_desc x = {t->budget_ms, probe, false};
	char off[32];

	ir_tline_init(l, t->width, false);
	ir_tline_offset(off, sizeof(off), ev->mono);
	ir_tline_printf(l, "[%s] ", off);
	ir_tline_column(l, ev);
	ir_tline_describe(l, ev, &x);
	(void)ir_tline_write(t->opts.out, l);
}

static void
plain_flush_probe(struct ir_term *t)
{
	if (!t->probe)
		return;
	plain_line(t, t->probe, t->probe_n);
	event_free(t->probe);
	t->probe = NULL;
}

/* Health probes come every second or so: show the first, every
 * TERM_PROBE_EVERY-th, any change of status, and the last one before
 * anything else happens. */
static void
plain_event(struct ir_term *t, const struct ir_event *ev)
{
	if (ir_tline_is_probe(ev)) {
		struct step *st = step_get(t, ev->step, false);
		uint64_t n = st ? st->probes : 0;
		int64_t status = ir_val_get_int(ev->data, "status", -1);

		if (n > 1 && status == t->probe_status &&
		    n % TERM_PROBE_EVERY) {
			keep(&t->probe, ev);
			t->probe_n = n;
			return;
		}
		event_free(t->probe);
		t->probe = NULL;
		t->probe_status = status;
		plain_line(t, ev, n);
		return;
	}
	plain_flush_probe(t);
	plain_line(t, ev, 0);
}

/* ---- TTY mode: a block redrawn in place ----------------------------- */

static void
frame_line(struct ir_term *t, bool *ok, int *lines)
{
	struct ir_tline *l = &t->line;

	ir_tline_end(l);
	/* The block stays above the terminal's last line: taller, it would
	 * scroll, and the redraw would go up into what scrolled. */
	if (!*ok || (t->rows && *lines >= t->rows - 1))
		return;
	if (ir_buf_add(&t->frame, "\x1b[2K", 4) ||
	    ir_buf_add(&t->frame, l->buf, l->len) ||
	    ir_buf_add(&t->frame, "\n", 1))
		*ok = false;
	(*lines)++;
}

static void
draw_header(struct ir_term *t, struct ir_tline *l)
{
	uint64_t ms = t->closed ? t->duration_ms : t->now / IR_NS_PER_MS;
	char el[32], bud[32], diff[32];

	ir_tline_tone(l, IR_TONE_BOLD);
	ir_tline_add(l, t->kind, strnlen(t->kind, sizeof(t->kind)));
	if (!t->kind[0])
		ir_tline_puts(l, "incident");
	ir_tline_tone(l, IR_TONE_OFF);
	if (t->resumed)
		ir_tline_puts(l, " (resumed)");
	/* Running: a timer in tenths; done: the measured duration, which
	 * for a fast rollback is milliseconds, not "0.0s". */
	if (t->closed)
		ir_tline_dur(el, sizeof(el), ms);
	else
		ir_tline_timer(el, sizeof(el), ms);
	ir_tline_printf(l, "  %s", el);
	if (t->budget_ms) {
		ir_tline_budget(bud, sizeof(bud), t->budget_ms);
		ir_tline_printf(l, " / %s", bud);
		if (ms <= t->budget_ms) {
			ir_tline_timer(diff, sizeof(diff), t->budget_ms - ms);
			ir_tline_tone(l, IR_TONE_DIM);
			ir_tline_printf(l, "  %s left", diff);
		} else {
			ir_tline_timer(diff, sizeof(diff), ms - t->budget_ms);
			ir_tline_tone(l, IR_TONE_RED);
			ir_tline_printf(l, "  over budget by %s", diff);
		}
		ir_tline_tone(l, IR_TONE_OFF);
	}
	if (t->opened_ev) {
		ir_tline_tone(l, IR_TONE_DIM);
		ir_tline_field(l, t->opened_ev->data, "reason", "  \"", "\"");
		ir_tline_tone(l, IR_TONE_OFF);
	}
}

static void
draw_step(struct ir_term *t, struct ir_tline *l, const struct step *st)
{
	static const char *const symbol[] = {
	    [ST_PENDING] = "\xc2\xb7",     [ST_RUNNING] = "\xe2\x96\xb6",
	    [ST_DONE] = "\xe2\x9c\x93",    [ST_FAILED] = "\xe2\x9c\x97",
	    [ST_SKIPPED] = "\xe2\x80\x93",
	};
	static const enum ir_tone tone[] = {
	    [ST_PENDING] = IR_TONE_DIM, [ST_RUNNING] = IR_TONE_YELLOW,
	    [ST_DONE] = IR_TONE_GREEN,  [ST_FAILED] = IR_TONE_RED,
	    [ST_SKIPPED] = IR_TONE_DIM,
	};
	struct ir_tline_desc x = {t->budget_ms, st->probes, false};
	char a[32], b[32];
	uint64_t ms;
	int col;

	ir_tline_puts(l, "  ");
	ir_tline_tone(l, tone[st->state]);
	ir_tline_puts(l, symbol[st->state]);
	ir_tline_puts(l, " ");
	/* From here: the symbol may have counted as one column or two. */
	col = l->cols;
	ir_tline_add(l, st->name, strnlen(st->name, sizeof(st->name)));
	ir_tline_pad(l, col + IR_TLINE_STEP_COL);
	ir_tline_puts(l, " ");
	switch (st->state) {
	case ST_PENDING:
		ir_tline_tone(l, IR_TONE_OFF);
		return;
	case ST_RUNNING:
		ms = t->now > st->started
		         ? (t->now - st->started) / IR_NS_PER_MS
		         : 0;
		ir_tline_tone(l, st->budget_ms && ms > st->budget_ms
		                     ? IR_TONE_RED
		                     : IR_TONE_OFF);
		ir_tline_timer(a, sizeof(a), ms);
		ir_tline_puts(l, a);
		if (st->budget_ms) {
			ir_tline_budget(b, sizeof(b), st->budget_ms);
			ir_tline_printf(l, " / %s", b);
		}
		break;
	case ST_DONE:
		ir_tline_tone(l,
		              st->over_budget ? IR_TONE_YELLOW : IR_TONE_OFF);
		ir_tline_dur(a, sizeof(a), st->duration_ms);
		ir_tline_puts(l, a);
		if (st->over_budget)
			ir_tline_puts(l, " (over budget)");
		break;
	case ST_FAILED:
	case ST_SKIPPED:
		ir_tline_tone(l, IR_TONE_OFF);
		if (st->detail)
			ir_tline_describe(l, st->detail, &x);
		else
			ir_tline_puts(l, st->state == ST_FAILED ? "failed"
			                                        : "skipped");
		return;
	}
	ir_tline_tone(l, IR_TONE_OFF);
	if (st->detail) {
		ir_tline_puts(l, "  ");
		ir_tline_base(l, IR_TONE_DIM);
		ir_tline_describe(l, st->detail, &x);
	}
}

static void
redraw(struct ir_term *t, bool force)
{
	struct ir_tline *l = &t->line;
	struct ir_tline_desc x = {t->budget_ms, 0, false};
	uint64_t now = real_ns();
	int width, lines = 0;
	bool ok = true, color = t->opts.color;

	if (!force && !t->fixed && t->ever_drawn &&
	    now - t->drawn_at < TERM_REDRAW_NS)
		return;
	width = t->fixed ? t->width : term_width(t->opts.out, true);
	ir_buf_reset(&t->frame);
	/* Back to the top of the block; each line clears itself, and what
	 * is left below a shorter block is erased at the end.  A fixed
	 * terminal's block fills it from the top: every frame stands alone,
	 * whichever came before it. */
	if (t->fixed && ir_buf_add(&t->frame, "\x1b[H", 3))
		return;
	if (!t->fixed && t->drawn &&
	    ir_buf_printf(&t->frame, "\r\x1b[%dA", t->drawn))
		return;

	ir_tline_init(l, width, color);
	draw_header(t, l);
	frame_line(t, &ok, &lines);
	if (t->marker[0]) {
		ir_tline_init(l, width, color);
		ir_tline_tone(l, IR_TONE_DIM);
		ir_tline_puts(l, "\xe2\x96\xb8 ");
		ir_tline_puts(l, t->marker);
		if (t->paused)
			ir_tline_puts(l, "  (paused: space goes on)");
		ir_tline_tone(l, IR_TONE_OFF);
		frame_line(t, &ok, &lines);
	}
	for (size_t i = 0; i < t->nsteps; i++) {
		ir_tline_init(l, width, color);
		draw_step(t, l, &t->steps[i]);
		frame_line(t, &ok, &lines);
	}
	if (t->decision) {
		ir_tline_init(l, width, color);
		ir_tline_tone(l, IR_TONE_YELLOW);
		ir_tline_puts(l, "decision: ");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_describe(l, t->decision, &x);
		frame_line(t, &ok, &lines);
	}
	if (t->note) {
		ir_tline_init(l, width, color);
		ir_tline_tone(l, IR_TONE_BOLD);
		ir_tline_puts(l, "note: ");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_describe(l, t->note, &x);
		frame_line(t, &ok, &lines);
	}
	for (size_t i = 0; i < TERM_RECENT; i++) {
		const struct ir_event *ev =
		    t->recent[(t->recent_next + i) % TERM_RECENT];

		if (!ev)
			continue;
		ir_tline_init(l, width, color);
		ir_tline_tone(l, IR_TONE_DIM);
		ir_tline_puts(l, "    ");
		ir_tline_add(l, ev->step, strnlen(ev->step, sizeof(ev->step)));
		ir_tline_puts(l, " ");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_describe(l, ev, &x);
		frame_line(t, &ok, &lines);
	}
	if (t->closed_ev) {
		ir_tline_init(l, width, color);
		ir_tline_describe(l, t->closed_ev, &x);
		frame_line(t, &ok, &lines);
	}
	if (!ok || ir_buf_add(&t->frame, "\x1b[J", 3))
		return;
	if (fwrite(t->frame.data, 1, t->frame.len, t->opts.out) == t->frame.len)
		t->drawn = lines;
	fflush(t->opts.out);
	t->ever_drawn = true;
	t->drawn_at = now;
	t->dirty = false;
}

/* ---- the public face ----------------------------------------------- */

struct ir_term *
ir_term_new(const struct ir_term_opts *opts)
{
	struct ir_term *t;

	if (!opts)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->opts = *opts;
	if (!t->opts.out)
		t->opts.out = stderr;
	t->width = term_width(t->opts.out, t->opts.tty);
	t->frame = (struct ir_buf)IR_BUF_INIT(TERM_FRAME_BYTES);
	t->probe_status = -1;
	return t;
}

void
ir_term_free(struct ir_term *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsteps; i++)
		event_free(t->steps[i].detail);
	for (size_t i = 0; i < TERM_RECENT; i++)
		event_free(t->recent[i]);
	event_free(t->opened_ev);
	event_free(t->closed_ev);
	event_free(t->decision);
	event_free(t->note);
	event_free(t->probe);
	ir_buf_clear(&t->frame);
	free(t);
}

void
ir_term_event(struct ir_term *t, const struct ir_event *ev)
{
	if (!t || !ev)
		return;
	update(t, ev);
	if (t->opts.tty) {
		t->dirty = true;
		redraw(t, false);
	} else {
		plain_event(t, ev);
		fflush(t->opts.out);
	}
}

void
ir_term_tick(struct ir_term *t, uint64_t mono)
{
	bool running = false;

	if (!t)
		return;
	if (mono > t->now)
		t->now = mono;
	if (!t->opts.tty)
		return;
	for (size_t i = 0; i < t->nsteps; i++)
		running |= t->steps[i].state == ST_RUNNING;
	if (t->dirty || running || (t->opened && !t->closed))
		redraw(t, false);
}

void
ir_term_finish(struct ir_term *t)
{
	if (!t)
		return;
	if (t->opts.tty) {
		redraw(t, true);
		return;
	}
	plain_flush_probe(t);
	if (t->opened && !t->closed) {
		struct ir_tline *l = &t->line;
		char off[32];

		ir_tline_init(l, t->width, false);
		ir_tline_offset(off, sizeof(off), t->now);
		ir_tline_printf(l, "[%s] ", off);
		ir_tline_printf(l, "%-*s still open (no incident.closed event)",
		                IR_TLINE_STEP_COL, "incident");
		(void)ir_tline_write(t->opts.out, l);
	}
	fflush(t->opts.out);
}

void
ir_term_fixed(struct ir_term *t, int cols, int rows)
{
	if (!t)
		return;
	t->fixed = true;
	t->width = cols < TERM_MIN_COLS   ? TERM_MIN_COLS
	           : cols > TERM_MAX_COLS ? TERM_MAX_COLS
	                                  : cols;
	t->rows = rows < TERM_MIN_ROWS ? TERM_MIN_ROWS : rows;
}

void
ir_term_marker(struct ir_term *t, const char *label, bool paused)
{
	struct ir_tline *l;
	char off[32];

	if (!t || !label)
		return;
	if (t->opts.tty) {
		/* A pause, and its end, show at once. */
		bool now = paused || t->paused;

		snprintf(t->marker, sizeof(t->marker), "%s", label);
		t->paused = paused;
		t->dirty = true;
		redraw(t, now);
		return;
	}
	l = &t->line;
	plain_flush_probe(t);
	ir_tline_init(l, t->width, false);
	ir_tline_offset(off, sizeof(off), t->now);
	ir_tline_printf(l, "[%s] \xe2\x96\xb8 ", off);
	ir_tline_puts(l, label);
	if (paused)
		ir_tline_puts(l, "  (paused: space goes on)");
	(void)ir_tline_write(t->opts.out, l);
	fflush(t->opts.out);
}

/* ---- `incident timeline` ------------------------------------------- */

struct timeline {
	struct ir_term *t; /* the state: budget, probe counts, width */
	FILE *out;
	bool color;
	int rc;
	/* A run of step.output lines of one step, shown collapsed: the
	 * stored bytes of its first and last lines, read again at the flush
	 * (nothing between them is). */
	struct ir_buf first, last;
	struct ir_event_head first_h, last_h;
	struct ir_codec_span first_d, last_d; /* offsets into first, last */
	uint64_t run;
	uint64_t id;
	struct ir_ctx *ctx;
};

static void
timeline_prefix(struct timeline *tl, struct ir_tline *l,
                const struct ir_event *ev)
{
	char utc[80], off[32];
	size_t n;

	/* Digits the formatters made, with the spaces after each. */
	ir_tline_utc(utc, sizeof(utc) - 2, ev->ts);
	n = strlen(utc);
	memcpy(utc + n, "  ", 2);
	ir_tline_offset(off, sizeof(off) - 2, ev->mono);
	ir_tline_tone(l, IR_TONE_DIM);
	ir_tline_ascii(l, utc, n + 2);
	n = strlen(off);
	ir_tline_ascii(l, off, n);
	ir_tline_tone(l, IR_TONE_OFF);
	ir_tline_ascii(l, "  ", 2);
	ir_tline_column(l, ev);
}

static void
timeline_put(struct timeline *tl, struct ir_tline *l)
{
	if (!tl->rc && ir_tline_write(tl->out, l))
		tl->rc = -EIO;
}

static void
timeline_line(struct timeline *tl, const struct ir_event *ev, uint64_t probe)
{
	struct ir_tline *l = &tl->t->line;
	struct ir_tline_desc x = {tl->t->budget_ms, probe, true};

	ir_tline_init(l, tl->t->width, tl->color);
	timeline_prefix(tl, l, ev);
	ir_tline_describe(l, ev, &x);
	timeline_put(tl, l);
}

/* The fixed fields of a viewed record as an event without data: what a
 * line's prefix and update() read of an event read in place. */
static void
head_event(struct ir_event *ev, const struct ir_event_head *h)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = h->seq;
	ev->ts = h->ts;
	ev->mono = h->mono;
	memcpy(ev->type, h->type, sizeof(ev->type));
	memcpy(ev->step, h->step, sizeof(ev->step));
}

/* One line of a run, from its stored bytes as they were viewed: in
 * place, or decoded where the view leaves it to the decoder. */
static void
run_line(struct timeline *tl, const struct ir_buf *b,
         const struct ir_event_head *h, const struct ir_codec_span *at)
{
	struct ir_tline *l = &tl->t->line;
	struct ir_codec_span data = {b->data + (uintptr_t)at->p, at->len};
	struct ir_output_view out;
	struct ir_event ev;
	int rc = ir_codec_decodable(&data);

	if (!rc)
		rc = ir_codec_output_at(&out, h, &data);
	if (rc < 0) {
		tl->rc = -EBADMSG;
		return;
	}
	if (!rc && out.line) {
		head_event(&ev, h);
		ir_tline_init(l, tl->t->width, tl->color);
		timeline_prefix(tl, l, &ev);
		ir_tline_output(l, &out);
		timeline_put(tl, l);
		return;
	}
	if (ir_codec_decode_viewed(&ev, h, &data)) {
		tl->rc = -EBADMSG;
		return;
	}
	timeline_line(tl, &ev, 0);
	ir_event_clear(&ev);
}

/* Keep a run's line: its bytes, fixed fields and where its data lies. */
static int
run_keep(struct ir_buf *b, struct ir_event_head *h, struct ir_codec_span *at,
         const struct ir_event_head *head, const struct ir_codec_span *data,
         const void *raw, size_t len)
{
	ir_buf_reset(b);
	if (ir_buf_add(b, raw, len))
		return -ENOMEM;
	*h = *head;
	at->p = (const void *)((const uint8_t *)data->p - (const uint8_t *)raw);
	at->len = data->len;
	return 0;
}

static void
timeline_flush(struct timeline *tl)
{
	struct ir_tline *l = &tl->t->line;
	struct ir_event first, last;
	int col;

	if (tl->run == 1) {
		run_line(tl, &tl->first, &tl->first_h, &tl->first_d);
	} else if (tl->run > 1) {
		head_event(&first, &tl->first_h);
		head_event(&last, &tl->last_h);
		ir_tline_init(l, tl->t->width, tl->color);
		timeline_prefix(tl, l, &first);
		ir_tline_u64(l, tl->run);
		ir_tline_ascii(l, " lines of output", 16);
		timeline_put(tl, l);
		run_line(tl, &tl->first, &tl->first_h, &tl->first_d);
		if (tl->run > 2) {
			/* Under the text column of the lines around it. */
			ir_tline_init(l, tl->t->width, tl->color);
			timeline_prefix(tl, l, &last);
			col = l->cols;
			ir_tline_init(l, tl->t->width, tl->color);
			ir_tline_pad(l, col);
			ir_tline_tone(l, IR_TONE_DIM);
			ir_tline_puts(l, "| \xe2\x80\xa6 ");
			ir_tline_u64(l, tl->run - 2);
			ir_tline_puts(l, tl->run == 3 ? " more line \xe2\x80\xa6"
			                              : " more lines \xe2\x80\xa6");
			timeline_put(tl, l);
		}
		run_line(tl, &tl->last, &tl->last_h, &tl->last_d);
	}
	tl->run = 0;
}

/* A line of output begins a run: the events before it are shown, its
 * bytes kept. */
static int
start_run(struct timeline *tl, const struct ir_event *ev,
          const struct ir_event_head *h, const struct ir_codec_span *data,
          const void *raw, size_t len)
{
	update(tl->t, ev);
	timeline_flush(tl);
	if (run_keep(&tl->first, &tl->first_h, &tl->first_d, h, data, raw,
	             len))
		return -ENOMEM;
	tl->run = 1;
	return tl->rc;
}

static int
timeline_event(struct timeline *tl, const struct ir_event *ev,
               const struct ir_event_head *h,
               const struct ir_codec_span *data, const void *raw,
               size_t len)
{
	struct step *st;

	if (ir_tline_is_type(ev, "step.output") &&
	    ir_val_get(ev->data, "line"))
		return start_run(tl, ev, h, data, raw, len);
	update(tl->t, ev);
	timeline_flush(tl);
	st = ir_tline_is_probe(ev) ? step_get(tl->t, ev->step, false) : NULL;
	timeline_line(tl, ev, st ? st->probes : 0);
	return tl->rc;
}

/* A note read in place: what update() and timeline_line() do with it,
 * from its fixed fields and its fields in place. */
static int
timeline_note(struct timeline *tl, const struct ir_event_head *h,
              const struct ir_note_view *note)
{
	struct ir_tline *l = &tl->t->line;
	struct ir_event ev;

	head_event(&ev, h);
	update(tl->t, &ev);
	timeline_flush(tl);
	ir_tline_init(l, tl->t->width, tl->color);
	timeline_prefix(tl, l, &ev);
	ir_tline_note(l, note);
	timeline_put(tl, l);
	return tl->rc;
}

/* A line of output read in place: it goes on the run or begins one.  rc
 * > 0: not such a line, or one the view leaves to the decoder. */
static int
timeline_output(struct timeline *tl, const struct ir_event *key,
                const struct ir_event_head *h,
                const struct ir_codec_span *data, const void *raw,
                size_t len)
{
	struct ir_output_view out;
	struct ir_event ev;
	int rc = ir_codec_output_at(&out, h, data);

	if (rc)
		return ir_evlog_check_raw(tl->id, key, h, rc, tl->ctx);
	if (!out.is_output || !out.line)
		return 1;
	if (tl->run &&
	    !strncmp(tl->first_h.step, h->step, sizeof(h->step))) {
		if (h->mono > tl->t->now)
			tl->t->now = h->mono;
		if (run_keep(&tl->last, &tl->last_h, &tl->last_d, h, data,
		             raw, len))
			return -ENOMEM;
		tl->run++;
		return tl->rc;
	}
	rc = ir_codec_decodable(data);
	if (rc)
		return rc < 0 ? ir_evlog_check_raw(tl->id, key, h, rc, tl->ctx)
		              : rc;
	head_event(&ev, h);
	return start_run(tl, &ev, h, data, raw, len);
}

/* The scan hands over the stored bytes, each record viewed once: a line
 * of output and a note are read where they lie (a line that goes on the
 * run being collapsed is only kept, the last one's shown), every other
 * event is decoded. */
static int
timeline_raw(void *payload, const struct ir_event *key, const void *raw,
             size_t len)
{
	struct timeline *tl = payload;
	struct ir_event_head h;
	struct ir_codec_span data;
	struct ir_note_view note;
	struct ir_event ev = {0};
	int rc;

	rc = ir_codec_view(&h, &data, raw, len);
	rc = ir_evlog_check_raw(tl->id, key, &h, rc, tl->ctx);
	if (rc)
		return rc;
	if (h.type[0] == 's') {
		rc = timeline_output(tl, key, &h, &data, raw, len);
		if (rc <= 0)
			return rc;
	} else if (!strcmp(h.type, "note")) {
		rc = ir_codec_note_at(&note, &data);
		if (rc < 0)
			return ir_evlog_check_raw(tl->id, key, &h, rc, tl->ctx);
		if (!rc)
			return timeline_note(tl, &h, &note);
	}
	rc = ir_codec_decode_viewed(&ev, &h, &data);
	if (!rc)
		rc = timeline_event(tl, &ev, &h, &data, raw, len);
	else
		rc = ir_evlog_check_raw(tl->id, key, &h, rc, tl->ctx);
	ir_event_clear(&ev);
	return rc;
}

static void
timeline_header(struct timeline *tl, const struct ir_incident *inc)
{
	struct ir_tline *l = &tl->t->line;
	char utc[80];

	ir_tline_init(l, tl->t->width, tl->color);
	ir_tline_tone(l, IR_TONE_BOLD);
	ir_tline_printf(l, "INC-%llu", (ull)inc->id);
	ir_tline_tone(l, IR_TONE_OFF);
	ir_tline_puts(l, "  ");
	ir_tline_add(l, inc->kind, strnlen(inc->kind, sizeof(inc->kind)));
	ir_tline_puts(l, "  ");
	ir_tline_tone(l, !strcmp(inc->status, "succeeded") ? IR_TONE_GREEN
	                 : !strcmp(inc->status, "open")    ? IR_TONE_YELLOW
	                                                   : IR_TONE_RED);
	ir_tline_add(l, inc->status, strnlen(inc->status, sizeof(inc->status)));
	ir_tline_tone(l, IR_TONE_OFF);
	if (inc->target[0]) {
		ir_tline_puts(l, "  ");
		ir_tline_add(l, inc->from,
		             strnlen(inc->from, sizeof(inc->from)));
		ir_tline_puts(l, " \xe2\x86\x92 ");
		ir_tline_add(l, inc->target,
		             strnlen(inc->target, sizeof(inc->target)));
	}
	ir_tline_utc(utc, sizeof(utc), inc->opened);
	ir_tline_printf(l, "  opened %s, %llu events", utc, (ull)inc->events);
	timeline_put(tl, l);
}

int
ir_term_timeline(FILE *out, struct ir_evlog *log, uint64_t id, bool color,
                 struct ir_ctx *ctx)
{
	struct ir_term_opts opts = {out, false, color};
	struct timeline tl = {0};
	struct ir_incident inc;
	int rc;

	if (!out || !log)
		return -EINVAL;
	rc = ir_evlog_incident(log, id, &inc, ctx);
	if (rc)
		return rc;
	tl.t = ir_term_new(&opts);
	if (!tl.t)
		return -ENOMEM;
	tl.out = out;
	tl.color = color;
	tl.id = id;
	tl.ctx = ctx;
	timeline_header(&tl, &inc);
	/* Lines are written as the scan goes, inside its read snapshot; a
	 * timeline is short work unless the reader stops reading.  The chain
	 * is checked alongside: a tampered incident fails (-EBADMSG, naming
	 * the first bad event) after the lines read so far. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_RAW | IR_EVLOG_CHAIN,
	                   timeline_raw, &tl, ctx);
	if (!rc)
		timeline_flush(&tl);
	if (!rc)
		rc = tl.rc;
	if (!rc && fflush(out))
		rc = -EIO;
	if (rc == -EIO)
		rc =
		    ir_error_set(ctx, rc, IR_ORIGIN_OS, errno,
		                 "timeline: write failed: %s", strerror(errno));
	else if (rc == -ENOMEM)
		rc = ir_error_set(ctx, rc, IR_ORIGIN_NONE, 0,
		                  "timeline: out of memory");
	ir_buf_clear(&tl.first);
	ir_buf_clear(&tl.last);
	ir_term_free(tl.t);
	return rc;
}
