/*
 * Git, the half that changes the work tree: the checkout (safe, with the
 * owned folder and the conflicts it reports), the index lock, and the
 * repository the demo and the tests build.  The other half is gitops.c.
 */
#include "gitops.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitops_lib.h"
#include "ir_limits.h"

const char *const ir_git_lock_files[IR_GIT_N_LOCK_FILES] = { "index.lock",
							      "HEAD.lock" };

#define DEMO_NAME "incident demo"
#define DEMO_EMAIL "demo@incident.invalid"

/* Conflicts reported by a checkout, those under the owned folder aside. */
struct watch {
	git_repository *repo;
	const char *owned; /* normalised, no trailing '/'; NULL: none */
	size_t owned_len;
	struct ir_buf *list; /* the caller's, may be NULL */
	size_t list_start;
	bool list_full;
	size_t n;
	size_t ours;       /* conflicts that already hold the target's content */
	char summary[160];
	bool summary_full;
};

static bool
is_owned(const struct watch *w, const char *path)
{
	return w->owned && !strncmp(path, w->owned, w->owned_len) &&
	       (path[w->owned_len] == '\0' || path[w->owned_len] == '/');
}

/*
 * A work-tree file that holds the target's content, or the start of it,
 * loses nothing when the checkout writes it.  libgit2 writes the work tree
 * before the index, truncating each file before it fills it, so a
 * checkout killed midway leaves exactly such files behind (whole, empty or
 * cut short), and its retry must not take them for somebody's change.
 */
static bool
holds_target(const struct watch *w, const char *path,
	     const git_diff_file *target)
{
	git_blob *blob = NULL;
	const char *want;
	char full[IR_LIMIT_STRING], buf[8192];
	size_t size, off = 0;
	bool prefix = false;
	struct stat st;
	int fd = -1;

	if (!w->repo || !target || !(target->flags & GIT_DIFF_FLAG_VALID_ID) ||
	    git_oid_is_zero(&target->id) || !git_repository_workdir(w->repo))
		return false;
	/* workdir ends with '/'. */
	if ((size_t)snprintf(full, sizeof(full), "%s%s",
			     git_repository_workdir(w->repo),
			     path) >= sizeof(full))
		return false;
	if (git_blob_lookup(&blob, w->repo, &target->id) < 0) {
		git_error_clear();
		return false;
	}
	want = git_blob_rawcontent(blob);
	size = (size_t)git_blob_rawsize(blob);
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > size)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (off + (size_t)n > size || memcmp(want + off, buf, (size_t)n))
			goto out;
		off += (size_t)n;
	}
	prefix = true;
out:
	if (fd >= 0)
		close(fd);
	git_blob_free(blob);
	return prefix;
}

static int
on_conflict(git_checkout_notify_t why, const char *path,
	    const git_diff_file *baseline, const git_diff_file *target,
	    const git_diff_file *workdir, void *payload)
{
	struct watch *w = payload;
	size_t used, len;

	(void)baseline;
	(void)workdir;
	if (why != GIT_CHECKOUT_NOTIFY_CONFLICT || !path || is_owned(w, path))
		return 0;
	if (holds_target(w, path, target)) {
		w->ours++;
		return 0;
	}
	w->n++;
	if (w->list && !w->list_full &&
	    ir_buf_printf(w->list, "%s\n", path) != 0)
		w->list_full = true;
	used = strlen(w->summary);
	len = strlen(path) + (used ? 2 : 0);
	if (w->summary_full)
		return 0;
	if (used + len + 4 < sizeof(w->summary)) {
		snprintf(w->summary + used, sizeof(w->summary) - used, "%s%s",
			 used ? ", " : "", path);
	} else {
		snprintf(w->summary + used, sizeof(w->summary) - used, "%s",
			 used ? ", ..." : "...");
		w->summary_full = true;
	}
	return 0;
}

static void
watch_reset(struct watch *w)
{
	if (w->list && w->list->len > w->list_start) {
		w->list->len = w->list_start;
		w->list->data[w->list_start] = '\0';
	}
	w->list_full = false;
	w->n = 0;
	w->ours = 0;
	w->summary[0] = '\0';
	w->summary_full = false;
}

static int
blocked(struct ir_ctx *ctx, const struct watch *w, const char *tag)
{
	return ir_error_set(ctx, -EEXIST, IR_ORIGIN_GIT, GIT_ECONFLICT,
			    "checkout of \"%s\" blocked by %zu local "
			    "change%s: %s",
			    tag, w->n, w->n == 1 ? "" : "s", w->summary);
}

/* owned_dir relative to the work tree, without "./" and trailing '/'. */
static int
owned_norm(char *out, size_t cap, const char *owned_dir, const char *workdir,
	   struct ir_ctx *ctx)
{
	const char *p = owned_dir;
	size_t wlen = strlen(workdir), n;

	if (p[0] == '/') {
		/* workdir ends with '/'. */
		if (strncmp(p, workdir, wlen))
			goto bad;
		p += wlen;
	}
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (!n || (n == 1 && p[0] == '.') || n >= cap)
		goto bad;
	memcpy(out, p, n);
	out[n] = '\0';
	if (!strcmp(out, "..") || !strncmp(out, "../", 3) ||
	    strstr(out, "/../") ||
	    (n >= 3 && !strcmp(out + n - 3, "/..")))
		goto bad;
	return 0;
bad:
	return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
			    "\"%s\" is not a folder inside the work tree",
			    owned_dir);
}

/* Check out tree with strategy, conflicts reported to w. */
static int
checkout(struct ir_git *git, git_tree *tree, unsigned int strategy,
	 const char *only, git_index *baseline, struct watch *w)
{
	git_checkout_options opts;
	char *paths[1];
	int rc;

	rc = git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	if (rc < 0)
		return rc;
	w->repo = git->repo;
	opts.checkout_strategy = strategy;
	opts.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	opts.notify_cb = on_conflict;
	opts.notify_payload = w;
	opts.baseline_index = baseline;
	if (only) {
		paths[0] = (char *)only;
		opts.paths.strings = paths;
		opts.paths.count = 1;
		/* A pathspec, not an exact path: "config" must take in
		 * untracked files under config/ that the tag adds. */
	}
	return git_checkout_tree(git->repo, (const git_object *)tree, &opts);
}

static int
lock_path(struct ir_git *git, const char *name, char *buf, size_t cap,
	  struct ir_ctx *ctx)
{
	/* git_repository_path() ends with '/'. */
	if ((size_t)snprintf(buf, cap, "%s%s", git_repository_path(git->repo),
			     name) >= cap)
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
				    "git directory path is too long");
	return 0;
}

/* libgit2 writes the work tree first and locks the index and HEAD only to
 * write them, so a held index.lock or HEAD.lock would fail the checkout
 * half done: refuse before touching anything. */
static int
index_unlocked(struct ir_git *git, struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	struct stat st;
	size_t i;
	int rc;

	for (i = 0; i < IR_GIT_N_LOCK_FILES; i++) {
		rc = lock_path(git, ir_git_lock_files[i], path, sizeof(path),
			       ctx);
		if (rc)
			return rc;
		if (lstat(path, &st) == 0)
			return ir_error_set(ctx, -EBUSY, IR_ORIGIN_GIT,
					    GIT_ELOCKED,
					    "%s exists: another git process "
					    "is running, or one crashed",
					    path);
		if (errno != ENOENT)
			return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
					    "%s: %s", path, strerror(errno));
	}
	return 0;
}

/* Point the watch at the owned folder (see ir_git_checkout), normalised
 * into owned (cap bytes). */
static int
watch_init(struct watch *w, struct ir_git *git, const char *owned_dir,
	   char *owned, size_t cap, struct ir_ctx *ctx)
{
	int rc;

	if (!owned_dir)
		return 0;
	rc = owned_norm(owned, cap, owned_dir,
			git_repository_workdir(git->repo), ctx);
	if (rc)
		return rc;
	w->owned = owned;
	w->owned_len = strlen(owned);
	return 0;
}

int
ir_git_checkout(struct ir_git *git, const char *tag, bool force,
		const char *owned_dir, struct ir_buf *conflicts,
		struct ir_ctx *ctx)
{
	struct watch w = { 0 };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_index *index = NULL;
	char owned[IR_LIMIT_STRING];
	int rc;

	if (!git || !tag)
		return -EINVAL;
	rc = watch_init(&w, git, owned_dir, owned, sizeof(owned), ctx);
	if (rc)
		return rc;
	w.list = conflicts;
	w.list_start = conflicts ? conflicts->len : 0;
	rc = ir_git_resolve_tag(git, tag, &commit, ctx);
	if (rc)
		return rc;
	rc = index_unlocked(git, ctx);
	if (rc)
		goto out;
	rc = git_commit_tree(&tree, commit);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "tag \"%s\"", tag);
		goto out;
	}
	/* A tracked file deleted by hand loses nothing when it comes back:
	 * the rollback restores it rather than stopping on it.  A safe
	 * checkout finds every conflict before it writes anything (libgit2
	 * plans all its actions first), so a blocked one leaves the work
	 * tree as it was. */
	rc = checkout(git, tree,
		      (force ? GIT_CHECKOUT_FORCE : GIT_CHECKOUT_SAFE) |
			      GIT_CHECKOUT_RECREATE_MISSING,
		      NULL, NULL, &w);
	if (rc == GIT_ECONFLICT && !w.n && w.ours) {
		/* Every conflict outside the owned folder already holds the
		 * target's content (an interrupted checkout of ours): nothing
		 * of anybody's is in the way, so write them all. */
		git_error_clear();
		watch_reset(&w);
		rc = checkout(git, tree,
			      GIT_CHECKOUT_FORCE | GIT_CHECKOUT_RECREATE_MISSING,
			      NULL, NULL, &w);
	}
	if (rc == GIT_ECONFLICT && !w.n && w.owned) {
		/* Only the owned folder differs from the tag, and it is the
		 * config step's to replace: it takes the tag's content,
		 * then the rest is checked out against the index (not
		 * HEAD), or the files just written there would look like
		 * local changes. */
		git_error_clear();
		rc = checkout(git, tree, GIT_CHECKOUT_FORCE, w.owned, NULL,
			      &w);
		if (rc < 0) {
			rc =
			    ir_git_fail(ctx, rc, "checkout of \"%s\" in \"%s\"",
			                tag, w.owned);
			goto out;
		}
		watch_reset(&w);
		rc = git_repository_index(&index, git->repo);
		if (rc < 0) {
			rc = ir_git_fail(ctx, rc, "reading the index");
			goto out;
		}
		rc = checkout(git, tree,
			      GIT_CHECKOUT_SAFE | GIT_CHECKOUT_RECREATE_MISSING,
			      NULL, index, &w);
	}
	if (rc == GIT_ECONFLICT && w.n) {
		git_error_clear();
		rc = blocked(ctx, &w, tag);
		goto out;
	}
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "checkout of \"%s\"", tag);
		goto out;
	}
	rc = git_repository_set_head_detached(git->repo, git_commit_id(commit));
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "detaching HEAD at \"%s\"", tag);
		goto out;
	}
	rc = 0;
out:
	if (rc != -EEXIST)
		watch_reset(&w);
	git_index_free(index);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

int
ir_git_checkout_conflicts(struct ir_git *git, const char *tag,
			  const char *owned_dir, struct ir_buf *conflicts,
			  size_t *n, struct ir_ctx *ctx)
{
	struct watch w = { 0 };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char owned[IR_LIMIT_STRING];
	int rc;

	if (!git || !tag || !n)
		return -EINVAL;
	rc = watch_init(&w, git, owned_dir, owned, sizeof(owned), ctx);
	if (rc)
		return rc;
	w.list = conflicts;
	w.list_start = conflicts ? conflicts->len : 0;
	rc = ir_git_resolve_tag(git, tag, &commit, ctx);
	if (rc)
		return rc;
	rc = git_commit_tree(&tree, commit);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "tag \"%s\"", tag);
		goto out;
	}
	/* The same strategy and the same watch as the real checkout's first
	 * pass, which reports every conflict before it writes anything.  A
	 * dry run still writes the index back (the stat data of entries it
	 * looked at again, racy ones) unless told not to: the pre-flight
	 * changes nothing. */
	rc = checkout(git, tree,
		      GIT_CHECKOUT_SAFE | GIT_CHECKOUT_RECREATE_MISSING |
			      GIT_CHECKOUT_DRY_RUN |
			      GIT_CHECKOUT_DONT_WRITE_INDEX,
		      NULL, NULL, &w);
	if (rc == GIT_ECONFLICT) {
		git_error_clear();
		rc = 0;
	}
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "checkout of \"%s\" (dry run)", tag);
		goto out;
	}
	*n = w.n;
	rc = 0;
out:
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

int
ir_git_lock_file(struct ir_git *git, const char *name, bool *exists,
		 int64_t *mtime_ns, struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	struct stat st;
	int rc;

	if (!git || !name || !exists)
		return -EINVAL;
	rc = lock_path(git, name, path, sizeof(path), ctx);
	if (rc)
		return rc;
	if (lstat(path, &st)) {
		if (errno != ENOENT)
			return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
					    "%s: %s", path, strerror(errno));
		*exists = false;
		if (mtime_ns)
			*mtime_ns = 0;
		return 0;
	}
	*exists = true;
	if (mtime_ns)
		*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			    st.st_mtim.tv_nsec;
	return 0;
}

int
ir_git_lock_file_remove(struct ir_git *git, const char *name,
			struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	int rc;

	if (!git || !name)
		return -EINVAL;
	rc = lock_path(git, name, path, sizeof(path), ctx);
	if (rc)
		return rc;
	if (unlink(path) && errno != ENOENT)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot remove %s: %s", path,
				    strerror(errno));
	return 0;
}

int
ir_git_init(struct ir_git **out, const char *path, struct ir_ctx *ctx)
{
	git_repository_init_options opts;
	struct ir_git *git = NULL;
	int rc;

	if (!out || !path)
		return -EINVAL;
	rc = ir_git_handle_new(&git, ctx);
	if (rc)
		return rc;
	rc = git_repository_init_options_init(
		&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "git init");
		goto out;
	}
	opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	rc = git_repository_init_ext(&git->repo, path, &opts);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc,
		                 "cannot create a repository in \"%s\"", path);
		goto out;
	}
	*out = git;
	git = NULL;
out:
	ir_git_close(git);
	return rc;
}

/* The steps of ir_git_commit_all() that touch the index and the tree. */
static int
stage_all(struct ir_git *git, git_tree **out)
{
	git_index *index = NULL;
	git_oid tree_id;
	int rc;

	rc = git_repository_index(&index, git->repo);
	if (rc < 0)
		return rc;
	/* As `git add -A`: new and changed files (.gitignore honoured),
	 * then deleted ones. */
	rc = git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL);
	if (rc == 0)
		rc = git_index_update_all(index, NULL, NULL, NULL);
	if (rc == 0)
		rc = git_index_write(index);
	if (rc == 0)
		rc = git_index_write_tree(&tree_id, index);
	if (rc == 0)
		rc = git_tree_lookup(out, git->repo, &tree_id);
	git_index_free(index);
	return rc;
}

int
ir_git_commit_all(struct ir_git *git, const char *message, int64_t when,
		  char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx)
{
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_buf msg = { 0 };
	git_oid parent_id, id;
	const git_commit *parents[1];
	size_t n_parents = 0;
	int rc;

	if (!git || !message)
		return -EINVAL;
	rc = stage_all(git, &tree);
	if (rc < 0)
		goto out;
	rc = git_reference_name_to_id(&parent_id, git->repo, "HEAD");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
		git_error_clear(); /* the first commit */
		rc = 0;
	} else if (rc == 0) {
		rc = git_commit_lookup(&parent, git->repo, &parent_id);
		if (rc < 0)
			goto out;
		parents[n_parents++] = parent;
	} else {
		goto out;
	}
	if (when)
		rc = git_signature_new(&sig, DEMO_NAME, DEMO_EMAIL, when, 0);
	else
		rc = git_signature_now(&sig, DEMO_NAME, DEMO_EMAIL);
	if (rc < 0)
		goto out;
	rc = git_message_prettify(&msg, message, 0, '#');
	if (rc < 0)
		goto out;
	rc = git_commit_create(&id, git->repo, "HEAD", sig, sig, NULL,
			       msg.ptr, tree, n_parents, parents);
	if (rc < 0)
		goto out;
	if (commit)
		ir_git_oid_hex(commit, &id);
out:
	if (rc < 0)
		rc = ir_git_fail(ctx, rc, "commit");
	git_buf_dispose(&msg);
	git_signature_free(sig);
	git_commit_free(parent);
	git_tree_free(tree);
	return rc;
}

int
ir_git_tag_head(struct ir_git *git, const char *name, struct ir_ctx *ctx)
{
	git_object *head = NULL;
	git_oid id;
	int rc;

	if (!git || !name)
		return -EINVAL;
	rc = git_revparse_single(&head, git->repo, "HEAD^{commit}");
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_tag_create_lightweight(&id, git->repo, name, head, 0);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "tag \"%s\"", name);
		goto out;
	}
	rc = 0;
out:
	git_object_free(head);
	return rc;
}
