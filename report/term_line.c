#include "term_line.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

typedef unsigned long long ull;

static const char *const sgr[] = {
    "\x1b[0m", "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m",
};

/* ---- the sanitizing line builder ---------------------------------- */

/* The next UTF-8 character: its length (>= 1) and code point, UINT32_MAX
 * for a byte that does not start a valid, shortest-form sequence. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = UINT32_MAX;
	return 1;
}

/* C0 and C1 controls (ESC, BEL, CSI ...), DEL, and the characters that
 * reorder or break lines on screen. */
static bool
unsafe(uint32_t cp)
{
	return cp == UINT32_MAX || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

void
ir_tline_init(struct ir_tline *l, int width, bool color)
{
	l->len = l->last = 0;
	l->cols = 0;
	/* The last column stays free: a terminal that wraps there would
	 * break the cursor arithmetic of the redraw. */
	l->width = width - 1;
	l->color = color;
	l->colored = l->full = false;
	l->tone = l->base = IR_TONE_OFF;
	l->buf[0] = '\0';
}

void
ir_tline_tone(struct ir_tline *l, enum ir_tone t)
{
	size_t n;

	if (t == IR_TONE_OFF)
		t = l->base;
	if (!l->color || l->full || t == l->tone)
		return;
	n = strlen(sgr[t]);
	if (l->len + 4 + n + IR_TLINE_SPARE > sizeof(l->buf))
		return;
	if (l->tone != IR_TONE_OFF) {
		memcpy(l->buf + l->len, sgr[IR_TONE_OFF], 4);
		l->len += 4;
	}
	if (t != IR_TONE_OFF) {
		memcpy(l->buf + l->len, sgr[t], n);
		l->len += n;
	}
	l->tone = t;
	l->colored = true;
}

/* Text that follows is in tone t, and IR_TONE_OFF comes back to it. */
void
ir_tline_base(struct ir_tline *l, enum ir_tone t)
{
	l->base = t;
	ir_tline_tone(l, t);
}

static void
line_cut(struct ir_tline *l)
{
	/* The last character gives its place to the mark. */
	l->len = l->last;
	memcpy(l->buf + l->len, "\xe2\x80\xa6", 3);
	l->len += 3;
	l->full = true;
}

void
ir_tline_add(struct ir_tline *l, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

	while (i < n && !l->full) {
		uint32_t cp;
		size_t k, room;

		/* Printable ASCII, nearly all of it: copied as it is, up to
		 * what fits; the character past that is cut below. */
		for (k = i; k < n && s[k] >= 0x20 && s[k] < 0x7f; k++)
			;
		room = l->cols < l->width ? (size_t)(l->width - l->cols) : 0;
		if (room > sizeof(l->buf) - IR_TLINE_SPARE - l->len)
			room = sizeof(l->buf) - IR_TLINE_SPARE - l->len;
		if (k - i > room)
			k = i + room;
		if (k > i) {
			memcpy(l->buf + l->len, s + i, k - i);
			l->len += k - i;
			l->last = l->len - 1;
			l->cols += (int)(k - i);
			i = k;
			continue;
		}
		k = utf8_next(s + i, n - i, &cp);
		const char *out = (const char *)s + i;
		size_t outn = k;
		int w = 1;

		if (cp == '\t') {
			out = " ", outn = 1;
		} else if (unsafe(cp)) {
			out = "?", outn = 1;
		} else if (cp >= 0x1100 && !(cp >= 0x2000 && cp < 0x2600)) {
			/* Could be double width: counting it as two only
			 * ever makes the line shorter than it may be. */
			w = 2;
		}
		i += k;
		if (l->cols + w > l->width ||
		    l->len + outn + IR_TLINE_SPARE > sizeof(l->buf)) {
			line_cut(l);
			break;
		}
		l->last = l->len;
		memcpy(l->buf + l->len, out, outn);
		l->len += outn;
		l->cols += w;
	}
}

void
ir_tline_ascii(struct ir_tline *l, const char *s, size_t n)
{
	if (n && !l->full && l->cols <= l->width &&
	    n <= (size_t)(l->width - l->cols) &&
	    l->len + n + IR_TLINE_SPARE <= sizeof(l->buf)) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
		l->last = l->len - 1;
		l->cols += (int)n;
		return;
	}
	ir_tline_add(l, s, n);
}

void
ir_tline_u64(struct ir_tline *l, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	ir_tline_ascii(l, p, (size_t)(buf + sizeof(buf) - p));
}

void
ir_tline_puts(struct ir_tline *l, const char *s)
{
	ir_tline_add(l, s, strlen(s));
}

void
ir_tline_printf(struct ir_tline *l, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ir_tline_add(l, tmp,
		             (size_t)n < sizeof(tmp) ? (size_t)n
		                                     : sizeof(tmp) - 1);
}

void
ir_tline_pad(struct ir_tline *l, int col)
{
	static const char spaces[] = "                                ";

	while (l->cols < col && !l->full)
		ir_tline_ascii(l, spaces,
		             (size_t)(col - l->cols) < sizeof(spaces) - 1
		                 ? (size_t)(col - l->cols)
		                 : sizeof(spaces) - 1);
}

void
ir_tline_end(struct ir_tline *l)
{
	/* A cut may have dropped the reset after the last character. */
	if (l->tone != IR_TONE_OFF || (l->full && l->colored)) {
		memcpy(l->buf + l->len, sgr[IR_TONE_OFF], 4);
		l->len += 4;
	}
	l->buf[l->len] = '\0';
}

int
ir_tline_write(FILE *out, struct ir_tline *l)
{
	ir_tline_end(l);
	l->buf[l->len] = '\n'; /* ir_tline_end() left room */
	if (fwrite(l->buf, 1, l->len + 1, out) != l->len + 1)
		return -EIO;
	l->buf[l->len] = '\0';
	return 0;
}

/* ---- small formatters (integers only: no locale can change them) ---- */

/* A measured duration: "430 ms", "12.3s", "1m05s", "1h02m". */
void
ir_tline_dur(char *out, size_t cap, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, cap, "%llu ms", (ull)ms);
	else if (ms < 60000)
		snprintf(out, cap, "%llu.%llus", (ull)(ms / 1000),
		         (ull)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(out, cap, "%llum%02llus", (ull)(ms / 60000),
		         (ull)(ms / 1000 % 60));
	else
		snprintf(out, cap, "%lluh%02llum", (ull)(ms / 3600000),
		         (ull)(ms / 60000 % 60));
}

/* A running timer: tenths below a minute, "0.4s" rather than "400 ms". */
void
ir_tline_timer(char *out, size_t cap, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, cap, "0.%llus", (ull)(ms / 100));
	else
		ir_tline_dur(out, cap, ms);
}

/* A budget as configured: "30s", "5m", "1m30s", "250ms", "1h". */
void
ir_tline_budget(char *out, size_t cap, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(out, cap, "%llums", (ull)ms);
	else if (ms % 1000)
		ir_tline_dur(out, cap, ms);
	else if (s < 60)
		snprintf(out, cap, "%llus", (ull)s);
	else if (s < 3600 && s % 60)
		snprintf(out, cap, "%llum%02llus", (ull)(s / 60),
		         (ull)(s % 60));
	else if (s < 3600)
		snprintf(out, cap, "%llum", (ull)(s / 60));
	else if (s % 3600 / 60)
		snprintf(out, cap, "%lluh%02llum", (ull)(s / 3600),
		         (ull)(s % 3600 / 60));
	else
		snprintf(out, cap, "%lluh", (ull)(s / 3600));
}

/* Offset since the incident opened: "+MM:SS.mmm", "+H:MM:SS.mmm". */
/* v in exactly width digits, zero-padded (v < 10^width); past them. */
static char *
digits(char *p, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

static void
copy_out(char *out, size_t cap, const char *buf, size_t n)
{
	if (!cap)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

/* Written digit by digit: these run once per line of a timeline of a
 * million events, where snprintf and gmtime_r were most of the cost. */
void
ir_tline_offset(char *out, size_t cap, uint64_t ns)
{
	uint64_t ms = ns / IR_NS_PER_MS, s = ms / 1000;
	char buf[40], *p = buf;

	*p++ = '+';
	if (s < 3600) {
		p = digits(p, s / 60, 2);
	} else {
		uint64_t h = s / 3600, t;
		int w = 1;

		for (t = h; t >= 10; t /= 10)
			w++;
		p = digits(p, h, w);
		*p++ = ':';
		p = digits(p, s / 60 % 60, 2);
	}
	*p++ = ':';
	p = digits(p, s % 60, 2);
	*p++ = '.';
	p = digits(p, ms % 1000, 3);
	copy_out(out, cap, buf, (size_t)(p - buf));
}

void
ir_tline_bytes(char *out, size_t cap, uint64_t b)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
	uint64_t div = 1024;
	int u = 0;

	if (b < 1024) {
		snprintf(out, cap, "%llu B", (ull)b);
		return;
	}
	while (u < 3 && b / div >= 1024)
		div *= 1024, u++;
	snprintf(out, cap, "%llu.%llu %s", (ull)(b / div),
	         (ull)(b % div * 10 / div), unit[u]);
}

/* UTC with milliseconds, whatever TZ says. */
/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * civil_from_days): no time zone, no locale, no table. */
static void
civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	uint64_t doe = (uint64_t)(z - era * 146097);
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Years beyond 0-9999, as gmtime_r tells them. */
static void
utc_far(char *out, size_t cap, int64_t s, int64_t r)
{
	struct tm tm;
	time_t tt = (time_t)s;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, cap, "(time out of range)");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)(r / (int64_t)IR_NS_PER_MS));
}

void
ir_tline_utc(char *out, size_t cap, int64_t ns)
{
	/* The second of the line before (a timeline's lines come many to a
	 * second): "YYYY-MM-DDTHH:MM:SS." once, then only the milliseconds. */
	static _Thread_local int64_t last_s = INT64_MIN;
	static _Thread_local char last[24];
	int64_t s = ns / IR_NS_PER_SEC, r = ns % IR_NS_PER_SEC, y, days, sod;
	unsigned mo, d;
	char buf[40], *p = buf;

	if (r < 0)
		r += IR_NS_PER_SEC, s--;
	if (s == last_s) {
		memcpy(buf, last, 20);
		p = digits(buf + 20, (uint64_t)r / IR_NS_PER_MS, 3);
		*p++ = 'Z';
		copy_out(out, cap, buf, (size_t)(p - buf));
		return;
	}
	days = s / 86400;
	sod = s % 86400;
	if (sod < 0)
		sod += 86400, days--;
	civil(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		utc_far(out, cap, s, r);
		return;
	}
	p = digits(p, (uint64_t)y, 4);
	*p++ = '-';
	p = digits(p, mo, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, (uint64_t)sod / 3600, 2);
	*p++ = ':';
	p = digits(p, (uint64_t)sod / 60 % 60, 2);
	*p++ = ':';
	p = digits(p, (uint64_t)sod % 60, 2);
	*p++ = '.';
	memcpy(last, buf, 20);
	last_s = s;
	p = digits(p, (uint64_t)r / IR_NS_PER_MS, 3);
	*p++ = 'Z';
	copy_out(out, cap, buf, (size_t)(p - buf));
}

/* ---- reading event data --------------------------------------------- */

bool
ir_tline_val_str(const struct ir_val *m, const char *key, const char **p,
                 size_t *n)
{
	const struct ir_val *v = ir_val_get(m, key);

	if (!v || v->type != IR_VAL_STR || !v->as.str.len)
		return false;
	*p = v->as.str.ptr;
	*n = v->as.str.len;
	return true;
}

bool
ir_tline_val_u64(const struct ir_val *m, const char *key, uint64_t *out)
{
	const struct ir_val *v = ir_val_get(m, key);
	int64_t i;

	if (v && v->type == IR_VAL_UINT) {
		*out = v->as.u;
		return true;
	}
	if (ir_val_as_int(v, &i) && i >= 0) {
		*out = (uint64_t)i;
		return true;
	}
	return false;
}

bool
ir_tline_val_is(const struct ir_val *m, const char *key, const char *want)
{
	const char *p;
	size_t n;

	return ir_tline_val_str(m, key, &p, &n) && n == strlen(want) &&
	       !memcmp(p, want, n);
}

/* Add " <before>value<after>" for a string field that is present. */
bool
ir_tline_field(struct ir_tline *l, const struct ir_val *m, const char *key,
               const char *before, const char *after)
{
	const char *p;
	size_t n;

	if (!ir_tline_val_str(m, key, &p, &n))
		return false;
	ir_tline_puts(l, before);
	ir_tline_add(l, p, n);
	ir_tline_puts(l, after);
	return true;
}


bool
ir_tline_is_probe(const struct ir_event *ev)
{
	return ir_tline_is_type(ev, "observation") &&
	       ir_tline_val_is(ev->data, "what", "http");
}
