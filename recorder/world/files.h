/*
 * File trees: compare two folders, and make one identical to another by
 * copying into a staging folder beside it and swapping it in.
 */
#ifndef IR_FILES_H
#define IR_FILES_H

#include <stdbool.h>

#include "error.h"

enum ir_files_change {
	IR_FILES_ADDED = 'A',   /* in src, not in dst */
	IR_FILES_CHANGED = 'M', /* in both, content, type or mode differ */
	IR_FILES_REMOVED = 'D', /* in dst, not in src */
};

/* Called per differing path (relative, '/'-separated), sorted by path. */
typedef int (*ir_files_diff_fn)(void *payload, enum ir_files_change change,
				const char *path);

/* What would change if dst were made identical to src.  A missing dst
 * counts as empty.  A non-zero fn return stops and is returned. */
int ir_files_diff(const char *src, const char *dst, ir_files_diff_fn fn,
		  void *payload, struct ir_ctx *ctx) IR_WUR;

/* Whether the trees are identical (regular files by content and mode
 * bits 0777, symlinks by target, folders). */
int ir_files_equal(const char *src, const char *dst, bool *out,
		   struct ir_ctx *ctx) IR_WUR;

/* Make dst identical to src: copy src into a staging folder beside dst,
 * fsync, then swap it in (the old dst is removed after the swap).  A crash
 * at any point leaves dst either old or new, plus a staging folder that the
 * next call removes. */
int ir_files_replace_dir(const char *src, const char *dst,
			 struct ir_ctx *ctx) IR_WUR;

/* Swap a fully prepared folder `staged` into place at dst (same parent
 * directory), removing the old dst.  Used after a safe extraction. */
int ir_files_swap_in(const char *staged, const char *dst,
		     struct ir_ctx *ctx) IR_WUR;

/* rm -rf, not following symlinks; a missing path is fine. */
int ir_files_remove_tree(const char *path, struct ir_ctx *ctx) IR_WUR;

#endif
