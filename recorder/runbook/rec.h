/*
 * The recorder: appends an incident's events (durably, in order), keeps
 * the incident's state as the fold of them, and lets its caller subscribe
 * to events as they are appended (the live display is such a subscriber).
 *
 * incident.opened/resumed/interrupted/closed, step.started,
 * step.escalated, note and restore.completed are committed before
 * ir_rec_emit() returns; the other
 * events (decisions, observations, step outcomes, backup.created, output)
 * are group-committed with the next of those, or after
 * IR_LIMIT_OUTPUT_BATCH events or IR_LIMIT_OUTPUT_BATCH_MS (ir_rec_tick),
 * never reordered.  Callers flush (ir_rec_flush) before any effect that no
 * step.started precedes.  Every event is folded into the state and handed
 * to the subscribers when it is emitted, committed or not.
 */
#ifndef IR_REC_H
#define IR_REC_H

#include <stdint.h>

#include "effects.h"
#include "error.h"
#include "evlog.h"
#include "state.h"
#include "value.h"

struct ir_rec;

typedef void (*ir_rec_sub_fn)(void *payload, const struct ir_event *ev);

/* A recorder over log with clocks from fx; both are borrowed. */
int ir_rec_new(struct ir_rec **out, struct ir_evlog *log,
	       const struct ir_effects *fx) IR_WUR;
/* Plan: from now on nothing reaches the log.  Events are folded and
 * handed to the subscribers as ever; a new incident is numbered as the
 * log would number it next; attaching still reads the log.  The dry run
 * records its planned incident this way. */
void ir_rec_plan(struct ir_rec *rec);
/* Flushes pending output (errors are lost: call ir_rec_flush first). */
void ir_rec_free(struct ir_rec *rec);

/* Subscribe before opening or attaching; at most 4 subscribers.  On
 * attach, subscribers are fed the existing events first. */
int ir_rec_subscribe(struct ir_rec *rec, ir_rec_sub_fn fn,
		     void *payload) IR_WUR;

/* Called by ir_rec_tick() with the incident's mono clock (ns), so a live
 * display can redraw its timers while a step waits.  One hook. */
void ir_rec_on_tick(struct ir_rec *rec, void (*fn)(void *payload,
						   uint64_t mono),
		    void *payload);

/* Open a new incident of `kind`; data (taken) becomes incident.opened's
 * data, with kind added. */
int ir_rec_open(struct ir_rec *rec, const char *kind, struct ir_val *data,
		struct ir_ctx *ctx) IR_WUR;

/* Attach to an existing incident: fold its events (which are fed to the
 * subscribers) and continue its mono clock. */
int ir_rec_attach(struct ir_rec *rec, uint64_t id, struct ir_ctx *ctx) IR_WUR;

/* Append an event; data (a map, may be NULL) is taken in every case. */
int ir_rec_emit(struct ir_rec *rec, const char *type, const char *step,
		struct ir_val *data, struct ir_ctx *ctx) IR_WUR;

/* Commit the pending events now. */
int ir_rec_flush(struct ir_rec *rec, struct ir_ctx *ctx) IR_WUR;
/* Commit pending output if it has waited IR_LIMIT_OUTPUT_BATCH_MS; call
 * the tick hook.  Steps call this while they wait. */
int ir_rec_tick(struct ir_rec *rec, struct ir_ctx *ctx) IR_WUR;

uint64_t ir_rec_id(const struct ir_rec *rec);
const struct ir_state *ir_rec_state(const struct ir_rec *rec);
/* ns since the incident opened, by the recorder's clock. */
uint64_t ir_rec_mono(const struct ir_rec *rec);
struct ir_evlog *ir_rec_log(const struct ir_rec *rec);

#endif
