/*
 * The ledger's Merkle tree: RFC 6962 (and RFC 9162, section 2.1) hashing
 * over leaves appended in order.  Pure: no storage, no clock.
 *
 * A leaf is SHA-256(0x00 || data), an inner node SHA-256(0x01 || left ||
 * right), and the tree of n leaves splits at the largest power of two
 * below n.  The empty tree's root is SHA-256 of nothing.
 */
#ifndef IR_MERKLE_H
#define IR_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hash.h"

#define IR_MERKLE_LEVELS 64

/* The right edge of the tree: node[i] is the root of the perfect subtree
 * of 2^i leaves that bit i of size stands for.  Enough to append a leaf
 * and to compute the root, in O(log size). */
struct ir_merkle_frontier {
	uint64_t size;
	uint8_t node[IR_MERKLE_LEVELS][IR_SHA256_LEN];
};

/* The ledger's leaf: incident id, seq and SHA-256 of the event's stored
 * bytes, as 8 + 8 + 32 bytes (big-endian). */
#define IR_LEDGER_LEAF_LEN 48
void ir_merkle_leaf_data(uint8_t out[IR_LEDGER_LEAF_LEN], uint64_t id,
			 uint64_t seq, const uint8_t event_hash[IR_SHA256_LEN]);

/* SHA-256(0x00 || p[0..len)). */
void ir_merkle_leaf_hash(uint8_t out[IR_SHA256_LEN], const void *p,
			 size_t len);
/* SHA-256(0x01 || l || r); out may be l or r. */
void ir_merkle_node(uint8_t out[IR_SHA256_LEN],
		    const uint8_t l[IR_SHA256_LEN],
		    const uint8_t r[IR_SHA256_LEN]);

void ir_merkle_frontier_init(struct ir_merkle_frontier *f);
/* Append one leaf, given by its leaf hash. */
void ir_merkle_frontier_push(struct ir_merkle_frontier *f,
			     const uint8_t leaf[IR_SHA256_LEN]);
/* The root of the f->size leaves pushed so far. */
void ir_merkle_frontier_root(const struct ir_merkle_frontier *f,
			     uint8_t out[IR_SHA256_LEN]);

/* The frontier stored: size (8 bytes, big-endian) and then the nodes of
 * its set bits, lowest first.  _encode returns the length written into
 * out (at most IR_MERKLE_FRONTIER_MAX); _decode -EBADMSG for bytes that
 * are not one. */
#define IR_MERKLE_FRONTIER_MAX (8 + IR_MERKLE_LEVELS * IR_SHA256_LEN)
size_t ir_merkle_frontier_encode(const struct ir_merkle_frontier *f,
				 uint8_t *out);
int ir_merkle_frontier_decode(struct ir_merkle_frontier *f, const void *p,
			      size_t len) IR_WUR;

/* The hash of leaves [lo, hi) (a subtree of a proof), from the caller's
 * store: 0 or a negative errno. */
typedef int (*ir_merkle_range_fn)(void *payload, uint64_t lo, uint64_t hi,
				  uint8_t out[IR_SHA256_LEN]);

/* The consistency proof from the tree of m leaves to that of n (0 < m <=
 * n), RFC 9162 2.1.4.1: at most IR_MERKLE_PROOF_MAX hashes, one after
 * another, into proof, their count in *len. */
#define IR_MERKLE_PROOF_MAX (2 * IR_MERKLE_LEVELS)
int ir_merkle_consistency(uint64_t m, uint64_t n, ir_merkle_range_fn fn,
			  void *payload, uint8_t *proof, size_t *len) IR_WUR;

/* Whether proof shows that the tree of m leaves with root old is a
 * prefix of the tree of n leaves with root new (RFC 9162 2.1.4.2). */
bool ir_merkle_consistent(uint64_t m, uint64_t n,
			  const uint8_t old[IR_SHA256_LEN],
			  const uint8_t new[IR_SHA256_LEN],
			  const uint8_t *proof, size_t len);

#endif
