#include "term.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "value.h"

#define TERM_MAX_STEPS 16
#define TERM_RECENT 4 /* output lines under the step list */
#define TERM_COL 10   /* width of the step column */
#define TERM_MIN_COLS 20
#define TERM_MAX_COLS 1000
#define TERM_DEFAULT_COLS 100
/* A line holds at most TERM_MAX_COLS characters of up to 4 bytes, plus
 * colour codes; TERM_LINE_SPARE stays free for the cut mark and a reset. */
#define TERM_LINE_BYTES (4 * TERM_MAX_COLS + 256)
#define TERM_LINE_SPARE 16
#define TERM_FRAME_BYTES (256 * 1024)
#define TERM_REDRAW_NS (100 * 1000 * 1000ULL) /* at most 10 frames/s */
#define TERM_PROBE_EVERY 10 /* plain mode: every Nth health probe */
#define TERM_PIDS_SHOWN 8
#define NS_PER_MS 1000000ULL
#define NS_PER_SEC 1000000000LL

typedef unsigned long long ull;

static const char *const rollback_steps[] = {
    "stop",  "backup", "checkout", "config", "database",
    "start", "health", "verify",   "report",
};

enum tone { TONE_OFF, TONE_GREEN, TONE_RED, TONE_YELLOW, TONE_DIM, TONE_BOLD };

static const char *const sgr[] = {
    "\x1b[0m", "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m",
};

/*
 * One output line, built piece by piece.  Every byte that goes in passes
 * the sanitizer, so text from the log (step output above all) can never
 * reach the terminal as a control sequence; the line is cut to the width
 * with a mark, so a redraw never wraps.
 */
struct line {
	char buf[TERM_LINE_BYTES];
	size_t len;
	size_t last; /* where the last visible character starts */
	int cols;
	int width; /* visible columns allowed */
	bool color;
	bool colored;   /* a colour code was written */
	enum tone tone; /* the one in effect */
	enum tone base; /* what TONE_OFF returns to */
	bool full;
};

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
	int width; /* plain mode and timeline */
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
	struct ir_buf frame;
	int drawn; /* lines of the frame on screen */
	bool ever_drawn, dirty;
	uint64_t drawn_at; /* real clock, ns */

	/* Plain mode: a health probe held back to keep the output short. */
	struct ir_event *probe;
	uint64_t probe_n;
	int64_t probe_status;

	struct line line;
};

/* What describe() needs beyond the event. */
struct desc {
	uint64_t budget_ms; /* for incident.closed */
	uint64_t probe;     /* number of an http probe, 0: unknown */
	bool body;          /* show an http body */
};

/* ---- the sanitizing line builder ---------------------------------- */

/* The next UTF-8 character: its length (>= 1) and code point, UINT32_MAX
 * for a byte that does not start a valid, shortest-form sequence. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = UINT32_MAX;
	return 1;
}

/* C0 and C1 controls (ESC, BEL, CSI ...), DEL, and the characters that
 * reorder or break lines on screen. */
static bool
unsafe(uint32_t cp)
{
	return cp == UINT32_MAX || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static void
line_init(struct line *l, int width, bool color)
{
	l->len = l->last = 0;
	l->cols = 0;
	/* The last column stays free: a terminal that wraps there would
	 * break the cursor arithmetic of the redraw. */
	l->width = width - 1;
	l->color = color;
	l->colored = l->full = false;
	l->tone = l->base = TONE_OFF;
	l->buf[0] = '\0';
}

static void
line_tone(struct line *l, enum tone t)
{
	size_t n;

	if (t == TONE_OFF)
		t = l->base;
	if (!l->color || l->full || t == l->tone)
		return;
	n = strlen(sgr[t]);
	if (l->len + 4 + n + TERM_LINE_SPARE > sizeof(l->buf))
		return;
	if (l->tone != TONE_OFF) {
		memcpy(l->buf + l->len, sgr[TONE_OFF], 4);
		l->len += 4;
	}
	if (t != TONE_OFF) {
		memcpy(l->buf + l->len, sgr[t], n);
		l->len += n;
	}
	l->tone = t;
	l->colored = true;
}

/* Text that follows is in tone t, and TONE_OFF comes back to it. */
static void
line_base(struct line *l, enum tone t)
{
	l->base = t;
	line_tone(l, t);
}

static void
line_cut(struct line *l)
{
	/* The last character gives its place to the mark. */
	l->len = l->last;
	memcpy(l->buf + l->len, "\xe2\x80\xa6", 3);
	l->len += 3;
	l->full = true;
}

static void
line_add(struct line *l, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

	while (i < n && !l->full) {
		uint32_t cp;
		size_t k = utf8_next(s + i, n - i, &cp);
		const char *out = (const char *)s + i;
		size_t outn = k;
		int w = 1;

		if (cp == '\t') {
			out = " ", outn = 1;
		} else if (unsafe(cp)) {
			out = "?", outn = 1;
		} else if (cp >= 0x1100 && !(cp >= 0x2000 && cp < 0x2600)) {
			/* Could be double width: counting it as two only
			 * ever makes the line shorter than it may be. */
			w = 2;
		}
		i += k;
		if (l->cols + w > l->width ||
		    l->len + outn + TERM_LINE_SPARE > sizeof(l->buf)) {
			line_cut(l);
			break;
		}
		l->last = l->len;
		memcpy(l->buf + l->len, out, outn);
		l->len += outn;
		l->cols += w;
	}
}

static void
line_puts(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

static void line_printf(struct line *l, const char *fmt, ...) IR_PRINTF(2, 3);

static void
line_printf(struct line *l, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		line_add(l, tmp,
		         (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
line_pad(struct line *l, int col)
{
	while (l->cols < col && !l->full)
		line_add(l, " ", 1);
}

static void
line_end(struct line *l)
{
	/* A cut may have dropped the reset after the last character. */
	if (l->tone != TONE_OFF || (l->full && l->colored)) {
		memcpy(l->buf + l->len, sgr[TONE_OFF], 4);
		l->len += 4;
	}
	l->buf[l->len] = '\0';
}

static int
line_write(FILE *out, struct line *l)
{
	line_end(l);
	if (fwrite(l->buf, 1, l->len, out) != l->len || fputc('\n', out) < 0)
		return -EIO;
	return 0;
}

/* ---- small formatters (integers only: no locale can change them) ---- */

/* A measured duration: "430 ms", "12.3s", "1m05s", "1h02m". */
static void
fmt_dur(char *out, size_t cap, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, cap, "%llu ms", (ull)ms);
	else if (ms < 60000)
		snprintf(out, cap, "%llu.%llus", (ull)(ms / 1000),
		         (ull)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(out, cap, "%llum%02llus", (ull)(ms / 60000),
		         (ull)(ms / 1000 % 60));
	else
		snprintf(out, cap, "%lluh%02llum", (ull)(ms / 3600000),
		         (ull)(ms / 60000 % 60));
}

/* A running timer: tenths below a minute, "0.4s" rather than "400 ms". */
static void
fmt_timer(char *out, size_t cap, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, cap, "0.%llus", (ull)(ms / 100));
	else
		fmt_dur(out, cap, ms);
}

/* A budget as configured: "30s", "5m", "1m30s", "250ms", "1h". */
static void
fmt_budget(char *out, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(out, cap, "%llums", (ull)ms);
	else if (ms % 1000)
		fmt_dur(out, cap, ms);
	else if (s < 60)
		snprintf(out, cap, "%llus", (ull)s);
	else if (s < 3600 && s % 60)
		snprintf(out, cap, "%llum%02llus", (ull)(s / 60),
		         (ull)(s % 60));
	else if (s < 3600)
		snprintf(out, cap, "%llum", (ull)(s / 60));
	else if (s % 3600 / 60)
		snprintf(out, cap, "%lluh%02llum", (ull)(s / 3600),
		         (ull)(s % 3600 / 60));
	else
		snprintf(out, cap, "%lluh", (ull)(s / 3600));
}

/* Offset since the incident opened: "+MM:SS.mmm", "+H:MM:SS.mmm". */
static void
fmt_offset(char *out, size_t cap, uint64_t ns)
{
	uint64_t ms = ns / NS_PER_MS, s = ms / 1000;

	if (s < 3600)
		snprintf(out, cap, "+%02llu:%02llu.%03llu", (ull)(s / 60),
		         (ull)(s % 60), (ull)(ms % 1000));
	else
		snprintf(out, cap, "+%llu:%02llu:%02llu.%03llu",
		         (ull)(s / 3600), (ull)(s / 60 % 60), (ull)(s % 60),
		         (ull)(ms % 1000));
}

static void
fmt_bytes(char *out, size_t cap, uint64_t b)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
	uint64_t div = 1024;
	int u = 0;

	if (b < 1024) {
		snprintf(out, cap, "%llu B", (ull)b);
		return;
	}
	while (u < 3 && b / div >= 1024)
		div *= 1024, u++;
	snprintf(out, cap, "%llu.%llu %s", (ull)(b / div),
	         (ull)(b % div * 10 / div), unit[u]);
}

/* UTC with milliseconds, whatever TZ says. */
static void
fmt_utc(char *out, size_t cap, int64_t ns)
{
	int64_t s = ns / NS_PER_SEC, r = ns % NS_PER_SEC;
	struct tm tm;
	time_t tt;

	if (r < 0)
		r += NS_PER_SEC, s--;
	tt = (time_t)s;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, cap, "(time out of range)");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)(r / (int64_t)NS_PER_MS));
}

/* ---- reading event data --------------------------------------------- */

static bool
val_str(const struct ir_val *m, const char *key, const char **p, size_t *n)
{
	const struct ir_val *v = ir_val_get(m, key);

	if (!v || v->type != IR_VAL_STR || !v->as.str.len)
		return false;
	*p = v->as.str.ptr;
	*n = v->as.str.len;
	return true;
}

static bool
val_u64(const struct ir_val *m, const char *key, uint64_t *out)
{
	const struct ir_val *v = ir_val_get(m, key);
	int64_t i;

	if (v && v->type == IR_VAL_UINT) {
		*out = v->as.u;
		return true;
	}
	if (ir_val_as_int(v, &i) && i >= 0) {
		*out = (uint64_t)i;
		return true;
	}
	return false;
}

static bool
val_is(const struct ir_val *m, const char *key, const char *want)
{
	const char *p;
	size_t n;

	return val_str(m, key, &p, &n) && n == strlen(want) &&
	       !memcmp(p, want, n);
}

/* Add " <before>value<after>" for a string field that is present. */
static bool
add_str(struct line *l, const struct ir_val *m, const char *key,
        const char *before, const char *after)
{
	const char *p;
	size_t n;

	if (!val_str(m, key, &p, &n))
		return false;
	line_puts(l, before);
	line_add(l, p, n);
	line_puts(l, after);
	return true;
}

static bool
is_type(const struct ir_event *ev, const char *type)
{
	return !strcmp(ev->type, type);
}

static bool
is_probe(const struct ir_event *ev)
{
	return is_type(ev, "observation") && val_is(ev->data, "what", "http");
}

/* ---- one event as one line of text -------------------------------- */

static void
describe_scalar(struct line *l, const struct ir_val *v)
{
	char hex[17];
	size_t i;

	switch (v->type) {
	case IR_VAL_NIL:
		line_puts(l, "nil");
		break;
	case IR_VAL_BOOL:
		line_puts(l, v->as.b ? "true" : "false");
		break;
	case IR_VAL_INT:
		line_printf(l, "%lld", (long long)v->as.i);
		break;
	case IR_VAL_UINT:
		line_printf(l, "%llu", (ull)v->as.u);
		break;
	case IR_VAL_STR:
		line_puts(l, "\"");
		line_add(l, v->as.str.ptr, v->as.str.len);
		line_puts(l, "\"");
		break;
	case IR_VAL_BIN:
		for (i = 0; i < 8 && i < v->as.str.len; i++)
			snprintf(hex + 2 * i, 3, "%02x",
			         (unsigned char)v->as.str.ptr[i]);
		hex[2 * i] = '\0';
		line_puts(l, hex);
		if (v->as.str.len > 8)
			line_puts(l, "\xe2\x80\xa6");
		break;
	case IR_VAL_ARRAY:
		line_printf(l, "[%zu]", v->as.arr.len);
		break;
	case IR_VAL_MAP:
		line_puts(l, "{\xe2\x80\xa6}");
		break;
	}
}

/* Unknown types and kinds: the fields as key=value. */
static void
describe_fields(struct line *l, const struct ir_val *m, const char *skip)
{
	if (!m || m->type != IR_VAL_MAP)
		return;
	for (size_t i = 0; i < m->as.map.len && !l->full; i++) {
		const struct ir_kv *kv = &m->as.map.items[i];

		if (skip && !strcmp(kv->key, skip))
			continue;
		line_puts(l, " ");
		line_puts(l, kv->key);
		line_puts(l, "=");
		describe_scalar(l, &kv->val);
	}
}

static void
describe_observation(struct line *l, const struct ir_val *d,
                     const struct desc *x)
{
	const struct ir_val *v;
	uint64_t u;

	if (val_is(d, "what", "http")) {
		if (x->probe)
			line_printf(l, "probe #%llu: ", (ull)x->probe);
		else
			line_puts(l, "probe: ");
		if (val_u64(d, "status", &u) && u) {
			line_tone(l,
			          u >= 200 && u < 400 ? TONE_GREEN : TONE_RED);
			line_printf(l, "%llu", (ull)u);
		} else {
			line_tone(l, TONE_RED);
			line_puts(l, "no answer");
		}
		line_tone(l, TONE_OFF);
		if (val_u64(d, "latency_us", &u))
			line_printf(l, " in %llu.%llu ms", (ull)(u / 1000),
			            (ull)(u % 1000 / 100));
		add_str(l, d, "error", ": ", "");
		if (x->body)
			add_str(l, d, "body", ", body \"", "\"");
	} else if (val_is(d, "what", "process")) {
		line_puts(l, "process");
		add_str(l, d, "pattern", " \"", "\"");
		v = ir_val_get(d, "pids");
		if (!val_u64(d, "count", &u))
			u = v && v->type == IR_VAL_ARRAY ? v->as.arr.len : 0;
		if (!u) {
			line_puts(l, ": none running");
			return;
		}
		line_printf(l, ": %llu running", (ull)u);
		if (!v || v->type != IR_VAL_ARRAY || !v->as.arr.len)
			return;
		line_puts(l, " (pids");
		for (size_t i = 0; i < v->as.arr.len && i < TERM_PIDS_SHOWN;
		     i++) {
			line_puts(l, " ");
			describe_scalar(l, &v->as.arr.items[i]);
		}
		line_puts(l, v->as.arr.len > TERM_PIDS_SHOWN ? " \xe2\x80\xa6)"
		                                             : ")");
	} else if (val_is(d, "what", "git")) {
		const char *p;
		size_t n;

		/* commit is the full hash; head is "<short> <subject>"
		 * (older logs: the hash itself). */
		line_puts(l, "git HEAD");
		if (val_str(d, "commit", &p, &n) || val_str(d, "head", &p, &n)) {
			size_t hex = strspn(p, "0123456789abcdef");

			if (hex > n)
				hex = n;
			line_puts(l, " ");
			line_add(l, p, hex < 12 ? hex : 12);
		}
		add_str(l, d, "tag", " (", ")");
		if (ir_val_get_bool(d, "detached", false))
			line_puts(l, " detached");
		add_str(l, d, "subject", " \"", "\"");
		v = ir_val_get(d, "changes");
		if (v && v->type == IR_VAL_ARRAY && v->as.arr.len)
			line_printf(l, ", %zu local changes", v->as.arr.len);
	} else if (val_is(d, "what", "file")) {
		line_puts(l, "file");
		add_str(l, d, "path", " ", "");
		v = ir_val_get(d, "exists");
		if (v && v->type == IR_VAL_BOOL)
			line_puts(l, v->as.b ? " exists" : " missing");
		describe_fields(l, d, NULL);
	} else if (val_is(d, "what", "log")) {
		line_puts(l, "log");
		add_str(l, d, "path", " ", "");
		v = ir_val_get(d, "lines");
		if (v && v->type == IR_VAL_ARRAY) {
			const struct ir_val *last;

			line_printf(l, ": %zu lines", v->as.arr.len);
			last = v->as.arr.len
			           ? &v->as.arr.items[v->as.arr.len - 1]
			           : NULL;
			if (last && last->type == IR_VAL_STR) {
				line_puts(l, ", last \"");
				line_add(l, last->as.str.ptr, last->as.str.len);
				line_puts(l, "\"");
			}
		}
	} else {
		if (!add_str(l, d, "what", "", ""))
			line_puts(l, "observed");
		describe_fields(l, d, "what");
	}
}

static void
describe_closing(struct line *l, const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	char buf[32];
	uint64_t u;
	int64_t code;
	bool failed = is_type(ev, "step.failed");

	line_tone(l, failed ? TONE_RED : TONE_GREEN);
	line_puts(l, failed ? "failed" : "completed");
	line_tone(l, TONE_OFF);
	if (val_u64(d, "duration_ms", &u)) {
		fmt_dur(buf, sizeof(buf), u);
		line_printf(l, " %s %s", failed ? "after" : "in", buf);
	}
	if (failed) {
		add_str(l, d, "error", ": ", "");
		if (ir_val_as_int(ir_val_get(d, "exit_code"), &code))
			line_printf(l, " (exit %lld)", (long long)code);
	}
	if (ir_val_get_bool(d, "over_budget", false)) {
		line_tone(l, TONE_YELLOW);
		if (val_u64(d, "budget_ms", &u)) {
			fmt_budget(buf, sizeof(buf), u);
			line_printf(l, " (over budget %s)", buf);
		} else {
			line_puts(l, " (over budget)");
		}
		line_tone(l, TONE_OFF);
	}
}

static void
describe_closed(struct line *l, const struct ir_event *ev, const struct desc *x)
{
	const struct ir_val *d = ev->data;
	char dur[32], bud[32], diff[32];
	const char *p;
	size_t n;
	uint64_t ms;

	if (val_is(d, "status", "succeeded"))
		line_tone(l, TONE_GREEN);
	else if (val_is(d, "status", "aborted"))
		line_tone(l, TONE_YELLOW);
	else
		line_tone(l, TONE_RED);
	if (val_str(d, "status", &p, &n))
		line_add(l, p, n);
	else
		line_puts(l, "closed");
	line_tone(l, TONE_OFF);
	if (!val_u64(d, "duration_ms", &ms))
		ms = ev->mono / NS_PER_MS;
	fmt_dur(dur, sizeof(dur), ms);
	line_printf(l, " in %s", dur);
	if (!x->budget_ms)
		return;
	fmt_budget(bud, sizeof(bud), x->budget_ms);
	if (ms <= x->budget_ms) {
		fmt_dur(diff, sizeof(diff), x->budget_ms - ms);
		line_printf(l, " (budget %s, %s left)", bud, diff);
	} else {
		fmt_dur(diff, sizeof(diff), ms - x->budget_ms);
		line_tone(l, TONE_RED);
		line_printf(l, " (over budget %s by %s)", bud, diff);
		line_tone(l, TONE_OFF);
	}
}

static void
describe_target(struct line *l, const struct ir_val *d)
{
	const struct ir_val *skipped = ir_val_get(d, "skipped");

	line_puts(l, "target");
	add_str(l, d, "from", " ", "");
	line_puts(l, " \xe2\x86\x92 ");
	if (!add_str(l, d, "to", "", ""))
		line_puts(l, "?");
	if (skipped && skipped->type == IR_VAL_ARRAY && skipped->as.arr.len) {
		line_puts(l, ", passed over");
		for (size_t i = 0; i < skipped->as.arr.len && !l->full; i++) {
			const struct ir_val *s = &skipped->as.arr.items[i];

			if (s->type == IR_VAL_STR) {
				line_puts(l, " ");
				line_add(l, s->as.str.ptr, s->as.str.len);
			} else {
				add_str(l, s, "tag", " ", "");
				add_str(l, s, "why", " (", ")");
			}
		}
	}
	add_str(l, d, "why", ": ", "");
}

static void
describe(struct line *l, const struct ir_event *ev, const struct desc *x)
{
	const struct ir_val *d = ev->data;
	char buf[32], b2[32];
	uint64_t u, u2;
	const char *p;
	size_t n;

	if (is_type(ev, "incident.opened")) {
		if (!add_str(l, d, "kind", "", ""))
			line_puts(l, "incident");
		line_puts(l, " opened");
		add_str(l, d, "reason", ": \"", "\"");
		if (val_u64(d, "budget_ms", &u)) {
			fmt_budget(buf, sizeof(buf), u);
			line_printf(l, " (budget %s)", buf);
		}
		add_str(l, d, "actor", " by ", "");
	} else if (is_type(ev, "decision")) {
		if (!add_str(l, d, "question", "", ""))
			line_puts(l, "?");
		line_puts(l, " ");
		line_tone(l, TONE_YELLOW);
		if (!add_str(l, d, "answer", "", ""))
			line_puts(l, "?");
		line_tone(l, TONE_OFF);
		add_str(l, d, "because", " (", ")");
	} else if (is_type(ev, "target.chosen")) {
		describe_target(l, d);
	} else if (is_type(ev, "step.started")) {
		line_puts(l, "started");
		if (val_u64(d, "attempt", &u) && u > 1)
			line_printf(l, " again (attempt %llu)", (ull)u);
		if (val_u64(d, "budget_ms", &u)) {
			fmt_budget(buf, sizeof(buf), u);
			line_printf(l, " (budget %s)", buf);
		}
		add_str(l, d, "command", ": ", "");
	} else if (is_type(ev, "step.output")) {
		if (val_u64(d, "dropped", &u) && !ir_val_get(d, "line")) {
			line_tone(l, TONE_DIM);
			line_printf(l, "| (%llu more lines not recorded)",
			            (ull)u);
			line_tone(l, TONE_OFF);
			return;
		}
		line_puts(l, "| ");
		if (val_is(d, "stream", "err"))
			line_tone(l, TONE_YELLOW);
		add_str(l, d, "line", "", "");
		if (ir_val_get_bool(d, "truncated", false))
			line_puts(l, " \xe2\x80\xa6(cut)");
		line_tone(l, TONE_OFF);
	} else if (is_type(ev, "observation")) {
		describe_observation(l, d, x);
	} else if (is_type(ev, "step.completed") ||
	           is_type(ev, "step.failed")) {
		describe_closing(l, ev);
	} else if (is_type(ev, "step.skipped")) {
		line_tone(l, TONE_DIM);
		line_puts(l, "skipped");
		add_str(l, d, "why", ": ", "");
		line_tone(l, TONE_OFF);
	} else if (is_type(ev, "backup.created")) {
		line_puts(l, "archived");
		add_str(l, d, "path", " ", "");
		if (val_u64(d, "files", &u) && val_u64(d, "bytes", &u2)) {
			fmt_bytes(buf, sizeof(buf), u2);
			line_printf(l, " (%llu files, %s)", (ull)u, buf);
		}
		if (val_str(d, "sha256", &p, &n)) {
			line_puts(l, " sha256 ");
			line_add(l, p, n < 12 ? n : 12);
		}
	} else if (is_type(ev, "archive.deleted")) {
		line_puts(l, "deleted");
		add_str(l, d, "path", " ", "");
		add_str(l, d, "why", " (", ")");
	} else if (is_type(ev, "restore.completed")) {
		line_puts(l, "restored");
		add_str(l, d, "archive", " ", "");
		add_str(l, d, "to", " to ", "");
		if (val_u64(d, "files", &u) && val_u64(d, "bytes", &u2)) {
			fmt_bytes(b2, sizeof(b2), u2);
			line_printf(l, " (%llu files, %s)", (ull)u, b2);
		}
		line_puts(l, ir_val_get_bool(d, "verified", false)
		                 ? ", checksum verified"
		                 : ", checksum not verified");
	} else if (is_type(ev, "incident.resumed")) {
		line_puts(l, "resumed");
		add_str(l, d, "actor", " by ", "");
		add_str(l, d, "interrupted_step", " (", " was interrupted)");
	} else if (is_type(ev, "note")) {
		if (!add_str(l, d, "text", "", ""))
			line_puts(l, "(empty)");
		add_str(l, d, "author", " (", ")");
		if (val_u64(d, "corrects", &u))
			line_printf(l, " [corrects #%llu]", (ull)u);
	} else if (is_type(ev, "incident.closed")) {
		describe_closed(l, ev, x);
	} else {
		line_add(l, ev->type, strnlen(ev->type, sizeof(ev->type)));
		describe_fields(l, d, NULL);
	}
}

/* The step column: the step, or what kind of event stands there. */
static void
column(struct line *l, const struct ir_event *ev)
{
	int start = l->cols;

	if (is_type(ev, "decision"))
		line_puts(l, "decision");
	else if (ev->step[0])
		line_add(l, ev->step, strnlen(ev->step, sizeof(ev->step)));
	else if (!strncmp(ev->type, "incident.", 9))
		line_puts(l, "incident");
	else if (is_type(ev, "note"))
		line_puts(l, "note:");
	else if (!strncmp(ev->type, "archive.", 8))
		line_puts(l, "archive");
	else if (is_type(ev, "observation"))
		line_puts(l, "observed");
	line_pad(l, start + TERM_COL);
	line_puts(l, " ");
}

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
	return (uint64_t)ts.tv_sec * (uint64_t)NS_PER_SEC +
	       (uint64_t)ts.tv_nsec;
}

static int
term_width(FILE *out)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	int fd = out ? fileno(out) : -1;
	long cols = 0;

	if (fd >= 0 && isatty(fd) && !ioctl(fd, TIOCGWINSZ, &ws))
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
	size_t n = 0;

	if (val_is(d, "kind", "rollback") || val_is(d, "kind", "drill"))
		n = sizeof(rollback_steps) / sizeof(rollback_steps[0]);
	for (size_t i = 0; i < n; i++)
		step_get(t, rollback_steps[i], true);
	if (val_is(d, "kind", "stop"))
		step_get(t, "stop", true);
	else if (val_is(d, "kind", "backup"))
		step_get(t, "backup", true);
	else if (val_is(d, "kind", "restore"))
		step_get(t, "restore", true);
}

/* Fold one event into what the display knows.  Copies of events are kept
 * only for the TTY block. */
static void
update(struct ir_term *t, const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	bool tty = t->opts.tty;
	struct step *st = step_get(t, ev->step, !is_type(ev, "decision"));
	const char *p;
	size_t n;
	uint64_t u;

	if (ev->mono > t->now)
		t->now = ev->mono;
	if (is_type(ev, "incident.opened")) {
		t->opened = true;
		if (val_str(d, "kind", &p, &n))
			snprintf(t->kind, sizeof(t->kind), "%.*s",
			         (int)(n < sizeof(t->kind) ? n : 15), p);
		if (!val_u64(d, "budget_ms", &t->budget_ms))
			t->budget_ms = 0;
		steps_for_kind(t, d);
		if (tty)
			keep(&t->opened_ev, ev);
	} else if (is_type(ev, "step.started") && st) {
		st->state = ST_RUNNING;
		st->started = ev->mono;
		st->budget_ms = val_u64(d, "budget_ms", &u) ? u : 0;
		st->duration_ms = 0;
		st->over_budget = false;
		st->probes = 0;
		event_free(st->detail);
		st->detail = NULL;
	} else if ((is_type(ev, "step.completed") ||
	            is_type(ev, "step.failed")) &&
	           st) {
		st->state = is_type(ev, "step.failed") ? ST_FAILED : ST_DONE;
		if (!val_u64(d, "duration_ms", &st->duration_ms))
			st->duration_ms =
			    ev->mono > st->started
			        ? (ev->mono - st->started) / NS_PER_MS
			        : 0;
		st->over_budget = ir_val_get_bool(d, "over_budget", false);
		if (tty && st->state == ST_FAILED)
			keep(&st->detail, ev);
	} else if (is_type(ev, "step.skipped") && st) {
		st->state = ST_SKIPPED;
		if (tty)
			keep(&st->detail, ev);
	} else if (is_type(ev, "step.output")) {
		if (tty) {
			keep(&t->recent[t->recent_next], ev);
			t->recent_next = (t->recent_next + 1) % TERM_RECENT;
		}
	} else if (is_type(ev, "observation") || is_type(ev, "target.chosen") ||
	           is_type(ev, "backup.created") ||
	           is_type(ev, "restore.completed")) {
		if (st && is_probe(ev))
			st->probes++;
		if (st && tty)
			keep(&st->detail, ev);
	} else if (is_type(ev, "decision")) {
		if (tty)
			keep(&t->decision, ev);
	} else if (is_type(ev, "note")) {
		if (tty)
			keep(&t->note, ev);
	} else if (is_type(ev, "incident.resumed")) {
		t->resumed = true;
	} else if (is_type(ev, "incident.closed")) {
		t->closed = true;
		if (!val_u64(d, "duration_ms", &t->duration_ms))
			t->duration_ms = ev->mono / NS_PER_MS;
		if (tty)
			keep(&t->closed_ev, ev);
	}
}

/* ---- plain mode: one line per change ------------------------------- */

static void
plain_line(struct ir_term *t, const struct ir_event *ev, uint64_t probe)
{
	struct line *l = &t->line;
	struct desc x = {t->budget_ms, probe, false};
	char off[32];

	line_init(l, t->width, false);
	fmt_offset(off, sizeof(off), ev->mono);
	line_printf(l, "[%s] ", off);
	column(l, ev);
	describe(l, ev, &x);
	(void)line_write(t->opts.out, l);
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
	if (is_probe(ev)) {
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
	struct line *l = &t->line;

	line_end(l);
	if (!*ok)
		return;
	if (ir_buf_add(&t->frame, "\x1b[2K", 4) ||
	    ir_buf_add(&t->frame, l->buf, l->len) ||
	    ir_buf_add(&t->frame, "\n", 1))
		*ok = false;
	(*lines)++;
}

static void
draw_header(struct ir_term *t, struct line *l)
{
	uint64_t ms = t->closed ? t->duration_ms : t->now / NS_PER_MS;
	char el[32], bud[32], diff[32];

	line_tone(l, TONE_BOLD);
	line_add(l, t->kind, strnlen(t->kind, sizeof(t->kind)));
	if (!t->kind[0])
		line_puts(l, "incident");
	line_tone(l, TONE_OFF);
	if (t->resumed)
		line_puts(l, " (resumed)");
	/* Running: a timer in tenths; done: the measured duration, which
	 * for a fast rollback is milliseconds, not "0.0s". */
	if (t->closed)
		fmt_dur(el, sizeof(el), ms);
	else
		fmt_timer(el, sizeof(el), ms);
	line_printf(l, "  %s", el);
	if (t->budget_ms) {
		fmt_budget(bud, sizeof(bud), t->budget_ms);
		line_printf(l, " / %s", bud);
		if (ms <= t->budget_ms) {
			fmt_timer(diff, sizeof(diff), t->budget_ms - ms);
			line_tone(l, TONE_DIM);
			line_printf(l, "  %s left", diff);
		} else {
			fmt_timer(diff, sizeof(diff), ms - t->budget_ms);
			line_tone(l, TONE_RED);
			line_printf(l, "  over budget by %s", diff);
		}
		line_tone(l, TONE_OFF);
	}
	if (t->opened_ev) {
		line_tone(l, TONE_DIM);
		add_str(l, t->opened_ev->data, "reason", "  \"", "\"");
		line_tone(l, TONE_OFF);
	}
}

static void
draw_step(struct ir_term *t, struct line *l, const struct step *st)
{
	static const char *const symbol[] = {
	    [ST_PENDING] = "\xc2\xb7",     [ST_RUNNING] = "\xe2\x96\xb6",
	    [ST_DONE] = "\xe2\x9c\x93",    [ST_FAILED] = "\xe2\x9c\x97",
	    [ST_SKIPPED] = "\xe2\x80\x93",
	};
	static const enum tone tone[] = {
	    [ST_PENDING] = TONE_DIM, [ST_RUNNING] = TONE_YELLOW,
	    [ST_DONE] = TONE_GREEN,  [ST_FAILED] = TONE_RED,
	    [ST_SKIPPED] = TONE_DIM,
	};
	struct desc x = {t->budget_ms, st->probes, false};
	char a[32], b[32];
	uint64_t ms;
	int col;

	line_puts(l, "  ");
	line_tone(l, tone[st->state]);
	line_puts(l, symbol[st->state]);
	line_puts(l, " ");
	/* From here: the symbol may have counted as one column or two. */
	col = l->cols;
	line_add(l, st->name, strnlen(st->name, sizeof(st->name)));
	line_pad(l, col + TERM_COL);
	line_puts(l, " ");
	switch (st->state) {
	case ST_PENDING:
		line_tone(l, TONE_OFF);
		return;
	case ST_RUNNING:
		ms = t->now > st->started ? (t->now - st->started) / NS_PER_MS
		                          : 0;
		line_tone(l, st->budget_ms && ms > st->budget_ms ? TONE_RED
		                                                 : TONE_OFF);
		fmt_timer(a, sizeof(a), ms);
		line_puts(l, a);
		if (st->budget_ms) {
			fmt_budget(b, sizeof(b), st->budget_ms);
			line_printf(l, " / %s", b);
		}
		break;
	case ST_DONE:
		line_tone(l, st->over_budget ? TONE_YELLOW : TONE_OFF);
		fmt_dur(a, sizeof(a), st->duration_ms);
		line_puts(l, a);
		if (st->over_budget)
			line_puts(l, " (over budget)");
		break;
	case ST_FAILED:
	case ST_SKIPPED:
		line_tone(l, TONE_OFF);
		if (st->detail)
			describe(l, st->detail, &x);
		else
			line_puts(l, st->state == ST_FAILED ? "failed"
			                                    : "skipped");
		return;
	}
	line_tone(l, TONE_OFF);
	if (st->detail) {
		line_puts(l, "  ");
		line_base(l, TONE_DIM);
		describe(l, st->detail, &x);
	}
}

static void
redraw(struct ir_term *t, bool force)
{
	struct line *l = &t->line;
	struct desc x = {t->budget_ms, 0, false};
	uint64_t now = real_ns();
	int width, lines = 0;
	bool ok = true, color = t->opts.color;

	if (!force && t->ever_drawn && now - t->drawn_at < TERM_REDRAW_NS)
		return;
	width = term_width(t->opts.out);
	ir_buf_reset(&t->frame);
	/* Back to the top of the block; each line clears itself, and what
	 * is left below a shorter block is erased at the end. */
	if (t->drawn && ir_buf_printf(&t->frame, "\r\x1b[%dA", t->drawn))
		return;

	line_init(l, width, color);
	draw_header(t, l);
	frame_line(t, &ok, &lines);
	for (size_t i = 0; i < t->nsteps; i++) {
		line_init(l, width, color);
		draw_step(t, l, &t->steps[i]);
		frame_line(t, &ok, &lines);
	}
	if (t->decision) {
		line_init(l, width, color);
		line_tone(l, TONE_YELLOW);
		line_puts(l, "decision: ");
		line_tone(l, TONE_OFF);
		describe(l, t->decision, &x);
		frame_line(t, &ok, &lines);
	}
	if (t->note) {
		line_init(l, width, color);
		line_tone(l, TONE_BOLD);
		line_puts(l, "note: ");
		line_tone(l, TONE_OFF);
		describe(l, t->note, &x);
		frame_line(t, &ok, &lines);
	}
	for (size_t i = 0; i < TERM_RECENT; i++) {
		const struct ir_event *ev =
		    t->recent[(t->recent_next + i) % TERM_RECENT];

		if (!ev)
			continue;
		line_init(l, width, color);
		line_tone(l, TONE_DIM);
		line_puts(l, "    ");
		line_add(l, ev->step, strnlen(ev->step, sizeof(ev->step)));
		line_puts(l, " ");
		line_tone(l, TONE_OFF);
		describe(l, ev, &x);
		frame_line(t, &ok, &lines);
	}
	if (t->closed_ev) {
		line_init(l, width, color);
		describe(l, t->closed_ev, &x);
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
	t->width = term_width(t->opts.out);
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
		struct line *l = &t->line;
		char off[32];

		line_init(l, t->width, false);
		fmt_offset(off, sizeof(off), t->now);
		line_printf(l, "[%s] ", off);
		line_printf(l, "%-*s still open (no incident.closed event)",
		            TERM_COL, "incident");
		(void)line_write(t->opts.out, l);
	}
	fflush(t->opts.out);
}

/* ---- `incident timeline` ------------------------------------------- */

struct timeline {
	struct ir_term *t; /* the state: budget, probe counts, width */
	FILE *out;
	bool color;
	int rc;
	/* A run of step.output lines of one step, shown collapsed. */
	struct ir_event *first, *last;
	uint64_t run;
};

static void
timeline_prefix(struct timeline *tl, struct line *l, const struct ir_event *ev)
{
	char utc[80], off[32];

	fmt_utc(utc, sizeof(utc), ev->ts);
	fmt_offset(off, sizeof(off), ev->mono);
	line_tone(l, TONE_DIM);
	line_printf(l, "%s  %s", utc, off);
	line_tone(l, TONE_OFF);
	line_puts(l, "  ");
	column(l, ev);
}

static void
timeline_put(struct timeline *tl, struct line *l)
{
	if (!tl->rc && line_write(tl->out, l))
		tl->rc = -EIO;
}

static void
timeline_line(struct timeline *tl, const struct ir_event *ev, uint64_t probe)
{
	struct line *l = &tl->t->line;
	struct desc x = {tl->t->budget_ms, probe, true};

	line_init(l, tl->t->width, tl->color);
	timeline_prefix(tl, l, ev);
	describe(l, ev, &x);
	timeline_put(tl, l);
}

static void
timeline_flush(struct timeline *tl)
{
	struct line *l = &tl->t->line;
	int col;

	if (tl->run == 1) {
		timeline_line(tl, tl->first, 0);
	} else if (tl->run > 1) {
		line_init(l, tl->t->width, tl->color);
		timeline_prefix(tl, l, tl->first);
		line_printf(l, "%llu lines of output", (ull)tl->run);
		timeline_put(tl, l);
		timeline_line(tl, tl->first, 0);
		if (tl->run > 2) {
			/* Under the text column of the lines around it. */
			line_init(l, tl->t->width, tl->color);
			timeline_prefix(tl, l, tl->last);
			col = l->cols;
			line_init(l, tl->t->width, tl->color);
			line_pad(l, col);
			line_tone(l, TONE_DIM);
			line_printf(l,
			            "| \xe2\x80\xa6 %llu more line%s "
			            "\xe2\x80\xa6",
			            (ull)(tl->run - 2),
			            tl->run == 3 ? "" : "s");
			timeline_put(tl, l);
		}
		timeline_line(tl, tl->last, 0);
	}
	event_free(tl->first);
	event_free(tl->last);
	tl->first = tl->last = NULL;
	tl->run = 0;
}

static int
timeline_event(void *payload, const struct ir_event *ev, const void *raw,
               size_t len)
{
	struct timeline *tl = payload;
	struct step *st;

	(void)raw;
	(void)len;
	update(tl->t, ev);
	if (is_type(ev, "step.output") && ir_val_get(ev->data, "line")) {
		if (tl->run &&
		    !strncmp(tl->first->step, ev->step, sizeof(ev->step))) {
			keep(&tl->last, ev);
			tl->run++;
			return tl->last ? tl->rc : -ENOMEM;
		}
		timeline_flush(tl);
		keep(&tl->first, ev);
		tl->run = 1;
		return tl->first ? tl->rc : -ENOMEM;
	}
	timeline_flush(tl);
	st = is_probe(ev) ? step_get(tl->t, ev->step, false) : NULL;
	timeline_line(tl, ev, st ? st->probes : 0);
	return tl->rc;
}

static void
timeline_header(struct timeline *tl, const struct ir_incident *inc)
{
	struct line *l = &tl->t->line;
	char utc[80];

	line_init(l, tl->t->width, tl->color);
	line_tone(l, TONE_BOLD);
	line_printf(l, "INC-%llu", (ull)inc->id);
	line_tone(l, TONE_OFF);
	line_puts(l, "  ");
	line_add(l, inc->kind, strnlen(inc->kind, sizeof(inc->kind)));
	line_puts(l, "  ");
	line_tone(l, !strcmp(inc->status, "succeeded") ? TONE_GREEN
	             : !strcmp(inc->status, "open")    ? TONE_YELLOW
	                                               : TONE_RED);
	line_add(l, inc->status, strnlen(inc->status, sizeof(inc->status)));
	line_tone(l, TONE_OFF);
	if (inc->target[0]) {
		line_puts(l, "  ");
		line_add(l, inc->from, strnlen(inc->from, sizeof(inc->from)));
		line_puts(l, " \xe2\x86\x92 ");
		line_add(l, inc->target,
		         strnlen(inc->target, sizeof(inc->target)));
	}
	fmt_utc(utc, sizeof(utc), inc->opened);
	line_printf(l, "  opened %s, %llu events", utc, (ull)inc->events);
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
	timeline_header(&tl, &inc);
	/* Lines are written as the scan goes, inside its read snapshot; a
	 * timeline is short work unless the reader stops reading. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_DECODE, timeline_event, &tl,
	                   ctx);
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
	event_free(tl.first);
	event_free(tl.last);
	ir_term_free(tl.t);
	return rc;
}
