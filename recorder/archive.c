#include "ir_archive.h"

#include <archive.h>
#include <archive_entry.h>
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

#include "archive_safe.h"
#include "ir_limits.h"
#include "lazylib.h"

/*
 * libarchive is loaded when first needed, not linked (lazylib.h): with
 * libxml2, ICU and the C++ runtime behind it, linking it cost every start
 * about 5 ms.  A rollback preloads it on a thread while it stops trading;
 * the backup finds it ready.  These are the functions we call.
 */
#define ARCHIVE_API(X) \
	X(archive_clear_error)                                               \
	X(archive_entry_clear)                                               \
	X(archive_entry_filetype)                                            \
	X(archive_entry_free)                                                \
	X(archive_entry_hardlink)                                            \
	X(archive_entry_new)                                                 \
	X(archive_entry_pathname)                                            \
	X(archive_entry_perm)                                                \
	X(archive_entry_set_filetype)                                        \
	X(archive_entry_set_gid)                                             \
	X(archive_entry_set_hardlink)                                        \
	X(archive_entry_set_mtime)                                           \
	X(archive_entry_set_pathname)                                        \
	X(archive_entry_set_perm)                                            \
	X(archive_entry_set_size)                                            \
	X(archive_entry_set_symlink)                                         \
	X(archive_entry_set_uid)                                             \
	X(archive_entry_size)                                                \
	X(archive_entry_size_is_set)                                         \
	X(archive_entry_symlink)                                             \
	X(archive_errno)                                                     \
	X(archive_error_string)                                              \
	X(archive_filter_bytes)                                              \
	X(archive_read_data_block)                                           \
	X(archive_read_free)                                                 \
	X(archive_read_new)                                                  \
	X(archive_read_next_header)                                          \
	X(archive_read_open)                                                 \
	X(archive_read_support_filter_bzip2)                                 \
	X(archive_read_support_filter_gzip)                                  \
	X(archive_read_support_filter_lz4)                                   \
	X(archive_read_support_filter_xz)                                    \
	X(archive_read_support_filter_zstd)                                  \
	X(archive_read_support_format_tar)                                   \
	X(archive_set_error)                                                 \
	X(archive_write_add_filter_zstd)                                     \
	X(archive_write_close)                                               \
	X(archive_write_data)                                                \
	X(archive_write_data_block)                                          \
	X(archive_write_disk_new)                                            \
	X(archive_write_disk_set_options)                                    \
	X(archive_write_fail)                                                \
	X(archive_write_finish_entry)                                        \
	X(archive_write_free)                                                \
	X(archive_write_header)                                              \
	X(archive_write_new)                                                 \
	X(archive_write_open2)                                               \
	X(archive_write_set_bytes_in_last_block)                             \
	X(archive_write_set_filter_option)                                   \
	X(archive_write_set_format_pax)

static struct {
#define SLOT(f) __typeof__(f) *f;
	ARCHIVE_API(SLOT)
#undef SLOT
} A;

static int
bind_archive(void *handle, char *error, size_t cap)
{
#define FIND(f)                                                               \
	if (!ir_lazylib_find(handle, #f, &A.f, error, cap))                   \
		return -1;
	ARCHIVE_API(FIND)
#undef FIND
	return 0;
}

/* libarchive 3's ABI. */
static struct ir_lazylib archive_lib =
	IR_LAZYLIB_INIT("libarchive.so.13", bind_archive);

void
ir_archive_preload(void)
{
	ir_lazylib_preload(&archive_lib);
}

void
ir_archive_release(void)
{
	ir_lazylib_release(&archive_lib);
}

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

/* libarchive converts names through the thread's locale; C.UTF-8 stores
 * UTF-8 names as they are (no "hdrcharset=BINARY" that GNU tar warns
 * about).  uselocale() is per thread, so the caller's locale is safe. */
static locale_t
utf8_locale(void)
{
	return newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t
locale_enter(locale_t loc)
{
	return loc ? uselocale(loc) : (locale_t)0;
}

static void
locale_leave(locale_t loc, locale_t old)
{
	if (loc)
		uselocale(old);
}

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
	int err = w->write_err ? w->write_err : A.archive_errno(w->a);
	int code = err > 0 ? -err : -EIO;
	const char *msg = A.archive_error_string(w->a);

	code = ir_error_set(ctx, code, IR_ORIGIN_ARCHIVE, A.archive_errno(w->a),
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
			A.archive_set_error(a, errno, "write: %s",
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

	A.archive_entry_clear(e);
	A.archive_entry_set_pathname(e, w->path);
	A.archive_entry_set_filetype(e, st->st_mode & S_IFMT);
	/* setuid, setgid, sticky and o+w are dropped: extraction refuses
	 * them, and a backup must restore. */
	A.archive_entry_set_perm(e, st->st_mode & STORED_MODE);
	A.archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	A.archive_entry_set_uid(e, st->st_uid);
	A.archive_entry_set_gid(e, st->st_gid);
	if (S_ISREG(st->st_mode))
		A.archive_entry_set_size(e, st->st_size);
	if (link)
		A.archive_entry_set_symlink(e, link);
	w->entries++;
	r = A.archive_write_header(w->a, e);
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
		if (A.archive_write_data(w->a, w->buf, (size_t)n) != n)
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
	A.archive_write_free(w->a);
	if (w->fd >= 0)
		close(w->fd);
	if (w->partial)
		unlink(w->partial_path);
	A.archive_entry_free(w->entry);
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

	w->a = A.archive_write_new();
	if (!w->a)
		return ir_error_set(ctx, -ENOMEM, IR_ORIGIN_ARCHIVE, 0,
		                    "out of memory");
	if (A.archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
	    A.archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
	    A.archive_write_set_filter_option(w->a, "zstd", "compression-level",
	                                    "1") != ARCHIVE_OK)
		return write_fail(w, "set up", ctx);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > ZSTD_MAX_THREADS)
		ncpu = ZSTD_MAX_THREADS;
	snprintf(threads, sizeof(threads), "%ld", ncpu);
	/* Older libarchive or a libzstd without threads refuses this:
	 * single-threaded zstd is fine. */
	if (A.archive_write_set_filter_option(w->a, "zstd", "threads", threads) !=
	    ARCHIVE_OK)
		A.archive_clear_error(w->a);
	/* No padding after the zstd frame: zstd(1) rejects trailing zeros. */
	if (A.archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    A.archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) !=
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
	rc = ir_lazylib_ready(&archive_lib, ctx);
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
	w->entry = A.archive_entry_new();
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
	w->fd =
	    open(w->partial_path,
	         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
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
	w->utf8 = utf8_locale();
	old = locale_enter(w->utf8);
	rc = writer_open(w, ctx);
	locale_leave(w->utf8, old);
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
	old = locale_enter(w->utf8);
	rc = store_at(w, rootfd, w->path[0] ? w->path : ".", 0, true, ctx);
	locale_leave(w->utf8, old);
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
	old = locale_enter(w->utf8);
	rc = write_header(w, &st, NULL, ctx);
	if (rc == 0 && len &&
	    A.archive_write_data(w->a, p, len) != (la_ssize_t)len)
		rc = write_fail(w, "write data of", ctx);
	locale_leave(w->utf8, old);
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
		old = locale_enter(w->utf8);
		rc = store_file(w, fd, &st, ctx);
		locale_leave(w->utf8, old);
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
	old = locale_enter(w->utf8);
	if (A.archive_write_close(w->a) != ARCHIVE_OK)
		rc = write_fail(w, "finish", ctx);
	locale_leave(w->utf8, old);
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

/* -- safe extraction: the libarchive side ------------------------------ */

#define READ_CHUNK (64 * 1024)

struct extract {
	struct ir_unpack *u;
	struct archive *rd;
	struct archive *wd;
	struct ir_ctx *ctx;
	struct ir_sha256 *sha; /* of the archive file, when one is expected */
	uint8_t *buf;
	int read_err;
	uint64_t entries;
	uint64_t declared;
	uint64_t written;
	la_int64_t mark; /* stream position after the last entry */
};

static int
refuse(struct extract *x, const char *name, int code, const char *why)
{
	char q[120];

	ir_safe_quote(q, sizeof(q), name);
	return ir_error_set(x->ctx, code, IR_ORIGIN_ARCHIVE, 0,
	                    "unsafe entry \"%s\": %s", q, why);
}

/* Every failure of the reader, ARCHIVE_WARN and ARCHIVE_RETRY included,
 * is a damaged archive: a restore is whole or it is nothing. */
static int
read_fail(struct extract *x, int r)
{
	int err = A.archive_errno(x->rd);
	const char *msg = A.archive_error_string(x->rd);
	int code = -EBADMSG;

	if (err == ENOMEM || err == EIO)
		code = -err;
	return ir_error_set(x->ctx, code, IR_ORIGIN_ARCHIVE, r,
	                    "corrupt archive \"%s\": %s", x->u->archive_path,
	                    msg ? msg : "unreadable");
}

static int
disk_fail(struct extract *x, const char *name, int r)
{
	int err = A.archive_errno(x->wd);
	const char *msg = A.archive_error_string(x->wd);
	char q[120];

	ir_safe_quote(q, sizeof(q), name);
	return ir_error_set(x->ctx, err > 0 ? -err : -EIO, IR_ORIGIN_ARCHIVE, r,
	                    "extract \"%s\": %s", q, msg ? msg : "failed");
}

static int
copy_data(struct extract *x, const char *name)
{
	const void *buf;
	la_int64_t off;
	size_t size;
	int r;

	for (;;) {
		la_int64_t seen;
		uint64_t total;
		int rc;

		r = A.archive_read_data_block(x->rd, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return read_fail(x, r);
		x->written += size;
		/* What the format layer consumed counts too: a bomb need
		 * not be file data. */
		seen = A.archive_filter_bytes(x->rd, 0);
		total = seen > 0 && (uint64_t)seen > x->written ? (uint64_t)seen
		                                                : x->written;
		rc = ir_safe_caps(x->u, x->ctx, total);
		if (rc < 0)
			return rc;
		if (A.archive_write_data_block(x->wd, buf, size, off) !=
		    ARCHIVE_OK)
			return disk_fail(x, name, ARCHIVE_FAILED);
	}
}

/* Check one entry completely, then rewrite its names under the staging
 * folder and write it. */
static int
extract_entry(struct extract *x, struct archive_entry *e)
{
	struct ir_unpack *u = x->u;
	const char *name = A.archive_entry_pathname(e);
	const char *hard = A.archive_entry_hardlink(e);
	const char *link = A.archive_entry_symlink(e);
	unsigned type = A.archive_entry_filetype(e);
	bool is_dir = type == AE_IFDIR && !hard;
	const char *why;
	int code = -EPERM;
	int rc;
	int r;

	if (++x->entries > u->max_entries)
		return ir_error_set(x->ctx, -EFBIG, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" has more than %llu entries",
		                    u->archive_path,
		                    (unsigned long long)u->max_entries);
	if (!name)
		return refuse(x, "", -EPERM, "name cannot be read");
	why = ir_safe_normalize(u->name, name, &code);
	if (!why && !u->name[0]) {
		if (is_dir)
			return 0; /* "./": the target folder itself */
		why = "names the target folder itself";
	}
	if (!why)
		why = ir_safe_type_mode(A.archive_entry_filetype(e),
		                        A.archive_entry_perm(e), hard != NULL);
	if (why)
		return refuse(x, name, code, why);
	if (type == AE_IFREG && A.archive_entry_size_is_set(e) &&
	    A.archive_entry_size(e) > 0) {
		x->declared += (uint64_t)A.archive_entry_size(e);
		rc = ir_safe_caps(x->u, x->ctx, x->declared);
		if (rc < 0)
			return rc;
	}
	why = ir_safe_place(u, is_dir);
	if (!why && hard)
		why = ir_safe_hardlink(u, hard);
	else if (!why && type == AE_IFLNK)
		why = link ? ir_safe_symlink(u, link)
		           : "symlink target cannot be read";
	if (why)
		return refuse(x, name, -EPERM, why);
	if (snprintf(u->full, sizeof(u->full), "%s/%s", u->stage, u->name) >=
	    (int)sizeof(u->full))
		return refuse(x, name, -EFBIG, "path too long");
	/* name points into e: from here on, u->name names the entry. */
	A.archive_entry_set_pathname(e, u->full);
	if (hard) {
		if (snprintf(u->full, sizeof(u->full), "%s/%s", u->stage,
		             u->link) >= (int)sizeof(u->full))
			return refuse(x, u->name, -EFBIG, "path too long");
		A.archive_entry_set_hardlink(e, u->full);
	}
	/* Anything short of ARCHIVE_OK is a failure: a restore is whole. */
	r = A.archive_write_header(x->wd, e);
	if (r != ARCHIVE_OK)
		return disk_fail(x, u->name, r);
	rc = copy_data(x, u->name);
	if (rc < 0)
		return rc;
	r = A.archive_write_finish_entry(x->wd);
	if (r != ARCHIVE_OK)
		return disk_fail(x, u->name, r);
	if (is_dir)
		u->info.dirs++;
	else if (type == AE_IFLNK && !hard)
		u->info.symlinks++;
	else
		u->info.files++;
	return 0;
}

/* Every byte libarchive reads passes here, in order: hashed on the way. */
static la_ssize_t
read_cb(struct archive *a, void *cookie, const void **buf)
{
	struct extract *x = cookie;
	ssize_t n;

	do {
		n = read(x->u->fd, x->buf, READ_CHUNK);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		x->read_err = errno;
		A.archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	if (x->sha)
		ir_sha256_update(x->sha, x->buf, (size_t)n);
	*buf = x->buf;
	return n;
}

/* libarchive takes an archive that just stops between two entries for a
 * whole one; the two zero blocks that end a tar are required here. */
static int
check_end(struct extract *x)
{
	la_int64_t end = A.archive_filter_bytes(x->rd, 0);

	if (end < x->mark + 1024)
		return ir_error_set(x->ctx, -EBADMSG, IR_ORIGIN_ARCHIVE, 0,
		                    "corrupt archive \"%s\": truncated (no "
		                    "end-of-archive blocks)",
		                    x->u->archive_path);
	return 0;
}

/* The rest of the file (past the end blocks) is hashed too, then the
 * whole compared with what the caller expects. */
static int
check_sha256(struct extract *x)
{
	uint8_t sum[IR_SHA256_LEN];
	la_ssize_t n;
	const void *p;

	if (!x->sha)
		return 0;
	do {
		n = read_cb(x->rd, x, &p);
	} while (n > 0);
	if (n < 0)
		return ir_error_set(x->ctx, -x->read_err, IR_ORIGIN_OS,
		                    x->read_err, "read \"%s\": %s",
		                    x->u->archive_path, strerror(x->read_err));
	ir_sha256_final(x->sha, sum);
	if (memcmp(sum, x->u->sha256, sizeof(sum)))
		return ir_error_set(x->ctx, -EBADMSG, IR_ORIGIN_ARCHIVE, 0,
		                    "corrupt archive \"%s\": its SHA-256 is "
		                    "not the one recorded",
		                    x->u->archive_path);
	return 0;
}

static int
unpack_all(struct extract *x)
{
	struct archive_entry *e;
	int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	            ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	            ARCHIVE_EXTRACT_NO_OVERWRITE | ARCHIVE_EXTRACT_TIME;
	int rc;
	int r;

	/* The tar family only, and only filters libarchive decodes itself
	 * (never an external program). */
	A.archive_read_support_format_tar(x->rd);
	A.archive_read_support_filter_gzip(x->rd);
	A.archive_read_support_filter_bzip2(x->rd);
	A.archive_read_support_filter_xz(x->rd);
	A.archive_read_support_filter_lz4(x->rd);
	A.archive_read_support_filter_zstd(x->rd);
	/* Never PERM, OWNER, XATTR, ACL or FFLAGS.  NOABSOLUTEPATHS cannot
	 * be set: every rewritten path starts with the staging folder;
	 * absolute names were refused before that. */
	if (A.archive_write_disk_set_options(x->wd, flags) != ARCHIVE_OK)
		return disk_fail(x, x->u->stage, ARCHIVE_FATAL);
	r = A.archive_read_open(x->rd, x, NULL, read_cb, NULL);
	if (r != ARCHIVE_OK)
		return read_fail(x, r);
	for (;;) {
		r = A.archive_read_next_header(x->rd, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return read_fail(x, r);
		rc = extract_entry(x, e);
		if (rc < 0)
			return rc;
		x->mark = A.archive_filter_bytes(x->rd, 0);
	}
	rc = check_end(x);
	if (rc == 0)
		rc = check_sha256(x);
	if (rc < 0)
		return rc;
	r = A.archive_write_close(x->wd);
	if (r != ARCHIVE_OK)
		return disk_fail(x, x->u->stage, r);
	x->u->info.bytes = x->written;
	return 0;
}

int
ir_archive_unpack(struct ir_unpack *u, struct ir_ctx *ctx)
{
	struct extract x = {u, NULL, NULL, ctx, NULL, NULL, 0, 0, 0, 0, 0};
	locale_t utf8, old;
	int rc = ir_lazylib_ready(&archive_lib, ctx);

	if (rc)
		return rc;
	utf8 = utf8_locale();
	old = locale_enter(utf8);

	x.rd = A.archive_read_new();
	x.wd = A.archive_write_disk_new();
	x.buf = malloc(READ_CHUNK);
	if (u->sha256)
		x.sha = ir_sha256_new();
	if (!x.rd || !x.wd || !x.buf || (u->sha256 && !x.sha))
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_ARCHIVE, 0,
		                  "out of memory");
	else
		rc = unpack_all(&x);
	/* Not archive_write_fail(): the disk writer would then leak its
	 * pending folder fixups.  Closing applies them, inside the staging
	 * folder, which goes next. */
	A.archive_write_free(x.wd);
	A.archive_read_free(x.rd);
	ir_sha256_free(x.sha);
	free(x.buf);
	locale_leave(utf8, old);
	if (utf8)
		freelocale(utf8);
	return rc;
}
