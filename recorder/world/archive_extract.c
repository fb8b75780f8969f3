/*
 * Safe extraction, end to end: the destination checked, the archive read
 * into a private staging folder beside it (archive_unpack.c, under the
 * rules of archive_safe.c), then swapped into place whole.  And the
 * SHA-256 of an archive file.
 */
#include "ir_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_safe.h"
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
