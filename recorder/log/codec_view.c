/*
 * Reading stored events in place, without msgpack-c.
 *
 * msgpack-c's C API has one way to read: unpack the whole record into an
 * object tree allocated from a zone.  The long scans (verify, reports,
 * timelines, export) read a million records of which nearly all are
 * step.output, and need only the fixed fields, the output line, or the
 * record as JSON; building and freeing a tree per record cost them more
 * than everything else they do.  So they read the bytes where they lie,
 * with this small bounds-checked reader.  The trees that are kept (event
 * data as values, incident headers) are still msgpack-c's (codec.c).
 *
 * A record the reader accepts is exactly one well-formed msgpack object
 * whose every declared length fits (what ir_codec_check() demands), with
 * the fixed fields of schema version 1, as ir_codec_decode() reads them.
 */
#include "codec.h"

#include <string.h>

#include "ir_limits.h"
#include "jsontext.h"

/*
 * Step over `count` msgpack objects from *off_io, checking as we go that
 * every declared length fits in the bytes left.  msgpack-c allocates a
 * container's slots from its declared count before it has seen the
 * elements, so a 5-byte record could ask it for gigabytes: this walk runs
 * before it is given anything.
 */
static int
skip_objects(const uint8_t *b, size_t len, size_t *off_io, uint64_t count)
{
	size_t off = *off_io, pending = count;

	while (pending) {
		uint64_t n = 0, skip = 0, items = 0;
		uint8_t t;

		if (off >= len)
			return -EBADMSG;
		t = b[off++];
		pending--;
#define NEED(k)                                                               \
	do {                                                                  \
		if (len - off < (k))                                          \
			return -EBADMSG;                                      \
	} while (0)
#define BE(k)                                                                 \
	do {                                                                  \
		NEED(k);                                                      \
		n = 0;                                                        \
		for (int i_ = 0; i_ < (k); i_++)                              \
			n = n << 8 | b[off++];                                \
	} while (0)
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 ||
		    t == 0xc3) {
			continue;
		} else if (t >= 0x80 && t <= 0x8f) {
			items = 2ULL * (t & 0x0f);
		} else if (t >= 0x90 && t <= 0x9f) {
			items = t & 0x0f;
		} else if (t >= 0xa0 && t <= 0xbf) {
			skip = t & 0x1f;
		} else {
			switch (t) {
			case 0xc4: case 0xd9: BE(1); skip = n; break;
			case 0xc5: case 0xda: BE(2); skip = n; break;
			case 0xc6: case 0xdb: BE(4); skip = n; break;
			case 0xc7: BE(1); skip = n + 1; break;
			case 0xc8: BE(2); skip = n + 1; break;
			case 0xc9: BE(4); skip = n + 1; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: BE(2); items = n; break;
			case 0xdd: BE(4); items = n; break;
			case 0xde: BE(2); items = 2 * n; break;
			case 0xdf: BE(4); items = 2 * n; break;
			default: return -EBADMSG; /* 0xc1, never used */
			}
		}
#undef BE
#undef NEED
		if (skip > len - off)
			return -EBADMSG;
		off += skip;
		/* Each element takes at least one byte. */
		if (items > len - off || pending + items > len - off)
			return -EBADMSG;
		pending += items;
	}
	*off_io = off;
	return 0;
}

int
ir_codec_check(const void *p, size_t len)
{
	size_t off = 0;

	if (skip_objects(p, len, &off, 1))
		return -EBADMSG;
	return off == len ? 0 : -EBADMSG;
}

/* The reader: bytes, their length, where it stands.  Its steps are small
 * and run for every field of every record: always inlined. */
#define READER __attribute__((always_inline))

struct mp {
	const uint8_t *b;
	size_t len;
	size_t off;
};

static int
skip(struct mp *r)
{
	return skip_objects(r->b, r->len, &r->off, 1);
}

/* The type byte of the next object; 0xc1 (never used) at the end. */
static inline READER uint8_t
next_type(const struct mp *r)
{
	return r->off < r->len ? r->b[r->off] : 0xc1;
}

static inline READER bool
is_str(uint8_t t)
{
	return (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb);
}

static inline READER bool
is_map(uint8_t t)
{
	return (t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf;
}

static inline READER bool
is_int(uint8_t t)
{
	return t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3);
}

static inline READER int
big_endian(struct mp *r, int width, uint64_t *out)
{
	uint64_t n = 0;

	if (r->len - r->off < (size_t)width)
		return -EBADMSG;
	while (width--)
		n = n << 8 | r->b[r->off++];
	*out = n;
	return 0;
}

/* A map header: its number of pairs. */
static inline READER int
read_map(struct mp *r, uint64_t *pairs)
{
	uint8_t t = next_type(r);

	if (!is_map(t))
		return -EBADMSG;
	r->off++;
	if (t <= 0x8f) {
		*pairs = t & 0x0f;
		return 0;
	}
	return big_endian(r, t == 0xde ? 2 : 4, pairs);
}

/* A str (or with bin, a bin): where its bytes are and how many. */
static inline READER int
read_bytes(struct mp *r, bool bin, const char **s, size_t *n)
{
	uint8_t t = next_type(r);
	uint64_t len;
	int width;

	if (!bin && t >= 0xa0 && t <= 0xbf)
		width = 0;
	else if (!bin && t >= 0xd9 && t <= 0xdb)
		width = 1 << (t - 0xd9);
	else if (bin && t >= 0xc4 && t <= 0xc6)
		width = 1 << (t - 0xc4);
	else
		return -EBADMSG;
	r->off++;
	if (!width)
		len = t & 0x1f;
	else if (big_endian(r, width, &len))
		return -EBADMSG;
	if (len > r->len - r->off)
		return -EBADMSG;
	*s = (const char *)r->b + r->off;
	*n = (size_t)len;
	r->off += len;
	return 0;
}

/* An integer as msgpack-c reads it: *negative for a value below zero
 * (then *u holds its two's complement), else *u is the value. */
static inline READER int
read_int(struct mp *r, bool *negative, uint64_t *u)
{
	uint8_t t = next_type(r);
	uint64_t n;
	int width;

	if (!is_int(t))
		return -EBADMSG;
	r->off++;
	if (t <= 0x7f || t >= 0xe0) {
		*u = (uint64_t)(int64_t)(int8_t)t;
		*negative = t >= 0xe0;
		return 0;
	}
	width = 1 << ((t - 0xcc) & 3);
	if (big_endian(r, width, &n))
		return -EBADMSG;
	if (t >= 0xd0 && width < 8 && (n >> (8 * width - 1)))
		n |= ~0ULL << (8 * width); /* sign-extend */
	*u = n;
	*negative = t >= 0xd0 && (int64_t)n < 0;
	return 0;
}

static inline READER int
read_u64(struct mp *r, uint64_t *out)
{
	bool negative;

	if (read_int(r, &negative, out) || negative)
		return -EBADMSG;
	return 0;
}

static inline READER int
read_i64(struct mp *r, int64_t *out)
{
	bool negative;
	uint64_t u;

	if (read_int(r, &negative, &u) || (!negative && u > INT64_MAX))
		return -EBADMSG;
	*out = (int64_t)u;
	return 0;
}

/* A str that names something (type, step): fits cap with its NUL and
 * holds none. */
static inline READER int
read_name(struct mp *r, char *dst, size_t cap)
{
	const char *s;
	size_t n;

	if (read_bytes(r, false, &s, &n) || n >= cap)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (!s[i])
			return -EBADMSG;
		dst[i] = s[i];
	}
	dst[n] = '\0';
	return 0;
}

static inline READER bool
key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

/*
 * The next key of a map: *k is NULL for a key that is not a str (skipped,
 * as are their values, by everyone reading events).
 */
static inline READER int
read_key(struct mp *r, const char **k, size_t *n)
{
	if (is_str(next_type(r)))
		return read_bytes(r, false, k, n);
	*k = NULL;
	*n = 0;
	return skip(r);
}

int
ir_codec_view(struct ir_event_head *head, struct ir_codec_span *data,
	      const void *p, size_t len)
{
	struct mp r = { p, len, 0 };
	struct ir_event_head h;
	struct ir_codec_span d = { NULL, 0 };
	const uint8_t *tail;
	unsigned seen = 0;
	uint64_t pairs, v = 0;

	if (len > IR_LIMIT_EVENT_BYTES || read_map(&r, &pairs))
		return -EBADMSG;
	memset(&h, 0, sizeof(h));
	while (pairs--) {
		const char *k, *s;
		size_t n;
		int rc;

		if (read_key(&r, &k, &n))
			return -EBADMSG;
		if (!k) {
			rc = skip(&r);
		} else if (key_is(k, n, "v")) {
			rc = read_u64(&r, &v);
			seen |= 1;
		} else if (key_is(k, n, "seq")) {
			rc = read_u64(&r, &h.seq);
			seen |= 2;
		} else if (key_is(k, n, "ts")) {
			rc = read_i64(&r, &h.ts);
			seen |= 4;
		} else if (key_is(k, n, "mono")) {
			rc = read_u64(&r, &h.mono);
			seen |= 8;
		} else if (key_is(k, n, "type")) {
			rc = read_name(&r, h.type, sizeof(h.type));
			seen |= 16;
		} else if (key_is(k, n, "step")) {
			rc = read_name(&r, h.step, sizeof(h.step));
		} else if (key_is(k, n, "data")) {
			d.p = r.b + r.off;
			rc = is_map(next_type(&r)) ? skip(&r) : -EBADMSG;
			d.len = (size_t)(r.b + r.off - (const uint8_t *)d.p);
			seen |= 32;
		} else if (key_is(k, n, "prev")) {
			rc = read_bytes(&r, true, &s, &n);
			if (!rc && n != IR_HASH_LEN)
				rc = -EBADMSG;
			if (!rc)
				memcpy(h.prev, s, IR_HASH_LEN);
			seen |= 64;
		} else {
			rc = skip(&r);
		}
		if (rc)
			return -EBADMSG;
	}
	if (r.off != len || seen != 127 || v != IR_SCHEMA_VERSION ||
	    !h.type[0] || !h.seq)
		return -EBADMSG;
	/* The chain is checked on the bytes at the end (chain.c): they must
	 * be the prev this record holds. */
	tail = ir_codec_prev_at_end(p, len);
	if (!tail || memcmp(tail, h.prev, IR_HASH_LEN))
		return -EBADMSG;
	*head = h;
	if (data)
		*data = d;
	return 0;
}

int
ir_codec_peek(struct ir_event_head *out, const void *p, size_t len)
{
	return ir_codec_view(out, NULL, p, len);
}

/* The encoder writes prev last: the key "prev" (fixstr 4), then a bin 8 of
 * 32 bytes. */
static const uint8_t prev_tail[] = { 0xa4, 'p', 'r', 'e', 'v', 0xc4,
				     IR_HASH_LEN };
#define PREV_TAIL_LEN (sizeof(prev_tail) + IR_HASH_LEN)

const uint8_t *
ir_codec_prev_at_end(const void *p, size_t len)
{
	const uint8_t *b = p;

	if (len < PREV_TAIL_LEN ||
	    memcmp(b + len - PREV_TAIL_LEN, prev_tail, sizeof(prev_tail)))
		return NULL;
	return b + len - IR_HASH_LEN;
}

int
ir_codec_output_at(struct ir_output_view *out,
		   const struct ir_event_head *head,
		   const struct ir_codec_span *data)
{
	struct ir_output_view v;
	struct mp r = { data->p, data->len, 0 };
	uint64_t pairs;

	memset(&v, 0, sizeof(v));
	if (strcmp(head->type, "step.output"))
		goto done;
	v.is_output = true;
	if (read_map(&r, &pairs))
		return -EBADMSG;
	/* The view already checked every length: only the types are read
	 * here.  A field of an unexpected type reads as absent. */
	while (pairs--) {
		const char *k, *s;
		size_t n;
		uint8_t t;
		int rc = read_key(&r, &k, &n);

		if (rc)
			return -EBADMSG;
		t = next_type(&r);
		/* A later field replaces an earlier one, as in the value
		 * tree, whatever its type. */
		if (k && key_is(k, n, "line")) {
			v.line = NULL;
			v.line_len = 0;
		} else if (k && key_is(k, n, "stream")) {
			v.err = false;
		} else if (k && key_is(k, n, "dropped")) {
			v.dropped = 0;
		} else if (k && key_is(k, n, "truncated")) {
			v.truncated = false;
		}
		if (k && key_is(k, n, "line") && is_str(t)) {
			rc = read_bytes(&r, false, &v.line, &v.line_len);
		} else if (k && key_is(k, n, "stream") && is_str(t)) {
			rc = read_bytes(&r, false, &s, &n);
			v.err = !rc && n == 3 && !memcmp(s, "err", 3);
		} else if (k && key_is(k, n, "dropped") && is_int(t)) {
			if (read_i64(&r, &v.dropped))
				v.dropped = 0;
		} else if (k && key_is(k, n, "truncated") &&
			   (t == 0xc2 || t == 0xc3)) {
			v.truncated = t == 0xc3;
			r.off++;
		} else {
			rc = skip(&r);
		}
		if (rc)
			return -EBADMSG;
	}
done:
	*out = v;
	return 0;
}

int
ir_codec_peek_output(struct ir_event_head *head, struct ir_output_view *out,
		     const void *p, size_t len)
{
	struct ir_codec_span data;
	struct ir_event_head h;

	if (ir_codec_view(&h, &data, p, len) ||
	    ir_codec_output_at(out, &h, &data))
		return -EBADMSG;
	*head = h;
	return 0;
}

/*
 * Step over the next object as ir_codec_decode() would build it into
 * values (codec.c, to_val()): map keys are strs, no floats or extensions,
 * at most IR_LIMIT_VALUE_DEPTH deep.  The lengths were checked by the
 * view.
 */
static int
decodable(struct mp *r, int depth)
{
	uint8_t t = next_type(r);
	uint64_t n;
	const char *s;
	size_t len;

	if (depth > IR_LIMIT_VALUE_DEPTH)
		return -EBADMSG;
	if (is_map(t)) {
		if (read_map(r, &n))
			return -EBADMSG;
		while (n--) {
			if (!is_str(next_type(r)) ||
			    read_bytes(r, false, &s, &len) ||
			    decodable(r, depth + 1))
				return -EBADMSG;
		}
		return 0;
	}
	if ((t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd) {
		r->off++;
		if (t <= 0x9f)
			n = t & 0x0f;
		else if (big_endian(r, t == 0xdc ? 2 : 4, &n))
			return -EBADMSG;
		while (n--)
			if (decodable(r, depth + 1))
				return -EBADMSG;
		return 0;
	}
	if (t == 0xca || t == 0xcb || (t >= 0xc7 && t <= 0xc9) ||
	    (t >= 0xd4 && t <= 0xd8))
		return -EBADMSG;
	return skip(r);
}

int
ir_codec_decodable(const struct ir_codec_span *data)
{
	struct mp r = { data->p, data->len, 0 };
	uint64_t pairs;

	if (read_map(&r, &pairs))
		return -EBADMSG;
	while (pairs--) {
		const char *k;
		size_t n;

		if (!is_str(next_type(&r)) || read_bytes(&r, false, &k, &n) ||
		    decodable(&r, 1))
			return -EBADMSG;
		if (memchr(k, '\0', n))
			return 1;
	}
	return 0;
}

/* A non-empty str, as the readers take a text field; else NULL. */
static void
note_str(struct mp at, const char **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	if (is_str(next_type(&at)) && !read_bytes(&at, false, p, n) && !*n)
		*p = NULL;
}

int
ir_codec_note_at(struct ir_note_view *note, const struct ir_codec_span *data)
{
	struct ir_note_view v;
	struct mp r = { data->p, data->len, 0 };
	uint64_t pairs;

	memset(&v, 0, sizeof(v));
	if (read_map(&r, &pairs))
		return -EBADMSG;
	while (pairs--) {
		struct mp at;
		const char *k;
		size_t n;
		bool negative;

		if (!is_str(next_type(&r)) || read_bytes(&r, false, &k, &n))
			return -EBADMSG;
		at = r;
		if (decodable(&r, 1))
			return -EBADMSG;
		/* A key holding a NUL has rules of its own in the value
		 * tree: such a record is left to ir_codec_decode(). */
		if (memchr(k, '\0', n))
			return 1;
		/* A later value replaces an earlier one, as in the tree. */
		if (key_is(k, n, "text")) {
			note_str(at, &v.text, &v.text_len);
		} else if (key_is(k, n, "author")) {
			note_str(at, &v.author, &v.author_len);
		} else if (key_is(k, n, "corrects")) {
			v.has_corrects = is_int(next_type(&at)) &&
					 !read_int(&at, &negative,
						   &v.corrects) &&
					 !negative;
		}
	}
	*note = v;
	return 0;
}

/* The next object as JSON, as jansson prints the value codec.c would
 * build from it (floats and extensions are not event data). */
static int
json_object_at(struct ir_jtext *w, struct mp *r, int depth)
{
	uint8_t t = next_type(r);
	const char *s;
	uint64_t n, i;
	size_t len;

	if (depth > IR_LIMIT_VALUE_DEPTH)
		return -EBADMSG;
	if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
		r->off++;
		if (t == 0xc0)
			ir_jtext_lit(w, "null");
		else if (t == 0xc3)
			ir_jtext_lit(w, "true");
		else
			ir_jtext_lit(w, "false");
		return 0;
	}
	if (is_int(t)) {
		bool negative;

		if (read_int(r, &negative, &n))
			return -EBADMSG;
		if (negative)
			ir_jtext_i64(w, (int64_t)n);
		else
			ir_jtext_u64(w, n);
		return 0;
	}
	if (is_str(t) || (t >= 0xc4 && t <= 0xc6)) {
		if (read_bytes(r, !is_str(t), &s, &len))
			return -EBADMSG;
		if (is_str(t))
			ir_jtext_str(w, s, len);
		else
			ir_jtext_hex(w, s, len);
		return 0;
	}
	if (is_map(t)) {
		if (read_map(r, &n))
			return -EBADMSG;
		ir_jtext_lit(w, "{");
		for (i = 0; i < n; i++) {
			if (!is_str(next_type(r)) ||
			    read_bytes(r, false, &s, &len))
				return -EBADMSG;
			if (i)
				ir_jtext_lit(w, ",");
			ir_jtext_str(w, s, len);
			ir_jtext_lit(w, ":");
			if (json_object_at(w, r, depth + 1))
				return -EBADMSG;
		}
		ir_jtext_lit(w, "}");
		return 0;
	}
	if ((t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd) {
		r->off++;
		if (t <= 0x9f)
			n = t & 0x0f;
		else if (big_endian(r, t == 0xdc ? 2 : 4, &n))
			return -EBADMSG;
		ir_jtext_lit(w, "[");
		for (i = 0; i < n; i++) {
			if (i)
				ir_jtext_lit(w, ",");
			if (json_object_at(w, r, depth + 1))
				return -EBADMSG;
		}
		ir_jtext_lit(w, "]");
		return 0;
	}
	return -EBADMSG;
}

int
ir_codec_json(struct ir_jtext *out, struct ir_event_head *head,
	      const void *p, size_t len)
{
	struct ir_codec_span data;
	struct ir_event_head h;
	struct mp r;
	size_t start = out->len;
	int rc = ir_codec_view(&h, &data, p, len);

	if (rc)
		return rc;
	ir_jtext_lit(out, "{\"v\":1,\"seq\":");
	ir_jtext_u64(out, h.seq);
	ir_jtext_lit(out, ",\"ts\":");
	ir_jtext_i64(out, h.ts);
	ir_jtext_lit(out, ",\"mono\":");
	ir_jtext_u64(out, h.mono);
	ir_jtext_lit(out, ",\"type\":");
	ir_jtext_str(out, h.type, strlen(h.type));
	if (h.step[0]) {
		ir_jtext_lit(out, ",\"step\":");
		ir_jtext_str(out, h.step, strlen(h.step));
	}
	ir_jtext_lit(out, ",\"data\":");
	r = (struct mp){ data.p, data.len, 0 };
	rc = json_object_at(out, &r, 0);
	if (rc) {
		if (!out->failed)
			out->len = start;
		return rc;
	}
	ir_jtext_lit(out, ",\"prev\":");
	ir_jtext_hex(out, h.prev, IR_HASH_LEN);
	ir_jtext_lit(out, "}");
	if (out->failed)
		return -ENOMEM;
	*head = h;
	return 0;
}
