#include "fleet_rule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *
ir_fleet_unanswered(const struct ir_fleet_plan *p)
{
	return p->unanswered_abort ? "abort" : "proceed";
}

int
ir_fleet_plan_node(const struct ir_fleet_plan *p, const char *node)
{
	size_t i;

	for (i = 0; i < p->n_nodes; i++)
		if (!strcmp(p->node[i], node))
			return (int)i;
	return -1;
}

static int
split_nodes(struct ir_fleet_plan *p, const char *nodes, char *why,
	    size_t cap)
{
	const char *s = nodes;

	p->n_nodes = 0;
	while (*s) {
		size_t len = strcspn(s, ",");

		if (!len || len >= IR_FLEET_NAME || strspn(s, "abcdefghijklmn"
			"opqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
			< len) {
			snprintf(why, cap, "--nodes: \"%.*s\" is not a node name "
				 "(letters, digits, . _ -; under %d bytes)",
				 (int)len, s, IR_FLEET_NAME);
			return -EINVAL;
		}
		if (p->n_nodes == IR_FLEET_NODES) {
			snprintf(why, cap, "--nodes: more than %d nodes",
				 IR_FLEET_NODES);
			return -EINVAL;
		}
		memcpy(p->node[p->n_nodes], s, len);
		p->node[p->n_nodes][len] = '\0';
		if (ir_fleet_plan_node(p, p->node[p->n_nodes]) >= 0) {
			snprintf(why, cap, "--nodes: \"%s\" twice",
				 p->node[p->n_nodes]);
			return -EINVAL;
		}
		p->n_nodes++;
		s += len;
		if (*s == ',')
			s++;
	}
	if (!p->n_nodes) {
		snprintf(why, cap, "--nodes: no node named");
		return -EINVAL;
	}
	return 0;
}

int
ir_fleet_plan_waves(struct ir_fleet_plan *p, const char *nodes,
		    const char *waves, char *why, size_t cap)
{
	const char *s = waves;
	size_t next = 0;
	int rc = split_nodes(p, nodes, why, cap);

	if (rc)
		return rc;
	p->n_waves = 0;
	while (*s && next < p->n_nodes) {
		size_t len = strcspn(s, ","), count, i;
		char *end;

		if (p->n_waves == IR_FLEET_WAVES) {
			snprintf(why, cap, "--waves: more than %d waves",
				 IR_FLEET_WAVES);
			return -EINVAL;
		}
		if (len == 4 && !strncmp(s, "rest", 4)) {
			count = p->n_nodes - next;
			if (s[4]) {
				snprintf(why, cap, "--waves: \"rest\" must be "
				       "the last wave");
				return -EINVAL;
			}
		} else {
			count = strtoul(s, &end, 10);
			if (end != s + len || !count) {
				snprintf(why, cap, "--waves: \"%.*s\" is not a "
				       "count of nodes (or \"rest\")",
				       (int)len, s);
				return -EINVAL;
			}
			if (count > p->n_nodes - next)
				count = p->n_nodes - next;
		}
		p->n_waves++;
		for (i = 0; i < count; i++)
			p->wave_of[next++] = p->n_waves;
		s += len;
		if (*s == ',')
			s++;
	}
	if (next < p->n_nodes) {
		snprintf(why, cap, "--waves %s covers %zu of the %zu nodes "
			 "(end it with \"rest\")",
			 waves, next, p->n_nodes);
		return -EINVAL;
	}
	if (*s) {
		snprintf(why, cap, "--waves %s has waves left after every "
			 "node is placed", waves);
		return -EINVAL;
	}
	return 0;
}

unsigned
ir_fleet_failures(const struct ir_fleet_view *v)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < v->plan.n_nodes; i++) {
		const struct ir_fleet_node_view *x = &v->node[i];

		if (x->unknown ||
		    (x->reported && strcmp(x->status, "succeeded")))
			n++;
	}
	return n;
}

bool
ir_fleet_node_finished(const struct ir_fleet_view *v, size_t i)
{
	return v->node[i].reported || v->node[i].unknown;
}

static void IR_PRINTF(3, 4)
act(struct ir_fleet_next *out, enum ir_fleet_act a, const char *fmt, ...)
{
	va_list ap;

	out->act = a;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* Phase 0: every node stopped (or counted unknown once the stop budget is
 * spent), then wave 1. */
static void
next_phase0(const struct ir_fleet_view *v, int64_t now,
	    struct ir_fleet_next *out)
{
	const struct ir_fleet_plan *p = &v->plan;
	int64_t budget_ns = (int64_t)p->stop_budget_ms * 1000000;
	size_t i;

	for (i = 0; i < p->n_nodes; i++) {
		const struct ir_fleet_node_view *x = &v->node[i];

		if (x->stopped || x->unknown)
			continue;
		if (now - v->wave_ts < budget_ns)
			return;
		/* Not answered: the operator's decision, as the plan has it,
		 * is carried out and recorded. */
		out->node = (int)i;
		out->decision = true;
		snprintf(out->question, sizeof(out->question),
			 "%s did not answer the stop within %llu ms: go on "
			 "without it?",
			 p->node[i], (unsigned long long)p->stop_budget_ms);
		if (p->unanswered_abort)
			act(out, IR_FLEET_ABORT,
			    "%s did not answer the stop within %llu ms: the "
			    "operator's decision (--unanswered abort, %s) is "
			    "to abort",
			    p->node[i], (unsigned long long)p->stop_budget_ms,
			    p->by);
		else
			act(out, IR_FLEET_MARK_UNKNOWN,
			    "did not answer the stop within %llu ms: the "
			    "operator's decision (--unanswered proceed, %s) is "
			    "to go on without it",
			    (unsigned long long)p->stop_budget_ms, p->by);
		return;
	}
	out->wave = 1;
	act(out, IR_FLEET_START_WAVE, "every node answered the stop");
}

void
ir_fleet_next(const struct ir_fleet_view *v, int64_t now,
	      struct ir_fleet_next *out)
{
	const struct ir_fleet_plan *p = &v->plan;
	unsigned failures;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->node = -1;
	out->act = IR_FLEET_WAIT;
	if (!v->have_plan || v->done)
		return;
	if (!v->have_wave) {
		act(out, IR_FLEET_START_WAVE, "the plan begins: stop every "
		    "node");
		return;
	}
	if (v->aborted) {
		/* Nodes in flight finish their step and hold; the run is
		 * over once none is. */
		if (v->slots_used)
			return;
		snprintf(out->status, sizeof(out->status), "aborted");
		act(out, IR_FLEET_FINISH, "%s", v->abort_why);
		return;
	}
	failures = ir_fleet_failures(v);
	if (failures > p->max_failures) {
		act(out, IR_FLEET_ABORT,
		    "%u node%s failed or unknown, more than --max-failures %u",
		    failures, failures == 1 ? "" : "s", p->max_failures);
		return;
	}
	if (v->wave == 0) {
		next_phase0(v, now, out);
		return;
	}
	for (i = 0; i < p->n_nodes; i++) {
		const struct ir_fleet_node_view *x = &v->node[i];

		if (p->wave_of[i] != v->wave || ir_fleet_node_finished(v, i))
			continue;
		if (!x->alive && !x->in_slot) {
			out->node = (int)i;
			act(out, IR_FLEET_MARK_UNKNOWN,
			    "no heartbeat and no slot in wave %u", v->wave);
			return;
		}
		return; /* pending or in flight */
	}
	if (!v->wave_done) {
		out->wave = v->wave;
		act(out, IR_FLEET_WAVE_DONE, "every node of wave %u reported "
		    "for plan %lld", v->wave, (long long)p->rev);
		return;
	}
	if (now - v->wave_done_ts < (int64_t)p->soak_ms * 1000000)
		return;
	if (v->wave < p->n_waves) {
		out->wave = v->wave + 1;
		act(out, IR_FLEET_START_WAVE, "wave %u soaked", v->wave);
		return;
	}
	snprintf(out->status, sizeof(out->status), "%s",
		 failures ? "failed" : "succeeded");
	act(out, IR_FLEET_FINISH, "the last wave soaked; %u failure%s",
	    failures, failures == 1 ? "" : "s");
}

enum ir_fleet_node_act
ir_fleet_node_next(const struct ir_fleet_view *v, size_t i, bool ran_stop,
		   bool ran_rollback)
{
	const struct ir_fleet_node_view *x = &v->node[i];

	if (!v->have_plan || v->done || x->unknown)
		return IR_FLEET_NODE_IDLE;
	/* The stop is the safety action: even under an abort. */
	if (!x->stopped && !ran_stop)
		return IR_FLEET_NODE_STOP;
	if (v->aborted || !v->have_wave || v->wave == 0 ||
	    v->plan.wave_of[i] != v->wave)
		return IR_FLEET_NODE_IDLE;
	if (x->reported || x->in_slot || ran_rollback)
		return IR_FLEET_NODE_IDLE;
	return IR_FLEET_NODE_ROLLBACK;
}
