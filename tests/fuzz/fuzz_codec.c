/*
 * Fuzz target for the event codec: any bytes given to the decoder must
 * give 0 or -EBADMSG, never a crash, a leak or an unbounded allocation.
 *
 * Built with clang -fsanitize=fuzzer this is a libFuzzer target
 * (LLVMFuzzerTestOneInput).  Under gcc, main() below is a plain driver:
 * it replays the files given on the command line (a corpus) and a
 * deterministic set of mutations of valid events, in every test run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "jsontext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The in-place readers (codec_view.c) must agree with msgpack-c's
 * decoder on every input: same verdict, same fields. */
static void
same_head(const struct ir_event_head *h, const struct ir_event *ev)
{
	if (h->seq != ev->seq || h->ts != ev->ts || h->mono != ev->mono ||
	    strcmp(h->type, ev->type) || strcmp(h->step, ev->step) ||
	    memcmp(h->prev, ev->prev, sizeof(h->prev)))
		abort();
}

static void
readers_agree(const uint8_t *data, size_t size, int decode_rc,
	      const struct ir_event *ev)
{
	struct ir_event_head h, h2;
	struct ir_output_view out;
	struct ir_jtext j = { NULL, 0, 0, false };
	const uint8_t *prev;
	int rc = ir_codec_peek(&h, data, size), json_rc;

	if (rc && rc != -EBADMSG)
		abort();
	/* What decodes is read in place alike; what the view refuses does
	 * not decode. */
	if (!decode_rc && rc)
		abort();
	if (rc)
		return;
	if (!decode_rc)
		same_head(&h, ev);
	prev = ir_codec_prev_at_end(data, size);
	if (ir_codec_check(data, size) || !prev || memcmp(prev, h.prev, 32) ||
	    ir_codec_peek_output(&h2, &out, data, size) ||
	    memcmp(&h, &h2, sizeof(h)))
		abort();
	if (out.is_output != !strcmp(h.type, "step.output"))
		abort();
	if (!decode_rc && out.is_output && out.line &&
	    (!ir_val_get_str(ev->data, "line") ||
	     strlen(ir_val_get_str(ev->data, "line")) > out.line_len))
		abort();
	/* The data as JSON where, and only where, it decodes. */
	json_rc = ir_codec_json(&j, &h2, data, size);
	if ((json_rc == 0) != (decode_rc == 0))
		abort();
	ir_jtext_clear(&j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ir_event ev = { 0 };
	struct ir_event_head h;
	struct ir_val *v = NULL;
	int rc;

	rc = ir_codec_decode(&ev, data, size);
	if (rc && rc != -EBADMSG)
		abort();
	readers_agree(data, size, rc, &ev);
	if (!rc) {
		/* What decodes must encode again. */
		struct ir_buf b = IR_BUF_INIT(0);

		if (ir_codec_encode(&b, &ev))
			abort();
		ir_buf_clear(&b);
		ir_event_clear(&ev);
	}
	rc = ir_codec_peek(&h, data, size);
	if (rc && rc != -EBADMSG)
		abort();
	rc = ir_codec_decode_val(&v, data, size);
	if (rc && rc != -EBADMSG)
		abort();
	ir_val_free(v);
	return 0;
}

#ifndef IR_LIBFUZZER
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
seed(struct ir_buf *b, int which)
{
	struct ir_event ev = { 0 };
	struct ir_val *arr = ir_val_array_new(), *m = ir_val_map_new();

	ev.seq = (uint64_t)which + 1;
	ev.ts = 1764108000000000000LL;
	ev.mono = 123456789;
	snprintf(ev.type, sizeof(ev.type), "%s",
		 which == 4 ? "step.output"
		 : which ? "observation" : "target.chosen");
	if (which == 4) {
		snprintf(ev.step, sizeof(ev.step), "start");
		ev.data = ir_val_map_new();
		ir_val_set_str(ev.data, "stream", "err");
		ir_val_set_str(ev.data, "line", "ERROR pnl=-12 \"x\"");
		ir_val_set_int(ev.data, "dropped", 3);
		ir_val_set_bool(ev.data, "truncated", true);
		memset(ev.prev, 0x5a, sizeof(ev.prev));
		if (ir_codec_encode(b, &ev))
			abort();
		ir_event_clear(&ev);
		ir_val_free(arr);
		ir_val_free(m);
		return;
	}
	snprintf(ev.step, sizeof(ev.step), "checkout");
	ev.data = ir_val_map_new();
	ir_val_set_str(ev.data, "from", "deploy-20261125-150000");
	ir_val_set_int(ev.data, "latency_us", -which);
	ir_val_set_bin(ev.data, "sha", "\x01\x02\x03", 3);
	ir_val_set_str(m, "tag", "deploy-1");
	ir_val_push_take(arr, m);
	ir_val_push_int(arr, 7);
	ir_val_set_take(ev.data, "skipped", arr);
	ir_val_set_bool(ev.data, "over_budget", which & 1);
	if (ir_codec_encode(b, &ev))
		abort();
	ir_event_clear(&ev);
}

int
main(int argc, char **argv)
{
	unsigned long runs = 0;
	int i, s;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t buf[1 << 16];
		size_t n;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		runs++;
	}
	for (s = 0; s < 5; s++) {
		struct ir_buf b = IR_BUF_INIT(0);
		uint8_t *copy;
		int m;

		seed(&b, s);
		copy = malloc(b.len);
		for (m = 0; m < 20000; m++) {
			size_t k, flips = 1 + next() % 4;

			memcpy(copy, b.data, b.len);
			for (k = 0; k < flips; k++)
				copy[next() % b.len] = (uint8_t)next();
			LLVMFuzzerTestOneInput(copy, b.len - (next() % 3 ? 0 :
						next() % b.len));
			runs++;
		}
		free(copy);
		ir_buf_clear(&b);
	}
	printf("fuzz_codec: %lu inputs, no crash\n", runs);
	return 0;
}
#endif
