#include "text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where cleaned text goes: a FILE with an output escape, or a buffer. */
struct sink {
	FILE *f;
	enum ir_rpt_esc esc;
	struct ir_buf *b;
	int rc;
};

static void
sink_raw(struct sink *k, const char *p, size_t n)
{
	int rc;

	if (k->f) {
		/* The report writes one FILE from one thread. */
		fwrite_unlocked(p, 1, n, k->f);
		return;
	}
	if (k->rc)
		return;
	rc = ir_buf_add(k->b, p, n);
	if (rc)
		k->rc = rc;
}

/* What printable ASCII c is written as in the output, or NULL for itself.
 * `next` is the character after it (0 at the end), for HTML's "://". */
static const char *
escape(const struct sink *k, char c, char next)
{
	if (!k->f || k->esc == IR_RPT_TEXT)
		return NULL;
	switch (c) { /* HTML and Markdown alike */
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	}
	if (k->esc == IR_RPT_HTML) {
		switch (c) {
		case '"':
			return "&quot;";
		case '\'':
			return "&#39;";
		case ':':
			/* A URL from the log stays text a browser will not
			 * mistake for (or a reviewer grep as) a fetch. */
			return next == '/' ? "&#58;" : NULL;
		}
	} else if (k->esc == IR_RPT_MD) {
		switch (c) {
		case '\\':
			return "\\\\";
		case '`':
			return "\\`";
		case '*':
			return "\\*";
		case '_':
			return "\\_";
		case '[':
			return "\\[";
		case ']':
			return "\\]";
		case '|':
			return "\\|";
		case '~':
			return "\\~";
		}
	}
	return NULL;
}

/* One printable ASCII character, escaped for the output. */
static void
sink_ascii(struct sink *k, char c, char next)
{
	const char *e = escape(k, c, next);

	if (e)
		sink_raw(k, e, strlen(e));
	else
		sink_raw(k, &c, 1);
}

/* Our own escape notation (\xNN, \uNNNN) goes through the output escape
 * too, so Markdown shows the backslash. */
static void
sink_note(struct sink *k, const char *s)
{
	for (; *s; s++)
		sink_ascii(k, *s, s[1]);
}

/* Length of the valid UTF-8 sequence at p (2..4) and its code point, or 0
 * when the bytes are not one (overlong, surrogate, beyond U+10FFFF, cut). */
static size_t
utf8_seq(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

/* Code points a terminal or a browser would act on rather than show: C1
 * controls (U+009B is a CSI), bidirectional overrides, line separators. */
static bool
cp_hostile(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 ||
	       c == 0xfeff;
}

/* ESC [ parameters intermediates final: the whole CSI sequence. */
static size_t
csi_len(const unsigned char *p, size_t left)
{
	size_t j = 2;

	if (left < 2 || p[1] != '[')
		return 0;
	while (j < left && p[j] >= 0x30 && p[j] <= 0x3f)
		j++;
	while (j < left && p[j] >= 0x20 && p[j] <= 0x2f)
		j++;
	if (j < left && p[j] >= 0x40 && p[j] <= 0x7e)
		return j + 1;
	return 0;
}

static void
clean(struct sink *k, const char *s, size_t len, bool keep_ws)
{
	const unsigned char *p = (const unsigned char *)s;
	char note[16];
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		unsigned char c = p[i];
		size_t run = i;

		/* Printable ASCII that stays as it is goes out in one piece
		 * (a report is mostly that), not a character at a time. */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f &&
		       !escape(k, (char)p[run],
			       run + 1 < len ? (char)p[run + 1] : 0))
			run++;
		if (run > i) {
			sink_raw(k, s + i, run - i);
			i = run;
			continue;
		}

		if (c == 0x1b && (n = csi_len(p + i, len - i))) {
			i += n;
			continue;
		}
		if (c == '\n' || c == '\t') {
			sink_raw(k, keep_ws ? (const char *)&p[i] : " ", 1);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(note, sizeof(note), "\\x%02x", c);
			sink_note(k, note);
			i++;
			continue;
		}
		if (c < 0x80) {
			char next = i + 1 < len ? (char)p[i + 1] : 0;

			sink_ascii(k, (char)c, next);
			i++;
			continue;
		}
		n = utf8_seq(p + i, len - i, &cp);
		if (!n) {
			snprintf(note, sizeof(note), "\\x%02x", c);
			sink_note(k, note);
			i++;
			continue;
		}
		if (cp_hostile(cp)) {
			snprintf(note, sizeof(note), "\\u%04x", (unsigned)cp);
			sink_note(k, note);
		} else {
			sink_raw(k, s + i, n);
		}
		i += n;
	}
}

void
ir_rpt_put(FILE *out, enum ir_rpt_esc esc, const char *s, size_t len)
{
	struct sink k = { out, esc, NULL, 0 };

	if (s)
		clean(&k, s, len, esc == IR_RPT_HTML);
}

void
ir_rpt_puts(FILE *out, enum ir_rpt_esc esc, const char *s)
{
	if (s)
		ir_rpt_put(out, esc, s, strlen(s));
}

void
ir_rpt_printf(FILE *out, enum ir_rpt_esc esc, const char *fmt, ...)
{
	struct ir_rpt_line l = { .len = 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l.s, IR_RPT_LINE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	l.len = (size_t)n < IR_RPT_LINE_MAX ? (size_t)n : IR_RPT_LINE_MAX - 1;
	ir_rpt_put(out, esc, l.s, l.len);
}

int
ir_rpt_clean(struct ir_buf *out, const char *s, size_t len)
{
	struct sink k = { NULL, IR_RPT_TEXT, out, 0 };

	clean(&k, s, len, true);
	if (!k.rc && !out->data)
		k.rc = ir_buf_add(out, "", 0);
	return k.rc;
}

/* Largest length <= max that does not split a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t max)
{
	size_t n = max;

	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

char *
ir_rpt_strdup(const char *s, size_t max, bool *oom)
{
	size_t len, keep;
	char *d;

	if (!s)
		return NULL;
	len = strlen(s);
	keep = len > max ? utf8_cut(s, max) : len;
	d = malloc(keep + 4);
	if (!d) {
		*oom = true;
		return NULL;
	}
	memcpy(d, s, keep);
	if (keep < len) {
		memcpy(d + keep, "\xe2\x80\xa6", 3);
		keep += 3;
	}
	d[keep] = '\0';
	return d;
}

int64_t
ir_rpt_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Floor division for times before the epoch. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

void
ir_rpt_time(char out[IR_RPT_TIME_LEN], int64_t ns)
{
	int64_t secs = floor_div(ns, 1000000000);
	int64_t ms = (ns - secs * 1000000000) / 1000000;
	time_t t = (time_t)secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, IR_RPT_TIME_LEN, "@%lld", (long long)ns);
		return;
	}
	snprintf(out, IR_RPT_TIME_LEN, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}

void
ir_rpt_dur(char out[IR_RPT_DUR_LEN], int64_t ms)
{
	const char *sign = "";
	long long h, m, s, f;

	if (ms < 0) {
		sign = "-";
		ms = ms == INT64_MIN ? INT64_MAX : -ms;
	}
	h = (long long)(ms / 3600000);
	m = (long long)(ms / 60000 % 60);
	s = (long long)(ms / 1000 % 60);
	f = (long long)(ms % 1000);
	if (ms < 1000)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lldms", sign, f);
	else if (ms < 60000 && f)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lld.%03llds", sign, s, f);
	else if (ms < 60000)
		snprintf(out, IR_RPT_DUR_LEN, "%s%llds", sign, s);
	else if (h == 0 && !s && !f)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lldm", sign, m);
	else if (h == 0 && !f)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lldm%02llds", sign, m, s);
	else if (h == 0)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lldm%02lld.%03llds", sign, m,
			 s, f);
	else
		snprintf(out, IR_RPT_DUR_LEN, "%s%lldh%02lldm%02llds", sign, h,
			 m, s);
}

void
ir_rpt_offset(char out[IR_RPT_DUR_LEN], int64_t ms)
{
	const char *sign = "+";
	long long h, m, s, f;

	if (ms < 0) {
		sign = "-";
		ms = ms == INT64_MIN ? INT64_MAX : -ms;
	}
	h = (long long)(ms / 3600000);
	m = (long long)(ms / 60000 % 60);
	s = (long long)(ms / 1000 % 60);
	f = (long long)(ms % 1000);
	if (h)
		snprintf(out, IR_RPT_DUR_LEN, "%s%lld:%02lld:%02lld.%03lld",
			 sign, h, m, s, f);
	else
		snprintf(out, IR_RPT_DUR_LEN, "%s%02lld:%02lld.%03lld", sign,
			 m, s, f);
}

void
ir_rpt_bytes(char out[IR_RPT_DUR_LEN], int64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	long long whole, tenth;
	int64_t scale = 1024;
	int u = 0;

	if (bytes < 1024) {
		snprintf(out, IR_RPT_DUR_LEN, "%lld B", (long long)bytes);
		return;
	}
	while (u < 3 && bytes / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	whole = (long long)(bytes / scale);
	tenth = (long long)(bytes % scale * 10 / scale);
	snprintf(out, IR_RPT_DUR_LEN, "%lld.%lld %s", whole, tenth, unit[u]);
}

void
ir_rpt_us(char out[IR_RPT_DUR_LEN], int64_t us)
{
	const char *sign = us < 0 ? "-" : "";

	if (us < 0)
		us = us == INT64_MIN ? INT64_MAX : -us;
	snprintf(out, IR_RPT_DUR_LEN, "%s%lld.%03lldms", sign,
		 (long long)(us / 1000), (long long)(us % 1000));
}

void
ir_rpt_line_add(struct ir_rpt_line *l, const char *s, size_t n)
{
	size_t room;

	if (l->cut || !s)
		return;
	room = IR_RPT_LINE_MAX - l->len;
	if (n > room) {
		char tmp[IR_RPT_LINE_MAX + 1];

		/* Find the cut on a copy so s need not be terminated. */
		memcpy(tmp, s, room);
		tmp[room] = s[room];
		n = utf8_cut(tmp, room);
		l->cut = true;
	}
	memcpy(l->s + l->len, s, n);
	l->len += n;
	if (l->cut) {
		memcpy(l->s + l->len, "\xe2\x80\xa6", 3);
		l->len += 3;
	}
	l->s[l->len] = '\0';
}

void
ir_rpt_line_adds(struct ir_rpt_line *l, const char *s)
{
	if (s)
		ir_rpt_line_add(l, s, strlen(s));
}

void
ir_rpt_line_printf(struct ir_rpt_line *l, const char *fmt, ...)
{
	char tmp[IR_RPT_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ir_rpt_line_add(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							  : sizeof(tmp) - 1);
}
