/*
 * Folder walking shared by files.c and files_diff.c (internal to the
 * files module): sorted folder listings and a path that grows and shrinks
 * with the walk.  A walk holds one descriptor per level, so depth is
 * capped at IR_LIMIT_TREE_DEPTH.
 */
#ifndef IR_FILES_WALK_H
#define IR_FILES_WALK_H

#include <limits.h>
#include <stddef.h>

#include "error.h"

#define IR_FILES_CHUNK (64 * 1024)

/* The entries of one folder, sorted with strcmp. */
struct ir_names {
	char **v;
	size_t n;
};

/* A path being walked: the root as given, then '/'-separated names.  rel
 * is where the part relative to the root starts. */
struct ir_tree_path {
	char buf[PATH_MAX];
	size_t len;
	size_t rel;
	int depth;
};

/* Set ctx from errno err: `what "path": strerror`.  Returns -err. */
int ir_files_os_fail(struct ir_ctx *ctx, int err, const char *what,
                     const char *path);

/* The sorted entries of the folder open at fd (not . or ..); path is for
 * messages.  Free with ir_names_clear. */
int ir_names_read(struct ir_names *out, int fd, const char *path,
                  struct ir_ctx *ctx) IR_WUR;
void ir_names_clear(struct ir_names *ns);

int ir_path_init(struct ir_tree_path *p, const char *root,
                 struct ir_ctx *ctx) IR_WUR;
/* Append "/name"; *saved is what ir_path_pop restores.  -ELOOP past
 * IR_LIMIT_TREE_DEPTH, -ENAMETOOLONG past PATH_MAX. */
int ir_path_push(struct ir_tree_path *p, const char *name, size_t *saved,
                 struct ir_ctx *ctx) IR_WUR;
void ir_path_pop(struct ir_tree_path *p, size_t saved);
/* The part below the root, without its leading '/'. */
const char *ir_path_rel(const struct ir_tree_path *p);

#endif
