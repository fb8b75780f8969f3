/*
 * Errors: a fallible function returns 0 or a negative errno; the human
 * detail goes into the per-run context, set once where a library's own code
 * is translated, then passed up unchanged.
 */
#ifndef IR_ERROR_H
#define IR_ERROR_H

#include <errno.h>
#include <stdarg.h>

#define IR_WUR __attribute__((warn_unused_result))
#define IR_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum ir_origin {
	IR_ORIGIN_NONE = 0,
	IR_ORIGIN_OS,
	IR_ORIGIN_LMDB,
	IR_ORIGIN_MSGPACK,
	IR_ORIGIN_GIT,
	IR_ORIGIN_CURL,
	IR_ORIGIN_ARCHIVE,
	IR_ORIGIN_CONFIG,
	IR_ORIGIN_USAGE,
	IR_ORIGIN_LOCK,
	IR_ORIGIN_RUN,
};

struct ir_error {
	int code;          /* negative errno */
	int origin;        /* enum ir_origin */
	int native;        /* the library's own code, if any */
	char msg[1024]; /* room for two long paths */
};

struct ir_ctx {
	struct ir_error err;
};

/* Record an error in ctx (first one wins) and return code. */
int ir_error_set(struct ir_ctx *ctx, int code, int origin, int native,
		 const char *fmt, ...) IR_PRINTF(5, 6);

/* Forget the recorded error. */
void ir_error_clear(struct ir_ctx *ctx);

/* The recorded message, or strerror(-code) when none was recorded. */
const char *ir_error_msg(const struct ir_ctx *ctx, int code);

#endif
