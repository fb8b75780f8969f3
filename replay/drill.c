/* Drills: the source's decisions and their key (see drill.h). */
#include "drill.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "gitops.h"
#include "hash.h"
#include "state.h"
#include "target.h"

#define DRILL_Q_TARGET "which target?"

static const char *const q_names[IR_DRILL__COUNT] = {
	"stop", "escalate", "backup", "target", "database",
};

const char *
ir_drill_q_name(enum ir_drill_q q)
{
	return q < IR_DRILL__COUNT ? q_names[q] : "?";
}

const char *
ir_drill_key_name(enum ir_drill_key_from k)
{
	switch (k) {
	case IR_DRILL_KEY_FILE:
		return "key file";
	case IR_DRILL_KEY_RECORDED:
		return "recorded answer";
	default:
		return "today's rule";
	}
}

const char *
ir_drill_verdict_name(enum ir_drill_verdict v)
{
	static const char *const names[] = { "correct", "partial", "wrong",
					     "forbidden", "unanswered" };

	return v <= IR_DRILL_UNANSWERED ? names[v] : "?";
}

/* ---- the source ---------------------------------------------------------- */

static bool
is(const struct ir_event *ev, const char *type, const char *step)
{
	return !strcmp(ev->type, type) && (!step || !strcmp(ev->step, step));
}

/* The last observation `what` of step before index at. */
static bool
gate(const struct ir_drill *d, size_t at, const char *what, const char *step,
     size_t *out)
{
	size_t i;

	for (i = at; i-- > 0;) {
		const struct ir_event *ev = &d->ev[i];
		const char *w = ir_val_get_str(ev->data, "what");

		if (is(ev, "observation", step) && w && !strcmp(w, what)) {
			*out = i;
			return true;
		}
	}
	return false;
}

static void
add(char list[][IR_DRILL_ANSWER_LEN], size_t *n, const char *answer)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(list[i], answer))
			return;
	if (*n < IR_DRILL_ANSWERS)
		snprintf(list[(*n)++], IR_DRILL_ANSWER_LEN, "%s", answer);
}

static bool
in(char list[][IR_DRILL_ANSWER_LEN], size_t n, const char *answer)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], answer))
			return true;
	return false;
}

static bool
asked(const struct ir_drill *d, enum ir_drill_q q)
{
	size_t i;

	for (i = 0; i < d->n_pts; i++)
		if (d->pts[i].q == q)
			return true;
	return false;
}

static struct ir_drill_point *
new_point(struct ir_drill *d, enum ir_drill_q q, size_t at)
{
	struct ir_drill_point *grown, *p;

	grown = realloc(d->pts, (d->n_pts + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	d->pts = grown;
	p = &d->pts[d->n_pts++];
	memset(p, 0, sizeof(*p));
	p->q = q;
	p->at = at;
	p->seq = d->ev[at].seq;
	return p;
}

/* The target's candidates: the recorded tags, newest first; the broken
 * one (deployed when the incident began) and the known-bad ones are
 * forbidden whatever the key says. */
static int
target_point(struct ir_drill *d, size_t at)
{
	const struct ir_event *ev = &d->ev[at];
	const struct ir_val *tags = NULL;
	struct ir_drill_point *p = new_point(d, IR_DRILL_TARGET, at);
	size_t g, i;

	if (!p)
		return -ENOMEM;
	p->question = DRILL_Q_TARGET;
	p->step = "checkout";
	snprintf(p->recorded, sizeof(p->recorded), "%s",
		 ir_val_get_str(ev->data, "to") ? ir_val_get_str(ev->data, "to")
						: "");
	snprintf(p->broken, sizeof(p->broken), "%s",
		 ir_val_get_str(ev->data, "from") ? ir_val_get_str(ev->data,
								   "from")
						  : "");
	if (gate(d, at, "tags", "checkout", &g)) {
		p->gates[p->n_gates++] = g;
		tags = ir_val_get(d->ev[g].data, "tags");
	}
	if (tags && tags->type == IR_VAL_ARRAY && tags->as.arr.len) {
		p->candidates = calloc(tags->as.arr.len, sizeof(*p->candidates));
		if (!p->candidates)
			return -ENOMEM;
		for (i = tags->as.arr.len; i-- > 0;) {
			const struct ir_val *t = &tags->as.arr.items[i];
			const char *name = ir_val_get_str(t, "tag");

			if (!name)
				continue;
			snprintf(p->candidates[p->n_candidates++],
				 IR_DRILL_ANSWER_LEN, "%s", name);
			if (ir_val_get_bool(t, "known_bad", false))
				add(p->standing, &p->n_standing, name);
		}
	}
	if (p->broken[0])
		add(p->standing, &p->n_standing, p->broken);
	return 0;
}

static int
decision_point(struct ir_drill *d, size_t at)
{
	const struct ir_event *ev = &d->ev[at];
	const char *question = ir_val_get_str(ev->data, "question");
	const char *answer = ir_val_get_str(ev->data, "answer");
	struct ir_drill_point *p;
	enum ir_drill_q q;
	size_t g;

	if (!question || !answer)
		return 0;
	if (!strcmp(question, IR_Q_TRADING))
		q = IR_DRILL_STOP;
	else if (!strcmp(question, IR_Q_ESCALATE))
		q = IR_DRILL_ESCALATE;
	else if (!strcmp(question, IR_Q_DATA))
		q = IR_DRILL_BACKUP;
	else if (!strcmp(question, IR_Q_DATABASE))
		q = IR_DRILL_DATABASE;
	else
		return 0;
	/* A resumed incident takes a decision again: it is asked once. */
	if (asked(d, q))
		return 0;
	p = new_point(d, q, at);
	if (!p)
		return -ENOMEM;
	p->question = ir_val_get_str(ev->data, "question");
	p->step = q == IR_DRILL_ESCALATE ? "stop" : q_names[q];
	snprintf(p->recorded, sizeof(p->recorded), "%s", answer);
	if ((q == IR_DRILL_STOP || q == IR_DRILL_ESCALATE) &&
	    gate(d, at, "process", "stop", &g)) {
		p->gates[p->n_gates++] = g;
		p->trading = (size_t)ir_val_get_int(d->ev[g].data, "count", 0);
	}
	if (q == IR_DRILL_DATABASE && gate(d, at, "config", "database", &g))
		p->gates[p->n_gates++] = g;
	if (q == IR_DRILL_STOP && p->trading)
		add(p->standing, &p->n_standing, "no");
	return 0;
}

/* ---- the key ------------------------------------------------------------- */

struct keyfile {
	struct ir_drill *d;
	bool seen[IR_DRILL__COUNT];
	struct ir_ctx *ctx;
	const char *path;
};

static int
key_entry(void *payload, const char *name, const char *value)
{
	struct keyfile *k = payload;
	const char *dot = strchr(name, '.');
	size_t i, len = dot ? (size_t)(dot - name) : 0;
	int q;

	for (q = 0; q < IR_DRILL__COUNT; q++)
		if (len == strlen(q_names[q]) && !strncmp(name, q_names[q], len))
			break;
	if (q == IR_DRILL__COUNT || !value)
		return ir_error_set(k->ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "%s: \"%s\" is no drill key (sections: "
				    "stop, escalate, backup, target, "
				    "database; keys: accept, partial, "
				    "forbid)",
				    k->path, name);
	for (i = 0; i < k->d->n_pts; i++) {
		struct ir_drill_point *p = &k->d->pts[i];

		if (p->q != (enum ir_drill_q)q)
			continue;
		if (!k->seen[q]) {
			/* The file's answers replace the others; the
			 * standing rules stay. */
			p->n_accept = p->n_partial = 0;
			p->key_from = IR_DRILL_KEY_FILE;
		}
		if (!strcmp(dot + 1, "accept"))
			add(p->accept, &p->n_accept, value);
		else if (!strcmp(dot + 1, "partial"))
			add(p->partial, &p->n_partial, value);
		else if (!strcmp(dot + 1, "forbid"))
			add(p->forbid, &p->n_forbid, value);
		else
			return ir_error_set(k->ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
					    "%s: \"%s\": the keys are accept, "
					    "partial and forbid",
					    k->path, name);
	}
	k->seen[q] = true;
	return 0;
}

static bool
corrected(const struct ir_drill *d, uint64_t seq)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (is(&d->ev[i], "note", NULL) &&
		    (uint64_t)ir_val_get_int(d->ev[i].data, "corrects", 0) ==
			    seq)
			return true;
	return false;
}

/* Today's rule over the recorded inputs (the simulate machinery). */
static void
planner_key(const struct ir_drill *d, struct ir_drill_point *p)
{
	const struct ir_val *opts = ir_val_get(d->ev[0].data, "options");
	struct ir_decide_input in = { .kind = d->kind };
	struct ir_decision out;
	enum ir_step step = IR_STEP_NONE;

	switch (p->q) {
	case IR_DRILL_STOP:
		step = IR_STEP_STOP;
		in.trading = p->trading;
		break;
	case IR_DRILL_BACKUP:
		step = IR_STEP_BACKUP;
		in.no_backup = ir_val_get_bool(opts, "no_backup", false);
		break;
	case IR_DRILL_DATABASE: {
		const struct ir_val *c =
			p->n_gates ? d->ev[p->gates[0]].data : NULL;

		step = IR_STEP_DATABASE;
		in.db_configured = ir_val_get_bool(c, "database_restore", false);
		in.db_on_rollback = ir_val_get_bool(c, "on_rollback", false);
		in.with_db = ir_val_get_bool(opts, "with_db", false);
		break;
	}
	case IR_DRILL_ESCALATE:
		/* The source escalated because processes outlived the stop:
		 * the rule escalates then. */
		add(p->accept, &p->n_accept, "yes");
		return;
	case IR_DRILL_TARGET: {
		struct ir_target_input tin;
		struct ir_tag_input *tags = NULL, asked_tag;
		struct ir_target t = { 0 };
		struct ir_ctx ignored = { 0 };

		if (p->n_gates &&
		    !ir_target_read(d->ev[p->gates[0]].data, &tin, &tags,
				    &asked_tag) &&
		    !ir_target_choose(&tin, &t, &ignored))
			add(p->accept, &p->n_accept, t.to);
		else
			add(p->accept, &p->n_accept, p->recorded);
		ir_val_free(t.skipped);
		free(tags);
		return;
	}
	default:
		return;
	}
	if (!ir_decide(step, &in, &out))
		add(p->accept, &p->n_accept, out.yes ? "yes" : "no");
}

static void
default_key(const struct ir_drill *d, struct ir_drill_point *p)
{
	if (!strcmp(d->status, "succeeded") && !corrected(d, p->seq)) {
		p->key_from = IR_DRILL_KEY_RECORDED;
		add(p->accept, &p->n_accept, p->recorded);
	} else {
		p->key_from = IR_DRILL_KEY_PLANNER;
		planner_key(d, p);
	}
}

int
ir_drill_load(struct ir_evlog *log, uint64_t id, const char *key_path,
	      struct ir_drill *d, struct ir_ctx *ctx)
{
	struct ir_event_list src = { 0 };
	struct ir_incident inc;
	size_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	d->source = id;
	rc = ir_evlog_incident(log, id, &inc, ctx);
	if (rc)
		return rc;
	snprintf(d->kind, sizeof(d->kind), "%s", inc.kind);
	snprintf(d->status, sizeof(d->status), "%s", inc.status);
	ir_hex(d->head, inc.head, sizeof(inc.head));
	d->head_seq = inc.events;
	if (!strcmp(inc.kind, "drill"))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "INC-%llu is itself a drill",
				    (unsigned long long)id);
	if (!strcmp(inc.status, "open"))
		return ir_error_set(ctx, -EBUSY, IR_ORIGIN_USAGE, 0,
				    "INC-%llu is still open: a drill is made "
				    "from a closed incident",
				    (unsigned long long)id);
	rc = ir_evlog_load(log, id, &src, ctx);
	d->ev = src.ev;
	d->n = src.n;
	d->cap = src.cap;
	if (rc)
		return rc;
	if (d->n)
		d->budget_ms = (uint64_t)ir_val_get_int(d->ev[0].data,
							"budget_ms", 0);
	for (i = 1; i < d->n && !rc; i++) {
		if (is(&d->ev[i], "decision", NULL))
			rc = decision_point(d, i);
		else if (is(&d->ev[i], "target.chosen", NULL) &&
			 !asked(d, IR_DRILL_TARGET))
			rc = target_point(d, i);
	}
	if (rc)
		return rc;
	if (!d->n_pts)
		return ir_error_set(ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
				    "INC-%llu (%s) took no decision to drill",
				    (unsigned long long)id, d->kind);
	for (i = 0; i < d->n_pts; i++)
		default_key(d, &d->pts[i]);
	if (key_path) {
		struct keyfile k = { .d = d, .ctx = ctx, .path = key_path };

		rc = ir_gitcfg_read(key_path, key_entry, &k, ctx);
		if (rc == -ENOENT)
			return ir_error_set(ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
					    "no key file \"%s\"", key_path);
		if (rc)
			return rc;
	}
	return 0;
}

void
ir_drill_clear(struct ir_drill *d)
{
	struct ir_event_list src = { d->ev, d->n, d->cap, false };
	size_t i;

	ir_event_list_clear(&src);
	for (i = 0; i < d->n_pts; i++)
		free(d->pts[i].candidates);
	free(d->pts);
	memset(d, 0, sizeof(*d));
}

/* ---- asking --------------------------------------------------------------- */

const char *
ir_drill_hint(const struct ir_drill_point *p)
{
	switch (p->q) {
	case IR_DRILL_STOP:
		return "look at the process observation: does anything match "
		       "stop.process? Nothing else is safe while it trades.";
	case IR_DRILL_ESCALATE:
		return "the stop command has ended: are trading processes "
		       "still there?";
	case IR_DRILL_BACKUP:
		return "the rollback is about to change the deployment: was "
		       "--no-backup given?";
	case IR_DRILL_TARGET:
		return "the newest deploy tag older than the deployed one "
		       "that is not known-bad";
	case IR_DRILL_DATABASE:
		return "is database.restore configured, and was --with-db "
		       "given (or database.on-rollback set)?";
	default:
		return "";
	}
}

bool
ir_drill_parse(const struct ir_drill_point *p, const char *typed, char *out,
	       size_t cap)
{
	char word[IR_DRILL_ANSWER_LEN];
	size_t len, i;
	char *end;

	while (isspace((unsigned char)*typed))
		typed++;
	len = strlen(typed);
	while (len && isspace((unsigned char)typed[len - 1]))
		len--;
	if (!len || len >= sizeof(word))
		return false;
	memcpy(word, typed, len);
	word[len] = '\0';
	if (p->q != IR_DRILL_TARGET) {
		if (!strcasecmp(word, "y") || !strcasecmp(word, "yes"))
			snprintf(out, cap, "yes");
		else if (!strcasecmp(word, "n") || !strcasecmp(word, "no"))
			snprintf(out, cap, "no");
		else
			return false;
		return true;
	}
	i = (size_t)strtoul(word, &end, 10);
	if (!*end && i >= 1 && i <= p->n_candidates) {
		snprintf(out, cap, "%s", p->candidates[i - 1]);
		return true;
	}
	/* Any tag name: the candidates are the window the choice read,
	 * and an answer outside it is judged like any other. */
	if (strspn(word, "0123456789") == len)
		return false;
	snprintf(out, cap, "%s", word);
	return true;
}

enum ir_drill_verdict
ir_drill_judge(const struct ir_drill_point *p, const char *answer,
	       bool backup_no)
{
	if (!answer)
		return IR_DRILL_UNANSWERED;
	if (in((char(*)[IR_DRILL_ANSWER_LEN])p->forbid, p->n_forbid, answer))
		return IR_DRILL_FORBIDDEN;
	if (in((char(*)[IR_DRILL_ANSWER_LEN])p->accept, p->n_accept, answer))
		return IR_DRILL_CORRECT;
	if (in((char(*)[IR_DRILL_ANSWER_LEN])p->standing, p->n_standing,
	       answer) ||
	    (p->q == IR_DRILL_DATABASE && backup_no && !strcmp(answer, "yes")))
		return IR_DRILL_FORBIDDEN;
	if (in((char(*)[IR_DRILL_ANSWER_LEN])p->partial, p->n_partial, answer))
		return IR_DRILL_PARTIAL;
	return IR_DRILL_WRONG;
}
