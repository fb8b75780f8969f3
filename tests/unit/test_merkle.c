#include "testutil.h"

#include "merkle.h"

#define N_LEAVES 130

static uint8_t leaves[N_LEAVES][IR_SHA256_LEN];

/* RFC 6962's MTH, written as the RFC states it, to hold the frontier and
 * the proofs to. */
static void
mth(uint8_t out[IR_SHA256_LEN], uint64_t lo, uint64_t hi)
{
	uint8_t l[IR_SHA256_LEN], r[IR_SHA256_LEN];
	uint64_t k = 1;

	if (hi == lo) {
		ir_sha256(out, "", 0);
		return;
	}
	if (hi - lo == 1) {
		memcpy(out, leaves[lo], IR_SHA256_LEN);
		return;
	}
	while (k << 1 < hi - lo)
		k <<= 1;
	mth(l, lo, lo + k);
	mth(r, lo + k, hi);
	ir_merkle_node(out, l, r);
}

static int
range(void *payload, uint64_t lo, uint64_t hi, uint8_t out[IR_SHA256_LEN])
{
	(void)payload;
	mth(out, lo, hi);
	return 0;
}

static int
setup(void **state)
{
	uint8_t data[IR_LEDGER_LEAF_LEN], h[IR_SHA256_LEN];
	unsigned i;

	(void)state;
	for (i = 0; i < N_LEAVES; i++) {
		memset(h, (int)i, sizeof(h));
		ir_merkle_leaf_data(data, 1 + i / 7, 1 + i % 7, h);
		ir_merkle_leaf_hash(leaves[i], data, sizeof(data));
	}
	return 0;
}

static void
known_vectors(void **state)
{
	static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb924"
				    "27ae41e4649b934ca495991b7852b855";
	static const char leaf_of_nothing[] =
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
	struct ir_merkle_frontier f;
	uint8_t root[IR_SHA256_LEN];
	char hex[IR_SHA256_HEX];

	(void)state;
	ir_merkle_frontier_init(&f);
	ir_merkle_frontier_root(&f, root);
	ir_hex(hex, root, IR_SHA256_LEN);
	assert_string_equal(hex, empty);
	ir_merkle_leaf_hash(root, "", 0);
	ir_hex(hex, root, IR_SHA256_LEN);
	assert_string_equal(hex, leaf_of_nothing);
}

static void
frontier_matches_mth(void **state)
{
	uint8_t enc[IR_MERKLE_FRONTIER_MAX];
	struct ir_merkle_frontier f, back;
	uint8_t a[IR_SHA256_LEN], b[IR_SHA256_LEN];
	size_t len;
	unsigned n;

	(void)state;
	ir_merkle_frontier_init(&f);
	for (n = 0; n <= N_LEAVES; n++) {
		ir_merkle_frontier_root(&f, a);
		mth(b, 0, n);
		assert_memory_equal(a, b, IR_SHA256_LEN);
		len = ir_merkle_frontier_encode(&f, enc);
		assert_int_equal(ir_merkle_frontier_decode(&back, enc, len), 0);
		ir_merkle_frontier_root(&back, b);
		assert_memory_equal(a, b, IR_SHA256_LEN);
		assert_int_equal(back.size, n);
		if (len > 8)
			assert_int_equal(ir_merkle_frontier_decode(&back, enc,
								   len - 1),
					 -EBADMSG);
		if (n < N_LEAVES)
			ir_merkle_frontier_push(&f, leaves[n]);
	}
}

static void
proofs_verify(void **state)
{
	uint8_t proof[IR_MERKLE_PROOF_MAX * IR_SHA256_LEN];
	uint8_t old[IR_SHA256_LEN], new[IR_SHA256_LEN];
	uint8_t bigger[IR_SHA256_LEN];
	size_t len, i;
	uint64_t m, n;

	(void)state;
	for (n = 1; n <= 70; n++) {
		mth(new, 0, n);
		for (m = 1; m <= n; m++) {
			mth(old, 0, m);
			assert_int_equal(ir_merkle_consistency(m, n, range,
							       NULL, proof,
							       &len),
					 0);
			assert_true(ir_merkle_consistent(m, n, old, new,
							 proof, len));
			/* Any changed hash, root or size is refused. */
			for (i = 0; i < len; i++) {
				proof[i * IR_SHA256_LEN + 5] ^= 1;
				assert_false(ir_merkle_consistent(
					m, n, old, new, proof, len));
				proof[i * IR_SHA256_LEN + 5] ^= 1;
			}
			old[0] ^= 1;
			assert_false(ir_merkle_consistent(m, n, old, new,
							  proof, len));
			old[0] ^= 1;
			/* Nor does it prove the tree one leaf larger. */
			mth(bigger, 0, n + 1);
			assert_false(ir_merkle_consistent(m, n + 1, old, bigger,
							  proof, len));
		}
	}
	assert_int_equal(ir_merkle_consistency(0, 3, range, NULL, proof, &len),
			 -EINVAL);
	assert_int_equal(ir_merkle_consistency(4, 3, range, NULL, proof, &len),
			 -EINVAL);
}

/* A rewritten leaf changes every root from its place on, and none
 * before it. */
static void
rewrite_changes_root(void **state)
{
	uint8_t a[IR_SHA256_LEN], b[IR_SHA256_LEN], keep[IR_SHA256_LEN];
	uint64_t n;

	(void)state;
	memcpy(keep, leaves[40], IR_SHA256_LEN);
	for (n = 1; n <= N_LEAVES; n++) {
		mth(a, 0, n);
		leaves[40][0] ^= 1;
		mth(b, 0, n);
		leaves[40][0] ^= 1;
		if (n <= 40)
			assert_memory_equal(a, b, IR_SHA256_LEN);
		else
			assert_memory_not_equal(a, b, IR_SHA256_LEN);
	}
	assert_memory_equal(keep, leaves[40], IR_SHA256_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vectors),
		cmocka_unit_test(frontier_matches_mth),
		cmocka_unit_test(proofs_verify),
		cmocka_unit_test(rewrite_changes_root),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
