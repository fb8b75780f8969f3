/*
 * LMDB as the event log reaches it.  Private to the event log's parts:
 * evlog_open.c (the environment, its modes and its guards), evlog.c
 * (transactions, headers, appends) and evlog_scan.c (reading an
 * incident's events in order, with the chain check and a bounded
 * footprint): the only files that include <lmdb.h>.
 */
#ifndef IR_EVLOG_LIB_H
#define IR_EVLOG_LIB_H

#include <lmdb.h>
#include <signal.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "evlog.h"
#include "merkle.h"

struct ir_evlog {
	MDB_env *env;
	MDB_dbi events;
	MDB_dbi incidents;
	MDB_dbi meta;
	MDB_dbi ledger;
	bool has_ledger; /* false only for an old log opened read-only */
	uint8_t id[IR_EVLOG_ID_LEN];
	size_t mapsize;
	struct ir_buf scratch; /* encoded events of one append */
	size_t *offsets;
	uint8_t (*hashes)[IR_HASH_LEN]; /* of the events of one append */
	size_t offsets_cap;
	uintptr_t map_lo, map_hi; /* where LMDB maps data.mdb */
	char warning[256];     /* a finding at open that is no error */
	char dir[4096];        /* DATA_DIR/log */
};

/* LMDB mixes its own MDB_* codes with errno values: translate once. */
int ir_evlog_lmdb_error(struct ir_ctx *ctx, int native, const char *what);

/* A transaction (flags as mdb_txn_begin's), adopting a map grown by
 * another process. */
int ir_evlog_begin(struct ir_evlog *log, unsigned flags, MDB_txn **txn,
		   struct ir_ctx *ctx) IR_WUR;

/* The header of incident id in txn: -ENOENT when there is none. */
int ir_evlog_header_get(struct ir_evlog *log, MDB_txn *txn, uint64_t id,
			struct ir_incident *out, struct ir_ctx *ctx) IR_WUR;

/* Write the header of inc->id in txn: 0, a negative errno, or (for a full
 * map, which the caller grows and retries) a positive value. */
int ir_evlog_header_put(struct ir_evlog *log, MDB_txn *txn,
			const struct ir_incident *inc,
			struct ir_ctx *ctx) IR_WUR;

/* The header follows the events that define it: kind and opened from
 * incident.opened, from/target from target.chosen, status/closed from
 * incident.closed (events and head are the caller's). */
void ir_evlog_header_follow(struct ir_incident *inc,
			    const struct ir_event *ev);

/* A value of meta: in a write transaction the page may be one it has
 * already written, outside the map, so only its length is checked then,
 * by the caller. */
int ir_evlog_meta_get(struct ir_evlog *log, MDB_txn *txn, bool writing,
		      MDB_val *k, MDB_val *v);

/* The ledger (evlog.c writes it, evlog_ledger.c opens and reads it): open its database in the transaction that
 * opens the others (a log from before it enters it whole); load and store
 * its edge, and add one event's leaf through a cursor on log->ledger, all
 * in the appending transaction.  _add and _store return LMDB's codes. */
int ir_evlog_ledger_open(struct ir_evlog *log, MDB_txn *txn, bool rdonly,
			 struct ir_ctx *ctx) IR_WUR;
int ir_evlog_ledger_load(struct ir_evlog *log, MDB_txn *txn, bool writing,
			 struct ir_merkle_frontier *f,
			 struct ir_ctx *ctx) IR_WUR;
int ir_evlog_ledger_add(MDB_cursor *cur, struct ir_merkle_frontier *f,
			uint64_t id, uint64_t seq,
			const uint8_t hash[IR_HASH_LEN]) IR_WUR;
int ir_evlog_ledger_store(struct ir_evlog *log, MDB_txn *txn,
			  const struct ir_merkle_frontier *f) IR_WUR;

/* Where the map lies now (after an open or a change of the map size). */
void ir_evlog_note_map(struct ir_evlog *log);

/*
 * LMDB trusts its pages: a damaged one can send it through a wild
 * pointer.  Every call that walks pages goes through these, which count
 * the walk (ir_evlog_reading(), for the CLI's fault handler) and hold what
 * LMDB hands back to the map it came from (a damaged node's size would
 * otherwise send the decoder past it): MDB_CORRUPTED when it is not.
 */
extern volatile sig_atomic_t ir_evlog_walking;

static inline int
ir_evlog_in_map(const struct ir_evlog *log, const MDB_val *v)
{
	uintptr_t p = (uintptr_t)v->mv_data;

	return v->mv_size <= log->map_hi - log->map_lo && p >= log->map_lo &&
	       p <= log->map_hi - v->mv_size;
}

static inline int
ir_lmdb_got(const struct ir_evlog *log, int rc, const MDB_val *k,
	    const MDB_val *v)
{
	if (rc || !log->map_hi)
		return rc;
	if ((k && k->mv_size && !ir_evlog_in_map(log, k)) ||
	    (v && !ir_evlog_in_map(log, v)))
		return MDB_CORRUPTED;
	return 0;
}

static inline int
ir_evlog_walked(int rc)
{
	ir_evlog_walking--;
	return rc;
}

/* rc = IR_EVLOG_WALK(mdb_put(...)): the call, counted as a walk. */
#define IR_EVLOG_WALK(call) (ir_evlog_walking++, ir_evlog_walked(call))

static inline int
ir_lmdb_get(const struct ir_evlog *log, MDB_txn *txn, MDB_dbi dbi,
	    MDB_val *k, MDB_val *v)
{
	return ir_lmdb_got(log, IR_EVLOG_WALK(mdb_get(txn, dbi, k, v)), NULL,
			   v);
}

static inline int
ir_lmdb_cursor_get(const struct ir_evlog *log, MDB_cursor *cur, MDB_val *k,
		   MDB_val *v, MDB_cursor_op op)
{
	return ir_lmdb_got(log, IR_EVLOG_WALK(mdb_cursor_get(cur, k, v, op)),
			   k, v);
}

/* Keys are big-endian: incident id, then seq. */
static inline void
ir_evlog_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static inline uint64_t
ir_evlog_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
