/*
 * Git: the deployment's work tree (tags, HEAD, status, checkout), and the
 * git-config file format our configuration is written in.  The only module
 * that includes <git2.h>; no libgit2 type crosses this header.
 */
#ifndef IR_GITOPS_H
#define IR_GITOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define IR_GIT_OID_HEX 41

struct ir_git;

/* One entry of a git-config file, in file order.  name is as libgit2 gives
 * it: "section.key" or "section.subsection.key", section and key lower
 * case. */
typedef int (*ir_gitcfg_fn)(void *payload, const char *name,
			    const char *value);

/* Parse a git-config file and call fn for every entry.  -ENOENT for a
 * missing file, -EINVAL for a malformed one with libgit2's message (which
 * names the line) in ctx.  A non-zero fn return stops and is returned. */
int ir_gitcfg_read(const char *path, ir_gitcfg_fn fn, void *payload,
		   struct ir_ctx *ctx) IR_WUR;

/* Open the repository whose work tree is workdir (no discovery upwards).
 * -ENOENT when it is not a git work tree. */
int ir_git_open(struct ir_git **out, const char *workdir,
		struct ir_ctx *ctx) IR_WUR;
void ir_git_close(struct ir_git *git);

struct ir_git_tag {
	char name[256];            /* without refs/tags/ */
	char commit[IR_GIT_OID_HEX]; /* peeled to the commit */
	int64_t time;              /* commit time, s since the epoch */
};

/* The tags matching glob `pattern` (e.g. "deploy-*"), sorted by name,
 * oldest first.  *out is an array the caller frees with free(). */
int ir_git_tags(struct ir_git *git, const char *pattern,
		struct ir_git_tag **out, size_t *n, struct ir_ctx *ctx) IR_WUR;

/* HEAD's commit (hex) and subject line (cut to cap).  detached tells
 * whether HEAD is detached. */
int ir_git_head(struct ir_git *git, char commit[IR_GIT_OID_HEX],
		char *subject, size_t cap, bool *detached,
		struct ir_ctx *ctx) IR_WUR;

/* Resolve a tag name to its commit; -ENOENT when there is no such tag. */
int ir_git_tag_commit(struct ir_git *git, const char *tag,
		      char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx) IR_WUR;

/* Local changes, one call per path, like `git status --porcelain`:
 * code is two characters (index, work tree), e.g. " M", "??", "A ". */
typedef int (*ir_git_status_fn)(void *payload, const char *code,
				const char *path);
int ir_git_status(struct ir_git *git, ir_git_status_fn fn, void *payload,
		  struct ir_ctx *ctx) IR_WUR;

/* The patch of tracked changes (work tree and index against HEAD) appended
 * to out, as `git diff HEAD` would print it. */
int ir_git_diff(struct ir_git *git, struct ir_buf *out,
		struct ir_ctx *ctx) IR_WUR;

/* Check out `tag` and detach HEAD at its commit.  Safe mode unless force.
 * Local changes under the folder `owned_dir` (relative to the work tree;
 * NULL for none) never block: they are overwritten by the tag's content.
 * Any other conflicting change fails with -EEXIST and the conflicting
 * paths, one per line, appended to conflicts (may be NULL). */
int ir_git_checkout(struct ir_git *git, const char *tag, bool force,
		    const char *owned_dir, struct ir_buf *conflicts,
		    struct ir_ctx *ctx) IR_WUR;

/* What ir_git_checkout(git, tag, false, owned_dir, ...) would find in the
 * way, without touching the work tree or the index: the conflicting paths
 * (those under owned_dir aside), one per line, appended to conflicts (may
 * be NULL), and their count in *n (0: the checkout would go through).
 * -ENOENT for an unknown tag. */
int ir_git_checkout_conflicts(struct ir_git *git, const char *tag,
			      const char *owned_dir, struct ir_buf *conflicts,
			      size_t *n, struct ir_ctx *ctx) IR_WUR;

/* The lock files a checkout takes in the git directory (index.lock, then
 * HEAD.lock to detach HEAD); a checkout killed midway leaves one behind. */
#define IR_GIT_N_LOCK_FILES 2
extern const char *const ir_git_lock_files[IR_GIT_N_LOCK_FILES];

/* The lock file `name` (one of ir_git_lock_files) in the git directory:
 * whether it exists and its mtime (ns). */
int ir_git_lock_file(struct ir_git *git, const char *name, bool *exists,
		     int64_t *mtime_ns, struct ir_ctx *ctx) IR_WUR;
/* Remove it (when the caller knows it is a stale one of ours). */
int ir_git_lock_file_remove(struct ir_git *git, const char *name,
			    struct ir_ctx *ctx) IR_WUR;

/* For the demo and tests: create a repository at path (work tree), stage
 * everything in the work tree and commit it, tag HEAD (lightweight). */
int ir_git_init(struct ir_git **out, const char *path,
		struct ir_ctx *ctx) IR_WUR;
int ir_git_commit_all(struct ir_git *git, const char *message,
		      int64_t when, char commit[IR_GIT_OID_HEX],
		      struct ir_ctx *ctx) IR_WUR;
int ir_git_tag_head(struct ir_git *git, const char *name,
		    struct ir_ctx *ctx) IR_WUR;

/* Notes (gitops_notes.c), as `git notes --ref REF append` keeps them: add
 * text as a paragraph of commit's note under ref (a full ref name), made
 * if missing, committed by author. */
int ir_git_note_append(struct ir_git *git, const char *ref,
		       const char *commit, const char *text,
		       const char *author, struct ir_ctx *ctx) IR_WUR;
/* Each note under ref: fn's non-zero return stops the walk and is
 * returned.  No such ref: none, 0. */
typedef int (*ir_git_note_fn)(void *payload, const char *commit,
			      const char *text, size_t len);
int ir_git_notes(struct ir_git *git, const char *ref, ir_git_note_fn fn,
		 void *payload, struct ir_ctx *ctx) IR_WUR;

#endif
