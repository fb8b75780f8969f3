/*
 * Safe extraction, the libarchive side: reading a tar (plain or
 * compressed) entry by entry into the staging folder archive_safe.c
 * prepared, refusing what could escape it or exhaust the disk.  The other
 * half of the archive module is archive.c (writing).
 */
#include "ir_archive.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_lib.h"
#include "archive_safe.h"
#include "ir_limits.h"

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
	int err = ir_arc.archive_errno(x->rd);
	const char *msg = ir_arc.archive_error_string(x->rd);
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
	int err = ir_arc.archive_errno(x->wd);
	const char *msg = ir_arc.archive_error_string(x->wd);
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

		r = ir_arc.archive_read_data_block(x->rd, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return read_fail(x, r);
		x->written += size;
		/* What the format layer consumed counts too: a bomb need
		 * not be file data. */
		seen = ir_arc.archive_filter_bytes(x->rd, 0);
		total = seen > 0 && (uint64_t)seen > x->written ? (uint64_t)seen
		                                                : x->written;
		rc = ir_safe_caps(x->u, x->ctx, total);
		if (rc < 0)
			return rc;
		if (ir_arc.archive_write_data_block(x->wd, buf, size, off) !=
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
	const char *name = ir_arc.archive_entry_pathname(e);
	const char *hard = ir_arc.archive_entry_hardlink(e);
	const char *link = ir_arc.archive_entry_symlink(e);
	unsigned type = ir_arc.archive_entry_filetype(e);
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
		why = ir_safe_type_mode(ir_arc.archive_entry_filetype(e),
		                        ir_arc.archive_entry_perm(e),
		                        hard != NULL);
	if (why)
		return refuse(x, name, code, why);
	if (type == AE_IFREG && ir_arc.archive_entry_size_is_set(e) &&
	    ir_arc.archive_entry_size(e) > 0) {
		x->declared += (uint64_t)ir_arc.archive_entry_size(e);
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
	ir_arc.archive_entry_set_pathname(e, u->full);
	if (hard) {
		if (snprintf(u->full, sizeof(u->full), "%s/%s", u->stage,
		             u->link) >= (int)sizeof(u->full))
			return refuse(x, u->name, -EFBIG, "path too long");
		ir_arc.archive_entry_set_hardlink(e, u->full);
	}
	/* Anything short of ARCHIVE_OK is a failure: a restore is whole. */
	r = ir_arc.archive_write_header(x->wd, e);
	if (r != ARCHIVE_OK)
		return disk_fail(x, u->name, r);
	rc = copy_data(x, u->name);
	if (rc < 0)
		return rc;
	r = ir_arc.archive_write_finish_entry(x->wd);
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
		ir_arc.archive_set_error(a, errno, "read: %s", strerror(errno));
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
	la_int64_t end = ir_arc.archive_filter_bytes(x->rd, 0);

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
	ir_arc.archive_read_support_format_tar(x->rd);
	ir_arc.archive_read_support_filter_gzip(x->rd);
	ir_arc.archive_read_support_filter_bzip2(x->rd);
	ir_arc.archive_read_support_filter_xz(x->rd);
	ir_arc.archive_read_support_filter_lz4(x->rd);
	ir_arc.archive_read_support_filter_zstd(x->rd);
	/* Never PERM, OWNER, XATTR, ACL or FFLAGS.  NOABSOLUTEPATHS cannot
	 * be set: every rewritten path starts with the staging folder;
	 * absolute names were refused before that. */
	if (ir_arc.archive_write_disk_set_options(x->wd, flags) != ARCHIVE_OK)
		return disk_fail(x, x->u->stage, ARCHIVE_FATAL);
	r = ir_arc.archive_read_open(x->rd, x, NULL, read_cb, NULL);
	if (r != ARCHIVE_OK)
		return read_fail(x, r);
	for (;;) {
		r = ir_arc.archive_read_next_header(x->rd, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return read_fail(x, r);
		rc = extract_entry(x, e);
		if (rc < 0)
			return rc;
		x->mark = ir_arc.archive_filter_bytes(x->rd, 0);
	}
	rc = check_end(x);
	if (rc == 0)
		rc = check_sha256(x);
	if (rc < 0)
		return rc;
	r = ir_arc.archive_write_close(x->wd);
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
	int rc = ir_archive_lib_ready(ctx);

	if (rc)
		return rc;
	utf8 = ir_archive_utf8_locale();
	old = ir_archive_locale_enter(utf8);

	x.rd = ir_arc.archive_read_new();
	x.wd = ir_arc.archive_write_disk_new();
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
	ir_arc.archive_write_free(x.wd);
	ir_arc.archive_read_free(x.rd);
	ir_sha256_free(x.sha);
	free(x.buf);
	ir_archive_locale_leave(utf8, old);
	if (utf8)
		freelocale(utf8);
	return rc;
}
