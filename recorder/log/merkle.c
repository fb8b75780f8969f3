#include "merkle.h"

#include <errno.h>
#include <string.h>

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
ir_merkle_leaf_data(uint8_t out[IR_LEDGER_LEAF_LEN], uint64_t id,
		    uint64_t seq, const uint8_t event_hash[IR_SHA256_LEN])
{
	put_be64(out, id);
	put_be64(out + 8, seq);
	memcpy(out + 16, event_hash, IR_SHA256_LEN);
}

void
ir_merkle_leaf_hash(uint8_t out[IR_SHA256_LEN], const void *p, size_t len)
{
	uint8_t buf[1 + IR_LEDGER_LEAF_LEN];
	struct ir_sha256 *h;

	if (len <= IR_LEDGER_LEAF_LEN) {
		buf[0] = 0x00;
		memcpy(buf + 1, p, len);
		ir_sha256(out, buf, len + 1);
		return;
	}
	h = ir_sha256_new();
	if (!h) {
		/* Out of memory hashing more than a leaf of ours: a root
		 * that matches nothing, never a wrong "verified". */
		memset(out, 0xff, IR_SHA256_LEN);
		return;
	}
	ir_sha256_update(h, "", 1);
	ir_sha256_update(h, p, len);
	ir_sha256_final(h, out);
	ir_sha256_free(h);
}

void
ir_merkle_node(uint8_t out[IR_SHA256_LEN], const uint8_t l[IR_SHA256_LEN],
	       const uint8_t r[IR_SHA256_LEN])
{
	uint8_t buf[1 + 2 * IR_SHA256_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, IR_SHA256_LEN);
	memcpy(buf + 1 + IR_SHA256_LEN, r, IR_SHA256_LEN);
	ir_sha256(out, buf, sizeof(buf));
}

void
ir_merkle_frontier_init(struct ir_merkle_frontier *f)
{
	f->size = 0;
}

void
ir_merkle_frontier_push(struct ir_merkle_frontier *f,
			const uint8_t leaf[IR_SHA256_LEN])
{
	uint8_t h[IR_SHA256_LEN];
	unsigned i;

	memcpy(h, leaf, IR_SHA256_LEN);
	/* Like a carry in binary addition: each full level merges into
	 * the one above. */
	for (i = 0; i < IR_MERKLE_LEVELS && (f->size >> i & 1); i++)
		ir_merkle_node(h, f->node[i], h);
	if (i < IR_MERKLE_LEVELS)
		memcpy(f->node[i], h, IR_SHA256_LEN);
	f->size++;
}

void
ir_merkle_frontier_root(const struct ir_merkle_frontier *f,
			uint8_t out[IR_SHA256_LEN])
{
	bool have = false;
	unsigned i;

	if (!f->size) {
		ir_sha256(out, "", 0);
		return;
	}
	/* The smallest subtree is the rightmost; each larger one to its
	 * left takes the rest as its right child. */
	for (i = 0; i < IR_MERKLE_LEVELS; i++) {
		if (!(f->size >> i & 1))
			continue;
		if (!have)
			memcpy(out, f->node[i], IR_SHA256_LEN);
		else
			ir_merkle_node(out, f->node[i], out);
		have = true;
	}
}

size_t
ir_merkle_frontier_encode(const struct ir_merkle_frontier *f, uint8_t *out)
{
	size_t len = 8;
	unsigned i;

	put_be64(out, f->size);
	for (i = 0; i < IR_MERKLE_LEVELS; i++) {
		if (!(f->size >> i & 1))
			continue;
		memcpy(out + len, f->node[i], IR_SHA256_LEN);
		len += IR_SHA256_LEN;
	}
	return len;
}

int
ir_merkle_frontier_decode(struct ir_merkle_frontier *f, const void *p,
			  size_t len)
{
	const uint8_t *b = p;
	size_t off = 8;
	unsigned i;

	if (len < 8)
		return -EBADMSG;
	f->size = get_be64(b);
	if (len != 8 + (size_t)__builtin_popcountll(f->size) * IR_SHA256_LEN)
		return -EBADMSG;
	for (i = 0; i < IR_MERKLE_LEVELS; i++) {
		if (!(f->size >> i & 1))
			continue;
		memcpy(f->node[i], b + off, IR_SHA256_LEN);
		off += IR_SHA256_LEN;
	}
	return 0;
}

/* The largest power of two below n (n > 1). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

struct proof {
	ir_merkle_range_fn fn;
	void *payload;
	uint8_t *out;
	size_t len;
};

static int
add_range(struct proof *p, uint64_t lo, uint64_t hi)
{
	if (p->len >= IR_MERKLE_PROOF_MAX)
		return -EOVERFLOW;
	return p->fn(p->payload, lo, hi, p->out + IR_SHA256_LEN * p->len++);
}

/* RFC 9162's SUBPROOF(m, D[lo:lo+n], whole), hashes appended in the
 * order the RFC lists them. */
static int
subproof(struct proof *p, uint64_t m, uint64_t lo, uint64_t n, bool whole)
{
	uint64_t k;
	int rc;

	if (m == n)
		return whole ? 0 : add_range(p, lo, lo + n);
	k = split(n);
	if (m <= k) {
		rc = subproof(p, m, lo, k, whole);
		return rc ? rc : add_range(p, lo + k, lo + n);
	}
	rc = subproof(p, m - k, lo + k, n - k, false);
	return rc ? rc : add_range(p, lo, lo + k);
}

int
ir_merkle_consistency(uint64_t m, uint64_t n, ir_merkle_range_fn fn,
		      void *payload, uint8_t *proof, size_t *len)
{
	struct proof p = { fn, payload, proof, 0 };
	int rc;

	*len = 0;
	if (!m || m > n)
		return -EINVAL;
	rc = subproof(&p, m, 0, n, true);
	*len = p.len;
	return rc;
}

bool
ir_merkle_consistent(uint64_t m, uint64_t n, const uint8_t old[IR_SHA256_LEN],
		     const uint8_t new[IR_SHA256_LEN],
		     const uint8_t *proof, size_t len)
{
	uint8_t fr[IR_SHA256_LEN], sr[IR_SHA256_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (!m || m > n)
		return false;
	if (m == n)
		return !len && !memcmp(old, new, IR_SHA256_LEN);
	/* When m is a power of two its root is a node of the proof. */
	if (!(m & (m - 1))) {
		memcpy(fr, old, IR_SHA256_LEN);
	} else {
		if (!len)
			return false;
		memcpy(fr, proof, IR_SHA256_LEN);
		i++;
	}
	memcpy(sr, fr, IR_SHA256_LEN);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		const uint8_t *c = proof + IR_SHA256_LEN * i;

		if (!sn)
			return false;
		if ((fn & 1) || fn == sn) {
			ir_merkle_node(fr, c, fr);
			ir_merkle_node(sr, c, sr);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ir_merkle_node(sr, sr, c);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return !sn && !memcmp(fr, old, IR_SHA256_LEN) &&
	       !memcmp(sr, new, IR_SHA256_LEN);
}
