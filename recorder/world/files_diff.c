#include "files.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_walk.h"

struct diff_walk {
	struct ir_tree_path src;
	struct ir_tree_path dst;
	ir_files_diff_fn fn;
	void *payload;
	uint8_t *a;
	uint8_t *b;
	struct ir_ctx *ctx;
};

static int
report(struct diff_walk *w, enum ir_files_change change,
       const struct ir_tree_path *p)
{
	return w->fn(w->payload, change, ir_path_rel(p));
}

static int report_tree(struct diff_walk *w, enum ir_files_change change, int fd,
                       const char *name, struct ir_tree_path *p);

/* Report everything below name (under fd), when it is a folder; p names
 * it already. */
static int
report_below(struct diff_walk *w, enum ir_files_change change, int fd,
             const char *name, struct ir_tree_path *p)
{
	struct ir_names ns = {NULL, 0};
	struct stat st;
	size_t i;
	int cfd;
	int rc;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ir_files_os_fail(w->ctx, errno, "stat", p->buf);
	if (!S_ISDIR(st.st_mode))
		return 0;
	cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return ir_files_os_fail(w->ctx, errno, "open", p->buf);
	rc = ir_names_read(&ns, cfd, p->buf, w->ctx);
	for (i = 0; rc == 0 && i < ns.n; i++)
		rc = report_tree(w, change, cfd, ns.v[i], p);
	ir_names_clear(&ns);
	close(cfd);
	return rc;
}

/* Report name (under fd) and everything below it. */
static int
report_tree(struct diff_walk *w, enum ir_files_change change, int fd,
            const char *name, struct ir_tree_path *p)
{
	size_t saved;
	int rc;

	rc = ir_path_push(p, name, &saved, w->ctx);
	if (rc < 0)
		return rc;
	rc = report(w, change, p);
	if (rc == 0)
		rc = report_below(w, change, fd, name, p);
	ir_path_pop(p, saved);
	return rc;
}

static int
same_content(struct diff_walk *w, int sfd, int dfd, const char *name,
             bool *same)
{
	int a = -1;
	int b = -1;
	int rc = 0;

	*same = false;
	a = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (a < 0) {
		rc = ir_files_os_fail(w->ctx, errno, "open", w->src.buf);
		goto out;
	}
	b = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (b < 0) {
		rc = ir_files_os_fail(w->ctx, errno, "open", w->dst.buf);
		goto out;
	}
	for (;;) {
		ssize_t n = read(a, w->a, IR_FILES_CHUNK);
		ssize_t got = 0;

		if (n < 0) {
			rc =
			    ir_files_os_fail(w->ctx, errno, "read", w->src.buf);
			goto out;
		}
		while (got < n) {
			ssize_t m = read(b, w->b + got, (size_t)(n - got));

			if (m < 0) {
				rc = ir_files_os_fail(w->ctx, errno, "read",
				                      w->dst.buf);
				goto out;
			}
			if (m == 0)
				goto out;
			got += m;
		}
		if (memcmp(w->a, w->b, (size_t)n))
			goto out;
		if (n == 0) {
			*same = read(b, w->b, 1) == 0;
			goto out;
		}
	}
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return rc;
}

static int diff_dir(struct diff_walk *w, int sfd, int dfd);

/* name exists in both trees (w->src and w->dst already point at it). */
static int
diff_both(struct diff_walk *w, int sfd, int dfd, const char *name)
{
	char ta[PATH_MAX], tb[PATH_MAX];
	struct stat sa, sb;
	bool changed = false;
	bool same;
	ssize_t na, nb;
	int cs = -1;
	int cd = -1;
	int rc = 0;

	if (fstatat(sfd, name, &sa, AT_SYMLINK_NOFOLLOW) < 0)
		return ir_files_os_fail(w->ctx, errno, "stat", w->src.buf);
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return ir_files_os_fail(w->ctx, errno, "stat", w->dst.buf);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
		rc = report(w, IR_FILES_CHANGED, &w->src);
		if (rc == 0)
			rc =
			    report_below(w, IR_FILES_ADDED, sfd, name, &w->src);
		if (rc == 0)
			rc = report_below(w, IR_FILES_REMOVED, dfd, name,
			                  &w->dst);
		return rc;
	}
	if (S_ISREG(sa.st_mode)) {
		changed = (sa.st_mode & 0777) != (sb.st_mode & 0777) ||
		          sa.st_size != sb.st_size;
		if (!changed) {
			rc = same_content(w, sfd, dfd, name, &same);
			changed = !same;
		}
	} else if (S_ISLNK(sa.st_mode)) {
		na = readlinkat(sfd, name, ta, sizeof(ta));
		nb = readlinkat(dfd, name, tb, sizeof(tb));
		if (na < 0 || nb < 0)
			return ir_files_os_fail(w->ctx, errno, "read link",
			                        w->src.buf);
		changed = na != nb || memcmp(ta, tb, (size_t)na);
	} else if (S_ISDIR(sa.st_mode)) {
		cs = openat(sfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cs < 0)
			return ir_files_os_fail(w->ctx, errno, "open",
			                        w->src.buf);
		cd = openat(dfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cd < 0)
			rc =
			    ir_files_os_fail(w->ctx, errno, "open", w->dst.buf);
		else
			rc = diff_dir(w, cs, cd);
		close(cs);
		if (cd >= 0)
			close(cd);
	} else if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
		changed = sa.st_rdev != sb.st_rdev;
	}
	if (rc == 0 && changed)
		rc = report(w, IR_FILES_CHANGED, &w->src);
	return rc;
}

/* Merge the sorted entries of two folders; dfd -1 is an empty folder. */
static int
diff_dir(struct diff_walk *w, int sfd, int dfd)
{
	struct ir_names s = {NULL, 0}, d = {NULL, 0};
	size_t i = 0, j = 0;
	size_t ss, sd;
	int rc;

	rc = ir_names_read(&s, sfd, w->src.buf, w->ctx);
	if (rc == 0 && dfd >= 0)
		rc = ir_names_read(&d, dfd, w->dst.buf, w->ctx);
	while (rc == 0 && (i < s.n || j < d.n)) {
		int c;

		if (i < s.n && j < d.n)
			c = strcmp(s.v[i], d.v[j]);
		else
			c = i < s.n ? -1 : 1;
		if (c < 0) {
			rc = report_tree(w, IR_FILES_ADDED, sfd, s.v[i++],
			                 &w->src);
		} else if (c > 0) {
			rc = report_tree(w, IR_FILES_REMOVED, dfd, d.v[j++],
			                 &w->dst);
		} else {
			rc = ir_path_push(&w->src, s.v[i], &ss, w->ctx);
			if (rc < 0)
				break;
			rc = ir_path_push(&w->dst, d.v[j], &sd, w->ctx);
			if (rc == 0) {
				rc = diff_both(w, sfd, dfd, s.v[i]);
				ir_path_pop(&w->dst, sd);
			}
			ir_path_pop(&w->src, ss);
			i++;
			j++;
		}
	}
	ir_names_clear(&s);
	ir_names_clear(&d);
	return rc;
}

int
ir_files_diff(const char *src, const char *dst, ir_files_diff_fn fn,
              void *payload, struct ir_ctx *ctx)
{
	struct diff_walk *w = NULL;
	int sfd = -1;
	int dfd = -1;
	int rc;

	if (!src || !dst || !fn)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w)
		w->a = malloc(IR_FILES_CHUNK);
	if (w)
		w->b = malloc(IR_FILES_CHUNK);
	if (!w || !w->a || !w->b) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, ENOMEM,
		                  "out of memory");
		goto out;
	}
	w->fn = fn;
	w->payload = payload;
	w->ctx = ctx;
	rc = ir_path_init(&w->src, src, ctx);
	if (rc == 0)
		rc = ir_path_init(&w->dst, dst, ctx);
	if (rc < 0)
		goto out;
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		rc = ir_files_os_fail(ctx, errno, "open", src);
		goto out;
	}
	dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT) {
		rc = ir_files_os_fail(ctx, errno, "open", dst);
		goto out;
	}
	rc = diff_dir(w, sfd, dfd);
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	if (w) {
		free(w->a);
		free(w->b);
	}
	free(w);
	return rc;
}

static int
note_difference(void *payload, enum ir_files_change change, const char *path)
{
	(void)change;
	(void)path;
	*(bool *)payload = true;
	return 1;
}

int
ir_files_equal(const char *src, const char *dst, bool *out, struct ir_ctx *ctx)
{
	bool differs = false;
	int rc;

	if (!out)
		return -EINVAL;
	rc = ir_files_diff(src, dst, note_difference, &differs, ctx);
	if (rc < 0)
		return rc;
	*out = !differs;
	return 0;
}
