#include "replay.h"

#include "hash.h"
#include "jsontext.h"
#include "marker.h"
#include "state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Events are read in batches of REPLAY_BATCH and delivered after the read
 * transaction has ended: a replay sleeps for minutes, and an LMDB reader
 * held that long would pin pages a concurrent rollback needs (the map would
 * grow instead of reusing them).
 */
#define REPLAY_BATCH 64
#define NS_PER_SEC 1000000000ULL
#define TICK_NS (100 * 1000 * 1000ULL)
/* A scaled gap is clamped to this before it becomes an integer (a tiny
 * speed with an unbounded max_idle must not overflow). */
#define REPLAY_MAX_GAP_S 1e9

/* Export: flush the JSON text to the stream at this size. */
#define EXPORT_FLUSH (64 * 1024)

/* The clock is read directly rather than through recorder/proc.h: replay
 * needs nothing else from the process module. */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / NS_PER_SEC),
	                      (long)(ns % NS_PER_SEC)};

	/* An interrupted sleep simply returns: the caller recomputes what
	 * is left against its absolute schedule. */
	nanosleep(&ts, NULL);
}

struct batch {
	struct ir_event ev[REPLAY_BATCH];
	size_t n;
	uint8_t head[IR_HASH_LEN]; /* SHA-256 of the last record read */
	uint64_t head_seq;
};

static void
batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		ir_event_clear(&b->ev[i]);
	b->n = 0;
}

static int
batch_collect(void *payload, const struct ir_event *ev, const void *raw,
              size_t len)
{
	struct batch *b = payload;
	struct ir_event *dst = &b->ev[b->n];

	/* The chain head the last marker names is the last record's hash:
	 * the one this replay read, whatever was appended since. */
	ir_sha256(b->head, raw, len);
	b->head_seq = ev->seq;
	*dst = *ev;
	dst->data = NULL;
	if (ev->data) {
		dst->data = ir_val_dup(ev->data);
		if (!dst->data)
			return -ENOMEM;
	}
	b->n++;
	return b->n == REPLAY_BATCH ? 1 : 0;
}

struct player {
	const struct ir_replay_opts *opts;
	uint64_t start;     /* real clock at the start of the replay */
	uint64_t due;       /* real ns after start the last event was due */
	uint64_t last_mono; /* recorded mono of the last event */
	struct ir_state st; /* what the markers read */
};

uint64_t
ir_replay_gap_ns(double speed, double max_idle, uint64_t gap_rec)
{
	double s = (double)gap_rec / (double)NS_PER_SEC / speed;

	if (s > max_idle)
		s = max_idle;
	if (s > REPLAY_MAX_GAP_S)
		s = REPLAY_MAX_GAP_S;
	return (uint64_t)(s * (double)NS_PER_SEC);
}

static uint64_t
scaled_gap(const struct player *p, uint64_t gap_rec)
{
	return ir_replay_gap_ns(p->opts->speed, p->opts->max_idle, gap_rec);
}

static void
mark(struct player *p, uint64_t mono, const char *label)
{
	uint64_t t0 = now_ns();

	p->opts->on_marker(p->opts->payload, mono, label);
	/* A pause at the marker moves the rest of the schedule with it. */
	p->start += now_ns() - t0;
}

static void
marker(struct player *p, const struct ir_event *ev)
{
	char label[IR_MARKER_BYTES];

	if (ir_marker_label(label, sizeof(label), &p->st, ev))
		mark(p, ev->mono, label);
}

static void
play(struct player *p, const struct ir_event *ev)
{
	const struct ir_replay_opts *o = p->opts;
	uint64_t gap_rec =
	    ev->mono > p->last_mono ? ev->mono - p->last_mono : 0;
	uint64_t gap = scaled_gap(p, gap_rec);
	uint64_t due = p->due + gap;
	bool ticked = false;

	for (;;) {
		uint64_t now = now_ns() - p->start;
		uint64_t left = now < due ? due - now : 0;

		/* A gap ticks at least once, even behind schedule, so the
		 * consumer sees time move before the event. */
		if (o->on_tick && gap && (left || !ticked)) {
			/* Recorded time moves evenly across the (possibly
			 * capped) gap, so timers reach the event's mono
			 * when it arrives. */
			double frac = 1.0 - (double)left / (double)gap;

			if (frac < 0)
				frac = 0;
			o->on_tick(o->payload,
			           p->last_mono +
			               (uint64_t)((double)gap_rec * frac));
			ticked = true;
		}
		if (!left)
			break;
		sleep_ns(left < TICK_NS ? left : TICK_NS);
	}
	p->due = due;
	if (ev->mono > p->last_mono)
		p->last_mono = ev->mono;
	if (o->on_event)
		o->on_event(o->payload, ev);
	if (o->on_marker)
		marker(p, ev);
	ir_state_apply(&p->st, ev);
}

static int
chain_only(void *payload, const struct ir_event *ev, const void *raw,
           size_t len)
{
	(void)payload;
	(void)ev;
	(void)raw;
	(void)len;
	return 0;
}

int
ir_replay_run(struct ir_evlog *log, uint64_t id,
              const struct ir_replay_opts *opts, struct ir_ctx *ctx)
{
	struct batch *b = NULL;
	struct player p;
	uint64_t from = 1;
	int rc = 0;

	if (!log || !opts)
		return -EINVAL;
	if (!(opts->speed > 0))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "replay: the speed must be above 0");
	if (!(opts->max_idle >= 0))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "replay: the idle cap must not be "
		                    "negative");
	/* The batches below read from the middle of the chain, where it
	 * cannot be checked: check it whole first, so that a tampered
	 * incident is refused (-EBADMSG) before anything plays. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_CHAIN, chain_only, NULL, ctx);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
	ir_state_init(&p.st);
	p.opts = opts;
	p.start = now_ns();
	for (;;) {
		rc = ir_evlog_scan(log, id, from, IR_EVLOG_DECODE,
		                   batch_collect, b, ctx);
		if (rc)
			goto out;
		for (size_t i = 0; i < b->n; i++)
			play(&p, &b->ev[i]);
		if (b->n < REPLAY_BATCH)
			break;
		from = b->ev[b->n - 1].seq + 1;
		batch_clear(b);
	}
	if (opts->on_marker && b->head_seq) {
		char label[IR_MARKER_BYTES];

		ir_marker_head(label, sizeof(label), b->head, b->head_seq);
		mark(&p, p.last_mono, label);
	}
out:
	batch_clear(b);
	free(b);
	return rc;
}

/*
 * Export converts each stored event straight from its msgpack bytes to
 * JSON (ir_codec_json): byte for byte what jansson prints with
 * JSON_COMPACT for ir_jsonval_event() of the decoded event, without
 * building a value tree per event.  The unit test holds the two to the
 * same bytes.  The chain is checked alongside, on the scan's second
 * thread.
 */
struct exporter {
	FILE *out;
	struct ir_jtext text;
	uint64_t id;
	struct ir_ctx *ctx;
};

static int
export_flush(struct exporter *x)
{
	if (x->text.len &&
	    fwrite(x->text.p, 1, x->text.len, x->out) != x->text.len)
		return ir_error_set(x->ctx, -EIO, IR_ORIGIN_OS, errno,
				    "export: write failed: %s",
				    strerror(errno));
	x->text.len = 0;
	return 0;
}

static int
export_event(void *payload, const struct ir_event *ev, const void *raw,
	     size_t len)
{
	struct exporter *x = payload;
	struct ir_event_head head;
	int rc = ir_codec_json(&x->text, &head, raw, len);

	if (rc == -ENOMEM)
		return ir_error_set(x->ctx, rc, IR_ORIGIN_NONE, 0,
				    "export: out of memory");
	rc = ir_evlog_check_raw(x->id, ev, &head, rc, x->ctx);
	if (rc)
		return rc;
	ir_jtext_lit(&x->text, "\n");
	if (x->text.len >= EXPORT_FLUSH)
		return export_flush(x);
	return 0;
}

int
ir_export_jsonl(FILE *out, struct ir_evlog *log, uint64_t id,
		struct ir_ctx *ctx)
{
	struct exporter x = { out, { NULL, 0, 0, false }, id, ctx };
	int rc;

	if (!out || !log)
		return -EINVAL;
	/* A tampered log fails the export (-EBADMSG, naming the first bad
	 * event) instead of being handed on as if it were sound.  The output
	 * streams: the lines written before the failure may run a few
	 * thousand events past the break, so a reader checks the exit
	 * status, as after any failed write. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_RAW | IR_EVLOG_CHAIN,
			   export_event, &x, ctx);
	if (!rc)
		rc = export_flush(&x);
	if (!rc && fflush(out))
		rc = ir_error_set(ctx, -EIO, IR_ORIGIN_OS, errno,
				  "export: write failed: %s", strerror(errno));
	ir_jtext_clear(&x.text);
	return rc;
}
