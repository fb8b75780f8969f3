/*
 * Reading an incident's events in seq order in one read snapshot: each
 * record checked, the hash chain checked on a second thread (chain.h), the
 * pages behind the reader let go.  The other half of the event log is
 * evlog.c.
 */
#include "evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "chain.h"
#include "evlog_lib.h"

/*
 * A long scan touches every page of the mapped log, and the kernel counts
 * each one in our resident set: a million events would show as 200 MB.
 * Every so many records, drop the pages read so far from our mapping
 * (MADV_DONTNEED on a read-only shared file mapping only unmaps them: the
 * data stays in the page cache and faults back in if touched again), so a
 * scan's footprint stays bounded whatever the incident's size.
 */
struct footprint {
	uintptr_t lo, hi;  /* the records read since the last drop */
	unsigned records;
	uintptr_t old_lo, old_hi; /* the window before, dropped next */
	uint64_t old_end;         /* records read when it closed */
	uint64_t total;
};

#define FOOTPRINT_RECORDS 8192

static void
drop_pages(uintptr_t lo, uintptr_t hi)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	lo &= ~(page - 1);
	hi = (hi + page - 1) & ~(page - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/*
 * Pages are dropped one window late: the chain checker reads each record
 * after us, and by the time we have read another window it has passed the
 * one before (ir_chain_wait() makes sure, and seldom has to wait).
 */
static void
footprint_note(struct footprint *f, struct ir_chain *chain, const void *p,
	       size_t len)
{
	uintptr_t a = (uintptr_t)p, b = a + len;

	f->total++;
	if (!f->lo || a < f->lo)
		f->lo = a;
	if (b > f->hi)
		f->hi = b;
	if (++f->records < FOOTPRINT_RECORDS)
		return;
	if (f->old_hi) {
		if (chain)
			ir_chain_wait(chain, f->old_end);
		drop_pages(f->old_lo, f->old_hi);
	}
	f->old_lo = f->lo;
	f->old_hi = f->hi;
	f->old_end = f->total;
	f->lo = f->hi = 0;
	f->records = 0;
}

static int
bad(struct ir_ctx *ctx, uint64_t id, uint64_t seq, const char *why)
{
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			    "INC-%llu seq %llu: %s", (unsigned long long)id,
			    (unsigned long long)seq, why);
}

#define CHAIN_BROKEN "hash chain broken (prev does not match the event before)"

/*
 * The scan ends at seq `at` with rc (0 when it read everything): stop the
 * chain checker and let a fault it found before `at` (or at it: the chain
 * was always checked before the event was handed on) take precedence, so
 * the first fault in seq order is the one reported.
 */
static int
chain_end(struct ir_chain *chain, uint64_t id, uint64_t at, int rc,
	  uint8_t head[IR_HASH_LEN], struct ir_ctx *ctx)
{
	uint64_t bad_seq = 0;

	if (ir_chain_finish(chain, &bad_seq, head) && bad_seq <= at &&
	    rc != -ENOMEM) {
		ir_error_clear(ctx); /* what the reader found came later */
		return bad(ctx, id, bad_seq, CHAIN_BROKEN);
	}
	return rc;
}

int
ir_evlog_scan(struct ir_evlog *log, uint64_t id, uint64_t from,
	      unsigned flags, ir_evlog_event_fn fn, void *payload,
	      struct ir_ctx *ctx)
{
	struct ir_incident inc;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	uint8_t key[16], head[IR_HASH_LEN] = { 0 };
	MDB_val k = { 16, key }, v;
	uint64_t expect = from ? from : 1, start;
	struct footprint fp = { 0 };
	struct ir_chain *chain = NULL;
	bool stopped = false;
	int rc;

	rc = ir_evlog_begin(log, MDB_RDONLY, &txn, ctx);
	if (rc)
		return rc;
	rc = ir_evlog_header_get(log, txn, id, &inc, ctx);
	if (rc)
		goto out;
	rc = mdb_cursor_open(txn, log->events, &cur);
	if (rc) {
		rc = ir_evlog_lmdb_error(ctx, rc, "open cursor");
		goto out;
	}
	/* The chain is checked from its start only, on a second thread. */
	if ((flags & IR_EVLOG_CHAIN) && expect == 1) {
		rc = ir_chain_start(&chain);
		if (rc) {
			rc = ir_error_set(ctx, rc, IR_ORIGIN_OS, -rc,
					  "cannot start the chain check");
			goto out;
		}
	}
	ir_evlog_put_be64(key, id);
	ir_evlog_put_be64(key + 8, expect);
	rc = ir_lmdb_cursor_get(log, cur, &k, &v, MDB_SET_RANGE);
	for (;;) {
		struct ir_event ev = { 0 };
		uint64_t seq;

		if (rc == MDB_NOTFOUND)
			break;
		if (rc) {
			rc = ir_evlog_lmdb_error(ctx, rc, "read event");
			goto out;
		}
		if (k.mv_size != 16) {
			rc = bad(ctx, id, expect, "bad key");
			goto out;
		}
		if (ir_evlog_get_be64(k.mv_data) != id)
			break;
		seq = ir_evlog_get_be64((const uint8_t *)k.mv_data + 8);
		if (seq != expect) {
			rc = bad(ctx, id, expect, "missing event (seq gap)");
			goto out;
		}
		if (flags & IR_EVLOG_RAW) {
			ev.seq = seq; /* the caller decodes */
			rc = 0;
		} else if (flags & IR_EVLOG_DECODE) {
			rc = ir_codec_decode(&ev, v.mv_data, v.mv_size);
		} else {
			struct ir_event_head h;

			rc = ir_codec_peek(&h, v.mv_data, v.mv_size);
			if (!rc) {
				ev.seq = h.seq;
				ev.ts = h.ts;
				ev.mono = h.mono;
				memcpy(ev.type, h.type, sizeof(ev.type));
				memcpy(ev.step, h.step, sizeof(ev.step));
				memcpy(ev.prev, h.prev, sizeof(ev.prev));
			}
		}
		if (rc == -ENOMEM)
			goto out;
		if (rc) {
			rc = bad(ctx, id, seq, "record does not decode");
			goto out;
		}
		if (ev.seq != seq) {
			ir_event_clear(&ev);
			rc = bad(ctx, id, seq, "seq disagrees with its key");
			goto out;
		}
		if (chain && ir_chain_push(chain, v.mv_data, v.mv_size)) {
			ir_event_clear(&ev);
			rc = -EBADMSG; /* chain_end() says where */
			goto out;
		}
		rc = fn(payload, &ev, v.mv_data, v.mv_size);
		ir_event_clear(&ev);
		if (rc) {
			stopped = rc > 0;
			rc = rc > 0 ? 0 : rc;
			goto out;
		}
		footprint_note(&fp, chain, v.mv_data, v.mv_size);
		expect++;
		rc = ir_lmdb_cursor_get(log, cur, &k, &v, MDB_NEXT);
	}
	rc = 0;
	start = from ? from : 1;
	if (expect - 1 != inc.events &&
	    !(expect == start && start > inc.events))
		rc = bad(ctx, id, expect,
		         "event count disagrees with the incident header");
out:
	if (chain) {
		rc = chain_end(chain, id, rc ? expect : UINT64_MAX, rc, head,
			       ctx);
		if (!rc && !stopped && memcmp(head, inc.head, IR_HASH_LEN))
			rc = bad(ctx, id, inc.events,
				 "head hash disagrees with the incident "
				 "header");
	}
	ir_chain_free(chain);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int
ir_evlog_check_raw(uint64_t id, const struct ir_event *key,
		   const struct ir_event_head *head, int decode_rc,
		   struct ir_ctx *ctx)
{
	if (decode_rc == -ENOMEM)
		return decode_rc;
	if (decode_rc)
		return bad(ctx, id, key->seq, "record does not decode");
	if (head->seq != key->seq)
		return bad(ctx, id, key->seq, "seq disagrees with its key");
	return 0;
}

/* ---- a whole incident in an array ---------------------------------------- */

static int
list_keep(void *payload, const struct ir_event *ev, const void *raw,
	  size_t len)
{
	struct ir_event_list *l = payload;
	struct ir_event *slot;

	(void)raw;
	(void)len;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ir_event *grown = realloc(l->ev, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->ev = grown;
		l->cap = cap;
	}
	slot = &l->ev[l->n];
	*slot = *ev;
	slot->data = NULL;
	if (ev->data && !(l->drop_output && !strcmp(ev->type, "step.output"))) {
		slot->data = ir_val_dup(ev->data);
		if (!slot->data)
			return -ENOMEM;
	}
	l->n++;
	return 0;
}

int
ir_evlog_load(struct ir_evlog *log, uint64_t id, struct ir_event_list *l,
	      struct ir_ctx *ctx)
{
	return ir_evlog_scan(log, id, 1, IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
			     list_keep, l, ctx);
}

void
ir_event_list_clear(struct ir_event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		ir_event_clear(&l->ev[i]);
	free(l->ev);
	l->ev = NULL;
	l->n = l->cap = 0;
}

/* ---- what a reader's cache may go by ------------------------------------ */

uint64_t
ir_evlog_generation(struct ir_evlog *log)
{
	MDB_envinfo info;

	if (!log || mdb_env_info(log->env, &info))
		return 0;
	return (uint64_t)info.me_last_txnid;
}
