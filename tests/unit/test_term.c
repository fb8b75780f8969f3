/*
 * The terminal renderer (live display, plain and TTY; the timeline) and
 * replay / export, against incidents written with the real event log in a
 * private temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "evlog.h"
#include "evlog_testhooks.h"
#include "hash.h"
#include "jsonval.h"
#include "cast.h"
#include "marker.h"
#include "replay.h"
#include "state.h"
#include "term.h"
#include "term_line.h"

#define MS 1000000ULL
#define SEC (1000 * MS)
/* 2023-11-14T22:13:20Z */
#define BASE_TS (1700000000LL * 1000000000LL)

#define HOSTILE                                                                \
	"evil\x1b[2J\x07\x1b]0;owned\x07\x9b"                                  \
	"31m tail"

struct fixture {
	char dir[64];
	struct ir_evlog *log;
	struct ir_ctx ctx;
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/term-XXXXXX",
	         tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(f->dir) || ir_evlog_open(&f->log, f->dir, &f->ctx)) {
		free(f);
		return -1;
	}
	/* Deterministic widths, whatever the environment says. */
	setenv("COLUMNS", "100", 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ir_evlog_close(f->log);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct ir_event *
mk(const char *type, const char *step, uint64_t mono)
{
	struct ir_event *ev = calloc(1, sizeof(*ev));

	assert_non_null(ev);
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->step, sizeof(ev->step), "%s", step ? step : "");
	ev->mono = mono;
	ev->ts = BASE_TS + (int64_t)mono;
	ev->data = ir_val_map_new();
	assert_non_null(ev->data);
	return ev;
}

static void
free_ev(struct ir_event *ev)
{
	ir_event_clear(ev);
	free(ev);
}

/* Append and free. */
static void
add(struct fixture *f, uint64_t id, struct ir_event *ev)
{
	assert_int_equal(ir_evlog_append(f->log, id, &ev, 1, &f->ctx), 0);
	free_ev(ev);
}

static uint64_t
open_incident(struct fixture *f, const char *kind, uint64_t budget_ms,
              uint64_t mono)
{
	struct ir_event *ev = mk("incident.opened", NULL, mono);
	uint64_t id = 0;

	ir_val_set_str(ev->data, "kind", kind);
	ir_val_set_str(ev->data, "reason", "market data feed down");
	ir_val_set_str(ev->data, "actor", "ops@host");
	if (budget_ms)
		ir_val_set_uint(ev->data, "budget_ms", budget_ms);
	assert_int_equal(ir_evlog_create(f->log, &id, ev, &f->ctx), 0);
	free_ev(ev);
	return id;
}

static void
add_output(struct fixture *f, uint64_t id, const char *step, uint64_t mono,
           const char *line)
{
	struct ir_event *ev = mk("step.output", step, mono);

	ir_val_set_str(ev->data, "stream", "out");
	ir_val_set_str(ev->data, "line", line);
	add(f, id, ev);
}

static void
add_probe(struct fixture *f, uint64_t id, uint64_t mono, unsigned status)
{
	struct ir_event *ev = mk("observation", "health", mono);

	ir_val_set_str(ev->data, "what", "http");
	ir_val_set_str(ev->data, "url", "http://127.0.0.1:9000/status");
	ir_val_set_uint(ev->data, "status", status);
	ir_val_set_uint(ev->data, "latency_us", 1234);
	add(f, id, ev);
}

/* A whole rollback: stop (with hostile output), backup skipped, a note,
 * health with 25 probes (5 failing), closed after 83 s of a 5 min budget. */
static uint64_t
rollback_incident(struct fixture *f)
{
	uint64_t id = open_incident(f, "rollback", 300000, 12 * MS);
	struct ir_event *ev;
	char long_line[301];

	ev = mk("decision", "stop", 15 * MS);
	ir_val_set_str(ev->data, "question", "trading active?");
	ir_val_set_str(ev->data, "answer", "yes");
	ir_val_set_str(ev->data, "because",
	               "2 processes match \"trading_node\"");
	add(f, id, ev);
	ev = mk("step.started", "stop", 20 * MS);
	ir_val_set_uint(ev->data, "budget_ms", 30000);
	ir_val_set_str(ev->data, "command", "./scripts/emergency_stop.sh");
	add(f, id, ev);
	add_output(f, id, "stop", 30 * MS, "stopping trading_node");
	add_output(f, id, "stop", 31 * MS, HOSTILE);
	memset(long_line, 'x', 300);
	long_line[300] = '\0';
	add_output(f, id, "stop", 32 * MS, long_line);
	ev = mk("step.completed", "stop", 450 * MS);
	ir_val_set_uint(ev->data, "duration_ms", 430);
	ir_val_set_uint(ev->data, "budget_ms", 30000);
	ir_val_set_bool(ev->data, "over_budget", false);
	add(f, id, ev);
	ev = mk("step.skipped", "backup", 500 * MS);
	ir_val_set_str(ev->data, "why", "--no-backup");
	add(f, id, ev);
	ev = mk("note", NULL, 600 * MS);
	ir_val_set_str(ev->data, "author", "ops@host");
	ir_val_set_str(ev->data, "text", "customer called");
	add(f, id, ev);
	ev = mk("step.started", "health", 1 * SEC);
	ir_val_set_uint(ev->data, "budget_ms", 60000);
	add(f, id, ev);
	for (unsigned i = 1; i <= 25; i++)
		add_probe(f, id, (1 + i) * SEC, i <= 5 ? 503 : 200);
	ev = mk("step.completed", "health", 27 * SEC);
	ir_val_set_uint(ev->data, "duration_ms", 26000);
	add(f, id, ev);
	ev = mk("incident.closed", NULL, 83 * SEC);
	ir_val_set_str(ev->data, "status", "succeeded");
	ir_val_set_uint(ev->data, "duration_ms", 83000);
	add(f, id, ev);
	return id;
}

static int
feed(void *payload, const struct ir_event *ev, const void *raw, size_t len)
{
	(void)raw;
	(void)len;
	ir_term_event(payload, ev);
	return 0;
}

/* Render incident id through a term with these options; caller frees. */
static char *
render(struct fixture *f, uint64_t id, bool tty, bool color, uint64_t tick)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	struct ir_term_opts opts = {out, tty, color};
	struct ir_term *t;

	assert_non_null(out);
	t = ir_term_new(&opts);
	assert_non_null(t);
	assert_int_equal(
	    ir_evlog_scan(f->log, id, 1, IR_EVLOG_DECODE, feed, t, &f->ctx), 0);
	if (tick)
		ir_term_tick(t, tick);
	ir_term_finish(t);
	ir_term_free(t);
	fclose(out);
	return text;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Any SGR (colour) sequence: ESC [ digits/semicolons m. */
static bool
has_sgr(const char *s)
{
	for (const char *p = strstr(s, "\x1b["); p;
	     p = strstr(p + 1, "\x1b[")) {
		const char *q = p + 2;

		while ((*q >= '0' && *q <= '9') || *q == ';')
			q++;
		if (*q == 'm')
			return true;
	}
	return false;
}

static void
test_plain(void **state)
{
	struct fixture *f = *state;
	uint64_t id = rollback_incident(f);
	char *text = render(f, id, false, true, 0);
	const char *last, *line;

	assert_non_null(strstr(text, "[+00:00.012] incident   rollback opened: "
	                             "\"market data feed down\" (budget 5m"));
	assert_non_null(strstr(text, "[+00:00.015] decision   trading active? "
	                             "yes (2 processes match "
	                             "\"trading_node\")\n"));
	assert_non_null(strstr(text, "[+00:00.020] stop       started (budget "
	                             "30s): ./scripts/emergency_stop.sh\n"));
	assert_non_null(strstr(text, "[+00:00.030] stop       | stopping "
	                             "trading_node\n"));
	assert_non_null(strstr(text, "[+00:00.450] stop       completed in "
	                             "430 ms\n"));
	assert_non_null(strstr(text, "backup     skipped: --no-backup\n"));
	assert_non_null(strstr(text, "note:      customer called (ops@host)"));

	/* The hostile line arrives, defused: no ESC, no BEL, no C1 CSI. */
	assert_non_null(strstr(text, "stop       | evil?[2J??]0;owned??31m"));
	assert_null(memchr(text, '\x1b', strlen(text)));
	assert_null(memchr(text, '\x07', strlen(text)));
	assert_null(strchr(text, (char)0x9b));
	/* Plain mode never colours, even when asked to. */
	assert_false(has_sgr(text));

	/* Not a terminal: the 300-column line is whole, whatever COLUMNS
	 * says, and no line is cut. */
	(void)line;
	assert_non_null(strstr(text, "stop       | "));
	{
		char want[320];

		memset(want, 'x', 300);
		snprintf(want + 300, sizeof(want) - 300, "\n");
		assert_non_null(strstr(text, want));
	}
	assert_null(strstr(text, "\xe2\x80\xa6\n"));

	/* Probes: #1 (503), #6 (now 200), #10, #20, and the last (#25)
	 * before the step closes; not the other twenty. */
	assert_int_equal(count(text, "probe #"), 5);
	assert_non_null(strstr(text, "health     probe #1: 503 in 1.2 ms\n"));
	assert_non_null(strstr(text, "probe #6: 200"));
	assert_non_null(strstr(text, "probe #10: 200"));
	assert_non_null(strstr(text, "probe #20: 200"));
	assert_non_null(strstr(text, "probe #25: 200"));
	assert_null(strstr(text, "probe #2:"));
	assert_true(strstr(text, "probe #25") <
	            strstr(text, "health     completed"));

	/* The last line: status and duration against the budget. */
	last = text + strlen(text) - 1;
	while (last > text && last[-1] != '\n')
		last--;
	assert_string_equal(last, "[+01:23.000] incident   succeeded in "
	                          "1m23s (budget 5m, 3m37s left)\n");
	free(text);
}

static void
test_plain_open_and_no_budget(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "stop", 0, 0);
	struct ir_event *ev = mk("step.started", "stop", 1 * MS);
	char *text;

	add(f, id, ev);
	text = render(f, id, false, false, 0);
	assert_null(strstr(text, "budget"));
	assert_non_null(strstr(text, "[+00:00.001] stop       started\n"));
	assert_non_null(strstr(text, "incident   still open"));
	free(text);
}

static void
test_tty_color(void **state)
{
	struct fixture *f = *state;
	uint64_t id = rollback_incident(f);
	char *text = render(f, id, true, true, 0);

	assert_true(has_sgr(text));
	assert_non_null(strstr(text, "\x1b[32m")); /* green: done */
	assert_non_null(strstr(text, "\x1b[2K"));  /* lines redrawn */
	/* The final frame went over the first one. */
	assert_non_null(strstr(text, "\r\x1b["));
	/* All nine steps, with their symbols. */
	for (size_t i = 0; i < 9; i++) {
		static const char *const names[] = {
		    "stop",  "backup", "checkout", "config", "database",
		    "start", "health", "verify",   "report",
		};
		assert_non_null(strstr(text, names[i]));
	}
	assert_non_null(strstr(text, "\xe2\x9c\x93")); /* ✓ */
	assert_non_null(strstr(text, "\xe2\x80\x93")); /* – skipped */
	assert_non_null(strstr(text, "\xc2\xb7"));     /* · pending */
	assert_non_null(strstr(text, " in 1m23s (budget 5m, 3m37s left)"));
	assert_non_null(strstr(text, "customer called"));
	/* A redraw never wraps: the 300-column line is cut to the width. */
	{
		char whole[301];

		memset(whole, 'x', 300);
		whole[300] = '\0';
		assert_null(strstr(text, whole));
		assert_non_null(strstr(text, "xxx\xe2\x80\xa6"));
	}
	/* Escapes are ours only: the hostile line's are defused. */
	assert_null(strstr(text, "\x1b[2J"));
	assert_null(strstr(text, "\x1b]0"));
	assert_null(memchr(text, '\x07', strlen(text)));
	assert_null(strchr(text, (char)0x9b));
	free(text);
}

/* A rollback done in milliseconds says so in the header, not "0.0s". */
static void
test_tty_fast_close(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 300000, 0);
	struct ir_event *ev = mk("incident.closed", NULL, 32 * MS);
	char *text;

	ir_val_set_str(ev->data, "status", "succeeded");
	ir_val_set_uint(ev->data, "duration_ms", 32);
	add(f, id, ev);
	text = render(f, id, true, false, 32 * MS);
	/* The last frame: the first, drawn at the opening, says 0.0s. */
	assert_non_null(strstr(text, "rollback  32 ms / 5m"));
	assert_null(strstr(strstr(text, "rollback  32 ms"), "0.0s"));
	free(text);
}

static void
test_tty_plain_running(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 300000, 0);
	struct ir_event *ev = mk("step.started", "stop", 0);
	char *text;

	ir_val_set_uint(ev->data, "budget_ms", 30000);
	add(f, id, ev);
	add_output(f, id, "stop", 1 * MS, "waiting for " HOSTILE);
	text = render(f, id, true, false, 12345 * MS);
	assert_false(has_sgr(text));
	assert_non_null(strstr(text, "\xe2\x96\xb6 stop")); /* ▶ running */
	assert_non_null(strstr(text, "12.3s / 30s"));
	assert_non_null(strstr(text, "12.3s / 5m"));
	assert_non_null(strstr(text, "4m47s left"));
	assert_non_null(strstr(text, "waiting for evil?[2J"));
	assert_null(strstr(text, "\x1b[2J"));
	assert_null(memchr(text, '\x07', strlen(text)));
	free(text);

	/* A stop incident lists only its own step. */
	id = open_incident(f, "stop", 30000, 0);
	text = render(f, id, true, false, 0);
	assert_non_null(strstr(text, "stop"));
	assert_null(strstr(text, "checkout"));
	assert_null(strstr(text, "health"));
	free(text);
}

static char *
timeline(struct fixture *f, uint64_t id, bool color)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_int_equal(ir_term_timeline(out, f->log, id, color, &f->ctx), 0);
	fclose(out);
	return text;
}

static void
test_timeline(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 300000, 12 * MS);
	struct ir_event *ev = mk("step.started", "start", 100 * MS);
	char *utc, *ny, *color;
	char buf[32];

	add(f, id, ev);
	for (unsigned i = 1; i <= 7; i++) {
		snprintf(buf, sizeof(buf), "line %u", i);
		add_output(f, id, "start", (100 + i) * MS, buf);
	}
	ev = mk("step.completed", "start", 200 * MS);
	ir_val_set_uint(ev->data, "duration_ms", 100);
	add(f, id, ev);
	add_output(f, id, "verify", 300 * MS, HOSTILE);
	ev = mk("incident.closed", NULL, 400 * MS);
	ir_val_set_str(ev->data, "status", "failed");
	ir_val_set_uint(ev->data, "duration_ms", 400);
	add(f, id, ev);

	setenv("TZ", "UTC", 1);
	tzset();
	utc = timeline(f, id, false);
	setenv("TZ", "America/New_York", 1);
	tzset();
	ny = timeline(f, id, false);
	unsetenv("TZ");
	tzset();
	assert_string_equal(utc, ny);

	assert_non_null(strstr(utc, "INC-1  rollback  failed"));
	assert_non_null(strstr(utc, "2023-11-14T22:13:20.012Z  +00:00.012  "
	                            "incident   rollback opened"));
	assert_non_null(strstr(utc, "2023-11-14T22:13:20.101Z  +00:00.101  "
	                            "start      7 lines of output\n"));
	assert_non_null(strstr(utc, "start      | line 1\n"));
	assert_non_null(
	    strstr(utc, "| \xe2\x80\xa6 5 more lines \xe2\x80\xa6\n"));
	assert_non_null(strstr(utc, "2023-11-14T22:13:20.107Z  +00:00.107  "
	                            "start      | line 7\n"));
	assert_null(strstr(utc, "line 3"));
	/* A lone line is shown as itself, defused. */
	assert_non_null(strstr(utc, "verify     | evil?[2J"));
	assert_null(memchr(utc, '\x1b', strlen(utc)));
	assert_null(memchr(utc, '\x07', strlen(utc)));
	assert_non_null(strstr(utc, "incident   failed in 400 ms (budget 5m, "
	                            "4m59s left)\n"));
	assert_false(has_sgr(utc));

	color = timeline(f, id, true);
	assert_true(has_sgr(color));
	assert_null(strstr(color, "\x1b[2J"));
	free(utc);
	free(ny);
	free(color);

	assert_int_equal(ir_term_timeline(stdout, f->log, 99, false, &f->ctx),
	                 -ENOENT);
}

struct seen {
	uint64_t seqs[256];
	size_t n;
	uint64_t ticks, last_tick, max_mono;
	bool ticks_in_order;
};

static void
on_event(void *payload, const struct ir_event *ev)
{
	struct seen *s = payload;

	if (s->n < 256)
		s->seqs[s->n] = ev->seq;
	s->n++;
	if (ev->mono > s->max_mono)
		s->max_mono = ev->mono;
}

static void
on_tick(void *payload, uint64_t mono)
{
	struct seen *s = payload;

	if (mono < s->last_tick || mono < s->max_mono)
		s->ticks_in_order = false;
	s->last_tick = mono;
	s->ticks++;
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
assert_in_order(const struct seen *s, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s->seqs[i], i + 1);
}

static void
test_replay_speed(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 0, 0);
	struct ir_replay_opts o = IR_REPLAY_OPTS_INIT;
	struct seen s = {.ticks_in_order = true};
	double t0;

	for (unsigned i = 1; i <= 20; i++)
		add_output(f, id, "stop", i * SEC, "tick");
	o.speed = 1000;
	o.max_idle = 60;
	o.on_event = on_event;
	o.on_tick = on_tick;
	o.payload = &s;
	t0 = wall();
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_true(wall() - t0 < 10.0); /* 20 s recorded, 20 ms to replay */
	assert_in_order(&s, 21);
	assert_true(s.ticks_in_order);
}

static void
test_replay_idle_cap(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 0, 0);
	struct ir_replay_opts o = IR_REPLAY_OPTS_INIT;
	struct seen s = {.ticks_in_order = true};
	double t0;

	add_output(f, id, "stop", 1 * MS, "before");
	add_output(f, id, "stop", 60 * SEC, "after a minute");
	add_output(f, id, "stop", 120 * SEC, "after two");
	o.speed = 1;
	o.max_idle = 0.01;
	o.on_event = on_event;
	o.payload = &s;
	t0 = wall();
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_true(wall() - t0 < 10.0);
	assert_in_order(&s, 4);

	/* Waiting gaps tick, with recorded time that only moves forward and
	 * stays between the events around it. */
	memset(&s, 0, sizeof(s));
	s.ticks_in_order = true;
	o.max_idle = 0.25;
	o.on_tick = on_tick;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_in_order(&s, 4);
	assert_true(s.ticks >= 2);
	assert_true(s.ticks_in_order);
	assert_true(s.last_tick <= 120 * SEC);
}

static void
test_replay_batches(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 0, 0);
	struct ir_replay_opts o = IR_REPLAY_OPTS_INIT;
	struct seen s = {.ticks_in_order = true};
	struct ir_event *evs[199];

	/* More events than one read batch, and a count that is a multiple
	 * of none of the likely batch sizes. */
	for (size_t i = 0; i < 199; i++) {
		evs[i] = mk("step.output", "start", 0);
		ir_val_set_str(evs[i]->data, "line", "x");
	}
	assert_int_equal(ir_evlog_append(f->log, id, evs, 199, &f->ctx), 0);
	for (size_t i = 0; i < 199; i++)
		free_ev(evs[i]);
	o.on_event = on_event;
	o.payload = &s;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_in_order(&s, 200);
}

static void
test_replay_invalid(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 0, 0);
	struct ir_replay_opts o = IR_REPLAY_OPTS_INIT;
	struct seen s = {0};

	o.on_event = on_event;
	o.payload = &s;
	o.speed = 0;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), -EINVAL);
	assert_non_null(strstr(f->ctx.err.msg, "speed"));
	ir_error_clear(&f->ctx);
	o.speed = -2;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), -EINVAL);
	o.speed = NAN;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), -EINVAL);
	o.speed = 1;
	o.max_idle = -0.5;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), -EINVAL);
	assert_int_equal(s.n, 0);
	o.max_idle = 0;
	assert_int_equal(ir_replay_run(f->log, id + 1, &o, &f->ctx), -ENOENT);
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_int_equal(s.n, 1);
}

/* An incident for the markers: a hostile question, an overrun the
 * outcome reports, a second attempt whose overrun only its times show
 * (older logs), a minute of silence, and a close over budget. */
static uint64_t
marker_incident(struct fixture *f)
{
	uint64_t id = open_incident(f, "rollback", 300000, 0);
	struct ir_event *ev;

	ev = mk("decision", "stop", 1 * MS);
	ir_val_set_str(ev->data, "question", HOSTILE);
	ir_val_set_str(ev->data, "answer", "yes");
	add(f, id, ev);
	ev = mk("step.started", "stop", 2 * MS);
	ir_val_set_uint(ev->data, "budget_ms", 5000);
	ir_val_set_uint(ev->data, "attempt", 1);
	add(f, id, ev);
	ev = mk("step.completed", "stop", 7202 * MS);
	ir_val_set_uint(ev->data, "duration_ms", 7200);
	ir_val_set_uint(ev->data, "budget_ms", 5000);
	ir_val_set_bool(ev->data, "over_budget", true);
	add(f, id, ev);
	ev = mk("target.chosen", "checkout", 7300 * MS);
	ir_val_set_str(ev->data, "from", "deploy-a");
	ir_val_set_str(ev->data, "to", "deploy-b\x1b[2J");
	add(f, id, ev);
	ev = mk("step.started", "checkout", 8 * SEC);
	ir_val_set_uint(ev->data, "budget_ms", 1000);
	ir_val_set_uint(ev->data, "attempt", 2);
	add(f, id, ev);
	add_output(f, id, "checkout", 9 * SEC, "checking out");
	ev = mk("step.failed", "checkout", 10 * SEC);
	ir_val_set_str(ev->data, "error", "no");
	add(f, id, ev);
	add_output(f, id, "checkout", 70 * SEC, "a minute later");
	ev = mk("incident.closed", NULL, 400 * SEC);
	ir_val_set_str(ev->data, "status", "failed");
	ir_val_set_uint(ev->data, "duration_ms", 400000);
	ir_val_set_uint(ev->data, "budget_ms", 300000);
	ir_val_set_bool(ev->data, "over_budget", true);
	add(f, id, ev);
	return id;
}

static const char *const marker_want[] = {
    "1/9 stop",
    "stop over budget: 7.2s of 5s",
    "target: deploy-a -> deploy-b?[2J",
    "3/9 checkout, attempt 2",
    "checkout over budget: 2.0s of 1s",
    "closed: failed, over budget: 6m40s of 5m",
};

struct marks {
	struct ir_state st;
	char labels[16][IR_MARKER_BYTES];
	size_t n;
};

static int
collect_marks(void *payload, const struct ir_event *ev, const void *raw,
              size_t len)
{
	struct marks *m = payload;

	(void)raw;
	(void)len;
	if (m->n < 16 &&
	    ir_marker_label(m->labels[m->n], IR_MARKER_BYTES, &m->st, ev))
		m->n++;
	ir_state_apply(&m->st, ev);
	return 0;
}

struct replayed_marks {
	char labels[16][IR_MARKER_BYTES];
	size_t n;
};

static void
on_marker(void *payload, uint64_t mono, const char *label)
{
	struct replayed_marks *r = payload;

	(void)mono;
	if (r->n < 16)
		snprintf(r->labels[r->n++], IR_MARKER_BYTES, "%s", label);
}

static void
test_markers(void **state)
{
	struct fixture *f = *state;
	uint64_t id = marker_incident(f);
	struct marks *m = calloc(1, sizeof(*m));
	struct ir_replay_opts o = IR_REPLAY_OPTS_INIT;
	struct replayed_marks r = {0};
	struct ir_incident inc;
	char head[IR_MARKER_BYTES];
	const char *q;

	assert_non_null(m);
	ir_state_init(&m->st);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_DECODE,
	                               collect_marks, m, &f->ctx),
	                 0);
	assert_int_equal(m->n, 7);
	/* The question from the log, as the display shows it. */
	q = m->labels[0];
	assert_non_null(strstr(q, "evil?[2J"));
	assert_non_null(strstr(q, " = yes"));
	for (const char *p = q; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	for (size_t i = 1; i < m->n; i++)
		assert_string_equal(m->labels[i], marker_want[i - 1]);

	/* A replay names the same markers, then the chain head. */
	o.max_idle = 0;
	o.on_marker = on_marker;
	o.payload = &r;
	assert_int_equal(ir_replay_run(f->log, id, &o, &f->ctx), 0);
	assert_int_equal(r.n, 8);
	for (size_t i = 0; i < m->n; i++)
		assert_string_equal(r.labels[i], m->labels[i]);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	ir_marker_head(head, sizeof(head), inc.head, inc.events);
	assert_string_equal(r.labels[7], head);
	assert_non_null(strstr(head, "at seq 10"));
	free(m);
}

static void
test_cast(void **state)
{
	struct fixture *f = *state;
	uint64_t id = marker_incident(f);
	struct ir_cast_opts o = IR_CAST_OPTS_INIT;
	struct ir_incident inc;
	char head[IR_MARKER_BYTES];
	char *text, *again, *line, *save = NULL;
	double last = 0;
	size_t nm = 0, no = 0;
	int rc;

	o.cols = 60;
	o.rows = 8;
	o.max_idle = 0.5;
	/* Twice, the second time with another $COLUMNS: the same bytes. */
	for (int k = 0; k < 2; k++) {
		size_t size = 0;
		FILE *out = open_memstream(k ? &again : &text, &size);

		assert_non_null(out);
		setenv("COLUMNS", k ? "33" : "100", 1);
		rc = ir_export_asciicast(out, f->log, id, &o, &f->ctx);
		assert_int_equal(rc, 0);
		fclose(out);
	}
	setenv("COLUMNS", "100", 1);
	assert_string_equal(text, again);
	free(again);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	ir_marker_head(head, sizeof(head), inc.head, inc.events);

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *code, *s;
		double t;

		assert_non_null(j);
		if (json_is_object(j)) {
			assert_int_equal(json_integer_value(
			                     json_object_get(j, "width")),
			                 60);
			assert_int_equal(json_integer_value(
			                     json_object_get(j, "height")),
			                 8);
			assert_int_equal(json_object_size(
			                     json_object_get(j, "env")),
			                 1);
			assert_int_equal(
			    json_integer_value(json_object_get(j, "timestamp")),
			    BASE_TS / 1000000000LL);
			json_decref(j);
			continue;
		}
		t = json_real_value(json_array_get(j, 0));
		code = json_string_value(json_array_get(j, 1));
		s = json_string_value(json_array_get(j, 2));
		assert_non_null(code);
		assert_non_null(s);
		/* Gaps are capped; the minute of silence ticks. */
		assert_true(t >= last && t - last <= 0.5 + 1e-9);
		last = t;
		if (!strcmp(code, "m")) {
			if (nm >= 1 && nm <= 6)
				assert_string_equal(s, marker_want[nm - 1]);
			if (nm == 7)
				assert_string_equal(s, head);
			nm++;
		} else {
			size_t lines = 0;

			assert_string_equal(code, "o");
			for (const char *p = strstr(s, "\r\n"); p;
			     p = strstr(p + 2, "\r\n"))
				lines++;
			assert_true(lines <= 7); /* the block fits the rows */
			assert_null(strstr(s, "\x1b[2J"));
			assert_null(strstr(s, "\x1b]0;"));
			no++;
		}
		json_decref(j);
	}
	assert_int_equal(nm, 8);
	assert_true(no > 10);
	/* 400 s recorded, each gap at most 0.5 s: 9 events, 4 s. */
	assert_true(last <= 4.0 + 1e-9);
	free(text);

	o.cols = 19;
	assert_int_equal(ir_export_asciicast(stdout, f->log, id, &o, &f->ctx),
	                 -EINVAL);
	o.cols = 100;
	o.rows = 201;
	assert_int_equal(ir_export_asciicast(stdout, f->log, id, &o, &f->ctx),
	                 -EINVAL);
	o.rows = 30;
	o.max_idle = 0;
	assert_int_equal(ir_export_asciicast(stdout, f->log, id, &o, &f->ctx),
	                 -EINVAL);
	o.max_idle = NAN;
	assert_int_equal(ir_export_asciicast(stdout, f->log, id, &o, &f->ctx),
	                 -EINVAL);
	ir_error_clear(&f->ctx);
}

static char *export(struct fixture *f, uint64_t id, int *rc)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	*rc = ir_export_jsonl(out, f->log, id, &f->ctx);
	fclose(out);
	return text;
}

struct raw_hash {
	uint64_t seq;
	char hex[IR_SHA256_HEX];
};

static int
hash_event(void *payload, const struct ir_event *ev, const void *raw,
           size_t len)
{
	struct raw_hash *h = payload;
	uint8_t sum[IR_SHA256_LEN];

	if (ev->seq != h->seq)
		return 0;
	ir_sha256(sum, raw, len);
	ir_hex(h->hex, sum, sizeof(sum));
	return 1;
}

static void
test_export(void **state)
{
	struct fixture *f = *state;
	uint64_t id = rollback_incident(f);
	struct ir_event *ev = mk("observation", "backup", 90 * SEC);
	struct ir_incident inc;
	struct raw_hash h = {1, ""};
	char *text, *line, *save = NULL;
	uint64_t n = 0;
	int rc;

	ir_val_set_str(ev->data, "what", "file");
	ir_val_set_bin(ev->data, "digest", "\x00\xff\x10", 3);
	add(f, id, ev);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_int_equal(
	    ir_evlog_scan(f->log, id, 1, 0, hash_event, &h, &f->ctx), 0);

	text = export(f, id, &rc);
	assert_int_equal(rc, 0);
	assert_null(memchr(text, '\x1b', strlen(text)));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		json_t *data;

		assert_non_null(j);
		n++;
		assert_int_equal(json_integer_value(json_object_get(j, "seq")),
		                 n);
		assert_int_equal(json_integer_value(json_object_get(j, "v")),
		                 1);
		assert_true(json_is_string(json_object_get(j, "type")));
		data = json_object_get(j, "data");
		assert_true(json_is_object(data));
		if (n == 1)
			assert_string_equal(
			    json_string_value(json_object_get(j, "prev")),
			    "00000000000000000000000000000000"
			    "00000000000000000000000000000000");
		if (n == 2)
			assert_string_equal(
			    json_string_value(json_object_get(j, "prev")),
			    h.hex);
		/* Control characters are JSON escapes; the byte that is not
		 * UTF-8 is replaced, as the JSON report does. */
		if (n == 5)
			assert_string_equal(
			    json_string_value(json_object_get(data, "line")),
			    "evil\x1b[2J\x07\x1b]0;owned\x07?31m tail");
		if (n == inc.events)
			assert_string_equal(
			    json_string_value(json_object_get(data, "digest")),
			    "00ff10");
		json_decref(j);
	}
	assert_int_equal(n, inc.events);
	free(text);
}

struct oracle {
	char *text;
	size_t size;
	FILE *out;
};

/* The reference: jansson's own rendering of ir_jsonval_event(). */
static int
oracle_event(void *payload, const struct ir_event *ev, const void *raw,
             size_t len)
{
	struct oracle *o = payload;
	json_t *j = ir_jsonval_event(ev);
	char *s;

	(void)raw;
	(void)len;
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	fprintf(o->out, "%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

static void
assert_export_is_jansson(struct fixture *f, uint64_t id)
{
	struct oracle o = {NULL, 0, NULL};
	char *text;
	int rc;

	o.out = open_memstream(&o.text, &o.size);
	assert_non_null(o.out);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_DECODE,
	                               oracle_event, &o, &f->ctx),
	                 0);
	fclose(o.out);
	text = export(f, id, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(text, o.text);
	free(text);
	free(o.text);
}

static void
test_export_matches_jansson(void **state)
{
	struct fixture *f = *state;
	uint64_t id = rollback_incident(f);
	struct ir_event *ev = mk("observation", "verify", 100 * SEC);
	struct ir_val *arr = ir_val_array_new(), *map = ir_val_map_new();
	struct ir_val *nil = ir_val_map_new();
	char ctl[129];

	/* Every ASCII byte but NUL, in one string. */
	for (int i = 1; i < 128; i++)
		ctl[i - 1] = (char)i;
	ctl[127] = '\0';
	ir_val_set_str(ev->data, "what", "log");
	ir_val_set_str(ev->data, "ascii", ctl);
	ir_val_set_strn(ev->data, "nul", "a\0b", 3);
	ir_val_set_str(ev->data, "utf8",
	               "caf\xc3\xa9 \xe2\x9c\x93 "
	               "\xf0\x9f\x98\x80 \\ \"q\"");
	ir_val_set_strn(ev->data, "not utf8", "\xff\xfe a\0\xc3(", 8);
	ir_val_set_str(ev->data, "overlong", "\xc0\xaf \xed\xa0\x80");
	ir_val_set_str(ev->data, "", "empty key");
	ir_val_set_uint(ev->data, "max", UINT64_MAX);
	ir_val_set_uint(ev->data, "over", (uint64_t)INT64_MAX + 1);
	ir_val_set_uint(ev->data, "edge", (uint64_t)INT64_MAX);
	ir_val_set_int(ev->data, "min", INT64_MIN);
	ir_val_set_int(ev->data, "neg", -42);
	ir_val_set_bool(ev->data, "yes", true);
	ir_val_set_bool(ev->data, "no", false);
	ir_val_set_bin(ev->data, "bin", "\x00\x01\xab\xff", 4);
	ir_val_set_bin(ev->data, "empty bin", "", 0);
	nil->type = IR_VAL_NIL;
	ir_val_set_take(ev->data, "nil", nil);
	ir_val_push_str(arr, "one");
	ir_val_push_int(arr, 2);
	ir_val_set_str(map, "k\n", "v\x1b");
	ir_val_push_take(arr, map);
	ir_val_push_take(arr, ir_val_array_new());
	ir_val_set_take(ev->data, "nested", arr);
	add(f, id, ev);
	add(f, id, mk("note", NULL, 101 * SEC));
	assert_export_is_jansson(f, id);
}

static void
poke_line(struct fixture *f, uint64_t id, struct ir_event *ev, struct ir_buf *b,
          const char *line)
{
	ir_buf_reset(b);
	ir_val_set_str(ev->data, "line", line);
	assert_int_equal(ir_codec_encode(b, ev), 0);
	assert_int_equal(
	    ir_evlog_poke(f->log, id, ev->seq, b->data, b->len, &f->ctx), 0);
}

static void
test_export_tampered(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback", 0, 0);
	struct ir_event *evs[3];
	struct ir_buf b = IR_BUF_INIT(0);
	char *text;
	int rc;

	for (size_t i = 0; i < 3; i++) {
		evs[i] = mk("step.output", "stop", (i + 1) * MS);
		ir_val_set_str(evs[i]->data, "line", "genuine");
	}
	assert_int_equal(ir_evlog_append(f->log, id, evs, 3, &f->ctx), 0);
	text = export(f, id, &rc);
	assert_int_equal(rc, 0);
	free(text);

	/* The last event rewritten (same seq, prev and time, other data):
	 * only the header's head can tell. */
	assert_int_equal(evs[2]->seq, 4);
	poke_line(f, id, evs[2], &b, "forged");
	text = export(f, id, &rc);
	assert_int_equal(rc, -EBADMSG);
	free(text);
	ir_error_clear(&f->ctx);

	/* Put back, byte for byte: sound again. */
	poke_line(f, id, evs[2], &b, "genuine");
	text = export(f, id, &rc);
	assert_int_equal(rc, 0);
	free(text);

	/* An event in the middle: the next one's prev breaks the chain. */
	assert_int_equal(evs[0]->seq, 2);
	poke_line(f, id, evs[0], &b, "forged");
	text = export(f, id, &rc);
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "chain"));
	free(text);

	ir_buf_clear(&b);
	for (size_t i = 0; i < 3; i++)
		free_ev(evs[i]);
}

/* The digit-by-digit time formatters agree with gmtime_r and snprintf. */
static void
test_time_formats(void **state)
{
	static const int64_t fixed[] = {
		0, -1, -1000000, 951782400000000000LL /* 2000-02-29 */,
		4107542399999000000LL /* 2100-02-28T23:59:59.999 */,
		4107542400000000000LL, INT64_MIN, INT64_MAX,
		1764108000123456789LL,
	};
	char got[80], want[80];
	uint64_t x = 88172645463325252ULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 100000; i++) {
		int64_t ns, s, r;
		struct tm tm;
		time_t tt;

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			ns = fixed[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			ns = (int64_t)x; /* 1677 to 2262 */
		}
		s = ns / 1000000000LL;
		r = ns % 1000000000LL;
		if (r < 0)
			r += 1000000000LL, s--;
		tt = (time_t)s;
		assert_non_null(gmtime_r(&tt, &tm));
		snprintf(want, sizeof(want),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(r / 1000000));
		ir_tline_utc(got, sizeof(got), ns);
		assert_string_equal(got, want);
	}
	for (i = 0; i < 100000; i++) {
		uint64_t ns, ms, sec;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ns = i < 50000 ? x % (3600ULL * 1000000000ULL) : x >> 8;
		ms = ns / 1000000;
		sec = ms / 1000;
		if (sec < 3600)
			snprintf(want, sizeof(want), "+%02llu:%02llu.%03llu",
				 (unsigned long long)(sec / 60),
				 (unsigned long long)(sec % 60),
				 (unsigned long long)(ms % 1000));
		else
			snprintf(want, sizeof(want),
				 "+%llu:%02llu:%02llu.%03llu",
				 (unsigned long long)(sec / 3600),
				 (unsigned long long)(sec / 60 % 60),
				 (unsigned long long)(sec % 60),
				 (unsigned long long)(ms % 1000));
		ir_tline_offset(got, sizeof(got), ns);
		assert_string_equal(got, want);
	}
	ir_tline_utc(got, 8, 0);
	assert_string_equal(got, "1970-01");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_formats),
	    cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plain_open_and_no_budget,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tty_color, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tty_plain_running, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_tty_fast_close, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_speed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_idle_cap, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_batches, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_invalid, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cast, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_matches_jansson, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_export_tampered, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
