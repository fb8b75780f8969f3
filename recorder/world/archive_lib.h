/*
 * libarchive as the archive module reaches it: loaded when first needed,
 * not linked (lazylib.h).  With libxml2, ICU and the C++ runtime behind it,
 * linking it cost every start about 5 ms; a rollback preloads it on a
 * thread while it stops trading, and the backup finds it ready.
 *
 * Private to the module's two halves, archive.c (writing) and
 * archive_unpack.c (reading, for safe extraction): the only files that
 * include <archive.h>.
 */
#ifndef IR_ARCHIVE_LIB_H
#define IR_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include "error.h"

/* The functions we call, found by name when the library is loaded; the
 * table is typed from libarchive's own declarations, so every call is
 * checked as if it were linked. */
#define IR_ARCHIVE_API(X)                                                      \
	X(archive_clear_error)                                                 \
	X(archive_entry_clear)                                                 \
	X(archive_entry_filetype)                                              \
	X(archive_entry_free)                                                  \
	X(archive_entry_hardlink)                                              \
	X(archive_entry_new)                                                   \
	X(archive_entry_pathname)                                              \
	X(archive_entry_perm)                                                  \
	X(archive_entry_set_filetype)                                          \
	X(archive_entry_set_gid)                                               \
	X(archive_entry_set_hardlink)                                          \
	X(archive_entry_set_mtime)                                             \
	X(archive_entry_set_pathname)                                          \
	X(archive_entry_set_perm)                                              \
	X(archive_entry_set_size)                                              \
	X(archive_entry_set_symlink)                                           \
	X(archive_entry_set_uid)                                               \
	X(archive_entry_size)                                                  \
	X(archive_entry_size_is_set)                                           \
	X(archive_entry_symlink)                                               \
	X(archive_errno)                                                       \
	X(archive_error_string)                                                \
	X(archive_filter_bytes)                                                \
	X(archive_read_data_block)                                             \
	X(archive_read_free)                                                   \
	X(archive_read_new)                                                    \
	X(archive_read_next_header)                                            \
	X(archive_read_open)                                                   \
	X(archive_read_support_filter_bzip2)                                   \
	X(archive_read_support_filter_gzip)                                    \
	X(archive_read_support_filter_lz4)                                     \
	X(archive_read_support_filter_xz)                                      \
	X(archive_read_support_filter_zstd)                                    \
	X(archive_read_support_format_tar)                                     \
	X(archive_set_error)                                                   \
	X(archive_write_add_filter_zstd)                                       \
	X(archive_write_close)                                                 \
	X(archive_write_data)                                                  \
	X(archive_write_data_block)                                            \
	X(archive_write_disk_new)                                              \
	X(archive_write_disk_set_options)                                      \
	X(archive_write_fail)                                                  \
	X(archive_write_finish_entry)                                          \
	X(archive_write_free)                                                  \
	X(archive_write_header)                                                \
	X(archive_write_new)                                                   \
	X(archive_write_open2)                                                 \
	X(archive_write_set_bytes_in_last_block)                               \
	X(archive_write_set_filter_option)                                     \
	X(archive_write_set_format_pax)

struct ir_archive_api {
#define IR_ARCHIVE_SLOT(f) __typeof__(f) *f;
	IR_ARCHIVE_API(IR_ARCHIVE_SLOT)
#undef IR_ARCHIVE_SLOT
};

/* Filled once ir_archive_lib_ready() has returned 0. */
extern struct ir_archive_api ir_arc;

/* Wait for the preload, or load now: 0, or -ENOSYS with why in ctx. */
int ir_archive_lib_ready(struct ir_ctx *ctx) IR_WUR;

/* Names go through C.UTF-8 (see archive.c): a locale to enter around each
 * libarchive call that reads or writes names, and to leave after. */
locale_t ir_archive_utf8_locale(void);
locale_t ir_archive_locale_enter(locale_t loc);
void ir_archive_locale_leave(locale_t loc, locale_t old);

#endif
