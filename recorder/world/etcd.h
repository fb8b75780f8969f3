/*
 * etcd v3 through its JSON gateway (the kv, lease and watch services):
 * ranges, puts, deletes, transactions with compares, leases and a watch
 * that waits a bounded time.  Keys and values travel base64-encoded; the
 * HTTP goes through health.c (libcurl), the JSON through jansson, and no
 * type of either crosses this header.
 *
 * Every call has a timeout.  The endpoints are tried in turn, starting
 * with the one that answered last: a member that refuses, times out or
 * answers with an error (no leader, no quorum) passes the call to the
 * next.  When none answers the error is -ETIMEDOUT (or the last member's
 * error), and the message names each endpoint and what it said.
 */
#ifndef IR_ETCD_H
#define IR_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct ir_etcd;

/* Open a client for endpoints, a comma-separated list of http(s) URLs;
 * timeout_ms bounds each request to one endpoint (connect: a third of
 * it).  -EINVAL for an empty list or a URL that is not http(s). */
int ir_etcd_new(struct ir_etcd **out, const char *endpoints,
		uint64_t timeout_ms, struct ir_ctx *ctx) IR_WUR;
void ir_etcd_free(struct ir_etcd *e);

/* One key as etcd holds it (value NUL-ended; it may hold NULs too). */
struct ir_etcd_kv {
	char *key;
	char *value;
	size_t value_len;
	int64_t create_rev, mod_rev, version, lease;
};

/* Keys read, and the store's revision at the read. */
struct ir_etcd_kvs {
	struct ir_etcd_kv *kv;
	size_t n, cap;
	int64_t revision;
};

void ir_etcd_kvs_clear(struct ir_etcd_kvs *r);
/* The kv of key in r, NULL when r does not hold it (borrowed). */
const struct ir_etcd_kv *ir_etcd_kvs_find(const struct ir_etcd_kvs *r,
					  const char *key);

/* The range end that covers every key starting with prefix (etcd's rule:
 * the prefix with its last byte plus one).  cap must hold the prefix. */
void ir_etcd_prefix_end(char *out, size_t cap, const char *prefix);

/* The keys in [key, end) (end NULL: key alone), sorted, into *out (clear
 * it with ir_etcd_kvs_clear whatever the result). */
int ir_etcd_range(struct ir_etcd *e, const char *key, const char *end,
		  struct ir_etcd_kvs *out, struct ir_ctx *ctx) IR_WUR;

/* Put key = value (lease 0: none); *rev (may be NULL) gets the revision
 * of the write. */
int ir_etcd_put(struct ir_etcd *e, const char *key, const char *value,
		int64_t lease, int64_t *rev, struct ir_ctx *ctx) IR_WUR;

/* Delete [key, end) (end NULL: key alone); *deleted (may be NULL) gets
 * how many keys went. */
int ir_etcd_delete(struct ir_etcd *e, const char *key, const char *end,
		   int64_t *deleted, struct ir_ctx *ctx) IR_WUR;

enum ir_etcd_target {
	IR_ETCD_VERSION,
	IR_ETCD_CREATE, /* create_revision: 0 for a key that is absent */
	IR_ETCD_MOD,    /* mod_revision */
	IR_ETCD_VALUE,
};

enum ir_etcd_result {
	IR_ETCD_EQUAL,
	IR_ETCD_GREATER,
	IR_ETCD_LESS,
	IR_ETCD_NOT_EQUAL,
};

struct ir_etcd_cmp {
	const char *key;
	enum ir_etcd_target target;
	enum ir_etcd_result result;
	int64_t num;       /* version and revisions */
	const char *value; /* IR_ETCD_VALUE */
};

enum ir_etcd_op_kind {
	IR_ETCD_OP_PUT,
	IR_ETCD_OP_DELETE,
	IR_ETCD_OP_GET,
};

struct ir_etcd_op {
	enum ir_etcd_op_kind kind;
	const char *key;
	const char *end;   /* DELETE, GET: NULL for key alone */
	const char *value; /* PUT */
	int64_t lease;     /* PUT */
};

/* etcd's own cap on operations in one transaction (--max-txn-ops). */
#define IR_ETCD_TXN_OPS 128

struct ir_etcd_txn_result {
	bool succeeded;        /* every compare held: `then` ran */
	int64_t revision;      /* the store's revision after it */
	struct ir_etcd_kvs got; /* what the branch's GETs read */
};

/* If every compare holds, run then[], else els[]; one atomic step.
 * More than IR_ETCD_TXN_OPS operations in a branch is -E2BIG.  Clear
 * out->got with ir_etcd_kvs_clear whatever the result. */
int ir_etcd_txn(struct ir_etcd *e, const struct ir_etcd_cmp *cmp,
		size_t ncmp, const struct ir_etcd_op *then, size_t nthen,
		const struct ir_etcd_op *els, size_t nels,
		struct ir_etcd_txn_result *out, struct ir_ctx *ctx) IR_WUR;

/* A lease of ttl_s seconds; *id gets its ID. */
int ir_etcd_lease_grant(struct ir_etcd *e, int64_t ttl_s, int64_t *id,
			struct ir_ctx *ctx) IR_WUR;
/* Renew lease id; *ttl gets the seconds it now has.  -ENOENT when the
 * lease has expired (or was revoked): its keys are gone. */
int ir_etcd_lease_keepalive(struct ir_etcd *e, int64_t id, int64_t *ttl,
			    struct ir_ctx *ctx) IR_WUR;
int ir_etcd_lease_revoke(struct ir_etcd *e, int64_t id,
			 struct ir_ctx *ctx) IR_WUR;

/* Wait up to wait_ms for a change to [key, end) (end NULL: key alone)
 * after revision start_rev - 1 (0: from now).  0 when one came (*rev, may
 * be NULL, gets its revision); 1 when the watch was set up and nothing
 * changed in time; a negative errno when no member would watch. */
int ir_etcd_watch(struct ir_etcd *e, const char *key, const char *end,
		  int64_t start_rev, uint64_t wait_ms, int64_t *rev,
		  struct ir_ctx *ctx) IR_WUR;

/* The endpoint that answered last (borrowed). */
const char *ir_etcd_endpoint(const struct ir_etcd *e);

#endif
