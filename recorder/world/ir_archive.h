/*
 * State archives: pax tar compressed with zstd (level 1, threads on),
 * written as NAME.partial, fsync'd and renamed when whole, hashed while
 * written; and safe extraction.  The only module that includes
 * <archive.h>; no libarchive type or code crosses this header.
 * libarchive is loaded (dlopen) by the first archive created or unpacked,
 * or ahead of time by ir_archive_preload().
 */
#ifndef IR_IR_ARCHIVE_H
#define IR_IR_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hash.h"

struct ir_archive_writer;

/* Start loading libarchive on a thread now (idempotent); a load that
 * fails is reported by the first archive call (-ENOSYS). */
void ir_archive_preload(void);

/* Wait for a preload still running (before the process exits). */
void ir_archive_release(void);

struct ir_archive_info {
	uint64_t bytes;  /* size of the archive file */
	uint64_t files;  /* regular files stored */
	uint8_t sha256[IR_SHA256_LEN]; /* of the archive file's bytes */
};

/* Start writing final_path (written as final_path.partial).  Paths under
 * `exclude` (e.g. the data directory; NULL for none) are never stored. */
int ir_archive_create(struct ir_archive_writer **out, const char *final_path,
		      const char *exclude, struct ir_ctx *ctx) IR_WUR;

/* Store root/rel (a file, a directory recursively, or a symlink as a link)
 * under the name rel.  A missing root/rel is -ENOENT (the caller decides). */
int ir_archive_add_path(struct ir_archive_writer *w, const char *root,
			const char *rel, struct ir_ctx *ctx) IR_WUR;

/* Store bytes as a regular file named name (mode 0600). */
int ir_archive_add_bytes(struct ir_archive_writer *w, const char *name,
			 const void *p, size_t len, struct ir_ctx *ctx) IR_WUR;

/* Store the file at path under name, streaming. */
int ir_archive_add_file_as(struct ir_archive_writer *w, const char *name,
			   const char *path, struct ir_ctx *ctx) IR_WUR;

/* Finish: close, fsync, rename to the final name, fsync the directory.
 * The writer is freed whatever the result; on error nothing is left under
 * the final name and the .partial is removed. */
int ir_archive_finish(struct ir_archive_writer *w, struct ir_archive_info *out,
		      struct ir_ctx *ctx) IR_WUR;

/* Give up: remove the .partial and free the writer.  NULL-safe. */
void ir_archive_abort(struct ir_archive_writer *w);

struct ir_extract_opts {
	bool force;            /* replace a non-empty dest */
	uint64_t max_bytes;    /* 0: IR_LIMIT_ARCHIVE_BYTES */
	uint64_t max_entries;  /* 0: IR_LIMIT_ARCHIVE_ENTRIES */
	uint64_t max_ratio;    /* 0: IR_LIMIT_ARCHIVE_RATIO */
	/* NULL, or the SHA-256 the archive file must have (IR_SHA256_LEN
	 * bytes, e.g. from backup.created): checked in the same pass, before
	 * anything is put in place.  zstd frames carry no checksum here, so
	 * only this catches a flipped bit inside compressed data. */
	const uint8_t *sha256;
};

#define IR_EXTRACT_OPTS_INIT { false, 0, 0, 0, NULL }

struct ir_extract_info {
	uint64_t files;
	uint64_t dirs;
	uint64_t symlinks;
	uint64_t bytes; /* regular file bytes written */
};

/* Extract the archive at path (tar, pax, gzip or zstd: whatever libarchive
 * reads) into dest safely: only regular files, directories and symlinks
 * whose target stays inside dest; no hard link out, no device, FIFO or
 * socket; no setuid, setgid or world-writable mode; caps on total bytes,
 * entries, path length and expansion ratio.  Everything is extracted into a
 * private staging directory beside dest and renamed into place when whole.
 * dest must not exist or be empty unless opts->force (then its old content
 * is replaced).  -EEXIST for a non-empty dest without force; -EPERM for a
 * hostile entry (ctx names it); -EBADMSG for a corrupt or truncated
 * archive (also one without its end-of-archive blocks, or not matching
 * opts->sha256); -EFBIG past a cap.  On any error nothing is left but dest
 * as it was. */
int ir_archive_extract(const char *path, const char *dest,
		       const struct ir_extract_opts *opts,
		       struct ir_extract_info *out, struct ir_ctx *ctx) IR_WUR;

/* SHA-256 and size of a file, streaming. */
int ir_file_sha256(const char *path, uint8_t out[IR_SHA256_LEN],
		   uint64_t *bytes, struct ir_ctx *ctx) IR_WUR;

#endif
