/*
 * Test hooks into the event log: built into a library of their own that
 * only the unit tests link, never into the incident binary.
 */
#ifndef IR_EVLOG_TESTHOOKS_H
#define IR_EVLOG_TESTHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "evlog.h"

/* Overwrite the stored bytes of one event in place (no chain update): a
 * tampering, for the tests that must catch it. */
int ir_evlog_poke(struct ir_evlog *log, uint64_t id, uint64_t seq,
		  const void *bytes, size_t len, struct ir_ctx *ctx) IR_WUR;

/* Overwrite the header of inc->id with *inc, events untouched: the edit
 * of a header field that `incident verify` must catch. */
int ir_evlog_set_header(struct ir_evlog *log, const struct ir_incident *inc,
			struct ir_ctx *ctx) IR_WUR;

/* Set the map size now (it still grows on demand). */
int ir_evlog_set_mapsize(struct ir_evlog *log, size_t bytes,
			 struct ir_ctx *ctx) IR_WUR;

/* An attacker's edits, each left consistent with itself (the incident
 * re-chained, its header following its events) for the tests that only
 * the ledger and its checkpoints can catch them: keep the first `keep`
 * events of incident id (0: delete it, header and all); set data.text of
 * event seq; rebuild the ledger from the events as they are now. */
int ir_evlog_cut(struct ir_evlog *log, uint64_t id, uint64_t keep,
		 struct ir_ctx *ctx) IR_WUR;
int ir_evlog_rewrite_text(struct ir_evlog *log, uint64_t id, uint64_t seq,
			  const char *text, struct ir_ctx *ctx) IR_WUR;
int ir_evlog_ledger_rebuild(struct ir_evlog *log, struct ir_ctx *ctx) IR_WUR;

#endif
