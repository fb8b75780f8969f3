/* `incident timeline INC --json`: the timeline's lines as a JSON array,
 * streamed; step output collapsed into runs as the terminal shows it. */
#include "report.h"

#include <string.h>

#include "jsonval.h"
#include "rjson.h"
#include "text.h"

#define NS_PER_MS 1000000

struct tl_json {
	FILE *out;
	size_t n;
	int rc;
};

static json_t *
line_json(const char *type, const char *step, uint64_t seq, int64_t ts,
	  int64_t ms, const char *text, size_t len)
{
	struct ir_rpt_jb b = { false };
	char t[IR_RPT_TIME_LEN], s[IR_RPT_LINE_MAX + 8];
	json_t *o = json_object();

	if (len >= sizeof(s))
		len = sizeof(s) - 1;
	memcpy(s, text, len);
	s[len] = '\0';
	ir_rpt_time(t, ts);
	ir_rpt_jset(&b, o, "seq", json_integer((json_int_t)seq));
	ir_rpt_jset(&b, o, "ts", json_string(t));
	ir_rpt_jset(&b, o, "offset_ms", json_integer(ms));
	ir_rpt_jset(&b, o, "type", ir_rpt_jstr(type));
	ir_rpt_jset(&b, o, "step", step[0] ? ir_rpt_jstr(step) : json_null());
	ir_rpt_jset(&b, o, "text", ir_rpt_jstr(s));
	if (b.oom) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
put(struct tl_json *w, json_t *o)
{
	if (!o) {
		w->rc = w->rc ? w->rc : -ENOMEM;
		return;
	}
	fputs(w->n++ ? ",\n" : "\n", w->out);
	if (json_dumpf(o, w->out, JSON_SORT_KEYS | JSON_COMPACT) && !w->rc)
		w->rc = -EIO;
	json_decref(o);
}

static void
tl_event(void *payload, const struct ir_event *ev)
{
	struct ir_rpt_line l = { .len = 0 };

	ir_rpt_describe(&l, ev);
	put(payload, line_json(ev->type, ev->step, ev->seq, ev->ts,
			       (int64_t)(ev->mono / NS_PER_MS), l.s, l.len));
}

static void
tl_run(void *payload, const struct ir_rpt_run *run)
{
	struct ir_rpt_line l = { .len = 0 };
	json_t *o;

	ir_rpt_line_printf(&l, "%llu line%s", (unsigned long long)run->count,
			   run->count == 1 ? "" : "s");
	if (run->last.len) {
		ir_rpt_line_adds(&l, "; last: ");
		ir_rpt_line_add(&l, (const char *)run->last.data,
				run->last.len);
	}
	o = line_json("step.output", run->step, run->first_seq,
		      run->first_ts, run->first_ms, l.s, l.len);
	if (o) {
		json_object_set_new(o, "last_seq",
				    json_integer((json_int_t)run->last_seq));
		json_object_set_new(o, "lines",
				    json_integer((json_int_t)run->count));
		json_object_set_new(o, "dropped",
				    json_integer((json_int_t)run->dropped));
	}
	put(payload, o);
}

int
ir_report_timeline_json(FILE *out, struct ir_evlog *log, uint64_t id,
			struct ir_ctx *ctx)
{
	struct ir_rpt_model m;
	struct tl_json w = { out, 0, 0 };
	struct ir_rpt_timeline tl = {
		.m = &m, .event = tl_event, .run = tl_run, .payload = &w
	};
	int rc;

	if (!out || !log)
		return -EINVAL;
	rc = ir_rpt_model_build(&m, log, id, -1, ctx);
	if (!rc) {
		fputs("[", out);
		rc = ir_rpt_timeline(&tl, log, ctx);
		if (!rc && w.rc)
			rc = ir_error_set(ctx, w.rc, IR_ORIGIN_OS, 0,
					  "INC-%llu: cannot write the "
					  "timeline",
					  (unsigned long long)id);
		if (!rc) {
			fputs("\n]\n", out);
			rc = ir_rpt_flush(out, ctx);
		}
	}
	ir_rpt_model_clear(&m);
	return rc;
}
