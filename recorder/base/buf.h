/*
 * A growable byte buffer with a hard cap: appends are checked, and the
 * contents can be handed out with ir_buf_take().
 */
#ifndef IR_BUF_H
#define IR_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct ir_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no cap beyond SIZE_MAX */
};

#define IR_BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

/* Append len bytes; -ENOSPC past the cap, -ENOMEM.  The contents stay
 * NUL-terminated (the NUL is not counted in len). */
int ir_buf_add(struct ir_buf *b, const void *p, size_t len) IR_WUR;
/* Append formatted text, same errors. */
int ir_buf_printf(struct ir_buf *b, const char *fmt, ...) IR_WUR
	IR_PRINTF(2, 3);
/* Empty the buffer, keeping its memory. */
void ir_buf_reset(struct ir_buf *b);
/* Free the memory; the buffer is empty and usable again. */
void ir_buf_clear(struct ir_buf *b);
/* Hand out the contents (NUL-terminated, caller frees); the buffer is
 * empty afterwards.  Never NULL: an empty buffer gives "". */
char *ir_buf_take(struct ir_buf *b);

/* Append an item to the "; "-separated list in the NUL-terminated string
 * dst (cap bytes); what does not fit is cut. */
void ir_str_addf(char *dst, size_t cap, const char *fmt, ...) IR_PRINTF(3, 4);

#endif
