#include "ir_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_lib.h"
#include "archive_safe.h"
#include "ir_limits.h"

/* Files are streamed through one buffer of this size: memory stays flat
 * whatever the tree holds. */
#define CHUNK (256 * 1024)
#define ZSTD_MAX_THREADS 8
#define WRITEBACK (8 * 1024 * 1024)
/* Mode bits an archive we write may carry: what extraction accepts. */
#define STORED_MODE 0775

struct ir_archive_writer {
	struct archive *a;
	struct archive_entry *entry;
	struct ir_sha256 *sha;
	locale_t utf8;
	uint8_t *buf;
	char *final_path;
	char *partial_path;
	int fd;
	int write_err; /* errno seen by the write callback */
	int failed;    /* first error; the archive is incomplete */
	bool partial;  /* partial_path exists and is ours */
	bool discard;  /* aborting: what libarchive flushes is dropped */
	uint64_t entries;
	bool has_exclude;
	dev_t exclude_dev;
	ino_t exclude_ino;
	dev_t self_dev;
	ino_t self_ino;
	uint64_t bytes;
	uint64_t files;
	off_t written_back; /* write-back started up to here */
	char path[IR_LIMIT_ARCHIVE_PATH + 1]; /* the name being stored */
};

static int
os_fail(struct ir_ctx *ctx, int err, const char *what, const char *path)
{
	return ir_error_set(ctx, -err, IR_ORIGIN_OS, err, "%s \"%s\": %s", what,
	                    path, strerror(err));
}

/* Translate a libarchive failure on the writer, once. */
static int
write_fail(struct ir_archive_writer *w, const char *what, struct ir_ctx *ctx)
{
	int err = w->write_err ? w->write_err : ir_arc.archive_errno(w->a);
	int code = err > 0 ? -err : -EIO;
	const char *msg = ir_arc.archive_error_string(w->a);

	code = ir_error_set(ctx, code, IR_ORIGIN_ARCHIVE,
	                    ir_arc.archive_errno(w->a),
	                    "archive \"%s\": %s \"%s\": %s", w->final_path,
	                    what, w->path, msg ? msg : "failed");
	if (!w->failed)
		w->failed = code;
	return code;
}

static la_ssize_t
write_cb(struct archive *a, void *cookie, const void *buf, size_t len)
{
	struct ir_archive_writer *w = cookie;
	const uint8_t *p = buf;
	size_t done = 0;

	if (w->discard)
		return (la_ssize_t)len;
	while (done < len) {
		ssize_t n = write(w->fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->write_err = errno;
			ir_arc.archive_set_error(a, errno, "write: %s",
			                  strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	/* Hashed on the way out: the file is never read back. */
	ir_sha256_update(w->sha, buf, len);
	/* Start the write-back of each WRITEBACK bytes behind us, so that
	 * the disk works while we compress and the fsync at the end has
	 * little left to wait for. */
	if ((w->bytes + len) / WRITEBACK != w->bytes / WRITEBACK) {
		off_t upto = (off_t)((w->bytes + len) / WRITEBACK * WRITEBACK);

		(void)sync_file_range(w->fd, w->written_back,
		                      upto - w->written_back,
		                      SYNC_FILE_RANGE_WRITE);
		w->written_back = upto;
	}
	w->bytes += len;
	return (la_ssize_t)len;
}

/* w->path = rel, normalised as extraction will want it. */
static int
set_name(struct ir_archive_writer *w, const char *rel, struct ir_ctx *ctx)
{
	const char *why = ir_safe_normalize(w->path, rel, &(int){0});
	char q[120];

	if (!why)
		return 0;
	ir_safe_quote(q, sizeof(q), rel);
	return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
	                    "archive name \"%s\": %s", q, why);
}

static int
write_header(struct ir_archive_writer *w, const struct stat *st,
             const char *link, struct ir_ctx *ctx)
{
	struct archive_entry *e = w->entry;
	int r;

	ir_arc.archive_entry_clear(e);
	ir_arc.archive_entry_set_pathname(e, w->path);
	ir_arc.archive_entry_set_filetype(e, st->st_mode & S_IFMT);
	/* setuid, setgid, sticky and o+w are dropped: extraction refuses
	 * them, and a backup must restore. */
	ir_arc.archive_entry_set_perm(e, st->st_mode & STORED_MODE);
	ir_arc.archive_entry_set_mtime(e, st->st_mtim.tv_sec,
	                               st->st_mtim.tv_nsec);
	ir_arc.archive_entry_set_uid(e, st->st_uid);
	ir_arc.archive_entry_set_gid(e, st->st_gid);
	if (S_ISREG(st->st_mode))
		ir_arc.archive_entry_set_size(e, st->st_size);
	if (link)
		ir_arc.archive_entry_set_symlink(e, link);
	w->entries++;
	r = ir_arc.archive_write_header(w->a, e);
	/* ARCHIVE_WARN: a name that is not UTF-8 was stored as raw bytes
	 * (pax hdrcharset=BINARY).  The entry is whole: accept it. */
	if (r < ARCHIVE_WARN)
		return write_fail(w, "store", ctx);
	return 0;
}

/* Store `size` bytes of fd under w->path; a file that shrinks while it is
 * read fails the archive rather than being padded with zeros. */
static int
write_stream(struct ir_archive_writer *w, int fd, uint64_t size,
             struct ir_ctx *ctx)
{
	while (size) {
		size_t want = size < CHUNK ? (size_t)size : CHUNK;
		ssize_t n = read(fd, w->buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->failed = os_fail(ctx, errno, "read", w->path);
			return w->failed;
		}
		if (n == 0) {
			w->failed = ir_error_set(ctx, -EIO, IR_ORIGIN_OS, 0,
			                         "\"%s\" shrank while archived",
			                         w->path);
			return w->failed;
		}
		if (ir_arc.archive_write_data(w->a, w->buf, (size_t)n) != n)
			return write_fail(w, "write data of", ctx);
		size -= (uint64_t)n;
	}
	return 0;
}

static int
store_file(struct ir_archive_writer *w, int fd, const struct stat *st,
           struct ir_ctx *ctx)
{
	int rc = write_header(w, st, NULL, ctx);

	if (rc == 0)
		rc = write_stream(w, fd, (uint64_t)st->st_size, ctx);
	if (rc == 0)
		w->files++;
	return rc;
}

static bool
excluded(const struct ir_archive_writer *w, const struct stat *st)
{
	if (st->st_dev == w->self_dev && st->st_ino == w->self_ino)
		return true;
	return w->has_exclude && st->st_dev == w->exclude_dev &&
	       st->st_ino == w->exclude_ino;
}

/* Store the entry `name` under parent as w->path and, for a folder, what it
 * holds.  One open folder per level (depth is capped), one buffer for
 * data: memory does not grow with the number of files. */
static int
store_at(struct ir_archive_writer *w, int parent, const char *name, int depth,
         bool top, struct ir_ctx *ctx)
{
	const char *shown = w->path[0] ? w->path : name;
	size_t len = strlen(w->path);
	char link[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	ssize_t n;
	int fd;
	int rc = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && !top)
			return 0; /* gone since its folder was read */
		return os_fail(ctx, errno, "stat", shown);
	}
	if (excluded(w, &st))
		return 0;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(parent, name, link, sizeof(link));
		if (n < 0 || n >= (ssize_t)sizeof(link))
			return os_fail(ctx, n < 0 ? errno : ENAMETOOLONG,
			               "read link", shown);
		link[n] = '\0';
		return write_header(w, &st, link, ctx);
	}
	if (S_ISREG(st.st_mode)) {
		fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && !top)
			return 0;
		if (fd < 0)
			return os_fail(ctx, errno, "open", shown);
		if (fstat(fd, &st) == 0)
			rc = store_file(w, fd, &st, ctx);
		else
			rc = os_fail(ctx, errno, "stat", shown);
		close(fd);
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* Sockets, FIFOs and devices inside a tree are not state. */
		if (!top)
			return 0;
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_OS, 0,
		                    "\"%s\" is not a file, folder or link",
		                    shown);
	}
	if (depth >= IR_LIMIT_TREE_DEPTH)
		return ir_error_set(ctx, -ELOOP, IR_ORIGIN_OS, 0,
		                    "\"%s\": more than %d levels of folders",
		                    shown, IR_LIMIT_TREE_DEPTH);
	if (w->path[0]) {
		rc = write_header(w, &st, NULL, ctx);
		if (rc < 0)
			return rc;
	}
	fd = openat(parent, name,
	            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		d = fdopendir(fd);
	if (!d) {
		rc = os_fail(ctx, errno, "open", shown);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (;;) {
		size_t nl;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = os_fail(ctx, errno, "read folder", shown);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nl = strlen(de->d_name);
		if (len + nl + 2 > IR_LIMIT_ARCHIVE_PATH) {
			rc = ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
			                  "path too long under \"%s\"", shown);
			break;
		}
		if (len)
			w->path[len] = '/';
		memcpy(w->path + len + (len ? 1 : 0), de->d_name, nl + 1);
		rc = store_at(w, dirfd(d), de->d_name, depth + 1, false, ctx);
		w->path[len] = '\0';
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

void
ir_archive_abort(struct ir_archive_writer *w)
{
	if (!w)
		return;
	/* Freeing closes, and closing flushes: into nothing.  (Not
	 * archive_write_fail(), which leaks the block buffer.) */
	w->discard = true;
	ir_arc.archive_write_free(w->a);
	if (w->fd >= 0)
		close(w->fd);
	if (w->partial)
		unlink(w->partial_path);
	ir_arc.archive_entry_free(w->entry);
	ir_sha256_free(w->sha);
	if (w->utf8)
		freelocale(w->utf8);
	free(w->buf);
	free(w->final_path);
	free(w->partial_path);
	free(w);
}

static int
writer_open(struct ir_archive_writer *w, struct ir_ctx *ctx)
{
	char threads[16];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	w->a = ir_arc.archive_write_new();
	if (!w->a)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_ARCHIVE, 0,
		                    "out of memory");
	if (ir_arc.archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
	    ir_arc.archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
	    ir_arc.archive_write_set_filter_option(
	        w->a, "zstd", "compression-level", "1") != ARCHIVE_OK)
		return write_fail(w, "set up", ctx);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > ZSTD_MAX_THREADS)
		ncpu = ZSTD_MAX_THREADS;
	snprintf(threads, sizeof(threads), "%ld", ncpu);
	/* Older libarchive or a libzstd without threads refuses this:
	 * single-threaded zstd is fine. */
	if (ir_arc.archive_write_set_filter_option(w->a, "zstd", "threads",
	                                           threads) != ARCHIVE_OK)
		ir_arc.archive_clear_error(w->a);
	/* No padding after the zstd frame: zstd(1) rejects trailing zeros. */
	if (ir_arc.archive_write_set_bytes_in_last_block(w->a, 1) !=
	        ARCHIVE_OK ||
	    ir_arc.archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) !=
	        ARCHIVE_OK)
		return write_fail(w, "open", ctx);
	return 0;
}

int
ir_archive_create(struct ir_archive_writer **out, const char *final_path,
                  const char *exclude, struct ir_ctx *ctx)
{
	struct ir_archive_writer *w = NULL;
	struct stat st;
	locale_t old = (locale_t)0;
	int rc = 0;

	if (!out || !final_path || !*final_path)
		return -EINVAL;
	rc = ir_archive_lib_ready(ctx);
	if (rc)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
		                    "out of memory");
	w->fd = -1;
	w->final_path = strdup(final_path);
	if (w->final_path &&
	    asprintf(&w->partial_path, "%s.partial", final_path) < 0)
		w->partial_path = NULL;
	w->sha = ir_sha256_new();
	w->buf = malloc(CHUNK);
	w->entry = ir_arc.archive_entry_new();
	if (!w->final_path || !w->partial_path || !w->sha || !w->buf ||
	    !w->entry) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
		                  "out of memory");
		goto out;
	}
	if (exclude) {
		if (stat(exclude, &st) == 0) {
			w->has_exclude = true;
			w->exclude_dev = st.st_dev;
			w->exclude_ino = st.st_ino;
		} else if (errno != ENOENT) {
			rc = os_fail(ctx, errno, "stat", exclude);
			goto out;
		}
	}
	/* A .partial left by a crash is ours (under the incident lock):
	 * remove it, then create a new file, never one planted there. */
	if (unlink(w->partial_path) < 0 && errno != ENOENT) {
		rc = os_fail(ctx, errno, "remove", w->partial_path);
		goto out;
	}
	w->fd = open(w->partial_path,
	             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rc = os_fail(ctx, errno, "create", w->partial_path);
		goto out;
	}
	w->partial = true;
	if (fstat(w->fd, &st) < 0) {
		rc = os_fail(ctx, errno, "stat", w->partial_path);
		goto out;
	}
	w->self_dev = st.st_dev;
	w->self_ino = st.st_ino;
	w->utf8 = ir_archive_utf8_locale();
	old = ir_archive_locale_enter(w->utf8);
	rc = writer_open(w, ctx);
	ir_archive_locale_leave(w->utf8, old);
out:
	if (rc < 0) {
		ir_archive_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int
writer_usable(struct ir_archive_writer *w, struct ir_ctx *ctx)
{
	if (!w)
		return -EINVAL;
	if (w->failed)
		return ir_error_set(ctx, w->failed, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" already failed",
		                    w->final_path);
	return 0;
}

int
ir_archive_add_path(struct ir_archive_writer *w, const char *root,
                    const char *rel, struct ir_ctx *ctx)
{
	uint64_t before;
	locale_t old;
	int rootfd;
	int rc;

	rc = writer_usable(w, ctx);
	if (rc < 0 || !root || !rel)
		return rc < 0 ? rc : -EINVAL;
	rc = set_name(w, rel, ctx);
	if (rc < 0)
		return rc;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return os_fail(ctx, errno, "open", root);
	before = w->entries;
	old = ir_archive_locale_enter(w->utf8);
	rc = store_at(w, rootfd, w->path[0] ? w->path : ".", 0, true, ctx);
	ir_archive_locale_leave(w->utf8, old);
	close(rootfd);
	/* Part of the tree is stored: the archive cannot be whole now. */
	if (rc < 0 && w->entries != before && !w->failed)
		w->failed = rc;
	return rc;
}

int
ir_archive_add_bytes(struct ir_archive_writer *w, const char *name,
                     const void *p, size_t len, struct ir_ctx *ctx)
{
	struct stat st;
	locale_t old;
	int rc;

	rc = writer_usable(w, ctx);
	if (rc < 0 || !name || (!p && len))
		return rc < 0 ? rc : -EINVAL;
	rc = set_name(w, name, ctx);
	if (rc < 0)
		return rc;
	if (!w->path[0])
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                    "empty archive name \"%s\"", name);
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0600;
	st.st_size = (off_t)len;
	st.st_uid = getuid();
	st.st_gid = getgid();
	clock_gettime(CLOCK_REALTIME, &st.st_mtim);
	old = ir_archive_locale_enter(w->utf8);
	rc = write_header(w, &st, NULL, ctx);
	if (rc == 0 && len &&
	    ir_arc.archive_write_data(w->a, p, len) != (la_ssize_t)len)
		rc = write_fail(w, "write data of", ctx);
	ir_archive_locale_leave(w->utf8, old);
	if (rc == 0)
		w->files++;
	return rc;
}

int
ir_archive_add_file_as(struct ir_archive_writer *w, const char *name,
                       const char *path, struct ir_ctx *ctx)
{
	struct stat st;
	locale_t old;
	int fd;
	int rc;

	rc = writer_usable(w, ctx);
	if (rc < 0 || !name || !path)
		return rc < 0 ? rc : -EINVAL;
	rc = set_name(w, name, ctx);
	if (rc == 0 && !w->path[0])
		rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
		                  "empty archive name \"%s\"", name);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return os_fail(ctx, errno, "open", path);
	if (fstat(fd, &st) < 0) {
		rc = os_fail(ctx, errno, "stat", path);
	} else if (!S_ISREG(st.st_mode)) {
		rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_OS, 0,
		                  "\"%s\" is not a regular file", path);
	} else {
		old = ir_archive_locale_enter(w->utf8);
		rc = store_file(w, fd, &st, ctx);
		ir_archive_locale_leave(w->utf8, old);
	}
	close(fd);
	return rc;
}

static int
sync_parent_of(const char *path, struct ir_ctx *ctx)
{
	char *dir = strdup(path);
	char *slash;
	int fd;
	int rc = 0;

	if (!dir)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, 0,
		                    "out of memory");
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = os_fail(ctx, errno, "fsync", dir);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int
ir_archive_finish(struct ir_archive_writer *w, struct ir_archive_info *out,
                  struct ir_ctx *ctx)
{
	struct ir_archive_info info;
	locale_t old;
	int fd;
	int rc;

	rc = writer_usable(w, ctx);
	if (rc < 0)
		goto out;
	w->path[0] = '\0';
	old = ir_archive_locale_enter(w->utf8);
	if (ir_arc.archive_write_close(w->a) != ARCHIVE_OK)
		rc = write_fail(w, "finish", ctx);
	ir_archive_locale_leave(w->utf8, old);
	if (rc < 0)
		goto out;
	if (fsync(w->fd) < 0) {
		rc = os_fail(ctx, errno, "fsync", w->partial_path);
		goto out;
	}
	fd = w->fd;
	w->fd = -1;
	if (close(fd) < 0) {
		rc = os_fail(ctx, errno, "close", w->partial_path);
		goto out;
	}
	if (rename(w->partial_path, w->final_path) < 0) {
		rc = os_fail(ctx, errno, "rename", w->partial_path);
		goto out;
	}
	w->partial = false;
	rc = sync_parent_of(w->final_path, ctx);
	if (rc < 0) {
		unlink(w->final_path);
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.bytes = w->bytes;
	info.files = w->files;
	ir_sha256_final(w->sha, info.sha256);
	if (out)
		*out = info;
out:
	ir_archive_abort(w);
	return rc;
}
