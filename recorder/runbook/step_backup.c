/* The backup step: archive the state before anything changes it. */
#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int prune(struct ir_run *run, struct ir_ctx *ctx);

/* backup.created for the archive at path (of: the folder a restore
 * replaces, or NULL). */
static int
backup_created(struct ir_run *run, const char *step, const char *path,
	       const struct ir_archive_info *info, const char *of,
	       struct ir_ctx *ctx)
{
	struct ir_val *d = ir_val_map_new();
	char hex[IR_SHA256_HEX];

	ir_hex(hex, info->sha256, sizeof(info->sha256));
	ir_val_set_str(d, "path", path);
	ir_val_set_uint(d, "bytes", info->bytes);
	ir_val_set_uint(d, "files", info->files);
	ir_val_set_str(d, "sha256", hex);
	if (of)
		ir_val_set_str(d, "of", of);
	return ir_rec_emit(run->rec, "backup.created", step, d, ctx);
}

struct status_text {
	struct ir_buf *buf;
	int rc;
};

static int
status_line(void *payload, const char *code, const char *path)
{
	struct status_text *s = payload;

	if (!s->rc)
		s->rc = ir_buf_printf(s->buf, "%s %s\n", code, path);
	return s->rc;
}

/* git/HEAD, git/status and git/diff: what the work tree was. */
static int
add_git_state(const struct ir_effects *fx, struct ir_archive_writer *w,
	      const char *deploy_dir, struct ir_ctx *ctx)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct status_text s = { &b, 0 };
	struct ir_git *git = NULL;
	char head[IR_GIT_OID_HEX], subject[256];
	bool detached;
	int rc;

	rc = fx->git_open(fx->self, deploy_dir, &git, ctx);
	if (rc)
		return rc;
	rc = fx->git_head(fx->self, git, head, subject, sizeof(subject),
			  &detached, ctx);
	if (!rc)
		rc = ir_buf_printf(&b, "%s %s\n", head, subject);
	if (!rc)
		rc = fx->archive_add_bytes(fx->self, w, "git/HEAD", b.data,
					   b.len, ctx);
	ir_buf_reset(&b);
	if (!rc)
		rc = fx->git_status(fx->self, git, status_line, &s, ctx);
	if (!rc)
		rc = s.rc;
	if (!rc)
		rc = fx->archive_add_bytes(fx->self, w, "git/status", b.data,
					   b.len, ctx);
	ir_buf_reset(&b);
	if (!rc)
		rc = fx->git_diff(fx->self, git, &b, ctx);
	if (!rc)
		rc = fx->archive_add_bytes(fx->self, w, "git/diff", b.data,
					   b.len, ctx);
	ir_buf_clear(&b);
	fx->git_close(fx->self, git);
	return rc;
}

static int
add_database_dump(struct ir_attempt *a, struct ir_archive_writer *w,
		  const char *spool, bool *failed)
{
	const struct ir_config *cfg = a->run->cfg;
	const struct ir_effects *fx = a->run->fx;
	struct ir_proc_result res;
	struct ir_ctx local = { 0 };
	int rc;

	*failed = false;
	rc = ir_attempt_command(a, cfg->database_dump, a->budget_ms, spool,
				&res);
	if (rc == -ENOENT || rc == -EACCES) {
		*failed = true;
		return ir_attempt_fail(a, -2, "cannot run \"%s\": %s",
				       cfg->database_dump,
				       ir_error_msg(a->ctx, rc));
	}
	if (rc)
		return rc;
	if (res.timed_out || res.exit_code) {
		*failed = true;
		if (fx->file_remove(fx->self, spool, &local))
			ir_error_clear(&local); /* rewritten next time */
		return ir_attempt_fail(a, res.exit_code,
				       "database dump failed (exit %d%s)",
				       res.exit_code,
				       res.timed_out ? ", cut off at budget"
						     : "");
	}
	rc = fx->archive_add_file_as(fx->self, w, "database/dump", spool,
				     &local);
	if (fx->file_remove(fx->self, spool, &local) && !rc)
		ir_error_clear(&local); /* rewritten next time */
	if (rc) {
		*failed = true;
		return ir_attempt_fail(a, -2, "cannot archive the dump: %s",
				       ir_error_msg(&local, rc));
	}
	return 0;
}

int
ir_step_backup(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	const struct ir_effects *fx = run->fx;
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info;
	struct ir_ctx local = { 0 };
	struct ir_attempt a;
	struct ir_val *d, *missing;
	char dir[4096], path[4200], spool[4200];
	unsigned long long id = (unsigned long long)ir_rec_id(run->rec);
	bool failed = false;
	size_t i;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_BACKUP, cfg->backup_budget_ms, ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		return rc;
	snprintf(dir, sizeof(dir), "%s/archives", run->data_dir);
	rc = fx->dir_make(fx->self, dir, &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "%s", ir_error_msg(&local, rc));
	snprintf(path, sizeof(path), "%s/INC-%llu-backup.tar.zst", dir, id);
	snprintf(spool, sizeof(spool), "%s/.INC-%llu-dump.partial", dir, id);
	/* A .partial from an interrupted attempt is simply rewritten. */
	rc = fx->archive_create(fx->self, &w, path, run->data_dir, &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "cannot create the archive: %s",
				       ir_error_msg(&local, rc));
	missing = ir_val_array_new();
	for (i = 0; i < cfg->n_backup_paths; i++) {
		rc = fx->archive_add_path(fx->self, w, cfg->deploy_dir,
					  cfg->backup_paths[i], &local);
		if (rc == -ENOENT) {
			ir_val_push_str(missing, cfg->backup_paths[i]);
			ir_error_clear(&local);
			rc = 0;
		}
		if (rc)
			break;
	}
	if (!rc)
		rc = add_git_state(fx, w, cfg->deploy_dir, &local);
	if (rc) {
		ir_val_free(missing);
		fx->archive_abort(fx->self, w);
		return ir_attempt_fail(&a, -2, "backup failed: %s",
				       ir_error_msg(&local, rc));
	}
	if (missing->as.arr.len) {
		d = ir_val_map_new();
		ir_val_set_take(d, "missing", missing);
		ir_val_set_bool(d, "exists", false);
		rc = ir_attempt_observe(&a, "file", d);
	} else {
		ir_val_free(missing);
	}
	if (!rc && cfg->database_dump)
		rc = add_database_dump(&a, w, spool, &failed);
	if (rc || failed) {
		fx->archive_abort(fx->self, w);
		return rc;
	}
	rc = fx->archive_finish(fx->self, w, &info, &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "cannot finish the archive: %s",
				       ir_error_msg(&local, rc));
	rc = backup_created(run, "backup", path, &info, NULL, ctx);
	if (!rc)
		rc = prune(run, ctx);
	return rc ? rc : ir_attempt_complete(&a);
}

/* ---- retention --------------------------------------------------------- */

struct archive_file {
	uint64_t id;
	char name[256];
};

struct protect {
	uint64_t current;
	uint64_t last_rollback; /* newest succeeded rollback */
	uint64_t *open;
	size_t n_open, cap_open;
};

static int
protect_walk(void *payload, const struct ir_incident *inc)
{
	struct protect *p = payload;

	if (!strcmp(inc->status, "open")) {
		if (p->n_open == p->cap_open) {
			size_t cap = p->cap_open ? p->cap_open * 2 : 8;
			uint64_t *o = realloc(p->open, cap * sizeof(*o));

			if (!o)
				return -ENOMEM;
			p->open = o;
			p->cap_open = cap;
		}
		p->open[p->n_open++] = inc->id;
	}
	if (!p->last_rollback && !strcmp(inc->kind, "rollback") &&
	    !strcmp(inc->status, "succeeded"))
		p->last_rollback = inc->id;
	return 0;
}

static bool
protected_id(const struct protect *p, uint64_t id)
{
	size_t i;

	if (id == p->current || id == p->last_rollback)
		return true;
	for (i = 0; i < p->n_open; i++)
		if (p->open[i] == id)
			return true;
	return false;
}

static int
newest_first(const void *a, const void *b)
{
	const struct archive_file *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? 1 : -1;
	return strcmp(y->name, x->name);
}

struct archive_list {
	struct archive_file *files;
	size_t n, cap;
};

/* The archives named INC-<n>-*.tar.zst in the archives folder. */
static int
list_archive(void *payload, const char *name)
{
	struct archive_list *l = payload;
	unsigned long long id;
	int used = 0;
	size_t len = strlen(name);

	if (sscanf(name, "INC-%llu-%n", &id, &used) != 1 || !used || len < 9 ||
	    len >= sizeof(l->files->name) || strcmp(name + len - 8, ".tar.zst"))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct archive_file *f = realloc(l->files, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		l->files = f;
		l->cap = cap;
	}
	l->files[l->n].id = id;
	snprintf(l->files[l->n].name, sizeof(l->files[l->n].name), "%s", name);
	l->n++;
	return 0;
}

/* Keep the newest backup.keep archives; never delete one that an open
 * incident, the current one or the last successful rollback made.  Each
 * deletion is an event. */
static int
prune(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_effects *fx = run->fx;
	struct protect p = { ir_rec_id(run->rec), 0, NULL, 0, 0 };
	struct archive_list l = { NULL, 0, 0 };
	struct ir_ctx local = { 0 };
	size_t i, kept = 0;
	bool flushed = false;
	char dir[4096];
	int rc;

	rc = ir_evlog_incidents(ir_rec_log(run->rec), protect_walk, &p, ctx);
	if (rc)
		goto out;
	snprintf(dir, sizeof(dir), "%s/archives", run->data_dir);
	rc = fx->dir_list(fx->self, dir, list_archive, &l, &local);
	if (rc == -ENOMEM)
		goto out;
	rc = 0; /* an archives folder that cannot be read is pruned next time */
	if (l.n)
		qsort(l.files, l.n, sizeof(*l.files), newest_first);
	for (i = 0; i < l.n && !rc; i++) {
		char path[4400], why[128];
		struct ir_val *ev;

		if (kept < run->cfg->backup_keep) {
			kept++;
			continue;
		}
		if (protected_id(&p, l.files[i].id))
			continue;
		/* A deletion is an effect: what came before it (the new
		 * backup.created above all) is committed first. */
		if (!flushed) {
			rc = ir_rec_flush(run->rec, ctx);
			if (rc)
				break;
			flushed = true;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, l.files[i].name);
		if (fx->file_remove(fx->self, path, &local)) {
			ir_error_clear(&local);
			continue; /* not ours to force; the next run tries again */
		}
		snprintf(why, sizeof(why), "retention: backup.keep = %u",
			 run->cfg->backup_keep);
		ev = ir_val_map_new();
		ir_val_set_str(ev, "path", path);
		ir_val_set_str(ev, "why", why);
		rc = ir_rec_emit(run->rec, "archive.deleted", NULL, ev, ctx);
	}
out:
	free(l.files);
	free(p.open);
	return rc;
}

/* ---- restore ------------------------------------------------------------ */

static int
hex_to_bytes(uint8_t out[IR_SHA256_LEN], const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * IR_SHA256_LEN)
		return -EINVAL;
	for (i = 0; i < IR_SHA256_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
any_entry(void *payload, const char *name)
{
	*(bool *)payload = true;
	return 1; /* one is enough */
}

/* Whether dir holds anything; a missing one holds nothing. */
static int
dir_entries(const struct ir_effects *fx, const char *dir, bool *any,
	    struct ir_ctx *ctx)
{
	int rc;

	*any = false;
	rc = fx->dir_list(fx->self, dir, any_entry, any, ctx);
	if (rc == -ENOENT) {
		ir_error_clear(ctx);
		return 0;
	}
	return rc > 0 ? 0 : rc;
}

struct add_entry {
	const struct ir_effects *fx;
	struct ir_archive_writer *w;
	const char *dir;
	struct ir_ctx *ctx;
};

static int
add_entry(void *payload, const char *name)
{
	struct add_entry *e = payload;

	return e->fx->archive_add_path(e->fx->self, e->w, e->dir, name,
				       e->ctx);
}

/* Archive what a forced restore is about to replace, as the incident's
 * own backup: DATA_DIR/archives/INC-<n>-restore.tar.zst, its names
 * relative to the folder (so restoring it gives the folder back).  The
 * backup.created is durable before the folder is touched. */
static int
archive_replaced(struct ir_attempt *a, const char *dir, bool *failed)
{
	struct ir_run *run = a->run;
	const struct ir_effects *fx = run->fx;
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info;
	struct ir_ctx local = { 0 };
	struct add_entry e = { fx, NULL, dir, &local };
	char adir[4096], path[4200];
	int rc = 0;

	*failed = true;
	snprintf(adir, sizeof(adir), "%s/archives", run->data_dir);
	rc = fx->dir_make(fx->self, adir, &local);
	if (rc)
		return ir_attempt_fail(a, -2, "%s", ir_error_msg(&local, rc));
	snprintf(path, sizeof(path), "%s/INC-%llu-restore.tar.zst", adir,
		 (unsigned long long)ir_rec_id(run->rec));
	rc = fx->archive_create(fx->self, &w, path, run->data_dir, &local);
	e.w = w;
	if (!rc)
		rc = fx->dir_list(fx->self, dir, add_entry, &e, &local);
	if (rc) {
		if (w)
			fx->archive_abort(fx->self, w);
		return ir_attempt_fail(a, -2, "cannot archive \"%s\" before "
				       "replacing it: %s; nothing replaced",
				       dir, ir_error_msg(&local, rc));
	}
	rc = fx->archive_finish(fx->self, w, &info, &local);
	if (rc)
		return ir_attempt_fail(a, -2, "cannot finish the archive of "
				       "\"%s\": %s; nothing replaced",
				       dir, ir_error_msg(&local, rc));
	*failed = false;
	rc = backup_created(run, "restore", path, &info, dir, a->ctx);
	return rc ? rc : ir_rec_flush(run->rec, a->ctx);
}

int
ir_step_restore(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const struct ir_effects *fx = run->fx;
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct ir_extract_info info;
	struct ir_ctx local = { 0 };
	struct ir_attempt a;
	struct ir_val *d;
	uint8_t sha[IR_SHA256_LEN];
	bool verified = st->opt_sha256[0] != '\0';
	int rc;

	ir_attempt_init(&a, run, IR_STEP_RESTORE, run->cfg->backup_budget_ms,
			ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		return rc;
	d = ir_val_map_new();
	ir_val_set_str(d, "path", st->opt_archive);
	ir_val_set_str(d, "recorded_sha256", st->opt_sha256);
	ir_val_set_bool(d, "known", verified);
	rc = ir_attempt_observe(&a, "file", d);
	if (rc)
		return rc;
	/* A known archive is hashed in the same pass that extracts it, and
	 * nothing is put in place unless the whole file matches. */
	if (verified) {
		if (hex_to_bytes(sha, st->opt_sha256))
			return ir_attempt_fail(&a, -2, "the recorded SHA-256 of "
					       "\"%s\" is not valid hex",
					       st->opt_archive);
		opts.sha256 = sha;
	}
	/* Without --force DIR was empty or absent when the restore began,
	 * so what is there on a resumed attempt is its own earlier
	 * extraction, put in place whole: it is replaced. */
	opts.force = st->opt_force || st->steps[IR_STEP_RESTORE].attempts > 1;
	/* What --force replaces is archived first, once per incident: a
	 * resumed attempt must not archive a half-restored folder over it. */
	if (st->opt_force && !st->backup_path[0]) {
		bool any = false, failed = false;

		rc = dir_entries(fx, st->opt_to, &any, &local);
		if (rc)
			return ir_attempt_fail(&a, -2, "%s",
					       ir_error_msg(&local, rc));
		if (any) {
			rc = archive_replaced(&a, st->opt_to, &failed);
			if (rc || failed)
				return rc;
		}
	}
	rc = fx->archive_extract(fx->self, st->opt_archive, st->opt_to, &opts,
				 &info, &local);
	if (rc == -EBADMSG && verified)
		return ir_attempt_fail(&a, -2,
				       "\"%s\" does not match its recorded "
				       "SHA-256 %.16s... (%s); nothing "
				       "extracted",
				       st->opt_archive, st->opt_sha256,
				       ir_error_msg(&local, rc));
	if (rc)
		return ir_attempt_fail(&a, -2, "%s", ir_error_msg(&local, rc));
	d = ir_val_map_new();
	ir_val_set_str(d, "archive", st->opt_archive);
	ir_val_set_str(d, "to", st->opt_to);
	ir_val_set_uint(d, "files", info.files);
	ir_val_set_uint(d, "bytes", info.bytes);
	ir_val_set_bool(d, "verified", verified);
	rc = ir_rec_emit(run->rec, "restore.completed", "restore", d, ctx);
	return rc ? rc : ir_attempt_complete(&a);
}
