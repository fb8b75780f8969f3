#include "evlog.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "evlog_lib.h"
#include "hash.h"
#include "ir_limits.h"

/* Below this much free space, an EIO from a commit is a full disk. */
#define IR_EVLOG_ROOM_MIN (1024 * 1024)

/* Inside a write transaction, MDB_MAP_FULL is not an error yet: the caller
 * aborts, grows the map and retries.  This positive value carries it up. */
#define MAP_FULL 1

/* LMDB mixes its own MDB_* codes with errno values: translate once. */
int
ir_evlog_lmdb_error(struct ir_ctx *ctx, int native, const char *what)
{
	int code;

	switch (native) {
	case MDB_NOTFOUND:
		code = -ENOENT;
		break;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		code = -ENOSPC;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		code = -EBADMSG;
		break;
	case MDB_READERS_FULL:
		code = -EAGAIN;
		break;
	default:
		code = native > 0 ? -native : -EIO;
		break;
	}
	return ir_error_set(ctx, code, IR_ORIGIN_LMDB, native,
			    "event log: %s: %s", what, mdb_strerror(native));
}

volatile sig_atomic_t ir_evlog_walking;

bool
ir_evlog_reading(void)
{
	return ir_evlog_walking > 0;
}

/*
 * LMDB does not say where it mapped the file (MDB_envinfo's me_mapaddr is
 * only set for MDB_FIXEDMAP): find the mapping of data.mdb's inode in
 * /proc/self/maps.  Not found: the range checks are off (map_hi 0).
 */
void
ir_evlog_note_map(struct ir_evlog *log)
{
	char file[4200], line[4600];
	unsigned long long lo, hi, off, ino;
	struct stat st;
	FILE *maps;

	log->map_lo = log->map_hi = 0;
	snprintf(file, sizeof(file), "%s/data.mdb", log->dir);
	if (stat(file, &st))
		return;
	maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %llu", &lo, &hi, &off,
			   &ino) != 4 ||
		    ino != (unsigned long long)st.st_ino || off)
			continue;
		log->map_lo = (uintptr_t)lo;
		log->map_hi = (uintptr_t)lo + log->mapsize;
		break;
	}
	fclose(maps);
}

static int
grow(struct ir_evlog *log, struct ir_ctx *ctx)
{
	size_t next = log->mapsize * 2;
	int rc;

	if (next > IR_LIMIT_MAP_MAX)
		return ir_error_set(ctx, -ENOSPC, IR_ORIGIN_LMDB, MDB_MAP_FULL,
				    "event log: map would exceed %llu bytes",
				    (unsigned long long)IR_LIMIT_MAP_MAX);
	rc = mdb_env_set_mapsize(log->env, next);
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "grow map");
	log->mapsize = next;
	ir_evlog_note_map(log);
	return 0;
}

/* Another process grew the map: adopt its size. */
static int
adopt_mapsize(struct ir_evlog *log, struct ir_ctx *ctx)
{
	MDB_envinfo info;
	int rc = mdb_env_set_mapsize(log->env, 0);

	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "adopt map size");
	mdb_env_info(log->env, &info);
	log->mapsize = info.me_mapsize;
	ir_evlog_note_map(log);
	return 0;
}

int
ir_evlog_begin(struct ir_evlog *log, unsigned flags, MDB_txn **txn,
               struct ir_ctx *ctx)
{
	int rc = mdb_txn_begin(log->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		rc = adopt_mapsize(log, ctx);
		if (rc)
			return rc;
		rc = mdb_txn_begin(log->env, NULL, flags, txn);
	}
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "begin transaction");
	return 0;
}

/*
 * A commit that failed for want of room.  LMDB reports a short write as
 * EIO ("Input/output error"), which is what a full disk mid-commit looks
 * like: ask the file system, and say what it is, with the path.
 */
static int
commit_error(struct ir_evlog *log, int native, struct ir_ctx *ctx)
{
	struct statvfs vfs;
	uint64_t avail;

	if (native != EIO && native != ENOSPC && native != EDQUOT)
		return ir_evlog_lmdb_error(ctx, native, "commit");
	if (statvfs(log->dir, &vfs))
		return ir_evlog_lmdb_error(ctx, native, "commit");
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (native == EIO && avail >= IR_EVLOG_ROOM_MIN)
		return ir_evlog_lmdb_error(ctx, native, "commit");
	return ir_error_set(ctx, native == EDQUOT ? -EDQUOT : -ENOSPC,
			    IR_ORIGIN_LMDB, native,
			    "event log \"%s/data.mdb\": %s (%llu KiB free): "
			    "the last events were not recorded; free space, "
			    "then run the command again",
			    log->dir,
			    native == EDQUOT ? "disk quota exceeded"
					     : "no space left on device",
			    (unsigned long long)(avail / 1024));
}

/* Header <-> msgpack map. */
static int
header_encode(struct ir_buf *out, const struct ir_incident *inc)
{
	struct ir_val *m = ir_val_map_new();
	int rc;

	if (!m)
		return -ENOMEM;
	ir_val_set_uint(m, "id", inc->id);
	ir_val_set_str(m, "kind", inc->kind);
	ir_val_set_str(m, "status", inc->status);
	ir_val_set_int(m, "opened", inc->opened);
	ir_val_set_int(m, "closed", inc->closed);
	ir_val_set_str(m, "from", inc->from);
	ir_val_set_str(m, "target", inc->target);
	ir_val_set_uint(m, "events", inc->events);
	ir_val_set_bin(m, "head", inc->head, IR_HASH_LEN);
	rc = ir_codec_encode_val(out, m);
	ir_val_free(m);
	return rc;
}

static void
copy_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static int
header_decode(struct ir_incident *out, const void *p, size_t len)
{
	struct ir_val *m = NULL;
	const struct ir_val *head;
	int64_t n;
	int rc = ir_codec_decode_val(&m, p, len);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	head = ir_val_get(m, "head");
	if (!ir_val_as_int(ir_val_get(m, "id"), &n) || n <= 0 || !head ||
	    head->type != IR_VAL_BIN || head->as.str.len != IR_HASH_LEN ||
	    !ir_val_get_str(m, "status")) {
		rc = -EBADMSG;
		goto out;
	}
	out->id = (uint64_t)n;
	copy_str(out->kind, sizeof(out->kind), ir_val_get_str(m, "kind"));
	copy_str(out->status, sizeof(out->status),
		 ir_val_get_str(m, "status"));
	out->opened = ir_val_get_int(m, "opened", 0);
	out->closed = ir_val_get_int(m, "closed", 0);
	copy_str(out->from, sizeof(out->from), ir_val_get_str(m, "from"));
	copy_str(out->target, sizeof(out->target),
		 ir_val_get_str(m, "target"));
	out->events = (uint64_t)ir_val_get_int(m, "events", 0);
	memcpy(out->head, head->as.str.ptr, IR_HASH_LEN);
out:
	ir_val_free(m);
	return rc;
}

int
ir_evlog_header_get(struct ir_evlog *log, MDB_txn *txn, uint64_t id,
	   struct ir_incident *out, struct ir_ctx *ctx)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	int rc;

	ir_evlog_put_be64(key, id);
	rc = ir_lmdb_get(log, txn, log->incidents, &k, &v);
	if (rc == MDB_NOTFOUND)
		return ir_error_set(ctx, -ENOENT, IR_ORIGIN_USAGE, 0,
				    "no incident INC-%llu",
				    (unsigned long long)id);
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "read incident");
	if (header_decode(out, v.mv_data, v.mv_size) || out->id != id)
		return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "INC-%llu: corrupt incident header",
				    (unsigned long long)id);
	return 0;
}

int
ir_evlog_header_put(struct ir_evlog *log, MDB_txn *txn,
		    const struct ir_incident *inc, struct ir_ctx *ctx)
{
	struct ir_buf b = IR_BUF_INIT(0);
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	int rc;

	ir_evlog_put_be64(key, inc->id);
	rc = header_encode(&b, inc);
	if (rc)
		goto out;
	v.mv_size = b.len;
	v.mv_data = b.data;
	rc = IR_EVLOG_WALK(mdb_put(txn, log->incidents, &k, &v, 0));
	if (rc == MDB_MAP_FULL)
		rc = MAP_FULL;
	else if (rc)
		rc = ir_evlog_lmdb_error(ctx, rc, "write incident");
out:
	ir_buf_clear(&b);
	return rc;
}

void
ir_evlog_header_follow(struct ir_incident *inc, const struct ir_event *ev)
{
	if (!strcmp(ev->type, "incident.opened")) {
		copy_str(inc->kind, sizeof(inc->kind),
			 ir_val_get_str(ev->data, "kind"));
		inc->opened = ev->ts;
	} else if (!strcmp(ev->type, "target.chosen")) {
		copy_str(inc->from, sizeof(inc->from),
			 ir_val_get_str(ev->data, "from"));
		copy_str(inc->target, sizeof(inc->target),
			 ir_val_get_str(ev->data, "to"));
	} else if (!strcmp(ev->type, "incident.closed")) {
		copy_str(inc->status, sizeof(inc->status),
			 ir_val_get_str(ev->data, "status"));
		inc->closed = ev->ts;
	}
}

/*
 * The ledger's write side (the rest is evlog_ledger.c): its edge, loaded
 * and stored in the appending transaction, and one leaf per event.
 */
static const MDB_val frontier_key = { 6, "ledger" };

/* In a write transaction the page may be one it has already written,
 * which is not in the map: only the value's length is checked then, by
 * its reader. */
int
ir_evlog_meta_get(struct ir_evlog *log, MDB_txn *txn, bool writing,
		  MDB_val *k, MDB_val *v)
{
	if (writing)
		return IR_EVLOG_WALK(mdb_get(txn, log->meta, k, v));
	return ir_lmdb_get(log, txn, log->meta, k, v);
}

int
ir_evlog_ledger_load(struct ir_evlog *log, MDB_txn *txn, bool writing,
		     struct ir_merkle_frontier *f, struct ir_ctx *ctx)
{
	MDB_val k = frontier_key, v;
	int rc;

	ir_merkle_frontier_init(f);
	if (!log->has_ledger)
		return 0;
	rc = ir_evlog_meta_get(log, txn, writing, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "read the ledger");
	ir_evlog_walking++;
	rc = ir_merkle_frontier_decode(f, v.mv_data, v.mv_size);
	ir_evlog_walking--;
	if (rc)
		return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				    "the event log %s/data.mdb is damaged: "
				    "its ledger's edge does not decode",
				    log->dir);
	return 0;
}

int
ir_evlog_ledger_add(MDB_cursor *cur, struct ir_merkle_frontier *f,
		    uint64_t id, uint64_t seq, const uint8_t hash[IR_HASH_LEN])
{
	uint8_t key[8], leaf[IR_LEDGER_LEAF_LEN], h[IR_SHA256_LEN];
	MDB_val k = { 8, key }, v = { sizeof(leaf), leaf };
	int rc;

	ir_merkle_leaf_data(leaf, id, seq, hash);
	ir_merkle_leaf_hash(h, leaf, sizeof(leaf));
	ir_evlog_put_be64(key, f->size);
	rc = IR_EVLOG_WALK(mdb_cursor_put(cur, &k, &v, MDB_APPEND));
	if (rc)
		return rc;
	ir_merkle_frontier_push(f, h);
	return 0;
}

int
ir_evlog_ledger_store(struct ir_evlog *log, MDB_txn *txn,
		      const struct ir_merkle_frontier *f)
{
	uint8_t buf[IR_MERKLE_FRONTIER_MAX];
	MDB_val k = frontier_key, v = { 0, buf };

	v.mv_size = ir_merkle_frontier_encode(f, buf);
	return IR_EVLOG_WALK(mdb_put(txn, log->meta, &k, &v, 0));
}

/* The events' leaves, in the transaction that writes them: LMDB's code,
 * or a negative errno. */
static int
ledger_put(struct ir_evlog *log, MDB_txn *txn, uint64_t id,
	   struct ir_event *const *events, size_t n,
	   struct ir_merkle_frontier *tree, struct ir_ctx *ctx)
{
	MDB_cursor *cur = NULL;
	size_t i;
	int rc;

	rc = ir_evlog_ledger_load(log, txn, true, tree, ctx);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, log->ledger, &cur);
	for (i = 0; !rc && i < n; i++)
		rc = ir_evlog_ledger_add(cur, tree, id, events[i]->seq,
					 log->hashes[i]);
	if (cur)
		mdb_cursor_close(cur);
	return rc ? rc : ir_evlog_ledger_store(log, txn, tree);
}

static int
put_events(struct ir_evlog *log, MDB_txn *txn, struct ir_incident *inc,
	   struct ir_event *const *events, size_t n,
	   struct ir_ledger_head *head, struct ir_ctx *ctx)
{
	struct ir_merkle_frontier tree;
	MDB_cursor *cur = NULL;
	size_t i;
	int rc;

	if (n > log->offsets_cap) {
		size_t *o = realloc(log->offsets, (n + 1) * sizeof(*o));
		uint8_t(*h)[IR_HASH_LEN];

		if (!o)
			return -ENOMEM;
		log->offsets = o;
		h = realloc(log->hashes, n * sizeof(*h));
		if (!h)
			return -ENOMEM;
		log->hashes = h;
		log->offsets_cap = n;
	}
	ir_buf_reset(&log->scratch);
	for (i = 0; i < n; i++) {
		struct ir_event *ev = events[i];

		/* A closed incident takes notes, observations (how its
		 * webhooks were told) and the checkpoint of its close, and
		 * nothing else: a second executor
		 * that got past the lock cannot go on running steps of one
		 * that the first has closed. */
		if (inc->closed && strcmp(ev->type, "note") &&
		    strcmp(ev->type, "observation") &&
		    strcmp(ev->type, "checkpoint"))
			return ir_error_set(ctx, -ESTALE, IR_ORIGIN_LOCK, 0,
					    "INC-%llu is already closed (%s): "
					    "%s refused",
					    (unsigned long long)inc->id,
					    inc->status, ev->type);
		ev->seq = inc->events + 1;
		memcpy(ev->prev, inc->head, IR_HASH_LEN);
		log->offsets[i] = log->scratch.len;
		rc = ir_codec_encode(&log->scratch, ev);
		if (rc)
			return ir_error_set(ctx, rc, IR_ORIGIN_MSGPACK, 0,
					    "INC-%llu: cannot encode %s",
					    (unsigned long long)inc->id,
					    ev->type);
		ir_sha256(inc->head, log->scratch.data + log->offsets[i],
			  log->scratch.len - log->offsets[i]);
		memcpy(log->hashes[i], inc->head, IR_HASH_LEN);
		inc->events = ev->seq;
		ir_evlog_header_follow(inc, ev);
	}
	log->offsets[n] = log->scratch.len;

	rc = mdb_cursor_open(txn, log->events, &cur);
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "open cursor");
	for (i = 0; i < n; i++) {
		uint8_t key[16];
		MDB_val k = { 16, key };
		MDB_val v = { log->offsets[i + 1] - log->offsets[i],
			      log->scratch.data + log->offsets[i] };

		ir_evlog_put_be64(key, inc->id);
		ir_evlog_put_be64(key + 8, events[i]->seq);
		/* Appending at the end is the common case and cheapest; a
		 * note on an older incident lands in the middle. */
		rc = IR_EVLOG_WALK(mdb_cursor_put(cur, &k, &v, MDB_APPEND));
		if (rc == MDB_KEYEXIST) {
			v.mv_size = log->offsets[i + 1] - log->offsets[i];
			v.mv_data = log->scratch.data + log->offsets[i];
			rc = IR_EVLOG_WALK(mdb_put(txn, log->events, &k, &v,
						   MDB_NOOVERWRITE));
		}
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	if (!rc)
		rc = ledger_put(log, txn, inc->id, events, n, &tree, ctx);
	if (rc == MDB_MAP_FULL)
		return MAP_FULL;
	if (rc)
		return rc < 0 ? rc : ir_evlog_lmdb_error(ctx, rc, "write event");
	if (head) {
		head->size = tree.size;
		ir_merkle_frontier_root(&tree, head->root);
	}
	return ir_evlog_header_put(log, txn, inc, ctx);
}

static int
next_id(struct ir_evlog *log, MDB_txn *txn, struct ir_incident *inc,
	struct ir_ctx *ctx)
{
	MDB_val k = { 7, "next_id" }, v;
	uint8_t next[8];
	int rc;

	memset(inc, 0, sizeof(*inc));
	copy_str(inc->status, sizeof(inc->status), "open");
	rc = ir_lmdb_get(log, txn, log->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		inc->id = 1;
	else if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "next incident id");
	else if (v.mv_size != 8)
		return ir_evlog_lmdb_error(ctx, MDB_CORRUPTED,
		                           "next incident id");
	else
		inc->id = ir_evlog_get_be64(v.mv_data);
	ir_evlog_put_be64(next, inc->id + 1);
	v.mv_size = 8;
	v.mv_data = next;
	rc = IR_EVLOG_WALK(mdb_put(txn, log->meta, &k, &v, 0));
	if (rc == MDB_MAP_FULL)
		return MAP_FULL;
	if (rc)
		return ir_evlog_lmdb_error(ctx, rc, "next incident id");
	return 0;
}

/* Run one write transaction, growing the map and retrying on MDB_MAP_FULL.
 * `create` allocates a new incident id for events[0]. */
static int
write_txn(struct ir_evlog *log, uint64_t *id, bool create,
	  struct ir_event *const *events, size_t n, ir_evlog_seal_fn seal,
	  void *payload, struct ir_ctx *ctx)
{
	for (;;) {
		struct ir_ledger_head head;
		struct ir_event *extra = NULL;
		struct ir_incident inc;
		MDB_txn *txn = NULL;
		int rc;

		rc = ir_evlog_begin(log, 0, &txn, ctx);
		if (rc)
			return rc;
		if (create)
			rc = next_id(log, txn, &inc, ctx);
		else
			rc = ir_evlog_header_get(log, txn, *id, &inc, ctx);
		if (!rc)
			rc = put_events(log, txn, &inc, events, n,
					seal ? &head : NULL, ctx);
		if (!rc && seal)
			rc = seal(payload, &head, &extra);
		if (!rc && extra)
			rc = put_events(log, txn, &inc, &extra, 1, NULL, ctx);
		if (rc) {
			mdb_txn_abort(txn);
		} else {
			rc = mdb_txn_commit(txn);
			if (rc == MDB_MAP_FULL)
				rc = MAP_FULL;
			else if (rc)
				return commit_error(log, rc, ctx);
			else
				*id = inc.id;
		}
		if (rc != MAP_FULL)
			return rc;
		rc = grow(log, ctx);
		if (rc)
			return rc;
	}
}

int
ir_evlog_create(struct ir_evlog *log, uint64_t *out_id,
		struct ir_event *opened, struct ir_ctx *ctx)
{
	uint64_t id = 0;
	int rc;

	if (!log || !out_id || !opened ||
	    strcmp(opened->type, "incident.opened"))
		return -EINVAL;
	rc = write_txn(log, &id, true, &opened, 1, NULL, NULL, ctx);
	if (!rc)
		*out_id = id;
	return rc;
}

int
ir_evlog_append(struct ir_evlog *log, uint64_t id,
		struct ir_event *const *events, size_t n, struct ir_ctx *ctx)
{
	if (!log || !events)
		return -EINVAL;
	if (!n)
		return 0;
	return write_txn(log, &id, false, events, n, NULL, NULL, ctx);
}

int
ir_evlog_append_sealed(struct ir_evlog *log, uint64_t id,
		       struct ir_event *const *events, size_t n,
		       ir_evlog_seal_fn seal, void *payload,
		       struct ir_ctx *ctx)
{
	if (!log || !events || !n || !seal)
		return -EINVAL;
	return write_txn(log, &id, false, events, n, seal, payload, ctx);
}

int
ir_evlog_incident(struct ir_evlog *log, uint64_t id, struct ir_incident *out,
		  struct ir_ctx *ctx)
{
	MDB_txn *txn = NULL;
	int rc = ir_evlog_begin(log, MDB_RDONLY, &txn, ctx);

	if (rc)
		return rc;
	rc = ir_evlog_header_get(log, txn, id, out, ctx);
	mdb_txn_abort(txn);
	return rc;
}

int
ir_evlog_last_id(struct ir_evlog *log, uint64_t *out, struct ir_ctx *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = ir_evlog_begin(log, MDB_RDONLY, &txn, ctx);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, log->incidents, &cur);
	if (!rc)
		rc = ir_lmdb_cursor_get(log, cur, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		rc = 0;
	} else if (!rc && k.mv_size == 8) {
		*out = ir_evlog_get_be64(k.mv_data);
	} else if (!rc) {
		rc = ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
				  "event log: bad incident key");
	} else {
		rc = ir_evlog_lmdb_error(ctx, rc, "last incident");
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int
ir_evlog_incidents(struct ir_evlog *log, ir_evlog_incident_fn fn,
		   void *payload, struct ir_ctx *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_cursor_op op = MDB_LAST;
	int rc = ir_evlog_begin(log, MDB_RDONLY, &txn, ctx);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, log->incidents, &cur);
	if (rc) {
		rc = ir_evlog_lmdb_error(ctx, rc, "open cursor");
		goto out;
	}
	for (;;) {
		struct ir_incident inc;

		rc = ir_lmdb_cursor_get(log, cur, &k, &v, op);
		op = MDB_PREV;
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = ir_evlog_lmdb_error(ctx, rc, "list incidents");
			break;
		}
		if (k.mv_size != 8 ||
		    header_decode(&inc, v.mv_data, v.mv_size)) {
			rc = ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			                  "event log: corrupt incident header");
			break;
		}
		rc = fn(payload, &inc);
		if (rc) {
			if (rc > 0)
				rc = 0;
			break;
		}
	}
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}
