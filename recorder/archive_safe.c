#include "archive_safe.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "hash.h"

#define HASH_CHUNK (256 * 1024)

enum dest_state { DEST_NONE, DEST_EMPTY, DEST_FULL, DEST_OTHER };

static int
os_fail(struct ir_ctx *ctx, int err, const char *what, const char *path)
{
	return ir_error_set(ctx, -err, IR_ORIGIN_OS, err, "%s \"%s\": %s", what,
	                    path, strerror(err));
}

void
ir_safe_quote(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (*s)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o] = '\0';
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Drop the last component of path[0..*len). */
static void
pop_component(char *path, size_t *len)
{
	size_t n = *len;

	while (n && path[n - 1] != '/')
		n--;
	n -= n ? 1 : 0;
	path[n] = '\0';
	*len = n;
}

const char *
ir_safe_normalize(char *out, const char *name, int *code)
{
	const char *p = name;
	bool dotdot = false;
	size_t len = 0;
	int depth = 0;

	*code = -EPERM;
	if (strlen(name) > IR_LIMIT_ARCHIVE_PATH) {
		*code = -EFBIG;
		return "path too long";
	}
	if (has_control(name))
		return "control character in name";
	if (name[0] == '/')
		return "absolute path";
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return "path escapes the target";
			dotdot = true;
			pop_component(out, &len);
			depth--;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			depth++;
		}
		p = *e ? e + 1 : e;
	}
	out[len] = '\0';
	/* Even a ".." that stays inside: libarchive refuses it too. */
	if (dotdot)
		return "path contains \"..\"";
	if (depth > IR_LIMIT_TREE_DEPTH) {
		*code = -EFBIG;
		return "too many levels of folders";
	}
	return NULL;
}

/* Whether each prefix of path, from component from+1 on, is a folder and
 * not a symlink in the staging tree; earlier components are known to be. */
static bool
real_dirs(int stagefd, char *path, int from)
{
	struct stat st;
	char *p = path;
	int i = 0;

	for (;;) {
		char *e = strchrnul(p, '/');
		char save = *e;
		bool ok = true;

		if (++i > from) {
			*e = '\0';
			ok = fstatat(stagefd, path, &st, AT_SYMLINK_NOFOLLOW) ==
			         0 &&
			     S_ISDIR(st.st_mode);
			*e = save;
		}
		if (!ok)
			return false;
		if (!save)
			return true;
		p = e + 1;
	}
}

/* Only a folder may meet an existing folder: nothing is ever replaced, so
 * nothing is written through a symlink an earlier entry made, and a
 * folder, once made, stays a folder. */
const char *
ir_safe_place(struct ir_unpack *u, bool is_dir)
{
	char *path = u->name;
	struct stat st;
	char *e = path;

	for (;;) {
		int r;

		e = strchr(e, '/');
		if (!e)
			break;
		*e = '\0';
		r = fstatat(u->stagefd, path, &st, AT_SYMLINK_NOFOLLOW);
		*e = '/';
		if (r < 0)
			return NULL; /* made as folders when written */
		if (S_ISLNK(st.st_mode))
			return "path goes through a symlink";
		if (!S_ISDIR(st.st_mode))
			return "path goes through a file";
		e++;
	}
	if (fstatat(u->stagefd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (is_dir && S_ISDIR(st.st_mode))
		return NULL;
	if (S_ISLNK(st.st_mode))
		return "duplicate entry would replace a symlink";
	if (S_ISDIR(st.st_mode))
		return "duplicate entry would replace a folder";
	return "duplicate entry would replace a file";
}

/* Resolve target lexically from the entry's folder.  A ".." may only climb
 * out of a real folder, which no later entry can replace: so the kernel
 * resolves the link (and any chain through it) the way it is checked
 * here, whatever the archive adds afterwards. */
const char *
ir_safe_symlink(struct ir_unpack *u, const char *target)
{
	char *res = u->walk;
	const char *p = target;
	size_t len;
	size_t i;
	int depth = 0;
	int verified;

	if (!*target)
		return "empty symlink target";
	if (strlen(target) > IR_LIMIT_ARCHIVE_PATH)
		return "symlink target too long";
	if (has_control(target))
		return "control character in symlink target";
	if (target[0] == '/')
		return "symlink target is absolute";
	strcpy(res, u->name);
	len = strlen(res);
	pop_component(res, &len);
	for (i = 0; i < len; i++)
		depth += res[i] == '/';
	depth += len ? 1 : 0;
	/* The entry's own folders are made as real folders for it. */
	verified = depth;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return "symlink points outside the target";
			if (depth > verified &&
			    !real_dirs(u->stagefd, res, verified))
				return "symlink climbs out of something not "
				       "a folder";
			pop_component(res, &len);
			depth--;
			if (verified > depth)
				verified = depth;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (len + n + 2 > sizeof(u->walk))
				return "symlink target too long";
			if (len)
				res[len++] = '/';
			memcpy(res + len, p, n);
			len += n;
			res[len] = '\0';
			depth++;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

const char *
ir_safe_hardlink(struct ir_unpack *u, const char *target)
{
	struct stat st;
	char *slash;
	bool dirs;
	int code;

	if (target[0] == '/')
		return "hard link target is absolute";
	if (ir_safe_normalize(u->link, target, &code))
		return "hard link target is outside the target or unsafe";
	if (!u->link[0])
		return "hard link to the target folder itself";
	slash = strrchr(u->link, '/');
	if (slash) {
		*slash = '\0';
		dirs = real_dirs(u->stagefd, u->link, 0);
		*slash = '/';
		if (!dirs)
			return "hard link through a symlink or to a path "
			       "not extracted yet";
	}
	if (fstatat(u->stagefd, u->link, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return "hard link to a path not extracted yet";
	if (!S_ISREG(st.st_mode))
		return "hard link to something not a regular file";
	return NULL;
}

const char *
ir_safe_type_mode(unsigned type, unsigned mode, bool hard)
{
	if (!hard) {
		switch (type) {
		case S_IFREG:
		case S_IFDIR:
		case S_IFLNK:
			break;
		case S_IFCHR:
			return "character device";
		case S_IFBLK:
			return "block device";
		case S_IFIFO:
			return "FIFO";
		case S_IFSOCK:
			return "socket";
		default:
			return "unknown entry type";
		}
	}
	/* A symlink's own mode means nothing (and is 0777 by custom).
	 * Modes are refused, not quietly fixed. */
	if (!hard && type == S_IFLNK)
		return NULL;
	if (mode & S_ISUID)
		return "setuid mode";
	if (mode & S_ISGID)
		return "setgid mode";
	if (mode & S_ISVTX)
		return "sticky mode";
	if (mode & S_IWOTH)
		return "world-writable mode";
	return NULL;
}

int
ir_safe_caps(const struct ir_unpack *u, struct ir_ctx *ctx, uint64_t total)
{
	uint64_t size = u->archive_size ? u->archive_size : 1;

	if (total > u->max_bytes)
		return ir_error_set(ctx, -EFBIG, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" expands past %llu bytes",
		                    u->archive_path,
		                    (unsigned long long)u->max_bytes);
	if (total > IR_LIMIT_ARCHIVE_RATIO_FLOOR && total / u->max_ratio > size)
		return ir_error_set(ctx, -EFBIG, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" expands more than %llu "
		                    "times its size",
		                    u->archive_path,
		                    (unsigned long long)u->max_ratio);
	return 0;
}

static int
dest_state(const char *dest, struct stat *st, enum dest_state *out,
           struct ir_ctx *ctx)
{
	struct dirent *de;
	DIR *d;

	if (lstat(dest, st) < 0) {
		if (errno != ENOENT)
			return os_fail(ctx, errno, "stat", dest);
		*out = DEST_NONE;
		return 0;
	}
	if (!S_ISDIR(st->st_mode)) {
		*out = DEST_OTHER;
		return 0;
	}
	d = opendir(dest);
	if (!d)
		return os_fail(ctx, errno, "open", dest);
	*out = DEST_EMPTY;
	for (;;) {
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*out = DEST_FULL;
			break;
		}
	}
	closedir(d);
	return 0;
}

static int
split_dest(const char *dest, char *parent, char *base, struct ir_ctx *ctx)
{
	size_t n = strlen(dest);
	size_t b;

	while (n > 1 && dest[n - 1] == '/')
		n--;
	b = n;
	while (b > 0 && dest[b - 1] != '/')
		b--;
	if (n - b == 0 || n - b > NAME_MAX || n >= PATH_MAX ||
	    (n - b == 1 && dest[b] == '.') ||
	    (n - b == 2 && dest[b] == '.' && dest[b + 1] == '.'))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "invalid target folder \"%s\"", dest);
	memcpy(base, dest + b, n - b);
	base[n - b] = '\0';
	if (b == 0) {
		strcpy(parent, ".");
	} else if (b == 1) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, dest, b - 1);
		parent[b - 1] = '\0';
	}
	return 0;
}

/* Whether dest may be used as the caller asked; -EEXIST leaves it be. */
static int
dest_allowed(const char *dest, enum dest_state state, bool force,
             struct ir_ctx *ctx)
{
	if (state == DEST_OTHER && force)
		return ir_error_set(ctx, -ENOTDIR, IR_ORIGIN_USAGE, 0,
		                    "\"%s\" is not a folder", dest);
	if ((state == DEST_FULL || state == DEST_OTHER) && !force)
		return ir_error_set(ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
		                    "\"%s\" exists and is not empty", dest);
	return 0;
}

static int
open_archive(struct ir_unpack *u, const char *path, struct ir_ctx *ctx)
{
	struct stat st;

	/* O_NONBLOCK: a FIFO put in the archive's place must not hang the
	 * open; it is refused below, as is anything but a regular file. */
	u->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0 || fstat(u->fd, &st) < 0)
		return os_fail(ctx, errno, "open", path);
	if (!S_ISREG(st.st_mode))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "\"%s\" is not a regular file", path);
	u->archive_size = (uint64_t)st.st_size;
	return 0;
}

/* Put the whole staging tree in place of dest. */
static int
commit(struct ir_unpack *u, const char *dest, enum dest_state state,
       const struct stat *old, bool force, struct ir_ctx *ctx)
{
	int rc;

	if (state != DEST_NONE && fchmod(u->stagefd, old->st_mode & 0777) < 0)
		return os_fail(ctx, errno, "chmod", u->stage);
	/* Without force, an empty dest is replaced only if it is still
	 * empty at this instant: rmdir() checks that atomically. */
	if (state == DEST_EMPTY && !force && rmdir(dest) < 0) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			return ir_error_set(ctx, -EEXIST, IR_ORIGIN_USAGE, 0,
			                    "\"%s\" is no longer empty", dest);
		return os_fail(ctx, errno, "replace", dest);
	}
	rc = ir_files_swap_in(u->stage, dest, ctx);
	if (rc < 0 && state == DEST_EMPTY && !force) {
		/* Put the empty folder back as it was. */
		int back = mkdir(dest, old->st_mode & 0777);

		(void)back;
	}
	return rc;
}

int
ir_archive_extract(const char *path, const char *dest,
                   const struct ir_extract_opts *opts,
                   struct ir_extract_info *out, struct ir_ctx *ctx)
{
	struct ir_extract_opts defaults = IR_EXTRACT_OPTS_INIT;
	char parent[PATH_MAX], base[NAME_MAX + 1], real[PATH_MAX];
	struct ir_unpack *u = NULL;
	enum dest_state state = DEST_NONE;
	struct stat old;
	bool staged = false;
	int rc;

	if (!path || !dest)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	rc = split_dest(dest, parent, base, ctx);
	if (rc < 0)
		return rc;
	/* No symlink in the staging path: libarchive's SECURE_SYMLINKS
	 * would refuse to write through one. */
	if (!realpath(parent, real))
		return os_fail(ctx, errno, "resolve", parent);
	rc = dest_state(dest, &old, &state, ctx);
	if (rc == 0)
		rc = dest_allowed(dest, state, opts->force, ctx);
	if (rc < 0)
		return rc;
	u = calloc(1, sizeof(*u));
	if (!u)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
		                    "out of memory");
	u->archive_path = path;
	u->fd = -1;
	u->stagefd = -1;
	u->max_bytes =
	    opts->max_bytes ? opts->max_bytes : IR_LIMIT_ARCHIVE_BYTES;
	u->max_entries =
	    opts->max_entries ? opts->max_entries : IR_LIMIT_ARCHIVE_ENTRIES;
	u->max_ratio =
	    opts->max_ratio ? opts->max_ratio : IR_LIMIT_ARCHIVE_RATIO;
	u->sha256 = opts->sha256;
	rc = open_archive(u, path, ctx);
	if (rc < 0)
		goto out;
	/* Beside dest, so the final rename stays on one file system; 0700
	 * until it is whole.  One name per dest: extractions run under the
	 * incident lock, so one found there was left by a crash in an
	 * earlier call (a half extraction, or the old tree swapped out) and
	 * goes first. */
	if (snprintf(u->stage, sizeof(u->stage), "%s/.%s.incident-extract",
	             strcmp(real, "/") ? real : "",
	             base) >= (int)sizeof(u->stage)) {
		rc = ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_USAGE, 0,
		                  "path too long: \"%s\"", dest);
		goto out;
	}
	rc = ir_files_remove_tree(u->stage, ctx);
	if (rc < 0)
		goto out;
	if (mkdir(u->stage, 0700) < 0) {
		rc = os_fail(ctx, errno, "create staging folder in", real);
		goto out;
	}
	staged = true;
	u->stagefd =
	    open(u->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u->stagefd < 0) {
		rc = os_fail(ctx, errno, "open", u->stage);
		goto out;
	}
	rc = ir_archive_unpack(u, ctx);
	if (rc == 0)
		rc = commit(u, dest, state, &old, opts->force, ctx);
	if (rc < 0)
		goto out;
	staged = false;
	if (out)
		*out = u->info;
out:
	if (u && u->stagefd >= 0)
		close(u->stagefd);
	if (u && u->fd >= 0)
		close(u->fd);
	if (staged) {
		/* The first error is already in ctx and stays there. */
		int gone = ir_files_remove_tree(u->stage, ctx);

		(void)gone;
	}
	free(u);
	return rc;
}

int
ir_file_sha256(const char *path, uint8_t out[IR_SHA256_LEN], uint64_t *bytes,
               struct ir_ctx *ctx)
{
	struct ir_sha256 *h = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	struct stat st;
	int fd = -1;
	int rc = 0;

	if (!path || !out)
		return -EINVAL;
	h = ir_sha256_new();
	buf = malloc(HASH_CHUNK);
	if (!h || !buf) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
		                  "out of memory");
		goto done;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = os_fail(ctx, errno, "open", path);
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                  "\"%s\" is not a regular file", path);
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf, HASH_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = os_fail(ctx, errno, "read", path);
			goto done;
		}
		if (n == 0)
			break;
		ir_sha256_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	ir_sha256_final(h, out);
	if (bytes)
		*bytes = total;
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	ir_sha256_free(h);
	return rc;
}
