/*
 * The log's file before LMDB maps it.  LMDB trusts data.mdb: a file cut
 * short faults (SIGBUS) where the map runs past its end, and a file of 0
 * bytes is taken for a new log and initialised over.  So the two meta
 * pages are read here with pread(2), in LMDB's own layout (mdb.c, data
 * version 1), and the file is held to what they say.  No <lmdb.h>: these
 * are bytes on disk, not the library's API.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog_file.h"

/* MDB_page's header, then MDB_meta (64-bit LMDB, as mdb.c lays them). */
#define META_FLAGS 10     /* mp_flags, u16 */
#define P_META 0x08
#define META_MAGIC 16     /* mm_magic, u32 */
#define META_VERSION 20   /* mm_version, u32 */
#define META_PSIZE 40     /* mm_dbs[FREE_DBI].md_pad, u32 */
#define META_FREE_ROOT 80 /* mm_dbs[FREE_DBI].md_root */
#define META_MAIN_ROOT 128 /* mm_dbs[MAIN_DBI].md_root */
#define META_LAST_PG 136  /* mm_last_pg */
#define META_TXNID 144    /* mm_txnid */
#define META_SIZE 152
#define MDB_MAGIC 0xBEEFC0DEu
#define MDB_DATA_VERSION 1
#define P_INVALID UINT64_MAX
#define NUM_METAS 2

struct meta {
	uint32_t psize;
	uint64_t free_root, main_root, last_pg, txnid;
};

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int IR_PRINTF(3, 4)
damaged(struct ir_ctx *ctx, const char *file, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			    "the event log %s is damaged: %s; nothing was "
			    "read or written (restore it from a backup, or "
			    "move it aside to keep it as evidence)",
			    file, why);
}

/* Meta page i at offset off: 0, 1 for a page that is no meta page, or
 * the error. */
static int
read_meta(int fd, unsigned i, off_t off, struct meta *out, const char *file,
	  struct ir_ctx *ctx)
{
	uint8_t b[META_SIZE];
	ssize_t n = pread(fd, b, sizeof(b), off);

	if (n < 0)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot read %s: %s", file,
				    strerror(errno));
	if (n != (ssize_t)sizeof(b))
		return damaged(ctx, file, "it ends inside meta page %u "
					  "(offset %llu)",
			       i, (unsigned long long)off);
	if (!(get16(b + META_FLAGS) & P_META) ||
	    get32(b + META_MAGIC) != MDB_MAGIC)
		return damaged(ctx, file, "meta page %u (offset %llu) has no "
					  "LMDB magic",
			       i, (unsigned long long)off);
	if (get32(b + META_VERSION) != MDB_DATA_VERSION)
		return damaged(ctx, file, "meta page %u has data version "
					  "%u, not 1",
			       i, (unsigned)get32(b + META_VERSION));
	out->psize = get32(b + META_PSIZE);
	out->free_root = get64(b + META_FREE_ROOT);
	out->main_root = get64(b + META_MAIN_ROOT);
	out->last_pg = get64(b + META_LAST_PG);
	out->txnid = get64(b + META_TXNID);
	return 0;
}

static bool
psize_ok(uint32_t psize)
{
	return psize >= 512 && psize <= 65536 && !(psize & (psize - 1));
}

/* Whether a directory holds anything (archives, reports). */
static bool
has_entries(const char *data_dir, const char *sub, char *found, size_t cap)
{
	char path[4200];
	struct dirent *e;
	bool any = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", data_dir, sub);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(found, cap, "%s/%s", path, e->d_name);
			any = true;
		}
	closedir(d);
	return any;
}

/* A 0-byte data.mdb is what LMDB leaves if it died creating the log, and
 * what a truncation leaves; a missing one is a new data directory, or a
 * log deleted.  The first of each may be made anew, the second never
 * (LMDB would start a fresh log over the evidence). */
static int
check_new(const char *data_dir, const char *file, bool missing,
	  struct ir_ctx *ctx)
{
	static const char *const subs[] = { "archives", "reports", "keys" };
	char found[4400], lock[4200];
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (has_entries(data_dir, subs[i], found, sizeof(found)))
			goto evidence;
	snprintf(lock, sizeof(lock), "%s/lock", data_dir);
	if (access(lock, F_OK))
		return 0;
	snprintf(found, sizeof(found), "%s", lock);
evidence:
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			    "the event log %s is %s, yet \"%s\" shows that "
			    "incidents were recorded here; refusing to start "
			    "a new log over it (restore data.mdb from a "
			    "backup)",
			    file,
			    missing ? "missing"
				    : "damaged: it is empty (0 bytes)",
			    found);
}

int
ir_evlog_check_file(const char *data_dir, const char *log_dir, bool *empty,
		    struct ir_ctx *ctx)
{
	struct meta m[NUM_METAS], *cur;
	char file[4200];
	struct stat st;
	uint64_t need;
	unsigned i;
	int fd, rc = 0;

	*empty = false;
	snprintf(file, sizeof(file), "%s/data.mdb", log_dir);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*empty = true;
		return check_new(data_dir, file, true, ctx);
	}
	if (fd < 0)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot open %s: %s", file,
				    strerror(errno));
	if (fstat(fd, &st)) {
		rc = ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				  "cannot stat %s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = damaged(ctx, file, "it is not a regular file");
		goto out;
	}
	if (!st.st_size) {
		*empty = true;
		rc = check_new(data_dir, file, false, ctx);
		goto out;
	}
	rc = read_meta(fd, 0, 0, &m[0], file, ctx);
	if (!rc && !psize_ok(m[0].psize))
		rc = damaged(ctx, file, "meta page 0 gives a page size of "
					"%u bytes",
			     (unsigned)m[0].psize);
	if (!rc)
		rc = read_meta(fd, 1, m[0].psize, &m[1], file, ctx);
	if (rc)
		goto out;
	/* LMDB opens at the meta of the newest transaction. */
	cur = m[1].txnid > m[0].txnid ? &m[1] : &m[0];
	for (i = 0; i < NUM_METAS; i++)
		if ((m[i].free_root != P_INVALID &&
		     m[i].free_root > m[i].last_pg) ||
		    (m[i].main_root != P_INVALID &&
		     m[i].main_root > m[i].last_pg)) {
			rc = damaged(ctx, file, "meta page %u names a root "
						"page past its last page %llu",
				     i, (unsigned long long)m[i].last_pg);
			goto out;
		}
	if (cur->last_pg >= UINT64_MAX / cur->psize) {
		rc = damaged(ctx, file, "its last page %llu is past any file",
			     (unsigned long long)cur->last_pg);
		goto out;
	}
	need = (cur->last_pg + 1) * cur->psize;
	if ((uint64_t)st.st_size < need)
		rc = damaged(ctx, file, "it is %llu bytes long, its meta page "
					"says at least %llu (it was cut short)",
			     (unsigned long long)st.st_size,
			     (unsigned long long)need);
out:
	close(fd);
	return rc;
}
