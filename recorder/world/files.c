#include "files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_walk.h"
#include "ir_limits.h"

#define STAGING_SUFFIX ".incident-staging"
#define ASIDE_SUFFIX ".incident-old"

int
ir_files_os_fail(struct ir_ctx *ctx, int err, const char *what,
                 const char *path)
{
	return ir_error_set(ctx, -err, IR_ORIGIN_OS, err, "%s \"%s\": %s", what,
	                    path, strerror(err));
}

void
ir_names_clear(struct ir_names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

static int
names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the folder open at fd through a fresh descriptor, so fd's own
 * offset is untouched. */
int
ir_names_read(struct ir_names *out, int fd, const char *path,
              struct ir_ctx *ctx)
{
	struct ir_names ns = {NULL, 0};
	struct dirent *de;
	size_t cap = 0;
	DIR *d = NULL;
	int dfd;
	int rc = 0;

	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = ir_files_os_fail(ctx, errno, "open folder", path);
		goto out;
	}
	d = fdopendir(dfd);
	if (!d) {
		rc = ir_files_os_fail(ctx, errno, "open folder", path);
		close(dfd);
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ns.n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **v = realloc(ns.v, ncap * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				goto out;
			}
			ns.v = v;
			cap = ncap;
		}
		ns.v[ns.n] = strdup(de->d_name);
		if (!ns.v[ns.n]) {
			rc = -ENOMEM;
			goto out;
		}
		ns.n++;
	}
	if (errno) {
		rc = ir_files_os_fail(ctx, errno, "read folder", path);
		goto out;
	}
	if (ns.n)
		qsort(ns.v, ns.n, sizeof(*ns.v), names_cmp);
	*out = ns;
	ns.v = NULL;
	ns.n = 0;
out:
	if (rc == -ENOMEM)
		ir_error_set(ctx, rc, IR_ORIGIN_OS, ENOMEM, "out of memory");
	if (d)
		closedir(d);
	ir_names_clear(&ns);
	return rc;
}

int
ir_path_init(struct ir_tree_path *p, const char *root, struct ir_ctx *ctx)
{
	size_t n = strlen(root);

	if (n >= sizeof(p->buf))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
		                    "path too long: \"%.64s...\"", root);
	memcpy(p->buf, root, n + 1);
	p->len = n;
	p->rel = n;
	p->depth = 0;
	return 0;
}

int
ir_path_push(struct ir_tree_path *p, const char *name, size_t *saved,
             struct ir_ctx *ctx)
{
	size_t n = strlen(name);

	if (p->depth >= IR_LIMIT_TREE_DEPTH)
		return ir_error_set(ctx, -ELOOP, IR_ORIGIN_OS, 0,
		                    "\"%s\": more than %d levels of folders",
		                    p->buf, IR_LIMIT_TREE_DEPTH);
	if (p->len + 1 + n >= sizeof(p->buf))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
		                    "path too long under \"%s\"", p->buf);
	*saved = p->len;
	p->buf[p->len++] = '/';
	memcpy(p->buf + p->len, name, n + 1);
	p->len += n;
	p->depth++;
	return 0;
}

void
ir_path_pop(struct ir_tree_path *p, size_t saved)
{
	p->len = saved;
	p->buf[saved] = '\0';
	p->depth--;
}

/* The part below the root, without its leading '/'. */
const char *
ir_path_rel(const struct ir_tree_path *p)
{
	return p->len > p->rel ? p->buf + p->rel + 1 : "";
}

/* Split path into its parent folder and last name.  "/" "." ".." and
 * names ending in them are refused: nothing here removes or replaces
 * those. */
static int
split_path(const char *path, char *parent, char *base, struct ir_ctx *ctx)
{
	size_t n = strlen(path);
	size_t b;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= PATH_MAX)
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "invalid path \"%.64s\"", path);
	b = n;
	while (b > 0 && path[b - 1] != '/')
		b--;
	memcpy(base, path + b, n - b);
	base[n - b] = '\0';
	if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "refusing to work on \"%s\"", path);
	if (b == 0) {
		strcpy(parent, ".");
	} else if (b == 1) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, path, b - 1);
		parent[b - 1] = '\0';
	}
	return 0;
}

static int
remove_at(int dirfd, const char *name, struct ir_tree_path *p,
          struct ir_ctx *ctx)
{
	struct ir_names ns = {NULL, 0};
	struct stat st;
	size_t saved = 0;
	size_t i;
	int fd = -1;
	int rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
		           ? 0
		           : ir_files_os_fail(ctx, errno, "stat", name);
	rc = ir_path_push(p, name, &saved, ctx);
	if (rc < 0)
		return rc;
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			rc = ir_files_os_fail(ctx, errno, "remove", p->buf);
		goto out;
	}
	fd = openat(dirfd, name,
	            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
		fd = openat(dirfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT
		         ? 0
		         : ir_files_os_fail(ctx, errno, "open", p->buf);
		goto out;
	}
	/* A folder we may not write to is still ours to remove. */
	if ((st.st_mode & 0700) != 0700 && fchmod(fd, 0700) < 0) {
		rc = ir_files_os_fail(ctx, errno, "chmod", p->buf);
		goto out;
	}
	rc = ir_names_read(&ns, fd, p->buf, ctx);
	if (rc < 0)
		goto out;
	for (i = 0; i < ns.n; i++) {
		rc = remove_at(fd, ns.v[i], p, ctx);
		if (rc < 0)
			goto out;
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = ir_files_os_fail(ctx, errno, "remove", p->buf);
out:
	ir_names_clear(&ns);
	if (fd >= 0)
		close(fd);
	ir_path_pop(p, saved);
	return rc;
}

int
ir_files_remove_tree(const char *path, struct ir_ctx *ctx)
{
	char parent[PATH_MAX], base[PATH_MAX];
	struct ir_tree_path p;
	struct stat st;
	int pfd = -1;
	int rc;

	if (!path)
		return -EINVAL;
	if (lstat(path, &st) < 0)
		return errno == ENOENT
		           ? 0
		           : ir_files_os_fail(ctx, errno, "stat", path);
	rc = split_path(path, parent, base, ctx);
	if (rc < 0)
		return rc;
	rc = ir_path_init(&p, parent, ctx);
	if (rc < 0)
		return rc;
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return ir_files_os_fail(ctx, errno, "open", parent);
	rc = remove_at(pfd, base, &p, ctx);
	close(pfd);
	return rc;
}

/* fsync every regular file and folder below fd, then fd itself.  A file
 * we may not open is left to syncfs(). */
static int
sync_dir(int fd, struct ir_tree_path *p, bool *need_syncfs, struct ir_ctx *ctx)
{
	struct ir_names ns = {NULL, 0};
	struct stat st;
	size_t saved;
	size_t i;
	int rc;

	rc = ir_names_read(&ns, fd, p->buf, ctx);
	for (i = 0; rc == 0 && i < ns.n; i++) {
		int cfd;

		if (fstatat(fd, ns.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = ir_files_os_fail(ctx, errno, "stat", ns.v[i]);
			break;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			continue;
		rc = ir_path_push(p, ns.v[i], &saved, ctx);
		if (rc < 0)
			break;
		cfd = openat(fd, ns.v[i],
		             (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0) |
		                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0 && errno == EACCES)
			*need_syncfs = true;
		else if (cfd < 0)
			rc = ir_files_os_fail(ctx, errno, "open", p->buf);
		else if (S_ISDIR(st.st_mode))
			rc = sync_dir(cfd, p, need_syncfs, ctx);
		else if (fsync(cfd) < 0)
			rc = ir_files_os_fail(ctx, errno, "fsync", p->buf);
		if (cfd >= 0)
			close(cfd);
		ir_path_pop(p, saved);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = ir_files_os_fail(ctx, errno, "fsync", p->buf);
	ir_names_clear(&ns);
	return rc;
}

static int
sync_tree(const char *path, struct ir_ctx *ctx)
{
	struct ir_tree_path p;
	bool need_syncfs = false;
	int fd;
	int rc;

	rc = ir_path_init(&p, path, ctx);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ir_files_os_fail(ctx, errno, "open", path);
	rc = sync_dir(fd, &p, &need_syncfs, ctx);
	if (rc == 0 && need_syncfs && syncfs(fd) < 0)
		rc = ir_files_os_fail(ctx, errno, "syncfs", path);
	close(fd);
	return rc;
}

static int
sync_parent(const char *parent, struct ir_ctx *ctx)
{
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return ir_files_os_fail(ctx, errno, "open", parent);
	if (fsync(fd) < 0)
		rc = ir_files_os_fail(ctx, errno, "fsync", parent);
	close(fd);
	return rc;
}

int
ir_files_swap_in(const char *staged, const char *dst, struct ir_ctx *ctx)
{
	char parent[PATH_MAX], base[PATH_MAX], aside[PATH_MAX];
	struct stat st;
	int rc;

	if (!staged || !dst)
		return -EINVAL;
	rc = split_path(dst, parent, base, ctx);
	if (rc < 0)
		return rc;
	rc = sync_tree(staged, ctx);
	if (rc < 0)
		return rc;
	if (lstat(dst, &st) < 0) {
		if (errno != ENOENT)
			return ir_files_os_fail(ctx, errno, "stat", dst);
		if (renameat2(AT_FDCWD, staged, AT_FDCWD, dst,
		              RENAME_NOREPLACE) < 0 &&
		    (errno != EINVAL || rename(staged, dst) < 0))
			return ir_files_os_fail(ctx, errno, "rename into", dst);
		return sync_parent(parent, ctx);
	}
	/* Atomic: dst is old or new at every instant.  The old tree lands
	 * under the staged name, which the next call would remove. */
	if (renameat2(AT_FDCWD, staged, AT_FDCWD, dst, RENAME_EXCHANGE) == 0) {
		rc = sync_parent(parent, ctx);
		if (rc < 0)
			return rc;
		return ir_files_remove_tree(staged, ctx);
	}
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return ir_files_os_fail(ctx, errno, "swap into", dst);
	/* A file system without RENAME_EXCHANGE: two renames. */
	if (snprintf(aside, sizeof(aside), "%s/.%s" ASIDE_SUFFIX, parent,
	             base) >= (int)sizeof(aside))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
		                    "path too long: \"%s\"", dst);
	rc = ir_files_remove_tree(aside, ctx);
	if (rc < 0)
		return rc;
	if (rename(dst, aside) < 0)
		return ir_files_os_fail(ctx, errno, "move aside", dst);
	if (rename(staged, dst) < 0) {
		rc = ir_files_os_fail(ctx, errno, "rename into", dst);
		(void)rename(aside, dst);
		return rc;
	}
	rc = sync_parent(parent, ctx);
	if (rc < 0)
		return rc;
	return ir_files_remove_tree(aside, ctx);
}

static int
copy_fd(int in, int out, uint8_t *buf, const char *path, struct ir_ctx *ctx)
{
	for (;;) {
		ssize_t n = read(in, buf, IR_FILES_CHUNK);
		ssize_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ir_files_os_fail(ctx, errno, "read", path);
		if (n == 0)
			return 0;
		while (off < n) {
			ssize_t m = write(out, buf + off, (size_t)(n - off));

			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0)
				return ir_files_os_fail(ctx, errno,
				                        "write copy of", path);
			off += m;
		}
	}
}

static int
copy_file(int sfd, int dfd, const char *name, const struct stat *st,
          uint8_t *buf, const char *path, struct ir_ctx *ctx)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	int in = -1;
	int out = -1;
	int rc = 0;

	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		rc = ir_files_os_fail(ctx, errno, "open", path);
		goto done;
	}
	out =
	    openat(dfd, name,
	           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = ir_files_os_fail(ctx, errno, "create copy of", path);
		goto done;
	}
	rc = copy_fd(in, out, buf, path, ctx);
	if (rc < 0)
		goto done;
	if (fchmod(out, st->st_mode & 0777) < 0 || futimens(out, times) < 0)
		rc = ir_files_os_fail(ctx, errno, "set mode of copy of", path);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int copy_entry(int sfd, int dfd, const char *name,
                      struct ir_tree_path *p, uint8_t *buf,
                      const struct stat *skip, struct ir_ctx *ctx);

static int
copy_dir(int sfd, int dfd, struct ir_tree_path *p, uint8_t *buf,
         const struct stat *skip, struct ir_ctx *ctx)
{
	struct ir_names ns = {NULL, 0};
	size_t i;
	int rc;

	rc = ir_names_read(&ns, sfd, p->buf, ctx);
	for (i = 0; rc == 0 && i < ns.n; i++)
		rc = copy_entry(sfd, dfd, ns.v[i], p, buf, skip, ctx);
	ir_names_clear(&ns);
	return rc;
}

static int
copy_entry(int sfd, int dfd, const char *name, struct ir_tree_path *p,
           uint8_t *buf, const struct stat *skip, struct ir_ctx *ctx)
{
	char target[PATH_MAX];
	struct stat st;
	size_t saved;
	ssize_t n;
	int cs = -1;
	int cd = -1;
	int rc;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ir_files_os_fail(ctx, errno, "stat", name);
	/* dst inside src: never copy the staging folder into itself. */
	if (st.st_dev == skip->st_dev && st.st_ino == skip->st_ino)
		return 0;
	rc = ir_path_push(p, name, &saved, ctx);
	if (rc < 0)
		return rc;
	if (S_ISREG(st.st_mode)) {
		rc = copy_file(sfd, dfd, name, &st, buf, p->buf, ctx);
	} else if (S_ISLNK(st.st_mode)) {
		n = readlinkat(sfd, name, target, sizeof(target));
		if (n < 0 || n >= (ssize_t)sizeof(target)) {
			rc = ir_files_os_fail(ctx, n < 0 ? errno : ENAMETOOLONG,
			                      "read link", p->buf);
			goto out;
		}
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0)
			rc = ir_files_os_fail(ctx, errno, "create link copy of",
			                      p->buf);
	} else if (S_ISDIR(st.st_mode)) {
		struct timespec times[2] = {st.st_atim, st.st_mtim};

		cs = openat(sfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cs < 0 || mkdirat(dfd, name, 0700) < 0) {
			rc =
			    ir_files_os_fail(ctx, errno, "copy folder", p->buf);
			goto out;
		}
		cd = openat(dfd, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cd < 0) {
			rc = ir_files_os_fail(ctx, errno, "open copy of",
			                      p->buf);
			goto out;
		}
		rc = copy_dir(cs, cd, p, buf, skip, ctx);
		if (rc == 0 && (fchmod(cd, st.st_mode & 0777) < 0 ||
		                futimens(cd, times) < 0))
			rc = ir_files_os_fail(ctx, errno, "set mode of copy of",
			                      p->buf);
	} else {
		rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_OS, 0,
		                  "\"%s\": not a file, folder or link", p->buf);
	}
out:
	if (cs >= 0)
		close(cs);
	if (cd >= 0)
		close(cd);
	ir_path_pop(p, saved);
	return rc;
}

int
ir_files_replace_dir(const char *src, const char *dst, struct ir_ctx *ctx)
{
	char parent[PATH_MAX], base[PATH_MAX], staging[PATH_MAX];
	struct timespec times[2];
	struct ir_tree_path p;
	struct stat st, sst;
	uint8_t *buf = NULL;
	bool made = false;
	int sfd = -1;
	int dfd = -1;
	int rc;

	if (!src || !dst)
		return -EINVAL;
	rc = split_path(dst, parent, base, ctx);
	if (rc < 0)
		return rc;
	if (snprintf(staging, sizeof(staging), "%s/.%s" STAGING_SUFFIX, parent,
	             base) >= (int)sizeof(staging))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
		                    "path too long: \"%s\"", dst);
	/* Left by a crash in an earlier call: either a half copy or the old
	 * tree swapped out; neither is wanted. */
	rc = ir_files_remove_tree(staging, ctx);
	if (rc < 0)
		goto out;
	rc = ir_path_init(&p, src, ctx);
	if (rc < 0)
		goto out;
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0) {
		rc = ir_files_os_fail(ctx, errno, "open", src);
		goto out;
	}
	buf = malloc(IR_FILES_CHUNK);
	if (!buf) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, ENOMEM,
		                  "out of memory");
		goto out;
	}
	if (mkdir(staging, 0700) < 0) {
		rc = ir_files_os_fail(ctx, errno, "create", staging);
		goto out;
	}
	made = true;
	dfd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &sst) < 0) {
		rc = ir_files_os_fail(ctx, errno, "open", staging);
		goto out;
	}
	rc = copy_dir(sfd, dfd, &p, buf, &sst, ctx);
	if (rc < 0)
		goto out;
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (fchmod(dfd, st.st_mode & 0777) < 0 || futimens(dfd, times) < 0) {
		rc = ir_files_os_fail(ctx, errno, "set mode of", staging);
		goto out;
	}
	close(dfd);
	dfd = -1;
	rc = ir_files_swap_in(staging, dst, ctx);
	made = rc < 0;
out:
	if (made) {
		/* The first error is already in ctx and stays there. */
		int gone = ir_files_remove_tree(staging, ctx);

		(void)gone;
	}
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return rc;
}

/* ---- reading and listing ------------------------------------------------ */

int
ir_files_list(const char *dir, ir_files_list_fn fn, void *payload,
	      struct ir_ctx *ctx)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return ir_files_os_fail(ctx, errno, "read folder", dir);
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = fn(payload, de->d_name);
	closedir(d);
	return rc;
}

int
ir_files_mkdir(const char *path, struct ir_ctx *ctx)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return ir_files_os_fail(ctx, errno, "create", path);
	return 0;
}

int
ir_files_unlink(const char *path, struct ir_ctx *ctx)
{
	if (unlink(path) && errno != ENOENT)
		return ir_files_os_fail(ctx, errno, "remove", path);
	return 0;
}

struct ir_val *
ir_files_tail(const char *path, unsigned want)
{
	struct ir_val *lines = ir_val_array_new();
	char *buf = NULL, *p, *start;
	size_t n = 0, count = 0;
	struct stat st;
	off_t off;
	int fd;

	if (want > IR_LIMIT_LOG_LINES)
		want = IR_LIMIT_LOG_LINES;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		goto out;
	off = st.st_size > IR_LIMIT_LOG_TAIL_BYTES
		      ? st.st_size - IR_LIMIT_LOG_TAIL_BYTES
		      : 0;
	buf = malloc(IR_LIMIT_LOG_TAIL_BYTES + 1);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t got = pread(fd, buf + n, IR_LIMIT_LOG_TAIL_BYTES - n,
				    off + (off_t)n);

		if (got <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* Walk back over want lines. */
	start = buf;
	for (p = buf + n; p > buf; p--) {
		if (p[-1] == '\n' && ++count == want) {
			start = p;
			break;
		}
	}
	if (off && start == buf) {
		/* The first line may be cut: drop it. */
		p = strchr(buf, '\n');
		start = p ? p + 1 : buf + n;
	}
	while (start < buf + n) {
		char *nl = strchr(start, '\n');
		size_t len = nl ? (size_t)(nl - start) : strlen(start);

		if (len > IR_LIMIT_OUTPUT_LINE)
			len = IR_LIMIT_OUTPUT_LINE;
		{
			struct ir_val *slot = ir_val_array_slot(lines);

			if (slot) {
				slot->type = IR_VAL_STR;
				slot->as.str.ptr = strndup(start, len);
				slot->as.str.len = slot->as.str.ptr ? len : 0;
				if (!slot->as.str.ptr) {
					slot->type = IR_VAL_NIL;
					lines->failed = true;
				}
			}
		}
		if (!nl)
			break;
		start = nl + 1;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return lines;
}

