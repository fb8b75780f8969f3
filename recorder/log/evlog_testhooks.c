/* Test hooks into the event log (see evlog_testhooks.h). */
#include "evlog_testhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * An attacker's edits, each consistent with itself: what remains of the
 * incident is re-chained and its header follows it, so that the chain and
 * the header checks pass and only the ledger, or a checkpoint of it, can
 * tell.
 */
static int
load_events(struct ir_evlog *log, MDB_txn *txn, uint64_t id,
	    struct ir_event_list *l, struct ir_ctx *ctx)
{
	MDB_cursor *cur = NULL;
	uint8_t key[16];
	MDB_val k = { 16, key }, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc;

	ir_evlog_put_be64(key, id);
	ir_evlog_put_be64(key + 8, 1);
	rc = mdb_cursor_open(txn, log->events, &cur);
	while (!rc) {
		struct ir_event *ev;

		rc = ir_lmdb_cursor_get(log, cur, &k, &v, op);
		op = MDB_NEXT;
		if (rc == MDB_NOTFOUND || k.mv_size != 16 ||
		    ir_evlog_get_be64(k.mv_data) != id) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 64;
			struct ir_event *p = realloc(l->ev, cap * sizeof(*p));

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			l->ev = p;
			l->cap = cap;
		}
		ev = &l->ev[l->n];
		memset(ev, 0, sizeof(*ev));
		rc = ir_codec_decode(ev, v.mv_data, v.mv_size);
		if (rc)
			break;
		l->n++;
	}
	if (cur)
		mdb_cursor_close(cur);
	return rc > 0 ? ir_evlog_lmdb_error(ctx, rc, "read events") : rc;
}

/* Write events [0, keep) of l as incident id, chained anew, and a
 * header that follows them; the events past keep are deleted. */
static int
write_events(struct ir_evlog *log, MDB_txn *txn, uint64_t id,
	     struct ir_event_list *l, size_t keep, struct ir_ctx *ctx)
{
	struct ir_incident inc = { .id = id };
	struct ir_buf b = IR_BUF_INIT(0);
	uint8_t key[16];
	MDB_val k = { 16, key }, v;
	size_t i;
	int rc = 0;

	snprintf(inc.status, sizeof(inc.status), "open");
	for (i = 0; !rc && i < l->n; i++) {
		ir_evlog_put_be64(key, id);
		ir_evlog_put_be64(key + 8, l->ev[i].seq);
		if (i >= keep) {
			rc = IR_EVLOG_WALK(mdb_del(txn, log->events, &k, NULL));
			continue;
		}
		memcpy(l->ev[i].prev, inc.head, IR_HASH_LEN);
		ir_buf_reset(&b);
		rc = ir_codec_encode(&b, &l->ev[i]);
		if (rc)
			break;
		ir_sha256(inc.head, b.data, b.len);
		inc.events = l->ev[i].seq;
		ir_evlog_header_follow(&inc, &l->ev[i]);
		v.mv_size = b.len;
		v.mv_data = b.data;
		rc = IR_EVLOG_WALK(mdb_put(txn, log->events, &k, &v, 0));
	}
	ir_buf_clear(&b);
	if (rc > 0)
		return ir_evlog_lmdb_error(ctx, rc, "write events");
	if (rc)
		return rc;
	if (!keep) {
		ir_evlog_put_be64(key, id);
		k.mv_size = 8;
		rc = IR_EVLOG_WALK(mdb_del(txn, log->incidents, &k, NULL));
		return rc ? ir_evlog_lmdb_error(ctx, rc, "delete header") : 0;
	}
	rc = ir_evlog_header_put(log, txn, &inc, ctx);
	return rc > 0 ? -ENOSPC : rc;
}

static int
edit(struct ir_evlog *log, uint64_t id, uint64_t keep, uint64_t seq,
     const char *text, struct ir_ctx *ctx)
{
	struct ir_event_list l = { 0 };
	MDB_txn *txn = NULL;
	int rc = ir_evlog_begin(log, 0, &txn, ctx);

	if (rc)
		return rc;
	rc = load_events(log, txn, id, &l, ctx);
	if (!rc && seq) {
		if (seq > l.n)
			rc = ir_error_set(ctx, -ENOENT, IR_ORIGIN_NONE, 0,
					  "INC-%llu has no seq %llu",
					  (unsigned long long)id,
					  (unsigned long long)seq);
		else if (!l.ev[seq - 1].data)
			rc = -EINVAL;
		else
			ir_val_set_str(l.ev[seq - 1].data, "text", text);
	}
	if (!rc)
		rc = write_events(log, txn, id, &l,
				  keep < l.n ? (size_t)keep : l.n, ctx);
	ir_event_list_clear(&l);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "commit") : 0;
}

int
ir_evlog_cut(struct ir_evlog *log, uint64_t id, uint64_t keep,
	     struct ir_ctx *ctx)
{
	return edit(log, id, keep, 0, NULL, ctx);
}

int
ir_evlog_rewrite_text(struct ir_evlog *log, uint64_t id, uint64_t seq,
		      const char *text, struct ir_ctx *ctx)
{
	return edit(log, id, UINT64_MAX, seq, text, ctx);
}

int
ir_evlog_ledger_rebuild(struct ir_evlog *log, struct ir_ctx *ctx)
{
	MDB_val k = { 6, "ledger" };
	MDB_txn *txn = NULL;
	int rc = ir_evlog_begin(log, 0, &txn, ctx);

	if (rc)
		return rc;
	rc = IR_EVLOG_WALK(mdb_drop(txn, log->ledger, 0));
	if (!rc)
		rc = IR_EVLOG_WALK(mdb_del(txn, log->meta, &k, NULL));
	if (rc) {
		mdb_txn_abort(txn);
		return ir_evlog_lmdb_error(ctx, rc, "drop the ledger");
	}
	/* Opening anew enters every event as for a log from before it. */
	rc = ir_evlog_ledger_open(log, txn, false, ctx);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "commit") : 0;
}
