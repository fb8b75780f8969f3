/*
 * lazylib: a library loaded on first use or on a thread ahead of time, and
 * what a caller sees when it cannot be loaded.  Against the real loader:
 * libm (always there), a library that does not exist, and one without the
 * symbol asked for.
 */
#include "testutil.h"

#include "lazylib.h"

static double (*fn_cbrt)(double);
static int binds;

static int
bind_cbrt(void *handle, char *error, size_t cap)
{
	binds++;
	return ir_lazylib_find(handle, "cbrt", &fn_cbrt, error, cap) ? 0 : -1;
}

static int
bind_missing(void *handle, char *error, size_t cap)
{
	void (*fn)(void);

	return ir_lazylib_find(handle, "no_such_function_here", &fn, error,
			       cap)
		       ? 0
		       : -1;
}

static void
preload_then_ready(void **state)
{
	struct ir_lazylib lib = IR_LAZYLIB_INIT("libm.so.6", bind_cbrt);
	struct ir_ctx ctx = { 0 };

	(void)state;
	binds = 0;
	ir_lazylib_preload(&lib);
	ir_lazylib_preload(&lib); /* once is enough */
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), 0);
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), 0);
	assert_int_equal(binds, 1);
	assert_true(fn_cbrt(27.0) > 2.999 && fn_cbrt(27.0) < 3.001);
	ir_lazylib_release(&lib);
}

static int zbinds;
static const char *(*fn_zlib_version)(void);

static int
bind_zlib(void *handle, char *error, size_t cap)
{
	zbinds++;
	return ir_lazylib_find(handle, "zlibVersion", &fn_zlib_version,
			       error, cap)
		       ? 0
		       : -1;
}

/* Several libraries asked for ahead of time share the one loader thread:
 * each is loaded once, and one taken off the queue (released before its
 * turn) leaves the others to load. */
static void
several_share_the_loader(void **state)
{
	struct ir_lazylib m = IR_LAZYLIB_INIT("libm.so.6", bind_cbrt);
	struct ir_lazylib z = IR_LAZYLIB_INIT("libz.so.1", bind_zlib);
	struct ir_lazylib gone =
		IR_LAZYLIB_INIT("libincident-no-such-lib.so.9", bind_cbrt);
	struct ir_ctx ctx = { 0 };

	(void)state;
	binds = zbinds = 0;
	ir_lazylib_preload(&gone);
	ir_lazylib_preload(&m);
	ir_lazylib_preload(&z);
	ir_lazylib_release(&z); /* off the queue, or its load waited for */
	ir_lazylib_release(&gone);
	assert_int_equal(ir_lazylib_ready(&m, &ctx), 0);
	assert_int_equal(ir_lazylib_ready(&z, &ctx), 0);
	assert_int_equal(binds, 1);
	assert_int_equal(zbinds, 1);
	assert_non_null(fn_zlib_version());
	/* Queued again once loaded: nothing to do. */
	ir_lazylib_preload(&m);
	ir_lazylib_preload(&z);
	assert_int_equal(ir_lazylib_ready(&z, &ctx), 0);
	assert_int_equal(zbinds, 1);
	ir_lazylib_release(&m);
	ir_lazylib_release(&z);
	ir_lazylib_release(&gone);
}

static void
ready_without_preload(void **state)
{
	struct ir_lazylib lib = IR_LAZYLIB_INIT("libm.so.6", bind_cbrt);
	struct ir_ctx ctx = { 0 };

	(void)state;
	binds = 0;
	fn_cbrt = NULL;
	ir_lazylib_release(&lib); /* nothing under way: nothing happens */
	assert_int_equal(binds, 0);
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), 0);
	assert_int_equal(binds, 1);
	assert_non_null(fn_cbrt);
}

static void
missing_library(void **state)
{
	struct ir_lazylib lib =
		IR_LAZYLIB_INIT("libincident-no-such-lib.so.9", bind_cbrt);
	struct ir_ctx ctx = { 0 };

	(void)state;
	binds = 0;
	ir_lazylib_preload(&lib);
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), -ENOSYS);
	assert_non_null(strstr(ctx.err.msg, "cannot load"));
	assert_non_null(strstr(ctx.err.msg, "libincident-no-such-lib.so.9"));
	assert_int_equal(binds, 0);
	/* The verdict stands: asked again, the same answer, no new try. */
	ir_error_clear(&ctx);
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), -ENOSYS);
	assert_non_null(strstr(ctx.err.msg, "cannot load"));
}

static void
missing_symbol(void **state)
{
	struct ir_lazylib lib = IR_LAZYLIB_INIT("libm.so.6", bind_missing);
	struct ir_ctx ctx = { 0 };

	(void)state;
	assert_int_equal(ir_lazylib_ready(&lib, &ctx), -ENOSYS);
	assert_non_null(strstr(ctx.err.msg, "no_such_function_here"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(preload_then_ready),
		cmocka_unit_test(ready_without_preload),
		cmocka_unit_test(several_share_the_loader),
		cmocka_unit_test(missing_library),
		cmocka_unit_test(missing_symbol),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
