/*
 * The mirror of each node's log in etcd: a digest per event (type, step,
 * ts, SHA-256 of its stored bytes; never output lines), at most one txn's
 * worth at a time, and the node's head, so etcd witnesses each log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fleet_lib.h"
#include "hash.h"

struct mirror_batch {
	struct ir_fleet *f;
	uint64_t inc;
	size_t n;
	char *key[IR_ETCD_TXN_OPS];
	char *val[IR_ETCD_TXN_OPS];
	uint64_t last_seq;
	int64_t last_ts;
	char last_hex[IR_SHA256_HEX];
	int rc;
};

static void
batch_clear(struct mirror_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->key[i]);
		free(b->val[i]);
	}
	b->n = 0;
}

/* A checkpoint event that names a signed root (not one that failed). */
static void
note_checkpoint(struct ir_fleet *f, uint64_t inc, const struct ir_event *ev)
{
	const uint8_t *root;

	if (!ir_checkpoint_of_event(ev, &f->cp_size, &root))
		return;
	f->cp_inc = inc;
	ir_hex(f->cp_root, root, IR_SHA256_LEN);
}

static int
on_event(void *payload, const struct ir_event *ev, const void *raw,
	 size_t len)
{
	struct mirror_batch *b = payload;
	uint8_t sum[IR_SHA256_LEN];
	char key[400];
	json_t *j;

	if (b->n == IR_ETCD_TXN_OPS - 1)
		return 1; /* a transaction's worth: flush, then go on */
	ir_sha256(sum, raw, len);
	ir_hex(b->last_hex, sum, sizeof(sum));
	snprintf(key, sizeof(key), "%sdigest/%s/%010llu/%010llu",
		 b->f->prefix, b->f->node, (unsigned long long)b->inc,
		 (unsigned long long)ev->seq);
	j = json_object();
	json_object_set_new(j, "type", json_string(ev->type));
	if (ev->step[0])
		json_object_set_new(j, "step", json_string(ev->step));
	json_object_set_new(j, "ts", json_integer(ev->ts));
	json_object_set_new(j, "sha256", json_string(b->last_hex));
	b->key[b->n] = strdup(key);
	b->val[b->n] = ir_fleet_dump(j);
	if (!b->key[b->n] || !b->val[b->n]) {
		free(b->key[b->n]);
		free(b->val[b->n]);
		b->rc = -ENOMEM;
		return 1;
	}
	b->n++;
	b->last_seq = ev->seq;
	b->last_ts = ev->ts;
	note_checkpoint(b->f, b->inc, ev);
	return 0;
}

static int
flush_batch(struct mirror_batch *b, int64_t now, struct ir_ctx *ctx)
{
	struct ir_etcd_op ops[IR_ETCD_TXN_OPS];
	struct ir_etcd_txn_result r;
	char head_key[300], *head;
	json_t *j = json_object();
	size_t i;
	int rc;

	json_object_set_new(j, "inc", json_integer((json_int_t)b->inc));
	json_object_set_new(j, "seq", json_integer((json_int_t)b->last_seq));
	json_object_set_new(j, "sha256", json_string(b->last_hex));
	json_object_set_new(j, "ts", json_integer(b->last_ts));
	json_object_set_new(j, "mirrored_ts", json_integer(now));
	if (b->f->cp_inc == b->inc) {
		json_object_set_new(j, "checkpoint_size",
				    json_integer((json_int_t)b->f->cp_size));
		json_object_set_new(j, "checkpoint_root",
				    json_string(b->f->cp_root));
	}
	head = ir_fleet_dump(j);
	if (!head)
		return -ENOMEM;
	ir_fleet_node_key(b->f, head_key, sizeof(head_key), "head", b->f->node);
	for (i = 0; i < b->n; i++)
		ops[i] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, b->key[i], NULL,
					      b->val[i], 0 };
	ops[b->n] = (struct ir_etcd_op){ IR_ETCD_OP_PUT, head_key, NULL, head,
					 0 };
	rc = ir_etcd_txn(b->f->etcd, NULL, 0, ops, b->n + 1, NULL, 0, &r, ctx);
	ir_etcd_kvs_clear(&r.got);
	free(head);
	return rc;
}

int
ir_fleet_mirror(struct ir_fleet *f, struct ir_evlog *log, uint64_t inc,
		uint64_t *mirrored, int64_t now, struct ir_ctx *ctx)
{
	struct mirror_batch b = { .f = f, .inc = inc };
	int rc;

	for (;;) {
		b.rc = 0;
		/* Decoded: a checkpoint's root rides in its data. */
		rc = ir_evlog_scan(log, inc, *mirrored + 1, IR_EVLOG_DECODE,
				   on_event, &b, ctx);
		if (!rc)
			rc = b.rc;
		if (!rc && b.n)
			rc = flush_batch(&b, now, ctx);
		if (rc || !b.n) {
			batch_clear(&b);
			return rc;
		}
		*mirrored = b.last_seq;
		batch_clear(&b);
	}
}

static int
digest_parse(const struct ir_fleet *f, const struct ir_etcd_kv *kv,
	     struct ir_fleet_digest *d)
{
	const char *rest = ir_fleet_suffix_of(f, kv->key, "digest/");
	const char *slash = rest ? strchr(rest, '/') : NULL;
	unsigned long long inc, seq;
	json_t *j;

	memset(d, 0, sizeof(*d));
	if (!slash || (size_t)(slash - rest) >= sizeof(d->node) ||
	    sscanf(slash + 1, "%llu/%llu", &inc, &seq) != 2)
		return -EBADMSG;
	memcpy(d->node, rest, (size_t)(slash - rest));
	d->inc = inc;
	d->seq = seq;
	d->rev = kv->mod_rev;
	j = ir_fleet_parse(kv);
	if (!j)
		return -EBADMSG;
	ir_fleet_jstr(d->type, sizeof(d->type), j, "type");
	ir_fleet_jstr(d->step, sizeof(d->step), j, "step");
	ir_fleet_jstr(d->sha256, sizeof(d->sha256), j, "sha256");
	d->ts = ir_fleet_jint(j, "ts");
	json_decref(j);
	return 0;
}

int
ir_fleet_digests_read(struct ir_fleet *f, const char *node,
		      struct ir_fleet_digests *out, struct ir_ctx *ctx)
{
	struct ir_etcd_kvs kvs = { 0 };
	char from[300], end[300];
	size_t i;
	int rc;

	if (node)
		ir_fleet_node_key(f, from, sizeof(from), "digest", node);
	else
		ir_fleet_key(f, from, sizeof(from), "digest");
	snprintf(from + strlen(from), sizeof(from) - strlen(from), "/");
	ir_etcd_prefix_end(end, sizeof(end), from);
	rc = ir_etcd_range(f->etcd, from, end, &kvs, ctx);
	for (i = 0; !rc && i < kvs.n; i++) {
		if (out->n == out->cap) {
			size_t cap = out->cap ? 2 * out->cap : 64;
			void *p = realloc(out->d, cap * sizeof(*out->d));

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			out->d = p;
			out->cap = cap;
		}
		if (!digest_parse(f, &kvs.kv[i], &out->d[out->n]))
			out->n++;
	}
	ir_etcd_kvs_clear(&kvs);
	return rc;
}

void
ir_fleet_digests_clear(struct ir_fleet_digests *d)
{
	free(d->d);
	memset(d, 0, sizeof(*d));
}

int
ir_fleet_head_read(struct ir_fleet *f, const char *node,
		   struct ir_fleet_head *out, struct ir_ctx *ctx)
{
	struct ir_etcd_kvs kvs = { 0 };
	char key[300];
	json_t *j;
	int rc;

	ir_fleet_node_key(f, key, sizeof(key), "head", node);
	rc = ir_etcd_range(f->etcd, key, NULL, &kvs, ctx);
	if (!rc && !kvs.n)
		rc = -ENOENT;
	j = rc ? NULL : ir_fleet_parse(&kvs.kv[0]);
	if (!rc && !j)
		rc = -EBADMSG;
	if (!rc) {
		memset(out, 0, sizeof(*out));
		out->inc = (uint64_t)ir_fleet_jint(j, "inc");
		out->seq = (uint64_t)ir_fleet_jint(j, "seq");
		ir_fleet_jstr(out->sha256, sizeof(out->sha256), j, "sha256");
		out->ts = ir_fleet_jint(j, "ts");
		out->mirrored_ts = ir_fleet_jint(j, "mirrored_ts");
		out->checkpoint_size =
			(uint64_t)ir_fleet_jint(j, "checkpoint_size");
		ir_fleet_jstr(out->checkpoint_root,
			      sizeof(out->checkpoint_root), j,
			      "checkpoint_root");
	}
	json_decref(j);
	ir_etcd_kvs_clear(&kvs);
	return rc;
}
