#include "marker.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "runbook.h"
#include "term_line.h"

typedef unsigned long long ull;

/* Hex digits of the chain head a marker shows, as `incident verify`. */
#define MARKER_HEAD_HEX 16

/* "3/9 checkout": the step's place among its kind's steps. */
static void
step_started(struct ir_tline *l, const struct ir_state *st,
             const struct ir_event *ev)
{
	enum ir_step step = ir_step_from_name(ev->step);
	const enum ir_step *steps;
	size_t n = 0, i;
	uint64_t attempt;

	steps = ir_runbook_steps(st->kind, &n);
	for (i = 0; steps && i < n && steps[i] != step; i++)
		;
	if (step != IR_STEP_NONE && i < n)
		ir_tline_printf(l, "%zu/%zu ", i + 1, n);
	ir_tline_add(l, ev->step, strnlen(ev->step, sizeof(ev->step)));
	if (ir_tline_val_u64(ev->data, "attempt", &attempt) && attempt > 1)
		ir_tline_printf(l, ", attempt %llu", (ull)attempt);
}

/* Over budget, as the step's (or the incident's) outcome says; older
 * logs: its duration against the budget its start recorded.  what: the
 * step, NULL for the incident. */
static bool
overrun(struct ir_tline *l, const struct ir_state *st,
        const struct ir_event *ev, const char *what)
{
	enum ir_step step = ir_step_from_name(ev->step);
	const struct ir_val *d = ev->data;
	uint64_t dur = 0, budget = 0;
	char a[32], b[32];
	bool over;

	if (!ir_tline_val_u64(d, "budget_ms", &budget) && step != IR_STEP_NONE)
		budget = st->steps[step].budget_ms;
	if (!ir_tline_val_u64(d, "duration_ms", &dur) && step != IR_STEP_NONE &&
	    ev->mono > st->steps[step].started_mono)
		dur = (ev->mono - st->steps[step].started_mono) / IR_NS_PER_MS;
	if (ir_val_get(d, "over_budget"))
		over = ir_val_get_bool(d, "over_budget", false);
	else
		over = budget && dur > budget;
	if (!over)
		return false;
	if (what) {
		ir_tline_puts(l, what);
		ir_tline_puts(l, " ");
	}
	ir_tline_puts(l, "over budget");
	if (budget) {
		ir_tline_dur(a, sizeof(a), dur);
		ir_tline_budget(b, sizeof(b), budget);
		ir_tline_printf(l, ": %s of %s", a, b);
	}
	return true;
}

static bool
describe(struct ir_tline *l, const struct ir_state *st,
         const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	const char *p;
	size_t n;

	if (ir_tline_is_type(ev, "step.started")) {
		step_started(l, st, ev);
		return true;
	}
	if (ir_tline_is_type(ev, "decision")) {
		if (!ir_tline_val_str(d, "question", &p, &n))
			return false;
		ir_tline_add(l, p, n);
		ir_tline_puts(l, " = ");
		if (ir_tline_val_str(d, "answer", &p, &n))
			ir_tline_add(l, p, n);
		else
			ir_tline_puts(l, "?");
		return true;
	}
	/* The choice of target is the rollback's other decision. */
	if (ir_tline_is_type(ev, "target.chosen")) {
		if (!ir_tline_val_str(d, "to", &p, &n))
			return false;
		ir_tline_puts(l, "target: ");
		ir_tline_field(l, d, "from", "", " -> ");
		ir_tline_add(l, p, n);
		return true;
	}
	if (ir_tline_is_type(ev, "step.completed") ||
	    ir_tline_is_type(ev, "step.failed")) {
		char what[sizeof(ev->step) + 1];

		snprintf(what, sizeof(what), "%.*s", (int)sizeof(ev->step),
		         ev->step);
		return overrun(l, st, ev, what[0] ? what : "step");
	}
	if (ir_tline_is_type(ev, "incident.closed")) {
		ir_tline_puts(l, "closed: ");
		if (ir_tline_val_str(d, "status", &p, &n))
			ir_tline_add(l, p, n);
		else
			ir_tline_puts(l, "?");
		if (ir_val_get_bool(d, "over_budget", false)) {
			ir_tline_puts(l, ", ");
			overrun(l, st, ev, NULL);
		}
		return true;
	}
	return false;
}

bool
ir_marker_label(char *out, size_t cap, const struct ir_state *st,
                const struct ir_event *ev)
{
	struct ir_tline *l;
	bool marks;

	if (!out || !cap)
		return false;
	out[0] = '\0';
	if (!st || !ev)
		return false;
	l = malloc(sizeof(*l));
	if (!l)
		return false;
	/* ir_tline_init keeps the last column free. */
	ir_tline_init(l, IR_MARKER_COLS + 1, false);
	marks = describe(l, st, ev);
	ir_tline_end(l);
	if (marks)
		snprintf(out, cap, "%s", l->buf);
	free(l);
	return marks;
}

void
ir_marker_head(char *out, size_t cap, const uint8_t head[IR_HASH_LEN],
               uint64_t seq)
{
	char hex[IR_SHA256_HEX];

	ir_hex(hex, head, IR_HASH_LEN);
	snprintf(out, cap, "chain head %.*s\xe2\x80\xa6 at seq %llu",
	         MARKER_HEAD_HEX, hex, (ull)seq);
}

void
ir_marker_title(char *out, size_t cap, const struct ir_incident *inc)
{
	struct ir_tline *l;

	if (!out || !cap)
		return;
	out[0] = '\0';
	l = malloc(sizeof(*l));
	if (!l || !inc) {
		free(l);
		return;
	}
	ir_tline_init(l, IR_MARKER_COLS + 1, false);
	ir_tline_printf(l, "INC-%llu ", (ull)inc->id);
	ir_tline_add(l, inc->kind, strnlen(inc->kind, sizeof(inc->kind)));
	if (inc->target[0]) {
		ir_tline_puts(l, " ");
		ir_tline_add(l, inc->from,
		             strnlen(inc->from, sizeof(inc->from)));
		ir_tline_puts(l, inc->from[0] ? " -> " : "-> ");
		ir_tline_add(l, inc->target,
		             strnlen(inc->target, sizeof(inc->target)));
	}
	ir_tline_end(l);
	snprintf(out, cap, "%s", l->buf);
	free(l);
}
