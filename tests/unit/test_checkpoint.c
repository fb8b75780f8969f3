#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
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

/* A key file: path := text, mode 0600. */
static void
write_text(const char *path, const char *text)
{
	tu_write_file(path, text);
	assert_int_equal(chmod(path, 0600), 0);
}

static void
read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The key file read straight (the PKCS#8 shape of an Ed25519 key) and
 * through OpenSSL (any other): the same key either way, and a key of
 * another kind in the very same shape refused. */
static void
key_layouts(void **state)
{
	struct fixture *f = *state;
	uint8_t pub[IR_ED25519_PUB], back[IR_ED25519_PUB], sig[IR_ED25519_SIG];
	char pem[512], other[600], path[600];
	struct ir_key *k = NULL;
	EVP_PKEY *x;
	FILE *out;

	ir_key_public(f->key, pub);
	read_text(f->path, pem, sizeof(pem));
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(ir_key_load(&k, f->path, &f->ctx), 0);
	ir_key_public(k, back);
	assert_memory_equal(pub, back, sizeof(pub));
	assert_int_equal(ir_key_sign(k, "note", 4, sig), 0);
	assert_true(ir_sig_check(pub, "note", 4, sig));
	assert_false(ir_sig_check(pub, "nope", 4, sig));
	ir_key_free(k);
	k = NULL;

	/* Text before the PEM: not the plain shape, read by OpenSSL. */
	snprintf(path, sizeof(path), "%s/commented.key", f->dir);
	snprintf(other, sizeof(other), "made by hand\n%s", pem);
	write_text(path, other);
	assert_int_equal(ir_key_load(&k, path, &f->ctx), 0);
	ir_key_public(k, back);
	assert_memory_equal(pub, back, sizeof(pub));
	ir_key_free(k);
	k = NULL;

	/* The shape, with nothing in it. */
	snprintf(path, sizeof(path), "%s/zeros.key", f->dir);
	write_text(path, "-----BEGIN PRIVATE KEY-----\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "-----END PRIVATE KEY-----\n");
	assert_int_equal(ir_key_load(&k, path, &f->ctx), -EINVAL);
	ir_error_clear(&f->ctx);

	/* An X25519 key is the same length, one byte of its OID apart. */
	x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	assert_non_null(x);
	snprintf(path, sizeof(path), "%s/x25519.key", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(PEM_write_PrivateKey(out, x, NULL, NULL, 0, NULL,
					      NULL),
			 1);
	fclose(out);
	EVP_PKEY_free(x);
	assert_int_equal(chmod(path, 0600), 0);
	read_text(path, other, sizeof(other));
	assert_int_equal(strlen(other), strlen(pem));
	assert_int_equal(ir_key_load(&k, path, &f->ctx), -EINVAL);
	assert_null(k);
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
		cmocka_unit_test_setup_teardown(key_layouts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
