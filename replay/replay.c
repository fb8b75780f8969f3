#include "replay.h"

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

	(void)raw;
	(void)len;
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
};

/* Real time the recorded gap before ev takes: scaled, then capped. */
static uint64_t
scaled_gap(const struct player *p, uint64_t gap_rec)
{
	double s = (double)gap_rec / (double)NS_PER_SEC / p->opts->speed;

	if (s > p->opts->max_idle)
		s = p->opts->max_idle;
	if (s > REPLAY_MAX_GAP_S)
		s = REPLAY_MAX_GAP_S;
	return (uint64_t)(s * (double)NS_PER_SEC);
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
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
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
out:
	batch_clear(b);
	free(b);
	return rc;
}

/*
 * Export writes JSON itself, byte for byte what jansson prints (with
 * JSON_COMPACT) for ir_jsonval_event(): key order v, seq, ts, mono, type,
 * step, data, prev; binary as lower-case hex; strings that are not UTF-8
 * with every byte >= 0x80 or NUL replaced by '?'; unsigned values above
 * INT64_MAX as reals.  The unit test holds the two to the same bytes on
 * every event.  Building and dumping jansson objects costs several times
 * the scan itself, and an export of a long incident must stay close to a
 * plain read of it.
 */
struct jw {
	char *p;
	size_t len, cap;
	bool failed;
};

static bool
jw_room(struct jw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->failed)
		return false;
	if (w->cap - w->len >= n)
		return true;
	cap = w->cap ? w->cap : EXPORT_FLUSH + 4096;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(w->p, cap);
	if (!p) {
		w->failed = true;
		return false;
	}
	w->p = p;
	w->cap = cap;
	return true;
}

static void
jw_put(struct jw *w, const void *s, size_t n)
{
	if (!jw_room(w, n))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

#define jw_lit(w, s) jw_put((w), (s), sizeof(s) - 1)

static void
jw_i64(struct jw *w, int64_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *q = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	jw_put(w, q, (size_t)(e - q));
}

/* jansson's real format: %.17g, '.' whatever the locale, no '+' and no
 * leading zeros in the exponent, ".0" when it would read as an integer. */
static void
jw_real(struct jw *w, double d)
{
	char tmp[40], *e;
	int n = snprintf(tmp, sizeof(tmp) - 2, "%.17g", d);

	if (n < 0 || (size_t)n >= sizeof(tmp) - 2) {
		w->failed = true;
		return;
	}
	for (char *c = tmp; *c; c++)
		if (*c == ',')
			*c = '.';
	e = strchr(tmp, 'e');
	if (e) {
		char *from = e + 1, *to = e + 1;

		if (*from == '+')
			from++;
		else if (*from == '-')
			from++, to++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
	} else if (!strchr(tmp, '.')) {
		strcat(tmp, ".0");
	}
	jw_put(w, tmp, strlen(tmp));
}

/* Length of the valid UTF-8 sequence (as jansson accepts it) at p, which
 * starts with a byte >= 0x80; 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t v, min;
	size_t len;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, v = p[0] & 0x1f, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, v = p[0] & 0x0f, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, v = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return len;
}

/* Byte classes for strings: 0 copied as is, 1 escaped, 2 the start of a
 * multi-byte sequence (or not UTF-8). */
static const unsigned char jw_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static void
jw_escape(struct jw *w, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = w->p + w->len;

	o[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		o[1] = (char)c;
		break;
	case '\b':
		o[1] = 'b';
		break;
	case '\f':
		o[1] = 'f';
		break;
	case '\n':
		o[1] = 'n';
		break;
	case '\r':
		o[1] = 'r';
		break;
	case '\t':
		o[1] = 't';
		break;
	default:
		memcpy(o + 1, "u00", 3);
		o[4] = hex[c >> 4];
		o[5] = hex[c & 15];
		w->len += 6;
		return;
	}
	w->len += 2;
}

static void
jw_str(struct jw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = w->len, i = 0;
	bool replace = false;

	/* Worst case: every byte becomes \u00XX. */
	if (n > (SIZE_MAX - 2) / 6 || !jw_room(w, 6 * n + 2)) {
		w->failed = true;
		return;
	}
again:
	w->p[w->len++] = '"';
	while (i < n) {
		size_t run = i, k;

		while (run < n && !jw_class[p[run]])
			run++;
		memcpy(w->p + w->len, p + i, run - i);
		w->len += run - i;
		if (run == n)
			break;
		i = run + 1;
		if (jw_class[p[run]] == 1) {
			if (replace && !p[run])
				w->p[w->len++] = '?';
			else
				jw_escape(w, p[run]);
		} else if (replace) {
			w->p[w->len++] = '?';
		} else {
			k = utf8_seq(p + run, n - run);
			if (!k) {
				/* Not UTF-8: start over, every byte >= 0x80
				 * and NUL as '?'. */
				w->len = start;
				i = 0;
				replace = true;
				goto again;
			}
			memcpy(w->p + w->len, p + run, k);
			w->len += k;
			i = run + k;
		}
	}
	w->p[w->len++] = '"';
}

static void
jw_hex(struct jw *w, const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;

	if (n > (SIZE_MAX - 2) / 2 || !jw_room(w, 2 * n + 2)) {
		w->failed = true;
		return;
	}
	w->p[w->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		w->p[w->len++] = hex[p[i] >> 4];
		w->p[w->len++] = hex[p[i] & 15];
	}
	w->p[w->len++] = '"';
}

/* Recursion is bounded: the codec refuses values nested deeper than
 * IR_LIMIT_VALUE_DEPTH. */
static void
jw_val(struct jw *w, const struct ir_val *v)
{
	size_t i;

	if (!v) {
		jw_lit(w, "null");
		return;
	}
	switch (v->type) {
	case IR_VAL_NIL:
		jw_lit(w, "null");
		break;
	case IR_VAL_BOOL:
		if (v->as.b)
			jw_lit(w, "true");
		else
			jw_lit(w, "false");
		break;
	case IR_VAL_INT:
		jw_i64(w, v->as.i);
		break;
	case IR_VAL_UINT:
		if (v->as.u > (uint64_t)INT64_MAX)
			jw_real(w, (double)v->as.u);
		else
			jw_i64(w, (int64_t)v->as.u);
		break;
	case IR_VAL_STR:
		jw_str(w, v->as.str.ptr, v->as.str.len);
		break;
	case IR_VAL_BIN:
		jw_hex(w, v->as.str.ptr, v->as.str.len);
		break;
	case IR_VAL_ARRAY:
		jw_lit(w, "[");
		for (i = 0; i < v->as.arr.len; i++) {
			if (i)
				jw_lit(w, ",");
			jw_val(w, &v->as.arr.items[i]);
		}
		jw_lit(w, "]");
		break;
	case IR_VAL_MAP:
		jw_lit(w, "{");
		for (i = 0; i < v->as.map.len; i++) {
			const char *key = v->as.map.items[i].key;

			if (i)
				jw_lit(w, ",");
			jw_str(w, key, strlen(key));
			jw_lit(w, ":");
			jw_val(w, &v->as.map.items[i].val);
		}
		jw_lit(w, "}");
		break;
	}
}

static void
jw_event(struct jw *w, const struct ir_event *ev)
{
	jw_lit(w, "{\"v\":");
	jw_i64(w, IR_SCHEMA_VERSION);
	jw_lit(w, ",\"seq\":");
	jw_i64(w, (int64_t)ev->seq);
	jw_lit(w, ",\"ts\":");
	jw_i64(w, ev->ts);
	jw_lit(w, ",\"mono\":");
	jw_i64(w, (int64_t)ev->mono);
	jw_lit(w, ",\"type\":");
	jw_str(w, ev->type, strnlen(ev->type, sizeof(ev->type)));
	if (ev->step[0]) {
		jw_lit(w, ",\"step\":");
		jw_str(w, ev->step, strnlen(ev->step, sizeof(ev->step)));
	}
	jw_lit(w, ",\"data\":");
	if (ev->data)
		jw_val(w, ev->data);
	else
		jw_lit(w, "{}");
	jw_lit(w, ",\"prev\":");
	jw_hex(w, ev->prev, IR_HASH_LEN);
	jw_lit(w, "}\n");
}

struct exporter {
	FILE *out;
	struct jw text;
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

	(void)raw;
	(void)len;
	jw_event(&x->text, ev);
	if (x->text.failed)
		return -ENOMEM;
	if (x->text.len >= EXPORT_FLUSH)
		return export_flush(x);
	return 0;
}

int
ir_export_jsonl(FILE *out, struct ir_evlog *log, uint64_t id,
                struct ir_ctx *ctx)
{
	struct exporter x = {out, {NULL, 0, 0, false}, ctx};
	int rc;

	if (!out || !log)
		return -EINVAL;
	/* The chain is checked as we go: a tampered log fails the export
	 * (-EBADMSG) instead of being handed on as if it were sound. */
	rc = ir_evlog_scan(log, id, 1, IR_EVLOG_DECODE | IR_EVLOG_CHAIN,
	                   export_event, &x, ctx);
	if (rc == -ENOMEM)
		rc = ir_error_set(ctx, rc, IR_ORIGIN_NONE, 0,
		                  "export: out of memory");
	if (!rc)
		rc = export_flush(&x);
	if (!rc && fflush(out))
		rc = ir_error_set(ctx, -EIO, IR_ORIGIN_OS, errno,
		                  "export: write failed: %s", strerror(errno));
	free(x.text.p);
	return rc;
}
