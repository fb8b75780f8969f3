#include "error.h"

#include <stdio.h>
#include <string.h>

int
ir_error_set(struct ir_ctx *ctx, int code, int origin, int native,
	     const char *fmt, ...)
{
	va_list ap;

	if (!ctx || ctx->err.code)
		return code;
	ctx->err.code = code;
	ctx->err.origin = origin;
	ctx->err.native = native;
	va_start(ap, fmt);
	vsnprintf(ctx->err.msg, sizeof(ctx->err.msg), fmt, ap);
	va_end(ap);
	return code;
}

void
ir_error_clear(struct ir_ctx *ctx)
{
	if (ctx)
		memset(&ctx->err, 0, sizeof(ctx->err));
}

const char *
ir_error_msg(const struct ir_ctx *ctx, int code)
{
	if (ctx && ctx->err.code && ctx->err.msg[0])
		return ctx->err.msg;
	return strerror(code < 0 ? -code : code);
}
