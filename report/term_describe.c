#include "term_line.h"

#include <string.h>

#include "checkpoint.h"

typedef unsigned long long ull;

/* ---- one event as one line of text -------------------------------- */

static void
describe_scalar(struct ir_tline *l, const struct ir_val *v)
{
	char hex[17];
	size_t i;

	switch (v->type) {
	case IR_VAL_NIL:
		ir_tline_puts(l, "nil");
		break;
	case IR_VAL_BOOL:
		ir_tline_puts(l, v->as.b ? "true" : "false");
		break;
	case IR_VAL_INT:
		ir_tline_printf(l, "%lld", (long long)v->as.i);
		break;
	case IR_VAL_UINT:
		ir_tline_printf(l, "%llu", (ull)v->as.u);
		break;
	case IR_VAL_STR:
		ir_tline_puts(l, "\"");
		ir_tline_add(l, v->as.str.ptr, v->as.str.len);
		ir_tline_puts(l, "\"");
		break;
	case IR_VAL_BIN:
		for (i = 0; i < 8 && i < v->as.str.len; i++)
			snprintf(hex + 2 * i, 3, "%02x",
			         (unsigned char)v->as.str.ptr[i]);
		hex[2 * i] = '\0';
		ir_tline_puts(l, hex);
		if (v->as.str.len > 8)
			ir_tline_puts(l, "\xe2\x80\xa6");
		break;
	case IR_VAL_ARRAY:
		ir_tline_printf(l, "[%zu]", v->as.arr.len);
		break;
	case IR_VAL_MAP:
		ir_tline_puts(l, "{\xe2\x80\xa6}");
		break;
	}
}

/* Unknown types and kinds: the fields as key=value. */
static void
describe_fields(struct ir_tline *l, const struct ir_val *m, const char *skip)
{
	if (!m || m->type != IR_VAL_MAP)
		return;
	for (size_t i = 0; i < m->as.map.len && !l->full; i++) {
		const struct ir_kv *kv = &m->as.map.items[i];

		if (skip && !strcmp(kv->key, skip))
			continue;
		ir_tline_puts(l, " ");
		ir_tline_puts(l, kv->key);
		ir_tline_puts(l, "=");
		describe_scalar(l, &kv->val);
	}
}

static void
describe_observation(struct ir_tline *l, const struct ir_val *d,
                     const struct ir_tline_desc *x)
{
	const struct ir_val *v;
	uint64_t u;

	if (ir_tline_val_is(d, "what", "http")) {
		if (x->probe) {
			ir_tline_puts(l, "probe #");
			ir_tline_u64(l, x->probe);
			ir_tline_puts(l, ": ");
		} else
			ir_tline_puts(l, "probe: ");
		if (ir_tline_val_u64(d, "status", &u) && u) {
			ir_tline_tone(l, u >= 200 && u < 400 ? IR_TONE_GREEN
			                                     : IR_TONE_RED);
			ir_tline_u64(l, u);
		} else {
			ir_tline_tone(l, IR_TONE_RED);
			ir_tline_puts(l, "no answer");
		}
		ir_tline_tone(l, IR_TONE_OFF);
		if (ir_tline_val_u64(d, "latency_us", &u)) {
			ir_tline_puts(l, " in ");
			ir_tline_u64(l, u / 1000);
			ir_tline_puts(l, ".");
			ir_tline_u64(l, u % 1000 / 100);
			ir_tline_puts(l, " ms");
		}
		/* The health rule's reason for an unhealthy answer (older
		 * logs: only curl's error). */
		if (!ir_val_get_bool(d, "healthy", true) &&
		    ir_tline_field(l, d, "why", ": ", ""))
			ir_tline_field(l, d, "error", " (", ")");
		else
			ir_tline_field(l, d, "error", ": ", "");
		if (x->body)
			ir_tline_field(l, d, "body", ", body \"", "\"");
	} else if (ir_tline_val_is(d, "what", "process")) {
		ir_tline_puts(l, "process");
		ir_tline_field(l, d, "pattern", " \"", "\"");
		v = ir_val_get(d, "pids");
		if (!ir_tline_val_u64(d, "count", &u))
			u = v && v->type == IR_VAL_ARRAY ? v->as.arr.len : 0;
		if (!u) {
			ir_tline_puts(l, ": none running");
			return;
		}
		ir_tline_puts(l, ": ");
		ir_tline_u64(l, u);
		ir_tline_puts(l, " running");
		if (!v || v->type != IR_VAL_ARRAY || !v->as.arr.len)
			return;
		ir_tline_puts(l, " (pids");
		for (size_t i = 0; i < v->as.arr.len && i < IR_TLINE_PIDS_SHOWN;
		     i++) {
			ir_tline_puts(l, " ");
			describe_scalar(l, &v->as.arr.items[i]);
		}
		ir_tline_puts(l, v->as.arr.len > IR_TLINE_PIDS_SHOWN
		                     ? " \xe2\x80\xa6)"
		                     : ")");
	} else if (ir_tline_val_is(d, "what", "git")) {
		const char *p;
		size_t n;

		/* commit is the full hash; head is "<short> <subject>"
		 * (older logs: the hash itself). */
		ir_tline_puts(l, "git HEAD");
		if (ir_tline_val_str(d, "commit", &p, &n) ||
		    ir_tline_val_str(d, "head", &p, &n)) {
			size_t hex = strspn(p, "0123456789abcdef");

			if (hex > n)
				hex = n;
			ir_tline_puts(l, " ");
			ir_tline_add(l, p, hex < 12 ? hex : 12);
		}
		ir_tline_field(l, d, "tag", " (", ")");
		if (ir_val_get_bool(d, "detached", false))
			ir_tline_puts(l, " detached");
		ir_tline_field(l, d, "subject", " \"", "\"");
		v = ir_val_get(d, "changes");
		if (v && v->type == IR_VAL_ARRAY && v->as.arr.len)
			ir_tline_printf(l, ", %zu local changes",
			                v->as.arr.len);
	} else if (ir_tline_val_is(d, "what", "conflicts")) {
		if (!ir_tline_val_u64(d, "count", &u))
			u = 0;
		if (!u) {
			ir_tline_puts(l, "conflicts: no local change in the way");
			return;
		}
		ir_tline_printf(l, "conflicts: %llu local change%s in the way",
		                (ull)u, u == 1 ? "" : "s");
		v = ir_val_get(d, "paths");
		for (size_t i = 0; v && v->type == IR_VAL_ARRAY &&
		                   i < v->as.arr.len && i < 4;
		     i++) {
			ir_tline_puts(l, i ? ", " : " (");
			describe_scalar(l, &v->as.arr.items[i]);
		}
		if (v && v->type == IR_VAL_ARRAY && v->as.arr.len)
			ir_tline_puts(l, v->as.arr.len > 4 ? ", \xe2\x80\xa6)"
			                                   : ")");
	} else if (ir_tline_val_is(d, "what", "result")) {
		int64_t code = ir_val_get_int(d, "exit_code", 0);
		int64_t sig = ir_val_get_int(d, "signal", 0);

		ir_tline_puts(l, "result: ");
		if (ir_val_get_bool(d, "timed_out", false))
			ir_tline_puts(l, "cut off at its budget, ");
		else if (ir_val_get_bool(d, "cancelled", false))
			ir_tline_puts(l, "ended on request, ");
		if (sig)
			ir_tline_printf(l, "killed by signal %lld",
			                (long long)sig);
		else
			ir_tline_printf(l, "exit %lld", (long long)code);
		if (ir_tline_val_u64(d, "duration_ms", &u))
			ir_tline_printf(l, " after %llu ms", (ull)u);
	} else if (ir_tline_val_is(d, "what", "tags")) {
		size_t bad = 0, i, shown = 0;
		const char *p;
		size_t n;

		v = ir_val_get(d, "tags");
		if (!v || v->type != IR_VAL_ARRAY)
			v = NULL;
		for (i = 0; v && i < v->as.arr.len; i++)
			bad += ir_val_get_bool(&v->as.arr.items[i],
			                       "known_bad", false);
		ir_tline_printf(l, "tags: %zu read, %zu known-bad",
		                v ? v->as.arr.len : 0, bad);
		for (i = 0; v && i < v->as.arr.len && shown < 4; i++) {
			const struct ir_val *t = &v->as.arr.items[i];

			if (!ir_val_get_bool(t, "known_bad", false))
				continue;
			ir_tline_puts(l, shown++ ? ", " : " (");
			ir_tline_field(l, t, "tag", "", "");
		}
		if (shown)
			ir_tline_puts(l, bad > shown ? ", \xe2\x80\xa6)" : ")");
		if (ir_tline_val_str(d, "head", &p, &n)) {
			ir_tline_puts(l, ", HEAD ");
			ir_tline_add(l, p, n < 12 ? n : 12);
		}
		v = ir_val_get(d, "asked");
		if (v && v->type == IR_VAL_MAP)
			ir_tline_field(l, v, "tag", ", asked ", "");
	} else if (ir_tline_val_is(d, "what", "file")) {
		ir_tline_puts(l, "file");
		ir_tline_field(l, d, "path", " ", "");
		v = ir_val_get(d, "exists");
		if (v && v->type == IR_VAL_BOOL)
			ir_tline_puts(l, v->as.b ? " exists" : " missing");
		describe_fields(l, d, NULL);
	} else if (ir_tline_val_is(d, "what", "log")) {
		ir_tline_puts(l, "log");
		ir_tline_field(l, d, "path", " ", "");
		v = ir_val_get(d, "lines");
		if (v && v->type == IR_VAL_ARRAY) {
			const struct ir_val *last;

			ir_tline_printf(l, ": %zu lines", v->as.arr.len);
			last = v->as.arr.len
			           ? &v->as.arr.items[v->as.arr.len - 1]
			           : NULL;
			if (last && last->type == IR_VAL_STR) {
				ir_tline_puts(l, ", last \"");
				ir_tline_add(l, last->as.str.ptr,
				             last->as.str.len);
				ir_tline_puts(l, "\"");
			}
		}
	} else {
		if (!ir_tline_field(l, d, "what", "", ""))
			ir_tline_puts(l, "observed");
		describe_fields(l, d, "what");
	}
}

static void
describe_closing(struct ir_tline *l, const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	char buf[32];
	uint64_t u;
	int64_t code;
	bool failed = ir_tline_is_type(ev, "step.failed");

	ir_tline_tone(l, failed ? IR_TONE_RED : IR_TONE_GREEN);
	ir_tline_puts(l, failed ? "failed" : "completed");
	ir_tline_tone(l, IR_TONE_OFF);
	if (ir_tline_val_u64(d, "duration_ms", &u)) {
		ir_tline_dur(buf, sizeof(buf), u);
		ir_tline_printf(l, " %s %s", failed ? "after" : "in", buf);
	}
	if (failed) {
		ir_tline_field(l, d, "error", ": ", "");
		if (ir_val_as_int(ir_val_get(d, "exit_code"), &code))
			ir_tline_printf(l, " (exit %lld)", (long long)code);
	}
	if (ir_val_get_bool(d, "escalated", false))
		ir_tline_puts(l, ", escalated");
	if (ir_val_get_bool(d, "over_budget", false)) {
		ir_tline_tone(l, IR_TONE_YELLOW);
		if (ir_tline_val_u64(d, "budget_ms", &u)) {
			ir_tline_budget(buf, sizeof(buf), u);
			ir_tline_printf(l, " (over budget %s)", buf);
		} else {
			ir_tline_puts(l, " (over budget)");
		}
		ir_tline_tone(l, IR_TONE_OFF);
	}
}

static void
describe_closed(struct ir_tline *l, const struct ir_event *ev,
                const struct ir_tline_desc *x)
{
	const struct ir_val *d = ev->data;
	char dur[32], bud[32], diff[32];
	const char *p;
	size_t n;
	uint64_t ms;

	if (ir_tline_val_is(d, "status", "succeeded"))
		ir_tline_tone(l, IR_TONE_GREEN);
	else if (ir_tline_val_is(d, "status", "aborted"))
		ir_tline_tone(l, IR_TONE_YELLOW);
	else
		ir_tline_tone(l, IR_TONE_RED);
	if (ir_tline_val_str(d, "status", &p, &n))
		ir_tline_add(l, p, n);
	else
		ir_tline_puts(l, "closed");
	ir_tline_tone(l, IR_TONE_OFF);
	if (!ir_tline_val_u64(d, "duration_ms", &ms))
		ms = ev->mono / IR_NS_PER_MS;
	ir_tline_dur(dur, sizeof(dur), ms);
	ir_tline_printf(l, " in %s", dur);
	if (!x->budget_ms)
		return;
	ir_tline_budget(bud, sizeof(bud), x->budget_ms);
	if (ms <= x->budget_ms) {
		ir_tline_dur(diff, sizeof(diff), x->budget_ms - ms);
		ir_tline_printf(l, " (budget %s, %s left)", bud, diff);
	} else {
		ir_tline_dur(diff, sizeof(diff), ms - x->budget_ms);
		ir_tline_tone(l, IR_TONE_RED);
		ir_tline_printf(l, " (over budget %s by %s)", bud, diff);
		ir_tline_tone(l, IR_TONE_OFF);
	}
}

static void
describe_target(struct ir_tline *l, const struct ir_val *d)
{
	const struct ir_val *skipped = ir_val_get(d, "skipped");

	ir_tline_puts(l, "target");
	ir_tline_field(l, d, "from", " ", "");
	ir_tline_puts(l, " \xe2\x86\x92 ");
	if (!ir_tline_field(l, d, "to", "", ""))
		ir_tline_puts(l, "?");
	if (skipped && skipped->type == IR_VAL_ARRAY && skipped->as.arr.len) {
		ir_tline_puts(l, ", passed over");
		for (size_t i = 0; i < skipped->as.arr.len && !l->full; i++) {
			const struct ir_val *s = &skipped->as.arr.items[i];

			if (s->type == IR_VAL_STR) {
				ir_tline_puts(l, " ");
				ir_tline_add(l, s->as.str.ptr, s->as.str.len);
			} else {
				ir_tline_field(l, s, "tag", " ", "");
				ir_tline_field(l, s, "why", " (", ")");
			}
		}
	}
	ir_tline_field(l, d, "why", ": ", "");
}

void
ir_tline_output(struct ir_tline *l, const struct ir_output_view *out)
{
	ir_tline_puts(l, "| ");
	if (out->err)
		ir_tline_tone(l, IR_TONE_YELLOW);
	if (out->line)
		ir_tline_add(l, out->line, out->line_len);
	if (out->truncated)
		ir_tline_puts(l, " \xe2\x80\xa6(cut)");
	ir_tline_tone(l, IR_TONE_OFF);
}

void
ir_tline_note(struct ir_tline *l, const struct ir_note_view *note)
{
	if (note->text)
		ir_tline_add(l, note->text, note->text_len);
	else
		ir_tline_puts(l, "(empty)");
	if (note->author) {
		ir_tline_puts(l, " (");
		ir_tline_add(l, note->author, note->author_len);
		ir_tline_puts(l, ")");
	}
	if (note->has_corrects)
		ir_tline_printf(l, " [corrects #%llu]", (ull)note->corrects);
}

void
ir_tline_describe(struct ir_tline *l, const struct ir_event *ev,
                  const struct ir_tline_desc *x)
{
	const struct ir_val *d = ev->data;
	char buf[32], b2[32];
	uint64_t u, u2;
	const char *p;
	size_t n;

	/* The kinds a long incident is made of first: each test is a
	 * string compare, once per line of the timeline. */
	if (ir_tline_is_type(ev, "note")) {
		struct ir_note_view note = {0};

		ir_tline_val_str(d, "text", &note.text, &note.text_len);
		ir_tline_val_str(d, "author", &note.author, &note.author_len);
		note.has_corrects = ir_tline_val_u64(d, "corrects",
		                                     &note.corrects);
		ir_tline_note(l, &note);
	} else if (ir_tline_is_type(ev, "observation")) {
		describe_observation(l, d, x);
	} else if (ir_tline_is_type(ev, "incident.opened")) {
		if (!ir_tline_field(l, d, "kind", "", ""))
			ir_tline_puts(l, "incident");
		ir_tline_puts(l, " opened");
		ir_tline_field(l, d, "reason", ": \"", "\"");
		if (ir_tline_val_u64(d, "budget_ms", &u)) {
			ir_tline_budget(buf, sizeof(buf), u);
			ir_tline_printf(l, " (budget %s)", buf);
		}
		ir_tline_field(l, d, "actor", " by ", "");
	} else if (ir_tline_is_type(ev, "decision")) {
		if (!ir_tline_field(l, d, "question", "", ""))
			ir_tline_puts(l, "?");
		ir_tline_puts(l, " ");
		ir_tline_tone(l, IR_TONE_YELLOW);
		if (!ir_tline_field(l, d, "answer", "", ""))
			ir_tline_puts(l, "?");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_field(l, d, "because", " (", ")");
	} else if (ir_tline_is_type(ev, "target.chosen")) {
		describe_target(l, d);
	} else if (ir_tline_is_type(ev, "step.started")) {
		ir_tline_puts(l, "started");
		if (ir_tline_val_u64(d, "attempt", &u) && u > 1)
			ir_tline_printf(l, " again (attempt %llu)", (ull)u);
		if (ir_tline_val_u64(d, "budget_ms", &u)) {
			ir_tline_budget(buf, sizeof(buf), u);
			ir_tline_printf(l, " (budget %s)", buf);
		}
		ir_tline_field(l, d, "command", ": ", "");
	} else if (ir_tline_is_type(ev, "step.output")) {
		if (ir_tline_val_u64(d, "dropped", &u) &&
		    !ir_val_get(d, "line")) {
			ir_tline_tone(l, IR_TONE_DIM);
			ir_tline_printf(l, "| (%llu more lines not recorded)",
			                (ull)u);
			ir_tline_tone(l, IR_TONE_OFF);
			return;
		}
		struct ir_output_view out = {0};

		out.err = ir_tline_val_is(d, "stream", "err");
		ir_tline_val_str(d, "line", &out.line, &out.line_len);
		out.truncated = ir_val_get_bool(d, "truncated", false);
		ir_tline_output(l, &out);
	} else if (ir_tline_is_type(ev, "step.completed") ||
	           ir_tline_is_type(ev, "step.failed")) {
		describe_closing(l, ev);
	} else if (ir_tline_is_type(ev, "step.skipped")) {
		ir_tline_tone(l, IR_TONE_DIM);
		ir_tline_puts(l, "skipped");
		ir_tline_field(l, d, "why", ": ", "");
		ir_tline_tone(l, IR_TONE_OFF);
	} else if (ir_tline_is_type(ev, "backup.created")) {
		ir_tline_puts(l, "archived");
		ir_tline_field(l, d, "path", " ", "");
		if (ir_tline_val_u64(d, "files", &u) &&
		    ir_tline_val_u64(d, "bytes", &u2)) {
			ir_tline_bytes(buf, sizeof(buf), u2);
			ir_tline_printf(l, " (%llu files, %s)", (ull)u, buf);
		}
		if (ir_tline_val_str(d, "sha256", &p, &n)) {
			ir_tline_puts(l, " sha256 ");
			ir_tline_add(l, p, n < 12 ? n : 12);
		}
	} else if (ir_tline_is_type(ev, "archive.deleted")) {
		ir_tline_puts(l, "deleted");
		ir_tline_field(l, d, "path", " ", "");
		ir_tline_field(l, d, "why", " (", ")");
	} else if (ir_tline_is_type(ev, "restore.completed")) {
		ir_tline_puts(l, "restored");
		ir_tline_field(l, d, "archive", " ", "");
		ir_tline_field(l, d, "to", " to ", "");
		if (ir_tline_val_u64(d, "files", &u) &&
		    ir_tline_val_u64(d, "bytes", &u2)) {
			ir_tline_bytes(b2, sizeof(b2), u2);
			ir_tline_printf(l, " (%llu files, %s)", (ull)u, b2);
		}
		ir_tline_puts(l, ir_val_get_bool(d, "verified", false)
		                     ? ", checksum verified"
		                     : ", checksum not verified");
	} else if (ir_tline_is_type(ev, "step.escalated")) {
		ir_tline_tone(l, IR_TONE_YELLOW);
		ir_tline_puts(l, "escalated");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_field(l, d, "command", ": ", "");
		if (ir_tline_val_u64(d, "after_ms", &u)) {
			ir_tline_dur(buf, sizeof(buf), u);
			ir_tline_printf(l, " after %s", buf);
		}
	} else if (ir_tline_is_type(ev, "incident.interrupted")) {
		ir_tline_tone(l, IR_TONE_YELLOW);
		ir_tline_puts(l, "interrupted");
		ir_tline_tone(l, IR_TONE_OFF);
		ir_tline_field(l, d, "signal", " by ", "");
		ir_tline_field(l, d, "step", " during ", "");
		ir_tline_field(l, d, "outcome", " (", ")");
		if (ir_val_get_bool(d, "killed", false))
			ir_tline_puts(l, ", its command killed");
		if (ir_tline_val_u64(d, "trading", &u))
			ir_tline_printf(l, "; trading %s (%llu process%s)",
			                u ? "running" : "not running", (ull)u,
			                u == 1 ? "" : "es");
	} else if (ir_tline_is_type(ev, "incident.resumed")) {
		ir_tline_puts(l, "resumed");
		ir_tline_field(l, d, "actor", " by ", "");
		ir_tline_field(l, d, "interrupted_step", " (",
		               " was interrupted)");
	} else if (ir_tline_is_type(ev, "incident.closed")) {
		describe_closed(l, ev, x);
	} else if (ir_tline_is_type(ev, "checkpoint")) {
		const uint8_t *r;

		if (ir_checkpoint_of_event(ev, &u, &r)) {
			size_t i;

			ir_tline_printf(l, "signed: %llu events, root ",
			                (ull)u);
			for (i = 0; i < 8; i++)
				ir_tline_printf(l, "%02x", r[i]);
		} else {
			ir_tline_tone(l, IR_TONE_YELLOW);
			ir_tline_puts(l, "not signed");
			ir_tline_tone(l, IR_TONE_OFF);
			ir_tline_field(l, d, "error", ": ", "");
		}
		ir_tline_field(l, d, "what", " (", ")");
	} else {
		ir_tline_add(l, ev->type, strnlen(ev->type, sizeof(ev->type)));
		describe_fields(l, d, NULL);
	}
}

/* The step column: the step, or what kind of event stands there. */
void
ir_tline_column(struct ir_tline *l, const struct ir_event *ev)
{
	int start = l->cols;

	if (ir_tline_is_type(ev, "decision"))
		ir_tline_puts(l, "decision");
	else if (ev->step[0])
		ir_tline_add(l, ev->step, strnlen(ev->step, sizeof(ev->step)));
	else if (!strncmp(ev->type, "incident.", 9))
		ir_tline_puts(l, "incident");
	else if (ir_tline_is_type(ev, "note"))
		ir_tline_puts(l, "note:");
	else if (!strncmp(ev->type, "archive.", 8))
		ir_tline_puts(l, "archive");
	else if (ir_tline_is_type(ev, "observation"))
		ir_tline_puts(l, "observed");
	else if (ir_tline_is_type(ev, "checkpoint"))
		ir_tline_puts(l, "checkpoint");
	ir_tline_pad(l, start + IR_TLINE_STEP_COL);
	ir_tline_puts(l, " ");
}
