/*
 * Git through libgit2: configuration files, tags, HEAD, status and diff
 * (the checkout is gitops_checkout.c).  Every libgit2 error is translated
 * in ir_git_fail(), and only there.  Each ir_git (and each config read)
 * holds one reference on libgit2's global state: git_libgit2_init() on the
 * way in, the matching git_libgit2_shutdown() on the way out; one more
 * reference is held for the life of the process (see ir_git_lib_hold).
 */
#include "gitops.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitops_lib.h"
#include "ir_limits.h"

#define TAG_PREFIX "refs/tags/"

/* The one place a libgit2 error becomes ours: the code is mapped, the
 * message is libgit2's own, prefixed with what we were doing. */
int
ir_git_fail(struct ir_ctx *ctx, int rc, const char *fmt, ...)
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

int
ir_git_lib_hold(struct ir_ctx *ctx)
{
	int rc;

	pthread_once(&lib_once, lib_hold_forever);
	rc = git_libgit2_init();

	if (rc < 0)
		return ir_git_fail(ctx, rc, "cannot initialise libgit2");
	return 0;
}

void
ir_git_oid_hex(char out[IR_GIT_OID_HEX], const git_oid *id)
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
	rc = ir_git_lib_hold(ctx);
	if (rc)
		return rc;
	held = true;
	rc = git_config_new(&cfg);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, NULL);
		goto out;
	}
	/* Parses the whole file now; a syntax error names file and line. */
	rc = git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, NULL,
					0);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, NULL);
		goto out;
	}
	/* One backend: the iterator walks its entries in file order. */
	rc = git_config_iterator_new(&it, cfg);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, NULL);
		goto out;
	}
	for (;;) {
		rc = git_config_next(&entry, it);
		if (rc == GIT_ITEROVER) {
			rc = 0;
			break;
		}
		if (rc < 0) {
			rc = ir_git_fail(ctx, rc, "%s", path);
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
ir_git_handle_new(struct ir_git **out, struct ir_ctx *ctx)
{
	struct ir_git *git = calloc(1, sizeof(*git));
	int rc;

	if (!git)
		return -ENOMEM;
	rc = ir_git_lib_hold(ctx);
	if (rc) {
		free(git);
		return rc;
	}
	git->lib_held = true;
	*out = git;
	return 0;
}

int
ir_git_open(struct ir_git **out, const char *workdir, struct ir_ctx *ctx)
{
	struct ir_git *git = NULL;
	int rc;

	if (!out || !workdir)
		return -EINVAL;
	rc = ir_git_handle_new(&git, ctx);
	if (rc)
		return rc;
	rc = git_repository_open_ext(&git->repo, workdir,
				     GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "\"%s\" is not a git work tree",
		                 workdir);
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
		rc = ir_git_fail(ctx, rc, "cannot list tags \"%s\"", pattern);
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
			rc = ir_git_fail(ctx, rc, "cannot list tags \"%s\"",
			                 pattern);
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
			rc = ir_git_fail(ctx, rc, "cannot resolve tag \"%s\"",
			                 name);
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
		ir_git_oid_hex(tags[count].commit, git_object_id(obj));
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
		rc = ir_git_fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_reference_peel(&obj, head, GIT_OBJECT_COMMIT);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "HEAD");
		goto out;
	}
	det = git_repository_head_detached(git->repo);
	if (det < 0) {
		rc = ir_git_fail(ctx, det, "HEAD");
		goto out;
	}
	ir_git_oid_hex(commit, git_object_id(obj));
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
int
ir_git_resolve_tag(struct ir_git *git, const char *tag, git_commit **out,
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
		rc = ir_git_fail(ctx, rc, "tag \"%s\"", tag);
		goto out;
	}
	rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "tag \"%s\"", tag);
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
	rc = ir_git_resolve_tag(git, tag, &c, ctx);
	if (rc)
		return rc;
	ir_git_oid_hex(commit, git_commit_id(c));
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
		return ir_git_fail(ctx, rc, "git status");
	/* Untracked files one by one (as -uall): the backup names each. */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		     GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	rc = git_status_list_new(&list, git->repo, &opts);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "git status");
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
		return ir_git_fail(ctx, rc, "git diff HEAD");
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
		rc = ir_git_fail(ctx, rc, "HEAD");
		goto out;
	}
	rc = git_diff_tree_to_workdir_with_index(&diff, git->repo,
						 (git_tree *)tree, &opts);
	if (rc < 0) {
		rc = ir_git_fail(ctx, rc, "git diff HEAD");
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
		rc = ir_git_fail(ctx, rc, "git diff HEAD");
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
