#include "testutil.h"

#include <sys/stat.h>

#include "checkpoint.h"
#include "sign.h"

struct fixture {
	char *dir;
	char path[512], other[512];
	struct ir_key *key, *other_key;
	struct ir_ctx ctx;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_tempdir();
	snprintf(f->path, sizeof(f->path), "%s/checkpoint.key", f->dir);
	snprintf(f->other, sizeof(f->other), "%s/other.key", f->dir);
	assert_int_equal(ir_key_create(&f->key, f->path, &f->ctx), 0);
	assert_int_equal(ir_key_create(&f->other_key, f->other, &f->ctx), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ir_key_free(f->key);
	ir_key_free(f->other_key);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static void
sample(struct ir_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	snprintf(cp->origin, sizeof(cp->origin),
		 "host-1/incident/00112233445566778899aabbccddeeff");
	cp->size = 1234;
	memset(cp->root, 0xa5, sizeof(cp->root));
	snprintf(cp->when, sizeof(cp->when), "2026-12-02T19:00:00Z");
	snprintf(cp->what, sizeof(cp->what), "INC-7 after backup");
}

static void
sign_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_checkpoint cp, back, second;
	uint8_t pub[IR_ED25519_PUB], other[IR_ED25519_PUB];
	size_t pos = 0;

	sample(&cp);
	assert_int_equal(ir_checkpoint_sign(&cp, f->key, &b), 0);
	/* The C2SP shape: four body lines, a blank, an em-dash line. */
	assert_non_null(strstr((char *)b.data,
			       "host-1/incident/00112233445566778899aabbccddeeff"
			       "\n1234\n"));
	assert_non_null(strstr((char *)b.data, "\nincident 2026-12-02T19:00:00Z "
					       "INC-7 after backup\n\n\xe2\x80\x94 "
					       "host-1/incident/"));
	/* A second note after it, as a git note holds several. */
	cp.size = 1300;
	snprintf(cp.what, sizeof(cp.what), "INC-7 closed");
	assert_int_equal(ir_checkpoint_sign(&cp, f->key, &b), 0);

	assert_int_equal(ir_checkpoint_parse(&back, (char *)b.data, b.len,
					     &pos, &f->ctx),
			 0);
	assert_int_equal(back.size, 1234);
	assert_memory_equal(back.root, cp.root, 32);
	assert_string_equal(back.what, "INC-7 after backup");
	assert_string_equal(back.when, "2026-12-02T19:00:00Z");
	assert_int_equal(ir_checkpoint_parse(&second, (char *)b.data, b.len,
					     &pos, &f->ctx),
			 0);
	assert_int_equal(second.size, 1300);
	assert_int_equal(ir_checkpoint_parse(&second, (char *)b.data, b.len,
					     &pos, &f->ctx),
			 1);

	ir_key_public(f->key, pub);
	ir_key_public(f->other_key, other);
	assert_true(ir_checkpoint_signed_by(&back, pub));
	assert_false(ir_checkpoint_signed_by(&back, other));
	/* One changed byte of the body and the signature no longer holds. */
	back.body[back.body_len - 2] ^= 1;
	assert_false(ir_checkpoint_signed_by(&back, pub));
	ir_buf_clear(&b);
}

static void
bad_notes_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"origin\n12\n",
		"origin\n12\nroot\nincident x y\n\n\xe2\x80\x94 k AAAA\n",
		"origin\n-1\nAAAA\nincident x y\n\n\xe2\x80\x94 k AAAA\n",
		"origin\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		"incident x y\n\nno signature\n",
	};
	struct ir_checkpoint cp;
	size_t i, pos;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		pos = 0;
		assert_int_equal(ir_checkpoint_parse(&cp, bad[i],
						     strlen(bad[i]), &pos,
						     &f->ctx),
				 -EBADMSG);
		ir_error_clear(&f->ctx);
	}
}

static void
keys_on_disk(void **state)
{
	struct fixture *f = *state;
	uint8_t pub[IR_ED25519_PUB], back[IR_ED25519_PUB];
	struct ir_key *k = NULL;
	char pem[512];
	int n;

	/* Made 0600, never over a file that is there. */
	assert_int_equal(ir_key_create(&k, f->path, &f->ctx), -EEXIST);
	ir_error_clear(&f->ctx);
	assert_int_equal(ir_key_load(&k, f->path, &f->ctx), 0);
	ir_key_public(k, pub);
	ir_key_public(f->key, back);
	assert_memory_equal(pub, back, sizeof(pub));
	ir_key_free(k);
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(ir_key_load(&k, f->path, &f->ctx), -EPERM);
	ir_error_clear(&f->ctx);
	n = ir_pub_to_pem(pub, pem, sizeof(pem));
	assert_true(n > 0);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	assert_int_equal(ir_pub_from_pem(back, pem, (size_t)n), 0);
	assert_memory_equal(pub, back, sizeof(pub));
	assert_int_equal(ir_pub_from_pem(back, "nope", 4), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sign_and_read_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_notes_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(keys_on_disk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
