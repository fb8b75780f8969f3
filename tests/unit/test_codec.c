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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
