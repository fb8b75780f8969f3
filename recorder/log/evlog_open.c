/*
 * The event log's environment: opening it (for appends, or only to read
 * a copy kept as evidence), the modes it insists on, and the guards
 * around a damaged file: the file checked before it is mapped
 * (evlog_file.c) and LMDB's assertions handed to the caller.  The other
 * parts are evlog.c (transactions, the map, headers, appends) and
 * evlog_scan.c.
 */
#include "evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog_file.h"
#include "evlog_lib.h"
#include "ir_limits.h"

static int
mkdir_private(const char *path, struct ir_ctx *ctx)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot create \"%s\": %s", path,
				    strerror(errno));
	return 0;
}

/*
 * A data directory made by someone else keeps its mode.  Group or world
 * access to the directory is worth a warning; to the log itself (the
 * folder or its files) it is refused: anyone who can write it can rewrite
 * history, anyone who can read it reads every command's output.
 */
static int
check_modes(struct ir_evlog *log, const char *data_dir, const char *path,
	    struct ir_ctx *ctx)
{
	static const char *const files[] = { "", "/data.mdb", "/lock.mdb" };
	char file[4200];
	struct stat st;
	size_t i;

	if (!stat(data_dir, &st) && (st.st_mode & 077))
		snprintf(log->warning, sizeof(log->warning),
			 "the data directory \"%s\" is open to others "
			 "(mode %04o); chmod 700 it",
			 data_dir, (unsigned)(st.st_mode & 07777));
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(file, sizeof(file), "%s%s", path, files[i]);
		if (stat(file, &st) || !(st.st_mode & (i ? 066 : 077)))
			continue;
		return ir_error_set(ctx, -EPERM, IR_ORIGIN_CONFIG, 0,
				    "the event log \"%s\" is open to others "
				    "(mode %04o): refusing to use it; chmod "
				    "%s it",
				    file, (unsigned)(st.st_mode & 07777),
				    i ? "600" : "700");
	}
	return 0;
}

const char *
ir_evlog_warning(const struct ir_evlog *log)
{
	return log && log->warning[0] ? log->warning : NULL;
}

/*
 * A reader of a log it may not change (a read-only copy kept as evidence,
 * a read-only mount): LMDB's reader table lives in lock.mdb, which it
 * would create or write.  Where lock.mdb cannot be written, nobody
 * writes data.mdb through it either, so reading without the table
 * (MDB_NOLOCK) is safe; where it can, the table is used as any reader's.
 */
static unsigned
readonly_flags(const char *path)
{
	char lock[4200];

	snprintf(lock, sizeof(lock), "%s/lock.mdb", path);
	if (!access(lock, R_OK | W_OK))
		return MDB_RDONLY;
	if (errno == ENOENT && !access(path, W_OK))
		return MDB_RDONLY;
	return MDB_RDONLY | MDB_NOLOCK;
}

/* The named databases and the schema version; a read-only log is only
 * read. */
static int
open_databases(struct ir_evlog *log, bool rdonly, struct ir_ctx *ctx)
{
	static const char *const names[] = { "events", "incidents", "meta" };
	MDB_dbi *dbis[] = { &log->events, &log->incidents, &log->meta };
	MDB_val k = { 6, "schema" }, v;
	MDB_txn *txn = NULL;
	size_t i;
	int rc;

	rc = ir_evlog_begin(log, rdonly ? MDB_RDONLY : 0, &txn, ctx);
	if (rc)
		return rc;
	for (i = 0; i < 3; i++) {
		unsigned f = rdonly ? 0 : MDB_CREATE;

		rc = IR_EVLOG_WALK(mdb_dbi_open(txn, names[i], f, dbis[i]));
		if (rc == MDB_NOTFOUND) {
			rc = ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, rc,
					  "the event log %s/data.mdb is "
					  "damaged: it has no \"%s\" "
					  "database",
					  log->dir, names[i]);
			goto fail;
		}
		if (rc) {
			rc = ir_evlog_lmdb_error(ctx, rc, "open databases");
			goto fail;
		}
	}
	rc = ir_lmdb_get(log, txn, log->meta, &k, &v);
	if (rc == MDB_NOTFOUND && !rdonly) {
		v.mv_size = 1;
		v.mv_data = "1";
		rc = IR_EVLOG_WALK(mdb_put(txn, log->meta, &k, &v, 0));
	} else if (!rc && (v.mv_size != 1 ||
			   *(const char *)v.mv_data != '1')) {
		rc = ir_error_set(ctx, -EPROTO, IR_ORIGIN_LMDB, 0,
				  "event log: unknown schema version");
		goto fail;
	}
	if (rc) {
		rc = ir_evlog_lmdb_error(ctx, rc, "schema version");
		goto fail;
	}
	rc = ir_evlog_ledger_open(log, txn, rdonly, ctx);
	if (rc)
		goto fail;
	/* Committed even when read-only: the handles opened in a
	 * transaction outlive it only then. */
	rc = mdb_txn_commit(txn);
	return rc ? ir_evlog_lmdb_error(ctx, rc, "commit") : 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}

static ir_evlog_damage_fn damage_fn;

void
ir_evlog_set_damage_handler(ir_evlog_damage_fn fn)
{
	damage_fn = fn;
}

/* LMDB calls this on a failed assertion, then abort()s. */
static void
on_assert(MDB_env *env, const char *msg)
{
	const struct ir_evlog *log = mdb_env_get_userctx(env);
	char file[4200];

	snprintf(file, sizeof(file), "%s/data.mdb", log ? log->dir : "?");
	if (damage_fn)
		damage_fn(file, msg);
}

static int
evlog_open(struct ir_evlog **out, const char *data_dir, bool rdonly,
	   struct ir_ctx *ctx)
{
	struct ir_evlog *log = NULL;
	char path[4096];
	MDB_envinfo info;
	unsigned flags = MDB_NOTLS;
	bool empty = false;
	int rc, dead;

	if (!out || !data_dir)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/log", data_dir) >=
	    (int)sizeof(path))
		return ir_error_set(ctx, -ENAMETOOLONG, IR_ORIGIN_OS, 0,
				    "data directory path too long");
	rc = ir_evlog_check_file(data_dir, path, &empty, ctx);
	if (rc)
		return rc;
	/* Nothing to read yet: a reader opens (and so makes) it as a
	 * writer would, and finds no incidents. */
	if (empty)
		rdonly = false;
	if (!rdonly) {
		rc = mkdir_private(data_dir, ctx);
		if (!rc)
			rc = mkdir_private(path, ctx);
		if (rc)
			return rc;
	}
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	snprintf(log->dir, sizeof(log->dir), "%s", path);
	rc = check_modes(log, data_dir, path, ctx);
	if (rc) {
		free(log);
		return rc;
	}
	rc = mdb_env_create(&log->env);
	if (rc) {
		rc = ir_evlog_lmdb_error(ctx, rc, "create environment");
		log->env = NULL;
		goto fail;
	}
	mdb_env_set_maxdbs(log->env, 8);
	mdb_env_set_mapsize(log->env, IR_LIMIT_MAP_INITIAL);
	mdb_env_set_userctx(log->env, log);
	mdb_env_set_assert(log->env, on_assert);
	/* MDB_NOTLS: read snapshots belong to their transaction, not to the
	 * thread, so a walk over incidents may read each one inside it. */
	if (rdonly)
		flags |= readonly_flags(path);
	rc = mdb_env_open(log->env, path, flags, 0600);
	if (rc) {
		rc = ir_evlog_lmdb_error(ctx, rc, "open environment");
		goto fail;
	}
	/* The environment may have been grown beyond our initial size. */
	mdb_env_info(log->env, &info);
	log->mapsize = info.me_mapsize;
	ir_evlog_note_map(log);
	if (!(flags & MDB_NOLOCK))
		mdb_reader_check(log->env, &dead);
	rc = open_databases(log, rdonly, ctx);
	if (rc)
		goto fail;
	*out = log;
	return 0;
fail:
	ir_evlog_close(log);
	return rc;
}

int
ir_evlog_open(struct ir_evlog **out, const char *data_dir, struct ir_ctx *ctx)
{
	return evlog_open(out, data_dir, false, ctx);
}

int
ir_evlog_open_readonly(struct ir_evlog **out, const char *data_dir,
		       struct ir_ctx *ctx)
{
	return evlog_open(out, data_dir, true, ctx);
}

void
ir_evlog_close(struct ir_evlog *log)
{
	if (!log)
		return;
	if (log->env)
		mdb_env_close(log->env);
	ir_buf_clear(&log->scratch);
	free(log->offsets);
	free(log->hashes);
	free(log);
}

size_t
ir_evlog_mapsize(struct ir_evlog *log)
{
	return log->mapsize;
}
