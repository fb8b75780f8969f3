#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
reserve(struct ir_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -ENOSPC;
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max)
		return -ENOSPC;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
ir_buf_add(struct ir_buf *b, const void *p, size_t len)
{
	int rc = reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
ir_buf_printf(struct ir_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
ir_buf_reset(struct ir_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
ir_buf_clear(struct ir_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
ir_buf_take(struct ir_buf *b)
{
	char *p = (char *)b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
ir_str_addf(char *dst, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(dst);
	va_list ap;

	if (used && used + 2 < cap) {
		memcpy(dst + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + used, cap - used, fmt, ap);
	va_end(ap);
}
