#include "testutil.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog.h"
#include "evlog_testhooks.h"
#include "hash.h"
#include "merkle.h"

struct fixture {
	char *dir;
	struct ir_evlog *log;
	struct ir_ctx ctx;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_tempdir();
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ir_evlog_close(f->log);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static struct ir_event *
event(const char *type, const char *step, const char *line)
{
	struct ir_event *ev = calloc(1, sizeof(*ev));

	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->step, sizeof(ev->step), "%s", step ? step : "");
	ev->ts = 1764108000000000000LL;
	ev->data = ir_val_map_new();
	if (line)
		ir_val_set_str(ev->data, "line", line);
	return ev;
}

static void
free_event(struct ir_event *ev)
{
	ir_event_clear(ev);
	free(ev);
}

static uint64_t
open_incident(struct fixture *f, const char *kind)
{
	struct ir_event *ev = event("incident.opened", NULL, NULL);
	uint64_t id = 0;

	ir_val_set_str(ev->data, "kind", kind);
	assert_int_equal(ir_evlog_create(f->log, &id, ev, &f->ctx), 0);
	assert_int_equal(ev->seq, 1);
	free_event(ev);
	return id;
}

static void
append_lines(struct fixture *f, uint64_t id, int n, int batch)
{
	struct ir_event **evs = calloc((size_t)batch, sizeof(*evs));
	int i, k;

	for (i = 0; i < n; i += batch) {
		int m = n - i < batch ? n - i : batch;
		char line[64];

		for (k = 0; k < m; k++) {
			snprintf(line, sizeof(line), "line %d", i + k);
			evs[k] = event("step.output", "stop", line);
		}
		assert_int_equal(ir_evlog_append(f->log, id, evs, (size_t)m,
						 &f->ctx),
				 0);
		for (k = 0; k < m; k++)
			free_event(evs[k]);
	}
	free(evs);
}

struct collect {
	uint64_t n;
	uint64_t last_seq;
	uint8_t prev_hash[32];
	bool chain_ok;
};

static int
collect(void *payload, const struct ir_event *ev, const void *raw,
	size_t len)
{
	struct collect *c = payload;

	if (c->n && memcmp(ev->prev, c->prev_hash, 32))
		c->chain_ok = false;
	ir_sha256(c->prev_hash, raw, len);
	c->n++;
	c->last_seq = ev->seq;
	return 0;
}

static void
ids_and_header(void **state)
{
	struct fixture *f = *state;
	struct ir_incident inc;
	uint64_t a = open_incident(f, "stop"), b = open_incident(f, "rollback");
	uint64_t last;

	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(ir_evlog_last_id(f->log, &last, &f->ctx), 0);
	assert_int_equal(last, 2);
	assert_int_equal(ir_evlog_incident(f->log, b, &inc, &f->ctx), 0);
	assert_string_equal(inc.kind, "rollback");
	assert_string_equal(inc.status, "open");
	assert_int_equal(inc.events, 1);
	assert_int_equal(ir_evlog_incident(f->log, 9, &inc, &f->ctx), -ENOENT);
}


static void
ledger_verify_ok(struct fixture *f, uint64_t size, uint8_t root[32])
{
	struct ir_ledger_check c = { 0 };
	struct ir_ledger_head h;
	int rc = ir_evlog_ledger_verify(f->log, &c, &f->ctx);

	if (rc)
		fail_msg("%s", ir_error_msg(&f->ctx, rc));
	assert_int_equal(ir_evlog_ledger_head(f->log, &h, &f->ctx), 0);
	assert_int_equal(c.size, size);
	assert_int_equal(h.size, size);
	assert_memory_equal(c.root, h.root, 32);
	if (root)
		memcpy(root, h.root, 32);
}

static void
ledger_fault(struct fixture *f, const char *words)
{
	struct ir_ledger_check c = { 0 };
	int rc = ir_evlog_ledger_verify(f->log, &c, &f->ctx);

	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(ir_error_msg(&f->ctx, rc), words));
	ir_error_clear(&f->ctx);
}

/* Every event enters the ledger in commit order, across incidents; the
 * attacker's edits that the chain and the header cannot see show in it,
 * and a ledger rebuilt over them has another root. */
static void
ledger_over_incidents(void **state)
{
	struct fixture *f = *state;
	uint8_t root[32], again[32], proof[128 * 32];
	uint64_t a, b, id, seq, at[2] = { 3, 9 };
	uint8_t roots[2][32];
	struct ir_ledger_check c = { .at = at, .n_at = 2, .roots = roots };
	struct ir_ledger_head h;
	size_t len;

	a = open_incident(f, "rollback");
	append_lines(f, a, 4, 2);
	b = open_incident(f, "rollback");
	append_lines(f, b, 3, 1);
	append_lines(f, a, 2, 2);
	ledger_verify_ok(f, 11, root);
	/* Leaf 5 is b's opening: commit order, not key order. */
	assert_int_equal(ir_evlog_ledger_leaf(f->log, 5, &id, &seq, &f->ctx),
			 0);
	assert_int_equal(id, b);
	assert_int_equal(seq, 1);
	assert_int_equal(ir_evlog_ledger_verify(f->log, &c, &f->ctx), 0);
	assert_int_equal(c.n_found, 2);
	assert_int_equal(ir_evlog_ledger_proof(f->log, 3, 11, proof, &len,
					       &f->ctx),
			 0);
	assert_true(ir_merkle_consistent(3, 11, roots[0], root, proof, len));
	assert_int_equal(ir_evlog_ledger_proof(f->log, 9, 11, proof, &len,
					       &f->ctx),
			 0);
	assert_true(ir_merkle_consistent(9, 11, roots[1], root, proof, len));
	assert_false(ir_merkle_consistent(9, 11, roots[0], root, proof, len));

	/* A cut tail, its header fixed up. */
	assert_int_equal(ir_evlog_cut(f->log, a, 5, &f->ctx), 0);
	ledger_fault(f, "not in the log");
	assert_int_equal(ir_evlog_ledger_rebuild(f->log, &f->ctx), 0);
	ledger_verify_ok(f, 9, again);
	assert_memory_not_equal(root, again, 32);
	/* A rewritten event, everything after it chained anew. */
	assert_int_equal(ir_evlog_rewrite_text(f->log, b, 2, "x", &f->ctx), 0);
	ledger_fault(f, "rewritten");
	/* A deleted incident. */
	assert_int_equal(ir_evlog_ledger_rebuild(f->log, &f->ctx), 0);
	assert_int_equal(ir_evlog_cut(f->log, b, 0, &f->ctx), 0);
	ledger_fault(f, "not in the log");
	assert_int_equal(ir_evlog_incident(f->log, b, &(struct ir_incident){ 0 },
					   &f->ctx),
			 -ENOENT);
	ir_error_clear(&f->ctx);
	/* The edge survives a reopen; an event added outside is seen. */
	assert_int_equal(ir_evlog_ledger_rebuild(f->log, &f->ctx), 0);
	assert_int_equal(ir_evlog_ledger_head(f->log, &h, &f->ctx), 0);
	ir_evlog_close(f->log);
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
	ledger_verify_ok(f, h.size, again);
	assert_memory_equal(again, h.root, 32);
}

static void
append_and_chain(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	struct ir_incident inc;
	uint64_t id = open_incident(f, "stop");
	struct ir_event *closed;

	append_lines(f, id, 1000, 7);
	closed = event("incident.closed", NULL, NULL);
	ir_val_set_str(closed->data, "status", "succeeded");
	assert_int_equal(ir_evlog_append(f->log, id, &closed, 1, &f->ctx), 0);
	assert_int_equal(closed->seq, 1002);
	free_event(closed);

	assert_int_equal(ir_evlog_scan(f->log, id, 1,
				       IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
				       collect, &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 1002);
	assert_int_equal(c.last_seq, 1002);
	assert_true(c.chain_ok);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_int_equal(inc.events, 1002);
	assert_string_equal(inc.status, "succeeded");
	assert_true(inc.closed > 0);
	/* The header's head is the hash of the last stored event. */
	assert_memory_equal(inc.head, c.prev_hash, 32);
}

static void
two_incidents_interleaved(void **state)
{
	struct fixture *f = *state;
	uint64_t a = open_incident(f, "stop"), b = open_incident(f, "stop");
	struct collect ca = { 0, 0, { 0 }, true }, cb = { 0, 0, { 0 }, true };

	append_lines(f, b, 10, 3);
	append_lines(f, a, 5, 2); /* lands before b's keys */
	append_lines(f, b, 10, 4);
	assert_int_equal(ir_evlog_scan(f->log, a, 1, IR_EVLOG_CHAIN, collect,
				       &ca, &f->ctx),
			 0);
	assert_int_equal(ir_evlog_scan(f->log, b, 1, IR_EVLOG_CHAIN, collect,
				       &cb, &f->ctx),
			 0);
	assert_int_equal(ca.n, 6);
	assert_int_equal(cb.n, 21);
}

static void
reopen_keeps_everything(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");
	struct stat st;
	char path[4200];

	append_lines(f, id, 50, 50);
	ir_evlog_close(f->log);
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 51);
	/* The environment is private. */
	snprintf(path, sizeof(path), "%s/log", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
}

static int
copy_raw(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	(void)ev;
	assert_int_equal(ir_buf_add(payload, raw, len), 0);
	return 1;
}

/* Rewrite the line of event seq in its stored bytes, from `from` to `to`
 * (the same length), prev and all else kept: it still decodes, but the
 * chain no longer holds (unless `to` puts back what was there). */
static void
set_line(struct fixture *f, uint64_t id, uint64_t seq, const char *from,
	 const char *to)
{
	struct ir_buf b = IR_BUF_INIT(0);
	char *hit;

	assert_int_equal(ir_evlog_scan(f->log, id, seq, IR_EVLOG_RAW, copy_raw,
				       &b, &f->ctx),
			 0);
	hit = memmem(b.data, b.len, from, strlen(from));
	assert_non_null(hit);
	assert_int_equal(strlen(to), strlen(from));
	memcpy(hit, to, strlen(to));
	assert_int_equal(ir_evlog_poke(f->log, id, seq, b.data, b.len,
				       &f->ctx),
			 0);
	ir_buf_clear(&b);
}

static void
flipped_byte_breaks_chain(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");

	append_lines(f, id, 20, 20);
	set_line(f, id, 7, "line 5", "line 6");
	/* Event 7 itself reads well; event 8's prev no longer matches. */
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "INC-1 seq 8:"));
	assert_non_null(strstr(f->ctx.err.msg, "hash chain broken"));
	/* Without the chain flag the same log reads to the end. */
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_RAW, collect,
				       &c, &f->ctx),
			 0);
	/* Put back, it verifies again; then only the last event changed:
	 * the head in the header gives it away. */
	set_line(f, id, 7, "line 6", "line 5");
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 0);
	set_line(f, id, 21, "line 19", "line 18");
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "head hash"));
}

/* A long incident: the chain check runs many batches behind the reader
 * and the reader drops pages it has passed; a break deep inside is still
 * found and named, the first of two faults wins, and an intact log of the
 * same length verifies. */
static void
long_chain(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop"), good = open_incident(f, "stop");
	static const uint8_t bomb[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 };

	append_lines(f, id, 30000, 4096);
	append_lines(f, good, 30000, 4096);
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, good, 1, IR_EVLOG_CHAIN,
				       collect, &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 30001);
	assert_true(c.chain_ok);
	set_line(f, id, 17001, "line 16999", "line 16990");
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_RAW |
				       IR_EVLOG_CHAIN, collect, &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "INC-1 seq 17002:"));
	/* A record that does not decode later on: the break still comes
	 * first. */
	assert_int_equal(ir_evlog_poke(f->log, id, 25000, bomb, sizeof(bomb),
				       &f->ctx),
			 0);
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "INC-1 seq 17002:"));
	/* And without the break, the bad record is the first fault. */
	set_line(f, id, 17001, "line 16990", "line 16999");
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "INC-1 seq 25000:"));
	assert_non_null(strstr(f->ctx.err.msg, "does not decode"));
}

static void
garbage_record_is_badmsg(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");
	/* An array32 claiming four billion elements. */
	static const uint8_t bomb[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 };

	append_lines(f, id, 3, 3);
	assert_int_equal(ir_evlog_poke(f->log, id, 3, bomb, sizeof(bomb),
				       &f->ctx),
			 0);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_DECODE, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "INC-1 seq 3"));
}

/* Delete event records behind the log's back (seq list ends with 0), as
 * a damaged or tampered environment would look. */
static void
delete_records(struct fixture *f, uint64_t id, const uint8_t *seqs)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[16] = { 0 };
	MDB_val k = { 16, key };
	char path[4200];

	ir_evlog_close(f->log);
	f->log = NULL;
	snprintf(path, sizeof(path), "%s/log", f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 4);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "events", 0, &dbi), 0);
	key[7] = (uint8_t)id;
	for (; *seqs; seqs++) {
		key[15] = *seqs;
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
}

/* Remove one record behind the log's back: a gap. */
static void
seq_gap_and_count(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");
	/* The last one (only the count disagrees) and a hole in the middle. */
	static const uint8_t gone[] = { 11, 5, 0 };

	append_lines(f, id, 10, 10);
	delete_records(f, id, gone);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, 0, collect, &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "seq 5"));
	assert_non_null(strstr(f->ctx.err.msg, "gap"));
}

static void
count_disagrees(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");
	static const uint8_t gone[] = { 5, 0 };

	append_lines(f, id, 4, 4);
	delete_records(f, id, gone);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, 0, collect, &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "count"));
}

static void
map_grows_when_full(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");
	size_t before;

	/* Shrink the map to far less than the data needs (LMDB keeps at
	 * least what is in use). */
	assert_int_equal(ir_evlog_set_mapsize(f->log, 256 * 1024, &f->ctx), 0);
	before = ir_evlog_mapsize(f->log);
	append_lines(f, id, 20000, 256);
	assert_true(ir_evlog_mapsize(f->log) > before);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 20001);
}

static void
scan_from_middle(void **state)
{
	struct fixture *f = *state;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "stop");

	append_lines(f, id, 10, 10);
	assert_int_equal(ir_evlog_scan(f->log, id, 6, 0, collect, &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 6);
	assert_int_equal(c.last_seq, 11);
}

static void
two_handles_share_the_log(void **state)
{
	struct fixture *f = *state;
	struct ir_evlog *other = NULL;
	struct collect c = { 0, 0, { 0 }, true };
	uint64_t id = open_incident(f, "rollback");
	struct ir_event *note;

	assert_int_equal(ir_evlog_open(&other, f->dir, &f->ctx), 0);
	append_lines(f, id, 3, 3);
	note = event("note", NULL, NULL);
	ir_val_set_str(note->data, "text", "from another process");
	assert_int_equal(ir_evlog_append(other, id, &note, 1, &f->ctx), 0);
	assert_int_equal(note->seq, 5);
	free_event(note);
	append_lines(f, id, 3, 3);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 8);
	ir_evlog_close(other);
}

/* After incident.closed only notes and observations are taken: a second
 * executor cannot go on writing steps into a closed incident. */
static void
closed_takes_only_notes(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback");
	struct ir_event *closed = event("incident.closed", NULL, NULL);
	struct ir_event *started = event("step.started", "stop", NULL);
	struct ir_event *note = event("note", NULL, NULL);
	struct ir_event *obs = event("observation", NULL, NULL);
	struct ir_incident inc;

	ir_val_set_str(closed->data, "status", "succeeded");
	assert_int_equal(ir_evlog_append(f->log, id, &closed, 1, &f->ctx), 0);
	assert_int_equal(ir_evlog_append(f->log, id, &started, 1, &f->ctx),
			 -ESTALE);
	assert_non_null(strstr(f->ctx.err.msg, "already closed"));
	assert_int_equal(ir_evlog_append(f->log, id, &note, 1, &f->ctx), 0);
	assert_int_equal(ir_evlog_append(f->log, id, &obs, 1, &f->ctx), 0);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_int_equal(inc.events, 4);
	assert_string_equal(inc.status, "succeeded");
	free_event(closed);
	free_event(started);
	free_event(note);
	free_event(obs);
}

/* The header hook rewrites the header alone: the events, their chain and
 * the head stay, so only a comparison with the events (incident verify)
 * can tell; the events and head the log itself holds to the header. */
static void
header_edit_leaves_events(void **state)
{
	struct fixture *f = *state;
	uint64_t id = open_incident(f, "rollback");
	struct ir_event *chosen = event("target.chosen", NULL, NULL);
	struct collect c = { 0, 0, { 0 }, true };
	struct ir_incident inc, again;

	ir_val_set_str(chosen->data, "from", "deploy-3");
	ir_val_set_str(chosen->data, "to", "deploy-2");
	assert_int_equal(ir_evlog_append(f->log, id, &chosen, 1, &f->ctx), 0);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_string_equal(inc.from, "deploy-3");
	snprintf(inc.from, sizeof(inc.from), "deploy-2");
	snprintf(inc.status, sizeof(inc.status), "succeeded");
	assert_int_equal(ir_evlog_set_header(f->log, &inc, &f->ctx), 0);
	assert_int_equal(ir_evlog_incident(f->log, id, &again, &f->ctx), 0);
	assert_string_equal(again.from, "deploy-2");
	assert_string_equal(again.status, "succeeded");
	assert_int_equal(ir_evlog_scan(f->log, id, 1,
				       IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
				       collect, &c, &f->ctx),
			 0);
	assert_int_equal(c.n, 2);
	/* A count the events do not bear out is the log's own finding. */
	again.events = 3;
	assert_int_equal(ir_evlog_set_header(f->log, &again, &f->ctx), 0);
	assert_int_equal(ir_evlog_scan(f->log, id, 1, IR_EVLOG_CHAIN, collect,
				       &c, &f->ctx),
			 -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "event count disagrees"));
	free_event(chosen);
}

/* A data.mdb cut short, or empty where incidents were recorded, is
 * refused at open, before LMDB maps it (a map past the end faults). */
static void
damaged_file_refused(void **state)
{
	struct fixture *f = *state;
	struct ir_evlog *again = NULL;
	char file[4200], dir[4200];
	struct stat st;
	int i;

	for (i = 0; i < 40; i++)
		(void)open_incident(f, "stop");
	ir_evlog_close(f->log);
	f->log = NULL;
	snprintf(file, sizeof(file), "%s/log/data.mdb", f->dir);
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 4 * 4096);

	assert_int_equal(truncate(file, st.st_size - 4096), 0);
	memset(&f->ctx, 0, sizeof(f->ctx));
	assert_int_equal(ir_evlog_open(&again, f->dir, &f->ctx), -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "is damaged: it is"));
	assert_non_null(strstr(f->ctx.err.msg, "(it was cut short)"));
	memset(&f->ctx, 0, sizeof(f->ctx));
	assert_int_equal(ir_evlog_open_readonly(&again, f->dir, &f->ctx),
			 -EBADMSG);

	assert_int_equal(truncate(file, 100), 0);
	memset(&f->ctx, 0, sizeof(f->ctx));
	assert_int_equal(ir_evlog_open(&again, f->dir, &f->ctx), -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "ends inside meta page 0"));

	/* Empty: a new log only where nothing says incidents were here. */
	assert_int_equal(truncate(file, 0), 0);
	snprintf(dir, sizeof(dir), "%s/reports", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/reports/INC-1.md", f->dir);
	{
		FILE *r = fopen(dir, "w");

		assert_non_null(r);
		fputs("# INC-1\n", r);
		fclose(r);
	}
	memset(&f->ctx, 0, sizeof(f->ctx));
	assert_int_equal(ir_evlog_open(&again, f->dir, &f->ctx), -EBADMSG);
	assert_non_null(strstr(f->ctx.err.msg, "it is empty (0 bytes)"));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(unlink(dir), 0);
	memset(&f->ctx, 0, sizeof(f->ctx));
	assert_int_equal(ir_evlog_open(&f->log, f->dir, &f->ctx), 0);
}

struct seal_probe {
	struct ir_ledger_head seen;
	struct ir_event *extra;
	int calls;
	int fail;
};

static int
probe_seal(void *payload, const struct ir_ledger_head *head,
	   struct ir_event **extra)
{
	struct seal_probe *p = payload;

	p->calls++;
	p->seen = *head;
	if (p->fail)
		return p->fail;
	*extra = p->extra;
	return 0;
}

/* A sealed append: the seal sees the ledger's head with the events in
 * (the head a plain append of the same events leaves), its one event goes
 * in after them in the same transaction, and a seal that fails leaves
 * nothing written. */
static void
sealed_append(void **state)
{
	struct fixture *f = *state;
	struct ir_evlog *plain = NULL;
	char *dir = tu_tempdir();
	struct ir_event *evs[2];
	struct ir_ledger_head h, after;
	struct seal_probe p = { .calls = 0 };
	struct ir_incident inc;
	uint64_t id = open_incident(f, "stop"), other = 0;
	struct ir_event *op = event("incident.opened", NULL, NULL);
	int i;

	/* The same incident, appended plainly, in a log of its own. */
	assert_int_equal(ir_evlog_open(&plain, dir, &f->ctx), 0);
	ir_val_set_str(op->data, "kind", "stop");
	assert_int_equal(ir_evlog_create(plain, &other, op, &f->ctx), 0);
	free_event(op);
	for (i = 0; i < 2; i++)
		evs[i] = event("step.output", "stop", i ? "two" : "one");
	assert_int_equal(ir_evlog_append(plain, other, evs, 2, &f->ctx), 0);
	assert_int_equal(ir_evlog_ledger_head(plain, &h, &f->ctx), 0);
	for (i = 0; i < 2; i++)
		free_event(evs[i]);

	for (i = 0; i < 2; i++)
		evs[i] = event("step.output", "stop", i ? "two" : "one");
	p.extra = event("checkpoint", NULL, "sealed");
	p.fail = -EIO;
	assert_int_equal(ir_evlog_append_sealed(f->log, id, evs, 2,
						probe_seal, &p, &f->ctx),
			 -EIO);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_int_equal(inc.events, 1); /* nothing went in */
	p.fail = 0;
	assert_int_equal(ir_evlog_append_sealed(f->log, id, evs, 2,
						probe_seal, &p, &f->ctx),
			 0);
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.seen.size, h.size);
	assert_memory_equal(p.seen.root, h.root, sizeof(h.root));
	assert_int_equal(evs[1]->seq, 3);
	assert_int_equal(p.extra->seq, 4);
	assert_int_equal(ir_evlog_incident(f->log, id, &inc, &f->ctx), 0);
	assert_int_equal(inc.events, 4);
	assert_int_equal(ir_evlog_ledger_head(f->log, &after, &f->ctx), 0);
	assert_int_equal(after.size, h.size + 1);
	for (i = 0; i < 2; i++)
		free_event(evs[i]);
	free_event(p.extra);
	ir_evlog_close(plain);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ids_and_header, setup, teardown),
		cmocka_unit_test_setup_teardown(header_edit_leaves_events,
						setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_file_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(closed_takes_only_notes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(append_and_chain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(ledger_over_incidents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(two_incidents_interleaved,
						setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_keeps_everything, setup,
						teardown),
		cmocka_unit_test_setup_teardown(flipped_byte_breaks_chain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(long_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(sealed_append, setup,
						teardown),
		cmocka_unit_test_setup_teardown(garbage_record_is_badmsg, setup,
						teardown),
		cmocka_unit_test_setup_teardown(seq_gap_and_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(count_disagrees, setup,
						teardown),
		cmocka_unit_test_setup_teardown(map_grows_when_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(scan_from_middle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(two_handles_share_the_log,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
