#include "testutil.h"

#include "codec.h"

static struct ir_event
sample(void)
{
	struct ir_event ev = { 0 };

	ev.seq = 3;
	ev.ts = 1764108000123456789LL;
	ev.mono = 42000000;
	strcpy(ev.type, "step.output");
	strcpy(ev.step, "stop");
	ev.data = ir_val_map_new();
	ir_val_set_str(ev.data, "stream", "out");
	ir_val_set_str(ev.data, "line", "stopping trading_node");
	memset(ev.prev, 0xab, sizeof(ev.prev));
	return ev;
}

static void
round_trip(void **state)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample(), back = { 0 };
	struct ir_event_head h;

	assert_int_equal(ir_codec_encode(&b, &ev), 0);
	assert_int_equal(ir_codec_decode(&back, b.data, b.len), 0);
	assert_int_equal(back.seq, 3);
	assert_int_equal(back.ts, ev.ts);
	assert_int_equal(back.mono, ev.mono);
	assert_string_equal(back.type, "step.output");
	assert_string_equal(back.step, "stop");
	assert_string_equal(ir_val_get_str(back.data, "line"),
			    "stopping trading_node");
	assert_memory_equal(back.prev, ev.prev, 32);
	assert_int_equal(ir_codec_peek(&h, b.data, b.len), 0);
	assert_int_equal(h.seq, 3);
	assert_string_equal(h.type, "step.output");
	ir_event_clear(&ev);
	ir_event_clear(&back);
	ir_buf_clear(&b);
}

static void
no_step_key_when_empty(void **state)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample(), back = { 0 };

	ev.step[0] = '\0';
	assert_int_equal(ir_codec_encode(&b, &ev), 0);
	assert_null(memmem(b.data, b.len, "\xa4step", 5));
	assert_int_equal(ir_codec_decode(&back, b.data, b.len), 0);
	assert_string_equal(back.step, "");
	ir_event_clear(&ev);
	ir_event_clear(&back);
	ir_buf_clear(&b);
}

/* Every prefix of a valid record is refused, and so is every single-byte
 * corruption that breaks the structure; none of them may crash. */
static void
truncation_and_flips(void **state)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample(), back;
	size_t i;

	assert_int_equal(ir_codec_encode(&b, &ev), 0);
	for (i = 0; i < b.len; i++) {
		memset(&back, 0, sizeof(back));
		assert_int_equal(ir_codec_decode(&back, b.data, i), -EBADMSG);
	}
	for (i = 0; i < b.len; i++) {
		uint8_t saved = b.data[i];
		int rc;

		b.data[i] ^= 0xff;
		memset(&back, 0, sizeof(back));
		rc = ir_codec_decode(&back, b.data, b.len);
		assert_true(rc == 0 || rc == -EBADMSG);
		if (!rc)
			ir_event_clear(&back);
		b.data[i] = saved;
	}
	ir_event_clear(&ev);
	ir_buf_clear(&b);
}

/* A declared length far beyond the bytes present must be refused before
 * anything is allocated for it. */
static void
huge_lengths(void **state)
{
	static const uint8_t array32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t map32[] = { 0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a' };
	static const uint8_t bin32[] = { 0xc6, 0x10, 0x00, 0x00, 0x00, 'a' };
	static const uint8_t trailing[] = { 0x80, 0x80 };
	static const uint8_t never[] = { 0xc1 };

	assert_int_equal(ir_codec_check(array32, sizeof(array32)), -EBADMSG);
	assert_int_equal(ir_codec_check(map32, sizeof(map32)), -EBADMSG);
	assert_int_equal(ir_codec_check(str32, sizeof(str32)), -EBADMSG);
	assert_int_equal(ir_codec_check(bin32, sizeof(bin32)), -EBADMSG);
	assert_int_equal(ir_codec_check(trailing, sizeof(trailing)),
			 -EBADMSG);
	assert_int_equal(ir_codec_check(never, sizeof(never)), -EBADMSG);
	assert_int_equal(ir_codec_check(trailing, 1), 0);
}

static void
wrong_version_or_missing_fields(void **state)
{
	/* {"v":2,...} is not ours; {} misses everything. */
	static const uint8_t empty_map[] = { 0x80 };
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample(), back = { 0 };
	uint8_t *v;

	assert_int_equal(ir_codec_decode(&back, empty_map, 1), -EBADMSG);
	assert_int_equal(ir_codec_encode(&b, &ev), 0);
	v = memmem(b.data, b.len, "\xa1v\x01", 3);
	assert_non_null(v);
	v[2] = 2;
	assert_int_equal(ir_codec_decode(&back, b.data, b.len), -EBADMSG);
	ir_event_clear(&ev);
	ir_buf_clear(&b);
}

static void
failed_builder_refused(void **state)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample();

	ev.data->failed = true;
	assert_int_equal(ir_codec_encode(&b, &ev), -ENOMEM);
	assert_int_equal(b.len, 0);
	ir_event_clear(&ev);
	ir_buf_clear(&b);
}

static void
refuses_what_it_could_not_read(void **state)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct ir_event ev = sample();

	ev.type[0] = '\0';
	assert_int_equal(ir_codec_encode(&b, &ev), -EINVAL);
	strcpy(ev.type, "note");
	ev.seq = 0;
	assert_int_equal(ir_codec_encode(&b, &ev), -EINVAL);
	assert_int_equal(b.len, 0);
	ir_event_clear(&ev);
	ir_buf_clear(&b);
}

static void
buffer_cap(void **state)
{
	struct ir_buf b = IR_BUF_INIT(16);
	struct ir_event ev = sample();

	assert_int_equal(ir_codec_encode(&b, &ev), -ENOSPC);
	assert_int_equal(b.len, 0);
	ir_event_clear(&ev);
	ir_buf_clear(&b);
}

/*
 * Hand-made records for the rules of the in-place reader (codec_view.c),
 * which every reader of the fixed fields goes through, msgpack-c's decode
 * included: each field's accepted encodings as msgpack-c reads them.
 */
struct rec {
	uint8_t b[512];
	size_t n;
};

static void
put(struct rec *r, const void *p, size_t n)
{
	assert_true(r->n + n <= sizeof(r->b));
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void
put_str(struct rec *r, const char *s)
{
	uint8_t t = (uint8_t)(0xa0 | strlen(s));

	assert_true(strlen(s) < 32);
	put(r, &t, 1);
	put(r, s, strlen(s));
}

/* An encoded value; V("...") for a literal, which may hold NULs. */
struct enc {
	const char *p;
	size_t n;
};

#define V(lit) ((struct enc){ (lit), sizeof(lit) - 1 })

enum { F_V, F_SEQ, F_TS, F_MONO, F_TYPE, F_STEP, F_DATA, F_PREV, F_N };

/* The fields of a record, each as its encoded value ({NULL} leaves it
 * out), and extra key/value bytes to put before prev. */
struct fields {
	struct enc f[F_N];
	struct enc extra;
};

static struct fields
base(void)
{
	struct fields f = { { { 0 } }, { 0 } };

	f.f[F_V] = V("\x01");
	f.f[F_SEQ] = V("\x05");
	f.f[F_TS] = V("\xcf\x18\x7b\x5e\xe1\x1d\x6c\xc0\x00");
	f.f[F_MONO] = V("\x07");
	f.f[F_TYPE] = V("\xa4note");
	f.f[F_DATA] = V("\x80");
	f.f[F_PREV] = V("\xc4\x20"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
	return f;
}

static struct rec
build(const struct fields *f)
{
	static const char *keys[F_N] = { "v",    "seq",  "ts",   "mono",
					 "type", "step", "data", "prev" };
	struct rec r = { .n = 0 };
	uint8_t pairs = 0x80;
	int i;

	for (i = 0; i < F_N; i++)
		pairs += f->f[i].p != NULL;
	pairs += f->extra.p != NULL;
	put(&r, &pairs, 1);
	for (i = 0; i < F_N; i++) {
		if (i == F_PREV && f->extra.p)
			put(&r, f->extra.p, f->extra.n);
		if (!f->f[i].p)
			continue;
		put_str(&r, keys[i]);
		put(&r, f->f[i].p, f->f[i].n);
	}
	return r;
}

/* ir_codec_view() of the record; decode and the chain's reading of prev
 * must agree with it. */
static int
view(const struct fields *f, struct ir_event_head *h)
{
	struct rec r = build(f);
	struct ir_event back = { 0 };
	int rc = ir_codec_view(h, NULL, r.b, r.n);

	assert_int_equal(ir_codec_decode(&back, r.b, r.n), rc);
	ir_event_clear(&back);
	if (!rc) {
		const uint8_t *prev = ir_codec_prev_at_end(r.b, r.n);

		assert_non_null(prev);
		assert_memory_equal(prev, h->prev, 32);
	}
	return rc;
}

/* view() of base() with field k set to e. */
static int
view_with(int k, struct enc e, struct ir_event_head *h)
{
	struct fields f = base();

	f.f[k] = e;
	return view(&f, h);
}

static void
view_rules(void **state)
{
	struct fields f = base();
	struct ir_event_head h;
	struct rec r;

	assert_int_equal(view(&f, &h), 0);
	assert_int_equal(h.seq, 5);
	assert_int_equal(h.ts, 1764108000000000000LL);
	assert_int_equal(h.mono, 7);
	assert_string_equal(h.type, "note");
	assert_string_equal(h.step, "");
	assert_memory_equal(h.prev, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32);
	/* one byte more, or two less, is not a record */
	r = build(&f);
	r.b[r.n++] = 0xc0;
	assert_int_equal(ir_codec_view(&h, NULL, r.b, r.n), -EBADMSG);
	assert_int_equal(ir_codec_view(&h, NULL, r.b, r.n - 2), -EBADMSG);

	/* A signed encoding of a positive number is a number, as msgpack-c
	 * reads it; a negative seq, a zero seq, a ts past INT64_MAX are
	 * not. */
	assert_int_equal(view_with(F_SEQ, V("\xd0\x05"), &h), 0);
	assert_int_equal(h.seq, 5);
	assert_int_equal(view_with(F_TS, V("\xd3\xff\xff\xff\xff\xff\xff\xff"
					   "\xfe"),
				   &h),
			 0);
	assert_int_equal(h.ts, -2);
	assert_int_equal(view_with(F_SEQ, V("\xe0"), &h), -EBADMSG);
	assert_int_equal(view_with(F_SEQ, V("\xcc\x00"), &h), -EBADMSG);
	assert_int_equal(view_with(F_TS, V("\xcf\x80\0\0\0\0\0\0\0"), &h),
			 -EBADMSG);
	/* version 2, a missing field */
	assert_int_equal(view_with(F_V, V("\x02"), &h), -EBADMSG);
	assert_int_equal(view_with(F_MONO, (struct enc){ NULL, 0 }, &h),
			 -EBADMSG);
	/* names: in a str8, NUL inside, too long for the field, just fits */
	assert_int_equal(view_with(F_STEP, V("\xd9\x05start"), &h), 0);
	assert_string_equal(h.step, "start");
	assert_int_equal(view_with(F_TYPE, V("\xa3" "a\0b"), &h), -EBADMSG);
	assert_int_equal(view_with(F_STEP, V("\xb0"
					     "0123456789abcdef"),
				   &h),
			 -EBADMSG);
	assert_int_equal(view_with(F_STEP, V("\xaf"
					     "0123456789abcde"),
				   &h),
			 0);
	assert_string_equal(h.step, "0123456789abcde");
	/* data must be a map; prev a bin 8 of exactly 32, and the last
	 * field, as the encoder writes it (the chain is checked on the last
	 * bytes) */
	assert_int_equal(view_with(F_DATA, V("\x90"), &h), -EBADMSG);
	assert_int_equal(view_with(F_PREV, V("\xc4\x1f"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"),
				   &h),
			 -EBADMSG);
	assert_int_equal(view_with(F_PREV, V("\xc5\x00\x20"
					     "ZBCDEFGHIJKLMNOPQRSTUVWXYZ012345"),
				   &h),
			 -EBADMSG);
	r = build(&f);
	memcpy(r.b + r.n, "\xa1x\x01", 3); /* a field after prev */
	r.b[0]++;
	assert_int_equal(ir_codec_view(&h, NULL, r.b, r.n + 3), -EBADMSG);
	/* A second prev earlier on: the last one counts, and it is the one
	 * at the end. */
	f.extra = V("\xa4prev\xc4\x20"
		    "abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(view(&f, &h), 0);
	assert_int_equal(h.prev[0], 'A');
	/* a key that is not a str is stepped over, value and all; of a
	 * repeated key the last one counts */
	f.extra = V("\x01\x92\x01\x02");
	assert_int_equal(view(&f, &h), 0);
	f.extra = V("\xa3seq\x09");
	assert_int_equal(view(&f, &h), 0);
	assert_int_equal(h.seq, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(no_step_key_when_empty),
		cmocka_unit_test(truncation_and_flips),
		cmocka_unit_test(huge_lengths),
		cmocka_unit_test(wrong_version_or_missing_fields),
		cmocka_unit_test(failed_builder_refused),
		cmocka_unit_test(refuses_what_it_could_not_read),
		cmocka_unit_test(buffer_cap),
		cmocka_unit_test(view_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
