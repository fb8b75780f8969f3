/*
 * The fleet's rules: pure functions of a snapshot of the fleet's keys
 * (struct ir_fleet_view, read by fleet.c), with no I/O and no clock of
 * their own.  What the leader does next (ir_fleet_next), what one node
 * does next (ir_fleet_node_next), and the plan's waves from the command
 * line (ir_fleet_plan_waves).
 */
#ifndef IR_FLEET_RULE_H
#define IR_FLEET_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IR_FLEET_NODES 64
#define IR_FLEET_NAME 64
#define IR_FLEET_WAVES 16

/* The plan, as written once under the fleet's plan key. */
struct ir_fleet_plan {
	int64_t rev;         /* the plan key's create_revision: its identity */
	char tag[256];
	char commit[48];     /* the target commit the statuses must name */
	char by[300];        /* user@host that planned */
	int64_t ts;          /* ns since the epoch, the planner's clock */
	size_t n_nodes;
	char node[IR_FLEET_NODES][IR_FLEET_NAME];
	unsigned wave_of[IR_FLEET_NODES]; /* 1-based */
	unsigned n_waves;
	unsigned max_unavailable;
	unsigned max_failures;
	uint64_t soak_ms;
	uint64_t stop_budget_ms; /* phase 0: every node stopped within it */
	/* The operator's decision, taken with the plan, for a node that has
	 * not answered the stop within its budget: abort the run (true) or
	 * go on without it, counted unknown. */
	bool unanswered_abort;
};

/* Fill p's nodes and waves from "a,b,c" and "1,2,rest" (each wave a
 * count of the nodes in order; "rest" takes what is left and must be
 * last; counts that do not add up to the nodes are refused).  0, or
 * -EINVAL with why. */
int ir_fleet_plan_waves(struct ir_fleet_plan *p, const char *nodes,
			const char *waves, char *why, size_t cap);
/* The plan's --unanswered, as the option is written: "proceed" or
 * "abort". */
const char *ir_fleet_unanswered(const struct ir_fleet_plan *p);
/* The index of node in p, -1 when p does not name it. */
int ir_fleet_plan_node(const struct ir_fleet_plan *p, const char *node);

/* One node as the snapshot shows it.  Status-like keys that are not for
 * this plan's revision (or name another target commit) count as absent
 * and set `stale`. */
struct ir_fleet_node_view {
	bool alive;          /* its leased heartbeat is there */
	bool in_slot;        /* it holds an in-flight slot */
	bool stopped;        /* phase 0 answered for this plan */
	char stop_status[16];
	bool reported;       /* a status for this plan and target commit */
	char status[16];     /* succeeded, failed, held */
	bool stale;          /* a status of another plan or commit */
	bool unknown;        /* the leader counted it unknown */
	char unknown_why[256];
	bool decided;        /* an operator decision was recorded for it */
	char decision_question[160];
	char decision_answer[8]; /* yes: go on without it; no: abort */
	uint64_t inc;        /* its rollback incident, from the status */
};

struct ir_fleet_view {
	bool have_plan;
	struct ir_fleet_plan plan;
	bool have_wave;
	unsigned wave;       /* 0: phase 0, the stop of every node */
	int64_t wave_ts;     /* when it began (the leader's clock) */
	bool wave_done;      /* the current wave finished at wave_done_ts */
	int64_t wave_done_ts;
	bool aborted;
	char abort_why[256];
	bool done;
	char done_status[16];
	unsigned slots_used;
	char leader[IR_FLEET_NAME];
	struct ir_fleet_node_view node[IR_FLEET_NODES];
};

enum ir_fleet_act {
	IR_FLEET_WAIT,         /* nothing to do until the keys change */
	IR_FLEET_START_WAVE,   /* put the wave key to `wave` */
	IR_FLEET_WAVE_DONE,    /* the wave finished: its soak begins */
	IR_FLEET_MARK_UNKNOWN, /* count `node` unknown (why) */
	IR_FLEET_ABORT,        /* put the abort key (why) */
	IR_FLEET_FINISH,       /* the run is over: `status` */
};

struct ir_fleet_next {
	enum ir_fleet_act act;
	unsigned wave;
	int node;
	char status[16];
	char why[256];
	/* MARK_UNKNOWN or ABORT that carries out an operator decision on
	 * `node`: the question it answers (answer: yes when it goes on). */
	bool decision;
	char question[160];
};

/* Failed, held or unknown nodes of the plan. */
unsigned ir_fleet_failures(const struct ir_fleet_view *v);
/* Whether node i is done with the current wave: a status for this plan
 * and commit, or counted unknown. */
bool ir_fleet_node_finished(const struct ir_fleet_view *v, size_t i);
/* What the leader does next at wall time now. */
void ir_fleet_next(const struct ir_fleet_view *v, int64_t now,
		   struct ir_fleet_next *out);

enum ir_fleet_node_act {
	IR_FLEET_NODE_IDLE,
	IR_FLEET_NODE_STOP,     /* phase 0: stop trading now */
	IR_FLEET_NODE_ROLLBACK, /* take a slot and roll back */
};

/* What node i does next; ran_stop / ran_rollback: this agent already did
 * it for this plan (so a key that vanished with a lease does not make it
 * run twice). */
enum ir_fleet_node_act ir_fleet_node_next(const struct ir_fleet_view *v,
					  size_t i, bool ran_stop,
					  bool ran_rollback);

#endif
