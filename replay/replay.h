/*
 * Replay: recorded events fed with their recorded timing (scaled, idle
 * gaps capped) to a consumer, normally the terminal renderer.  Export of an
 * incident as JSON lines.
 */
#ifndef IR_REPLAY_H
#define IR_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "error.h"
#include "evlog.h"

struct ir_replay_opts {
	double speed;    /* 1.0: real time; 10: ten times faster */
	double max_idle; /* seconds: longer (scaled) gaps are cut to this */
	void (*on_event)(void *payload, const struct ir_event *ev);
	void (*on_tick)(void *payload, uint64_t mono); /* while waiting */
	void *payload;
	/* At each marker (marker.h), after its event, and last the chain
	 * head's; time spent in the call (a pause) does not count against
	 * the replay's schedule.  NULL: none. */
	void (*on_marker)(void *payload, uint64_t mono, const char *label);
};

#define IR_REPLAY_OPTS_INIT { 1.0, 2.0, NULL, NULL, NULL, NULL }

/* Real time a recorded gap (ns) takes at speed: scaled, then cut to
 * max_idle seconds.  The replay's rule, which the drill plays by too. */
uint64_t ir_replay_gap_ns(double speed, double max_idle, uint64_t gap_rec);

/* Replay incident id.  -EINVAL for speed <= 0 or max_idle < 0; -EBADMSG
 * (ctx names incident and seq) for a tampered incident, before any event
 * is played. */
int ir_replay_run(struct ir_evlog *log, uint64_t id,
		  const struct ir_replay_opts *opts, struct ir_ctx *ctx) IR_WUR;

/* One JSON object per event and line (binary fields hex), streamed. */
int ir_export_jsonl(FILE *out, struct ir_evlog *log, uint64_t id,
		    struct ir_ctx *ctx) IR_WUR;

#endif
