/*
 * The report of a drill (an incident of kind drill): the score, each
 * answer beside the original's (answer, latency, what was looked at, the
 * key it was judged by) and what to study; Markdown, HTML and JSON from
 * the drill's own events.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "drill_report.h"
#include "ir_limits.h"
#include "jsonval.h"
#include "text.h"

#define DRILL_REPORT_ANSWERS 16

struct answer {
	const struct ir_val *d; /* drill.answered's data */
	unsigned looked, hints;
	char rating;
};

struct drill_doc {
	struct ir_event *ev;
	size_t n;
	const struct ir_val *opened, *scored;
	struct answer a[DRILL_REPORT_ANSWERS];
	size_t n_a;
};

static const char *
str(const struct ir_val *d, const char *key)
{
	const char *s = ir_val_get_str(d, key);

	return s ? s : "";
}

static void
gather(struct drill_doc *dd)
{
	unsigned looked[DRILL_REPORT_ANSWERS] = { 0 };
	unsigned hints[DRILL_REPORT_ANSWERS] = { 0 };
	const char *names[DRILL_REPORT_ANSWERS];
	size_t n_names = 0, i, j;

	for (i = 0; i < dd->n; i++) {
		const struct ir_event *ev = &dd->ev[i];
		const char *dec = str(ev->data, "decision");
		size_t k;

		if (!strcmp(ev->type, "incident.opened"))
			dd->opened = ev->data;
		else if (!strcmp(ev->type, "drill.scored"))
			dd->scored = ev->data;
		if (strncmp(ev->type, "drill.", 6) || !dec[0])
			continue;
		for (k = 0; k < n_names && strcmp(names[k], dec); k++)
			;
		if (k == n_names && n_names < DRILL_REPORT_ANSWERS)
			names[n_names++] = dec;
		if (k == DRILL_REPORT_ANSWERS)
			continue;
		if (!strcmp(ev->type, "drill.looked"))
			looked[k]++;
		else if (!strcmp(ev->type, "drill.hint"))
			hints[k]++;
		else if (!strcmp(ev->type, "drill.answered") &&
			 dd->n_a < DRILL_REPORT_ANSWERS) {
			dd->a[dd->n_a].d = ev->data;
			dd->a[dd->n_a].looked = looked[k];
			dd->a[dd->n_a].hints = hints[k];
			dd->n_a++;
		}
	}
	for (j = 0; j < dd->n_a; j++) {
		const struct ir_val *r = ir_val_get(dd->scored, "ratings");
		const char *rt = ir_val_get_str(r, str(dd->a[j].d, "decision"));

		dd->a[j].rating = rt && rt[0] ? rt[0] : '-';
	}
}

static void
doc_summary(struct ir_rpt_doc *d, const struct drill_doc *dd, uint64_t id)
{
	static const char *const h[] = { "Field", "Value" };
	const struct ir_val *o = dd->opened, *s = dd->scored;
	char title[160];

	snprintf(title, sizeof(title), "INC-%llu: drill of INC-%lld",
		 (unsigned long long)id, (long long)ir_val_get_int(o, "source", 0));
	ir_rpt_doc_heading(d, 1, "drill", title);
	ir_rpt_doc_table(d, h, 2);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Source");
	ir_rpt_doc_tdf(d, "INC-%lld %s, %s", (long long)ir_val_get_int(o, "source", 0),
		       str(o, "source_kind"), str(o, "source_status"));
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Source chain head");
	ir_rpt_doc_tdf(d, "%.16s... at seq %lld", str(o, "source_head"),
		       (long long)ir_val_get_int(o, "source_seq", 0));
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Trainee");
	ir_rpt_doc_td(d, str(o, "actor"));
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Key");
	ir_rpt_doc_td(d, str(o, "key")[0] ? str(o, "key")
					   : "the recording (or today's rules)");
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Score");
	if (s)
		ir_rpt_doc_tdf(d, "%lld/100, %s%s%s",
			       (long long)ir_val_get_int(s, "score", 0),
			       ir_val_get_bool(s, "pass", false) ? "passed"
								 : "not passed",
			       ir_val_get_bool(s, "forbidden", false)
				       ? ", a forbidden answer"
				       : "",
			       ir_val_get_bool(s, "interrupted", false)
				       ? ", ended early"
				       : "");
	else
		ir_rpt_doc_td(d, "not scored (the drill did not finish)");
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_row(d, true);
	ir_rpt_doc_td(d, "Hints");
	ir_rpt_doc_tdf(d, "%lld", (long long)ir_val_get_int(s, "hints", 0));
	ir_rpt_doc_row(d, false);
	ir_rpt_doc_table_end(d);
}

static void
doc_answers(struct ir_rpt_doc *d, const struct drill_doc *dd)
{
	static const char *const h[] = { "Decision", "Question", "Answer",
					 "Original", "Verdict", "Rating",
					 "Latency", "Looked", "Hints", "Key" };
	char lat[IR_RPT_DUR_LEN];
	size_t i;

	ir_rpt_doc_heading(d, 2, "answers", "Answers");
	ir_rpt_doc_table(d, h, sizeof(h) / sizeof(*h));
	for (i = 0; i < dd->n_a; i++) {
		const struct answer *a = &dd->a[i];

		ir_rpt_dur(lat, ir_val_get_int(a->d, "latency_ms", 0));
		ir_rpt_doc_row(d, true);
		ir_rpt_doc_td(d, str(a->d, "decision"));
		ir_rpt_doc_td(d, str(a->d, "question"));
		ir_rpt_doc_td(d, str(a->d, "answer"));
		ir_rpt_doc_td(d, str(a->d, "recorded"));
		ir_rpt_doc_td(d, str(a->d, "verdict"));
		ir_rpt_doc_tdf(d, "%c", a->rating);
		ir_rpt_doc_td(d, lat);
		ir_rpt_doc_tdf(d, "%u", a->looked);
		ir_rpt_doc_tdf(d, "%u", a->hints);
		ir_rpt_doc_td(d, str(a->d, "key"));
		ir_rpt_doc_row(d, false);
	}
	ir_rpt_doc_table_end(d);
}

static void
doc_study(struct ir_rpt_doc *d, const struct drill_doc *dd)
{
	bool any = false;
	size_t i;

	ir_rpt_doc_heading(d, 2, "study", "What to study");
	for (i = 0; i < dd->n_a; i++) {
		const struct answer *a = &dd->a[i];

		if (a->rating == 'P')
			continue;
		if (!any)
			ir_rpt_doc_list(d, true, false);
		any = true;
		ir_rpt_doc_item(d, true);
		ir_rpt_doc_strong(d, str(a->d, "question"));
		ir_rpt_doc_textf(d, " (%c, %s): answered %s, the original %s. ",
				 a->rating, str(a->d, "verdict"),
				 str(a->d, "answer"), str(a->d, "recorded"));
		ir_rpt_doc_text(d, str(a->d, "study"));
		ir_rpt_doc_item(d, false);
	}
	if (any) {
		ir_rpt_doc_list(d, false, false);
	} else {
		ir_rpt_doc_para(d, true);
		ir_rpt_doc_text(d, "Every decision right and within par.");
		ir_rpt_doc_para(d, false);
	}
}

static json_t *
jstr(const char *s)
{
	return json_string(s ? s : "");
}

static int
drill_json(FILE *out, const struct drill_doc *dd, uint64_t id)
{
	const struct ir_val *o = dd->opened, *s = dd->scored;
	json_t *j = json_object(), *src = json_object(), *arr = json_array();
	size_t i;
	int rc;

	json_object_set_new(j, "incident", json_integer((json_int_t)id));
	json_object_set_new(j, "kind", json_string("drill"));
	json_object_set_new(src, "incident",
			    json_integer(ir_val_get_int(o, "source", 0)));
	json_object_set_new(src, "kind", jstr(str(o, "source_kind")));
	json_object_set_new(src, "status", jstr(str(o, "source_status")));
	json_object_set_new(src, "head", jstr(str(o, "source_head")));
	json_object_set_new(src, "seq",
			    json_integer(ir_val_get_int(o, "source_seq", 0)));
	json_object_set_new(j, "source", src);
	json_object_set_new(j, "trainee", jstr(str(o, "actor")));
	json_object_set_new(j, "key", jstr(str(o, "key")));
	json_object_set_new(j, "scored", json_boolean(s != NULL));
	json_object_set_new(j, "score", json_integer(ir_val_get_int(s, "score", 0)));
	json_object_set_new(j, "pass", json_boolean(ir_val_get_bool(s, "pass", false)));
	json_object_set_new(j, "forbidden",
			    json_boolean(ir_val_get_bool(s, "forbidden", false)));
	json_object_set_new(j, "hints", json_integer(ir_val_get_int(s, "hints", 0)));
	for (i = 0; i < dd->n_a; i++) {
		const struct answer *a = &dd->a[i];
		json_t *e = ir_jsonval_from(a->d);
		char r[2] = { a->rating, 0 };

		json_object_set_new(e, "rating", json_string(r));
		json_object_set_new(e, "looked", json_integer(a->looked));
		json_object_set_new(e, "hints", json_integer(a->hints));
		json_array_append_new(arr, e);
	}
	json_object_set_new(j, "answers", arr);
	rc = json_dumpf(j, out, JSON_INDENT(2) | JSON_SORT_KEYS) ? -EIO : 0;
	json_decref(j);
	if (!rc && fputc('\n', out) == EOF)
		rc = -EIO;
	return rc;
}

int
ir_rpt_drill(FILE *out, struct ir_evlog *log, uint64_t id,
	     enum ir_report_format fmt, struct ir_ctx *ctx)
{
	struct ir_event_list l = { 0 };
	struct drill_doc dd = { 0 };
	struct ir_rpt_doc d = { .out = out };
	int rc;

	d.esc = fmt == IR_REPORT_HTML ? IR_RPT_HTML : IR_RPT_MD;
	rc = ir_evlog_load(log, id, &l, ctx);
	dd.ev = l.ev;
	dd.n = l.n;
	if (!rc) {
		gather(&dd);
		if (fmt == IR_REPORT_JSON) {
			rc = drill_json(out, &dd, id);
		} else {
			if (fmt == IR_REPORT_HTML)
				ir_rpt_doc_raw(&d,
					       "<!DOCTYPE html>\n<html "
					       "lang=\"en\">\n<head>\n<meta "
					       "charset=\"utf-8\">\n<title>"
					       "drill</title>\n</head>\n<body>"
					       "\n");
			doc_summary(&d, &dd, id);
			doc_answers(&d, &dd);
			doc_study(&d, &dd);
			if (fmt == IR_REPORT_HTML)
				ir_rpt_doc_raw(&d, "</body>\n</html>\n");
			rc = ferror(out) ? -EIO : 0;
		}
	}
	ir_event_list_clear(&l);
	return rc;
}
