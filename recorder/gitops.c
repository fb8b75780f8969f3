/*
 * Git through libgit2.  Every libgit2 error is translated in fail(), and
 * only there.  Each ir_git (and each config read) holds one reference on
 * libgit2's global state: git_libgit2_init() on the way in, the matching
 * git_libgit2_shutdown() on the way out; one more reference is held for the
 * life of the process (see lib_hold).
 */
#include "gitops.h"

#include <git2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir_limits.h"

#define DEMO_NAME "incident demo"
#define DEMO_EMAIL "demo@incident.invalid"
#define TAG_PREFIX "refs/tags/"

struct ir_git {
	git_repository *repo;
	bool lib_held; /* one git_libgit2_init() to pair with a shutdown */
};

/* The one place a libgit2 error becomes ours: the code is mapped, the
 * message is libgit2's own, prefixed with what we were doing. */
static int IR_PRINTF(3, 4)
fail(struct ir_ctx *ctx, int rc, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown git error";
	char what[160] = "";
	va_list ap;
	int code;

	switch (rc) {
	case GIT_ENOTFOUND:
	case GIT_EUNBORNBRANCH:
		code = -ENOENT;
		break;
	case GIT_ECONFLICT:
	case GIT_EEXISTS:
		code = -EEXIST;
		break;
	case GIT_ELOCKED:
		code = -EBUSY;
		break;
	case GIT_EINVALIDSPEC:
		code = -EINVAL;
		break;
	default:
		if (e && e->klass == GIT_ERROR_NOMEMORY)
			code = -ENOMEM;
		else if (e && e->klass == GIT_ERROR_CONFIG)
			code = -EINVAL; /* a malformed configuration file */
		else
			code = -EIO;
		break;
	}
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
	}
	code = ir_error_set(ctx, code, IR_ORIGIN_GIT, rc, "%s%s%s", what,
			    what[0] ? ": " : "", msg);
	git_error_clear();
	return code;
}

/* libgit2 (built with mbedTLS on Debian) parses the whole CA bundle each
 * time its global state is set up, some 10 ms: the first hold is kept for
 * the life of the process, so the later init/shutdown pairs only count. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void
lib_hold_forever(void)
{
	if (git_libgit2_init() < 0)
		git_error_clear();
}

static int
lib_hold(struct ir_ctx *ctx)
{
	int rc;

	pthread_once(&lib_once, lib_hold_forever);
	rc = git_libgit2_init();

	if (rc < 0)
		return fail(ctx, rc, "cannot initialise libgit2");
	return 0;
}

static void
oid_hex(char out[IR_GIT_OID_HEX], const git_oid *id)
{
	git_oid_tostr(out, IR_GIT_OID_HEX, id);
}

/* Copy src into dst (cap bytes, NUL included), cutting on a UTF-8
 * character boundary. */
static void
copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (!cap)
		return;
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
ir_gitcfg_read(const char *path, ir_gitcfg_fn fn, void *payload,
	       struct ir_ctx *ctx)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	bool held = false;
	struct stat st;
	int rc;

	if (!path || !fn)
		return -EINVAL;
	if (stat(path, &st)) {
		rc = -errno;
		if (rc == -ENOENT)
			return ir_error_set(ctx, rc, IR_ORIGIN_CONFIG, ENOENT,
					    "configuration file \"%s\" not "
					    "found",
					    path);
		return ir_error_set(ctx, rc, IR_ORIGIN_OS, -rc,
				    "cannot read \"%s\": %s", path,
				    strerror(-rc));
	}
	if (!S_ISREG(st.st_mode))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "\"%s\" is not a regular file", path);
	if (st.st_size > IR_LIMIT_CONFIG_BYTES)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				    "\"%s\" is larger than %d bytes", path,
				    IR_LIMIT_CONFIG_BYTES);
	rc = lib_hold(ctx);
	if (rc)
		return rc;
	held = true;
	rc = git_config_new(&cfg);
	if (rc < 0) {
		rc = fail(ctx, rc, NULL);
		goto out;
	}
	/* Parses the whole file now; a syntax error names file and line. */
	rc = git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, NULL,
					0);
	if (rc < 0) {
		rc = fail(ctx, rc, NULL);
		goto out;
	}
	/* One backend: the iterator walks its entries in file order. */
	rc = git_config_iterator_new(&it, cfg);
	if (rc < 0) {
		rc = fail(ctx, rc, NULL);
		goto out;
	}
	for (;;) {
		rc = git_config_next(&entry, it);
		if (rc == GIT_ITEROVER) {
			rc = 0;
			break;
		}
		if (rc < 0) {
			rc = fail(ctx, rc, "%s", path);
			break;
		}
		/* value is NULL for a bare "key" line (boolean true). */
		rc = fn(payload, entry->name, entry->value);
		if (rc)
			break;
	}
out:
	git_config_iterator_free(it);
	git_config_free(cfg);
	if (held)
		git_libgit2_shutdown();
	return rc;
}

int
ir_git_open(struct ir_git **out, const char *workdir, struct ir_ctx *ctx)
{
	struct ir_git *git = NULL;
	int rc;

	if (!out || !workdir)
		return -EINVAL;
	git = calloc(1, sizeof(*git));
	if (!git)
		return -ENOMEM;
	rc = lib_hold(ctx);
	if (rc)
		goto out;
	git->lib_held = true;
	rc = git_repository_open_ext(&git->repo, workdir,
				     GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc < 0) {
		rc = fail(ctx, rc, "\"%s\" is not a git work tree", workdir);
		goto out;
	}
	if (git_repository_is_bare(git->repo)) {
		rc = ir_error_set(ctx, -ENOENT, IR_ORIGIN_GIT, 0,
				  "\"%s\" is a bare repository, not a work "
				  "tree",
				  workdir);
		goto out;
	}
	*out = git;
	git = NULL;
out:
	ir_git_close(git);
	return rc;
}

void
ir_git_close(struct ir_git *git)
{
	if (!git)
		return;
	git_repository_free(git->repo);
	if (git->lib_held)
		git_libgit2_shutdown();
	free(git);
}

static int
tag_cmp(const void *a, const void *b)
{
	const struct ir_git_tag *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
ir_git_tags(struct ir_git *git, const char *pattern, struct ir_git_tag **out,
	    size_t *n, struct ir_ctx *ctx)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_object *obj = NULL;
	struct ir_git_tag *tags = NULL, *grown;
	size_t count = 0, cap = 0;
	char glob[IR_LIMIT_STRING];
	int rc;

	if (!git || !pattern || !out || !n)
		return -EINVAL;
	if ((size_t)snprintf(glob, sizeof(glob), TAG_PREFIX "%s", pattern) >=
	    sizeof(glob))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_GIT, 0,
				    "tag pattern is too long");
	rc = git_reference_iterator_glob_new(&it, git->repo, glob);
	if (rc < 0) {
		rc = fail(ctx, rc, "cannot list tags \"%s\"", pattern);
		goto out;
	}
	for (;;) {
		const char *name;

		rc = git_reference_next(&ref, it);
		if (rc == GIT_ITEROVER) {
			rc = 0;
			break;
		}
		if (rc < 0) {
			rc = fail(ctx, rc, "cannot list tags \"%s\"", pattern);
			goto out;
		}
		name = git_reference_name(ref) + strlen(TAG_PREFIX);
		rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
		/* Not a deploy: a tag of a tree or blob (libgit2 1.5 says
		 * EINVALIDSPEC, later ones EPEEL), or a name no deploy tool
		 * would make. */
		if (rc == GIT_EPEEL || rc == GIT_EINVALIDSPEC ||
		    strlen(name) >= sizeof(tags->name)) {
			git_error_clear();
			git_reference_free(ref);
			ref = NULL;
			continue;
		}
		if (rc < 0) {
			rc = fail(ctx, rc, "cannot resolve tag \"%s\"", name);
			goto out;
		}
		if (count == cap) {
			if (cap >= IR_LIMIT_GIT_TAGS) {
				rc = ir_error_set(ctx, -E2BIG, IR_ORIGIN_GIT,
						  0,
						  "more than %d tags match "
						  "\"%s\"",
						  IR_LIMIT_GIT_TAGS, pattern);
				goto out;
			}
			cap = cap ? cap * 2 : 16;
			if (cap > IR_LIMIT_GIT_TAGS)
				cap = IR_LIMIT_GIT_TAGS;
			grown = realloc(tags, cap * sizeof(*tags));
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			tags = grown;
		}
		memset(&tags[count], 0, sizeof(tags[count]));
		copy_cut(tags[count].name, sizeof(tags[count].name), name);
		oid_hex(tags[count].commit, git_object_id(obj));
		tags[count].time = git_commit_time((const git_commit *)obj);
		count++;
		git_object_free(obj);
		obj = NULL;
		git_reference_free(ref);
		ref = NULL;
	}
	if (count)
		qsort(tags, count, sizeof(*tags), tag_cmp);
	*out = tags;
	*n = count;
	tags = NULL;
out:
	free(tags);
	git_object_free(obj);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return rc;
}

int
ir_git_head(struct ir_git *git, char commit[IR_GIT_OID_HEX], char *subject,
	    size_t cap, bool *detached, struct ir_ctx *ctx)
{
	git_reference *head = NULL;
	git_object *obj = NULL;
	const char *summary;
	int rc, det;

	if (!git || !commit)
		return -EINVAL;
	rc = git_repository_head(&head, git->repo);
	if (rc < 0) {
		rc = fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_reference_peel(&obj, head, GIT_OBJECT_COMMIT);
	if (rc < 0) {
		rc = fail(ctx, rc, "HEAD");
		goto out;
	}
	det = git_repository_head_detached(git->repo);
	if (det < 0) {
		rc = fail(ctx, det, "HEAD");
		goto out;
	}
	oid_hex(commit, git_object_id(obj));
	if (subject && cap) {
		summary = git_commit_summary((git_commit *)obj);
		copy_cut(subject, cap, summary ? summary : "");
	}
	if (detached)
		*detached = det == 1;
	rc = 0;
out:
	git_object_free(obj);
	git_reference_free(head);
	return rc;
}

/* refs/tags/<tag> exactly (no rev-parse syntax), peeled to its commit. */
static int
resolve_tag(struct ir_git *git, const char *tag, git_commit **out,
	    struct ir_ctx *ctx)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	char name[IR_LIMIT_STRING];
	int rc;

	if ((size_t)snprintf(name, sizeof(name), TAG_PREFIX "%s", tag) >=
	    sizeof(name))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_GIT, 0,
				    "tag name is too long");
	rc = git_reference_lookup(&ref, git->repo, name);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		rc = ir_error_set(ctx, -ENOENT, IR_ORIGIN_GIT, rc,
				  "no tag \"%s\"", tag);
		goto out;
	}
	if (rc < 0) {
		rc = fail(ctx, rc, "tag \"%s\"", tag);
		goto out;
	}
	rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (rc < 0) {
		rc = fail(ctx, rc, "tag \"%s\"", tag);
		goto out;
	}
	*out = (git_commit *)obj;
	obj = NULL;
out:
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

int
ir_git_tag_commit(struct ir_git *git, const char *tag,
		  char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx)
{
	git_commit *c = NULL;
	int rc;

	if (!git || !tag || !commit)
		return -EINVAL;
	rc = resolve_tag(git, tag, &c, ctx);
	if (rc)
		return rc;
	oid_hex(commit, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

/* The two letters of `git status --porcelain`; "  " for nothing to say. */
static void
status_code(char code[3], unsigned int s)
{
	code[0] = ' ';
	code[1] = ' ';
	code[2] = '\0';
	if (s & GIT_STATUS_CONFLICTED) {
		code[0] = code[1] = 'U';
		return;
	}
	if (s & GIT_STATUS_INDEX_NEW)
		code[0] = 'A';
	else if (s & GIT_STATUS_INDEX_MODIFIED)
		code[0] = 'M';
	else if (s & GIT_STATUS_INDEX_DELETED)
		code[0] = 'D';
	else if (s & GIT_STATUS_INDEX_RENAMED)
		code[0] = 'R';
	else if (s & GIT_STATUS_INDEX_TYPECHANGE)
		code[0] = 'T';
	if (s & GIT_STATUS_WT_NEW) {
		if (code[0] == ' ')
			code[0] = code[1] = '?';
	} else if (s & GIT_STATUS_WT_MODIFIED) {
		code[1] = 'M';
	} else if (s & GIT_STATUS_WT_DELETED) {
		code[1] = 'D';
	} else if (s & GIT_STATUS_WT_TYPECHANGE) {
		code[1] = 'T';
	} else if (s & GIT_STATUS_WT_RENAMED) {
		code[1] = 'R';
	}
}

int
ir_git_status(struct ir_git *git, ir_git_status_fn fn, void *payload,
	      struct ir_ctx *ctx)
{
	git_status_options opts;
	git_status_list *list = NULL;
	size_t i, count;
	int rc;

	if (!git || !fn)
		return -EINVAL;
	rc = git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	if (rc < 0)
		return fail(ctx, rc, "git status");
	/* Untracked files one by one (as -uall): the backup names each. */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		     GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	rc = git_status_list_new(&list, git->repo, &opts);
	if (rc < 0) {
		rc = fail(ctx, rc, "git status");
		goto out;
	}
	count = git_status_list_entrycount(list);
	for (i = 0; i < count; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d;
		char code[3];

		if (!e)
			continue;
		status_code(code, e->status);
		if (!strcmp(code, "  "))
			continue;
		d = e->index_to_workdir ? e->index_to_workdir
					: e->head_to_index;
		if (!d)
			continue;
		rc = fn(payload, code,
			d->new_file.path ? d->new_file.path
					 : d->old_file.path);
		if (rc)
			goto out;
	}
	rc = 0;
out:
	git_status_list_free(list);
	return rc;
}

struct diff_sink {
	struct ir_buf *out;
	size_t room;  /* bytes this diff may still add */
	size_t added;
	bool cut;
	int err;
};

#define DIFF_MARKER_ROOM 96

static int
diff_line(const git_diff_delta *delta, const git_diff_hunk *hunk,
	  const git_diff_line *line, void *payload)
{
	struct diff_sink *s = payload;
	bool origin = line->origin == GIT_DIFF_LINE_CONTEXT ||
		      line->origin == GIT_DIFF_LINE_ADDITION ||
		      line->origin == GIT_DIFF_LINE_DELETION;
	size_t need = line->content_len + (origin ? 1 : 0);
	int rc;

	(void)delta;
	(void)hunk;
	if (need > s->room) {
		s->cut = true;
		return GIT_EUSER;
	}
	if (origin) {
		rc = ir_buf_add(s->out, &line->origin, 1);
		if (rc)
			goto fail;
	}
	rc = ir_buf_add(s->out, line->content, line->content_len);
	if (rc)
		goto fail;
	s->room -= need;
	s->added += need;
	return 0;
fail:
	s->err = rc;
	return GIT_EUSER;
}

int
ir_git_diff(struct ir_git *git, struct ir_buf *out, struct ir_ctx *ctx)
{
	git_diff_options opts;
	struct diff_sink sink = { out, IR_LIMIT_GIT_DIFF_BYTES, 0, false, 0 };
	git_object *tree = NULL;
	git_diff *diff = NULL;
	size_t start;
	int rc;

	if (!git || !out)
		return -EINVAL;
	rc = git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (rc < 0)
		return fail(ctx, rc, "git diff HEAD");
	start = out->len;
	if (out->max) {
		size_t left = out->max > out->len ? out->max - out->len : 0;

		left = left > DIFF_MARKER_ROOM ? left - DIFF_MARKER_ROOM : 0;
		if (left < sink.room)
			sink.room = left;
	}
	/* An unborn HEAD diffs against the empty tree. */
	rc = git_revparse_single(&tree, git->repo, "HEAD^{tree}");
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
		git_error_clear();
		tree = NULL;
	} else if (rc < 0) {
		rc = fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_diff_tree_to_workdir_with_index(&diff, git->repo,
						 (git_tree *)tree, &opts);
	if (rc < 0) {
		rc = fail(ctx, rc, "git diff HEAD");
		goto out;
	}
	rc = git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, diff_line, &sink);
	if (rc == GIT_EUSER && sink.err) {
		git_error_clear();
		rc = sink.err;
		goto out;
	}
	if (rc == GIT_EUSER && sink.cut) {
		git_error_clear();
		rc = ir_buf_printf(out, "[diff cut after %zu bytes]\n",
				   sink.added);
		goto out;
	}
	if (rc < 0) {
		rc = fail(ctx, rc, "git diff HEAD");
		goto out;
	}
	rc = 0;
out:
	if (rc && out->len > start) {
		out->len = start;
		out->data[start] = '\0';
	}
	git_diff_free(diff);
	git_object_free(tree);
	return rc;
}

/* Conflicts reported by a checkout, those under the owned folder aside. */
struct watch {
	const char *owned; /* normalised, no trailing '/'; NULL: none */
	size_t owned_len;
	struct ir_buf *list; /* the caller's, may be NULL */
	size_t list_start;
	bool list_full;
	size_t n;
	char summary[160];
	bool summary_full;
};

static bool
is_owned(const struct watch *w, const char *path)
{
	return w->owned && !strncmp(path, w->owned, w->owned_len) &&
	       (path[w->owned_len] == '\0' || path[w->owned_len] == '/');
}

static int
on_conflict(git_checkout_notify_t why, const char *path,
	    const git_diff_file *baseline, const git_diff_file *target,
	    const git_diff_file *workdir, void *payload)
{
	struct watch *w = payload;
	size_t used, len;

	(void)baseline;
	(void)target;
	(void)workdir;
	if (why != GIT_CHECKOUT_NOTIFY_CONFLICT || !path || is_owned(w, path))
		return 0;
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
lock_path(struct ir_git *git, char *buf, size_t cap, struct ir_ctx *ctx)
{
	/* git_repository_path() ends with '/'. */
	if ((size_t)snprintf(buf, cap, "%sindex.lock",
			     git_repository_path(git->repo)) >= cap)
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
				    "git directory path is too long");
	return 0;
}

/* libgit2 writes the work tree first and locks the index only to write
 * it, so a held index.lock would fail the checkout half done: refuse
 * before touching anything. */
static int
index_unlocked(struct ir_git *git, struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	struct stat st;
	int rc;

	rc = lock_path(git, path, sizeof(path), ctx);
	if (rc)
		return rc;
	if (lstat(path, &st) == 0)
		return ir_error_set(ctx, -EBUSY, IR_ORIGIN_GIT, GIT_ELOCKED,
				    "%s exists: another git process is "
				    "running, or one crashed",
				    path);
	if (errno != ENOENT)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno, "%s: %s",
				    path, strerror(errno));
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
	if (owned_dir) {
		rc = owned_norm(owned, sizeof(owned), owned_dir,
				git_repository_workdir(git->repo), ctx);
		if (rc)
			return rc;
		w.owned = owned;
		w.owned_len = strlen(owned);
	}
	w.list = conflicts;
	w.list_start = conflicts ? conflicts->len : 0;
	rc = resolve_tag(git, tag, &commit, ctx);
	if (rc)
		return rc;
	rc = index_unlocked(git, ctx);
	if (rc)
		goto out;
	rc = git_commit_tree(&tree, commit);
	if (rc < 0) {
		rc = fail(ctx, rc, "tag \"%s\"", tag);
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
			rc = fail(ctx, rc, "checkout of \"%s\" in \"%s\"", tag,
				  w.owned);
			goto out;
		}
		watch_reset(&w);
		rc = git_repository_index(&index, git->repo);
		if (rc < 0) {
			rc = fail(ctx, rc, "reading the index");
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
		rc = fail(ctx, rc, "checkout of \"%s\"", tag);
		goto out;
	}
	rc = git_repository_set_head_detached(git->repo, git_commit_id(commit));
	if (rc < 0) {
		rc = fail(ctx, rc, "detaching HEAD at \"%s\"", tag);
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
ir_git_index_lock(struct ir_git *git, bool *exists, int64_t *mtime_ns,
		  struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	struct stat st;
	int rc;

	if (!git || !exists)
		return -EINVAL;
	rc = lock_path(git, path, sizeof(path), ctx);
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
ir_git_index_lock_remove(struct ir_git *git, struct ir_ctx *ctx)
{
	char path[IR_LIMIT_STRING];
	int rc;

	if (!git)
		return -EINVAL;
	rc = lock_path(git, path, sizeof(path), ctx);
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
	git = calloc(1, sizeof(*git));
	if (!git)
		return -ENOMEM;
	rc = lib_hold(ctx);
	if (rc)
		goto out;
	git->lib_held = true;
	rc = git_repository_init_options_init(
		&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	if (rc < 0) {
		rc = fail(ctx, rc, "git init");
		goto out;
	}
	opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	rc = git_repository_init_ext(&git->repo, path, &opts);
	if (rc < 0) {
		rc = fail(ctx, rc, "cannot create a repository in \"%s\"",
			  path);
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
		oid_hex(commit, &id);
out:
	if (rc < 0)
		rc = fail(ctx, rc, "commit");
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
		rc = fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_tag_create_lightweight(&id, git->repo, name, head, 0);
	if (rc < 0) {
		rc = fail(ctx, rc, "tag \"%s\"", name);
		goto out;
	}
	rc = 0;
out:
	git_object_free(head);
	return rc;
}
