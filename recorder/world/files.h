/*
 * File trees: compare two folders, and make one identical to another by
 * copying into a staging folder beside it and swapping it in.
 */
#ifndef IR_FILES_H
#define IR_FILES_H

#include <stdbool.h>

#include "error.h"
#include "value.h"

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

/* Call fn per entry of dir ("." and ".." aside); a non-zero fn return
 * stops and is returned.  A missing dir is -ENOENT. */
typedef int (*ir_files_list_fn)(void *payload, const char *name);
int ir_files_list(const char *dir, ir_files_list_fn fn, void *payload,
		  struct ir_ctx *ctx) IR_WUR;

/* mkdir 0700; one that exists is fine. */
int ir_files_mkdir(const char *path, struct ir_ctx *ctx) IR_WUR;

/* unlink; a missing path is fine. */
int ir_files_unlink(const char *path, struct ir_ctx *ctx) IR_WUR;

/* The last `want` lines of path (at most IR_LIMIT_LOG_LINES, read from
 * its last IR_LIMIT_LOG_TAIL_BYTES) as an array of strings, each cut to
 * IR_LIMIT_OUTPUT_LINE; empty when path cannot be read. */
struct ir_val *ir_files_tail(const char *path, unsigned want);

#endif
