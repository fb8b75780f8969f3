/*
 * JSON text, written by hand into a buffer: the few value kinds an event
 * has, byte for byte as jansson prints them with JSON_COMPACT (so the
 * fast export and the JSON report agree).  Strings that are not valid
 * UTF-8 have every byte >= 0x80 and NUL replaced by '?'.  No library: the
 * codec uses it to turn a stored event into JSON without building values.
 */
#ifndef IR_JSONTEXT_H
#define IR_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A growing text buffer; `failed` is sticky (out of memory). */
struct ir_jtext {
	char *p;
	size_t len, cap;
	bool failed;
};

void ir_jtext_put_slow(struct ir_jtext *w, const void *s, size_t n);

/* Append n bytes.  Inline: the writers append many short literals, and a
 * call for each cost more than the copy. */
static inline void
ir_jtext_put(struct ir_jtext *w, const void *s, size_t n)
{
	if (!w->failed && w->p && n <= w->cap - w->len) {
		memcpy(w->p + w->len, s, n);
		w->len += n;
	} else {
		ir_jtext_put_slow(w, s, n);
	}
}

void ir_jtext_i64(struct ir_jtext *w, int64_t v);
void ir_jtext_u64(struct ir_jtext *w, uint64_t v); /* > INT64_MAX: real */
void ir_jtext_real(struct ir_jtext *w, double d);
void ir_jtext_str(struct ir_jtext *w, const char *s, size_t n);
void ir_jtext_hex(struct ir_jtext *w, const void *s, size_t n);
void ir_jtext_clear(struct ir_jtext *w);

#define ir_jtext_lit(w, s) ir_jtext_put((w), (s), sizeof(s) - 1)

#endif
