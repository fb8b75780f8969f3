/* One-line summaries of events, in the runbook's words. */
#include "model.h"

#include <string.h>

#include "text.h"

static const char *
str(const struct ir_val *data, const char *key)
{
	return ir_val_get_str(data, key);
}

static const char *
or_q(const char *s)
{
	return s ? s : "?";
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static bool
has_int(const struct ir_val *data, const char *key, int64_t *out)
{
	return ir_val_as_int(ir_val_get(data, key), out);
}

/* ", key text" when the field is there. */
static void
opt_str(struct ir_rpt_line *l, const char *label, const struct ir_val *data,
	const char *key)
{
	const char *s = str(data, key);

	if (s && *s)
		ir_rpt_line_printf(l, ", %s %s", label, s);
}

static void
opt_dur(struct ir_rpt_line *l, const char *label, const struct ir_val *data,
	const char *key)
{
	char d[IR_RPT_DUR_LEN];
	int64_t v;

	if (!has_int(data, key, &v))
		return;
	ir_rpt_dur(d, v);
	ir_rpt_line_printf(l, "%s%s", label, d);
}

static void
short_commit(struct ir_rpt_line *l, const char *c)
{
	if (c && *c)
		ir_rpt_line_printf(l, " (%.12s)", c);
}

/* Scalars as text, containers by size: for data we do not know. */
static void
value(struct ir_rpt_line *l, const struct ir_val *v)
{
	switch (v->type) {
	case IR_VAL_NIL:
		ir_rpt_line_adds(l, "nil");
		break;
	case IR_VAL_BOOL:
		ir_rpt_line_adds(l, v->as.b ? "true" : "false");
		break;
	case IR_VAL_INT:
		ir_rpt_line_printf(l, "%lld", (long long)v->as.i);
		break;
	case IR_VAL_UINT:
		ir_rpt_line_printf(l, "%llu", (unsigned long long)v->as.u);
		break;
	case IR_VAL_STR:
		ir_rpt_line_add(l, v->as.str.ptr, v->as.str.len);
		break;
	case IR_VAL_BIN:
		ir_rpt_line_printf(l, "<%zu bytes>", v->as.str.len);
		break;
	case IR_VAL_ARRAY:
		ir_rpt_line_printf(l, "[%zu items]", v->as.arr.len);
		break;
	case IR_VAL_MAP:
		ir_rpt_line_printf(l, "{%zu fields}", v->as.map.len);
		break;
	}
}

static void
generic(struct ir_rpt_line *l, const struct ir_val *data)
{
	size_t i;

	if (!data || data->type != IR_VAL_MAP)
		return;
	for (i = 0; i < data->as.map.len; i++) {
		ir_rpt_line_printf(l, "%s%s=", i ? ", " : "",
				   data->as.map.items[i].key);
		value(l, &data->as.map.items[i].val);
	}
}

/* The fields of a file observation beyond path and exists: what was
 * checked differs by step. */
static void
others(struct ir_rpt_line *l, const struct ir_val *data)
{
	size_t i;

	for (i = 0; i < data->as.map.len; i++) {
		const struct ir_kv *kv = &data->as.map.items[i];

		if (!strcmp(kv->key, "what") || !strcmp(kv->key, "path") ||
		    !strcmp(kv->key, "exists"))
			continue;
		ir_rpt_line_printf(l, ", %s=", kv->key);
		value(l, &kv->val);
	}
}

static void
strings(struct ir_rpt_line *l, const struct ir_val *arr, size_t max)
{
	size_t i;

	if (!arr || arr->type != IR_VAL_ARRAY)
		return;
	for (i = 0; i < arr->as.arr.len && i < max; i++) {
		ir_rpt_line_adds(l, i ? ", " : "");
		value(l, &arr->as.arr.items[i]);
	}
	if (arr->as.arr.len > max)
		ir_rpt_line_printf(l, " and %zu more", arr->as.arr.len - max);
}

static void
observation(struct ir_rpt_line *l, const struct ir_val *d)
{
	const char *what = str(d, "what");
	char t[IR_RPT_DUR_LEN];
	int64_t v;

	if (!what) {
		generic(l, d);
		return;
	}
	if (!strcmp(what, "process")) {
		ir_rpt_line_printf(l, "process \"%s\": ",
				   str(d, "pattern") ? str(d, "pattern") : "");
		if (!has_int(d, "count", &v)) {
			const struct ir_val *p = ir_val_get(d, "pids");

			v = 0;
			if (p && p->type == IR_VAL_ARRAY)
				v = (int64_t)p->as.arr.len;
		}
		ir_rpt_line_printf(l, "%lld running", (long long)v);
		if (v > 0) {
			ir_rpt_line_adds(l, " (pids ");
			strings(l, ir_val_get(d, "pids"), 16);
			ir_rpt_line_adds(l, ")");
		}
	} else if (!strcmp(what, "git")) {
		const struct ir_val *ch = ir_val_get(d, "changes");
		const char *c = str(d, "commit") ? str(d, "commit")
						 : or_q(str(d, "head"));

		/* head may be "abbrev subject" (git log --oneline) with the
		 * full commit beside it, or the commit itself. */
		ir_rpt_line_printf(l, "git HEAD %.*s",
				   strspn(c, "0123456789abcdef") >= 12 ? 12
								       : 4096,
				   c);
		if (str(d, "subject"))
			ir_rpt_line_printf(l, " \"%s\"", str(d, "subject"));
		opt_str(l, "tag", d, "tag");
		if (ir_val_get_bool(d, "detached", false))
			ir_rpt_line_adds(l, ", detached");
		if (ch && ch->type == IR_VAL_ARRAY && ch->as.arr.len) {
			ir_rpt_line_printf(l, ", %zu local changes: ",
					   ch->as.arr.len);
			strings(l, ch, 8);
		}
	} else if (!strcmp(what, "http")) {
		ir_rpt_line_printf(l, "http %s: ",
				   str(d, "url") ? str(d, "url") : "");
		v = ir_val_get_int(d, "status", 0);
		if (v > 0)
			ir_rpt_line_printf(l, "status %lld", (long long)v);
		else
			ir_rpt_line_adds(l, "no answer");
		if (has_int(d, "latency_us", &v)) {
			ir_rpt_us(t, v);
			ir_rpt_line_printf(l, " in %s", t);
		}
		opt_str(l, "error", d, "error");
		opt_str(l, "body", d, "body");
	} else if (!strcmp(what, "conflicts")) {
		v = ir_val_get_int(d, "count", 0);
		if (!v) {
			ir_rpt_line_adds(l, "conflicts: no local change in the way");
		} else {
			ir_rpt_line_printf(l, "conflicts: %lld local change%s in "
					   "the way: ",
					   (long long)v, v == 1 ? "" : "s");
			strings(l, ir_val_get(d, "paths"), 8);
		}
	} else if (!strcmp(what, "result")) {
		ir_rpt_line_adds(l, "result: ");
		if (ir_val_get_bool(d, "timed_out", false))
			ir_rpt_line_adds(l, "cut off at its budget, ");
		else if (ir_val_get_bool(d, "cancelled", false))
			ir_rpt_line_adds(l, "ended on request, ");
		if (ir_val_get_int(d, "signal", 0))
			ir_rpt_line_printf(l, "killed by signal %lld",
					   (long long)ir_val_get_int(d, "signal",
								     0));
		else
			ir_rpt_line_printf(l, "exit %lld",
					   (long long)ir_val_get_int(
						   d, "exit_code", 0));
		if (has_int(d, "duration_ms", &v))
			ir_rpt_line_printf(l, " after %lld ms", (long long)v);
	} else if (!strcmp(what, "tags")) {
		const struct ir_val *tags = ir_val_get(d, "tags");
		const struct ir_val *asked = ir_val_get(d, "asked");
		size_t n = tags && tags->type == IR_VAL_ARRAY
				   ? tags->as.arr.len
				   : 0, bad = 0, i;

		for (i = 0; i < n; i++)
			bad += ir_val_get_bool(&tags->as.arr.items[i],
					       "known_bad", false);
		ir_rpt_line_printf(l, "tags: %zu read, %zu known-bad", n, bad);
		for (i = 0, v = 0; i < n; i++) {
			const struct ir_val *tag = &tags->as.arr.items[i];

			if (ir_val_get_bool(tag, "known_bad", false))
				ir_rpt_line_printf(l, "%s%s", v++ ? ", " : " (",
						   or_empty(str(tag, "tag")));
		}
		if (v)
			ir_rpt_line_adds(l, ")");
		ir_rpt_line_printf(l, ", HEAD %.12s", or_empty(str(d, "head")));
		if (asked && asked->type == IR_VAL_MAP)
			ir_rpt_line_printf(l, ", asked %s",
					   or_empty(str(asked, "tag")));
	} else if (!strcmp(what, "file")) {
		ir_rpt_line_printf(l, "file %s", or_empty(str(d, "path")));
		if (ir_val_get(d, "exists"))
			ir_rpt_line_adds(l, ir_val_get_bool(d, "exists", false)
						    ? " exists"
						    : " missing");
		others(l, d);
	} else if (!strcmp(what, "log")) {
		const struct ir_val *lines = ir_val_get(d, "lines");

		ir_rpt_line_printf(l, "log %s: %zu lines",
				   str(d, "path") ? str(d, "path") : "",
				   lines && lines->type == IR_VAL_ARRAY
					   ? lines->as.arr.len
					   : (size_t)0);
	} else {
		generic(l, d);
	}
}

void
ir_rpt_describe(struct ir_rpt_line *l, const struct ir_event *ev)
{
	const struct ir_val *d = ev->data;
	const char *t = ev->type;
	char x[IR_RPT_DUR_LEN];
	int64_t v;

	if (!strcmp(t, "incident.opened")) {
		ir_rpt_line_printf(l, "%s incident opened",
				   str(d, "kind") ? str(d, "kind") : "");
		opt_str(l, "reason", d, "reason");
		opt_str(l, "by", d, "actor");
		opt_str(l, "on", d, "host");
		opt_dur(l, ", budget ", d, "budget_ms");
	} else if (!strcmp(t, "decision")) {
		ir_rpt_line_printf(l, "%s %s", or_q(str(d, "question")),
				   or_q(str(d, "answer")));
		if (str(d, "because"))
			ir_rpt_line_printf(l, ": %s", str(d, "because"));
	} else if (!strcmp(t, "target.chosen")) {
		ir_rpt_line_adds(l, str(d, "from") ? str(d, "from") : "?");
		short_commit(l, str(d, "from_commit"));
		ir_rpt_line_adds(l, " \u2192 ");
		ir_rpt_line_adds(l, str(d, "to") ? str(d, "to") : "?");
		short_commit(l, str(d, "to_commit"));
		opt_str(l, "because", d, "why");
		if (ir_val_get(d, "skipped") &&
		    ir_val_get(d, "skipped")->type == IR_VAL_ARRAY &&
		    ir_val_get(d, "skipped")->as.arr.len)
			ir_rpt_line_printf(
				l, ", %zu known-bad skipped",
				ir_val_get(d, "skipped")->as.arr.len);
	} else if (!strcmp(t, "step.started")) {
		ir_rpt_line_printf(l, "attempt %lld",
				   (long long)ir_val_get_int(d, "attempt", 1));
		opt_dur(l, ", budget ", d, "budget_ms");
		opt_str(l, "command", d, "command");
		if (has_int(d, "pgid", &v))
			ir_rpt_line_printf(l, ", pgid %lld", (long long)v);
	} else if (!strcmp(t, "step.output")) {
		if (has_int(d, "dropped", &v))
			ir_rpt_line_printf(l, "%lld lines dropped (cap)",
					   (long long)v);
		else
			ir_rpt_line_printf(l, "[%s] %s",
					   str(d, "stream") ? str(d, "stream")
							    : "out",
					   or_empty(str(d, "line")));
	} else if (!strcmp(t, "observation")) {
		observation(l, d);
	} else if (!strcmp(t, "step.completed") ||
		   !strcmp(t, "step.failed")) {
		opt_dur(l, "after ", d, "duration_ms");
		opt_dur(l, " of ", d, "budget_ms");
		if (ir_val_get_bool(d, "over_budget", false))
			ir_rpt_line_adds(l, ", OVER BUDGET");
		if (str(d, "error"))
			ir_rpt_line_printf(l, ": %s", str(d, "error"));
		if (has_int(d, "exit_code", &v))
			ir_rpt_line_printf(l, " (exit %lld)", (long long)v);
		if (ir_val_get_bool(d, "escalated", false))
			ir_rpt_line_adds(l, ", escalated");
	} else if (!strcmp(t, "step.escalated")) {
		ir_rpt_line_printf(l, "escalated: %s",
				   or_empty(str(d, "command")));
		opt_dur(l, " after ", d, "after_ms");
		if (has_int(d, "pgid", &v))
			ir_rpt_line_printf(l, ", pgid %lld", (long long)v);
		opt_str(l, "because", d, "because");
	} else if (!strcmp(t, "incident.interrupted")) {
		ir_rpt_line_printf(l, "interrupted by %s",
				   or_q(str(d, "signal")));
		if (str(d, "step"))
			ir_rpt_line_printf(l, " during %s (%s)", str(d, "step"),
					   or_q(str(d, "outcome")));
		if (ir_val_get_bool(d, "killed", false))
			ir_rpt_line_adds(l, ", its command killed");
		if (has_int(d, "trading", &v))
			ir_rpt_line_printf(l, "; %lld trading process%s "
					   "running",
					   (long long)v, v == 1 ? "" : "es");
		opt_str(l, "not begun", d, "next_step");
	} else if (!strcmp(t, "step.skipped")) {
		ir_rpt_line_adds(l, str(d, "why") ? str(d, "why") : "skipped");
	} else if (!strcmp(t, "backup.created")) {
		ir_rpt_line_adds(l, str(d, "path") ? str(d, "path") : "?");
		if (has_int(d, "files", &v))
			ir_rpt_line_printf(l, ", %lld files", (long long)v);
		if (has_int(d, "bytes", &v)) {
			ir_rpt_bytes(x, v);
			ir_rpt_line_printf(l, ", %s", x);
		}
		opt_str(l, "sha256", d, "sha256");
	} else if (!strcmp(t, "archive.deleted")) {
		ir_rpt_line_adds(l, str(d, "path") ? str(d, "path") : "?");
		opt_str(l, "because", d, "why");
	} else if (!strcmp(t, "restore.completed")) {
		ir_rpt_line_printf(l, "%s \u2192 %s",
				   str(d, "archive") ? str(d, "archive") : "?",
				   str(d, "to") ? str(d, "to") : "?");
		if (has_int(d, "files", &v))
			ir_rpt_line_printf(l, ", %lld files", (long long)v);
		ir_rpt_line_adds(l, ir_val_get_bool(d, "verified", false)
					    ? ", checksum verified"
					    : ", checksum NOT verified");
	} else if (!strcmp(t, "incident.resumed")) {
		ir_rpt_line_printf(l, "resumed by %s",
				   str(d, "actor") ? str(d, "actor") : "?");
		if (has_int(d, "pid", &v))
			ir_rpt_line_printf(l, " (pid %lld)", (long long)v);
		opt_str(l, "interrupted in", d, "interrupted_step");
	} else if (!strcmp(t, "note")) {
		ir_rpt_line_printf(l, "%s: %s",
				   str(d, "author") ? str(d, "author") : "?",
				   str(d, "text") ? str(d, "text") : "");
		if (has_int(d, "corrects", &v))
			ir_rpt_line_printf(l, " (corrects seq %lld)",
					   (long long)v);
	} else if (!strcmp(t, "incident.closed")) {
		ir_rpt_line_adds(l, str(d, "status") ? str(d, "status") : "?");
		opt_dur(l, " after ", d, "duration_ms");
	} else {
		generic(l, d);
	}
}
