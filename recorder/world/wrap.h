/*
 * Wrapping a world table: a wrapper starts as a table that forwards every
 * operation to `inner` (with inner's self), then replaces the ones it
 * changes.  Its own operations get the wrapper as self.
 */
#ifndef IR_WRAP_H
#define IR_WRAP_H

#include "effects.h"

struct ir_effects_wrap {
	struct ir_effects table; /* use this one */
	const struct ir_effects *inner;
};

/* Forward everything to inner; w must be the first member of a wrapper
 * that replaces operations. */
void ir_effects_wrap_init(struct ir_effects_wrap *w,
			  const struct ir_effects *inner);

/*
 * A wrapper that adds up the time spent waiting on the world: child
 * processes, sleeps, HTTP requests, group reaping.  What is left of an
 * incident's wall time is the tool's own overhead.
 */
struct ir_effects_timer {
	struct ir_effects_wrap wrap; /* use wrap.table */
	uint64_t wait_ns;
};

void ir_effects_timer_init(struct ir_effects_timer *t,
			   const struct ir_effects *inner);

#endif
