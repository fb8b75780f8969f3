/*
 * libgit2 as the git module reaches it: the repository handle, the one
 * translation of libgit2's errors, and the helpers both halves use.
 * Private to gitops.c (configuration, tags, HEAD, status, diff),
 * gitops_checkout.c (checkout, the index lock, the demo's repository) and
 * gitops_notes.c (notes): the only files that include <git2.h>.
 */
#ifndef IR_GITOPS_LIB_H
#define IR_GITOPS_LIB_H

#include <git2.h>
#include <stdbool.h>

#include "error.h"
#include "gitops.h"

struct ir_git {
	git_repository *repo;
	bool lib_held; /* one git_libgit2_init() to pair with a shutdown */
};

/* The one place a libgit2 error becomes ours: the code is mapped (and
 * returned), the message is libgit2's own, prefixed with what we were
 * doing. */
int ir_git_fail(struct ir_ctx *ctx, int rc, const char *fmt, ...)
	IR_PRINTF(3, 4);

/* Take one reference on libgit2's global state (see gitops.c). */
int ir_git_lib_hold(struct ir_ctx *ctx) IR_WUR;

/* A handle without a repository yet, holding one reference on libgit2
 * (ir_git_close() lets go of both). */
int ir_git_handle_new(struct ir_git **out, struct ir_ctx *ctx) IR_WUR;

void ir_git_oid_hex(char out[IR_GIT_OID_HEX], const git_oid *id);

/* refs/tags/<tag> exactly (no rev-parse syntax), peeled to its commit. */
int ir_git_resolve_tag(struct ir_git *git, const char *tag, git_commit **out,
		       struct ir_ctx *ctx) IR_WUR;

#endif
