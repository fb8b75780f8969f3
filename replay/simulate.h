/*
 * simulate: today's fold, planner, decision rules and target choice run
 * against a recorded incident.  Nothing is touched: every input comes from
 * the recording (observations, outcomes, interrupts, resumes), and at
 * every point where the recording acted, what it did is compared with what
 * today's code would do.  Outcomes are taken from the recording (the steps'
 * own logic is not re-run).
 */
#ifndef IR_SIMULATE_H
#define IR_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "error.h"
#include "config.h"
#include "evlog.h"
#include "runbook.h"

enum ir_sim_kind {
	IR_SIM_MISSING,      /* the recording acted; today's plan would not */
	IR_SIM_EXTRA,        /* today's plan acts where the recording closed */
	IR_SIM_MISMATCH,     /* the same place, another action or identity */
	IR_SIM_ANSWER,       /* the same question and inputs, another answer */
	IR_SIM_UNREPLAYABLE, /* broken chain, or an input the log lacks */
};

const char *ir_sim_kind_name(enum ir_sim_kind kind);

/* One action, as the recording made it or as today's code would. */
struct ir_sim_action {
	char action[16]; /* decide, skip, run, recover, close, choose, none,
			    halt */
	char step[16];
	char detail[600]; /* the answer, the status, the target ... */
};

#define IR_SIM_BEFORE 3
#define IR_SIM_INPUTS 4

struct ir_sim_divergence {
	enum ir_sim_kind kind;
	uint64_t seq;
	char step[16];
	uint64_t mono; /* ns since the incident opened */
	struct ir_sim_action recorded, actual;
	uint64_t inputs[IR_SIM_INPUTS]; /* seqs of the events it read */
	size_t n_inputs;
	uint64_t before[IR_SIM_BEFORE];
	size_t n_before;
	char why[512];
};

struct ir_sim_result {
	uint64_t id;
	char kind[16];
	size_t events, compared;
	/* Whether commands were compared (see ir_sim_opts.cfg), and why
	 * not when they were not. */
	bool commands;
	char commands_why[160];
	struct ir_sim_divergence *div;
	size_t n_div;
	bool unreplayable;
};

struct ir_sim_opts {
	bool keep_going; /* list every divergence, not the first */
	uint64_t until;  /* compare up to this seq (0: all) */
	/* Today's configuration: each command a step started (and the
	 * escalation) is compared with the one it names for that step, when
	 * the incident was recorded under the same configuration (by its
	 * SHA-256 in incident.opened), so that today's code, not an edited
	 * file, is what is tried.  NULL: commands are not compared. */
	const struct ir_config *cfg;
	/* Stand-ins, for tests (NULL: today's ir_runbook_next, ir_decide,
	 * ir_target_choose). */
	struct ir_action (*plan)(const struct ir_state *st);
	int (*decide)(enum ir_step step, const struct ir_decide_input *in,
		      struct ir_decision *out);
};

/* Simulate incident id.  0 with *out filled (out->n_div == 0: the same);
 * a negative errno when the log cannot be read at all.  A broken chain is
 * a result (unreplayable), not an error.  Clear out afterwards. */
int ir_simulate(struct ir_evlog *log, uint64_t id,
		const struct ir_sim_opts *opts, struct ir_sim_result *out,
		struct ir_ctx *ctx) IR_WUR;
void ir_sim_result_clear(struct ir_sim_result *r);

/* Whether incidents of kind carry out a runbook (mark ones do not). */
bool ir_sim_kind_has_runbook(const char *kind);

#endif
