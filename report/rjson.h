/*
 * Internal to report/: the JSON pieces shared by the report, `show --json`
 * and `stats --json` (jansson stays inside report/).
 */
#ifndef IR_RPT_RJSON_H
#define IR_RPT_RJSON_H

#include <jansson.h>
#include <stdbool.h>

#include "model.h"

/* Output flags: sorted keys, so the same log gives the same bytes. */
#define IR_RPT_JSON_FLAGS (JSON_SORT_KEYS | JSON_INDENT(2))

/* A JSON builder that remembers a failed allocation instead of checking
 * every call. */
struct ir_rpt_jb {
	bool oom;
};

/* o[key] = v (reference stolen); NULL v or a failure marks b->oom. */
void ir_rpt_jset(struct ir_rpt_jb *b, json_t *o, const char *key, json_t *v);
void ir_rpt_jpush(struct ir_rpt_jb *b, json_t *a, json_t *v);
/* The same for a key that comes from the log (made safe first). */
void ir_rpt_jset_key(struct ir_rpt_jb *b, json_t *o, const char *key,
		     json_t *v);
/* A log string made safe (ir_rpt_clean); JSON null for NULL. */
json_t *ir_rpt_jstr(const char *s);
/* An integer, or null when absent (< 0 for ms, 0 for a seq). */
json_t *ir_rpt_jms(int64_t ms);
json_t *ir_rpt_jseq(uint64_t seq);
/* Clean every string (and key) of v in place; false when out of memory. */
bool ir_rpt_jclean(json_t *v);

/* Arrays and objects shared between outputs. */
json_t *ir_rpt_json_steps(struct ir_rpt_jb *b, const struct ir_rpt_model *m);
json_t *ir_rpt_json_metrics(struct ir_rpt_jb *b,
			    const struct ir_rpt_model *m);
json_t *ir_rpt_json_target(struct ir_rpt_jb *b, const struct ir_rpt_model *m);

/* Dump v to out with IR_RPT_JSON_FLAGS and a newline; -EIO. */
int ir_rpt_json_dump(FILE *out, json_t *v, size_t flags,
		     struct ir_ctx *ctx) IR_WUR;

#endif
