/*
 * Safe extraction, internal to recorder/archive.c and archive_safe.c: the
 * checks each archive entry passes before anything is written, and the
 * libarchive side that calls them.  No libarchive type crosses this
 * header; nothing outside the archive module includes it.
 */
#ifndef IR_ARCHIVE_SAFE_H
#define IR_ARCHIVE_SAFE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir_archive.h"
#include "error.h"
#include "ir_limits.h"

/* One extraction into a private staging folder. */
struct ir_unpack {
	const char *archive_path; /* for messages */
	int fd;                   /* the archive, open for reading */
	uint64_t archive_size;
	int stagefd;          /* the staging folder */
	char stage[PATH_MAX]; /* its absolute path, no symlink in it */
	uint64_t max_bytes;
	uint64_t max_entries;
	uint64_t max_ratio;
	const uint8_t *sha256;       /* expected, or NULL */
	struct ir_extract_info info; /* what was written */
	/* Scratch for the checks below. */
	char name[IR_LIMIT_ARCHIVE_PATH + 1]; /* normalised entry name */
	char link[IR_LIMIT_ARCHIVE_PATH + 1]; /* normalised hard link */
	char walk[IR_LIMIT_ARCHIVE_PATH + 1]; /* symlink resolution */
	char full[PATH_MAX];
};

/* archive.c: read every entry of u->fd, check it with the functions below
 * and write it under u->stage.  -EPERM (hostile entry), -EBADMSG
 * (corrupt), -EFBIG (past a cap), or a negative errno from the disk. */
int ir_archive_unpack(struct ir_unpack *u, struct ir_ctx *ctx) IR_WUR;

/* The checks return NULL for a safe entry, else why it is refused (a
 * constant string for the message). */

/* name, lexically normalised into out (IR_LIMIT_ARCHIVE_PATH + 1 bytes;
 * "" is the target itself); *code is -EPERM, or -EFBIG for a cap. */
const char *ir_safe_normalize(char *out, const char *name, int *code);

/* u->name may be created: its folders are real folders (or missing), and
 * nothing exists under its name, unless both are folders. */
const char *ir_safe_place(struct ir_unpack *u, bool is_dir);

/* A symlink at u->name pointing at target stays inside the staging
 * folder, whatever later entries add. */
const char *ir_safe_symlink(struct ir_unpack *u, const char *target);

/* A hard link at u->name to target (an archive name) names a regular
 * file already extracted; its normalised name is left in u->link. */
const char *ir_safe_hardlink(struct ir_unpack *u, const char *target);

/* An entry of this type (S_IFREG, S_IFDIR ...: libarchive's AE_IF* have
 * the same values) and permission bits, or a hard link. */
const char *ir_safe_type_mode(unsigned type, unsigned mode, bool hard);

/* -EFBIG (with a message) once total uncompressed bytes pass u's caps. */
int ir_safe_caps(const struct ir_unpack *u, struct ir_ctx *ctx,
                 uint64_t total) IR_WUR;

/* s as it may appear inside quotes in a one-line message. */
void ir_safe_quote(char *out, size_t size, const char *s);

#endif
