/*
 * The ledger: one Merkle tree (merkle.h) over every event of every
 * incident, in commit order, in the log's own LMDB environment.  Its
 * leaves (db `ledger`, key the leaf's index as a big-endian u64) name an
 * event by incident id and seq and hold the SHA-256 of its stored bytes;
 * the tree's right edge (meta `ledger`) is written in the transaction
 * that appends, so the tree and the events can never disagree by a crash.
 * The per-incident chains stay: the ledger adds what they cannot show,
 * a cut tail, a rewritten incident, a deleted one, once its root has
 * been signed and kept somewhere else (a checkpoint).
 */
#include "evlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "evlog_lib.h"

static const MDB_val frontier_key = { 6, "ledger" };
static const MDB_val log_id_key = { 6, "log_id" };

/* A log written before the ledger: its events enter it once, in the
 * order of their keys (incident, then seq), the first time it is opened
 * to write. */
static int
backfill(struct ir_evlog *log, MDB_txn *txn, struct ir_ctx *ctx)
{
	MDB_cursor *ev = NULL, *led = NULL;
	struct ir_merkle_frontier f;
	uint8_t hash[IR_HASH_LEN];
	MDB_val k, v;
	int rc;

	ir_merkle_frontier_init(&f);
	rc = mdb_cursor_open(txn, log->events, &ev);
	if (!rc)
		rc = mdb_cursor_open(txn, log->ledger, &led);
	while (!rc) {
		rc = ir_lmdb_cursor_get(log, ev, &k, &v, f.size ? MDB_NEXT
								: MDB_FIRST);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (k.mv_size != 16) {
			rc = MDB_CORRUPTED;
			break;
		}
		ir_evlog_walking++;
		ir_sha256(hash, v.mv_data, v.mv_size);
		ir_evlog_walking--;
		rc = ir_evlog_ledger_add(led, &f,
					 ir_evlog_get_be64(k.mv_data),
					 ir_evlog_get_be64((uint8_t *)k.mv_data +
							   8),
					 hash);
	}
	if (led)
		mdb_cursor_close(led);
	if (ev)
		mdb_cursor_close(ev);
	if (!rc)
		rc = ir_evlog_ledger_store(log, txn, &f);
	if (rc == MDB_MAP_FULL)
		return ir_error_set(ctx, -ENOSPC, IR_ORIGIN_LMDB, rc,
				    "event log: no room to start the ledger");
	return rc ? ir_evlog_lmdb_error(ctx, rc, "start the ledger") : 0;
}

int
ir_evlog_ledger_open(struct ir_evlog *log, MDB_txn *txn, bool rdonly,
		     struct ir_ctx *ctx)
{
	MDB_val k = frontier_key, v;
	uint8_t id[IR_EVLOG_ID_LEN];
	int rc;

	rc = IR_EVLOG_WALK(mdb_dbi_open(txn, "ledger",
					rdonly ? 0 : MDB_CREATE,
					&log->ledger));
	if (rc == MDB_NOTFOUND && rdonly)
		return 0; /* a log from before the ledger, read as it is */
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "open the ledger");
	log->has_ledger = true;
	k = log_id_key;
	rc = ir_evlog_meta_get(log, txn, !rdonly, &k, &v);
	if (!rc && v.mv_size == IR_EVLOG_ID_LEN) {
		ir_evlog_walking++;
		memcpy(log->id, v.mv_data, IR_EVLOG_ID_LEN);
		ir_evlog_walking--;
	} else if (rc == MDB_NOTFOUND && !rdonly) {
		if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
			return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
					    "event log: no random bytes for "
					    "its id");
		memcpy(log->id, id, sizeof(id));
		v.mv_size = sizeof(id);
		v.mv_data = id;
		rc = IR_EVLOG_WALK(mdb_put(txn, log->meta, &k, &v, 0));
		if (rc)
			return ir_evlog_lmdb_error(ctx, rc, "log id");
	} else if (rc && rc != MDB_NOTFOUND) {
		return ir_evlog_lmdb_error(ctx, rc, "log id");
	}
	if (rdonly)
		return 0;
	k = frontier_key;
	rc = ir_evlog_meta_get(log, txn, true, &k, &v);
	if (rc == MDB_NOTFOUND)
		return backfill(log, txn, ctx);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "read the ledger") : 0;
}

static int
no_ledger(struct ir_evlog *log, struct ir_ctx *ctx)
{
	return ir_error_set(ctx, -ENOENT, IR_ORIGIN_LMDB, 0,
			    "the event log %s has no ledger yet (it was "
			    "written by an older incident and opened "
			    "read-only since)",
			    log->dir);
}

/* A read snapshot of a log that has a ledger, and (cur not NULL) a cursor
 * on the ledger's leaves in it.  end_read lets go of both. */
static int
begin_read(struct ir_evlog *log, MDB_txn **txn, MDB_cursor **cur,
	   struct ir_ctx *ctx)
{
	int rc;

	*txn = NULL;
	if (cur)
		*cur = NULL;
	if (!log->has_ledger)
		return no_ledger(log, ctx);
	rc = ir_evlog_begin(log, MDB_RDONLY, txn, ctx);
	if (rc || !cur)
		return rc;
	rc = mdb_cursor_open(*txn, log->ledger, cur);
	if (rc) {
		mdb_txn_abort(*txn);
		*txn = NULL;
		*cur = NULL;
		return ir_evlog_lmdb_error(ctx, rc, "read the ledger");
	}
	return 0;
}

static void
end_read(MDB_txn *txn, MDB_cursor *cur)
{
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
}

int
ir_evlog_ledger_head(struct ir_evlog *log, struct ir_ledger_head *out,
		     struct ir_ctx *ctx)
{
	struct ir_merkle_frontier f;
	MDB_txn *txn;
	int rc;

	rc = begin_read(log, &txn, NULL, ctx);
	if (rc)
		return rc;
	rc = ir_evlog_ledger_load(log, txn, false, &f, ctx);
	mdb_txn_abort(txn);
	if (rc)
		return rc;
	out->size = f.size;
	ir_merkle_frontier_root(&f, out->root);
	return 0;
}

const uint8_t *
ir_evlog_id(const struct ir_evlog *log)
{
	static const uint8_t none[IR_EVLOG_ID_LEN];

	return log->has_ledger ? log->id : none;
}

/* A leaf as stored: -EBADMSG unless it is one. */
static int
leaf_get(struct ir_evlog *log, MDB_cursor *cur, MDB_cursor_op op,
	 uint64_t want, uint8_t leaf[IR_LEDGER_LEAF_LEN], struct ir_ctx *ctx)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	int rc;

	ir_evlog_put_be64(key, want);
	rc = ir_lmdb_cursor_get(log, cur, &k, &v, op);
	if (rc == MDB_NOTFOUND)
		return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the ledger has no leaf %llu: it was cut "
				    "short",
				    (unsigned long long)want);
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "read the ledger");
	if (k.mv_size != 8 || ir_evlog_get_be64(k.mv_data) != want ||
	    v.mv_size != IR_LEDGER_LEAF_LEN)
		return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the ledger's leaf %llu is damaged or "
				    "out of place",
				    (unsigned long long)want);
	ir_evlog_walking++;
	memcpy(leaf, v.mv_data, IR_LEDGER_LEAF_LEN);
	ir_evlog_walking--;
	return 0;
}

int
ir_evlog_ledger_leaf(struct ir_evlog *log, uint64_t index, uint64_t *id,
		     uint64_t *seq, struct ir_ctx *ctx)
{
	uint8_t leaf[IR_LEDGER_LEAF_LEN];
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc;

	rc = begin_read(log, &txn, &cur, ctx);
	if (rc)
		return rc;
	rc = leaf_get(log, cur, MDB_SET_KEY, index, leaf, ctx);
	end_read(txn, cur);
	if (!rc) {
		*id = ir_evlog_get_be64(leaf);
		*seq = ir_evlog_get_be64(leaf + 8);
	}
	return rc;
}

struct range {
	struct ir_evlog *log;
	MDB_cursor *cur;
	struct ir_ctx *ctx;
};

static int
range_hash(void *payload, uint64_t lo, uint64_t hi,
	   uint8_t out[IR_SHA256_LEN])
{
	struct range *r = payload;
	struct ir_merkle_frontier f;
	uint8_t leaf[IR_LEDGER_LEAF_LEN], h[IR_SHA256_LEN];
	uint64_t i;
	int rc;

	ir_merkle_frontier_init(&f);
	for (i = lo; i < hi; i++) {
		rc = leaf_get(r->log, r->cur, i == lo ? MDB_SET_KEY : MDB_NEXT,
			      i, leaf, r->ctx);
		if (rc)
			return rc;
		ir_merkle_leaf_hash(h, leaf, sizeof(leaf));
		ir_merkle_frontier_push(&f, h);
	}
	ir_merkle_frontier_root(&f, out);
	return 0;
}

int
ir_evlog_ledger_proof(struct ir_evlog *log, uint64_t m, uint64_t n,
		      uint8_t *proof, size_t *len, struct ir_ctx *ctx)
{
	struct range r = { log, NULL, ctx };
	MDB_txn *txn;
	int rc;

	rc = begin_read(log, &txn, &r.cur, ctx);
	if (rc)
		return rc;
	rc = ir_merkle_consistency(m, n, range_hash, &r, proof, len);
	end_read(txn, r.cur);
	return rc;
}

/*
 * The whole ledger against the events: each leaf names an event that is
 * there, with the bytes it was committed with; each incident's events
 * enter it once, in seq order, and all of them; the stored edge is the
 * edge of the leaves.  One pass over the leaves, the events read mostly
 * in order beside them.
 */
struct walk {
	struct ir_evlog *log;
	MDB_txn *txn;
	MDB_cursor *leaves, *events;
	uint64_t *last; /* the last seq seen, by incident id */
	uint64_t n_ids;
	uint64_t cur_id, cur_seq; /* where the events cursor stands */
	struct ir_ctx *ctx;
};

static int
walk_event(struct walk *w, uint64_t index, uint64_t id, uint64_t seq,
	   const uint8_t *hash)
{
	uint8_t key[16], h[IR_HASH_LEN];
	MDB_val k = { 16, key }, v;
	bool next = w->cur_id == id && w->cur_seq + 1 == seq;
	int rc;

	ir_evlog_put_be64(key, id);
	ir_evlog_put_be64(key + 8, seq);
	rc = ir_lmdb_cursor_get(w->log, w->events, &k, &v,
				next ? MDB_NEXT : MDB_SET_KEY);
	if (!rc && (k.mv_size != 16 || memcmp(k.mv_data, key, 16)))
		rc = MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND) {
		w->cur_id = 0;
		return ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the ledger's leaf %llu names INC-%llu "
				    "seq %llu, which is not in the log: "
				    "events or a whole incident were removed",
				    (unsigned long long)index,
				    (unsigned long long)id,
				    (unsigned long long)seq);
	}
	if (rc)
		return ir_evlog_lmdb_error(w->ctx, rc, "read events");
	w->cur_id = id;
	w->cur_seq = seq;
	ir_evlog_walking++;
	ir_sha256(h, v.mv_data, v.mv_size);
	ir_evlog_walking--;
	if (memcmp(h, hash, IR_HASH_LEN))
		return ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "INC-%llu seq %llu is not the event the "
				    "ledger's leaf %llu recorded: it was "
				    "rewritten",
				    (unsigned long long)id,
				    (unsigned long long)seq,
				    (unsigned long long)index);
	return 0;
}

static int
walk_order(struct walk *w, uint64_t index, uint64_t id, uint64_t seq)
{
	if (id >= w->n_ids) {
		uint64_t n = id + 64;
		uint64_t *p = realloc(w->last, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		memset(p + w->n_ids, 0, (n - w->n_ids) * sizeof(*p));
		w->last = p;
		w->n_ids = n;
	}
	if (seq != w->last[id] + 1)
		return ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the ledger's leaf %llu names INC-%llu "
				    "seq %llu after seq %llu: its leaves "
				    "were reordered or repeated",
				    (unsigned long long)index,
				    (unsigned long long)id,
				    (unsigned long long)seq,
				    (unsigned long long)w->last[id]);
	w->last[id] = seq;
	return 0;
}

/* Every incident's events are all in the ledger. */
static int
walk_coverage(struct walk *w)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	rc = mdb_cursor_open(w->txn, w->log->incidents, &cur);
	if (rc)
		return ir_evlog_lmdb_error(w->ctx, rc, "read incidents");
	for (;; op = MDB_NEXT) {
		struct ir_incident inc;
		uint64_t id, have;

		rc = ir_lmdb_cursor_get(w->log, cur, &k, &v, op);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = ir_evlog_lmdb_error(w->ctx, rc, "read incidents");
			break;
		}
		if (k.mv_size != 8) {
			rc = ir_evlog_lmdb_error(w->ctx, MDB_CORRUPTED,
						 "read incidents");
			break;
		}
		id = ir_evlog_get_be64(k.mv_data);
		rc = ir_evlog_header_get(w->log, w->txn, id, &inc, w->ctx);
		if (rc)
			break;
		have = id < w->n_ids ? w->last[id] : 0;
		if (have != inc.events) {
			rc = ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
					  "INC-%llu has %llu events, the "
					  "ledger %llu: events were %s "
					  "outside the ledger",
					  (unsigned long long)id,
					  (unsigned long long)inc.events,
					  (unsigned long long)have,
					  have < inc.events ? "added"
							    : "removed");
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc;
}

static int
walk_leaves(struct walk *w, struct ir_ledger_check *c,
	    const struct ir_merkle_frontier *stored)
{
	uint8_t leaf[IR_LEDGER_LEAF_LEN], h[IR_SHA256_LEN];
	struct ir_merkle_frontier f;
	size_t at = 0;
	uint64_t i;
	int rc;

	ir_merkle_frontier_init(&f);
	for (i = 0; i < stored->size; i++) {
		uint64_t id, seq;

		while (at < c->n_at && c->at[at] == i)
			ir_merkle_frontier_root(&f, c->roots[at++]);
		rc = leaf_get(w->log, w->leaves, i ? MDB_NEXT : MDB_FIRST, i,
			      leaf, w->ctx);
		if (rc)
			return rc;
		id = ir_evlog_get_be64(leaf);
		seq = ir_evlog_get_be64(leaf + 8);
		rc = walk_order(w, i, id, seq);
		if (!rc)
			rc = walk_event(w, i, id, seq, leaf + 16);
		if (rc)
			return rc;
		ir_merkle_leaf_hash(h, leaf, sizeof(leaf));
		ir_merkle_frontier_push(&f, h);
	}
	while (at < c->n_at && c->at[at] == i)
		ir_merkle_frontier_root(&f, c->roots[at++]);
	rc = leaf_get(w->log, w->leaves, i ? MDB_NEXT : MDB_FIRST, i, leaf,
		      w->ctx);
	if (!rc)
		return ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the ledger has leaves past its stored "
				    "edge of %llu",
				    (unsigned long long)i);
	ir_error_clear(w->ctx);
	c->n_found = at;
	c->size = f.size;
	ir_merkle_frontier_root(&f, c->root);
	{
		uint8_t want[IR_SHA256_LEN];

		ir_merkle_frontier_root(stored, want);
		if (memcmp(want, c->root, IR_SHA256_LEN))
			return ir_error_set(w->ctx, -EBADMSG, IR_ORIGIN_LMDB,
					    0,
					    "the ledger's stored edge does "
					    "not match its %llu leaves",
					    (unsigned long long)f.size);
	}
	return 0;
}

int
ir_evlog_ledger_verify(struct ir_evlog *log, struct ir_ledger_check *c,
		       struct ir_ctx *ctx)
{
	struct walk w = { .log = log, .ctx = ctx };
	struct ir_merkle_frontier stored;
	int rc;

	c->n_found = 0;
	c->size = 0;
	rc = begin_read(log, &w.txn, &w.leaves, ctx);
	if (rc)
		return rc;
	rc = ir_evlog_ledger_load(log, w.txn, false, &stored, ctx);
	if (!rc)
		rc = mdb_cursor_open(w.txn, log->events, &w.events);
	if (rc > 0)
		rc = ir_evlog_lmdb_error(ctx, rc, "read the ledger");
	if (!rc)
		rc = walk_leaves(&w, c, &stored);
	if (!rc)
		rc = walk_coverage(&w);
	if (w.events)
		mdb_cursor_close(w.events);
	end_read(w.txn, w.leaves);
	free(w.last);
	return rc;
}
