/* Test hooks into the event log (see evlog_testhooks.h). */
#include "evlog_testhooks.h"

#include "evlog_lib.h"

int
ir_evlog_poke(struct ir_evlog *log, uint64_t id, uint64_t seq,
	      const void *bytes, size_t len, struct ir_ctx *ctx)
{
	MDB_txn *txn = NULL;
	uint8_t key[16];
	MDB_val k = { 16, key }, v = { len, (void *)bytes };
	int rc = ir_evlog_begin(log, 0, &txn, ctx);

	if (rc)
		return rc;
	ir_evlog_put_be64(key, id);
	ir_evlog_put_be64(key + 8, seq);
	rc = IR_EVLOG_WALK(mdb_put(txn, log->events, &k, &v, 0));
	if (rc) {
		mdb_txn_abort(txn);
		return ir_evlog_lmdb_error(ctx, rc, "poke");
	}
	rc = mdb_txn_commit(txn);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "commit") : 0;
}

int
ir_evlog_set_mapsize(struct ir_evlog *log, size_t bytes, struct ir_ctx *ctx)
{
	int rc = mdb_env_set_mapsize(log->env, bytes);

	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "set map size");
	log->mapsize = bytes;
	ir_evlog_note_map(log);
	return 0;
}

int
ir_evlog_set_header(struct ir_evlog *log, const struct ir_incident *inc,
		    struct ir_ctx *ctx)
{
	MDB_txn *txn = NULL;
	int rc = ir_evlog_begin(log, 0, &txn, ctx);

	if (rc)
		return rc;
	rc = ir_evlog_header_put(log, txn, inc, ctx);
	if (rc) {
		mdb_txn_abort(txn);
		return rc > 0 ? -ENOSPC : rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "commit") : 0;
}
