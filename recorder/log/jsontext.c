#include "jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
jw_room(struct ir_jtext *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->failed)
		return false;
	if (w->cap - w->len >= n)
		return true;
	cap = w->cap ? w->cap : 64 * 1024;
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

void
ir_jtext_put_slow(struct ir_jtext *w, const void *s, size_t n)
{
	if (!jw_room(w, n))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void
ir_jtext_clear(struct ir_jtext *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

void
ir_jtext_i64(struct ir_jtext *w, int64_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *q = e;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	ir_jtext_put(w, q, (size_t)(e - q));
}

void
ir_jtext_u64(struct ir_jtext *w, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		ir_jtext_real(w, (double)v);
	else
		ir_jtext_i64(w, (int64_t)v);
}

/* jansson's real format: %.17g, '.' whatever the locale, no '+' and no
 * leading zeros in the exponent, ".0" when it would read as an integer. */
void
ir_jtext_real(struct ir_jtext *w, double d)
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
	ir_jtext_put(w, tmp, strlen(tmp));
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

/* Whether any of the eight bytes in x is < 0x20, '"', '\\' or >= 0x80
 * (the classic "has a zero byte" test, applied to x ^ each byte). */
static inline bool
needs_look(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');

	return ((x - ones * 0x20) | (quote - ones) | (bslash - ones) | x) &
	       highs;
}

static void
jw_escape(struct ir_jtext *w, unsigned char c)
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

void
ir_jtext_str(struct ir_jtext *w, const char *s, size_t n)
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

		/* Eight bytes at a time while none needs a look: no control
		 * character, quote, backslash or byte >= 0x80. */
		while (n - run >= 8) {
			uint64_t x;

			memcpy(&x, p + run, 8);
			if (needs_look(x))
				break;
			run += 8;
		}
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

void
ir_jtext_hex(struct ir_jtext *w, const void *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;
	char *o;

	if (n > (SIZE_MAX - 2) / 2 || !jw_room(w, 2 * n + 2)) {
		w->failed = true;
		return;
	}
	/* A local cursor: stores through w->p would be reloaded each time. */
	o = w->p + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		*o++ = hex[p[i] >> 4];
		*o++ = hex[p[i] & 15];
	}
	*o++ = '"';
	w->len = (size_t)(o - w->p);
}

