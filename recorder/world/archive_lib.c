/* libarchive, loaded when first needed (see archive_lib.h). */
#include "archive_lib.h"

#include <locale.h>

#include "ir_archive.h"
#include "lazylib.h"

struct ir_archive_api ir_arc;

static int
bind_archive(void *handle, char *error, size_t cap)
{
#define FIND(f)                                                               \
	if (!ir_lazylib_find(handle, #f, &ir_arc.f, error, cap))              \
		return -1;
	IR_ARCHIVE_API(FIND)
#undef FIND
	return 0;
}

/* libarchive 3's ABI. */
static struct ir_lazylib archive_lib =
	IR_LAZYLIB_INIT("libarchive.so.13", bind_archive);

int
ir_archive_lib_ready(struct ir_ctx *ctx)
{
	return ir_lazylib_ready(&archive_lib, ctx);
}

void
ir_archive_preload(void)
{
	ir_lazylib_preload(&archive_lib);
}

void
ir_archive_release(void)
{
	ir_lazylib_release(&archive_lib);
}

/* libarchive converts names through the thread's locale; C.UTF-8 stores
 * UTF-8 names as they are (no "hdrcharset=BINARY" that GNU tar warns
 * about).  uselocale() is per thread, so the caller's locale is safe. */
locale_t
ir_archive_utf8_locale(void)
{
	return newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t
ir_archive_locale_enter(locale_t loc)
{
	return loc ? uselocale(loc) : (locale_t)0;
}

void
ir_archive_locale_leave(locale_t loc, locale_t old)
{
	if (loc)
		uselocale(old);
}
